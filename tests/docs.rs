//! Documentation contracts: every rule the code can emit is documented in docs/rules.md, with its fix.

#[test]
fn every_rule_is_documented() {
    let doc =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/docs/rules.md")).unwrap();
    let mut missing = Vec::new();
    for r in auditor::audit::rules::ALL {
        let row = format!("| `{}` | {} |", r.id, r.severity.as_str());
        // The row ends with the catalogue's fix and references, word for word.
        let refs = if r.references.is_empty() {
            "-".to_string()
        } else {
            r.references.replace("; ", ", ")
        };
        let end = format!("| {} | {refs} |", r.fix);
        if !doc
            .lines()
            .any(|l| l.starts_with(&row) && l.ends_with(&end))
        {
            missing.push(format!("{row} … {end}"));
        }
    }
    assert!(
        missing.is_empty(),
        "docs/rules.md lacks (or has another severity, fix or references for): {missing:#?}"
    );
}

#[test]
fn readme_starts_with_two_commands() {
    let readme =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/README.md")).unwrap();
    let cmds: Vec<&str> = readme
        .lines()
        .take(5)
        .filter(|l| l.starts_with("    "))
        .collect();
    assert_eq!(cmds.len(), 2, "README must start with exactly two commands");
    assert!(cmds[0].contains("cargo run") && cmds[0].contains("scan"));
    assert_eq!(cmds[1].trim(), "cargo test");
}

#[test]
fn every_leak_rule_is_documented() {
    let doc =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/docs/rules.md")).unwrap();
    let mut missing = Vec::new();
    for r in &auditor::leaks::builtin().rules {
        let cat = serde_json::to_value(r.category).unwrap();
        let conf = serde_json::to_value(r.confidence).unwrap();
        let row = format!(
            "| `{}` | {} | {} | {}: {} | {} |",
            r.id,
            cat.as_str().unwrap(),
            conf.as_str().unwrap(),
            r.title,
            r.why,
            r.fix
        );
        if !doc.lines().any(|l| l == row) {
            missing.push(row);
        }
    }
    assert!(missing.is_empty(), "docs/rules.md lacks: {missing:#?}");
}

#[test]
fn every_tamper_rule_is_documented() {
    use auditor::tamper::rules::Matcher;
    let doc =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/docs/rules.md")).unwrap();
    let mut missing = Vec::new();
    for r in &auditor::tamper::builtin().rules {
        let shapes = match &r.matcher {
            Matcher::Field { shapes, .. } => shapes
                .iter()
                .map(|s| s.as_str())
                .collect::<Vec<_>>()
                .join(", "),
            Matcher::File { .. } => "whole file".into(),
        };
        let row = format!(
            "| `{}` | {} | {shapes} | {}: {} | {} |",
            r.id,
            r.category.as_str(),
            r.title,
            r.why,
            r.fix
        );
        if !doc.lines().any(|l| l == row) {
            missing.push(row);
        }
    }
    assert!(missing.is_empty(), "docs/rules.md lacks: {missing:#?}");
}

#[test]
fn every_policy_rule_is_documented() {
    // Policy rules' rows word their fix for the policy reader; the id and severity are the
    // contract checked here.
    let doc =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/docs/rules.md")).unwrap();
    let missing: Vec<String> = auditor::policy::rules::ALL
        .iter()
        .map(|r| format!("| `{}` | {} |", r.id, r.severity.as_str()))
        .filter(|row| !doc.lines().any(|l| l.starts_with(row.as_str())))
        .collect();
    assert!(missing.is_empty(), "docs/rules.md lacks: {missing:#?}");
}

#[test]
fn every_diff_change_kind_is_documented() {
    let rules =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/docs/rules.md")).unwrap();
    let diff =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/docs/diff.md")).unwrap();
    let mut missing = Vec::new();
    for r in auditor::diff::rules::ALL {
        let refs = if r.references.is_empty() {
            "-".to_string()
        } else {
            r.references.replace("; ", ", ")
        };
        let row = format!(
            "| `{}` | {} | {} | {} | {refs} |",
            r.id,
            r.severity.as_str(),
            r.title,
            r.fix
        );
        if !rules.lines().any(|l| l == row) {
            missing.push(row);
        }
        if !diff.contains(&format!("`{}`", r.id)) {
            missing.push(format!("docs/diff.md: {}", r.id));
        }
    }
    assert!(missing.is_empty(), "undocumented: {missing:#?}");
}
