//! The catalogue of scan rules (`scan`, `info`, `keychain`): ids, severities, titles, fixes and references.

use super::catalogue;

catalogue! {
    BACKUP_INCOMPLETE = ("backup.incomplete", High,
        "Status.plist says the backup did not finish",
        "Take the backup again and let it finish; restore tools refuse an interrupted backup.",
        "MASTG-TEST-0058");
    BACKUP_NOT_FULL = ("backup.not-full", Info,
        "The backup is incremental, not full",
        "None needed; take a full backup when every file must be examined.",
        "");
    BACKUP_NOT_ENCRYPTED = ("backup.not-encrypted", Medium,
        "The backup is not encrypted: payloads are plaintext and every keychain item is device-bound",
        "Enable \"Encrypt local backup\" on test devices, so that the audit sees what users' encrypted backups hold.",
        "MASVS-STORAGE-2; MASTG-TEST-0058");
    BACKUP_ENCRYPTION_MISMATCH = ("backup.encryption-mismatch", High,
        "Declared encryption (IsEncrypted) disagrees with what is on disk",
        "Treat the backup as tampered or damaged; work from the original copy.",
        "");
    BACKUP_WEAK_KDF = ("backup.weak-kdf", Medium,
        "The password is protected by the weak legacy single-stage PBKDF2-SHA1 or a low iteration count",
        "Take the backup with a current iOS, which derives the key in two stages (10,000,000 + 10,000 rounds).",
        "MASVS-STORAGE-2; MASTG-TEST-0058");
    BACKUP_MISSING_FILE = ("backup.missing-file", High,
        "A top-level file of the backup is missing",
        "The backup is incomplete or was copied partially: copy it again from its source.",
        "");
    BACKUP_PLIST_DAMAGED = ("backup.plist-damaged", High,
        "A top-level plist is present but cannot be read",
        "The copy is damaged (or the file was replaced): copy the backup again from its source; what the plist says (identity, completion) is unknown.",
        "");
    BACKUP_PLIST_PROBLEM = ("backup.plist-problem", Low,
        "A plist key has an unexpected type or value",
        "None needed (host tools vary); look at the plist when other findings point at it.",
        "");
    BACKUP_IDENTITY_MISMATCH = ("backup.identity-mismatch", Medium,
        "Info.plist, Manifest.plist and the folder name disagree about the device",
        "Suspect a tampered or mixed backup: compare it with the device and the original copy.",
        "");
    BACKUP_INDEX_LOCKED = ("backup.index-locked", Info,
        "The index is encrypted and no password was given: files cannot be listed",
        "Give the backup password (--password-file, AUDITOR_PASSWORD) or its derived key (--key-file).",
        "");
    BACKUP_UNEXPECTED_FILE = ("backup.unexpected-file", Low,
        "A file in the backup folder is neither a known top-level file nor a payload",
        "Inspect the file: a leftover of the backup tool, or planted data.",
        "");
    BACKUP_NOTE = ("backup.note", Info,
        "An observation about the backup folder (e.g. a leftover Snapshot folder)",
        "Inspect what the note names.",
        "");
    KEYBAG_PROBLEM = ("keybag.problem", Medium,
        "The keybag has an unexpected shape or value",
        "Suspect corruption or tampering of Manifest.plist's keybag.",
        "");
    FILE_MISSING = ("file.missing", Medium,
        "An index row for a regular file has no payload on disk",
        "Check the copy of the backup: partial or incremental copies miss payloads, which do not come back on restore.",
        "");
    FILE_SIZE_MISMATCH = ("file.size-mismatch", Low,
        "The stored length cannot hold the recorded Size (PKCS#7 is authoritative)",
        "None for the app; examiners: use the content length, which the PKCS#7 padding proves.",
        "");
    FILE_TRUNCATED = ("file.truncated", High,
        "The payload is shorter than the ciphertext its recorded Size needs and does not decrypt to an end",
        "The copy is incomplete or damaged: copy the backup again from its source; the file's end is lost in this copy.",
        "");
    FILE_ID_MISMATCH = ("file.fileid-mismatch", High,
        "The fileID is not SHA-1(domain-relativePath)",
        "Treat the row as suspect: the index was edited or is corrupt.",
        "");
    FILE_BAD_FILEID = ("file.bad-fileid", High,
        "The fileID is not 40 lowercase hex digits and cannot name a payload",
        "Treat the backup as hostile: this fileID cannot safely name a payload.",
        "");
    FILE_KEY_UNWRAP_FAILED = ("file.key-unwrap-failed", High,
        "The file's wrapped key does not unwrap with its class key",
        "Suspect corruption or tampering: the file cannot be decrypted or restored.",
        "");
    FILE_CLASS_MISMATCH = ("file.class-mismatch", Low,
        "The EncryptionKey class prefix differs from ProtectionClass",
        "None needed; the EncryptionKey's class is the one that decrypts.",
        "");
    FILE_BAD_KEY = ("file.bad-encryption-key", High,
        "The EncryptionKey blob has the wrong length",
        "Suspect corruption of the index row: the file cannot be decrypted.",
        "");
    FILE_NOT_ENCRYPTED = ("file.not-encrypted", High,
        "A non-empty file of an encrypted backup has no EncryptionKey",
        "Suspect tampering: an encrypted backup encrypts every non-empty file.",
        "");
    FILE_NOT_CIPHERTEXT = ("file.not-ciphertext", Medium,
        "The row carries an EncryptionKey but the payload is plaintext (a decrypted copy)",
        "Treat the copy as derived evidence (e.g. decrypted by a forensic tool), not the original.",
        "");
    FILE_DEVICE_BOUND = ("file.device-bound", Medium,
        "The file's class key is bound to the device: it cannot be decrypted off it",
        "None needed: only the device can read the file (pass --device-key to read it here).",
        "MASVS-STORAGE-1; MASTG-TEST-0052");
    FILE_RECORD_PROBLEM = ("file.record-problem", Low,
        "The index record (MBFile) has an unexpected shape",
        "None needed; look at the row when other findings point at it.",
        "");
    FILE_DECRYPT_FAILED = ("file.decrypt-failed", High,
        "The payload does not decrypt cleanly (length or PKCS#7 padding)",
        "The file is corrupt or was altered: compare it with the original copy.",
        "");
    FILE_UNREADABLE = ("file.unreadable", High,
        "The payload exists but cannot be read",
        "Check the storage and the permissions of the backup copy.",
        "");
    FILE_ORPHAN = ("file.orphan", Low,
        "A payload on disk that no index row mentions",
        "Inspect it: a leftover of an earlier backup, or planted data.",
        "");
    KEYCHAIN_MISSING = ("keychain.missing", Medium,
        "The keychain export is not in the backup (no index row, or no payload)",
        "Check the copy of the backup: no keychain item comes back on restore.",
        "");
    KEYCHAIN_UNREADABLE = ("keychain.unreadable", High,
        "keychain-backup.plist cannot be decrypted or parsed",
        "Suspect corruption of keychain-backup.plist.",
        "");
    KEYCHAIN_KEYBAG_MISMATCH = ("keychain.keybag-mismatch", Medium,
        "The keychain export names another keybag than the backup's",
        "Suspect a mixed or tampered backup: securityd refuses such a restore.",
        "");
    KEYCHAIN_MALFORMED = ("keychain.malformed", Low,
        "keychain-backup.plist has unexpected keys or types",
        "None needed; look at the export when items are missing.",
        "");
    KEYCHAIN_CORRUPT_ITEM = ("keychain.corrupt-item", High,
        "A keychain item does not decrypt: bad tag, bad key unwrap or malformed blob",
        "The item will not restore: suspect corruption or tampering.",
        "");
    KEYCHAIN_UNSUPPORTED_ITEM = ("keychain.unsupported-item", Low,
        "A keychain item has a blob version or class this tool cannot open",
        "None needed; the item is listed as it is rather than guessed at.",
        "");
    KEYCHAIN_AKPU_PRESENT = ("keychain.akpu-present", Medium,
        "A WhenPasscodeSetThisDeviceOnly item is in the backup, which iOS never exports",
        "Suspect a crafted backup: iOS never exports WhenPasscodeSetThisDeviceOnly items.",
        "MASVS-STORAGE-1; MASTG-TEST-0052");
    KEYCHAIN_DEPRECATED_CLASS = ("keychain.deprecated-class", Medium,
        "An app's keychain item uses a deprecated accessibility: kSecAttrAccessibleAlways or AlwaysThisDeviceOnly (dk, dku)",
        "Store the item with kSecAttrAccessibleAfterFirstUnlock (or WhenUnlocked, each optionally ThisDeviceOnly): the Always classes are deprecated since iOS 12 and readable while the device is locked.",
        "MASVS-STORAGE-1; MASTG-TEST-0052");
    KEYCHAIN_MIGRATABLE_TOKEN = ("keychain.migratable-token", Low,
        "An app's keychain item named like a session token (token, session, oauth, cookie, jwt…) restores to any device",
        "Store session tokens with a ThisDeviceOnly accessibility (e.g. kSecAttrAccessibleAfterFirstUnlockThisDeviceOnly), so that a restore to another device does not carry the session along.",
        "MASVS-STORAGE-1; MASTG-TEST-0052");
    FILE_DUPLICATE_PATH = ("file.duplicate-path", Low,
        "Two index rows name the same domain and path",
        "Suspect a hand-edited index.",
        "");
}

/// The scan rule with this id.
pub fn by_id(id: &str) -> Option<&'static super::Rule> {
    ALL.iter().find(|r| r.id == id)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_unique_with_one_line_titles_and_fixes() {
        let mut ids: Vec<&str> = ALL.iter().map(|r| r.id).collect();
        ids.sort();
        ids.dedup();
        assert_eq!(ids.len(), ALL.len());
        for r in ALL {
            assert!(!r.id.starts_with("policy."), "{}", r.id);
            for text in [r.title, r.fix] {
                assert!(!text.is_empty() && !text.contains('\n') && !text.contains('|'));
            }
            assert!(r.fix.ends_with('.'), "{}", r.id);
        }
        assert_eq!(by_id("file.orphan"), Some(&FILE_ORPHAN));
        assert_eq!(by_id("policy.canary"), None);
    }
}
