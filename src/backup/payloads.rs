//! Payload files on disk: one listing of the backup folder, payloads opened relative to it.
//!
//! The listing keeps each payload folder open and records a payload as its 20-byte file ID
//! and the folder it is in (no path per file). Opening or sizing a payload then resolves one
//! name inside an open folder (`openat`/`fstatat` on Unix) instead of walking the whole path
//! again, and never follows a symbolic link. The listing itself needs no `stat` per file
//! (the folder entry's type says "regular file"); sizes are read when asked for.

use super::folder::{self, EntryType};
use super::{Backup, BackupError, FileId, KNOWN_TOP_LEVEL, MAX_SCAN_ENTRIES};
use std::fs;
use std::io;
use std::path::{Path, PathBuf};

/// A payload-looking file found on disk: `xx/<40 hex>` with a matching prefix, or
/// `<40 hex>` at the top.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ContentFile {
    /// The file ID, as 20 bytes.
    pub id: [u8; 20],
    /// Which listed folder holds it (0: the backup folder itself).
    folder: u16,
    /// Its length, when the listing was asked for sizes ([`NO_LEN`] otherwise: 32 bytes a
    /// payload instead of 40 with an `Option`, 10 MB less at 1.27 M payloads).
    len: u64,
}

/// [`ContentFile::len`] when the listing did not size the payload.
const NO_LEN: u64 = u64::MAX;

impl ContentFile {
    /// Its length, when the listing was asked for sizes.
    pub fn listed_len(&self) -> Option<u64> {
        (self.len != NO_LEN).then_some(self.len)
    }

    /// The file ID as 40 lower-case hex digits.
    pub fn file_id(&self) -> FileId {
        FileId::from_bytes(&self.id)
    }

    /// Whether it lies at the top of the backup folder (the flat layout of iOS 4–9).
    pub fn is_flat(&self) -> bool {
        self.folder == 0
    }

    /// The file name, NUL-terminated (for `openat`).
    fn name(&self) -> [u8; 41] {
        let mut n = [0u8; 41];
        // 20 bytes always encode to exactly 40 digits.
        let _ = hex::encode_to_slice(self.id, &mut n[..40]);
        n
    }
}

/// What an unexpected entry is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum EntryKind {
    File,
    Folder,
    /// Symbolic links are never followed.
    Symlink,
    Other,
}

/// Something on disk that is neither a backup metadata file nor a payload.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OtherEntry {
    pub path: PathBuf,
    pub kind: EntryKind,
    pub len: u64,
    pub reason: &'static str,
}

/// A listed folder, held open so its payloads are opened by name relative to it.
#[derive(Debug)]
struct Folder {
    path: PathBuf,
    #[cfg(unix)]
    handle: fs::File,
}

impl Folder {
    fn new(path: PathBuf, listed: super::folder::Listed) -> Folder {
        #[cfg(not(unix))]
        let _ = listed;
        Folder {
            path,
            #[cfg(unix)]
            handle: listed.handle,
        }
    }
}

/// Result of listing the backup folder for payload files.
#[derive(Debug, Default)]
pub struct ContentScan {
    /// Sorted by file ID; where both layouts hold a file ID, the layout's expected place
    /// comes first.
    pub files: Vec<ContentFile>,
    /// Sorted by path.
    pub other: Vec<OtherEntry>,
    /// `folders[0]` is the backup folder; `ContentFile::folder` indexes this.
    folders: Vec<Folder>,
    /// `files[starts[p]..starts[p + 1]]` are the IDs whose first `bucket_bits` bits are
    /// `p`: a lookup reads one slot and a few neighbouring entries (file IDs are SHA-1, so
    /// uniform), where a binary search over the whole list missed the cache ~17 times.
    /// The table has a slot per one or two files (at least 2^16), so a lookup costs the same at
    /// 100,000 payloads as at 1.3 M (a fixed 2^16 slots left ~20 IDs per slot there, and
    /// their binary search took 6 % of a scan's samples).
    starts: Vec<u32>,
    bucket_bits: u32,
    /// A scan by name ([`Backup::content_folders`]): for each first byte of a file ID, its
    /// payload folder (`NO_FOLDER`: none). Empty for a listing.
    by_prefix: Vec<u16>,
    /// Whether opening with `O_NOATIME` was refused (a payload not owned by this user):
    /// later opens go without it.
    #[cfg(any(target_os = "linux", target_os = "android"))]
    no_noatime: std::sync::atomic::AtomicBool,
}

