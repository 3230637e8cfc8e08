//! The file index: Manifest.db (plain or decrypted in memory), Manifest.mbdb, MBFile records.
