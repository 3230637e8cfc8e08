//! Password → key-encryption key: two-stage PBKDF2 (SHA-256 then SHA-1) or legacy SHA-1 only.

use super::{Key32, Password};
use sha2::block_api::compress256;
use sha2::Digest;
use zeroize::{Zeroize, Zeroizing};

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

/// SHA-256 initial hash value (FIPS 180-4 §5.3.3).
const H256: [u32; 8] = [
    0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a, 0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19,
];

/// `progress` is called after every this many rounds (and once at the end).
pub const PROGRESS_EVERY: u32 = 100_000;

/// Continue a SHA-256 whose state has absorbed `absorbed` bytes (a multiple of 64) with
/// `msg`, pad, and return the final state words. Allocation-free.
fn sha256_finish(mut state: [u32; 8], absorbed: u64, msg: &[u8]) -> [u32; 8] {
    let mut block = [0u8; 64];
    let mut chunks = msg.chunks_exact(64);
    for c in &mut chunks {
        block.copy_from_slice(c);
        compress256(&mut state, core::slice::from_ref(&block));
    }
    let rest = chunks.remainder();
    block.fill(0);
    block[..rest.len()].copy_from_slice(rest);
    block[rest.len()] = 0x80;
    if rest.len() >= 56 {
        compress256(&mut state, core::slice::from_ref(&block));
        block.fill(0);
    }
    let bits = (absorbed + msg.len() as u64).wrapping_mul(8);
    block[56..].copy_from_slice(&bits.to_be_bytes());
    compress256(&mut state, core::slice::from_ref(&block));
    block.zeroize();
    state
}

/// Big-endian bytes of 8 state words into `out[..32]` (written so that it vectorises).
#[inline(always)]
fn words_to_bytes(w: &[u32; 8], out: &mut [u8]) {
    let t: [u32; 8] = w.map(u32::swap_bytes);
    for (o, x) in out.chunks_exact_mut(4).zip(t.iter()) {
        o.copy_from_slice(&x.to_ne_bytes());
    }
}

/// HMAC-SHA256 inner and outer states after absorbing `key ^ ipad` / `key ^ opad`.
fn hmac_sha256_states(password: &[u8]) -> ([u32; 8], [u32; 8]) {
    let mut key = Zeroizing::new([0u8; 64]);
    if password.len() > 64 {
        let mut d = sha2::Sha256::digest(password);
        key[..32].copy_from_slice(&d);
        d.as_mut_slice().zeroize();
    } else {
        key[..password.len()].copy_from_slice(password);
    }
    let mut pad = Zeroizing::new([0u8; 64]);
    let mut inner = H256;
    for (p, k) in pad.iter_mut().zip(key.iter()) {
        *p = k ^ 0x36;
    }
    compress256(&mut inner, core::slice::from_ref(&*pad));
    let mut outer = H256;
    for (p, k) in pad.iter_mut().zip(key.iter()) {
        *p = k ^ 0x5c;
    }
    compress256(&mut outer, core::slice::from_ref(&*pad));
    (inner, outer)
}

/// PBKDF2-HMAC-SHA256 with dkLen = 32, built on `sha2`'s compression function with
/// precomputed inner/outer HMAC states (the 10,000,000-round hot path).
/// `progress` is called now and then with the number of rounds done so far
/// (every [`PROGRESS_EVERY`] rounds and once at the end). `rounds == 0` is treated as 1,
/// as the `pbkdf2` crate does.
pub fn pbkdf2_sha256(
    password: &[u8],
    salt: &[u8],
    rounds: u32,
    progress: &mut dyn FnMut(u32),
) -> Key32 {
    let (mut inner, mut outer) = hmac_sha256_states(password);

    // U1 = HMAC(P, salt ‖ INT(1)); salt is arbitrary length, so go through the general path.
    let mut u = {
        let mut ih = inner;
        let mut msg = Zeroizing::new(Vec::with_capacity(salt.len() + 4));
        msg.extend_from_slice(salt);
        msg.extend_from_slice(&1u32.to_be_bytes());
        // Absorb whole 64-byte blocks of the message, then finish.
        ih = sha256_finish(ih, 64, &msg);
        let mut ib = [0u8; 32];
        words_to_bytes(&ih, &mut ib);
        let o = sha256_finish(outer, 64, &ib);
        ib.zeroize();
        ih.zeroize();
        o
    };
    // T = U1 ⊕ U2 ⊕ … (as state words).
    let mut acc = u;

    // U_i = HMAC(P, U_{i-1}): each HMAC is one compression of a fixed padded block
    // (32-byte message after the 64-byte key block ⇒ 96 bytes = 768 bits in total)
    // from the inner state, then one from the outer state.
    let mut iblock = [0u8; 64];
    iblock[32] = 0x80;
    iblock[62] = 0x03; // 768 = 0x0300 bits
    let mut oblock = iblock;
    words_to_bytes(&u, &mut iblock[..32]);

    let total = rounds.max(1);
    let mut done = 1u32;
    while done < total {
        let step = (total - done).min(PROGRESS_EVERY);
        let mut blocks = Blocks {
            inner: &mut iblock,
            outer: &mut oblock,
        };
        hmac_rounds(&inner, &outer, &mut blocks, &mut acc, step);
        done += step;
        progress(done);
    }
    if total == 1 {
        progress(1);
    }

    let mut out = [0u8; 32];
    words_to_bytes(&acc, &mut out);
    let key = Key32::new(out);
    out.zeroize();
    acc.zeroize();
    iblock.zeroize();
    oblock.zeroize();
    u.zeroize();
    inner.zeroize();
    outer.zeroize();
    key
}

