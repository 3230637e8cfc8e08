//! Base64 and hex values that hide a plist, JSON, a JWT or a DER key: decoded once (never again).
//!
//! A value is decoded only when it is long enough to hold structure (base64 ≥ 24
//! characters, hex ≥ 32 digits and of even length), decodes cleanly as a whole, and the
//! bytes are a plist, a JSON object or array, a JWT, or one DER private key or PKCS#12
//! file (a key exported as base64 without PEM armour, [`crate::leaks::der`]). Anything else (a SHA-256 digest in
//! hex, a base64 PNG thumbnail, random key material) stays what it was. The caller decodes
//! the result with [`fields`], which never calls [`decode`] again: one level, by design.

use super::{Field, Kind, Where};
use base64::engine::general_purpose::{STANDARD, STANDARD_NO_PAD, URL_SAFE, URL_SAFE_NO_PAD};
use base64::Engine;

/// Shortest base64 text considered.
pub const MIN_BASE64: usize = 24;
/// Shortest hex text considered (16 bytes).
pub const MIN_HEX: usize = 32;
/// Longest value considered (a bound on work per field).
pub const MAX_LEN: usize = 16 << 20;

/// How a value was encoded.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Encoding {
    Base64,
    Base64Url,
    Hex,
}

/// A decoded value: the encoding, what the bytes are, the bytes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Decoded {
    pub encoding: Encoding,
    /// [`Kind::Plist`], [`Kind::Json`], [`Kind::Text`] (a JWT) or [`Kind::Binary`] (DER).
    pub kind: Kind,
    pub bytes: Vec<u8>,
}

/// The bytes a base64 or hex `value` stands for, when they are a plist, JSON, a JWT or a
/// DER key.
pub fn decode(value: &[u8]) -> Option<Decoded> {
    let v = value.trim_ascii();
    if v.len() > MAX_LEN {
        return None;
    }
    let (encoding, bytes) =
        if v.len() >= MIN_HEX && v.len() % 2 == 0 && v.iter().all(u8::is_ascii_hexdigit) {
            (Encoding::Hex, hex::decode(v).ok()?)
        } else if v.len() >= MIN_BASE64 {
            base64(v)?
        } else {
            return None;
        };
    let kind = what(&bytes)?;
    Some(Decoded {
        encoding,
        kind,
        bytes,
    })
}

/// Standard or URL-safe alphabet, padded or not; the whole value must decode.
fn base64(v: &[u8]) -> Option<(Encoding, Vec<u8>)> {
    let std_alpha = |c: &u8| c.is_ascii_alphanumeric() || matches!(c, b'+' | b'/' | b'=');
    let url_alpha = |c: &u8| c.is_ascii_alphanumeric() || matches!(c, b'-' | b'_' | b'=');
    if v.iter().all(std_alpha) {
        let b = STANDARD
            .decode(v)
            .or_else(|_| STANDARD_NO_PAD.decode(v))
            .ok()?;
        Some((Encoding::Base64, b))
    } else if v.iter().all(url_alpha) {
        let b = URL_SAFE
            .decode(v)
            .or_else(|_| URL_SAFE_NO_PAD.decode(v))
            .ok()?;
        Some((Encoding::Base64Url, b))
    } else {
        None
    }
}

/// A plist that parses, a JSON object or array, a JWT, or one DER key or PKCS#12 file.
fn what(b: &[u8]) -> Option<Kind> {
    if b.first() == Some(&0x30) && crate::leaks::der::classify(b).is_some() {
        return Some(Kind::Binary);
    }
    match super::sniff(b) {
        Kind::Plist => {
            let ok = crate::keychain::export::check_plist_shape(b).is_ok()
                && plist::Value::from_reader(std::io::Cursor::new(b)).is_ok();
            ok.then_some(Kind::Plist)
        }
        Kind::Json => Some(Kind::Json),
        Kind::Text => {
            let s = std::str::from_utf8(b).ok()?.trim();
            crate::leaks::validate::jwt(s).map(|_| Kind::Text)
        }
        _ => None,
    }
}

