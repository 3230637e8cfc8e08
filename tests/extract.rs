//! `auditor extract`: byte-exact exports of the conformance backup, hostile index rows
//! refused with nothing written outside the output folder, and the backup left untouched.

mod common;
use common::*;
use serde_json::Value;
use sha2::Digest;
use std::path::{Path, PathBuf};

fn sha256_file(p: &Path) -> String {
    hex::encode(sha2::Sha256::digest(
        std::fs::read(p).expect("read exported file"),
    ))
}

fn run_json(args: &[&str]) -> (i32, Value) {
    let out = auditor(args);
    let code = out.status.code().unwrap_or(-1);
    (code, json(&out))
}

/// Check an export's manifest against the output folder, reading every file back: the
/// manifest and SHA256SUMS hash as the report says, each listed file has its size and
/// SHA-256, every file in the folder is listed (nothing else), SHA256SUMS says the same as
/// the manifest, and `sha256sum -c` passes (when there is a `sha256sum`). Returns the
/// manifest.
fn check_manifest(out: &Path, rep: &Value) -> Value {
    let m = &rep["manifest"];
    assert_eq!(m["schema"], "auditor.extract-manifest/1", "{rep}");
    let mpath = PathBuf::from(m["path"].as_str().unwrap());
    let spath = PathBuf::from(m["sums_path"].as_str().unwrap());
    assert_eq!(
        mpath,
        out.canonicalize()
            .unwrap()
            .join(auditor::extract::MANIFEST_FILE)
    );
    assert_eq!(
        spath,
        out.canonicalize()
            .unwrap()
            .join(auditor::extract::SUMS_FILE)
    );
    assert_eq!(sha256_file(&mpath), m["sha256"].as_str().unwrap());
    assert_eq!(sha256_file(&spath), m["sums_sha256"].as_str().unwrap());
    let manifest: Value = serde_json::from_slice(&std::fs::read(&mpath).unwrap()).unwrap();
    assert_eq!(manifest["schema"], "auditor.extract-manifest/1");
    assert_eq!(manifest["hash_algorithm"], "sha256");
    let files = manifest["files"].as_array().unwrap();
    assert_eq!(m["files"].as_u64(), Some(files.len() as u64));
    assert_eq!(manifest["files_written"].as_u64(), Some(files.len() as u64));
    let mut listed = std::collections::BTreeSet::new();
    let mut sums = String::new();
    for f in files {
        let rel = f["path"].as_str().unwrap();
        assert_eq!(
            rel,
            format!(
                "{}/{}",
                f["domain"].as_str().unwrap(),
                f["relative_path"].as_str().unwrap()
            )
        );
        let p = out.join(rel);
        assert_eq!(sha256_file(&p), f["sha256"].as_str().unwrap(), "{rel}");
        assert_eq!(
            std::fs::metadata(&p).unwrap().len(),
            f["size"].as_u64().unwrap(),
            "{rel}"
        );
        assert_eq!(f["file_id"].as_str().unwrap().len(), 40, "{rel}");
        assert!(listed.insert(rel.to_string()), "{rel} listed twice");
        sums.push_str(&format!("{}  {rel}\n", f["sha256"].as_str().unwrap()));
    }
    assert_eq!(std::fs::read_to_string(&spath).unwrap(), sums);
    // Every regular file of the export is listed; the manifest's two are not.
    let mut on_disk = std::collections::BTreeSet::new();
    let mut stack = vec![out.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).unwrap() {
            let p = e.unwrap().path();
            let m = std::fs::symlink_metadata(&p).unwrap();
            if m.is_dir() {
                stack.push(p);
            } else if m.is_file() {
                let rel = p.strip_prefix(out).unwrap().to_string_lossy().into_owned();
                on_disk.insert(rel);
            }
        }
    }
    on_disk.remove(auditor::extract::MANIFEST_FILE);
    on_disk.remove(auditor::extract::SUMS_FILE);
    assert_eq!(on_disk, listed);
    // What examiners run.
    match std::process::Command::new("sha256sum")
        .args(["-c", "--quiet", auditor::extract::SUMS_FILE])
        .current_dir(out)
        .output()
    {
        Ok(o) => assert!(
            o.status.success(),
            "sha256sum -c: {}{}",
            String::from_utf8_lossy(&o.stdout),
            String::from_utf8_lossy(&o.stderr)
        ),
        Err(e) => eprintln!("skipped: sha256sum -c (no sha256sum here: {e})"),
    }
    manifest
}

