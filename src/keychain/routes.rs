//! Every restore route of a keychain item: the route × class table of docs/restore.md, as data.
//!
//! Four routes, each restoring to the same device or to another one: a local encrypted backup,
//! a local unencrypted backup, an iCloud Backup and iCloud Keychain. The outcome of a route is
//! `true`, `false` or `"unknown"` (Apple does not say, or the class is not known): never a
//! guess. Each row of [`KEYCHAIN_ROUTES`] names its sources; docs/restore.md cites them in full.
//!
//! The routes depend on the item alone (its class and its `sync` attribute), not on the backup
//! it was read from: `restore` (see [`super::restore`]) is the outcome of *this* backup.

use serde::{Serialize, Serializer};

/// One outcome: restored, not restored, or not documented / not known.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    Yes,
    No,
    Unknown,
}

impl Outcome {
    /// `Some(bool)` for a known outcome.
    pub fn known(self) -> Option<bool> {
        match self {
            Outcome::Yes => Some(true),
            Outcome::No => Some(false),
            Outcome::Unknown => None,
        }
    }
}

impl Serialize for Outcome {
    /// `true`, `false` or `"unknown"` (docs/json-schema.md).
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self {
            Outcome::Yes => s.serialize_bool(true),
            Outcome::No => s.serialize_bool(false),
            Outcome::Unknown => s.serialize_str("unknown"),
        }
    }
}

/// A route's outcome on the device the backup was made from and on another device.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct RouteOutcome {
    pub same_device: Outcome,
    pub other_device: Outcome,
}

impl RouteOutcome {
    const fn new(same_device: Outcome, other_device: Outcome) -> Self {
        RouteOutcome {
            same_device,
            other_device,
        }
    }
    /// Comes back on both.
    pub const BOTH: RouteOutcome = RouteOutcome::new(Outcome::Yes, Outcome::Yes);
    /// Comes back on the same device only.
    pub const SAME: RouteOutcome = RouteOutcome::new(Outcome::Yes, Outcome::No);
    /// Comes back on neither.
    pub const NONE: RouteOutcome = RouteOutcome::new(Outcome::No, Outcome::No);
    /// Not documented or not known.
    pub const UNKNOWN: RouteOutcome = RouteOutcome::new(Outcome::Unknown, Outcome::Unknown);
}

/// The four routes (JSON `routes`, beside `restore`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Routes {
    pub local_encrypted: RouteOutcome,
    pub local_unencrypted: RouteOutcome,
    pub icloud_backup: RouteOutcome,
    pub icloud_keychain: RouteOutcome,
}

impl Routes {
    /// Every route unknown.
    pub const UNKNOWN: Routes = Routes {
        local_encrypted: RouteOutcome::UNKNOWN,
        local_unencrypted: RouteOutcome::UNKNOWN,
        icloud_backup: RouteOutcome::UNKNOWN,
        icloud_keychain: RouteOutcome::UNKNOWN,
    };

    /// The routes in their JSON order, each with its one-letter tag of the tables.
    pub fn each(&self) -> [(char, RouteOutcome); 4] {
        [
            ('e', self.local_encrypted),
            ('u', self.local_unencrypted),
            ('c', self.icloud_backup),
            ('k', self.icloud_keychain),
        ]
    }

    /// The compact form of the tables: one letter per route that brings the item to another
    /// device (`e` local encrypted, `u` local unencrypted, `c` iCloud Backup, `k` iCloud
    /// Keychain), `-` for a route that does not, `?` for one not known. `e--k`: an encrypted
    /// local backup and iCloud Keychain carry it to a new device.
    pub fn new_device_letters(&self) -> String {
        self.each()
            .iter()
            .map(|(c, r)| match r.other_device {
                Outcome::Yes => *c,
                Outcome::No => '-',
                Outcome::Unknown => '?',
            })
            .collect()
    }
}

/// Which classes a row of the table is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ClassRow {
    /// 6–8 (`ak`, `ck`, `dk`): migratory.
    Migratory,
    /// 9–11 (`aku`, `cku`, `dku`): ThisDeviceOnly.
    ThisDeviceOnly,
    /// 12 (`akpu`): WhenPasscodeSetThisDeviceOnly, never exported.
    PasscodeSet,
    /// Anything else (header unreadable, 13, 0–5, > 13).
    Unknown,
}

