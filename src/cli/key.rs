//! `auditor key`: derive the backup key once and print it for --key/--key-file.

use super::credentials::CredentialArgs;
use super::open::{resolve, unlock, Listing, Needs};
use super::output;
use super::Outcome;
use auditor::session::Session;
use auditor::{Error, ExitCode};
use std::io::Write;
use std::path::PathBuf;

#[derive(Debug, clap::Args)]
pub struct KeyArgs {
    /// The backup folder, or its Manifest.plist alone (the keybag is all the key needs).
    pub backup: PathBuf,
    #[command(flatten)]
    pub credentials: CredentialArgs,
    /// Write the key to FILE (created with mode 0600) instead of stdout.
    #[arg(long, short = 'o', value_name = "FILE")]
    pub output: Option<PathBuf>,
    /// With --output: replace FILE if it exists (otherwise an existing FILE is refused
    /// before the key is derived).
    #[arg(long, requires = "output")]
    pub force: bool,
}

pub fn run(a: KeyArgs) -> Outcome {
    let target = resolve(&a.backup, Listing::None)?;
    if let Some(p) = &a.output {
        output::refuse_inside_backup(p, target.path())?;
        // Refused now, not after seconds of key derivation.
        if !a.force && std::fs::symlink_metadata(p).is_ok() {
            return Err(Error::Usage(format!(
                "--output {}: the file exists; pass --force to replace it",
                p.display()
            ))
            .into());
        }
    }
    let session = unlock(Session::open_target(&target)?, &a.credentials, Needs::KEYS)?;
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
            if a.force {
                opts.write(true).create(true).truncate(true);
            } else {
                opts.write(true).create_new(true);
            }
            #[cfg(unix)]
            {
                use std::os::unix::fs::OpenOptionsExt;
                opts.mode(0o600);
            }
            let mut f = opts.open(p).map_err(|e| {
                // The user named a file that cannot be created: a usage problem (exit 2).
                Error::Usage(format!("cannot create {}: {e}", p.display()))
            })?;
            // A replaced file keeps its old mode: make it private too.
            #[cfg(unix)]
            {
                use std::os::unix::fs::PermissionsExt;
                f.set_permissions(std::fs::Permissions::from_mode(0o600))
                    .map_err(|e| Error::Usage(format!("cannot restrict {}: {e}", p.display())))?;
            }
            output::finish(writeln!(f, "{}", hex.as_str()))?;
        }
    }
    Ok(ExitCode::Ok)
}
