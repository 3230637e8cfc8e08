//! SARIF of `scan`, `info` and `keychain`: valid SARIF 2.1.0, one result per finding through
//! the one finding model, the scan rule catalogue with fixes, and stable fingerprints.

mod common;
use common::*;
use serde_json::Value;
use std::path::{Path, PathBuf};

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

fn password_file() -> String {
    root()
        .join("fixtures/demo/password.txt")
        .display()
        .to_string()
}

/// A copy of the demo backup with an orphan payload (`orphan_len` bytes) and an unexpected
/// top-level file.
fn demo_copy(orphan_id: &str, orphan_len: usize) -> (tempfile::TempDir, PathBuf, PathBuf) {
    let tmp = tempfile::tempdir().unwrap();
    let b = tmp.path().join("00008130-000A11CE0DE0001E");
    copy_dir(&root().join(DEMO), &b);
    let orphan = b.join(&orphan_id[..2]).join(orphan_id);
    std::fs::create_dir_all(orphan.parent().unwrap()).unwrap();
    std::fs::write(&orphan, vec![7u8; orphan_len]).unwrap();
    std::fs::write(b.join("notes.txt"), b"left here").unwrap();
    (tmp, b, orphan)
}

fn sarif(args: &[&str]) -> Value {
    let mut all = args.to_vec();
    all.extend_from_slice(&["--format", "sarif"]);
    json_ok(&all)
}

fn results(sarif: &Value) -> &Vec<Value> {
    sarif["runs"][0]["results"].as_array().unwrap()
}

fn fingerprints(sarif: &Value) -> Vec<String> {
    results(sarif)
        .iter()
        .map(|r| {
            r["partialFingerprints"]["auditorFinding/v1"]
                .as_str()
                .unwrap()
                .to_string()
        })
        .collect()
}

/// The result of `rule` whose logical location ends with `tail`.
fn result_at<'a>(sarif: &'a Value, rule: &str, tail: &str) -> &'a Value {
    results(sarif)
        .iter()
        .find(|r| {
            r["ruleId"] == rule
                && r["locations"][0]["logicalLocations"][0]["name"]
                    .as_str()
                    .is_some_and(|n| n.ends_with(tail))
        })
        .unwrap_or_else(|| panic!("no {rule} result at …{tail}"))
}

/// Every rule of the scan catalogue, with its fix in the help; results point into it.
fn check_rules(sarif: &Value) {
    let rules = sarif["runs"][0]["tool"]["driver"]["rules"]
        .as_array()
        .unwrap();
    assert_eq!(rules.len(), auditor::audit::rules::ALL.len());
    for (r, want) in rules.iter().zip(auditor::audit::rules::ALL) {
        assert_eq!(r["id"], want.id);
        assert_eq!(r["shortDescription"]["text"], want.title);
        let help = r["help"]["markdown"].as_str().unwrap();
        assert!(
            help.contains(&format!("**How to fix:** {}", want.fix)),
            "{help}"
        );
        assert!(r["properties"]["security-severity"].is_string());
    }
    for res in results(sarif) {
        let i = res["ruleIndex"].as_u64().unwrap() as usize;
        assert_eq!(rules[i]["id"], res["ruleId"]);
    }
}

