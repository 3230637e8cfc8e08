//! AES-256-CBC with a zero IV and PKCS#7 padding: whole buffers and bounded-memory streams.

use super::{CryptoError, Key32};
use std::io::{Read, Write};

/// Decrypt a whole buffer (zero IV) and strip PKCS#7 padding.
pub fn decrypt(key: &Key32, ciphertext: &[u8]) -> Result<Vec<u8>, CryptoError> {
    let _ = (key, ciphertext);
    todo!()
}

/// Encrypt a whole buffer (zero IV) with PKCS#7 padding (fixture writer).
pub fn encrypt(key: &Key32, plaintext: &[u8]) -> Vec<u8> {
    let _ = (key, plaintext);
    todo!()
}

/// What a streamed decryption found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StreamOutcome {
    /// Ciphertext bytes read.
    pub ciphertext_len: u64,
    /// Plaintext bytes written (after removing the padding when it was valid).
    pub plaintext_len: u64,
    /// Why the stream did not decrypt cleanly, if it did not.
    pub problem: Option<StreamProblem>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum StreamProblem {
    /// Length is zero or not a multiple of 16.
    NotBlockAligned,
    /// Last block's PKCS#7 padding is invalid (all plaintext was written unpadded).
    BadPadding,
}

/// Decrypt `input` into `output` in bounded chunks (a few hundred KiB), keeping the CBC
/// chain across chunks and holding back the last block to strip the padding.
pub fn decrypt_stream(key: &Key32, input: &mut dyn Read, output: &mut dyn Write) -> std::io::Result<StreamOutcome> {
    let _ = (key, input, output);
    todo!()
}
