//! Canary search: stream decrypted file contents through a matcher that never keeps a match.
//!
//! [`StreamSearch`] is a `Write` sink: bytes are buffered into windows of [`WINDOW`] bytes,
//! each window is searched with the app's `RegexSet`, and the last `overlap` bytes are kept
//! in front of the next window, so a match that straddles a chunk boundary is found when it
//! is at most `overlap + 1` bytes long. For literals `overlap` is the longest literal's
//! length − 1 (every occurrence is found); for regexes it is [`REGEX_WINDOW`]: a regex match
//! longer than `REGEX_WINDOW + 1` bytes that straddles a window boundary can be missed. A
//! window edge is not a text edge: `^`, `$`, `\A`, `\z` and `\b` can match there, so canary
//! regexes should not be anchored. Buffers are wiped when dropped. Only which canary matched
//! is recorded, never where or what.

use super::model::{AppPolicy, CanarySet};
use crate::crypto::{BadKeyLength, KeyUnavailable, ProtectionClass};
use crate::index::{FileKind, FileRecord};
use crate::session::payload::{Payloads, Sink, Unavailable};
use crate::session::Session;
use rayon::prelude::*;
use std::collections::HashSet;
use std::io::Write;
use zeroize::Zeroizing;

/// Bytes of look-behind kept for regex canaries (the longest match guaranteed across a
/// window boundary is `REGEX_WINDOW + 1` bytes).
pub const REGEX_WINDOW: usize = 4096;
/// Bytes searched at a time.
pub const WINDOW: usize = 256 * 1024;

/// A streaming multi-pattern matcher (see the module documentation).
pub struct StreamSearch<'a> {
    set: &'a CanarySet,
    buf: Zeroizing<Vec<u8>>,
    /// Per canary index (of the app): found?
    found: Vec<bool>,
    /// Canaries of the set not found yet.
    remaining: usize,
    /// Bytes fed.
    pub bytes: u64,
}

/// The sink returns this error once every canary of the set was found (stops the stream).
#[derive(Debug)]
struct AllFound;
impl std::fmt::Display for AllFound {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("every canary was found")
    }
}
impl std::error::Error for AllFound {}

impl<'a> StreamSearch<'a> {
    /// `canaries`: number of canaries of the app (owner indices are below it).
    pub fn new(set: &'a CanarySet, canaries: usize) -> Self {
        let owners: HashSet<usize> = set.owner.iter().copied().collect();
        StreamSearch {
            set,
            buf: Zeroizing::new(Vec::with_capacity(WINDOW + set.overlap)),
            found: vec![false; canaries.max(set.owner.iter().max().map_or(0, |m| m + 1))],
            remaining: owners.len(),
            bytes: 0,
        }
    }

    fn search(&mut self) {
        if self.buf.is_empty() || self.remaining == 0 {
            return;
        }
        for p in self.set.set.matches(&self.buf).iter() {
            if let Some(&c) = self.set.owner.get(p) {
                if let Some(f) = self.found.get_mut(c) {
                    if !*f {
                        *f = true;
                        self.remaining -= 1;
                    }
                }
            }
        }
    }

    /// Search what is buffered and keep only the overlap.
    fn window(&mut self) {
        self.search();
        let keep = self.set.overlap.min(self.buf.len());
        let cut = self.buf.len() - keep;
        self.buf.copy_within(cut.., 0);
        self.buf.truncate(keep);
    }

    /// Search the rest; returns, per canary index, whether it was found.
    pub fn finish(mut self) -> Vec<bool> {
        self.search();
        std::mem::take(&mut self.found)
    }

    pub fn all_found(&self) -> bool {
        self.remaining == 0
    }
}

impl Sink for StreamSearch<'_> {}

