//! The scan: classify the backup, its keybag, every index row, every app and orphan payload.

use super::apps::{manifest_apps, DomainFold};
use super::checks::{backup_part, keybag_part};
use super::files::{file_report, FileCtx, RowIds};
use super::finding::rules as R;
use super::keychain::KeychainAudit;
use super::model::*;
use super::{Finding, Location, Severity};
use crate::backup::ContentScan;
use crate::index::{FileKind, FileRecord, Index};
use crate::session::Session;
use crate::Error;
use rayon::prelude::*;
use std::collections::HashSet;
use std::sync::atomic::{AtomicU64, Ordering};

/// What to do beyond the default scan.
#[derive(Default)]
pub struct ScanOptions<'a> {
    /// Decrypt (or read) every payload in full, verify padding and length, hash it.
    pub deep: bool,
    /// With `deep`, do not hash the content (no file gets a `sha256`): decryption, padding
    /// and length are still verified.
    pub deep_no_hash: bool,
    /// Only the backup and keybag part (`auditor info`).
    pub info_only: bool,
    /// Called with (bytes done, bytes total) during `deep`.
    pub deep_progress: Option<&'a (dyn Fn(u64, u64) + Sync)>,
    /// Keep only the aggregates of the files, not every file's report (`files` is left
    /// empty; summary, apps, findings counts and the severity gate are unchanged). Memory
    /// then no longer grows with the number of index rows' reports.
    pub summary_only: bool,
    /// Keep only the file reports this accepts in `files` (all when `None`); every total
    /// still counts every file. `check` keeps the files of its policy's apps this way.
    /// (A report's `app` is not set yet when it is offered: domains are attributed to apps
    /// once every domain of the index is known.)
    pub keep_file: Option<&'a (dyn Fn(&FileReport) -> bool + Sync)>,
    /// Hand back the index rows this accepts ([`Scanned::rows`]), so that a caller that
    /// needs rows (the canary search of `check`) does not read the index again.
    pub keep_row: Option<&'a (dyn Fn(&FileRecord) -> bool + Sync)>,
    /// Report on this app only (`scan --app`): its files, its keychain items, the findings
    /// about them and about the backup as a whole; the summary counts what is kept and
    /// `app_filter` says what was left out. With `deep`, only its files are read in full.
    pub app: Option<&'a str>,
    /// Hand every file's report to this as it is made (in index order) instead of keeping
    /// it in `files`, so that a writer can stream them (`scan --format json` on a
    /// 1.3 M-row index). Their `app` is not set yet (see [`Scanned::domain_owners`]).
    /// Ignored with `summary_only`, `keep_file` or `app`, which keep few or none.
    pub file_sink: Option<&'a dyn FileSink>,
}

/// Takes the file reports of a scan as they are made, a batch at a time, in index order.
pub trait FileSink: Sync {
    /// A batch of reports, each with the number of its domain (an index into
    /// [`Scanned::domain_owners`]). A sink that fails keeps its error for its caller and
    /// ignores what follows.
    fn take(&self, reports: Vec<FileReport>, domains: &[u32]);
}

/// Index rows turned into file reports per parallel batch (rows are streamed from the
/// index; at most one batch of rows is held at a time).
/// (Tiny in unit tests, so that the small test backups span many batches.)
const REPORT_BATCH: usize = if cfg!(test) { 7 } else { 8192 };

/// Rows per batch with `deep`. Payload sizes differ by orders of magnitude: within a batch
/// the big ones go first (see [`deep_in_order`]), so a batch must be large enough that its
/// biggest payload does not outlast the rest of its work, and small enough that the rows
/// and reports it holds stay bounded (one batch of all 1.3 M rows of a real-size index
/// peaked at 1.4 GB).
const DEEP_BATCH: usize = if cfg!(test) { 40 } else { 32_768 };

/// What a scan read beside its report, for the commands that build on it (`check`,
/// `policy init`): with it none of them reads the index or decrypts the keychain again.
pub struct Scanned {
    pub report: ScanReport,
    /// The index rows [`ScanOptions::keep_row`] accepted, in index order.
    pub rows: Vec<FileRecord>,
    /// The keychain audit, as its summary in `report` was made from it; `None` when it was
    /// not run (no readable index: none, or encrypted and locked).
    pub keychain: Option<Result<Option<KeychainAudit>, Error>>,
    /// The owner (bundle id) of each domain, by the number [`FileSink::take`] gives it
    /// (`None`: no app's): what a file report's `app` is.
    pub domain_owners: Vec<Option<String>>,
    /// The rows the keychain audit reads (kept over every row; empty when the index was
    /// not read): a leak sweep over [`Scanned::rows`] needs them too.
    pub keychain_rows: super::keychain::KeychainRows,
}

/// Scan an opened (and possibly unlocked) backup.
pub fn scan(s: &Session, opts: &ScanOptions<'_>) -> Result<ScanReport, Error> {
    Ok(scan_all(s, opts)?.report)
}

