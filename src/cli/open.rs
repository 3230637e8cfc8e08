//! Opening the backup a subcommand names: its credential options, the password prompt and
//! the key-derivation bar, over the library's `session::open_unlocked`.

use super::credentials::{can_prompt, prompt, CredentialArgs, Resolved, HOW_TO_PASS};
use super::{output, progress};
use auditor::backup::defaults::{self, Platform};
use auditor::crypto::kdf::DeriveProgress;
use auditor::session::{self, OpenOptions, Session, Target};
use auditor::Error;
use indicatif::ProgressBar;
use std::path::{Path, PathBuf};

/// What a subcommand wants of the credentials.
#[derive(Debug, Clone, Copy)]
pub struct Needs {
    /// It cannot work without the class keys (exit 3 when none can be had).
    pub keys: bool,
    /// A password may be asked for on a terminal.
    pub prompt: bool,
    /// What was given may be used: false with `--no-password`, which never unlocks (the
    /// options, AUDITOR_PASSWORD and the prompt are all left unused).
    pub unlock: bool,
}

impl Needs {
    /// The class keys, however they can be had.
    pub const KEYS: Needs = Needs {
        keys: true,
        prompt: true,
        unlock: true,
    };
}

/// Open and (when credentials are given or needed) unlock the backup at `path`.
pub fn open(path: &Path, creds: &CredentialArgs, needs: Needs) -> Result<Session, Error> {
    unlock(Session::open(path)?, creds, needs)
}

/// Unlock an opened session (a backup folder, or a Manifest.plist alone) when credentials
/// are given or needed.
pub fn unlock(session: Session, creds: &CredentialArgs, needs: Needs) -> Result<Session, Error> {
    let resolved = if needs.unlock {
        creds.resolve()?
    } else {
        if creds.given() {
            output::warn("--no-password: the password and key options are not used");
        }
        Resolved::default()
    };
    for w in &resolved.warnings {
        output::warn(w);
    }
    // One bar per derivation, over both stages, the stage in its message; cleared when the
    // derivation ends, so that a password asked again gets a bar of its own.
    let mut bar: Option<(ProgressBar, u8)> = None;
    let mut on_progress = |p: DeriveProgress| {
        let (b, stage) = bar.get_or_insert_with(|| (progress::bar(p.total, "deriving key"), 0));
        if *stage != p.stage_number {
            *stage = p.stage_number;
            b.set_message(format!("deriving key ({})", p.label()));
        }
        progress::advance(b, p.done, p.total);
        if p.done >= p.total {
            b.finish_and_clear();
            bar = None;
        }
    };
    let mut ask = prompt;
    let opts = OpenOptions {
        unlock: resolved.credentials,
        device_key: resolved.device_key.as_deref().map(|v| v.as_slice()),
        keys_needed: needs.keys,
        ask_password: match needs.unlock && needs.prompt && can_prompt() {
            true => Some(&mut ask),
            false => None,
        },
        progress: &mut on_progress,
    };
    let opened = session::unlock_opened(session, opts);
    if let Some((b, _)) = bar {
        b.finish_and_clear();
    }
    opened.map_err(|e| match e {
        Error::PasswordNeeded(_) => Error::CredentialsMissing(format!("{e}: {HOW_TO_PASS}")),
        e => e,
    })
}

/// The path a subcommand was given, or, given none, the platform's default folder of
/// backups ([`backup::defaults`]): the first that exists and holds a backup, said on
/// stderr. None found is a usage error (exit 2) that says where it looked.
pub fn default_or(given: Option<&Path>) -> Result<PathBuf, Error> {
    if let Some(p) = given {
        return Ok(p.to_path_buf());
    }
    let platform = Platform::current();
    let env = defaults::Env::current();
    let looked = defaults::candidates(platform, &env);
    let existing = defaults::existing(platform, &env);
    let holding = existing.iter().find(|d| auditor::backup::locate(d).is_ok());
    if let Some(dir) = holding {
        output::note(format_args!(
            "auditor: no backup given: looking in the default folder {}",
            dir.display()
        ));
        return Ok(dir.clone());
    }
    let list = |v: &[PathBuf]| {
        v.iter()
            .map(|p| p.display().to_string())
            .collect::<Vec<_>>()
            .join(", ")
    };
    let why = match (platform, looked.is_empty(), existing.is_empty()) {
        (_, false, false) => format!("the default folder {} holds none", list(&existing)),
        (Platform::Other, true, _) => format!(
            "no default backup folder is known on {} (HOME is not set)",
            platform.name()
        ),
        (Platform::Other, false, _) => format!(
            "no default backup folder is known on {} (Finder and iTunes write none here), and {} (a Mac's, under HOME) does not exist",
            platform.name(),
            list(&looked)
        ),
        (_, true, _) => format!(
            "the {} default backup folder cannot be found (HOME, APPDATA and USERPROFILE are not set)",
            platform.name()
        ),
        (_, false, true) => format!(
            "the {} default backup folder {} does not exist",
            platform.name(),
            list(&looked)
        ),
    };
    Err(Error::Usage(format!(
        "no backup given, and {why}: give the backup folder (the <UDID> folder) or a folder of backups"
    )))
}

/// Resolve the path a subcommand was given ([`session::resolve`]; none: [`default_or`]):
/// the only backup in a folder is used, said on stderr; with several, `listing` (when the
/// output is JSON) puts their listing on stdout before the error (exit 2) says it on
/// stderr.
pub fn resolve(given: Option<&Path>, listing: Listing) -> Result<Target, Error> {
    let path = default_or(given)?;
    let path = path.as_path();
    match session::resolve(path) {
        Ok(t) => {
            if let Target::Folder {
                path: chosen,
                only_in: Some(dir),
            } = &t
            {
                output::note(format_args!(
                    "auditor: using the only backup in {}: {}",
                    dir.display(),
                    chosen.display()
                ));
            }
            Ok(t)
        }
        Err(Error::SeveralBackups { path, backups }) => {
            if listing == Listing::Json {
                // The error that follows is the command's outcome; a stdout that cannot be
                // written changes nothing of it.
                let _ = output::finish(output::backups_json(&path, &backups));
            }
            Err(Error::SeveralBackups { path, backups })
        }
        Err(e) => Err(e),
    }
}

/// How a command that needs one backup lists several on stdout.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Listing {
    /// Only in the error on stderr.
    None,
    /// Also as an `auditor.backups/1` document on stdout.
    Json,
}

/// The one backup folder a command that needs a whole backup works on ([`resolve`]); a
/// file is refused (exit 4) with what to pass instead.
pub fn locate(given: Option<&Path>, listing: Listing) -> Result<PathBuf, Error> {
    resolve(given, listing)?.folder()
}
