//! `auditor patch`: write a modified copy of a backup (values set, files replaced or deleted) and its receipt.

use super::credentials::CredentialArgs;
use super::open::{locate, open, Listing, Needs};
use super::{output, Format, Outcome};
use auditor::patch::{patch, Change, PatchOptions};
use auditor::report;
use auditor::{Error, ExitCode};
use std::path::PathBuf;

#[derive(Debug, clap::Args)]
pub struct PatchArgs {
    /// The backup folder (the `<UDID>` folder); only read.
    pub backup: PathBuf,
    /// Output folder for the patched copy (absent or empty; never inside the backup).
    #[arg(long, short = 'o', value_name = "DIR")]
    pub out: PathBuf,
    /// Set one value of a plist (binary or XML) or JSON file: KEYPATH is a JSON pointer
    /// (`/security/pinning`, array indices as numbers, `~1` for `/`), VALUE `true`, `false`,
    /// a number, `"quoted text"` or bare text (e.g. a URL); it keeps the old value's type.
    /// Repeatable.
    #[arg(long = "set", value_name = "DOMAIN:PATH:KEYPATH=VALUE")]
    pub set: Vec<String>,
    /// Replace a file's content with LOCALFILE's. Repeatable.
    #[arg(long = "replace", value_name = "DOMAIN:PATH=LOCALFILE")]
    pub replace: Vec<String>,
    /// Remove a file (its index row and its payload). Repeatable.
    #[arg(long = "delete", value_name = "DOMAIN:PATH")]
    pub delete: Vec<String>,
    /// Replace DIR when it is not empty but holds a backup (e.g. an earlier patched copy).
    #[arg(long)]
    pub force: bool,
    #[command(flatten)]
    pub credentials: CredentialArgs,
    /// Receipt format.
    #[arg(long, value_enum, default_value_t = Format::Table)]
    pub format: Format,
    /// Write the receipt to FILE instead of stdout (never inside the backup).
    #[arg(long, value_name = "FILE")]
    pub receipt: Option<PathBuf>,
}

/// The changes in the order they are applied: every `--replace`, then every `--set`, then
/// every `--delete`, each in the order given (so values can be set in a replaced file).
fn changes(a: &PatchArgs) -> Result<Vec<Change>, Error> {
    let mut out = Vec::new();
    for s in &a.replace {
        out.push(Change::parse_replace(s)?);
    }
    for s in &a.set {
        out.push(Change::parse_set(s)?);
    }
    for s in &a.delete {
        out.push(Change::parse_delete(s)?);
    }
    Ok(out)
}

/// Exit 0 when the patched copy was written; 2 for a bad or impossible change (nothing
/// written), 3 for credentials, 4 for an unreadable backup.
pub fn run(a: PatchArgs) -> Outcome {
    let listing = match a.format {
        Format::Json => Listing::Json,
        Format::Table => Listing::None,
    };
    let changes = changes(&a)?;
    let path = locate(Some(&a.backup), listing)?;
    let session = open(&path, &a.credentials, Needs::KEYS)?;
    let opts = PatchOptions {
        out: a.out.clone(),
        force: a.force,
        changes,
    };
    let r = patch(&session, &opts)?;
    output::emit(&a.receipt, &path, |out| match a.format {
        Format::Json => report::json::write(out, &r),
        Format::Table => report::patch_table::write(out, &r),
    })?;
    Ok(ExitCode::Ok)
}
