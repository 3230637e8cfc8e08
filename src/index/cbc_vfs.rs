//! A read-only SQLite VFS over Manifest.db on disk: plain, or encrypted with pages decrypted as read.
//!
//! An encrypted backup's Manifest.db is one AES-256-CBC stream (zero IV, PKCS#7). CBC
//! decrypts at any block given the ciphertext block before it, so SQLite can read the
//! database in place, page by page, from the ciphertext file: no decrypted copy of the
//! whole index is ever held (real iOS 26 indexes reach 1.55 GB) and nothing is written to
//! disk. SQLite's page cache (a few MB per connection) holds the only plaintext pages.
//! A plain Manifest.db is read through the same VFS without decryption, so that every
//! read of the evidence goes through [`crate::backup::open_evidence`] (no access-time
//! update where the system allows it) and SQLite's own file layer never touches it.
//!
//! The VFS `auditor-cbc` is registered once and serves only files registered here (a
//! [`Registration`] names the file, its key if any and the database length); it opens
//! nothing else (no journal, WAL or shared memory: those do not exist for it), never
//! writes, and reports the file as immutable, so SQLite takes no locks. Header bytes
//! 18–19 (WAL mode = 2) read as 1 (rollback journal): a WAL beside the file is not read,
//! as with `immutable=1`.

use crate::crypto::{cbc, Key32};
use rusqlite::ffi;
use std::collections::HashMap;
use std::ffi::{c_char, c_int, c_void, CStr};
use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, OnceLock};
use zeroize::Zeroize;

/// The VFS name given to SQLite.
pub(crate) const VFS_NAME: &str = "auditor-cbc";
const VFS_CNAME: &CStr = c"auditor-cbc";

/// A database SQLite may open through the VFS.
pub(crate) struct Target {
    pub(crate) path: PathBuf,
    /// The AES-256-CBC key of an encrypted file; `None` for a plain database, read as is.
    pub(crate) key: Option<Key32>,
    /// File length (encrypted: a non-zero multiple of 16).
    pub(crate) ct_len: u64,
    /// Plaintext database length (`ct_len` minus the PKCS#7 padding, when there is one).
    pub(crate) plain_len: u64,
}

type Registry = Mutex<HashMap<String, Arc<Target>>>;

fn registry() -> &'static Registry {
    static R: OnceLock<Registry> = OnceLock::new();
    R.get_or_init(Default::default)
}

/// A registered target: its name opens it through the VFS until this is dropped.
pub(crate) struct Registration {
    name: String,
}

impl Registration {
    /// Register `target`; fails only when the VFS cannot be registered with SQLite.
    pub(crate) fn new(target: Target) -> Result<Registration, String> {
        ensure_vfs()?;
        static NEXT: AtomicU64 = AtomicU64::new(0);
        let name = format!(
            "auditor-cbc-{}-{}",
            std::process::id(),
            NEXT.fetch_add(1, Ordering::Relaxed)
        );
        registry()
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .insert(name.clone(), Arc::new(target));
        Ok(Registration { name })
    }

    /// The name to open with the VFS.
    pub(crate) fn name(&self) -> &str {
        &self.name
    }
}

impl Drop for Registration {
    fn drop(&mut self) {
        registry()
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .remove(&self.name);
    }
}

