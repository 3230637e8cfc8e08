//! The receipt of a patch (`schema: auditor.patch-receipt/1`): every change, with the
//! SHA-256 of the file's plaintext before and after.

use super::edit::{Format, Shown};
use serde::Serialize;

/// JSON schema id of [`Receipt`].
pub const PATCH_RECEIPT_SCHEMA: &str = "auditor.patch-receipt/1";

/// One change, in the order given.
#[derive(Debug, Clone, Serialize)]
pub struct ChangeReceipt {
    /// `set`, `replace` or `delete`.
    pub kind: &'static str,
    pub domain: String,
    pub path: String,
    pub file_id: String,
    /// `set`: the key path (JSON pointer).
    pub key_path: Option<String>,
    /// `set`: `binary_plist`, `xml_plist` or `json` (kept as it was).
    pub format: Option<Format>,
    /// `set`: the value that was there (strings over 64 characters as a preview).
    pub old_value: Option<Shown>,
    /// `set`: the value written.
    pub new_value: Option<Shown>,
    /// `replace`: the local file whose content was put in.
    pub local_file: Option<String>,
    /// SHA-256 (hex) of the file's plaintext before this change.
    pub sha256_before: String,
    /// After it (`null` for `delete`).
    pub sha256_after: Option<String>,
    pub size_before: u64,
    pub size_after: Option<u64>,
    /// The file's protection class (its key and class are kept).
    pub protection_class: Option<u32>,
    /// The index row had a `Digest`, which was computed again.
    pub digest_updated: bool,
}

/// The whole receipt.
#[derive(Debug, Clone, Serialize)]
pub struct Receipt {
    pub schema: &'static str,
    pub tool: crate::audit::ToolInfo,
    /// The source backup folder (only read).
    pub backup: String,
    /// The patched copy (absolute).
    pub out: String,
    pub encrypted: bool,
    /// `Manifest.db` or `Manifest.mbdb`.
    pub index: &'static str,
    pub changes: Vec<ChangeReceipt>,
    /// Files copied byte for byte, and their bytes.
    pub files_copied: u64,
    pub bytes_copied: u64,
    /// Files written anew, relative to the backup folder (the changed payloads, the index).
    pub rewritten: Vec<String>,
    /// Source entries not in the copy (deleted payloads, entries that are not files).
    pub not_copied: Vec<String>,
    /// Top-level plists copied unchanged (docs/backup-writing.md says why).
    pub unchanged: Vec<String>,
}
