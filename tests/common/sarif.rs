//! The SARIF 2.1.0 schema validator shared by the tests of every command's SARIF output.

use serde_json::{json, Value};

/// A validator of tests/data/sarif-schema-2.1.0.json (the official schema, unmodified on disk).
pub fn validator() -> jsonschema::Validator {
    let mut schema: Value = serde_json::from_str(
        &std::fs::read_to_string(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/tests/data/sarif-schema-2.1.0.json"
        ))
        .unwrap(),
    )
    .unwrap();
    // The official file's `run.language` pattern ends in a lone `]` (`…{2}]?$`), a literal
    // `]` under ECMA-262 Annex B that this validator's strict regex check rejects; escape it
    // in memory (same meaning) so that the schema compiles. The shipped file is unmodified.
    fn escape_lone_bracket(v: &mut Value) -> usize {
        match v {
            Value::Object(m) => {
                let mut n = 0;
                for (k, x) in m.iter_mut() {
                    if k == "pattern" && x == "^[a-zA-Z]{2}|^[a-zA-Z]{2}-[a-zA-Z]{2}]?$" {
                        *x = json!("^[a-zA-Z]{2}|^[a-zA-Z]{2}-[a-zA-Z]{2}\\]?$");
                        n += 1;
                    } else {
                        n += escape_lone_bracket(x);
                    }
                }
                n
            }
            Value::Array(a) => a.iter_mut().map(escape_lone_bracket).sum(),
            _ => 0,
        }
    }
    assert_eq!(escape_lone_bracket(&mut schema), 2);
    jsonschema::options()
        .should_validate_formats(true)
        .build(&schema)
        .expect("the SARIF schema compiles")
}

/// Assert that `sarif` is a valid SARIF 2.1.0 log, and that the schema is not vacuous: the
/// same log with a result (or, when it has none, the run) broken fails.
pub fn assert_valid(validator: &jsonschema::Validator, sarif: &Value) {
    let errors: Vec<String> = validator
        .iter_errors(sarif)
        .map(|e| format!("{e} at {}", e.instance_path()))
        .collect();
    assert!(errors.is_empty(), "SARIF does not validate: {errors:#?}");
    let mut broken = sarif.clone();
    if broken["runs"][0]["results"][0].is_object() {
        broken["runs"][0]["results"][0]["level"] = json!("fatal");
    } else {
        broken["runs"][0]["tool"]["driver"]["name"] = json!(7);
    }
    assert!(!validator.is_valid(&broken));
}