/// Register the VFS with SQLite once (not as the default VFS).
fn ensure_vfs() -> Result<(), String> {
    static DONE: OnceLock<Result<(), String>> = OnceLock::new();
    DONE.get_or_init(|| {
        // SAFETY: `sqlite3_vfs_find(NULL)` returns the default VFS (or NULL), a static
        // object; it is only copied. The new VFS is leaked, so it lives as long as the
        // process, as SQLite requires of a registered VFS; its functions below only touch
        // what SQLite hands them.
        unsafe {
            let default = ffi::sqlite3_vfs_find(std::ptr::null());
            if default.is_null() {
                return Err("SQLite has no default VFS".to_string());
            }
            let mut v: ffi::sqlite3_vfs = *default;
            v.iVersion = v.iVersion.min(2);
            v.szOsFile = std::mem::size_of::<CbcFile>() as c_int;
            v.mxPathname = 512;
            v.pNext = std::ptr::null_mut();
            v.zName = VFS_CNAME.as_ptr();
            v.xOpen = Some(x_open);
            v.xDelete = Some(x_delete);
            v.xAccess = Some(x_access);
            v.xFullPathname = Some(x_full_pathname);
            if v.iVersion < 3 {
                v.xSetSystemCall = None;
                v.xGetSystemCall = None;
                v.xNextSystemCall = None;
            }
            let leaked: &'static mut ffi::sqlite3_vfs = Box::leak(Box::new(v));
            let rc = ffi::sqlite3_vfs_register(leaked, 0);
            if rc != ffi::SQLITE_OK {
                return Err(format!(
                    "cannot register the decrypting VFS (SQLite code {rc})"
                ));
            }
            Ok(())
        }
    })
    .clone()
}

/// The file object SQLite allocates (`szOsFile` bytes) for each open.
#[repr(C)]
struct CbcFile {
    base: ffi::sqlite3_file,
    state: *mut FileState,
}

struct FileState {
    target: Arc<Target>,
    fd: std::fs::File,
    /// Ciphertext of the blocks being decrypted (wiped after every read).
    scratch: Vec<u8>,
}

static METHODS: ffi::sqlite3_io_methods = ffi::sqlite3_io_methods {
    iVersion: 1,
    xClose: Some(x_close),
    xRead: Some(x_read),
    xWrite: Some(x_write),
    xTruncate: Some(x_truncate),
    xSync: Some(x_sync),
    xFileSize: Some(x_file_size),
    xLock: Some(x_lock),
    xUnlock: Some(x_lock),
    xCheckReservedLock: Some(x_check_reserved_lock),
    xFileControl: Some(x_file_control),
    xSectorSize: Some(x_sector_size),
    xDeviceCharacteristics: Some(x_device_characteristics),
    xShmMap: None,
    xShmLock: None,
    xShmBarrier: None,
    xShmUnmap: None,
    xFetch: None,
    xUnfetch: None,
};

unsafe extern "C" fn x_open(
    _vfs: *mut ffi::sqlite3_vfs,
    name: ffi::sqlite3_filename,
    file: *mut ffi::sqlite3_file,
    flags: c_int,
    out_flags: *mut c_int,
) -> c_int {
    let f = file.cast::<CbcFile>();
    // SAFETY: SQLite passes `szOsFile` writable bytes at `file`; until `pMethods` is set
    // SQLite will not call `xClose` on it.
    unsafe {
        (*f).base.pMethods = std::ptr::null();
        (*f).state = std::ptr::null_mut();
    }
    if name.is_null()
        || flags & ffi::SQLITE_OPEN_MAIN_DB == 0
        || flags & (ffi::SQLITE_OPEN_READWRITE | ffi::SQLITE_OPEN_CREATE) != 0
    {
        return ffi::SQLITE_CANTOPEN;
    }
    // SAFETY: a non-null `name` is a NUL-terminated string from SQLite.
    let Ok(name) = unsafe { CStr::from_ptr(name) }.to_str() else {
        return ffi::SQLITE_CANTOPEN;
    };
    let Some(target) = registry()
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .get(name)
        .cloned()
    else {
        return ffi::SQLITE_CANTOPEN;
    };
    let Ok(fd) = crate::backup::open_evidence(&target.path) else {
        return ffi::SQLITE_CANTOPEN;
    };
    let state = Box::into_raw(Box::new(FileState {
        target,
        fd,
        scratch: Vec::new(),
    }));
    // SAFETY: as above; `state` is a fresh box, released in `x_close`.
    unsafe {
        (*f).state = state;
        (*f).base.pMethods = &METHODS;
        if !out_flags.is_null() {
            *out_flags = ffi::SQLITE_OPEN_READONLY | ffi::SQLITE_OPEN_MAIN_DB;
        }
    }
    ffi::SQLITE_OK
}

