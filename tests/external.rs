//! Real backups made outside this project (../shared/external, see its SOURCES.md).
//!
//! Every figure asserted here was first obtained independently of this project's code:
//! hv20 payload lengths and SHA-256s by a throw-away Python script (own Manifest.mbdb walk,
//! own keybag TLV parse, PBKDF2/RFC 3394/AES-CBC from the `cryptography` package), mvt row
//! counts with Python's sqlite3 (`mode=ro&immutable=1`), the pyiosbackup key with
//! `hashlib.pbkdf2_hmac`; the keychain counts of hv20 by a separate Python decoder of the
//! v3 blobs (AES-GCM with an empty IV computed by hand). See the closing notes of the
//! project for the commands.

mod common;
use common::*;
use serde_json::Value;
use std::path::Path;

fn password_file(dir: &Path, pw: &str) -> String {
    let p = dir.join("pw");
    std::fs::write(&p, format!("{pw}\n")).unwrap();
    p.to_str().unwrap().to_string()
}

fn file<'a>(r: &'a Value, id: &str) -> &'a Value {
    r["files"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["file_id"] == id)
        .unwrap_or_else(|| panic!("{id} not in report"))
}

#[test]
fn hv20_ios9_encrypted_mbdb_deep() {
    let Some(b) = shared("external/hv20/Backup") else {
        return;
    };
    let tmp = tempfile::tempdir().unwrap();
    let pw = password_file(tmp.path(), "20201225");
    let before = tree_digest(&b);
    let r = json_ok(&[
        "scan",
        b.to_str().unwrap(),
        "--password-file",
        &pw,
        "--deep",
        "--format",
        "json",
    ]);
    let bk = &r["backup"];
    assert_eq!(bk["index"], "manifest_mbdb");
    assert_eq!(bk["layout"], "flat");
    assert_eq!(bk["ios_version"], "9.3.6");
    assert_eq!(bk["product_type"], "iPhone4,1");
    assert_eq!(bk["kdf"]["scheme"], "legacy_sha1");
    assert_eq!(bk["kdf"]["sha1_rounds"], 10000);
    assert!(r["findings"]
        .as_array()
        .unwrap()
        .iter()
        .any(|f| f["rule"] == "backup.weak-kdf"));
    let s = &r["summary"];
    assert_eq!(s["entries"], 757);
    assert_eq!(s["files"], 321);
    assert_eq!(s["directories"], 429);
    assert_eq!(s["symlinks"], 7);
    assert_eq!(s["files_present"], 320);
    assert_eq!(s["files_missing"], 1);
    assert_eq!(s["size_mismatch_files"], 7);
    assert_eq!(s["deep"]["verified"], 320);
    assert_eq!(s["deep"]["failed"], 0);
    assert_eq!(s["orphans"], 0);
    // The one payload the copy lacks (SOURCES.md: a 6.6 MB video).
    let missing: Vec<&Value> = r["files"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["status"] == "missing")
        .collect();
    assert_eq!(missing.len(), 1);
    assert!(missing[0]["relative_path"]
        .as_str()
        .unwrap()
        .ends_with("IMG_0001.mp4"));
    // Content lengths and SHA-256 of decrypted payloads, from the independent script.
    for (id, len, sha) in [
        (
            "86736007d0166a18c646c567279b75093fc066fe",
            2457670,
            "a1915b97b3842aab5450d65072ab77a87f3a7c4b503d68d01048b443ef1ffc1c",
        ),
        (
            "201152ef691d8e0aab77ecc0c4f155d7d3c027a5",
            1024896,
            "bd01caf2feb564647d60c166d2dd013c7ca0f3ad3a1a8c8b25bd15e6f2ccd42d",
        ),
        (
            "b720d84892451b1b845ffe5076a4cb34e923aa5d",
            922496,
            "3c3c08172493b480ce31d7cd69d3d4f09affe5cd70d4aa29cc403e50ad9e855c",
        ),
        (
            "51a4616e576dd33cd2abadfea874eb8ff246bf0e",
            19627,
            "e643cacdb77e9e3ee986bf79c7c4d69e7b1f0d7099bb2ce1d3665ac4054f8774",
        ),
    ] {
        let f = file(&r, id);
        assert_eq!(f["content_size"], len, "{id}");
        assert_eq!(f["sha256"], sha, "{id}");
    }
    // The keychain payload is class 1 on this device.
    assert_eq!(
        file(&r, "51a4616e576dd33cd2abadfea874eb8ff246bf0e")["protection_class"],
        1
    );
    let k = &r["keychain"];
    assert_eq!(k["items"], 30);
    assert_eq!(k["decryptable"], 6);
    assert_eq!(k["device_bound"], 24);
    assert_eq!(
        k["by_table"],
        serde_json::json!({"cert": 1, "genp": 20, "inet": 1, "keys": 8})
    );
    assert_eq!(
        k["by_class"],
        serde_json::json!({"6": 5, "8": 1, "9": 4, "10": 4, "11": 16})
    );
    assert_eq!(before, tree_digest(&b), "the backup was modified");
}

