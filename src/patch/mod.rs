//! `auditor patch`: write a complete, modified copy of a backup (a value set, a file replaced
//! or deleted) that stays consistent, and the receipt of every change.
//!
//! The changes are planned against the index (each names a regular file by domain and
//! relativePath), applied to the files' decrypted content in memory ([`edit`]), and written
//! into a new folder beside the output folder, which is renamed into place only once the
//! whole backup is written ([`out`]): a failure leaves no half-written backup. A changed file
//! is encrypted again with its own file key (the same `EncryptionKey`, so the class and the
//! wrapping are those of the original; AES-256-CBC with the zero IV and PKCS#7, FORMAT §8.1),
//! its index row gets the new plaintext `Size` (and `Digest`, when it had one) ([`archive`]),
//! and the index is written again: Manifest.db decrypted in memory, edited with SQLite and
//! encrypted with the same ManifestKey, or Manifest.mbdb rewritten in place ([`index`]).
//! Every other file is copied byte for byte. The source backup is only read. What a
//! restore checks, and why the plists are left as they are: docs/backup-writing.md.

pub mod archive;
pub mod edit;
pub mod index;
pub mod out;
pub mod receipt;

pub use edit::{KeyPath, NewValue, Shown};
pub use receipt::{ChangeReceipt, Receipt, PATCH_RECEIPT_SCHEMA};

use crate::backup::IndexKind;
use crate::index::{FileKind, FileRecord};
use crate::session::payload::{ReadError, Unavailable};
use crate::session::Session;
use sha2::{Digest as _, Sha256};
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use zeroize::Zeroizing;

/// Largest file whose value is set (plists and JSON documents are small).
pub const MAX_EDIT_BYTES: u64 = 256 << 20;
/// Largest file read whole for a replace or delete (its SHA-256 before), and largest local
/// file a replace takes.
pub const MAX_FILE_BYTES: u64 = 4 << 30;

/// One change asked for.
#[derive(Debug, Clone)]
pub enum Change {
    /// Set one value of a plist or JSON file.
    Set {
        domain: String,
        path: String,
        key_path: KeyPath,
        value: NewValue,
    },
    /// Replace a file's content with a local file's.
    Replace {
        domain: String,
        path: String,
        local: PathBuf,
    },
    /// Remove a file: its index row and its payload.
    Delete { domain: String, path: String },
}

impl Change {
    /// `set`, `replace` or `delete`.
    pub fn kind(&self) -> &'static str {
        match self {
            Change::Set { .. } => "set",
            Change::Replace { .. } => "replace",
            Change::Delete { .. } => "delete",
        }
    }

    /// The file it is about.
    pub fn target(&self) -> (&str, &str) {
        match self {
            Change::Set { domain, path, .. }
            | Change::Replace { domain, path, .. }
            | Change::Delete { domain, path } => (domain, path),
        }
    }

    /// `DOMAIN:PATH:KEYPATH=VALUE` (`--set`): split at the first `=` (the value may hold
    /// any character), then the domain at the first `:` and the key path at the last `:`.
    pub fn parse_set(arg: &str) -> Result<Change, PatchError> {
        let usage = |why: &str| {
            PatchError::Argument(format!(
                "--set {arg:?}: {why} (expected DOMAIN:PATH:KEYPATH=VALUE, e.g. HomeDomain:Library/Preferences/x.plist:/key=true)"
            ))
        };
        let (left, value) = arg.split_once('=').ok_or_else(|| usage("no `=`"))?;
        let (domain, rest) = left.split_once(':').ok_or_else(|| usage("no `:`"))?;
        let (path, key) = rest
            .rsplit_once(':')
            .ok_or_else(|| usage("no `:` before the key path"))?;
        if domain.is_empty() || path.is_empty() {
            return Err(usage("empty domain or path"));
        }
        let key_path = KeyPath::parse(key).map_err(|e| usage(&e))?;
        Ok(Change::Set {
            domain: domain.into(),
            path: path.into(),
            key_path,
            value: NewValue::parse(value),
        })
    }

    /// `DOMAIN:PATH=LOCALFILE` (`--replace`): split at the first `=` (the local file's
    /// name may hold one; the backup path may not).
    pub fn parse_replace(arg: &str) -> Result<Change, PatchError> {
        let usage = |why: &str| {
            PatchError::Argument(format!(
                "--replace {arg:?}: {why} (expected DOMAIN:PATH=LOCALFILE)"
            ))
        };
        let (left, local) = arg.split_once('=').ok_or_else(|| usage("no `=`"))?;
        let (domain, path) = left.split_once(':').ok_or_else(|| usage("no `:`"))?;
        if domain.is_empty() || path.is_empty() || local.is_empty() {
            return Err(usage("empty domain, path or file"));
        }
        Ok(Change::Replace {
            domain: domain.into(),
            path: path.into(),
            local: local.into(),
        })
    }

    /// `DOMAIN:PATH` (`--delete`).
    pub fn parse_delete(arg: &str) -> Result<Change, PatchError> {
        match arg.split_once(':') {
            Some((d, p)) if !d.is_empty() && !p.is_empty() => Ok(Change::Delete {
                domain: d.into(),
                path: p.into(),
            }),
            _ => Err(PatchError::Argument(format!(
                "--delete {arg:?}: expected DOMAIN:PATH"
            ))),
        }
    }
}

