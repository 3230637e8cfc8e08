//! Carrying out the plan: directories (never through a link), files in parallel, links, times.

use super::manifest::{Kept, Written};
use super::path::{resolve_link, Refusal};
use super::plan::{FileJob, LinkJob, Plan};
use super::rows::Rows;
use super::ExtractProgress;
use crate::crypto::cbc::StreamProblem;
use crate::crypto::KeyUnavailable;
use crate::index::{FileRecord, Index, IndexError, Reading};
use crate::session::payload::{Payloads, Sink, Unavailable};
use sha2::Digest;
use std::fs::{self, File, OpenOptions};
use std::io::{ErrorKind, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{mpsc, Mutex};
use std::time::{Duration, SystemTime};

/// What happened to one row.
#[derive(Debug)]
pub(crate) enum Outcome {
    Exported(u64),
    Missing,
    Undecryptable(&'static str, String),
    Failed(&'static str, String),
    Refused(Refusal),
    LinkCreated,
    LinkSkipped,
}

/// Where and how the export writes: shared, read-only, by the parallel workers.
pub(crate) struct ExportTarget<'a> {
    pub out: &'a Path,
    /// The payloads on disk and the class keys (payloads are opened through it).
    pub payloads: Payloads<'a>,
    pub force: bool,
    pub symlinks: bool,
    pub meter: Meter<'a>,
}

/// Bytes between two progress reports from inside one file.
const REPORT_EVERY: u64 = 1 << 20;

/// The export's progress, shared by the workers. Bytes count each planned file for its
/// recorded Size: as its content is written (never past that), then the rest when the file
/// is done whatever became of it, so the count ends at exactly the total. Reports are made
/// under a lock from counters that only grow, so the callback never sees them go back; a
/// worker that finds the lock taken skips its report instead of waiting.
pub(crate) struct Meter<'a> {
    cb: Option<&'a (dyn Fn(ExtractProgress) + Sync)>,
    bytes: AtomicU64,
    files: AtomicU64,
    bytes_total: u64,
    files_total: u64,
    last: Mutex<ExtractProgress>,
}

impl<'a> Meter<'a> {
    pub fn new(
        cb: Option<&'a (dyn Fn(ExtractProgress) + Sync)>,
        bytes_total: u64,
        files_total: u64,
    ) -> Self {
        Meter {
            cb,
            bytes: AtomicU64::new(0),
            files: AtomicU64::new(0),
            bytes_total,
            files_total,
            last: Mutex::new(ExtractProgress {
                bytes_total,
                files_total,
                ..Default::default()
            }),
        }
    }

    fn add_bytes(&self, n: u64) {
        if n > 0 {
            let _ = self
                .bytes
                .fetch_update(Ordering::Relaxed, Ordering::Relaxed, |b| {
                    Some(b.saturating_add(n))
                });
        }
    }

    /// Call back with the counts now; `wait`: even if another worker is reporting.
    pub fn report(&self, wait: bool) {
        let Some(cb) = self.cb else { return };
        let mut last = match (wait, self.last.try_lock()) {
            (_, Ok(g)) => g,
            (true, Err(std::sync::TryLockError::WouldBlock)) => {
                self.last.lock().unwrap_or_else(|p| p.into_inner())
            }
            (_, Err(std::sync::TryLockError::Poisoned(p))) => p.into_inner(),
            (false, Err(_)) => return,
        };
        let now = ExtractProgress {
            bytes_done: self.bytes.load(Ordering::Relaxed).min(self.bytes_total),
            bytes_total: self.bytes_total,
            files_done: self.files.load(Ordering::Relaxed).min(self.files_total),
            files_total: self.files_total,
        };
        if now != *last {
            *last = now;
            cb(now);
        }
    }
}

/// One file's share of the progress: its recorded Size, and how much of it is counted.
struct Credit {
    cap: u64,
    counted: u64,
    unreported: u64,
}

impl Credit {
    /// `written` bytes of content so far.
    fn written(&mut self, meter: &Meter<'_>, written: u64) {
        let now = written.min(self.cap);
        if now > self.counted {
            meter.add_bytes(now - self.counted);
            self.unreported += now - self.counted;
            self.counted = now;
            if self.unreported >= REPORT_EVERY {
                self.unreported = 0;
                meter.report(false);
            }
        }
    }

    /// The file is done (whatever became of it): count the rest of its Size, and it.
    fn done(self, meter: &Meter<'_>) {
        meter.add_bytes(self.cap - self.counted);
        meter.files.fetch_add(1, Ordering::Relaxed);
        meter.report(false);
    }
}

/// The output file, hashing (SHA-256) and counting what goes into it, as it goes in.
struct HashSink<'f, 'm> {
    file: &'f mut File,
    hash: sha2::Sha256,
    len: u64,
    credit: &'f mut Credit,
    meter: &'f Meter<'m>,
}

impl Write for HashSink<'_, '_> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        let n = self.file.write(buf)?;
        self.hash.update(buf.get(..n).unwrap_or_default());
        self.len += n as u64;
        self.credit.written(self.meter, self.len);
        Ok(n)
    }
    fn flush(&mut self) -> std::io::Result<()> {
        self.file.flush()
    }
}

