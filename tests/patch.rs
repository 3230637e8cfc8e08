//! `auditor patch`: a patched copy reads back with the patched values and every other file
//! byte-identical (our extract, and the independent Python readers when
//! `AUDITOR_PYREADERS` names their interpreter), `scan --deep` finds nothing new in it, the
//! source is unchanged, and bad changes exit 2 leaving no half-written backup.

mod common;
use common::*;
use serde_json::{json, Value};
use sha2::Digest;
use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::process::Command;

fn sha256_hex(b: &[u8]) -> String {
    hex::encode(sha2::Sha256::digest(b))
}

fn code(args: &[&str]) -> (i32, String) {
    let out = auditor(args);
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// Every file an `auditor extract` of `backup` writes: (domain/path) → SHA-256.
fn extracted(backup: &Path, creds: &[&str], tmp: &Path) -> BTreeMap<String, Vec<u8>> {
    let out = tmp.join(format!(
        "x-{}",
        sha256_hex(backup.as_os_str().as_encoded_bytes())
    ));
    let mut args = vec![
        "extract",
        backup.to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
    ];
    args.extend_from_slice(creds);
    let r = auditor(&args);
    // Exit 1: some rows are missing on disk in the source (known); the rest is written.
    assert!(
        matches!(r.status.code(), Some(0 | 1)),
        "{}",
        String::from_utf8_lossy(&r.stderr)
    );
    let mut files = BTreeMap::new();
    for (p, _, _) in tree_digest(&out) {
        let rel = p.strip_prefix(&out).unwrap().to_string_lossy().into_owned();
        if rel.starts_with("auditor-extract-manifest") || rel == "SHA256SUMS" {
            continue;
        }
        files.insert(rel, std::fs::read(&p).unwrap());
    }
    std::fs::remove_dir_all(&out).unwrap();
    files
}

/// (rule, location) of every finding of a `scan --deep` report, the backup's and the files'.
fn findings(backup: &Path, creds: &[&str]) -> BTreeSet<(String, String)> {
    let mut args = vec![
        "scan",
        "--deep",
        "--format",
        "json",
        backup.to_str().unwrap(),
    ];
    args.extend_from_slice(creds);
    let v = json(&auditor(&args));
    let mut out = BTreeSet::new();
    // Locations of orphans name the payload's absolute path: made relative to the backup.
    let root = backup.to_str().unwrap();
    let mut add = |f: &Value| {
        out.insert((
            f["rule"].as_str().unwrap_or_default().to_owned(),
            f["location"].to_string().replace(root, ""),
        ));
    };
    v["findings"].as_array().unwrap().iter().for_each(&mut add);
    for file in v["files"].as_array().unwrap() {
        if let Some(fs) = file["findings"].as_array() {
            fs.iter().for_each(&mut add);
        }
    }
    out
}

/// Names in `dir` (to show that nothing was left beside the output folder).
fn names(dir: &Path) -> BTreeSet<String> {
    std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect()
}

/// Run `check_patch.py` with `spec` when `AUDITOR_PYREADERS` names a Python with the
/// readers installed; its exit code (None: skipped, said on stderr).
fn pyreaders(spec: &Value, tmp: &Path) -> Option<(i32, String)> {
    let Some(py) = std::env::var_os("AUDITOR_PYREADERS") else {
        eprintln!(
            "skipped: the independent Python readers (set AUDITOR_PYREADERS=/path/to/venv/bin/python; see tests/pyreaders/check_patch.py)"
        );
        return None;
    };
    let f = tmp.join(format!(
        "spec-{}.json",
        sha256_hex(spec.to_string().as_bytes())
    ));
    std::fs::write(&f, spec.to_string()).unwrap();
    let out = Command::new(py)
        .arg(repo("tests/pyreaders/check_patch.py"))
        .arg(&f)
        .output()
        .expect("run the Python readers");
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    Some((out.status.code().unwrap_or(-1), text))
}

const PREFS: &str = "Library/Preferences/com.apple.Preferences.plist";
const OUTBOX: &str = "shared/outbox.json";
const GROUP: &str = "AppDomainGroup-group.com.example.messenger";

/// Patch the demo backup into `tmp/out`: a value in an XML plist, one in a JSON file, a
/// file replaced, one deleted. Returns the receipt and the replacement's bytes.
fn patch_demo(tmp: &Path) -> (Value, Vec<u8>) {
    let local = tmp.join("welcome.txt");
    let new = b"Welcome to the patched copy.\n".to_vec();
    std::fs::write(&local, &new).unwrap();
    let out = tmp.join("out");
    let set1 = format!("HomeDomain:{PREFS}:/Demo=false");
    let set2 = format!("{GROUP}:{OUTBOX}:/pending=5");
    let rep = format!(
        "AppDomain-com.example.notes:Documents/welcome.txt={}",
        local.display()
    );
    let receipt = json_ok(&[
        "patch",
        repo(DEMO).to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
        "--password-file",
        repo(DEMO_PASSWORD_FILE).to_str().unwrap(),
        "--set",
        &set1,
        "--set",
        &set2,
        "--replace",
        &rep,
        "--delete",
        "AppDomain-com.example.messenger:Documents/media/photo-1.jpg",
        "--format",
        "json",
    ]);
    (receipt, new)
}

#[test]
fn a_patched_encrypted_copy_reads_back_changed_where_asked_and_nowhere_else() {
    let tmp = tempfile::tempdir().unwrap();
    let before = tree_digest(&repo(DEMO));
    let (r, new) = patch_demo(tmp.path());
    assert_eq!(tree_digest(&repo(DEMO)), before, "the source changed");
    assert_eq!(r["schema"], "auditor.patch-receipt/1");
    assert_eq!(r["encrypted"], true);
    assert_eq!(r["index"], "Manifest.db");
    let ch = r["changes"].as_array().unwrap();
    // Replaces first, then sets, then deletes.
    let kinds: Vec<_> = ch.iter().map(|c| c["kind"].as_str().unwrap()).collect();
    assert_eq!(kinds, ["replace", "set", "set", "delete"]);
    assert_eq!(ch[0]["sha256_after"], sha256_hex(&new));
    assert_eq!(ch[0]["size_after"], new.len());
    assert_eq!(ch[1]["old_value"], json!({"type": "bool", "value": true}));
    assert_eq!(ch[1]["new_value"], json!({"type": "bool", "value": false}));
    assert_eq!(ch[1]["format"], "xml_plist");
    assert_eq!(ch[2]["old_value"], json!({"type": "integer", "value": 2}));
    assert_eq!(ch[2]["format"], "json");
    assert_eq!(ch[3]["sha256_after"], Value::Null);
    assert_eq!(
        names(tmp.path()),
        BTreeSet::from(["out".into(), "welcome.txt".into()])
    );

    // Read back with our own reader: the changes are there, every other file identical.
    let pw = repo(DEMO_PASSWORD_FILE);
    let creds = ["--password-file", pw.to_str().unwrap()];
    let out = tmp.path().join("out");
    let a = extracted(&repo(DEMO), &creds, tmp.path());
    let b = extracted(&out, &creds, tmp.path());
    let welcome = "AppDomain-com.example.notes/Documents/welcome.txt";
    let photo = "AppDomain-com.example.messenger/Documents/media/photo-1.jpg";
    let prefs = format!("HomeDomain/{PREFS}");
    let outbox = format!("{GROUP}/{OUTBOX}");
    assert_eq!(b[welcome], new);
    assert!(a.contains_key(photo) && !b.contains_key(photo));
    let p: plist::Value = plist::from_bytes(&b[&prefs]).unwrap();
    assert_eq!(
        p.as_dictionary().unwrap()["Demo"],
        plist::Value::Boolean(false)
    );
    assert!(b[&prefs].starts_with(b"<?xml"), "XML stays XML");
    assert_eq!(sha256_hex(&b[&prefs]), ch[1]["sha256_after"]);
    assert_eq!(sha256_hex(&a[&prefs]), ch[1]["sha256_before"]);
    assert_eq!(String::from_utf8_lossy(&b[&outbox]), "{\"pending\": 5}\n");
    let mut same = 0;
    for (k, v) in &a {
        if [welcome, photo, prefs.as_str(), outbox.as_str()].contains(&k.as_str()) {
            continue;
        }
        assert_eq!(b.get(k), Some(v), "{k} changed");
        same += 1;
    }
    assert!(same >= 8, "{same}");
    assert_eq!(a.len(), b.len() + 1);

    // No new finding in the copy.
    let fa = findings(&repo(DEMO), &creds);
    let fb = findings(&out, &creds);
    let new_findings: Vec<_> = fb.difference(&fa).collect();
    assert!(new_findings.is_empty(), "{new_findings:?}");
    assert!(!fa.is_empty());
}

#[test]
fn independent_readers_agree_on_the_patched_copy() {
    let tmp = tempfile::tempdir().unwrap();
    let before = tree_digest(&repo(DEMO));
    let (r, new) = patch_demo(tmp.path());
    let password = std::fs::read_to_string(repo(DEMO_PASSWORD_FILE)).unwrap();
    let mut spec = json!({
        "source": repo(DEMO),
        "patched": tmp.path().join("out"),
        "password": password.trim_end(),
        "sets": [
            {"domain": "HomeDomain", "path": PREFS, "key_path": "/Demo", "value": false},
            {"domain": GROUP, "path": OUTBOX, "key_path": "/pending", "value": 5}
        ],
        "replaces": [{"domain": "AppDomain-com.example.notes", "path": "Documents/welcome.txt",
                      "sha256": sha256_hex(&new)}],
        "deletes": [{"domain": "AppDomain-com.example.messenger", "path": "Documents/media/photo-1.jpg"}]
    });
    assert_eq!(r["changes"].as_array().unwrap().len(), 4);
    let Some((c, text)) = pyreaders(&spec, tmp.path()) else {
        return;
    };
    assert_eq!(c, 0, "{text}");
    assert!(
        text.contains("\"iphone_backup_decrypt\"") && text.contains("\"iOSbackup\""),
        "{text}"
    );
    // The check can fail: a value that was not set is caught.
    spec["sets"][0]["value"] = json!(true);
    let (c, text) = pyreaders(&spec, tmp.path()).unwrap();
    assert_eq!(c, 1, "{text}");
    assert!(text.contains("not the source with the value set"), "{text}");
    assert_eq!(tree_digest(&repo(DEMO)), before);
}

#[test]
fn an_unencrypted_backup_is_patched_in_plaintext() {
    let tmp = tempfile::tempdir().unwrap();
    let src = tmp.path().join("src");
    let r = auditor(&[
        "fixture",
        repo("fixtures/specs/small-unencrypted.json")
            .to_str()
            .unwrap(),
        src.to_str().unwrap(),
    ]);
    assert_eq!(
        r.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&r.stderr)
    );
    let before = tree_digest(&src);
    let out = tmp.path().join("out");
    let bank = "AppDomain-com.example.bank";
    let receipt = json_ok(&[
        "patch",
        src.to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
        "--set",
        &format!("{bank}:Library/Preferences/com.example.bank.plist:/region=\"US\""),
        "--set",
        &format!("{bank}:Library/Application Support/analytics.json:/opt_in=1"),
        "--format",
        "json",
    ]);
    assert_eq!(receipt["encrypted"], false);
    assert_eq!(tree_digest(&src), before);
    let a = extracted(&src, &[], tmp.path());
    let b = extracted(&out, &[], tmp.path());
    let prefs = format!("{bank}/Library/Preferences/com.example.bank.plist");
    let analytics = format!("{bank}/Library/Application Support/analytics.json");
    let p: plist::Value = plist::from_bytes(&b[&prefs]).unwrap();
    assert_eq!(
        p.as_dictionary().unwrap()["region"],
        plist::Value::String("US".into())
    );
    assert_eq!(
        p.as_dictionary().unwrap()["lastUser"],
        plist::Value::String("alice".into())
    );
    assert_eq!(String::from_utf8_lossy(&b[&analytics]), "{\"opt_in\":1}\n");
    for (k, v) in &a {
        if *k != prefs && *k != analytics {
            assert_eq!(b.get(k), Some(v), "{k} changed");
        }
    }
    assert_eq!(a.len(), b.len());
    // The stored payload is the plaintext.
    let id = auditor::backup::FileId::compute(bank, "Library/Application Support/analytics.json");
    let stored = std::fs::read(out.join(&id.as_str()[..2]).join(id.as_str())).unwrap();
    assert_eq!(stored, b"{\"opt_in\":1}\n");
    let fa = findings(&src, &[]);
    let fb = findings(&out, &[]);
    assert!(
        fb.is_subset(&fa),
        "{:?}",
        fb.difference(&fa).collect::<Vec<_>>()
    );

    let spec = json!({
        "source": src, "patched": out, "password": null,
        "sets": [
            {"domain": bank, "path": "Library/Preferences/com.example.bank.plist", "key_path": "/region", "value": "US"},
            {"domain": bank, "path": "Library/Application Support/analytics.json", "key_path": "/opt_in", "value": 1}
        ]
    });
    if let Some((c, text)) = pyreaders(&spec, tmp.path()) {
        assert_eq!(c, 0, "{text}");
    }
}

