//! Export decrypted files as `<out>/<domain>/<relativePath>`: streaming, parallel, never outside `out`.
//!
//! The output path of a row is built component by component from its domain and
//! relativePath ([`path`] says what is refused); every directory is created with
//! `create_dir` after checking that nothing in the way is a link; files are created with
//! `create_new` (exclusive) and decrypted with bounded memory (`crypto::cbc::decrypt_stream`),
//! their length coming from the PKCS#7 padding, not from the recorded Size. Symbolic links
//! are only created on request and only when their target stays inside `out`. Each file
//! is hashed (SHA-256) as it is written, and the export ends by writing its manifest
//! ([`manifest`]) at the top of `out`.
//!
//! Memory does not hold the index: the plan is made from compact rows ([`rows`]), and the
//! rows of the files are read again from the index as they are written (those of a small
//! selection, and big files, are kept whole from the first reading instead: [`keep`]).

pub mod glob;
mod keep;
pub mod manifest;
pub mod path;
mod plan;
pub mod report;
mod rows;

mod write;

pub use glob::{Glob, GlobError};
pub use manifest::{ManifestInfo, MANIFEST_FILE, MANIFEST_SCHEMA, SUMS_FILE};
pub use path::Refusal;
pub use plan::{Selection, Selector};
pub use report::{ExtractReport, ExtractSummary, RowIssue, SelectionReport, EXTRACT_SCHEMA};

use crate::index::Reading;
use crate::session::Session;
use manifest::LinkEntry;
use rows::Rows;
use std::path::{Path, PathBuf};
use write::Outcome;

/// How far an export is: bytes over the planned files' recorded Sizes (each file counted
/// as its content is written, then in full once it is done, whatever became of it), and
/// files done of files planned. Reported values never go back and the last report is the
/// totals.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ExtractProgress {
    pub bytes_done: u64,
    pub bytes_total: u64,
    pub files_done: u64,
    pub files_total: u64,
}

/// What to export and how.
#[derive(Default)]
pub struct ExtractOptions<'a> {
    /// The output folder (created if missing).
    pub out: PathBuf,
    /// Write into a non-empty folder (files and links in the way are replaced).
    pub force: bool,
    pub selection: Selection,
    /// Create symbolic links whose target stays inside `out`.
    pub symlinks: bool,
    /// Called now and then from the workers ([`ExtractProgress`]).
    pub progress: Option<&'a (dyn Fn(ExtractProgress) + Sync)>,
}

/// Why an export could not start (row-level problems are in the report instead).
#[derive(Debug, thiserror::Error)]
pub enum ExtractError {
    #[error("{}: the output folder is not empty (use --force to write into it anyway)", .0.display())]
    NotEmpty(PathBuf),
    #[error("{}: exists and is not a folder", .0.display())]
    NotADirectory(PathBuf),
    #[error("{}: refusing to export inside the backup folder {} (it is evidence)", .out.display(), .backup.display())]
    InsideBackup { out: PathBuf, backup: PathBuf },
    #[error("{}: refusing to export into a folder that holds the backup {}", .out.display(), .backup.display())]
    HoldsBackup { out: PathBuf, backup: PathBuf },
    #[error("the index is encrypted and the backup is not unlocked: a password is needed")]
    Locked,
    #[error("{}: is in the way of the export's manifest (a folder, or not replaceable without --force)", .0.display())]
    ManifestInTheWay(PathBuf),
    #[error("the index is too large to export (over 4 Gi rows, or 4 GiB of paths)")]
    IndexTooLarge,
    #[error("{context}: {source}")]
    Io {
        context: String,
        #[source]
        source: std::io::Error,
    },
}

fn io_err(context: String) -> impl FnOnce(std::io::Error) -> ExtractError {
    move |source| ExtractError::Io { context, source }
}

