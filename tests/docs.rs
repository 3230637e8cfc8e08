//! Documentation contracts: every rule the code can emit is documented in docs/rules.md.

#[test]
fn every_rule_is_documented() {
    let doc =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/docs/rules.md")).unwrap();
    let mut missing = Vec::new();
    for r in auditor::audit::rules::ALL {
        let row = format!("| `{}` | {} |", r.id, r.severity.as_str());
        if !doc.contains(&row) {
            missing.push(row);
        }
    }
    assert!(
        missing.is_empty(),
        "docs/rules.md lacks (or has another severity for): {missing:#?}"
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
