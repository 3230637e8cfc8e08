//! Build script: the commit that `auditor --version` names (git's short hash, `-dirty` when
//! tracked files differ from it, and its date), or `unknown` without git or a repository
//! (`AUDITOR_BUILD_COMMIT="HASH [DATE]"` says it for a build from a tarball).

use std::env;
use std::path::{Path, PathBuf};
use std::process::Command;

/// `git -C dir ARGS…`, its trimmed stdout when it succeeds and says something.
fn git(dir: &Path, args: &[&str]) -> Option<String> {
    let out = Command::new("git")
        // Reading only: `git status` must not refresh (write) the index under a build.
        .env("GIT_OPTIONAL_LOCKS", "0")
        .arg("-C")
        .arg(dir)
        .args(args)
        .output()
        .ok()?;
    if !out.status.success() {
        return None;
    }
    let s = String::from_utf8(out.stdout).ok()?.trim().to_string();
    (!s.is_empty()).then_some(s)
}

/// Rebuild when this file changes (only existing files are named: a missing one would make
/// cargo run the script on every build).
fn watch(path: &Path) {
    if path.exists() {
        println!("cargo:rerun-if-changed={}", path.display());
    }
}

/// `abc1234 2026-12-06` (or `abc1234-dirty 2026-12-06`) for the repository at `root`, when
/// `root` is the top of a git work tree (not a crate unpacked inside someone else's).
fn commit(root: &Path) -> Option<(String, String)> {
    let top = PathBuf::from(git(root, &["rev-parse", "--show-toplevel"])?);
    if top.canonicalize().ok()? != root.canonicalize().ok()? {
        return None;
    }
    // HEAD, the branch it points to (a loose ref, or packed) move with every commit.
    let git_path = |p: &str| git(root, &["rev-parse", "--git-path", p]).map(|g| root.join(g));
    if let Some(head) = git_path("HEAD") {
        watch(&head);
    }
    if let Some(branch) = git(root, &["symbolic-ref", "-q", "HEAD"]) {
        if let Some(r) = git_path(&branch) {
            watch(&r);
        }
    }
    if let Some(packed) = git_path("packed-refs") {
        watch(&packed);
    }
    let hash = git(root, &["rev-parse", "--short=7", "HEAD"])?;
    let date = git(root, &["log", "-1", "--date=short", "--format=%cd", "HEAD"])?;
    // Tracked files only: a build's own untracked outputs do not make it dirty.
    let dirty = git(root, &["status", "--porcelain", "--untracked-files=no"]).is_some();
    Some((format!("{hash}{}", if dirty { "-dirty" } else { "" }), date))
}

fn main() {
    let root = PathBuf::from(env::var_os("CARGO_MANIFEST_DIR").expect("cargo sets it"));
    println!("cargo:rerun-if-changed=build.rs");
    // The sources the binary is made of: editing them may change `-dirty`.
    for p in ["src", "Cargo.toml", "Cargo.lock"] {
        watch(&root.join(p));
    }
    // A packager building from a tarball may say which commit it is.
    println!("cargo:rerun-if-env-changed=AUDITOR_BUILD_COMMIT");
    // `HASH DATE` or `HASH`.
    let given = env::var("AUDITOR_BUILD_COMMIT").ok().and_then(|c| {
        let mut words = c.split_whitespace();
        let hash = words.next()?.to_string();
        Some((hash, words.next().unwrap_or_default().to_string()))
    });
    let (hash, date) = given
        .or_else(|| commit(&root))
        .unwrap_or_else(|| ("unknown".into(), String::new()));
    let commit = match date.as_str() {
        "" => hash.clone(),
        d => format!("{hash} {d}"),
    };
    let version = env::var("CARGO_PKG_VERSION").expect("cargo sets it");
    println!("cargo:rustc-env=AUDITOR_COMMIT={hash}");
    println!("cargo:rustc-env=AUDITOR_COMMIT_DATE={date}");
    println!("cargo:rustc-env=AUDITOR_LONG_VERSION={version} ({commit})");
}
