//! `auditor fixture <SPEC> <OUT>`: write a synthetic backup from a JSON spec.

use super::output;
use super::Outcome;
use anyhow::Context;
use auditor::{Error, ExitCode};
use std::path::PathBuf;

#[derive(Debug, clap::Args)]
pub struct FixtureArgs {
    /// The JSON spec (see fixtures/specs/ and docs/fixtures.md).
    pub spec: PathBuf,
    /// The backup folder to create (must not exist or be empty).
    pub out: PathBuf,
}

pub fn run(a: FixtureArgs) -> Outcome {
    // Read, parsed and validated before anything is written; every error names the file.
    let spec = auditor::fixture::Spec::from_file(&a.spec).map_err(|e| match e {
        auditor::fixture::FixtureError::Io { .. } => Error::from(e),
        e => Error::Usage(format!("{}: {e}", a.spec.display())),
    })?;
    let summary = auditor::fixture::write(&spec, &a.out)
        .map_err(Error::from)
        .with_context(|| a.out.display().to_string())?;
    output::note(format_args!(
        "auditor: wrote {} ({}, {}): {} index rows, {} files ({} payloads, {} missing), {} apps, {} keychain items",
        summary.backup_dir.display(),
        summary.udid,
        if summary.encrypted { "encrypted" } else { "unencrypted" },
        summary.rows,
        summary.files,
        summary.payloads_written,
        summary.files_missing,
        summary.apps,
        summary.keychain_items
    ));
    Ok(ExitCode::Ok)
}