#[test]
fn scan_sarif_has_one_valid_result_per_finding() {
    let id = "ab".repeat(20);
    let (_t, b, orphan) = demo_copy(&id, 33);
    let b = b.display().to_string();
    let pw = password_file();
    let args = ["scan", b.as_str(), "--password-file", pw.as_str()];
    let log = sarif(&args);
    let validator = sarif::validator();
    sarif::assert_valid(&validator, &log);
    check_rules(&log);

    // The same findings as the JSON report: the backup's, then every file's.
    let mut json_args = args.to_vec();
    json_args.extend_from_slice(&["--format", "json"]);
    let report = json_ok(&json_args);
    let mut want: Vec<(String, String)> = Vec::new();
    let files = report["files"].as_array().unwrap();
    for f in report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .chain(files.iter().flat_map(|f| f["findings"].as_array().unwrap()))
    {
        want.push((
            f["rule"].as_str().unwrap().to_string(),
            f["message"].as_str().unwrap().to_string(),
        ));
    }
    let got: Vec<(String, String)> = results(&log)
        .iter()
        .map(|r| {
            let text = r["message"]["text"].as_str().unwrap();
            (r["ruleId"].as_str().unwrap().to_string(), text.to_string())
        })
        .collect();
    assert_eq!(got.len(), want.len(), "{got:#?}");
    for ((gr, gm), (wr, wm)) in got.iter().zip(&want) {
        assert_eq!(gr, wr);
        assert!(gm.starts_with(wm.as_str()) && gm.ends_with(&format!("(backup {b})")));
    }

    // The orphan: located at its payload, typed with its fileID.
    let o = result_at(&log, "file.orphan", &id);
    let phys = &o["locations"][0]["physicalLocation"]["artifactLocation"]["uri"];
    assert_eq!(
        phys.as_str().unwrap(),
        format!("file://{}", orphan.display())
    );
    assert_eq!(o["properties"]["backupLocation"]["kind"], "payload");
    assert_eq!(o["properties"]["backupLocation"]["file_id"], id);
    assert_eq!(o["level"], "note");
    // The unexpected file: located at that file of the backup folder.
    let u = result_at(&log, "backup.unexpected-file", "notes.txt");
    let uri = u["locations"][0]["physicalLocation"]["artifactLocation"]["uri"]
        .as_str()
        .unwrap();
    assert!(uri.starts_with("file:///") && uri.ends_with("/00008130-000A11CE0DE0001E/notes.txt"));

    // Fingerprints are unique in the log and the same on a second run.
    let fps = fingerprints(&log);
    let unique: std::collections::HashSet<&String> = fps.iter().collect();
    assert_eq!(unique.len(), fps.len());
    assert_eq!(fingerprints(&sarif(&args)), fps);
}

#[test]
fn fingerprint_follows_rule_and_location_not_the_message() {
    let pw = password_file();
    let orphan_fp = |id: &str, len: usize| -> (String, String) {
        let (_t, b, _) = demo_copy(id, len);
        let b = b.display().to_string();
        let log = sarif(&["scan", &b, "--password-file", &pw]);
        let r = result_at(&log, "file.orphan", id);
        (
            r["partialFingerprints"]["auditorFinding/v1"]
                .as_str()
                .unwrap()
                .to_string(),
            r["message"]["text"].as_str().unwrap().to_string(),
        )
    };
    let id = "cd".repeat(20);
    let (fp33, m33) = orphan_fp(&id, 33);
    let (fp34, m34) = orphan_fp(&id, 34);
    assert_ne!(m33, m34, "the messages name the size");
    assert_eq!(fp33, fp34, "the fingerprint does not");
    // Another payload is another finding (and the backup path is not part of either: each
    // copy above is in another temporary folder).
    let (other, _) = orphan_fp(&"ce".repeat(20), 33);
    assert_ne!(other, fp33);
}

#[test]
fn keychain_and_info_write_valid_sarif() {
    let validator = sarif::validator();
    let b = root().join(DEMO).display().to_string();
    let pw = password_file();
    let args = ["keychain", b.as_str(), "--password-file", pw.as_str()];
    let log = sarif(&args);
    sarif::assert_valid(&validator, &log);
    check_rules(&log);
    let mut json_args = args.to_vec();
    json_args.extend_from_slice(&["--format", "json"]);
    let report = json_ok(&json_args);
    assert_eq!(
        results(&log).len(),
        report["findings"].as_array().unwrap().len()
    );
    assert_eq!(
        log["runs"][0]["invocations"][0]["properties"]["items"],
        report["summary"]["items"]
    );

    let log = sarif(&["info", &b]);
    sarif::assert_valid(&validator, &log);
    check_rules(&log);
}

#[test]
fn a_finding_about_the_whole_backup_has_no_logical_location() {
    let Some((b, _)) = conformance("small-unencrypted") else {
        return;
    };
    let b = b.display().to_string();
    let log = sarif(&["scan", &b]);
    sarif::assert_valid(&sarif::validator(), &log);
    let r = results(&log)
        .iter()
        .find(|r| r["ruleId"] == "backup.not-encrypted")
        .expect("an unencrypted backup says so");
    assert!(r["locations"][0].get("logicalLocations").is_none(), "{r:#}");
    let uri = r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"]
        .as_str()
        .unwrap();
    assert!(uri.ends_with("/00008120-001A2B3C4D5E801E"), "{uri}");
    assert_eq!(
        r["properties"]["backupLocation"],
        serde_json::json!({"kind": "backup"})
    );
}
