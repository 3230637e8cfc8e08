//! `v_Data` blobs (FORMAT §9.3): header, layout by version, decryption and payload decoding.
//!
//! All words are little-endian. The version word's bit 31 is the "default IV" flag.
//! The class word may carry generation bits: SEC masks it with `key_class_last` and marks a
//! rolled key with `class | (key_class_last + 1)`, so `key_class_last` must be an all-ones
//! mask; 0x1F is the value one AKS shim gives (13 would map class 6 to 4). We therefore use
//! `class = raw & 0x1F` ([`CLASS_MASK`]), which maps 6..13 to themselves and agrees with the
//! keybag's `CLAS` masking, so a blob class always finds its keybag class key.

use super::der::{self, DerDict};
use super::export::{check_plist_shape, plist_to_der, ShapeError};
use crate::crypto::{self, CryptoError, Key32};
use std::io::Cursor;
use zeroize::Zeroizing;

/// Mask applied to a blob's class word (see the module documentation).
pub const CLASS_MASK: u32 = 0x1F;
/// Bit 31 of the version word: GCM with the static default IV and AAD.
pub const DEFAULT_IV_FLAG: u32 = 0x8000_0000;
/// RFC 3394 wrap of a 32-byte key.
pub const WRAPPED_KEY_LEN: usize = 40;
/// GCM tag length.
pub const TAG_LEN: usize = 16;

/// What is wrong with a blob's layout (each names the field).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum BlobError {
    #[error("blob of {have} bytes is too short for the {field} (needs {need} bytes)")]
    Truncated {
        field: &'static str,
        need: usize,
        have: usize,
    },
    #[error("wrapped-key length field is {got} (expected 40)")]
    BadKeyLen { got: u32 },
    #[error("ciphertext of {len} bytes is not a non-empty multiple of 16 (AES-CBC)")]
    CbcNotBlockAligned { len: usize },
}

/// Why a blob does not decrypt or its payload does not decode.
#[derive(Debug, thiserror::Error)]
pub enum DecryptError {
    /// RFC 3394 integrity failed: the class key is not the one this item was wrapped with.
    #[error("wrapped item key does not unwrap with the class key (RFC 3394 integrity)")]
    KeyUnwrap,
    /// GCM tag mismatch after a successful unwrap: the blob is corrupt.
    #[error("authentication tag mismatch: the blob is corrupt")]
    AuthenticationFailed,
    /// CBC padding invalid after a successful unwrap (v0/v1 have no tag): corrupt.
    #[error("bad PKCS#7 padding after decryption: the blob is corrupt")]
    BadPadding,
    /// The crypto layer refused an input (length).
    #[error("crypto: {0}")]
    Crypto(CryptoError),
    /// Decrypted, but the plaintext is not the expected dictionary.
    #[error("decrypted payload is malformed: {0}")]
    Payload(String),
    /// This layout cannot be decrypted off-device.
    #[error("blob layout cannot be decrypted here")]
    NotDecryptable,
}

/// The clear header fields (readable without any key).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct BlobHeader {
    /// Version word as stored.
    pub version_raw: Option<u32>,
    /// `version_raw & 0x7FFFFFFF`.
    pub version: Option<u32>,
    /// Bit 31 of the version word.
    pub default_iv: bool,
    /// Class word as stored (v0–v3).
    pub class_raw: Option<u32>,
    /// Protection class: `class_raw & CLASS_MASK`, or from the `prot` of a v4–6 access control.
    pub class: Option<u32>,
}

/// The body of a blob by layout.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BlobBody<'a> {
    /// v0/v1: AES-256-CBC, zero IV, PKCS#7; plaintext = the secret.
    Cbc {
        wrapped_key: &'a [u8],
        ciphertext: &'a [u8],
    },
    /// v2/v3: AES-256-GCM (empty IV, or default IV + `aad` when the flag is set).
    Gcm {
        wrapped_key: &'a [u8],
        ct_and_tag: &'a [u8],
        aad: &'a [u8],
    },
    /// v4–6: access-control items; the key blob is an AKS ref-key (device-bound).
    AccessControl {
        /// `prot` of the access-control DER when it decoded (a pdmn code).
        protection: Option<String>,
        /// Why the access-control DER did not give a protection, if it did not.
        protection_problem: Option<String>,
        key_blob_len: usize,
        ct_and_tag_len: usize,
    },
    /// v7, v8 (on-device protobuf formats) and unknown versions.
    Unsupported { version: u32 },
}

