//! AES-256-GCM as keychain blobs use it: empty IV (J0 = 0), or the static "default IV" with AAD.

use super::{CryptoError, Key32};
use zeroize::Zeroizing;

/// Open `ct ‖ tag(16)` with an empty nonce and no AAD.
pub fn open_empty_iv(key: &Key32, ct_and_tag: &[u8]) -> Result<Zeroizing<Vec<u8>>, CryptoError> {
    let _ = (key, ct_and_tag);
    todo!()
}

/// Seal with an empty nonce and no AAD; returns `ct ‖ tag` (fixture writer).
pub fn seal_empty_iv(key: &Key32, plaintext: &[u8]) -> Vec<u8> {
    let _ = (key, plaintext);
    todo!()
}

/// The static 12-byte IV used when bit 31 of a blob's version word is set.
pub const DEFAULT_IV: [u8; 12] = [0x1E, 0xA0, 0x5C, 0xA9, 0x98, 0x2E, 0x87, 0xDC, 0xF1, 0x45, 0xE8, 0x24];

/// Open `ct ‖ tag(16)` with the static default IV and the given AAD.
pub fn open_default_iv(key: &Key32, aad: &[u8], ct_and_tag: &[u8]) -> Result<Zeroizing<Vec<u8>>, CryptoError> {
    let _ = (key, aad, ct_and_tag);
    todo!()
}
