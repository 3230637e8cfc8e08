//! Per-file classification of one index row: presence, class, keys, sizes, findings.

use super::finding::rules as R;
use super::model::{FileReport, FileStatus};
use super::payload::{
    deep_verify, deep_verify_bytes, head_is_plaintext, looks_plaintext, padded_len, read_ends, Ends,
};
use super::{Finding, Location};
use crate::backup::{ContentFile, ContentScan, FileId};
use crate::crypto::keybag::WRAP_DEVICE;
use crate::crypto::{self, KeyUnavailable, ProtectionClass};
use crate::index::{FileKind, FileRecord};
use crate::session::payload::{Payloads, Unavailable};
use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};

/// Per-file context shared by the parallel workers.
pub(super) struct FileCtx<'a> {
    /// The one listing of the backup folder's payloads.
    pub(super) listing: &'a ContentScan,
    pub(super) keys: Option<&'a crypto::ClassKeys>,
    /// class → WRAP of the keybag class record.
    pub(super) class_wrap: HashMap<u32, u32>,
    pub(super) check_fileid: bool,
    /// Does the backup declare itself encrypted (a row without a key is then a finding)?
    pub(super) encrypted_backup: bool,
    pub(super) deep: bool,
    /// With `deep`: hash each payload's content (SHA-256).
    pub(super) deep_hash: bool,
    pub(super) deep_done: AtomicU64,
    /// Bytes `deep` expects to read (the payloads on disk, or with `deep_only` those of the
    /// rows it selected so far; 0 without a progress callback).
    pub(super) deep_total: AtomicU64,
    pub(super) deep_progress: Option<&'a (dyn Fn(u64, u64) + Sync)>,
    /// With `deep`: read in full only the files of the domains this accepts (`scan --app`).
    pub(super) deep_only: Option<&'a (dyn Fn(&str) -> bool + Sync)>,
}

impl FileCtx<'_> {
    /// Is the row of this domain read in full?
    pub(super) fn deep_for(&self, domain: &str) -> bool {
        self.deep && self.deep_only.is_none_or(|keep| keep(domain))
    }
}

/// What was learnt of a file's payload.
#[derive(Default)]
struct Content {
    stored_size: Option<u64>,
    content_size: Option<u64>,
    sha256: Option<String>,
    deep_read: bool,
}

/// The two file IDs of a row, as bytes: the one it names and the one its domain and path
/// give (computed once a row: the fileID check and the scan's duplicate key use both).
#[derive(Clone, Copy)]
pub(super) struct RowIds {
    /// The row's fileID, when it is 40 lower-case hex digits.
    pub(super) named: Option<[u8; 20]>,
    /// `SHA-1(domain-relativePath)`.
    pub(super) expected: [u8; 20],
}

impl RowIds {
    pub(super) fn of(rec: &FileRecord) -> RowIds {
        RowIds {
            named: FileId::parse_bytes(&rec.file_id),
            expected: FileId::digest(rec.domain.as_bytes(), rec.relative_path.as_bytes()),
        }
    }

    /// A key of the row's (domain, relativePath): 96 bits of `SHA-1(domain-relativePath)`
    /// and the domain's length, which tells where the domain ends in what was hashed (so
    /// `("a-b", "c")` and `("a", "b-c")` differ).
    pub(super) fn path_key(&self, domain: &str) -> u128 {
        let mut k = [0u8; 16];
        k[..12].copy_from_slice(&self.expected[..12]);
        k[12..].copy_from_slice(&(domain.len() as u32).to_le_bytes());
        u128::from_le_bytes(k)
    }
}

