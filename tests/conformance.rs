//! The scan against ../shared/conformance: every file must match EXPECTED.json, which an
//! independent generator wrote and three public readers confirmed.

mod common;
use common::*;
use serde_json::Value;
use std::collections::HashMap;

fn files_by_id(report: &Value) -> HashMap<String, Value> {
    report["files"]
        .as_array()
        .expect("files array")
        .iter()
        .map(|f| (f["file_id"].as_str().unwrap().to_string(), f.clone()))
        .collect()
}

fn check_files(report: &Value, expected: &Value, unlocked: bool, deep: bool) {
    let got = files_by_id(report);
    let exp = expected["files"].as_array().unwrap();
    assert_eq!(got.len(), exp.len(), "number of index rows");
    for e in exp {
        let id = e["fileID"].as_str().unwrap();
        let g = got
            .get(id)
            .unwrap_or_else(|| panic!("row {id} missing from the report"));
        let what = format!(
            "{}/{}",
            e["domain"].as_str().unwrap(),
            e["relativePath"].as_str().unwrap()
        );
        assert_eq!(g["domain"], e["domain"], "{what}");
        assert_eq!(g["relative_path"], e["relativePath"], "{what}");
        assert_eq!(g["kind"], e["type"], "{what}");
        assert_eq!(g["app"], e["app"], "{what} app");
        assert_eq!(g["encrypted"], e["encrypted"], "{what} encrypted");
        let exp_class = e["protection_class"].as_u64().unwrap();
        if e["type"] == "file" {
            assert_eq!(
                g["protection_class"].as_u64(),
                Some(exp_class),
                "{what} class"
            );
            assert_eq!(
                g["protection_class_name"], e["protection_class_name"],
                "{what} class name"
            );
            assert_eq!(
                g["status"],
                if e["present"].as_bool().unwrap() {
                    "present"
                } else {
                    "missing"
                },
                "{what}"
            );
            assert_eq!(g["size"], e["size"], "{what} size");
            if e["present"].as_bool().unwrap() {
                assert_eq!(g["stored_size"], e["stored_size"], "{what} stored_size");
                if unlocked || e["encrypted"] == false {
                    assert_eq!(g["content_size"], e["content_size"], "{what} content_size");
                }
                if deep {
                    assert_eq!(g["sha256"], e["sha256"], "{what} sha256");
                }
            } else {
                assert!(g["stored_size"].is_null(), "{what}");
            }
            let mismatch = g["findings"]
                .as_array()
                .unwrap()
                .iter()
                .any(|f| f["rule"] == "file.size-mismatch");
            let size_check_possible = e["present"].as_bool().unwrap();
            if size_check_possible {
                assert_eq!(
                    mismatch,
                    e["size_mismatch"].as_bool().unwrap_or(false),
                    "{what} size mismatch finding"
                );
            }
            let missing = g["findings"]
                .as_array()
                .unwrap()
                .iter()
                .any(|f| f["rule"] == "file.missing");
            assert_eq!(
                missing,
                !e["present"].as_bool().unwrap(),
                "{what} missing finding"
            );
        } else {
            assert_eq!(g["status"], "n/a", "{what}");
        }
        if e["type"] == "symlink" {
            assert_eq!(g["target"], e["target"], "{what} target");
        }
        assert_eq!(g["mode"], e["mode"], "{what} mode");
        assert_eq!(
            g["device_bound"], false,
            "{what}: file classes 1-4 are password-only"
        );
    }
}

fn check_summary(report: &Value, expected: &Value, exact_bytes: bool) {
    let s = &report["summary"];
    let e = &expected["summary"];
    for k in [
        "entries",
        "files",
        "directories",
        "symlinks",
        "files_present",
        "files_missing",
        "empty_files",
        "size_mismatch_files",
        "stored_bytes_present",
    ] {
        assert_eq!(s[k], e[k], "summary.{k}");
    }
    if exact_bytes {
        assert_eq!(
            s["content_bytes"], e["content_bytes"],
            "summary.content_bytes"
        );
        for (class, c) in e["by_protection_class"].as_object().unwrap() {
            assert_eq!(
                s["by_protection_class"][class]["files"], c["files"],
                "class {class} files"
            );
            assert_eq!(
                s["by_protection_class"][class]["bytes"], c["bytes"],
                "class {class} bytes"
            );
        }
    }
    assert_eq!(s["orphans"], 0);
}

