//! The backed-up keychain: keychain-backup.plist, v_Data blobs, Apple DER, items, restore table.
//!
//! Entry point: [`read_items`]. Every item of the export becomes exactly one
//! [`KeychainItem`], decrypted when the class key is available, otherwise listed with its
//! class from the clear blob header and the reason it was not decrypted.

pub mod blob;
pub mod der;
pub mod export;
pub mod item;
pub mod restore;
pub mod routes;

pub use export::{PersistentRef, PersistentRefKind};
pub use item::{KeychainItem, ReasonCode, Secret};
pub use restore::{restore_for, Restore, RestoreSummary};
pub use routes::{routes_for, Outcome, RouteOutcome, Routes};

use crate::crypto::ClassKeys;
use crate::ownership::Ownership;
use std::collections::BTreeMap;

/// Errors that make the whole keychain file unreadable (item-level problems never do).
#[derive(Debug, thiserror::Error)]
pub enum KeychainError {
    /// The bytes are not a binary or XML property list.
    #[error("keychain-backup.plist is not a property list: {0}")]
    NotAPlist(String),
    /// Well-formed but refused: nested too deeply or expanding far beyond its size.
    #[error("keychain-backup.plist refused: {0}")]
    Refused(String),
    /// The top level is not a dictionary.
    #[error("keychain-backup.plist: top level is {0}, not a dictionary")]
    NotADictionary(String),
}

/// Counts of one table.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
pub struct TableStats {
    pub items: usize,
    pub decryptable: usize,
    /// Items per protection class (`"6"` … or `"unknown"`).
    pub by_class: BTreeMap<String, usize>,
}

/// Everything read from keychain-backup.plist.
#[derive(Debug, Clone, serde::Serialize)]
pub struct KeychainReport {
    /// `keybag-uuid` of the export (absent in some exports).
    pub keybag_uuid: Option<String>,
    pub items: Vec<KeychainItem>,
    /// Per table (every array found, including unknown ones and empty ones).
    pub tables: BTreeMap<String, TableStats>,
    /// Arrays other than genp/inet/cert/keys (e.g. `idnt`); their items are listed too.
    pub unknown_tables: Vec<String>,
    /// File-level problems (unexpected keys or types).
    pub problems: Vec<String>,
}

/// Read keychain-backup.plist (clear bytes) and list its items.
///
/// `keys`: the backup keybag's class keys when unlocked (`None` without a password or for
/// an unencrypted backup). `backup_encrypted` selects the restore table and the reasons.
pub fn read_items(
    plist_bytes: &[u8],
    keys: Option<&ClassKeys>,
    backup_encrypted: bool,
) -> Result<KeychainReport, KeychainError> {
    let file = export::parse_export(plist_bytes)?;
    let items: Vec<KeychainItem> = file
        .items
        .iter()
        .map(|raw| KeychainItem::from_raw(raw, keys, backup_encrypted))
        .collect();
    let mut tables: BTreeMap<String, TableStats> = file
        .tables
        .iter()
        .map(|t| (t.clone(), TableStats::default()))
        .collect();
    for it in &items {
        let s = tables.entry(it.table.clone()).or_default();
        s.items += 1;
        s.decryptable += usize::from(it.decryptable);
        let class = it
            .protection_class
            .map_or_else(|| "unknown".to_owned(), |c| c.to_string());
        *s.by_class.entry(class).or_default() += 1;
    }
    Ok(KeychainReport {
        keybag_uuid: file.keybag_uuid,
        items,
        tables,
        unknown_tables: file.unknown_tables,
        problems: file.problems,
    })
}

impl KeychainReport {
    /// Whether the export's `keybag-uuid` names the backup keybag whose header UUID is
    /// `keybag_uuid` (16 bytes). `None` when the export has no `keybag-uuid`.
    /// Comparison ignores case and hyphens.
    pub fn keybag_uuid_agrees(&self, keybag_uuid: &[u8]) -> Option<bool> {
        let ours = self.keybag_uuid.as_ref()?;
        let norm: String = ours
            .chars()
            .filter(|c| *c != '-')
            .collect::<String>()
            .to_ascii_lowercase();
        Some(norm == hex::encode(keybag_uuid))
    }

    /// Fill each item's `app` from its access group ([`Ownership::access_group_owner`]).
    pub fn attribute_apps(&mut self, owners: &Ownership) {
        for it in &mut self.items {
            it.app = it
                .access_group
                .as_deref()
                .and_then(|g| owners.access_group_owner(g));
        }
    }

    /// Number of items that decrypted.
    pub fn decryptable_count(&self) -> usize {
        self.items.iter().filter(|i| i.decryptable).count()
    }
}

#[cfg(test)]
mod tests;