pub(super) fn file_report(
    ctx: &FileCtx<'_>,
    rec: FileRecord,
    payload: Option<usize>,
    ids: &RowIds,
) -> FileReport {
    let mut findings = Vec::new();
    let loc = || Location::file(&rec.domain, &rec.relative_path);
    record_findings(ctx, &rec, ids, &mut findings, &loc);
    let key_class = rec.encryption_key_class();
    let protection_class = rec.protection_class.or(key_class);
    let encrypted = rec.encryption_key.is_some();
    let wrap_class = key_class.or(protection_class);
    let device_bound = encrypted
        && wrap_class
            .and_then(|c| ctx.class_wrap.get(&c))
            .is_some_and(|w| w & WRAP_DEVICE != 0);
    let mut status = FileStatus::NotApplicable;
    let mut content = Content::default();
    if rec.kind == FileKind::File {
        // The payload as listed (regular files only; symlinks are not followed).
        let listed = payload.map(|i| &ctx.listing.files[i]);
        if listed.is_some() {
            status = FileStatus::Present;
        } else {
            status = FileStatus::Missing;
            findings.push(
                Finding::new(
                    &R::FILE_MISSING,
                    "the index lists this file but its payload is not on disk",
                )
                .at(loc()),
            );
        }
        if let Some(Err(bad)) = &rec.encryption_key {
            findings.push(
                Finding::new(
                    &R::FILE_BAD_KEY,
                    format!("EncryptionKey is {} bytes, expected 44", bad.len),
                )
                .at(loc()),
            );
        } else if rec.encryption_key.is_none() && ctx.encrypted_backup && rec.size.unwrap_or(0) > 0
        {
            findings.push(
                Finding::new(
                    &R::FILE_NOT_ENCRYPTED,
                    "a non-empty file of an encrypted backup has no EncryptionKey",
                )
                .at(loc()),
            );
        }
        if device_bound {
            findings.push(
                Finding::new(
                    &R::FILE_DEVICE_BOUND,
                    format!(
                        "class {} is bound to the device: this file cannot be decrypted off it",
                        wrap_class.unwrap_or(0)
                    ),
                )
                .at(loc()),
            );
        }
        content = file_content(ctx, &rec, listed, device_bound, &mut findings, &loc);
    }
    FileReport {
        domain: rec.domain,
        relative_path: rec.relative_path,
        file_id: rec.file_id,
        kind: rec.kind,
        status,
        encrypted,
        protection_class,
        protection_class_name: protection_class.map(|c| ProtectionClass::new(c).name()),
        device_bound,
        routes: super::routes::file_routes(rec.kind, protection_class, device_bound),
        size: rec.size,
        stored_size: content.stored_size,
        content_size: content.content_size,
        sha256: content.sha256,
        deep_read: content.deep_read,
        target: rec.target,
        mode: rec.mode.map(super::model::Mode),
        user_id: rec.user_id,
        group_id: rec.group_id,
        inode: rec.inode,
        last_modified: rec.last_modified,
        last_status_change: rec.last_status_change,
        birth: rec.birth,
        // Set by the scan once every domain is known (see `ownership`).
        app: None,
        findings,
    }
}

/// Findings about the row itself: its fileID, the decoder's problems, its two classes.
fn record_findings(
    ctx: &FileCtx<'_>,
    rec: &FileRecord,
    ids: &RowIds,
    findings: &mut Vec<Finding>,
    loc: &dyn Fn() -> Location,
) {
    if ids.named.is_none() {
        findings.push(
            Finding::new(
                &R::FILE_BAD_FILEID,
                format!("fileID {:?} is not 40 lowercase hex digits", rec.file_id),
            )
            .at(loc()),
        );
    }
    if ctx.check_fileid && ids.named != Some(ids.expected) {
        findings.push(
            Finding::new(
                &R::FILE_ID_MISMATCH,
                format!(
                    "fileID is {} but SHA-1(domain-relativePath) is {}",
                    rec.file_id,
                    FileId::from_bytes(&ids.expected)
                ),
            )
            .at(loc()),
        );
    }
    for p in &rec.problems {
        findings.push(Finding::new(&R::FILE_RECORD_PROBLEM, p.clone()).at(loc()));
    }
    if let (Some(a), Some(b)) = (rec.protection_class, rec.encryption_key_class()) {
        if a != b {
            findings.push(
                Finding::new(
                    &R::FILE_CLASS_MISMATCH,
                    format!(
                        "ProtectionClass is {a} but the EncryptionKey is wrapped with class {b}"
                    ),
                )
                .at(loc()),
            );
        }
    }
}

