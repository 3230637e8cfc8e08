//! Private keys and PKCS#12 files in binary DER, found by their structure and confirmed by a parse.
//!
//! [`find`] walks raw bytes (a binary file, a SQLite blob, a plist `data` value, a base64
//! value decoded) for DER `SEQUENCE`s whose first element is the small version `INTEGER`
//! these formats start with, and keeps those that parse in full as one of:
//!
//! - PKCS#8 `PrivateKeyInfo` / `OneAsymmetricKey` (RFC 5208, 5958) with an RSA, RSASSA-PSS,
//!   EC, Ed25519, Ed448, X25519, X448 or DSA algorithm, whose key parses as that algorithm's
//!   key (an RSA key as PKCS#1, an EC key as SEC 1, an Edwards/Montgomery key as an
//!   `OCTET STRING` of the curve's size);
//! - PKCS#1 `RSAPrivateKey` (RFC 8017): nine `INTEGER`s, a modulus of 512 bits or more;
//! - SEC 1 `ECPrivateKey` (RFC 5915): version 1, a private key of a curve's size, and a
//!   named curve that is known or a public key;
//! - PKCS#12 `PFX` (RFC 7292): version 3, `authSafe` a pkcs7-data `ContentInfo` whose octets
//!   are a `SEQUENCE` of `ContentInfo`s (data, encrypted or enveloped), optional `MacData`.
//!
//! Parsing uses the RustCrypto `der`, `pkcs8`, `pkcs1` and `sec1` crates (DER only: a BER
//! indefinite length is not accepted). Every length is checked; work per buffer is bounded.

use der::asn1::{AnyRef, ObjectIdentifier};
use der::{Decode, Reader, Tag, Tagged};
use serde::Deserialize;
use std::ops::Range;

/// What a `der` leak rule finds (`der = "private_key"` or `der = "pkcs12"` in rules.toml).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DerKind {
    /// PKCS#8, PKCS#1 or SEC 1 private key.
    PrivateKey,
    /// A PKCS#12 / PFX file (keys and certificates, usually password-protected).
    Pkcs12,
}

/// A structure recognised, with what it is in words (for the leak's note).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Structure {
    pub kind: DerKind,
    pub what: &'static str,
}

/// Largest structure considered (a PKCS#12 file with a certificate chain fits easily).
pub const MAX_LEN: usize = 1 << 20;
/// Smallest: an Ed25519 PKCS#8 key is 48 bytes.
pub const MIN_LEN: usize = 40;
/// Candidates parsed per buffer at most (a bound on hostile input made of near misses).
pub const MAX_CANDIDATES: usize = 100_000;

const RSA: &str = "1.2.840.113549.1.1.1";
const RSA_PSS: &str = "1.2.840.113549.1.1.10";
const EC: &str = "1.2.840.10045.2.1";
const DSA: &str = "1.2.840.10040.4.1";
const X25519: &str = "1.3.101.110";
const X448: &str = "1.3.101.111";
const ED25519: &str = "1.3.101.112";
const ED448: &str = "1.3.101.113";
const PKCS7_DATA: &str = "1.2.840.113549.1.7.1";
const PKCS7_ENVELOPED: &str = "1.2.840.113549.1.7.3";
const PKCS7_ENCRYPTED: &str = "1.2.840.113549.1.7.6";
/// Named curves of SEC 1 keys: P-256, P-384, P-521, secp256k1, P-224, brainpool P256/384/512.
const CURVES: &[&str] = &[
    "1.2.840.10045.3.1.7",
    "1.3.132.0.34",
    "1.3.132.0.35",
    "1.3.132.0.10",
    "1.3.132.0.33",
    "1.3.36.3.3.2.8.1.1.7",
    "1.3.36.3.3.2.8.1.1.11",
    "1.3.36.3.3.2.8.1.1.13",
];

/// The total length of the DER `SEQUENCE` at the start of `b` whose first element is a
/// one-byte `INTEGER` 0, 1 or 3 (the versions of the formats above): the cheap filter that
/// rejects nearly every position before any parse.
fn candidate_len(b: &[u8]) -> Option<usize> {
    if b.len() < MIN_LEN || b[0] != 0x30 {
        return None;
    }
    let (len, hdr) = match b[1] {
        n @ 0..=0x7f => (usize::from(n), 2),
        0x81 => (usize::from(b[2]), 3),
        0x82 => (usize::from(b[2]) << 8 | usize::from(b[3]), 4),
        0x83 => (
            usize::from(b[2]) << 16 | usize::from(b[3]) << 8 | usize::from(b[4]),
            5,
        ),
        _ => return None,
    };
    let total = hdr + len;
    let version = b.get(hdr..hdr + 3)?;
    let ok = version[0] == 0x02 && version[1] == 0x01 && matches!(version[2], 0 | 1 | 3);
    (ok && (MIN_LEN..=MAX_LEN).contains(&total) && total <= b.len()).then_some(total)
}

/// What `b`, exactly one DER structure, is (`None` when it is none of the formats).
pub fn classify(b: &[u8]) -> Option<Structure> {
    if candidate_len(b)? != b.len() {
        return None;
    }
    let (kind, what) = if pfx(b) {
        (DerKind::Pkcs12, "PKCS#12 (PFX)")
    } else if let Some(what) = pkcs8(b) {
        (DerKind::PrivateKey, what)
    } else if pkcs1(b) {
        (DerKind::PrivateKey, "PKCS#1 RSA private key")
    } else if sec1(b) {
        (DerKind::PrivateKey, "SEC 1 EC private key")
    } else {
        return None;
    };
    Some(Structure { kind, what })
}