/// The two padded message blocks of the iteration (first 32 bytes = the digest fed in).
struct Blocks<'a> {
    inner: &'a mut [u8; 64],
    outer: &'a mut [u8; 64],
}

/// `n` PBKDF2 iterations: `blocks.inner[..32]` holds U_{i-1} on entry and U_{i-1+n} on
/// exit; every U is XORed into `acc`. Two compressions per iteration, nothing else but
/// the big-endian conversion of the 32-byte digests.
#[inline(always)]
fn rounds_body(
    inner: &[u32; 8],
    outer: &[u32; 8],
    blocks: &mut Blocks<'_>,
    acc: &mut [u32; 8],
    n: u32,
) {
    for _ in 0..n {
        let mut s = *inner;
        compress256(&mut s, core::slice::from_ref(&*blocks.inner));
        words_to_bytes(&s, &mut blocks.outer[..32]);
        let mut u = *outer;
        compress256(&mut u, core::slice::from_ref(&*blocks.outer));
        words_to_bytes(&u, &mut blocks.inner[..32]);
        for (a, x) in acc.iter_mut().zip(u.iter()) {
            *a ^= x;
        }
    }
}

/// [`rounds_body`] compiled with SSSE3, so the big-endian conversion is one `pshufb` and
/// one 16-byte store per half. That matters: `compress256` loads its block with 16-byte
/// loads, and a 16-byte load that spans several smaller stores cannot be store-forwarded,
/// which stalls the serial chain (≈ +10–20 % over the floor without it).
#[cfg(any(target_arch = "x86", target_arch = "x86_64"))]
#[target_feature(enable = "ssse3")]
fn hmac_rounds_ssse3(
    inner: &[u32; 8],
    outer: &[u32; 8],
    blocks: &mut Blocks<'_>,
    acc: &mut [u32; 8],
    n: u32,
) {
    rounds_body(inner, outer, blocks, acc, n)
}

#[inline(never)]
fn hmac_rounds_portable(
    inner: &[u32; 8],
    outer: &[u32; 8],
    blocks: &mut Blocks<'_>,
    acc: &mut [u32; 8],
    n: u32,
) {
    rounds_body(inner, outer, blocks, acc, n)
}

fn hmac_rounds(
    inner: &[u32; 8],
    outer: &[u32; 8],
    blocks: &mut Blocks<'_>,
    acc: &mut [u32; 8],
    n: u32,
) {
    #[cfg(any(target_arch = "x86", target_arch = "x86_64"))]
    if super::shani::available() {
        let mut u = [0u32; 8];
        for (w, b) in u.iter_mut().zip(blocks.inner[..32].chunks_exact(4)) {
            *w = u32::from_be_bytes([b[0], b[1], b[2], b[3]]);
        }
        // SAFETY: the CPU features `shani::hmac_rounds` needs were just checked.
        unsafe { super::shani::hmac_rounds(inner, outer, &mut u, acc, n) };
        words_to_bytes(&u, &mut blocks.inner[..32]);
        u.zeroize();
        return;
    }
    #[cfg(any(target_arch = "x86", target_arch = "x86_64"))]
    if std::arch::is_x86_feature_detected!("ssse3") {
        // SAFETY: the only requirement of a `#[target_feature(enable = "ssse3")]` function
        // is that the CPU supports SSSE3, which was just checked at run time.
        return unsafe { hmac_rounds_ssse3(inner, outer, blocks, acc, n) };
    }
    hmac_rounds_portable(inner, outer, blocks, acc, n)
}

