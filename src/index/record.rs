//! `FileRecord`: one entry of the file index (Manifest.db row or Manifest.mbdb record), typed.

use crate::backup::FileId;
use crate::crypto::{BadKeyLength, WrappedKey};

/// What an index entry describes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum FileKind {
    /// Regular file (flags 1, mode 0x8000): the only kind with a payload file.
    File,
    /// Directory, including a domain root with an empty relative path (flags 2, mode 0x4000).
    Directory,
    /// Symbolic link (flags 4, mode 0xA000).
    Symlink,
    /// Anything else (flags 16 rows of iOS 10.0, unknown flags or mode).
    Other,
}

impl FileKind {
    /// Kind from the Manifest.db `flags` column (1/2/4); `None` for other values (0, 16, …).
    pub fn from_flags(flags: i64) -> Option<FileKind> {
        match flags {
            1 => Some(FileKind::File),
            2 => Some(FileKind::Directory),
            4 => Some(FileKind::Symlink),
            _ => None,
        }
    }

    /// Kind from `st_mode & 0xF000`.
    pub fn from_mode(mode: u32) -> FileKind {
        match mode & 0xF000 {
            0x8000 => FileKind::File,
            0x4000 => FileKind::Directory,
            0xA000 => FileKind::Symlink,
            _ => FileKind::Other,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            FileKind::File => "file",
            FileKind::Directory => "directory",
            FileKind::Symlink => "symlink",
            FileKind::Other => "other",
        }
    }
}

/// One index entry with every MBFile field that was present and decodable.
///
/// Fields are `None` when absent or undecodable; why is in `problems` (never fatal).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileRecord {
    /// The fileID as stored (Manifest.db) or computed (Manifest.mbdb). Validate with
    /// [`FileRecord::valid_file_id`] before using it as a path.
    pub file_id: String,
    pub domain: String,
    pub relative_path: String,
    /// Manifest.db `flags` column (`None` for mbdb records or a NULL column).
    pub flags: Option<i64>,
    pub kind: FileKind,
    /// `st_mode` (type and permission bits).
    pub mode: Option<u32>,
    /// MBFile `Size` (not authoritative, FORMAT §8.3).
    pub size: Option<u64>,
    pub protection_class: Option<u32>,
    /// `EncryptionKey`, parsed once as the index is decoded (4-byte LE class + 40-byte
    /// wrapped key), or its wrong length; `None` when the row has none.
    pub encryption_key: Option<Result<WrappedKey, BadKeyLength>>,
    /// Symlink target.
    pub target: Option<String>,
    /// `Digest` (SHA-1, 20 bytes, when present).
    pub digest: Option<Vec<u8>>,
    pub inode: Option<u64>,
    pub user_id: Option<u32>,
    pub group_id: Option<u32>,
    /// Unix seconds.
    pub last_modified: Option<i64>,
    /// Unix seconds.
    pub last_status_change: Option<i64>,
    /// Unix seconds.
    pub birth: Option<i64>,
    /// Number of extended attributes (`None` when there are none).
    pub extended_attributes: Option<usize>,
    /// MBFile `Flags` (BSD st_flags).
    pub mbfile_flags: Option<u32>,
    pub problems: Vec<String>,
}

impl FileRecord {
    /// An empty record for the given identity (kind `Other` until resolved).
    pub fn new(file_id: String, domain: String, relative_path: String) -> Self {
        FileRecord {
            file_id,
            domain,
            relative_path,
            flags: None,
            kind: FileKind::Other,
            mode: None,
            size: None,
            protection_class: None,
            encryption_key: None,
            target: None,
            digest: None,
            inode: None,
            user_id: None,
            group_id: None,
            last_modified: None,
            last_status_change: None,
            birth: None,
            extended_attributes: None,
            mbfile_flags: None,
            problems: Vec::new(),
        }
    }

    /// The stored fileID when it is 40 lower-case hex digits.
    pub fn valid_file_id(&self) -> Option<FileId> {
        FileId::parse(&self.file_id)
    }

    /// `SHA-1(domain-relativePath)`: what the fileID should be.
    pub fn expected_file_id(&self) -> FileId {
        FileId::compute(&self.domain, &self.relative_path)
    }

