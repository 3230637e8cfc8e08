//! `auditor key`: derive the backup key once and print it for --key/--key-file.

use super::credentials::CredentialArgs;
use super::scan::{locate, open_unlocked};
use auditor::Error;
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

pub fn run(a: KeyArgs) -> Result<i32, Error> {
    let path = locate(&a.backup)?;
    if let Some(p) = &a.output {
        super::output::refuse_inside_backup(p, &path)?;
    }
    let session = open_unlocked(&path, &a.credentials, true, false)?;
    let kek = session.kek.as_ref().ok_or_else(|| {
        Error::CredentialsMissing("the backup is not encrypted: there is no key to derive".into())
    })?;
    eprintln!(
        "auditor: warning: this key is password-equivalent: anyone holding it can decrypt the backup. \
         Store it like the password (e.g. a CI secret), and pass it with --key-file."
    );
    let hex = kek.to_hex();
    match &a.output {
        None => {
            let mut o = std::io::stdout().lock();
            writeln!(o, "{}", hex.as_str()).map_err(super::output::write_err)?;
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
            writeln!(f, "{}", hex.as_str()).map_err(super::output::write_err)?;
        }
    }
    Ok(0)
}
