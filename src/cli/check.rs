//! `auditor check`: evaluate a policy file against a backup; exit 1 when an expectation fails.

use super::credentials::CredentialArgs;
use super::output;
use super::scan::{locate, open_unlocked};
use auditor::policy::{self, CheckReport, Status};
use auditor::report;
use auditor::Error;
use clap::ValueEnum;
use std::io::Write;
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
}

#[derive(Debug, clap::Args)]
pub struct CheckArgs {
    /// The backup folder (the `<UDID>` folder).
    pub backup: PathBuf,
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
}

fn write_table(out: &mut dyn Write, r: &CheckReport) -> std::io::Result<()> {
    writeln!(
        out,
        "auditor check: policy {} on backup {}",
        r.policy.path, r.backup.path
    )?;
    if let (Some(n), Some(v)) = (&r.backup.device_name, &r.backup.ios_version) {
        writeln!(out, "device: {n}, iOS {v}")?;
    }
    writeln!(out)?;
    for e in &r.expectations {
        let word = match e.status {
            Status::Pass => "PASS ",
            Status::Fail => "FAIL ",
            Status::Error => "ERROR",
        };
        let scope = e.app.as_deref().map_or(String::new(), |a| format!("{a}: "));
        writeln!(
            out,
            "{word} {:<30} {scope}{} ({}:{})",
            e.rule, e.description, r.policy.path, e.policy_line
        )?;
        for f in r.findings_of(&e.id) {
            writeln!(
                out,
                "        {:<6} {}: {}",
                f.severity.as_str(),
                f.location.display(),
                f.message
            )?;
        }
        if let Some(n) = &e.note {
            if e.status != Status::Error {
                writeln!(out, "        note: {n}")?;
            }
        }
    }
    let s = &r.summary;
    writeln!(
        out,
        "\n{}: {} expectations: {} passed, {} failed, {} could not be checked; {} findings",
        if r.passed { "PASSED" } else { "FAILED" },
        s.expectations,
        s.passed,
        s.failed,
        s.errors,
        s.findings
    )
}

pub fn run(a: CheckArgs) -> Result<i32, Error> {
    // The policy first: a bad one is exit 2 before any password is asked for.
    let pol = policy::load(&a.policy)?;
    let path = locate(&a.backup)?;
    // A backup-level-only policy needs no password: never prompt for one then.
    let needed = pol.needs_index();
    let session = open_unlocked(&path, &a.credentials, needed, !needed)?;
    let r = policy::check(&session, &pol)?;
    let mut out = output::open(&a.output, &path)?;
    match a.format {
        CheckFormat::Table => write_table(&mut out, &r),
        CheckFormat::Json => report::json::write(&mut out, &r),
        CheckFormat::Sarif => report::sarif::write(&mut out, &r),
        CheckFormat::Junit => report::junit::write(&mut out, &r),
    }
    .and_then(|_| out.flush())
    .map_err(output::write_err)?;
    Ok(if r.passed { 0 } else { 1 })
}
