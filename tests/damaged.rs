//! Damaged copies get the right diagnosis (issue "What a new user met", items 1 and 4): a
//! payload cut short is a truncation (`file.truncated`), not a decrypted copy or tampering,
//! counted once by `--deep` and without a hash; a cut index is called truncated, not a wrong
//! key; a damaged Info.plist or Status.plist is a finding while the rest is reported.

mod common;
use common::*;
use serde_json::Value;
use std::path::Path;

/// The demo's sms.db: 65,536 bytes recorded, 65,552 bytes of ciphertext.
const SMS_DB: &str = "3d/3d0d7e5fb2ce288813306e4d4636395e047a3d28";

/// `scan` of `backup` (with the demo's password unless `locked`) as JSON.
fn scan(backup: &Path, locked: bool, deep: bool) -> Value {
    let b = backup.display().to_string();
    let pw = repo(DEMO_PASSWORD_FILE).display().to_string();
    let mut args = vec!["scan", b.as_str(), "--format", "json"];
    if !locked {
        args.extend(["--password-file", pw.as_str()]);
    }
    if deep {
        args.push("--deep");
    }
    json(&auditor(&args))
}

/// The rules of the findings of the row named `path`, and the row.
fn row<'a>(r: &'a Value, path: &str) -> (Vec<&'a str>, &'a Value) {
    let f = r["files"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["relative_path"] == path)
        .unwrap_or_else(|| panic!("no row {path}"));
    let rules = f["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|x| x["rule"].as_str().unwrap())
        .collect();
    (rules, f)
}

/// Backup-level rules of the report.
fn backup_rules(r: &Value) -> Vec<&str> {
    r["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|x| x["rule"].as_str().unwrap())
        .collect()
}

/// A demo copy whose sms.db payload is cut to `len` bytes.
fn cut(len: u64) -> (tempfile::TempDir, std::path::PathBuf) {
    let (t, b) = demo_copy();
    let f = std::fs::OpenOptions::new()
        .write(true)
        .open(b.join(SMS_DB))
        .unwrap();
    f.set_len(len).unwrap();
    (t, b)
}

#[test]
fn a_cut_payload_is_truncated_once_and_not_a_decrypted_copy() {
    let intact = scan(&repo(DEMO), false, true);
    let payloads = intact["summary"]["deep"]["verified"].as_u64().unwrap();
    assert_eq!(intact["summary"]["deep"]["failed"], 0);
    // 1000 bytes: not a multiple of 16; 1024: one, whose last block does not pad.
    for len in [1000, 1024] {
        let (_t, b) = cut(len);
        for deep in [false, true] {
            let r = scan(&b, false, deep);
            let (rules, f) = row(&r, "Library/SMS/sms.db");
            assert_eq!(rules, ["file.truncated"], "cut to {len}, deep {deep}");
            assert!(f.get("sha256").is_none(), "no hash for a file that failed");
            assert!(f["content_size"].is_null());
            let all = backup_rules(&r);
            assert!(!all.contains(&"backup.encryption-mismatch"), "{all:?}");
            assert_eq!(r["summary"]["findings"]["file.truncated"], 1);
            assert!(r["summary"]["findings"]
                .get("file.decrypt-failed")
                .is_none());
            assert!(r["summary"]["findings"]
                .get("file.not-ciphertext")
                .is_none());
            assert_eq!(r["backup"]["encryption"]["payloads_encrypted"], true);
            if deep {
                let d = &r["summary"]["deep"];
                assert_eq!(d["failed"], 1, "cut to {len}");
                assert_eq!(
                    d["verified"].as_u64().unwrap() + 1,
                    payloads,
                    "one file counts once"
                );
            }
        }
    }
}

#[test]
fn near_misses_are_not_truncations() {
    // The intact demo: no truncation anywhere.
    let r = scan(&repo(DEMO), false, true);
    assert!(r["summary"]["findings"].get("file.truncated").is_none());
    // A payload one block longer than its recorded Size needs is no truncation either (the
    // padding proves its end; a changed file is a size mismatch).
    let (_t, b) = demo_copy();
    let p = b.join(SMS_DB);
    let mut bytes = std::fs::read(&p).unwrap();
    let extra: Vec<u8> = bytes[bytes.len() - 32..].to_vec();
    bytes.extend_from_slice(&extra[16..]);
    std::fs::write(&p, &bytes).unwrap();
    let r = scan(&b, false, true);
    let (rules, _) = row(&r, "Library/SMS/sms.db");
    assert!(!rules.contains(&"file.truncated"), "{rules:?}");
    assert!(rules.contains(&"file.size-mismatch"), "{rules:?}");
}

/// The stderr and exit code of `scan` on a demo copy whose Manifest.db is cut to `len`.
fn scan_cut_index(len: impl Fn(u64) -> u64) -> (Option<i32>, String) {
    let (_t, b) = demo_copy();
    let db = b.join("Manifest.db");
    let f = std::fs::OpenOptions::new().write(true).open(&db).unwrap();
    f.set_len(len(f.metadata().unwrap().len())).unwrap();
    let pw = repo(DEMO_PASSWORD_FILE).display().to_string();
    let o = auditor(&["scan", b.to_str().unwrap(), "--password-file", &pw]);
    (
        o.status.code(),
        String::from_utf8_lossy(&o.stderr).into_owned(),
    )
}

#[test]
fn a_cut_encrypted_index_is_called_truncated_not_a_wrong_key() {
    // Cut at a block boundary: the header decrypts (the key is right) and counts more pages.
    let (code, e) = scan_cut_index(|n| n / 2 / 16 * 16);
    assert_eq!(code, Some(4), "{e}");
    assert!(e.contains("the encrypted index is truncated"), "{e}");
    assert!(
        !e.contains("wrong key") && !e.contains("decrypted in place"),
        "{e}"
    );
    // Cut off the block grid: not ciphertext, not SQLite.
    let (code, e) = scan_cut_index(|n| n / 2 + 5);
    assert_eq!(code, Some(4), "{e}");
    assert!(
        e.contains("the encrypted index is truncated or damaged"),
        "{e}"
    );
    assert!(!e.contains("wrong key"), "{e}");
    // Near miss: the whole index reads.
    let (code, e) = scan_cut_index(|n| n);
    assert_eq!(code, Some(0), "{e}");
}

#[test]
fn a_damaged_info_or_status_plist_is_a_finding_and_the_rest_is_reported() {
    for name in ["Info.plist", "Status.plist"] {
        let (_t, b) = demo_copy();
        std::fs::write(b.join(name), b"garbage").unwrap();
        for cmd in ["info", "scan"] {
            let r = if cmd == "info" {
                json(&auditor(&["info", b.to_str().unwrap(), "--format", "json"]))
            } else {
                scan(&b, false, false)
            };
            let rules = backup_rules(&r);
            assert!(
                rules.contains(&"backup.plist-damaged"),
                "{name} {cmd}: {rules:?}"
            );
            let f = r["findings"]
                .as_array()
                .unwrap()
                .iter()
                .find(|f| f["rule"] == "backup.plist-damaged")
                .unwrap();
            assert_eq!(f["location"], name);
            assert!(f["message"]
                .as_str()
                .unwrap()
                .contains("not a property list"));
            // Said as damaged, not as missing.
            assert!(
                !rules.contains(&"backup.missing-file"),
                "{name} {cmd}: {rules:?}"
            );
            assert_eq!(r["keybag"]["version"], 4, "the keybag is still reported");
            if cmd == "scan" {
                assert_eq!(r["index_read"], true, "the index is still read");
            }
        }
        // The table shows it too, with its fix.
        let o = auditor(&["info", b.to_str().unwrap()]);
        assert_eq!(o.status.code(), Some(0));
        let t = String::from_utf8_lossy(&o.stdout);
        assert!(t.contains("backup.plist-damaged"), "{t}");
        assert!(t.contains("fix: The copy is damaged"), "{t}");
    }
    // Near miss: a damaged Manifest.plist (the keybag) is still an error.
    let (_t, b) = demo_copy();
    std::fs::write(b.join("Manifest.plist"), b"garbage").unwrap();
    let o = auditor(&["info", b.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(4));
    assert!(String::from_utf8_lossy(&o.stderr).contains("Manifest.plist"));
}
