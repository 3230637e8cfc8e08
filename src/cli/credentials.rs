//! Credential options (password, password file, env, key, key file, prompt) → an `Unlock`.

use auditor::crypto::{Key32, Password};
use auditor::session::Unlock;
use auditor::Error;
use clap::Args;
use std::io::{IsTerminal, Read};
use std::path::PathBuf;

/// How to unlock an encrypted backup.
#[derive(Args, Clone, Default)]
pub struct CredentialArgs {
    /// Backup password. Without a value, prompt (no echo) on a terminal. A value on the
    /// command line is visible to other users of this machine: prefer the prompt,
    /// --password-file or AUDITOR_PASSWORD.
    #[arg(long, value_name = "PASSWORD", num_args = 0..=1, default_missing_value = "", hide_default_value = true)]
    pub password: Option<String>,
    /// Read the password from a file ('-' for stdin); one trailing newline is removed.
    #[arg(long, value_name = "FILE", conflicts_with = "password")]
    pub password_file: Option<PathBuf>,
    /// The derived backup key (64 hex digits, from `auditor key`): skips key derivation.
    /// Password-equivalent: treat it like the password.
    #[arg(long, value_name = "HEX", conflicts_with_all = ["password", "password_file"])]
    pub key: Option<String>,
    /// Read the derived key (64 hex digits) from a file ('-' for stdin).
    #[arg(long, value_name = "FILE", conflicts_with_all = ["password", "password_file", "key"])]
    pub key_file: Option<PathBuf>,
    /// Examiner option: the device's UID-derived key 0x835 (32 hex digits), which opens
    /// device-bound class keys. Never required.
    #[arg(long, value_name = "HEX")]
    pub device_key: Option<String>,
}

/// Shows which options were given, never their values (a password or key given on the
/// command line must not reach a log through `{:?}`).
impl std::fmt::Debug for CredentialArgs {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let given = |o: bool| if o { "<redacted>" } else { "-" };
        f.debug_struct("CredentialArgs")
            .field("password", &given(self.password.is_some()))
            .field("password_file", &self.password_file)
            .field("key", &given(self.key.is_some()))
            .field("key_file", &self.key_file)
            .field("device_key", &given(self.device_key.is_some()))
            .finish()
    }
}

/// Resolved credentials plus warnings for stderr (by default: nothing to unlock with).
#[derive(Default)]
pub struct Resolved {
    pub credentials: Unlock,
    pub device_key: Option<zeroize::Zeroizing<Vec<u8>>>,
    pub warnings: Vec<String>,
}

fn read_secret_file(path: &PathBuf, what: &str) -> Result<zeroize::Zeroizing<String>, Error> {
    let mut s = zeroize::Zeroizing::new(String::new());
    if path.as_os_str() == "-" {
        std::io::stdin()
            .read_to_string(&mut s)
            .map_err(|e| Error::Usage(format!("cannot read the {what} from stdin: {e}")))?;
    } else {
        let mut f = std::fs::File::open(path).map_err(|e| {
            Error::Usage(format!("cannot open {what} file {}: {e}", path.display()))
        })?;
        f.read_to_string(&mut s).map_err(|e| {
            Error::Usage(format!("cannot read {what} file {}: {e}", path.display()))
        })?;
    }
    // Remove exactly one trailing line ending.
    if s.ends_with('\n') {
        s.pop();
        if s.ends_with('\r') {
            s.pop();
        }
    }
    Ok(s)
}

fn parse_key(hex: &str, source: &str) -> Result<Key32, Error> {
    Key32::from_hex(hex).ok_or_else(|| {
        Error::Usage(format!(
            "{source}: expected the derived key as 64 hex digits (from `auditor key`)"
        ))
    })
}

/// The environment variable a password is read from (never shown in --help or errors).
pub const PASSWORD_ENV: &str = "AUDITOR_PASSWORD";