#[test]
fn bad_changes_exit_2_and_leave_nothing_behind() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("out");
    let demo = repo(DEMO);
    let pw = repo(DEMO_PASSWORD_FILE);
    let run = |change: &[&str]| {
        let mut args = vec![
            "patch",
            demo.to_str().unwrap(),
            "--out",
            out.to_str().unwrap(),
            "--password-file",
            pw.to_str().unwrap(),
        ];
        args.extend_from_slice(change);
        code(&args)
    };
    let cases: &[(&[&str], &str)] = &[
        (&["--set", "NoDomain:Library/x.plist:/a=1"], "NoDomain:Library/x.plist: no such file"),
        (&["--set", &format!("HomeDomain:{PREFS}x:/Demo=1")], "no such file in the backup's index"),
        (&["--set", &format!("HomeDomain:{PREFS}:/Nope=true")], "no key \"Nope\" at /Nope"),
        (
            &["--set", &format!("HomeDomain:{PREFS}:/Demo=\"yes\"")],
            "the value there is a boolean; the new value is string",
        ),
        (
            &["--set", "AppDomain-com.example.messenger:Library/Preferences/com.example.messenger.plist:/theme=1"],
            "not a property list (binary or XML) or a JSON document",
        ),
        (
            &["--replace", &format!("CameraRollDomain:Media/DCIM/100APPLE/IMG_0002.HEIC={}", pw.display())],
            "cannot read the file: the payload is not on disk",
        ),
        (&["--delete", "AppDomain-com.example.notes:Documents/Inbox"], "is a directory, not a regular file"),
        (&["--set", &format!("HomeDomain:{PREFS}:Demo=true")], "must start with `/`"),
        (&["--replace", "HomeDomain:x"], "expected DOMAIN:PATH=LOCALFILE"),
        (
            &["--replace", &format!("HomeDomain:{PREFS}=/nonexistent/file")],
            "/nonexistent/file: cannot read",
        ),
        (
            &[
                "--delete",
                &format!("HomeDomain:{PREFS}"),
                "--delete",
                &format!("HomeDomain:{PREFS}"),
            ],
            "is deleted by an earlier --delete",
        ),
        (&[], "nothing to change"),
    ];
    for (change, want) in cases {
        let (c, err) = run(change);
        assert_eq!(c, 2, "{change:?}: {err}");
        assert!(err.contains(want), "{change:?}: {err}");
        assert!(!out.exists(), "{change:?} left {}", out.display());
        assert!(
            names(tmp.path()).is_empty(),
            "{change:?}: {:?}",
            names(tmp.path())
        );
    }
    // No password: exit 3, nothing written.
    let (c, err) = code(&[
        "patch",
        demo.to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
        "--delete",
        &format!("HomeDomain:{PREFS}"),
    ]);
    assert_eq!(c, 3, "{err}");
    assert!(names(tmp.path()).is_empty());
}