fn check_apps(report: &Value, expected: &Value, exact_bytes: bool) {
    let apps = report["apps"].as_array().unwrap();
    for e in expected["apps"].as_array().unwrap() {
        let g = apps
            .iter()
            .find(|a| a["bundle_id"] == e["bundle_id"])
            .unwrap_or_else(|| panic!("app {} missing", e["bundle_id"]));
        assert_eq!(g["version"], e["version"], "{} version", e["bundle_id"]);
        let mut gd: Vec<&str> = g["domains"]
            .as_array()
            .unwrap()
            .iter()
            .map(|d| d.as_str().unwrap())
            .collect();
        let mut ed: Vec<&str> = e["domains"]
            .as_array()
            .unwrap()
            .iter()
            .map(|d| d.as_str().unwrap())
            .collect();
        gd.sort();
        ed.sort();
        assert_eq!(gd, ed, "{} domains", e["bundle_id"]);
        assert_eq!(g["files"], e["files"], "{} files", e["bundle_id"]);
        assert_eq!(g["missing"], e["missing"], "{} missing", e["bundle_id"]);
        assert_eq!(
            g["present"].as_u64().unwrap() + g["missing"].as_u64().unwrap(),
            e["files"].as_u64().unwrap()
        );
        if exact_bytes {
            assert_eq!(g["bytes"], e["bytes"], "{} bytes", e["bundle_id"]);
        }
    }
    assert_eq!(
        apps.len() as u64,
        expected["summary"]["apps"].as_u64().unwrap(),
        "number of apps"
    );
}

fn check_backup(report: &Value, expected: &Value) {
    let b = &report["backup"];
    let d = &expected["device"];
    assert_eq!(b["udid"], expected["udid"]);
    assert_eq!(b["device_name"], d["name"]);
    assert_eq!(b["product_type"], d["product_type"]);
    assert_eq!(b["ios_version"], d["ios_version"]);
    assert_eq!(b["build"], d["build"]);
    assert_eq!(b["serial"], d["serial"]);
    assert_eq!(b["passcode_set"], d["passcode_set"]);
    assert_eq!(b["encryption"]["declared"], expected["encrypted"]);
    assert_eq!(
        b["encryption"]["index_encrypted"],
        expected["manifest_db"]["encrypted"]
    );
    assert_eq!(b["index"], "manifest_db");
    assert_eq!(b["layout"], "hashed");
    let kb = &report["keybag"];
    for (class, c) in expected["keybag"]["classes"].as_object().unwrap() {
        let g = kb["classes"]
            .as_array()
            .unwrap()
            .iter()
            .find(|x| x["class"].as_u64().map(|c| c.to_string()).as_deref() == Some(class.as_str()))
            .expect("class in keybag");
        assert_eq!(g["wrap"], c["wrap"], "class {class} wrap");
    }
}

#[test]
fn small_encrypted_with_password_deep() {
    let Some((backup, expected)) = conformance("small-encrypted") else {
        return;
    };
    let pw = expected["password"].as_str().unwrap();
    let out = auditor(&[
        "scan",
        backup.to_str().unwrap(),
        "--password",
        pw,
        "--deep",
        "--format",
        "json",
    ]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "stderr: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("visible to other users"),
        "a password on the command line warns"
    );
    let r = json(&out);
    assert_eq!(r["schema"], "auditor.scan/1");
    assert_eq!(r["backup"]["unlocked"], true);
    check_backup(&r, &expected);
    check_files(&r, &expected, true, true);
    check_summary(&r, &expected, true);
    check_apps(&r, &expected, true);
    assert_eq!(r["summary"]["deep"]["failed"], 0);
    assert_eq!(
        r["summary"]["deep"]["verified"],
        expected["summary"]["files_present"]
    );
    assert_eq!(r["summary"]["deep"]["hashed"], true);
    // --no-hash: the same verification and report, without the hashes.
    let bare = json(&auditor(&[
        "scan",
        backup.to_str().unwrap(),
        "--password",
        pw,
        "--deep",
        "--no-hash",
        "--format",
        "json",
    ]));
    assert_eq!(bare["summary"]["deep"]["hashed"], false);
    let strip = |v: &Value| {
        let mut v = v.clone();
        v["tool"] = Value::Null;
        v["summary"]["deep"]["hashed"] = Value::Null;
        for f in v["files"].as_array_mut().unwrap() {
            f["sha256"] = Value::Null;
        }
        v
    };
    assert!(bare["files"]
        .as_array()
        .unwrap()
        .iter()
        .all(|f| f["sha256"].is_null()));
    assert_eq!(strip(&bare), strip(&r));
}