/// The file key and the payload of a regular file: opened (or only sized), its content
/// length from its last blocks, and with `deep` read in full.
fn file_content(
    ctx: &FileCtx<'_>,
    rec: &FileRecord,
    listed: Option<&ContentFile>,
    device_bound: bool,
    findings: &mut Vec<Finding>,
    loc: &dyn Fn() -> Location,
) -> Content {
    let payloads = Payloads::new(ctx.listing, ctx.keys);
    let encrypted = rec.encryption_key.is_some();
    let deep = ctx.deep_for(&rec.domain);
    let mut c = Content::default();
    // The file key, when the class key is available (locked: nothing to say; a bad
    // key or a device-bound class was said above).
    let file_key = match payloads.key(rec) {
        Ok(k) => k,
        Err(why) => {
            if let Some(m) = key_problem(&why, device_bound) {
                findings.push(Finding::new(&R::FILE_KEY_UNWRAP_FAILED, m).at(loc()));
            }
            None
        }
    };
    // The payload is opened when its content matters (a key, or `deep`), else only
    // sized; either resolves one name in its open folder.
    let opened = listed.and_then(|c| {
        let r = if encrypted || deep {
            payloads.open_listed(c).map(|p| {
                let n = p.stored_len();
                (Some(p), n)
            })
        } else {
            ctx.listing
                .len(c)
                .map(|n| (None, n))
                .map_err(Unavailable::Unreadable)
        };
        r.map_err(|e| {
            findings.push(
                Finding::new(&R::FILE_UNREADABLE, format!("cannot read the payload: {e}"))
                    .at(loc()),
            )
        })
        .ok()
    });
    let Some((payload, stored)) = opened else {
        return c;
    };
    let file = payload.as_ref().map(|p| p.file());
    c.stored_size = Some(stored);
    // First and last blocks, read with the one open, when a key makes them matter.
    let mut ends = file
        .filter(|_| encrypted && stored > 0 && stored % 16 == 0)
        .map(|f| read_ends(f, stored, deep));
    // Shorter than the ciphertext of the recorded Size: cut short unless it proves an end.
    let expected = rec.size.map(|size| 16 * (size / 16 + 1));
    let short = encrypted && stored > 0 && expected.is_some_and(|e| stored < e);
    // Short and not whole blocks: cut short, unless it begins as plaintext (a decrypted
    // copy whose Size is its plaintext length, as a patched copy of one has).
    let short_unaligned = short && stored % 16 != 0;
    let plaintext_magic = encrypted
        && stored > 0
        && if short_unaligned {
            file.is_some_and(|f| head_is_plaintext(f, stored))
        } else {
            looks_plaintext(ends.as_ref(), stored)
        };
    let mut truncated = false;
    if plaintext_magic {
        // The row has a key but the payload is not ciphertext: a decrypted copy.
        findings.push(
            Finding::new(
                &R::FILE_NOT_CIPHERTEXT,
                "the row carries an EncryptionKey but the payload is plaintext (stored decrypted)",
            )
            .at(loc()),
        );
        c.content_size = Some(stored);
    } else if !encrypted || stored == 0 {
        // An empty payload is an empty file, with or without a key (iOS writes
        // zero-byte payloads for empty files and keeps their EncryptionKey).
        c.content_size = Some(stored);
    } else if short_unaligned {
        truncated = true;
    } else if let Some(fk) = &file_key {
        match padded_len(ends.as_ref(), stored, fk) {
            Ok(n) => c.content_size = Some(n),
            Err(_) if short => truncated = true,
            Err(e) => findings.push(Finding::new(&R::FILE_DECRYPT_FAILED, e).at(loc())),
        }
    }
    if truncated {
        findings.push(
            Finding::new(
                &R::FILE_TRUNCATED,
                format!(
                    "the payload is {stored} bytes, shorter than the {} bytes of ciphertext of recorded Size {}, and does not end as ciphertext: the copy was cut short",
                    expected.unwrap_or(0),
                    rec.size.unwrap_or(0)
                ),
            )
            .at(loc()),
        );
    } else if deep && (!encrypted || stored == 0 || plaintext_magic || file_key.is_some()) {
        let key = file_key.as_ref().filter(|_| stored > 0 && !plaintext_magic);
        deep_content(ctx, &mut c, ends.as_mut(), file, key, findings, loc);
    }
    if deep {
        let done = ctx.deep_done.fetch_add(stored, Ordering::Relaxed) + stored;
        if let Some(cb) = ctx.deep_progress {
            cb(done, ctx.deep_total.load(Ordering::Relaxed));
        }
    }
    if !truncated {
        size_findings(rec, c.content_size, stored, findings, loc);
    }
    c
}