/// Top-level files that are read even when they are symbolic links (see docs/limits.md).
const READ_THROUGH_LINKS: [&str; 5] = [
    "Info.plist",
    "Manifest.plist",
    "Status.plist",
    "Manifest.db",
    "Manifest.mbdb",
];

/// A file that is not a regular file where the listing saw one (replaced meanwhile).
fn not_regular() -> io::Error {
    io::Error::new(io::ErrorKind::InvalidData, NotRegular)
}

/// The error of [`not_regular`].
#[derive(Debug)]
struct NotRegular;

impl std::fmt::Display for NotRegular {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("not a regular file")
    }
}

impl std::error::Error for NotRegular {}

/// `by_prefix`: no folder for this prefix.
const NO_FOLDER: u16 = u16::MAX;

/// Does `e` say that no regular file is at a place (nothing, a link, a folder, a FIFO...)?
/// A listing would not have listed it as a payload.
fn not_there(e: &io::Error) -> bool {
    if matches!(
        e.kind(),
        io::ErrorKind::NotFound | io::ErrorKind::NotADirectory
    ) {
        return true;
    }
    if e.get_ref().is_some_and(|i| i.is::<NotRegular>()) {
        return true;
    }
    #[cfg(unix)]
    {
        // O_NOFOLLOW on a link; a socket cannot be opened.
        use rustix::io::Errno;
        if let Some(n) = e.raw_os_error() {
            return n == Errno::LOOP.raw_os_error() || n == Errno::NXIO.raw_os_error();
        }
    }
    false
}

impl ContentScan {
    /// Where `c` lies.
    pub fn path(&self, c: &ContentFile) -> PathBuf {
        let name = c.name();
        let name = std::str::from_utf8(&name[..40]).unwrap_or_default();
        self.folders[usize::from(c.folder)].path.join(name)
    }

    /// Index in [`ContentScan::files`] of the payload of `id` (the layout's expected place
    /// when both hold one).
    pub fn find(&self, id: &[u8; 20]) -> Option<usize> {
        let p = bucket(id, self.bucket_bits);
        let (lo, hi) = match self.starts.get(p..p + 2) {
            Some(&[lo, hi]) => (lo as usize, hi as usize),
            _ => (0, self.files.len()),
        };
        let run = self.files.get(lo..hi)?;
        let i = lo + run.partition_point(|c| c.id < *id);
        (self.files.get(i)?.id == *id).then_some(i)
    }

    /// Whether this scan holds the payload folders only, open ([`Backup::content_folders`]):
    /// payloads are then looked up by name, not in a list.
    pub fn is_by_name(&self) -> bool {
        !self.by_prefix.is_empty()
    }

    /// Where a payload of `id` may be, in order: its folder, then the top (a scan by name
    /// is only made for the layout that expects the folder).
    fn places(&self, id: &[u8; 20]) -> impl Iterator<Item = u16> {
        let folder = self
            .by_prefix
            .get(usize::from(id[0]))
            .copied()
            .filter(|&f| f != NO_FOLDER);
        folder.into_iter().chain(std::iter::once(0))
    }

    /// The payload of `id`: the listed one, or (a scan by name) the regular file on disk
    /// now in its folder or else at the top, with its length. `Ok(None)`: there is none.
    pub fn lookup(&self, id: &[u8; 20]) -> io::Result<Option<ContentFile>> {
        if !self.is_by_name() {
            return Ok(self.find(id).and_then(|i| self.files.get(i)).copied());
        }
        Ok(self
            .first_place(id, |c| self.len(c).map(|n| (n, ())))?
            .map(|(c, ())| c))
    }

    /// Open the payload of `id` ([`ContentScan::lookup`], [`ContentScan::open`]); a scan by
    /// name opens it straight away (no `stat` first). `Ok(None)`: there is none.
    pub fn open_id(&self, id: &[u8; 20]) -> io::Result<Option<(ContentFile, fs::File, u64)>> {
        if !self.is_by_name() {
            let Some(c) = self.lookup(id)? else {
                return Ok(None);
            };
            let (file, len) = self.open(&c)?;
            return Ok(Some((c, file, len)));
        }
        let found = self.first_place(id, |c| self.open(c).map(|(file, n)| (n, file)))?;
        Ok(found.map(|(c, file)| (c, file, c.len)))
    }