/// What to write and where.
#[derive(Debug, Clone, Default)]
pub struct PatchOptions {
    /// The output folder: created; an existing one must be empty, or, with `force`, a
    /// backup folder (e.g. an earlier patched copy), which is then replaced whole.
    pub out: PathBuf,
    pub force: bool,
    /// Applied in order (several to one file build on each other).
    pub changes: Vec<Change>,
}

/// Why a patch was refused or failed. Nothing is left in the output folder.
#[derive(Debug, thiserror::Error)]
pub enum PatchError {
    /// A malformed `--set`/`--replace`/`--delete` argument, or no change at all.
    #[error("{0}")]
    Argument(String),
    /// No row of that domain and relativePath in the index.
    #[error("{domain}:{path}: no such file in the backup's index")]
    NoSuchFile { domain: String, path: String },
    /// The row is a directory, a link or something else.
    #[error("{domain}:{path}: is a {kind}, not a regular file")]
    NotAFile {
        domain: String,
        path: String,
        kind: &'static str,
    },
    /// The value cannot be set: the key path, its type, or the file's format.
    #[error("{domain}:{path}: {problem}")]
    Edit {
        domain: String,
        path: String,
        problem: String,
    },
    /// The file's content cannot be read (missing payload, device-bound class, bad key…).
    #[error("{domain}:{path}: cannot read the file: {reason}")]
    Unreadable {
        domain: String,
        path: String,
        reason: String,
    },
    /// A local file given to `--replace` cannot be read.
    #[error("{}: {problem}", path.display())]
    Local { path: PathBuf, problem: String },
    /// Changes that contradict each other (e.g. one file deleted and also changed).
    #[error("{0}")]
    Conflict(String),
    /// The change needs something this writer does not make.
    #[error("{0}")]
    Unsupported(String),
    /// The backup is encrypted and was not unlocked.
    #[error("the backup is encrypted and not unlocked: a password is needed")]
    Locked,
    /// The index cannot be rewritten.
    #[error("{0}")]
    Index(String),
    /// The output folder is refused.
    #[error("{0}")]
    Out(String),
    #[error("{context}: {source}")]
    Io {
        context: String,
        #[source]
        source: std::io::Error,
    },
}

/// The working state of one file of the plan.
struct Target {
    rec: FileRecord,
    /// Where its payload lies, relative to the backup folder.
    payload: PathBuf,
    /// Its current content (`None`: deleted).
    content: Option<Zeroizing<Vec<u8>>>,
}

fn sha256(b: &[u8]) -> [u8; 32] {
    Sha256::digest(b).into()
}

