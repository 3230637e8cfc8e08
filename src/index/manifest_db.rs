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

/// Rows per batch of parallel MBFile decoding in [`ManifestDb::for_each`].
pub const DECODE_BATCH: usize = 4096;

const SQLITE_MAGIC: &[u8; 16] = b"SQLite format 3\0";
/// SQLite's header is 100 bytes; a database is at least one page.
const SQLITE_HEADER_LEN: usize = 100;
const FILES_COLUMNS: [&str; 5] = ["fileID", "domain", "relativePath", "flags", "file"];

/// An open Manifest.db.
pub struct ManifestDb {
    conn: Connection,
    name: String,
}

impl std::fmt::Debug for ManifestDb {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ManifestDb")
            .field("name", &self.name)
            .finish_non_exhaustive()
    }
}

/// `file:` URI of a path, percent-encoding everything but unreserved characters and `/`.
fn file_uri(path: &Path) -> String {
    #[cfg(unix)]
    let bytes: Vec<u8> = {
        use std::os::unix::ffi::OsStrExt;
        path.as_os_str().as_bytes().to_vec()
    };
    #[cfg(not(unix))]
    let bytes: Vec<u8> = path.to_string_lossy().replace('\\', "/").into_bytes();
    let mut uri = String::from("file:");
    for b in bytes {
        if b.is_ascii_alphanumeric() || b"-._~/".contains(&b) {
            uri.push(char::from(b));
        } else {
            uri.push_str(&format!("%{b:02X}"));
        }
    }
    uri.push_str("?mode=ro&immutable=1");
    uri
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
    /// Open a plaintext Manifest.db on disk: read-only, `immutable=1` (no journal, WAL or
    /// shared-memory file is created or read beside it), no mutex.
    pub fn open_file(path: &Path) -> Result<Self, IndexError> {
        let name = path.display().to_string();
        let mut head = [0u8; 16];
        let mut f = std::fs::File::open(path).map_err(|e| IndexError::Io {
            name: name.clone(),
            source: e,
        })?;
        let mut got = 0;
        while got < head.len() {
            match f.read(&mut head[got..]) {
                Ok(0) => break,
                Ok(n) => got += n,
                Err(e) => return Err(IndexError::Io { name, source: e }),
            }
        }
        drop(f);
        check_magic(&name, head.get(..got).unwrap_or(&[]))?;
        let flags = OpenFlags::SQLITE_OPEN_READ_ONLY
            | OpenFlags::SQLITE_OPEN_URI
            | OpenFlags::SQLITE_OPEN_NO_MUTEX;
        let conn =
            Connection::open_with_flags(file_uri(path), flags).map_err(|e| sqlite_err(&name, e))?;
        Self::finish(conn, name)
    }

    /// Open a decrypted Manifest.db held in memory. The bytes are copied into SQLite's own
    /// memory as a read-only database; nothing is written to disk. A WAL-mode header
    /// (bytes 18–19 = 2) is read as rollback-journal mode, since an in-memory image has no WAL.
    pub fn open_bytes(bytes: &[u8]) -> Result<Self, IndexError> {
        let name = "Manifest.db (decrypted, in memory)".to_owned();
        check_magic(&name, bytes)?;
        let (head, rest) =
            bytes
                .split_at_checked(SQLITE_HEADER_LEN)
                .ok_or_else(|| IndexError::NotADatabase {
                    name: name.clone(),
                    detail: format!("{} bytes is shorter than an SQLite header", bytes.len()),
                })?;
        let mut header = [0u8; SQLITE_HEADER_LEN];
        header.copy_from_slice(head);
        for b in &mut header[18..20] {
            if *b == 2 {
                *b = 1;
            }
        }
        let mut conn = Connection::open_in_memory().map_err(|e| sqlite_err(&name, e))?;
        conn.deserialize_read_exact(
            rusqlite::MAIN_DB,
            (&header[..]).chain(rest),
            bytes.len(),
            true,
        )
        .map_err(|e| sqlite_err(&name, e))?;
        Self::finish(conn, name)
    }

    fn finish(conn: Connection, name: String) -> Result<Self, IndexError> {
        // Belt and braces: refuse writes, keep temporary data in memory.
        conn.pragma_update(None, "query_only", true)
            .map_err(|e| sqlite_err(&name, e))?;
        conn.pragma_update(None, "temp_store", "MEMORY")
            .map_err(|e| sqlite_err(&name, e))?;
        let db = ManifestDb { conn, name };
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
    /// Rows are read in batches of [`DECODE_BATCH`] whose MBFile archives are decoded in
    /// parallel (the decoding is most of the cost of reading an index); `f` still sees
    /// every row in table order.
    pub fn for_each<F: FnMut(FileRecord)>(&self, mut f: F) -> Result<u64, IndexError> {
        use rayon::prelude::*;
        let mut batch: Vec<(FileRecord, Option<Vec<u8>>)> = Vec::with_capacity(DECODE_BATCH);
        let mut flush = |batch: &mut Vec<(FileRecord, Option<Vec<u8>>)>| {
            batch.par_iter_mut().for_each(|(rec, blob)| {
                if let Some(b) = blob.take() {
                    mbfile::decode_into(&b, rec);
                }
                rec.resolve_kind();
            });
            for (rec, _) in batch.drain(..) {
                f(rec);
            }
        };
        let mut stmt = self
            .conn
            .prepare("SELECT fileID, domain, relativePath, flags, file FROM Files")
            .map_err(|e| sqlite_err(&self.name, e))?;
        let mut rows = stmt.query([]).map_err(|e| sqlite_err(&self.name, e))?;
        let mut n = 0u64;
        while let Some(row) = rows.next().map_err(|e| sqlite_err(&self.name, e))? {
            let mut problems = Vec::new();
            let mut col = |i: usize, what: &str| -> Result<Option<String>, IndexError> {
                let v = row.get_ref(i).map_err(|e| sqlite_err(&self.name, e))?;
                let s = text_lossy(v);
                match v {
                    ValueRef::Null => problems.push(format!("{what} is NULL")),
                    ValueRef::Text(t) | ValueRef::Blob(t) if std::str::from_utf8(t).is_err() => {
                        problems.push(format!("{what} is not valid UTF-8"))
                    }
                    ValueRef::Integer(_) | ValueRef::Real(_) => {
                        problems.push(format!("{what} is a number"))
                    }
                    _ => {}
                }
                Ok(s)
            };
            let file_id = col(0, "fileID")?.unwrap_or_default();
            let domain = col(1, "domain")?.unwrap_or_default();
            let relative_path = col(2, "relativePath")?.unwrap_or_default();
            let mut rec = FileRecord::new(file_id, domain, relative_path);
            rec.problems = problems;
            rec.flags = match row.get_ref(3).map_err(|e| sqlite_err(&self.name, e))? {
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
            let blob = match row.get_ref(4).map_err(|e| sqlite_err(&self.name, e))? {
                ValueRef::Blob(b) => Some(b.to_vec()),
                ValueRef::Null => {
                    rec.problems.push("file (MBFile) is NULL".into());
                    None
                }
                _ => {
                    rec.problems.push("file (MBFile) is not a blob".into());
                    None
                }
            };
            batch.push((rec, blob));
            if batch.len() == DECODE_BATCH {
                flush(&mut batch);
            }
            n += 1;
        }
        flush(&mut batch);
        Ok(n)
    }
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
            detail: "does not start with \"SQLite format 3\\0\" (still encrypted, or a wrong key?)"
                .into(),
        });
    }
    Ok(())
}

#[cfg(test)]
#[path = "manifest_db_tests.rs"]
mod tests;