impl Write for StreamSearch<'_> {
    fn write(&mut self, data: &[u8]) -> std::io::Result<usize> {
        if self.remaining == 0 {
            return Err(std::io::Error::other(AllFound));
        }
        self.bytes += data.len() as u64;
        let mut rest = data;
        while !rest.is_empty() {
            let room = (WINDOW + self.set.overlap)
                .saturating_sub(self.buf.len())
                .max(1);
            let take = room.min(rest.len());
            let (now, later) = rest.split_at(take);
            self.buf.extend_from_slice(now);
            rest = later;
            if self.buf.len() >= WINDOW + self.set.overlap {
                self.window();
                if self.remaining == 0 {
                    break;
                }
            }
        }
        Ok(data.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// A canary found in a file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileHit {
    /// Index of the app in `Policy::apps`, and of the canary in its `canaries`.
    pub app: usize,
    pub canary: usize,
    pub domain: String,
    pub relative_path: String,
}

/// A file of an app that could not be searched, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Unsearched {
    pub app: usize,
    pub domain: String,
    pub relative_path: String,
    pub reason: UnsearchedReason,
}

/// Why a file could not be searched (its `Display` is the text the check report shows).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum UnsearchedReason {
    /// The session's payload listing could not be made (the error, in words).
    NoListing(String),
    /// The payload is listed but cannot be opened (the I/O error, in words).
    CannotOpen(String),
    /// The backup is encrypted and was opened without a password: no class keys.
    Locked,
    /// The row's `EncryptionKey` is too short to name a class.
    KeyTooShort,
    /// The row's `EncryptionKey` has the wrong length (in bytes).
    BadKeyLength(u32),
    /// The class key is at hand but does not unwrap the file key (the error, in words).
    KeyUnwrapFailed(String),
    /// The class key is not at hand: device-bound, not wrapped with the password, or
    /// absent from the keybag (all reported as bound to the device).
    ClassKeyUnavailable(ProtectionClass),
    /// The payload was opened with its key but does not decrypt (the error, in words).
    CannotDecrypt(String),
    /// The plaintext payload cannot be read (the error, in words).
    CannotRead(String),
}

impl UnsearchedReason {
    /// Whether the file's class key is bound to the device (it cannot be searched off it).
    pub fn device_bound(&self) -> bool {
        matches!(self, UnsearchedReason::ClassKeyUnavailable(_))
    }
}

/// The reason in words (what the check report shows).
impl std::fmt::Display for UnsearchedReason {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            UnsearchedReason::NoListing(e) => write!(f, "cannot list the payloads: {e}"),
            UnsearchedReason::CannotOpen(e) => write!(f, "cannot open the payload: {e}"),
            UnsearchedReason::Locked => f.write_str("the backup is locked (no password)"),
            UnsearchedReason::KeyTooShort => f.write_str("the EncryptionKey is too short"),
            UnsearchedReason::BadKeyLength(len) => {
                write!(f, "the EncryptionKey is {len} bytes, expected 44")
            }
            UnsearchedReason::KeyUnwrapFailed(e) => {
                write!(f, "the file key does not unwrap: {e}")
            }
            UnsearchedReason::ClassKeyUnavailable(class) => write!(
                f,
                "class {class} key is not available (bound to the device)"
            ),
            UnsearchedReason::CannotDecrypt(e) => write!(f, "cannot decrypt the payload: {e}"),
            UnsearchedReason::CannotRead(e) => write!(f, "cannot read the payload: {e}"),
        }
    }
}

/// What the file search found, per app.
#[derive(Debug, Clone, Default)]
pub struct FileSearch {
    pub hits: Vec<FileHit>,
    pub unsearched: Vec<Unsearched>,
    /// Per app index: files searched, and plaintext bytes searched.
    pub files: Vec<u64>,
    pub bytes: Vec<u64>,
}

/// What searching one file gave.
enum Outcome {
    /// Searched: per canary index, whether it was found; and the bytes searched.
    Found(Vec<bool>, u64),
    /// Not a file to search (not a regular file, or no payload of it to leak).
    Skipped,
    Unsearched(UnsearchedReason),
}

