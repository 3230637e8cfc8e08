//! The file index: Manifest.db (plain or decrypted in memory), Manifest.mbdb, MBFile records.

mod cbc_vfs;
pub mod manifest_db;
pub mod mbdb;
pub mod mbfile;
mod mbfile_fast;
pub mod record;

pub use manifest_db::{ManifestDb, Reading, Subset};
pub use record::{FileKind, FileRecord};

use std::path::Path;

/// Errors of the index layer. `name` is the file's path, or a label for in-memory data.
#[derive(Debug, thiserror::Error)]
pub enum IndexError {
    /// The file could not be read.
    #[error("{name}: cannot read: {source}")]
    Io {
        name: String,
        #[source]
        source: std::io::Error,
    },
    /// Not an SQLite database (still encrypted, wrong key, truncated, foreign file).
    #[error("{name}: file is not a database: {detail}")]
    NotADatabase { name: String, detail: String },
    /// An SQLite database, but not a Manifest.db.
    #[error("{name}: unexpected schema: {problem}")]
    Schema { name: String, problem: String },
    /// SQLite failed while reading (e.g. a corrupt page).
    #[error("{name}: SQLite error: {source}")]
    Sqlite {
        name: String,
        #[source]
        source: rusqlite::Error,
    },
    /// Manifest.mbdb is malformed at `offset`.
    #[error("{name}: at byte offset {offset}: {problem}")]
    Mbdb {
        name: String,
        offset: u64,
        problem: String,
    },
}

impl IndexError {
    /// The file (or in-memory label) the error is about.
    pub fn name(&self) -> &str {
        match self {
            IndexError::Io { name, .. }
            | IndexError::NotADatabase { name, .. }
            | IndexError::Schema { name, .. }
            | IndexError::Sqlite { name, .. }
            | IndexError::Mbdb { name, .. } => name,
        }
    }

    /// The message without the name.
    pub fn problem(&self) -> String {
        let full = self.to_string();
        full.strip_prefix(self.name())
            .and_then(|s| s.strip_prefix(": "))
            .unwrap_or(&full)
            .to_owned()
    }
}

/// An opened file index of either generation.
#[derive(Debug)]
pub enum Index {
    /// Manifest.db (iOS ≥ 10), on disk or decrypted in memory.
    Db(ManifestDb),
    /// Manifest.mbdb bytes (iOS 4–9); header already checked.
    Mbdb { name: String, bytes: Vec<u8> },
}

impl Index {
    /// Open a plaintext Manifest.db on disk (read-only, immutable).
    pub fn open_plain(path: &Path) -> Result<Index, IndexError> {
        ManifestDb::open_file(path).map(Index::Db)
    }

    /// Open a decrypted Manifest.db from memory (never written to disk).
    pub fn open_decrypted(bytes: &[u8]) -> Result<Index, IndexError> {
        ManifestDb::open_bytes(bytes).map(Index::Db)
    }

    /// Open an encrypted Manifest.db in place: SQLite reads it through a VFS that decrypts
    /// each page as it is read (no decrypted copy is held or written).
    pub fn open_encrypted(
        path: &Path,
        key: crate::crypto::Key32,
        ct_len: u64,
        plain_len: u64,
    ) -> Result<Index, IndexError> {
        ManifestDb::open_encrypted(path, key, ct_len, plain_len).map(Index::Db)
    }

    /// Take Manifest.mbdb bytes; `name` labels errors (e.g. the file's path).
    pub fn parse_mbdb(name: &str, bytes: Vec<u8>) -> Result<Index, IndexError> {
        mbdb::check_header(name, &bytes)?;
        Ok(Index::Mbdb {
            name: name.to_owned(),
            bytes,
        })
    }

    /// Number of entries (for mbdb this walks the whole file).
    pub fn count(&self) -> Result<u64, IndexError> {
        match self {
            Index::Db(db) => db.count(),
            Index::Mbdb { name, bytes } => mbdb::for_each(name, bytes, |_| {}),
        }
    }

    /// Stream every entry to `f`; returns how many were delivered. On `Err` the entries
    /// delivered so far are valid but the index was not read to its end.
    pub fn for_each_record<F: FnMut(FileRecord)>(&self, f: F) -> Result<u64, IndexError> {
        match self {
            Index::Db(db) => db.for_each(f),
            Index::Mbdb { name, bytes } => mbdb::for_each(name, bytes, f),
        }
    }

    /// [`Index::for_each_record`] for a slow consumer: Manifest.db is read at most `window`
    /// ranges of rows ahead of `f` (memory: a few MB a range).
    pub fn for_each_record_ahead<F: FnMut(FileRecord)>(
        &self,
        window: usize,
        f: F,
    ) -> Result<u64, IndexError> {
        match self {
            Index::Db(db) => db.for_each_ahead(window, f),
            Index::Mbdb { name, bytes } => mbdb::for_each(name, bytes, f),
        }
    }

    /// How to read a subset of the rows ([`ManifestDb::reading`]); Manifest.mbdb, held
    /// whole in memory and read in one pass, is read whole.
    pub fn reading(&self, subset: Subset) -> Reading {
        match self {
            Index::Db(db) => db.reading(subset),
            Index::Mbdb { .. } => Reading::All,
        }
    }

    /// [`Index::for_each_record_ahead`] over the rows of `reading` (a subset is read by
    /// this thread through the database's indexes).
    pub fn for_each_record_in<F: FnMut(FileRecord)>(
        &self,
        reading: &Reading,
        window: usize,
        f: F,
    ) -> Result<u64, IndexError> {
        match self {
            Index::Db(db) => db.for_each_in(reading, window, f),
            Index::Mbdb { name, bytes } => mbdb::for_each(name, bytes, f),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    use crate::test_support::shared;

    #[test]
    fn facade_over_all_three_sources() {
        let Some(dir) = shared("conformance/small-unencrypted/00008120-001A2B3C4D5E801E") else {
            return;
        };
        let db_path = dir.join("Manifest.db");
        let plain = Index::open_plain(&db_path).unwrap();
        let mem = Index::open_decrypted(&std::fs::read(&db_path).unwrap()).unwrap();
        for idx in [&plain, &mem] {
            assert_eq!(idx.count().unwrap(), 113);
            let mut files = 0;
            assert_eq!(
                idx.for_each_record(|r| files += usize::from(r.kind == FileKind::File))
                    .unwrap(),
                113
            );
            assert_eq!(files, 46);
        }
        let Some(mbdb) = shared("external/hv20/Backup/Manifest.mbdb") else {
            return;
        };
        let idx = Index::parse_mbdb("Manifest.mbdb", std::fs::read(mbdb).unwrap()).unwrap();
        assert_eq!(idx.count().unwrap(), 757);
        let e = Index::parse_mbdb("x.mbdb", b"SQLite format 3\0".to_vec()).unwrap_err();
        assert_eq!(e.name(), "x.mbdb");
        assert!(
            e.problem().starts_with("at byte offset 0: header is"),
            "{}",
            e.problem()
        );
        let top: crate::Error = e.into();
        assert_eq!(top.exit_code(), crate::ExitCode::BadBackup);
        assert!(
            top.to_string().starts_with("x.mbdb: at byte offset 0"),
            "{top}"
        );
    }
}