/// Header plus the body or the reason the body is malformed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParsedBlob<'a> {
    pub header: BlobHeader,
    pub body: Result<BlobBody<'a>, BlobError>,
}

fn u32_at(b: &[u8], at: usize, field: &'static str) -> Result<u32, BlobError> {
    let s = b.get(at..at + 4).ok_or(BlobError::Truncated {
        field,
        need: at + 4,
        have: b.len(),
    })?;
    Ok(u32::from_le_bytes([s[0], s[1], s[2], s[3]]))
}

fn slice<'a>(
    b: &'a [u8],
    at: usize,
    len: usize,
    field: &'static str,
) -> Result<&'a [u8], BlobError> {
    let end = at.checked_add(len).ok_or(BlobError::Truncated {
        field,
        need: usize::MAX,
        have: b.len(),
    })?;
    b.get(at..end).ok_or(BlobError::Truncated {
        field,
        need: end,
        have: b.len(),
    })
}

/// Parse the layout of a `v_Data` blob. Never fails as a whole: the header fields that could
/// be read are always returned.
pub fn parse(b: &[u8]) -> ParsedBlob<'_> {
    let mut header = BlobHeader::default();
    let version_raw = match u32_at(b, 0, "version word") {
        Ok(v) => v,
        Err(e) => {
            return ParsedBlob {
                header,
                body: Err(e),
            }
        }
    };
    let version = version_raw & !DEFAULT_IV_FLAG;
    header.version_raw = Some(version_raw);
    header.version = Some(version);
    header.default_iv = version_raw & DEFAULT_IV_FLAG != 0;
    if version <= 3 {
        match u32_at(b, 4, "class word") {
            Ok(c) => {
                header.class_raw = Some(c);
                header.class = Some(c & CLASS_MASK);
            }
            Err(e) => {
                return ParsedBlob {
                    header,
                    body: Err(e),
                }
            }
        }
    }
    let body = match version {
        0 => parse_v0(b),
        1..=3 => parse_v1_3(b, version),
        4..=6 => parse_acl(b, &mut header),
        v => Ok(BlobBody::Unsupported { version: v }),
    };
    ParsedBlob { header, body }
}

fn cbc_body<'a>(wrapped_key: &'a [u8], ciphertext: &'a [u8]) -> Result<BlobBody<'a>, BlobError> {
    if ciphertext.is_empty() || ciphertext.len() % 16 != 0 {
        return Err(BlobError::CbcNotBlockAligned {
            len: ciphertext.len(),
        });
    }
    Ok(BlobBody::Cbc {
        wrapped_key,
        ciphertext,
    })
}

fn parse_v0(b: &[u8]) -> Result<BlobBody<'_>, BlobError> {
    let wrapped_key = slice(b, 8, WRAPPED_KEY_LEN, "wrapped key")?;
    cbc_body(wrapped_key, &b[8 + WRAPPED_KEY_LEN..])
}

fn parse_v1_3(b: &[u8], version: u32) -> Result<BlobBody<'_>, BlobError> {
    let key_len = u32_at(b, 8, "wrapped-key length")?;
    if key_len as usize != WRAPPED_KEY_LEN {
        return Err(BlobError::BadKeyLen { got: key_len });
    }
    let wrapped_key = slice(b, 12, WRAPPED_KEY_LEN, "wrapped key")?;
    let rest = &b[12 + WRAPPED_KEY_LEN..];
    if version == 1 {
        return cbc_body(wrapped_key, rest);
    }
    if rest.len() < TAG_LEN {
        return Err(BlobError::Truncated {
            field: "authentication tag",
            need: 12 + WRAPPED_KEY_LEN + TAG_LEN,
            have: b.len(),
        });
    }
    Ok(BlobBody::Gcm {
        wrapped_key,
        ct_and_tag: rest,
        aad: &b[..12],
    })
}