/// Plaintext payloads go through the hash too (a buffered copy, not `copy_file_range`).
impl Sink for HashSink<'_, '_> {}

/// A file left in the output folder: its length and SHA-256 as written, and why it is
/// also listed as failed, if it is.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Hashed {
    pub len: u64,
    pub sha256: [u8; 32],
    pub problem: Option<Kept>,
}

/// `UNIX_EPOCH + secs` (negative before 1970), if representable.
pub(crate) fn unix_time(secs: i64) -> Option<SystemTime> {
    let d = Duration::from_secs(secs.unsigned_abs());
    if secs >= 0 {
        SystemTime::UNIX_EPOCH.checked_add(d)
    } else {
        SystemTime::UNIX_EPOCH.checked_sub(d)
    }
}

/// Is `p` a real directory (not a link to one)?
fn is_real_dir(p: &Path) -> bool {
    fs::symlink_metadata(p).is_ok_and(|m| m.file_type().is_dir())
}

/// Create every planned directory, parents first. Returns, per directory, whether it can
/// be written into, the number created, and the obstructions found (directory index, why).
pub(crate) fn make_dirs(
    ctx: &ExportTarget<'_>,
    plan: &Plan,
) -> (Vec<bool>, u64, Vec<(usize, Refusal)>) {
    let mut ok = vec![false; plan.dirs.len()];
    let mut created = 0u64;
    let mut problems = Vec::new();
    for (i, d) in plan.dirs.iter().enumerate() {
        let parent_ok = d
            .parent
            .is_none_or(|p| ok.get(p as usize).copied().unwrap_or(false));
        if !parent_ok {
            continue;
        }
        let p = ctx.out.join(&d.path);
        match fs::create_dir(&p) {
            Ok(()) => {
                created += 1;
                ok[i] = true;
            }
            Err(e) if e.kind() == ErrorKind::AlreadyExists && is_real_dir(&p) => ok[i] = true,
            Err(e) if e.kind() == ErrorKind::AlreadyExists => {
                problems.push((i, Refusal::Obstructed(format!("{} (not a folder)", d.path))))
            }
            Err(e) => problems.push((i, Refusal::Obstructed(format!("{}: {e}", d.path)))),
        }
    }
    (ok, created, problems)
}

/// Create `p` exclusively; with `force`, a file or link already there is replaced first
/// (removing a link removes the link, never its target).
fn create_output(p: &Path, force: bool) -> Result<File, Outcome> {
    let create = || OpenOptions::new().write(true).create_new(true).open(p);
    match create() {
        Ok(f) => Ok(f),
        Err(e) if e.kind() == ErrorKind::AlreadyExists && force => {
            match fs::symlink_metadata(p) {
                Ok(m) if !m.file_type().is_dir() => {}
                _ => {
                    return Err(Outcome::Refused(Refusal::Obstructed(format!(
                        "{} (a folder)",
                        p.display()
                    ))))
                }
            }
            fs::remove_file(p)
                .and_then(|_| create())
                .map_err(|e| Outcome::Failed("unwritable", format!("{}: {e}", p.display())))
        }
        Err(e) if e.kind() == ErrorKind::AlreadyExists => Err(Outcome::Refused(
            Refusal::Obstructed(format!("{} (already exists)", p.display())),
        )),
        Err(e) => Err(Outcome::Failed(
            "unwritable",
            format!("{}: {e}", p.display()),
        )),
    }
}