unsafe extern "C" fn x_delete(_: *mut ffi::sqlite3_vfs, _: *const c_char, _: c_int) -> c_int {
    ffi::SQLITE_IOERR_DELETE
}

/// Nothing else exists (no journal, no WAL): SQLite reads the database alone.
unsafe extern "C" fn x_access(
    _: *mut ffi::sqlite3_vfs,
    _: *const c_char,
    _: c_int,
    out: *mut c_int,
) -> c_int {
    if !out.is_null() {
        // SAFETY: SQLite passes a writable int.
        unsafe { *out = 0 };
    }
    ffi::SQLITE_OK
}

/// Names are registry keys, not paths: copied unchanged.
unsafe extern "C" fn x_full_pathname(
    _: *mut ffi::sqlite3_vfs,
    name: *const c_char,
    n_out: c_int,
    out: *mut c_char,
) -> c_int {
    if name.is_null() || out.is_null() {
        return ffi::SQLITE_CANTOPEN;
    }
    // SAFETY: `name` is NUL-terminated; `out` has `n_out` bytes (SQLite's contract).
    unsafe {
        let bytes = CStr::from_ptr(name).to_bytes_with_nul();
        if bytes.len() > usize::try_from(n_out).unwrap_or(0) {
            return ffi::SQLITE_CANTOPEN;
        }
        std::ptr::copy_nonoverlapping(bytes.as_ptr().cast::<c_char>(), out, bytes.len());
    }
    ffi::SQLITE_OK
}

/// The state behind a file SQLite opened through [`x_open`].
///
/// # Safety
/// `file` must be a file opened by [`x_open`] and not yet closed.
unsafe fn state<'a>(file: *mut ffi::sqlite3_file) -> Option<&'a mut FileState> {
    // SAFETY: per the contract, `file` is a `CbcFile` whose `state` is null or live.
    unsafe { (*file.cast::<CbcFile>()).state.as_mut() }
}

unsafe extern "C" fn x_close(file: *mut ffi::sqlite3_file) -> c_int {
    let f = file.cast::<CbcFile>();
    // SAFETY: `state` came from `Box::into_raw` in `x_open` and is released once.
    unsafe {
        if !(*f).state.is_null() {
            let mut st = Box::from_raw((*f).state);
            st.scratch.zeroize();
            (*f).state = std::ptr::null_mut();
        }
    }
    ffi::SQLITE_OK
}

unsafe extern "C" fn x_read(
    file: *mut ffi::sqlite3_file,
    buf: *mut c_void,
    amt: c_int,
    offset: ffi::sqlite3_int64,
) -> c_int {
    // SAFETY: SQLite calls this on a file opened by `x_open`.
    let Some(st) = (unsafe { state(file) }) else {
        return ffi::SQLITE_IOERR_READ;
    };
    let (Ok(amt), Ok(start)) = (usize::try_from(amt), u64::try_from(offset)) else {
        return ffi::SQLITE_IOERR_READ;
    };
    // SAFETY: SQLite passes `amt` writable bytes at `buf`.
    let out = unsafe { std::slice::from_raw_parts_mut(buf.cast::<u8>(), amt) };
    read_plain(st, start, out)
}

