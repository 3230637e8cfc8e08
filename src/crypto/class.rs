//! Data Protection classes: the one table of file and keychain classes and their names.
//!
//! A class number is what a keybag class record, a file's `EncryptionKey`/`ProtectionClass`
//! and a keychain blob carry. Numbers outside the table (real backups have odd ones) stay
//! representable: [`ProtectionClass`] holds any `u32`, and its names are then absent
//! ("unknown").

/// What a class protects.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ClassKind {
    /// Class 0: no class.
    Unset,
    /// A file class (1–5).
    File,
    /// A keychain class (6–12).
    Keychain,
    /// Named by a third party only (13, "until reboot"): not a known keychain class.
    Unconfirmed,
}

/// One row of the table.
struct Row {
    number: u32,
    /// The Apple constant (`NSFileProtection…`, `kSecAttrAccessible…`).
    constant: &'static str,
    kind: ClassKind,
    /// The AKS letter: `a`–`d` for files, the `pdmn` code (`ak` … `akpu`) for keychain items.
    short: Option<&'static str>,
    /// The snake-case name a policy may use (the four file classes a policy can ask for).
    alias: Option<&'static str>,
    this_device_only: bool,
    deprecated: bool,
}

const fn row(
    number: u32,
    constant: &'static str,
    kind: ClassKind,
    short: Option<&'static str>,
    alias: Option<&'static str>,
    this_device_only: bool,
    deprecated: bool,
) -> Row {
    Row {
        number,
        constant,
        kind,
        short,
        alias,
        this_device_only,
        deprecated,
    }
}

use ClassKind::{File, Keychain, Unconfirmed, Unset};

/// Every class known (FORMAT §9.6). Class 5 is "Recovery?" in one source; class 13 (`f`)
/// is unconfirmed, so it has no `pdmn` here and is no keychain class.
#[rustfmt::skip]
const TABLE: [Row; 14] = [
    row(0, "none", Unset, None, None, false, false),
    row(1, "NSFileProtectionComplete", File, Some("a"), Some("complete"), false, false),
    row(2, "NSFileProtectionCompleteUnlessOpen", File, Some("b"), Some("complete_unless_open"), false, false),
    row(3, "NSFileProtectionCompleteUntilFirstUserAuthentication", File, Some("c"), Some("complete_until_first_user_authentication"), false, false),
    row(4, "NSFileProtectionNone", File, Some("d"), Some("none"), false, false),
    row(5, "NSFileProtectionRecovery", File, None, None, false, false),
    row(6, "kSecAttrAccessibleWhenUnlocked", Keychain, Some("ak"), None, false, false),
    row(7, "kSecAttrAccessibleAfterFirstUnlock", Keychain, Some("ck"), None, false, false),
    row(8, "kSecAttrAccessibleAlways", Keychain, Some("dk"), None, false, true),
    row(9, "kSecAttrAccessibleWhenUnlockedThisDeviceOnly", Keychain, Some("aku"), None, true, false),
    row(10, "kSecAttrAccessibleAfterFirstUnlockThisDeviceOnly", Keychain, Some("cku"), None, true, false),
    row(11, "kSecAttrAccessibleAlwaysThisDeviceOnly", Keychain, Some("dku"), None, true, true),
    row(12, "kSecAttrAccessibleWhenPasscodeSetThisDeviceOnly", Keychain, Some("akpu"), None, true, false),
    row(13, "UntilReboot (unconfirmed)", Unconfirmed, None, None, false, false),
];

/// A Data Protection class number, known or not.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ProtectionClass(u32);

impl std::fmt::Display for ProtectionClass {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.0.fmt(f)
    }
}

impl ProtectionClass {
    /// The class of number `n` (any number: unknown ones are kept as they are).
    pub const fn new(n: u32) -> ProtectionClass {
        ProtectionClass(n)
    }

    pub const fn number(self) -> u32 {
        self.0
    }

