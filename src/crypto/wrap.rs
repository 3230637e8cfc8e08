//! AES key wrap (RFC 3394) of 32-byte keys, over RustCrypto's `aes-kw`.

use super::{CryptoError, Key32};
use aes_kw::{KeyInit, KwAes256};
use zeroize::Zeroizing;

/// Length of an RFC 3394-wrapped 32-byte key.
pub const WRAPPED_LEN: usize = 40;

fn kw(kek: &Key32) -> KwAes256 {
    KwAes256::new(kek.as_bytes().into())
}

/// Unwrap a 40-byte RFC 3394 blob under a 32-byte KEK into a 32-byte key.
/// Integrity failure (wrong KEK) is `CryptoError::UnwrapIntegrity`.
pub fn unwrap32(kek: &Key32, wrapped: &[u8]) -> Result<Key32, CryptoError> {
    if wrapped.len() != WRAPPED_LEN {
        return Err(CryptoError::BadLength {
            what: "wrapped key",
            got: wrapped.len(),
            expected: "40",
        });
    }
    let mut out = Zeroizing::new([0u8; 32]);
    match kw(kek).unwrap_key(wrapped, &mut out[..]) {
        Ok(_) => Ok(Key32::new(*out)),
        Err(aes_kw::Error::IntegrityCheckFailed) => Err(CryptoError::UnwrapIntegrity),
        // Length was checked above; report any other refusal as a length problem.
        Err(_) => Err(CryptoError::BadLength {
            what: "wrapped key",
            got: wrapped.len(),
            expected: "40",
        }),
    }
}

/// Wrap a 32-byte key under a 32-byte KEK (fixture writer).
pub fn wrap32(kek: &Key32, key: &Key32) -> [u8; 40] {
    let mut out = [0u8; WRAPPED_LEN];
    // A 32-byte key always fits a 40-byte buffer: `wrap_key` cannot fail here.
    if kw(kek).wrap_key(key.as_bytes(), &mut out).is_err() {
        out = [0u8; WRAPPED_LEN];
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn k(h: &str) -> Key32 {
        Key32::from_hex(h).unwrap()
    }

    // RFC 3394 §4.6: wrap 256 bits of key data with a 256-bit KEK.
    const KEK: &str = "000102030405060708090A0B0C0D0E0F101112131415161718191A1B1C1D1E1F";
    const DATA: &str = "00112233445566778899AABBCCDDEEFF000102030405060708090A0B0C0D0E0F";
    const WRAPPED: &str =
        "28C9F404C4B810F4CBCCB35CFB87F8263F5786E2D80ED326CBC7F0E71A99F43BFB988B9B7A02DD21";

    #[test]
    fn rfc3394_4_6_wrap() {
        let w = wrap32(&k(KEK), &k(DATA));
        assert_eq!(hex::encode_upper(w), WRAPPED);
    }

    #[test]
    fn rfc3394_4_6_unwrap() {
        let w = hex::decode(WRAPPED).unwrap();
        let key = unwrap32(&k(KEK), &w).unwrap();
        assert_eq!(key.as_bytes()[..], hex::decode(DATA).unwrap()[..]);
    }

    #[test]
    fn wrong_kek_is_integrity_error() {
        let w = hex::decode(WRAPPED).unwrap();
        let mut bad = hex::decode(KEK).unwrap();
        bad[31] ^= 1;
        let r = unwrap32(&Key32::from_slice(&bad).unwrap(), &w);
        assert!(matches!(r, Err(CryptoError::UnwrapIntegrity)));
    }

    #[test]
    fn corrupt_blob_is_integrity_error() {
        let mut w = hex::decode(WRAPPED).unwrap();
        w[20] ^= 0x80;
        assert!(matches!(
            unwrap32(&k(KEK), &w),
            Err(CryptoError::UnwrapIntegrity)
        ));
    }

    #[test]
    fn bad_lengths_refused() {
        for n in [0usize, 8, 24, 32, 39, 41, 48] {
            let r = unwrap32(&k(KEK), &vec![0u8; n]);
            assert!(
                matches!(r, Err(CryptoError::BadLength { got, .. }) if got == n),
                "len {n}"
            );
        }
    }
}
