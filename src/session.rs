//! An opened backup: its plists, keybag, unlocked class keys and readable index.

use crate::backup::{Backup, DbState, IndexKind};
use crate::crypto::{self, ClassKeys, CryptoError, Key32, Keybag, Password};
use crate::index::{self, FileRecord};
use crate::Error;
use std::path::Path;
use zeroize::Zeroize;

/// Largest index read into memory (real iOS 26 Manifest.db files reach 1.55 GB).
pub const MAX_INDEX_BYTES: u64 = 8 << 30;

/// A keybag error for a message about Manifest.plist, said once ("keybag: …").
fn keybag_problem(e: &dyn std::fmt::Display) -> String {
    let s = e.to_string();
    if s.starts_with("keybag") || s.starts_with("corrupt keybag") {
        s
    } else {
        format!("keybag: {s}")
    }
}

/// Check the encrypted index at `path` (a regular file of at most `max` bytes, a
/// non-zero multiple of 16) and decrypt its ends: the ciphertext length, the first 32
/// plaintext bytes (SQLite header start) and the PKCS#7 padding length, if valid.
fn probe_encrypted(
    path: &Path,
    max: u64,
    key: &Key32,
) -> Result<(u64, [u8; 32], Option<usize>), Error> {
    let io = |e: std::io::Error| Error::backup(path, format!("cannot read: {e}"));
    // Checked before opening: opening a FIFO would block.
    let pre = std::fs::metadata(path).map_err(io)?;
    if !pre.is_file() {
        return Err(Error::backup(path, "not a regular file"));
    }
    let file = std::fs::File::open(path).map_err(io)?;
    let meta = file.metadata().map_err(io)?;
    if !meta.is_file() {
        return Err(Error::backup(path, "not a regular file"));
    }
    if meta.len() > max {
        return Err(Error::from(crate::backup::BackupError::TooLarge {
            path: path.to_path_buf(),
            size: meta.len(),
            limit: max,
        }));
    }
    let len = meta.len();
    const B: u64 = crypto::cbc::BLOCK as u64;
    if len < 2 * B || len % B != 0 {
        return Err(Error::backup(
            path,
            format!(
                "decrypting with the ManifestKey: CBC ciphertext is {len} bytes, expected a multiple of 16 of at least 32"
            ),
        ));
    }
    let mut head = [0u8; 32];
    crate::backup::read_exact_at(&file, &mut head, 0).map_err(io)?;
    crypto::cbc::decrypt_piece(key, &[0u8; 16], &mut head);
    let mut tail = [0u8; 32];
    crate::backup::read_exact_at(&file, &mut tail, len - 2 * B).map_err(io)?;
    let mut prev = [0u8; 16];
    prev.copy_from_slice(&tail[..16]);
    let mut last = [0u8; 16];
    last.copy_from_slice(&tail[16..]);
    crypto::cbc::decrypt_piece(key, &prev, &mut last);
    let pad = crypto::cbc::pkcs7_pad_len(&last);
    last.zeroize();
    Ok((len, head, pad))
}

/// Credentials to unlock a backup with.
pub enum Unlock {
    None,
    Password(Password),
    /// The derived key-encryption key (from `auditor key`).
    Key(Key32),
}

/// Progress callback for key derivation: (rounds done, rounds total).
pub type KdfProgress<'a> = &'a mut dyn FnMut(u64, u64);

/// An opened backup.
pub struct Session {
    pub backup: Backup,
    pub keybag: Option<Keybag>,
    /// Why the keybag could not be parsed, when it could not.
    pub keybag_error: Option<String>,
    pub class_keys: Option<ClassKeys>,
    pub kek: Option<Key32>,
    /// Observations made while reading (e.g. an unpadded encrypted index).
    pub notes: std::cell::RefCell<Vec<String>>,
}

impl Session {
    /// Open the backup folder and parse what needs no secret.
    pub fn open(path: &Path) -> Result<Session, Error> {
        let backup = Backup::open(path).map_err(Error::from)?;
        let (keybag, keybag_error) = match backup.manifest.as_ref().and_then(|m| m.keybag.as_ref())
        {
            None => (None, None),
            Some(bytes) => match Keybag::parse(bytes) {
                Ok(k) => (Some(k), None),
                Err(e) => (None, Some(e.to_string())),
            },
        };
        Ok(Session {
            backup,
            keybag,
            keybag_error,
            class_keys: None,
            kek: None,
            notes: Default::default(),
        })
    }

    fn manifest_path(&self) -> std::path::PathBuf {
        self.backup.root.join("Manifest.plist")
    }

    /// Is the backup declared or found encrypted (so a password means something)?
    pub fn is_encrypted(&self) -> bool {
        let declared = self
            .backup
            .manifest
            .as_ref()
            .and_then(|m| m.is_encrypted)
            .unwrap_or(false);
        declared || self.index_is_ciphertext()
    }

    /// Is the Manifest.db ciphertext?
    pub fn index_is_ciphertext(&self) -> bool {
        matches!(
            &self.backup.index,
            IndexKind::ManifestDb {
                state: DbState::Ciphertext,
                ..
            }
        )
    }

