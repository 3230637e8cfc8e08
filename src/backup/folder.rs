//! Folder listings of the evidence: each entry's name and type, access times left as they were.

use super::BackupError;
use std::ffi::OsStr;
use std::fs;
use std::path::Path;

/// What a folder entry is, by the entry itself (a symbolic link is a link, never followed).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum EntryType {
    File,
    Dir,
    Symlink,
    Other,
}

/// A listed folder, still open.
#[derive(Debug)]
pub(crate) struct Listed {
    /// The folder, open for reading: on Unix its entries can be opened relative to it.
    #[cfg(unix)]
    pub(crate) handle: fs::File,
}

/// Call `each` with every entry of the folder `path` (not `.` or `..`), in the order the
/// file system gives them, and return the folder still open. On Linux the folder is opened
/// with `O_NOATIME` where allowed (see [`super::open_noatime`]), so that listing the
/// evidence leaves its access time as it was; elsewhere the standard listing is used.
pub(crate) fn list(
    path: &Path,
    mut each: impl FnMut(&OsStr, EntryType) -> Result<(), BackupError>,
) -> Result<Listed, BackupError> {
    let io = |e: std::io::Error| BackupError::io(path, e);
    #[cfg(any(target_os = "linux", target_os = "android"))]
    {
        use rustix::fs::{open, statat, AtFlags, Dir, FileType, Mode, OFlags};
        use std::os::unix::ffi::OsStrExt;
        let refused = std::sync::atomic::AtomicBool::new(false);
        let flags = OFlags::RDONLY | OFlags::DIRECTORY | OFlags::CLOEXEC;
        let handle =
            super::open_noatime(|f| open(path, flags | f, Mode::empty()), &refused).map_err(io)?;
        // A duplicate shares the open folder (and its O_NOATIME) with `handle`.
        let mut dir = Dir::new(handle.try_clone().map_err(io)?).map_err(|e| io(e.into()))?;
        while let Some(entry) = dir.read() {
            let entry = entry.map_err(|e| io(e.into()))?;
            let name = entry.file_name();
            if matches!(name.to_bytes(), b"." | b"..") {
                continue;
            }
            let os = OsStr::from_bytes(name.to_bytes());
            let ft = match entry.file_type() {
                // Some file systems leave the type out of the listing: ask the entry.
                FileType::Unknown => statat(&handle, name, AtFlags::SYMLINK_NOFOLLOW)
                    .map(|st| FileType::from_raw_mode(st.st_mode))
                    .map_err(|e| BackupError::io(&path.join(os), e.into()))?,
                t => t,
            };
            let kind = match ft {
                FileType::RegularFile => EntryType::File,
                FileType::Directory => EntryType::Dir,
                FileType::Symlink => EntryType::Symlink,
                _ => EntryType::Other,
            };
            each(os, kind)?;
        }
        Ok(Listed { handle })
    }
    #[cfg(not(any(target_os = "linux", target_os = "android")))]
    {
        for entry in fs::read_dir(path).map_err(io)? {
            let entry = entry.map_err(io)?;
            let ft = entry
                .file_type()
                .map_err(|e| BackupError::io(&entry.path(), e))?;
            let kind = if ft.is_file() {
                EntryType::File
            } else if ft.is_dir() {
                EntryType::Dir
            } else if ft.is_symlink() {
                EntryType::Symlink
            } else {
                EntryType::Other
            };
            each(&entry.file_name(), kind)?;
        }
        Ok(Listed {
            #[cfg(unix)]
            handle: fs::File::open(path).map_err(io)?,
        })
    }
}

/// Open the folder `path` without listing it (its entries are then opened by name). On
/// Linux with `O_NOATIME` where allowed, as [`list`] does.
pub(crate) fn open(path: &Path) -> Result<Listed, BackupError> {
    let io = |e: std::io::Error| BackupError::io(path, e);
    #[cfg(any(target_os = "linux", target_os = "android"))]
    {
        use rustix::fs::{open, Mode, OFlags};
        let refused = std::sync::atomic::AtomicBool::new(false);
        let flags = OFlags::RDONLY | OFlags::DIRECTORY | OFlags::CLOEXEC | OFlags::NOFOLLOW;
        let handle =
            super::open_noatime(|f| open(path, flags | f, Mode::empty()), &refused).map_err(io)?;
        Ok(Listed { handle })
    }
    #[cfg(not(any(target_os = "linux", target_os = "android")))]
    {
        if !fs::symlink_metadata(path).map_err(io)?.is_dir() {
            return Err(io(std::io::Error::other("not a folder")));
        }
        Ok(Listed {
            #[cfg(unix)]
            handle: fs::File::open(path).map_err(io)?,
        })
    }
}
