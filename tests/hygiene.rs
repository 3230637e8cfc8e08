//! Secret hygiene: on an encrypted fixture with known markers (a file's content, keychain
//! secrets, the password, the derived and class keys), no subcommand puts a marker in its
//! output, its errors or any file it writes (temporary files included: TMPDIR points into the
//! test folder) unless the user asked for it (`--show-secrets`, `key`); `Debug` of
//! secret-bearing types never shows key bytes or secrets; `--password-file -` reads stdin.

mod harden;

use harden::{run_auditor, run_auditor_env};
use std::path::PathBuf;
use std::time::Duration;

const LIMIT: Duration = Duration::from_secs(120);
const FILE_MARKER: &str = "HYGIENE-FILE-MARKER-7d41c0";
const KC_MARKER: &str = "HYGIENE-KEYCHAIN-MARKER-52ab";
const PASSWORD: &str = "HYGIENE-PASSWORD-MARKER-913e";

struct Fixture {
    dir: tempfile::TempDir,
    backup: PathBuf,
    password_file: PathBuf,
    /// Hex of every key behind the backup (KEK, ManifestKey, class keys, device key).
    key_hex: Vec<String>,
    kek_hex: String,
}

fn fixture() -> Fixture {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut spec = harden::spec_json("small.json", Some(20_000));
    spec["password"] = PASSWORD.into();
    spec["files"]
        .as_array_mut()
        .unwrap()
        .push(serde_json::json!({
            "domain": "AppDomain-com.example.bank",
            "path": "Documents/hygiene.txt",
            "class": 3,
            "content": {"text": format!("secret file content {FILE_MARKER}\n")}
        }));
    for class in ["ak", "dk", "aku"] {
        spec["keychain"]
            .as_array_mut()
            .unwrap()
            .push(serde_json::json!({
                "table": "genp", "class": class, "account": "hygiene",
                "access_group": "ABCDE12345.com.example.bank",
                "service": format!("com.example.bank.hygiene-{class}"),
                "secret": format!("{KC_MARKER}-{class}")
            }));
    }
    let (backup, summary) = harden::write_fixture(&spec, &dir.path().join("evidence"));
    let k = &summary.keys;
    let mut key_hex: Vec<String> = k
        .class_keys
        .values()
        .map(|x| hex::encode(x.as_bytes()))
        .collect();
    key_hex.extend(k.manifest_key.iter().map(|x| hex::encode(x.as_bytes())));
    key_hex.push(hex::encode(&k.device_key[..]));
    let kek_hex = hex::encode(k.kek.as_ref().expect("kek").as_bytes());
    let password_file = dir.path().join("password.txt");
    std::fs::write(&password_file, PASSWORD).expect("password file");
    for d in ["out", "cwd", "tmp"] {
        std::fs::create_dir_all(dir.path().join(d)).expect("mkdir");
    }
    Fixture {
        dir,
        backup,
        password_file,
        key_hex,
        kek_hex,
    }
}

/// Every marker that must never appear (in clear, or as hex of its bytes).
fn forbidden(f: &Fixture, with_kek: bool) -> Vec<String> {
    let mut m = vec![
        FILE_MARKER.to_owned(),
        hex::encode(FILE_MARKER),
        KC_MARKER.to_owned(),
        hex::encode(KC_MARKER),
        PASSWORD.to_owned(),
        hex::encode(PASSWORD),
    ];
    m.extend(f.key_hex.iter().cloned());
    if with_kek {
        m.push(f.kek_hex.clone());
    }
    m
}

fn contains_any(hay: &[u8], needles: &[String]) -> Option<String> {
    let lower = String::from_utf8_lossy(hay).to_ascii_lowercase();
    needles
        .iter()
        .find(|n| {
            hay.windows(n.len()).any(|w| w == n.as_bytes())
                || lower.contains(&n.to_ascii_lowercase())
        })
        .cloned()
}

