//! Names of Data Protection classes (files 1–5, keychain 6–13).

/// The Apple constant name of a protection class number.
pub fn class_name(class: u32) -> &'static str {
    match class {
        0 => "none",
        1 => "NSFileProtectionComplete",
        2 => "NSFileProtectionCompleteUnlessOpen",
        3 => "NSFileProtectionCompleteUntilFirstUserAuthentication",
        4 => "NSFileProtectionNone",
        5 => "NSFileProtectionRecovery",
        6 => "kSecAttrAccessibleWhenUnlocked",
        7 => "kSecAttrAccessibleAfterFirstUnlock",
        8 => "kSecAttrAccessibleAlways",
        9 => "kSecAttrAccessibleWhenUnlockedThisDeviceOnly",
        10 => "kSecAttrAccessibleAfterFirstUnlockThisDeviceOnly",
        11 => "kSecAttrAccessibleAlwaysThisDeviceOnly",
        12 => "kSecAttrAccessibleWhenPasscodeSetThisDeviceOnly",
        13 => "UntilReboot (unconfirmed)",
        _ => "unknown",
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    #[test]
    fn names() {
        assert_eq!(
            class_name(3),
            "NSFileProtectionCompleteUntilFirstUserAuthentication"
        );
        assert_eq!(
            class_name(10),
            "kSecAttrAccessibleAfterFirstUnlockThisDeviceOnly"
        );
        assert_eq!(class_name(99), "unknown");
    }
}
