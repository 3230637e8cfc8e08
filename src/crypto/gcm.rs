//! AES-256-GCM as keychain blobs use it: empty IV (J0 = 0), or the static "default IV" with AAD.

use super::{CryptoError, Key32};
use aes::Aes256;
use aes_gcm::aead::consts::{U0, U12};
use aes_gcm::aead::{AeadInOut, KeyInit};
use aes_gcm::{AesGcm, Nonce, Tag};
use zeroize::Zeroizing;

/// GCM tag length.
pub const TAG_LEN: usize = 16;

/// AES-256-GCM with a zero-length nonce: J0 = GHASH_H(0^128) = 0^128.
type GcmEmptyIv = AesGcm<Aes256, U0>;
/// AES-256-GCM with the usual 96-bit nonce.
type Gcm12 = AesGcm<Aes256, U12>;

fn split_tag(ct_and_tag: &[u8]) -> Result<(&[u8], &[u8]), CryptoError> {
    if ct_and_tag.len() < TAG_LEN {
        return Err(CryptoError::BadLength {
            what: "GCM ciphertext+tag",
            got: ct_and_tag.len(),
            expected: ">= 16",
        });
    }
    Ok(ct_and_tag.split_at(ct_and_tag.len() - TAG_LEN))
}

fn open_with<A>(
    aead: &A,
    nonce: &aes_gcm::aead::Nonce<A>,
    aad: &[u8],
    ct_and_tag: &[u8],
) -> Result<Zeroizing<Vec<u8>>, CryptoError>
where
    A: AeadInOut + aes_gcm::aead::AeadCore<TagSize = aes_gcm::aead::consts::U16>,
{
    let (ct, tag) = split_tag(ct_and_tag)?;
    let tag = Tag::try_from(tag).map_err(|_| CryptoError::BadTag)?;
    let mut buf = Zeroizing::new(ct.to_vec());
    aead.decrypt_inout_detached(nonce, aad, buf.as_mut_slice().into(), &tag)
        .map_err(|_| CryptoError::BadTag)?;
    Ok(buf)
}

fn seal_with<A>(aead: &A, nonce: &aes_gcm::aead::Nonce<A>, aad: &[u8], plaintext: &[u8]) -> Vec<u8>
where
    A: AeadInOut + aes_gcm::aead::AeadCore<TagSize = aes_gcm::aead::consts::U16>,
{
    let mut buf = plaintext.to_vec();
    match aead.encrypt_inout_detached(nonce, aad, buf.as_mut_slice().into()) {
        Ok(tag) => {
            buf.extend_from_slice(&tag);
            buf
        }
        // Only refused beyond GCM's 2^36-byte limit, which a fixture never reaches.
        Err(_) => Vec::new(),
    }
}

/// Open `ct ‖ tag(16)` with an empty nonce and no AAD.
pub fn open_empty_iv(key: &Key32, ct_and_tag: &[u8]) -> Result<Zeroizing<Vec<u8>>, CryptoError> {
    let aead = GcmEmptyIv::new(key.as_bytes().into());
    open_with(&aead, &Nonce::<U0>::default(), &[], ct_and_tag)
}

/// Seal with an empty nonce and no AAD; returns `ct ‖ tag` (fixture writer).
pub fn seal_empty_iv(key: &Key32, plaintext: &[u8]) -> Vec<u8> {
    let aead = GcmEmptyIv::new(key.as_bytes().into());
    seal_with(&aead, &Nonce::<U0>::default(), &[], plaintext)
}

/// The static 12-byte IV used when bit 31 of a blob's version word is set.
pub const DEFAULT_IV: [u8; 12] = [
    0x1E, 0xA0, 0x5C, 0xA9, 0x98, 0x2E, 0x87, 0xDC, 0xF1, 0x45, 0xE8, 0x24,
];

/// Open `ct ‖ tag(16)` with the static default IV and the given AAD.
pub fn open_default_iv(
    key: &Key32,
    aad: &[u8],
    ct_and_tag: &[u8],
) -> Result<Zeroizing<Vec<u8>>, CryptoError> {
    let aead = Gcm12::new(key.as_bytes().into());
    open_with(&aead, &Nonce::<U12>::from(DEFAULT_IV), aad, ct_and_tag)
}