/// The project's small encrypted fixture, written from its spec; returns the backup and
/// the spec.
fn small_fixture(dir: &Path) -> (PathBuf, Value) {
    let spec = Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/specs/small.json");
    let backup = dir.join("backup");
    let r = auditor(&["fixture", spec.to_str().unwrap(), backup.to_str().unwrap()]);
    assert!(r.status.success(), "{}", String::from_utf8_lossy(&r.stderr));
    let spec: Value = serde_json::from_slice(&std::fs::read(spec).unwrap()).unwrap();
    (backup, spec)
}

/// The manifest of an export of the fixture: every hash checked by reading the files back
/// and with sha256sum, one against the plaintext the spec put in, the missing files listed
/// as not written.
#[test]
fn manifest_lists_every_file_with_the_hash_of_what_was_written() {
    let t = tempfile::tempdir().unwrap();
    let (backup, spec) = small_fixture(t.path());
    let before = tree_digest(&backup);
    let out = t.path().join("out");
    let (code, rep) = run_json(&[
        "extract",
        backup.to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
        "--password",
        spec["password"].as_str().unwrap(),
        "--format",
        "json",
    ]);
    assert_eq!(code, 1, "the spec has files missing on disk: {rep}");
    let manifest = check_manifest(&out, &rep);
    let files = manifest["files"].as_array().unwrap();
    assert_eq!(
        Some(files.len() as u64),
        rep["summary"]["exported"].as_u64()
    );
    // An independent witness: the text the spec wrote into the backup.
    let sb = "Library/Preferences/com.apple.springboard.plist";
    let text = spec["files"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["path"] == sb)
        .unwrap()["content"]["text"]
        .as_str()
        .unwrap();
    let entry = files
        .iter()
        .find(|f| f["domain"] == "HomeDomain" && f["relative_path"] == sb)
        .unwrap();
    assert_eq!(
        entry["sha256"].as_str().unwrap(),
        hex::encode(sha2::Sha256::digest(text.as_bytes()))
    );
    assert_eq!(entry["size"].as_u64(), Some(text.len() as u64));
    assert_eq!(entry["protection_class"], 4);
    assert_eq!(entry["protection_class_name"], "NSFileProtectionNone");
    assert_eq!(entry["problem"], Value::Null);
    // The files missing on disk are listed as not written, with why.
    let missing: Vec<&Value> = manifest["not_written"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|n| n["category"] == "missing")
        .collect();
    let spec_missing = spec["files"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["missing_on_disk"] == true)
        .count();
    assert_eq!(missing.len(), spec_missing, "{manifest}");
    assert!(missing.iter().all(|n| n["reason"] == "missing"));
    assert_eq!(tree_digest(&backup), before, "the backup must not change");
}

