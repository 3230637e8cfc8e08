//! The output folder of a patch: checked, written as a new folder beside it, renamed into place.
//!
//! Nothing is written inside the source backup and nothing is written into the output
//! folder's place until the whole copy is complete: the copy is made in a fresh hidden
//! sibling (`.<name>.auditor-patch-<pid>`), removed again on any failure, and renamed to
//! the output folder at the end. An existing empty output folder is replaced by the rename;
//! with `--force` an existing backup folder (an earlier patched copy) is too; any other
//! non-empty folder is refused, `--force` or not, so that `--force` never deletes files
//! that are not a backup.

use super::PatchError;
use rayon::prelude::*;
use std::fs;
use std::io;
use std::path::{Path, PathBuf};

/// The checked output folder.
#[derive(Debug)]
pub struct Planned {
    /// Where the copy ends up (absolute).
    pub out: PathBuf,
    /// An existing folder that the copy replaces (empty, or a backup with `--force`).
    replaces: bool,
}

/// What [`write`] did.
#[derive(Debug, Default)]
pub struct Written {
    pub out: PathBuf,
    /// Files copied byte for byte, and their bytes.
    pub copied: u64,
    pub bytes: u64,
    /// Files written anew (changed payloads and the index), relative to the backup folder.
    pub rewritten: Vec<String>,
    /// Entries of the source not copied: deleted payloads, and anything that is neither a
    /// file nor a folder (a link, a FIFO…), with why.
    pub not_copied: Vec<String>,
}

fn io_err(context: String) -> impl FnOnce(io::Error) -> PatchError {
    move |source| PatchError::Io { context, source }
}

/// An absolute form of `p` whose existing part is resolved (links and `..`).
fn resolve(p: &Path) -> io::Result<PathBuf> {
    let abs = if p.is_absolute() {
        p.to_path_buf()
    } else {
        std::env::current_dir()?.join(p)
    };
    let mut base = abs.clone();
    let mut rest = Vec::new();
    loop {
        if let Ok(c) = base.canonicalize() {
            let mut out = c;
            for r in rest.iter().rev() {
                out.push(r);
            }
            return Ok(out);
        }
        match (base.file_name().map(|n| n.to_os_string()), base.parent()) {
            (Some(n), Some(parent)) => {
                rest.push(n);
                base = parent.to_path_buf();
            }
            _ => return Ok(abs),
        }
    }
}

/// Check the output folder: not inside the backup, not holding it, and either absent,
/// empty, or (with `force`) a backup folder.
pub fn check(out: &Path, backup_root: &Path, force: bool) -> Result<Planned, PatchError> {
    let backup = backup_root
        .canonicalize()
        .map_err(io_err(format!("cannot resolve {}", backup_root.display())))?;
    let target = resolve(out).map_err(io_err(format!("cannot resolve {}", out.display())))?;
    if target.starts_with(&backup) {
        return Err(PatchError::Out(format!(
            "{}: refusing to write inside the source backup {} (it is evidence)",
            out.display(),
            backup.display()
        )));
    }
    if backup.starts_with(&target) {
        return Err(PatchError::Out(format!(
            "{}: refusing to write into a folder that holds the source backup {}",
            out.display(),
            backup.display()
        )));
    }
    if target.parent().is_none() {
        return Err(PatchError::Out(format!(
            "{}: not a usable output folder",
            out.display()
        )));
    }
    let replaces = match fs::symlink_metadata(&target) {
        Err(e) if e.kind() == io::ErrorKind::NotFound => false,
        Err(e) => return Err(io_err(format!("cannot inspect {}", out.display()))(e)),
        Ok(m) if !m.is_dir() => {
            return Err(PatchError::Out(format!(
                "{}: exists and is not a folder",
                out.display()
            )))
        }
        Ok(_) => {
            let empty = fs::read_dir(&target)
                .map_err(io_err(format!("cannot list {}", out.display())))?
                .next()
                .is_none();
            if !empty && !force {
                return Err(PatchError::Out(format!(
                    "{}: the output folder is not empty (use --force to replace an earlier patched copy)",
                    out.display()
                )));
            }
            if !empty && !crate::backup::is_backup_folder(&target) {
                return Err(PatchError::Out(format!(
                    "{}: the output folder is not empty and is not a backup; --force only replaces a backup folder (e.g. an earlier patched copy)",
                    out.display()
                )));
            }
            true
        }
    };
    Ok(Planned {
        out: target,
        replaces,
    })
}

/// Removes the folder being written unless the copy completed.
struct Staging {
    path: PathBuf,
    done: bool,
}

