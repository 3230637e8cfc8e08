//! AES key wrap (RFC 3394) of 32-byte keys, over RustCrypto's `aes-kw`.

use super::{CryptoError, Key32};

/// Unwrap a 40-byte RFC 3394 blob under a 32-byte KEK into a 32-byte key.
/// Integrity failure (wrong KEK) is `CryptoError::UnwrapIntegrity`.
pub fn unwrap32(kek: &Key32, wrapped: &[u8]) -> Result<Key32, CryptoError> {
    let _ = (kek, wrapped);
    todo!()
}

/// Wrap a 32-byte key under a 32-byte KEK (fixture writer).
pub fn wrap32(kek: &Key32, key: &Key32) -> [u8; 40] {
    let _ = (kek, key);
    todo!()
}