/// The fields of a decoded value, placed under `outer` (the field it was encoded in) and
/// named, when the inner format has no name, by `name`.
pub fn fields(d: &Decoded, outer: &Where, name: Option<&str>, out: &mut dyn FnMut(Field<'_>)) {
    if d.kind == Kind::Binary {
        // One DER structure: the whole value, placed where its text is.
        return out(Field::new(outer.clone(), name, &d.bytes));
    }
    let mut inner = |f: Field<'_>| {
        out(Field {
            at: super::nested(outer, &f.at),
            name: f.name.or(name),
            ..f
        })
    };
    match d.kind {
        Kind::Plist => {
            let _ = super::plist::fields(&d.bytes, &mut inner);
        }
        Kind::Json => {
            let _ = super::json::fields(&d.bytes, &mut inner);
        }
        _ => inner(Field::new(outer.clone(), name, d.bytes.trim_ascii())),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const JWT: &str = "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiIxMjM0NTY3ODkwIiwiZXhwIjo0MTAyNDQ0ODAwfQ.c2lnbmF0dXJlLWJ5dGVzLWhlcmU";

    fn plist_bytes() -> Vec<u8> {
        let mut d = plist::Dictionary::new();
        d.insert("password".into(), "hunter2-hunter2".into());
        let mut b = Vec::new();
        plist::Value::Dictionary(d)
            .to_writer_binary(&mut b)
            .unwrap();
        b
    }

    #[test]
    fn base64_and_hex_of_structure_decode_once() {
        let json = br#"{"access_token":"at-0123456789abcdef"}"#;
        let cases = [
            (STANDARD.encode(json), Encoding::Base64, Kind::Json),
            (
                URL_SAFE_NO_PAD.encode(b"[\"???\",\"bbbbbbbbbbbbbb\"]"),
                Encoding::Base64Url,
                Kind::Json,
            ),
            (hex::encode(json), Encoding::Hex, Kind::Json),
            (
                STANDARD.encode(plist_bytes()),
                Encoding::Base64,
                Kind::Plist,
            ),
            (STANDARD.encode(JWT), Encoding::Base64, Kind::Text),
        ];
        for (text, enc, kind) in cases {
            let d = decode(text.as_bytes()).unwrap_or_else(|| panic!("{text}"));
            assert_eq!((d.encoding, d.kind), (enc, kind), "{text}");
        }
        let d = decode(STANDARD.encode(json).as_bytes()).unwrap();
        let outer = Where::Plist {
            key_path: "/blob".into(),
        };
        let mut got = Vec::new();
        fields(&d, &outer, Some("blob"), &mut |f| {
            got.push((super::super::describe(&f.at), f.name.map(str::to_owned)))
        });
        assert_eq!(
            got,
            vec![("/blob/access_token".into(), Some("access_token".into()))]
        );
        // Once only: base64 of base64 of JSON is not unwrapped twice.
        let twice = STANDARD.encode(STANDARD.encode(json));
        assert_eq!(decode(twice.as_bytes()), None);
    }

    #[test]
    fn near_misses_stay_encoded() {
        // A SHA-256 digest in hex, a UUID, a base64 PNG thumbnail, random base64 key bytes.
        let sha = "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08";
        assert_eq!(decode(sha.as_bytes()), None);
        assert_eq!(decode(b"123e4567-e89b-12d3-a456-426614174000"), None);
        let mut png = b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR".to_vec();
        png.extend_from_slice(&[7u8; 64]);
        assert_eq!(decode(STANDARD.encode(&png).as_bytes()), None);
        assert_eq!(
            decode(
                STANDARD
                    .encode([0x5au8, 0x13, 0xe7, 0x01].repeat(12))
                    .as_bytes()
            ),
            None
        );
        // Too short, odd hex, text that is base64-shaped by chance, a bare JSON string.
        assert_eq!(decode(STANDARD.encode(b"{\"a\":1}").as_bytes()), None);
        assert_eq!(decode(format!("{sha}0").as_bytes()), None);
        assert_eq!(decode(b"ThisIsJustAVeryLongIdentifierName"), None);
        assert_eq!(
            decode(STANDARD.encode(b"\"just a json string here\"").as_bytes()),
            None
        );
        // Base64 of prose is text, not a JWT.
        assert_eq!(
            decode(STANDARD.encode(b"hello there, this is prose").as_bytes()),
            None
        );
    }
}
