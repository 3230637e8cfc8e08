//! Manifest.db reader (rusqlite): read-only and immutable on disk, or from decrypted bytes in memory.
//!
//! Rows are streamed to a callback; nothing here collects the whole table.

use super::mbfile;
use super::record::FileRecord;
use super::IndexError;
use rusqlite::types::ValueRef;
use rusqlite::{Connection, OpenFlags};
use std::io::Read;
use std::path::Path;

const SQLITE_MAGIC: &[u8; 16] = b"SQLite format 3\0";
/// SQLite's header is 100 bytes; a database is at least one page.
const SQLITE_HEADER_LEN: usize = 100;
const FILES_COLUMNS: [&str; 5] = ["fileID", "domain", "relativePath", "flags", "file"];

/// Rows per range when a large `Files` table is read by several threads at once.
pub const RANGE_ROWS: i64 = 8192;
/// Tables with fewer rows are read by one thread.
const PARALLEL_MIN_ROWS: i64 = 2 * RANGE_ROWS;

/// A decrypted database image that SQLite reads in place; wiped when the last holder drops.
type Image = std::sync::Arc<zeroize::Zeroizing<Vec<u8>>>;

/// Where the database is: what further connections (one per reading thread) open.
enum Source {
    /// The image and its length (bytes past it, e.g. PKCS#7 padding, are not the database).
    Image(Image, usize),
    /// A file on disk, plain or encrypted, read through the VFS (see [`super::cbc_vfs`]).
    Disk(super::cbc_vfs::Registration),
}

/// An open Manifest.db.
pub struct ManifestDb {
    // Field order matters: the connection is dropped (closed) before the image it reads.
    conn: Connection,
    source: Source,
    name: String,
}

impl std::fmt::Debug for ManifestDb {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ManifestDb")
            .field("name", &self.name)
            .finish_non_exhaustive()
    }
}

fn sqlite_err(name: &str, e: rusqlite::Error) -> IndexError {
    if e.sqlite_error_code() == Some(rusqlite::ErrorCode::NotADatabase) {
        IndexError::NotADatabase {
            name: name.to_owned(),
            detail: e.to_string(),
        }
    } else {
        IndexError::Sqlite {
            name: name.to_owned(),
            source: e,
        }
    }
}

impl ManifestDb {
    /// Open a plaintext Manifest.db on disk, read-only and as immutable: through the VFS of
    /// [`super::cbc_vfs`] (no journal, WAL or shared-memory file is read or created beside
    /// it, no lock is taken, and the file is opened with [`crate::backup::open_evidence`]).
    pub fn open_file(path: &Path) -> Result<Self, IndexError> {
        let name = path.display().to_string();
        let io = |source| IndexError::Io {
            name: name.clone(),
            source,
        };
        let mut head = [0u8; 16];
        let mut f = crate::backup::open_evidence(path).map_err(io)?;
        let len = f.metadata().map_err(io)?.len();
        let mut got = 0;
        while got < head.len() {
            match f.read(&mut head[got..]) {
                Ok(0) => break,
                Ok(n) => got += n,
                Err(e) => return Err(io(e)),
            }
        }
        drop(f);
        check_magic(&name, head.get(..got).unwrap_or(&[]))?;
        Self::open_vfs(
            super::cbc_vfs::Target {
                path: path.to_path_buf(),
                key: None,
                ct_len: len,
                plain_len: len,
            },
            name,
        )
    }

    /// Open a decrypted Manifest.db held in memory (copied; see [`ManifestDb::open_image`]).
    pub fn open_bytes(bytes: &[u8]) -> Result<Self, IndexError> {
        let len = bytes.len();
        Self::open_image(zeroize::Zeroizing::new(bytes.to_vec()), len)
    }

    /// Open an encrypted Manifest.db in place (AES-256-CBC, zero IV, `key`): SQLite reads
    /// it through a VFS that decrypts each page as it is read, so no decrypted copy of the
    /// index is held in memory or written anywhere. `plain_len` is the database length
    /// (the ciphertext length less its PKCS#7 padding).
    pub fn open_encrypted(
        path: &Path,
        key: crate::crypto::Key32,
        ct_len: u64,
        plain_len: u64,
    ) -> Result<Self, IndexError> {
        let name = format!("{} (decrypted in memory)", path.display());
        Self::open_vfs(
            super::cbc_vfs::Target {
                path: path.to_path_buf(),
                key: Some(key),
                ct_len,
                plain_len,
            },
            name,
        )
    }