/// Search one row's payload with `set` (`canaries`: number of canaries of the app).
fn search_one(
    payloads: &Payloads<'_>,
    rec: &FileRecord,
    set: &CanarySet,
    canaries: usize,
) -> Outcome {
    if rec.kind != FileKind::File {
        return Outcome::Skipped;
    }
    let payload = match payloads.open(rec) {
        Ok(p) => p,
        Err(why) => return unsearched(why, payloads.is_locked()),
    };
    let mut sink = StreamSearch::new(set, canaries);
    match payload.stream(&mut sink) {
        Ok(_) => {}
        Err(_) if sink.all_found() => {}
        Err(e) if payload.key().is_some() => {
            return Outcome::Unsearched(UnsearchedReason::CannotDecrypt(e.to_string()))
        }
        Err(e) => return Outcome::Unsearched(UnsearchedReason::CannotRead(e.to_string())),
    }
    let bytes = match payload.key() {
        Some(_) => sink.bytes,
        None => payload.stored_len(),
    };
    Outcome::Found(sink.finish(), bytes)
}

/// Why a file was not searched (a missing payload has nothing of it to leak: skipped).
fn unsearched(why: Unavailable, locked: bool) -> Outcome {
    Outcome::Unsearched(match why {
        Unavailable::BadFileId | Unavailable::Missing => return Outcome::Skipped,
        Unavailable::Unreadable(e) => UnsearchedReason::CannotOpen(e.to_string()),
        Unavailable::Locked | Unavailable::BadKey(_) if locked => UnsearchedReason::Locked,
        Unavailable::BadKey(BadKeyLength { class: None, .. }) => UnsearchedReason::KeyTooShort,
        Unavailable::BadKey(b) => UnsearchedReason::BadKeyLength(b.len),
        Unavailable::Key(KeyUnavailable::UnwrapFailed(_, e)) => {
            UnsearchedReason::KeyUnwrapFailed(e.to_string())
        }
        Unavailable::Key(k) => UnsearchedReason::ClassKeyUnavailable(k.class()),
        Unavailable::Locked => UnsearchedReason::Locked,
    })
}

/// Search every regular file in the domains of each app that has file canaries, in parallel.
/// `domains[i]` are the backup domains of `apps[i]` (its `AppDomain-`, group and plugin
/// domains).
pub fn search_files(
    s: &Session,
    apps: &[AppPolicy],
    domains: &[HashSet<String>],
    records: &[FileRecord],
) -> FileSearch {
    let jobs: Vec<(usize, &FileRecord)> = apps
        .iter()
        .enumerate()
        .filter(|(_, a)| a.file_canaries.is_some())
        .flat_map(|(i, _)| {
            records
                .iter()
                .filter(move |r| domains.get(i).is_some_and(|d| d.contains(&r.domain)))
                .map(move |r| (i, r))
        })
        .collect();
    // The session's one listing (the scan's, when one ran): without it nothing is searched.
    let payloads = s.payloads().map_err(|e| e.to_string());
    let results: Vec<(usize, &FileRecord, Outcome)> = jobs
        .par_iter()
        .filter_map(|&(i, r)| {
            let app = apps.get(i)?;
            let set = app.file_canaries.as_ref()?;
            let o = match &payloads {
                Ok(p) => search_one(p, r, set, app.canaries.len()),
                Err(e) => Outcome::Unsearched(UnsearchedReason::NoListing(e.clone())),
            };
            Some((i, r, o))
        })
        .collect();
    let mut out = FileSearch {
        files: vec![0; apps.len()],
        bytes: vec![0; apps.len()],
        ..Default::default()
    };
    for (i, r, o) in results {
        match o {
            Outcome::Skipped => {}
            Outcome::Unsearched(reason) => out.unsearched.push(Unsearched {
                app: i,
                domain: r.domain.clone(),
                relative_path: r.relative_path.clone(),
                reason,
            }),
            Outcome::Found(found, bytes) => {
                if let Some(n) = out.files.get_mut(i) {
                    *n += 1;
                }
                if let Some(n) = out.bytes.get_mut(i) {
                    *n += bytes;
                }
                for (c, hit) in found.iter().enumerate() {
                    if *hit {
                        out.hits.push(FileHit {
                            app: i,
                            canary: c,
                            domain: r.domain.clone(),
                            relative_path: r.relative_path.clone(),
                        });
                    }
                }
            }
        }
    }
    out
}