    /// `at` of the first place of `id` ([`ContentScan::places`]) that holds a regular file:
    /// the payload there (with the length `at` gives) and what `at` gave besides.
    fn first_place<T>(
        &self,
        id: &[u8; 20],
        at: impl Fn(&ContentFile) -> io::Result<(u64, T)>,
    ) -> io::Result<Option<(ContentFile, T)>> {
        for folder in self.places(id) {
            let c = ContentFile {
                id: *id,
                folder,
                len: NO_LEN,
            };
            match at(&c) {
                Ok((len, t)) => return Ok(Some((ContentFile { len, ..c }, t))),
                Err(e) if not_there(&e) => continue,
                Err(e) => return Err(e),
            }
        }
        Ok(None)
    }

    /// Open `c` for reading: a regular file (links are not followed, a FIFO does not
    /// block); returns it with its length.
    pub fn open(&self, c: &ContentFile) -> io::Result<(fs::File, u64)> {
        let folder = &self.folders[usize::from(c.folder)];
        #[cfg(unix)]
        let file = {
            use rustix::fs::{openat, Mode, OFlags};
            let name = c.name();
            let name = std::ffi::CStr::from_bytes_with_nul(&name).map_err(|_| not_regular())?;
            let flags = OFlags::RDONLY
                | OFlags::CLOEXEC
                | OFlags::NOFOLLOW
                | OFlags::NONBLOCK
                | OFlags::NOCTTY;
            // Reading evidence should not change it: O_NOATIME keeps access times as they
            // were (Linux; only the owner may ask, so it is dropped after a refusal).
            #[cfg(any(target_os = "linux", target_os = "android"))]
            let file = super::open_noatime(
                |f| openat(&folder.handle, name, flags | f, Mode::empty()),
                &self.no_noatime,
            )?;
            #[cfg(not(any(target_os = "linux", target_os = "android")))]
            let file = fs::File::from(openat(&folder.handle, name, flags, Mode::empty())?);
            file
        };
        #[cfg(not(unix))]
        let file = {
            let p = self.path(c);
            if !fs::symlink_metadata(&p)?.is_file() {
                return Err(not_regular());
            }
            fs::File::open(p)?
        };
        #[cfg(unix)]
        {
            // `fstat` (what `File::metadata` asks `statx` for, and less).
            use rustix::fs::FileType;
            let st = rustix::fs::fstat(&file)?;
            if FileType::from_raw_mode(st.st_mode as _) != FileType::RegularFile {
                return Err(not_regular());
            }
            Ok((file, st.st_size as u64))
        }
        #[cfg(not(unix))]
        {
            let meta = file.metadata()?;
            if !meta.is_file() {
                return Err(not_regular());
            }
            Ok((file, meta.len()))
        }
    }

    /// The length of `c`: as listed, or read now (one `fstatat` in its folder, links not
    /// followed).
    pub fn len(&self, c: &ContentFile) -> io::Result<u64> {
        if let Some(n) = c.listed_len() {
            return Ok(n);
        }
        #[cfg(unix)]
        {
            use rustix::fs::{statat, AtFlags, FileType};
            let folder = &self.folders[usize::from(c.folder)];
            let name = c.name();
            let name = std::ffi::CStr::from_bytes_with_nul(&name).map_err(|_| not_regular())?;
            let st = statat(&folder.handle, name, AtFlags::SYMLINK_NOFOLLOW)?;
            if FileType::from_raw_mode(st.st_mode as _) != FileType::RegularFile {
                return Err(not_regular());
            }
            Ok(st.st_size as u64)
        }
        #[cfg(not(unix))]
        {
            let m = fs::symlink_metadata(self.path(c))?;
            if !m.is_file() {
                return Err(not_regular());
            }
            Ok(m.len())
        }
    }
}

