//! The scan report: what `auditor scan`/`info` found, serialised as the versioned JSON schema.

use super::Finding;
use crate::backup::Input;
use crate::index::FileKind;
use serde::Serialize;
use std::collections::BTreeMap;

/// Version of the scan JSON schema (docs/json-schema.md). Bump on incompatible change.
pub const SCAN_SCHEMA: &str = "auditor.scan/1";

/// The whole report of `scan` (and `info`, which leaves `apps`/`files` empty).
#[derive(Debug, Clone, Serialize)]
pub struct ScanReport {
    pub schema: &'static str,
    pub tool: ToolInfo,
    pub backup: BackupSummary,
    pub keybag: Option<KeybagSummary>,
    /// Whether the index was read (false when it is ciphertext and no key was given).
    pub index_read: bool,
    pub apps: Vec<AppReport>,
    pub files: Vec<FileReport>,
    pub orphans: Vec<Orphan>,
    pub findings: Vec<Finding>,
    pub summary: Summary,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub keychain: Option<KeychainSummary>,
    /// With `scan --app`: the app the report is narrowed to, and what the whole backup holds.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub app_filter: Option<ScanAppFilter>,
    /// Per-file findings, counted as the file reports were made (also when `files` was
    /// not kept: `ScanOptions::summary_only`).
    #[serde(skip)]
    pub per_file: PerFileTotals,
    /// Every distinct domain of the index rows, also of rows whose reports were not kept.
    #[serde(skip)]
    pub domains: std::collections::BTreeSet<String>,
}

/// What `scan --app` left out: `apps`, `files`, `summary`, the keychain counts and the
/// findings are the app's (findings about the backup as a whole are kept); these are the
/// whole backup's.
#[derive(Debug, Clone, Default, Serialize)]
pub struct ScanAppFilter {
    /// The bundle id asked for.
    pub app: String,
    /// Whether the backup knows the app (in Manifest.plist `Applications` or by a domain).
    pub found: bool,
    /// Index rows of the whole backup (`summary.entries` before the filter).
    pub backup_entries: u64,
    /// Regular files of the whole backup (`summary.files` before the filter).
    pub backup_files: u64,
    /// Keychain items of the whole keychain (when it was read).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub keychain_items: Option<u64>,
    /// Sealed keychain items (attributes unreadable here, app unknown): they may be the
    /// app's and are not counted in `keychain`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub keychain_may_belong: Option<u64>,
}

/// Totals of the per-file findings.
#[derive(Debug, Clone, Default)]
pub struct PerFileTotals {
    /// Number of per-file findings.
    pub findings: u64,
    /// Highest severity among them.
    pub max_severity: Option<super::Severity>,
}

#[derive(Debug, Clone, Serialize)]
pub struct ToolInfo {
    pub name: &'static str,
    pub version: &'static str,
}

impl Default for ToolInfo {
    fn default() -> Self {
        ToolInfo {
            name: "auditor",
            version: env!("CARGO_PKG_VERSION"),
        }
    }
}

/// The backup as a whole.
#[derive(Debug, Clone, Default, Serialize)]
pub struct BackupSummary {
    /// The backup folder, or the Manifest.plist given alone.
    pub path: String,
    /// `backup_folder`, or `manifest_plist` when a Manifest.plist was given alone (nothing
    /// else was read: `index` is then `none` and `layout` `unknown`).
    pub input: Input,
    pub udid: Option<String>,
    pub device_name: Option<String>,
    pub product_type: Option<String>,
    pub ios_version: Option<String>,
    pub build: Option<String>,
    pub serial: Option<String>,
    pub date: Option<String>,
    /// `Status.plist` `SnapshotState == "finished"` (null when there is no Status.plist).
    pub complete: Option<bool>,
    pub snapshot_state: Option<String>,
    pub is_full_backup: Option<bool>,
    pub passcode_set: Option<bool>,
    /// `manifest_db`, `manifest_mbdb` or `none`.
    pub index: String,
    /// `hashed` (`xx/<fileID>`), `flat` (`<fileID>`) or `unknown`.
    pub layout: String,
    pub manifest_version: Option<String>,
    pub encryption: Encryption,
    pub kdf: Option<KdfSummary>,
    /// Whether credentials were given and unlocked the keybag.
    pub unlocked: bool,
}

/// Declared versus effective encryption.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Encryption {
    /// `Manifest.plist` `IsEncrypted` (null when absent).
    pub declared: Option<bool>,
    /// Is the index ciphertext? (null when there is no Manifest.db, e.g. mbdb era.)
    pub index_encrypted: Option<bool>,
    /// Are payloads encrypted (rows carry EncryptionKey)? Null when the index was not read.
    pub payloads_encrypted: Option<bool>,
    /// Class of the ManifestKey (iOS ≥ 10.2 encrypted backups).
    pub manifest_key_class: Option<u32>,
}

#[derive(Debug, Clone, Serialize)]
pub struct KdfSummary {
    /// `two_stage` (PBKDF2-SHA256 then PBKDF2-SHA1) or `legacy_sha1`.
    pub scheme: crate::crypto::kdf::KdfScheme,
    pub sha256_rounds: Option<u32>,
    pub sha1_rounds: u32,
}

