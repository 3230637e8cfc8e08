//! Evidence integrity: the backup tree is byte-identical before and after every subcommand
//! (encrypted backup, plain-SQLite index, an index with a pending WAL that SQLite would
//! otherwise check-point into Manifest.db, the read-only conformance backups), and auditor
//! writes only where the user asked (`--output`, `key -o`), never inside the backup nor in the
//! working directory.

mod harden;

use harden::{copy_tree, digest_diff, run_auditor, tree_digest};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Duration;

const LIMIT: Duration = Duration::from_secs(120);

/// A backup in an evidence folder, with output and working folders beside it.
struct Setup {
    _dir: tempfile::TempDir,
    /// Holds the backup folder and nothing else.
    evidence: PathBuf,
    backup: PathBuf,
    /// Where requested outputs go.
    out: PathBuf,
    cwd: PathBuf,
    password_file: Option<PathBuf>,
}

/// Write fixture `spec` into a fresh evidence folder.
fn setup_fixture(spec: &str) -> Setup {
    let dir = tempfile::tempdir().expect("tempdir");
    let spec = harden::spec_json(spec, Some(20_000));
    let evidence = dir.path().join("evidence");
    let (backup, _) = harden::write_fixture(&spec, &evidence);
    finish(dir, evidence, backup, spec["password"].as_str())
}

/// Create the output and working folders and the password file of a setup.
fn finish(
    dir: tempfile::TempDir,
    evidence: PathBuf,
    backup: PathBuf,
    password: Option<&str>,
) -> Setup {
    let out = dir.path().join("out");
    let cwd = dir.path().join("cwd");
    std::fs::create_dir_all(&out).expect("out");
    std::fs::create_dir_all(&cwd).expect("cwd");
    let password_file = password.map(|p| {
        let f = dir.path().join("password.txt");
        std::fs::write(&f, p).expect("password file");
        f
    });
    Setup {
        _dir: dir,
        evidence,
        backup,
        out,
        cwd,
        password_file,
    }
}

/// Every subcommand, with outputs requested into `out/`; returns how many runs were made.
fn run_all(s: &Setup, label: &str) -> usize {
    let cmds = evidence_commands(s);
    let before = tree_digest(&s.evidence);
    // Every file auditor reads, plain Manifest.db included, is opened with O_NOATIME.
    let atime_checked = cfg!(target_os = "linux") && atimes_are_updated(&s.out);
    let mut expected_outputs: Vec<String> = Vec::new();
    for c in &cmds {
        let args: Vec<&str> = c.iter().map(String::as_str).collect();
        let run = run_leaving_evidence_alone(s, label, &args, atime_checked, &before);
        if matches!(run.code, Some(0 | 1)) {
            expected_outputs.extend(requested_outputs(&args));
        }
    }
    check_only_requested_outputs(s, label, expected_outputs);
    eprintln!("{label}: {} runs, evidence unchanged", cmds.len());
    cmds.len()
}

/// The command lines of every subcommand on the backup, outputs into `out/`, with the
/// password file (when there is one) from the third on.
fn evidence_commands(s: &Setup) -> Vec<Vec<String>> {
    let b = s.backup.display().to_string();
    let pw: Vec<String> = match &s.password_file {
        Some(f) => vec!["--password-file".into(), f.display().to_string()],
        None => vec![],
    };
    let out = |name: &str| s.out.join(name).display().to_string();
    let mut cmds: Vec<Vec<String>> = vec![
        vec!["info".into(), b.clone()],
        vec![
            "info".into(),
            b.clone(),
            "--format".into(),
            "json".into(),
            "-o".into(),
            out("info.json"),
        ],
        vec!["scan".into(), b.clone(), "--no-password".into()],
        vec!["scan".into(), b.clone()],
        vec!["scan".into(), b.clone(), "--deep".into(), "--files".into()],
        vec![
            "scan".into(),
            b.clone(),
            "--deep".into(),
            "--format".into(),
            "json".into(),
            "--output".into(),
            out("scan.json"),
        ],
        vec!["keychain".into(), b.clone()],
        vec![
            "keychain".into(),
            b.clone(),
            "--format".into(),
            "json".into(),
            "-o".into(),
            out("keychain.json"),
        ],
    ];
    cmds.push(vec![
        "extract".into(),
        b.clone(),
        "--symlinks".into(),
        "--out".into(),
        out("export"),
        "--report".into(),
        out("extract.txt"),
    ]);
    if s.password_file.is_some() {
        cmds.push(vec!["key".into(), b.clone(), "-o".into(), out("key.txt")]);
    }
    for c in cmds.iter_mut().skip(2) {
        c.extend(pw.iter().cloned());
    }
    cmds
}

