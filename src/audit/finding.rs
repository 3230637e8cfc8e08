//! Findings: a stable rule id, a severity, a message and where it applies.

use serde::Serialize;

/// Severity of a finding, ordered: `info < low < medium < high`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Info,
    Low,
    Medium,
    High,
}

impl Severity {
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Info => "info",
            Severity::Low => "low",
            Severity::Medium => "medium",
            Severity::High => "high",
        }
    }
}

impl std::str::FromStr for Severity {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s.to_ascii_lowercase().as_str() {
            "info" => Ok(Severity::Info),
            "low" => Ok(Severity::Low),
            "medium" => Ok(Severity::Medium),
            "high" => Ok(Severity::High),
            other => Err(format!(
                "unknown severity '{other}' (info, low, medium, high)"
            )),
        }
    }
}

/// One finding. `rule` ids are a documented contract (docs/rules.md).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Finding {
    pub rule: &'static str,
    pub severity: Severity,
    pub message: String,
    /// Where: a top-level file name, `domain/relativePath`, a fileID, or a keychain item.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub location: Option<String>,
}

impl Finding {
    pub fn new(rule: &Rule, message: impl Into<String>) -> Self {
        Finding {
            rule: rule.id,
            severity: rule.severity,
            message: message.into(),
            location: None,
        }
    }
    pub fn at(mut self, location: impl Into<String>) -> Self {
        self.location = Some(location.into());
        self
    }
}

/// A rule: stable id, default severity, one-line title (docs/rules.md has the details).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Rule {
    pub id: &'static str,
    pub severity: Severity,
    pub title: &'static str,
}

macro_rules! rules {
    ($($name:ident = ($id:literal, $sev:ident, $title:literal);)*) => {
        $(pub const $name: Rule = Rule { id: $id, severity: Severity::$sev, title: $title };)*
        /// Every rule, for documentation and tests.
        pub const ALL: &[Rule] = &[$($name),*];
    };
}

/// The catalogue of scan rules.
pub mod rules {
    use super::{Rule, Severity};
    rules! {
        BACKUP_INCOMPLETE = ("backup.incomplete", High, "Status.plist says the backup did not finish");
        BACKUP_NOT_FULL = ("backup.not-full", Info, "The backup is incremental, not full");
        BACKUP_NOT_ENCRYPTED = ("backup.not-encrypted", Medium, "The backup is not encrypted: payloads are plaintext and every keychain item is device-bound");
        BACKUP_ENCRYPTION_MISMATCH = ("backup.encryption-mismatch", High, "Declared encryption (IsEncrypted) disagrees with what is on disk");
        BACKUP_WEAK_KDF = ("backup.weak-kdf", Medium, "The password is protected by the weak legacy single-stage PBKDF2-SHA1 or a low iteration count");
        BACKUP_MISSING_FILE = ("backup.missing-file", High, "A top-level file of the backup is missing");
        BACKUP_PLIST_PROBLEM = ("backup.plist-problem", Low, "A plist key has an unexpected type or value");
        BACKUP_IDENTITY_MISMATCH = ("backup.identity-mismatch", Medium, "Info.plist, Manifest.plist and the folder name disagree about the device");
        BACKUP_INDEX_LOCKED = ("backup.index-locked", Info, "The index is encrypted and no password was given: files cannot be listed");
        BACKUP_UNEXPECTED_FILE = ("backup.unexpected-file", Low, "A file in the backup folder is neither a known top-level file nor a payload");
        BACKUP_NOTE = ("backup.note", Info, "An observation about the backup folder (e.g. a leftover Snapshot folder)");
        KEYBAG_PROBLEM = ("keybag.problem", Medium, "The keybag has an unexpected shape or value");
        FILE_MISSING = ("file.missing", Medium, "An index row for a regular file has no payload on disk");
        FILE_SIZE_MISMATCH = ("file.size-mismatch", Low, "The stored length cannot hold the recorded Size (PKCS#7 is authoritative)");
        FILE_ID_MISMATCH = ("file.fileid-mismatch", High, "The fileID is not SHA-1(domain-relativePath)");
        FILE_BAD_FILEID = ("file.bad-fileid", High, "The fileID is not 40 lowercase hex digits and cannot name a payload");
        FILE_KEY_UNWRAP_FAILED = ("file.key-unwrap-failed", High, "The file's wrapped key does not unwrap with its class key");
        FILE_CLASS_MISMATCH = ("file.class-mismatch", Low, "The EncryptionKey class prefix differs from ProtectionClass");
        FILE_BAD_KEY = ("file.bad-encryption-key", High, "The EncryptionKey blob has the wrong length");
        FILE_NOT_ENCRYPTED = ("file.not-encrypted", High, "A non-empty file of an encrypted backup has no EncryptionKey");
        FILE_NOT_CIPHERTEXT = ("file.not-ciphertext", Medium, "The row carries an EncryptionKey but the payload is plaintext (a decrypted copy)");
        FILE_DEVICE_BOUND = ("file.device-bound", Medium, "The file's class key is bound to the device: it cannot be decrypted off it");
        FILE_RECORD_PROBLEM = ("file.record-problem", Low, "The index record (MBFile) has an unexpected shape");
        FILE_DECRYPT_FAILED = ("file.decrypt-failed", High, "The payload does not decrypt cleanly (length or PKCS#7 padding)");
        FILE_UNREADABLE = ("file.unreadable", High, "The payload exists but cannot be read");
        FILE_ORPHAN = ("file.orphan", Low, "A payload on disk that no index row mentions");
        KEYCHAIN_MISSING = ("keychain.missing", Medium, "The index lists keychain-backup.plist but its payload is missing");
        KEYCHAIN_UNREADABLE = ("keychain.unreadable", High, "keychain-backup.plist cannot be decrypted or parsed");
        KEYCHAIN_KEYBAG_MISMATCH = ("keychain.keybag-mismatch", Medium, "The keychain export names another keybag than the backup's");
        KEYCHAIN_MALFORMED = ("keychain.malformed", Low, "keychain-backup.plist has unexpected keys or types");
        KEYCHAIN_CORRUPT_ITEM = ("keychain.corrupt-item", High, "A keychain item does not decrypt: bad tag, bad key unwrap or malformed blob");
        KEYCHAIN_UNSUPPORTED_ITEM = ("keychain.unsupported-item", Low, "A keychain item has a blob version or class this tool cannot open");
        KEYCHAIN_AKPU_PRESENT = ("keychain.akpu-present", Medium, "A WhenPasscodeSetThisDeviceOnly item is in the backup, which iOS never exports");
        FILE_DUPLICATE_PATH = ("file.duplicate-path", Low, "Two index rows name the same domain and path");
    }
}