#[derive(Debug, Clone, Serialize)]
pub struct KeybagSummary {
    pub version: Option<u32>,
    #[serde(rename = "type")]
    pub kind: Option<u32>,
    pub uuid: Option<String>,
    pub wrap: Option<u32>,
    /// In ascending class order (the keybag's own order varies between backups).
    pub classes: Vec<KeybagClass>,
    /// null: no credentials given; true: unlocked; (a wrong password is an error, exit 3).
    pub unlocked: Option<bool>,
}

#[derive(Debug, Clone, Serialize)]
pub struct KeybagClass {
    pub class: u32,
    pub name: &'static str,
    pub wrap: u32,
    /// `password`, `password+device`, `device` or `none` (from the WRAP bits).
    pub needs: &'static str,
    pub device_bound: bool,
    /// `unlocked`, `device_bound`, `locked` (no credentials) .
    pub state: &'static str,
}

/// One app: bundle id, its domains and the counts of its files.
#[derive(Debug, Clone, Default, Serialize)]
pub struct AppReport {
    pub bundle_id: String,
    pub version: Option<String>,
    pub domains: Vec<String>,
    /// Index rows of regular files in the app's domains.
    pub files: u64,
    pub present: u64,
    pub missing: u64,
    /// Content bytes (decrypted length when known, else recorded Size).
    pub bytes: u64,
    #[serde(serialize_with = "class_order")]
    pub by_protection_class: BTreeMap<String, u64>,
    /// In Manifest.plist `Applications`.
    pub in_manifest: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub keychain: Option<AppKeychain>,
}

/// Per-app keychain counts (with a password).
#[derive(Debug, Clone, Default, Serialize)]
pub struct AppKeychain {
    pub items: u64,
    pub decryptable: u64,
    pub device_bound: u64,
    /// Items that would not come back when restoring to a different device.
    pub lost_on_new_device: u64,
}

/// Keychain counts included in `scan` when the keychain was read.
#[derive(Debug, Clone, Default, Serialize)]
pub struct KeychainSummary {
    pub present: bool,
    pub items: u64,
    pub decryptable: u64,
    pub device_bound: u64,
    pub lost_on_new_device: u64,
    /// Items whose app is unknown: their access group is inside a blob this backup's
    /// keys cannot open (device-bound), or names no app of the backup.
    pub unattributed: u64,
    pub by_table: BTreeMap<String, u64>,
    /// Items per protection class (from the clear blob header; `unknown` when unreadable).
    #[serde(serialize_with = "class_order")]
    pub by_class: BTreeMap<String, u64>,
    /// `{any_device, same_device_only, never, unknown}` counts.
    pub by_restore: BTreeMap<&'static str, u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

/// One index row.
#[derive(Debug, Clone, Serialize)]
pub struct FileReport {
    pub domain: String,
    pub relative_path: String,
    pub file_id: String,
    /// `file`, `directory`, `symlink` or `other`.
    #[serde(serialize_with = "kind_text")]
    pub kind: FileKind,
    /// `present` or `missing` for regular files; `n/a` for directories and symlinks.
    pub status: FileStatus,
    pub encrypted: bool,
    pub protection_class: Option<u32>,
    pub protection_class_name: Option<&'static str>,
    pub device_bound: bool,
    /// Every restore route of a regular file (docs/restore.md); null for other rows.
    pub routes: Option<crate::keychain::Routes>,
    /// Recorded Size (MBFile).
    pub size: Option<u64>,
    /// Bytes on disk (payload file length), null when missing or not a file.
    pub stored_size: Option<u64>,
    /// Plaintext length when known (unencrypted: stored size; encrypted: from the PKCS#7 pad).
    pub content_size: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sha256: Option<String>,
    /// With `--deep`: the payload was read (and decrypted) to its end, hashed or not.
    #[serde(skip)]
    pub deep_read: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub target: Option<String>,
    pub mode: Option<Mode>,
    /// Owner and group ids and inode number on the device (MBFile `UserID`, `GroupID`,
    /// `InodeNumber`).
    pub user_id: Option<u32>,
    pub group_id: Option<u32>,
    pub inode: Option<u64>,
    /// MBFile `LastModified`, `LastStatusChange`, `Birth` (RFC 3339, UTC); kept as Unix
    /// seconds and formatted only when written.
    #[serde(serialize_with = "rfc3339")]
    pub last_modified: Option<i64>,
    #[serde(serialize_with = "rfc3339")]
    pub last_status_change: Option<i64>,
    #[serde(serialize_with = "rfc3339")]
    pub birth: Option<i64>,
    pub app: Option<String>,
    pub findings: Vec<Finding>,
}

/// A file's mode bits (MBFile `Mode`), written in octal as `"0o100644"`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Mode(pub u32);

impl Serialize for Mode {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        // Written straight to the serializer: no string is made per file.
        s.collect_str(&format_args!("0o{:o}", self.0))
    }
}

