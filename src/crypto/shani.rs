//! PBKDF2-HMAC-SHA256 iterations on the x86 SHA extensions, with the chaining kept in registers.
//!
//! The portable path ([`super::kdf`]) calls `sha2`'s compression function twice per
//! iteration and must turn each 32-byte digest into the next message block in memory: a
//! store, a reload and a byte swap on the critical path of a 20,000,000-step serial chain.
//! Here the digest never leaves the registers: the state words *are* the next message
//! words (SHA-256 digests are big-endian words and message blocks are read as big-endian
//! words), so a lane shuffle replaces the round trip. The rounds themselves are the Intel
//! SHA extensions' `sha256rnds2`/`sha256msg1`/`sha256msg2`, as `sha2` uses them; the result
//! is checked against the `pbkdf2` crate and the portable path by the tests of
//! [`super::kdf`].

#[cfg(target_arch = "x86")]
use core::arch::x86::*;
#[cfg(target_arch = "x86_64")]
use core::arch::x86_64::*;

/// SHA-256 round constants (FIPS 180-4 §4.2.2).
const K: [u32; 64] = [
    0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5,
    0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174,
    0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da,
    0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967,
    0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85,
    0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070,
    0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
    0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2,
];

/// Does this CPU have what [`hmac_rounds`] needs?
pub fn available() -> bool {
    std::arch::is_x86_feature_detected!("sha")
        && std::arch::is_x86_feature_detected!("sse4.1")
        && std::arch::is_x86_feature_detected!("ssse3")
}

/// `n` PBKDF2-HMAC-SHA256 iterations (dkLen 32): `u` holds U_{i-1} as state words on
/// entry and U_{i-1+n} on exit; each U is XORed into `acc`. `inner` and `outer` are the
/// HMAC states after the key block.
///
/// # Safety
/// The CPU must support SHA, SSE4.1 and SSSE3 ([`available`]).
#[target_feature(enable = "sha,sse2,ssse3,sse4.1")]
pub unsafe fn hmac_rounds(
    inner: &[u32; 8],
    outer: &[u32; 8],
    u: &mut [u32; 8],
    acc: &mut [u32; 8],
    n: u32,
) {
    let (i0, i1) = to_abef_cdgh(inner);
    let (o0, o1) = to_abef_cdgh(outer);
    let (mut w0, mut w1) = load_words(u);
    let (mut a0, mut a1) = load_words(acc);
    // Padding of the 32-byte message after the 64-byte key block: 0x80, zeros, 768 bits.
    let pad0 = _mm_set_epi32(0, 0, 0, 0x8000_0000u32 as i32);
    let pad1 = _mm_set_epi32(768, 0, 0, 0);
    for _ in 0..n {
        let (s0, s1) = compress(i0, i1, [w0, w1, pad0, pad1]);
        let (m0, m1) = to_words(s0, s1);
        let (s0, s1) = compress(o0, o1, [m0, m1, pad0, pad1]);
        (w0, w1) = to_words(s0, s1);
        a0 = _mm_xor_si128(a0, w0);
        a1 = _mm_xor_si128(a1, w1);
    }
    store_words(u, w0, w1);
    store_words(acc, a0, a1);
}

/// Words a..d and e..h as two vectors (lane 0 = a, resp. e).
#[inline(always)]
unsafe fn load_words(w: &[u32; 8]) -> (__m128i, __m128i) {
    (
        _mm_loadu_si128(w.as_ptr().cast()),
        _mm_loadu_si128(w.as_ptr().add(4).cast()),
    )
}

#[inline(always)]
unsafe fn store_words(w: &mut [u32; 8], lo: __m128i, hi: __m128i) {
    _mm_storeu_si128(w.as_mut_ptr().cast(), lo);
    _mm_storeu_si128(w.as_mut_ptr().add(4).cast(), hi);
}