/// `deep`: read the whole payload (decrypting it with `key`), verify its length and
/// padding, and hash it. A failure is said once (not again when the ends already showed
/// it) and leaves no hash.
fn deep_content(
    ctx: &FileCtx<'_>,
    c: &mut Content,
    ends: Option<&mut Result<Ends, String>>,
    file: Option<&std::fs::File>,
    key: Option<&crypto::Key32>,
    findings: &mut Vec<Finding>,
    loc: &dyn Fn() -> Location,
) {
    // A small payload read whole for its ends is verified from memory.
    let whole = ends
        .and_then(|e| e.as_mut().ok())
        .and_then(|e| e.whole_mut());
    let verified = match (whole, file) {
        (Some(b), _) => Ok(deep_verify_bytes(b, key, ctx.deep_hash)),
        (None, Some(f)) => deep_verify(f, key, ctx.deep_hash),
        (None, None) => Err(std::io::Error::other("the payload was not opened")),
    };
    match verified {
        Ok(d) => {
            if let Some(problem) = d.problem {
                if !findings.iter().any(|f| f.rule == R::FILE_DECRYPT_FAILED.id) {
                    findings.push(Finding::new(&R::FILE_DECRYPT_FAILED, problem).at(loc()));
                }
            } else {
                c.content_size = Some(d.plaintext_len);
                c.sha256 = d.sha256;
            }
            c.deep_read = true;
        }
        Err(e) => findings.push(
            Finding::new(&R::FILE_UNREADABLE, format!("cannot read the payload: {e}")).at(loc()),
        ),
    }
}

/// The recorded Size against the content length (or, when unknown, the stored length).
fn size_findings(
    rec: &FileRecord,
    content_size: Option<u64>,
    stored: u64,
    findings: &mut Vec<Finding>,
    loc: &dyn Fn() -> Location,
) {
    let encrypted = rec.encryption_key.is_some();
    if let Some(size) = rec.size {
        match content_size {
            Some(n) if n != size => findings.push(
                Finding::new(&R::FILE_SIZE_MISMATCH, format!("recorded Size is {size} but the content is {n} bytes")).at(loc()),
            ),
            None if encrypted && stored != 16 * (size / 16 + 1) => findings.push(
                Finding::new(&R::FILE_SIZE_MISMATCH, format!("recorded Size {size} cannot produce {stored} bytes of AES-CBC/PKCS#7 ciphertext")).at(loc()),
            ),
            _ => {}
        }
    }
}

