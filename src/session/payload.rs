//! The one way to open a payload and decrypt it, with a typed reason when it cannot be.
//!
//! [`Payloads`] pairs the backup's one listing of the payload folders with the session's
//! class keys. [`Payloads::open`] finds a row's payload in the listing, opens it as evidence
//! (inside its held-open folder: no link followed, `O_NOATIME`, a FIFO does not block,
//! never written) and unwraps the row's file key ([`crate::crypto::WrappedKey::unwrap`]);
//! the [`Payload`] then streams its content (decrypted, PKCS#7 padding checked) or reads it
//! whole. The steps are public for consumers that report each failure on its own (the
//! scan's per-file audit): [`Payloads::find`], [`Payloads::open_listed`], [`Payloads::key`].

use crate::backup::{ContentFile, ContentScan, FileId};
use crate::crypto::cbc::{self, StreamProblem};
use crate::crypto::{BadKeyLength, ClassKeys, CryptoError, Key32, KeyUnavailable};
use crate::index::FileRecord;
use std::fs::File;
use std::io::{self, Read, Write};
use std::path::PathBuf;
use zeroize::Zeroizing;

/// Why a payload cannot be opened or decrypted.
#[derive(Debug)]
pub enum Unavailable {
    /// The row's fileID is not 40 lower-case hex digits: it names no payload.
    BadFileId,
    /// No payload of the row's fileID is on disk.
    Missing,
    /// The payload is listed but cannot be opened (or is no longer a regular file).
    Unreadable(io::Error),
    /// The row's `EncryptionKey` has the wrong length.
    BadKey(BadKeyLength),
    /// The backup is encrypted and was opened without a password: no class keys.
    Locked,
    /// The class key is not at hand (device-bound, not password-wrapped, absent) or does
    /// not unwrap the file key.
    Key(KeyUnavailable),
}

/// The reason in words (what extract reports).
impl std::fmt::Display for Unavailable {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Unavailable::BadFileId => f.write_str("the fileID is not 40 lowercase hex digits"),
            Unavailable::Missing => f.write_str("the payload is not on disk"),
            Unavailable::Unreadable(e) => e.fmt(f),
            Unavailable::BadKey(b) => write!(f, "EncryptionKey is {} bytes, expected 44", b.len),
            Unavailable::Locked => f.write_str("the backup is not unlocked: no class keys"),
            Unavailable::Key(k) => match k {
                KeyUnavailable::DeviceBound(c) => write!(
                    f,
                    "class {c} is bound to the device: its key cannot be had off it"
                ),
                KeyUnavailable::NotPasswordWrapped(c) => {
                    write!(f, "class {c} is not wrapped with the password")
                }
                KeyUnavailable::NoClassKey(c) => write!(f, "class {c} has no key in the keybag"),
                KeyUnavailable::UnwrapFailed(c, e) => {
                    write!(f, "the file key does not unwrap with class key {c}: {e}")
                }
            },
        }
    }
}

impl Unavailable {
    /// A short, stable name of the reason (extract's report uses these).
    pub fn code(&self) -> &'static str {
        match self {
            Unavailable::BadFileId => "bad_file_id",
            Unavailable::Missing => "missing",
            Unavailable::Unreadable(_) => "unreadable",
            Unavailable::BadKey(_) => "bad_key",
            Unavailable::Locked => "locked",
            Unavailable::Key(KeyUnavailable::DeviceBound(_))
            | Unavailable::Key(KeyUnavailable::NotPasswordWrapped(_)) => "device_bound",
            Unavailable::Key(KeyUnavailable::NoClassKey(_)) => "no_class_key",
            Unavailable::Key(KeyUnavailable::UnwrapFailed(..)) => "key_unwrap_failed",
        }
    }
}

/// Opens payloads: the backup's one listing and the session's class keys (cheap to copy,
/// shared by parallel workers).
#[derive(Clone, Copy)]
pub struct Payloads<'a> {
    listing: &'a ContentScan,
    keys: Option<&'a ClassKeys>,
}