/// Scan an opened (and possibly unlocked) backup, and hand back what was read with the
/// report (see [`Scanned`]).
pub fn scan_all(s: &Session, opts: &ScanOptions<'_>) -> Result<Scanned, Error> {
    let mut findings = Vec::new();
    let mut backup = backup_part(s, &mut findings);
    let keybag = keybag_part(s, &mut findings);
    let mut scanned = Scanned {
        report: ScanReport {
            schema: SCAN_SCHEMA,
            tool: ToolInfo::default(),
            backup: BackupSummary::default(),
            keybag,
            index_read: false,
            apps: Vec::new(),
            files: Vec::new(),
            orphans: Vec::new(),
            findings: Vec::new(),
            summary: Summary::default(),
            keychain: None,
            app_filter: None,
            per_file: PerFileTotals::default(),
            domains: Default::default(),
        },
        rows: Vec::new(),
        keychain: None,
        domain_owners: Vec::new(),
        keychain_rows: Default::default(),
    };
    if !opts.info_only {
        // The index is opened first (errors about it come first); its rows are streamed below.
        let index = s.index()?;
        // No size is read with the listing: a payload's size comes from the one open or
        // `fstatat` its row makes.
        let on_disk = s.listing()?;
        unexpected_files(s, on_disk, &mut findings);
        for n in s.notes.borrow().iter() {
            findings
                .push(Finding::new(&R::BACKUP_NOTE, n.clone()).at(Location::backup("Manifest.db")));
        }
        match index {
            None if s.index_is_ciphertext() => {
                findings.push(Finding::new(
                    &R::BACKUP_INDEX_LOCKED,
                    format!(
                        "Manifest.db is encrypted and no password was given: files and apps' contents cannot be listed ({} payload files on disk)",
                        on_disk.files.len()
                    ),
                ).at(Location::backup("Manifest.db")));
            }
            // No index at all (its absence is a finding of the backup part).
            None => {
                findings.push(Finding::new(
                    &R::BACKUP_NOTE,
                    format!(
                        "without an index, the {} payload files on disk cannot be attributed to files or apps",
                        on_disk.files.len()
                    ),
                ));
            }
            Some(index) => {
                let mut read = IndexScan {
                    s,
                    opts,
                    on_disk,
                    backup: &mut backup,
                    findings: &mut findings,
                };
                read.run(index, &mut scanned)?;
            }
        }
    }
    let report = &mut scanned.report;
    if !report.index_read {
        let own = crate::ownership::Ownership::of_backup(&s.backup, [], []);
        report.apps = manifest_apps(s, &own).into_values().collect();
        if let Some(app) = opts.app {
            // No index: nothing is attributed; the app is known (or not) by Manifest.plist.
            super::app_view::narrow(report, &mut findings, app, &Default::default());
        }
    }
    report.backup = backup;
    report.findings = findings;
    finish_summary(report);
    Ok(scanned)
}

/// A finding for each entry of the backup folder that is not part of a backup.
fn unexpected_files(s: &Session, on_disk: &ContentScan, findings: &mut Vec<Finding>) {
    for o in &on_disk.other {
        let rel = o
            .path
            .strip_prefix(&s.backup.root)
            .unwrap_or(&o.path)
            .display()
            .to_string();
        findings.push(
            Finding::new(
                &R::BACKUP_UNEXPECTED_FILE,
                format!("{} ({:?}, {} bytes)", o.reason, o.kind, o.len),
            )
            .at(Location::backup(rel)),
        );
    }
}

/// The part of a scan that reads the index: every row reported, the apps, the orphans,
/// the payloads' encryption and the keychain.
struct IndexScan<'a, 'o> {
    s: &'a Session,
    opts: &'a ScanOptions<'o>,
    on_disk: &'a ContentScan,
    backup: &'a mut BackupSummary,
    findings: &'a mut Vec<Finding>,
}

/// What streaming the index's rows gave.
struct Streamed {
    fold: RowTotals,
    /// The file reports kept (see [`ScanOptions::keep_file`]).
    kept: Vec<FileReport>,
    /// The rows kept for the keychain audit.
    kc_rows: super::keychain::KeychainRows,
    /// The rows kept for the caller (see [`ScanOptions::keep_row`]).
    rows: Vec<FileRecord>,
    domains: DomainFold,
}

