//! `auditor keychain` against ../shared/conformance: every item as EXPECTED.json says.

mod common;
use common::*;
use serde_json::Value;

fn find<'a>(items: &'a [Value], e: &Value) -> &'a Value {
    let table = e["table"].as_str().unwrap();
    let rowid = e["rowid"].as_u64().unwrap();
    items
        .iter()
        .find(|i| i["table"] == table && i["persistent_ref"]["rowid"].as_u64() == Some(rowid))
        .unwrap_or_else(|| panic!("item {table}/{rowid} not reported"))
}

fn run(backup: &str, extra: &[&str]) -> Value {
    let mut args = vec!["keychain", backup, "--format", "json"];
    args.extend_from_slice(extra);
    let out = auditor(&args);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    json(&out)
}

fn check(r: &Value, expected: &Value, device_key: bool, secrets: bool) {
    let items = r["items"].as_array().unwrap();
    let exp: Vec<&Value> = expected["keychain"]["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["in_backup"] == true)
        .collect();
    assert_eq!(
        items.len(),
        exp.len(),
        "akpu items are never in a backup; every other item is listed"
    );
    for e in exp {
        let g = find(items, e);
        let what = format!("{}/{}", e["table"], e["rowid"]);
        assert_eq!(g["protection_class"], e["protection_class"], "{what}");
        assert_eq!(g["accessibility"], e["accessibility"], "{what}");
        assert_eq!(
            g["accessibility_constant"], e["accessibility_constant"],
            "{what}"
        );
        assert_eq!(g["this_device_only"], e["this_device_only"], "{what}");
        assert_eq!(g["version"], e["blob_version"], "{what}");
        assert_eq!(g["v_data_sha256"], e["v_data_sha256"], "{what}");
        assert_eq!(g["device_bound"], e["device_bound"], "{what}");
        assert_eq!(g["restore"]["summary"], e["survives_restore"], "{what}");
        let decryptable = e["decryptable"].as_bool().unwrap() || device_key;
        assert_eq!(g["decryptable"].as_bool(), Some(decryptable), "{what}");
        if decryptable {
            assert_eq!(g["access_group"], e["access_group"], "{what}");
            assert_eq!(g["account"], e["account"], "{what}");
            for k in ["service", "server", "port", "path", "label"] {
                if !e[k].is_null() {
                    assert_eq!(g[k], e[k], "{what} {k}");
                }
            }
            assert!(g["fingerprint"].is_string(), "{what}");
            assert!(g["reason"].is_null(), "{what}");
            if secrets {
                let shown = match g["secret_encoding"].as_str() {
                    Some("utf8") => hex::encode(g["secret"].as_str().unwrap()),
                    Some("hex") => g["secret"].as_str().unwrap().to_string(),
                    other => panic!("{what}: secret_encoding {other:?}"),
                };
                assert_eq!(shown, e["secret_hex"].as_str().unwrap(), "{what} secret");
            } else {
                assert!(
                    g.get("secret").is_none(),
                    "{what}: secret printed without --show-secrets"
                );
            }
        } else {
            assert!(
                g["reason"].as_str().is_some_and(|r| !r.is_empty()),
                "{what}: a reason"
            );
            assert!(g.get("secret").is_none());
        }
    }
    let s = &r["summary"];
    assert_eq!(s["items"], expected["summary"]["keychain_items_in_backup"]);
    if !device_key {
        assert_eq!(
            s["decryptable"],
            expected["summary"]["keychain_decryptable"]
        );
        assert_eq!(
            s["device_bound"],
            expected["summary"]["keychain_device_bound"]
        );
    }
}

#[test]
fn encrypted_with_password() {
    let Some((b, e)) = conformance("small-encrypted") else {
        return;
    };
    let pw = e["password"].as_str().unwrap();
    let r = run(b.to_str().unwrap(), &["--password", pw]);
    assert_eq!(r["schema"], "auditor.keychain/1");
    check(&r, &e, false, false);
    let r = run(b.to_str().unwrap(), &["--password", pw, "--show-secrets"]);
    check(&r, &e, false, true);
    // The table never shows secrets unless asked.
    let out = auditor(&["keychain", b.to_str().unwrap(), "--password", pw]);
    let text = String::from_utf8_lossy(&out.stdout);
    for it in e["keychain"]["items"].as_array().unwrap() {
        assert!(
            !text.contains(it["secret"].as_str().unwrap()),
            "secret in the table"
        );
    }
}

#[test]
fn encrypted_with_device_key_opens_everything() {
    let Some((b, e)) = conformance("small-encrypted") else {
        return;
    };
    let pw = e["password"].as_str().unwrap();
    let dk = e["keybag"]["device_key_835_hex"].as_str().unwrap();
    let r = run(
        b.to_str().unwrap(),
        &["--password", pw, "--device-key", dk, "--show-secrets"],
    );
    check(&r, &e, true, true);
    assert_eq!(r["summary"]["decryptable"], r["summary"]["items"]);
}

#[test]
fn unencrypted_is_device_bound_and_counted_by_class() {
    let Some((b, e)) = conformance("small-unencrypted") else {
        return;
    };
    let r = run(b.to_str().unwrap(), &[]);
    check(&r, &e, false, false);
    assert_eq!(r["summary"]["by_restore"]["same_device_only"], 12);
    assert_eq!(
        r["summary"]["by_class"],
        serde_json::json!({"6": 2, "7": 2, "8": 2, "9": 2, "10": 2, "11": 2})
    );
    // An examiner's device key opens an unencrypted backup's keychain too.
    let dk = e["keybag"]["device_key_835_hex"].as_str().unwrap();
    let r = run(b.to_str().unwrap(), &["--device-key", dk, "--show-secrets"]);
    check(&r, &e, true, true);
}

#[test]
fn app_filter_and_exit_3_without_password() {
    let Some((b, e)) = conformance("small-encrypted") else {
        return;
    };
    let pw = e["password"].as_str().unwrap();
    let r = run(
        b.to_str().unwrap(),
        &["--password", pw, "--app", "com.example.bank"],
    );
    let items = r["items"].as_array().unwrap();
    assert!(!items.is_empty());
    assert!(items.iter().all(|i| i["app"] == "com.example.bank"));
    assert_eq!(
        auditor(&["keychain", b.to_str().unwrap()]).status.code(),
        Some(3)
    );
}

#[test]
fn app_filter_summary_describes_the_items_shown() {
    let Some((b, e)) = conformance("small-encrypted") else {
        return;
    };
    let pw = e["password"].as_str().unwrap();
    let b = b.to_str().unwrap();
    // Near miss: without --app the summary is the whole keychain and no app_filter.
    let all = run(b, &["--password", pw]);
    assert_eq!(all["summary"]["items"], 12);
    assert!(all.get("app_filter").is_none());
    let rules: Vec<&str> = all["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["rule"].as_str().unwrap())
        .collect();
    assert!(rules.contains(&"keychain.deprecated-class"), "{rules:?}");
    let r = run(b, &["--password", pw, "--app", "com.example.bank"]);
    let shown = r["items"].as_array().unwrap().len() as u64;
    assert_eq!(r["summary"]["items"].as_u64(), Some(shown));
    assert_eq!(r["summary"]["decryptable"].as_u64(), Some(shown));
    assert_eq!(r["summary"]["device_bound"], 0);
    assert_eq!(r["app_filter"]["app"], "com.example.bank");
    assert_eq!(r["app_filter"]["keychain_items"], 12);
    // The ThisDeviceOnly items are sealed (class keys device-bound): they may be the bank's.
    assert_eq!(r["app_filter"]["may_belong"], 6);
    // Only the bank's findings: its session token, not the game's deprecated class.
    let rules: Vec<&str> = r["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["rule"].as_str().unwrap())
        .collect();
    assert_eq!(rules, ["keychain.migratable-token"]);
}

/// A backup without a keychain reads the same whether its index has no keychain row
/// (pyiosbackup's samples) or a row without a payload (mvt): a report with
/// `keychain.missing`, exit 0, and 1 under `--fail-on medium` (issue 13 item 4).
#[test]
fn no_keychain_row_and_no_keychain_payload_read_alike() {
    let cases = [
        (
            shared("external/pyiosbackup/backup_ios10_sqlite"),
            Some("0000"),
        ),
        (shared("external/mvt/ios_backup"), None),
    ];
    for (dir, pw) in cases {
        let Some(dir) = dir else {
            eprintln!("skipped: ../shared/external absent");
            continue;
        };
        let d = dir.to_str().unwrap();
        let mut args = vec!["keychain", d, "--format", "json"];
        if let Some(p) = pw {
            args.extend(["--password", p]);
        }
        let r = json_ok(&args);
        assert_eq!(r["keychain_file"]["present"], false, "{d}");
        assert_eq!(r["summary"]["items"], 0);
        let rules: Vec<_> = r["findings"]
            .as_array()
            .unwrap()
            .iter()
            .map(|f| f["rule"].as_str().unwrap())
            .collect();
        assert_eq!(rules, ["keychain.missing"], "{d}");
        args.extend(["--fail-on", "medium"]);
        assert_eq!(auditor(&args).status.code(), Some(1), "{d}");
    }
}

/// `keychain --app` that selects nothing says so on stderr (issue 13 item 7); one that
/// selects items does not.
#[test]
fn an_app_filter_that_selects_nothing_is_warned() {
    let demo = repo(DEMO).display().to_string();
    let pw = repo(DEMO_PASSWORD_FILE).display().to_string();
    let run = |app: &str| {
        let o = auditor(&["keychain", &demo, "--password-file", &pw, "--app", app]);
        assert_eq!(o.status.code(), Some(0));
        String::from_utf8_lossy(&o.stderr).into_owned()
    };
    let e = run("com.nope");
    assert!(
        e.contains("warning: --app com.nope selected no keychain item"),
        "{e}"
    );
    let e = run("com.example.bank");
    assert!(!e.contains("selected no keychain item"), "{e}");
}