/// SHA-1 initial hash value (FIPS 180-4 §5.3.1).
const H160: [u32; 5] = [0x67452301, 0xefcdab89, 0x98badcfe, 0x10325476, 0xc3d2e1f0];

fn compress160(state: &mut [u32; 5], block: &[u8; 64]) {
    sha1::block_api::compress(state, core::slice::from_ref(block));
}

/// [`sha256_finish`] for SHA-1: continue a state that has absorbed `absorbed` bytes (a
/// multiple of 64) with `msg`, pad, and return the final state words.
fn sha1_finish(mut state: [u32; 5], absorbed: u64, msg: &[u8]) -> [u32; 5] {
    let mut block = [0u8; 64];
    let mut chunks = msg.chunks_exact(64);
    for c in &mut chunks {
        block.copy_from_slice(c);
        compress160(&mut state, &block);
    }
    let rest = chunks.remainder();
    block.fill(0);
    block[..rest.len()].copy_from_slice(rest);
    block[rest.len()] = 0x80;
    if rest.len() >= 56 {
        compress160(&mut state, &block);
        block.fill(0);
    }
    let bits = (absorbed + msg.len() as u64).wrapping_mul(8);
    block[56..].copy_from_slice(&bits.to_be_bytes());
    compress160(&mut state, &block);
    block.zeroize();
    state
}

/// Big-endian bytes of 5 state words into `out[..20]`.
fn words160_to_bytes(w: &[u32; 5], out: &mut [u8]) {
    for (o, x) in out.chunks_exact_mut(4).zip(w.iter()) {
        o.copy_from_slice(&x.to_be_bytes());
    }
}

/// HMAC-SHA1 inner and outer states after absorbing `key ^ ipad` / `key ^ opad`.
fn hmac_sha1_states(password: &[u8]) -> ([u32; 5], [u32; 5]) {
    let mut key = Zeroizing::new([0u8; 64]);
    if password.len() > 64 {
        let mut d = sha1::Sha1::digest(password);
        key[..20].copy_from_slice(&d);
        d.as_mut_slice().zeroize();
    } else {
        key[..password.len()].copy_from_slice(password);
    }
    let mut pad = Zeroizing::new([0u8; 64]);
    let mut inner = H160;
    for (p, k) in pad.iter_mut().zip(key.iter()) {
        *p = k ^ 0x36;
    }
    compress160(&mut inner, &pad);
    let mut outer = H160;
    for (p, k) in pad.iter_mut().zip(key.iter()) {
        *p = k ^ 0x5c;
    }
    compress160(&mut outer, &pad);
    (inner, outer)
}

/// One 20-byte PBKDF2-HMAC-SHA1 output block `T_index` (`rounds` ≥ 1 HMACs), written to
/// `out[..20]`; `progress` gets the HMACs done in this block now and then.
fn pbkdf2_sha1_block(
    states: (&[u32; 5], &[u32; 5]),
    salt: &[u8],
    index: u32,
    rounds: u32,
    out: &mut [u8],
    progress: &mut dyn FnMut(u32),
) {
    let (inner, outer) = states;
    let mut msg = Zeroizing::new(Vec::with_capacity(salt.len() + 4));
    msg.extend_from_slice(salt);
    msg.extend_from_slice(&index.to_be_bytes());
    let mut ih = sha1_finish(*inner, 64, &msg);
    // U_i = HMAC(P, U_{i-1}): a 20-byte message after the key block is 84 bytes = 672 bits,
    // so each HMAC is one compression of a fixed padded block from each state.
    let mut iblock = [0u8; 64];
    iblock[20] = 0x80;
    iblock[62] = 0x02;
    iblock[63] = 0xa0;
    let mut oblock = iblock;
    words160_to_bytes(&ih, &mut oblock[..20]);
    let mut u = sha1_finish(*outer, 64, &oblock[..20]);
    let mut acc = u;
    let mut done = 1u32;
    while done < rounds {
        let step = (rounds - done).min(PROGRESS_EVERY);
        for _ in 0..step {
            words160_to_bytes(&u, &mut iblock[..20]);
            ih = *inner;
            compress160(&mut ih, &iblock);
            words160_to_bytes(&ih, &mut oblock[..20]);
            u = *outer;
            compress160(&mut u, &oblock);
            for (a, x) in acc.iter_mut().zip(u.iter()) {
                *a ^= x;
            }
        }
        done += step;
        progress(done);
    }
    if rounds == 1 {
        progress(1);
    }
    words160_to_bytes(&acc, out);
    acc.zeroize();
    u.zeroize();
    ih.zeroize();
    iblock.zeroize();
    oblock.zeroize();
}

