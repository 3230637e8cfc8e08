//! `auditor extract`: export decrypted files as `DIR/<domain>/<relativePath>`.

use super::credentials::CredentialArgs;
use super::scan::{locate, open_unlocked};
use super::{output, progress, Format};
use auditor::extract::{extract, ExtractOptions, ExtractReport, Glob, RowIssue, Selection};
use auditor::Error;
use std::io::Write;
use std::path::PathBuf;

#[derive(Debug, clap::Args)]
pub struct ExtractArgs {
    /// The backup folder (the `<UDID>` folder).
    pub backup: PathBuf,
    /// Output folder (created if missing; must be empty unless --force).
    #[arg(long, value_name = "DIR")]
    pub out: PathBuf,
    /// Only this app's domains (AppDomain-, AppDomainGroup-, AppDomainPlugin-). Repeatable.
    #[arg(long = "app", value_name = "BUNDLE_ID")]
    pub apps: Vec<String>,
    /// Only this domain (exact name, e.g. HomeDomain). Repeatable.
    #[arg(long = "domain", value_name = "DOMAIN")]
    pub domains: Vec<String>,
    /// Only relativePaths matching GLOB (`*`, `?`, `**`, `[...]`). Repeatable.
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
pub fn run(a: ExtractArgs) -> Result<i32, Error> {
    let path = locate(&a.backup)?;
    let paths = a
        .paths
        .iter()
        .map(|p| Glob::new(p).map_err(|e| Error::Usage(format!("--path: {e}"))))
        .collect::<Result<Vec<_>, _>>()?;
    let session = open_unlocked(&path, &a.credentials, true, false)?;
    let bar = progress::bar(0, "exporting");
    let cb = |done: u64, total: u64| {
        if bar.length() != Some(total) {
            bar.set_length(total);
        }
        bar.set_position(done);
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
        progress: Some(&cb),
    };
    let r = extract(&session, &opts);
    bar.finish_and_clear();
    let r = r?;
    let mut out = output::open(&a.report, &path)?;
    match a.format {
        Format::Json => serde_json::to_writer_pretty(&mut out, &r)
            .map_err(std::io::Error::other)
            .and_then(|_| writeln!(out)),
        Format::Table => write_table(&mut out, &r),
    }
    .and_then(|_| out.flush())
    .map_err(output::write_err)?;
    Ok(if r.complete() { 0 } else { 1 })
}

/// Rows listed per category in the table (JSON lists them all).
const SHOW: usize = 20;

fn write_table(o: &mut dyn Write, r: &ExtractReport) -> std::io::Result<()> {
    let s = &r.summary;
    writeln!(o, "Exported to {}", r.out)?;
    writeln!(
        o,
        "  {} of {} index rows selected: {} files ({} bytes), {} folders created, {} links created",
        s.selected, s.rows, s.exported, s.bytes, s.directories, s.symlinks_created
    )?;
    writeln!(
        o,
        "  refused {}, missing {}, undecryptable {}, failed {}, links not created {}",
        s.refused, s.missing, s.undecryptable, s.failed, s.symlinks_skipped
    )?;
    let sections: [(&str, &Vec<RowIssue>); 5] = [
        (
            "Refused (unsafe or colliding paths, never written)",
            &r.refused,
        ),
        ("Missing (payload not on disk)", &r.missing),
        ("Undecryptable (no class key)", &r.undecryptable),
        ("Failed", &r.failed),
        ("Links not created (use --symlinks)", &r.skipped_symlinks),
    ];
    for (title, rows) in sections {
        if rows.is_empty() {
            continue;
        }
        writeln!(o, "\n{title}:")?;
        for x in rows.iter().take(SHOW) {
            writeln!(
                o,
                "  {}/{}  [{}] {}",
                x.domain.escape_debug(),
                x.relative_path.escape_debug(),
                x.reason,
                x.detail
            )?;
        }
        if rows.len() > SHOW {
            writeln!(
                o,
                "  … and {} more (--format json lists all)",
                rows.len() - SHOW
            )?;
        }
    }
    Ok(())
}