/// Every present regular file of small-encrypted exports with the SHA-256 of EXPECTED.json
/// (the plaintext, padding removed), at DIR/<domain>/<relativePath>, with its mtime.
#[test]
fn small_encrypted_exports_every_file_byte_for_byte() {
    let Some((backup, expected)) = conformance("small-encrypted") else {
        return;
    };
    let before = tree_digest(&backup);
    let t = tempfile::tempdir().unwrap();
    let out = t.path().join("export");
    let pw = expected["password"].as_str().unwrap();
    let (code, rep) = run_json(&[
        "extract",
        backup.to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
        "--password",
        pw,
        "--format",
        "json",
    ]);
    assert_eq!(rep["schema"], "auditor.extract/1");
    let files: Vec<&Value> = expected["files"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["type"] == "file")
        .collect();
    let present: Vec<&&Value> = files.iter().filter(|f| f["present"] == true).collect();
    let missing = files.len() - present.len();
    assert!(!present.is_empty() && missing > 0, "the case has both");
    for f in &present {
        let p = out
            .join(f["domain"].as_str().unwrap())
            .join(f["relativePath"].as_str().unwrap());
        assert_eq!(
            sha256_file(&p),
            f["sha256"].as_str().unwrap(),
            "{}",
            p.display()
        );
        let len = std::fs::metadata(&p).unwrap().len();
        assert_eq!(Some(len), f["content_size"].as_u64(), "{}", p.display());
    }
    let s = &rep["summary"];
    assert_eq!(s["exported"].as_u64(), Some(present.len() as u64));
    assert_eq!(s["missing"].as_u64(), Some(missing as u64));
    assert_eq!(s["refused"], 0);
    assert_eq!(s["failed"], 0);
    assert_eq!(s["undecryptable"], 0);
    let bytes: u64 = present
        .iter()
        .map(|f| f["content_size"].as_u64().unwrap())
        .sum();
    assert_eq!(s["bytes"].as_u64(), Some(bytes));
    // The manifest's hashes are EXPECTED.json's (an independent reading of the case).
    let manifest = check_manifest(&out, &rep);
    for f in &present {
        let entry = manifest["files"]
            .as_array()
            .unwrap()
            .iter()
            .find(|m| m["domain"] == f["domain"] && m["relative_path"] == f["relativePath"])
            .unwrap_or_else(|| panic!("not in the manifest: {f}"));
        assert_eq!(entry["sha256"], f["sha256"]);
    }
    // Missing files are listed, and not created.
    for m in rep["missing"].as_array().unwrap() {
        let p = out
            .join(m["domain"].as_str().unwrap())
            .join(m["relative_path"].as_str().unwrap());
        assert!(!p.exists(), "{}", p.display());
    }
    // Links are reported, not created, without --symlinks.
    assert_eq!(rep["summary"]["symlinks_skipped"], 2);
    // Missing rows make the export incomplete: exit 1.
    assert_eq!(code, 1);
    // Modification times come from the index (LastModified).
    let session = auditor::session::Session::open(&backup).unwrap();
    let mut session = session;
    session
        .unlock(
            auditor::session::Unlock::Password(auditor::crypto::Password::from_string(
                pw.to_string(),
            )),
            None,
            &mut |_| {},
        )
        .unwrap();
    let records = session.records().unwrap().unwrap();
    let mut checked = 0;
    for r in records
        .iter()
        .filter(|r| r.kind == auditor::index::FileKind::File)
    {
        let p = out.join(&r.domain).join(&r.relative_path);
        if let (Ok(m), Some(t)) = (std::fs::metadata(&p), r.last_modified) {
            let got = m
                .modified()
                .unwrap()
                .duration_since(std::time::UNIX_EPOCH)
                .unwrap()
                .as_secs() as i64;
            assert_eq!(got, t, "{}", p.display());
            checked += 1;
        }
    }
    assert_eq!(checked, present.len());
    assert_eq!(tree_digest(&backup), before, "the backup must not change");
}

