//! `auditor check`: evaluate a policy file against a backup; exit 1 when an expectation fails.

use super::credentials::CredentialArgs;
use super::open::{locate, open, Listing, Needs};
use super::output;
use super::Outcome;
use auditor::policy;
use auditor::report;
use auditor::{Error, ExitCode};
use clap::ValueEnum;
use std::path::PathBuf;

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum CheckFormat {
    /// Human-readable text.
    Table,
    /// Machine-readable JSON (`auditor.check/1`, docs/json-schema.md).
    Json,
    /// SARIF 2.1.0 for GitHub code scanning.
    Sarif,
    /// JUnit XML: one test case per expectation.
    Junit,
    /// One self-contained HTML page (summary, charts, sortable and filterable tables).
    Html,
}

#[derive(Debug, clap::Args)]
pub struct CheckArgs {
    /// The backup folder (the `<UDID>` folder).
    /// Without it: the backups in the platform's default folder (`auditor info` lists them).
    pub backup: Option<PathBuf>,
    /// The policy file (TOML, docs/policy.md).
    #[arg(long, value_name = "FILE")]
    pub policy: PathBuf,
    #[command(flatten)]
    pub credentials: CredentialArgs,
    /// Output format.
    #[arg(long, value_enum, default_value_t = CheckFormat::Table)]
    pub format: CheckFormat,
    /// Write the report to FILE instead of stdout (never inside the backup).
    #[arg(long, short = 'o', value_name = "FILE")]
    pub output: Option<PathBuf>,
    /// Fail (exit 1) on any warning too: a policy that checks nothing, an expectation that
    /// examined nothing (docs/policy.md).
    #[arg(long)]
    pub strict: bool,
}

pub fn run(a: CheckArgs) -> Outcome {
    // The policy first: a bad one is exit 2 before any password is asked for.
    let pol = policy::load(&a.policy).map_err(Error::from)?;
    let listing = match a.format {
        CheckFormat::Json => Listing::Json,
        _ => Listing::None,
    };
    let path = locate(a.backup.as_deref(), listing)?;
    // A backup-level-only policy needs no password: never prompt for one then.
    let needed = pol.needs_index();
    let needs = Needs {
        keys: needed,
        prompt: needed,
        unlock: true,
    };
    let session = open(&path, &a.credentials, needs)?;
    let mut r = policy::check(&session, &pol)?;
    for w in &r.warnings {
        output::warn(w);
    }
    if a.strict {
        r.enforce_strict();
        if !r.warnings.is_empty() {
            output::warn(format_args!(
                "--strict: exit 1 for {} warning(s)",
                r.warnings.len()
            ));
        }
    }
    output::emit(&a.output, &path, |out| match a.format {
        CheckFormat::Table => report::check_table::write(out, &r),
        CheckFormat::Json => report::json::write(out, &r),
        CheckFormat::Sarif => report::sarif::write(out, &r),
        CheckFormat::Junit => report::junit::write(out, &r),
        CheckFormat::Html => report::html::check::write(out, &r),
    })?;
    Ok(ExitCode::findings_if(!r.passed))
}
