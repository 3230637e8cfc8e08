//! Helpers of the hardening tests (mutation, evidence, hygiene): fixture backups, running the
//! binary with a time limit, and a digest of a tree that never follows symlinks.
#![allow(dead_code)]

use std::collections::BTreeMap;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// A fixture spec from fixtures/specs/, with payload sizes capped at `cap` bytes (the
/// mutation test copies the tree hundreds of times; structure, not size, is what matters).
pub fn spec_json(name: &str, cap: Option<u64>) -> serde_json::Value {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("fixtures/specs")
        .join(name);
    let mut v: serde_json::Value =
        serde_json::from_slice(&std::fs::read(&path).expect("spec")).expect("spec JSON");
    if let Some(cap) = cap {
        for f in v["files"].as_array_mut().expect("files") {
            if let Some(size) = f["content"]["size"].as_u64() {
                if size > cap {
                    f["content"]["size"] = cap.into();
                }
            }
        }
    }
    v
}

/// Write the fixture of `spec` into `dir/<udid>`; returns the backup folder and summary.
pub fn write_fixture(
    spec: &serde_json::Value,
    dir: &Path,
) -> (PathBuf, auditor::fixture::WriteSummary) {
    let spec: auditor::fixture::Spec =
        serde_json::from_value(spec.clone()).expect("spec deserializes");
    let out = dir.join(&spec.device.udid);
    let summary = auditor::fixture::write(&spec, &out).expect("fixture writes");
    (out, summary)
}

/// What one run of the binary did.
#[derive(Debug)]
pub struct Run {
    pub code: Option<i32>,
    /// Killed by a signal (Unix), e.g. SIGSEGV from a stack overflow or SIGABRT.
    pub signal: Option<i32>,
    pub timed_out: bool,
    pub stdout: Vec<u8>,
    pub stderr: Vec<u8>,
    pub took: Duration,
}

impl Run {
    pub fn stderr(&self) -> String {
        String::from_utf8_lossy(&self.stderr).into_owned()
    }
    pub fn stdout(&self) -> String {
        String::from_utf8_lossy(&self.stdout).into_owned()
    }
}

/// Run `auditor args…` in `cwd` with stdin null (or `stdin` bytes), killing it after `limit`.
pub fn run_auditor(args: &[&str], cwd: &Path, stdin: Option<&[u8]>, limit: Duration) -> Run {
    run_auditor_env(args, cwd, stdin, limit, &[])
}

/// [`run_auditor`] with extra environment variables (e.g. `TMPDIR`).
pub fn run_auditor_env(
    args: &[&str],
    cwd: &Path,
    stdin: Option<&[u8]>,
    limit: Duration,
    env: &[(&str, &Path)],
) -> Run {
    let start = Instant::now();
    let mut child = Command::new(env!("CARGO_BIN_EXE_auditor"))
        .args(args)
        .current_dir(cwd)
        .envs(env.iter().map(|(k, v)| (*k, *v)))
        .env_remove("AUDITOR_PASSWORD")
        .stdin(if stdin.is_some() {
            Stdio::piped()
        } else {
            Stdio::null()
        })
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn auditor");
    if let Some(bytes) = stdin {
        use std::io::Write;
        let mut w = child.stdin.take().expect("stdin");
        let _ = w.write_all(bytes);
    }
    let mut out = child.stdout.take().expect("stdout");
    let mut err = child.stderr.take().expect("stderr");
    let t_out = std::thread::spawn(move || {
        let mut b = Vec::new();
        let _ = out.read_to_end(&mut b);
        b
    });
    let t_err = std::thread::spawn(move || {
        let mut b = Vec::new();
        let _ = err.read_to_end(&mut b);
        b
    });
    let mut timed_out = false;
    let status = loop {
        if let Some(s) = child.try_wait().expect("wait") {
            break s;
        }
        if start.elapsed() > limit {
            timed_out = true;
            let _ = child.kill();
            break child.wait().expect("wait after kill");
        }
        std::thread::sleep(Duration::from_millis(2));
    };
    #[cfg(unix)]
    let signal = std::os::unix::process::ExitStatusExt::signal(&status);
    #[cfg(not(unix))]
    let signal = None;
    Run {
        code: status.code(),
        signal,
        timed_out,
        stdout: t_out.join().expect("stdout thread"),
        stderr: t_err.join().expect("stderr thread"),
        took: start.elapsed(),
    }
}

/// Every entry under `dir` (relative path → kind and SHA-256 of the content, or the link
/// target for symlinks). Symlinks are never followed and special files never opened, so a
/// hostile tree (a link to /dev/zero, a FIFO) cannot hang the digest.
pub fn tree_digest(dir: &Path) -> BTreeMap<PathBuf, String> {
    use sha2::Digest;
    let mut out = BTreeMap::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).expect("read_dir") {
            let p = e.expect("entry").path();
            let rel = p.strip_prefix(dir).expect("prefix").to_path_buf();
            let md = std::fs::symlink_metadata(&p).expect("metadata");
            let ft = md.file_type();
            let v = if ft.is_symlink() {
                format!(
                    "link {}",
                    std::fs::read_link(&p).expect("readlink").display()
                )
            } else if ft.is_dir() {
                stack.push(p.clone());
                "dir".to_owned()
            } else if ft.is_file() {
                let bytes = std::fs::read(&p).expect("read");
                format!(
                    "file {} {}",
                    bytes.len(),
                    hex::encode(sha2::Sha256::digest(&bytes))
                )
            } else {
                "special".to_owned()
            };
            out.insert(rel, v);
        }
    }
    out
}

/// The entries that differ between two digests (for failure messages).
pub fn digest_diff(a: &BTreeMap<PathBuf, String>, b: &BTreeMap<PathBuf, String>) -> Vec<String> {
    let mut d = Vec::new();
    for (k, v) in a {
        match b.get(k) {
            None => d.push(format!("removed {}", k.display())),
            Some(w) if w != v => d.push(format!("changed {}", k.display())),
            _ => {}
        }
    }
    for k in b.keys() {
        if !a.contains_key(k) {
            d.push(format!("created {}", k.display()));
        }
    }
    d
}

/// Copy a tree (files, directories, symlinks as symlinks).
pub fn copy_tree(src: &Path, dst: &Path) {
    std::fs::create_dir_all(dst).expect("mkdir");
    for e in std::fs::read_dir(src).expect("read_dir") {
        let e = e.expect("entry");
        let p = e.path();
        let to = dst.join(e.file_name());
        let ft = std::fs::symlink_metadata(&p).expect("metadata").file_type();
        if ft.is_symlink() {
            #[cfg(unix)]
            std::os::unix::fs::symlink(std::fs::read_link(&p).expect("readlink"), &to)
                .expect("symlink");
        } else if ft.is_dir() {
            copy_tree(&p, &to);
        } else {
            std::fs::copy(&p, &to).expect("copy");
        }
    }
}

/// Make every file and directory under `dir` writable again (tempdir cleanup after tests
/// that set permissions).
pub fn make_writable(dir: &Path) {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mut stack = vec![dir.to_path_buf()];
        while let Some(d) = stack.pop() {
            let _ = std::fs::set_permissions(&d, std::fs::Permissions::from_mode(0o755));
            let Ok(rd) = std::fs::read_dir(&d) else {
                continue;
            };
            for e in rd.flatten() {
                let p = e.path();
                let Ok(md) = std::fs::symlink_metadata(&p) else {
                    continue;
                };
                if md.is_dir() {
                    stack.push(p);
                } else if md.is_file() {
                    let _ = std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o644));
                }
            }
        }
    }
}
