//! The backed-up keychain: keychain-backup.plist, v_Data blobs, Apple DER, items, restore table.
