//! Cryptography of iOS backups: secrets, key derivation, key wrap, AES-CBC/GCM, the keybag.

pub mod cbc;
pub mod class;
pub mod gcm;
pub mod itunes_hash;
pub mod kdf;
pub mod keybag;
pub mod scratch;
pub mod secret;
#[cfg(any(target_arch = "x86", target_arch = "x86_64"))]
pub mod shani;
pub mod wrap;
pub mod wrapped;

pub use class::ProtectionClass;
pub use keybag::{ClassKeyState, ClassKeys, Keybag};
pub use secret::{Key32, Password};
pub use wrapped::{BadKeyLength, KeyUnavailable, WrappedKey};

/// Errors of the crypto layer.
#[derive(Debug, Clone, thiserror::Error)]
pub enum CryptoError {
    /// RFC 3394 integrity check failed (wrong key-encryption key or corrupt wrapped key).
    #[error("key unwrap failed: integrity check (RFC 3394) did not match")]
    UnwrapIntegrity,
    /// A wrapped key, key or ciphertext has a length the algorithm cannot take.
    #[error("bad length: {what} is {got} bytes, expected {expected}")]
    BadLength {
        what: &'static str,
        got: usize,
        expected: &'static str,
    },
    /// CBC plaintext padding (PKCS#7) is not valid.
    #[error("bad PKCS#7 padding")]
    BadPadding,
    /// GCM authentication tag did not verify.
    #[error("authentication tag mismatch (corrupt or wrong key)")]
    BadTag,
    /// The keybag bytes could not be parsed.
    #[error("keybag: {0}")]
    Keybag(String),
    /// The password does not open the keybag.
    #[error("wrong password: the keybag's class keys do not unwrap (RFC 3394 integrity)")]
    WrongPassword,
    /// Some password-wrapped class keys unwrap and others do not: the password is right
    /// (a wrong KEK passes the RFC 3394 check with probability 2^-64), the keybag is corrupt.
    #[error(
        "corrupt keybag: class key(s) {failed:?} fail the RFC 3394 check while {unwrapped} other(s) unwrap"
    )]
    PartialUnwrap { failed: Vec<u32>, unwrapped: usize },
}
