//! The backup folder: layout, Info/Manifest/Status plists, fileID hashing (read-only).
//!
//! This is the only module that touches the filesystem, and it only reads: it never creates,
//! changes or deletes anything inside a backup. Paths of payload files are only ever built
//! from a validated [`FileId`], never from strings found in the backup.

pub mod defaults;
pub mod fileid;
mod folder;
pub mod payloads;
pub mod plists;

pub use fileid::FileId;
pub use payloads::{ContentFile, ContentScan, EntryKind, OtherEntry};
pub use plists::{AppInfo, InfoPlist, Lockdown, ManifestPlist, StatusPlist};

use std::fs;
use std::io::Read;
use std::path::{Path, PathBuf};

/// Largest top-level plist read (Info.plist with app icons is ~10 MB in real backups).
pub const MAX_PLIST_BYTES: u64 = 64 << 20;
/// Most directory entries a content scan will list before giving up.
pub const MAX_SCAN_ENTRIES: usize = 20_000_000;

/// File names the backup itself consists of (never reported as "other").
pub const KNOWN_TOP_LEVEL: &[&str] = &[
    "Info.plist",
    "Manifest.plist",
    "Status.plist",
    "Manifest.db",
    "Manifest.db-wal",
    "Manifest.db-shm",
    "Manifest.mbdb",
    "Manifest.mbdx",
];

const SQLITE_MAGIC: &[u8; 16] = b"SQLite format 3\0";

/// Errors of the backup folder layer. Every variant names the path and the problem.
#[derive(Debug, thiserror::Error)]
pub enum BackupError {
    /// The file or folder could not be read.
    #[error("{}: cannot read: {source}", path.display())]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    /// A file is larger than this tool will read into memory.
    #[error("{}: {size} bytes is larger than the limit of {limit} bytes", path.display())]
    TooLarge {
        path: PathBuf,
        size: u64,
        limit: u64,
    },
    /// A file is present but malformed (e.g. a plist that does not parse).
    #[error("{}: {problem}", path.display())]
    Malformed { path: PathBuf, problem: String },
    /// The folder is neither a backup nor a folder of backups.
    #[error("{}: not an iOS backup: {problem}", path.display())]
    NotABackup { path: PathBuf, problem: String },
}

impl BackupError {
    /// The file or folder the error is about.
    pub fn path(&self) -> &Path {
        match self {
            BackupError::Io { path, .. }
            | BackupError::TooLarge { path, .. }
            | BackupError::Malformed { path, .. }
            | BackupError::NotABackup { path, .. } => path,
        }
    }

    /// The message without the path.
    pub fn problem(&self) -> String {
        match self {
            BackupError::Io { source, .. } => format!("cannot read: {source}"),
            BackupError::TooLarge { size, limit, .. } => {
                format!("{size} bytes is larger than the limit of {limit} bytes")
            }
            BackupError::Malformed { problem, .. } => problem.clone(),
            BackupError::NotABackup { problem, .. } => format!("not an iOS backup: {problem}"),
        }
    }

    fn io(path: &Path, source: std::io::Error) -> Self {
        BackupError::Io {
            path: path.to_path_buf(),
            source,
        }
    }
}

/// Read a whole file, refusing files larger than `limit` bytes (also if it grows meanwhile).
pub fn read_capped(path: &Path, limit: u64) -> Result<Vec<u8>, BackupError> {
    let (file, len) = open_capped(path, limit)?;
    let mut buf = Vec::with_capacity(usize::try_from(len).unwrap_or(0));
    file.take(limit.saturating_add(1))
        .read_to_end(&mut buf)
        .map_err(|e| BackupError::io(path, e))?;
    if buf.len() as u64 > limit {
        return Err(BackupError::TooLarge {
            path: path.to_path_buf(),
            size: buf.len() as u64,
            limit,
        });
    }
    Ok(buf)
}

/// Open a file of the backup for reading. On Linux it is opened with `O_NOATIME` so that
/// reading evidence leaves its access time as it was (only the file's owner may ask for
/// that: on a refusal it is opened without).
pub fn open_evidence(path: &Path) -> std::io::Result<fs::File> {
    #[cfg(any(target_os = "linux", target_os = "android"))]
    {
        use rustix::fs::{open, Mode, OFlags};
        let flags = OFlags::RDONLY | OFlags::CLOEXEC | OFlags::NOCTTY;
        let refused = std::sync::atomic::AtomicBool::new(false);
        open_noatime(|f| open(path, flags | f, Mode::empty()), &refused)
    }
    #[cfg(not(any(target_os = "linux", target_os = "android")))]
    fs::File::open(path)
}