/// Run `args`: it succeeds, changes no access time (when checked) and leaves the evidence
/// tree equal to `before`.
fn run_leaving_evidence_alone(
    s: &Setup,
    label: &str,
    args: &[&str],
    atime_checked: bool,
    before: &BTreeMap<PathBuf, String>,
) -> harden::Run {
    if atime_checked {
        set_atimes(&s.evidence, OLD);
    }
    let run = run_auditor(args, &s.cwd, None, LIMIT);
    if atime_checked {
        for (p, t) in atimes(&s.evidence) {
            assert!(
                t == OLD,
                "{label}: {args:?} changed the access time of {}",
                p.display()
            );
        }
    }
    assert!(
        matches!(run.code, Some(0..=4)),
        "{label}: {args:?} exited {:?}: {}",
        run.code,
        run.stderr()
    );
    // On these intact backups every run succeeds (extract says 1 when files the index
    // lists are missing on disk, as some fixtures have on purpose).
    let ok = if args[0] == "extract" { 0..=1 } else { 0..=0 };
    assert!(
        run.code.is_some_and(|c| ok.contains(&c)),
        "{label}: {args:?}: exit {:?}: {}",
        run.code,
        run.stderr()
    );
    let after = tree_digest(&s.evidence);
    let diff = digest_diff(before, &after);
    assert!(
        diff.is_empty(),
        "{label}: {args:?} changed the evidence: {diff:?}"
    );
    run
}

/// File names of the outputs `args` asks for (`-o`, `--output`, `--out`, `--report`).
fn requested_outputs(args: &[&str]) -> Vec<String> {
    args.iter()
        .enumerate()
        .filter(|(_, a)| ["-o", "--output", "--out", "--report"].contains(a))
        .map(|(i, _)| {
            Path::new(args[i + 1])
                .file_name()
                .unwrap()
                .to_string_lossy()
                .into_owned()
        })
        .collect()
}

/// Only the requested outputs were written, and nothing in the working directory.
fn check_only_requested_outputs(s: &Setup, label: &str, mut expected_outputs: Vec<String>) {
    let mut written: Vec<String> = std::fs::read_dir(&s.out)
        .expect("out")
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    written.sort();
    expected_outputs.sort();
    assert_eq!(written, expected_outputs, "{label}: files in out/");
    assert!(
        std::fs::read_dir(&s.cwd).unwrap().next().is_none(),
        "{label}: something was written into the working directory"
    );
    assert_eq!(
        std::fs::read_dir(&s.evidence).unwrap().count(),
        1,
        "{label}: something was written beside the backup"
    );
}

/// An access time older than any modification time: under `relatime` any read updates it.
const OLD: std::time::SystemTime = std::time::UNIX_EPOCH;

/// Folders and regular files under `dir` with their access times (reading metadata does
/// not change them; a folder's is read before this lists it, which updates it).
fn atimes(dir: &Path) -> Vec<(PathBuf, std::time::SystemTime)> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        if d != dir {
            let md = std::fs::symlink_metadata(&d).expect("metadata");
            out.push((d.clone(), md.accessed().expect("atime")));
        }
        for e in std::fs::read_dir(&d).expect("read_dir") {
            let p = e.expect("entry").path();
            let md = std::fs::symlink_metadata(&p).expect("metadata");
            if md.is_dir() {
                stack.push(p);
            } else if md.is_file() {
                out.push((p, md.accessed().expect("atime")));
            }
        }
    }
    out
}

/// Set the access time of `p`, keeping its modification time.
fn set_atime(p: &Path, t: std::time::SystemTime) {
    std::fs::File::open(p)
        .and_then(|f| f.set_times(std::fs::FileTimes::new().set_accessed(t)))
        .expect("set atime");
}

/// Set the access time of every folder and regular file under `dir` to `t` (modification
/// times kept; set after the whole tree is listed).
fn set_atimes(dir: &Path, t: std::time::SystemTime) {
    for (p, _) in atimes(dir) {
        set_atime(&p, t);
    }
}

/// Does this filesystem record reads in access times (not mounted `noatime`)? Tried on a
/// scratch file in `dir`; when it does not, the access-time checks are skipped.
fn atimes_are_updated(dir: &Path) -> bool {
    let p = dir.join(".atime-probe");
    std::fs::write(&p, b"x").expect("probe");
    set_atime(&p, OLD);
    let _ = std::fs::read(&p);
    let updated = std::fs::metadata(&p)
        .and_then(|m| m.accessed())
        .is_ok_and(|t| t != OLD);
    std::fs::remove_file(&p).expect("probe");
    if !updated {
        eprintln!("skipped: access times are not updated on this filesystem");
    }
    updated
}