/// Read a row's content whole, decrypted (at most `limit` bytes stored).
fn read_content(
    s: &Session,
    rec: &FileRecord,
    limit: u64,
) -> Result<(Zeroizing<Vec<u8>>, PathBuf), PatchError> {
    let unreadable = |reason: String| PatchError::Unreadable {
        domain: rec.domain.clone(),
        path: rec.relative_path.clone(),
        reason,
    };
    let payloads = s
        .payloads_by_name()
        .map_err(|e| unreadable(e.to_string()))?;
    // A backup that is not encrypted holds plaintext payloads, whatever EncryptionKey its
    // rows kept (a backup stored decrypted, as MVT's sample is).
    let opened = if s.is_encrypted() {
        payloads.open(rec)
    } else {
        payloads.find(rec).and_then(|c| payloads.open_listed(&c))
    };
    let p = opened.map_err(|u| match u {
        Unavailable::Locked => PatchError::Locked,
        u => unreadable(u.to_string()),
    })?;
    let at = p.path();
    let rel = at
        .strip_prefix(&s.backup.root)
        .map(Path::to_path_buf)
        .map_err(|_| unreadable(format!("{} is outside the backup folder", at.display())))?;
    if p.stored_len() > 0 && p.key().is_none() && rec.encryption_key.is_none() && s.is_encrypted() {
        return Err(unreadable(
            "the row has no EncryptionKey in an encrypted backup".into(),
        ));
    }
    let content = p.read_whole(limit).map_err(|e| match e {
        ReadError::Io(e) => unreadable(e.to_string()),
        ReadError::Decrypt(e) => unreadable(format!("does not decrypt cleanly: {e}")),
    })?;
    Ok((content, rel))
}

