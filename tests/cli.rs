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
        err.contains("Oracle Test iPhone") && err.contains("ENCRYPTED") && err.contains(" yes "),
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

/// The bundled demo backup and its password.
fn demo() -> (String, String) {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/demo");
    let b = root.join("00008130-000A11CE0DE0001E");
    let pw = std::fs::read_to_string(root.join("password.txt")).unwrap();
    (b.to_str().unwrap().to_string(), pw.trim_end().to_string())
}

/// Run the binary with its stdout a pipe whose reader has gone when it writes (as
/// `| head -c 0` would), after reading the first `take` bytes.
fn with_closed_stdout(args: &[&str], take: usize) -> std::process::Output {
    use std::io::Read;
    let mut child = Command::new(env!("CARGO_BIN_EXE_auditor"))
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .env_remove("AUDITOR_PASSWORD")
        .spawn()
        .unwrap();
    let mut stdout = child.stdout.take().unwrap();
    let mut head = vec![0u8; take];
    stdout.read_exact(&mut head).unwrap();
    drop(stdout);
    child.wait_with_output().unwrap()
}

#[test]
fn a_closed_pipe_ends_quietly_with_the_commands_own_code() {
    let (b, _) = demo();
    let pw = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/demo/password.txt");
    let pw = pw.to_str().unwrap();
    let policy = tempfile::tempdir().unwrap();
    let policy = policy.path().join("p.toml");
    let out = auditor(&[
        "policy",
        "init",
        &b,
        "--password-file",
        pw,
        "-o",
        policy.to_str().unwrap(),
    ]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let policy = policy.to_str().unwrap();
    let mut runs: Vec<Vec<&str>> = vec![
        vec![
            "scan",
            &b,
            "--password-file",
            pw,
            "--files",
            "--format",
            "json",
        ],
        vec!["scan", &b, "--password-file", pw, "--files"],
        vec!["info", &b, "--format", "json"],
        vec!["keychain", &b, "--password-file", pw],
        vec!["keychain", &b, "--password-file", pw, "--format", "json"],
        vec!["key", &b, "--password-file", pw],
    ];
    for f in ["table", "json", "sarif", "junit"] {
        runs.push(vec![
            "check",
            &b,
            "--password-file",
            pw,
            "--policy",
            policy,
            "--format",
            f,
        ]);
    }
    for args in &runs {
        // The reader goes before the first byte, and after ten (`head -c 10`).
        for take in [0, 10] {
            let out = with_closed_stdout(args, take);
            assert_eq!(
                (
                    out.status.code(),
                    String::from_utf8_lossy(&out.stderr).as_ref()
                ),
                (Some(0), if args[0] == "key" { KEY_WARNING } else { "" }),
                "auditor {}",
                args.join(" ")
            );
        }
    }
    // The command's own code, not 0: findings at or above --fail-on are still exit 1.
    let out = with_closed_stdout(&["scan", &b, "--password-file", pw, "--fail-on", "info"], 0);
    assert_eq!(
        out.status.code(),
        Some(1),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    // Nothing about the pipe: only the line naming what --fail-on failed on.
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.lines().count() == 1 && err.starts_with("auditor: --fail-on info: exit 1 for "),
        "{err}"
    );
    // Where the report goes to a file, stdout does not matter and the file is whole.
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("r.json");
    let out = with_closed_stdout(
        &[
            "scan",
            &b,
            "--password-file",
            pw,
            "--format",
            "json",
            "-o",
            file.to_str().unwrap(),
        ],
        0,
    );
    assert_eq!(out.status.code(), Some(0));
    let v: serde_json::Value = serde_json::from_slice(&std::fs::read(&file).unwrap()).unwrap();
    assert_eq!(v["schema"], "auditor.scan/1");
}

/// What `auditor key` says on stderr.
const KEY_WARNING: &str = "auditor: warning: this key is password-equivalent: anyone holding it can decrypt the backup. Store it like the password (e.g. a CI secret), and pass it with --key-file.\n";

#[test]
fn no_password_is_not_overridden_by_the_environment() {
    let (b, pw) = demo();
    let scan = |extra: &[&str]| {
        let out = Command::new(env!("CARGO_BIN_EXE_auditor"))
            .args(["scan", &b, "--format", "json"])
            .args(extra)
            .env("AUDITOR_PASSWORD", &pw)
            .stdin(Stdio::null())
            .output()
            .unwrap();
        assert_eq!(
            out.status.code(),
            Some(0),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        json(&out)
    };
    // The variable unlocks...
    assert_eq!(scan(&[])["backup"]["unlocked"], true);
    // ...but not with --no-password.
    assert_eq!(scan(&["--no-password"])["backup"]["unlocked"], false);
    // Nor with a password or key option: those are said to be unused.
    let pwf = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/demo/password.txt");
    let out = auditor(&[
        "scan",
        &b,
        "--no-password",
        "--password-file",
        pwf.to_str().unwrap(),
        "--format",
        "json",
    ]);
    assert_eq!(out.status.code(), Some(0));
    assert_eq!(json(&out)["backup"]["unlocked"], false);
    assert_eq!(
        String::from_utf8_lossy(&out.stderr),
        "auditor: warning: --no-password: the password and key options are not used\n"
    );
}

#[test]
fn each_layers_error_keeps_its_words_and_exit_code() {
    let (b, _) = demo();
    let tmp = tempfile::tempdir().unwrap();
    let err = |out: &std::process::Output| String::from_utf8_lossy(&out.stderr).into_owned();
    // The policy layer: exit 2, "bad policy: FILE:LINE:COL: …".
    let pol = tmp.path().join("p.toml");
    std::fs::write(&pol, "schema = 1\nbogus = 2\n").unwrap();
    let out = auditor(&["check", &b, "--policy", pol.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(2), "{}", err(&out));
    assert!(
        err(&out).starts_with(&format!(
            "auditor: bad policy: {}:2:1: unknown field `bogus`",
            pol.display()
        )),
        "{}",
        err(&out)
    );
    // The keybag (crypto layer): exit 4, Manifest.plist named, "keybag" said once.
    let copy = tmp.path().join("b");
    std::fs::create_dir(&copy).unwrap();
    for f in [
        "Info.plist",
        "Manifest.plist",
        "Status.plist",
        "Manifest.db",
    ] {
        std::fs::copy(std::path::Path::new(&b).join(f), copy.join(f)).unwrap();
    }
    let mut m: plist::Dictionary = plist::from_file(copy.join("Manifest.plist")).unwrap();
    let kb = m["BackupKeyBag"].as_data().unwrap()[..50].to_vec();
    m.insert("BackupKeyBag".into(), plist::Value::Data(kb));
    plist::to_file_binary(copy.join("Manifest.plist"), &m).unwrap();
    let pwf = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/demo/password.txt");
    let out = auditor(&[
        "scan",
        copy.to_str().unwrap(),
        "--password-file",
        pwf.to_str().unwrap(),
    ]);
    assert_eq!(out.status.code(), Some(4), "{}", err(&out));
    let manifest = copy.join("Manifest.plist");
    assert_eq!(
        err(&out),
        format!(
            "auditor: {}: keybag: no SALT tag (PBKDF2-SHA1 salt)\n",
            manifest.display()
        )
    );
    // The fixture writer: exit 2, the output folder named by the CLI's context.
    let spec = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/specs/small.json");
    let out = auditor(&[
        "fixture",
        spec.to_str().unwrap(),
        tmp.path().to_str().unwrap(),
    ]);
    assert_eq!(out.status.code(), Some(2), "{}", err(&out));
    assert_eq!(
        err(&out),
        format!(
            "auditor: {0}: {0}: output directory is not empty (refusing to overwrite)\n",
            tmp.path().display()
        )
    );
}

/// `--fail-on` names on stderr the rules that made it fail (issue 13 item 6); below the
/// threshold it says nothing and exits 0.
#[test]
fn fail_on_says_which_findings_failed() {
    let (b, pw) = demo();
    let stderr = |o: &std::process::Output| String::from_utf8_lossy(&o.stderr).to_string();
    let o = auditor(&["info", &b, "--fail-on", "medium"]);
    assert_eq!(o.status.code(), Some(1));
    assert!(
        stderr(&o).contains("--fail-on medium: exit 1 for 1 finding at or above medium: backup.weak-kdf (medium) x1"),
        "{}",
        stderr(&o)
    );
    let o = auditor(&["scan", &b, "--password", &pw, "--fail-on", "low"]);
    assert_eq!(o.status.code(), Some(1));
    let e = stderr(&o);
    // With the keychain's advice: keychain.deprecated-class and keychain.migratable-token.
    assert!(e.contains("5 findings at or above low"), "{e}");
    assert!(e.contains("keychain.migratable-token (low) x1"), "{e}");
    assert!(e.contains("file.size-mismatch (low) x1"), "{e}");
    assert!(!e.contains("backup.not-full"), "info is below low: {e}");
    // Near miss: nothing reaches high.
    let o = auditor(&["scan", &b, "--password", &pw, "--fail-on", "high"]);
    assert_eq!(o.status.code(), Some(0));
    assert!(!stderr(&o).contains("--fail-on"), "{}", stderr(&o));
    let o = auditor(&["keychain", &b, "--password", &pw, "--fail-on", "high"]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert!(!stderr(&o).contains("--fail-on"));
    // With --app, only that app's findings count: the notes' deprecated class, not the
    // messenger's token.
    let o = auditor(&[
        "keychain",
        &b,
        "--password",
        &pw,
        "--app",
        "com.example.notes",
        "--fail-on",
        "low",
    ]);
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    assert!(
        stderr(&o).contains("1 finding at or above low: keychain.deprecated-class (medium) x1"),
        "{}",
        stderr(&o)
    );
}

/// `key -o FILE` refuses an existing FILE before deriving (a wrong password is not even
/// tried), replaces it with `--force`, and leaves it private (issue 13 item 8).
#[test]
fn key_output_refuses_an_existing_file_first_and_force_replaces_it() {
    let (b, pw) = demo();
    let dir = tempfile::tempdir().unwrap();
    let f = dir.path().join("k");
    std::fs::write(&f, "old").unwrap();
    let fs = f.to_str().unwrap();
    // A wrong password would be exit 3: the refusal (2) comes first.
    let o = auditor(&["key", &b, "--password", "not-it", "-o", fs]);
    assert_eq!(o.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&o.stderr).contains("the file exists; pass --force"));
    assert_eq!(std::fs::read_to_string(&f).unwrap(), "old");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&f, std::fs::Permissions::from_mode(0o644)).unwrap();
    }
    let o = auditor(&["key", &b, "--password", &pw, "-o", fs, "--force"]);
    assert_eq!(
        o.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    let key = std::fs::read_to_string(&f).unwrap();
    assert_eq!(key.trim().len(), 64, "{key}");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&f).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600);
    }
    // Near miss: a new file needs no --force.
    let g = dir.path().join("new");
    let o = auditor(&["key", &b, "--password", &pw, "-o", g.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(0));
}