#[test]
fn the_output_folder_is_never_the_evidence_and_force_replaces_only_a_backup() {
    let (tmp, copy) = demo_copy();
    let pw = repo(DEMO_PASSWORD_FILE);
    let before = tree_digest(&copy);
    let del = format!("HomeDomain:{PREFS}");
    let run = |out: &Path, force: bool| {
        let mut args = vec![
            "patch",
            copy.to_str().unwrap(),
            "--out",
            out.to_str().unwrap(),
            "--password-file",
            pw.to_str().unwrap(),
            "--delete",
            &del,
        ];
        if force {
            args.push("--force");
        }
        code(&args)
    };
    // Inside the backup, or the backup itself: refused even with --force.
    for inside in [copy.join("patched"), copy.clone(), copy.join("ab/../x")] {
        let (c, err) = run(&inside, true);
        assert_eq!(c, 2, "{err}");
        assert!(err.contains("inside the source backup"), "{err}");
    }
    assert_eq!(tree_digest(&copy), before);
    // A folder of the user's: refused, with or without --force.
    let mine = tmp.path().join("mine");
    std::fs::create_dir(&mine).unwrap();
    std::fs::write(mine.join("notes.txt"), b"keep me").unwrap();
    let (c, err) = run(&mine, false);
    assert_eq!(c, 2, "{err}");
    assert!(err.contains("not empty"), "{err}");
    let (c, err) = run(&mine, true);
    assert_eq!(c, 2, "{err}");
    assert!(err.contains("not a backup"), "{err}");
    assert_eq!(std::fs::read(mine.join("notes.txt")).unwrap(), b"keep me");
    // An earlier patched copy: refused without --force, replaced whole with it.
    let out = tmp.path().join("out");
    assert_eq!(run(&out, false).0, 0);
    std::fs::write(out.join("stray"), b"x").unwrap();
    assert_eq!(run(&out, false).0, 2);
    let (c, err) = run(&out, true);
    assert_eq!(c, 0, "{err}");
    assert!(!out.join("stray").exists());
    assert!(out.join("Manifest.db").is_file());
    let left: BTreeSet<String> = names(tmp.path());
    assert_eq!(
        left,
        BTreeSet::from([
            "00008130-000A11CE0DE0001E".into(),
            "mine".into(),
            "out".into()
        ])
    );
    assert_eq!(tree_digest(&copy), before);
}