impl ClassRow {
    /// The row of protection class `class`.
    pub fn of(class: Option<u32>) -> ClassRow {
        match class {
            Some(6..=8) => ClassRow::Migratory,
            Some(9..=11) => ClassRow::ThisDeviceOnly,
            Some(12) => ClassRow::PasscodeSet,
            _ => ClassRow::Unknown,
        }
    }
}

/// The `sync` attribute as a row key: 1, 0, or not read (the item was not decrypted).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SyncRow {
    Synchronizable,
    NotSynchronizable,
    NotRead,
}

impl SyncRow {
    /// The row of `sync` (`KeychainItem::synchronizable`).
    pub fn of(sync: Option<bool>) -> SyncRow {
        match sync {
            Some(true) => SyncRow::Synchronizable,
            Some(false) => SyncRow::NotSynchronizable,
            None => SyncRow::NotRead,
        }
    }
}

/// One row of the table: the item's class row, the routes of its backups, and its iCloud
/// Keychain route by `sync`. `sources` names where each outcome comes from (docs/restore.md).
pub struct RouteRow {
    pub class: ClassRow,
    pub local_encrypted: RouteOutcome,
    pub local_unencrypted: RouteOutcome,
    pub icloud_backup: RouteOutcome,
    /// iCloud Keychain with `sync` = 1, = 0, and not read.
    pub icloud_keychain: [RouteOutcome; 3],
    pub sources: &'static str,
}

/// The table (docs/restore.md has it with every cell's source). Sources: APL-KC = Platform
/// Security Guide, "Keychain data protection classes"; APL-BK = "Keybags for Data Protection"
/// (backup and iCloud Backup keybags); APL-IB = iOS Security Guide, iCloud Backup keybag ("wrapped
/// with a UID-derived key in the same way as an unencrypted iTunes backup"); DEV-TDO = the
/// `kSecAttrAccessible…ThisDeviceOnly` reference ("do not migrate to a new device"); DEV-SYNC =
/// the `kSecAttrSynchronizable` reference (not with a ThisDeviceOnly accessibility); QUINN =
/// Apple DTS, developer forums thread 93373 (the route table); FORMAT = FORMAT.md §9.5, §10.
pub const KEYCHAIN_ROUTES: [RouteRow; 4] = [
    RouteRow {
        class: ClassRow::Migratory,
        local_encrypted: RouteOutcome::BOTH,
        local_unencrypted: RouteOutcome::SAME,
        icloud_backup: RouteOutcome::SAME,
        icloud_keychain: [
            RouteOutcome::BOTH,
            RouteOutcome::NONE,
            RouteOutcome::UNKNOWN,
        ],
        sources: "APL-BK, APL-IB, QUINN, FORMAT §10; DEV-SYNC",
    },
    RouteRow {
        class: ClassRow::ThisDeviceOnly,
        local_encrypted: RouteOutcome::SAME,
        local_unencrypted: RouteOutcome::SAME,
        icloud_backup: RouteOutcome::SAME,
        icloud_keychain: [RouteOutcome::NONE; 3],
        sources: "APL-KC, APL-BK, DEV-TDO, QUINN, FORMAT §9.5/§10; DEV-SYNC",
    },
    RouteRow {
        class: ClassRow::PasscodeSet,
        local_encrypted: RouteOutcome::NONE,
        local_unencrypted: RouteOutcome::NONE,
        icloud_backup: RouteOutcome::NONE,
        icloud_keychain: [RouteOutcome::NONE; 3],
        sources: "APL-KC (not synced, not backed up), FORMAT §9.5",
    },
    RouteRow {
        class: ClassRow::Unknown,
        local_encrypted: RouteOutcome::UNKNOWN,
        local_unencrypted: RouteOutcome::UNKNOWN,
        icloud_backup: RouteOutcome::UNKNOWN,
        icloud_keychain: [RouteOutcome::UNKNOWN; 3],
        sources: "no claim without a class",
    },
];

