//! `auditor scan` and `auditor info`.

use super::credentials::{CredentialArgs, HOW_TO_PASS};
use super::open::{self, locate, open, Listing, Needs};
use super::Outcome;
use super::{output, progress, ReportArgs, ReportFormat};
use auditor::audit::scan::{fails, scan, scan_all, FileSink, ScanOptions};
use auditor::report;
use auditor::session::Session;
use auditor::{Error, ExitCode};
use std::path::PathBuf;

#[derive(Debug, clap::Args)]
pub struct ScanArgs {
    /// The backup folder (the `<UDID>` folder); a MobileSync or MobileSync/Backup folder
    /// holding only one backup is read as that one.
    /// Without it: the backups in the platform's default folder (`auditor info` lists them).
    pub backup: Option<PathBuf>,
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
    /// Never unlock (no prompt; AUDITOR_PASSWORD and the password and key options are
    /// ignored); report what is knowable without the password.
    #[arg(long)]
    pub no_password: bool,
    /// Only this app (bundle id): its files (with its app groups and extensions), its
    /// keychain items and the findings about them, beside those about the backup as a
    /// whole; with --deep only its files are read in full.
    #[arg(long, value_name = "BUNDLE")]
    pub app: Option<String>,
}

#[derive(Debug, clap::Args)]
pub struct InfoArgs {
    /// The backup folder (the `<UDID>` folder), a folder of backups to list (MobileSync or
    /// MobileSync/Backup), or a Manifest.plist on its own (any file name). Without it: the
    /// platform's default folder of backups (macOS, Windows; elsewhere the macOS layout
    /// under HOME when it exists).
    pub backup: Option<PathBuf>,
    #[command(flatten)]
    pub report: ReportArgs,
}

pub fn run_scan(a: ScanArgs) -> Outcome {
    let path = locate(a.backup.as_deref(), a.report.format.listing())?;
    let needs = Needs {
        keys: a.deep,
        prompt: !a.no_password,
        unlock: !a.no_password,
    };
    let session = open(&path, &a.credentials, needs)?;
    if a.deep && session.is_encrypted() && session.class_keys.is_none() {
        return Err(Error::CredentialsMissing(format!(
            "--deep on an encrypted backup needs the password: {HOW_TO_PASS}"
        ))
        .into());
    }
    let bar = progress::bar(0, "verifying");
    let cb = |done: u64, total: u64| progress::advance(&bar, done, total);
    // JSON streams its files: each file's report is rendered as it is made and kept sealed
    // in a scratch file until the totals before `files` are known (flat memory in rows).
    let spill = match a.report.format {
        ReportFormat::Json if a.app.is_none() => {
            Some(report::json::FileSpill::new().map_err(|source| Error::Io {
                context: "scan --format json".into(),
                source,
            })?)
        }
        _ => None,
    };
    let with_findings = |f: &auditor::audit::FileReport| !f.findings.is_empty();
    let opts = ScanOptions {
        deep: a.deep,
        deep_no_hash: a.no_hash,
        info_only: false,
        // No bar, no callback (and no sizing of the payloads for its total).
        deep_progress: if bar.is_hidden() { None } else { Some(&cb) },
        // The table lists files only with --files: the rest needs only the totals.
        summary_only: matches!(a.report.format, ReportFormat::Table) && !a.files,
        // SARIF reports findings only: the files without one are counted, not kept.
        keep_file: match a.report.format {
            ReportFormat::Sarif => Some(&with_findings),
            _ => None,
        },
        keep_row: None,
        app: a.app.as_deref(),
        file_sink: spill.as_ref().map(|s| s as &dyn FileSink),
    };
    let scanned = scan_all(&session, &opts)?;
    let owners = scanned.domain_owners;
    let mut r = scanned.report;
    bar.finish_and_clear();
    if let Some(f) = r.app_filter.as_ref().filter(|f| !f.found) {
        output::warn(format_args!(
            "--app {}: no such app in this backup (`auditor scan` without --app lists its apps)",
            f.app
        ));
    }
    output::emit(&a.report.output, &path, |out| match a.report.format {
        ReportFormat::Json => match spill {
            Some(spill) => report::json::write_scan_spilled(out, &r, spill, &owners),
            None => report::json::write_scan(out, &mut r),
        },
        ReportFormat::Table => report::table::write_scan(out, &r, a.files),
        ReportFormat::Sarif => report::sarif::write(out, &r),
        ReportFormat::Html => report::html::scan::write(out, &r),
    })?;
    Ok(fail_on(&a.report, &r))
}

/// `Findings` when `--fail-on` is given and a finding reaches it (said on stderr, with the
/// rules that reached it).
fn fail_on(report: &ReportArgs, r: &auditor::audit::ScanReport) -> ExitCode {
    let Some(t) = report.fail_on.filter(|&t| fails(r, t)) else {
        return ExitCode::Ok;
    };
    output::explain_fail_on(&r.gate(t));
    ExitCode::Findings
}

/// `auditor info`: a backup folder, a Manifest.plist alone, or the listing of a folder of
/// several backups (table or JSON, exit 0: the listing is what there is to tell; with
/// `--format sarif`, which has no listing, exit 2 as the other commands).
pub fn run_info(a: InfoArgs) -> Outcome {
    let target = match open::resolve(a.backup.as_deref(), Listing::None) {
        Err(Error::SeveralBackups { path, backups }) if a.report.format != ReportFormat::Sarif => {
            output::emit(&a.report.output, &path, |out| match a.report.format {
                ReportFormat::Json => report::backups::write_json(out, &path, &backups),
                _ => report::backups::write_table(out, &path, &backups),
            })?;
            return Ok(ExitCode::Ok);
        }
        r => r?,
    };
    let session = Session::open_target(&target)?;
    let r = scan(
        &session,
        &ScanOptions {
            info_only: true,
            ..Default::default()
        },
    )?;
    output::emit(&a.report.output, target.path(), |out| {
        match a.report.format {
            ReportFormat::Json => report::json::write(out, &r),
            ReportFormat::Table => report::table::write_info(out, &r),
            ReportFormat::Sarif => report::sarif::write(out, &r),
            ReportFormat::Html => report::html::scan::write(out, &r),
        }
    })?;
    Ok(fail_on(&a.report, &r))
}