/// Every structure in `b` that [`classify`] recognises, in order, none inside another.
pub fn find(b: &[u8]) -> Vec<(Range<usize>, Structure)> {
    let mut out = Vec::new();
    let (mut i, mut tried) = (0, 0);
    while let Some(p) = memchr::memchr(0x30, &b[i..]) {
        let start = i + p;
        i = start + 1;
        let Some(len) = candidate_len(&b[start..]) else {
            continue;
        };
        tried += 1;
        if tried > MAX_CANDIDATES {
            break;
        }
        if let Some(s) = classify(&b[start..start + len]) {
            out.push((start..start + len, s));
            i = start + len;
        }
    }
    out
}

fn oid_is(oid: &ObjectIdentifier, s: &str) -> bool {
    ObjectIdentifier::new(s).is_ok_and(|o| &o == oid)
}

/// PKCS#8: the algorithm is a known key algorithm and the key parses as its key.
fn pkcs8(b: &[u8]) -> Option<&'static str> {
    let info = pkcs8::PrivateKeyInfoRef::from_der(b).ok()?;
    let oid = info.algorithm.oid;
    let key = info.private_key.as_bytes();
    let octets = |n: usize| {
        AnyRef::from_der(key).is_ok_and(|a| a.tag() == Tag::OctetString && a.value().len() == n)
    };
    if oid_is(&oid, RSA) || oid_is(&oid, RSA_PSS) {
        pkcs1(key).then_some("PKCS#8 RSA private key")
    } else if oid_is(&oid, EC) {
        // The curve may be in the algorithm's parameters rather than the key.
        let k = sec1::EcPrivateKey::from_der(key).ok()?;
        (16..=66)
            .contains(&k.private_key.len())
            .then_some("PKCS#8 EC private key")
    } else if oid_is(&oid, ED25519) {
        octets(32).then_some("PKCS#8 Ed25519 private key")
    } else if oid_is(&oid, X25519) {
        octets(32).then_some("PKCS#8 X25519 private key")
    } else if oid_is(&oid, ED448) {
        octets(57).then_some("PKCS#8 Ed448 private key")
    } else if oid_is(&oid, X448) {
        octets(56).then_some("PKCS#8 X448 private key")
    } else if oid_is(&oid, DSA) {
        AnyRef::from_der(key)
            .is_ok_and(|a| a.tag() == Tag::Integer && a.value().len() >= 20)
            .then_some("PKCS#8 DSA private key")
    } else {
        None
    }
}

/// PKCS#1 `RSAPrivateKey` with a modulus of at least 512 bits and primes about half its size.
fn pkcs1(b: &[u8]) -> bool {
    let Ok(k) = pkcs1::RsaPrivateKeyRef::from_der(b) else {
        return false;
    };
    let n = k.modulus.as_bytes().len();
    let p = k.prime1.as_bytes().len();
    n >= 64 && k.public_exponent.as_bytes().len() <= 8 && p * 2 + 2 >= n && p * 2 <= n + 2
}

/// SEC 1 `ECPrivateKey`: a private key of a curve's size, and a known named curve or a
/// public key (a bare `SEQUENCE { 1, OCTET STRING }` is too plain to be sure of).
fn sec1(b: &[u8]) -> bool {
    let Ok(k) = sec1::EcPrivateKey::from_der(b) else {
        return false;
    };
    let curve = k
        .parameters
        .and_then(|p| p.named_curve())
        .is_some_and(|oid| CURVES.iter().any(|c| oid_is(&oid, c)));
    (20..=66).contains(&k.private_key.len())
        && (curve || k.public_key.is_some_and(|p| p.len() > 20))
}

/// PKCS#12 `PFX`: version 3, a pkcs7-data `authSafe` holding a `SEQUENCE` of `ContentInfo`s,
/// optional `MacData`, nothing else.
fn pfx(b: &[u8]) -> bool {
    let parse = || -> der::Result<bool> {
        AnyRef::from_der(b)?.sequence(|r| {
            if r.decode::<u8>()? != 3 {
                return Ok(false);
            }
            let auth_safe: AnyRef<'_> = r.decode()?;
            let octets = auth_safe.sequence(|c| {
                let oid: ObjectIdentifier = c.decode()?;
                let explicit: AnyRef<'_> = c.decode()?;
                let inner = AnyRef::from_der(explicit.value())?;
                let ctx0 = explicit.tag()
                    == Tag::ContextSpecific {
                        constructed: true,
                        number: der::TagNumber(0),
                    };
                Ok::<_, der::Error>(
                    (oid_is(&oid, PKCS7_DATA) && ctx0 && inner.tag() == Tag::OctetString)
                        .then_some(inner.value()),
                )
            })?;
            let Some(octets) = octets else {
                return Ok(false);
            };
            // AuthenticatedSafe ::= SEQUENCE OF ContentInfo
            let safe_ok = AnyRef::from_der(octets)?.sequence(|s| {
                let mut n = 0;
                let mut ok = true;
                while !s.is_finished() {
                    let ci: AnyRef<'_> = s.decode()?;
                    let oid: ObjectIdentifier = ci.sequence(|c| {
                        let oid = c.decode()?;
                        while !c.is_finished() {
                            c.decode::<AnyRef<'_>>()?;
                        }
                        Ok::<_, der::Error>(oid)
                    })?;
                    ok &= [PKCS7_DATA, PKCS7_ENCRYPTED, PKCS7_ENVELOPED]
                        .iter()
                        .any(|o| oid_is(&oid, o));
                    n += 1;
                }
                Ok::<_, der::Error>(ok && n > 0)
            })?;
            if !r.is_finished() {
                let mac: AnyRef<'_> = r.decode()?;
                if mac.tag() != Tag::Sequence {
                    return Ok(false);
                }
            }
            Ok(safe_ok)
        })
    };
    parse().unwrap_or(false)
}

#[cfg(test)]
mod tests;
