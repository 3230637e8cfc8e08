//! `auditor keychain`: list, decrypt and classify backed-up keychain items.

use super::credentials::CredentialArgs;
use super::open::{locate, open, Needs};
use super::Outcome;
use super::{output, ReportArgs, ReportFormat};
use auditor::audit::finding::Gate;
use auditor::audit::keychain::audit_backup;
use auditor::report;
use auditor::ExitCode;
use std::path::PathBuf;

#[derive(Debug, clap::Args)]
pub struct KeychainArgs {
    /// The backup folder.
    /// Without it: the backups in the platform's default folder (`auditor info` lists them).
    pub backup: Option<PathBuf>,
    #[command(flatten)]
    pub credentials: CredentialArgs,
    #[command(flatten)]
    pub report: ReportArgs,
    /// Only items of this app (bundle id), including its app groups.
    #[arg(long, value_name = "BUNDLE")]
    pub app: Option<String>,
    /// Print secrets (UTF-8, or hex when not text). Off by default.
    #[arg(long)]
    pub show_secrets: bool,
}

pub fn run(a: KeychainArgs) -> Outcome {
    let path = locate(a.backup.as_deref(), a.report.format.listing())?;
    let session = open(&path, &a.credentials, Needs::KEYS)?;
    let mut audit = audit_backup(&session)?;
    if let Some(app) = &a.app {
        audit.retain_app(app);
        if audit.items.is_empty() {
            let sealed = audit.app_filter.as_ref().map_or(0, |f| f.may_belong);
            output::warn(format_args!(
                "--app {app} selected no keychain item of this backup{}",
                match sealed {
                    0 => String::new(),
                    n => format!(" ({n} sealed items may still be its own)"),
                }
            ));
        }
    }
    match a.report.format {
        ReportFormat::Json => {
            let v = report::keychain::json(&audit, a.show_secrets);
            output::emit(&a.report.output, &path, |out| report::json::write(out, &v))?;
        }
        ReportFormat::Table => output::emit(&a.report.output, &path, |out| {
            report::keychain::write_table(out, &audit, a.show_secrets)
        })?,
        ReportFormat::Sarif => output::emit(&a.report.output, &path, |out| {
            report::sarif::write(out, &audit)
        })?,
        ReportFormat::Html => output::emit(&a.report.output, &path, |out| {
            report::html::keychain::write(out, &audit, a.show_secrets)
        })?,
    }
    let Some(gate) = a
        .report
        .fail_on
        .map(|t| Gate::of(t, &audit.findings))
        .filter(Gate::fails)
    else {
        return Ok(ExitCode::Ok);
    };
    output::explain_fail_on(&gate);
    Ok(ExitCode::Findings)
}
