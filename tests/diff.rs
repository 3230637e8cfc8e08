//! `auditor diff`: a fixture release pair (fixtures/specs/diff-old.json, diff-new.json)
//! whose every change is known, the same backup against itself, an encrypted old against
//! an unencrypted new, and the real backups in ../shared.

mod common;
use common::*;
use serde_json::{json, Value};
use std::path::{Path, PathBuf};

const PW: &str = "fixture-diff-pw";

struct Pair {
    _tmp: tempfile::TempDir,
    old: String,
    new: String,
    pw: String,
}

/// Write a spec (given as JSON) with `auditor fixture`.
fn write_spec(dir: &Path, name: &str, spec: &Value) -> String {
    let spec_path = dir.join(format!("{name}.json"));
    std::fs::write(&spec_path, serde_json::to_vec(spec).unwrap()).unwrap();
    let out_dir = dir.join(name);
    let out = auditor(&[
        "-q",
        "fixture",
        spec_path.to_str().unwrap(),
        out_dir.to_str().unwrap(),
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    out_dir.to_str().unwrap().to_string()
}

fn spec(name: &str) -> Value {
    serde_json::from_slice(&std::fs::read(repo(&format!("fixtures/specs/{name}"))).unwrap())
        .unwrap()
}

/// The fixture pair; `new_unencrypted` writes the new release without encryption.
fn pair(new_unencrypted: bool) -> Pair {
    let tmp = tempfile::tempdir().unwrap();
    let old = write_spec(tmp.path(), "old", &spec("diff-old.json"));
    let mut n = spec("diff-new.json");
    if new_unencrypted {
        n["encrypted"] = json!(false);
        n.as_object_mut().unwrap().remove("password");
    }
    let new = write_spec(tmp.path(), "new", &n);
    let pw = tmp.path().join("pw");
    std::fs::write(&pw, format!("{PW}\n")).unwrap();
    Pair {
        old,
        new,
        pw: pw.to_str().unwrap().to_string(),
        _tmp: tmp,
    }
}

impl Pair {
    /// `diff OLD NEW` with both passwords (the new one only when it is encrypted) and `more`.
    fn diff(&self, old: &str, new: &str, new_pw: bool, more: &[&str]) -> std::process::Output {
        let mut args = vec!["diff", old, new, "--old-password-file", &self.pw];
        if new_pw {
            args.extend(["--password-file", &self.pw]);
        }
        args.extend(more);
        auditor(&args)
    }
}

/// (rule, state, weakened, app, subject) of every change.
fn change_list(r: &Value) -> Vec<Value> {
    r["changes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| json!([c["rule"], c["state"], c["weakened"], c["app"], c["subject"]]))
        .collect()
}

/// The changes the release of the pair made (besides the backup-level ones).
fn release_changes(sealed_old_biometric_ref: &str, leaks: bool) -> Vec<Value> {
    let mut v = vec![
        json!(["diff.app.upgraded", "updated", false, "com.example.bank",
               {"bundle_id": "com.example.bank"}]),
        json!(["diff.file.added", "new", true, "com.example.bank",
               {"domain": "AppDomain-com.example.bank", "path": "Documents/debug.json"}]),
        json!(["diff.file.removed", "absent", false, "com.example.bank",
               {"domain": "AppDomain-com.example.bank", "path": "Documents/export-2024-05.csv"}]),
        json!(["diff.file.class-weakened", "updated", true, "com.example.bank",
               {"domain": "AppDomain-com.example.bank",
                "path": "Library/Preferences/com.example.bank.plist"}]),
        // The aku item is sealed in the old backup (its class key is device-bound), so it is
        // matched to the new ak item by its persistent reference.
        json!(["diff.keychain.restore-changed", "updated", true, "com.example.bank",
               {"table": "genp", "matched_by": "persistent_ref",
                "access_group": "ABCDE12345.com.example.bank",
                "service": "com.example.bank.biometric", "account": "alice@example.com",
                "persistent_ref": sealed_old_biometric_ref}]),
    ];
    if leaks {
        v.push(json!(["diff.leak.new", "new", true, "com.example.bank",
            {"domain": "AppDomain-com.example.bank", "path": "Documents/debug.json",
             "rule": "leak.api-key-field", "fingerprint": "*"}]));
    }
    v
}

/// Replace the fingerprint of a leak change (computed, checked separately) by `*`.
fn without_fingerprints(mut list: Vec<Value>) -> Vec<Value> {
    for c in &mut list {
        if c[4].get("fingerprint").is_some() {
            c[4]["fingerprint"] = json!("*");
        }
    }
    list
}

/// The persistent reference of the biometric item in a keychain report.
fn biometric_ref(keychain: &Value) -> String {
    keychain["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|i| i["service"] == "com.example.bank.biometric")
        .expect("the biometric item")["persistent_ref"]["hex"]
        .as_str()
        .unwrap()
        .to_string()
}

#[test]
fn the_pair_names_exactly_the_release_changes() {
    let p = pair(false);
    let out = p.diff(&p.old, &p.new, true, &["--leaks", "--format", "json"]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let r = json(&out);
    assert_eq!(r["schema"], "auditor.diff/1");
    let kc = json_ok(&[
        "keychain",
        &p.new,
        "--password-file",
        &p.pw,
        "--format",
        "json",
    ]);
    let pref = biometric_ref(&kc);
    assert_eq!(
        without_fingerprints(change_list(&r)),
        release_changes(&pref, true),
        "{r:#}"
    );
    // The facts on each side.
    let c = |rule: &str| {
        r["changes"]
            .as_array()
            .unwrap()
            .iter()
            .find(|c| c["rule"] == rule)
            .unwrap()
            .clone()
    };
    assert_eq!(c("diff.app.upgraded")["old"]["version"], "5.2.1");
    assert_eq!(c("diff.app.upgraded")["new"]["version"], "5.3.0");
    let w = c("diff.file.class-weakened");
    assert_eq!(
        (
            w["old"]["protection_class"].clone(),
            w["new"]["protection_class"].clone()
        ),
        (json!(3), json!(4))
    );
    assert_eq!(c("diff.file.added")["new"]["protection_class"], 4);
    let k = c("diff.keychain.restore-changed");
    assert_eq!(k["old"]["accessibility"], "aku");
    assert_eq!(k["old"]["restore"], "same_device_only");
    assert_eq!(k["old"]["decryptable"], false);
    assert_eq!(k["new"]["accessibility"], "ak");
    assert_eq!(k["new"]["restore"], "any_device");
    // The leak's fingerprint is the one `auditor leaks` gives.
    let leaks = json_ok(&[
        "leaks",
        &p.new,
        "--password-file",
        &p.pw,
        "--format",
        "json",
    ]);
    let fp = leaks["leaks"]
        .as_array()
        .unwrap()
        .iter()
        .find(|l| l["path"] == "Documents/debug.json")
        .unwrap()["fingerprint"]
        .clone();
    assert_eq!(c("diff.leak.new")["subject"]["fingerprint"], fp);
    let s = &r["summary"];
    assert_eq!(
        (
            s["changes"].clone(),
            s["new"].clone(),
            s["absent"].clone(),
            s["updated"].clone(),
            s["weakened"].clone()
        ),
        (json!(6), json!(2), json!(1), json!(3), json!(4))
    );
    // Alike on both sides: the notes app, the other files (not the keychain export, which
    // is compared item by item), the other 4 keychain items, the sync.json leak.
    assert_eq!(
        r["unchanged"],
        json!({"apps": 1, "files": 20, "keychain_items": 4, "leaks": 1, "tamper_settings": 0})
    );
    assert_eq!(
        r["compared"],
        json!({"apps": true, "files": true, "keychain": true, "leaks": true, "tamper": false})
    );
    // Without --leaks: the same, less the leak.
    let r = json(&p.diff(&p.old, &p.new, true, &["--format", "json"]));
    assert_eq!(change_list(&r), release_changes(&pref, false));
}

#[test]
fn fail_on_counts_what_it_names() {
    let p = pair(false);
    for (kind, code) in [("weakened", 1), ("new", 1), ("any", 1)] {
        let out = p.diff(
            &p.old,
            &p.new,
            true,
            &["--fail-on", kind, "-o", "/dev/null"],
        );
        assert_eq!(out.status.code(), Some(code), "{kind}");
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(err.contains(&format!("--fail-on {kind}")), "{err}");
    }
    let out = p.diff(
        &p.old,
        &p.new,
        true,
        &["--fail-on", "weakened", "-o", "/dev/null"],
    );
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("3 changes") && err.contains("diff.file.class-weakened"),
        "{err}"
    );
    // The new release against the old one: the added file is now removed (not weakened);
    // the plist's class is strengthened, the item no longer restores to a new device.
    let out = p.diff(
        &p.new,
        &p.old,
        true,
        &["--format", "json", "--fail-on", "weakened"],
    );
    assert_eq!(out.status.code(), Some(0));
    let r = json(&out);
    let rules: Vec<&str> = r["changes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["rule"].as_str().unwrap())
        .collect();
    assert_eq!(
        rules,
        [
            "diff.app.downgraded",
            "diff.file.removed",
            "diff.file.added",
            "diff.file.class-strengthened",
            "diff.keychain.restore-changed"
        ]
    );
    assert_eq!(r["summary"]["weakened"], 0);
}

#[test]
fn a_backup_against_itself_has_no_change() {
    let p = pair(false);
    for kind in ["new", "weakened", "any"] {
        let out = p.diff(
            &p.new,
            &p.new,
            true,
            &["--leaks", "--tamper", "--format", "json", "--fail-on", kind],
        );
        assert_eq!(
            out.status.code(),
            Some(0),
            "{kind}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let r = json(&out);
        assert_eq!(r["changes"], json!([]));
        assert_eq!(r["summary"]["changes"], 0);
        assert_eq!(r["unchanged"]["apps"], 2);
        assert_eq!(r["unchanged"]["files"], 22);
        assert_eq!(r["unchanged"]["keychain_items"], 5);
        assert_eq!(r["unchanged"]["leaks"], 2);
        assert!(r["unchanged"]["tamper_settings"].as_u64().unwrap() >= 1);
    }
    let out = p.diff(&p.old, &p.old, false, &["--password-file", &p.pw]);
    assert_eq!(out.status.code(), Some(0));
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(text.contains("\nno change\n"), "{text}");
}

#[test]
fn table_fits_80_columns_and_marks_weakenings() {
    let p = pair(false);
    let out = p.diff(&p.old, &p.new, true, &["--leaks", "--tamper"]);
    assert_eq!(out.status.code(), Some(0));
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(misfit_lines(&text).is_empty(), "{:#?}", misfit_lines(&text));
    for want in [
        "  +! AppDomain-com.example.bank/Documents/debug.json",
        "  -  AppDomain-com.example.bank/Documents/export-2024-05.csv",
        "  ~! AppDomain-com.example.bank/Library/Preferences/com.example.bank.plist",
        "      5.2.1 → 5.3.0 (upgraded) [diff.app.upgraded]",
        "accessibility aku → ak; restore same_device_only → any_device",
        "Tamper surface (1)",
        "compared: apps, files, keychain, leaks, tamper surface",
    ] {
        assert!(text.contains(want), "{want:?} not in\n{text}");
    }
    assert!(
        text.contains("7 changes: 3 new, 1 absent, 3 updated; 4 weaken protection (!)"),
        "{text}"
    );
}

#[test]
fn sarif_carries_the_baseline_state() {
    let p = pair(false);
    let out = p.diff(&p.old, &p.new, true, &["--leaks", "--format", "sarif"]);
    assert_eq!(out.status.code(), Some(0));
    let log = json(&out);
    sarif::assert_valid(&sarif::validator(), &log);
    let results = log["runs"][0]["results"].as_array().unwrap();
    let states: Vec<(&str, &str, &str)> = results
        .iter()
        .map(|r| {
            (
                r["ruleId"].as_str().unwrap(),
                r["baselineState"].as_str().unwrap(),
                r["level"].as_str().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        states,
        [
            ("diff.app.upgraded", "updated", "note"),
            ("diff.file.added", "new", "warning"),
            ("diff.file.removed", "absent", "note"),
            ("diff.file.class-weakened", "updated", "warning"),
            ("diff.keychain.restore-changed", "updated", "warning"),
            ("diff.leak.new", "new", "error"),
            // The leak of sync.json, in both backups.
            ("diff.leak.new", "unchanged", "note"),
        ]
    );
    // Every result's rule is in the driver, and fingerprints are unique.
    let rules: Vec<&str> = log["runs"][0]["tool"]["driver"]["rules"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["id"].as_str().unwrap())
        .collect();
    for r in results {
        let i = r["ruleIndex"].as_u64().unwrap() as usize;
        assert_eq!(rules[i], r["ruleId"]);
    }
    let fps: std::collections::HashSet<&str> = results
        .iter()
        .map(|r| {
            r["partialFingerprints"]["auditorFinding/v1"]
                .as_str()
                .unwrap()
        })
        .collect();
    assert_eq!(fps.len(), results.len());
}

#[test]
fn an_encrypted_old_against_an_unencrypted_new() {
    let p = pair(true);
    let out = p.diff(&p.old, &p.new, false, &["--format", "json"]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let r = json(&out);
    assert_eq!(r["old"]["encrypted"], true);
    assert_eq!(r["new"]["encrypted"], false);
    let list = change_list(&r);
    assert_eq!(
        list[0],
        json!(["diff.backup.encryption-changed", "updated", true, null, {}])
    );
    // The files are as in the encrypted pair.
    let files: Vec<&Value> = list
        .iter()
        .filter(|c| c[0].as_str().unwrap().starts_with("diff.file."))
        .collect();
    assert_eq!(files.len(), 3, "{list:#?}");
    // Every item of the new keychain is sealed (device-bound: the backup is not
    // encrypted). The two migratable items of the old backup (readable there) are matched
    // by persistent reference and now restore to the same device only; the cku and dku
    // items, sealed on both sides, are matched by class and reference and are alike; the
    // aku item that became ak is sealed on both sides with another class: removed and
    // added (a sealed item's class is part of its identity).
    let kc: Vec<&Value> = r["changes"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|c| c["area"] == "keychain")
        .collect();
    assert_eq!(kc.len(), 4, "{kc:#?}");
    let (changed, other): (Vec<&Value>, Vec<&Value>) =
        kc.into_iter().partition(|c| c["state"] == "updated");
    assert_eq!(changed.len(), 2);
    let other: Vec<(&str, &Value, &Value)> = other
        .iter()
        .map(|c| {
            (
                c["rule"].as_str().unwrap(),
                &c["subject"]["protection_class"],
                &c["subject"]["matched_by"],
            )
        })
        .collect();
    assert_eq!(
        other,
        [
            ("diff.keychain.added", &json!(6), &json!("class_and_ref")),
            ("diff.keychain.removed", &json!(9), &json!("class_and_ref"))
        ]
    );
    for c in &changed {
        assert_eq!(c["rule"], "diff.keychain.restore-changed");
        assert_eq!(c["subject"]["matched_by"], "persistent_ref");
        assert_eq!(c["old"]["restore"], "any_device");
        assert_eq!(c["new"]["restore"], "same_device_only");
        assert_eq!(c["weakened"], false);
    }
    assert_eq!(r["unchanged"]["keychain_items"], 2);
}

#[test]
fn credentials_missing_name_the_side() {
    let p = pair(false);
    let out = auditor(&["diff", &p.old, &p.new, "--password-file", &p.pw]);
    assert_eq!(out.status.code(), Some(3));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains(&format!("the old backup {} is encrypted", p.old)),
        "{err}"
    );
    assert!(err.contains("--old-password-file"), "{err}");
    let out = auditor(&["diff", &p.old, &p.new, "--old-password-file", &p.pw]);
    assert_eq!(out.status.code(), Some(3));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains(&format!("the new backup {} is encrypted", p.new)),
        "{err}"
    );
    assert!(err.contains("given only for the other backup"), "{err}");
    // A wrong password names its side too.
    let wrong = Path::new(&p.pw).with_file_name("wrong");
    std::fs::write(&wrong, "not-the-password\n").unwrap();
    let out = auditor(&[
        "diff",
        &p.old,
        &p.new,
        "--old-password-file",
        wrong.to_str().unwrap(),
        "--password-file",
        &p.pw,
    ]);
    assert_eq!(out.status.code(), Some(3));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains(&format!("the old backup {}: wrong password", p.old)),
        "{err}"
    );
}

#[test]
fn app_narrows_the_comparison() {
    let p = pair(false);
    let r = json(&p.diff(
        &p.old,
        &p.new,
        true,
        &["--app", "com.example.notes", "--format", "json"],
    ));
    assert_eq!(r["app"], "com.example.notes");
    assert_eq!(r["changes"], json!([]));
    assert_eq!(r["unchanged"]["apps"], 1);
    // Its readable item (ck); its dku item is sealed, its app unknown (`keychain --app`).
    assert_eq!(r["unchanged"]["keychain_items"], 1);
    // Documents/notes.sqlite, sync.json, attachments/a1.jpg and its directories.
    assert!(r["unchanged"]["files"].as_u64().unwrap() >= 3);
    let r = json(&p.diff(
        &p.old,
        &p.new,
        true,
        &["--app", "com.example.bank", "--format", "json"],
    ));
    assert_eq!(r["summary"]["changes"], 5);
}

/// The conformance twins: the same device and content, encrypted and not. What differs
/// (checked by hand against both EXPECTED.json): the backup's encryption, and the six
/// items of the migratable classes (ak, ck, dk: two each) that restore to any device from
/// the encrypted backup and only to the same device from the unencrypted one. The six
/// ThisDeviceOnly items and all 112 other rows are alike.
#[test]
fn conformance_encrypted_against_its_unencrypted_twin() {
    let (Some((enc, e)), Some((plain, u))) = (
        conformance("small-encrypted"),
        conformance("small-unencrypted"),
    ) else {
        return;
    };
    let tmp = tempfile::tempdir().unwrap();
    let pw = tmp.path().join("pw");
    std::fs::write(&pw, e["password"].as_str().unwrap()).unwrap();
    let r = json_ok(&[
        "diff",
        enc.to_str().unwrap(),
        plain.to_str().unwrap(),
        "--old-password-file",
        pw.to_str().unwrap(),
        "--leaks",
        "--tamper",
        "--format",
        "json",
    ]);
    let changes = r["changes"].as_array().unwrap();
    assert_eq!(changes[0]["rule"], "diff.backup.encryption-changed");
    assert_eq!(changes[0]["weakened"], true);
    let expected_migratable: std::collections::BTreeSet<String> = e["keychain"]["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|i| i["in_backup"] == true && i["survives_restore"] == "any_device")
        .map(|i| {
            i["service"]
                .as_str()
                .or(i["server"].as_str())
                .unwrap()
                .to_string()
        })
        .collect();
    assert_eq!(expected_migratable.len(), 6);
    assert!(u["keychain"]["items"]
        .as_array()
        .unwrap()
        .iter()
        .all(|i| i["in_backup"] == false || i["survives_restore"] != "any_device"));
    let got: std::collections::BTreeSet<String> = changes[1..]
        .iter()
        .map(|c| {
            assert_eq!(c["rule"], "diff.keychain.restore-changed", "{c:#}");
            assert_eq!(
                (c["old"]["restore"].as_str(), c["new"]["restore"].as_str()),
                (Some("any_device"), Some("same_device_only"))
            );
            c["subject"]["service"]
                .as_str()
                .or(c["subject"]["server"].as_str())
                .unwrap()
                .to_string()
        })
        .collect();
    assert_eq!(got, expected_migratable);
    let rows = e["files"].as_array().unwrap().len() as u64;
    assert_eq!(
        r["unchanged"]["files"],
        rows - 1,
        "every row but the keychain export"
    );
    assert_eq!(r["unchanged"]["keychain_items"], 6);
    assert_eq!(r["unchanged"]["apps"], e["apps"].as_array().unwrap().len());
}

/// hv20 (real, encrypted, iOS 9 Manifest.mbdb with MBFile digests): against itself no
/// change, and every row, app and keychain item compared (756 rows besides the keychain
/// export, 35 apps, 30 items: the figures of tests/external.rs and `scan`).
#[test]
fn hv20_against_itself() {
    let Some(b) = shared("external/hv20/Backup") else {
        return;
    };
    let tmp = tempfile::tempdir().unwrap();
    let pw = tmp.path().join("pw");
    std::fs::write(&pw, "20201225\n").unwrap();
    let (b, pw): (PathBuf, &str) = (b, pw.to_str().unwrap());
    let b = b.to_str().unwrap();
    let before = tree_digest(Path::new(b));
    let out = auditor(&[
        "diff",
        b,
        b,
        "--old-password-file",
        pw,
        "--password-file",
        pw,
        "--format",
        "json",
        "--fail-on",
        "any",
    ]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let r = json(&out);
    assert_eq!(r["changes"], json!([]));
    assert_eq!(
        r["unchanged"],
        json!({"apps": 35, "files": 756, "keychain_items": 30, "leaks": 0, "tamper_settings": 0})
    );
    assert_eq!(
        tree_digest(Path::new(b)),
        before,
        "the backup was not written"
    );
}

/// `--format html`: one row per JSON change, in order, each showing its state, rule, area,
/// app and whether it weakens; the page names the report and its schema.
#[test]
fn html_shows_every_change_of_the_json() {
    use scraper::{Html, Selector};
    let p = pair(false);
    let json_out = p.diff(
        &p.old,
        &p.new,
        true,
        &["--leaks", "--tamper", "--format", "json"],
    );
    assert_eq!(json_out.status.code(), Some(0));
    let r: Value = serde_json::from_slice(&json_out.stdout).unwrap();
    let html_out = p.diff(
        &p.old,
        &p.new,
        true,
        &["--leaks", "--tamper", "--format", "html"],
    );
    assert_eq!(
        html_out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&html_out.stderr)
    );
    let page = Html::parse_document(&String::from_utf8(html_out.stdout).unwrap());
    let sel = |s: &str| Selector::parse(s).unwrap();
    let changes = r["changes"].as_array().unwrap();
    assert_eq!(changes.len(), 7);
    let table = page
        .select(&sel("table[data-source=\"/changes\"]"))
        .next()
        .expect("the changes table");
    let rows: Vec<_> = table.select(&sel("tbody tr")).collect();
    assert_eq!(rows.len(), changes.len());
    let mut indexes = Vec::new();
    for tr in rows {
        let i: usize = tr.value().attr("data-index").unwrap().parse().unwrap();
        indexes.push(i);
        let c = &changes[i];
        let cell = |key: &str| -> String {
            tr.select(&sel(&format!("td[data-key=\"{key}\"]")))
                .next()
                .unwrap_or_else(|| panic!("cell {key}"))
                .text()
                .collect::<String>()
        };
        assert_eq!(cell("state"), c["state"].as_str().unwrap(), "change {i}");
        assert_eq!(cell("rule"), c["rule"].as_str().unwrap(), "change {i}");
        assert_eq!(cell("area"), c["area"].as_str().unwrap(), "change {i}");
        assert_eq!(cell("app"), c["app"].as_str().unwrap_or(""), "change {i}");
        let weakens = c["weakened"].as_bool() == Some(true);
        assert_eq!(cell("weakened") == "weakened", weakens, "change {i}");
        if let (Some(d), Some(path)) = (
            c["subject"]["domain"].as_str(),
            c["subject"]["path"].as_str(),
        ) {
            assert_eq!(cell("subject"), format!("{d} {path}"), "change {i}");
        }
    }
    indexes.sort_unstable();
    assert_eq!(indexes, (0..changes.len()).collect::<Vec<_>>());
    // The data the page carries is the JSON report.
    let data = page.select(&sel("script#auditor-data")).next().unwrap();
    let data: Value = serde_json::from_str(&data.text().collect::<String>()).unwrap();
    assert_eq!(data["report"], "diff");
    assert_eq!(data["schema"], r["schema"]);
}