/// Every file under the test folder except the password file (which holds the password).
fn written_files(f: &Fixture) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut stack = vec![f.dir.path().to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).unwrap() {
            let p = e.unwrap().path();
            let md = std::fs::symlink_metadata(&p).unwrap();
            if md.is_dir() {
                stack.push(p);
            } else if md.is_file() && p != f.password_file {
                out.push(p);
            }
        }
    }
    out
}

fn run(f: &Fixture, args: &[&str]) -> harden::Run {
    let tmp = f.dir.path().join("tmp");
    let r = run_auditor_env(
        args,
        &f.dir.path().join("cwd"),
        None,
        LIMIT,
        &[("TMPDIR", tmp.as_path()), ("TMP", tmp.as_path())],
    );
    assert!(
        matches!(r.code, Some(0..=4)),
        "{args:?}: exit {:?}: {}",
        r.code,
        r.stderr()
    );
    r
}

#[test]
fn no_secret_reaches_output_or_disk_without_being_asked() {
    let f = fixture();
    let b = f.backup.display().to_string();
    let pw = f.password_file.display().to_string();
    let out = |n: &str| f.dir.path().join("out").join(n).display().to_string();
    let (scan_json, kc_json) = (out("scan.json"), out("keychain.json"));
    let runs: Vec<Vec<&str>> = vec![
        vec!["info", &b],
        vec!["scan", &b, "--password-file", &pw],
        vec!["scan", &b, "--password-file", &pw, "--deep", "--files"],
        vec![
            "scan",
            &b,
            "--password-file",
            &pw,
            "--deep",
            "--format",
            "json",
            "-o",
            &scan_json,
        ],
        vec!["keychain", &b, "--password-file", &pw],
        vec!["keychain", &b, "--password-file", &pw, "--format", "json"],
        vec![
            "keychain",
            &b,
            "--password-file",
            &pw,
            "--format",
            "json",
            "-o",
            &kc_json,
        ],
        // A wrong password: the error must not echo it either.
        vec![
            "scan",
            &b,
            "--password",
            "wrong-HYGIENE-PASSWORD-MARKER-913e",
        ],
    ];
    let never = forbidden(&f, true);
    let mut decrypted_items = 0;
    for args in &runs {
        let r = run(&f, args);
        for (what, bytes) in [("stdout", &r.stdout), ("stderr", &r.stderr)] {
            if let Some(m) = contains_any(bytes, &never) {
                panic!("{args:?}: {what} contains the marker {m:?}");
            }
        }
        if args[0] == "keychain" && args.contains(&"json") && !args.contains(&"-o") {
            let v: serde_json::Value = serde_json::from_slice(&r.stdout).expect("JSON");
            decrypted_items = v.to_string().matches("\"decryptable\":true").count();
        }
    }
    assert!(
        decrypted_items >= 2,
        "the fixture's ak/dk items must decrypt (else the test proves nothing)"
    );
    // The file and the keychain really were decrypted: --deep hashed the plaintext.
    let scan: serde_json::Value =
        serde_json::from_slice(&std::fs::read(&scan_json).unwrap()).unwrap();
    assert!(scan.to_string().contains("hygiene.txt"));
    let files = written_files(&f);
    assert!(files.len() > 10, "the backup and the outputs are scanned");
    for p in &files {
        let bytes = std::fs::read(p).unwrap();
        if let Some(m) = contains_any(&bytes, &never) {
            panic!("{} contains the marker {m:?}", p.display());
        }
    }
    eprintln!(
        "hygiene: {} runs, {} files checked, no marker found",
        runs.len(),
        files.len()
    );
}