#[test]
fn hv20_keychain_items() {
    let Some(b) = shared("external/hv20/Backup") else {
        return;
    };
    let tmp = tempfile::tempdir().unwrap();
    let pw = password_file(tmp.path(), "20201225");
    let r = json_ok(&[
        "keychain",
        b.to_str().unwrap(),
        "--password-file",
        &pw,
        "--format",
        "json",
    ]);
    assert_eq!(r["schema"], "auditor.keychain/1");
    let items = r["items"].as_array().unwrap();
    assert_eq!(items.len(), 30);
    for it in items {
        assert_eq!(it["version"], 3);
        assert!(
            it.get("secret").is_none(),
            "no secret without --show-secrets"
        );
        let class = it["protection_class"].as_u64().unwrap();
        if class <= 8 {
            assert_eq!(it["decryptable"], true, "{it}");
            assert_eq!(it["restore"]["summary"], "any_device");
            assert!(it["access_group"].is_string());
            assert!(it["fingerprint"].is_string());
        } else {
            assert_eq!(it["decryptable"], false);
            assert_eq!(it["device_bound"], true);
            assert_eq!(it["this_device_only"], true);
            assert_eq!(it["restore"]["summary"], "same_device_only");
            assert_eq!(it["restore"]["other_device"], false);
            assert!(it["reason"].as_str().unwrap().len() > 10);
        }
    }
    let shown = auditor(&[
        "keychain",
        b.to_str().unwrap(),
        "--password-file",
        &pw,
        "--format",
        "json",
        "--show-secrets",
    ]);
    let r = json(&shown);
    assert_eq!(
        r["items"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|i| i.get("secret").is_some())
            .count(),
        6
    );
}

