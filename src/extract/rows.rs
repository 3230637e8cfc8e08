//! The index rows as the export plan needs them, compact: paths in one buffer, domains interned, no MBFile extras.
//!
//! At 1.3 M rows a `FileRecord` with its strings is ≈ 600 bytes; the plan needs a row's
//! domain, relativePath, kind and recorded Size, a link's target and a directory's
//! modification time. Here a row costs its relativePath's bytes plus ≈ 18 bytes. The
//! fileID is not kept when it is what it should be (`SHA-1(domain-relativePath)` in
//! lower-case hex, as in every real backup): it is computed again when a report or the
//! manifest names it. Anything else is kept as stored. The rest of a row (its file key,
//! its times) is read again from the index when its file is written.

use crate::backup::FileId;
use crate::index::{FileKind, FileRecord};
use std::collections::HashMap;

/// The rows of the index, in index order (row `i` is the `i`-th row streamed).
#[derive(Default)]
pub(crate) struct Rows {
    /// Every relativePath, one after the other.
    text: String,
    /// Where row `i`'s relativePath ends in `text` (it starts where row `i - 1`'s ends).
    ends: Vec<u32>,
    /// Row `i`'s domain: an index into `names`.
    domain: Vec<u32>,
    names: Vec<Box<str>>,
    ids: HashMap<Box<str>, u32>,
    kind: Vec<FileKind>,
    /// Recorded Sizes (absent: 0); only the plan needs them ([`Rows::forget_sizes`]).
    size: Vec<u64>,
    /// fileIDs other than the one computed from the row's domain and path, as stored.
    odd_ids: HashMap<u32, Box<str>>,
    /// Symbolic links' targets (absent: none recorded).
    targets: HashMap<u32, Box<str>>,
    /// Directories' modification times (Unix seconds).
    mtimes: HashMap<u32, i64>,
    /// A row past `u32::MAX` rows, or past `u32::MAX` bytes of paths, was offered (not kept).
    overflow: bool,
}

/// `SHA-1(domain-relativePath)`: the fileID a row should have, as bytes.
fn expected_id(domain: &str, relative_path: &str) -> [u8; 20] {
    FileId::compute(domain, relative_path).to_bytes()
}

impl Rows {
    /// Keep the next row; its number, or `None` past `u32::MAX` rows or bytes of paths
    /// (see [`Rows::overflowed`]).
    pub fn push(&mut self, r: &FileRecord) -> Option<u32> {
        let end = u32::try_from(self.text.len() + r.relative_path.len());
        let (Ok(i), Ok(end)) = (u32::try_from(self.ends.len()), end) else {
            self.overflow = true;
            return None;
        };
        let d = match self.ids.get(r.domain.as_str()) {
            Some(&d) => d,
            None => {
                let d = self.names.len() as u32;
                self.names.push(r.domain.as_str().into());
                self.ids.insert(r.domain.as_str().into(), d);
                d
            }
        };
        self.text.push_str(&r.relative_path);
        self.ends.push(end);
        self.domain.push(d);
        self.kind.push(r.kind);
        self.size.push(r.size.unwrap_or(0));
        if FileId::parse_bytes(&r.file_id) != Some(expected_id(&r.domain, &r.relative_path)) {
            self.odd_ids.insert(i, r.file_id.as_str().into());
        }
        match r.kind {
            FileKind::Symlink => {
                if let Some(t) = &r.target {
                    self.targets.insert(i, t.as_str().into());
                }
            }
            FileKind::Directory => {
                if let Some(t) = r.last_modified {
                    self.mtimes.insert(i, t);
                }
            }
            FileKind::File | FileKind::Other => {}
        }
        Some(i)
    }

    /// Were more rows offered than a row number can name?
    pub fn overflowed(&self) -> bool {
        self.overflow
    }

    /// Free the buffers' spare room once every row is in.
    pub fn shrink(&mut self) {
        self.text.shrink_to_fit();
        self.ends.shrink_to_fit();
        self.domain.shrink_to_fit();
        self.kind.shrink_to_fit();
        self.size.shrink_to_fit();
    }

    pub fn len(&self) -> usize {
        self.ends.len()
    }

    /// Every domain (each once, in order of first appearance).
    pub fn domains(&self) -> impl Iterator<Item = &str> {
        self.names.iter().map(|n| &**n)
    }

    /// Row `i`'s domain number (see [`Rows::domain_name`]).
    pub fn domain_id(&self, i: u32) -> u32 {
        self.domain.get(i as usize).copied().unwrap_or(0)
    }

    /// The name of domain number `d`.
    pub fn domain_name(&self, d: u32) -> &str {
        self.names.get(d as usize).map_or("", |n| n)
    }

    /// Number of domains.
    pub fn domain_count(&self) -> usize {
        self.names.len()
    }