/// `open(O_NOATIME)` unless `refused` says it was refused before; on a refusal (only the
/// file's owner may ask for it), open without and remember that in `refused`.
#[cfg(any(target_os = "linux", target_os = "android"))]
pub(crate) fn open_noatime(
    open: impl Fn(rustix::fs::OFlags) -> rustix::io::Result<std::os::fd::OwnedFd>,
    refused: &std::sync::atomic::AtomicBool,
) -> std::io::Result<fs::File> {
    use rustix::fs::OFlags;
    use std::sync::atomic::Ordering::Relaxed;
    if !refused.load(Relaxed) {
        match open(OFlags::NOATIME) {
            Err(rustix::io::Errno::PERM) => refused.store(true, Relaxed),
            r => return Ok(fs::File::from(r?)),
        }
    }
    Ok(fs::File::from(open(OFlags::empty())?))
}

/// Open a regular file of at most `limit` bytes for reading; returns it and its length.
pub fn open_capped(path: &Path, limit: u64) -> Result<(fs::File, u64), BackupError> {
    // Check before opening: opening a FIFO blocks until a writer appears (a hostile
    // backup can hold one), and a device such as /dev/zero never ends.
    let pre = fs::metadata(path).map_err(|e| BackupError::io(path, e))?;
    if !pre.is_file() {
        return Err(BackupError::Malformed {
            path: path.to_path_buf(),
            problem: "not a regular file".into(),
        });
    }
    let file = open_evidence(path).map_err(|e| BackupError::io(path, e))?;
    let meta = file.metadata().map_err(|e| BackupError::io(path, e))?;
    if !meta.is_file() {
        return Err(BackupError::Malformed {
            path: path.to_path_buf(),
            problem: "not a regular file".into(),
        });
    }
    if meta.len() > limit {
        return Err(BackupError::TooLarge {
            path: path.to_path_buf(),
            size: meta.len(),
            limit,
        });
    }
    Ok((file, meta.len()))
}

/// `pread` until `buf` is full (an early end of file is an error).
pub fn read_exact_at(file: &std::fs::File, buf: &mut [u8], off: u64) -> std::io::Result<()> {
    #[cfg(unix)]
    {
        std::os::unix::fs::FileExt::read_exact_at(file, buf, off)
    }
    #[cfg(windows)]
    {
        let mut done = 0;
        while done < buf.len() {
            let n = std::os::windows::fs::FileExt::seek_read(
                file,
                &mut buf[done..],
                off + done as u64,
            )?;
            if n == 0 {
                return Err(std::io::ErrorKind::UnexpectedEof.into());
            }
            done += n;
        }
        Ok(())
    }
}

fn is_file(p: &Path) -> bool {
    fs::metadata(p).map(|m| m.is_file()).unwrap_or(false)
}

/// Does `dir` hold a file a backup folder has (Manifest.plist, Manifest.db, Manifest.mbdb
/// or Info.plist)?
pub fn is_backup_folder(dir: &Path) -> bool {
    has_backup_marker(dir)
}

fn has_backup_marker(dir: &Path) -> bool {
    [
        "Manifest.plist",
        "Manifest.db",
        "Manifest.mbdb",
        "Info.plist",
    ]
    .iter()
    .any(|n| is_file(&dir.join(n)))
}

/// What a path given by the user turned out to be.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Located {
    /// One backup folder.
    Single(PathBuf),
    /// A folder holding backups, one or two levels down (a `MobileSync/Backup` or a
    /// `MobileSync` folder), sorted by folder path; one entry when it holds only one.
    Collection(Vec<CollectionEntry>),
    /// A regular file: a Manifest.plist on its own, whatever its name (see
    /// [`Backup::open_manifest`]).
    File(PathBuf),
}

/// One backup inside a folder of backups, with what its plists say about it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CollectionEntry {
    pub path: PathBuf,
    /// Info.plist `Unique Identifier`, else Manifest.plist Lockdown `UniqueDeviceID`, else the folder name.
    pub udid: Option<String>,
    pub device_name: Option<String>,
    /// Info.plist `Last Backup Date`, else Manifest.plist `Date` (RFC 3339).
    pub date: Option<String>,
    /// Manifest.plist `IsEncrypted`.
    pub encrypted: Option<bool>,
    /// Why some of the above could not be read (unreadable or malformed plists).
    pub problems: Vec<String>,
}

