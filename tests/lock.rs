//! Restore routes in the JSON and tables, and `policy init --lock` over a release pair:
//! fixtures/specs/release-1.json (known good) and release-2.json (one file class weakened,
//! one keychain item made migratable, a plaintext file added, a file removed).

mod common;
use common::{auditor, json, json_ok, repo, DEMO, DEMO_PASSWORD_FILE};
use serde_json::{json, Value};
use std::path::{Path, PathBuf};

const PASSWORD: &str = "release-pw";
const DEVICE_KEY: &str = "0f1e2d3c4b5a69788796a5b4c3d2e1f0";

/// A release's spec as JSON.
fn spec(release: u32) -> Value {
    let text =
        std::fs::read_to_string(repo(&format!("fixtures/specs/release-{release}.json"))).unwrap();
    serde_json::from_str(&text).unwrap()
}

/// Write the backup of `spec` under `dir` as `name`.
fn build(dir: &Path, name: &str, spec: &Value) -> PathBuf {
    let backup = dir.join(name);
    let spec: auditor::fixture::Spec = serde_json::from_value(spec.clone()).unwrap();
    auditor::fixture::write(&spec, &backup).unwrap();
    backup
}

/// The pair built in a temporary folder, with the password file: (dir, r1, r2, pw).
fn pair() -> (tempfile::TempDir, PathBuf, PathBuf, String) {
    let dir = tempfile::tempdir().unwrap();
    let r1 = build(dir.path(), "r1", &spec(1));
    let r2 = build(dir.path(), "r2", &spec(2));
    let pw = dir.path().join("pw.txt");
    std::fs::write(&pw, PASSWORD).unwrap();
    (dir, r1, r2, pw.display().to_string())
}

/// `policy init --lock` of `backup` with `creds`, written to `out`: its text.
fn lock(backup: &Path, creds: &[&str], out: &Path) -> String {
    let b = backup.display().to_string();
    let mut args = vec!["policy", "init", &b, "--lock"];
    args.extend_from_slice(creds);
    let o = auditor(&args);
    assert_eq!(
        o.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    let text = String::from_utf8(o.stdout).unwrap();
    std::fs::write(out, &text).unwrap();
    auditor::policy::load(out).unwrap_or_else(|e| panic!("lock does not parse: {e}\n{text}"));
    text
}

/// `check` of `backup` against `policy` as JSON, and its exit code.
fn check(backup: &Path, policy: &Path, creds: &[&str]) -> (Value, Option<i32>) {
    let b = backup.display().to_string();
    let p = policy.display().to_string();
    let mut args = vec!["check", &b, "--policy", &p, "--format", "json"];
    args.extend_from_slice(creds);
    let o = auditor(&args);
    (json(&o), o.status.code())
}

/// The failing findings as (rule, message).
fn findings(r: &Value) -> Vec<(String, String)> {
    r["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            (
                f["rule"].as_str().unwrap().to_string(),
                f["message"].as_str().unwrap().to_string(),
            )
        })
        .collect()
}

#[test]
fn keychain_json_has_routes_beside_an_unchanged_restore() {
    let (_d, r1, _r2, pw) = pair();
    let b = r1.display().to_string();
    let k = json_ok(&["keychain", &b, "--password-file", &pw, "--format", "json"]);
    let items = k["items"].as_array().unwrap();
    assert!(!items.is_empty());
    for it in items {
        // `restore` keeps its three fields and meaning (a contract).
        let r = &it["restore"];
        assert_eq!(r.as_object().unwrap().len(), 3, "{it:#}");
        assert!(r["summary"].is_string());
        let routes = it["routes"].as_object().unwrap();
        let mut keys: Vec<&str> = routes.keys().map(String::as_str).collect();
        keys.sort_unstable();
        assert_eq!(
            keys,
            [
                "icloud_backup",
                "icloud_keychain",
                "local_encrypted",
                "local_unencrypted"
            ]
        );
        for v in routes.values() {
            for side in ["same_device", "other_device"] {
                let o = &v[side];
                assert!(o.is_boolean() || o == "unknown", "{it:#}");
            }
        }
        // This backup is encrypted: `restore` is the local encrypted route.
        let le = &it["routes"]["local_encrypted"];
        let as_null = |o: &Value| {
            if o == "unknown" {
                Value::Null
            } else {
                o.clone()
            }
        };
        assert_eq!(as_null(&le["same_device"]), r["same_device"], "{it:#}");
        assert_eq!(as_null(&le["other_device"]), r["other_device"], "{it:#}");
    }
    let by_service = |s: &str| {
        items
            .iter()
            .find(|i| i["service"] == s)
            .unwrap_or_else(|| panic!("no item {s}"))
    };
    // ck with sync = 1: an encrypted backup and iCloud Keychain carry it to a new device.
    let synced = by_service("com.example.shop.prefs-sync");
    assert_eq!(synced["synchronizable"], true);
    assert_eq!(
        synced["routes"]["icloud_keychain"],
        json!({"same_device": true, "other_device": true})
    );
    assert_eq!(
        synced["routes"]["icloud_backup"],
        json!({"same_device": true, "other_device": false})
    );
    // ak without sync: not in iCloud Keychain.
    let notes = by_service("com.example.notes.sync");
    assert_eq!(
        notes["routes"]["icloud_keychain"],
        json!({"same_device": false, "other_device": false})
    );
    // The sealed ThisDeviceOnly items: class known, sync not read.
    let sealed: Vec<&Value> = items.iter().filter(|i| i["decryptable"] == false).collect();
    assert_eq!(sealed.len(), 2);
    for it in sealed {
        assert_eq!(
            it["routes"]["local_encrypted"],
            json!({"same_device": true, "other_device": false})
        );
        assert_eq!(
            it["routes"]["icloud_keychain"],
            json!({"same_device": false, "other_device": false})
        );
    }
    // The table shows the compact form and its legend, within 80 columns.
    let t = auditor(&["keychain", &b, "--password-file", &pw]);
    let text = String::from_utf8(t.stdout).unwrap();
    assert!(text.contains(" e--k "), "{text}");
    assert!(text.contains("new: routes to a new device"), "{text}");
    assert!(common::misfit_lines(&text).is_empty(), "{text}");
}