    /// Register `target` with the VFS and open it (one registration for all its connections).
    fn open_vfs(target: super::cbc_vfs::Target, name: String) -> Result<Self, IndexError> {
        let reg = super::cbc_vfs::Registration::new(target).map_err(|detail| {
            IndexError::NotADatabase {
                name: name.clone(),
                detail,
            }
        })?;
        let conn = connect_disk(&reg, &name)?;
        Self::finish(conn, Source::Disk(reg), name)
    }

    /// Open the decrypted database image `image[..len]` in place, without copying it: SQLite
    /// reads the buffer as a read-only in-memory database (`sqlite3_deserialize` with
    /// `SQLITE_DESERIALIZE_READONLY`), nothing is written to disk, and the buffer stays owned
    /// here and is wiped when the database is dropped. Bytes past `len` (e.g. PKCS#7 padding)
    /// are ignored. A WAL-mode header (bytes 18–19 = 2) is read as rollback-journal mode,
    /// since an in-memory image has no WAL.
    pub fn open_image(
        mut image: zeroize::Zeroizing<Vec<u8>>,
        len: usize,
    ) -> Result<Self, IndexError> {
        let name = "Manifest.db (decrypted, in memory)".to_owned();
        let len = len.min(image.len());
        let bytes = &mut image[..len];
        check_magic(&name, bytes)?;
        if bytes.len() < SQLITE_HEADER_LEN {
            return Err(IndexError::NotADatabase {
                name,
                detail: format!("{} bytes is shorter than an SQLite header", bytes.len()),
            });
        }
        for b in &mut bytes[18..20] {
            if *b == 2 {
                *b = 1;
            }
        }
        let image: Image = std::sync::Arc::new(image);
        let conn = connect_image(&image, len, &name)?;
        Self::finish(conn, Source::Image(image, len), name)
    }
}

/// A further read-only connection to the same database (for another thread).
fn connect(source: &Source, name: &str) -> Result<Connection, IndexError> {
    {
        let conn = match source {
            Source::Image(image, len) => connect_image(image, *len, name)?,
            Source::Disk(r) => connect_disk(r, name)?,
        };
        harden(&conn, name)?;
        Ok(conn)
    }
}

impl ManifestDb {
    fn finish(conn: Connection, source: Source, name: String) -> Result<Self, IndexError> {
        // Built first, so that on every error path the connection closes before the image.
        let db = ManifestDb { conn, source, name };
        harden(&db.conn, &db.name)?;
        db.check_schema()?;
        Ok(db)
    }

    /// The name used in errors (the path, or "decrypted, in memory").
    pub fn name(&self) -> &str {
        &self.name
    }

    fn check_schema(&self) -> Result<(), IndexError> {
        // `Files` must be a plain table: a view (or a generated column) is code that runs on
        // every read, e.g. an endless recursive CTE or a 900 MB zeroblob in a hostile file.
        let kinds: Vec<String> = {
            let mut stmt = self
                .conn
                .prepare("SELECT type FROM sqlite_schema WHERE name = 'Files' COLLATE NOCASE")
                .map_err(|e| sqlite_err(&self.name, e))?;
            let rows = stmt
                .query_map([], |r| r.get::<_, String>(0))
                .map_err(|e| sqlite_err(&self.name, e))?;
            rows.collect::<Result<_, _>>()
                .map_err(|e| sqlite_err(&self.name, e))?
        };
        if let Some(k) = kinds.iter().find(|k| k.as_str() != "table") {
            return Err(IndexError::Schema {
                name: self.name.clone(),
                problem: format!("`Files` is a {k}, not a table"),
            });
        }
        let mut stmt = self
            .conn
            .prepare("PRAGMA table_xinfo(Files)")
            .map_err(|e| sqlite_err(&self.name, e))?;
        let mut cols = Vec::new();
        let mut rows = stmt.query([]).map_err(|e| sqlite_err(&self.name, e))?;
        while let Some(row) = rows.next().map_err(|e| sqlite_err(&self.name, e))? {
            let c: String = row.get(1).map_err(|e| sqlite_err(&self.name, e))?;
            // table_xinfo's `hidden`: 0 normal, 1 hidden (virtual tables), 2/3 generated.
            let hidden: i64 = row.get(6).map_err(|e| sqlite_err(&self.name, e))?;
            if hidden != 0 {
                return Err(IndexError::Schema {
                    name: self.name.clone(),
                    problem: format!("column `{c}` of `Files` is generated or hidden"),
                });
            }
            cols.push(c);
        }
        if cols.is_empty() {
            return Err(IndexError::Schema {
                name: self.name.clone(),
                problem: "no table `Files`".into(),
            });
        }
        let missing: Vec<&str> = FILES_COLUMNS
            .iter()
            .copied()
            .filter(|c| !cols.iter().any(|x| x.eq_ignore_ascii_case(c)))
            .collect();
        if !missing.is_empty() {
            return Err(IndexError::Schema {
                name: self.name.clone(),
                problem: format!(
                    "table `Files` lacks column(s) {} (has {})",
                    missing.join(", "),
                    cols.join(", ")
                ),
            });
        }
        Ok(())
    }