impl Backup {
    /// The payload folders opened, not listed: [`ContentScan::lookup`] and
    /// [`ContentScan::open_id`] then ask the file system for one payload at a time. For a
    /// job that opens given payloads of a big backup (`extract`): no list of a million
    /// names in memory (40 MB at 1.27 M), nothing read of the other payloads. A backup of
    /// the flat layout (iOS 4–9: every payload at the top) is listed instead
    /// ([`Backup::content_listing`]). Nothing unexpected is reported (`other` is empty).
    pub fn content_folders(&self) -> Result<ContentScan, BackupError> {
        if self.prefers_flat() {
            return self.content_listing(false);
        }
        let root = &self.root;
        let mut seen = 0usize;
        let mut payload_dirs = Vec::new();
        let listed = folder::list(root, |name, kind| {
            seen += 1;
            if seen > MAX_SCAN_ENTRIES {
                return Err(too_many(root));
            }
            let name = name.to_str().unwrap_or("");
            if kind == EntryType::Dir && super::is_lower_hex(name, 2) {
                payload_dirs.push(name.to_owned());
            }
            Ok(())
        })?;
        let mut scan = ContentScan {
            by_prefix: vec![NO_FOLDER; 256],
            ..Default::default()
        };
        scan.folders.push(Folder::new(root.clone(), listed));
        payload_dirs.sort();
        for name in payload_dirs {
            let mut byte = [0u8; 1];
            if hex::decode_to_slice(&name, &mut byte).is_err() {
                continue;
            }
            let path = root.join(&name);
            let opened = folder::open(&path)?;
            scan.by_prefix[usize::from(byte[0])] = scan.folders.len() as u16;
            scan.folders.push(Folder::new(path, opened));
        }
        Ok(scan)
    }

    /// Every payload-looking file on disk with its size, for orphan detection, plus
    /// anything else unexpected. See [`Backup::content_listing`].
    pub fn content_files(&self) -> Result<ContentScan, BackupError> {
        self.content_listing(true)
    }

    /// Every payload-looking file on disk (`xx/<40 hex>` with a matching prefix, or
    /// `<40 hex>` at the top), plus anything else unexpected. With `sizes`, each payload's
    /// length is read as it is listed (one `stat` each); without, [`ContentScan::len`] or
    /// [`ContentScan::open`] give it when needed.
    pub fn content_listing(&self, sizes: bool) -> Result<ContentScan, BackupError> {
        use rayon::prelude::*;
        use std::sync::atomic::{AtomicUsize, Ordering};
        let mut scan = ContentScan::default();
        let seen = AtomicUsize::new(0);
        let count = |dir: &Path| -> Result<(), BackupError> {
            if seen.fetch_add(1, Ordering::Relaxed) >= MAX_SCAN_ENTRIES {
                Err(too_many(dir))
            } else {
                Ok(())
            }
        };
        let mut payload_dirs = Vec::new();
        let root = &self.root;
        let listed = folder::list(root, |name, kind| {
            count(root)?;
            let path = root.join(name);
            let name = name.to_str().unwrap_or("");
            let len = || {
                fs::symlink_metadata(&path)
                    .map(|m| m.len())
                    .map_err(|e| BackupError::io(&path, e))
            };
            match kind {
                EntryType::File if KNOWN_TOP_LEVEL.contains(&name) => {}
                EntryType::File => {
                    if let Some(id) = FileId::parse_bytes(name) {
                        let len = if sizes { Some(len()?) } else { None };
                        scan.files.push(ContentFile {
                            id,
                            folder: 0,
                            len: len.unwrap_or(NO_LEN),
                        });
                    } else {
                        let len = len()?;
                        scan.other.push(other(
                            path,
                            EntryKind::File,
                            len,
                            "unexpected file at the top level",
                        ));
                    }
                }
                EntryType::Dir if super::is_lower_hex(name, 2) => {
                    payload_dirs.push((path, name.to_owned()));
                }
                EntryType::Dir => scan.other.push(other(
                    path,
                    EntryKind::Folder,
                    0,
                    "unexpected folder at the top level",
                )),
                // The top-level files auditor reads are read through a link (to a regular
                // file only).
                EntryType::Symlink if READ_THROUGH_LINKS.contains(&name) => scan.other.push(other(
                    path,
                    EntryKind::Symlink,
                    0,
                    "symbolic link to a top-level file of the backup (followed, to a regular file only)",
                )),
                EntryType::Symlink => scan.other.push(other(
                    path,
                    EntryKind::Symlink,
                    0,
                    "symbolic link (not followed)",
                )),
                EntryType::Other => {
                    scan.other
                        .push(other(path, EntryKind::Other, 0, "not a file or folder"))
                }
            }
            Ok(())
        })?;
        scan.folders.push(Folder::new(root.clone(), listed));
        payload_dirs.sort();
        let first = scan.folders.len();
        if payload_dirs.len() + first > usize::from(u16::MAX) {
            return Err(too_many(&self.root));
        }
        // The up to 256 payload folders are listed in parallel.
        let parts = payload_dirs
            .into_par_iter()
            .enumerate()
            .map(|(i, (dir, prefix))| {
                let folder = (first + i) as u16;
                let mut part = ContentScan::default();
                let listed = scan_payload_dir(&dir, &prefix, folder, sizes, &mut part, &count)?;
                part.folders.push(Folder::new(dir, listed));
                Ok(part)
            })
            .collect::<Result<Vec<_>, BackupError>>()?;
        // Reserved whole: appended part by part, the list grew by doubling to up to twice
        // its length (84 MB of capacity for 51 MB of 1.27 M payloads).
        scan.files
            .reserve_exact(parts.iter().map(|p| p.files.len()).sum::<usize>());
        for mut p in parts {
            scan.files.append(&mut p.files);
            scan.other.append(&mut p.other);
            scan.folders.append(&mut p.folders);
        }
        // Where both layouts hold a file ID, the layout's expected place sorts first.
        let flat_first = self.prefers_flat();
        // (The ID as two integers: the same order as its bytes, without a `memcmp` call.)
        scan.files.par_sort_unstable_by_key(|c| {
            let (hi, lo) = c.id.split_at(16);
            let hi = u128::from_be_bytes(hi.try_into().unwrap_or_default());
            let lo = u32::from_be_bytes(lo.try_into().unwrap_or_default());
            (hi, lo, c.is_flat() != flat_first)
        });
        scan.other.sort_by(|a, b| a.path.cmp(&b.path));
        if u32::try_from(scan.files.len()).is_ok() {
            (scan.starts, scan.bucket_bits) = bucket_starts(&scan.files);
        }
        Ok(scan)
    }
}