impl<'a> IndexScan<'a, '_> {
    fn run(&mut self, index: Index, out: &mut Scanned) -> Result<(), Error> {
        let (s, opts, on_disk) = (self.s, self.opts, self.on_disk);
        let report = &mut out.report;
        report.index_read = true;
        let manifest = s
            .backup
            .manifest
            .as_ref()
            .map_or(&[][..], |m| &m.applications);
        let app_only = |domain: &str| {
            opts.app
                .is_none_or(|b| crate::ownership::may_belong_to(domain, &[b], manifest))
        };
        let mut ctx = self.file_ctx();
        if opts.app.is_some() {
            ctx.deep_only = Some(&app_only);
        }
        let mut st = self.stream(&index, &ctx, &mut report.summary, &app_only)?;
        drop(index);
        let attributed = st.domains.attribute(s);
        let mut kept = st.kept;
        kept.par_iter_mut().for_each(|f| {
            f.app = attributed.owners.get(&f.domain).cloned().flatten();
        });
        report.domains = attributed.domains;
        out.domain_owners = attributed.by_id;
        report.apps = attributed.apps.into_values().collect();
        report.per_file = std::mem::take(&mut st.fold.per_file);
        report.orphans = orphans(on_disk, &st.fold.listed, self.findings);
        self.encryption(&st.fold);
        if opts.deep {
            report.summary.deep = Some(DeepSummary {
                verified: st.fold.deep_verified,
                failed: st.fold.deep_failed,
                hashed: !opts.deep_no_hash,
                bytes: ctx.deep_done.load(Ordering::Relaxed),
            });
        }
        report.files = kept;
        out.rows = st.rows;
        if let Some(app) = opts.app {
            super::app_view::narrow(report, self.findings, app, &attributed.owners);
            if opts.summary_only {
                report.files = Vec::new();
            }
        }
        if !s.is_encrypted() || s.class_keys.is_some() {
            let mut kc = super::keychain::audit(s, st.kc_rows.rows());
            if let (Some(app), Ok(Some(a))) = (opts.app, kc.as_mut()) {
                a.retain_app(app);
                if let (Some(view), Some(f)) = (report.app_filter.as_mut(), &a.app_filter) {
                    view.keychain_items = Some(f.keychain_items);
                    view.keychain_may_belong = Some(f.may_belong);
                }
            }
            super::keychain::attach(report, &kc);
            self.findings.append(&mut report.findings);
            out.keychain = Some(kc);
        }
        out.keychain_rows = st.kc_rows;
        Ok(())
    }

    /// The context the parallel workers share.
    fn file_ctx(&self) -> FileCtx<'a> {
        let (s, opts, on_disk) = (self.s, self.opts, self.on_disk);
        // The bytes `deep` will read, for its progress bar only (rows come in batches, so
        // their recorded sizes are not known up front): one `fstatat` per payload, in
        // parallel.
        // (With `app`, the rows selected add their payloads' sizes batch by batch.)
        let deep_total: u64 = if opts.deep && opts.deep_progress.is_some() && opts.app.is_none() {
            on_disk
                .files
                .par_iter()
                .map(|c| on_disk.len(c).unwrap_or(0))
                .sum()
        } else {
            0
        };
        FileCtx {
            listing: on_disk,
            keys: s.class_keys.as_ref(),
            class_wrap: s
                .keybag
                .as_ref()
                .map(|k| k.classes.iter().map(|c| (c.class(), c.wrap)).collect())
                .unwrap_or_default(),
            check_fileid: true,
            encrypted_backup: self.backup.encryption.declared == Some(true),
            deep: opts.deep,
            deep_hash: !opts.deep_no_hash,
            deep_done: AtomicU64::new(0),
            deep_total: AtomicU64::new(deep_total),
            deep_progress: opts.deep_progress,
            deep_only: None,
        }
    }

    /// Stream the rows from the index into reports, a batch at a time (in parallel, in
    /// index order); each batch is folded into the totals and kept only when the caller
    /// wants every file's report. The keychain audit and the caller keep the rows they need.
    fn stream(
        &mut self,
        index: &Index,
        ctx: &FileCtx<'_>,
        summary: &mut Summary,
        app_only: &(dyn Fn(&str) -> bool + Sync),
    ) -> Result<Streamed, Error> {
        let opts = self.opts;
        let mut st = Streamed {
            fold: RowTotals {
                listed: vec![false; self.on_disk.files.len()],
                ..RowTotals::default()
            },
            kept: Vec::new(),
            kc_rows: Default::default(),
            rows: Vec::new(),
            // Rows are counted per domain; domains are attributed to apps once all are known.
            domains: DomainFold::default(),
        };
        let findings = &mut *self.findings;
        let batch_rows = if opts.deep { DEEP_BATCH } else { REPORT_BATCH };
        let mut batch: Vec<(FileRecord, u32)> = Vec::with_capacity(batch_rows.min(1 << 24));
        // With `app`, every report that may be the app's is kept (its owner is known once
        // every domain is) and the summary is recounted over the app's.
        let no_files = opts.summary_only && opts.app.is_none();
        let sink = opts
            .file_sink
            .filter(|_| !no_files && opts.keep_file.is_none() && opts.app.is_none());
        // A batch's reports are folded (in order, on one thread) while the next batch's
        // are made (in parallel): the fold does not leave the other cores idle.
        let mut fold = |reports: Reports, st: &mut Streamed, summary: &mut Summary| {
            for (f, &(key, payload, domain)) in reports.0.iter().zip(&reports.1) {
                st.fold.add(f, key, payload, findings, summary);
                st.domains.add(domain, f);
            }
            if let Some(sink) = sink {
                let domains: Vec<u32> = reports.1.iter().map(|k| k.2).collect();
                sink.take(reports.0, &domains);
            } else if !no_files {
                let reports = reports.0;
                let keep =
                    |f: &FileReport| opts.keep_file.is_none_or(|k| k(f)) && app_only(&f.domain);
                if opts.keep_file.is_some() || opts.app.is_some() {
                    st.kept.extend(reports.into_iter().filter(keep));
                } else if st.kept.is_empty() {
                    st.kept = reports;
                } else {
                    st.kept.extend(reports);
                }
            }
        };
        let mut pending: Option<Reports> = None;
        let mut run = |batch: &mut Vec<(FileRecord, u32)>,
                       st: &mut Streamed,
                       pending: &mut Option<Reports>| {
            if ctx.deep_only.is_some() && ctx.deep_progress.is_some() {
                let more: u64 = batch
                    .iter()
                    .filter(|(r, _)| r.kind == FileKind::File && ctx.deep_for(&r.domain))
                    .map(|(r, _)| stored_estimate(r))
                    .sum();
                ctx.deep_total.fetch_add(more, Ordering::Relaxed);
            }
            if opts.deep {
                // A deep batch ([`DEEP_BATCH`] rows) costs far more to read than to fold,
                // and two held at once would cost tens of MB: folded as soon as made.
                let reports = report_batch(ctx, true, batch);
                fold(reports, st, summary);
                return;
            }
            let before = pending.take();
            let ((), reports) = rayon::join(
                || {
                    if let Some(r) = before {
                        fold(r, st, summary)
                    }
                },
                || report_batch(ctx, opts.deep, batch),
            );
            *pending = Some(reports);
        };
        index.for_each_record(|r| {
            st.kc_rows.observe(&r);
            if opts.keep_row.is_some_and(|keep| keep(&r)) {
                st.rows.push(r.clone());
            }
            let domain = st.domains.id(&r.domain);
            batch.push((r, domain));
            if batch.len() >= batch_rows {
                run(&mut batch, &mut st, &mut pending);
            }
        })?;
        run(&mut batch, &mut st, &mut pending);
        if let Some(r) = pending.take() {
            fold(r, &mut st, summary);
        }
        Ok(st)
    }

    /// Whether the payloads are encrypted, against what the backup declares.
    fn encryption(&mut self, fold: &RowTotals) {
        let enc = &mut self.backup.encryption;
        enc.payloads_encrypted = if fold.any_file {
            Some(fold.any_encrypted && fold.stored_plain == 0)
        } else {
            None
        };
        if fold.stored_plain > 0 {
            self.findings.push(Finding::new(
                &R::BACKUP_ENCRYPTION_MISMATCH,
                format!("{} payloads are plaintext although their rows carry EncryptionKeys: a decrypted copy of an encrypted backup", fold.stored_plain),
            ));
        }
        if enc.declared == Some(false) && enc.payloads_encrypted == Some(true) {
            self.findings.push(Finding::new(
                &R::BACKUP_ENCRYPTION_MISMATCH,
                "IsEncrypted is false but index rows carry EncryptionKeys",
            ));
        }
    }
}