    /// Number of rows in `Files`.
    pub fn count(&self) -> Result<u64, IndexError> {
        let n: i64 = self
            .conn
            .query_row("SELECT count(*) FROM Files", [], |r| r.get(0))
            .map_err(|e| sqlite_err(&self.name, e))?;
        Ok(u64::try_from(n).unwrap_or(0))
    }

    /// `PRAGMA integrity_check`: `"ok"` when the database is sound, else SQLite's findings
    /// (one per line).
    pub fn integrity_check(&self) -> Result<String, IndexError> {
        let mut stmt = self
            .conn
            .prepare("PRAGMA integrity_check")
            .map_err(|e| sqlite_err(&self.name, e))?;
        let mut rows = stmt.query([]).map_err(|e| sqlite_err(&self.name, e))?;
        let mut out = Vec::new();
        while let Some(row) = rows.next().map_err(|e| sqlite_err(&self.name, e))? {
            out.push(
                row.get::<_, String>(0)
                    .map_err(|e| sqlite_err(&self.name, e))?,
            );
        }
        Ok(out.join("\n"))
    }

    /// The `Properties` table (iOS 10.0 held `salt` and `passwordHash`; empty later).
    /// Missing table = empty list.
    pub fn properties(&self) -> Result<Vec<(String, Vec<u8>)>, IndexError> {
        let exists: i64 = self
            .conn
            .query_row(
                "SELECT count(*) FROM sqlite_master WHERE type='table' AND name='Properties'",
                [],
                |r| r.get(0),
            )
            .map_err(|e| sqlite_err(&self.name, e))?;
        if exists == 0 {
            return Ok(Vec::new());
        }
        let mut stmt = self
            .conn
            .prepare("SELECT key, value FROM Properties")
            .map_err(|e| sqlite_err(&self.name, e))?;
        let mut rows = stmt.query([]).map_err(|e| sqlite_err(&self.name, e))?;
        let mut out = Vec::new();
        while let Some(row) = rows.next().map_err(|e| sqlite_err(&self.name, e))? {
            let k = text_lossy(row.get_ref(0).map_err(|e| sqlite_err(&self.name, e))?)
                .unwrap_or_default();
            let v = match row.get_ref(1).map_err(|e| sqlite_err(&self.name, e))? {
                ValueRef::Blob(b) | ValueRef::Text(b) => b.to_vec(),
                ValueRef::Integer(i) => i.to_string().into_bytes(),
                ValueRef::Real(r) => r.to_string().into_bytes(),
                ValueRef::Null => Vec::new(),
            };
            out.push((k, v));
        }
        Ok(out)
    }

    /// Stream every `Files` row (in table order) as a [`FileRecord`] to `f`; returns the
    /// number of rows. Row-level oddities are problems on the record; only an SQLite failure
    /// (corrupt database) ends the stream with an error.
    ///
    /// A large table is read by several threads at once, each over its own connection and
    /// a range of rowids of about [`RANGE_ROWS`] rows (decoding the MBFile archives is most
    /// of the cost of reading an index); `f` still sees every row in table order, and at
    /// most a few ranges are held in memory at a time.
    pub fn for_each<F: FnMut(FileRecord)>(&self, f: F) -> Result<u64, IndexError> {
        self.for_each_ahead(rayon::current_num_threads().max(1) * 2, f)
    }

