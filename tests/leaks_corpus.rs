//! The leak corpus (`fixtures/specs/leaks.json`, made by `fixtures/specs/leaks-corpus.py`):
//! every built-in rule planted in every kind of container, with decoys beside them. Recall
//! and precision are measured per category against `leaks.truth.json`; every planted value
//! must be found in its place and nothing else may be reported (docs/leaks.md, "Measured").

mod common;
use common::*;
use serde_json::Value;
use std::collections::BTreeMap;
use std::path::Path;

fn read_json(p: &Path) -> Value {
    serde_json::from_str(&std::fs::read_to_string(p).unwrap()).unwrap()
}

/// Does a reported location hold every member of the truth's `where`? `{"kind": "bytes"}`
/// asks only for the kind; `{}` asks nothing (a deleted record's place in free space).
fn place_matches(location: &Value, want: &Value) -> bool {
    want.as_object()
        .unwrap()
        .iter()
        .all(|(k, v)| location.get(k) == Some(v))
}

#[derive(Default, Debug)]
struct Score {
    planted: usize,
    found: usize,
    reported: usize,
    true_positive: usize,
}

#[test]
fn every_planted_value_is_found_in_its_place_and_nothing_else() {
    let specs = Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/specs");
    let truth = read_json(&specs.join("leaks.truth.json"));
    let spec = auditor::fixture::Spec::from_file(&specs.join("leaks.json")).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join(&spec.device.udid);
    auditor::fixture::write(&spec, &out).unwrap();

    let o = auditor(&[
        "leaks",
        out.to_str().unwrap(),
        "--password",
        spec.password.as_deref().unwrap(),
        "--show-secrets",
        "--format",
        "json",
    ]);
    assert_eq!(
        o.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    let report: Value = serde_json::from_slice(&o.stdout).unwrap();
    let leaks = report["leaks"].as_array().unwrap();
    let planted = truth["planted"].as_array().unwrap();
    assert!(planted.len() > 150, "the corpus plants {}", planted.len());

    let category = |rule: &str| -> String {
        auditor::leaks::rules::builtin()
            .get(rule)
            .map(|r| {
                serde_json::to_value(r.category)
                    .unwrap()
                    .as_str()
                    .unwrap()
                    .to_owned()
            })
            .unwrap_or_else(|| panic!("the truth names an unknown rule {rule}"))
    };
    let mut score: BTreeMap<String, Score> = BTreeMap::new();
    let mut matched = vec![false; leaks.len()];
    let mut missed = Vec::new();
    for p in planted {
        let rule = p["rule"].as_str().unwrap();
        let s = score.entry(category(rule)).or_default();
        s.planted += 1;
        let hit = leaks.iter().enumerate().find(|(i, l)| {
            !matched[*i]
                && l["domain"] == p["domain"]
                && l["path"] == p["path"]
                && l["rule"] == p["rule"]
                && l["value"] == p["value"]
                && l["deleted"] == p["deleted"]
                && place_matches(&l["location"], &p["where"])
        });
        match hit {
            Some((i, _)) => {
                matched[i] = true;
                s.found += 1;
            }
            None => missed.push(format!(
                "{} {} {} at {}",
                p["path"], rule, p["value"], p["where"]
            )),
        }
    }
    let mut noise = Vec::new();
    for (i, l) in leaks.iter().enumerate() {
        let s = score
            .entry(l["category"].as_str().unwrap().to_owned())
            .or_default();
        s.reported += 1;
        if matched[i] {
            s.true_positive += 1;
        } else {
            noise.push(format!(
                "{} {} {} at {}",
                l["path"], l["rule"], l["value"], l["location"]
            ));
        }
    }
    for (cat, s) in &score {
        eprintln!(
            "{cat:12} planted {:3} found {:3} recall {:.3} | reported {:3} precision {:.3}",
            s.planted,
            s.found,
            s.found as f64 / s.planted.max(1) as f64,
            s.reported,
            s.true_positive as f64 / s.reported.max(1) as f64
        );
    }
    assert!(
        missed.is_empty(),
        "{} planted values not found:\n{}",
        missed.len(),
        missed.join("\n")
    );
    assert!(
        noise.is_empty(),
        "{} reports that are no planted value:\n{}",
        noise.len(),
        noise.join("\n")
    );
    for cat in ["credential", "token", "private_key", "personal"] {
        assert!(score.get(cat).is_some_and(|s| s.planted > 0), "{cat}");
    }
    // The clean app's decoys, and the picture, gave nothing.
    assert!(leaks
        .iter()
        .all(|l| l["domain"] != "AppDomain-com.example.clean"));
    assert_eq!(report["summary"]["skipped"]["media"], 1);
}

#[test]
fn the_corpus_spec_is_what_its_generator_writes() {
    // The spec and its truth are written together by fixtures/specs/leaks-corpus.py; an
    // edit of one by hand would leave the other wrong. Check that they agree on the files.
    let specs = Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/specs");
    let truth = read_json(&specs.join("leaks.truth.json"));
    let spec = read_json(&specs.join("leaks.json"));
    let files: Vec<(String, String)> = spec["files"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| (f["domain"].to_string(), f["path"].to_string()))
        .collect();
    for p in truth["planted"].as_array().unwrap() {
        let key = (p["domain"].to_string(), p["path"].to_string());
        assert!(
            files.contains(&key),
            "the truth names a file the spec lacks: {key:?}"
        );
    }
}