/// Unix seconds as an RFC 3339 UTC date (null when unknown).
fn rfc3339<S: serde::Serializer>(t: &Option<i64>, s: S) -> Result<S::Ok, S::Error> {
    match t {
        Some(secs) => s.serialize_str(&crate::backup::plists::unix_to_rfc3339(*secs)),
        None => s.serialize_none(),
    }
}

/// How keys of a map keyed by protection class sort: numbers in numeric order, then words
/// (`none`, `unknown`) as text.
pub fn class_sort_key(k: &str) -> (u64, &str) {
    (k.parse().unwrap_or(u64::MAX), k)
}

/// A map keyed by protection class serialised in [`class_sort_key`] order,
/// `{"6": …, "10": …, "11": …}` rather than as text sorts (`"10"`, `"11"`, `"6"`); keys and
/// values unchanged.
pub fn class_order<S: serde::Serializer, V: Serialize>(
    m: &BTreeMap<String, V>,
    s: S,
) -> Result<S::Ok, S::Error> {
    let mut entries: Vec<(&String, &V)> = m.iter().collect();
    entries.sort_by(|a, b| class_sort_key(a.0).cmp(&class_sort_key(b.0)));
    s.collect_map(entries)
}

fn kind_text<S: serde::Serializer>(k: &FileKind, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(k.as_str())
}

/// Whether a row's payload is on disk (JSON: `present`, `missing`, `n/a`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
pub enum FileStatus {
    /// A regular file whose payload is on disk.
    #[serde(rename = "present")]
    Present,
    /// A regular file whose payload is not on disk.
    #[serde(rename = "missing")]
    Missing,
    /// Not a regular file (directory, symlink): no payload.
    #[serde(rename = "n/a")]
    NotApplicable,
}

impl FileStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            FileStatus::Present => "present",
            FileStatus::Missing => "missing",
            FileStatus::NotApplicable => "n/a",
        }
    }
}

/// A payload on disk that no index row mentions.
#[derive(Debug, Clone, Serialize)]
pub struct Orphan {
    pub file_id: String,
    pub path: String,
    pub bytes: u64,
}

#[derive(Debug, Clone, Default, Serialize)]
pub struct ClassCount {
    pub files: u64,
    pub bytes: u64,
}

/// Counts over the whole backup.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Summary {
    pub entries: u64,
    pub files: u64,
    pub directories: u64,
    pub symlinks: u64,
    pub files_present: u64,
    pub files_missing: u64,
    pub empty_files: u64,
    pub size_mismatch_files: u64,
    pub content_bytes: u64,
    pub stored_bytes_present: u64,
    #[serde(serialize_with = "class_order")]
    pub by_protection_class: BTreeMap<String, ClassCount>,
    pub apps: u64,
    pub orphans: u64,
    pub findings: BTreeMap<&'static str, u64>,
    /// With `--deep`: payloads verified and those that failed.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub deep: Option<DeepSummary>,
}

#[derive(Debug, Clone, Default, Serialize)]
pub struct DeepSummary {
    pub verified: u64,
    pub failed: u64,
    pub bytes: u64,
    /// Whether every verified file's content was hashed (`sha256`); false with `--no-hash`.
    pub hashed: bool,
}

impl ScanReport {
    /// The highest severity among all findings (top-level, per file).
    pub fn max_severity(&self) -> Option<super::Severity> {
        self.findings
            .iter()
            .chain(self.files.iter().flat_map(|f| f.findings.iter()))
            .map(|f| f.severity)
            .max()
            .max(self.per_file.max_severity)
    }

    /// What `--fail-on threshold` fails on: every finding (top-level and per file, kept or
    /// only counted), per rule.
    pub fn gate(&self, threshold: super::Severity) -> super::finding::Gate {
        super::finding::Gate::new(
            threshold,
            self.summary.findings.iter().filter_map(|(rule, &n)| {
                super::finding::rules::by_id(rule).map(|r| (r.id, r.severity, n))
            }),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn maps_keyed_by_class_serialise_in_numeric_order() {
        let mut k = KeychainSummary::default();
        for (c, n) in [("10", 1), ("11", 2), ("6", 3), ("unknown", 4), ("9", 5)] {
            k.by_class.insert(c.to_string(), n);
        }
        let text = serde_json::to_string(&k).unwrap();
        assert!(
            text.contains(r#""by_class":{"6":3,"9":5,"10":1,"11":2,"unknown":4}"#),
            "{text}"
        );
        // Keys and values unchanged: the same map when read back.
        let v: serde_json::Value = serde_json::from_str(&text).unwrap();
        assert_eq!(v["by_class"], serde_json::to_value(&k.by_class).unwrap());
        let mut s = Summary::default();
        for c in ["4", "none", "10", "2"] {
            s.by_protection_class
                .insert(c.into(), ClassCount::default());
        }
        let text = serde_json::to_string(&s).unwrap();
        let at = |key: &str| text.find(&format!("\"{key}\":{{")).unwrap();
        assert!(
            at("2") < at("4") && at("4") < at("10") && at("10") < at("none"),
            "{text}"
        );
    }
}
