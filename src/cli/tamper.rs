//! `auditor tamper`: the settings in an app's files that a modified backup can change, and
//! whether the app could notice (integrity evidence in the keychain).

use super::credentials::CredentialArgs;
use super::leaks::parse_size;
use super::open::{locate, open, Needs};
use super::Outcome;
use super::{output, progress, ReportArgs, ReportFormat};
use auditor::report;
use auditor::tamper::{self, TamperOptions};
use auditor::ExitCode;
use std::path::PathBuf;

#[derive(Debug, clap::Args)]
pub struct TamperArgs {
    /// The backup folder (the `<UDID>` folder); a MobileSync or MobileSync/Backup folder
    /// holding only one backup is read as that one.
    pub backup: PathBuf,
    #[command(flatten)]
    pub credentials: CredentialArgs,
    #[command(flatten)]
    pub report: ReportArgs,
    /// Only this app (bundle id): its app domain, app groups and extensions.
    #[arg(long, value_name = "BUNDLE")]
    pub app: Option<String>,
    /// Read HomeDomain and the other system domains too (default: app domains only).
    #[arg(long, conflicts_with = "app")]
    pub all_domains: bool,
    /// Skip files larger than this (bytes; K, M, G suffixes of 1024).
    #[arg(long, value_name = "SIZE", default_value = "64M", value_parser = parse_size)]
    pub max_file_size: u64,
}

pub fn run(a: TamperArgs) -> Outcome {
    let path = locate(Some(&a.backup), a.report.format.listing())?;
    let session = open(&path, &a.credentials, Needs::KEYS)?;
    let opts = TamperOptions {
        app: a.app.clone(),
        all_domains: a.all_domains,
        max_file_size: a.max_file_size,
    };
    let bar = progress::bar(0, "reading");
    let r = tamper::surface(&session, &opts, &|done, total| {
        progress::advance(&bar, done, total)
    })?;
    bar.finish_and_clear();
    if let Some(app) = &a.app {
        let listed = session
            .backup
            .manifest
            .as_ref()
            .is_some_and(|m| m.applications.iter().any(|x| &x.bundle_id == app));
        if r.summary.files_searched == 0 && r.summary.skipped.is_empty() && !listed {
            output::warn(format_args!(
                "--app {app}: the backup holds no file of this app"
            ));
        }
    }
    match a.report.format {
        ReportFormat::Json => {
            output::emit(&a.report.output, &path, |out| report::json::write(out, &r))?
        }
        ReportFormat::Table => output::emit(&a.report.output, &path, |out| {
            report::tamper::write_table(out, &r)
        })?,
        ReportFormat::Sarif => {
            output::emit(&a.report.output, &path, |out| report::sarif::write(out, &r))?
        }
        ReportFormat::Html => output::emit(&a.report.output, &path, |out| {
            report::html::tamper::write(out, &r)
        })?,
    }
    let Some(gate) = a
        .report
        .fail_on
        .map(|t| tamper::gate(&r, t))
        .filter(|g| g.fails())
    else {
        return Ok(ExitCode::Ok);
    };
    output::explain_fail_on(&gate);
    Ok(ExitCode::Findings)
}