/// How to phrase the hint when a password is needed but none can be asked for.
pub const HOW_TO_PASS: &str =
    "pass one with --password (prompt on a terminal), --password-file FILE \
(or '-' for stdin), the AUDITOR_PASSWORD environment variable, or --key/--key-file with the key \
from `auditor key`";

impl CredentialArgs {
    /// Whether any option gives a password or key.
    pub fn given(&self) -> bool {
        self.password.is_some()
            || self.password_file.is_some()
            || self.key.is_some()
            || self.key_file.is_some()
            || self.device_key.is_some()
    }

    /// Resolve the options (AUDITOR_PASSWORD when none gives a password or key). A bare
    /// `--password` prompts on a terminal; without a terminal it is an error (exit 3).
    pub fn resolve(&self) -> Result<Resolved, Error> {
        let mut warnings = Vec::new();
        let device_key = match &self.device_key {
            None => None,
            Some(h) => {
                let bytes = hex::decode(h.trim())
                    .map_err(|_| Error::Usage("--device-key: expected 32 hex digits".into()))?;
                if bytes.len() != 16 {
                    return Err(Error::Usage(format!(
                        "--device-key: expected 16 bytes (32 hex digits), got {}",
                        bytes.len()
                    )));
                }
                Some(zeroize::Zeroizing::new(bytes))
            }
        };
        let credentials = if let Some(k) = &self.key {
            warnings.push(
                "a key given on the command line is visible to other users (ps); prefer --key-file"
                    .into(),
            );
            Unlock::Key(parse_key(k, "--key")?)
        } else if let Some(f) = &self.key_file {
            let s = read_secret_file(f, "key")?;
            Unlock::Key(parse_key(&s, &format!("--key-file {}", f.display()))?)
        } else if let Some(f) = &self.password_file {
            let s = read_secret_file(f, "password")?;
            Unlock::Password(Password::new(s.as_bytes().to_vec()))
        } else if let Some(p) = &self.password {
            if p.is_empty() {
                Unlock::Password(prompt(1)?)
            } else {
                warnings.push(
                    "a password given on the command line is visible to other users (ps) and \
                     may stay in shell history; prefer the prompt, --password-file or AUDITOR_PASSWORD"
                        .into(),
                );
                Unlock::Password(Password::new(p.as_bytes().to_vec()))
            }
        } else if let Ok(p) = std::env::var(PASSWORD_ENV) {
            Unlock::Password(Password::from_string(p))
        } else {
            Unlock::None
        };
        Ok(Resolved {
            credentials,
            device_key,
            warnings,
        })
    }
}

/// Prompt for the password without echo (refused without a terminal); `attempt` above 1
/// says the last one was wrong.
pub fn prompt(attempt: u32) -> Result<Password, Error> {
    if attempt > 1 {
        super::output::say(format_args!(
            "auditor: wrong password, try again ({attempt} of {})",
            auditor::session::PASSWORD_TRIES
        ));
    }
    if !std::io::stdin().is_terminal() {
        return Err(Error::CredentialsMissing(format!(
            "a password is needed and there is no terminal to ask on: {HOW_TO_PASS}"
        )));
    }
    let s = rpassword::prompt_password("Backup password: ")
        .map_err(|e| Error::CredentialsMissing(format!("cannot read the password: {e}")))?;
    Ok(Password::from_string(s))
}

/// Whether we may prompt for a password (stdin and stderr are terminals, not CI).
pub fn can_prompt() -> bool {
    std::io::stdin().is_terminal() && std::io::stderr().is_terminal()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_redacts_password_and_keys() {
        let a = CredentialArgs {
            password: Some("hunter2-pw".into()),
            password_file: None,
            key: Some("ab".repeat(32)),
            key_file: None,
            device_key: Some("cd".repeat(16)),
        };
        let d = format!("{a:?}");
        assert!(!d.contains("hunter2"), "{d}");
        assert!(
            !d.contains(&"ab".repeat(32)) && !d.contains(&"cd".repeat(16)),
            "{d}"
        );
        assert!(d.contains("<redacted>"));
    }
}