#[test]
fn secrets_only_with_show_secrets_and_only_where_asked() {
    let f = fixture();
    let b = f.backup.display().to_string();
    let pw = f.password_file.display().to_string();
    let r = run(
        &f,
        &["keychain", &b, "--password-file", &pw, "--show-secrets"],
    );
    assert_eq!(r.code, Some(0), "{}", r.stderr());
    assert!(
        r.stdout().contains(&format!("{KC_MARKER}-ak")),
        "stdout shows the secret"
    );
    assert!(r.stdout().contains(&format!("{KC_MARKER}-dk")));
    // aku is ThisDeviceOnly: not decryptable with the password alone.
    assert!(!r.stdout().contains(&format!("{KC_MARKER}-aku")));
    assert!(!r.stderr().contains(KC_MARKER), "never on stderr");
    // Nothing was written anywhere by a run that printed secrets to stdout.
    for p in written_files(&f) {
        let bytes = std::fs::read(&p).unwrap();
        assert!(
            contains_any(&bytes, &[KC_MARKER.to_owned()]).is_none(),
            "{} holds a secret",
            p.display()
        );
    }
    // Exported on request: the secrets are in that file and nowhere else.
    let export = f.dir.path().join("out/secrets.json");
    let e = export.display().to_string();
    let r = run(
        &f,
        &[
            "keychain",
            &b,
            "--password-file",
            &pw,
            "--show-secrets",
            "--format",
            "json",
            "-o",
            &e,
        ],
    );
    assert_eq!(r.code, Some(0), "{}", r.stderr());
    assert!(std::fs::read_to_string(&export)
        .unwrap()
        .contains(KC_MARKER));
    assert!(!r.stdout().contains(KC_MARKER) && !r.stderr().contains(KC_MARKER));
    // The password and the keys never appear, even with --show-secrets.
    let never = forbidden(&f, true)
        .into_iter()
        .filter(|m| !m.contains(KC_MARKER) && *m != hex::encode(KC_MARKER))
        .collect::<Vec<_>>();
    assert!(contains_any(&std::fs::read(&export).unwrap(), &never).is_none());
}

#[test]
fn key_prints_the_derived_key_only_where_asked() {
    let f = fixture();
    let b = f.backup.display().to_string();
    let pw = f.password_file.display().to_string();
    let r = run(&f, &["key", &b, "--password-file", &pw]);
    assert_eq!(r.code, Some(0), "{}", r.stderr());
    assert_eq!(r.stdout().trim(), f.kek_hex, "key prints the KEK");
    assert!(contains_any(&r.stderr, &forbidden(&f, true)).is_none());
    assert!(contains_any(&r.stdout, &forbidden(&f, false)).is_none());
    // And the key opens the backup without the password.
    let kf = f.dir.path().join("out/key.txt");
    let k = kf.display().to_string();
    let r = run(&f, &["key", &b, "--password-file", &pw, "-o", &k]);
    assert_eq!(r.code, Some(0), "{}", r.stderr());
    assert!(r.stdout.is_empty());
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&kf).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600, "key file is private");
    }
    let r = run(&f, &["scan", &b, "--key-file", &k, "--format", "json"]);
    assert_eq!(r.code, Some(0), "{}", r.stderr());
    assert!(!r.stdout().contains("backup.index-locked"));
}

/// `--password-file -` reads the password from stdin (the way to avoid argv and env);
/// a bare `--password` without a terminal refuses (exit 3) instead of reading anything else.
#[test]
fn password_from_stdin_and_never_from_argv() {
    let f = fixture();
    let b = f.backup.display().to_string();
    let cwd = f.dir.path().join("cwd");
    let r = run_auditor(
        &["scan", &b, "--password-file", "-", "--format", "json"],
        &cwd,
        Some(format!("{PASSWORD}\n").as_bytes()),
        LIMIT,
    );
    assert_eq!(r.code, Some(0), "{}", r.stderr());
    let v: serde_json::Value = serde_json::from_slice(&r.stdout).expect("JSON");
    assert!(
        !v.to_string().contains("backup.index-locked"),
        "the stdin password unlocked the index"
    );
    assert!(!r.stdout().contains(PASSWORD) && !r.stderr().contains(PASSWORD));

    let r = run_auditor(&["keychain", &b, "--password"], &cwd, None, LIMIT);
    assert_eq!(
        r.code,
        Some(3),
        "no terminal: refuse, do not guess: {}",
        r.stderr()
    );
    assert!(r.stderr().contains("no terminal"), "{}", r.stderr());

    // A password on the command line works but is warned about (visible in ps).
    let r = run_auditor(&["keychain", &b, "--password", PASSWORD], &cwd, None, LIMIT);
    assert_eq!(r.code, Some(0), "{}", r.stderr());
    assert!(r.stderr().contains("visible to other users"));
    assert!(!r.stderr().contains(PASSWORD));
}

