//! `auditor leaks`: the secrets and personal data a backup's files expose, and who can read them.

use super::credentials::CredentialArgs;
use super::open::{locate, open, Needs};
use super::Outcome;
use super::{output, progress, ReportArgs, ReportFormat};
use auditor::leaks::sweep::{self, LeakOptions, DEFAULT_MAX_FILE_SIZE};
use auditor::report;
use auditor::ExitCode;
use std::path::PathBuf;

#[derive(Debug, clap::Args)]
pub struct LeaksArgs {
    /// The backup folder (the `<UDID>` folder); a MobileSync or MobileSync/Backup folder
    /// holding only one backup is read as that one.
    /// Without it: the backups in the platform's default folder (`auditor info` lists them).
    pub backup: Option<PathBuf>,
    #[command(flatten)]
    pub credentials: CredentialArgs,
    #[command(flatten)]
    pub report: ReportArgs,
    /// Only this app (bundle id): its app domain, app groups and extensions.
    #[arg(long, value_name = "BUNDLE")]
    pub app: Option<String>,
    /// Search HomeDomain and the other system domains too (default: app domains only).
    #[arg(long, conflicts_with = "app")]
    pub all_domains: bool,
    /// Print each value found (off by default: a redacted preview and a fingerprint).
    #[arg(long)]
    pub show_secrets: bool,
    /// Skip files larger than this (bytes; K, M, G suffixes of 1024).
    #[arg(long, value_name = "SIZE", default_value = "64M", value_parser = parse_size)]
    pub max_file_size: u64,
}

/// `123`, `64K`, `64M`, `1G` (powers of 1024).
pub(super) fn parse_size(s: &str) -> Result<u64, String> {
    let t = s.trim();
    let (num, mult) = match t.char_indices().last() {
        Some((i, c)) if c.is_ascii_alphabetic() => {
            let m: u64 = match c.to_ascii_uppercase() {
                'K' => 1 << 10,
                'M' => 1 << 20,
                'G' => 1 << 30,
                _ => return Err(format!("unknown size suffix {c:?} (use K, M or G)")),
            };
            (&t[..i], m)
        }
        _ => (t, 1),
    };
    let n: u64 = num
        .parse()
        .map_err(|_| format!("{s:?} is not a size (e.g. 64M)"))?;
    match n.checked_mul(mult) {
        Some(0) | None => Err(format!("{s:?} is not a usable size")),
        Some(v) => Ok(v),
    }
}

pub fn run(a: LeaksArgs) -> Outcome {
    debug_assert_eq!(parse_size("64M"), Ok(DEFAULT_MAX_FILE_SIZE));
    let path = locate(a.backup.as_deref(), a.report.format.listing())?;
    let session = open(&path, &a.credentials, Needs::KEYS)?;
    let opts = LeakOptions {
        app: a.app.clone(),
        all_domains: a.all_domains,
        max_file_size: a.max_file_size,
        show_secrets: a.show_secrets,
    };
    let bar = progress::bar(0, "searching");
    let r = sweep::sweep(&session, &opts, &|done, total| {
        progress::advance(&bar, done, total)
    })?;
    bar.finish_and_clear();
    if let Some(app) = &a.app {
        if sweep::app_unknown(&session, app, &r) {
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
            report::leaks::write_table(out, &r)
        })?,
        ReportFormat::Sarif => {
            output::emit(&a.report.output, &path, |out| report::sarif::write(out, &r))?
        }
        ReportFormat::Html => output::emit(&a.report.output, &path, |out| {
            report::html::leaks::write(out, &r)
        })?,
    }
    let Some(gate) = a
        .report
        .fail_on
        .map(|t| sweep::gate(&r, t))
        .filter(|g| g.fails())
    else {
        return Ok(ExitCode::Ok);
    };
    output::explain_fail_on(&gate);
    Ok(ExitCode::Findings)
}

#[cfg(test)]
mod tests {
    use super::parse_size;

    #[test]
    fn sizes_parse_with_suffixes_and_refuse_nonsense() {
        assert_eq!(parse_size("100"), Ok(100));
        assert_eq!(parse_size("64K"), Ok(64 << 10));
        assert_eq!(parse_size("64m"), Ok(64 << 20));
        assert_eq!(parse_size("2G"), Ok(2 << 30));
        for bad in ["", "0", "M", "12X", "-1", "99999999999999999999G", "1.5M"] {
            assert!(parse_size(bad).is_err(), "{bad}");
        }
    }
}
