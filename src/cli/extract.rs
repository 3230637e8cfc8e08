//! `auditor extract`: export decrypted files as `DIR/<domain>/<relativePath>`, with their manifest.

use super::credentials::CredentialArgs;
use super::open::{locate, open, Listing, Needs};
use super::Outcome;
use super::{output, progress, Format};
use auditor::extract::{extract, ExtractOptions, ExtractProgress, Glob, Selection};
use auditor::report;
use auditor::{Error, ExitCode};
use std::path::PathBuf;

#[derive(Debug, clap::Args)]
pub struct ExtractArgs {
    /// The backup folder (the `<UDID>` folder).
    /// Without it: the backups in the platform's default folder (`auditor info` lists them).
    pub backup: Option<PathBuf>,
    /// Output folder (created if missing; must be empty unless --force).
    #[arg(long, short = 'o', visible_alias = "output", value_name = "DIR")]
    pub out: PathBuf,
    /// Only this app's domains (AppDomain-, AppDomainGroup-, AppDomainPlugin-). Repeatable.
    #[arg(long = "app", value_name = "BUNDLE_ID")]
    pub apps: Vec<String>,
    /// Only this domain (exact name, e.g. HomeDomain). Repeatable.
    #[arg(long = "domain", value_name = "DOMAIN")]
    pub domains: Vec<String>,
    /// Only relativePaths matching GLOB (`*`, `?`, `**`, `[...]`); a GLOB without `/`
    /// matches the file name at any depth. Repeatable.
    #[arg(long = "path", value_name = "GLOB")]
    pub paths: Vec<String>,
    /// Write into a non-empty DIR (files and links in the way are replaced).
    #[arg(long)]
    pub force: bool,
    /// Create symbolic links whose target stays inside DIR (others are refused).
    #[arg(long)]
    pub symlinks: bool,
    #[command(flatten)]
    pub credentials: CredentialArgs,
    /// Report format.
    #[arg(long, value_enum, default_value_t = Format::Table)]
    pub format: Format,
    /// Write the report to FILE instead of stdout (never inside the backup).
    #[arg(long, value_name = "FILE")]
    pub report: Option<PathBuf>,
}

/// Exit 0 when every selected file was exported, 1 when some row was refused, missing,
/// undecryptable or failed (listed in the report); 2, 3, 4 as `scan`.
pub fn run(a: ExtractArgs) -> Outcome {
    let listing = match a.format {
        Format::Json => Listing::Json,
        Format::Table => Listing::None,
    };
    let path = locate(a.backup.as_deref(), listing)?;
    let paths = a
        .paths
        .iter()
        .map(|p| Glob::path_pattern(p).map_err(|e| Error::Usage(format!("--path: {e}"))))
        .collect::<Result<Vec<_>, _>>()?;
    let session = open(&path, &a.credentials, Needs::KEYS)?;
    // Over the bytes of the files planned (their recorded sizes), the files in its message.
    let bar = progress::bar(0, "exporting");
    let cb = |p: ExtractProgress| {
        bar.set_message(format!("{}/{} files", p.files_done, p.files_total));
        progress::advance(&bar, p.bytes_done, p.bytes_total);
    };
    let opts = ExtractOptions {
        out: a.out.clone(),
        force: a.force,
        selection: Selection {
            apps: a.apps.clone(),
            domains: a.domains.clone(),
            paths,
        },
        symlinks: a.symlinks,
        progress: if bar.is_hidden() { None } else { Some(&cb) },
    };
    let r = extract(&session, &opts);
    bar.finish_and_clear();
    let r = r?;
    for f in &r.selection.unmatched {
        output::warn(format_args!("{f} selected nothing in this backup"));
    }
    output::emit(&a.report, &path, |out| match a.format {
        Format::Json => report::json::write(out, &r),
        Format::Table => report::extract_table::write(out, &r),
    })?;
    Ok(ExitCode::findings_if(!r.complete()))
}
