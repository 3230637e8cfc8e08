//! A compiled policy: expectations with their place in the policy file.

use crate::audit::Severity;
use crate::keychain::KeychainItem;
use crate::ownership::strip_team_id;
use std::path::PathBuf;

/// Where an expectation is written in the policy file (1-based).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Serialize)]
pub struct Origin {
    pub line: usize,
    pub col: usize,
}

/// One backup-level expectation value and where it is written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Expect<T> {
    pub value: T,
    pub origin: Origin,
}

/// A checked, compiled policy.
#[derive(Debug)]
pub struct Policy {
    /// The policy file as given (used in reports and SARIF locations).
    pub path: PathBuf,
    pub schema: u32,
    pub backup: BackupPolicy,
    pub apps: Vec<AppPolicy>,
}

impl Policy {
    /// Whether any expectation needs the file index (and so the password of an encrypted backup).
    pub fn needs_index(&self) -> bool {
        !self.apps.is_empty()
    }
    /// Whether any expectation reads keychain items.
    pub fn needs_keychain(&self) -> bool {
        self.apps
            .iter()
            .any(|a| !a.keychain.is_empty() || a.canaries.iter().any(|c| c.in_keychain))
    }
    /// Whether any expectation searches file contents.
    pub fn needs_contents(&self) -> bool {
        self.apps
            .iter()
            .any(|a| a.canaries.iter().any(|c| c.in_files))
    }
}

/// `[backup]`.
#[derive(Debug, Clone, Default)]
pub struct BackupPolicy {
    pub encrypted: Option<Expect<bool>>,
    /// Minimum PBKDF2-SHA256 rounds (`DPIC`).
    pub min_kdf_rounds: Option<Expect<u32>>,
    pub complete: Option<Expect<bool>>,
}

/// `[[app]]`.
#[derive(Debug)]
pub struct AppPolicy {
    pub bundle_id: String,
    /// The app must be in the backup (default true).
    pub required: bool,
    pub origin: Origin,
    pub must_not_back_up: Vec<PathGlob>,
    pub must_back_up: Vec<PathGlob>,
    pub min_protection: Vec<MinProtection>,
    pub keychain: Vec<KeychainExpectation>,
    pub canaries: Vec<Canary>,
    /// Patterns of canaries with `in_files`.
    pub file_canaries: Option<CanarySet>,
    /// Patterns of canaries with `in_keychain`.
    pub keychain_canaries: Option<CanarySet>,
}

/// A glob over relative paths inside an app's domains.
#[derive(Debug, Clone)]
pub struct PathGlob {
    pub pattern: String,
    pub matcher: globset::GlobMatcher,
    pub origin: Origin,
}

impl PathGlob {
    pub fn is_match(&self, relative_path: &str) -> bool {
        self.matcher.is_match(relative_path)
    }
}

/// `[[app.min_protection]]`: files matching `glob` need class ≤ `class` (1 is strongest).
#[derive(Debug, Clone)]
pub struct MinProtection {
    pub glob: PathGlob,
    /// 1 (Complete) … 4 (None).
    pub class: u32,
    pub severity: Severity,
    pub origin: Origin,
}

/// What a keychain expectation demands of the items it selects.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeychainExpect {
    /// Must not restore to a new device (a ThisDeviceOnly class).
    DeviceBound,
    /// Must survive a restore to a new device (class 6–8 in an encrypted backup).
    Migratable,
    /// Must not be in the backup.
    Absent,
}

impl KeychainExpect {
    pub fn as_str(self) -> &'static str {
        match self {
            KeychainExpect::DeviceBound => "device-bound",
            KeychainExpect::Migratable => "migratable",
            KeychainExpect::Absent => "absent",
        }
    }
}

/// Which keychain items an expectation is about: every given field must equal.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct KeychainSelector {
    pub service: Option<String>,
    pub account: Option<String>,
    pub server: Option<String>,
    /// Equal to the item's `agrp`, with or without its team ID prefix.
    pub access_group: Option<String>,
    pub label: Option<String>,
    pub table: Option<String>,
}

impl KeychainSelector {
    /// No field that selects items (table alone does not).
    pub fn is_empty(&self) -> bool {
        self.service.is_none()
            && self.account.is_none()
            && self.server.is_none()
            && self.access_group.is_none()
            && self.label.is_none()
    }

    /// Does the (decrypted) item match every given field?
    pub fn matches(&self, it: &KeychainItem) -> bool {
        fn eq(want: &Option<String>, have: &Option<String>) -> bool {
            want.as_ref()
                .is_none_or(|w| have.as_deref() == Some(w.as_str()))
        }
        let group_ok = self.access_group.as_ref().is_none_or(|w| {
            it.access_group
                .as_deref()
                .is_some_and(|g| g == w || strip_team_id(g) == Some(w.as_str()))
        });
        eq(&self.service, &it.service)
            && eq(&self.account, &it.account)
            && eq(&self.server, &it.server)
            && eq(&self.label, &it.label)
            && self.table.as_ref().is_none_or(|t| *t == it.table)
            && group_ok
    }

    /// `service=…, account=…` for messages and ids (never secrets: these are selectors).
    pub fn describe(&self) -> String {
        let mut parts = Vec::new();
        for (k, v) in [
            ("table", &self.table),
            ("service", &self.service),
            ("account", &self.account),
            ("server", &self.server),
            ("access_group", &self.access_group),
            ("label", &self.label),
        ] {
            if let Some(v) = v {
                parts.push(format!("{k}={v}"));
            }
        }
        parts.join(", ")
    }
}

/// `[[app.keychain]]`.
#[derive(Debug, Clone)]
pub struct KeychainExpectation {
    pub selector: KeychainSelector,
    pub expect: KeychainExpect,
    pub severity: Severity,
    pub origin: Origin,
}

/// One checked canary pattern: regex source (a literal is escaped; `(?i)` for ignore_case).
#[derive(Clone)]
pub struct Pattern {
    pub source: String,
    /// Exact match length of a literal; `None` for a regex (searched with a bounded window).
    pub max_len: Option<usize>,
}

/// All canary patterns of one app for one search target, compiled into one `RegexSet`.
#[derive(Clone)]
pub struct CanarySet {
    pub set: regex::bytes::RegexSet,
    /// Pattern index → index of its canary in `AppPolicy::canaries`.
    pub owner: Vec<usize>,
    /// Bytes kept between search windows so that matches across chunk boundaries are found:
    /// `len - 1` for literals, [`super::canary::REGEX_WINDOW`] for regexes.
    pub overlap: usize,
}

impl std::fmt::Debug for CanarySet {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "CanarySet(<{} patterns redacted>)", self.owner.len())
    }
}

/// `[[app.canary]]`: values that must not appear in plaintext. Patterns are never shown.
#[derive(Clone)]
pub struct Canary {
    /// The canary's name in reports (`name`, or `#<n>` by position).
    pub name: String,
    pub patterns: Vec<Pattern>,
    pub in_files: bool,
    pub in_keychain: bool,
    pub severity: Severity,
    pub origin: Origin,
}

impl std::fmt::Debug for Canary {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Canary")
            .field("name", &self.name)
            .field(
                "patterns",
                &format_args!("<{} redacted>", self.patterns.len()),
            )
            .field("in_files", &self.in_files)
            .field("in_keychain", &self.in_keychain)
            .field("severity", &self.severity)
            .field("origin", &self.origin)
            .finish()
    }
}