#[test]
fn scan_json_files_have_routes() {
    let s = json_ok(&[
        "scan",
        DEMO,
        "--password-file",
        DEMO_PASSWORD_FILE,
        "--format",
        "json",
    ]);
    let files = s["files"].as_array().unwrap();
    let regular: Vec<&Value> = files.iter().filter(|f| f["kind"] == "file").collect();
    assert!(!regular.is_empty());
    for f in &regular {
        let r = &f["routes"];
        assert_eq!(
            r["local_unencrypted"],
            json!({"same_device": true, "other_device": true}),
            "{f:#}"
        );
        assert_eq!(
            r["icloud_keychain"],
            json!({"same_device": false, "other_device": false})
        );
        if (1..=4).contains(&f["protection_class"].as_u64().unwrap_or(0))
            && f["device_bound"] == false
        {
            assert_eq!(
                r["local_encrypted"],
                json!({"same_device": true, "other_device": true})
            );
        }
    }
    for f in files.iter().filter(|f| f["kind"] != "file") {
        assert!(f["routes"].is_null(), "{f:#}");
    }
    // The files table has the column and its legend, within 80 columns.
    let t = auditor(&[
        "scan",
        DEMO,
        "--password-file",
        DEMO_PASSWORD_FILE,
        "--files",
    ]);
    let text = String::from_utf8(t.stdout).unwrap();
    assert!(text.contains(" euc- "), "{text}");
    assert!(text.contains("new: routes to a new device"), "{text}");
    assert!(common::misfit_lines(&text).is_empty(), "{text}");
}

#[test]
fn locked_policy_passes_on_release_1_and_names_each_weakening_in_release_2() {
    let (d, r1, r2, pw) = pair();
    let creds = ["--password-file", pw.as_str()];
    let policy = d.path().join("lock.toml");
    let text = lock(&r1, &creds, &policy);
    assert!(text.contains("[app.lock]"), "{text}");
    // Four files in one directory: one glob; fewer: exact paths.
    assert!(
        text.contains("{ glob = \"Library/Application Support/assets/*\", class = \"complete_until_first_user_authentication\" }"),
        "{text}"
    );
    assert!(
        text.contains("{ glob = \"Documents/cart.json\", class = \"complete\" }"),
        "{text}"
    );
    assert!(text.contains("new_device = \"e--k\""), "{text}");
    // The two ThisDeviceOnly items cannot be read with the password: counted.
    assert!(
        text.contains("{ table = \"genp\", class = 9, count = 1 }"),
        "{text}"
    );
    assert!(text.contains("forbid = [\"credential\""), "{text}");

    let (r, code) = check(&r1, &policy, &creds);
    assert_eq!(code, Some(0), "{r:#}\n{text}");
    assert!(r["passed"].as_bool().unwrap());

    let (r, code) = check(&r2, &policy, &creds);
    assert_eq!(code, Some(1), "{r:#}");
    let f = findings(&r);
    let has = |rule: &str, needle: &str| f.iter().any(|(r, m)| r == rule && m.contains(needle));
    assert!(
        has("policy.lock-file-class", "Documents/cart.json"),
        "{f:#?}"
    );
    assert!(
        has("policy.lock-file-new", "Documents/debug/state.txt"),
        "{f:#?}"
    );
    // Without the device key the item was sealed when locked: it is new now, readable,
    // and restores to any device.
    assert!(
        has("policy.lock-keychain-new", "restore any_device"),
        "{f:#?}"
    );
    // Exactly those three findings; the removed file is a note, not a failure.
    assert_eq!(f.len(), 3, "{f:#?}");
    let notes: Vec<&str> = r["expectations"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|e| e["note"].as_str())
        .collect();
    assert!(
        notes
            .iter()
            .any(|n| n.contains("Documents/export-2024.csv")),
        "{notes:#?}"
    );
}

