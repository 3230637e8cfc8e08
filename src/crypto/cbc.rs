//! AES-256-CBC with a zero IV and PKCS#7 padding: whole buffers and bounded-memory streams.

use super::{CryptoError, Key32};
use aes::cipher::consts::U16;
use aes::cipher::{Array, BlockModeDecrypt, BlockModeEncrypt, KeyIvInit};
use aes::Aes256;
use std::io::{ErrorKind, Read, Write};
use zeroize::Zeroizing;

/// AES block size.
pub const BLOCK: usize = 16;
/// Ciphertext bytes decrypted per step of [`decrypt_stream`] (memory stays ~2× this).
pub const STREAM_CHUNK: usize = 256 * 1024;

type Dec = cbc::Decryptor<Aes256>;
type Enc = cbc::Encryptor<Aes256>;

fn decryptor(key: &Key32) -> Dec {
    Dec::new(key.as_bytes().into(), &Array::<u8, U16>::default())
}

/// Decrypt whole blocks of `buf` in place, continuing the chain held by `dec`.
/// `buf.len()` must be a multiple of 16 (a trailing partial block is left untouched).
fn decrypt_in_place(dec: &mut Dec, buf: &mut [u8]) {
    let (blocks, _) = Array::<u8, U16>::slice_as_chunks_mut(buf);
    dec.decrypt_blocks(blocks);
}

/// Decrypt `buf` (whole blocks; a trailing partial block is left untouched) in place as one
/// piece of a longer CBC chain whose previous ciphertext block is `prev` (all zero for the
/// first piece). Pieces are independent given their `prev`, so a long buffer can be
/// decrypted in parallel.
pub fn decrypt_piece(key: &Key32, prev: &[u8; BLOCK], buf: &mut [u8]) {
    let mut dec = Dec::new(key.as_bytes().into(), prev.into());
    decrypt_in_place(&mut dec, buf);
}

/// Length of the PKCS#7 padding at the end of `plain`, if valid (1..=16 equal bytes).
pub fn pkcs7_pad_len(plain: &[u8]) -> Option<usize> {
    let p = *plain.last()? as usize;
    if p == 0 || p > BLOCK || p > plain.len() {
        return None;
    }
    let tail = plain.get(plain.len() - p..)?;
    if tail.iter().all(|&b| b as usize == p) {
        Some(p)
    } else {
        None
    }
}

/// Decrypt a whole buffer (zero IV) and strip PKCS#7 padding.
pub fn decrypt(key: &Key32, ciphertext: &[u8]) -> Result<Vec<u8>, CryptoError> {
    match decrypt_lenient(key, ciphertext)? {
        (buf, true) => Ok(buf),
        (mut buf, false) => {
            zeroize::Zeroize::zeroize(&mut buf);
            Err(CryptoError::BadPadding)
        }
    }
}

/// Decrypt a whole buffer (zero IV); strip the PKCS#7 padding when it is valid.
/// Returns the plaintext and whether padding was found and stripped (when it was not,
/// every decrypted byte is returned: some real encrypted Manifest.db files are not padded).
pub fn decrypt_lenient(key: &Key32, ciphertext: &[u8]) -> Result<(Vec<u8>, bool), CryptoError> {
    if ciphertext.is_empty() || ciphertext.len() % BLOCK != 0 {
        return Err(CryptoError::BadLength {
            what: "CBC ciphertext",
            got: ciphertext.len(),
            expected: "a non-zero multiple of 16",
        });
    }
    let mut buf = ciphertext.to_vec();
    decrypt_in_place(&mut decryptor(key), &mut buf);
    match pkcs7_pad_len(&buf) {
        Some(p) => {
            let n = buf.len() - p;
            // Wipe the padding bytes before shrinking (they are plaintext-derived).
            buf[n..].fill(0);
            buf.truncate(n);
            Ok((buf, true))
        }
        None => Ok((buf, false)),
    }
}