impl<'a> Payloads<'a> {
    pub fn new(listing: &'a ContentScan, keys: Option<&'a ClassKeys>) -> Self {
        Payloads { listing, keys }
    }

    /// The listing payloads are found in.
    pub fn listing(&self) -> &'a ContentScan {
        self.listing
    }

    /// Whether there are no class keys (an encrypted backup opened without a password, or
    /// an unencrypted one).
    pub fn is_locked(&self) -> bool {
        self.keys.is_none()
    }

    /// The payload of a row (the layout's expected place first): listed, or found on disk
    /// by name ([`ContentScan::lookup`]).
    pub fn find(&self, rec: &FileRecord) -> Result<ContentFile, Unavailable> {
        let id = FileId::parse_bytes(&rec.file_id).ok_or(Unavailable::BadFileId)?;
        self.listing
            .lookup(&id)
            .map_err(Unavailable::Unreadable)?
            .ok_or(Unavailable::Missing)
    }

    /// Open a found payload, without a key yet (see [`Payload::with_key`]).
    pub fn open_listed(&self, c: &ContentFile) -> Result<Payload<'a>, Unavailable> {
        let (file, stored) = self.listing.open(c).map_err(Unavailable::Unreadable)?;
        Ok(Payload {
            listing: self.listing,
            at: *c,
            file,
            stored,
            key: None,
        })
    }

    /// The file key of a row: `None` when the row has no `EncryptionKey` (plaintext).
    pub fn key(&self, rec: &FileRecord) -> Result<Option<Key32>, Unavailable> {
        let wrapped = match &rec.encryption_key {
            None => return Ok(None),
            Some(Err(bad)) => return Err(Unavailable::BadKey(*bad)),
            Some(Ok(k)) => k,
        };
        let keys = self.keys.ok_or(Unavailable::Locked)?;
        wrapped.unwrap(keys).map(Some).map_err(Unavailable::Key)
    }

    /// Open a row's payload, ready to be read: found, opened, and (when it has content
    /// and the row a key) its key unwrapped. An empty payload needs no key.
    pub fn open(&self, rec: &FileRecord) -> Result<Payload<'a>, Unavailable> {
        let id = FileId::parse_bytes(&rec.file_id).ok_or(Unavailable::BadFileId)?;
        let (at, file, stored) = self
            .listing
            .open_id(&id)
            .map_err(Unavailable::Unreadable)?
            .ok_or(Unavailable::Missing)?;
        let p = Payload {
            listing: self.listing,
            at,
            file,
            stored,
            key: None,
        };
        if p.stored == 0 {
            return Ok(p);
        }
        let key = self.key(rec)?;
        Ok(p.with_key(key))
    }
}

/// An opened payload and the key of its content (none: plaintext).
pub struct Payload<'a> {
    listing: &'a ContentScan,
    at: ContentFile,
    file: File,
    stored: u64,
    key: Option<Key32>,
}

/// What streaming a payload gave.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Streamed {
    /// Bytes read from the payload.
    pub stored_len: u64,
    /// Content bytes written (padding removed when it was valid).
    pub content_len: u64,
    /// Why the ciphertext did not decrypt cleanly (every decrypted byte was still written).
    pub problem: Option<StreamProblem>,
}

/// Why a payload could not be read whole.
#[derive(Debug)]
pub enum ReadError {
    Io(io::Error),
    /// Not block-aligned, or bad PKCS#7 padding.
    Decrypt(CryptoError),
}

impl<'a> Payload<'a> {
    /// The same payload, read with `key` (`None`: as plaintext).
    pub fn with_key(mut self, key: Option<Key32>) -> Self {
        self.key = key;
        self
    }

    /// Its length on disk.
    pub fn stored_len(&self) -> u64 {
        self.stored
    }

    /// The key its content is read with.
    pub fn key(&self) -> Option<&Key32> {
        self.key.as_ref()
    }

    /// The opened file, for positioned reads (`pread`; its offset stays at the start).
    pub fn file(&self) -> &File {
        &self.file
    }