    fn row(self) -> Option<&'static Row> {
        TABLE.iter().find(|r| r.number == self.0)
    }

    fn keychain_row(self) -> Option<&'static Row> {
        self.row().filter(|r| r.kind == Keychain)
    }

    /// What the class protects; `None` for a number outside the table.
    pub fn kind(self) -> Option<ClassKind> {
        self.row().map(|r| r.kind)
    }

    /// The Apple constant name ("none" for 0, "unknown" outside the table).
    pub fn name(self) -> &'static str {
        self.row().map_or("unknown", |r| r.constant)
    }

    /// Whether Apple deprecated the class (`kSecAttrAccessibleAlways…`).
    pub fn deprecated(self) -> bool {
        self.row().is_some_and(|r| r.deprecated)
    }

    /// The keychain `pdmn` code (`ak` … `akpu`) of a keychain class (6–12).
    pub fn pdmn(self) -> Option<&'static str> {
        self.keychain_row().and_then(|r| r.short)
    }

    /// The keychain class of a `pdmn` code.
    pub fn from_pdmn(pdmn: &str) -> Option<ProtectionClass> {
        TABLE
            .iter()
            .find(|r| r.kind == Keychain && r.short == Some(pdmn))
            .map(|r| ProtectionClass(r.number))
    }

    /// The `kSecAttrAccessible…` constant of a keychain class (6–12).
    pub fn accessibility(self) -> Option<&'static str> {
        self.keychain_row().map(|r| r.constant)
    }

    /// Whether a keychain class (6–12) is a ThisDeviceOnly class; `None` for other numbers.
    pub fn this_device_only(self) -> Option<bool> {
        self.keychain_row().map(|r| r.this_device_only)
    }

    /// A file class a policy may ask for (1–4), by number.
    pub fn policy_file_class(n: i64) -> Option<ProtectionClass> {
        TABLE
            .iter()
            .find(|r| r.alias.is_some() && i64::from(r.number) == n)
            .map(|r| ProtectionClass(r.number))
    }

    /// A file class a policy may ask for (1–4), by name, any case: the snake-case alias
    /// (`complete`), the letter (`a`) or the constant (`NSFileProtectionComplete`).
    pub fn from_policy_name(s: &str) -> Option<ProtectionClass> {
        let l = s.trim().to_ascii_lowercase();
        TABLE
            .iter()
            .filter(|r| r.alias.is_some())
            .find(|r| {
                r.alias == Some(l.as_str())
                    || r.short == Some(l.as_str())
                    || r.constant.eq_ignore_ascii_case(&l)
            })
            .map(|r| ProtectionClass(r.number))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_class_round_trips() {
        for r in &TABLE {
            let c = ProtectionClass::new(r.number);
            assert_eq!(c.number(), r.number);
            assert_eq!(c.name(), r.constant);
            assert_eq!(c.kind(), Some(r.kind));
            if let Some(p) = c.pdmn() {
                assert_eq!(ProtectionClass::from_pdmn(p), Some(c));
                assert_eq!(c.accessibility(), Some(r.constant));
            }
            if let Some(a) = r.alias {
                assert_eq!(ProtectionClass::from_policy_name(a), Some(c));
                assert_eq!(ProtectionClass::from_policy_name(r.constant), Some(c));
                assert_eq!(ProtectionClass::policy_file_class(r.number.into()), Some(c));
            }
        }
        let keychain: Vec<_> = (0..20u32)
            .filter_map(|n| ProtectionClass::new(n).pdmn())
            .collect();
        assert_eq!(keychain, ["ak", "ck", "dk", "aku", "cku", "dku", "akpu"]);
    }

    #[test]
    fn names_and_keychain_columns() {
        let c = ProtectionClass::new;
        assert_eq!(
            c(3).name(),
            "NSFileProtectionCompleteUntilFirstUserAuthentication"
        );
        assert_eq!(
            c(10).accessibility(),
            Some("kSecAttrAccessibleAfterFirstUnlockThisDeviceOnly")
        );
        assert_eq!(c(0).name(), "none");
        assert_eq!((c(6).pdmn(), c(12).pdmn()), (Some("ak"), Some("akpu")));
        assert_eq!(ProtectionClass::from_pdmn("dku"), Some(c(11)));
        assert_eq!(c(8).this_device_only(), Some(false));
        assert_eq!(c(9).this_device_only(), Some(true));
        assert!(c(8).deprecated() && c(11).deprecated() && !c(7).deprecated());
        // File classes have no keychain columns.
        assert_eq!((c(5).this_device_only(), c(5).pdmn()), (None, None));
        assert_eq!(c(1).accessibility(), None);
        // 13 is unconfirmed: named, but no pdmn and no keychain class.
        assert_eq!(c(13).name(), "UntilReboot (unconfirmed)");
        assert_eq!(
            (c(13).pdmn(), ProtectionClass::from_pdmn("f")),
            (None, None)
        );
    }

    #[test]
    fn odd_numbers_are_kept() {
        for n in [14, 99, 0x20 | 6, u32::MAX] {
            let c = ProtectionClass::new(n);
            assert_eq!(c.number(), n);
            assert_eq!(c.to_string(), n.to_string());
            assert_eq!((c.name(), c.kind(), c.pdmn()), ("unknown", None, None));
            assert_eq!(c.this_device_only(), None);
        }
    }

    #[test]
    fn policy_names() {
        let p = ProtectionClass::from_policy_name;
        assert_eq!(p(" Complete "), Some(ProtectionClass::new(1)));
        assert_eq!(p("b"), Some(ProtectionClass::new(2)));
        assert_eq!(
            p("nsfileprotectioncompleteuntilfirstuserauthentication"),
            Some(ProtectionClass::new(3))
        );
        assert_eq!(p("NONE"), Some(ProtectionClass::new(4)));
        // Not file classes a policy can ask for.
        for s in [
            "strong",
            "ak",
            "NSFileProtectionRecovery",
            "kSecAttrAccessibleAlways",
            "",
        ] {
            assert_eq!(p(s), None, "{s}");
        }
        assert_eq!(ProtectionClass::policy_file_class(5), None);
        assert_eq!(ProtectionClass::policy_file_class(0), None);
        assert_eq!(ProtectionClass::policy_file_class(-1), None);
    }
}