/// The real iOS 9 backup (encrypted, Manifest.mbdb): a value set; Size and Digest (SHA-1 of
/// the stored payload, as every Digest of the source is) follow.
#[test]
fn the_real_hv20_backup_is_patched_with_its_mbdb_digest() {
    let Some(src) = shared("external/hv20/Backup") else {
        return;
    };
    let tmp = tempfile::tempdir().unwrap();
    let before = tree_digest(&src);
    let out = tmp.path().join("out");
    let creds = ["--password", "20201225"];
    let mut args = vec![
        "patch",
        src.to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
        "--set",
        "HomeDomain:Library/Preferences/com.apple.Preferences.plist:/kBadgedForSoftwareUpdateKey=true",
        "--format",
        "json",
    ];
    args.extend_from_slice(&creds);
    let r = json_ok(&args);
    assert_eq!(r["index"], "Manifest.mbdb");
    assert_eq!(r["changes"][0]["digest_updated"], true);
    assert_eq!(r["changes"][0]["format"], "binary_plist");
    assert_eq!(tree_digest(&src), before);
    let recs = |dir: &Path| {
        auditor::index::mbdb::parse("m", &std::fs::read(dir.join("Manifest.mbdb")).unwrap())
            .unwrap()
    };
    let (a, b) = (recs(&src), recs(&out));
    assert_eq!(a.len(), b.len());
    let mut digests = 0;
    for (x, y) in a.iter().zip(&b) {
        if x.relative_path == "Library/Preferences/com.apple.Preferences.plist"
            && x.domain == "HomeDomain"
        {
            let stored = std::fs::read(out.join(&y.file_id)).unwrap();
            assert_eq!(y.digest.as_deref(), Some(&sha1::Sha1::digest(&stored)[..]));
            assert_ne!(x.digest, y.digest);
            continue;
        }
        assert_eq!(x, y);
        if let (Some(d), Ok(stored)) = (&x.digest, std::fs::read(src.join(&x.file_id))) {
            assert_eq!(
                d.as_slice(),
                &sha1::Sha1::digest(&stored)[..],
                "{}",
                x.relative_path
            );
            digests += 1;
        }
    }
    assert!(digests > 100, "{digests}");
    let ea = extracted(&src, &creds, tmp.path());
    let eb = extracted(&out, &creds, tmp.path());
    let k = "HomeDomain/Library/Preferences/com.apple.Preferences.plist";
    let p: plist::Value = plist::from_bytes(&eb[k]).unwrap();
    assert_eq!(
        p.as_dictionary().unwrap()["kBadgedForSoftwareUpdateKey"],
        plist::Value::Boolean(true)
    );
    assert!(eb[k].starts_with(b"bplist00"));
    assert_eq!(ea.len(), eb.len());
    assert_eq!(ea.iter().filter(|(n, v)| eb.get(*n) != Some(v)).count(), 1);
    let (fa, fb) = (findings(&src, &creds), findings(&out, &creds));
    assert!(
        fb.is_subset(&fa),
        "{:?}",
        fb.difference(&fa).collect::<Vec<_>>()
    );
}