#[test]
fn non_empty_out_needs_force_and_selection_filters() {
    let Some((backup, expected)) = conformance("small-encrypted") else {
        return;
    };
    let pw = expected["password"].as_str().unwrap();
    let t = tempfile::tempdir().unwrap();
    let out = t.path().join("out");
    std::fs::create_dir(&out).unwrap();
    std::fs::write(out.join("keep.txt"), b"mine").unwrap();
    let b = backup.to_str().unwrap();
    let o = out.to_str().unwrap();
    let r = auditor(&["extract", b, "--out", o, "--password", pw]);
    assert_eq!(r.status.code(), Some(2), "non-empty DIR without --force");
    assert!(String::from_utf8_lossy(&r.stderr).contains("not empty"));
    assert_eq!(
        std::fs::read_dir(&out).unwrap().count(),
        1,
        "nothing written"
    );

    // --force, one app, one pattern.
    let (code, rep) = run_json(&[
        "extract",
        b,
        "--out",
        o,
        "--password",
        pw,
        "--force",
        "--app",
        "com.example.bank",
        "--path",
        "**/*.pdf",
        "--format",
        "json",
    ]);
    assert_eq!(code, 0, "{rep}");
    let want: Vec<&Value> = expected["files"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| {
            f["type"] == "file"
                && f["app"] == "com.example.bank"
                && f["relativePath"].as_str().unwrap().ends_with(".pdf")
        })
        .collect();
    assert!(!want.is_empty());
    assert_eq!(rep["summary"]["exported"].as_u64(), Some(want.len() as u64));
    for f in want {
        let p = out
            .join(f["domain"].as_str().unwrap())
            .join(f["relativePath"].as_str().unwrap());
        assert_eq!(sha256_file(&p), f["sha256"].as_str().unwrap());
    }
    assert_eq!(std::fs::read(out.join("keep.txt")).unwrap(), b"mine");
    // Nothing of other apps or domains.
    let tops: Vec<String> = std::fs::read_dir(&out)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    for t in &tops {
        let ours = [
            auditor::extract::MANIFEST_FILE,
            auditor::extract::SUMS_FILE,
            "keep.txt",
        ];
        assert!(
            ours.contains(&t.as_str()) || t.contains("com.example.bank"),
            "{t}"
        );
    }

    // Out inside the backup: refused.
    let inside = backup.join("export-here");
    let r = auditor(&[
        "extract",
        b,
        "--out",
        inside.to_str().unwrap(),
        "--password",
        pw,
    ]);
    assert_eq!(r.status.code(), Some(2));
    assert!(!inside.exists());
}

