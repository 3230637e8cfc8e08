//! Secret-bearing types: zeroized on drop, never printed by `Debug`.

use zeroize::{Zeroize, Zeroizing};

/// A 32-byte symmetric key (KEK, class key, file key, derived backup key).
#[derive(Clone)]
pub struct Key32(Zeroizing<[u8; 32]>);

impl Key32 {
    pub fn new(bytes: [u8; 32]) -> Self {
        Key32(Zeroizing::new(bytes))
    }
    /// From a slice of exactly 32 bytes.
    pub fn from_slice(b: &[u8]) -> Option<Self> {
        let arr: [u8; 32] = b.try_into().ok()?;
        Some(Self::new(arr))
    }
    /// From 64 hex digits (whitespace around is ignored).
    pub fn from_hex(s: &str) -> Option<Self> {
        let mut out = Zeroizing::new([0u8; 32]);
        hex::decode_to_slice(s.trim(), &mut out[..]).ok()?;
        Some(Key32(out))
    }
    pub fn as_bytes(&self) -> &[u8; 32] {
        &self.0
    }
    /// Lower-case hex; the caller is responsible for not leaking it.
    pub fn to_hex(&self) -> Zeroizing<String> {
        Zeroizing::new(hex::encode(&self.0[..]))
    }
}

impl std::fmt::Debug for Key32 {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Key32(<redacted>)")
    }
}

/// A backup password as bytes (UTF-8 of what the user typed); zeroized on drop.
#[derive(Clone)]
pub struct Password(Zeroizing<Vec<u8>>);

impl Password {
    pub fn new(bytes: Vec<u8>) -> Self {
        Password(Zeroizing::new(bytes))
    }
    pub fn from_string(mut s: String) -> Self {
        let p = Password(Zeroizing::new(s.as_bytes().to_vec()));
        s.zeroize();
        p
    }
    pub fn as_bytes(&self) -> &[u8] {
        &self.0
    }
}

impl std::fmt::Debug for Password {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Password(<redacted>)")
    }
}