/// The routes of a keychain item of protection `class` whose `sync` attribute is `sync`.
pub fn routes_for(class: Option<u32>, sync: Option<bool>) -> Routes {
    let row_class = ClassRow::of(class);
    let row = KEYCHAIN_ROUTES
        .iter()
        .find(|r| r.class == row_class)
        .expect("every class row is in the table");
    let k = match SyncRow::of(sync) {
        SyncRow::Synchronizable => 0,
        SyncRow::NotSynchronizable => 1,
        SyncRow::NotRead => 2,
    };
    Routes {
        local_encrypted: row.local_encrypted,
        local_unencrypted: row.local_unencrypted,
        icloud_backup: row.icloud_backup,
        icloud_keychain: row.icloud_keychain[k],
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::keychain::restore_for;
    use Outcome::{No, Unknown, Yes};

    fn pair(r: RouteOutcome) -> (Outcome, Outcome) {
        (r.same_device, r.other_device)
    }

    #[test]
    fn migratory_row() {
        for c in 6..=8 {
            let r = routes_for(Some(c), Some(false));
            assert_eq!(pair(r.local_encrypted), (Yes, Yes), "class {c}");
            assert_eq!(pair(r.local_unencrypted), (Yes, No), "class {c}");
            assert_eq!(pair(r.icloud_backup), (Yes, No), "class {c}");
            assert_eq!(pair(r.icloud_keychain), (No, No), "class {c}");
            assert_eq!(r.new_device_letters(), "e---");
            // sync = 1: iCloud Keychain carries it to every device of the account.
            let s = routes_for(Some(c), Some(true));
            assert_eq!(pair(s.icloud_keychain), (Yes, Yes));
            assert_eq!(s.new_device_letters(), "e--k");
            // sync not read: the iCloud Keychain route is not known; the others are.
            let n = routes_for(Some(c), None);
            assert_eq!(pair(n.icloud_keychain), (Unknown, Unknown));
            assert_eq!(n.local_encrypted, r.local_encrypted);
            assert_eq!(n.new_device_letters(), "e--?");
        }
    }

    #[test]
    fn this_device_only_row() {
        for c in 9..=11 {
            // ThisDeviceOnly never goes to iCloud Keychain, whatever `sync` says.
            for sync in [Some(true), Some(false), None] {
                let r = routes_for(Some(c), sync);
                assert_eq!(pair(r.local_encrypted), (Yes, No), "class {c}");
                assert_eq!(pair(r.local_unencrypted), (Yes, No), "class {c}");
                assert_eq!(pair(r.icloud_backup), (Yes, No), "class {c}");
                assert_eq!(pair(r.icloud_keychain), (No, No), "class {c}");
                assert_eq!(r.new_device_letters(), "----");
            }
        }
    }

    #[test]
    fn passcode_set_row() {
        for sync in [Some(true), Some(false), None] {
            let r = routes_for(Some(12), sync);
            for (_, o) in r.each() {
                assert_eq!(o, RouteOutcome::NONE);
            }
        }
    }

    #[test]
    fn unknown_row() {
        for c in [None, Some(0), Some(3), Some(5), Some(13), Some(31)] {
            for sync in [Some(true), Some(false), None] {
                assert_eq!(routes_for(c, sync), Routes::UNKNOWN);
                assert_eq!(routes_for(c, sync).new_device_letters(), "????");
            }
        }
    }

    /// The local routes agree with `restore` (the one-route contract) for every class.
    #[test]
    fn local_routes_agree_with_restore() {
        for c in (0..=14).map(Some).chain([None]) {
            let r = routes_for(c, Some(false));
            for (enc, route) in [(true, r.local_encrypted), (false, r.local_unencrypted)] {
                let old = restore_for(c, enc);
                assert_eq!(route.same_device.known(), old.same_device, "{c:?} {enc}");
                assert_eq!(route.other_device.known(), old.other_device, "{c:?} {enc}");
            }
        }
    }

    #[test]
    fn serialises_true_false_unknown() {
        assert_eq!(
            serde_json::to_string(&routes_for(Some(6), None)).unwrap(),
            concat!(
                r#"{"local_encrypted":{"same_device":true,"other_device":true},"#,
                r#""local_unencrypted":{"same_device":true,"other_device":false},"#,
                r#""icloud_backup":{"same_device":true,"other_device":false},"#,
                r#""icloud_keychain":{"same_device":"unknown","other_device":"unknown"}}"#
            )
        );
    }

    #[test]
    fn table_has_every_class_row_once() {
        for row in [
            ClassRow::Migratory,
            ClassRow::ThisDeviceOnly,
            ClassRow::PasscodeSet,
            ClassRow::Unknown,
        ] {
            let n = KEYCHAIN_ROUTES.iter().filter(|r| r.class == row).count();
            assert_eq!(n, 1, "{row:?}");
        }
        assert!(KEYCHAIN_ROUTES.iter().all(|r| !r.sources.is_empty()));
    }
}