/// A writable copy of the bundled unencrypted fixture, with hostile rows injected into its
/// Manifest.db. Returns the backup folder.
fn hostile_backup(dir: &Path) -> PathBuf {
    let spec = Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/specs/small-unencrypted.json");
    let backup = dir.join("backup");
    let r = auditor(&["fixture", spec.to_str().unwrap(), backup.to_str().unwrap()]);
    assert!(r.status.success(), "{}", String::from_utf8_lossy(&r.stderr));
    let conn = rusqlite::Connection::open(backup.join("Manifest.db")).unwrap();
    // A template regular file row with a payload, and a template link row.
    let (file_id, file_blob): (String, Vec<u8>) = conn
        .query_row(
            "SELECT fileID, file FROM Files WHERE flags = 1 AND relativePath = 'Library/SMS/sms.db'",
            [],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .unwrap();
    let (link_blob, link_target): (Vec<u8>, String) = {
        let blob: Vec<u8> = conn
            .query_row(
                "SELECT file FROM Files WHERE flags = 4 AND relativePath = 'Documents/current'",
                [],
                |r| r.get(0),
            )
            .unwrap();
        (blob, "statements/2024-05.pdf".to_string())
    };
    let payload = std::fs::read(backup.join(&file_id[..2]).join(&file_id)).unwrap();
    let add_file = |domain: &str, path: &str| {
        let id = hex::encode(sha1::Sha1::digest(format!("{domain}-{path}").as_bytes()));
        conn.execute(
            "INSERT INTO Files (fileID, domain, relativePath, flags, file) VALUES (?1, ?2, ?3, 1, ?4)",
            rusqlite::params![id, domain, path, file_blob],
        )
        .unwrap();
        let d = backup.join(&id[..2]);
        std::fs::create_dir_all(&d).unwrap();
        std::fs::write(d.join(&id), &payload).unwrap();
    };
    let add_link = |domain: &str, path: &str, target: &str| {
        // Swap the archived Target string.
        let mut v = plist::Value::from_reader(std::io::Cursor::new(&link_blob)).unwrap();
        let objs = v
            .as_dictionary_mut()
            .unwrap()
            .get_mut("$objects")
            .unwrap()
            .as_array_mut()
            .unwrap();
        let mut swapped = false;
        for o in objs.iter_mut() {
            if o.as_string() == Some(link_target.as_str()) {
                *o = plist::Value::String(target.to_string());
                swapped = true;
            }
        }
        assert!(swapped, "template link target found");
        let mut blob = Vec::new();
        v.to_writer_binary(&mut blob).unwrap();
        let id = hex::encode(sha1::Sha1::digest(format!("{domain}-{path}").as_bytes()));
        conn.execute(
            "INSERT INTO Files (fileID, domain, relativePath, flags, file) VALUES (?1, ?2, ?3, 4, ?4)",
            rusqlite::params![id, domain, path, blob],
        )
        .unwrap();
    };
    add_file("HomeDomain", "../escape.txt");
    add_file("HomeDomain", "a/../../escape2.txt");
    add_file("HomeDomain", "/tmp/absolute.txt");
    add_file("HomeDomain", "nul\0name.txt");
    add_file("HomeDomain", "back\\..\\slash.txt");
    add_file("..", "up.txt");
    add_file("HomeDomain", "Case/File.txt");
    add_file("HomeDomain", "case/file.txt");
    add_file("HomeDomain", "Case/FILE.TXT");
    add_link(
        "HomeDomain",
        "Library/evil-link",
        "../../../../../../../etc/passwd",
    );
    add_link("HomeDomain", "Library/abs-link", "/etc/passwd");
    add_link("HomeDomain", "Library/ok-link", "SMS/sms.db");
    add_link("HomeDomain", "Library/chain", "ok-link/../../../..");
    backup
}

#[test]
fn hostile_rows_are_refused_and_nothing_leaves_the_folder() {
    let t = tempfile::tempdir().unwrap();
    let backup = hostile_backup(t.path());
    let before = tree_digest(&backup);
    let out = t.path().join("out");
    let (code, rep) = run_json(&[
        "extract",
        backup.to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
        "--symlinks",
        "--format",
        "json",
    ]);
    assert_eq!(code, 1, "refusals make the export incomplete: {rep}");
    let reason = |path: &str| -> String {
        rep["refused"]
            .as_array()
            .unwrap()
            .iter()
            .find(|r| r["relative_path"] == path)
            .unwrap_or_else(|| panic!("{path:?} not refused: {rep}"))["reason"]
            .as_str()
            .unwrap()
            .to_string()
    };
    assert_eq!(reason("../escape.txt"), "dot_dot_component");
    assert_eq!(reason("a/../../escape2.txt"), "dot_dot_component");
    assert_eq!(reason("/tmp/absolute.txt"), "absolute_path");
    assert_eq!(reason("nul\0name.txt"), "nul_character");
    assert_eq!(reason("back\\..\\slash.txt"), "separator_character");
    assert_eq!(reason("up.txt"), "dot_dot_component");
    // "Case/FILE.TXT" sorts first and is exported; the other two collide with it.
    assert_eq!(reason("Case/File.txt"), "case_collision");
    assert_eq!(reason("case/file.txt"), "case_collision");
    assert_eq!(reason("Library/evil-link"), "link_escapes");
    assert_eq!(reason("Library/abs-link"), "link_absolute");
    assert_eq!(reason("Library/chain"), "link_through_link");
    assert_eq!(rep["summary"]["refused"], 11);
    assert_eq!(
        rep["summary"]["symlinks_created"].as_u64(),
        Some(3),
        "{rep}"
    );

    // Only the backup and the output folder exist beside each other; nothing escaped.
    let mut siblings: Vec<String> = std::fs::read_dir(t.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    siblings.sort();
    assert_eq!(siblings, vec!["backup", "out"]);
    // Every link in the export resolves inside it.
    let canon_out = out.canonicalize().unwrap();
    let mut stack = vec![out.clone()];
    let mut links = 0;
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).unwrap() {
            let p = e.unwrap().path();
            let m = std::fs::symlink_metadata(&p).unwrap();
            if m.file_type().is_symlink() {
                links += 1;
                let target = std::fs::read_link(&p).unwrap();
                assert!(target.is_relative(), "{}", p.display());
                let mut resolved = p.parent().unwrap().to_path_buf();
                for c in target.components() {
                    match c {
                        std::path::Component::ParentDir => {
                            resolved.pop();
                        }
                        std::path::Component::Normal(n) => resolved.push(n),
                        _ => {}
                    }
                }
                assert!(
                    resolved.starts_with(&out),
                    "{} -> {}",
                    p.display(),
                    target.display()
                );
            } else if m.is_dir() {
                stack.push(p);
            } else {
                assert!(p.canonicalize().unwrap().starts_with(&canon_out));
            }
        }
    }
    assert_eq!(links, 3);
    assert!(out.join("HomeDomain/Case/FILE.TXT").is_file());
    assert_eq!(
        std::fs::read_link(out.join("HomeDomain/Library/ok-link")).unwrap(),
        PathBuf::from("SMS/sms.db")
    );
    assert_eq!(tree_digest(&backup), before, "the backup must not change");
}