    /// Derive the KEK (unless a key was given) and unwrap the class keys.
    /// A wrong password or key is `Error::CredentialsWrong` (exit 3).
    pub fn unlock(
        &mut self,
        unlock: Unlock,
        device_key: Option<&[u8]>,
        progress: KdfProgress<'_>,
    ) -> Result<(), Error> {
        let keybag = match &self.keybag {
            Some(k) => k,
            None => {
                return Err(match &self.keybag_error {
                    Some(e) => Error::backup(self.manifest_path(), keybag_problem(&e)),
                    None => Error::backup(
                        self.manifest_path(),
                        "no BackupKeyBag: the backup cannot be unlocked",
                    ),
                })
            }
        };
        let kek = match unlock {
            // Without a password, a device key alone opens a keybag none of whose
            // classes is password-wrapped (unencrypted backups: every class WRAP=1).
            Unlock::None => match device_key {
                Some(_)
                    if !keybag
                        .classes
                        .iter()
                        .any(|c| c.wrap & crate::crypto::keybag::WRAP_PASSCODE != 0) =>
                {
                    Key32::new([0u8; 32])
                }
                _ => return Ok(()),
            },
            Unlock::Key(k) => k,
            Unlock::Password(p) => {
                let params = keybag
                    .kdf_params()
                    .map_err(|e| Error::backup(self.manifest_path(), keybag_problem(&e)))?;
                let total = params.dpic.map(u64::from).unwrap_or(0);
                let mut cb = |done: u32| progress(u64::from(done), total);
                crypto::kdf::derive_kek(&p, &params, &mut cb)
            }
        };
        match keybag.unlock(&kek, device_key) {
            Ok(keys) => {
                self.class_keys = Some(keys);
                self.kek = Some(kek);
                Ok(())
            }
            Err(CryptoError::WrongPassword) => Err(Error::CredentialsWrong(
                "wrong password or key: the keybag's class keys do not unwrap (RFC 3394 integrity check)".into(),
            )),
            Err(e) => Err(Error::backup(self.manifest_path(), keybag_problem(&e))),
        }
    }

    /// The key, ciphertext length and plaintext length of the ManifestKey-protected
    /// Manifest.db (iOS ≥ 10.2 encrypted backups), checked to decrypt to an SQLite header.
    fn encrypted_index(&self, path: &Path) -> Result<(Key32, u64, u64), Error> {
        let keys = self.class_keys.as_ref().ok_or_else(|| {
            Error::CredentialsMissing("the index is encrypted: a password is needed".into())
        })?;
        let mk = self
            .backup
            .manifest
            .as_ref()
            .and_then(|m| m.manifest_key.as_ref())
            .ok_or_else(|| {
                Error::backup(
                    self.manifest_path(),
                    "Manifest.db is ciphertext but there is no ManifestKey",
                )
            })?;
        if mk.len() != 44 {
            return Err(Error::backup(
                self.manifest_path(),
                format!(
                    "ManifestKey is {} bytes, expected 44 (class + 40-byte wrapped key)",
                    mk.len()
                ),
            ));
        }
        let class = u32::from_le_bytes([mk[0], mk[1], mk[2], mk[3]]);
        let class_key = keys.get(class).ok_or_else(|| {
            Error::backup(
                self.manifest_path(),
                format!("ManifestKey class {class} has no usable class key"),
            )
        })?;
        let key = crypto::wrap::unwrap32(class_key, &mk[4..])
            .map_err(|e| Error::backup(self.manifest_path(), format!("ManifestKey: {e}")))?;
        let (ct_len, head, pad) = probe_encrypted(path, MAX_INDEX_BYTES, &key)?;
        if !head.starts_with(b"SQLite format 3\0") {
            return Err(Error::backup(
                path,
                "decrypted Manifest.db is not an SQLite database (the ManifestKey does not fit it, or it is corrupt)",
            ));
        }
        // Page size (header bytes 16–17; 1 means 65536). A ciphertext that is a whole
        // number of pages cannot hold a padded database of whole pages: it is unpadded,
        // whatever its last byte happens to be.
        let page = match u16::from_be_bytes([head[16], head[17]]) {
            1 => 65536,
            n => u64::from(n),
        };
        let pad = pad.filter(|_| page < 512 || ct_len % page != 0);
        let plain_len = match pad {
            Some(p) => ct_len - p as u64,
            None => {
                self.notes.borrow_mut().push(
                    "Manifest.db ciphertext has no valid PKCS#7 padding; it was read without removing any (SQLite magic is valid)".into(),
                );
                ct_len
            }
        };
        Ok((key, ct_len, plain_len))
    }

    /// Open the index (None when it is ciphertext and the backup is locked).
    pub fn index(&self) -> Result<Option<index::Index>, Error> {
        Ok(Some(match &self.backup.index {
            IndexKind::None => return Ok(None),
            IndexKind::ManifestDb { path, state, .. } => match state {
                DbState::Ciphertext => {
                    if self.class_keys.is_none() {
                        return Ok(None);
                    }
                    let (key, ct_len, plain_len) = self.encrypted_index(path)?;
                    index::Index::open_encrypted(path, key, ct_len, plain_len)?
                }
                _ => index::Index::open_plain(path)?,
            },
            IndexKind::ManifestMbdb { path, .. } => {
                let bytes = self
                    .backup
                    .read_index_bytes(MAX_INDEX_BYTES)
                    .map_err(Error::from)?;
                index::Index::parse_mbdb(&path.display().to_string(), bytes)?
            }
        }))
    }

    /// Read every index row (None when the index is ciphertext and the backup is locked).
    /// A read error part-way is an error, never a partial result.
    pub fn records(&self) -> Result<Option<Vec<FileRecord>>, Error> {
        let Some(idx) = self.index()? else {
            return Ok(None);
        };
        let mut out = Vec::new();
        idx.for_each_record(|r| out.push(r))?;
        Ok(Some(out))
    }
}