/// Canaries (indices) found in one text value (a keychain attribute).
pub fn search_text(set: &CanarySet, text: &str) -> Vec<usize> {
    let mut v: Vec<usize> = set
        .set
        .matches(text.as_bytes())
        .iter()
        .filter_map(|p| set.owner.get(p).copied())
        .collect();
    v.sort_unstable();
    v.dedup();
    v
}

#[cfg(test)]
mod tests {
    use super::*;

    fn set(patterns: &[(&str, Option<usize>)]) -> CanarySet {
        let sources: Vec<&str> = patterns.iter().map(|p| p.0).collect();
        let overlap = patterns
            .iter()
            .map(|p| p.1.map_or(REGEX_WINDOW, |n| n - 1))
            .max()
            .unwrap_or(0);
        CanarySet {
            set: regex::bytes::RegexSet::new(&sources).unwrap(),
            owner: (0..patterns.len()).collect(),
            overlap,
        }
    }

    /// Feed `data` in chunks of `chunk` bytes.
    fn feed(s: &CanarySet, data: &[u8], chunk: usize) -> Vec<bool> {
        let mut w = StreamSearch::new(s, s.owner.len());
        for c in data.chunks(chunk) {
            if w.write_all(c).is_err() {
                break;
            }
        }
        w.finish()
    }

    #[test]
    fn literal_across_every_boundary() {
        let lit = "CANARY-7f3a9c";
        let s = set(&[(&regex::escape(lit), Some(lit.len()))]);
        // Place the literal so that it straddles the first window boundary at every offset.
        for shift in 0..lit.len() {
            let mut data = vec![b'x'; WINDOW + s.overlap - shift];
            data.extend_from_slice(lit.as_bytes());
            data.extend(std::iter::repeat_n(b'y', 1000));
            for chunk in [1usize, 7, 4096, 65536, 1 << 20] {
                assert_eq!(
                    feed(&s, &data, chunk),
                    vec![true],
                    "shift {shift} chunk {chunk}"
                );
            }
        }
        // Not there: a near miss.
        let mut data = vec![b'x'; 3 * WINDOW];
        data.extend_from_slice(b"CANARY-7f3a9");
        assert_eq!(feed(&s, &data, 1000), vec![false]);
    }

    #[test]
    fn regex_across_boundary_within_window() {
        let s = set(&[(r"tok_[0-9a-f]{32}", None)]);
        let tok = b"tok_0123456789abcdef0123456789abcdef";
        for pos in [
            0usize,
            WINDOW - 10,
            WINDOW + REGEX_WINDOW - 20,
            3 * WINDOW + 5,
        ] {
            let mut data = vec![b'.'; pos];
            data.extend_from_slice(tok);
            data.extend(std::iter::repeat_n(b'.', 10));
            assert_eq!(feed(&s, &data, 8192), vec![true], "pos {pos}");
        }
        let data = b"tok_0123456789abcdef0123456789abcde".repeat(20000);
        assert_eq!(feed(&s, &data, 8192), vec![false]);
    }

    #[test]
    fn several_canaries_and_early_stop() {
        let s = set(&[("alpha", Some(5)), ("beta", Some(4)), ("gamma", Some(5))]);
        let mut data = vec![0u8; 2 * WINDOW];
        data.extend_from_slice(b"beta");
        data.extend(vec![0u8; WINDOW]);
        data.extend_from_slice(b"alpha");
        assert_eq!(feed(&s, &data, 10_000), vec![true, true, false]);
        // All found → the sink refuses more data (stops the stream).
        let s1 = set(&[("alpha", Some(5))]);
        let mut w = StreamSearch::new(&s1, 1);
        w.write_all(&[b'a'; WINDOW]).unwrap();
        w.write_all(b"alpha").unwrap();
        w.write_all(&vec![0u8; WINDOW + 10]).unwrap(); // triggers the window search
        assert!(w.all_found());
        assert!(w.write_all(b"more").is_err());
        assert_eq!(w.finish(), vec![true]);
    }

