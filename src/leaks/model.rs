//! The leaks report (`auditor.leaks/1`): each leak, where it is, who can read it.

use super::decode::{Kind, Where};
use super::rules::{Category, Confidence};
use crate::audit::{Severity, ToolInfo};
use serde::Serialize;
use std::collections::BTreeMap;

/// The JSON schema id of the report (docs/json-schema.md).
pub const LEAKS_SCHEMA: &str = "auditor.leaks/1";

/// What `auditor leaks` found.
#[derive(Debug, Clone, Serialize)]
pub struct LeaksReport {
    pub schema: &'static str,
    pub tool: ToolInfo,
    pub backup: LeakBackup,
    /// Who can read what the backup holds (the same for every leak of the backup).
    pub exposure: Exposure,
    pub leaks: Vec<Leak>,
    /// Files that could not be searched in full, and why.
    pub notes: Vec<FileNote>,
    pub summary: LeakSummary,
    /// With `--app`: the app asked for.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub app: Option<String>,
}

/// The backup searched.
#[derive(Debug, Clone, Default, Serialize)]
pub struct LeakBackup {
    pub path: String,
    pub udid: Option<String>,
    pub device_name: Option<String>,
    pub ios_version: Option<String>,
    /// Manifest.plist `IsEncrypted` (null when unknown).
    pub encrypted: Option<bool>,
}

/// Who can read a file of this backup.
#[derive(Debug, Clone, Serialize)]
pub struct Exposure {
    /// `anyone_with_the_files` (not encrypted) or `backup_password` (encrypted).
    pub readable_by: &'static str,
    /// App files come back on any device the backup is restored to (file protection
    /// classes have no ThisDeviceOnly variant).
    pub restores_to_new_device: bool,
    /// What is in a local backup is also in the device's iCloud backup (only
    /// `isExcludedFromBackup` keeps a file out of both).
    pub in_icloud_backup: bool,
    /// The above in one sentence, for people.
    pub text: String,
}

impl Exposure {
    /// The exposure of a backup declared encrypted (`Some(true)`) or not.
    pub fn of(encrypted: Option<bool>) -> Exposure {
        let enc = encrypted == Some(true);
        Exposure {
            readable_by: if enc {
                "backup_password"
            } else {
                "anyone_with_the_files"
            },
            restores_to_new_device: true,
            in_icloud_backup: true,
            text: if enc {
                "readable by anyone who has this backup and its password; restored to every device the backup is restored to; also in the device's iCloud backup".into()
            } else {
                "readable by anyone who can copy this backup (it is not encrypted); restored to every device the backup is restored to; also in the device's iCloud backup".into()
            },
        }
    }
}

/// One leak: a value a rule matched, where it is and what it means. The value itself is
/// only in `value`, with `--show-secrets`.
#[derive(Debug, Clone, Serialize)]
pub struct Leak {
    pub app: Option<String>,
    pub domain: String,
    pub path: String,
    /// The file's Data Protection class (1–4), when the index records one.
    pub protection_class: Option<u32>,
    /// The rule id (`leak.*`, docs/rules.md).
    pub rule: String,
    pub category: Category,
    pub confidence: Confidence,
    /// For `--fail-on` and SARIF: from the category and confidence.
    pub severity: Severity,
    pub title: String,
    /// What the file is, as its bytes say.
    pub file_kind: Kind,
    /// Where the value is in the file.
    pub location: Where,
    /// Byte range of the match inside the field's value, when it is not the whole value.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub in_value: Option<[usize; 2]>,
    /// The field's name (key, column, member, cookie) when the format has one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub field: Option<String>,
    /// Found in free or deleted space of a database (not a live record).
    pub deleted: bool,
    /// Same value in the same file again (counted here, not listed).
    pub occurrences: u64,
    /// Redacted preview (`eyJh…(312 chars)…x9Q`).
    pub preview: String,
    /// Same function as keychain fingerprints: stable, not reversible for strong secrets.
    pub fingerprint: String,
    /// What the check learnt (a JWT's expiry), or which keychain item holds the same value.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
    /// What to do in the app.
    pub fix: String,
    /// Who can read it (the report's `exposure.text`).
    pub exposure: String,
    /// The value, only with `--show-secrets`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub value: Option<String>,
}

/// A file not searched in full.
#[derive(Debug, Clone, Serialize)]
pub struct FileNote {
    pub app: Option<String>,
    pub domain: String,
    pub path: String,
    /// Stable reason: `decrypt_failed`, `unreadable`, `locked`, `partly_decoded`.
    pub reason: &'static str,
    pub note: String,
}

/// Totals.
#[derive(Debug, Clone, Default, Serialize)]
pub struct LeakSummary {
    /// Files whose content was searched.
    pub files_searched: u64,
    /// Their content bytes.
    pub bytes_searched: u64,
    /// Files not searched, by reason: `media`, `too_large` (over `max_file_size`),
    /// `empty`, `missing` (no payload), `not_decryptable` (class key not available),
    /// `decrypt_failed`, `unreadable`.
    pub skipped: BTreeMap<&'static str, u64>,
    pub max_file_size: u64,
    pub leaks: u64,
    pub by_category: BTreeMap<Category, u64>,
    pub by_rule: BTreeMap<String, u64>,
    /// Searched files by what their bytes are.
    pub by_kind: BTreeMap<Kind, u64>,
}

/// Severity of a leak: secrets high when sure, personal data lower.
pub fn severity(category: Category, confidence: Confidence) -> Severity {
    match (category, confidence) {
        (Category::Personal, Confidence::High) => Severity::Medium,
        (Category::Personal, _) => Severity::Low,
        (_, Confidence::High) => Severity::High,
        (_, Confidence::Medium) => Severity::Medium,
        (_, Confidence::Low) => Severity::Low,
    }
}