/// Write the patched copy of the opened (and, when encrypted, unlocked) backup into
/// `opts.out` and return the receipt of every change.
pub fn patch(s: &Session, opts: &PatchOptions) -> Result<Receipt, crate::Error> {
    if opts.changes.is_empty() {
        return Err(PatchError::Argument(
            "nothing to change: give --set, --replace or --delete".into(),
        )
        .into());
    }
    let (index_path, index_name) = match &s.backup.index {
        IndexKind::ManifestDb { path, .. } => (path.clone(), "Manifest.db"),
        IndexKind::ManifestMbdb { path, .. } => (path.clone(), "Manifest.mbdb"),
        IndexKind::None => {
            return Err(PatchError::Unsupported(format!(
                "{}: the backup has no index (Manifest.db or Manifest.mbdb)",
                s.backup.root.display()
            ))
            .into())
        }
    };
    let wal = s.backup.root.join("Manifest.db-wal");
    if std::fs::symlink_metadata(&wal).is_ok_and(|m| m.len() > 0) {
        return Err(PatchError::Unsupported(format!(
            "{}: Manifest.db has a write-ahead log with pages in it; patch rewrites Manifest.db alone and would lose them",
            wal.display()
        ))
        .into());
    }
    let plan_out = out::check(&opts.out, &s.backup.root, opts.force)?;
    let records = s.records()?.ok_or(PatchError::Locked)?;
    let mut by_name: HashMap<(&str, &str), usize> = HashMap::with_capacity(records.len());
    for (i, r) in records.iter().enumerate() {
        by_name.insert((r.domain.as_str(), r.relative_path.as_str()), i);
    }

    let mut targets: Vec<Target> = Vec::new();
    let mut target_of: HashMap<usize, usize> = HashMap::new();
    let mut changes = Vec::with_capacity(opts.changes.len());
    for c in &opts.changes {
        let (domain, path) = c.target();
        let &row = by_name
            .get(&(domain, path))
            .ok_or_else(|| PatchError::NoSuchFile {
                domain: domain.into(),
                path: path.into(),
            })?;
        let rec = &records[row];
        if rec.kind != FileKind::File {
            return Err(PatchError::NotAFile {
                domain: domain.into(),
                path: path.into(),
                kind: rec.kind.as_str(),
            }
            .into());
        }
        let limit = match c {
            Change::Set { .. } => MAX_EDIT_BYTES,
            _ => MAX_FILE_BYTES,
        };
        let t = match target_of.get(&row) {
            Some(&t) => t,
            None => {
                let (content, payload) = read_content(s, rec, limit)?;
                targets.push(Target {
                    rec: rec.clone(),
                    payload,
                    content: Some(content),
                });
                target_of.insert(row, targets.len() - 1);
                targets.len() - 1
            }
        };
        changes.push(apply(c, &mut targets[t], s.is_encrypted())?);
    }

    // The new payloads and index rows.
    let mut rows = Vec::new();
    let mut payloads = Vec::new();
    let mut skip = Vec::new();
    for t in &targets {
        skip.push(t.payload.clone());
        let Some(content) = &t.content else {
            rows.push(index::Row {
                file_id: t.rec.file_id.clone(),
                domain: t.rec.domain.clone(),
                relative_path: t.rec.relative_path.clone(),
                edit: index::RowEdit::Delete,
            });
            continue;
        };
        let stored = match &t.rec.encryption_key {
            Some(Ok(_)) if s.is_encrypted() => {
                let key = s
                    .payloads_by_name()?
                    .key(&t.rec)
                    .map_err(|u| PatchError::Unreadable {
                        domain: t.rec.domain.clone(),
                        path: t.rec.relative_path.clone(),
                        reason: u.to_string(),
                    })?
                    .ok_or(PatchError::Locked)?;
                crate::crypto::cbc::encrypt(&key, content)
            }
            _ => content.to_vec(),
        };
        // A Digest is SHA-1 of the payload as stored (docs/backup-writing.md).
        let digest = t
            .rec
            .digest
            .as_ref()
            .map(|_| sha1::Sha1::digest(&stored).to_vec());
        rows.push(index::Row {
            file_id: t.rec.file_id.clone(),
            domain: t.rec.domain.clone(),
            relative_path: t.rec.relative_path.clone(),
            edit: index::RowEdit::Update {
                size: content.len() as u64,
                digest,
            },
        });
        payloads.push((t.payload.clone(), stored));
    }
    let stored_index = index::read_evidence(&index_path)?;
    let new_index = match &s.backup.index {
        IndexKind::ManifestMbdb { .. } => index::rewrite_mbdb(&stored_index, &rows)?,
        _ => {
            let key = if s.index_is_ciphertext() {
                Some(manifest_key(s)?)
            } else {
                None
            };
            index::rewrite_db(&stored_index, key.as_ref(), &rows)?
        }
    };
    let index_rel = PathBuf::from(index_name);
    skip.push(index_rel.clone());
    // SQLite's side files belong to the old database: an empty log is left out with them;
    // a log holding pages is refused above.
    for side in ["Manifest.db-wal", "Manifest.db-shm"] {
        skip.push(PathBuf::from(side));
    }
    payloads.push((index_rel, new_index));
    let written = out::write(&s.backup.root, &plan_out, &skip, &payloads)?;

    Ok(Receipt {
        schema: PATCH_RECEIPT_SCHEMA,
        tool: Default::default(),
        backup: s.backup.root.display().to_string(),
        out: written.out.display().to_string(),
        encrypted: s.is_encrypted(),
        index: index_name,
        changes,
        files_copied: written.copied,
        bytes_copied: written.bytes,
        rewritten: written.rewritten,
        not_copied: written.not_copied,
        unchanged: ["Info.plist", "Manifest.plist", "Status.plist"]
            .iter()
            .filter(|n| s.backup.root.join(n).is_file())
            .map(|n| n.to_string())
            .collect(),
    })
}

/// The Manifest.db key: `ManifestKey` unwrapped with its class key.
fn manifest_key(s: &Session) -> Result<crate::crypto::Key32, PatchError> {
    let keys = s.class_keys.as_ref().ok_or(PatchError::Locked)?;
    let mk = s
        .backup
        .manifest
        .as_ref()
        .and_then(|m| m.manifest_key.as_ref())
        .ok_or_else(|| {
            PatchError::Index(
                "Manifest.db is encrypted but Manifest.plist has no ManifestKey".into(),
            )
        })?;
    let mk = crate::crypto::WrappedKey::parse(mk)
        .map_err(|b| PatchError::Index(format!("ManifestKey is {} bytes, expected 44", b.len)))?;
    mk.unwrap(keys).map_err(|e| {
        PatchError::Index(format!(
            "ManifestKey does not unwrap with class key {}",
            e.class().number()
        ))
    })
}