/// The bytes a file row's payload is expected to hold on disk (its ciphertext when it
/// has a key), for a progress total.
fn stored_estimate(r: &FileRecord) -> u64 {
    let size = r.size.unwrap_or(0);
    if r.encryption_key.is_some() && size > 0 {
        16 * (size / 16 + 1)
    } else {
        size
    }
}

/// The reports of a batch of rows (emptied), in row order, with what the fold needs of each.
fn report_batch(
    ctx: &FileCtx<'_>,
    deep: bool,
    batch: &mut Vec<(FileRecord, u32)>,
) -> (Vec<FileReport>, Vec<RowKeys>) {
    // The row's file IDs, and the payload its fileID names, whatever the row's kind.
    let found = |r: &FileRecord| {
        let ids = RowIds::of(r);
        (ids.named.and_then(|id| ctx.listing.find(&id)), ids)
    };
    let report_of = |((r, domain), (payload, ids)): Job| {
        let key = ids.path_key(&r.domain);
        (file_report(ctx, r, payload, &ids), (key, payload, domain))
    };
    if deep {
        // The payloads are found first: the order of the work depends on their sizes.
        let payloads: Vec<(Option<usize>, RowIds)> =
            batch.par_iter().map(|(r, _)| found(r)).collect();
        // The batch is moved (its buffer freed as it is taken) rather than drained.
        let jobs = std::mem::take(batch).into_iter().zip(payloads);
        deep_in_order(jobs, &report_of).unzip()
    } else {
        batch
            .par_drain(..)
            .map(|row| {
                let p = found(&row.0);
                report_of((row, p))
            })
            .unzip()
    }
}

/// The payloads no row names (where both layouts hold a file ID, the row marks the first
/// of them, which stands for both), each with a finding. A size that cannot be read (the
/// payload went away or changed kind since the listing) is reported as 0 bytes with a
/// finding saying why, never silently.
fn orphans(on_disk: &ContentScan, listed: &[bool], findings: &mut Vec<Finding>) -> Vec<Orphan> {
    let mut out = Vec::new();
    for c in on_disk
        .files
        .iter()
        .filter(|c| on_disk.find(&c.id).is_none_or(|i| !listed[i]))
    {
        let path = on_disk.path(c).display().to_string();
        let file_id = c.file_id().to_string();
        let (bytes, size) = match on_disk.len(c) {
            Ok(n) => (n, format!("{n} bytes")),
            Err(e) => {
                findings.push(
                    Finding::new(
                        &R::FILE_UNREADABLE,
                        format!("cannot read the size of the orphan payload: {e}"),
                    )
                    .at(Location::payload(&file_id, &path)),
                );
                (0, "size unknown".to_string())
            }
        };
        findings.push(
            Finding::new(
                &R::FILE_ORPHAN,
                format!("payload {file_id} ({size}) is not in the index"),
            )
            .at(Location::payload(&file_id, &path)),
        );
        out.push(Orphan {
            file_id,
            path,
            bytes,
        });
    }
    out
}