/// Create `out` if needed and check that it may be written: a folder, empty unless `force`,
/// neither inside the backup nor holding it. Returns its canonical path.
pub fn prepare_out(out: &Path, backup_root: &Path, force: bool) -> Result<PathBuf, ExtractError> {
    match std::fs::metadata(out) {
        Ok(m) if !m.is_dir() => return Err(ExtractError::NotADirectory(out.to_path_buf())),
        Ok(_) => {}
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
        Err(e) => return Err(io_err(format!("cannot inspect {}", out.display()))(e)),
    }
    let backup = backup_root
        .canonicalize()
        .map_err(io_err(format!("cannot resolve {}", backup_root.display())))?;
    // Check before creating anything: the nearest existing ancestor decides "inside".
    let mut probe = out.to_path_buf();
    let resolved = loop {
        if let Ok(c) = probe.canonicalize() {
            break Some(c);
        }
        if !probe.pop() {
            break None;
        }
    };
    if let Some(r) = &resolved {
        if r.starts_with(&backup) {
            return Err(ExtractError::InsideBackup {
                out: out.to_path_buf(),
                backup,
            });
        }
    }
    std::fs::create_dir_all(out).map_err(io_err(format!("cannot create {}", out.display())))?;
    let canon = out
        .canonicalize()
        .map_err(io_err(format!("cannot resolve {}", out.display())))?;
    if canon.starts_with(&backup) {
        return Err(ExtractError::InsideBackup {
            out: out.to_path_buf(),
            backup,
        });
    }
    if backup.starts_with(&canon) {
        return Err(ExtractError::HoldsBackup {
            out: out.to_path_buf(),
            backup,
        });
    }
    let mut entries =
        std::fs::read_dir(&canon).map_err(io_err(format!("cannot list {}", out.display())))?;
    if !force && entries.next().is_some() {
        return Err(ExtractError::NotEmpty(out.to_path_buf()));
    }
    Ok(canon)
}

fn issue(rows: &Rows, i: u32, reason: &'static str, detail: String) -> RowIssue {
    RowIssue {
        domain: rows.domain(i).to_string(),
        relative_path: rows.relative_path(i).to_string(),
        file_id: rows.file_id(i),
        kind: rows.kind(i).as_str(),
        reason,
        detail,
        sha256: None,
    }
}

/// Export the selected rows of an opened (and, when encrypted, unlocked) backup, then
/// write the manifest of what was written ([`manifest`]) into the output folder.
pub fn extract(s: &Session, opts: &ExtractOptions<'_>) -> Result<ExtractReport, crate::Error> {
    let out = prepare_out(&opts.out, &s.backup.root, opts.force)?;
    manifest::check_reserved(&out)?;
    let index = s.index()?.ok_or(ExtractError::Locked)?;
    // The first reading: every row, compact; the whole rows of what may be written, within
    // limits.
    let manifest_apps = s
        .backup
        .manifest
        .as_ref()
        .map_or(&[][..], |m| m.applications.as_slice());
    let mut rows = Rows::default();
    let mut keep = keep::Keep::new(&opts.selection, manifest_apps);
    // A selection the index can find alone (`--domain`, or `--path` with a literal start)
    // is read through its SQL indexes, not every row.
    let reading = opts
        .selection
        .subset()
        .map_or(Reading::All, |s| index.reading(s));
    let window = rayon::current_num_threads().max(1) * 2;
    index.for_each_record_in(&reading, window, |r| {
        if let Some(i) = rows.push(&r) {
            keep.offer(i, rows.domain_id(i), r);
        }
    })?;
    if rows.overflowed() {
        return Err(ExtractError::IndexTooLarge.into());
    }
    rows.shrink();
    crate::trim::release_free_memory();
    let mut selector = plan::Selector::for_domains(&opts.selection, &s.backup, rows.domains());
    let plan = plan::plan(&rows, &mut selector);
    let unmatched = selector.unmatched_rows(&rows);
    rows.forget_sizes();
    drop(selector);
    crate::trim::release_free_memory();

    let ctx = write::ExportTarget {
        out: &out,
        payloads: s.payloads_by_name()?,
        force: opts.force,
        symlinks: opts.symlinks,
        meter: write::Meter::new(opts.progress, plan.bytes, plan.files.len() as u64),
    };
    let (dir_ok, dirs_created, dir_problems) = write::make_dirs(&ctx, &plan);
    let files = write::write_files(
        &ctx,
        &plan,
        &dir_ok,
        &rows,
        keep.into_rows(),
        (&index, &reading),
    )?;
    let links = write::make_links(&ctx, &plan, &dir_ok);
    write::set_dir_times(&ctx, &plan, &dir_ok, &rows);

    let mut rep = ExtractReport {
        schema: EXTRACT_SCHEMA,
        tool: Default::default(),
        backup: s.backup.root.display().to_string(),
        out: out.display().to_string(),
        selection: SelectionReport {
            apps: opts.selection.apps.clone(),
            domains: opts.selection.domains.clone(),
            paths: opts
                .selection
                .paths
                .iter()
                .map(|g| g.as_str().to_string())
                .collect(),
            symlinks: opts.symlinks,
            unmatched,
        },
        summary: ExtractSummary {
            rows: match reading {
                Reading::All => rows.len() as u64,
                Reading::Subset(_) => index.count()?,
            },
            selected: plan.selected,
            directories: dirs_created,
            exported: files.exported,
            bytes: files.bytes,
            ..Default::default()
        },
        refused: Vec::new(),
        missing: Vec::new(),
        undecryptable: Vec::new(),
        failed: Vec::new(),
        skipped_symlinks: Vec::new(),
        manifest: None,
    };
    for (i, why) in &plan.refused {
        rep.refused
            .push(issue(&rows, *i, why.code(), why.to_string()));
    }
    for (d, why) in &dir_problems {
        if let Some(i) = plan.dirs.get(*d).and_then(|d| d.row) {
            rep.refused
                .push(issue(&rows, i, why.code(), why.to_string()));
        }
    }
    let link_entries: Vec<LinkEntry<'_>> = plan
        .links
        .iter()
        .zip(&links)
        .filter(|(_, (_, o))| matches!(o, Outcome::LinkCreated))
        .map(|(l, _)| LinkEntry {
            path: &l.path,
            domain: rows.domain(l.row),
            relative_path: rows.relative_path(l.row),
            file_id: rows.file_id(l.row),
            target: &l.target,
        })
        .collect();
    // A failed row whose content was kept is listed with the SHA-256 of what was kept.
    let outcomes = files
        .others
        .into_iter()
        .chain(links.into_iter().map(|(row, o)| (row, o, None)));
    tally(&mut rep, &rows, outcomes);
    let info = manifest::write(
        &out,
        opts.force,
        &manifest::Contents {
            report: &rep,
            rows: &rows,
            jobs: &plan.files,
            written: &files.written,
            links: &link_entries,
        },
    )?;
    rep.manifest = Some(info);
    Ok(rep)
}