impl Drop for Staging {
    fn drop(&mut self) {
        if !self.done {
            let _ = fs::remove_dir_all(&self.path);
        }
    }
}

/// A fresh, hidden sibling of `out`, created exclusively.
fn staging(out: &Path, tag: &str) -> Result<Staging, PatchError> {
    let parent = out.parent().unwrap_or(Path::new("."));
    fs::create_dir_all(parent).map_err(io_err(format!("cannot create {}", parent.display())))?;
    let name = out
        .file_name()
        .map_or_else(|| "out".into(), |n| n.to_string_lossy().into_owned());
    for n in 0..100u32 {
        let path = parent.join(format!(".{name}.auditor-{tag}-{}-{n}", std::process::id()));
        match fs::create_dir(&path) {
            Ok(()) => return Ok(Staging { path, done: false }),
            Err(e) if e.kind() == io::ErrorKind::AlreadyExists => continue,
            Err(e) => return Err(io_err(format!("cannot create {}", path.display()))(e)),
        }
    }
    Err(PatchError::Out(format!(
        "{}: no free name for the folder the copy is written in",
        parent.display()
    )))
}

/// Copy the backup at `src` into the planned output folder, except the relative paths in
/// `skip`, then write `new` (relative path, bytes), then rename into place.
pub fn write(
    src: &Path,
    planned: &Planned,
    skip: &[PathBuf],
    new: &[(PathBuf, Vec<u8>)],
) -> Result<Written, PatchError> {
    let mut stage = staging(&planned.out, "patch")?;
    let mut jobs = Vec::new();
    let mut written = Written::default();
    walk(
        src,
        Path::new(""),
        &stage.path,
        skip,
        &mut jobs,
        &mut written,
    )?;
    let results: Vec<Result<u64, PatchError>> = jobs
        .par_iter()
        .map(|(from, to)| copy_file(from, to))
        .collect();
    for r in results {
        written.bytes += r?;
        written.copied += 1;
    }
    let rewritten: std::collections::HashSet<&PathBuf> = new.iter().map(|(p, _)| p).collect();
    for s in skip {
        if !rewritten.contains(s) && src.join(s).exists() {
            let why = match s.to_str() {
                Some("Manifest.db-wal" | "Manifest.db-shm") => "SQLite side file of the old index",
                _ => "deleted",
            };
            written.not_copied.push(format!("{}: {why}", s.display()));
        }
    }
    for (rel, bytes) in new {
        let to = stage.path.join(rel);
        if let Some(p) = to.parent() {
            fs::create_dir_all(p).map_err(io_err(format!("cannot create {}", p.display())))?;
        }
        write_new(&to, bytes)?;
        written.rewritten.push(rel.display().to_string());
    }
    // Into place: an existing folder (empty, or a backup with --force) is moved aside
    // first and removed once the new copy is in its place.
    let aside = if planned.replaces {
        let aside = staging(&planned.out, "old")?;
        fs::remove_dir(&aside.path)
            .map_err(io_err(format!("cannot prepare {}", aside.path.display())))?;
        fs::rename(&planned.out, &aside.path).map_err(io_err(format!(
            "cannot move the old {} aside",
            planned.out.display()
        )))?;
        Some(aside)
    } else {
        None
    };
    if let Err(e) = fs::rename(&stage.path, &planned.out) {
        if let Some(a) = &aside {
            let _ = fs::rename(&a.path, &planned.out);
        }
        return Err(io_err(format!(
            "cannot rename into {}",
            planned.out.display()
        ))(e));
    }
    stage.done = true;
    drop(aside); // removes the old folder
    written.out = planned.out.clone();
    Ok(written)
}

/// List the files to copy under `dir` (relative `rel`), creating the folders in `to`.
fn walk(
    root: &Path,
    rel: &Path,
    to: &Path,
    skip: &[PathBuf],
    jobs: &mut Vec<(PathBuf, PathBuf)>,
    written: &mut Written,
) -> Result<(), PatchError> {
    let dir = root.join(rel);
    let mut entries: Vec<_> = fs::read_dir(&dir)
        .map_err(io_err(format!("cannot list {}", dir.display())))?
        .collect::<Result<_, _>>()
        .map_err(io_err(format!("cannot list {}", dir.display())))?;
    entries.sort_by_key(|e| e.file_name());
    for e in entries {
        let r = rel.join(e.file_name());
        if skip.contains(&r) {
            continue;
        }
        let t = e
            .file_type()
            .map_err(io_err(format!("cannot inspect {}", e.path().display())))?;
        if t.is_dir() {
            let d = to.join(&r);
            fs::create_dir(&d).map_err(io_err(format!("cannot create {}", d.display())))?;
            walk(root, &r, to, skip, jobs, written)?;
        } else if t.is_file() {
            jobs.push((root.join(&r), to.join(&r)));
        } else {
            written
                .not_copied
                .push(format!("{}: not a regular file or folder", r.display()));
        }
    }
    Ok(())
}