/// MVT's sample (stored decrypted, no Manifest.plist; an empty Manifest.db-wal beside it).
#[test]
fn the_real_mvt_backup_is_patched_in_plaintext() {
    let Some(src) = shared("external/mvt/ios_backup") else {
        return;
    };
    let tmp = tempfile::tempdir().unwrap();
    let before = tree_digest(&src);
    let out = tmp.path().join("out");
    let r = json_ok(&[
        "patch",
        src.to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
        "--set",
        "HomeDomain:Library/Preferences/.GlobalPreferences.plist:/AppleLocale=\"de_DE\"",
        "--format",
        "json",
    ]);
    assert_eq!(tree_digest(&src), before);
    assert_eq!(
        r["changes"][0]["old_value"],
        json!({"type": "string", "value": "en_FR"})
    );
    let nc: Vec<_> = r["not_copied"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap())
        .collect();
    assert!(
        nc.iter().any(|n| n.starts_with("Manifest.db-wal")),
        "{nc:?}"
    );
    let id = "0dc926a1810f7aee4e8f38793ed788701f93bf9d";
    let stored = std::fs::read(out.join(&id[..2]).join(id)).unwrap();
    let p: plist::Value = plist::from_bytes(&stored).unwrap();
    assert_eq!(
        p.as_dictionary().unwrap()["AppleLocale"],
        plist::Value::String("de_DE".into())
    );
    // Every other payload byte-identical.
    let files = |d: &Path| -> BTreeMap<PathBuf, String> {
        tree_digest(d)
            .into_iter()
            .map(|(p, _, h)| (p.strip_prefix(d).unwrap().to_path_buf(), h))
            .collect()
    };
    let (a, b) = (files(&src), files(&out));
    let differ: Vec<_> = a
        .iter()
        .filter(|(k, v)| b.get(*k) != Some(v))
        .map(|(k, _)| k.display().to_string())
        .collect();
    assert_eq!(
        differ,
        [
            format!("0d/{id}"),
            "Manifest.db".into(),
            "Manifest.db-shm".into(),
            "Manifest.db-wal".into()
        ]
    );
    // The sample's rows keep their EncryptionKey over plaintext payloads. The source's
    // patched file is `file.not-ciphertext` + `file.size-mismatch` (Size 633, 727 bytes);
    // with Size now the plaintext length, the copy's file is `file.not-ciphertext` alone
    // (an unaligned payload shorter than Size's ciphertext that begins as a plist is a
    // decrypted copy, not a cut one): no new finding, one fewer, every other the source's.
    let (fa, fb) = (findings(&src, &[]), findings(&out, &[]));
    let new: Vec<_> = fb.difference(&fa).collect();
    assert!(new.is_empty(), "{new:?}");
    let loc = "\"HomeDomain/Library/Preferences/.GlobalPreferences.plist\"".to_string();
    let gone: Vec<_> = fa.difference(&fb).collect();
    assert_eq!(gone, [&("file.size-mismatch".to_string(), loc.clone())]);
    assert!(fb.contains(&("file.not-ciphertext".to_string(), loc)));
}