/// Totals of the file reports, folded in index order as the reports are made.
#[derive(Default)]
struct RowTotals {
    /// Keys of (domain, relativePath) seen, for duplicates.
    paths: HashSet<u128>,
    /// Per payload on disk (as listed): does some row name it? (The rest are orphans.)
    listed: Vec<bool>,
    any_file: bool,
    any_encrypted: bool,
    stored_plain: u64,
    deep_verified: u64,
    deep_failed: u64,
    per_file: PerFileTotals,
}

impl RowTotals {
    /// RowTotals one report; `payload`: the payload on disk its fileID names.
    fn add(
        &mut self,
        f: &FileReport,
        key: u128,
        payload: Option<usize>,
        findings: &mut Vec<Finding>,
        s: &mut Summary,
    ) {
        if !self.paths.insert(key) {
            findings.push(
                Finding::new(
                    &R::FILE_DUPLICATE_PATH,
                    "two index rows name this domain and path",
                )
                .at(Location::file(&f.domain, &f.relative_path)),
            );
        }
        if let Some(i) = payload {
            self.listed[i] = true;
        }
        self.any_file |= f.kind == FileKind::File && f.size.unwrap_or(0) > 0;
        self.any_encrypted |= f.encrypted;
        if f.findings
            .iter()
            .any(|x| x.rule == R::FILE_NOT_CIPHERTEXT.id)
        {
            self.stored_plain += 1;
        }
        match deep_outcome(f) {
            Some(false) => self.deep_failed += 1,
            Some(true) => self.deep_verified += 1,
            None => {}
        }
        count_file(s, &mut self.per_file, f);
    }
}

/// With `deep`: whether the file was verified (`Some(true)`) or failed (`Some(false)`:
/// it did not decrypt, read or end); one file counts once.
pub(super) fn deep_outcome(f: &FileReport) -> Option<bool> {
    let has = |rule: &str| f.findings.iter().any(|x| x.rule == rule);
    if has(R::FILE_DECRYPT_FAILED.id) || has(R::FILE_UNREADABLE.id) || has(R::FILE_TRUNCATED.id) {
        Some(false)
    } else {
        f.deep_read.then_some(true)
    }
}

/// Count one file report into the summary and the per-file finding totals.
pub(super) fn count_file(s: &mut Summary, per_file: &mut PerFileTotals, f: &FileReport) {
    s.entries += 1;
    match f.kind {
        FileKind::File => {
            s.files += 1;
            if f.status == FileStatus::Present {
                s.files_present += 1;
                s.stored_bytes_present += f.stored_size.unwrap_or(0);
            } else {
                s.files_missing += 1;
            }
            let bytes = f.content_size.or(f.size).unwrap_or(0);
            if f.size == Some(0) {
                s.empty_files += 1;
            }
            s.content_bytes += bytes;
            if let Some(c) = f.protection_class {
                let e = s.by_protection_class.entry(c.to_string()).or_default();
                e.files += 1;
                e.bytes += bytes;
            }
        }
        FileKind::Directory => s.directories += 1,
        FileKind::Symlink => s.symlinks += 1,
        FileKind::Other => {}
    }
    if f.findings
        .iter()
        .any(|x| x.rule == R::FILE_SIZE_MISMATCH.id)
    {
        s.size_mismatch_files += 1;
    }
    for x in &f.findings {
        *s.findings.entry(x.rule).or_insert(0) += 1;
        per_file.findings += 1;
        per_file.max_severity = per_file.max_severity.max(Some(x.severity));
    }
}

/// With `deep`, payloads recorded this large or larger are verified first, one task each
/// (small under test, so that the fixtures' payloads take that path too).
#[cfg(not(test))]
const DEEP_BIG: u64 = 8 << 20;
#[cfg(test)]
const DEEP_BIG: u64 = 2048;

/// A row to report on: the row with its domain's number, and the payload its fileID names
/// with its file IDs.
type Job = ((FileRecord, u32), (Option<usize>, RowIds));

/// What the fold needs of a row beside its report: its path key, its payload and its
/// domain's number.
type RowKeys = (u128, Option<usize>, u32);

/// A batch's reports, in row order, with their [`RowKeys`].
type Reports = (Vec<FileReport>, Vec<RowKeys>);