    /// The reason of an unsearched file: the payload's unavailability, given whether the
    /// backup is locked, in words and by kind.
    fn reason(why: Unavailable, locked: bool) -> Option<(String, bool)> {
        match unsearched(why, locked) {
            Outcome::Unsearched(r) => Some((r.to_string(), r.device_bound())),
            Outcome::Skipped | Outcome::Found(..) => None,
        }
    }

    #[test]
    fn unsearched_reasons_read_as_before_and_know_device_bound() {
        use crate::crypto::CryptoError;
        let class = ProtectionClass::new;
        let io = || std::io::Error::from(std::io::ErrorKind::PermissionDenied);
        let e = io();
        let short = BadKeyLength {
            len: 2,
            class: None,
        };
        let long = BadKeyLength {
            len: 50,
            class: Some(class(3)),
        };
        let cases: Vec<(Unavailable, bool, String, bool)> = vec![
            (
                Unavailable::Unreadable(io()),
                false,
                format!("cannot open the payload: {e}"),
                false,
            ),
            (
                Unavailable::Locked,
                true,
                "the backup is locked (no password)".into(),
                false,
            ),
            (
                Unavailable::BadKey(long),
                true,
                "the backup is locked (no password)".into(),
                false,
            ),
            (
                Unavailable::BadKey(short),
                false,
                "the EncryptionKey is too short".into(),
                false,
            ),
            (
                Unavailable::BadKey(long),
                false,
                "the EncryptionKey is 50 bytes, expected 44".into(),
                false,
            ),
            (
                Unavailable::Key(KeyUnavailable::UnwrapFailed(
                    class(2),
                    CryptoError::UnwrapIntegrity,
                )),
                false,
                format!(
                    "the file key does not unwrap: {}",
                    CryptoError::UnwrapIntegrity
                ),
                false,
            ),
            (
                Unavailable::Key(KeyUnavailable::DeviceBound(class(1))),
                false,
                "class 1 key is not available (bound to the device)".into(),
                true,
            ),
            (
                Unavailable::Key(KeyUnavailable::NotPasswordWrapped(class(4))),
                false,
                "class 4 key is not available (bound to the device)".into(),
                true,
            ),
            (
                Unavailable::Key(KeyUnavailable::NoClassKey(class(9))),
                false,
                "class 9 key is not available (bound to the device)".into(),
                true,
            ),
            (
                Unavailable::Locked,
                false,
                "the backup is locked (no password)".into(),
                false,
            ),
        ];
        for (why, locked, text, bound) in cases {
            let what = format!("{why:?}");
            assert_eq!(reason(why, locked), Some((text, bound)), "{what}");
        }
        assert_eq!(reason(Unavailable::Missing, false), None);
        assert_eq!(reason(Unavailable::BadFileId, true), None);
        let listing = UnsearchedReason::NoListing("no such folder".into());
        assert_eq!(
            listing.to_string(),
            "cannot list the payloads: no such folder"
        );
        for (r, text) in [
            (
                UnsearchedReason::CannotDecrypt("bad padding".into()),
                "cannot decrypt the payload: bad padding",
            ),
            (
                UnsearchedReason::CannotRead("short read".into()),
                "cannot read the payload: short read",
            ),
        ] {
            assert_eq!(r.to_string(), text);
            assert!(!r.device_bound());
        }
        assert!(!listing.device_bound());
    }

    #[test]
    fn text_search() {
        let s = set(&[("secret-1", Some(8)), ("(?i:hidden)", None)]);
        assert_eq!(search_text(&s, "user secret-1 HIDDEN"), vec![0, 1]);
        assert_eq!(search_text(&s, "secret-"), Vec::<usize>::new());
    }

    #[test]
    fn reader_search_matches_bytes_in_binary() {
        let s = set(&[("needle", Some(6))]);
        let mut data = vec![0xFFu8; 300_000];
        data.extend_from_slice(b"\x00needle\x00");
        let mut sink = StreamSearch::new(&s, 1);
        sink.write_all(&data).unwrap();
        assert_eq!(sink.finish(), vec![true]);
    }
}
