//! HTML escaping: text, attribute values and JSON handed to the page's script.

use serde::Serialize;
use std::fmt::Write as _;

/// `s` escaped for HTML text and for quoted attribute values (`&`, `<`, `>`, `"`, `'`).
pub fn html(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 8);
    push(&mut out, s);
    out
}

/// [`html`] appended to `out`.
pub fn push(out: &mut String, s: &str) {
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            // A NUL is a parse error in HTML and is dropped by browsers: show it.
            '\0' => out.push('\u{FFFD}'),
            c => out.push(c),
        }
    }
}

/// `value` as JSON for a `<script type="application/json">` element: `<`, `>` and `&` as
/// `\u003c`, `\u003e`, `\u0026`, so that no `</script>` or `<!--` can end or change the
/// element, and U+2028/U+2029 escaped too. The page's script reads it with `JSON.parse`.
pub fn script_json<T: Serialize + ?Sized>(value: &T) -> serde_json::Result<String> {
    let raw = serde_json::to_string(value)?;
    let mut out = String::with_capacity(raw.len() + 16);
    for c in raw.chars() {
        match c {
            '<' | '>' | '&' | '\u{2028}' | '\u{2029}' => {
                let _ = write!(out, "\\u{:04x}", c as u32);
            }
            c => out.push(c),
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_and_attributes_are_escaped() {
        assert_eq!(
            html(r#"<script>alert('1')</script> & "x""#),
            "&lt;script&gt;alert(&#39;1&#39;)&lt;/script&gt; &amp; &quot;x&quot;"
        );
        assert_eq!(html("a\0b"), "a\u{FFFD}b");
    }

    #[test]
    fn script_json_cannot_close_its_element_and_reads_back() {
        let v = serde_json::json!({"p": "</script><!-- & \u{2028}"});
        let s = script_json(&v).unwrap();
        assert!(
            !s.contains('<') && !s.contains('>') && !s.contains('&'),
            "{s}"
        );
        assert_eq!(serde_json::from_str::<serde_json::Value>(&s).unwrap(), v);
    }
}