/// Run `report_of` over the rows of a `deep` scan, results in row order. Payloads differ
/// by orders of magnitude in size, and rayon's splitting of the row list into halves
/// left one thread alone with a video at the end. Here the big payloads (at least
/// [`DEEP_BIG`]) form one queue, largest first, and the rest another, in small blocks in
/// row order; half the threads start on each (hashing a video beside the system calls of
/// small files went faster than two videos at once here) and take from the other queue
/// when theirs is empty, so the last task is one small block or the smallest video.
/// Rows and results stay in place (rows are taken, results set, by index), and the
/// results are handed out as they are moved from their slots (one copy at a time).
/// `total` grows by the bytes the rows will read (the progress total).
fn deep_in_order<T: Send + Sync>(
    jobs: impl Iterator<Item = Job>,
    report_of: &(dyn Fn(Job) -> T + Sync),
) -> impl Iterator<Item = T> {
    use std::sync::{Mutex, OnceLock, PoisonError};
    const BLOCK: usize = 32;
    let mut est = Vec::new();
    let jobs: Vec<Mutex<Option<Job>>> = jobs
        .map(|j| {
            est.push(deep_estimate(&j));
            Mutex::new(Some(j))
        })
        .collect();
    let mut big: Vec<usize> = (0..jobs.len()).filter(|&i| est[i] >= DEEP_BIG).collect();
    big.sort_by_key(|&i| std::cmp::Reverse(est[i]));
    let small: Vec<usize> = (0..jobs.len()).filter(|&i| est[i] < DEEP_BIG).collect();
    drop(est);
    let done: Vec<OnceLock<T>> = (0..jobs.len()).map(|_| OnceLock::new()).collect();
    let queues = [Mutex::new(big.chunks(1)), Mutex::new(small.chunks(BLOCK))];
    let take = |q: usize| {
        queues[q]
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .next()
    };
    (0..rayon::current_num_threads())
        .into_par_iter()
        .for_each(|w| {
            while let Some(block) = take(w % 2).or_else(|| take(1 - w % 2)) {
                for &i in block {
                    let job = jobs[i]
                        .lock()
                        .unwrap_or_else(PoisonError::into_inner)
                        .take();
                    if let Some(job) = job {
                        let _ = done[i].set(report_of(job));
                    }
                }
            }
        });
    drop(jobs);
    done.into_iter().map(|c| {
        c.into_inner()
            .expect("each row is in one queue block, reported once")
    })
}

/// Bytes `deep` will read for a row: its recorded size when it is a file with a payload.
fn deep_estimate(((r, _), (payload, _)): &Job) -> u64 {
    match (r.kind, payload) {
        (crate::index::FileKind::File, Some(_)) => r.size.unwrap_or(0),
        _ => 0,
    }
}

/// Add the counts that do not come from file reports (folded as they were made).
fn finish_summary(r: &mut ScanReport) {
    let s = &mut r.summary;
    s.apps = r.apps.len() as u64;
    s.orphans = r.orphans.len() as u64;
    for f in &r.findings {
        *s.findings.entry(f.rule).or_insert(0) += 1;
    }
}

