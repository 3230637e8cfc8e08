//! `auditor key`: derive the backup key once and print it for --key/--key-file.

use super::credentials::CredentialArgs;
use super::open::{open, Needs};
use super::output;
use super::Outcome;
use auditor::session::locate;
use auditor::{Error, ExitCode};
use std::io::Write;
use std::path::PathBuf;

#[derive(Debug, clap::Args)]
pub struct KeyArgs {
    /// The backup folder.
    pub backup: PathBuf,
    #[command(flatten)]
    pub credentials: CredentialArgs,
    /// Write the key to FILE (created with mode 0600) instead of stdout.
    #[arg(long, short = 'o', value_name = "FILE")]
    pub output: Option<PathBuf>,
}

pub fn run(a: KeyArgs) -> Outcome {
    let path = locate(&a.backup)?;
    if let Some(p) = &a.output {
        output::refuse_inside_backup(p, &path)?;
    }
    let session = open(&path, &a.credentials, Needs::KEYS)?;
    let kek = session.kek.as_ref().ok_or_else(|| {
        Error::CredentialsMissing("the backup is not encrypted: there is no key to derive".into())
    })?;
    output::warn(
        "this key is password-equivalent: anyone holding it can decrypt the backup. \
         Store it like the password (e.g. a CI secret), and pass it with --key-file.",
    );
    let hex = kek.to_hex();
    match &a.output {
        None => {
            let mut o = std::io::stdout().lock();
            output::finish(writeln!(o, "{}", hex.as_str()))?;
        }
        Some(p) => {
            let mut opts = std::fs::OpenOptions::new();
            opts.write(true).create_new(true);
            #[cfg(unix)]
            {
                use std::os::unix::fs::OpenOptionsExt;
                opts.mode(0o600);
            }
            let mut f = opts.open(p).map_err(|e| {
                // The user named a file that cannot be created: a usage problem (exit 2).
                Error::Usage(format!("cannot create {}: {e}", p.display()))
            })?;
            output::finish(writeln!(f, "{}", hex.as_str()))?;
        }
    }
    Ok(ExitCode::Ok)
}
