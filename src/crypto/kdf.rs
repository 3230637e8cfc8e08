//! Password → key-encryption key: two-stage PBKDF2 (SHA-256 then SHA-1) or legacy SHA-1 only.

use super::{Key32, Password};

/// The derivation parameters a keybag stores (read them, never hard-code them).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KdfParams {
    /// PBKDF2-HMAC-SHA256 salt (`DPSL`), iOS ≥ 10.2 keybags only.
    pub dpsl: Option<Vec<u8>>,
    /// PBKDF2-HMAC-SHA256 rounds (`DPIC`), iOS ≥ 10.2 keybags only.
    pub dpic: Option<u32>,
    /// PBKDF2-HMAC-SHA1 salt (`SALT`).
    pub salt: Vec<u8>,
    /// PBKDF2-HMAC-SHA1 rounds (`ITER`).
    pub iter: u32,
}

/// Which derivation a keybag asks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum KdfScheme {
    /// iOS ≥ 10.2: PBKDF2-HMAC-SHA256(DPIC) then PBKDF2-HMAC-SHA1(ITER).
    TwoStage,
    /// iOS 4 … 10.1: PBKDF2-HMAC-SHA1(ITER) only (weak).
    LegacySha1,
}

impl KdfParams {
    pub fn scheme(&self) -> KdfScheme {
        if self.dpsl.is_some() && self.dpic.is_some() {
            KdfScheme::TwoStage
        } else {
            KdfScheme::LegacySha1
        }
    }
}

/// PBKDF2-HMAC-SHA256 with dkLen = 32, built on `sha2`'s compression function with
/// precomputed inner/outer HMAC states (the 10,000,000-round hot path).
/// `progress` is called now and then with the number of rounds done so far.
pub fn pbkdf2_sha256(password: &[u8], salt: &[u8], rounds: u32, progress: &mut dyn FnMut(u32)) -> Key32 {
    let _ = (password, salt, rounds, progress);
    todo!()
}

/// PBKDF2-HMAC-SHA1 with dkLen = 32 (the `pbkdf2` crate; ITER is small).
pub fn pbkdf2_sha1(password: &[u8], salt: &[u8], rounds: u32) -> Key32 {
    let _ = (password, salt, rounds);
    todo!()
}

/// Derive the key-encryption key the keybag's class keys are wrapped with.
pub fn derive_kek(password: &Password, params: &KdfParams, progress: &mut dyn FnMut(u32)) -> Key32 {
    let _ = (password, params, progress);
    todo!()
}