    /// [`ManifestDb::for_each`] reading at most `window` ranges ahead of `f` (at least 1):
    /// a consumer much slower than the reading (one that writes a file per row) gains
    /// nothing from a long read-ahead, and each range held is a few MB of rows.
    pub fn for_each_ahead<F: FnMut(FileRecord)>(
        &self,
        window: usize,
        mut f: F,
    ) -> Result<u64, IndexError> {
        use rayon::prelude::*;
        // (min rowid, max rowid, rows); a WITHOUT ROWID table has no rowid: read in one go.
        let bounds: Option<(i64, i64, i64)> = self
            .conn
            .query_row(
                "SELECT min(rowid), max(rowid), count(*) FROM Files",
                [],
                |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
            )
            .ok()
            .filter(|&(lo, hi, n)| n >= PARALLEL_MIN_ROWS && lo <= hi);
        let Some((lo, hi, rows)) = bounds else {
            return read_rows(&self.conn, &self.name, Rows::All, &mut f);
        };
        let pieces = (rows / RANGE_ROWS).clamp(2, 1 << 16);
        let span = (i128::from(hi) - i128::from(lo) + 1) as u128;
        let ranges: Vec<(i64, i64)> = (0..pieces as u128)
            .map(|i| {
                let a = i128::from(lo) + (span * i / pieces as u128) as i128;
                let b = i128::from(lo) + (span * (i + 1) / pieces as u128) as i128 - 1;
                (a as i64, b as i64)
            })
            .filter(|(a, b)| a <= b)
            .collect();
        let window = window.max(1);
        let (source, name) = (&self.source, self.name.as_str());
        let mut n = 0u64;
        // A reader thread reads the next group of ranges (in parallel) while this thread
        // hands the rows of the previous ones to `f`: neither waits for the other. The
        // channel holds at most `window` ranges' rows, so memory stays bounded; when `f`'s
        // side stops (an error), the reader's next send fails and it stops too.
        let (tx, rx) = std::sync::mpsc::sync_channel::<Result<Vec<FileRecord>, IndexError>>(window);
        std::thread::scope(|s| {
            s.spawn(move || {
                for group in ranges.chunks(window) {
                    let parts: Vec<Result<Vec<FileRecord>, IndexError>> = group
                        .par_iter()
                        .map(|&range| {
                            let conn = connect(source, name)?;
                            // Sized for the range's rowids (at most a few MB of rows):
                            // no copies as it grows.
                            let span = usize::try_from(range.1 - range.0 + 1).unwrap_or(0);
                            let mut out = Vec::with_capacity(span.min(4 * RANGE_ROWS as usize));
                            read_rows(&conn, name, Rows::Range(range.0, range.1), &mut |r| {
                                out.push(r)
                            })?;
                            Ok(out)
                        })
                        .collect();
                    for part in parts {
                        if tx.send(part).is_err() {
                            return;
                        }
                    }
                }
            });
            for part in rx {
                for rec in part? {
                    f(rec);
                    n += 1;
                }
            }
            Ok::<(), IndexError>(())
        })?;
        Ok(n)
    }
}

/// A part of the `Files` table that the database's own indexes (`FilesRelativePathIdx`,
/// `FilesDomainIdx` in every real backup) find without reading the other rows.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Subset {
    /// Rows whose relativePath starts with one of these prefixes.
    PathPrefixes(Vec<String>),
    /// Rows of these domains.
    Domains(Vec<String>),
}

/// Which rows a reading delivers: all, or (at least) a [`Subset`]'s. Decided once by
/// [`ManifestDb::reading`] and used for every reading of a job, so that each delivers the
/// same rows in the same order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Reading {
    All,
    /// The rows of the subset, and every row whose column is not stored as text (NULL, a
    /// number or a blob: what it reads as is only known once read).
    Subset(Subset),
}

/// A subset is read through its index only when it holds at most this share of the rows
/// (1 / N), or at most [`SUBSET_SMALL`] rows; a bigger one is read faster by the parallel
/// scan of the whole table.
const SUBSET_SHARE: i64 = 8;
/// A subset of at most this many rows is read through its index, whatever its share.
const SUBSET_SMALL: i64 = 4096;