#[test]
fn with_the_device_key_the_migratable_item_is_named_as_restoring_further() {
    let (d, r1, r2, pw) = pair();
    let creds = ["--password-file", pw.as_str(), "--device-key", DEVICE_KEY];
    let policy = d.path().join("lock.toml");
    let text = lock(&r1, &creds, &policy);
    assert!(
        text.contains("service = \"com.example.shop.session\""),
        "{text}"
    );
    assert!(
        text.contains("restore = \"same_device_only\", new_device = \"----\""),
        "{text}"
    );
    let (r, code) = check(&r1, &policy, &creds);
    assert_eq!(code, Some(0), "{r:#}");
    let (r, code) = check(&r2, &policy, &creds);
    assert_eq!(code, Some(1));
    let f = findings(&r);
    let weaker: Vec<&(String, String)> = f
        .iter()
        .filter(|(r, _)| r == "policy.lock-keychain-weaker")
        .collect();
    assert_eq!(weaker.len(), 1, "{f:#?}");
    assert!(
        weaker[0]
            .1
            .contains("restore was same_device_only, now any_device")
            && weaker[0].1.contains("gained e"),
        "{weaker:#?}"
    );
    let loc = r["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|x| x["rule"] == "policy.lock-keychain-weaker")
        .unwrap()["location"]
        .clone();
    assert_eq!(loc["service"], "com.example.shop.session", "{loc:#}");
    assert_eq!(f.len(), 3, "{f:#?}");
}

#[test]
fn a_new_leak_fingerprint_fails_the_lock() {
    let dir = tempfile::tempdir().unwrap();
    let r1 = build(dir.path(), "r1", &spec(1));
    let mut s2 = spec(1);
    s2["files"].as_array_mut().unwrap().push(json!({
        "domain": "AppDomain-com.example.shop", "path": "Documents/orders.sqlite-config.json",
        "class": 1, "content": {"json": {"password": "Hunter2-Correct-Horse-91"}}
    }));
    let r2 = build(dir.path(), "r2", &s2);
    let pw = dir.path().join("pw.txt");
    std::fs::write(&pw, PASSWORD).unwrap();
    let pw = pw.display().to_string();
    let creds = ["--password-file", pw.as_str()];
    let policy = dir.path().join("lock.toml");
    lock(&r1, &creds, &policy);
    let (r, code) = check(&r2, &policy, &creds);
    assert_eq!(code, Some(1), "{r:#}");
    let f = findings(&r);
    assert!(
        f.iter()
            .any(|(r, m)| r == "policy.leak" && m.contains("fingerprint")),
        "{f:#?}"
    );
    // A locked release against itself: the leak is allowed by its fingerprint.
    let policy2 = dir.path().join("lock2.toml");
    let text = lock(&r2, &creds, &policy2);
    assert!(text.contains("fingerprint = "), "{text}");
    let (r, code) = check(&r2, &policy2, &creds);
    assert_eq!(code, Some(0), "{r:#}");
}

#[test]
fn lock_without_credentials_is_refused_or_empty_allow() {
    // An encrypted backup without credentials: the lock needs the index (exit 3 or 2, never
    // a lock that allows everything).
    let (_d, r1, _r2, _pw) = pair();
    let b = r1.display().to_string();
    let o = auditor(&["policy", "init", &b, "--lock"]);
    assert_ne!(o.status.code(), Some(0));
}

#[test]
fn unencrypted_pair_locks_files_and_counts_every_item_as_sealed() {
    let dir = tempfile::tempdir().unwrap();
    let plain = |r: u32| {
        let mut s = spec(r);
        let o = s.as_object_mut().unwrap();
        o.insert("encrypted".into(), json!(false));
        o.remove("password");
        o.remove("kdf");
        s
    };
    let r1 = build(dir.path(), "r1", &plain(1));
    let r2 = build(dir.path(), "r2", &plain(2));
    let policy = dir.path().join("lock.toml");
    let text = lock(&r1, &[], &policy);
    // Every item is wrapped with the device key: all sealed, none by name.
    assert!(text.contains("keychain = []"), "{text}");
    assert!(
        text.contains("{ table = \"genp\", class = 6, count = 1 }"),
        "{text}"
    );
    let (r, code) = check(&r1, &policy, &[]);
    assert_eq!(code, Some(0), "{r:#}\n{text}");
    let (r, code) = check(&r2, &policy, &[]);
    assert_eq!(code, Some(1), "{r:#}");
    let f = findings(&r);
    let rules: Vec<&str> = f.iter().map(|(r, _)| r.as_str()).collect();
    // The class-9 item became class 6: one more sealed class-6 item than locked.
    assert!(rules.contains(&"policy.lock-file-class"), "{f:#?}");
    assert!(rules.contains(&"policy.lock-file-new"), "{f:#?}");
    assert!(
        f.iter()
            .any(|(r, m)| r == "policy.lock-sealed-new" && m.contains("class 6 (2 now, 1 locked)")),
        "{f:#?}"
    );
    assert_eq!(f.len(), 3, "{f:#?}");
}