/// Fill `out` with plaintext from `start`: decrypt the covering blocks (with the
/// ciphertext block before them as IV); past the end, zeros and a short read.
fn read_plain(st: &mut FileState, start: u64, out: &mut [u8]) -> c_int {
    const B: u64 = cbc::BLOCK as u64;
    let t = &st.target;
    let want_end = start.saturating_add(out.len() as u64);
    let end = want_end.min(t.plain_len);
    if start >= end {
        out.fill(0);
        return ffi::SQLITE_IOERR_SHORT_READ;
    }
    let got = (end - start) as usize;
    let Some(key) = &t.key else {
        if crate::backup::read_exact_at(&st.fd, &mut out[..got], start).is_err() {
            return ffi::SQLITE_IOERR_READ;
        }
        return finish_read(out, start, end, want_end);
    };
    // SQLite reads whole pages: whole blocks, read with the block before them (their IV)
    // in one system call straight into `out` and decrypted there.
    #[cfg(unix)]
    if start % B == 0 && got % cbc::BLOCK == 0 && end == want_end && end <= t.ct_len {
        let data = &mut out[..got];
        let mut prev = [0u8; cbc::BLOCK];
        let read = if start == 0 {
            crate::backup::read_exact_at(&st.fd, data, 0).is_ok()
        } else {
            let mut bufs = [
                std::io::IoSliceMut::new(&mut prev),
                std::io::IoSliceMut::new(data),
            ];
            // A short read (rare) is read again below the general way.
            rustix::io::preadv(&st.fd, &mut bufs, start - B).ok() == Some(got + cbc::BLOCK)
        };
        if read {
            cbc::decrypt_piece(key, &prev, &mut out[..got]);
            return finish_read(out, start, end, want_end);
        }
    }
    let first = start / B * B;
    let last = end.div_ceil(B).saturating_mul(B).min(t.ct_len);
    let from = first.saturating_sub(B);
    let Ok(n) = usize::try_from(last - from) else {
        return ffi::SQLITE_IOERR_READ;
    };
    st.scratch.resize(n, 0);
    if crate::backup::read_exact_at(&st.fd, &mut st.scratch[..n], from).is_err() {
        st.scratch.zeroize();
        return ffi::SQLITE_IOERR_READ;
    }
    let mut prev = [0u8; cbc::BLOCK];
    let data = if first >= B {
        prev.copy_from_slice(&st.scratch[..cbc::BLOCK]);
        &mut st.scratch[cbc::BLOCK..n]
    } else {
        &mut st.scratch[..n]
    };
    cbc::decrypt_piece(key, &prev, data);
    let skip = (start - first) as usize;
    out[..got].copy_from_slice(&data[skip..skip + got]);
    st.scratch.zeroize();
    finish_read(out, start, end, want_end)
}

/// `out` holds the database's bytes `start..end` of the `start..want_end` asked for: fix
/// the header's journal mode and zero-fill a short read.
fn finish_read(out: &mut [u8], start: u64, end: u64, want_end: u64) -> c_int {
    let got = (end - start) as usize;
    // The header's file-format bytes (18, 19): WAL (2) reads as rollback journal (1).
    for pos in 18u64..20 {
        if (start..end).contains(&pos) {
            let b = &mut out[(pos - start) as usize];
            if *b == 2 {
                *b = 1;
            }
        }
    }
    if end < want_end {
        out[got..].fill(0);
        return ffi::SQLITE_IOERR_SHORT_READ;
    }
    ffi::SQLITE_OK
}

unsafe extern "C" fn x_write(
    _: *mut ffi::sqlite3_file,
    _: *const c_void,
    _: c_int,
    _: ffi::sqlite3_int64,
) -> c_int {
    ffi::SQLITE_READONLY
}

unsafe extern "C" fn x_truncate(_: *mut ffi::sqlite3_file, _: ffi::sqlite3_int64) -> c_int {
    ffi::SQLITE_READONLY
}

unsafe extern "C" fn x_sync(_: *mut ffi::sqlite3_file, _: c_int) -> c_int {
    ffi::SQLITE_OK
}

unsafe extern "C" fn x_file_size(
    file: *mut ffi::sqlite3_file,
    size: *mut ffi::sqlite3_int64,
) -> c_int {
    // SAFETY: SQLite calls this on a file opened by `x_open`, with a writable `size`.
    unsafe {
        let Some(st) = state(file) else {
            return ffi::SQLITE_IOERR_FSTAT;
        };
        let Ok(n) = i64::try_from(st.target.plain_len) else {
            return ffi::SQLITE_IOERR_FSTAT;
        };
        *size = n;
    }
    ffi::SQLITE_OK
}