/// The SQL `WHERE` clause and parameters of each statement that reads part of a subset:
/// disjoint parts, each an index range (`Subset`'s rows, then the non-text ones).
fn subset_parts(subset: &Subset) -> Vec<(String, Vec<String>)> {
    let (column, mut parts) = match subset {
        Subset::PathPrefixes(prefixes) => {
            // A prefix that starts with another adds nothing (and would repeat rows).
            let mut ps: Vec<&str> = prefixes.iter().map(String::as_str).collect();
            ps.sort_unstable();
            ps.dedup();
            let mut kept: Vec<&str> = Vec::new();
            for p in ps {
                if !kept.last().is_some_and(|k| p.starts_with(k)) {
                    kept.push(p);
                }
            }
            let parts = kept
                .into_iter()
                .map(|p| match successor(p) {
                    Some(up) => (
                        "relativePath >= ?1 COLLATE BINARY AND relativePath < ?2 COLLATE BINARY"
                            .to_string(),
                        vec![p.to_string(), up],
                    ),
                    None => (
                        "relativePath >= ?1 COLLATE BINARY".to_string(),
                        vec![p.to_string()],
                    ),
                })
                .collect::<Vec<_>>();
            ("relativePath", parts)
        }
        Subset::Domains(domains) => {
            let mut ds: Vec<&str> = domains.iter().map(String::as_str).collect();
            ds.sort_unstable();
            ds.dedup();
            let parts = ds
                .into_iter()
                .map(|d| {
                    (
                        "domain = ?1 COLLATE BINARY".to_string(),
                        vec![d.to_string()],
                    )
                })
                .collect();
            ("domain", parts)
        }
    };
    // SQLite orders NULL < numbers < text < blobs, in an index too.
    for cond in ["IS NULL", "< ''", ">= x''"] {
        parts.push((format!("{column} {cond}"), Vec::new()));
    }
    parts
}

/// The least string greater than every string that starts with `prefix` (byte order, which
/// for UTF-8 is code point order); `None` when there is none.
fn successor(prefix: &str) -> Option<String> {
    let mut chars: Vec<char> = prefix.chars().collect();
    while let Some(c) = chars.pop() {
        let mut next = u32::from(c) + 1;
        while next <= u32::from(char::MAX) {
            if let Some(n) = char::from_u32(next) {
                chars.push(n);
                return Some(chars.into_iter().collect());
            }
            next += 1;
        }
    }
    None
}

impl ManifestDb {
    /// How to read `subset`'s rows: through the database's indexes when every part of it
    /// is an index range and it is small ([`SUBSET_SHARE`], [`SUBSET_SMALL`]), else
    /// every row. A subset with an empty prefix, or a name holding U+FFFD (which an invalid
    /// UTF-8 value also reads as), is every row. Any failure here means every row too: the
    /// reading then meets the problem and reports it.
    pub fn reading(&self, subset: Subset) -> Reading {
        let names = match &subset {
            Subset::PathPrefixes(v) | Subset::Domains(v) => v,
        };
        let prefix_empty =
            matches!(&subset, Subset::PathPrefixes(v) if v.iter().any(String::is_empty));
        if names.is_empty() || prefix_empty || names.iter().any(|n| n.contains('\u{FFFD}')) {
            return Reading::All;
        }
        // Byte order is code point order in UTF-8 only (a UTF-16 database compares its
        // own bytes), and the ranges are in byte order (`COLLATE BINARY`: an index of
        // another collation is not used, and the table is then read whole).
        let utf8 = self
            .conn
            .query_row("PRAGMA encoding", [], |r| r.get::<_, String>(0))
            .is_ok_and(|e| e == "UTF-8");
        if !utf8 {
            return Reading::All;
        }
        let Ok(total) =
            self.conn
                .query_row("SELECT max(rowid) - min(rowid) + 1 FROM Files", [], |r| {
                    r.get::<_, Option<i64>>(0)
                })
        else {
            return Reading::All;
        };
        let total = total.unwrap_or(0);
        let cap = (total / SUBSET_SHARE).max(SUBSET_SMALL) + 1;
        let mut found = 0i64;
        for (cond, params) in subset_parts(&subset) {
            let plan = format!("EXPLAIN QUERY PLAN {SELECT_ROWS} WHERE {cond}");
            let uses_index = self.conn.prepare(&plan).and_then(|mut st| {
                let details = st
                    .query_map(rusqlite::params_from_iter(&params), |r| {
                        r.get::<_, String>(3)
                    })?
                    .collect::<Result<Vec<_>, _>>()?;
                Ok(!details.is_empty()
                    && details
                        .iter()
                        .all(|d| d.starts_with("SEARCH") && d.contains("USING")))
            });
            if !matches!(uses_index, Ok(true)) {
                return Reading::All;
            }
            let count =
                format!("SELECT count(*) FROM (SELECT 1 FROM Files WHERE {cond} LIMIT {cap})");
            match self
                .conn
                .query_row(&count, rusqlite::params_from_iter(&params), |r| {
                    r.get::<_, i64>(0)
                }) {
                Ok(n) => found += n,
                Err(_) => return Reading::All,
            }
            if found >= cap {
                return Reading::All;
            }
        }
        Reading::Subset(subset)
    }