/// The bucket of `id`: its first `bits` bits (16 to 24; 0 before the table is built).
fn bucket(id: &[u8; 20], bits: u32) -> usize {
    let p = u32::from_be_bytes([id[0], id[1], id[2], id[3]]);
    p.checked_shr(32 - bits).unwrap_or(0) as usize
}

/// The number of prefix bits for `n` files: one to two files a slot (⌊log₂ n⌋ bits), 2^16
/// to 2^24 slots (4 MB of table at 1.27 M payloads).
fn bucket_bits_for(n: usize) -> u32 {
    (usize::BITS - n.max(1).leading_zeros() - 1).clamp(16, 24)
}

/// For each prefix `p` of [`bucket_bits_for`] bits (and one past the last), the index of
/// the first file whose ID is at or after `p` (`files` sorted by ID, at most `u32::MAX` of
/// them); and the number of bits.
fn bucket_starts(files: &[ContentFile]) -> (Vec<u32>, u32) {
    let bits = bucket_bits_for(files.len());
    let mut starts = vec![0u32; (1 << bits) + 1];
    for c in files {
        starts[bucket(&c.id, bits) + 1] += 1;
    }
    for p in 1..starts.len() {
        starts[p] += starts[p - 1];
    }
    (starts, bits)
}

fn too_many(path: &Path) -> BackupError {
    BackupError::Malformed {
        path: path.to_path_buf(),
        problem: format!("more than {MAX_SCAN_ENTRIES} entries; refusing to scan further"),
    }
}

fn other(path: PathBuf, kind: EntryKind, len: u64, reason: &'static str) -> OtherEntry {
    OtherEntry {
        path,
        kind,
        len,
        reason,
    }
}