/// What a payload that cannot be read means for the row's outcome.
fn unavailable(why: Unavailable, rec: &FileRecord) -> Outcome {
    let code = why.code();
    match why {
        Unavailable::Missing => Outcome::Missing,
        Unavailable::BadFileId => Outcome::Failed(
            code,
            format!("fileID {:?} is not 40 lowercase hex digits", rec.file_id),
        ),
        Unavailable::Unreadable(e) => {
            Outcome::Failed(code, format!("cannot read the payload: {e}"))
        }
        Unavailable::Locked
        | Unavailable::Key(KeyUnavailable::DeviceBound(_))
        | Unavailable::Key(KeyUnavailable::NotPasswordWrapped(_))
        | Unavailable::Key(KeyUnavailable::NoClassKey(_)) => {
            Outcome::Undecryptable(code, why.to_string())
        }
        Unavailable::BadKey(_) | Unavailable::Key(KeyUnavailable::UnwrapFailed(..)) => {
            Outcome::Failed(code, why.to_string())
        }
    }
}

/// Write one file to `path` (under the output folder); the outcome, and its hash when a
/// file was left in the output folder.
fn export_file(
    ctx: &ExportTarget<'_>,
    rec: &FileRecord,
    path: &str,
    credit: &mut Credit,
) -> (Outcome, Option<Hashed>) {
    let payload = match ctx.payloads.open(rec) {
        Ok(p) => p,
        Err(why) => return (unavailable(why, rec), None),
    };
    let dest = ctx.out.join(path);
    let mut out = match create_output(&dest, ctx.force) {
        Ok(f) => f,
        Err(o) => return (o, None),
    };
    let mut sink = HashSink {
        file: &mut out,
        hash: sha2::Sha256::new(),
        len: 0,
        credit,
        meter: &ctx.meter,
    };
    let written = payload.stream(&mut sink).map(|o| {
        let problem = o.problem.map(|p| match p {
            StreamProblem::NotBlockAligned => format!(
                "ciphertext length {} is not a non-zero multiple of 16; the decrypted whole blocks were kept",
                o.stored_len
            ),
            StreamProblem::BadPadding => {
                "PKCS#7 padding is invalid (wrong key or corrupt content); every decrypted byte was kept".to_string()
            }
        });
        (o.content_len, problem)
    });
    let mut hashed = Hashed {
        len: sink.len,
        sha256: sink.hash.finalize().into(),
        problem: None,
    };
    let (n, problem) = match written {
        Ok(x) => x,
        Err(e) => {
            drop(out);
            let _ = fs::remove_file(&dest);
            let o = Outcome::Failed("io_error", format!("exporting to {}: {e}", dest.display()));
            return (o, None);
        }
    };
    if let Some(t) = rec.last_modified.and_then(unix_time) {
        if let Err(e) = out.set_modified(t) {
            let o = Outcome::Failed(
                Kept::MtimeFailed.code(),
                format!(
                    "cannot set the modification time of {}: {e}",
                    dest.display()
                ),
            );
            hashed.problem = Some(Kept::MtimeFailed);
            return (o, Some(hashed));
        }
    }
    match problem {
        Some(p) => {
            hashed.problem = Some(Kept::DecryptFailed);
            (Outcome::Failed(Kept::DecryptFailed.code(), p), Some(hashed))
        }
        None => (Outcome::Exported(n), Some(hashed)),
    }
}

/// What became of the planned files.
pub(crate) struct FilesDone {
    /// By plan job: what the manifest lists of each file left in the output folder.
    pub written: Vec<Written>,
    /// The rows not exported (refused, missing, failed, …), and why, with the SHA-256 of
    /// the content kept of a failed one. Rows exported are only counted.
    pub others: Vec<(u32, Outcome, Option<String>)>,
    pub exported: u64,
    pub bytes: u64,
}

