//! An opened backup: its plists, keybag, unlocked class keys and readable index.

pub mod payload;

use crate::backup::{Backup, ContentScan, DbState, IndexKind, Located};
use crate::crypto::{self, ClassKeys, CryptoError, Key32, KeyUnavailable, Keybag, Password};
use crate::index::{self, FileRecord};
use crate::Error;
use std::path::{Path, PathBuf};
use zeroize::Zeroize;

/// Largest index accepted (real iOS 26 Manifest.db files reach 1.55 GB). A Manifest.mbdb is
/// read into memory; an encrypted Manifest.db is read page by page, never whole.
pub const MAX_INDEX_BYTES: u64 = 8 << 30;

/// Bytes of the decrypted index's start that are read: the SQLite header's first 100 bytes.
const HEAD: usize = 112;

/// Check the encrypted index at `path` (a regular file of at most `max` bytes, a
/// non-zero multiple of 16) and decrypt its ends: the ciphertext length, the first 112
/// plaintext bytes (the SQLite header) and the PKCS#7 padding length, if valid.
fn probe_encrypted(
    path: &Path,
    max: u64,
    key: &Key32,
) -> Result<(u64, [u8; HEAD], Option<usize>), Error> {
    let io = |e: std::io::Error| Error::backup(path, format!("cannot read: {e}"));
    let (file, len) = crate::backup::open_capped(path, max).map_err(Error::from)?;
    const B: u64 = crypto::cbc::BLOCK as u64;
    if len < 2 * B || len % B != 0 {
        return Err(Error::backup(
            path,
            format!(
                "decrypting with the ManifestKey: CBC ciphertext is {len} bytes, expected a multiple of 16 of at least 32"
            ),
        ));
    }
    let mut head = [0u8; HEAD];
    let n = len.min(HEAD as u64) as usize;
    crate::backup::read_exact_at(&file, &mut head[..n], 0).map_err(io)?;
    crypto::cbc::decrypt_piece(key, &[0u8; 16], &mut head[..n]);
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

/// The database length an SQLite header states (page count × page size), when its page
/// count is valid (non-zero, and "version-valid-for" equals the change counter).
fn header_db_len(head: &[u8; HEAD]) -> Option<u64> {
    let be32 = |i: usize| u32::from_be_bytes([head[i], head[i + 1], head[i + 2], head[i + 3]]);
    let page = match u16::from_be_bytes([head[16], head[17]]) {
        1 => 65536,
        n => u64::from(n),
    };
    let pages = u64::from(be32(28));
    (pages > 0 && page >= 512 && be32(92) == be32(24)).then_some(pages * page)
}

/// Length of the database inside an encrypted Manifest.db of `ct_len` bytes whose
/// decrypted header starts with `head` and whose last block ends in valid PKCS#7 padding of
/// `pad` bytes (if any), and a note when the padding was not removed. A ciphertext that is a
/// whole number of database pages (header bytes 16–17; 1 means 65536) cannot hold a padded
/// database of whole pages: it is unpadded, whatever its last byte happens to be.
fn plaintext_len(ct_len: u64, head: &[u8], pad: Option<usize>) -> (u64, Option<&'static str>) {
    let page = match u16::from_be_bytes([head[16], head[17]]) {
        1 => 65536,
        n => u64::from(n),
    };
    let whole_pages = page >= 512 && ct_len % page == 0;
    match pad {
        Some(p) if !whole_pages => (ct_len - p as u64, None),
        Some(_) => (
            ct_len,
            Some("Manifest.db ciphertext is a whole number of database pages, so it carries no PKCS#7 padding (its last byte only looks like some); it was read without removing any"),
        ),
        None => (
            ct_len,
            Some("Manifest.db ciphertext has no valid PKCS#7 padding; it was read without removing any (SQLite magic is valid)"),
        ),
    }
}

/// Prompted passwords: attempts before a wrong one is final (as `sudo`).
pub const PASSWORD_TRIES: u32 = 3;

/// Credentials to unlock a backup with.
#[derive(Default)]
pub enum Unlock {
    #[default]
    None,
    Password(Password),
    /// The derived key-encryption key (from `auditor key`).
    Key(Key32),
}

/// Progress callback for key derivation: one scale over both stages (see
/// [`crypto::kdf::DeriveProgress`]).
pub type KdfProgress<'a> = &'a mut dyn FnMut(crypto::kdf::DeriveProgress);

/// An opened backup.
pub struct Session {
    pub backup: Backup,
    pub keybag: Option<Keybag>,
    /// Why the keybag could not be parsed, when it could not.
    pub keybag_error: Option<CryptoError>,
    pub class_keys: Option<ClassKeys>,
    pub kek: Option<Key32>,
    /// Observations made while reading (e.g. an unpadded encrypted index).
    pub notes: std::cell::RefCell<Vec<String>>,
    /// The one listing of the payload folders, made on first use ([`Session::listing`]).
    listing: std::cell::OnceCell<ContentScan>,
    /// The payload folders opened for look-ups by name ([`Session::payloads_by_name`]).
    folders: std::cell::OnceCell<ContentScan>,
}

impl Session {
    /// Open the backup folder and parse what needs no secret.
    pub fn open(path: &Path) -> Result<Session, Error> {
        Ok(Session::of(Backup::open(path).map_err(Error::from)?))
    }

    /// Open a Manifest.plist on its own ([`Backup::open_manifest`]): its keybag can be
    /// reported and unlocked; there is no index and no payload.
    pub fn open_manifest(path: &Path) -> Result<Session, Error> {
        Ok(Session::of(
            Backup::open_manifest(path).map_err(Error::from)?,
        ))
    }

    /// Open what [`resolve`] found.
    pub fn open_target(target: &Target) -> Result<Session, Error> {
        match target {
            Target::Folder { path, .. } => Session::open(path),
            Target::ManifestPlist(path) => Session::open_manifest(path),
        }
    }

    /// The session of an opened backup, its keybag parsed.
    fn of(backup: Backup) -> Session {
        let (keybag, keybag_error) = match backup.manifest.as_ref().and_then(|m| m.keybag.as_ref())
        {
            None => (None, None),
            Some(bytes) => match Keybag::parse(bytes) {
                Ok(k) => (Some(k), None),
                Err(e) => (None, Some(e)),
            },
        };
        Session {
            backup,
            keybag,
            keybag_error,
            class_keys: None,
            kek: None,
            notes: Default::default(),
            listing: Default::default(),
            folders: Default::default(),
        }
    }

    fn manifest_path(&self) -> std::path::PathBuf {
        self.backup.manifest_path()
    }

    /// A keybag error, about Manifest.plist.
    fn keybag_err(&self, source: CryptoError) -> Error {
        Error::Keybag {
            path: self.manifest_path(),
            source,
        }
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
                    Some(source) => self.keybag_err(source.clone()),
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
                let params = keybag.kdf_params().map_err(|e| self.keybag_err(e))?;
                crypto::kdf::derive_kek(&p, &params, progress)
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
            Err(e) => Err(self.keybag_err(e)),
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
        let mk = crypto::WrappedKey::parse(mk).map_err(|bad| {
            Error::backup(
                self.manifest_path(),
                format!(
                    "ManifestKey is {} bytes, expected 44 (class + 40-byte wrapped key)",
                    bad.len
                ),
            )
        })?;
        let key = mk.unwrap(keys).map_err(|e| {
            let problem = match e {
                KeyUnavailable::UnwrapFailed(_, e) => format!("ManifestKey: {e}"),
                e => format!("ManifestKey class {} has no usable class key", e.class()),
            };
            Error::backup(self.manifest_path(), problem)
        })?;
        let (ct_len, head, pad) = probe_encrypted(path, MAX_INDEX_BYTES, &key)?;
        if !head.starts_with(b"SQLite format 3\0") {
            return Err(Error::backup(
                path,
                "decrypted Manifest.db is not an SQLite database (the ManifestKey does not fit it, or it is corrupt)",
            ));
        }
        let (plain_len, note) = plaintext_len(ct_len, &head, pad);
        // The key is right (the keybag unlocked and the header decrypted): an index shorter
        // than its header says was cut short.
        if let Some(want) = header_db_len(&head).filter(|&n| n > plain_len) {
            return Err(Error::backup(
                path,
                format!(
                    "the encrypted index is truncated: its SQLite header counts {want} bytes of pages but the file holds {ct_len} bytes of ciphertext (the password is right: the header decrypted)"
                ),
            ));
        }
        if let Some(n) = note {
            self.notes.borrow_mut().push(n.into());
        }
        Ok((key, ct_len, plain_len))
    }

    /// Open the index (None when it is ciphertext and the backup is locked).
    pub fn index(&self) -> Result<Option<index::Index>, Error> {
        Ok(Some(match &self.backup.index {
            IndexKind::None => return Ok(None),
            IndexKind::ManifestDb { path, state, len } => match state {
                DbState::Ciphertext => {
                    if self.class_keys.is_none() {
                        return Ok(None);
                    }
                    let (key, ct_len, plain_len) = self.encrypted_index(path)?;
                    index::Index::open_encrypted(path, key, ct_len, plain_len)?
                }
                DbState::Unknown if self.is_encrypted() => {
                    return Err(Error::backup(
                        path,
                        format!(
                            "the backup is encrypted but Manifest.db ({len} bytes) is neither an SQLite database nor a whole number of 16-byte cipher blocks: the encrypted index is truncated or damaged"
                        ),
                    ));
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

    /// The one listing of the payload folders (no size read): made on first use, then
    /// kept, so that the scan, the canary search and the keychain share it.
    pub fn listing(&self) -> Result<&ContentScan, Error> {
        if let Some(l) = self.listing.get() {
            return Ok(l);
        }
        let l = self.backup.content_listing(false).map_err(Error::from)?;
        Ok(self.listing.get_or_init(|| l))
    }

    /// The payload opener: the listing and the class keys (see [`payload`]).
    pub fn payloads(&self) -> Result<payload::Payloads<'_>, Error> {
        Ok(payload::Payloads::new(
            self.listing()?,
            self.class_keys.as_ref(),
        ))
    }

    /// A payload opener that finds each payload by name in its opened folder instead of in
    /// the listing ([`crate::backup::Backup::content_folders`]), for a job that opens given
    /// payloads and needs no list of the others (`extract`, `leaks`, `tamper`, `patch`, the
    /// keychain audit); the listing when it was made already (by a scan).
    pub fn payloads_by_name(&self) -> Result<payload::Payloads<'_>, Error> {
        let scan = match self.listing.get() {
            Some(l) => l,
            None => match self.folders.get() {
                Some(f) => f,
                None => {
                    let f = self.backup.content_folders().map_err(Error::from)?;
                    self.folders.get_or_init(|| f)
                }
            },
        };
        Ok(payload::Payloads::new(scan, self.class_keys.as_ref()))
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

/// How [`open_unlocked`] unlocks a backup.
pub struct OpenOptions<'a> {
    /// What the user gave to unlock with (`Unlock::None`: nothing).
    pub unlock: Unlock,
    /// The device's UID-derived key 0x835 (examiners), which opens device-bound class keys.
    pub device_key: Option<&'a [u8]>,
    /// The caller cannot do its job without the class keys: an encrypted backup that stays
    /// locked is then [`Error::PasswordNeeded`].
    pub keys_needed: bool,
    /// Asks for the password when none was given and one is wanted (called with the attempt,
    /// 1 to [`PASSWORD_TRIES`]: a wrong one is asked again); `None`: never ask.
    pub ask_password: Option<&'a mut dyn FnMut(u32) -> Result<Password, Error>>,
    /// Key-derivation progress (one scale over both stages; a password asked again
    /// starts a new derivation, from 0).
    pub progress: KdfProgress<'a>,
}

/// What a path given by the user names, once resolved by [`resolve`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Target {
    /// One backup folder; `only_in` is the folder given when this backup was the only one
    /// found in it (one or two levels down).
    Folder {
        path: PathBuf,
        only_in: Option<PathBuf>,
    },
    /// A Manifest.plist on its own (a regular file, whatever its name).
    ManifestPlist(PathBuf),
}

impl Target {
    /// The file or folder to read.
    pub fn path(&self) -> &Path {
        match self {
            Target::Folder { path, .. } | Target::ManifestPlist(path) => path,
        }
    }

    /// The backup folder, for the commands that need a whole backup: a file is refused
    /// (exit 4), named, with what to pass instead.
    pub fn folder(self) -> Result<PathBuf, Error> {
        match self {
            Target::Folder { path, .. } => Ok(path),
            Target::ManifestPlist(path) => Err(crate::backup::BackupError::NotABackup {
                path,
                problem: crate::backup::FILE_NOT_FOLDER.into(),
            }
            .into()),
        }
    }
}

/// Resolve `path` to one backup folder, the only backup in a folder (one or two levels
/// down), or a file; a folder holding several backups is refused with their list
/// ([`Error::SeveralBackups`]).
pub fn resolve(path: &Path) -> Result<Target, Error> {
    match crate::backup::locate(path)? {
        Located::Single(p) => Ok(Target::Folder {
            path: p,
            only_in: None,
        }),
        Located::File(p) => Ok(Target::ManifestPlist(p)),
        Located::Collection(mut backups) if backups.len() == 1 => Ok(Target::Folder {
            path: backups.remove(0).path,
            only_in: Some(path.to_path_buf()),
        }),
        Located::Collection(backups) => Err(Error::SeveralBackups {
            path: path.to_path_buf(),
            backups,
        }),
    }
}

/// Resolve `path` to one backup folder ([`resolve`]; a file is refused, see
/// [`Target::folder`]).
pub fn locate(path: &Path) -> Result<PathBuf, Error> {
    resolve(path)?.folder()
}

/// Open the backup folder at `path` and unlock it with what `opts` gives. A password is
/// asked for (when the caller may ask) only if the backup is encrypted and either the keys
/// are needed or the index is ciphertext.
pub fn open_unlocked(path: &Path, opts: OpenOptions<'_>) -> Result<Session, Error> {
    unlock_opened(Session::open(path)?, opts)
}

/// Unlock an opened session with what `opts` gives (as [`open_unlocked`]).
pub fn unlock_opened(mut session: Session, opts: OpenOptions<'_>) -> Result<Session, Error> {
    let path = session.backup.root.clone();
    let encrypted = session.is_encrypted();
    let mut ask = None;
    let unlock = match opts.unlock {
        Unlock::None => {
            let wants = encrypted && (opts.keys_needed || session.index_is_ciphertext());
            match opts.ask_password {
                Some(a) if wants => {
                    let pw = a(1)?;
                    ask = Some(a);
                    Unlock::Password(pw)
                }
                _ if opts.keys_needed && encrypted => {
                    return Err(Error::PasswordNeeded(path.to_path_buf()))
                }
                _ => Unlock::None,
            }
        }
        given => given,
    };
    if matches!(unlock, Unlock::None) && opts.device_key.is_none() {
        return Ok(session);
    }
    let mut unlock = unlock;
    let mut attempt = 1;
    loop {
        match session.unlock(unlock, opts.device_key, &mut *opts.progress) {
            // A prompted password that is wrong is asked again, as `sudo` does.
            Err(Error::CredentialsWrong(_)) if attempt < PASSWORD_TRIES && ask.is_some() => {
                attempt += 1;
                unlock = Unlock::Password(
                    ask.as_mut()
                        .map_or_else(|| Err(Error::Internal("no prompt".into())), |a| a(attempt))?,
                );
            }
            r => return r.map(|_| session),
        }
    }
}
#[cfg(test)]
mod tests {
    use super::{open_unlocked, plaintext_len, OpenOptions, Unlock};
    use crate::crypto::Password;
    use crate::{Error, ExitCode};
    use std::path::{Path, PathBuf};

    /// The bundled demo backup (encrypted, its index ciphertext) and its password.
    fn demo() -> (PathBuf, String) {
        let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/demo");
        let pw = std::fs::read_to_string(root.join("password.txt")).unwrap();
        (
            root.join("00008130-000A11CE0DE0001E"),
            pw.trim_end().to_string(),
        )
    }

    /// Open the demo with nothing given, `keys_needed`, and `ask` (counting its calls).
    fn open_demo(keys_needed: bool, ask: bool) -> (Result<super::Session, Error>, usize) {
        let (dir, pw) = demo();
        let mut asked = 0;
        let mut ask_fn = |_| {
            asked += 1;
            Ok(Password::from_string(pw.clone()))
        };
        let opts = OpenOptions {
            unlock: Unlock::None,
            device_key: None,
            keys_needed,
            ask_password: if ask { Some(&mut ask_fn) } else { None },
            progress: &mut |_| {},
        };
        let r = open_unlocked(&dir, opts);
        (r, asked)
    }

    #[test]
    fn open_unlocked_asks_only_when_it_may_and_a_password_is_wanted() {
        // Keys needed and no way to ask: the typed error, exit 3, naming the backup.
        let (r, _) = open_demo(true, false);
        let e = r.err().expect("locked");
        assert!(matches!(e, Error::PasswordNeeded(_)), "{e:?}");
        assert_eq!(e.exit_code(), ExitCode::Credentials);
        assert!(e
            .to_string()
            .ends_with(": the backup is encrypted and a password is needed"));
        // Keys not needed and no way to ask: opened locked.
        let (r, _) = open_demo(false, false);
        assert!(r.unwrap().class_keys.is_none());
        // The index is ciphertext: asked once even when the keys are not needed.
        for needed in [true, false] {
            let (r, asked) = open_demo(needed, true);
            assert!(r.unwrap().class_keys.is_some());
            assert_eq!(asked, 1);
        }
        // A password given is used and nothing is asked.
        let (dir, pw) = demo();
        let mut asked = false;
        let mut ask = |_| {
            asked = true;
            Err(Error::CredentialsMissing("no".into()))
        };
        let s = open_unlocked(
            &dir,
            OpenOptions {
                unlock: Unlock::Password(Password::from_string(pw)),
                device_key: None,
                keys_needed: true,
                ask_password: Some(&mut ask),
                progress: &mut |_| {},
            },
        )
        .unwrap();
        assert!(s.class_keys.is_some() && !asked);
    }

    /// Open the demo asking with `answers` in turn (the last repeated); the attempts seen.
    fn open_demo_asking(answers: &[&str]) -> (Result<super::Session, Error>, Vec<u32>) {
        let (dir, _) = demo();
        let mut seen = Vec::new();
        let mut ask = |attempt: u32| {
            seen.push(attempt);
            let i = (attempt as usize - 1).min(answers.len() - 1);
            Ok(Password::from_string(answers[i].to_string()))
        };
        let r = open_unlocked(
            &dir,
            OpenOptions {
                unlock: Unlock::None,
                device_key: None,
                keys_needed: true,
                ask_password: Some(&mut ask),
                progress: &mut |_| {},
            },
        );
        (r, seen)
    }

    #[test]
    fn a_wrong_prompted_password_is_asked_again_up_to_three_times() {
        let (_, pw) = demo();
        // Wrong, then right: unlocked on the second attempt.
        let (r, seen) = open_demo_asking(&["wrong", &pw]);
        assert!(r.unwrap().class_keys.is_some());
        assert_eq!(seen, [1, 2]);
        // Always wrong: three attempts, then the credentials error.
        let (r, seen) = open_demo_asking(&["wrong"]);
        assert!(matches!(r.err(), Some(Error::CredentialsWrong(_))));
        assert_eq!(seen, [1, 2, 3]);
        // Right at once: asked once.
        let (r, seen) = open_demo_asking(&[&pw]);
        assert!(r.is_ok());
        assert_eq!(seen, [1]);
    }

    #[test]
    fn a_wrong_password_is_a_credentials_error() {
        let (dir, _) = demo();
        let e = open_unlocked(
            &dir,
            OpenOptions {
                unlock: Unlock::Password(Password::from_string("wrong".into())),
                device_key: None,
                keys_needed: true,
                ask_password: None,
                progress: &mut |_| {},
            },
        )
        .err()
        .expect("wrong password");
        assert!(matches!(e, Error::CredentialsWrong(_)), "{e:?}");
    }

    #[test]
    fn padding_is_judged_against_the_page_size() {
        let mut head = [0u8; 32];
        head[..16].copy_from_slice(b"SQLite format 3\0");
        head[16..18].copy_from_slice(&4096u16.to_be_bytes());
        // Padded: 8192 bytes of pages + a whole block of padding.
        assert_eq!(plaintext_len(8208, &head, Some(16)), (8192, None));
        // Whole pages whose last byte is 0x01: not padding.
        let (n, note) = plaintext_len(8192, &head, Some(1));
        assert_eq!(n, 8192);
        assert!(note.unwrap().contains("whole number of database pages"));
        // No valid padding at all.
        let (n, note) = plaintext_len(8192, &head, None);
        assert_eq!(n, 8192);
        assert!(note.unwrap().contains("no valid PKCS#7 padding"));
        // Page size 1 means 65536.
        head[16..18].copy_from_slice(&1u16.to_be_bytes());
        assert_eq!(plaintext_len(65536, &head, Some(2)).0, 65536);
        assert_eq!(plaintext_len(65536 + 16, &head, Some(16)).0, 65536);
    }
}