/// PBKDF2-HMAC-SHA1 with dkLen = 32 (two 20-byte blocks, so `2 × rounds` HMACs), on
/// `sha1`'s compression function with precomputed HMAC states. `progress` is called now
/// and then with the HMACs done so far (every [`PROGRESS_EVERY`] rounds of a block and at
/// the end of each block; the last call is `2 × rounds`). `rounds == 0` is treated as 1,
/// as the `pbkdf2` crate does.
pub fn pbkdf2_sha1_with_progress(
    password: &[u8],
    salt: &[u8],
    rounds: u32,
    progress: &mut dyn FnMut(u64),
) -> Key32 {
    let (mut inner, mut outer) = hmac_sha1_states(password);
    let rounds = rounds.max(1);
    let mut out = Zeroizing::new([0u8; 40]);
    for (i, block) in out.chunks_exact_mut(20).enumerate() {
        let before = i as u64 * u64::from(rounds);
        let mut cb = |n: u32| progress(before + u64::from(n));
        pbkdf2_sha1_block((&inner, &outer), salt, i as u32 + 1, rounds, block, &mut cb);
    }
    inner.zeroize();
    outer.zeroize();
    let mut key = [0u8; 32];
    key.copy_from_slice(&out[..32]);
    let k = Key32::new(key);
    key.zeroize();
    k
}

/// PBKDF2-HMAC-SHA1 with dkLen = 32 (ITER is small), without progress.
/// `rounds == 0` is treated as 1 (the `pbkdf2` crate's behaviour).
pub fn pbkdf2_sha1(password: &[u8], salt: &[u8], rounds: u32) -> Key32 {
    pbkdf2_sha1_with_progress(password, salt, rounds, &mut |_| {})
}

/// One stage of the key derivation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KdfStage {
    /// PBKDF2-HMAC-SHA256 over `DPIC` rounds (iOS ≥ 10.2, first stage).
    Sha256,
    /// PBKDF2-HMAC-SHA1 over `ITER` rounds (the second stage, or the only one).
    Sha1,
}

impl KdfStage {
    pub fn name(self) -> &'static str {
        match self {
            KdfStage::Sha256 => "SHA-256",
            KdfStage::Sha1 => "SHA-1",
        }
    }
}

/// Progress of one whole derivation, all its stages on one scale: `done` of `total` work
/// units, where a unit is one HMAC computation (two compressions of the stage's hash; a
/// SHA-1 and a SHA-256 compression are counted alike — the SHA-1 stage is 20,000 of the
/// 10,020,000 units of a real two-stage keybag, so the weighting cannot be seen). `done`
/// never goes backwards within a derivation and the last report is `done == total`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DeriveProgress {
    pub done: u64,
    pub total: u64,
    /// The stage running now.
    pub stage: KdfStage,
    /// 1-based number of the stage running now, of `stages`.
    pub stage_number: u8,
    /// 2 (SHA-256 then SHA-1) or 1 (legacy SHA-1 only).
    pub stages: u8,
}

impl DeriveProgress {
    /// `stage 1/2 SHA-256`, `stage 2/2 SHA-1`, or `SHA-1` for a one-stage derivation.
    pub fn label(&self) -> String {
        if self.stages > 1 {
            format!(
                "stage {}/{} {}",
                self.stage_number,
                self.stages,
                self.stage.name()
            )
        } else {
            self.stage.name().to_string()
        }
    }
}

impl KdfParams {
    /// The stages in order, with their work in HMACs: `max(DPIC, 1)` for the SHA-256 stage
    /// (dkLen 32 is one SHA-256 block) and `2 × max(ITER, 1)` for the SHA-1 stage (two
    /// 20-byte SHA-1 blocks).
    pub fn stages(&self) -> Vec<(KdfStage, u64)> {
        let sha1 = (KdfStage::Sha1, 2 * u64::from(self.iter.max(1)));
        match (self.scheme(), self.dpic) {
            (KdfScheme::TwoStage, Some(dpic)) => {
                vec![(KdfStage::Sha256, u64::from(dpic.max(1))), sha1]
            }
            _ => vec![sha1],
        }
    }

