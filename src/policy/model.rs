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
    /// The leak rules of `[app.leaks]`: the built-in ones plus the policy's
    /// `[[leak_rule]]`s (None when the policy has none: the built-in set is used).
    pub leak_rules: Option<crate::leaks::Rules>,
    /// Ids of the policy's own leak rules (`user.*`), in file order.
    pub user_rules: Vec<String>,
    /// `[lock]`: the sealed keychain items pinned by `policy init --lock`.
    pub lock: Option<SealedLock>,
}

impl Policy {
    /// Whether any expectation needs the file index (and so the password of an encrypted backup).
    pub fn needs_index(&self) -> bool {
        !self.apps.is_empty()
    }
    /// Whether any expectation reads keychain items.
    pub fn needs_keychain(&self) -> bool {
        self.lock.is_some()
            || self.apps.iter().any(|a| {
                !a.keychain.is_empty()
                    || a.lock.is_some()
                    || a.canaries.iter().any(|c| c.in_keychain)
            })
    }
    /// Whether any app has leak expectations (`[app.leaks]`: its files are swept).
    pub fn needs_leaks(&self) -> bool {
        self.apps.iter().any(|a| a.leaks.is_some())
    }
    /// The leak rules the sweep uses.
    pub fn leak_rules(&self) -> &crate::leaks::Rules {
        self.leak_rules
            .as_ref()
            .unwrap_or_else(|| crate::leaks::builtin())
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
    /// `[app.leaks]`: leaks that must not be in the app's files.
    pub leaks: Option<LeakExpectation>,
    /// `[app.lock]`: the closed world of `policy init --lock`.
    pub lock: Option<AppLock>,
}

/// `[app.lock]`: every file of the app must match one of `files` (with a class no weaker
/// than its entry's), every readable keychain item of the app must be one of `keychain`
/// (restoring no further than pinned).
#[derive(Debug, Clone)]
pub struct AppLock {
    pub files: Vec<LockedFiles>,
    pub keychain: Vec<LockedItem>,
    pub origin: Origin,
}

/// One `files` entry of `[app.lock]`: a glob and the weakest class seen under it.
#[derive(Debug, Clone)]
pub struct LockedFiles {
    pub glob: PathGlob,
    /// 1 (Complete) … 4 (None); None when some file had no class 1–4 (not compared).
    pub class: Option<u32>,
}

/// One `keychain` entry of `[app.lock]`: an item by table and name, and where it restores.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LockedItem {
    pub table: String,
    pub service: Option<String>,
    pub account: Option<String>,
    pub server: Option<String>,
    pub access_group: Option<String>,
    /// `restore.summary` as pinned (`never`, `same_device_only`, `any_device`, `unknown`).
    pub restore: Option<String>,
    /// The routes to a new device as pinned (`e---`, see docs/restore.md).
    pub new_device: Option<String>,
}

impl LockedItem {
    /// Is `it` this entry: the same table and exactly the same names (absent = absent)?
    pub fn is(&self, it: &KeychainItem) -> bool {
        let name = |v: &Option<String>| v.clone().filter(|s| !s.is_empty());
        self.table == it.table
            && self.service == name(&it.service)
            && self.account == name(&it.account)
            && self.server == name(&it.server)
            && self.access_group == name(&it.access_group)
    }
    /// `table=…, service=…` for messages.
    pub fn describe(&self) -> String {
        let mut parts = vec![format!("table={}", self.table)];
        for (k, v) in [
            ("service", &self.service),
            ("account", &self.account),
            ("server", &self.server),
            ("access_group", &self.access_group),
        ] {
            if let Some(v) = v {
                parts.push(format!("{k}={v}"));
            }
        }
        parts.join(", ")
    }
}

/// `[lock]`: keychain items no one could decrypt, counted by table and class.
#[derive(Debug, Clone)]
pub struct SealedLock {
    pub sealed: Vec<SealedCount>,
    pub origin: Origin,
}

/// One `sealed` entry: at most `count` sealed items of `table` and `class` (None: unknown).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SealedCount {
    pub table: String,
    pub class: Option<u32>,
    pub count: u64,
}

/// The policy's (and the JSON's) name of a leak category.
pub fn category_name(c: crate::leaks::Category) -> &'static str {
    use crate::leaks::Category as C;
    match c {
        C::Credential => "credential",
        C::Token => "token",
        C::PrivateKey => "private_key",
        C::Personal => "personal",
    }
}

/// What a `forbid` entry names: a leak category or one rule.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Forbid {
    Category(crate::leaks::Category),
    Rule(String),
}

impl Forbid {
    /// Does a leak of `rule` in `category` fall under this entry?
    pub fn covers(&self, rule: &str, category: crate::leaks::Category) -> bool {
        match self {
            Forbid::Category(c) => *c == category,
            Forbid::Rule(r) => r == rule,
        }
    }
    /// As written in the policy.
    pub fn name(&self) -> String {
        match self {
            Forbid::Category(c) => category_name(*c).to_string(),
            Forbid::Rule(r) => r.clone(),
        }
    }
}

/// One `allow` entry of `[app.leaks]`: a leak matching every field given is allowed.
#[derive(Debug, Clone)]
pub struct LeakAllow {
    /// The leak's value fingerprint (16 lower-case hex digits).
    pub fingerprint: Option<String>,
    /// A glob over the leak's relative path.
    pub path: Option<PathGlob>,
    /// A leak rule id.
    pub rule: Option<String>,
    pub origin: Origin,
}

impl LeakAllow {
    /// Does this entry allow a leak of `rule` with `fingerprint` in `relative_path`?
    pub fn allows(&self, rule: &str, fingerprint: &str, relative_path: &str) -> bool {
        self.fingerprint.as_deref().is_none_or(|f| f == fingerprint)
            && self.rule.as_deref().is_none_or(|r| r == rule)
            && self.path.as_ref().is_none_or(|g| g.is_match(relative_path))
    }
    /// `fingerprint=…, rule=…, path=…` for notes.
    pub fn describe(&self) -> String {
        let mut parts = Vec::new();
        if let Some(f) = &self.fingerprint {
            parts.push(format!("fingerprint={f}"));
        }
        if let Some(r) = &self.rule {
            parts.push(format!("rule={r}"));
        }
        if let Some(p) = &self.path {
            parts.push(format!("path={}", p.pattern));
        }
        parts.join(", ")
    }
}

/// `[app.leaks]`: the app's files are swept with the leak rules; a leak whose category or
/// rule is forbidden, and that no `allow` entry allows, fails the expectation.
#[derive(Debug, Clone)]
pub struct LeakExpectation {
    pub forbid: Vec<Forbid>,
    pub allow: Vec<LeakAllow>,
    /// The policy's severity for every finding; None: each leak's own severity.
    pub severity: Option<Severity>,
    /// Files larger than this are not searched (noted).
    pub max_file_size: u64,
    pub origin: Origin,
}

impl LeakExpectation {
    /// Is a leak of `rule` in `category` forbidden?
    pub fn forbids(&self, rule: &str, category: crate::leaks::Category) -> bool {
        self.forbid.iter().any(|f| f.covers(rule, category))
    }
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