fn parse_acl<'a>(b: &'a [u8], header: &mut BlobHeader) -> Result<BlobBody<'a>, BlobError> {
    let prot_len = u32_at(b, 4, "access-control length")? as usize;
    let prot = slice(b, 8, prot_len, "access-control DER")?;
    let key_len_at = 8 + prot_len;
    let key_len = u32_at(b, key_len_at, "key-blob length")? as usize;
    let key_blob = slice(b, key_len_at + 4, key_len, "key blob")?;
    let rest = &b[key_len_at + 4 + key_blob.len()..];
    if rest.len() < TAG_LEN {
        return Err(BlobError::Truncated {
            field: "authentication tag",
            need: key_len_at + 4 + key_len + TAG_LEN,
            have: b.len(),
        });
    }
    let (protection, protection_problem) = match der::decode_dict(prot) {
        Ok(d) => match d.get_str("prot") {
            Some(p) => (Some(p), None),
            None => (
                None,
                Some("access-control DER has no \"prot\" string".to_owned()),
            ),
        },
        Err(e) => (None, Some(format!("access-control {e}"))),
    };
    header.class = protection
        .as_deref()
        .and_then(crate::crypto::ProtectionClass::from_pdmn)
        .map(crate::crypto::ProtectionClass::number);
    Ok(BlobBody::AccessControl {
        protection,
        protection_problem,
        key_blob_len: key_len,
        ct_and_tag_len: rest.len(),
    })
}

/// A decrypted blob's content.
pub enum Payload {
    /// v2/v3: the attribute dictionary (with the secret under `v_Data`); zeroized on drop.
    Attributes(Zeroizing<DerDict>),
    /// v0/v1: the secret itself.
    RawSecret(Zeroizing<Vec<u8>>),
}

impl std::fmt::Debug for Payload {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Payload::Attributes(d) => write!(f, "Attributes({} keys)", d.len()),
            Payload::RawSecret(s) => write!(f, "RawSecret(<{} bytes>)", s.len()),
        }
    }
}

/// Unwrap the item key with `class_key` and decrypt the body; decode the payload (DER dict
/// for v3, plist dict for v2, raw secret for v0/v1).
pub fn decrypt(
    header: &BlobHeader,
    body: &BlobBody<'_>,
    class_key: &Key32,
) -> Result<Payload, DecryptError> {
    let unwrap = |wrapped: &[u8]| {
        crypto::wrap::unwrap32(class_key, wrapped).map_err(|e| match e {
            CryptoError::UnwrapIntegrity => DecryptError::KeyUnwrap,
            other => DecryptError::Crypto(other),
        })
    };
    match body {
        BlobBody::Cbc {
            wrapped_key,
            ciphertext,
        } => {
            let key = unwrap(wrapped_key)?;
            let plain = crypto::cbc::decrypt(&key, ciphertext).map_err(|e| match e {
                CryptoError::BadPadding => DecryptError::BadPadding,
                other => DecryptError::Crypto(other),
            })?;
            Ok(Payload::RawSecret(Zeroizing::new(plain)))
        }
        BlobBody::Gcm {
            wrapped_key,
            ct_and_tag,
            aad,
        } => {
            let key = unwrap(wrapped_key)?;
            let opened = if header.default_iv {
                crypto::gcm::open_default_iv(&key, aad, ct_and_tag)
            } else {
                crypto::gcm::open_empty_iv(&key, ct_and_tag)
            };
            let plain = opened.map_err(|e| match e {
                CryptoError::BadTag => DecryptError::AuthenticationFailed,
                other => DecryptError::Crypto(other),
            })?;
            let dict = if header.version == Some(2) {
                plist_payload(&plain)?
            } else {
                der::decode_dict(&plain).map_err(|e| DecryptError::Payload(e.to_string()))?
            };
            Ok(Payload::Attributes(Zeroizing::new(dict)))
        }
        BlobBody::AccessControl { .. } | BlobBody::Unsupported { .. } => {
            Err(DecryptError::NotDecryptable)
        }
    }
}

