//! `auditor policy init`: write a starting policy from what a backup shows.

use super::credentials::CredentialArgs;
use super::open::{locate, open, Listing, Needs};
use super::output;
use super::Outcome;
use auditor::{Error, ExitCode};
use std::path::PathBuf;

#[derive(Debug, clap::Args)]
pub struct PolicyArgs {
    #[command(subcommand)]
    pub command: PolicyCommand,
}

#[derive(Debug, clap::Subcommand)]
pub enum PolicyCommand {
    /// Write a policy that the backup satisfies now (apps, current classes), to tighten.
    Init(InitArgs),
}

#[derive(Debug, clap::Args)]
pub struct InitArgs {
    /// The backup folder (the `<UDID>` folder).
    /// Without it: the backups in the platform's default folder (`auditor info` lists them).
    pub backup: Option<PathBuf>,
    #[command(flatten)]
    pub credentials: CredentialArgs,
    /// Write expectations for this app only (repeatable; default: every app of the backup).
    #[arg(long = "app", value_name = "BUNDLE")]
    pub apps: Vec<String>,
    /// A locked, closed-world policy: every file (as globs, with the weakest class seen),
    /// keychain item (with where it restores) and leak fingerprint of this known-good backup
    /// is pinned; `check` fails on anything new or weaker (docs/policy.md "Locked policies").
    #[arg(long)]
    pub lock: bool,
    /// Write the policy to FILE instead of stdout (refuses to overwrite an existing file).
    #[arg(long, short = 'o', value_name = "FILE")]
    pub output: Option<PathBuf>,
}

pub fn run(a: PolicyArgs) -> Outcome {
    match a.command {
        PolicyCommand::Init(a) => init(a),
    }
}

fn init(a: InitArgs) -> Outcome {
    let path = locate(a.backup.as_deref(), Listing::None)?;
    let session = open(&path, &a.credentials, Needs::KEYS)?;
    let started = if a.lock {
        auditor::policy::lock::start_locked(&session, &a.apps)?
    } else {
        auditor::policy::init::start(&session, &a.apps)?
    };
    if let Some(e) = &started.keychain_error {
        output::warn(format_args!(
            "the keychain cannot be read ({e}); no keychain expectations written"
        ));
    }
    let text = started.text;
    if let Some(p) = &a.output {
        if p.exists() {
            return Err(Error::Usage(format!(
                "--output {}: the file exists; refusing to overwrite a policy",
                p.display()
            ))
            .into());
        }
    }
    output::emit(&a.output, &path, |out| out.write_all(text.as_bytes()))?;
    Ok(ExitCode::Ok)
}