/// Most backup folders a collection lists (beyond, the rest are left out).
const MAX_COLLECTION: usize = 100_000;

/// Decide whether `path` is a backup folder, a folder of backups (backups one level down,
/// else two levels down, as in `MobileSync/Backup/<UDID>` given `MobileSync`), or a file.
/// At most [`MAX_SCAN_ENTRIES`] folder entries are looked at in all; no link is followed
/// below the first level, and a backup's own folders are never entered.
pub fn locate(path: &Path) -> Result<Located, BackupError> {
    let meta = fs::metadata(path).map_err(|e| BackupError::io(path, e))?;
    if meta.is_file() {
        return Ok(Located::File(path.to_path_buf()));
    }
    if !meta.is_dir() {
        return Err(BackupError::NotABackup {
            path: path.to_path_buf(),
            problem: "not a folder or a regular file".into(),
        });
    }
    if has_backup_marker(path) {
        return Ok(Located::Single(path.to_path_buf()));
    }
    let mut budget = MAX_SCAN_ENTRIES;
    let Subfolders {
        backups: mut found,
        others,
        plists,
    } = backups_in(path, &mut budget, true)?;
    if found.is_empty() {
        // Two levels down: the folders of the folders that are not backups. A folder that
        // cannot be listed there is passed over (it is not the one the user named).
        for dir in others {
            if budget == 0 || found.len() >= MAX_COLLECTION {
                break;
            }
            if let Ok(more) = backups_in(&dir, &mut budget, false) {
                found.extend(more.backups);
            }
        }
    }
    if found.is_empty() {
        let hint = match plists {
            true => {
                "; a Manifest.plist on its own (whatever its name) is read by `auditor info FILE`"
            }
            false => "",
        };
        return Err(BackupError::NotABackup {
            path: path.to_path_buf(),
            problem: format!("no Manifest.plist, Manifest.db, Manifest.mbdb or Info.plist here or in the folders one or two levels down{hint}"),
        });
    }
    found.sort();
    found.truncate(MAX_COLLECTION);
    Ok(Located::Collection(
        found.into_iter().map(|p| collection_entry(&p)).collect(),
    ))
}

/// What a folder holds, as [`locate`] looks at it.
struct Subfolders {
    /// Sub-folders that are backups.
    backups: Vec<PathBuf>,
    /// Sub-folders that are not.
    others: Vec<PathBuf>,
    /// Whether some regular file is named `*.plist` (a Manifest.plist kept on its own?).
    plists: bool,
}

/// The sub-folders of `dir` that are backups, and those that are not; `budget` counts down
/// the entries looked at. With `follow`, links to folders count (the user's own layout);
/// without, only real folders do (two levels down, nothing is reached through a link).
fn backups_in(dir: &Path, budget: &mut usize, follow: bool) -> Result<Subfolders, BackupError> {
    let mut backups = Vec::new();
    let mut others = Vec::new();
    let mut plists = false;
    folder::list(dir, |name, kind| {
        if *budget == 0 {
            return Ok(());
        }
        *budget -= 1;
        if kind == folder::EntryType::File {
            plists |= name.to_string_lossy().ends_with(".plist");
            return Ok(());
        }
        let p = dir.join(name);
        let is_dir = match kind {
            folder::EntryType::Dir => true,
            folder::EntryType::Symlink if follow => {
                fs::metadata(&p).map(|m| m.is_dir()).unwrap_or(false)
            }
            _ => false,
        };
        if !is_dir {
            return Ok(());
        }
        if has_backup_marker(&p) {
            if backups.len() < MAX_COLLECTION {
                backups.push(p);
            }
        } else if others.len() < MAX_COLLECTION {
            others.push(p);
        }
        Ok(())
    })?;
    Ok(Subfolders {
        backups,
        others,
        plists,
    })
}