impl FilesDone {
    fn record(
        &mut self,
        k: usize,
        row: u32,
        outcome: Outcome,
        hashed: Option<Hashed>,
        class: Option<u32>,
    ) {
        if let (Some(h), Some(w)) = (hashed, self.written.get_mut(k)) {
            *w = Written::new(h.len, h.sha256, class, h.problem);
        }
        match outcome {
            Outcome::Exported(n) => {
                self.exported += 1;
                self.bytes += n;
            }
            o => {
                let sha = match o {
                    Outcome::Failed(..) => hashed.map(|h| hex::encode(h.sha256)),
                    _ => None,
                };
                self.others.push((row, o, sha))
            }
        }
    }
}

/// No job for this row (or already sent to a worker).
const NO_JOB: u32 = u32::MAX;

/// Small files of one folder are handed to a worker together, up to this many: two workers
/// creating files in the same folder wait on its lock in the kernel (at 1.3 M rows a
/// quarter of the export's CPU time was spent spinning or sleeping on it).
const BATCH: usize = 32;
/// A file of at least this recorded Size is handed out alone (big files are written in
/// parallel even when they share a folder).
const ALONE: u64 = 1 << 20;

/// Files handed to a worker at once: (plan job, whole row).
type Batch = Vec<(u32, FileRecord)>;

/// The jobs not yet handed to the workers, by row, and the batch being filled.
struct Feed<'p> {
    job_of: Vec<u32>,
    pending: usize,
    jobs: &'p [FileJob],
    batch: Batch,
    /// The folder (plan directory) of the batch's files.
    parent: u32,
}

impl Feed<'_> {
    /// Hand row `i` to the workers if it is a job not yet handed (in a batch of its folder's
    /// files); false once they are gone.
    fn send(&mut self, tx: &mpsc::SyncSender<Batch>, i: u32, rec: FileRecord) -> bool {
        let Some(slot) = self.job_of.get_mut(i as usize) else {
            return true;
        };
        if *slot == NO_JOB {
            return true;
        }
        let k = std::mem::replace(slot, NO_JOB);
        self.pending -= 1;
        let parent = self.jobs.get(k as usize).map_or(NO_JOB, |j| j.parent);
        let alone = rec.size.unwrap_or(0) >= ALONE;
        if (alone || parent != self.parent || self.batch.len() >= BATCH) && !self.flush(tx) {
            return false;
        }
        self.parent = parent;
        self.batch.push((k, rec));
        !alone || self.flush(tx)
    }

    /// Hand over the batch being filled; false once the workers are gone.
    fn flush(&mut self, tx: &mpsc::SyncSender<Batch>) -> bool {
        if self.batch.is_empty() {
            return true;
        }
        tx.send(std::mem::take(&mut self.batch)).is_ok()
    }
}