/// State words → the `sha256rnds2` layout: lanes [f, e, b, a] and [h, g, d, c].
#[inline(always)]
unsafe fn to_abef_cdgh(state: &[u32; 8]) -> (__m128i, __m128i) {
    let (abcd, efgh) = load_words(state);
    let badc = _mm_shuffle_epi32(abcd, 0xB1);
    let hgfe = _mm_shuffle_epi32(efgh, 0x1B);
    (
        _mm_alignr_epi8(badc, hgfe, 8),
        _mm_blend_epi16(hgfe, badc, 0xF0),
    )
}

/// The `sha256rnds2` layout → state words (a..d, e..h): the digest, and so the next
/// message words.
#[inline(always)]
unsafe fn to_words(s0: __m128i, s1: __m128i) -> (__m128i, __m128i) {
    let abef = _mm_shuffle_epi32(s0, 0x1B);
    let ghcd = _mm_shuffle_epi32(s1, 0xB1);
    (
        _mm_blend_epi16(abef, ghcd, 0xF0),
        _mm_alignr_epi8(ghcd, abef, 8),
    )
}

/// Four rounds with message words `w` (lane 0 first) and constants K[4g..4g+4].
#[inline(always)]
unsafe fn rounds4(s0: &mut __m128i, s1: &mut __m128i, w: __m128i, g: usize) {
    let k = _mm_loadu_si128(K.as_ptr().add(4 * g).cast());
    let t = _mm_add_epi32(w, k);
    *s1 = _mm_sha256rnds2_epu32(*s1, *s0, t);
    let t = _mm_shuffle_epi32(t, 0x0E);
    *s0 = _mm_sha256rnds2_epu32(*s0, *s1, t);
}

/// One compression of the 16 message words `m` (four vectors) from the state (s0, s1)
/// in `sha256rnds2` layout, feed-forward included. Written out in full (no loop, no
/// array) so that everything stays in registers.
#[inline(always)]
unsafe fn compress(s0: __m128i, s1: __m128i, m: [__m128i; 4]) -> (__m128i, __m128i) {
    let (mut x0, mut x1) = (s0, s1);
    let [mut w0, mut w1, mut w2, mut w3] = m;
    // W[t] = σ1(W[t-2]) + W[t-7] + σ0(W[t-15]) + W[t-16], four at a time, from the
    // four previous vectors (oldest first).
    macro_rules! next {
        ($a:ident, $b:ident, $c:ident, $d:ident) => {
            $a = _mm_sha256msg2_epu32(
                _mm_add_epi32(_mm_sha256msg1_epu32($a, $b), _mm_alignr_epi8($d, $c, 4)),
                $d,
            )
        };
    }
    rounds4(&mut x0, &mut x1, w0, 0);
    rounds4(&mut x0, &mut x1, w1, 1);
    rounds4(&mut x0, &mut x1, w2, 2);
    rounds4(&mut x0, &mut x1, w3, 3);
    next!(w0, w1, w2, w3);
    rounds4(&mut x0, &mut x1, w0, 4);
    next!(w1, w2, w3, w0);
    rounds4(&mut x0, &mut x1, w1, 5);
    next!(w2, w3, w0, w1);
    rounds4(&mut x0, &mut x1, w2, 6);
    next!(w3, w0, w1, w2);
    rounds4(&mut x0, &mut x1, w3, 7);
    next!(w0, w1, w2, w3);
    rounds4(&mut x0, &mut x1, w0, 8);
    next!(w1, w2, w3, w0);
    rounds4(&mut x0, &mut x1, w1, 9);
    next!(w2, w3, w0, w1);
    rounds4(&mut x0, &mut x1, w2, 10);
    next!(w3, w0, w1, w2);
    rounds4(&mut x0, &mut x1, w3, 11);
    next!(w0, w1, w2, w3);
    rounds4(&mut x0, &mut x1, w0, 12);
    next!(w1, w2, w3, w0);
    rounds4(&mut x0, &mut x1, w1, 13);
    next!(w2, w3, w0, w1);
    rounds4(&mut x0, &mut x1, w2, 14);
    next!(w3, w0, w1, w2);
    rounds4(&mut x0, &mut x1, w3, 15);
    (_mm_add_epi32(x0, s0), _mm_add_epi32(x1, s1))
}
