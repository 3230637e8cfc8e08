//! The catalogue of `diff` change kinds: stable ids (a contract, docs/diff.md), titles and fixes.

use crate::audit::finding::catalogue;

catalogue! {
    BACKUP_ENCRYPTION = ("diff.backup.encryption-changed", Medium,
        "The backup's encryption changed between the two backups",
        "Compare backups taken the same way; an unencrypted backup exposes every file to anyone who copies it.",
        "MASVS-STORAGE-2");
    APP_ADDED = ("diff.app.added", Info,
        "An app is in the new backup and not in the old",
        "None needed; review what the new app backs up.",
        "");
    APP_REMOVED = ("diff.app.removed", Info,
        "An app is in the old backup and not in the new",
        "None needed.",
        "");
    APP_UPGRADED = ("diff.app.upgraded", Info,
        "An app's version is higher in the new backup",
        "None needed; the other changes of the app say what the release did.",
        "");
    APP_DOWNGRADED = ("diff.app.downgraded", Info,
        "An app's version is lower (or otherwise different) in the new backup",
        "None needed; the other changes of the app say what the release did.",
        "");
    FILE_ADDED = ("diff.file.added", Info,
        "A file is in the new backup and not in the old (weakened when its class is D, NSFileProtectionNone)",
        "Give new files the strongest protection class the app can use (NSFileProtectionComplete), or exclude them from backup.",
        "MASVS-STORAGE-1; MASVS-STORAGE-2");
    FILE_REMOVED = ("diff.file.removed", Info,
        "A file is in the old backup and not in the new",
        "None needed.",
        "");
    FILE_CLASS_WEAKENED = ("diff.file.class-weakened", Medium,
        "A file's Data Protection class is weaker in the new backup",
        "Restore the stronger protection class (NSFileProtectionComplete where the app can).",
        "MASVS-STORAGE-1; MASVS-STORAGE-2");
    FILE_CLASS_STRENGTHENED = ("diff.file.class-strengthened", Info,
        "A file's Data Protection class is stronger in the new backup",
        "None needed.",
        "");
    FILE_NOW_MISSING = ("diff.file.now-missing", Low,
        "A file's payload was on disk in the old backup and is missing in the new",
        "Check the copy of the new backup: a missing payload does not come back on restore.",
        "");
    FILE_CHANGED = ("diff.file.changed", Info,
        "A file's size, digest, kind or payload presence changed",
        "None needed; content changes between backups are expected.",
        "");
    KEYCHAIN_ADDED = ("diff.keychain.added", Info,
        "A keychain item is in the new backup and not in the old",
        "None needed; use a ThisDeviceOnly accessibility for secrets bound to the device.",
        "MASVS-STORAGE-1");
    KEYCHAIN_REMOVED = ("diff.keychain.removed", Info,
        "A keychain item is in the old backup and not in the new",
        "None needed.",
        "");
    KEYCHAIN_RESTORE_CHANGED = ("diff.keychain.restore-changed", Medium,
        "A keychain item's restore outcome changed (weakened when it now restores to a new device)",
        "Keep secrets bound to the device with a ThisDeviceOnly accessibility (kSecAttrAccessible…ThisDeviceOnly).",
        "MASVS-STORAGE-1; MASTG-TEST-0058");
    KEYCHAIN_ACCESSIBILITY_CHANGED = ("diff.keychain.accessibility-changed", Medium,
        "A keychain item's accessibility (pdmn) changed (weakened when it is no longer ThisDeviceOnly or available earlier)",
        "Restore the stricter accessibility (kSecAttrAccessibleWhenUnlockedThisDeviceOnly where the app can).",
        "MASVS-STORAGE-1");
    LEAK_NEW = ("diff.leak.new", High,
        "A leak (by fingerprint) is in the new backup's files and not in the old",
        "Keep secrets in the keychain, not in files; see the leak's own rule in `auditor leaks`.",
        "MASVS-STORAGE-1; MASVS-STORAGE-2");
    LEAK_FIXED = ("diff.leak.fixed", Info,
        "A leak of the old backup's files is not in the new",
        "None needed.",
        "");
    TAMPER_GAINED = ("diff.tamper.gained", Low,
        "A setting a modified backup can change is in the new backup and not in the old",
        "Protect the setting (keep it in the keychain, or keep an HMAC of it there); see `auditor tamper`.",
        "MASVS-RESILIENCE-1");
    TAMPER_LOST = ("diff.tamper.lost", Info,
        "A setting of the old backup's tamper surface is not in the new",
        "None needed.",
        "");
    TAMPER_INTEGRITY_CHANGED = ("diff.tamper.integrity-changed", Medium,
        "A setting's integrity evidence changed (weakened when it was protected and is no longer)",
        "Keep a digest or HMAC of the setting in the keychain; see `auditor tamper`.",
        "MASVS-RESILIENCE-1");
}

/// The diff rule of `id`.
pub fn by_id(id: &str) -> Option<&'static crate::audit::finding::Rule> {
    ALL.iter().find(|r| r.id == id)
}