    /// The work of the whole derivation ([`DeriveProgress::total`]).
    pub fn work(&self) -> u64 {
        self.stages().iter().map(|(_, n)| n).sum()
    }
}

/// Derive the key-encryption key the keybag's class keys are wrapped with.
/// Two-stage when both `DPSL` and `DPIC` are present (the SHA-256 stage's 32 raw output
/// bytes are the SHA-1 stage's password), else legacy SHA-1 only. `progress` sees one
/// scale over both stages ([`DeriveProgress`]): a report as each stage starts (`done` is
/// then the work of the stages before it), sparse reports while it runs, and
/// `done == total` at the end.
pub fn derive_kek(
    password: &Password,
    params: &KdfParams,
    progress: &mut dyn FnMut(DeriveProgress),
) -> Key32 {
    let total = params.work();
    let stages = params.stages().len() as u8;
    let at = |stage, stage_number, done| DeriveProgress {
        done,
        total,
        stage,
        stage_number,
        stages,
    };
    match (&params.dpsl, params.dpic) {
        (Some(dpsl), Some(dpic)) => {
            progress(at(KdfStage::Sha256, 1, 0));
            let t = pbkdf2_sha256(password.as_bytes(), dpsl, dpic, &mut |n| {
                progress(at(KdfStage::Sha256, 1, u64::from(n)))
            });
            let base = u64::from(dpic.max(1));
            progress(at(KdfStage::Sha1, 2, base));
            pbkdf2_sha1_with_progress(t.as_bytes(), &params.salt, params.iter, &mut |n| {
                progress(at(KdfStage::Sha1, 2, base + n))
            })
        }
        _ => {
            progress(at(KdfStage::Sha1, 1, 0));
            pbkdf2_sha1_with_progress(password.as_bytes(), &params.salt, params.iter, &mut |n| {
                progress(at(KdfStage::Sha1, 1, n))
            })
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::Path;

    fn sha256_hex(p: &[u8], s: &[u8], c: u32) -> String {
        hex::encode(pbkdf2_sha256(p, s, c, &mut |_| {}).as_bytes())
    }

    #[test]
    fn pbkdf2_sha256_known_answers() {
        // RFC 7914 §11 (first 32 of the 64 output bytes: dkLen 32 is block 1).
        assert_eq!(
            sha256_hex(b"passwd", b"salt", 1),
            "55ac046e56e3089fec1691c22544b605f94185216dde0465e68b9d57c20dacbc"
        );
        assert_eq!(
            sha256_hex(b"Password", b"NaCl", 80000),
            "4ddcd8f60b98be21830cee5ef22701f9641a4418d04c0414aeff08876b34ab56"
        );
        // Widely published PBKDF2-HMAC-SHA256 vectors (RFC 6070 inputs), rechecked with
        // Python hashlib.pbkdf2_hmac.
        assert_eq!(
            sha256_hex(b"password", b"salt", 1),
            "120fb6cffcf8b32c43e7225256c4f837a86548c92ccc35480805987cb70be17b"
        );
        assert_eq!(
            sha256_hex(b"password", b"salt", 2),
            "ae4d0c95af6b46d32d0adff928f06dd02a303f8ef3c251dfd6e2d85a95474c43"
        );
        assert_eq!(
            sha256_hex(b"password", b"salt", 4096),
            "c5e478d59288c841aa530db6845c4c8d962893a001ce4e11a4963873aa98134a"
        );
        assert_eq!(
            sha256_hex(
                b"passwordPASSWORDpassword",
                b"saltSALTsaltSALTsaltSALTsaltSALTsalt",
                4096
            ),
            "348c89dbcbd32b2f32d814b8116e84cf2b17347ebc1800181c4e2a1fb8dd53e1"
        );
        assert_eq!(
            sha256_hex(b"pass\0word", b"sa\0lt", 4096),
            "89b69d0516f829893c696226650a86878c029ac13ee276509d5ae58b6466a724"
        );
        // Password longer than a block (hashed first) and a two-block salt (Python hashlib).
        assert_eq!(
            sha256_hex(&[b'x'; 100], &[b'y'; 70], 3),
            "5c484387cfe582d277bc84bb6f8f6770d2d6d5e83b2fbe33949cc09474844c52"
        );
    }

    #[test]
    fn pbkdf2_sha1_rfc6070_and_hashlib() {
        // RFC 6070 gives 20 bytes (block 1); bytes 20..32 are block 2 (Python hashlib).
        let h = |p: &[u8], s: &[u8], c| hex::encode(pbkdf2_sha1(p, s, c).as_bytes());
        assert_eq!(
            h(b"password", b"salt", 1),
            "0c60c80f961f0e71f3a9b524af6012062fe037a6e0f0eb94fe8fc46bdc637164"
        );
        assert_eq!(
            h(b"password", b"salt", 2),
            "ea6c014dc72d6f8ccd1ed92ace1d41f0d8de8957cae93136266537a8d7bf4b76"
        );
        assert_eq!(
            h(b"password", b"salt", 4096),
            "4b007901b765489abead49d926f721d065a429c12e463f6c4cd79401085b03db"
        );
        assert_eq!(
            h(
                b"passwordPASSWORDpassword",
                b"saltSALTsaltSALTsaltSALTsaltSALTsalt",
                4096
            ),
            "3d2eec4fe41c849b80c8d83662c0e44a8b291a964cf2f07038b6b89a48612c5a"
        );
    }

    /// A xorshift64 sequence (deterministic test inputs).
    fn xorshift(mut x: u64) -> impl FnMut() -> u64 {
        move || {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x
        }
    }

    #[test]
    fn sha_extensions_and_portable_iterations_agree() {
        // Both iteration loops from the same random HMAC states, U and accumulator.
        let mut rng = xorshift(0x2545_F491_4F6C_DD1D);
        let mut next = || rng() as u32;
        for n in [1u32, 2, 3, 17, 1000] {
            let inner: [u32; 8] = std::array::from_fn(|_| next());
            let outer: [u32; 8] = std::array::from_fn(|_| next());
            let u0: [u32; 8] = std::array::from_fn(|_| next());
            let acc0: [u32; 8] = std::array::from_fn(|_| next());
            let mut iblock = [0u8; 64];
            iblock[32] = 0x80;
            iblock[62] = 0x03;
            let mut oblock = iblock;
            words_to_bytes(&u0, &mut iblock[..32]);
            let mut acc_p = acc0;
            hmac_rounds_portable(
                &inner,
                &outer,
                &mut Blocks {
                    inner: &mut iblock,
                    outer: &mut oblock,
                },
                &mut acc_p,
                n,
            );
            let mut u_p = [0u8; 32];
            u_p.copy_from_slice(&iblock[..32]);
            #[cfg(any(target_arch = "x86", target_arch = "x86_64"))]
            if super::super::shani::available() {
                let (mut u, mut acc) = (u0, acc0);
                // SAFETY: features checked just above.
                unsafe { super::super::shani::hmac_rounds(&inner, &outer, &mut u, &mut acc, n) };
                let mut u_b = [0u8; 32];
                words_to_bytes(&u, &mut u_b);
                assert_eq!(u_b, u_p, "U after {n} iterations");
                assert_eq!(acc, acc_p, "accumulator after {n} iterations");
            }
            assert_ne!(acc_p, acc0);
        }
        #[cfg(any(target_arch = "x86", target_arch = "x86_64"))]
        if !super::super::shani::available() {
            eprintln!("no SHA extensions on this CPU: only the portable loop was run");
        }
    }

    #[test]
    fn pbkdf2_sha256_equals_crate_on_random_inputs() {
        let mut next = xorshift(0x9E37_79B9_7F4A_7C15);
        for _ in 0..200 {
            let plen = (next() % 140) as usize;
            let slen = (next() % 140) as usize;
            let rounds = 1 + (next() % 40) as u32;
            let p: Vec<u8> = (0..plen).map(|_| next() as u8).collect();
            let s: Vec<u8> = (0..slen).map(|_| next() as u8).collect();
            let mut want = [0u8; 32];
            pbkdf2::pbkdf2_hmac::<sha2::Sha256>(&p, &s, rounds, &mut want);
            let got = pbkdf2_sha256(&p, &s, rounds, &mut |_| {});
            assert_eq!(
                got.as_bytes(),
                &want,
                "plen={plen} slen={slen} rounds={rounds}"
            );
        }
        // Boundary lengths of the salt (U1 padding spills into a second block at 52+).
        for slen in 50..=70 {
            let s = vec![0x5a; slen];
            let mut want = [0u8; 32];
            pbkdf2::pbkdf2_hmac::<sha2::Sha256>(b"pw", &s, 5, &mut want);
            assert_eq!(
                pbkdf2_sha256(b"pw", &s, 5, &mut |_| {}).as_bytes(),
                &want,
                "slen={slen}"
            );
        }
        // Password of exactly 64 and 65 bytes.
        for plen in [63usize, 64, 65] {
            let p = vec![0xa5; plen];
            let mut want = [0u8; 32];
            pbkdf2::pbkdf2_hmac::<sha2::Sha256>(&p, b"salt", 7, &mut want);
            assert_eq!(
                pbkdf2_sha256(&p, b"salt", 7, &mut |_| {}).as_bytes(),
                &want,
                "plen={plen}"
            );
        }
    }

    #[test]
    fn zero_rounds_is_one_round() {
        assert_eq!(
            sha256_hex(b"password", b"salt", 0),
            sha256_hex(b"password", b"salt", 1)
        );
        assert_eq!(
            pbkdf2_sha1(b"password", b"salt", 0).as_bytes(),
            pbkdf2_sha1(b"password", b"salt", 1).as_bytes()
        );
    }

    #[test]
    fn progress_is_reported_sparsely_and_ends_at_total() {
        let mut calls = Vec::new();
        let _ = pbkdf2_sha256(b"p", b"s", 250_001, &mut |n| calls.push(n));
        assert_eq!(calls, vec![100_001, 200_001, 250_001]);
        let mut calls = Vec::new();
        let _ = pbkdf2_sha256(b"p", b"s", 1, &mut |n| calls.push(n));
        assert_eq!(calls, vec![1]);
    }

    #[test]
    fn pbkdf2_sha1_equals_crate_on_random_inputs() {
        let mut next = xorshift(0x0123_4567_89AB_CDEF);
        for _ in 0..200 {
            let plen = (next() % 140) as usize;
            let slen = (next() % 140) as usize;
            let rounds = (next() % 40) as u32;
            let p: Vec<u8> = (0..plen).map(|_| next() as u8).collect();
            let s: Vec<u8> = (0..slen).map(|_| next() as u8).collect();
            let mut want = [0u8; 32];
            pbkdf2::pbkdf2_hmac::<sha1::Sha1>(&p, &s, rounds.max(1), &mut want);
            assert_eq!(
                pbkdf2_sha1(&p, &s, rounds).as_bytes(),
                &want,
                "plen={plen} slen={slen} rounds={rounds}"
            );
        }
        for slen in 50..=70 {
            let s = vec![0x5a; slen];
            let mut want = [0u8; 32];
            pbkdf2::pbkdf2_hmac::<sha1::Sha1>(b"pw", &s, 5, &mut want);
            assert_eq!(pbkdf2_sha1(b"pw", &s, 5).as_bytes(), &want, "slen={slen}");
        }
        for plen in [63usize, 64, 65] {
            let p = vec![0xa5; plen];
            let mut want = [0u8; 32];
            pbkdf2::pbkdf2_hmac::<sha1::Sha1>(&p, b"salt", 7, &mut want);
            assert_eq!(pbkdf2_sha1(&p, b"salt", 7).as_bytes(), &want, "plen={plen}");
        }
    }

    #[test]
    fn sha1_progress_is_sparse_and_counts_both_blocks() {
        let mut calls = Vec::new();
        let _ = pbkdf2_sha1_with_progress(b"p", b"s", 150_000, &mut |n| calls.push(n));
        assert_eq!(calls, vec![100_001, 150_000, 250_001, 300_000]);
        let mut calls = Vec::new();
        let _ = pbkdf2_sha1_with_progress(b"p", b"s", 0, &mut |n| calls.push(n));
        assert_eq!(calls, vec![1, 2]);
    }

    /// Every report of one derivation: never backwards, one scale, ending at the total.
    fn derive_reports(params: &KdfParams) -> Vec<DeriveProgress> {
        let pw = Password::new(b"hunter2".to_vec());
        let mut seen = Vec::new();
        let _ = derive_kek(&pw, params, &mut |p| seen.push(p));
        assert!(!seen.is_empty());
        for w in seen.windows(2) {
            assert!(w[0].done <= w[1].done, "backwards: {w:?}");
            assert!(w[0].stage_number <= w[1].stage_number, "stage back: {w:?}");
        }
        assert!(seen
            .iter()
            .all(|p| p.total == params.work() && p.done <= p.total));
        assert_eq!(seen.last().map(|p| p.done), Some(params.work()));
        seen
    }

    #[test]
    fn derive_progress_is_one_monotonic_scale_over_both_stages() {
        let two = KdfParams {
            dpsl: Some(b"dpsl".to_vec()),
            dpic: Some(250_001),
            salt: b"salt".to_vec(),
            iter: 3,
        };
        assert_eq!(two.work(), 250_001 + 6);
        let seen = derive_reports(&two);
        let labels: Vec<String> = seen.iter().map(|p| p.label()).collect();
        assert_eq!(
            labels.first().map(String::as_str),
            Some("stage 1/2 SHA-256")
        );
        assert_eq!(labels.last().map(String::as_str), Some("stage 2/2 SHA-1"));
        let dones: Vec<u64> = seen.iter().map(|p| p.done).collect();
        assert_eq!(
            dones,
            vec![0, 100_001, 200_001, 250_001, 250_001, 250_004, 250_007]
        );
        // Sparse: a handful of calls for a quarter-million rounds.
        assert!(seen.len() < 10);

        let legacy = KdfParams {
            dpsl: None,
            dpic: None,
            salt: b"salt".to_vec(),
            iter: 120_000,
        };
        assert_eq!(legacy.work(), 240_000);
        let seen = derive_reports(&legacy);
        assert!(seen.iter().all(|p| p.stages == 1 && p.label() == "SHA-1"));
        let dones: Vec<u64> = seen.iter().map(|p| p.done).collect();
        assert_eq!(dones, vec![0, 100_001, 120_000, 220_001, 240_000]);
        // Zero counts are one round, as the derivation treats them.
        let zero = KdfParams {
            dpsl: Some(b"d".to_vec()),
            dpic: Some(0),
            salt: b"s".to_vec(),
            iter: 0,
        };
        assert_eq!(zero.work(), 3);
        derive_reports(&zero);
    }

    #[test]
    fn scheme_follows_keybag_content() {
        let mut p = KdfParams {
            dpsl: Some(vec![1; 20]),
            dpic: Some(10),
            salt: vec![2; 20],
            iter: 1,
        };
        assert_eq!(p.scheme(), KdfScheme::TwoStage);
        p.dpic = None;
        assert_eq!(p.scheme(), KdfScheme::LegacySha1);
        p.dpic = Some(10);
        p.dpsl = None;
        assert_eq!(p.scheme(), KdfScheme::LegacySha1);
    }

    #[test]
    fn derive_kek_two_stage_is_sha256_then_sha1() {
        let params = KdfParams {
            dpsl: Some(b"dpsl-salt".to_vec()),
            dpic: Some(33),
            salt: b"sha1-salt".to_vec(),
            iter: 7,
        };
        let pw = Password::new(b"hunter2".to_vec());
        let mut t = [0u8; 32];
        pbkdf2::pbkdf2_hmac::<sha2::Sha256>(b"hunter2", b"dpsl-salt", 33, &mut t);
        let mut want = [0u8; 32];
        pbkdf2::pbkdf2_hmac::<sha1::Sha1>(&t, b"sha1-salt", 7, &mut want);
        assert_eq!(derive_kek(&pw, &params, &mut |_| {}).as_bytes(), &want);
        let legacy = KdfParams {
            dpsl: None,
            dpic: None,
            ..params
        };
        pbkdf2::pbkdf2_hmac::<sha1::Sha1>(b"hunter2", b"sha1-salt", 7, &mut want);
        assert_eq!(derive_kek(&pw, &legacy, &mut |_| {}).as_bytes(), &want);
    }

    #[test]
    fn derive_kek_conformance_small_encrypted() {
        let path = Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../shared/conformance/small-encrypted/EXPECTED.json");
        let Ok(text) = std::fs::read_to_string(&path) else {
            eprintln!("skipped: {} not found", path.display());
            return;
        };
        let e: serde_json::Value = serde_json::from_str(&text).unwrap();
        let kdf = &e["kdf"];
        let params = KdfParams {
            dpsl: Some(hex::decode(kdf["dpsl_hex"].as_str().unwrap()).unwrap()),
            dpic: Some(kdf["dpic"].as_u64().unwrap() as u32),
            salt: hex::decode(kdf["salt_hex"].as_str().unwrap()).unwrap(),
            iter: kdf["iter"].as_u64().unwrap() as u32,
        };
        assert_eq!(params.dpic, Some(1000));
        let pw = Password::from_string(e["password"].as_str().unwrap().to_string());
        let kek = derive_kek(&pw, &params, &mut |_| {});
        assert_eq!(&*kek.to_hex(), kdf["passcode_key_hex"].as_str().unwrap());
    }
}