#[test]
fn hv20_without_password() {
    let Some(b) = shared("external/hv20/Backup") else {
        return;
    };
    // The mbdb index is not encrypted: files are listed, contents are not decrypted.
    let out = auditor(&["scan", b.to_str().unwrap(), "--format", "json"]);
    assert_eq!(out.status.code(), Some(0));
    let r = json(&out);
    assert_eq!(r["index_read"], true);
    assert_eq!(r["summary"]["files"], 321);
    assert!(r["keychain"].is_null());
    // The keychain needs the password; no terminal → exit 3 with a hint.
    let out = auditor(&["keychain", b.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(3));
    let out = auditor(&["scan", b.to_str().unwrap(), "--password", "20201226"]);
    assert_eq!(out.status.code(), Some(3));
}

#[test]
fn mvt_decrypted_copy_without_manifest_plist() {
    let Some(b) = shared("external/mvt/ios_backup") else {
        return;
    };
    let before = tree_digest(&b);
    let r = json_ok(&["scan", b.to_str().unwrap(), "--format", "json", "--deep"]);
    let s = &r["summary"];
    assert_eq!(s["entries"], 3721);
    assert_eq!(s["files"], 1089);
    assert_eq!(s["directories"], 2618);
    assert_eq!(s["symlinks"], 14);
    assert_eq!(s["files_present"], 10);
    assert_eq!(s["orphans"], 1);
    assert_eq!(
        r["orphans"][0]["file_id"],
        "e794f6ffcc3c222535f47684a63d5178da3c4500"
    );
    assert_eq!(r["backup"]["ios_version"], "14.3");
    assert_eq!(r["backup"]["encryption"]["declared"], Value::Null);
    // Rows carry keys, payloads are plaintext: a decrypted copy, reported as such.
    assert_eq!(r["backup"]["encryption"]["payloads_encrypted"], false);
    let rules: Vec<&str> = r["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["rule"].as_str().unwrap())
        .collect();
    assert!(rules.contains(&"backup.encryption-mismatch"));
    assert_eq!(
        rules
            .iter()
            .filter(|x| **x == "backup.missing-file")
            .count(),
        2,
        "Manifest.plist and Status.plist"
    );
    assert_eq!(s["findings"]["file.not-ciphertext"], 10);
    assert_eq!(
        before,
        tree_digest(&b),
        "the backup (with its -wal/-shm) was modified"
    );
}

#[test]
fn pyiosbackup_ios10_with_cached_key_and_ios9_with_password() {
    let Some(b10) = shared("external/pyiosbackup/backup_ios10_sqlite") else {
        return;
    };
    // KEK computed independently with hashlib (two-stage PBKDF2 of "0000").
    let key = "ec8edc160b5745ccae000bfb4787630f322821191fba7eea38feab2c6307cd9b";
    let tmp = tempfile::tempdir().unwrap();
    let kf = tmp.path().join("key");
    std::fs::write(&kf, key).unwrap();
    let r = json_ok(&[
        "scan",
        b10.to_str().unwrap(),
        "--key-file",
        kf.to_str().unwrap(),
        "--deep",
        "--format",
        "json",
    ]);
    assert_eq!(r["backup"]["encryption"]["manifest_key_class"], 2);
    assert_eq!(r["summary"]["files_present"], 1);
    assert_eq!(r["summary"]["deep"]["failed"], 0);
    let f = &r["files"][0];
    assert_eq!(f["relative_path"], "Media/Test.txt");
    assert_eq!(f["content_size"], 9);
    // This Manifest.db ciphertext has no PKCS#7 padding: read anyway, and said so.
    assert!(r["findings"]
        .as_array()
        .unwrap()
        .iter()
        .any(|f| f["message"]
            .as_str()
            .unwrap()
            .contains("no valid PKCS#7 padding")));

    let Some(b9) = shared("external/pyiosbackup/backup_ios9_mbdb") else {
        return;
    };
    let pw = password_file(tmp.path(), "0000");
    let r = json_ok(&[
        "scan",
        b9.to_str().unwrap(),
        "--password-file",
        &pw,
        "--deep",
        "--format",
        "json",
    ]);
    assert_eq!(r["backup"]["index"], "manifest_mbdb");
    assert_eq!(r["files"][0]["content_size"], 9);
}

#[test]
fn john_samples_and_cowabungalite_keybags() {
    // Real Manifest.plist files alone: `info` on a folder holding just that file, and
    // `key` with the password, which must unlock the real keybag (legacy SHA-1 only: cheap).
    for (rel, pw, vers, classes) in [
        (
            "external/john-samples/Manifest-9-123456.plist",
            "123456",
            3,
            11,
        ),
        (
            "external/john-samples/Manifest-9-test123.plist",
            "test123",
            3,
            11,
        ),
        ("external/cowabungalite/Manifest.plist", "", 5, 11),
    ] {
        let Some(src) = shared(rel) else { return };
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path().join("backup");
        std::fs::create_dir(&dir).unwrap();
        std::fs::copy(&src, dir.join("Manifest.plist")).unwrap();
        let r = json_ok(&["info", dir.to_str().unwrap(), "--format", "json"]);
        assert_eq!(r["keybag"]["version"], vers, "{rel}");
        assert_eq!(
            r["keybag"]["classes"].as_array().unwrap().len(),
            classes,
            "{rel}"
        );
        assert_eq!(r["backup"]["kdf"]["scheme"], "legacy_sha1", "{rel}");
        let pwf = password_file(tmp.path(), pw);
        let out = auditor(&["key", dir.to_str().unwrap(), "--password-file", &pwf]);
        assert_eq!(
            out.status.code(),
            Some(0),
            "{rel}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        assert_eq!(String::from_utf8_lossy(&out.stdout).trim().len(), 64);
        assert!(String::from_utf8_lossy(&out.stderr).contains("password-equivalent"));
        let wrong = password_file(tmp.path(), "wrong-password");
        assert_eq!(
            auditor(&["key", dir.to_str().unwrap(), "--password-file", &wrong])
                .status
                .code(),
            Some(3),
            "{rel}"
        );
    }
}

/// The tables of the real backups: hv20's keybag lists its classes 11→1, the report 1→11
/// (table and JSON); hv20 and mvt (308 apps, long bundle ids and paths) fit 80 columns but
/// for the unbreakable values `misfit_lines` exempts.
#[test]
fn real_backups_tables_fit_and_keybag_classes_ascend() {
    let Some(hv20) = shared("external/hv20/Backup") else {
        return;
    };
    let tmp = tempfile::tempdir().unwrap();
    let pw = password_file(tmp.path(), "20201225");
    let hv20 = hv20.to_str().unwrap();
    let r = json_ok(&["info", hv20, "--format", "json"]);
    let classes: Vec<u64> = r["keybag"]["classes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["class"].as_u64().unwrap())
        .collect();
    assert_eq!(classes, (1..=11).collect::<Vec<u64>>());
    let mut runs: Vec<Vec<&str>> = vec![
        vec!["info", hv20],
        vec!["scan", hv20, "--password-file", &pw, "--files"],
        vec!["keychain", hv20, "--password-file", &pw],
    ];
    let mvt = shared("external/mvt/ios_backup");
    if let Some(m) = mvt.as_deref().and_then(|m| m.to_str()) {
        runs.push(vec!["scan", m, "--files"]);
    }
    for args in &runs {
        let o = auditor(args);
        let text = String::from_utf8(o.stdout).unwrap();
        let bad = misfit_lines(&text);
        assert!(bad.is_empty(), "{args:?}: {bad:#?}");
        if args[0] == "info" {
            let at = text
                .lines()
                .position(|l| l.starts_with("  cls  name"))
                .unwrap();
            let rows: Vec<&str> = text.lines().skip(at + 1).take(11).collect();
            let firsts: Vec<u64> = rows
                .iter()
                .map(|l| l.split_whitespace().next().unwrap().parse().unwrap())
                .collect();
            assert_eq!(firsts, (1..=11).collect::<Vec<u64>>(), "{text}");
        }
    }
}
