//! Per-file classification of one index row: presence, class, keys, sizes, findings.

use super::finding::rules as R;
use super::model::FileReport;
use super::payload::{deep_verify, deep_verify_bytes, looks_plaintext, padded_len, read_ends};
use super::protection::class_name;
use super::Finding;
use crate::backup::{ContentScan, FileId};
use crate::crypto;
use crate::crypto::keybag::WRAP_DEVICE;
use crate::index::{FileKind, FileRecord};
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
    pub(super) deep: bool,
    /// With `deep`: hash each payload's content (SHA-256).
    pub(super) deep_hash: bool,
    pub(super) deep_done: AtomicU64,
    /// Bytes `deep` expects to read (the payloads on disk; 0 without a progress callback).
    pub(super) deep_total: u64,
    pub(super) deep_progress: Option<&'a (dyn Fn(u64, u64) + Sync)>,
}

fn kind_str(k: FileKind) -> &'static str {
    match k {
        FileKind::File => "file",
        FileKind::Directory => "directory",
        FileKind::Symlink => "symlink",
        FileKind::Other => "other",
    }
}

pub(super) fn file_report(
    ctx: &FileCtx<'_>,
    rec: FileRecord,
    payload: Option<usize>,
    encrypted_backup: bool,
) -> FileReport {
    let mut findings = Vec::new();
    let loc = || format!("{}/{}", rec.domain, rec.relative_path);
    let fid = FileId::parse(&rec.file_id);
    if fid.is_none() {
        findings.push(
            Finding::new(
                &R::FILE_BAD_FILEID,
                format!("fileID {:?} is not 40 lowercase hex digits", rec.file_id),
            )
            .at(loc()),
        );
    }
    if ctx.check_fileid {
        let expect = FileId::compute(&rec.domain, &rec.relative_path);
        if fid.as_ref().map(|f| f.as_str()) != Some(expect.as_str()) {
            findings.push(
                Finding::new(
                    &R::FILE_ID_MISMATCH,
                    format!(
                        "fileID is {} but SHA-1(domain-relativePath) is {}",
                        rec.file_id,
                        expect.as_str()
                    ),
                )
                .at(loc()),
            );
        }
    }
    for p in &rec.problems {
        findings.push(Finding::new(&R::FILE_RECORD_PROBLEM, p.clone()).at(loc()));
    }
    let key_class = rec
        .encryption_key
        .as_ref()
        .filter(|k| k.len() >= 4)
        .map(|k| u32::from_le_bytes([k[0], k[1], k[2], k[3]]));
    let protection_class = rec.protection_class.or(key_class);
    if let (Some(a), Some(b)) = (rec.protection_class, key_class) {
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
    let encrypted = rec.encryption_key.is_some();
    let wrap_class = key_class.or(protection_class);
    let device_bound = encrypted
        && wrap_class
            .and_then(|c| ctx.class_wrap.get(&c))
            .is_some_and(|w| w & WRAP_DEVICE != 0);
    let mut status = "n/a";
    let mut stored_size = None;
    let mut content_size = None;
    let mut sha256 = None;
    let mut deep_read = false;
    if rec.kind == FileKind::File {
        // The payload as listed (regular files only; symlinks are not followed).
        let listed = payload.map(|i| &ctx.listing.files[i]);
        if listed.is_some() {
            status = "present";
        } else {
            status = "missing";
            findings.push(
                Finding::new(
                    &R::FILE_MISSING,
                    "the index lists this file but its payload is not on disk",
                )
                .at(loc()),
            );
        }
        if let Some(k) = &rec.encryption_key {
            if k.len() != 44 {
                findings.push(
                    Finding::new(
                        &R::FILE_BAD_KEY,
                        format!("EncryptionKey is {} bytes, expected 44", k.len()),
                    )
                    .at(loc()),
                );
            }
        } else if encrypted_backup && rec.size.unwrap_or(0) > 0 {
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
        // The file key, when the class key is available.
        let mut file_key = None;
        if let (Some(keys), Some(k)) = (
            ctx.keys,
            rec.encryption_key.as_ref().filter(|k| k.len() == 44),
        ) {
            let class = key_class.unwrap_or(0);
            match keys.get(class) {
                Some(ck) => match crypto::wrap::unwrap32(ck, &k[4..]) {
                    Ok(fk) => file_key = Some(fk),
                    Err(e) => findings.push(
                        Finding::new(
                            &R::FILE_KEY_UNWRAP_FAILED,
                            format!("the file key does not unwrap with class key {class}: {e}"),
                        )
                        .at(loc()),
                    ),
                },
                None if !device_bound => findings.push(
                    Finding::new(
                        &R::FILE_KEY_UNWRAP_FAILED,
                        format!("class {class} has no class key in the keybag"),
                    )
                    .at(loc()),
                ),
                None => {}
            }
        }
        // The payload is opened when its content matters (a key, or `deep`), else only
        // sized; either resolves one name in its open folder.
        let opened = listed.and_then(|c| {
            let r = if encrypted || ctx.deep {
                ctx.listing.open(c).map(|(f, n)| (Some(f), n))
            } else {
                ctx.listing.len(c).map(|n| (None, n))
            };
            r.map_err(|e| {
                findings.push(
                    Finding::new(&R::FILE_UNREADABLE, format!("cannot read the payload: {e}"))
                        .at(loc()),
                )
            })
            .ok()
        });
        if let Some((file, stored)) = opened {
            stored_size = Some(stored);
            // First and last blocks, read with the one open, when a key makes them matter.
            let mut ends = file
                .as_ref()
                .filter(|_| encrypted && stored > 0 && stored % 16 == 0)
                .map(|f| read_ends(f, stored, ctx.deep));
            let plaintext_magic = encrypted && stored > 0 && looks_plaintext(ends.as_ref(), stored);
            if plaintext_magic {
                // The row has a key but the payload is not ciphertext: a decrypted copy.
                findings.push(
                    Finding::new(
                        &R::FILE_NOT_CIPHERTEXT,
                        "the row carries an EncryptionKey but the payload is plaintext (stored decrypted)",
                    )
                    .at(loc()),
                );
                content_size = Some(stored);
            } else if !encrypted || stored == 0 {
                // An empty payload is an empty file, with or without a key (iOS writes
                // zero-byte payloads for empty files and keeps their EncryptionKey).
                content_size = Some(stored);
            } else if let Some(fk) = &file_key {
                match padded_len(ends.as_ref(), stored, fk) {
                    Ok(n) => content_size = Some(n),
                    Err(e) => findings.push(Finding::new(&R::FILE_DECRYPT_FAILED, e).at(loc())),
                }
            }
            if ctx.deep && (!encrypted || stored == 0 || plaintext_magic || file_key.is_some()) {
                let key = file_key.as_ref().filter(|_| stored > 0 && !plaintext_magic);
                // A small payload read whole for its ends is verified from memory.
                let whole = ends
                    .as_mut()
                    .and_then(|e| e.as_mut().ok())
                    .and_then(|e| e.whole_mut());
                let verified = match (whole, &file) {
                    (Some(b), _) => Ok(deep_verify_bytes(b, key, ctx.deep_hash)),
                    (None, Some(f)) => deep_verify(f, key, ctx.deep_hash),
                    (None, None) => Err(std::io::Error::other("the payload was not opened")),
                };
                match verified {
                    Ok(d) => {
                        if let Some(problem) = d.problem {
                            findings.push(Finding::new(&R::FILE_DECRYPT_FAILED, problem).at(loc()));
                        } else {
                            content_size = Some(d.plaintext_len);
                        }
                        sha256 = d.sha256;
                        deep_read = true;
                    }
                    Err(e) => findings.push(
                        Finding::new(&R::FILE_UNREADABLE, format!("cannot read the payload: {e}"))
                            .at(loc()),
                    ),
                }
                let done = ctx.deep_done.fetch_add(stored, Ordering::Relaxed) + stored;
                if let Some(cb) = ctx.deep_progress {
                    cb(done, ctx.deep_total);
                }
            }
            // Size versus what is stored.
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
    }
    FileReport {
        domain: rec.domain,
        relative_path: rec.relative_path,
        file_id: rec.file_id,
        kind: kind_str(rec.kind),
        status,
        encrypted,
        protection_class,
        protection_class_name: protection_class.map(class_name),
        device_bound,
        size: rec.size,
        stored_size,
        content_size,
        sha256,
        deep_read,
        target: rec.target,
        mode: rec.mode.map(|m| format!("0o{m:o}")),
        // Set by the scan once every domain is known (see `ownership`).
        app: None,
        findings,
    }
}