#[test]
fn encrypted_fixture_is_untouched() {
    let s = setup_fixture("small.json");
    run_all(&s, "encrypted fixture");
}

#[test]
fn plain_sqlite_index_is_untouched() {
    let s = setup_fixture("small-unencrypted.json");
    run_all(&s, "plain Manifest.db");
}

/// A plain Manifest.db with committed transactions still in Manifest.db-wal and a -shm file:
/// an ordinary SQLite open would check-point them into Manifest.db and delete the WAL.
#[test]
fn pending_wal_is_not_checkpointed() {
    let s = setup_fixture("small-unencrypted.json");
    let db = s.backup.join("Manifest.db");
    let scratch = tempfile::tempdir().expect("tempdir");
    let work = scratch.path().join("Manifest.db");
    std::fs::copy(&db, &work).expect("copy");
    let conn = rusqlite::Connection::open(&work).expect("open");
    conn.execute_batch(
        "PRAGMA journal_mode=WAL; PRAGMA wal_autocheckpoint=0;
         INSERT INTO Files VALUES ('ffffffffffffffffffffffffffffffffffffffff', 'HomeDomain', 'wal-row', 1, NULL);",
    )
    .expect("write in WAL mode");
    // Copy while the connection is open: the row lives only in the WAL.
    for ext in ["", "-wal", "-shm"] {
        let from = PathBuf::from(format!("{}{ext}", work.display()));
        let to = PathBuf::from(format!("{}{ext}", db.display()));
        if from.exists() {
            std::fs::copy(&from, &to).expect("copy WAL files");
        }
    }
    drop(conn);
    assert!(s.backup.join("Manifest.db-wal").exists());
    run_all(&s, "pending WAL");
}

/// The conformance backups (copied: the originals are read-only, which would hide writes).
#[test]
fn conformance_backups_are_untouched() {
    let mut total = 0;
    for case in ["small-encrypted", "small-unencrypted"] {
        let Some(src) = harden_conformance(case) else {
            return;
        };
        let dir = tempfile::tempdir().expect("tempdir");
        let evidence = dir.path().join("evidence");
        let backup = evidence.join(src.0.file_name().unwrap());
        copy_tree(&src.0, &backup);
        harden::make_writable(&evidence);
        let s = finish(dir, evidence, backup, src.1.as_deref());
        total += run_all(&s, case);
    }
    eprintln!("conformance: {total} runs");
}

/// A conformance backup folder of ../shared and its password; `None` when absent.
fn harden_conformance(case: &str) -> Option<(PathBuf, Option<String>)> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../shared/conformance")
        .join(case);
    if !dir.exists() {
        eprintln!("skipped: {} not found", dir.display());
        return None;
    }
    let expected: serde_json::Value =
        serde_json::from_slice(&std::fs::read(dir.join("EXPECTED.json")).ok()?).ok()?;
    Some((
        dir.join(expected["backup_dir"].as_str()?),
        expected["password"].as_str().map(str::to_owned),
    ))
}

/// `--output` (and `key -o`) inside the backup is refused with exit 2 and nothing is written.
#[test]
fn output_inside_the_backup_is_refused() {
    let s = setup_fixture("small.json");
    let before = tree_digest(&s.evidence);
    let pw = s.password_file.as_ref().unwrap().display().to_string();
    let b = s.backup.display().to_string();
    let inside = s.backup.join("report.json").display().to_string();
    let nested = s
        .backup
        .join("no-such-dir")
        .join("x.txt")
        .display()
        .to_string();
    let id = auditor::fixture::file_id("KeychainDomain", "keychain-backup.plist");
    let in_prefix = s.backup.join(&id[..2]).join("x.txt").display().to_string();
    for args in [
        vec!["scan", &b, "--password-file", &pw, "-o", &inside],
        vec!["info", &b, "--output", &inside],
        vec!["keychain", &b, "--password-file", &pw, "-o", &nested],
        vec!["key", &b, "--password-file", &pw, "-o", &inside],
        vec!["scan", &b, "--no-password", "-o", &in_prefix],
    ] {
        let run = run_auditor(&args, &s.cwd, None, LIMIT);
        assert_eq!(run.code, Some(2), "{args:?}: {}", run.stderr());
        assert!(
            run.stderr().contains("inside the backup"),
            "{}",
            run.stderr()
        );
    }
    let diff = digest_diff(&before, &tree_digest(&s.evidence));
    assert!(diff.is_empty(), "{diff:?}");
}
