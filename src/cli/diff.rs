//! `auditor diff`: what changed between an old and a new backup (apps, files, keychain
//! items; leaks and the tamper surface on request), and whether it weakens protection.

use super::credentials::CredentialArgs;
use super::leaks::parse_size;
use super::open::{locate, open, Needs};
use super::Outcome;
use super::{output, progress, ReportFormat};
use auditor::diff::{self, DiffOptions, FailOn};
use auditor::report;
use auditor::session::Session;
use auditor::{Error, ExitCode};
use std::path::{Path, PathBuf};

#[derive(Debug, clap::Args)]
pub struct DiffArgs {
    /// The old backup (the baseline).
    pub old: PathBuf,
    /// The new backup, compared with the old.
    pub new: PathBuf,
    /// Credentials of the NEW backup (--password, --password-file, --key, --key-file).
    #[command(flatten)]
    pub credentials: CredentialArgs,
    #[command(flatten)]
    pub old_credentials: OldCredentialArgs,
    /// Only this app (bundle id): its files (app, group and plugin domains), keychain
    /// items, leaks and settings.
    #[arg(long, value_name = "BUNDLE")]
    pub app: Option<String>,
    /// Output format.
    #[arg(long, value_enum, default_value_t = ReportFormat::Table)]
    pub format: ReportFormat,
    /// Write the report to FILE instead of stdout (never inside either backup).
    #[arg(long, short = 'o', value_name = "FILE")]
    pub output: Option<PathBuf>,
    /// Exit 1 when there is a change of this kind: new (anything added), weakened (any
    /// change that weakens protection), any (any change).
    #[arg(long, value_enum, value_name = "KIND")]
    pub fail_on: Option<FailOnArg>,
    /// Also compare the leaks of both backups' app files by fingerprint (reads every app
    /// file of both: as long as two `auditor leaks`).
    #[arg(long)]
    pub leaks: bool,
    /// Also compare the tamper surface of both backups (reads every app file of both: as
    /// long as two `auditor tamper`).
    #[arg(long)]
    pub tamper: bool,
    /// With --leaks/--tamper: skip files larger than this (bytes; K, M, G suffixes of 1024).
    #[arg(long, value_name = "SIZE", default_value = "64M", value_parser = parse_size)]
    pub max_file_size: u64,
}

/// `--fail-on` of `diff`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum FailOnArg {
    New,
    Weakened,
    Any,
}

/// Credentials of the OLD backup: the same options as the new backup's, `--old-` before
/// their names.
#[derive(clap::Args, Clone, Default)]
pub struct OldCredentialArgs {
    /// Password of the OLD backup. Without a value, prompt (no echo) on a terminal.
    #[arg(long, value_name = "PASSWORD", num_args = 0..=1, default_missing_value = "", hide_default_value = true)]
    pub old_password: Option<String>,
    /// Read the OLD backup's password from a file ('-' for stdin).
    #[arg(long, value_name = "FILE", conflicts_with = "old_password")]
    pub old_password_file: Option<PathBuf>,
    /// The OLD backup's derived key (64 hex digits, from `auditor key`).
    #[arg(long, value_name = "HEX", conflicts_with_all = ["old_password", "old_password_file"])]
    pub old_key: Option<String>,
    /// Read the OLD backup's derived key from a file ('-' for stdin).
    #[arg(long, value_name = "FILE", conflicts_with_all = ["old_password", "old_password_file", "old_key"])]
    pub old_key_file: Option<PathBuf>,
}

/// Shows which options were given, never their values.
impl std::fmt::Debug for OldCredentialArgs {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let given = |o: bool| if o { "<redacted>" } else { "-" };
        f.debug_struct("OldCredentialArgs")
            .field("old_password", &given(self.old_password.is_some()))
            .field("old_password_file", &self.old_password_file)
            .field("old_key", &given(self.old_key.is_some()))
            .field("old_key_file", &self.old_key_file)
            .finish()
    }
}

impl OldCredentialArgs {
    fn as_credentials(&self) -> CredentialArgs {
        CredentialArgs {
            password: self.old_password.clone(),
            password_file: self.old_password_file.clone(),
            key: self.old_key.clone(),
            key_file: self.old_key_file.clone(),
            device_key: None,
        }
    }
}