#[test]
fn force_never_writes_through_an_existing_link() {
    let Some((backup, expected)) = conformance("small-encrypted") else {
        return;
    };
    let t = tempfile::tempdir().unwrap();
    let out = t.path().join("out");
    let outside = t.path().join("outside");
    std::fs::create_dir_all(&out).unwrap();
    std::fs::create_dir_all(&outside).unwrap();
    // A planted link where a domain folder will go.
    std::os::unix::fs::symlink(&outside, out.join("HomeDomain")).unwrap();
    let (code, rep) = run_json(&[
        "extract",
        backup.to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
        "--password",
        expected["password"].as_str().unwrap(),
        "--force",
        "--format",
        "json",
    ]);
    assert_eq!(code, 1);
    assert_eq!(
        std::fs::read_dir(&outside).unwrap().count(),
        0,
        "nothing through the link"
    );
    let obstructed = rep["refused"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| r["reason"] == "obstructed" && r["domain"] == "HomeDomain")
        .count();
    let home_files = expected["files"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["domain"] == "HomeDomain" && f["type"] == "file" && f["present"] == true)
        .count();
    assert!(obstructed >= home_files && home_files > 0, "{rep}");
}

/// Filters that select nothing are said (stderr and `selection.unmatched`), a `--path`
/// without a slash matches the name at any depth, and `-o` is `--out` (issue 13 items 7, 12).
#[test]
fn unmatched_filters_are_said_and_a_bare_name_pattern_matches_at_any_depth() {
    let t = tempfile::tempdir().unwrap();
    let run = |out: &str, extra: &[&str]| {
        let out = demo_extract(&t.path().join(out), extra);
        (
            json(&out),
            String::from_utf8_lossy(&out.stderr).into_owned(),
        )
    };
    // `*.db` reaches Library/SMS/sms.db and the other databases.
    let (r, e) = run("a", &["--path", "*.db"]);
    assert!(r["summary"]["exported"].as_u64().unwrap() >= 1, "{r}");
    assert!(t.path().join("a/HomeDomain/Library/SMS/sms.db").is_file());
    assert_eq!(r["selection"]["unmatched"], serde_json::json!([]));
    assert!(!e.contains("selected nothing"), "{e}");
    // A typo'd app, a domain that is not there, a pattern that matches nothing.
    let (r, e) = run(
        "b",
        &[
            "--app",
            "com.nope",
            "--domain",
            "NoSuchDomain",
            "--path",
            "*.nope",
        ],
    );
    assert_eq!(
        r["selection"]["unmatched"],
        serde_json::json!(["--app com.nope", "--domain NoSuchDomain", "--path *.nope"])
    );
    assert_eq!(r["summary"]["selected"], 0);
    for f in ["--app com.nope", "--domain NoSuchDomain", "--path *.nope"] {
        assert!(e.contains(&format!("warning: {f} selected nothing")), "{e}");
    }
    // Near miss: a pattern with a slash still matches the whole path only.
    let (r, _) = run("c", &["--path", "Library/*.db"]);
    assert_eq!(
        r["selection"]["unmatched"],
        serde_json::json!(["--path Library/*.db"])
    );
}

/// `auditor extract` of the demo backup into `out` with `extra` arguments, as JSON.
fn demo_extract(out: &Path, extra: &[&str]) -> std::process::Output {
    let pw = repo(DEMO_PASSWORD_FILE).display().to_string();
    let demo = repo(DEMO).display().to_string();
    let o = out.to_str().unwrap();
    let mut args = vec![
        "extract",
        &demo,
        "-o",
        o,
        "--password-file",
        &pw,
        "--format",
        "json",
    ];
    args.extend_from_slice(extra);
    auditor(&args)
}