/// Write every planned file, in parallel: first the rows `kept` whole while planning (the
/// biggest first, so they do not finish last), then the others as the index is read again.
/// Each worker takes the next file as soon as it is done with one (no batch to wait for);
/// at most a few whole rows wait in the queue.
pub(crate) fn write_files(
    ctx: &ExportTarget<'_>,
    plan: &Plan,
    dir_ok: &[bool],
    rows: &Rows,
    mut kept: Vec<(u32, FileRecord)>,
    (index, reading): (&Index, &Reading),
) -> Result<FilesDone, IndexError> {
    let mut job_of = vec![NO_JOB; rows.len()];
    for (k, j) in plan.files.iter().enumerate() {
        if let Some(slot) = job_of.get_mut(j.row as usize) {
            *slot = k as u32;
        }
    }
    let done = Mutex::new(FilesDone {
        written: vec![Written::default(); plan.files.len()],
        others: Vec::new(),
        exported: 0,
        bytes: 0,
    });
    let workers = rayon::current_num_threads().max(1);
    let mut feed = Feed {
        job_of,
        pending: plan.files.len(),
        jobs: &plan.files,
        batch: Vec::with_capacity(BATCH),
        parent: NO_JOB,
    };
    let (tx, rx) = mpsc::sync_channel::<Batch>(workers * 2);
    let rx = Mutex::new(rx);
    let read = std::thread::scope(|s| {
        for _ in 0..workers {
            s.spawn(|| loop {
                let next = rx.lock().unwrap_or_else(|p| p.into_inner()).recv();
                let Ok(batch) = next else { break };
                for (k, rec) in batch {
                    let (row, outcome, hashed) =
                        write_job(ctx, plan, dir_ok, rows, k as usize, &rec);
                    done.lock().unwrap_or_else(|p| p.into_inner()).record(
                        k as usize,
                        row,
                        outcome,
                        hashed,
                        rec.protection_class,
                    );
                }
            });
        }
        kept.sort_by_key(|(_, r)| std::cmp::Reverse(r.size.unwrap_or(0)));
        for (i, rec) in kept {
            if !feed.send(&tx, i, rec) {
                break;
            }
        }
        let mut read = Ok(0);
        if feed.pending > 0 {
            feed.flush(&tx);
            let mut i = 0u32;
            // Writing a file per row is far slower than reading rows: one range ahead.
            read = index.for_each_record_in(reading, 1, |rec| {
                if feed.pending > 0 {
                    feed.send(&tx, i, rec);
                }
                i = i.saturating_add(1);
            });
        }
        feed.flush(&tx);
        drop(tx);
        read
    });
    let mut done = done.into_inner().unwrap_or_else(|p| p.into_inner());
    // Jobs the second reading did not meet (the index changed under the export).
    for &k in feed.job_of.iter().filter(|&&k| k != NO_JOB) {
        if let Some(j) = plan.files.get(k as usize) {
            let o = Outcome::Failed(
                "index_changed",
                "the row was not found when the index was read again".into(),
            );
            done.record(k as usize, j.row, o, None, None);
            ctx.meter.files.fetch_add(1, Ordering::Relaxed);
        }
    }
    ctx.meter.report(true);
    read.map(|_| done)
}

/// Write the file of plan job `k`, whose whole row is `rec`.
fn write_job(
    ctx: &ExportTarget<'_>,
    plan: &Plan,
    dir_ok: &[bool],
    rows: &Rows,
    k: usize,
    rec: &FileRecord,
) -> (u32, Outcome, Option<Hashed>) {
    let Some(j) = plan.files.get(k) else {
        return (0, Outcome::Failed("internal", "no such job".into()), None);
    };
    let mut credit = Credit {
        cap: rec.size.unwrap_or(0),
        counted: 0,
        unreported: 0,
    };
    let path = rows.out_path(j.row);
    let (outcome, hashed) = if !rows.same(j.row, rec) {
        (
            Outcome::Failed(
                "index_changed",
                "the index read again gave another row in its place".into(),
            ),
            None,
        )
    } else if dir_ok.get(j.parent as usize).copied().unwrap_or(false) {
        export_file(ctx, rec, &path, &mut credit)
    } else {
        (
            Outcome::Refused(Refusal::Obstructed(parent_of(&path))),
            None,
        )
    };
    credit.done(&ctx.meter);
    (j.row, outcome, hashed)
}

fn parent_of(path: &str) -> String {
    match path.rfind('/') {
        Some(i) => format!("{} (could not be created as a folder)", &path[..i]),
        None => path.to_string(),
    }
}

/// Create (with `--symlinks`) or skip every planned link.
pub(crate) fn make_links(
    ctx: &ExportTarget<'_>,
    plan: &Plan,
    dir_ok: &[bool],
) -> Vec<(u32, Outcome)> {
    plan.links
        .iter()
        .map(|l| {
            let o = if !dir_ok.get(l.parent as usize).copied().unwrap_or(false) {
                Outcome::Refused(Refusal::Obstructed(parent_of(&l.path)))
            } else if !ctx.symlinks {
                Outcome::LinkSkipped
            } else {
                make_link(ctx, l)
            };
            (l.row, o)
        })
        .collect()
}

