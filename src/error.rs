//! The library's top-level error and the documented exit codes it maps to.

use crate::backup::{BackupError, CollectionEntry};
use crate::crypto::CryptoError;
use crate::extract::ExtractError;
use crate::fixture::FixtureError;
use crate::index::IndexError;
use crate::patch::PatchError;
use crate::policy::PolicyError;
use std::path::PathBuf;

/// Documented process exit codes (README "Exit codes"; a contract for users' pipelines).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(i32)]
pub enum ExitCode {
    /// Ran; no finding at or above `--fail-on`.
    Ok = 0,
    /// Findings at or above `--fail-on <severity>` (or a failed policy rule).
    Findings = 1,
    /// Usage error (bad arguments, bad policy file).
    Usage = 2,
    /// Password (or key) missing where one is needed, or wrong.
    Credentials = 3,
    /// Not a readable backup: the message names the file and what is wrong.
    BadBackup = 4,
    /// Internal error (a defect).
    Internal = 70,
}

impl ExitCode {
    /// The process exit status.
    pub fn code(self) -> i32 {
        self as i32
    }

    /// `Findings` when `failed`, else `Ok`.
    pub fn findings_if(failed: bool) -> ExitCode {
        if failed {
            ExitCode::Findings
        } else {
            ExitCode::Ok
        }
    }
}

