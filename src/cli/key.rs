//! `auditor key`: derive the backup key once and print it for --key/--key-file; or, with
//! `--hash`, print the password hash for hashcat and John the Ripper (no password needed).

use super::credentials::CredentialArgs;
use super::open::{resolve, unlock, Listing, Needs};
use super::output;
use super::Outcome;
use auditor::crypto::itunes_hash::ItunesHash;
use auditor::session::Session;
use auditor::{Error, ExitCode};
use std::io::Write;
use std::path::{Path, PathBuf};

#[derive(Debug, clap::Args)]
pub struct KeyArgs {
    /// The backup folder, or its Manifest.plist alone (the keybag is all the key needs).
    /// Without it: the backups in the platform's default folder (`auditor info` lists them).
    pub backup: Option<PathBuf>,
    #[command(flatten)]
    pub credentials: CredentialArgs,
    /// Print the password hash instead: `$itunes_backup$*…` for hashcat (-m 14700 before
    /// iOS 10.2, -m 14800 after) or John the Ripper (--format=itunes-backup). Needs no
    /// password; lets anyone holding it try passwords offline (a password audit).
    #[arg(long, conflicts_with_all = ["password", "password_file", "key", "key_file", "device_key"])]
    pub hash: bool,
    /// Write the key (or hash) to FILE (created with mode 0600) instead of stdout.
    #[arg(long, short = 'o', value_name = "FILE")]
    pub output: Option<PathBuf>,
    /// With --output: replace FILE if it exists (otherwise an existing FILE is refused
    /// before the key is derived).
    #[arg(long, requires = "output")]
    pub force: bool,
}

pub fn run(a: KeyArgs) -> Outcome {
    let target = resolve(a.backup.as_deref(), Listing::None)?;
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
    let session = Session::open_target(&target)?;
    if a.hash {
        let line = hash(&session)?;
        write_out(&a, &line)?;
        return Ok(ExitCode::Ok);
    }
    let session = unlock(session, &a.credentials, Needs::KEYS)?;
    let kek = session.kek.as_ref().ok_or_else(|| {
        Error::CredentialsMissing("the backup is not encrypted: there is no key to derive".into())
    })?;
    output::warn(
        "this key is password-equivalent: anyone holding it can decrypt the backup. \
         Store it like the password (e.g. a CI secret), and pass it with --key-file.",
    );
    write_out(&a, kek.to_hex().as_str())?;
    Ok(ExitCode::Ok)
}

/// The `$itunes_backup$` line of the session's keybag, with what it exposes said on stderr.
fn hash(session: &Session) -> Result<String, Error> {
    if !session.is_encrypted() {
        return Err(Error::CredentialsMissing(
            "the backup is not encrypted: there is no password to recover".into(),
        ));
    }
    let manifest = || session.backup.manifest_path();
    let keybag = match (&session.keybag, &session.keybag_error) {
        (Some(k), _) => k,
        (None, Some(e)) => {
            return Err(Error::Keybag {
                path: manifest(),
                source: e.clone(),
            })
        }
        (None, None) => {
            return Err(Error::backup(
                manifest(),
                "no BackupKeyBag: there is no password hash to print",
            ))
        }
    };
    let h = ItunesHash::from_keybag(keybag).map_err(|source| Error::Keybag {
        path: manifest(),
        source,
    })?;
    output::warn(format_args!(
        "this hash lets anyone holding it try passwords offline (hashcat -m {}, or John the \
         Ripper), without the backup; {}. It holds no key: keep it like the backup.",
        h.hashcat_mode(),
        match h.version {
            9 => "this backup's derivation (iOS before 10.2) is cheap: weak passwords fall fast",
            _ => "each guess costs the backup's full derivation",
        }
    ));
    if let Some(why) = h.beyond_hashcat() {
        output::warn(format_args!(
            "hashcat will refuse this line ({why}); John the Ripper reads it"
        ));
    }
    Ok(h.to_string())
}

/// Print `text` on stdout, or write it to `--output` (mode 0600, `--force` to replace).
fn write_out(a: &KeyArgs, text: &str) -> anyhow::Result<()> {
    match &a.output {
        None => {
            let mut o = std::io::stdout().lock();
            output::finish(writeln!(o, "{text}"))
        }
        Some(p) => write_private(p, a.force, text),
    }
}

/// Write `text` to a file only its owner reads.
fn write_private(p: &Path, force: bool, text: &str) -> anyhow::Result<()> {
    let mut opts = std::fs::OpenOptions::new();
    if force {
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
    output::finish(writeln!(f, "{text}"))
}