/// List one payload folder (`xx`) into `scan`; returns it, still open.
fn scan_payload_dir(
    dir: &Path,
    prefix: &str,
    folder: u16,
    sizes: bool,
    scan: &mut ContentScan,
    count: &(dyn Fn(&Path) -> Result<(), BackupError> + Sync),
) -> Result<folder::Listed, BackupError> {
    folder::list(dir, |name, kind| {
        count(dir)?;
        let id = name.to_str().and_then(FileId::parse_bytes);
        // Paths and sizes only for what is reported: not for each of a million payloads.
        let path = || dir.join(name);
        let len = || {
            let path = path();
            fs::symlink_metadata(&path)
                .map(|m| m.len())
                .map_err(|e| BackupError::io(&path, e))
        };
        match (kind, id) {
            (EntryType::File, Some(id)) if name.to_str().is_some_and(|n| n.starts_with(prefix)) => {
                let len = if sizes { Some(len()?) } else { None };
                scan.files.push(ContentFile {
                    id,
                    folder,
                    len: len.unwrap_or(NO_LEN),
                })
            }
            (EntryType::File, Some(_)) => {
                let len = len()?;
                scan.other.push(other(
                    path(),
                    EntryKind::File,
                    len,
                    "payload in the wrong subfolder",
                ))
            }
            (EntryType::File, None) => {
                let len = len()?;
                scan.other.push(other(
                    path(),
                    EntryKind::File,
                    len,
                    "unexpected file in a payload folder",
                ))
            }
            (kind, _) => {
                let kind = match kind {
                    EntryType::Dir => EntryKind::Folder,
                    EntryType::Symlink => EntryKind::Symlink,
                    _ => EntryKind::Other,
                };
                scan.other.push(other(
                    path(),
                    kind,
                    0,
                    "unexpected entry in a payload folder",
                ));
            }
        }
        Ok(())
    })
}

#[cfg(test)]
mod lookup_tests {
    use super::*;

    /// A listing of `n` pseudo-random file IDs (every other one listed), sorted.
    fn listing(n: usize) -> (ContentScan, Vec<[u8; 20]>) {
        use sha1::Digest;
        let ids: Vec<[u8; 20]> = (0..n as u64)
            .map(|i| sha1::Sha1::digest(i.to_le_bytes()).into())
            .collect();
        let mut files: Vec<ContentFile> = ids
            .iter()
            .step_by(2)
            .map(|&id| ContentFile {
                id,
                folder: 0,
                len: NO_LEN,
            })
            .collect();
        files.sort_unstable_by_key(|c| c.id);
        let mut scan = ContentScan {
            files,
            ..Default::default()
        };
        (scan.starts, scan.bucket_bits) = bucket_starts(&scan.files);
        (scan, ids)
    }

    #[test]
    fn a_listed_payload_takes_32_bytes_and_keeps_its_length() {
        assert_eq!(std::mem::size_of::<ContentFile>(), 32);
        let mut c = ContentFile {
            id: [1; 20],
            folder: 3,
            len: NO_LEN,
        };
        assert_eq!(c.listed_len(), None);
        for n in [0, 1, 4096, u64::MAX - 1] {
            c.len = n;
            assert_eq!(c.listed_len(), Some(n));
        }
    }

    #[test]
    fn a_listing_without_its_table_finds_by_searching_all() {
        let (mut scan, ids) = listing(50);
        (scan.starts, scan.bucket_bits) = (Vec::new(), 0);
        assert_eq!(scan.find(&ids[0]).map(|i| scan.files[i].id), Some(ids[0]));
        assert_eq!(scan.find(&ids[1]), None);
    }

    #[test]
    fn every_listed_id_is_found_and_no_other_at_every_table_size() {
        for n in [0, 1, 3, 1000, 140_000, 600_000] {
            let (scan, ids) = listing(n);
            let bits = scan.bucket_bits;
            assert!((16..=24).contains(&bits));
            assert!(
                scan.files.len() < 2 << bits,
                "{n}: at most two files a slot"
            );
            if n >= 600_000 {
                assert!(bits > 16, "{n}: the table grows with the listing");
            }
            for (i, id) in ids.iter().enumerate() {
                let found = scan.find(id);
                if i % 2 == 0 {
                    let at = found.unwrap_or_else(|| panic!("{n}: listed id {i} not found"));
                    assert_eq!(&scan.files[at].id, id);
                } else {
                    assert_eq!(found, None, "{n}: id {i} is not listed");
                }
            }
            // IDs at both ends of the range.
            assert_eq!(scan.find(&[0; 20]), None);
            assert_eq!(scan.find(&[0xff; 20]), None);
        }
    }
}