    /// [`ManifestDb::for_each_ahead`] over the rows of `reading`: a subset is read by this
    /// thread, part after part, each in its index's order.
    pub fn for_each_in<F: FnMut(FileRecord)>(
        &self,
        reading: &Reading,
        window: usize,
        mut f: F,
    ) -> Result<u64, IndexError> {
        let Reading::Subset(subset) = reading else {
            return self.for_each_ahead(window, f);
        };
        let mut n = 0;
        for (cond, params) in subset_parts(subset) {
            n += read_rows(&self.conn, &self.name, Rows::Where(&cond, &params), &mut f)?;
        }
        Ok(n)
    }
}

/// The columns every reading of `Files` takes.
const SELECT_ROWS: &str = "SELECT fileID, domain, relativePath, flags, file FROM Files";

/// Which rows [`read_rows`] reads.
enum Rows<'a> {
    All,
    /// Those whose rowid is in the inclusive range, in rowid order.
    Range(i64, i64),
    /// Those of a `WHERE` clause and its parameters.
    Where(&'a str, &'a [String]),
}

/// Read the `Files` rows (all, a range of rowids, or those of a condition) in table (or the
/// condition's index) order, decoding each MBFile archive in place (no copy of the blob),
/// into `f`.
fn read_rows(
    conn: &Connection,
    name: &str,
    which: Rows<'_>,
    f: &mut dyn FnMut(FileRecord),
) -> Result<u64, IndexError> {
    let sql = match which {
        Rows::All => SELECT_ROWS.to_string(),
        Rows::Range(..) => format!("{SELECT_ROWS} WHERE rowid BETWEEN ?1 AND ?2 ORDER BY rowid"),
        Rows::Where(cond, _) => format!("{SELECT_ROWS} WHERE {cond}"),
    };
    let mut stmt = conn.prepare(&sql).map_err(|e| sqlite_err(name, e))?;
    let mut rows = match which {
        Rows::All => stmt.query([]),
        Rows::Range(a, b) => stmt.query([a, b]),
        Rows::Where(_, params) => stmt.query(rusqlite::params_from_iter(params)),
    }
    .map_err(|e| sqlite_err(name, e))?;
    let mut n = 0u64;
    while let Some(row) = rows.next().map_err(|e| sqlite_err(name, e))? {
        let mut problems = Vec::new();
        let mut col = |i: usize, what: &str| -> Result<Option<String>, IndexError> {
            let v = row.get_ref(i).map_err(|e| sqlite_err(name, e))?;
            match v {
                // Nearly every value: valid UTF-8, checked once and copied.
                ValueRef::Text(t) | ValueRef::Blob(t) => {
                    if let Ok(s) = std::str::from_utf8(t) {
                        return Ok(Some(s.to_owned()));
                    }
                    problems.push(format!("{what} is not valid UTF-8"))
                }
                ValueRef::Null => problems.push(format!("{what} is NULL")),
                ValueRef::Integer(_) | ValueRef::Real(_) => {
                    problems.push(format!("{what} is a number"))
                }
            }
            Ok(text_lossy(v))
        };
        let file_id = col(0, "fileID")?.unwrap_or_default();
        let domain = col(1, "domain")?.unwrap_or_default();
        let relative_path = col(2, "relativePath")?.unwrap_or_default();
        let mut rec = FileRecord::new(file_id, domain, relative_path);
        rec.problems = problems;
        rec.flags = match row.get_ref(3).map_err(|e| sqlite_err(name, e))? {
            ValueRef::Integer(i) => Some(i),
            ValueRef::Null => {
                rec.problems.push("flags is NULL".into());
                None
            }
            _ => {
                rec.problems.push("flags is not an integer".into());
                None
            }
        };
        match row.get_ref(4).map_err(|e| sqlite_err(name, e))? {
            ValueRef::Blob(b) => {
                mbfile::decode_into(b, &mut rec);
            }
            ValueRef::Null => rec.problems.push("file (MBFile) is NULL".into()),
            _ => rec.problems.push("file (MBFile) is not a blob".into()),
        }
        rec.resolve_kind();
        f(rec);
        n += 1;
    }
    Ok(n)
}