    pub fn domain(&self, i: u32) -> &str {
        self.domain_name(self.domain_id(i))
    }

    pub fn relative_path(&self, i: u32) -> &str {
        let i = i as usize;
        let start = match i.checked_sub(1) {
            Some(p) => self.ends.get(p).map_or(0, |&e| e as usize),
            None => 0,
        };
        let end = self.ends.get(i).map_or(start, |&e| e as usize);
        self.text.get(start..end).unwrap_or("")
    }

    pub fn kind(&self, i: u32) -> FileKind {
        self.kind
            .get(i as usize)
            .copied()
            .unwrap_or(FileKind::Other)
    }

    /// The recorded Size (0 when absent, or after [`Rows::forget_sizes`]).
    pub fn size(&self, i: u32) -> u64 {
        self.size.get(i as usize).copied().unwrap_or(0)
    }

    /// Drop the recorded Sizes (the plan has taken what it needs of them).
    pub fn forget_sizes(&mut self) {
        self.size = Vec::new();
    }

    /// The fileID as stored in the index.
    pub fn file_id(&self, i: u32) -> String {
        match self.odd_ids.get(&i) {
            Some(id) => id.to_string(),
            None => hex::encode(expected_id(self.domain(i), self.relative_path(i))),
        }
    }

    /// A symbolic link's recorded target.
    pub fn target(&self, i: u32) -> Option<&str> {
        self.targets.get(&i).map(|t| &**t)
    }

    /// A directory's recorded modification time.
    pub fn dir_mtime(&self, i: u32) -> Option<i64> {
        self.mtimes.get(&i).copied()
    }

    /// The row's output path, `domain/relativePath` (`domain` alone for an empty path).
    pub fn out_path(&self, i: u32) -> String {
        let (d, p) = (self.domain(i), self.relative_path(i));
        if p.is_empty() {
            d.to_string()
        } else {
            format!("{d}/{p}")
        }
    }

    /// Is `r` (streamed again) row `i` as it was kept?
    pub fn same(&self, i: u32, r: &FileRecord) -> bool {
        (i as usize) < self.len()
            && self.domain(i) == r.domain
            && self.relative_path(i) == r.relative_path
            && self.kind(i) == r.kind
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rec(id: Option<&str>, domain: &str, path: &str, kind: FileKind) -> FileRecord {
        let id = id.map_or_else(
            || FileId::compute(domain, path).as_str().to_string(),
            str::to_string,
        );
        let mut r = FileRecord::new(id, domain.into(), path.into());
        r.kind = kind;
        r
    }

    #[test]
    fn rows_give_back_what_they_were_given() {
        let mut link = rec(None, "D", "l", FileKind::Symlink);
        link.target = Some("../x".into());
        let mut dir = rec(None, "E", "", FileKind::Directory);
        dir.last_modified = Some(-5);
        let mut file = rec(None, "D", "a/é b.txt", FileKind::File);
        file.size = Some(7);
        let given = [
            file,
            rec(Some("NOT-A-FILE-ID"), "D", "odd", FileKind::File),
            rec(Some(&"a".repeat(40)), "E", "wrong-but-hex", FileKind::File),
            rec(Some(&"A".repeat(40)), "E", "upper", FileKind::File),
            link,
            dir,
            rec(Some(""), "", "", FileKind::Other),
        ];
        let mut rows = Rows::default();
        for (k, r) in given.iter().enumerate() {
            assert_eq!(rows.push(r), Some(k as u32));
        }
        rows.shrink();
        assert_eq!(rows.len(), given.len());
        assert_eq!(rows.domain_count(), 3);
        assert_eq!(rows.domains().collect::<Vec<_>>(), vec!["D", "E", ""]);
        for (k, r) in given.iter().enumerate() {
            let i = k as u32;
            assert_eq!(rows.domain(i), r.domain);
            assert_eq!(rows.relative_path(i), r.relative_path);
            assert_eq!(rows.kind(i), r.kind);
            assert_eq!(rows.file_id(i), r.file_id, "row {k}");
            assert_eq!(rows.size(i), r.size.unwrap_or(0));
            assert!(rows.same(i, r));
        }
        // Only the ids that are not the computed ones are stored.
        assert_eq!(rows.odd_ids.len(), 4);
        assert_eq!(rows.target(4), Some("../x"));
        assert_eq!(rows.target(0), None);
        assert_eq!(rows.dir_mtime(5), Some(-5));
        assert_eq!(rows.out_path(0), "D/a/é b.txt");
        assert_eq!(rows.out_path(5), "E");
        assert!(!rows.same(0, &given[1]));
        assert!(!rows.same(99, &given[0]));
        rows.forget_sizes();
        assert_eq!(rows.size(0), 0);
        assert_eq!(rows.relative_path(99), "");
    }
}
