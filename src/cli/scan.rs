//! `auditor scan` and `auditor info`.

use super::credentials::{can_prompt, prompt, CredentialArgs, Credentials, HOW_TO_PASS};
use super::{output, progress, ReportArgs, ReportFormat};
use auditor::audit::scan::{fails, scan, ScanOptions};
use auditor::report;
use auditor::session::{Session, Unlock};
use auditor::Error;
use std::path::{Path, PathBuf};

#[derive(Debug, clap::Args)]
pub struct ScanArgs {
    /// The backup folder (the `<UDID>` folder), or a MobileSync/Backup folder to list.
    pub backup: PathBuf,
    #[command(flatten)]
    pub credentials: CredentialArgs,
    #[command(flatten)]
    pub report: ReportArgs,
    /// Decrypt (or read) every payload in full: verify padding and length, hash the content.
    #[arg(long)]
    pub deep: bool,
    /// With --deep: verify decryption, padding and length without hashing each file's
    /// content (faster; the report then has no `sha256`).
    #[arg(long, requires = "deep")]
    pub no_hash: bool,
    /// List every file in the table output (JSON always lists them).
    #[arg(long)]
    pub files: bool,
    /// Never prompt for a password; report what is knowable without one.
    #[arg(long)]
    pub no_password: bool,
}

#[derive(Debug, clap::Args)]
pub struct InfoArgs {
    /// The backup folder (the `<UDID>` folder), or a MobileSync/Backup folder to list.
    pub backup: PathBuf,
    #[command(flatten)]
    pub report: ReportArgs,
}

/// Resolve a path to one backup; a folder of several backups is listed and refused (exit 2).
pub fn locate(path: &Path) -> Result<PathBuf, Error> {
    match auditor::backup::locate(path).map_err(Error::from)? {
        auditor::backup::Located::Single(p) => Ok(p),
        auditor::backup::Located::Collection(list) => {
            let mut msg = format!(
                "{} holds {} backups; give one of them:\n",
                path.display(),
                list.len()
            );
            for e in &list {
                msg.push_str(&format!(
                    "  {}  {}  {}  {}\n",
                    e.path.display(),
                    e.device_name.as_deref().unwrap_or("?"),
                    e.date.as_deref().unwrap_or("?"),
                    match e.encrypted {
                        Some(true) => "encrypted",
                        Some(false) => "not encrypted",
                        None => "encryption unknown",
                    }
                ));
            }
            Err(Error::Usage(msg.trim_end().to_string()))
        }
    }
}

/// Open and (when credentials are given or needed) unlock a backup.
/// `needed`: the caller cannot do its job without the keys (exit 3 when none can be had).
pub fn open_unlocked(
    path: &Path,
    creds: &CredentialArgs,
    needed: bool,
    no_prompt: bool,
) -> Result<Session, Error> {
    let resolved = creds.resolve()?;
    for w in &resolved.warnings {
        eprintln!("auditor: warning: {w}");
    }
    let mut session = Session::open(path)?;
    let unlock = match resolved.credentials {
        Credentials::Password(p) => Unlock::Password(p),
        Credentials::Key(k) => Unlock::Key(k),
        Credentials::None => {
            let wants = session.is_encrypted() && (needed || session.index_is_ciphertext());
            if wants && !no_prompt && can_prompt() {
                Unlock::Password(prompt()?)
            } else if needed && session.is_encrypted() {
                return Err(Error::CredentialsMissing(format!(
                    "{}: the backup is encrypted and a password is needed: {HOW_TO_PASS}",
                    path.display()
                )));
            } else {
                Unlock::None
            }
        }
    };
    if !matches!(unlock, Unlock::None) || resolved.device_key.is_some() {
        let bar = progress::bar(0, "deriving key");
        let mut cb = |done: u64, total: u64| {
            if bar.length() != Some(total) {
                bar.set_length(total);
            }
            bar.set_position(done);
        };
        let device_key = resolved.device_key.as_deref().map(|v| v.as_slice());
        let r = session.unlock(unlock, device_key, &mut cb);
        bar.finish_and_clear();
        r?;
    }
    Ok(session)
}

pub fn run_scan(a: ScanArgs) -> Result<i32, Error> {
    let path = locate(&a.backup)?;
    let session = open_unlocked(&path, &a.credentials, a.deep, a.no_password)?;
    if a.deep && session.is_encrypted() && session.class_keys.is_none() {
        return Err(Error::CredentialsMissing(format!(
            "--deep on an encrypted backup needs the password: {HOW_TO_PASS}"
        )));
    }
    let bar = progress::bar(0, "verifying");
    let cb = |done: u64, total: u64| {
        if bar.length() != Some(total) {
            bar.set_length(total);
        }
        bar.set_position(done);
    };
    let opts = ScanOptions {
        deep: a.deep,
        deep_no_hash: a.no_hash,
        info_only: false,
        // No bar, no callback (and no sizing of the payloads for its total).
        deep_progress: if bar.is_hidden() { None } else { Some(&cb) },
        // The table lists files only with --files: the rest needs only the totals.
        summary_only: matches!(a.report.format, ReportFormat::Table) && !a.files,
        keep_file: None,
    };
    let mut r = scan(&session, &opts)?;
    bar.finish_and_clear();
    let mut out = output::open(&a.report.output, &path)?;
    match a.report.format {
        ReportFormat::Json => report::json::write_scan(&mut out, &mut r),
        ReportFormat::Table => report::table::write_scan(&mut out, &r, a.files),
        ReportFormat::Sarif => report::sarif::write(&mut out, &r),
    }
    .and_then(|_| out.flush())
    .map_err(output::write_err)?;
    Ok(match a.report.fail_on {
        Some(t) if fails(&r, t) => 1,
        _ => 0,
    })
}

pub fn run_info(a: InfoArgs) -> Result<i32, Error> {
    let path = locate(&a.backup)?;
    let session = Session::open(&path)?;
    let r = scan(
        &session,
        &ScanOptions {
            info_only: true,
            ..Default::default()
        },
    )?;
    let mut out = output::open(&a.report.output, &path)?;
    match a.report.format {
        ReportFormat::Json => report::json::write(&mut out, &r),
        ReportFormat::Table => report::table::write_header(&mut out, &r),
        ReportFormat::Sarif => report::sarif::write(&mut out, &r),
    }
    .and_then(|_| out.flush())
    .map_err(output::write_err)?;
    Ok(match a.report.fail_on {
        Some(t) if fails(&r, t) => 1,
        _ => 0,
    })
}