/// Belt and braces on every connection: refuse writes, keep temporary data in memory.
fn harden(conn: &Connection, name: &str) -> Result<(), IndexError> {
    conn.pragma_update(None, "query_only", true)
        .map_err(|e| sqlite_err(name, e))?;
    conn.pragma_update(None, "temp_store", "MEMORY")
        .map_err(|e| sqlite_err(name, e))
}

/// A read-only connection to a database registered with the VFS.
fn connect_disk(reg: &super::cbc_vfs::Registration, name: &str) -> Result<Connection, IndexError> {
    Connection::open_with_flags_and_vfs(
        reg.name(),
        OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX,
        super::cbc_vfs::VFS_NAME,
    )
    .map_err(|e| sqlite_err(name, e))
}

/// An in-memory connection reading `image[..len]` in place, read-only.
fn connect_image(image: &Image, len: usize, name: &str) -> Result<Connection, IndexError> {
    let size = i64::try_from(len.min(image.len())).map_err(|_| IndexError::NotADatabase {
        name: name.to_owned(),
        detail: "larger than SQLite can address".into(),
    })?;
    let conn = Connection::open_in_memory().map_err(|e| sqlite_err(name, e))?;
    // SAFETY: `conn.handle()` is a valid open connection and the schema name a NUL-terminated
    // C string. The image is shared (`Arc`) by every `ManifestDb` connection and outlives
    // them all (each holder closes its connection before dropping its `Arc`; see the field
    // order of `ManifestDb` and `for_each`); it is never moved or written while shared.
    // SQLite only reads it: READONLY without RESIZEABLE or FREEONCLOSE means SQLite neither
    // writes, reallocates nor frees the buffer, so the `*const` → `*mut` cast is never
    // used for writing.
    let rc = unsafe {
        rusqlite::ffi::sqlite3_deserialize(
            conn.handle(),
            c"main".as_ptr(),
            image.as_ptr().cast_mut(),
            size,
            size,
            rusqlite::ffi::SQLITE_DESERIALIZE_READONLY as _,
        )
    };
    if rc != rusqlite::ffi::SQLITE_OK {
        return Err(IndexError::NotADatabase {
            name: name.to_owned(),
            detail: format!("SQLite refused the image (code {rc})"),
        });
    }
    // Let SQLite read pages straight from the image (memdb's xFetch) instead of copying
    // each into its page cache.
    conn.pragma_update(None, "mmap_size", size)
        .map_err(|e| sqlite_err(name, e))?;
    Ok(conn)
}

fn text_lossy(v: ValueRef<'_>) -> Option<String> {
    match v {
        ValueRef::Text(t) | ValueRef::Blob(t) => Some(String::from_utf8_lossy(t).into_owned()),
        ValueRef::Integer(i) => Some(i.to_string()),
        ValueRef::Real(r) => Some(r.to_string()),
        ValueRef::Null => None,
    }
}

fn check_magic(name: &str, head: &[u8]) -> Result<(), IndexError> {
    if head.is_empty() {
        return Err(IndexError::NotADatabase {
            name: name.to_owned(),
            detail: "empty (0 bytes)".into(),
        });
    }
    if !head.starts_with(SQLITE_MAGIC) {
        return Err(IndexError::NotADatabase {
            name: name.to_owned(),
            detail: "does not start with \"SQLite format 3\\0\": not an SQLite database".into(),
        });
    }
    Ok(())
}

#[cfg(test)]
mod tests;