/// Locks: the file is immutable and only read, so every lock is granted.
unsafe extern "C" fn x_lock(_: *mut ffi::sqlite3_file, _: c_int) -> c_int {
    ffi::SQLITE_OK
}

unsafe extern "C" fn x_check_reserved_lock(_: *mut ffi::sqlite3_file, out: *mut c_int) -> c_int {
    if !out.is_null() {
        // SAFETY: SQLite passes a writable int.
        unsafe { *out = 0 };
    }
    ffi::SQLITE_OK
}

unsafe extern "C" fn x_file_control(_: *mut ffi::sqlite3_file, _: c_int, _: *mut c_void) -> c_int {
    ffi::SQLITE_NOTFOUND
}

unsafe extern "C" fn x_sector_size(_: *mut ffi::sqlite3_file) -> c_int {
    4096
}

unsafe extern "C" fn x_device_characteristics(_: *mut ffi::sqlite3_file) -> c_int {
    ffi::SQLITE_IOCAP_IMMUTABLE
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key() -> Key32 {
        Key32::new([7u8; 32])
    }

    /// Encrypt `plain` to a temporary file and register it.
    fn registered(plain: &[u8]) -> (tempfile::TempDir, Registration) {
        let t = tempfile::tempdir().unwrap();
        let p = t.path().join("db");
        let ct = cbc::encrypt(&key(), plain);
        std::fs::write(&p, &ct).unwrap();
        let r = Registration::new(Target {
            path: p,
            key: Some(key()),
            ct_len: ct.len() as u64,
            plain_len: plain.len() as u64,
        })
        .unwrap();
        (t, r)
    }

    #[test]
    fn reads_any_range_equal_to_the_plaintext() {
        let plain: Vec<u8> = (0..10_000u32).map(|i| (i * 31 % 251) as u8).collect();
        let (_t, r) = registered(&plain);
        let target = registry().lock().unwrap().get(r.name()).cloned().unwrap();
        let mut st = FileState {
            fd: std::fs::File::open(&target.path).unwrap(),
            target,
            scratch: Vec::new(),
        };
        for (start, len) in [
            (0, 1),
            (0, 100),
            (15, 2),
            (16, 16),
            (17, 40),
            (4096, 4096),
            (9990, 10),
        ] {
            let mut out = vec![0xAA; len];
            assert_eq!(read_plain(&mut st, start as u64, &mut out), ffi::SQLITE_OK);
            let mut want = plain[start..start + len].to_vec();
            for pos in 18..20 {
                if (start..start + len).contains(&pos) && want[pos - start] == 2 {
                    want[pos - start] = 1;
                }
            }
            assert_eq!(out, want, "{start}+{len}");
        }
        // Past the end: what exists, then zeros and a short read.
        let mut out = vec![0xAA; 20];
        assert_eq!(
            read_plain(&mut st, 9990, &mut out),
            ffi::SQLITE_IOERR_SHORT_READ
        );
        assert_eq!(&out[..10], &plain[9990..]);
        assert!(out[10..].iter().all(|&b| b == 0));
        let mut out = vec![0xAA; 8];
        assert_eq!(
            read_plain(&mut st, 20_000, &mut out),
            ffi::SQLITE_IOERR_SHORT_READ
        );
        assert!(out.iter().all(|&b| b == 0));
    }

    #[test]
    fn only_registered_names_open_and_registrations_end() {
        let (_t, r) = registered(b"not a database, only bytes");
        let name = r.name().to_string();
        assert!(registry().lock().unwrap().contains_key(&name));
        let flags = rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY;
        let e = rusqlite::Connection::open_with_flags_and_vfs("unregistered", flags, VFS_NAME)
            .and_then(|c| {
                c.query_row("SELECT count(*) FROM sqlite_schema", [], |r| {
                    r.get::<_, i64>(0)
                })
            });
        assert!(e.is_err());
        drop(r);
        assert!(!registry().lock().unwrap().contains_key(&name));
    }
}