/// The finding a file key that cannot be had gets, if any: a failed unwrap, or a class
/// without a usable key that is not device-bound (device-bound classes, bad keys and a
/// locked backup have findings of their own, or none).
fn key_problem(why: &Unavailable, device_bound: bool) -> Option<String> {
    match why {
        Unavailable::Key(KeyUnavailable::UnwrapFailed(..)) => Some(why.to_string()),
        Unavailable::Key(e) if !device_bound => Some(format!(
            "class {} has no class key in the keybag",
            e.class()
        )),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::crypto::wrap::wrap32;
    use crate::crypto::{ClassKeyState, ClassKeys, Key32, WrappedKey};

    fn ctx<'a>(listing: &'a ContentScan, keys: Option<&'a ClassKeys>) -> FileCtx<'a> {
        FileCtx {
            listing,
            keys,
            class_wrap: HashMap::from([(3, 2), (9, 3)]),
            check_fileid: false,
            encrypted_backup: true,
            deep: false,
            deep_hash: false,
            deep_done: AtomicU64::new(0),
            deep_total: AtomicU64::new(0),
            deep_progress: None,
            deep_only: None,
        }
    }

    /// A file row of class `class` whose EncryptionKey is `key`.
    fn row(class: Option<u32>, key: Option<&[u8]>) -> FileRecord {
        let mut r = FileRecord::new("00".repeat(20), "HomeDomain".into(), "a".into());
        r.kind = FileKind::File;
        r.protection_class = class;
        r.encryption_key = key.map(WrappedKey::parse);
        r
    }

    fn stored(class: u32, kek: [u8; 32]) -> Vec<u8> {
        let mut v = class.to_le_bytes().to_vec();
        v.extend_from_slice(&wrap32(&Key32::new(kek), &Key32::new([1; 32])));
        v
    }

    /// (rule, message) of each finding but the missing payload's (no payload is listed).
    fn said(ctx: &FileCtx<'_>, r: FileRecord) -> Vec<(&'static str, String)> {
        let ids = RowIds::of(&r);
        file_report(ctx, r, None, &ids)
            .findings
            .into_iter()
            .filter(|f| f.rule != R::FILE_MISSING.id)
            .map(|f| (f.rule, f.message))
            .collect()
    }

    #[test]
    fn key_prefix_against_protection_class() {
        let listing = ContentScan::default();
        let c = ctx(&listing, None);
        // Same class: nothing to say.
        assert_eq!(said(&c, row(Some(3), Some(&stored(3, [5; 32])))), []);
        // The prefix differs: file.class-mismatch, and the key's class is the one used.
        let f = said(&c, row(Some(4), Some(&stored(3, [5; 32]))));
        assert_eq!(
            f,
            [(
                R::FILE_CLASS_MISMATCH.id,
                "ProtectionClass is 4 but the EncryptionKey is wrapped with class 3".to_string()
            )]
        );
        // A key of the wrong length keeps its prefix for the comparison.
        let mut short = stored(2, [5; 32]);
        short.pop();
        let f = said(&c, row(Some(4), Some(&short)));
        let rules: Vec<_> = f.iter().map(|x| x.0).collect();
        assert_eq!(rules, [R::FILE_CLASS_MISMATCH.id, R::FILE_BAD_KEY.id]);
        assert_eq!(f[1].1, "EncryptionKey is 43 bytes, expected 44");
        // Too short for a prefix: only the length.
        let f = said(&c, row(Some(4), Some(&[4, 0])));
        assert_eq!(
            f,
            [(
                R::FILE_BAD_KEY.id,
                "EncryptionKey is 2 bytes, expected 44".to_string()
            )]
        );
    }

    #[test]
    fn key_unwrap_findings() {
        let listing = ContentScan::default();
        let keys = ClassKeys {
            keys: [
                (3, ClassKeyState::Available(Key32::new([5; 32]))),
                (9, ClassKeyState::DeviceBound),
            ]
            .into_iter()
            .collect(),
        };
        let c = ctx(&listing, Some(&keys));
        // The right class key: no finding.
        assert_eq!(said(&c, row(Some(3), Some(&stored(3, [5; 32])))), []);
        // The wrong one: unwrap failed.
        let f = said(&c, row(Some(3), Some(&stored(3, [6; 32]))));
        assert_eq!(f.len(), 1);
        assert_eq!(f[0].0, R::FILE_KEY_UNWRAP_FAILED.id);
        assert!(f[0]
            .1
            .starts_with("the file key does not unwrap with class key 3: "));
        // No class key in the keybag.
        let f = said(&c, row(Some(7), Some(&stored(7, [5; 32]))));
        assert_eq!(
            f,
            [(
                R::FILE_KEY_UNWRAP_FAILED.id,
                "class 7 has no class key in the keybag".to_string()
            )]
        );
        // Device-bound: said once, as such, not as an unwrap failure.
        let f = said(&c, row(Some(9), Some(&stored(9, [5; 32]))));
        let rules: Vec<_> = f.iter().map(|x| x.0).collect();
        assert_eq!(rules, [R::FILE_DEVICE_BOUND.id]);
        // Locked: nothing about keys.
        let locked = ctx(&listing, None);
        assert_eq!(said(&locked, row(Some(3), Some(&stored(3, [6; 32])))), []);
    }
}