fn collection_entry(dir: &Path) -> CollectionEntry {
    let mut problems = Vec::new();
    let info = read_optional(&dir.join("Info.plist"), InfoPlist::parse).unwrap_or_else(|e| {
        problems.push(e.to_string());
        None
    });
    let manifest =
        read_optional(&dir.join("Manifest.plist"), ManifestPlist::parse).unwrap_or_else(|e| {
            problems.push(e.to_string());
            None
        });
    let folder = dir.file_name().map(|n| n.to_string_lossy().into_owned());
    let udid = info
        .as_ref()
        .and_then(|i| i.unique_identifier.clone())
        .or_else(|| {
            manifest
                .as_ref()
                .and_then(|m| m.lockdown.unique_device_id.clone())
        })
        .or(folder);
    let device_name = info
        .as_ref()
        .and_then(|i| i.device_name.clone())
        .or_else(|| {
            manifest
                .as_ref()
                .and_then(|m| m.lockdown.device_name.clone())
        });
    let date = info
        .as_ref()
        .and_then(|i| i.last_backup_date.clone())
        .or_else(|| manifest.as_ref().and_then(|m| m.date.clone()));
    let encrypted = manifest.as_ref().and_then(|m| m.is_encrypted);
    CollectionEntry {
        path: dir.to_path_buf(),
        udid,
        device_name,
        date,
        encrypted,
        problems,
    }
}

/// Read and parse a plist when the file exists; `Ok(None)` when it does not.
fn read_optional<T>(
    path: &Path,
    parse: fn(&[u8]) -> Result<T, String>,
) -> Result<Option<T>, BackupError> {
    match fs::metadata(path) {
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(BackupError::io(path, e)),
        Ok(_) => {}
    }
    let bytes = read_capped(path, MAX_PLIST_BYTES)?;
    parse(&bytes)
        .map(Some)
        .map_err(|problem| BackupError::Malformed {
            path: path.to_path_buf(),
            problem,
        })
}

/// [`read_optional`] of `dir/name`, where a plist that does not parse (or is too large) is
/// noted in `damaged` and read as absent; an I/O error still fails.
fn read_or_note<T>(
    dir: &Path,
    name: &'static str,
    parse: fn(&[u8]) -> Result<T, String>,
    damaged: &mut Vec<(&'static str, String)>,
) -> Result<Option<T>, BackupError> {
    match read_optional(&dir.join(name), parse) {
        Err(BackupError::Malformed { problem, .. }) => {
            damaged.push((name, problem));
            Ok(None)
        }
        Err(e @ BackupError::TooLarge { .. }) => {
            damaged.push((name, e.to_string()));
            Ok(None)
        }
        other => other,
    }
}

/// What the first bytes of Manifest.db say.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum DbState {
    /// Starts with `SQLite format 3\0`.
    Plaintext,
    /// Not SQLite, non-empty and a multiple of 16 bytes: AES-CBC ciphertext (iOS ≥ 10.2 encrypted).
    Ciphertext,
    /// Zero bytes.
    Empty,
    /// Neither (too short, or not block-aligned: truncated or foreign).
    Unknown,
}

/// Which file index the backup has.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum IndexKind {
    /// iOS ≥ 10.
    ManifestDb {
        path: PathBuf,
        state: DbState,
        len: u64,
    },
    /// iOS 4–9.
    ManifestMbdb { path: PathBuf, len: u64 },
    /// No index file.
    None,
}

/// How payload files are stored.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Layout {
    /// `<xx>/<fileID>` (iOS ≥ 10).
    Hashed,
    /// `<fileID>` at the top (iOS 4–9).
    Flat,
    /// Both kinds present (unexpected).
    Mixed,
    /// No payload files and no payload folders found.
    Unknown,
}

/// What the user gave: a backup folder, or a Manifest.plist on its own.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Input {
    /// A backup folder (the `<UDID>` folder).
    #[default]
    BackupFolder,
    /// A Manifest.plist file alone (any name): no Info.plist, Status.plist, index or
    /// payloads are read.
    ManifestPlist,
}

/// What a command that needs a whole backup says of a file given instead of a folder.
pub const FILE_NOT_FOLDER: &str = "a file, not a backup folder: pass the backup folder (the <UDID> folder holding Manifest.plist, Manifest.db and the payload folders); a Manifest.plist on its own is read only by `auditor info` and `auditor key`";

