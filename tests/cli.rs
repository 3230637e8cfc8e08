//! Command-line contracts: credentials, exit codes, collections, output files.

mod common;
use common::*;
use std::io::Write;
use std::process::{Command, Stdio};

#[test]
fn usage_errors_are_exit_2() {
    assert_eq!(auditor(&["scan"]).status.code(), Some(2));
    assert_eq!(auditor(&["frobnicate"]).status.code(), Some(2));
    assert_eq!(
        auditor(&["scan", ".", "--format", "yaml"]).status.code(),
        Some(2)
    );
    assert_eq!(auditor(&["--version"]).status.code(), Some(0));
    // --no-hash only means something with --deep.
    assert_eq!(auditor(&["scan", ".", "--no-hash"]).status.code(), Some(2));
}

#[test]
fn not_a_backup_is_exit_4_and_names_the_path() {
    let tmp = tempfile::tempdir().unwrap();
    let out = auditor(&["scan", tmp.path().to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(4));
    assert!(String::from_utf8_lossy(&out.stderr).contains(tmp.path().to_str().unwrap()));
    let missing = tmp.path().join("nope");
    let out = auditor(&["info", missing.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(4));
    // A truncated Manifest.plist: exit 4, the file named.
    let dir = tmp.path().join("b");
    std::fs::create_dir(&dir).unwrap();
    std::fs::write(dir.join("Manifest.plist"), b"bplist00\xd1\x01\x02").unwrap();
    let out = auditor(&["scan", dir.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(4));
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("Manifest.plist"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn password_from_stdin_env_and_key_reuse() {
    let Some((b, e)) = conformance("small-encrypted") else {
        return;
    };
    let b = b.to_str().unwrap();
    let pw = e["password"].as_str().unwrap();
    // --password-file - reads stdin.
    let mut child = Command::new(env!("CARGO_BIN_EXE_auditor"))
        .args(["key", b, "--password-file", "-"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(format!("{pw}\n").as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let key = String::from_utf8(out.stdout).unwrap().trim().to_string();
    assert_eq!(
        key,
        e["kdf"]["passcode_key_hex"].as_str().unwrap(),
        "auditor key prints the derived KEK"
    );
    // AUDITOR_PASSWORD.
    let out = Command::new(env!("CARGO_BIN_EXE_auditor"))
        .args(["scan", b, "--format", "json"])
        .env("AUDITOR_PASSWORD", pw)
        .stdin(Stdio::null())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0));
    assert_eq!(json(&out)["backup"]["unlocked"], true);
    assert!(
        !String::from_utf8_lossy(&out.stderr).contains("warning"),
        "no warning for the environment variable"
    );
    // --key with the printed key; a wrong key is exit 3.
    let out = auditor(&["scan", b, "--key", &key, "--format", "json"]);
    assert_eq!(out.status.code(), Some(0));
    assert_eq!(json(&out)["backup"]["unlocked"], true);
    let wrong = "00".repeat(32);
    assert_eq!(
        auditor(&["scan", b, "--key", &wrong]).status.code(),
        Some(3)
    );
    assert_eq!(auditor(&["scan", b, "--key", "abc"]).status.code(), Some(2));
    // A bare --password with no terminal cannot prompt: exit 3 with the ways to pass one.
    let out = auditor(&["scan", b, "--password"]);
    assert_eq!(out.status.code(), Some(3));
    assert!(String::from_utf8_lossy(&out.stderr).contains("AUDITOR_PASSWORD"));
    // key on an unencrypted backup: nothing to derive (exit 3).
    if let Some((u, _)) = conformance("small-unencrypted") {
        assert_eq!(
            auditor(&["key", u.to_str().unwrap()]).status.code(),
            Some(3)
        );
    }
}

#[test]
fn collection_folder_is_listed() {
    let Some((enc, _)) = conformance("small-encrypted") else {
        return;
    };
    let tmp = tempfile::tempdir().unwrap();
    // A MobileSync/Backup folder holding two backups (copies of the top-level plists are enough).
    for (name, src) in [("A", &enc), ("B", &enc)] {
        let d = tmp.path().join(name);
        std::fs::create_dir(&d).unwrap();
        for f in [
            "Info.plist",
            "Manifest.plist",
            "Status.plist",
            "Manifest.db",
        ] {
            std::fs::copy(src.join(f), d.join(f)).unwrap();
        }
    }
    let out = auditor(&["scan", tmp.path().to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("holds 2 backups"), "{err}");
    assert!(
        err.contains("Oracle Test iPhone") && err.contains("encrypted"),
        "{err}"
    );
}

#[test]
fn output_file_and_refusal_inside_backup() {
    let Some((b, _)) = conformance("small-unencrypted") else {
        return;
    };
    let tmp = tempfile::tempdir().unwrap();
    let out_file = tmp.path().join("report.json");
    let out = auditor(&[
        "scan",
        b.to_str().unwrap(),
        "--format",
        "json",
        "-o",
        out_file.to_str().unwrap(),
    ]);
    assert_eq!(out.status.code(), Some(0));
    assert!(out.stdout.is_empty());
    let v: serde_json::Value = serde_json::from_slice(&std::fs::read(&out_file).unwrap()).unwrap();
    assert_eq!(v["schema"], "auditor.scan/1");
    // Writing inside the backup is refused (exit 2) — the backup is evidence.
    let inside = b.join("report.json");
    let out = auditor(&["scan", b.to_str().unwrap(), "-o", inside.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(2));
    assert!(!inside.exists());
}

#[test]
fn bundled_demo_backup_scans() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/demo");
    let b = root.join("00008130-000A11CE0DE0001E");
    let pw = root.join("password.txt");
    let r = json_ok(&[
        "scan",
        b.to_str().unwrap(),
        "--password-file",
        pw.to_str().unwrap(),
        "--deep",
        "--format",
        "json",
    ]);
    assert_eq!(r["backup"]["unlocked"], true);
    assert_eq!(r["summary"]["deep"]["failed"], 0);
    assert!(r["summary"]["files"].as_u64().unwrap() > 5);
}