#[test]
fn debug_never_shows_keys_or_secrets() {
    use auditor::crypto::{ClassKeyState, ClassKeys, Key32, Password};
    use auditor::keychain::{blob, der, export::RawItem, item::KeychainItem, Secret};
    let key = Key32::new([0xA5; 32]);
    let key_hex = "a5".repeat(32);
    let d = format!("{key:?}");
    assert!(
        !d.to_ascii_lowercase().contains(&key_hex) && !d.contains("165"),
        "{d}"
    );
    let p = Password::new(PASSWORD.as_bytes().to_vec());
    assert!(!format!("{p:?}").contains(PASSWORD));
    let s = Secret::new(KC_MARKER.as_bytes().to_vec());
    assert!(!format!("{s:?}").contains(KC_MARKER));

    // A real decrypted item: the secret is in `secret`, but neither Debug nor JSON show it.
    let class_key = Key32::new([0x11; 32]);
    let mut attrs = der::DerDict::new();
    attrs.insert("acct", der::DerValue::String("hygiene".into()));
    attrs.insert("v_Data", der::DerValue::Data(KC_MARKER.as_bytes().to_vec()));
    let v_data = blob::seal_v3(6, &class_key, &Key32::new([0x22; 32]), &attrs);
    let raw = RawItem {
        table: "genp".into(),
        index: 0,
        v_data: Some(v_data.clone()),
        persistent_ref: None,
        clear_attributes: der::DerDict::new(),
        problems: vec![],
    };
    let mut map = std::collections::BTreeMap::new();
    map.insert(6, ClassKeyState::Available(class_key.clone()));
    let keys = ClassKeys { keys: map };
    let item = KeychainItem::from_raw(&raw, Some(&keys), true);
    assert_eq!(
        item.secret.as_ref().map(|s| s.as_bytes()),
        Some(KC_MARKER.as_bytes()),
        "the item decrypted (else the test proves nothing)"
    );
    let dbg = format!("{item:?}");
    let json = serde_json::to_string(&item).unwrap();
    for text in [&dbg, &json] {
        assert!(!text.contains(KC_MARKER), "{text}");
        assert!(!text.contains(&hex::encode(KC_MARKER)));
        assert!(!text.contains(&"11".repeat(32)) && !text.contains(&"22".repeat(32)));
    }
    // The decrypted payload and DER values show lengths only.
    let parsed = blob::parse(&v_data);
    let payload = blob::decrypt(&parsed.header, parsed.body.as_ref().unwrap(), &class_key).unwrap();
    assert!(!format!("{payload:?}").contains(KC_MARKER));
    let dv = der::DerValue::Data(KC_MARKER.as_bytes().to_vec());
    assert!(!format!("{dv:?}").contains(KC_MARKER));

    // The fixture summary (printed by `auditor fixture`) redacts every key.
    let spec = harden::spec_json("small.json", Some(1000));
    let dir = tempfile::tempdir().unwrap();
    let (_, summary) = harden::write_fixture(&spec, dir.path());
    let dbg = format!("{summary:?}");
    for k in summary.keys.class_keys.values() {
        assert!(!dbg.contains(&hex::encode(k.as_bytes())));
    }
    assert!(!dbg.contains(&hex::encode(&summary.keys.device_key[..])));
    assert!(!dbg.contains(&hex::encode(summary.keys.kek.as_ref().unwrap().as_bytes())));
}