#[test]
fn small_encrypted_with_key_file_matches_password() {
    let Some((backup, expected)) = conformance("small-encrypted") else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let keyfile = dir.path().join("key");
    std::fs::write(
        &keyfile,
        format!(
            "{}\n",
            expected["kdf"]["passcode_key_hex"].as_str().unwrap()
        ),
    )
    .unwrap();
    let r = json_ok(&[
        "scan",
        backup.to_str().unwrap(),
        "--key-file",
        keyfile.to_str().unwrap(),
        "--format",
        "json",
    ]);
    check_files(&r, &expected, true, false);
    check_summary(&r, &expected, true);
}

#[test]
fn small_encrypted_without_password_reports_what_it_can() {
    let Some((backup, expected)) = conformance("small-encrypted") else {
        return;
    };
    let r = json_ok(&["scan", backup.to_str().unwrap(), "--format", "json"]);
    assert_eq!(r["index_read"], false);
    assert_eq!(r["backup"]["unlocked"], false);
    assert!(r["findings"]
        .as_array()
        .unwrap()
        .iter()
        .any(|f| f["rule"] == "backup.index-locked"));
    assert_eq!(
        r["apps"].as_array().unwrap().len() as u64,
        expected["summary"]["apps"].as_u64().unwrap()
    );
    check_backup(&r, &expected);
    // --deep needs the password: exit 3 without a terminal.
    let out = auditor(&["scan", backup.to_str().unwrap(), "--deep"]);
    assert_eq!(out.status.code(), Some(3));
    assert!(String::from_utf8_lossy(&out.stderr).contains("--password-file"));
}

#[test]
fn small_encrypted_wrong_password_is_exit_3() {
    let Some((backup, _)) = conformance("small-encrypted") else {
        return;
    };
    let out = auditor(&[
        "scan",
        backup.to_str().unwrap(),
        "--password",
        "not-the-password",
    ]);
    assert_eq!(out.status.code(), Some(3));
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("wrong password"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn small_unencrypted_deep() {
    let Some((backup, expected)) = conformance("small-unencrypted") else {
        return;
    };
    let r = json_ok(&[
        "scan",
        backup.to_str().unwrap(),
        "--deep",
        "--format",
        "json",
    ]);
    assert_eq!(r["index_read"], true);
    check_backup(&r, &expected);
    check_files(&r, &expected, false, true);
    check_summary(&r, &expected, true);
    check_apps(&r, &expected, true);
    assert!(r["findings"]
        .as_array()
        .unwrap()
        .iter()
        .any(|f| f["rule"] == "backup.not-encrypted"));
}

#[test]
fn fail_on_gates_exit_code() {
    let Some((backup, _)) = conformance("small-unencrypted") else {
        return;
    };
    let b = backup.to_str().unwrap();
    // The backup has missing files (medium) and is unencrypted (medium).
    assert_eq!(
        auditor(&["scan", b, "--fail-on", "medium"]).status.code(),
        Some(1)
    );
    assert_eq!(
        auditor(&["scan", b, "--fail-on", "high"]).status.code(),
        Some(0)
    );
    assert_eq!(auditor(&["scan", b]).status.code(), Some(0));
}

#[test]
fn info_needs_no_password_and_is_fast_path() {
    let Some((backup, expected)) = conformance("small-encrypted") else {
        return;
    };
    let r = json_ok(&["info", backup.to_str().unwrap(), "--format", "json"]);
    check_backup(&r, &expected);
    assert_eq!(r["backup"]["kdf"]["sha256_rounds"], expected["kdf"]["dpic"]);
    assert_eq!(r["backup"]["kdf"]["sha1_rounds"], expected["kdf"]["iter"]);
    assert_eq!(r["files"].as_array().unwrap().len(), 0);
}

#[test]
fn conformance_trees_are_not_modified() {
    for case in ["small-encrypted", "small-unencrypted"] {
        let Some((backup, expected)) = conformance(case) else {
            return;
        };
        let before = tree_digest(&backup);
        let pw = expected["password"].as_str().unwrap_or("");
        let b = backup.to_str().unwrap();
        let _ = auditor(&["scan", b, "--password", pw, "--deep", "--format", "json"]);
        let _ = auditor(&["info", b]);
        assert_eq!(before, tree_digest(&backup), "{case} changed");
    }
}