/// Encrypt a whole buffer (zero IV) with PKCS#7 padding (fixture writer).
pub fn encrypt(key: &Key32, plaintext: &[u8]) -> Vec<u8> {
    let p = BLOCK - plaintext.len() % BLOCK;
    let mut buf = Vec::with_capacity(plaintext.len() + p);
    buf.extend_from_slice(plaintext);
    buf.resize(plaintext.len() + p, p as u8);
    let mut enc = Enc::new(key.as_bytes().into(), &Array::<u8, U16>::default());
    let (blocks, _) = Array::<u8, U16>::slice_as_chunks_mut(&mut buf);
    enc.encrypt_blocks(blocks);
    buf
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

/// Fill `buf[*filled..]` from `input`; returns `true` at end of input.
fn fill(input: &mut dyn Read, buf: &mut [u8], filled: &mut usize) -> std::io::Result<bool> {
    while *filled < buf.len() {
        match input.read(&mut buf[*filled..]) {
            Ok(0) => return Ok(true),
            Ok(n) => *filled += n,
            Err(e) if e.kind() == ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(false)
}

/// Decrypt `input` into `output` in bounded chunks (a few hundred KiB), keeping the CBC
/// chain across chunks and holding back the last block to strip the padding.
///
/// Memory is bounded by one buffer of [`STREAM_CHUNK`] + 16 bytes per thread, reused from
/// call to call; the bytes a call used are wiped when it ends (so a small file costs no
/// allocation and no wiping of the whole buffer).
/// * Valid padding: everything but the padding is written, `problem = None`.
/// * Bad padding: every decrypted byte, including the whole last block, is written and
///   `problem = Some(BadPadding)`.
/// * Length zero or not a multiple of 16: the decrypted plaintext of the block-aligned
///   prefix is written as is (no padding removed; the trailing partial block is dropped)
///   and `problem = Some(NotBlockAligned)`; `plaintext_len` counts what was written.
///
/// I/O errors of `input` or `output` are returned as `Err`.
pub fn decrypt_stream(
    key: &Key32,
    input: &mut dyn Read,
    output: &mut dyn Write,
) -> std::io::Result<StreamOutcome> {
    SCRATCH.with(|cell| match cell.try_borrow_mut() {
        Ok(mut buf) => {
            if buf.len() != STREAM_CHUNK + BLOCK {
                buf.resize(STREAM_CHUNK + BLOCK, 0);
            }
            decrypt_stream_in(key, input, output, &mut buf)
        }
        // Re-entered from `output` on the same thread: use a buffer of its own.
        Err(_) => decrypt_stream_in(key, input, output, &mut vec![0u8; STREAM_CHUNK + BLOCK]),
    })
}

thread_local! {
    /// The per-thread buffer of [`decrypt_stream`] (all zero between calls).
    static SCRATCH: std::cell::RefCell<Vec<u8>> = const { std::cell::RefCell::new(Vec::new()) };
}

/// Wipes the part of a scratch buffer that was used, however the call ends.
struct Wipe<'a> {
    buf: &'a mut [u8],
    used: usize,
}

impl Drop for Wipe<'_> {
    fn drop(&mut self) {
        if let Some(b) = self.buf.get_mut(..self.used) {
            zeroize::Zeroize::zeroize(b);
        }
    }
}

fn decrypt_stream_in(
    key: &Key32,
    input: &mut dyn Read,
    output: &mut dyn Write,
    scratch: &mut [u8],
) -> std::io::Result<StreamOutcome> {
    let mut dec = decryptor(key);
    let mut wipe = Wipe {
        buf: scratch,
        used: 0,
    };
    let mut filled = 0usize;
    let mut ciphertext_len = 0u64;
    let mut plaintext_len = 0u64;
    loop {
        let before = filled;
        let eof = fill(input, wipe.buf, &mut filled);
        wipe.used = wipe.used.max(filled);
        let eof = eof?;
        ciphertext_len += (filled - before) as u64;
        if eof {
            break;
        }
        // Buffer full (a multiple of 16): decrypt all but the last block, keep that one back.
        let (head, _) = wipe.buf.split_at_mut(STREAM_CHUNK);
        decrypt_in_place(&mut dec, head);
        output.write_all(head)?;
        plaintext_len += STREAM_CHUNK as u64;
        wipe.buf.copy_within(STREAM_CHUNK.., 0);
        filled = BLOCK;
    }
    // End of input: `buf[..filled]` is the tail of the ciphertext.
    let aligned = filled - filled % BLOCK;
    let tail = &mut wipe.buf[..aligned];
    decrypt_in_place(&mut dec, tail);
    if ciphertext_len == 0 || ciphertext_len % BLOCK as u64 != 0 {
        output.write_all(tail)?;
        plaintext_len += aligned as u64;
        return Ok(StreamOutcome {
            ciphertext_len,
            plaintext_len,
            problem: Some(StreamProblem::NotBlockAligned),
        });
    }
    // Aligned and non-empty: `tail` holds at least the held-back last block.
    let (keep, problem) = match pkcs7_pad_len(tail) {
        Some(p) => (aligned - p, None),
        None => (aligned, Some(StreamProblem::BadPadding)),
    };
    output.write_all(&tail[..keep])?;
    plaintext_len += keep as u64;
    Ok(StreamOutcome {
        ciphertext_len,
        plaintext_len,
        problem,
    })
}

/// [`decrypt_stream`] of a ciphertext already in memory, decrypted in place: the plaintext
/// is `buf[..plaintext_len]` of the outcome, with the same length, padding and problem
/// rules (no copy through a scratch buffer; the caller wipes `buf`).
pub fn decrypt_stream_in_place(key: &Key32, buf: &mut [u8]) -> StreamOutcome {
    let ciphertext_len = buf.len() as u64;
    let aligned = buf.len() - buf.len() % BLOCK;
    decrypt_in_place(&mut decryptor(key), &mut buf[..aligned]);
    let (plaintext_len, problem) = if aligned == 0 || aligned != buf.len() {
        (aligned, Some(StreamProblem::NotBlockAligned))
    } else {
        match pkcs7_pad_len(buf) {
            Some(p) => (aligned - p, None),
            None => (aligned, Some(StreamProblem::BadPadding)),
        }
    };
    StreamOutcome {
        ciphertext_len,
        plaintext_len: plaintext_len as u64,
        problem,
    }
}

/// PKCS#7 padding length of a CBC stream from its last two ciphertext blocks alone
/// (`prev` is the zero IV for a one-block stream): the exact plaintext length of a payload
/// without decrypting all of it. None when the padding is invalid.
pub fn pad_len_from_tail(key: &Key32, prev: &[u8; 16], last: &[u8; 16]) -> Option<usize> {
    let mut dec = Dec::new(key.as_bytes().into(), &Array::<u8, U16>::from(*prev));
    let mut block = Zeroizing::new(*last);
    decrypt_in_place(&mut dec, &mut block[..]);
    pkcs7_pad_len(&block[..])
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key() -> Key32 {
        Key32::from_hex("000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f").unwrap()
    }

    /// Deterministic pseudo-random bytes (xorshift), no extra crates.
    fn bytes(n: usize, seed: u64) -> Vec<u8> {
        let mut x = seed | 1;
        (0..n)
            .map(|_| {
                x ^= x << 13;
                x ^= x >> 7;
                x ^= x << 17;
                (x >> 24) as u8
            })
            .collect()
    }

    /// A reader that returns at most `step` bytes per call (exercises partial reads).
    struct Dribble<'a> {
        data: &'a [u8],
        step: usize,
    }
    impl Read for Dribble<'_> {
        fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
            let n = self.step.min(buf.len()).min(self.data.len());
            buf[..n].copy_from_slice(&self.data[..n]);
            self.data = &self.data[n..];
            Ok(n)
        }
    }

    fn stream(ct: &[u8], step: usize) -> (Vec<u8>, StreamOutcome) {
        let mut out = Vec::new();
        let o = decrypt_stream(&key(), &mut Dribble { data: ct, step }, &mut out).unwrap();
        (out, o)
    }

    #[test]
    fn fips197_block_and_python_vectors() {
        // FIPS-197 C.3: AES-256(000102…1f, 00112233…ff) = 8ea2b7ca516745bfeafc49904b496089;
        // with a zero IV that is the first CBC block. Full value from Python `cryptography`.
        let pt = hex::decode("00112233445566778899aabbccddeeff").unwrap();
        let ct = encrypt(&key(), &pt);
        assert_eq!(
            hex::encode(&ct),
            "8ea2b7ca516745bfeafc49904b49608956423350859cf424d4459534a8f5aaf2"
        );
        assert_eq!(decrypt(&key(), &ct).unwrap(), pt);
        assert_eq!(
            hex::encode(encrypt(&key(), b"hello")),
            "91684487c34c3456eb4e901cef884a1e"
        );
        assert_eq!(
            hex::encode(encrypt(&key(), b"")),
            "9f3b7504926f8bd36e3118e903a4cd4a"
        );
        assert!(decrypt(
            &key(),
            &hex::decode("9f3b7504926f8bd36e3118e903a4cd4a").unwrap()
        )
        .unwrap()
        .is_empty());
    }

    /// In place and streamed agree on plaintext, length and problem, for every length
    /// class: empty, unaligned, valid and invalid padding, more than one stream chunk.
    #[test]
    fn in_place_matches_stream() {
        let mut cases: Vec<Vec<u8>> = Vec::new();
        for n in [
            0,
            1,
            15,
            16,
            17,
            31,
            32,
            100,
            4096,
            STREAM_CHUNK - 1,
            STREAM_CHUNK + 40,
        ] {
            let pt = bytes(n, n as u64 + 3);
            let ct = encrypt(&key(), &pt);
            cases.push(ct.clone());
            cases.push(ct[..ct.len() - 1].to_vec()); // unaligned
            let mut bad = ct.clone();
            let l = bad.len();
            // The last block's plaintext (its padding) changes: through the block before
            // it, or the block itself when there is only one.
            bad[if l >= 32 { l - 17 } else { l - 1 }] ^= 0x5a;
            cases.push(bad);
            cases.push(bytes(n, n as u64 + 11)); // random: padding mostly invalid
        }
        for ct in cases {
            let (out, o) = stream(&ct, 4096);
            let mut buf = ct.clone();
            let p = decrypt_stream_in_place(&key(), &mut buf);
            assert_eq!(p, o, "len {}", ct.len());
            assert_eq!(
                &buf[..p.plaintext_len as usize],
                &out[..],
                "len {}",
                ct.len()
            );
        }
    }

    #[test]
    fn whole_buffer_roundtrip_and_lengths() {
        for n in 0..100 {
            let pt = bytes(n, n as u64 + 7);
            let ct = encrypt(&key(), &pt);
            assert_eq!(ct.len(), 16 * (n / 16 + 1));
            assert_eq!(decrypt(&key(), &ct).unwrap(), pt);
        }
    }

    #[test]
    fn whole_buffer_rejects() {
        assert!(matches!(
            decrypt(&key(), &[]),
            Err(CryptoError::BadLength { got: 0, .. })
        ));
        assert!(matches!(
            decrypt(&key(), &[0u8; 17]),
            Err(CryptoError::BadLength { got: 17, .. })
        ));
        // Ciphertext of a block ending in 0x00 (invalid pad) — encrypt 16 zero bytes + drop pad block.
        let ct = encrypt(&key(), &[0u8; 16]);
        assert!(matches!(
            decrypt(&key(), &ct[..16]),
            Err(CryptoError::BadPadding)
        ));
    }

    #[test]
    fn stream_equals_whole_buffer_small() {
        for n in 0..100 {
            let pt = bytes(n, 1000 + n as u64);
            let ct = encrypt(&key(), &pt);
            for step in [1usize, 5, 16, 4096] {
                let (out, o) = stream(&ct, step);
                assert_eq!(out, pt, "n={n} step={step}");
                assert_eq!(
                    o,
                    StreamOutcome {
                        ciphertext_len: ct.len() as u64,
                        plaintext_len: n as u64,
                        problem: None
                    }
                );
            }
        }
    }

    #[test]
    fn stream_equals_whole_buffer_around_chunk_boundaries() {
        let c = STREAM_CHUNK;
        for n in [
            c - 17,
            c - 16,
            c - 15,
            c - 1,
            c,
            c + 1,
            c + 15,
            c + 16,
            c + 17,
            2 * c - 16,
            2 * c,
            2 * c + 5,
            3 * c + 31,
        ] {
            let pt = bytes(n, n as u64);
            let ct = encrypt(&key(), &pt);
            assert_eq!(decrypt(&key(), &ct).unwrap(), pt);
            for step in [7000usize, 1 << 20] {
                let (out, o) = stream(&ct, step);
                assert!(out == pt, "n={n} step={step}");
                assert_eq!(o.plaintext_len, n as u64);
                assert_eq!(o.ciphertext_len, ct.len() as u64);
                assert_eq!(o.problem, None);
            }
        }
    }

    #[test]
    fn stream_bad_padding_writes_everything() {
        for n in [
            16usize,
            48,
            STREAM_CHUNK,
            STREAM_CHUNK + 16,
            2 * STREAM_CHUNK + 32,
        ] {
            // Block-aligned plaintext whose last byte (0) is not a valid pad, encrypted
            // then stripped of its pad block.
            let mut pt = bytes(n, 99);
            *pt.last_mut().unwrap() = 0;
            let full = encrypt(&key(), &pt);
            let ct = &full[..n];
            let (out, o) = stream(ct, 65536);
            assert!(out == pt, "n={n}");
            assert_eq!(
                o,
                StreamOutcome {
                    ciphertext_len: n as u64,
                    plaintext_len: n as u64,
                    problem: Some(StreamProblem::BadPadding)
                }
            );
            assert!(matches!(decrypt(&key(), ct), Err(CryptoError::BadPadding)));
        }
        // Pad byte 17 and inconsistent pad bytes are invalid too.
        let mut pt = vec![0u8; 32];
        pt[31] = 17;
        let ct = encrypt(&key(), &pt);
        assert_eq!(
            stream(&ct[..32], 16).1.problem,
            Some(StreamProblem::BadPadding)
        );
        let mut pt = vec![3u8; 32];
        pt[29] = 2;
        let ct = encrypt(&key(), &pt);
        assert_eq!(
            stream(&ct[..32], 16).1.problem,
            Some(StreamProblem::BadPadding)
        );
    }

    #[test]
    fn stream_not_aligned_writes_aligned_prefix() {
        let (out, o) = stream(&[], 16);
        assert!(out.is_empty());
        assert_eq!(
            o,
            StreamOutcome {
                ciphertext_len: 0,
                plaintext_len: 0,
                problem: Some(StreamProblem::NotBlockAligned)
            }
        );
        let (out, o) = stream(&[1u8; 15], 16);
        assert!(out.is_empty());
        assert_eq!(o.problem, Some(StreamProblem::NotBlockAligned));
        assert_eq!(o.ciphertext_len, 15);

        for extra in [1usize, 9, 15] {
            for n in [40usize, STREAM_CHUNK + 100] {
                let pt = bytes(n, 5);
                let mut ct = encrypt(&key(), &pt);
                let aligned = ct.len();
                ct.extend(std::iter::repeat_n(0xAAu8, extra));
                let (out, o) = stream(&ct, 10_000);
                // The aligned prefix decrypts as is, padding not stripped.
                let mut want = pt.clone();
                want.resize(aligned, (aligned - n) as u8);
                assert!(out == want, "n={n} extra={extra}");
                assert_eq!(
                    o,
                    StreamOutcome {
                        ciphertext_len: ct.len() as u64,
                        plaintext_len: aligned as u64,
                        problem: Some(StreamProblem::NotBlockAligned)
                    }
                );
            }
        }
    }

    #[test]
    fn stream_propagates_io_errors() {
        struct Fails;
        impl Read for Fails {
            fn read(&mut self, _: &mut [u8]) -> std::io::Result<usize> {
                Err(std::io::Error::other("disk"))
            }
        }
        let mut out = Vec::new();
        assert!(decrypt_stream(&key(), &mut Fails, &mut out).is_err());
    }
}
