//! The diff report (`auditor.diff/1`): each change between an old and a new backup.

use crate::audit::ToolInfo;
use serde::Serialize;
use std::collections::BTreeMap;

/// The JSON schema id of the report (docs/json-schema.md).
pub const DIFF_SCHEMA: &str = "auditor.diff/1";

/// What `auditor diff` found.
#[derive(Debug, Clone, Serialize)]
pub struct DiffReport {
    pub schema: &'static str,
    pub tool: ToolInfo,
    /// The baseline.
    pub old: DiffBackup,
    /// The backup compared with it.
    pub new: DiffBackup,
    /// With `--app`: the app the comparison is narrowed to.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub app: Option<String>,
    /// What was compared.
    pub compared: Compared,
    /// Every change, in order: backup, apps, files, keychain, leaks, tamper; within each
    /// by its identity.
    pub changes: Vec<Change>,
    /// Things found alike on both sides, per area.
    pub unchanged: Counts,
    pub summary: DiffSummary,
    /// What could not be compared, and why.
    pub notes: Vec<String>,
    /// Leaks present on both sides (SARIF `unchanged` results; not in the JSON).
    #[serde(skip)]
    pub unchanged_leaks: Vec<Change>,
}

/// One side of the comparison.
#[derive(Debug, Clone, Default, Serialize)]
pub struct DiffBackup {
    pub path: String,
    pub udid: Option<String>,
    pub device_name: Option<String>,
    pub ios_version: Option<String>,
    /// Manifest.plist `Date` (RFC 3339).
    pub date: Option<String>,
    /// Manifest.plist `IsEncrypted`.
    pub encrypted: bool,
    /// The keychain export was read (its items are compared only when both sides were).
    pub keychain_read: bool,
}

/// The areas compared.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Compared {
    pub apps: bool,
    pub files: bool,
    /// Both keychains were read.
    pub keychain: bool,
    /// With `--leaks`.
    pub leaks: bool,
    /// With `--tamper`.
    pub tamper: bool,
}

/// Counts per area.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Counts {
    pub apps: u64,
    pub files: u64,
    pub keychain_items: u64,
    pub leaks: u64,
    pub tamper_settings: u64,
}

/// SARIF `baselineState` of a change: `new` (only in the new backup), `absent` (only in
/// the old), `updated` (in both, different), `unchanged` (in both, alike; SARIF only).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum State {
    New,
    Absent,
    Updated,
    Unchanged,
}

impl State {
    pub fn as_str(self) -> &'static str {
        match self {
            State::New => "new",
            State::Absent => "absent",
            State::Updated => "updated",
            State::Unchanged => "unchanged",
        }
    }
}

/// The area of a change.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Area {
    Backup,
    App,
    File,
    Keychain,
    Leak,
    Tamper,
}

impl Area {
    pub fn as_str(self) -> &'static str {
        match self {
            Area::Backup => "backup",
            Area::App => "app",
            Area::File => "file",
            Area::Keychain => "keychain",
            Area::Leak => "leak",
            Area::Tamper => "tamper",
        }
    }
}

/// One change.
#[derive(Debug, Clone, Serialize)]
pub struct Change {
    /// The change kind (`diff.*`, docs/diff.md): a contract.
    pub rule: &'static str,
    pub area: Area,
    pub state: State,
    /// The change weakens protection (docs/diff.md says which do).
    pub weakened: bool,
    /// The app the thing belongs to, when known.
    pub app: Option<String>,
    /// What changed (the fields of its identity; which are present depends on `area`).
    pub subject: Subject,
    /// The thing in the old backup (null when `state` is `new`).
    pub old: Option<Facts>,
    /// The thing in the new backup (null when `state` is `absent`).
    pub new: Option<Facts>,
    /// The change in one sentence.
    pub message: String,
}

/// The identity of what changed. Absent fields are left out.
#[derive(Debug, Clone, Default, PartialEq, Eq, PartialOrd, Ord, Serialize)]
pub struct Subject {
    /// app: the bundle id.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub bundle_id: Option<String>,
    /// file, leak, tamper: the domain and relative path.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub domain: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub path: Option<String>,
    /// keychain: `genp`, `inet`, `cert`, `keys`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub table: Option<String>,
    /// keychain: `attributes` (both sides readable: table, access group, service,
    /// account, server, port), `class_and_ref` (sealed: table, protection class,
    /// persistent reference) or `persistent_ref` (sealed on one side only: table and
    /// persistent reference; the attributes are the readable side's).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub matched_by: Option<&'static str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub access_group: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub service: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub account: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub server: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub port: Option<i64>,
    /// keychain (sealed): the protection class.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub protection_class: Option<u32>,
    /// keychain (`class_and_ref`, `persistent_ref`): the persistent reference, hex.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub persistent_ref: Option<String>,
    /// leak, tamper: the rule id (`leak.*`, `tamper.*`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rule: Option<String>,
    /// leak: the value's fingerprint.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub fingerprint: Option<String>,
    /// tamper: the key path in the file.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub key: Option<String>,
}

/// What one side says of the thing. Absent fields are left out.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Facts {
    /// backup: `IsEncrypted`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub encrypted: Option<bool>,
    /// app: its version (`CFBundleVersion`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub version: Option<String>,
    /// file: `file`, `directory`, `symlink`, `other`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub kind: Option<&'static str>,
    /// file: `present`, `missing` or `n/a`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub status: Option<&'static str>,
    /// file and keychain: the Data Protection class (1–4 files, 6–12 keychain).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub protection_class: Option<u32>,
    /// file: the content length (else the recorded Size).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub size: Option<u64>,
    /// file: the digest where known (`sha1:` MBFile Digest), lower-case hex.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub digest: Option<String>,
    /// keychain: `ak` … `dku` (pdmn).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub accessibility: Option<String>,
    /// keychain: `any_device`, `same_device_only`, `never` or `unknown`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub restore: Option<&'static str>,
    /// keychain: decrypted with this backup's keys.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub decryptable: Option<bool>,
    /// leak: the files the value is in (`domain/path`), sorted.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub locations: Option<Vec<String>>,
    /// leak: its redacted preview.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub preview: Option<String>,
    /// tamper: `protected`, `unknown` or `unprotected`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub integrity: Option<&'static str>,
    /// tamper: the value as stored (null when redacted).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub value: Option<String>,
}

/// Totals over `changes`.
#[derive(Debug, Clone, Default, Serialize)]
pub struct DiffSummary {
    pub changes: u64,
    pub new: u64,
    pub absent: u64,
    pub updated: u64,
    pub weakened: u64,
    pub by_rule: BTreeMap<&'static str, u64>,
}

/// What `--fail-on` fails on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FailOn {
    /// Anything added (`state` `new`).
    New,
    /// Any change that weakens protection.
    Weakened,
    /// Any change.
    Any,
}

impl DiffReport {
    /// The changes `--fail-on` counts.
    pub fn failing(&self, on: FailOn) -> impl Iterator<Item = &Change> {
        self.changes.iter().filter(move |c| match on {
            FailOn::New => c.state == State::New,
            FailOn::Weakened => c.weakened,
            FailOn::Any => true,
        })
    }

    /// Whether `--fail-on` fails.
    pub fn fails(&self, on: FailOn) -> bool {
        self.failing(on).next().is_some()
    }
}