fn make_link(ctx: &ExportTarget<'_>, l: &LinkJob) -> Outcome {
    // Whatever already exists on the way to the target (with --force) must not be a link.
    let comps: Vec<&str> = l.path.split('/').collect();
    let mut on_disk = |p: &[String]| {
        let mut q = PathBuf::from(ctx.out);
        q.extend(p);
        fs::symlink_metadata(&q).is_ok_and(|m| m.file_type().is_symlink())
    };
    if let Err(why) = resolve_link(&comps, &mut on_disk, &l.target) {
        return Outcome::Refused(why);
    }
    let dest = ctx.out.join(&l.path);
    #[cfg(unix)]
    {
        let mk = || std::os::unix::fs::symlink(&l.target, &dest);
        let r = match mk() {
            Err(e) if e.kind() == ErrorKind::AlreadyExists && ctx.force => {
                match fs::symlink_metadata(&dest) {
                    Ok(m) if !m.file_type().is_dir() => fs::remove_file(&dest).and_then(|_| mk()),
                    _ => {
                        return Outcome::Refused(Refusal::Obstructed(format!(
                            "{} (a folder)",
                            l.path
                        )))
                    }
                }
            }
            r => r,
        };
        match r {
            Ok(()) => Outcome::LinkCreated,
            Err(e) if e.kind() == ErrorKind::AlreadyExists => {
                Outcome::Refused(Refusal::Obstructed(format!("{} (already exists)", l.path)))
            }
            Err(e) => Outcome::Failed("unwritable", format!("{}: {e}", dest.display())),
        }
    }
    #[cfg(not(unix))]
    {
        let _ = dest;
        Outcome::Failed(
            "unsupported",
            "symbolic links are only created on Unix hosts".into(),
        )
    }
}

/// Set the recorded modification time of the directories (deepest first, after the files).
/// Failures are ignored: the content is what matters and is already written.
pub(crate) fn set_dir_times(ctx: &ExportTarget<'_>, plan: &Plan, dir_ok: &[bool], rows: &Rows) {
    for (i, d) in plan.dirs.iter().enumerate().rev() {
        if !dir_ok.get(i).copied().unwrap_or(false) {
            continue;
        }
        let Some(t) = d.row.and_then(|r| rows.dir_mtime(r)).and_then(unix_time) else {
            continue;
        };
        if let Ok(f) = File::open(ctx.out.join(&d.path)) {
            let _ = f.set_modified(t);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unix_time_both_sides_of_1970() {
        assert_eq!(
            unix_time(1_717_243_200),
            SystemTime::UNIX_EPOCH.checked_add(Duration::from_secs(1_717_243_200))
        );
        assert_eq!(
            unix_time(-86_400),
            SystemTime::UNIX_EPOCH.checked_sub(Duration::from_secs(86_400))
        );
        assert_eq!(unix_time(0), Some(SystemTime::UNIX_EPOCH));
    }

    #[test]
    fn create_output_is_exclusive_unless_forced() {
        let d = tempfile::tempdir().unwrap();
        let p = d.path().join("f");
        fs::write(&p, b"old").unwrap();
        assert!(matches!(
            create_output(&p, false),
            Err(Outcome::Refused(Refusal::Obstructed(_)))
        ));
        #[cfg(unix)]
        {
            // A link in the way is replaced, and its target is left alone.
            let target = d.path().join("target");
            fs::write(&target, b"keep").unwrap();
            let l = d.path().join("l");
            std::os::unix::fs::symlink(&target, &l).unwrap();
            drop(create_output(&l, true).unwrap());
            assert_eq!(fs::read(&target).unwrap(), b"keep");
            assert!(fs::symlink_metadata(&l).unwrap().is_file());
        }
        drop(create_output(&p, true).unwrap());
        assert_eq!(fs::read(&p).unwrap(), b"");
        fs::create_dir(d.path().join("dir")).unwrap();
        assert!(matches!(
            create_output(&d.path().join("dir"), true),
            Err(Outcome::Refused(Refusal::Obstructed(_)))
        ));
    }
}
