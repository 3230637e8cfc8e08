//! The `BackupKeyBag` TLV: parsing (no secrets needed) and unlocking class keys with a KEK.

use super::kdf::KdfParams;
use super::{CryptoError, Key32};
use std::collections::BTreeMap;

/// WRAP bit: key is wrapped with the device's UID-derived key (0x835).
pub const WRAP_DEVICE: u32 = 1;
/// WRAP bit: key is wrapped with the password-derived KEK.
pub const WRAP_PASSCODE: u32 = 2;

/// One class record of the keybag.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClassRecord {
    pub uuid: Option<Vec<u8>>,
    /// CLAS as stored (may carry high "generation" bits; see `class()`).
    pub clas_raw: u32,
    pub wrap: u32,
    pub ktyp: Option<u32>,
    pub wpky: Vec<u8>,
    pub pbky: Option<Vec<u8>>,
}

impl ClassRecord {
    /// Protection class number with generation bits masked off.
    pub fn class(&self) -> u32 {
        self.clas_raw & 0x1F
    }
    /// Needs the device key (WRAP bit 1) in addition to / instead of the password.
    pub fn device_bound(&self) -> bool {
        self.wrap & WRAP_DEVICE != 0
    }
}

/// A parsed keybag (public part only).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Keybag {
    pub version: Option<u32>,
    pub kind: Option<u32>,
    pub uuid: Option<Vec<u8>>,
    pub hmck: Option<Vec<u8>>,
    pub wrap: Option<u32>,
    pub salt: Option<Vec<u8>>,
    pub iter: Option<u32>,
    pub dpwt: Option<u32>,
    pub dpic: Option<u32>,
    pub dpsl: Option<Vec<u8>>,
    pub classes: Vec<ClassRecord>,
    /// Tags the parser did not know, with their lengths (kept, not fatal).
    pub unknown_tags: Vec<(String, usize)>,
}

/// The state of one class key after unlocking.
pub enum ClassKeyState {
    /// The class key is available.
    Available(Key32),
    /// The class key needs the device's UID-derived key, which was not given.
    DeviceBound,
    /// The class key is not wrapped with the password (WRAP has no passcode bit) and
    /// no device key was given.
    NotPasswordWrapped,
}

/// Class keys after a successful unlock, by class number.
pub struct ClassKeys {
    pub keys: BTreeMap<u32, ClassKeyState>,
}

impl ClassKeys {
    /// The key of `class` if it is available.
    pub fn get(&self, class: u32) -> Option<&Key32> {
        match self.keys.get(&class) {
            Some(ClassKeyState::Available(k)) => Some(k),
            _ => None,
        }
    }
}

impl Keybag {
    /// Parse the raw TLV. Refuses lengths beyond the buffer, non-4-byte integer tags,
    /// and absurd record counts; tolerates unknown tags.
    pub fn parse(bytes: &[u8]) -> Result<Keybag, CryptoError> {
        let _ = bytes;
        todo!()
    }

    /// The derivation parameters (`SALT`/`ITER` and, on iOS ≥ 10.2, `DPSL`/`DPIC`).
    pub fn kdf_params(&self) -> Result<KdfParams, CryptoError> {
        todo!()
    }

    /// Unwrap every class key with the KEK. A WRAP&2 key that fails RFC 3394 integrity
    /// means the password is wrong (`CryptoError::WrongPassword`). With `device_key`
    /// (16-byte UID-derived key 0x835), WRAP&1 keys are then AES-128-CBC(zero IV)
    /// decrypted with it; without it they are `DeviceBound`.
    pub fn unlock(&self, kek: &Key32, device_key: Option<&[u8]>) -> Result<ClassKeys, CryptoError> {
        let _ = (kek, device_key);
        todo!()
    }
}
