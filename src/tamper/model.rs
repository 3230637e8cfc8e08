//! The tamper report (`auditor.tamper/1`): each setting a modified backup can change, and
//! the integrity evidence for it.

use super::rules::Category;
use super::shape::Shape;
use crate::audit::{Severity, ToolInfo};
use crate::leaks::decode::{Kind, Where};
use crate::leaks::model::{FileNote, LeakBackup};
use serde::Serialize;
use std::collections::BTreeMap;

/// The JSON schema id of the report (docs/json-schema.md).
pub const TAMPER_SCHEMA: &str = "auditor.tamper/1";

/// What `auditor tamper` found.
#[derive(Debug, Clone, Serialize)]
pub struct TamperReport {
    pub schema: &'static str,
    pub tool: ToolInfo,
    pub backup: LeakBackup,
    pub settings: Vec<Setting>,
    /// Files that could not be read in full, and why.
    pub notes: Vec<FileNote>,
    /// What the keychain could tell about integrity.
    pub keychain: KeychainEvidence,
    pub summary: TamperSummary,
    /// With `--app`: the app asked for.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub app: Option<String>,
}

/// One setting: where it is, what rule says it matters, its value and its integrity.
#[derive(Debug, Clone, Serialize)]
pub struct Setting {
    pub app: Option<String>,
    pub domain: String,
    pub path: String,
    /// The key path (`/security/pinning`; a JSON pointer for JSON), the SQLite place
    /// (`table.column[rowid 3]`), the cookie (`cookie name@domain`), or `/` for a whole
    /// document.
    pub key: String,
    /// The same place, typed (as `auditor.leaks/1`'s `location`).
    pub location: Where,
    /// The field's name (key, member, column or key/value row's key, cookie).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub field: Option<String>,
    pub category: Category,
    /// The rule id (`tamper.*`, docs/rules.md).
    pub rule: String,
    pub title: String,
    /// The value as stored (booleans, numbers, URLs, dates, words); `null` when redacted
    /// or for a whole document.
    pub value: Option<String>,
    /// What the value is: `string`, `data`, `integer`, `real`, `bool`, `date`, or
    /// `document` (a whole file).
    pub value_type: &'static str,
    /// The shape the rule matched (`bool`, `number`, `port`, `url`, `host`, `date`, `word`,
    /// `any`, `document`).
    pub shape: Shape,
    /// The value looked like a secret: not shown (see `auditor leaks`) …
    pub redacted: bool,
    /// … but previewed (`eyJh…(312 chars)…x9Q`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub preview: Option<String>,
    /// What the file is, as its bytes say.
    pub file_kind: Kind,
    /// `file_class` of the file: its Data Protection class (1–4), when the index records one.
    pub protection_class: Option<u32>,
    pub integrity: Integrity,
    /// For `--fail-on` and SARIF: `medium` for an unprotected (or unknown) security switch
    /// or endpoint, `low` for other unprotected settings, `info` when protected.
    pub severity: Severity,
    /// The `DOMAIN:PATH:KEYPATH` target of `auditor patch --set` (plist and JSON values at
    /// a key path of the file itself); for a whole document, `DOMAIN:PATH` for `--replace`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub patch: Option<String>,
    /// What the app should do instead.
    pub fix: String,
}

/// `protected`, `unknown` or `unprotected` (a JSON contract: exactly these three).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    /// A decryptable keychain item (or another file) holds a digest or HMAC of the file or
    /// of the value.
    Protected,
    /// No match, but device-bound keychain items that this backup cannot decrypt could
    /// hold one.
    Unknown,
    /// Nothing could.
    Unprotected,
}

impl Status {
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Protected => "protected",
            Status::Unknown => "unknown",
            Status::Unprotected => "unprotected",
        }
    }
}

/// The integrity evidence of a setting.
#[derive(Debug, Clone, Serialize)]
pub struct Integrity {
    pub status: Status,
    /// When protected: what holds the digest, in words (`keychain genp item 3
    /// (com.example.config): SHA-256 of the file, hex`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub by: Option<String>,
    /// When protected: the evidence, typed.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub evidence: Option<Evidence>,
    /// Device-bound keychain items this backup cannot decrypt that could hold a digest
    /// (the app's, or items whose owner cannot be told).
    pub device_bound_items: u64,
}

/// A digest or HMAC found.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Evidence {
    /// `keychain` or `file`.
    pub holder: &'static str,
    /// The keychain item (`genp item 3 (service)`) or the file (`domain/path`).
    pub item: String,
    /// `sha1`, `sha256`, `sha512` or `hmac_sha256`.
    pub algorithm: &'static str,
    /// `raw`, `hex` (either case) or `base64` (standard or URL-safe).
    pub encoding: &'static str,
    /// `file` (of the file's bytes) or `value` (of the value's bytes).
    pub of: &'static str,
    /// For an HMAC: the keychain item whose value is the key.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub key: Option<String>,
}

/// What the keychain could tell.
#[derive(Debug, Clone, Default, Serialize)]
pub struct KeychainEvidence {
    /// The keychain export was read.
    pub read: bool,
    pub items: u64,
    /// Items decrypted and searched for digests.
    pub decryptable: u64,
    /// Device-bound items this backup cannot decrypt.
    pub device_bound_undecryptable: u64,
    /// Keychain values tried as HMAC-SHA256 keys.
    pub hmac_keys: u64,
}

/// Totals.
#[derive(Debug, Clone, Default, Serialize)]
pub struct TamperSummary {
    pub files_searched: u64,
    pub bytes_searched: u64,
    /// Files with at least one setting.
    pub files_with_settings: u64,
    /// Files not searched, by reason (as `auditor.leaks/1`).
    pub skipped: BTreeMap<&'static str, u64>,
    pub max_file_size: u64,
    pub settings: u64,
    pub by_category: BTreeMap<Category, u64>,
    pub by_status: BTreeMap<Status, u64>,
    pub by_rule: BTreeMap<String, u64>,
    /// Fields that matched a rule but were left out as a third-party SDK's or an event
    /// queue's (docs/tamper.md, precision).
    pub third_party_skipped: u64,
    /// HMAC-SHA256 computations made (files and values × keys of their app).
    pub hmac_computations: u64,
}