/// Sort each row's outcome into the report (with the SHA-256 of a failed row's kept
/// content), then count the lists. Exported files are counted already.
fn tally(
    rep: &mut ExtractReport,
    rows: &Rows,
    outcomes: impl Iterator<Item = (u32, Outcome, Option<String>)>,
) {
    for (i, o, sha256) in outcomes {
        if i as usize >= rows.len() {
            continue;
        }
        let sum = &mut rep.summary;
        match o {
            Outcome::Exported(n) => {
                sum.exported += 1;
                sum.bytes += n;
            }
            Outcome::LinkCreated => sum.symlinks_created += 1,
            Outcome::LinkSkipped => rep.skipped_symlinks.push(issue(
                rows,
                i,
                "symlinks_not_requested",
                format!(
                    "link to {:?} not created (use --symlinks)",
                    rows.target(i).unwrap_or("")
                ),
            )),
            Outcome::Missing => rep.missing.push(issue(
                rows,
                i,
                "missing",
                "the index lists this file but its payload is not on disk".into(),
            )),
            Outcome::Undecryptable(code, d) => rep.undecryptable.push(issue(rows, i, code, d)),
            Outcome::Failed(code, d) => rep.failed.push(RowIssue {
                sha256,
                ..issue(rows, i, code, d)
            }),
            Outcome::Refused(why) => rep
                .refused
                .push(issue(rows, i, why.code(), why.to_string())),
        }
    }
    let key = |x: &RowIssue| (x.domain.clone(), x.relative_path.clone());
    for v in [
        &mut rep.refused,
        &mut rep.missing,
        &mut rep.undecryptable,
        &mut rep.failed,
        &mut rep.skipped_symlinks,
    ] {
        v.sort_by_key(key);
    }
    let sum = &mut rep.summary;
    sum.refused = rep.refused.len() as u64;
    sum.missing = rep.missing.len() as u64;
    sum.undecryptable = rep.undecryptable.len() as u64;
    sum.failed = rep.failed.len() as u64;
    sum.symlinks_skipped = rep.skipped_symlinks.len() as u64;
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::session::Unlock;
    use std::sync::Mutex;

    /// The project's small encrypted fixture (46 files, some of MBs), opened and unlocked.
    fn small_session(dir: &Path) -> Session {
        let spec = Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/specs/small.json");
        let spec =
            crate::fixture::Spec::from_json(&std::fs::read_to_string(spec).unwrap()).unwrap();
        let b = dir.join("b");
        crate::fixture::write(&spec, &b).unwrap();
        let mut s = Session::open(&b).unwrap();
        s.unlock(
            Unlock::Password(crate::crypto::Password::new(b"fixture-small-pw".to_vec())),
            None,
            &mut |_| {},
        )
        .unwrap();
        s
    }

    #[test]
    fn progress_only_grows_and_ends_at_the_totals() {
        use sha2::Digest;
        let t = tempfile::tempdir().unwrap();
        let s = small_session(t.path());
        let seen = Mutex::new(Vec::new());
        let cb = |p: ExtractProgress| seen.lock().unwrap().push(p);
        let opts = ExtractOptions {
            out: t.path().join("out"),
            progress: Some(&cb),
            ..Default::default()
        };
        let rep = extract(&s, &opts).unwrap();
        let seen = seen.lock().unwrap().clone();
        let last = *seen.last().expect("progress was reported");
        let records = s.records().unwrap().unwrap();
        let planned = records
            .iter()
            .filter(|r| r.kind == crate::index::FileKind::File)
            .count() as u64;
        assert_eq!(last.files_total, planned);
        assert_eq!(last.files_done, last.files_total);
        assert_eq!(last.bytes_done, last.bytes_total);
        assert!(last.bytes_total > 4_000_000, "{last:?}");
        for w in seen.windows(2) {
            assert!(w[0].bytes_done <= w[1].bytes_done, "{w:?}");
            assert!(w[0].files_done <= w[1].files_done, "{w:?}");
            assert!(w[0] != w[1], "a report repeats the one before: {w:?}");
        }
        assert!(seen
            .iter()
            .all(|p| p.bytes_total == last.bytes_total && p.files_total == planned));
        // The manifest lists every file written, with the hash of its bytes on disk.
        let m = rep.manifest.as_ref().unwrap();
        assert_eq!(m.files, rep.summary.exported);
        let sums = std::fs::read_to_string(&m.sums_path).unwrap();
        assert_eq!(sums.lines().count() as u64, m.files);
        for line in sums.lines() {
            let (hash, path) = line.split_once("  ").unwrap();
            let bytes = std::fs::read(opts.out.join(path)).unwrap();
            assert_eq!(hex::encode(sha2::Sha256::digest(&bytes)), hash, "{path}");
        }
    }

    /// The selections of the CLI test `a_selection_read_through_the_index_…` on the demo
    /// backup: those the index can find alone are read through its SQL indexes.
    #[test]
    fn selections_the_index_finds_alone_are_read_through_it() {
        let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/demo");
        let pw = std::fs::read_to_string(root.join("password.txt")).unwrap();
        let mut s = Session::open(&root.join("00008130-000A11CE0DE0001E")).unwrap();
        s.unlock(
            Unlock::Password(crate::crypto::Password::new(
                pw.trim_end().as_bytes().to_vec(),
            )),
            None,
            &mut |_| {},
        )
        .unwrap();
        let index = s.index().unwrap().unwrap();
        let sel = |domains: &[&str], paths: &[&str]| Selection {
            apps: Vec::new(),
            domains: domains.iter().map(|d| d.to_string()).collect(),
            paths: paths
                .iter()
                .map(|p| Glob::path_pattern(p).unwrap())
                .collect(),
        };
        let through = |sel: &Selection| {
            sel.subset()
                .is_some_and(|s| matches!(index.reading(s), Reading::Subset(_)))
        };
        assert!(through(&sel(&[], &["Library/SMS/*"])));
        assert!(through(&sel(&["HomeDomain"], &[])));
        assert!(through(&sel(
            &[],
            &["Library/Pref*/*.plist", "Media/DCIM/*/*"]
        )));
        assert!(through(&sel(&[], &["Library/Pref/*"])));
        assert!(through(&sel(
            &["CameraRollDomain", "KeychainDomain"],
            &["Media/**"]
        )));
        // A pattern without a literal start: every row (a subset that is most of a big
        // table is too: `index::manifest_db`'s tests).
        assert!(!through(&sel(&[], &["[L]ibrary/SMS/*"])));
        assert!(!through(&sel(&[], &["*.db"])));
        let mut with_app = sel(&[], &["Library/SMS/*"]);
        with_app.apps.push("com.example.bank".into());
        assert!(with_app.subset().is_none());
    }

    /// The rows not kept from the first reading are met in the second (of every row, or
    /// of the subset the index finds): the export is the one that keeping every row makes.
    #[test]
    fn the_second_reading_writes_what_keeping_every_row_writes() {
        let t = tempfile::tempdir().unwrap();
        let s = small_session(t.path());
        let run = |name: &str, limits: Option<(usize, usize)>, paths: &[&str]| {
            keep::TEST_LIMITS.with(|l| l.set(limits));
            let opts = ExtractOptions {
                out: t.path().join(name),
                selection: Selection {
                    paths: paths
                        .iter()
                        .map(|p| Glob::path_pattern(p).unwrap())
                        .collect(),
                    ..Default::default()
                },
                ..Default::default()
            };
            let rep = extract(&s, &opts);
            keep::TEST_LIMITS.with(|l| l.set(None));
            let rep = rep.unwrap();
            let m = rep.manifest.as_ref().unwrap();
            let m: serde_json::Value =
                serde_json::from_slice(&std::fs::read(&m.path).unwrap()).unwrap();
            let files: Vec<(String, String, u64)> = m["files"]
                .as_array()
                .unwrap()
                .iter()
                .map(|f| {
                    (
                        f["path"].as_str().unwrap().to_string(),
                        f["sha256"].as_str().unwrap().to_string(),
                        f["size"].as_u64().unwrap(),
                    )
                })
                .collect();
            (rep.summary, files)
        };
        let (sum, all) = run("all", None, &[]);
        assert!(all.len() > 40, "{}", all.len());
        let (sum1, all1) = run("all-reread", Some((1, 0)), &[]);
        assert_eq!(all1, all);
        assert_eq!((sum1.exported, sum1.bytes), (sum.exported, sum.bytes));
        // A subset: the same files as the whole export holds for it.
        let paths = ["Library/Application Support/*", "Documents/**"];
        let (_, sub) = run("sub", Some((1, 0)), &paths);
        let want: Vec<_> = all
            .iter()
            .filter(|(p, ..)| {
                let rp = p.split_once('/').unwrap().1;
                paths
                    .iter()
                    .any(|g| Glob::path_pattern(g).unwrap().matches(rp))
            })
            .cloned()
            .collect();
        assert!(want.len() >= 15, "{}", want.len());
        assert_eq!(sub, want);
        let index = s.index().unwrap().unwrap();
        let sel = Selection {
            paths: paths
                .iter()
                .map(|p| Glob::path_pattern(p).unwrap())
                .collect(),
            ..Default::default()
        };
        assert!(matches!(
            index.reading(sel.subset().unwrap()),
            Reading::Subset(_)
        ));
    }

    #[test]
    fn out_folder_rules() {
        let t = tempfile::tempdir().unwrap();
        let backup = t.path().join("backup");
        std::fs::create_dir(&backup).unwrap();
        // Created when missing (with parents).
        let out = t.path().join("a/b/out");
        assert!(prepare_out(&out, &backup, false).is_ok());
        assert!(out.is_dir());
        // Non-empty needs --force.
        std::fs::write(out.join("x"), b"1").unwrap();
        assert!(matches!(
            prepare_out(&out, &backup, false),
            Err(ExtractError::NotEmpty(_))
        ));
        assert!(prepare_out(&out, &backup, true).is_ok());
        // Inside the backup: refused before anything is created there.
        let inside = backup.join("new/out");
        assert!(matches!(
            prepare_out(&inside, &backup, true),
            Err(ExtractError::InsideBackup { .. })
        ));
        assert!(!backup.join("new").exists());
        // Holding the backup.
        assert!(matches!(
            prepare_out(t.path(), &backup, true),
            Err(ExtractError::HoldsBackup { .. })
        ));
        // A file is not a folder.
        let f = t.path().join("file");
        std::fs::write(&f, b"").unwrap();
        assert!(matches!(
            prepare_out(&f, &backup, true),
            Err(ExtractError::NotADirectory(_))
        ));
    }
}
