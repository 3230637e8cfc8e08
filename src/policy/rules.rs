//! The policy rule catalogue: stable ids, default severities, descriptions and fixes.
//!
//! Rules of the one [`Rule`] type (`audit::finding`), as the scan catalogue's; `id` is a
//! contract (docs/rules.md "Policy", SARIF `ruleId`).

use crate::audit::finding::catalogue;
pub use crate::audit::finding::Rule;

catalogue! {
    BACKUP_ENCRYPTED = ("policy.backup-encrypted", High,
        "The backup's encryption is not what the policy requires",
        "Enable \"Encrypt local backup\" (Finder/iTunes, or `idevicebackup2 encryption on`) on the test device before taking the backup the gate runs on.",
        "MASVS-STORAGE-2; MASTG-TEST-0058");
    KDF_COST = ("policy.kdf-cost", Medium,
        "The backup password's key derivation is cheaper than the policy's minimum",
        "Take the backup with a current iOS (two-stage PBKDF2, 10,000,000 SHA-256 rounds); legacy single-stage backups (iOS < 10.2) fail this rule.",
        "MASVS-STORAGE-2; MASTG-TEST-0058");
    BACKUP_COMPLETE = ("policy.backup-complete", High,
        "The backup did not finish (Status.plist SnapshotState is not \"finished\")",
        "Take the backup again and let it complete; an interrupted backup misses files and cannot be restored.",
        "MASTG-TEST-0058");
    APP_PRESENT = ("policy.app-present", High,
        "An app the policy names is not in the backup",
        "Install the app (with test data) on the device before the backup, or fix the bundle id; set `required = false` for apps that may be absent.",
        "MASTG-TEST-0058");
    MUST_NOT_BACK_UP = ("policy.must-not-back-up", High,
        "A file the policy excludes from backups is in the backup",
        "Exclude the file from backups: set `URLResourceValues.isExcludedFromBackup = true` (NSURLIsExcludedFromBackupKey) on it, or keep it in `Library/Caches` or `tmp/`, which iOS never backs up.",
        "MASVS-STORAGE-2; MASTG-TEST-0058");
    MUST_BACK_UP = ("policy.must-back-up", Medium,
        "A file the policy requires in backups is missing",
        "Keep user data in `Documents/` or `Library/Application Support/` and do not set isExcludedFromBackup on it; make sure the test run creates it before the backup.",
        "MASTG-TEST-0058");
    MIN_PROTECTION = ("policy.min-protection", High,
        "A file has a weaker Data Protection class than the policy allows",
        "Write the file with a stronger class: `Data.write(to:options: .completeFileProtection)`, `FileManager.setAttributes([.protectionKey: FileProtectionType.complete])`, or the app's default via the Data Protection entitlement (`com.apple.developer.default-data-protection` = NSFileProtectionComplete).",
        "MASVS-STORAGE-1; MASTG-TEST-0052");
    KEYCHAIN_DEVICE_BOUND = ("policy.keychain-device-bound", High,
        "A keychain item that must stay on the device restores to a new device",
        "Store the item with a ThisDeviceOnly accessibility: `kSecAttrAccessibleWhenUnlockedThisDeviceOnly` or `kSecAttrAccessibleAfterFirstUnlockThisDeviceOnly` (`kSecAttrAccessible` in SecItemAdd/SecItemUpdate).",
        "MASVS-STORAGE-1; MASVS-STORAGE-2; MASTG-TEST-0052; MASTG-TEST-0058");
    KEYCHAIN_MIGRATABLE = ("policy.keychain-migratable", Medium,
        "A keychain item that must survive a new-device restore does not",
        "Store the item with an accessibility that migrates: `kSecAttrAccessibleWhenUnlocked` or `kSecAttrAccessibleAfterFirstUnlock` (not ThisDeviceOnly); migration only happens from encrypted backups.",
        "MASVS-STORAGE-1; MASTG-TEST-0052");
    KEYCHAIN_ABSENT = ("policy.keychain-absent", High,
        "A keychain item the policy forbids is in the backup",
        "Do not store the item in the keychain, delete it when it is no longer needed (SecItemDelete), or keep it in memory only.",
        "MASVS-STORAGE-2; MASTG-TEST-0058");
    KEYCHAIN_MISSING = ("policy.keychain-missing", Medium,
        "A keychain item the policy expects is not in the backup",
        "Make sure the test run creates the item before the backup, and that the selector (service, account, server, access group) names it.",
        "MASTG-TEST-0058");
    CANARY = ("policy.canary", High,
        "A canary value appears in plaintext in the app's files or keychain attributes",
        "Keep the secret only in the keychain's secret data (kSecValueData), never in files, preferences, databases, logs or keychain attributes such as the account or label; if it must be on disk, exclude the file from backups.",
        "MASVS-STORAGE-1; MASVS-STORAGE-2; MASTG-TEST-0052; MASTG-TEST-0058");
    LEAK = ("policy.leak", High,
        "A leak rule the policy forbids for the app matches a value in the app's files",
        "Keep secrets only in the keychain's secret data (kSecValueData), never in files, preferences, databases or caches; if the value is known test data, allow it in the policy by fingerprint or path.",
        "MASVS-STORAGE-1; MASVS-STORAGE-2; MASTG-TEST-0052; MASTG-TEST-0058");
    LOCK_FILE_NEW = ("policy.lock-file-new", Medium,
        "A file of the app is outside the globs its locked policy allows",
        "If the file is meant to be backed up, refresh the lock (`auditor policy init --lock` on a known-good backup, review the diff, commit); otherwise exclude it from backups (isExcludedFromBackup, Library/Caches, tmp/).",
        "MASVS-STORAGE-2; MASTG-TEST-0058");
    LOCK_FILE_CLASS = ("policy.lock-file-class", High,
        "A file's Data Protection class is weaker than the weakest its locked glob allowed",
        "Write the file with the class it had (`.completeFileProtection` or stronger); refresh the lock only if the weaker class is intended and reviewed.",
        "MASVS-STORAGE-1; MASTG-TEST-0052");
    LOCK_KEYCHAIN_NEW = ("policy.lock-keychain-new", Medium,
        "A keychain item of the app is not in its locked policy",
        "Review the new item's accessibility (ThisDeviceOnly for tokens and keys); if it is intended, refresh the lock and commit it.",
        "MASVS-STORAGE-1; MASTG-TEST-0058");
    LOCK_KEYCHAIN_WEAKER = ("policy.lock-keychain-weaker", High,
        "A locked keychain item now restores to a device or route it did not restore to",
        "Keep the item's accessibility ThisDeviceOnly (`kSecAttrAccessible…ThisDeviceOnly`) and `kSecAttrSynchronizable` off, as when the lock was made.",
        "MASVS-STORAGE-1; MASVS-STORAGE-2; MASTG-TEST-0052; MASTG-TEST-0058");
    LOCK_SEALED_NEW = ("policy.lock-sealed-new", Medium,
        "More undecrypted keychain items of a table and class than the locked policy counted",
        "Read the backup with --device-key to see the new items, or refresh the lock if they are intended.",
        "MASTG-TEST-0058");
}

/// The rule with this id.
pub fn by_id(id: &str) -> Option<&'static Rule> {
    ALL.iter().find(|r| r.id == id)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::audit::Severity;

    #[test]
    fn ids_unique_and_prefixed() {
        let mut ids: Vec<&str> = ALL.iter().map(|r| r.id).collect();
        ids.sort();
        ids.dedup();
        assert_eq!(ids.len(), ALL.len());
        assert_eq!(ALL.len(), 18);
        assert!(ALL.iter().all(|r| r.id.starts_with("policy.")));
        assert_eq!(
            by_id("policy.canary").map(|r| r.severity),
            Some(Severity::High)
        );
        assert_eq!(by_id("policy.nope"), None);
    }
}