    /// The class in the first 4 bytes (LE) of `EncryptionKey`, when it has at least 4 bytes.
    pub fn encryption_key_class(&self) -> Option<u32> {
        match self.encryption_key.as_ref()? {
            Ok(k) => Some(k.class.number()),
            Err(bad) => bad.class.map(|c| c.number()),
        }
    }

    /// Set `kind` from `flags` (1/2/4) or else from `mode`, recording a disagreement
    /// between the two (and unknown flag values) as problems.
    pub fn resolve_kind(&mut self) {
        let from_flags = self.flags.and_then(FileKind::from_flags);
        let from_mode = self.mode.map(FileKind::from_mode);
        if let Some(f) = self.flags {
            if from_flags.is_none() && f != 0 {
                self.problems.push(format!(
                    "flags is {f}, not 1 (file), 2 (directory) or 4 (symlink)"
                ));
            }
        }
        self.kind = match (from_flags, from_mode) {
            (Some(a), Some(b)) if a != b => {
                self.problems.push(format!(
                    "flags {} says {} but Mode {:#o} says {}",
                    self.flags.unwrap_or_default(),
                    a.as_str(),
                    self.mode.unwrap_or_default(),
                    b.as_str()
                ));
                a
            }
            (Some(a), _) => a,
            (None, Some(b)) => {
                if b == FileKind::Other {
                    self.problems.push(format!(
                        "Mode {:#o} is not a file, directory or symlink",
                        self.mode.unwrap_or_default()
                    ));
                }
                b
            }
            (None, None) => FileKind::Other,
        };
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rec(flags: Option<i64>, mode: Option<u32>) -> FileRecord {
        let mut r = FileRecord::new("x".into(), "HomeDomain".into(), "a".into());
        r.flags = flags;
        r.mode = mode;
        r.resolve_kind();
        r
    }

    #[test]
    fn kind_from_flags_then_mode() {
        assert_eq!(rec(Some(1), Some(0o100644)).kind, FileKind::File);
        assert_eq!(rec(Some(2), Some(0o40755)).kind, FileKind::Directory);
        assert_eq!(rec(Some(4), Some(0o120755)).kind, FileKind::Symlink);
        assert!(rec(Some(1), Some(0o100644)).problems.is_empty());
        // flags 0 (pyiosbackup) or absent (mbdb): from Mode, no problem
        let r = rec(Some(0), Some(0o100755));
        assert_eq!((r.kind, r.problems.len()), (FileKind::File, 0));
        assert_eq!(rec(None, Some(0o40000)).kind, FileKind::Directory);
        // disagreement: flags win, problem recorded
        let r = rec(Some(1), Some(0o40755));
        assert_eq!(r.kind, FileKind::File);
        assert_eq!(
            r.problems,
            ["flags 1 says file but Mode 0o40755 says directory"]
        );
        // flags 16 with no MBFile: Other with a problem
        let r = rec(Some(16), None);
        assert_eq!(r.kind, FileKind::Other);
        assert_eq!(r.problems.len(), 1);
        let r = rec(None, Some(0o10644)); // FIFO
        assert_eq!(r.kind, FileKind::Other);
        assert_eq!(r.problems.len(), 1);
    }

    #[test]
    fn ids_and_key_class() {
        let mut r = FileRecord::new(
            "3d0d7e5fb2ce288813306e4d4636395e047a3d28".into(),
            "HomeDomain".into(),
            "Library/SMS/sms.db".into(),
        );
        assert_eq!(r.valid_file_id(), Some(r.expected_file_id()));
        assert_eq!(r.encryption_key_class(), None);
        // The class prefix of a wrong-length key is kept.
        r.encryption_key = Some(WrappedKey::parse(&[3, 0, 0, 0, 9]));
        assert_eq!(r.encryption_key_class(), Some(3));
        r.encryption_key = Some(WrappedKey::parse(&[3, 0]));
        assert_eq!(r.encryption_key_class(), None);
        let mut k = vec![2, 0, 0, 0];
        k.extend_from_slice(&[1; 40]);
        r.encryption_key = Some(WrappedKey::parse(&k));
        assert_eq!(r.encryption_key_class(), Some(2));
        r.file_id = "../x".into();
        assert_eq!(r.valid_file_id(), None);
    }
}