/// A backup's own rows named like the manifest: at the top (as domains) they are refused
/// and the manifest is the export's; deeper they are ordinary files, listed in it.
#[test]
fn rows_named_like_the_manifest_never_mix_with_it() {
    let t = tempfile::tempdir().unwrap();
    let spec = Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/specs/small-unencrypted.json");
    let backup = t.path().join("backup");
    let r = auditor(&["fixture", spec.to_str().unwrap(), backup.to_str().unwrap()]);
    assert!(r.status.success(), "{}", String::from_utf8_lossy(&r.stderr));
    let conn = rusqlite::Connection::open(backup.join("Manifest.db")).unwrap();
    let blob: Vec<u8> = conn
        .query_row(
            "SELECT file FROM Files WHERE flags = 1 AND relativePath = 'Library/SMS/sms.db'",
            [],
            |r| r.get(0),
        )
        .unwrap();
    let fake = b"0000000000000000000000000000000000000000000000000000000000000000  x\n";
    let add = |domain: &str, path: &str| {
        let id = hex::encode(sha1::Sha1::digest(format!("{domain}-{path}").as_bytes()));
        conn.execute(
            "INSERT INTO Files (fileID, domain, relativePath, flags, file) VALUES (?1, ?2, ?3, 1, ?4)",
            rusqlite::params![id, domain, path, blob],
        )
        .unwrap();
        let d = backup.join(&id[..2]);
        std::fs::create_dir_all(&d).unwrap();
        std::fs::write(d.join(&id), fake).unwrap();
    };
    add("SHA256SUMS", "x");
    add("sha256sums", "y");
    add("auditor-extract-manifest.json", "z");
    add("HomeDomain", "SHA256SUMS");
    drop(conn);
    let before = tree_digest(&backup);
    let out = t.path().join("out");
    let (code, rep) = run_json(&[
        "extract",
        backup.to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
        "--format",
        "json",
    ]);
    assert_eq!(code, 1, "{rep}");
    let reserved: Vec<&str> = rep["refused"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| r["reason"] == "reserved_name")
        .map(|r| r["domain"].as_str().unwrap())
        .collect();
    assert_eq!(
        reserved,
        ["SHA256SUMS", "auditor-extract-manifest.json", "sha256sums"]
    );
    // The top-level names are the export's own files, not the backup's content.
    assert!(out.join("SHA256SUMS").is_file());
    assert_ne!(std::fs::read(out.join("SHA256SUMS")).unwrap(), fake);
    let manifest = check_manifest(&out, &rep);
    // A file of that name inside a domain is content like any other, and listed.
    assert_eq!(
        std::fs::read(out.join("HomeDomain/SHA256SUMS")).unwrap(),
        fake
    );
    assert!(manifest["files"]
        .as_array()
        .unwrap()
        .iter()
        .any(|f| f["path"] == "HomeDomain/SHA256SUMS"));
    let refused_in_manifest = manifest["not_written"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|n| n["category"] == "refused" && n["reason"] == "reserved_name")
        .count();
    assert_eq!(refused_in_manifest, 3);

    // Again with --force over the first export: the manifest is replaced, and lists only
    // what this run wrote; a folder in its way stops the export before anything is written.
    let (_, rep2) = run_json(&[
        "extract",
        backup.to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
        "--force",
        "--domain",
        "HomeDomain",
        "--format",
        "json",
    ]);
    let m2 = &rep2["manifest"];
    assert_eq!(
        sha256_file(Path::new(m2["path"].as_str().unwrap())),
        m2["sha256"].as_str().unwrap()
    );
    assert_eq!(m2["files"], rep2["summary"]["exported"]);
    let other = t.path().join("other");
    std::fs::create_dir_all(other.join(auditor::extract::SUMS_FILE)).unwrap();
    let r = auditor(&[
        "extract",
        backup.to_str().unwrap(),
        "--out",
        other.to_str().unwrap(),
        "--force",
    ]);
    assert_eq!(r.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&r.stderr).contains("in the way of the export's manifest"));
    assert_eq!(
        std::fs::read_dir(&other).unwrap().count(),
        1,
        "nothing written"
    );
    assert_eq!(tree_digest(&backup), before, "the backup must not change");
}

