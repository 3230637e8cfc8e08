//! `scan --app`: the report narrowed to one app equals that app's part of the full report.

mod common;
use common::*;
use serde_json::Value;

fn scan(extra: &[&str]) -> Value {
    let demo = repo(DEMO);
    let pw = repo(DEMO_PASSWORD_FILE);
    let mut args = vec![
        "scan",
        demo.to_str().unwrap(),
        "--password-file",
        pw.to_str().unwrap(),
        "--format",
        "json",
    ];
    args.extend_from_slice(extra);
    json_ok(&args)
}

/// The files of `app` in a full report, keyed by domain and path.
fn files_of(r: &Value, app: &str) -> Vec<Value> {
    let mut v: Vec<Value> = r["files"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["app"] == app)
        .cloned()
        .collect();
    v.sort_by_key(|f| format!("{}/{}", f["domain"], f["relative_path"]));
    v
}

/// Whether a finding is about another app's file (its location starts with one of that
/// app's domains) or keychain item (its message starts with that app's bundle id).
fn about_other_app(f: &Value, full: &Value, app: &str) -> bool {
    let loc = f["location"].as_str().unwrap_or("");
    let msg = f["message"].as_str().unwrap_or("");
    full["apps"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|a| a["bundle_id"] != app)
        .any(|a| {
            let id = a["bundle_id"].as_str().unwrap();
            a["domains"]
                .as_array()
                .unwrap()
                .iter()
                .any(|d| loc.starts_with(&format!("{}/", d.as_str().unwrap())))
                || (loc.starts_with("keychain ") && msg.starts_with(&format!("{id}:")))
        })
}

#[test]
fn each_app_alone_is_its_part_of_the_full_report() {
    let full = scan(&[]);
    let apps = full["apps"].as_array().unwrap();
    assert!(apps.len() >= 3, "the demo backup has several apps");
    for a in apps {
        let id = a["bundle_id"].as_str().unwrap();
        let one = scan(&["--app", id]);
        assert_eq!(one["apps"].as_array().unwrap().len(), 1, "{id}");
        assert_eq!(one["apps"][0], *a, "{id}: its app row is unchanged");
        let mut got = one["files"].as_array().unwrap().clone();
        got.sort_by_key(|f| format!("{}/{}", f["domain"], f["relative_path"]));
        let want = files_of(&full, id);
        assert!(!want.is_empty(), "{id} has files in the demo backup");
        assert_eq!(
            got, want,
            "{id}: exactly its files, reported as in the full scan"
        );
        // The summary is the app's.
        let s = &one["summary"];
        assert_eq!(s["files"], a["files"], "{id}");
        assert_eq!(s["files_present"], a["present"], "{id}");
        assert_eq!(s["files_missing"], a["missing"], "{id}");
        assert_eq!(s["content_bytes"], a["bytes"], "{id}");
        assert_eq!(s["apps"], 1, "{id}");
        let per_file: usize = want
            .iter()
            .map(|f| f["findings"].as_array().unwrap().len())
            .sum();
        let per_file_in_summary: u64 = s["findings"]
            .as_object()
            .unwrap()
            .iter()
            .map(|(_, n)| n.as_u64().unwrap())
            .sum();
        let top = one["findings"].as_array().unwrap();
        assert_eq!(per_file_in_summary as usize, per_file + top.len(), "{id}");
        // What the whole backup held is said.
        let f = &one["app_filter"];
        assert_eq!(f["app"], id);
        assert_eq!(f["found"], true);
        assert_eq!(f["backup_files"], full["summary"]["files"]);
        assert_eq!(f["backup_entries"], full["summary"]["entries"]);
        assert_eq!(f["keychain_items"], full["keychain"]["items"]);
        // The keychain counts are the app's.
        assert_eq!(one["keychain"]["items"], a["keychain"]["items"], "{id}");
        // Findings: none about another app; every finding of the full report that is not
        // about another app is kept.
        for x in top {
            assert!(!about_other_app(x, &full, id), "{id}: {x}");
        }
        let kept = |x: &Value| top.contains(x);
        let mut dropped = 0;
        for x in full["findings"].as_array().unwrap() {
            if about_other_app(x, &full, id) {
                dropped += 1;
            } else {
                assert!(kept(x), "{id}: dropped {x}");
            }
        }
        assert_eq!(
            top.len() + dropped,
            full["findings"].as_array().unwrap().len()
        );
    }
}

#[test]
fn deep_reads_only_the_apps_files() {
    let id = "com.example.messenger";
    let full = scan(&["--deep"]);
    let one = scan(&["--deep", "--app", id]);
    let want = files_of(&full, id);
    let mut got = one["files"].as_array().unwrap().clone();
    got.sort_by_key(|f| format!("{}/{}", f["domain"], f["relative_path"]));
    assert_eq!(got, want, "its files, hashed as in the full deep scan");
    let read: Vec<&Value> = want.iter().filter(|f| f["sha256"].is_string()).collect();
    assert!(!read.is_empty());
    let d = &one["summary"]["deep"];
    assert_eq!(d["verified"].as_u64().unwrap(), read.len() as u64);
    assert_eq!(d["failed"], 0);
    let stored: u64 = want.iter().filter_map(|f| f["stored_size"].as_u64()).sum();
    assert_eq!(
        d["bytes"].as_u64().unwrap(),
        stored,
        "only its payloads were read"
    );
    assert!(
        stored < full["summary"]["deep"]["bytes"].as_u64().unwrap(),
        "the other apps' payloads were not read"
    );
}

#[test]
fn an_unknown_app_is_warned_and_selects_nothing() {
    let demo = repo(DEMO);
    let pw = repo(DEMO_PASSWORD_FILE);
    let out = auditor(&[
        "scan",
        demo.to_str().unwrap(),
        "--password-file",
        pw.to_str().unwrap(),
        "--app",
        "com.nope",
        "--format",
        "json",
    ]);
    assert_eq!(out.status.code(), Some(0));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("--app com.nope: no such app"), "{err}");
    let r = json(&out);
    assert_eq!(r["app_filter"]["found"], false);
    assert_eq!(r["apps"].as_array().unwrap().len(), 0);
    assert_eq!(r["files"].as_array().unwrap().len(), 0);
    assert_eq!(r["summary"]["files"], 0);
    // Without the password the index is not read: the app is known by Manifest.plist only.
    let out = auditor(&[
        "scan",
        demo.to_str().unwrap(),
        "--no-password",
        "--app",
        "com.example.bank",
        "--format",
        "json",
    ]);
    let r = json(&out);
    assert_eq!(r["index_read"], false);
    assert_eq!(r["app_filter"]["found"], true);
    assert_eq!(r["apps"].as_array().unwrap().len(), 1);
    // The table says what the report is narrowed to.
    let out = auditor(&[
        "scan",
        demo.to_str().unwrap(),
        "--password-file",
        pw.to_str().unwrap(),
        "--app",
        "com.example.messenger",
    ]);
    let t = String::from_utf8_lossy(&out.stdout);
    assert!(
        t.contains("Only app    com.example.messenger (6 of the backup's"),
        "{t}"
    );
    assert!(t.contains("Apps (1)"), "{t}");
}