    /// Where it lies (for messages).
    pub fn path(&self) -> PathBuf {
        self.listing.path(&self.at)
    }

    /// Stream the content, decrypted with its key, into `out`.
    pub fn stream<S: Sink>(&self, out: &mut S) -> io::Result<Streamed> {
        stream(&self.file, self.key.as_ref(), out)
    }

    /// Read all of it (at most `limit` bytes of ciphertext), decrypted, with valid padding.
    pub fn read_whole(&self, limit: u64) -> Result<Zeroizing<Vec<u8>>, ReadError> {
        if self.stored > limit {
            return Err(ReadError::Io(io::Error::other(format!(
                "{} bytes, over the {limit}-byte limit",
                self.stored
            ))));
        }
        let mut raw = Zeroizing::new(Vec::with_capacity(self.stored as usize));
        ReadAt::new(&self.file)
            .take(limit)
            .read_to_end(&mut raw)
            .map_err(ReadError::Io)?;
        match &self.key {
            None => Ok(raw),
            Some(k) => cbc::decrypt(k, &raw)
                .map(Zeroizing::new)
                .map_err(ReadError::Decrypt),
        }
    }
}

/// Where streamed content goes. Plaintext is copied in 64 KiB reads through a stack buffer
/// (wiped after), or, into a [`File`], by the kernel (`copy_file_range`).
pub trait Sink: Write {
    /// Copy all of `file` (plaintext) into `self`; returns the bytes copied.
    fn copy_plain(&mut self, file: &File) -> io::Result<u64> {
        copy_buffered(file, self)
    }
}

/// Content read into memory.
impl Sink for Vec<u8> {}

impl Sink for File {
    fn copy_plain(&mut self, mut file: &File) -> io::Result<u64> {
        // The kernel copies from the file's offset: from the start, whatever read before.
        io::Seek::seek(&mut file, io::SeekFrom::Start(0))?;
        io::copy(&mut file, self)
    }
}

/// Reads a file from its start with positioned reads (`pread`): its offset is left alone,
/// so a payload can be read more than once.
struct ReadAt<'f> {
    file: &'f File,
    pos: u64,
}

impl<'f> ReadAt<'f> {
    fn new(file: &'f File) -> Self {
        ReadAt { file, pos: 0 }
    }
}

impl Read for ReadAt<'_> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        #[cfg(unix)]
        let n = std::os::unix::fs::FileExt::read_at(self.file, buf, self.pos)?;
        #[cfg(windows)]
        let n = std::os::windows::fs::FileExt::seek_read(self.file, buf, self.pos)?;
        self.pos += n as u64;
        Ok(n)
    }
}

fn copy_buffered<W: Write + ?Sized>(file: &File, out: &mut W) -> io::Result<u64> {
    let mut file = ReadAt::new(file);
    let mut buf = [0u8; 64 * 1024];
    let mut used = 0;
    let mut n = 0u64;
    let r = loop {
        let got = match file.read(&mut buf) {
            Ok(0) => break Ok(n),
            Ok(got) => got,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => break Err(e),
        };
        used = used.max(got);
        if let Err(e) = out.write_all(&buf[..got]) {
            break Err(e);
        }
        n += got as u64;
    };
    zeroize::Zeroize::zeroize(&mut buf[..used]);
    r
}

/// Stream all of `file` from its start into `out`: decrypted with `key` (AES-256-CBC, zero
/// IV; PKCS#7 padding removed when valid, else reported), or copied when there is none.
pub fn stream<S: Sink>(file: &File, key: Option<&Key32>, out: &mut S) -> io::Result<Streamed> {
    match key {
        Some(k) => {
            let o = cbc::decrypt_stream(k, &mut ReadAt::new(file), out)?;
            Ok(Streamed {
                stored_len: o.ciphertext_len,
                content_len: o.plaintext_len,
                problem: o.problem,
            })
        }
        None => {
            let n = out.copy_plain(file)?;
            Ok(Streamed {
                stored_len: n,
                content_len: n,
                problem: None,
            })
        }
    }
}

#[cfg(test)]
mod tests;
