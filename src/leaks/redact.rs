//! Say where a secret is without echoing it: a redacted preview and a fingerprint.

/// A preview that shows the value's shape, never most of it: `eyJh…(312 chars)…x9Q` for a
/// long value, `hu…(9 chars)` for a medium one, `…(4 chars)` for a short one.
pub fn preview(value: &[u8]) -> String {
    let s = String::from_utf8_lossy(value);
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
        assert_eq!(fingerprint(b"x"), crate::keychain::item::fingerprint(b"x"));
        assert_ne!(fingerprint(b"x"), fingerprint(b"y"));
    }
}
