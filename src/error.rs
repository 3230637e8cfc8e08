//! The library's top-level error and the documented exit codes it maps to.

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

/// Top-level library error: every variant maps to exactly one exit code.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A file of the backup is missing, unreadable or malformed.
    #[error("{}: {problem}", path.display())]
    Backup { path: PathBuf, problem: String },
    /// A password or key is needed and none was given.
    #[error("{0}")]
    CredentialsMissing(String),
    /// The password or key given does not open the backup.
    #[error("{0}")]
    CredentialsWrong(String),
    /// The request does not make sense (bad argument, bad policy).
    #[error("{0}")]
    Usage(String),
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

impl Error {
    pub fn backup(path: impl Into<PathBuf>, problem: impl std::fmt::Display) -> Self {
        Error::Backup {
            path: path.into(),
            problem: problem.to_string(),
        }
    }

    pub fn exit_code(&self) -> ExitCode {
        match self {
            Error::Backup { .. } => ExitCode::BadBackup,
            Error::CredentialsMissing(_) | Error::CredentialsWrong(_) => ExitCode::Credentials,
            Error::Usage(_) => ExitCode::Usage,
            Error::Io { .. } => ExitCode::Internal,
            Error::Internal(_) => ExitCode::Internal,
        }
    }
}