const NEW_OPTIONS: &str = "--password, --password-file, --key or --key-file";
const OLD_OPTIONS: &str = "--old-password, --old-password-file, --old-key or --old-key-file";

/// Open one side; an encrypted side without credentials is named, with its options.
fn open_side(
    path: &Path,
    creds: &CredentialArgs,
    side: &str,
    given_other: bool,
) -> Result<Session, Error> {
    let (mine, other) = match side {
        "old" => (OLD_OPTIONS, NEW_OPTIONS),
        _ => (NEW_OPTIONS, OLD_OPTIONS),
    };
    if creds.password.as_deref() == Some("") {
        output::say(format_args!(
            "auditor: the password of the {side} backup {}",
            path.display()
        ));
    }
    let needs = Needs {
        keys: false,
        prompt: false,
        unlock: true,
    };
    let lacks = || {
        let hint = if given_other && !creds.given() {
            format!(" (credentials were given only for the other backup, with {other})")
        } else {
            String::new()
        };
        Error::CredentialsMissing(format!(
            "the {side} backup {} is encrypted and no password or key was given for it{hint}: give it with {mine} (or AUDITOR_PASSWORD, used for a side given none)",
            path.display()
        ))
    };
    let s = match open(path, creds, needs) {
        Err(Error::CredentialsMissing(_)) => return Err(lacks()),
        Err(Error::CredentialsWrong(e)) => {
            return Err(Error::CredentialsWrong(format!(
                "the {side} backup {}: {e} (its credentials are {mine})",
                path.display()
            )))
        }
        r => r?,
    };
    if s.is_encrypted() && s.class_keys.is_none() {
        return Err(lacks());
    }
    Ok(s)
}

pub fn run(a: DiffArgs) -> Outcome {
    let old_path = locate(Some(&a.old), a.format.listing())?;
    let new_path = locate(Some(&a.new), a.format.listing())?;
    let old_creds = a.old_credentials.as_credentials();
    let old = open_side(&old_path, &old_creds, "old", a.credentials.given())?;
    let new = open_side(&new_path, &a.credentials, "new", old_creds.given())?;
    if let Some(o) = &a.output {
        output::refuse_inside_backup(o, &old_path)?;
    }
    let opts = DiffOptions {
        app: a.app.clone(),
        leaks: a.leaks,
        tamper: a.tamper,
        max_file_size: a.max_file_size,
    };
    let bar = progress::bar(0, "reading");
    let progress = |done, total| progress::advance(&bar, done, total);
    bar.set_message("reading the old backup");
    let o = diff::snapshot(&old, "old", &opts, &progress)?;
    drop(old);
    bar.set_message("reading the new backup");
    let n = diff::snapshot(&new, "new", &opts, &progress)?;
    drop(new);
    bar.finish_and_clear();
    let r = diff::compare(&o, &n, &opts);
    drop((o, n));
    if let Some(app) = &a.app {
        if r.changes.is_empty() && r.unchanged.apps == 0 && r.unchanged.files == 0 {
            output::warn(format_args!("--app {app}: neither backup holds this app"));
        }
    }
    output::emit(&a.output, &new_path, |out| match a.format {
        ReportFormat::Json => report::json::write(out, &r),
        ReportFormat::Table => report::diff::write_table(out, &r),
        ReportFormat::Sarif => report::sarif::write(out, &r),
        ReportFormat::Html => report::html::diff::write(out, &r),
    })?;
    let Some(on) = a.fail_on.map(|f| match f {
        FailOnArg::New => FailOn::New,
        FailOnArg::Weakened => FailOn::Weakened,
        FailOnArg::Any => FailOn::Any,
    }) else {
        return Ok(ExitCode::Ok);
    };
    if !r.fails(on) {
        return Ok(ExitCode::Ok);
    }
    let n = r.failing(on).count();
    let mut rules: Vec<&str> = r.failing(on).map(|c| c.rule).collect();
    rules.dedup();
    rules.sort_unstable();
    rules.dedup();
    output::say(format_args!(
        "auditor: --fail-on {}: {n} change{} ({})",
        match on {
            FailOn::New => "new",
            FailOn::Weakened => "weakened",
            FailOn::Any => "any",
        },
        if n == 1 { "" } else { "s" },
        rules.join(", ")
    ));
    Ok(ExitCode::Findings)
}