/// Apply one change to its file's working content; its receipt entry.
fn apply(c: &Change, t: &mut Target, encrypted: bool) -> Result<ChangeReceipt, PatchError> {
    let (domain, path) = c.target();
    let Some(before) = t.content.take() else {
        return Err(PatchError::Conflict(format!(
            "{domain}:{path}: is deleted by an earlier --delete and cannot be changed after"
        )));
    };
    let sha_before = sha256(&before);
    let size_before = before.len() as u64;
    let mut entry = ChangeReceipt {
        kind: c.kind(),
        domain: domain.into(),
        path: path.into(),
        file_id: t.rec.file_id.clone(),
        key_path: None,
        format: None,
        old_value: None,
        new_value: None,
        local_file: None,
        sha256_before: hex::encode(sha_before),
        sha256_after: None,
        size_before,
        size_after: None,
        protection_class: t.rec.protection_class,
        digest_updated: t.rec.digest.is_some() && !matches!(c, Change::Delete { .. }),
    };
    let after: Option<Zeroizing<Vec<u8>>> = match c {
        Change::Set {
            key_path, value, ..
        } => {
            let e = edit::set(&before, key_path, value).map_err(|problem| PatchError::Edit {
                domain: domain.into(),
                path: path.into(),
                problem,
            })?;
            entry.key_path = Some(key_path.as_str().to_owned());
            entry.format = Some(e.format);
            entry.old_value = Some(e.old);
            entry.new_value = Some(value.shown());
            Some(Zeroizing::new(e.content))
        }
        Change::Replace { local, .. } => {
            let bytes = read_local(local)?;
            entry.local_file = Some(local.display().to_string());
            Some(Zeroizing::new(bytes))
        }
        Change::Delete { .. } => None,
    };
    if let Some(a) = &after {
        // An empty file of an encrypted backup has no file key to encrypt new content with.
        if encrypted && !a.is_empty() && t.rec.encryption_key.is_none() {
            return Err(PatchError::Unsupported(format!(
                "{domain}:{path}: the file is empty and has no EncryptionKey; giving it content needs a new file key, which patch does not make"
            )));
        }
        entry.sha256_after = Some(hex::encode(sha256(a)));
        entry.size_after = Some(a.len() as u64);
    }
    t.content = after;
    Ok(entry)
}

/// A local file for `--replace`: a regular file (links followed: it is the user's), whole.
fn read_local(path: &Path) -> Result<Vec<u8>, PatchError> {
    let local = |problem: String| PatchError::Local {
        path: path.to_path_buf(),
        problem,
    };
    let m = std::fs::metadata(path).map_err(|e| local(format!("cannot read: {e}")))?;
    if !m.is_file() {
        return Err(local("not a regular file".into()));
    }
    if m.len() > MAX_FILE_BYTES {
        return Err(local(format!(
            "{} bytes, over the {MAX_FILE_BYTES}-byte limit",
            m.len()
        )));
    }
    std::fs::read(path).map_err(|e| local(format!("cannot read: {e}")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn arguments_split_where_documented() {
        let Change::Set {
            domain,
            path,
            key_path,
            value,
        } = Change::parse_set("AppDomain-com.x:Library/a:b.plist:/k/0=https://e.example/?q=1")
            .unwrap()
        else {
            panic!()
        };
        assert_eq!(
            (domain.as_str(), path.as_str(), key_path.as_str()),
            ("AppDomain-com.x", "Library/a:b.plist", "/k/0")
        );
        assert_eq!(value, NewValue::String("https://e.example/?q=1".into()));
        for bad in ["x", "D:p=1", ":p:/k=1", "D:p:k=1"] {
            let e = Change::parse_set(bad).unwrap_err();
            assert!(matches!(e, PatchError::Argument(_)), "{bad}");
        }
        let Change::Replace { local, path, .. } =
            Change::parse_replace("HomeDomain:a:b.txt=/tmp/x=y").unwrap()
        else {
            panic!()
        };
        assert_eq!(
            (path.as_str(), local.as_path()),
            ("a:b.txt", Path::new("/tmp/x=y"))
        );
        assert!(Change::parse_replace("HomeDomain:a").is_err());
        assert!(Change::parse_delete("HomeDomain").is_err());
        assert_eq!(
            Change::parse_delete("HomeDomain:a:b").unwrap().target(),
            ("HomeDomain", "a:b")
        );
    }
}
