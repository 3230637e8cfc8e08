//! A class-prefixed wrapped key (`EncryptionKey`, `ManifestKey`): parsed once, unwrapped once.
//!
//! The stored form is 44 bytes: the protection class (4 bytes, little-endian) and the
//! 32-byte key wrapped (RFC 3394, 40 bytes) with that class's key (FORMAT §6.1, §8.1).

use super::class::ProtectionClass;
use super::keybag::{ClassKeyState, ClassKeys};
use super::wrap::{unwrap32, WRAPPED_LEN};
use super::{CryptoError, Key32};

/// Length of the stored form.
pub const STORED_LEN: usize = 4 + WRAPPED_LEN;

/// A key wrapped with the key of its protection class (kept inline: no allocation).
#[derive(Clone, PartialEq, Eq)]
pub struct WrappedKey {
    /// The class whose key wraps it (the 4-byte prefix).
    pub class: ProtectionClass,
    wrapped: [u8; WRAPPED_LEN],
}

impl std::fmt::Debug for WrappedKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WrappedKey")
            .field("class", &self.class.number())
            .finish_non_exhaustive()
    }
}

/// A stored key of the wrong length (not 44 bytes).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BadKeyLength {
    /// Its length in bytes (saturated at `u32::MAX`).
    pub len: u32,
    /// The class prefix, when there are at least 4 bytes.
    pub class: Option<ProtectionClass>,
}

/// Why a wrapped key does not unwrap with the class keys at hand.
#[derive(Debug)]
pub enum KeyUnavailable {
    /// The class key needs the device's UID-derived key (keybag WRAP has the device bit).
    DeviceBound(ProtectionClass),
    /// The class record's WRAP has neither the password nor the device bit.
    NotPasswordWrapped(ProtectionClass),
    /// The keybag has no key for the class.
    NoClassKey(ProtectionClass),
    /// RFC 3394 integrity failed: the class key does not fit (or the blob is corrupt).
    UnwrapFailed(ProtectionClass, CryptoError),
}

impl KeyUnavailable {
    /// The class the key is wrapped with.
    pub fn class(&self) -> ProtectionClass {
        match self {
            KeyUnavailable::DeviceBound(c)
            | KeyUnavailable::NotPasswordWrapped(c)
            | KeyUnavailable::NoClassKey(c)
            | KeyUnavailable::UnwrapFailed(c, _) => *c,
        }
    }
}

impl WrappedKey {
    /// Parse the stored form: exactly 44 bytes.
    pub fn parse(bytes: &[u8]) -> Result<WrappedKey, BadKeyLength> {
        let class = bytes
            .get(..4)
            .map(|b| ProtectionClass::new(u32::from_le_bytes([b[0], b[1], b[2], b[3]])));
        match (
            class,
            <[u8; WRAPPED_LEN]>::try_from(bytes.get(4..).unwrap_or_default()),
        ) {
            (Some(class), Ok(wrapped)) => Ok(WrappedKey { class, wrapped }),
            _ => Err(BadKeyLength {
                len: u32::try_from(bytes.len()).unwrap_or(u32::MAX),
                class,
            }),
        }
    }

    /// The stored form (44 bytes).
    pub fn to_bytes(&self) -> [u8; STORED_LEN] {
        let mut out = [0u8; STORED_LEN];
        out[..4].copy_from_slice(&self.class.number().to_le_bytes());
        out[4..].copy_from_slice(&self.wrapped);
        out
    }

    /// The key, unwrapped with the key of its class: the one place a class-wrapped key is
    /// opened.
    pub fn unwrap(&self, keys: &ClassKeys) -> Result<Key32, KeyUnavailable> {
        let class = self.class;
        match keys.keys.get(&class.number()) {
            Some(ClassKeyState::Available(ck)) => {
                unwrap32(ck, &self.wrapped).map_err(|e| KeyUnavailable::UnwrapFailed(class, e))
            }
            Some(ClassKeyState::DeviceBound) => Err(KeyUnavailable::DeviceBound(class)),
            Some(ClassKeyState::NotPasswordWrapped) => {
                Err(KeyUnavailable::NotPasswordWrapped(class))
            }
            None => Err(KeyUnavailable::NoClassKey(class)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::crypto::wrap::wrap32;
    use std::collections::BTreeMap;

    fn stored(class: u32, wrapped: &[u8]) -> Vec<u8> {
        let mut v = class.to_le_bytes().to_vec();
        v.extend_from_slice(wrapped);
        v
    }

    #[test]
    fn parses_44_bytes_and_refuses_other_lengths() {
        let k = WrappedKey::parse(&stored(3, &[7; 40])).unwrap();
        assert_eq!(k.class, ProtectionClass::new(3));
        assert_eq!(k.to_bytes().to_vec(), stored(3, &[7; 40]));
        // Odd class numbers are kept.
        let k = WrappedKey::parse(&stored(0x1234_5678, &[0; 40])).unwrap();
        assert_eq!(k.class.number(), 0x1234_5678);
        let bad = |b: &[u8]| WrappedKey::parse(b).unwrap_err();
        assert_eq!(
            bad(&stored(3, &[7; 39])),
            BadKeyLength {
                len: 43,
                class: Some(ProtectionClass::new(3))
            }
        );
        assert_eq!(bad(&stored(2, &[7; 41])).len, 45);
        assert_eq!(bad(&stored(2, &[])).class, Some(ProtectionClass::new(2)));
        assert_eq!(
            bad(&[3, 0]),
            BadKeyLength {
                len: 2,
                class: None
            }
        );
        assert_eq!(
            bad(&[]),
            BadKeyLength {
                len: 0,
                class: None
            }
        );
    }

    #[test]
    fn unwraps_with_its_class_key_and_says_why_not() {
        let ck = Key32::new([5; 32]);
        let fk = Key32::new([9; 32]);
        let k = WrappedKey::parse(&stored(3, &wrap32(&ck, &fk))).unwrap();
        let mut keys = ClassKeys {
            keys: BTreeMap::new(),
        };
        assert!(matches!(k.unwrap(&keys), Err(KeyUnavailable::NoClassKey(c)) if c.number() == 3));
        keys.keys.insert(3, ClassKeyState::DeviceBound);
        assert!(matches!(
            k.unwrap(&keys),
            Err(KeyUnavailable::DeviceBound(_))
        ));
        keys.keys.insert(3, ClassKeyState::NotPasswordWrapped);
        assert!(matches!(
            k.unwrap(&keys),
            Err(KeyUnavailable::NotPasswordWrapped(_))
        ));
        keys.keys
            .insert(3, ClassKeyState::Available(Key32::new([6; 32])));
        let e = k.unwrap(&keys).unwrap_err();
        assert!(matches!(
            e,
            KeyUnavailable::UnwrapFailed(_, CryptoError::UnwrapIntegrity)
        ));
        assert_eq!(e.class().number(), 3);
        keys.keys.insert(3, ClassKeyState::Available(ck));
        assert_eq!(k.unwrap(&keys).unwrap().as_bytes(), fk.as_bytes());
    }

    #[test]
    fn stays_inline() {
        // An index row carries one: no heap allocation, 48 bytes at most with its absence.
        assert!(std::mem::size_of::<Option<Result<WrappedKey, BadKeyLength>>>() <= 48);
    }
}