/// Does the report have a finding at or above `threshold`?
pub fn fails(r: &ScanReport, threshold: Severity) -> bool {
    r.max_severity().is_some_and(|s| s >= threshold)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::session::Unlock;
    use std::path::Path;

    /// Everything of a report but its `files`, as JSON, plus the severity gate's input.
    fn totals(r: &ScanReport) -> (serde_json::Value, Option<Severity>, u64) {
        let mut v = serde_json::to_value(r).unwrap();
        v.as_object_mut().unwrap().remove("files");
        (v, r.max_severity(), r.per_file.findings)
    }

    /// The password of the project's small fixture.
    const SMALL_PW: &str = "fixture-small-pw";

    /// The project's small encrypted fixture, written to a fresh folder (removed with the
    /// returned guard).
    fn small_fixture() -> (tempfile::TempDir, std::path::PathBuf) {
        let spec = Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/specs/small.json");
        let spec =
            crate::fixture::Spec::from_json(&std::fs::read_to_string(spec).unwrap()).unwrap();
        let t = tempfile::tempdir().unwrap();
        let out = t.path().join("b");
        crate::fixture::write(&spec, &out).unwrap();
        (t, out)
    }

    /// Open the backup at `dir`, unlocked with `password` when one is given.
    fn open(dir: &Path, password: Option<&str>) -> Session {
        let mut s = Session::open(dir).unwrap();
        if let Some(p) = password {
            s.unlock(
                Unlock::Password(crate::crypto::Password::new(p.into())),
                None,
                &mut |_| {},
            )
            .unwrap();
        }
        s
    }

    fn both_ways(dir: &Path, password: Option<&str>, deep: bool) -> usize {
        let s = open(dir, password);
        let full = scan(
            &s,
            &ScanOptions {
                deep,
                ..Default::default()
            },
        )
        .unwrap();
        let lean = scan(
            &s,
            &ScanOptions {
                deep,
                summary_only: true,
                ..Default::default()
            },
        )
        .unwrap();
        assert!(lean.files.is_empty());
        if deep {
            // The biggest payloads are verified first; the reports keep the index order.
            let plain = scan(&s, &ScanOptions::default()).unwrap();
            let order = |r: &ScanReport| -> Vec<(String, String)> {
                r.files
                    .iter()
                    .map(|f| (f.domain.clone(), f.relative_path.clone()))
                    .collect()
            };
            assert_eq!(order(&full), order(&plain), "{}", dir.display());
            assert!(full
                .files
                .iter()
                .any(|f| f.size.unwrap_or(0) >= DEEP_BIG && f.sha256.is_some()));
        }
        // The JSON with per-file reports rendered in parallel is byte for byte serde's.
        for r in [full.clone(), lean.clone()] {
            let (mut a, mut b) = (Vec::new(), Vec::new());
            crate::report::json::write(&mut a, &r).unwrap();
            let mut r = r;
            crate::report::json::write_scan(&mut b, &mut r).unwrap();
            assert!(a == b, "{}: parallel JSON differs", dir.display());
        }
        // The streamed JSON (file reports spilled as they are made, sealed, then put in
        // place) is the previous writer's, line for line: every field, in order.
        let spill = crate::report::json::FileSpill::new().unwrap();
        let spilled = scan_all(
            &s,
            &ScanOptions {
                deep,
                file_sink: Some(&spill),
                ..Default::default()
            },
        )
        .unwrap();
        assert!(spilled.report.files.is_empty(), "nothing kept in memory");
        let mut streamed = Vec::new();
        crate::report::json::write_scan_spilled(
            &mut streamed,
            &spilled.report,
            spill,
            &spilled.domain_owners,
        )
        .unwrap();
        let mut previous = Vec::new();
        crate::report::json::write(&mut previous, &full).unwrap();
        let (streamed, previous) = (
            String::from_utf8(streamed).unwrap(),
            String::from_utf8(previous).unwrap(),
        );
        for (i, (a, b)) in streamed.lines().zip(previous.lines()).enumerate() {
            assert_eq!(
                a,
                b,
                "{}: line {} of the streamed JSON",
                dir.display(),
                i + 1
            );
        }
        assert_eq!(streamed.len(), previous.len(), "{}", dir.display());
        // SARIF keeps only the files with findings (`scan --format sarif`): the same log.
        let with_findings = |f: &FileReport| !f.findings.is_empty();
        let few = scan(
            &s,
            &ScanOptions {
                deep,
                keep_file: Some(&with_findings),
                ..Default::default()
            },
        )
        .unwrap();
        assert!(few.files.len() < full.files.len(), "{}", dir.display());
        let (mut a, mut b) = (Vec::new(), Vec::new());
        crate::report::sarif::write(&mut a, &full).unwrap();
        crate::report::sarif::write(&mut b, &few).unwrap();
        assert!(
            a == b,
            "{}: SARIF of the files with findings differs",
            dir.display()
        );
        assert!(
            full.files.iter().any(|f| !f.findings.is_empty()),
            "{}: some file has a finding",
            dir.display()
        );
        assert!(
            full.files.iter().any(|f| f.app.is_some())
                && full.files.iter().any(|f| f.app.is_none()),
            "{}: files of apps and of none",
            dir.display()
        );
        assert!(
            full.files.len() > 3 * REPORT_BATCH && (!deep || full.files.len() > DEEP_BATCH),
            "{}: spans several batches",
            dir.display()
        );
        assert_eq!(totals(&full), totals(&lean), "{}", dir.display());
        // The folded per-file totals are those of the files kept.
        let n: usize = full.files.iter().map(|f| f.findings.len()).sum();
        assert_eq!(full.per_file.findings, n as u64);
        let max = full
            .files
            .iter()
            .flat_map(|f| f.findings.iter())
            .map(|f| f.severity)
            .max();
        assert_eq!(full.per_file.max_severity, max);
        full.files.len()
    }

    #[test]
    fn summary_only_equals_the_full_report_without_files() {
        // The project's fixture (encrypted, with password), then independent backups.
        let (_t, out) = small_fixture();
        for deep in [false, true] {
            both_ways(&out, Some(SMALL_PW), deep);
        }
        if let Some(d) =
            crate::test_support::shared("conformance/small-unencrypted/00008120-001A2B3C4D5E801E")
        {
            assert_eq!(both_ways(&d, None, true), 113);
        }
        if let Some(d) = crate::test_support::shared("external/mvt/ios_backup") {
            assert_eq!(both_ways(&d, None, false), 3721);
        }
    }

    #[test]
    fn orphan_whose_size_cannot_be_read_is_not_silent() {
        let (_t, out) = small_fixture();
        let id = "ab".repeat(20);
        let orphan = out.join(&id[..2]).join(&id);
        std::fs::create_dir_all(orphan.parent().unwrap()).unwrap();
        let s = open(&out, Some(SMALL_PW));
        let rules = |r: &ScanReport, rule: &str| -> Vec<String> {
            r.findings
                .iter()
                .filter(|f| f.rule == rule && f.location.to_string().ends_with(&id))
                .map(|f| f.message.clone())
                .collect()
        };
        // Listed and sized: its bytes are reported.
        std::fs::write(&orphan, [7u8; 33]).unwrap();
        let r = scan(&s, &ScanOptions::default()).unwrap();
        let o: Vec<_> = r.orphans.iter().filter(|o| o.file_id == id).collect();
        assert_eq!(o.len(), 1);
        assert_eq!(o[0].bytes, 33);
        assert_eq!(
            rules(&r, "file.orphan"),
            [format!("payload {id} (33 bytes) is not in the index")]
        );
        assert!(rules(&r, "file.unreadable").is_empty());
        // Listed, then deleted while the rows are verified: its size is unknown, and said so.
        let gone = |_: u64, _: u64| {
            let _ = std::fs::remove_file(&orphan);
        };
        let r = scan(
            &s,
            &ScanOptions {
                deep: true,
                deep_progress: Some(&gone),
                ..Default::default()
            },
        )
        .unwrap();
        assert!(!orphan.exists());
        let o: Vec<_> = r.orphans.iter().filter(|o| o.file_id == id).collect();
        assert_eq!(o.len(), 1);
        assert_eq!(o[0].bytes, 0);
        assert_eq!(
            rules(&r, "file.orphan"),
            [format!("payload {id} (size unknown) is not in the index")]
        );
        let unreadable = rules(&r, "file.unreadable");
        assert_eq!(unreadable.len(), 1, "{unreadable:?}");
        assert!(unreadable[0].starts_with("cannot read the size of the orphan payload: "));
    }

    #[test]
    fn a_missing_index_is_not_called_locked() {
        let (_t, out) = small_fixture();
        let rules = |s: &Session| -> Vec<(&'static str, String)> {
            let r = scan(s, &ScanOptions::default()).unwrap();
            assert!(!r.index_read);
            r.findings
                .into_iter()
                .map(|f| (f.rule, f.message))
                .collect()
        };
        // Encrypted index, no password: locked.
        let f = rules(&open(&out, None));
        assert!(f.iter().any(|(r, _)| *r == "backup.index-locked"), "{f:?}");
        // No index, with the password: not "locked", and the payloads are counted.
        std::fs::remove_file(out.join("Manifest.db")).unwrap();
        let s = open(&out, Some(SMALL_PW));
        let f = rules(&s);
        assert!(!f.iter().any(|(r, _)| *r == "backup.index-locked"), "{f:?}");
        assert!(
            f.iter().any(|(r, m)| *r == "backup.note"
                && m.starts_with("without an index, the ")
                && !m.starts_with("without an index, the 0 ")),
            "{f:?}"
        );
    }

    /// `--no-hash` changes the hashes and the summary's `hashed`, nothing else.
    #[test]
    fn deep_without_hashes_verifies_the_same() {
        let (_t, out) = small_fixture();
        let s = open(&out, Some(SMALL_PW));
        let run = |deep_no_hash| {
            let r = scan(
                &s,
                &ScanOptions {
                    deep: true,
                    deep_no_hash,
                    ..Default::default()
                },
            )
            .unwrap();
            let mut v = serde_json::to_value(&r).unwrap();
            v["tool"] = serde_json::Value::Null;
            v
        };
        let (hashed, bare) = (run(false), run(true));
        assert_eq!(hashed["summary"]["deep"]["hashed"], true);
        assert_eq!(bare["summary"]["deep"]["hashed"], false);
        let files = |v: &serde_json::Value| v["files"].as_array().unwrap().clone();
        assert!(files(&hashed).iter().any(|f| f["sha256"].is_string()));
        assert!(files(&bare).iter().all(|f| f["sha256"].is_null()));
        assert!(hashed["summary"]["deep"]["verified"].as_u64().unwrap() > 10);
        let strip = |mut v: serde_json::Value| {
            v["summary"]["deep"]["hashed"] = serde_json::Value::Null;
            for f in v["files"].as_array_mut().unwrap() {
                f["sha256"] = serde_json::Value::Null;
            }
            v
        };
        assert_eq!(strip(hashed), strip(bare));
    }

    /// The progress total of `deep` is known before the first batch and never moves, though
    /// the rows come in several batches.
    #[test]
    fn deep_progress_total_is_known_up_front() {
        let (_t, out) = small_fixture();
        let s = open(&out, Some(SMALL_PW));
        let calls = std::sync::Mutex::new(Vec::new());
        let cb = |done: u64, total: u64| calls.lock().unwrap().push((done, total));
        let r = scan(
            &s,
            &ScanOptions {
                deep: true,
                deep_progress: Some(&cb),
                ..Default::default()
            },
        )
        .unwrap();
        assert!(r.files.len() > DEEP_BATCH, "spans several batches");
        let calls = calls.into_inner().unwrap();
        let total = calls[0].1;
        assert!(total > 0);
        assert!(
            calls.iter().all(|&(d, t)| t == total && d <= total),
            "{calls:?}"
        );
        let done = calls.iter().map(|c| c.0).max().unwrap();
        assert_eq!(Some(done), r.summary.deep.as_ref().map(|d| d.bytes));
    }

    #[test]
    fn path_keys_separate_domain_from_path() {
        let key = |d: &str, p: &str| {
            let r = FileRecord::new(String::new(), d.into(), p.into());
            RowIds::of(&r).path_key(d)
        };
        // The same SHA-1 input ("a-b-c"), told apart by where the domain ends.
        assert_ne!(key("a-b", "c"), key("a", "b-c"));
        assert_ne!(key("ab", "c"), key("a", "bc"));
        assert_eq!(key("HomeDomain", "x"), key("HomeDomain", "x"));
        assert_ne!(key("HomeDomain", "x"), key("HomeDomain", "y"));
    }
}