/// `fixture` on a file that is not a spec names the file (issue 13 item 10).
#[test]
fn fixture_names_the_spec_file_it_cannot_read() {
    let readme = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("README.md");
    let out = tempfile::tempdir().unwrap();
    let o = auditor(&[
        "fixture",
        readme.to_str().unwrap(),
        out.path().join("x").to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(2));
    let e = String::from_utf8_lossy(&o.stderr);
    assert!(e.contains("README.md: invalid fixture spec: JSON:"), "{e}");
    assert!(!out.path().join("x").exists(), "nothing written");
}

/// The MBFile of every row of a plaintext Manifest.db, read by a decoder of this test's
/// own (rusqlite + the plist crate): (domain, relativePath) → the root object.
fn mbfiles(db: &std::path::Path) -> std::collections::HashMap<(String, String), plist::Dictionary> {
    let c = rusqlite::Connection::open_with_flags(db, rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY)
        .unwrap();
    let mut q = c
        .prepare("SELECT domain, relativePath, file FROM Files")
        .unwrap();
    let rows = q
        .query_map([], |r| {
            Ok((
                r.get::<_, String>(0)?,
                r.get::<_, String>(1)?,
                r.get::<_, Vec<u8>>(2)?,
            ))
        })
        .unwrap();
    let mut out = std::collections::HashMap::new();
    for row in rows {
        let (d, p, blob) = row.unwrap();
        let v = plist::Value::from_reader(std::io::Cursor::new(blob)).unwrap();
        let v = v.as_dictionary().unwrap();
        let objects = v["$objects"].as_array().unwrap();
        let root = match &v["$top"].as_dictionary().unwrap()["root"] {
            plist::Value::Uid(u) => u.get() as usize,
            other => panic!("root {other:?}"),
        };
        out.insert((d, p), objects[root].as_dictionary().unwrap().clone());
    }
    out
}

/// `scan --format json` gives each file's times and owner ids from the index (issue 13
/// item 14), as an independent reading of the conformance backup's Manifest.db has them.
#[test]
fn scan_json_has_file_times_and_owner_ids() {
    let Some((b, _)) = conformance("small-unencrypted") else {
        eprintln!("skipped: ../shared/conformance absent");
        return;
    };
    let r = json_ok(&["scan", b.to_str().unwrap(), "--format", "json"]);
    let truth = mbfiles(&b.join("Manifest.db"));
    let files = r["files"].as_array().unwrap();
    assert_eq!(files.len(), truth.len());
    let int = |d: &plist::Dictionary, k: &str| d.get(k).and_then(|v| v.as_signed_integer());
    let mut timed = 0;
    for f in files {
        let key = (
            f["domain"].as_str().unwrap().to_string(),
            f["relative_path"].as_str().unwrap().to_string(),
        );
        let t = &truth[&key];
        for (json, mb) in [
            ("user_id", "UserID"),
            ("group_id", "GroupID"),
            ("inode", "InodeNumber"),
        ] {
            assert_eq!(f[json].as_i64(), int(t, mb), "{key:?} {json}");
        }
        for (json, mb) in [
            ("last_modified", "LastModified"),
            ("last_status_change", "LastStatusChange"),
            ("birth", "Birth"),
        ] {
            let want = int(t, mb).map(|s| {
                time::OffsetDateTime::from_unix_timestamp(s)
                    .unwrap()
                    .format(&time::format_description::well_known::Rfc3339)
                    .unwrap()
            });
            assert_eq!(f[json].as_str().map(str::to_string), want, "{key:?} {json}");
            timed += usize::from(want.is_some());
        }
    }
    assert!(timed > 0, "no row had a time: the test would prove nothing");
}

/// Write a small fixture backup (the `small.json` spec, encrypted, or `small-unencrypted.json`)
/// with its device named `name`, dated `date` and its UDID `udid`, into `dir/<udid>`.
fn fixture_backup(
    dir: &std::path::Path,
    encrypted: bool,
    udid: &str,
    name: &str,
    date: &str,
) -> std::path::PathBuf {
    let spec = if encrypted {
        "small.json"
    } else {
        "small-unencrypted.json"
    };
    let text = std::fs::read_to_string(repo("fixtures/specs").join(spec)).unwrap();
    let mut v: serde_json::Value = serde_json::from_str(&text).unwrap();
    v["device"]["udid"] = udid.into();
    v["device"]["name"] = name.into();
    v["date"] = date.into();
    // A few files are enough: these tests are about the folders, not the payloads.
    v["files"].as_array_mut().unwrap().truncate(2);
    let spec: auditor::fixture::Spec = serde_json::from_value(v).unwrap();
    let out = dir.join(udid);
    std::fs::create_dir_all(dir).unwrap();
    auditor::fixture::write(&spec, &out).unwrap();
    out
}

fn stderr(o: &std::process::Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

fn stdout(o: &std::process::Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

const UDID_A: &str = "00008120-000F1C7A5E11A001";
const UDID_B: &str = "00008030-001122334455667E";

/// `info FILE` reads a Manifest.plist on its own, whatever its name, as `info` on the folder
/// reads it, without calling the files it was not given missing (issue 13 item 9).
#[test]
fn info_reads_a_manifest_plist_alone() {
    let tmp = tempfile::tempdir().unwrap();
    let b = fixture_backup(tmp.path(), true, UDID_A, "Phone A", "2024-06-01T12:00:00Z");
    let alone = tmp.path().join("Manifest-copy.plist");
    std::fs::copy(b.join("Manifest.plist"), &alone).unwrap();
    let whole = json_ok(&["info", b.to_str().unwrap(), "--format", "json"]);
    let r = json_ok(&["info", alone.to_str().unwrap(), "--format", "json"]);
    assert_eq!(r["schema"], "auditor.scan/1");
    assert_eq!(r["backup"]["input"], "manifest_plist");
    assert_eq!(whole["backup"]["input"], "backup_folder");
    assert_eq!(r["backup"]["path"], alone.to_str().unwrap());
    for k in [
        "udid",
        "device_name",
        "ios_version",
        "date",
        "passcode_set",
        "kdf",
    ] {
        assert_eq!(r["backup"][k], whole["backup"][k], "{k}");
    }
    assert_eq!(r["backup"]["encryption"]["declared"], true);
    assert_eq!(r["backup"]["encryption"]["manifest_key_class"], 4);
    assert_eq!(r["keybag"], whole["keybag"]);
    assert_eq!(r["backup"]["index"], "none");
    let rules = |v: &serde_json::Value| -> Vec<String> {
        v["findings"]
            .as_array()
            .unwrap()
            .iter()
            .map(|f| f["rule"].as_str().unwrap().to_string())
            .collect()
    };
    // The KDF is judged as on the folder; nothing beside the plist is said to be missing.
    assert!(rules(&r).contains(&"backup.weak-kdf".to_string()), "{r}");
    assert!(!rules(&r).iter().any(|x| x == "backup.missing-file"), "{r}");
    let mut folder_rules = rules(&whole);
    folder_rules.retain(|x| x != "backup.not-full");
    assert_eq!(rules(&r), folder_rules);
    // The table says plainly what was read.
    let o = auditor(&["info", alone.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let t = stdout(&o);
    assert!(t.contains("Input       a Manifest.plist alone"), "{t}");
    assert!(t.contains("Index       not read"), "{t}");
    assert!(t.contains("backup.weak-kdf"), "{t}");
    assert!(!t.contains("missing"), "{t}");
    // The folder's table has no such line.
    let o = auditor(&["info", b.to_str().unwrap()]);
    assert!(!stdout(&o).contains("Input "), "{}", stdout(&o));
    // --fail-on gates on the plist's findings as on the folder's.
    let o = auditor(&["info", alone.to_str().unwrap(), "--fail-on", "medium"]);
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    // Never written over: -o onto the plist read is refused, and so is its backup folder.
    let before = std::fs::read(&alone).unwrap();
    let o = auditor(&[
        "info",
        alone.to_str().unwrap(),
        "-o",
        alone.to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert!(stderr(&o).contains("refusing to overwrite the Manifest.plist"));
    assert_eq!(std::fs::read(&alone).unwrap(), before);
    let inner = b.join("Manifest.plist");
    let o = auditor(&[
        "info",
        inner.to_str().unwrap(),
        "-o",
        b.join("r.txt").to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert!(!b.join("r.txt").exists());
    // Near miss: beside a plist kept on its own, a report may be written.
    let o = auditor(&[
        "info",
        alone.to_str().unwrap(),
        "-o",
        tmp.path().join("r.txt").to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
}

/// The commands that need a whole backup refuse a file: exit 4, the file named, and what to
/// pass instead.
#[test]
fn commands_that_need_a_backup_refuse_a_file() {
    let tmp = tempfile::tempdir().unwrap();
    let b = fixture_backup(tmp.path(), false, UDID_A, "Phone A", "2024-06-01T12:00:00Z");
    let file = b.join("Manifest.plist");
    let f = file.to_str().unwrap();
    let pol = tmp.path().join("p.toml");
    std::fs::write(&pol, "schema = 1\n").unwrap();
    let out = tmp.path().join("x");
    let runs: [Vec<&str>; 5] = [
        vec!["scan", f],
        vec!["keychain", f],
        vec!["extract", f, "-o", out.to_str().unwrap()],
        vec!["check", f, "--policy", pol.to_str().unwrap()],
        vec!["policy", "init", f],
    ];
    for args in &runs {
        let o = auditor(args);
        assert_eq!(o.status.code(), Some(4), "{args:?}: {}", stderr(&o));
        let e = stderr(&o);
        assert!(
            e.starts_with(&format!("auditor: {f}: not an iOS backup: a file, not a backup folder: pass the backup folder")),
            "{args:?}: {e}"
        );
        assert!(o.stdout.is_empty(), "{args:?}");
    }
    assert!(!out.exists());
}

/// A plist that is not one, cut short or empty: exit 4 naming the file, never a panic.
#[test]
fn info_on_a_bad_plist_file_names_it() {
    let tmp = tempfile::tempdir().unwrap();
    let cases: [(&str, &[u8], &str); 4] = [
        ("cut.plist", b"bplist00\xd1\x01\x02", ""),
        ("empty.plist", b"", ""),
        (
            "other.plist",
            b"<?xml version=\"1.0\"?><plist version=\"1.0\"><dict><key>x</key><integer>1</integer></dict></plist>",
            "not a Manifest.plist",
        ),
        ("array.plist", b"<plist version=\"1.0\"><array/></plist>", ""),
    ];
    for (name, bytes, says) in cases {
        let p = tmp.path().join(name);
        std::fs::write(&p, bytes).unwrap();
        for args in [
            vec!["info", p.to_str().unwrap()],
            vec!["key", p.to_str().unwrap(), "--password", "x"],
        ] {
            let o = auditor(&args);
            assert_eq!(o.status.code(), Some(4), "{args:?}: {}", stderr(&o));
            let e = stderr(&o);
            assert!(e.starts_with(&format!("auditor: {}: ", p.display())), "{e}");
            assert!(e.contains(says), "{e}");
            assert!(!e.contains("internal error"), "{e}");
        }
    }
}

/// `key` on a Manifest.plist alone derives the key from its keybag: the same key as on the
/// backup folder.
#[test]
fn key_derives_from_a_manifest_plist_alone() {
    let tmp = tempfile::tempdir().unwrap();
    let b = fixture_backup(tmp.path(), true, UDID_A, "Phone A", "2024-06-01T12:00:00Z");
    let alone = tmp.path().join("M.plist");
    std::fs::copy(b.join("Manifest.plist"), &alone).unwrap();
    let key = |p: &std::path::Path| {
        let o = auditor(&["key", p.to_str().unwrap(), "--password", "fixture-small-pw"]);
        assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
        stdout(&o).trim().to_string()
    };
    let k = key(&alone);
    assert_eq!(k.len(), 64, "{k}");
    assert_eq!(k, key(&b));
    // A wrong password is found out by the keybag alone (exit 3).
    let o = auditor(&["key", alone.to_str().unwrap(), "--password", "nope"]);
    assert_eq!(o.status.code(), Some(3), "{}", stderr(&o));
}

/// The real Manifest.plist files of john-samples (only the keybag at hand): `info` reads
/// each, judges its KDF, and `key` unlocks the cheap legacy one with its password.
#[test]
fn info_on_john_samples_manifest_files() {
    let Some(dir) = shared("external/john-samples") else {
        return;
    };
    for (name, scheme, weak) in [
        ("Manifest-10-test123.plist", "two_stage", false),
        ("Manifest-9-test123.plist", "legacy_sha1", true),
        ("Manifest-9-123456.plist", "legacy_sha1", true),
    ] {
        let p = dir.join(name);
        let r = json_ok(&["info", p.to_str().unwrap(), "--format", "json"]);
        assert_eq!(r["backup"]["input"], "manifest_plist", "{name}");
        assert_eq!(r["backup"]["encryption"]["declared"], true, "{name}");
        assert_eq!(r["backup"]["kdf"]["scheme"], scheme, "{name}");
        assert!(r["backup"]["udid"].as_str().unwrap().len() == 40, "{name}");
        assert_eq!(
            r["keybag"]["classes"].as_array().unwrap().len(),
            11,
            "{name}"
        );
        let rules: Vec<&str> = r["findings"]
            .as_array()
            .unwrap()
            .iter()
            .map(|f| f["rule"].as_str().unwrap())
            .collect();
        assert_eq!(
            rules.contains(&"backup.weak-kdf"),
            weak,
            "{name}: {rules:?}"
        );
        assert!(!rules.contains(&"backup.missing-file"), "{name}: {rules:?}");
        let o = auditor(&["info", p.to_str().unwrap()]);
        assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
        assert!(stdout(&o).contains("a Manifest.plist alone"));
    }
    // The folder itself holds no backup: the error says where a plist alone goes.
    let o = auditor(&["info", dir.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(4));
    assert!(stderr(&o).contains("auditor info FILE"), "{}", stderr(&o));
    // Legacy KDF (10,000 PBKDF2-SHA1 rounds): the key is cheap to derive here.
    let p = dir.join("Manifest-9-123456.plist");
    let o = auditor(&["key", p.to_str().unwrap(), "--password", "123456"]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert_eq!(stdout(&o).trim().len(), 64);
    let o = auditor(&["key", p.to_str().unwrap(), "--password", "test123"]);
    assert_eq!(o.status.code(), Some(3), "{}", stderr(&o));
}

/// A folder that holds one backup (one level down, or two as in `MobileSync/Backup/<UDID>`
/// given `MobileSync`) is read as that backup, said on stderr.
#[test]
fn the_only_backup_of_a_folder_is_used() {
    let tmp = tempfile::tempdir().unwrap();
    let sync = tmp.path().join("MobileSync");
    let b = fixture_backup(
        &sync.join("Backup"),
        false,
        UDID_A,
        "Phone A",
        "2024-06-01T12:00:00Z",
    );
    let before = tree_digest(&sync);
    for (given, args) in [
        (sync.join("Backup"), vec!["scan"]),
        (sync.clone(), vec!["scan"]),
        (sync.clone(), vec!["info"]),
    ] {
        let mut args = args.clone();
        let g = given.to_str().unwrap().to_string();
        args.extend([g.as_str(), "--format", "json"]);
        let o = auditor(&args);
        assert_eq!(o.status.code(), Some(0), "{args:?}: {}", stderr(&o));
        assert_eq!(
            stderr(&o),
            format!(
                "auditor: using the only backup in {}: {}\n",
                given.display(),
                b.display()
            )
        );
        assert_eq!(json(&o)["backup"]["path"], b.to_str().unwrap());
    }
    // Given the backup itself, nothing is said.
    let o = auditor(&["info", b.to_str().unwrap()]);
    assert_eq!((o.status.code(), stderr(&o).as_str()), (Some(0), ""));
    // Not three levels down.
    let o = auditor(&["info", tmp.path().to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(4), "{}", stderr(&o));
    // Nor through a link two levels down.
    let other = tempfile::tempdir().unwrap();
    std::fs::create_dir(other.path().join("sub")).unwrap();
    #[cfg(unix)]
    {
        std::os::unix::fs::symlink(&b, other.path().join("sub/link")).unwrap();
        let o = auditor(&["info", other.path().to_str().unwrap()]);
        assert_eq!(o.status.code(), Some(4), "{}", stderr(&o));
        // One level down, a link to a backup counts (the user's own layout).
        std::os::unix::fs::symlink(&b, other.path().join("top")).unwrap();
        let o = auditor(&["info", other.path().to_str().unwrap()]);
        assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    }
    assert_eq!(before, tree_digest(&sync), "the backup was modified");
}

/// Several backups: listed aligned within 80 columns, newest first, with `--format json` as
/// an `auditor.backups/1` document; exit 2 where one backup is needed, exit 0 for `info`.
#[test]
fn several_backups_are_listed_aligned_and_in_json() {
    let tmp = tempfile::tempdir().unwrap();
    let sync = tmp.path().join("MobileSync");
    let dir = sync.join("Backup");
    let old = fixture_backup(&dir, false, UDID_A, "Old Phone", "2023-01-02T03:04:05Z");
    let new = fixture_backup(
        &dir,
        true,
        UDID_B,
        "A phone whose owner gave it a very long name indeed",
        "2025-02-03T04:05:06Z",
    );
    // An entry that is no backup, a dangling link, and a copy of the old backup's
    // Manifest.plist whose Info.plist is a FIFO.
    std::fs::create_dir(dir.join("notes")).unwrap();
    let third = dir.join("0123456789abcdef0123456789abcdef01234567");
    std::fs::create_dir(&third).unwrap();
    std::fs::copy(old.join("Manifest.plist"), third.join("Manifest.plist")).unwrap();
    #[cfg(unix)]
    {
        std::os::unix::fs::symlink(tmp.path().join("gone"), dir.join("dangling")).unwrap();
        let fifo = third.join("Info.plist");
        let ok = Command::new("mkfifo").arg(&fifo).status().unwrap();
        assert!(ok.success());
    }
    // (Not the third: reading its FIFO would wait for a writer.)
    let digest = || (tree_digest(&old), tree_digest(&new));
    let before = digest();
    for given in [&dir, &sync] {
        let g = given.to_str().unwrap();
        // A command that needs one backup: exit 2, the listing on stderr.
        let o = auditor(&["scan", g]);
        assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
        let e = stderr(&o);
        let lines: Vec<&str> = e.lines().collect();
        assert_eq!(
            lines[0],
            format!("auditor: {g} holds 3 backups; give one of them:")
        );
        assert!(lines[1].starts_with("  FOLDER "), "{e}");
        for l in &lines[1..] {
            assert!(l.chars().count() <= 80, "{l:?}");
        }
        // Newest first: the new, then the old and the third (its copy: the same date, so by
        // folder), and the third's problem, its path relative to the folder given.
        assert!(
            lines[2].contains("2025-02-03T04:05:06Z") && lines[2].contains('…'),
            "{e}"
        );
        assert!(
            lines[3].contains("Old Phone") && lines[3].contains("2023-01-02"),
            "{e}"
        );
        let rel = third.strip_prefix(given).unwrap().to_str().unwrap();
        assert!(lines[4].starts_with(&format!("  {}", &rel[..4])), "{e}");
        assert!(
            lines[5].starts_with(&format!("    ! {}", &rel[..4]))
                && lines[5].ends_with("/Info.plist: not a regular file"),
            "{e}"
        );
        let at = |l: &str, s: &str| l.find(s).map(|i| l[..i].chars().count());
        assert_eq!(at(lines[1], "DATE"), at(lines[2], "2025-"));
        assert_eq!(at(lines[1], "ENCRYPTED"), at(lines[2], "yes "));
        assert_eq!(at(lines[1], "ENCRYPTED"), at(lines[3], "no "));
        // With --format json the listing is also on stdout.
        let o = auditor(&["scan", g, "--format", "json"]);
        assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
        let v = json(&o);
        assert_eq!(v["schema"], "auditor.backups/1");
        assert_eq!(v["path"], g);
        let paths: Vec<&str> = v["backups"]
            .as_array()
            .unwrap()
            .iter()
            .map(|b| b["path"].as_str().unwrap())
            .collect();
        assert_eq!(
            paths,
            [
                new.to_str().unwrap(),
                old.to_str().unwrap(),
                third.to_str().unwrap()
            ]
        );
        assert_eq!(v["backups"][0]["encrypted"], true);
        assert_eq!(v["backups"][0]["udid"], UDID_B);
        assert_eq!(v["backups"][1]["device_name"], "Old Phone");
        assert_eq!(v["backups"][1]["date"], "2023-01-02T03:04:05Z");
        assert_eq!(v["backups"][2]["date"], "2023-01-02T03:04:05Z");
        assert!(v["backups"][2]["problems"][0]
            .as_str()
            .unwrap()
            .contains("not a regular file"));
        // Near miss: table output puts nothing on stdout.
        assert!(auditor(&["keychain", g]).stdout.is_empty());
        // `info` lists them and exits 0: the listing is what there is to tell.
        let o = auditor(&["info", g]);
        assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
        let t = stdout(&o);
        assert!(
            t.starts_with(&format!("{g} holds 3 backups (newest first)")),
            "{t}"
        );
        assert_eq!(t.lines().nth(1), lines.get(1).copied());
        let o = auditor(&["info", g, "--format", "json"]);
        assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
        assert_eq!(json(&o)["backups"].as_array().unwrap().len(), 3);
        // SARIF has no listing: exit 2 as the other commands.
        let o = auditor(&["info", g, "--format", "sarif"]);
        assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    }
    assert_eq!(before, digest(), "a backup was modified");
}
/// Every table writer on the demo backup: scan, scan --files, info, keychain, check,
/// extract. No line ends in a space and none is wider than 80 columns, but for the single
/// values `misfit_lines` exempts (tests/common: one unbreakable word, or a path after its
/// label).
#[test]
fn every_table_fits_80_columns_without_trailing_spaces() {
    let stderr = |o: &std::process::Output| String::from_utf8_lossy(&o.stderr).to_string();
    // The check itself: a trailing space and a wide line of words are caught, a single
    // word or a labelled path alone is not.
    let probe = format!(
        "ok\nend \n{}\n  {}\nBackup      {}",
        "a ".repeat(41).trim_end(),
        "p".repeat(90),
        "p".repeat(90)
    );
    assert_eq!(misfit_lines(&probe).len(), 2, "{probe}");
    let tmp = tempfile::tempdir().unwrap();
    let b = repo(DEMO);
    let b = b.to_str().unwrap();
    let pw = repo(DEMO_PASSWORD_FILE);
    let pw = pw.to_str().unwrap();
    let policy = tmp.path().join("policy.toml");
    let policy = policy.to_str().unwrap();
    let out_dir = tmp.path().join("x");
    let out_dir = out_dir.to_str().unwrap();
    let init = auditor(&["policy", "init", b, "--password-file", pw, "-o", policy]);
    assert_eq!(init.status.code(), Some(0), "{}", stderr(&init));
    let runs: [&[&str]; 7] = [
        &["info", b],
        &["scan", b, "--password-file", pw],
        &["scan", b, "--password-file", pw, "--files"],
        &["scan", b, "--password-file", pw, "--deep"],
        &["keychain", b, "--password-file", pw],
        &["check", b, "--password-file", pw, "--policy", policy],
        &["extract", b, "--password-file", pw, "--out", out_dir],
    ];
    for args in runs {
        let o = auditor(args);
        assert!(
            o.status.code().is_some_and(|c| c <= 1),
            "{args:?}: {}",
            stderr(&o)
        );
        let text = String::from_utf8(o.stdout).unwrap();
        assert!(text.lines().count() > 3, "{args:?}: {text}");
        let bad = misfit_lines(&text);
        assert!(bad.is_empty(), "{args:?}: {bad:#?}\n{text}");
    }
}