/// Copy one file of the evidence (opened read-only, no link followed); its length.
fn copy_file(from: &Path, to: &Path) -> Result<u64, PatchError> {
    let mut src = crate::backup::open_evidence(from)
        .map_err(io_err(format!("cannot open {}", from.display())))?;
    let mut dst = fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(to)
        .map_err(io_err(format!("cannot create {}", to.display())))?;
    io::copy(&mut src, &mut dst).map_err(io_err(format!("cannot copy {}", from.display())))
}

fn write_new(to: &Path, bytes: &[u8]) -> Result<(), PatchError> {
    use io::Write;
    let mut f = fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(to)
        .map_err(io_err(format!("cannot create {}", to.display())))?;
    f.write_all(bytes)
        .map_err(io_err(format!("cannot write {}", to.display())))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_output_folder_is_checked() {
        let t = tempfile::tempdir().unwrap();
        let backup = t.path().join("B");
        fs::create_dir_all(backup.join("ab")).unwrap();
        fs::write(backup.join("Manifest.plist"), b"x").unwrap();
        let err = |out: &Path, force| check(out, &backup, force).unwrap_err().to_string();
        assert!(err(&backup.join("x/y"), false).contains("inside the source backup"));
        assert!(err(&backup, true).contains("inside the source backup"));
        assert!(err(t.path(), true).contains("holds the source backup"));
        let other = t.path().join("O");
        fs::create_dir(&other).unwrap();
        fs::write(other.join("notes.txt"), b"mine").unwrap();
        assert!(err(&other, false).contains("not empty"));
        assert!(err(&other, true).contains("is not a backup"));
        fs::write(t.path().join("F"), b"").unwrap();
        assert!(err(&t.path().join("F"), false).contains("not a folder"));
        // Absent, empty: fine.
        assert!(
            !check(&t.path().join("new"), &backup, false)
                .unwrap()
                .replaces
        );
        fs::create_dir(t.path().join("E")).unwrap();
        assert!(check(&t.path().join("E"), &backup, false).unwrap().replaces);
    }

    #[test]
    fn a_copy_lands_whole_or_not_at_all() {
        let t = tempfile::tempdir().unwrap();
        let backup = t.path().join("B");
        fs::create_dir_all(backup.join("ab")).unwrap();
        fs::write(backup.join("Manifest.plist"), b"m").unwrap();
        fs::write(backup.join("ab/ab01"), b"payload").unwrap();
        fs::write(backup.join("ab/ab02"), b"old").unwrap();
        let out = t.path().join("O");
        let p = check(&out, &backup, false).unwrap();
        let w = write(
            &backup,
            &p,
            &[PathBuf::from("ab/ab02")],
            &[(PathBuf::from("ab/ab02"), b"new".to_vec())],
        )
        .unwrap();
        assert_eq!((w.copied, w.bytes), (2, 8));
        assert_eq!(fs::read(out.join("ab/ab02")).unwrap(), b"new");
        assert_eq!(fs::read(out.join("ab/ab01")).unwrap(), b"payload");
        assert_eq!(fs::read(backup.join("ab/ab02")).unwrap(), b"old");
        // Again with --force: replaced whole; nothing left beside it.
        let p = check(&out, &backup, true).unwrap();
        write(&backup, &p, &[PathBuf::from("ab/ab01")], &[]).unwrap();
        assert!(!out.join("ab/ab01").exists());
        assert_eq!(fs::read(out.join("ab/ab02")).unwrap(), b"old");
        let names: Vec<_> = fs::read_dir(t.path())
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(names.len(), 2, "{names:?}");
        // A failure (a new file that cannot be written) leaves no folder behind.
        let out2 = t.path().join("P");
        let p = check(&out2, &backup, false).unwrap();
        let bad = write(
            &backup,
            &p,
            &[],
            &[(PathBuf::from("ab/ab01"), b"x".to_vec())],
        );
        assert!(matches!(bad, Err(PatchError::Io { .. })));
        assert!(!out2.exists());
        let names: Vec<_> = fs::read_dir(t.path())
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(names.len(), 2, "{names:?}");
    }
}
