//! Say where a secret is without echoing it: a redacted preview and a fingerprint.

/// A preview that shows the value's shape, never most of it: `eyJh…(312 chars)…x9Q` for a
/// long value, `hu…(9 chars)` for a medium one, `…(4 chars)` for a short one; a binary
/// value (a DER key) as its first two bytes in hex and its length: `3082…(1218 bytes)`.
pub fn preview(value: &[u8]) -> String {
    let Ok(s) = std::str::from_utf8(value) else {
        let head: String = value.iter().take(2).map(|b| format!("{b:02x}")).collect();
        return format!("{head}…({} bytes)", value.len());
    };
    let chars: Vec<char> = s.chars().collect();
    let n = chars.len();
    let shown = |cs: &[char]| -> String {
        cs.iter()
            .map(|&c| if c.is_control() { '?' } else { c })
            .collect()
    };
    if n >= 24 {
        format!(
            "{}…({n} chars)…{}",
            shown(&chars[..4]),
            shown(&chars[n - 3..])
        )
    } else if n >= 12 {
        format!("{}…({n} chars)", shown(&chars[..2]))
    } else {
        format!("…({n} chars)")
    }
}

/// The value itself, for `--show-secrets`: as it is when it is text, in base64 when it is
/// binary (a DER key).
pub fn shown(value: &[u8]) -> String {
    use base64::Engine as _;
    match std::str::from_utf8(value) {
        Ok(s) => s.to_owned(),
        Err(_) => base64::engine::general_purpose::STANDARD.encode(value),
    }
}

/// The value's fingerprint: the same function as the keychain's item fingerprints, so a
/// secret found in a file and held by a keychain item show the same fingerprint.
pub fn fingerprint(value: &[u8]) -> String {
    crate::keychain::item::fingerprint(value)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn previews_hide_most_of_the_value() {
        let jwt = format!("eyJh{}x9Q", "a".repeat(305));
        assert_eq!(preview(jwt.as_bytes()), "eyJh…(312 chars)…x9Q");
        assert_eq!(preview(b"hunter2!xyz0"), "hu…(12 chars)");
        assert_eq!(preview(b"4821"), "…(4 chars)");
        assert_eq!(
            preview("pässwörd-très-long-123456".as_bytes()),
            "päss…(25 chars)…456"
        );
        assert_eq!(preview(&[0x30, 0x82, 0x04, 0xbd, 0xff]), "3082…(5 bytes)");
        assert_eq!(shown(&[0x30, 0x82, 0xff]), "MIL/");
        assert_eq!(shown(b"hunter2"), "hunter2");
        assert_eq!(fingerprint(b"x"), crate::keychain::item::fingerprint(b"x"));
        assert_ne!(fingerprint(b"x"), fingerprint(b"y"));
    }
}