/// Seal with the static default IV and the given AAD; returns `ct ‖ tag` (fixture writer).
pub fn seal_default_iv(key: &Key32, aad: &[u8], plaintext: &[u8]) -> Vec<u8> {
    let aead = Gcm12::new(key.as_bytes().into());
    seal_with(&aead, &Nonce::<U12>::from(DEFAULT_IV), aad, plaintext)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key() -> Key32 {
        Key32::from_hex("000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f").unwrap()
    }

    // Computed independently in Python: AES-ECB from `cryptography`, CTR from counter
    // block 0…01, GHASH by hand, tag = E(K, J0=0) ⊕ GHASH (the hand GCM was checked
    // against `cryptography`'s AESGCM on a 12-byte IV first).
    const PT: &[u8] = b"auditor keychain v3 blob payload, 45 bytes..";
    const CT: &str =
        "912812c73ed6edc5cd93e25220a35f532eca86fed740ecdf28d8c84c7443f0fdfe63626608e3195be5ed9dad";
    const TAG: &str = "0f9d3549b25bd19d43d8fd69e7a47c24";

    #[test]
    fn empty_iv_seal_known_answer() {
        let out = seal_empty_iv(&key(), PT);
        assert_eq!(hex::encode(&out), format!("{CT}{TAG}"));
    }

    #[test]
    fn empty_iv_open_known_answer() {
        let blob = hex::decode(format!("{CT}{TAG}")).unwrap();
        let pt = open_empty_iv(&key(), &blob).unwrap();
        assert_eq!(&pt[..], PT);
    }

    #[test]
    fn empty_iv_empty_plaintext_tag_is_h() {
        // With no AAD and no ciphertext, GHASH = 0 and the tag is E(K, 0^128) = H.
        let out = seal_empty_iv(&key(), b"");
        assert_eq!(hex::encode(&out), "f29000b62a499fd0a9f39a6add2e7780");
        assert!(open_empty_iv(&key(), &out).unwrap().is_empty());
    }

    #[test]
    fn empty_iv_differs_from_zero_96bit_iv() {
        // The classic bug: a 12-byte zero nonce gives J0 = 0…01, not 0.
        let aead = Gcm12::new(key().as_bytes().into());
        let wrong = seal_with(&aead, &Nonce::<U12>::default(), &[], PT);
        assert_ne!(hex::encode(&wrong), format!("{CT}{TAG}"));
    }

    #[test]
    fn tampering_is_bad_tag() {
        let mut blob = hex::decode(format!("{CT}{TAG}")).unwrap();
        blob[3] ^= 1;
        assert!(matches!(
            open_empty_iv(&key(), &blob),
            Err(CryptoError::BadTag)
        ));
        let blob = hex::decode(format!("{CT}{TAG}")).unwrap();
        let mut k = *key().as_bytes();
        k[0] ^= 1;
        assert!(matches!(
            open_empty_iv(&Key32::new(k), &blob),
            Err(CryptoError::BadTag)
        ));
    }

    #[test]
    fn short_input_is_bad_length() {
        for n in 0..16 {
            let r = open_empty_iv(&key(), &vec![0u8; n]);
            assert!(matches!(r, Err(CryptoError::BadLength { got, .. }) if got == n));
        }
    }

    // `cryptography`'s AESGCM with nonce DEFAULT_IV and this AAD (a v3 header with the
    // default-IV flag: version 0x80000003, class 7, keyLen 40, little-endian).
    const K2: &str = "ffffffffffffffffffffffffffffffff0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f";
    const AAD2: &str = "030000800700000028000000";
    const OUT2: &str = "0e577e43f6b8bc4187d8f8593c87ede4e52c6a36ba1e505c3d0b768d12550a8c6541";

    #[test]
    fn default_iv_known_answer() {
        let k = Key32::from_hex(K2).unwrap();
        let aad = hex::decode(AAD2).unwrap();
        let pt = open_default_iv(&k, &aad, &hex::decode(OUT2).unwrap()).unwrap();
        assert_eq!(&pt[..], b"default-iv payload");
        assert_eq!(
            hex::encode(seal_default_iv(&k, &aad, b"default-iv payload")),
            OUT2
        );
        // Wrong AAD must fail.
        let r = open_default_iv(&k, &aad[..8], &hex::decode(OUT2).unwrap());
        assert!(matches!(r, Err(CryptoError::BadTag)));
    }
}