/// A selection the index finds alone (`--domain`, or `--path` patterns with a literal start)
/// is read through the index's own SQL indexes, not row by row: it exports exactly the files
/// (paths, sizes, hashes) that a whole export holds for it, and says the same of the rows
/// and of filters that matched nothing. Near misses: a prefix that is a longer name's
/// start (`Library/Pref` of `Library/Preferences`), a pattern with no literal start.
#[test]
fn a_selection_read_through_the_index_exports_what_a_whole_export_holds() {
    let t = tempfile::tempdir().unwrap();
    let run = |out: &str, extra: &[&str]| -> (Value, Value) {
        let o = t.path().join(out);
        let r = demo_extract(&o, extra);
        let (code, rep) = (r.status.code().unwrap_or(-1), json(&r));
        assert!(code == 0 || code == 1, "{code} {rep}");
        let manifest = if rep["summary"]["exported"] == 0 {
            // (`sha256sum -c` refuses an empty list.)
            let p = rep["manifest"]["path"].as_str().unwrap();
            serde_json::from_slice(&std::fs::read(p).unwrap()).unwrap()
        } else {
            check_manifest(Path::new(&o), &rep)
        };
        (rep, manifest)
    };
    let (all, all_manifest) = run("all", &[]);
    let rows = all["summary"]["rows"].as_u64().unwrap();
    let entries = |m: &Value| -> Vec<(String, u64, String)> {
        m["files"]
            .as_array()
            .unwrap()
            .iter()
            .map(|f| {
                (
                    f["path"].as_str().unwrap().to_string(),
                    f["size"].as_u64().unwrap(),
                    f["sha256"].as_str().unwrap().to_string(),
                )
            })
            .collect()
    };
    type Keep = fn(&str, &str) -> bool;
    let cases: [(&[&str], Keep, usize); 6] = [
        (
            &["--path", "Library/SMS/*"],
            |_, p| p.starts_with("Library/SMS/"),
            1,
        ),
        (
            &[
                "--path",
                "Library/Pref*/*.plist",
                "--path",
                "Media/DCIM/*/*",
            ],
            |_, p| p.starts_with("Library/Preferences/") || p.starts_with("Media/DCIM/"),
            4,
        ),
        (&["--path", "Library/Pref/*"], |_, _| false, 0),
        (
            &["--path", "[L]ibrary/SMS/*"],
            |_, p| p.starts_with("Library/SMS/"),
            1,
        ),
        (&["--domain", "HomeDomain"], |d, _| d == "HomeDomain", 3),
        (
            &[
                "--domain",
                "CameraRollDomain",
                "--domain",
                "KeychainDomain",
                "--path",
                "Media/**",
            ],
            |d, p| d == "CameraRollDomain" && p.starts_with("Media/"),
            1,
        ),
    ];
    for (k, (args, keep, n)) in cases.iter().enumerate() {
        let (rep, manifest) = run(&format!("s{k}"), args);
        let want: Vec<_> = all_manifest["files"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|f| {
                keep(
                    f["domain"].as_str().unwrap(),
                    f["relative_path"].as_str().unwrap(),
                )
            })
            .collect();
        assert_eq!(want.len(), *n, "{args:?}");
        let want = entries(&serde_json::json!({ "files": want }));
        assert_eq!(entries(&manifest), want, "{args:?}");
        assert_eq!(rep["summary"]["rows"].as_u64(), Some(rows), "{args:?}");
        assert_eq!(
            rep["summary"]["exported"].as_u64(),
            Some(*n as u64),
            "{args:?}"
        );
        let unmatched = rep["selection"]["unmatched"].as_array().unwrap();
        if *n == 0 {
            assert_eq!(unmatched.len(), 1, "{rep}");
        } else {
            assert!(unmatched.is_empty(), "{args:?}: {rep}");
        }
    }
}