/// v2 plaintext: a (binary, in practice) plist dictionary.
fn plist_payload(plain: &[u8]) -> Result<DerDict, DecryptError> {
    check_plist_shape(plain).map_err(|e| match e {
        ShapeError::Parse(m) | ShapeError::Refused(m) => {
            DecryptError::Payload(format!("v2 plist: {m}"))
        }
    })?;
    let v = plist::Value::from_reader(Cursor::new(plain))
        .map_err(|e| DecryptError::Payload(format!("v2 plist: {e}")))?;
    match plist_to_der(&v, 0) {
        Some(der::DerValue::Dict(d)) => Ok(d),
        Some(_) => Err(DecryptError::Payload(format!(
            "v2 plist is {}, not a dictionary",
            super::export::plist_kind(&v)
        ))),
        None => Err(DecryptError::Payload(
            "v2 plist is nested too deeply".into(),
        )),
    }
}

/// Build a version-3 blob (empty IV, no AAD), as securityd exports to a backup: the item's
/// attributes (with the secret under `v_Data`) DER-encoded, sealed with `item_key`, and
/// `item_key` RFC 3394-wrapped under `class_key`. For the fixture writer and tests.
pub fn seal_v3(class: u32, class_key: &Key32, item_key: &Key32, attributes: &DerDict) -> Vec<u8> {
    let plain = Zeroizing::new(der::encode_dict(attributes));
    let mut out = Vec::new();
    out.extend_from_slice(&3u32.to_le_bytes());
    out.extend_from_slice(&class.to_le_bytes());
    out.extend_from_slice(&(WRAPPED_KEY_LEN as u32).to_le_bytes());
    out.extend_from_slice(&crypto::wrap::wrap32(class_key, item_key));
    out.extend_from_slice(&crypto::gcm::seal_empty_iv(item_key, &plain));
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn le(words: &[u32]) -> Vec<u8> {
        words.iter().flat_map(|w| w.to_le_bytes()).collect()
    }

    #[test]
    fn v3_layout() {
        let mut b = le(&[3, 7, 40]);
        b.extend_from_slice(&[0xAA; 40]);
        b.extend_from_slice(&[0xBB; 20]); // 4 bytes ct + 16 tag
        let p = parse(&b);
        assert_eq!(
            p.header,
            BlobHeader {
                version_raw: Some(3),
                version: Some(3),
                default_iv: false,
                class_raw: Some(7),
                class: Some(7)
            }
        );
        match p.body.unwrap() {
            BlobBody::Gcm {
                wrapped_key,
                ct_and_tag,
                aad,
            } => {
                assert_eq!(wrapped_key, &[0xAA; 40][..]);
                assert_eq!(ct_and_tag.len(), 20);
                assert_eq!(aad, &b[..12]);
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn class_and_flag_masking() {
        let mut b = le(&[0x8000_0003, 0x20 | 10, 40]);
        b.extend_from_slice(&[0; 56]);
        let p = parse(&b);
        assert_eq!(p.header.version, Some(3));
        assert!(p.header.default_iv);
        assert_eq!(p.header.class_raw, Some(0x2A));
        assert_eq!(p.header.class, Some(10));
    }

    #[test]
    fn v0_and_v1_layouts() {
        let mut b = le(&[0, 6]);
        b.extend_from_slice(&[1; 40]);
        b.extend_from_slice(&[2; 32]);
        match parse(&b).body.unwrap() {
            BlobBody::Cbc {
                wrapped_key,
                ciphertext,
            } => assert_eq!((wrapped_key.len(), ciphertext.len()), (40, 32)),
            other => panic!("{other:?}"),
        }
        let mut b = le(&[1, 8, 40]);
        b.extend_from_slice(&[1; 40]);
        b.extend_from_slice(&[2; 16]);
        assert!(matches!(parse(&b).body, Ok(BlobBody::Cbc { .. })));
        b.push(0);
        assert_eq!(
            parse(&b).body,
            Err(BlobError::CbcNotBlockAligned { len: 17 })
        );
        let mut b = le(&[1, 8, 40]);
        b.extend_from_slice(&[1; 40]);
        assert_eq!(
            parse(&b).body,
            Err(BlobError::CbcNotBlockAligned { len: 0 })
        );
    }

    #[test]
    fn malformed_layouts_name_the_field() {
        assert_eq!(
            parse(&[]).body,
            Err(BlobError::Truncated {
                field: "version word",
                need: 4,
                have: 0
            })
        );
        assert_eq!(parse(&[3, 0, 0]).header.version, None);
        let b3 = le(&[3]);
        let p = parse(&b3);
        assert_eq!(p.header.version, Some(3));
        assert_eq!(p.header.class, None);
        assert_eq!(
            p.body,
            Err(BlobError::Truncated {
                field: "class word",
                need: 8,
                have: 4
            })
        );
        let b36 = le(&[3, 6]);
        let p = parse(&b36);
        assert_eq!(p.header.class, Some(6));
        assert_eq!(
            p.body,
            Err(BlobError::Truncated {
                field: "wrapped-key length",
                need: 12,
                have: 8
            })
        );
        let mut b = le(&[3, 6, 72]);
        b.extend_from_slice(&[0; 100]);
        assert_eq!(parse(&b).body, Err(BlobError::BadKeyLen { got: 72 }));
        let mut b = le(&[3, 6, 40]);
        b.extend_from_slice(&[0; 30]);
        assert_eq!(
            parse(&b).body,
            Err(BlobError::Truncated {
                field: "wrapped key",
                need: 52,
                have: 42
            })
        );
        let mut b = le(&[3, 6, 40]);
        b.extend_from_slice(&[0; 55]);
        assert_eq!(
            parse(&b).body,
            Err(BlobError::Truncated {
                field: "authentication tag",
                need: 68,
                have: 67
            })
        );
        let mut b = le(&[0, 6]);
        b.extend_from_slice(&[0; 39]);
        assert_eq!(
            parse(&b).body,
            Err(BlobError::Truncated {
                field: "wrapped key",
                need: 48,
                have: 47
            })
        );
    }

    #[test]
    fn access_control_layout() {
        // prot DER: { "prot": "cku" }
        let mut prot = DerDict::new();
        prot.insert("prot", der::DerValue::String("cku".into()));
        let prot = der::encode_dict(&prot);
        let mut b = le(&[6, prot.len() as u32]);
        b.extend_from_slice(&prot);
        b.extend_from_slice(&le(&[5]));
        b.extend_from_slice(&[9; 5]);
        b.extend_from_slice(&[7; 30]);
        let p = parse(&b);
        assert_eq!(p.header.version, Some(6));
        assert_eq!(p.header.class, Some(10));
        assert_eq!(
            p.body,
            Ok(BlobBody::AccessControl {
                protection: Some("cku".into()),
                protection_problem: None,
                key_blob_len: 5,
                ct_and_tag_len: 30
            })
        );
        // Garbage access control: class unknown, reason kept.
        let mut b = le(&[4, 2, 0xFFFF]);
        b.truncate(10);
        b.extend_from_slice(&le(&[0]));
        b.extend_from_slice(&[0; 16]);
        match parse(&b).body.unwrap() {
            BlobBody::AccessControl {
                protection: None,
                protection_problem: Some(p),
                ..
            } => {
                assert!(p.contains("DER"), "{p}")
            }
            other => panic!("{other:?}"),
        }
        // Huge protection length.
        let b = le(&[5, 0xFFFF_FFF0, 0]);
        assert_eq!(
            parse(&b).body,
            Err(BlobError::Truncated {
                field: "access-control DER",
                need: 8 + 0xFFFF_FFF0,
                have: 12
            })
        );
        // Huge key-blob length.
        let b = le(&[5, 0, 0xFFFF_FFFF]);
        assert!(matches!(
            parse(&b).body,
            Err(BlobError::Truncated {
                field: "key blob",
                ..
            })
        ));
    }

    #[test]
    fn unsupported_versions() {
        for v in [7u32, 8, 9, 0x1234] {
            let b = le(&[v, 0, 0]);
            let p = parse(&b);
            assert_eq!(p.body, Ok(BlobBody::Unsupported { version: v }));
            assert_eq!(p.header.class, None);
        }
    }
}