/// An opened backup folder (or a Manifest.plist alone): its plists, index kind and layout.
/// Read-only.
#[derive(Debug, Clone)]
pub struct Backup {
    /// The backup folder; with [`Input::ManifestPlist`], the file itself.
    pub root: PathBuf,
    /// A folder, or a Manifest.plist on its own.
    pub input: Input,
    /// `None` when Manifest.plist is absent (e.g. MVT's cut-down test backup).
    pub manifest: Option<ManifestPlist>,
    /// `None` when Info.plist is absent.
    pub info: Option<InfoPlist>,
    /// `None` when Status.plist is absent.
    pub status: Option<StatusPlist>,
    pub index: IndexKind,
    pub layout: Layout,
    /// Observations about the folder (absent files, leftovers); never fatal.
    pub notes: Vec<String>,
    /// Info.plist or Status.plist present but unreadable: (file name, problem). The backup
    /// is read without it (a finding, not a failure: the keybag and index do not need them).
    pub damaged: Vec<(&'static str, String)>,
}

fn is_lower_hex(s: &str, n: usize) -> bool {
    s.len() == n
        && s.bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
}

fn db_state(path: &Path, len: u64) -> Result<DbState, BackupError> {
    if len == 0 {
        return Ok(DbState::Empty);
    }
    let mut head = [0u8; 16];
    let mut f = open_evidence(path).map_err(|e| BackupError::io(path, e))?;
    let mut got = 0;
    while got < head.len() {
        let n = f
            .read(&mut head[got..])
            .map_err(|e| BackupError::io(path, e))?;
        if n == 0 {
            break;
        }
        got += n;
    }
    Ok(if got == 16 && &head == SQLITE_MAGIC {
        DbState::Plaintext
    } else if got == 16 && len % 16 == 0 {
        DbState::Ciphertext
    } else {
        DbState::Unknown
    })
}

impl Backup {
    /// Open a backup folder: read the three plists (each optional), find the index and
    /// the layout. Fails when a plist present does not parse, or when there is neither a
    /// Manifest.plist nor an index.
    pub fn open(path: &Path) -> Result<Backup, BackupError> {
        let meta = fs::metadata(path).map_err(|e| BackupError::io(path, e))?;
        if !meta.is_dir() {
            return Err(BackupError::NotABackup {
                path: path.to_path_buf(),
                problem: if meta.is_file() {
                    FILE_NOT_FOLDER.into()
                } else {
                    "not a folder".into()
                },
            });
        }
        let root = path.to_path_buf();
        let mut notes = Vec::new();
        let manifest = read_optional(&root.join("Manifest.plist"), ManifestPlist::parse)?;
        let mut damaged = Vec::new();
        let info = read_or_note(&root, "Info.plist", InfoPlist::parse, &mut damaged)?;
        let status = read_or_note(&root, "Status.plist", StatusPlist::parse, &mut damaged)?;

        let db = root.join("Manifest.db");
        let mbdb = root.join("Manifest.mbdb");
        let file_len = |p: &Path| {
            fs::metadata(p)
                .ok()
                .filter(|m| m.is_file())
                .map(|m| m.len())
        };
        let index = match (file_len(&db), file_len(&mbdb)) {
            (Some(len), other) => {
                if other.is_some() {
                    notes.push(
                        "both Manifest.db and Manifest.mbdb are present; Manifest.db is used"
                            .into(),
                    );
                }
                IndexKind::ManifestDb {
                    state: db_state(&db, len)?,
                    path: db,
                    len,
                }
            }
            (None, Some(len)) => IndexKind::ManifestMbdb { path: mbdb, len },
            (None, None) => IndexKind::None,
        };
        if manifest.is_none() && index == IndexKind::None {
            return Err(BackupError::NotABackup {
                path: root,
                problem: "neither Manifest.plist nor a file index (Manifest.db or Manifest.mbdb) is present".into(),
            });
        }
        for (present, name) in [
            (manifest.is_some(), "Manifest.plist"),
            (info.is_some(), "Info.plist"),
            (status.is_some(), "Status.plist"),
        ] {
            if !present && !damaged.iter().any(|(n, _)| *n == name) {
                notes.push(format!("{name} is absent"));
            }
        }
        if index == IndexKind::None {
            notes.push("no file index (Manifest.db or Manifest.mbdb) is present".into());
        }
        if let Some(len) = file_len(&root.join("Manifest.db-wal")) {
            if len > 0 {
                notes.push(format!(
                    "Manifest.db-wal holds {len} bytes; its changes are not read (the index is opened immutable)"
                ));
            }
        }
        if fs::metadata(root.join("Snapshot"))
            .map(|m| m.is_dir())
            .unwrap_or(false)
        {
            notes.push("a Snapshot folder is present (leftover of an interrupted backup?)".into());
        }
        let layout = detect_layout(&root)?;
        Ok(Backup {
            root,
            input: Input::BackupFolder,
            manifest,
            info,
            status,
            index,
            layout,
            notes,
            damaged,
        })
    }