/// Top-level library error: each layer's error converts into it (`From`), and every variant
/// maps to exactly one exit code.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A file of the backup is missing, unreadable or malformed.
    #[error("{}: {problem}", path.display())]
    Backup { path: PathBuf, problem: String },
    /// The backup folder layer: a file or folder that cannot be read or is not a backup.
    #[error(transparent)]
    Folder(#[from] BackupError),
    /// The index (Manifest.db or Manifest.mbdb) cannot be read.
    #[error(transparent)]
    Index(#[from] IndexError),
    /// The keybag in Manifest.plist (at `path`) does not parse or unlock.
    #[error("{}: {}", path.display(), keybag_problem(source))]
    Keybag {
        path: PathBuf,
        #[source]
        source: CryptoError,
    },
    /// A folder of several backups was given where one is needed.
    #[error("{}", several_backups(path, backups))]
    SeveralBackups {
        path: PathBuf,
        backups: Vec<CollectionEntry>,
    },
    /// The backup is encrypted, the caller needs its keys, and no password can be had.
    #[error("{}: the backup is encrypted and a password is needed", .0.display())]
    PasswordNeeded(PathBuf),
    /// A password or key is needed and none was given.
    #[error("{0}")]
    CredentialsMissing(String),
    /// The password or key given does not open the backup.
    #[error("{0}")]
    CredentialsWrong(String),
    /// The request does not make sense (bad argument, bad policy).
    #[error("{0}")]
    Usage(String),
    /// The policy file is refused.
    #[error("bad policy: {0}")]
    Policy(#[from] PolicyError),
    /// An export cannot start.
    #[error(transparent)]
    Extract(#[from] ExtractError),
    /// The fixture writer failed.
    #[error(transparent)]
    Fixture(#[from] FixtureError),
    /// A patch was refused or failed (nothing is left in its output folder).
    #[error(transparent)]
    Patch(#[from] PatchError),
    /// An I/O error outside the backup (e.g. writing the output file).
    #[error("{context}: {source}")]
    Io {
        context: String,
        #[source]
        source: std::io::Error,
    },
    /// A defect.
    #[error("internal error: {0}")]
    Internal(String),
}

/// A keybag error said once ("keybag: …"): the keybag's own errors already name it.
fn keybag_problem(e: &CryptoError) -> String {
    match e {
        CryptoError::Keybag(_) | CryptoError::PartialUnwrap { .. } => e.to_string(),
        other => format!("keybag: {other}"),
    }
}

/// The folder and the backups it holds, one a line (aligned, newest first).
fn several_backups(path: &std::path::Path, backups: &[CollectionEntry]) -> String {
    let mut msg = format!(
        "{} holds {} backups; give one of them:",
        path.display(),
        backups.len()
    );
    for line in crate::report::backups::table_lines(path, backups) {
        msg.push('\n');
        msg.push_str(&line);
    }
    msg
}

impl Error {
    pub fn backup(path: impl Into<PathBuf>, problem: impl std::fmt::Display) -> Self {
        Error::Backup {
            path: path.into(),
            problem: problem.to_string(),
        }
    }

    pub fn exit_code(&self) -> ExitCode {
        match self {
            Error::Backup { .. } | Error::Folder(_) | Error::Index(_) | Error::Keybag { .. } => {
                ExitCode::BadBackup
            }
            Error::PasswordNeeded(_)
            | Error::CredentialsMissing(_)
            | Error::CredentialsWrong(_) => ExitCode::Credentials,
            Error::SeveralBackups { .. } | Error::Usage(_) | Error::Policy(_) => ExitCode::Usage,
            Error::Extract(e) => match e {
                ExtractError::Locked => ExitCode::Credentials,
                ExtractError::Io { .. } => ExitCode::Internal,
                _ => ExitCode::Usage,
            },
            Error::Fixture(e) => match e {
                FixtureError::Sqlite(_) | FixtureError::Plist(_) => ExitCode::Internal,
                _ => ExitCode::Usage,
            },
            Error::Patch(e) => match e {
                PatchError::Locked => ExitCode::Credentials,
                PatchError::Io { .. } => ExitCode::Internal,
                PatchError::Index(_) => ExitCode::BadBackup,
                _ => ExitCode::Usage,
            },
            Error::Io { .. } | Error::Internal(_) => ExitCode::Internal,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keybag_errors_name_the_keybag_once() {
        let at = |source| Error::Keybag {
            path: "B/Manifest.plist".into(),
            source,
        };
        assert_eq!(
            at(CryptoError::Keybag("no SALT tag".into())).to_string(),
            "B/Manifest.plist: keybag: no SALT tag"
        );
        let partial = CryptoError::PartialUnwrap {
            failed: vec![3],
            unwrapped: 9,
        };
        assert!(at(partial)
            .to_string()
            .starts_with("B/Manifest.plist: corrupt keybag: class key(s) [3]"));
        // Errors that do not say "keybag" themselves get it said.
        assert_eq!(
            at(CryptoError::BadPadding).to_string(),
            "B/Manifest.plist: keybag: bad PKCS#7 padding"
        );
        assert_eq!(at(CryptoError::BadPadding).exit_code(), ExitCode::BadBackup);
    }

    #[test]
    fn each_layer_keeps_its_exit_code() {
        let extract = |e| Error::from(e).exit_code();
        assert_eq!(extract(ExtractError::Locked), ExitCode::Credentials);
        assert_eq!(extract(ExtractError::NotEmpty("o".into())), ExitCode::Usage);
        assert_eq!(
            extract(ExtractError::Io {
                context: "c".into(),
                source: std::io::Error::other("x"),
            }),
            ExitCode::Internal
        );
        let policy = Error::from(PolicyError::Unreadable {
            file: "p.toml".into(),
            message: "gone".into(),
        });
        assert_eq!(policy.exit_code(), ExitCode::Usage);
        assert_eq!(policy.to_string(), "bad policy: p.toml: gone");
        let folder = Error::from(BackupError::NotABackup {
            path: "x".into(),
            problem: "not a folder".into(),
        });
        assert_eq!(folder.exit_code(), ExitCode::BadBackup);
        assert_eq!(folder.to_string(), "x: not an iOS backup: not a folder");
    }

    #[test]
    fn several_backups_are_listed_one_a_line() {
        let entry = |p: &str, name: Option<&str>, enc| CollectionEntry {
            path: p.into(),
            udid: None,
            device_name: name.map(Into::into),
            date: None,
            encrypted: enc,
            problems: vec![],
        };
        let e = Error::SeveralBackups {
            path: "MobileSync".into(),
            backups: vec![
                entry("A", Some("Phone"), Some(true)),
                entry("B", None, None),
            ],
        };
        assert_eq!(e.exit_code(), ExitCode::Usage);
        assert_eq!(
            e.to_string(),
            "MobileSync holds 2 backups; give one of them:\n  \
             FOLDER  DEVICE  DATE  ENCRYPTED\n  \
             A       Phone   -     yes\n  \
             B       -       -     ?"
        );
    }
}