    /// Read a Manifest.plist on its own (any file name; e.g. when only the keybag is at
    /// hand): its device fields, encryption and keybag. Nothing beside it is read: there is
    /// no Info.plist, Status.plist, index or payload, and none is said to be missing. A file
    /// that does not parse, or that has none of Manifest.plist's keys, is refused.
    pub fn open_manifest(path: &Path) -> Result<Backup, BackupError> {
        let bytes = read_capped(path, MAX_PLIST_BYTES)?;
        let malformed = |problem: String| BackupError::Malformed {
            path: path.to_path_buf(),
            problem,
        };
        let manifest = ManifestPlist::parse(&bytes).map_err(malformed)?;
        let bare = ManifestPlist {
            problems: manifest.problems.clone(),
            ..ManifestPlist::default()
        };
        if manifest == bare {
            return Err(malformed(
                "not a Manifest.plist: none of BackupKeyBag, IsEncrypted, Lockdown, Date, Version or Applications is present".into(),
            ));
        }
        Ok(Backup {
            root: path.to_path_buf(),
            input: Input::ManifestPlist,
            manifest: Some(manifest),
            info: None,
            status: None,
            index: IndexKind::None,
            layout: Layout::Unknown,
            notes: Vec::new(),
            damaged: Vec::new(),
        })
    }

    /// The Manifest.plist read: `<root>/Manifest.plist`, or the file given alone.
    pub fn manifest_path(&self) -> PathBuf {
        match self.input {
            Input::BackupFolder => self.root.join("Manifest.plist"),
            Input::ManifestPlist => self.root.clone(),
        }
    }

    /// Read the index file (Manifest.db or Manifest.mbdb) into memory, up to `max` bytes.
    pub fn read_index_bytes(&self, max: u64) -> Result<Vec<u8>, BackupError> {
        match &self.index {
            IndexKind::ManifestDb { path, .. } | IndexKind::ManifestMbdb { path, .. } => {
                read_capped(path, max)
            }
            IndexKind::None => Err(BackupError::NotABackup {
                path: self.root.clone(),
                problem: "no file index (Manifest.db or Manifest.mbdb) is present".into(),
            }),
        }
    }

    /// Whether payloads are expected flat: flat layout, or no layout evidence and an mbdb index.
    fn prefers_flat(&self) -> bool {
        match self.layout {
            Layout::Flat => true,
            Layout::Hashed => false,
            Layout::Mixed | Layout::Unknown => matches!(self.index, IndexKind::ManifestMbdb { .. }),
        }
    }

    fn hashed_path(&self, id: &FileId) -> PathBuf {
        self.root.join(id.prefix()).join(id.as_str())
    }

    /// Where the payload of `id` is expected for this backup's layout (it may not exist).
    pub fn expected_content_path(&self, id: &FileId) -> PathBuf {
        if self.prefers_flat() {
            self.root.join(id.as_str())
        } else {
            self.hashed_path(id)
        }
    }

    /// The payload file of `id` if it exists as a regular file (symlinks are not followed):
    /// the expected place for the layout first, then the other one.
    pub fn content_path(&self, id: &FileId) -> Option<PathBuf> {
        let flat = self.root.join(id.as_str());
        let hashed = self.hashed_path(id);
        let order = if self.prefers_flat() {
            [flat, hashed]
        } else {
            [hashed, flat]
        };
        order.into_iter().find(|p| {
            fs::symlink_metadata(p)
                .map(|m| m.is_file())
                .unwrap_or(false)
        })
    }
}

fn detect_layout(root: &Path) -> Result<Layout, BackupError> {
    let mut hashed = false;
    let mut flat = false;
    folder::list(root, |name, kind| {
        if let Some(name) = name.to_str() {
            match kind {
                folder::EntryType::Dir if is_lower_hex(name, 2) => hashed = true,
                folder::EntryType::File if is_lower_hex(name, 40) => flat = true,
                _ => {}
            }
        }
        Ok(())
    })?;
    Ok(match (hashed, flat) {
        (true, true) => Layout::Mixed,
        (true, false) => Layout::Hashed,
        (false, true) => Layout::Flat,
        (false, false) => Layout::Unknown,
    })
}

#[cfg(test)]
mod tests;
