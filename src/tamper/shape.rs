//! Value shapes a tamper rule asks for: a boolean, a number, a port, a URL, a host, a date,
//! a word, anything.

use crate::leaks::decode::ValueType;
use serde::{Deserialize, Serialize};

/// The shape of a setting's value (a JSON contract: `shape` in `auditor.tamper/1`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Deserialize, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Shape {
    Bool,
    Number,
    Port,
    Url,
    Host,
    Date,
    Word,
    Any,
    /// A whole file (a policy document): never asked for by a rule's `value`.
    Document,
}

impl Shape {
    /// The JSON word.
    pub fn as_str(self) -> &'static str {
        match self {
            Shape::Bool => "bool",
            Shape::Number => "number",
            Shape::Port => "port",
            Shape::Url => "url",
            Shape::Host => "host",
            Shape::Date => "date",
            Shape::Word => "word",
            Shape::Any => "any",
            Shape::Document => "document",
        }
    }
}

/// Longest text value looked at as a number, a host or a word.
const SHORT: usize = 24;

/// Whether a value (as its bytes, with its type) has the shape.
pub fn fits(shape: Shape, value: &[u8], ty: ValueType) -> bool {
    let Ok(t) = std::str::from_utf8(value) else {
        return false;
    };
    let t = t.trim();
    match shape {
        Shape::Any => !t.is_empty() || ty == ValueType::String,
        Shape::Document => false,
        Shape::Bool => match ty {
            ValueType::Bool => true,
            ValueType::Integer => t == "0" || t == "1",
            ValueType::String | ValueType::Data => is_bool_text(t),
            _ => false,
        },
        Shape::Number => match ty {
            ValueType::Integer | ValueType::Real => true,
            ValueType::String | ValueType::Data => is_number(t),
            _ => false,
        },
        Shape::Port => {
            matches!(ty, ValueType::Integer | ValueType::String | ValueType::Data)
                && t.parse::<u32>().is_ok_and(|p| (1..=65535).contains(&p))
        }
        Shape::Url => is_text(ty) && is_url(t),
        Shape::Host => is_text(ty) && is_host(t),
        Shape::Date => match ty {
            ValueType::Date => true,
            ValueType::Integer | ValueType::Real => is_epoch(t),
            ValueType::String | ValueType::Data => is_iso_date(t) || (is_number(t) && is_epoch(t)),
            ValueType::Bool => false,
        },
        Shape::Word => {
            is_text(ty)
                && (2..=SHORT).contains(&t.len())
                && t.starts_with(|c: char| c.is_ascii_alphabetic())
                && t.chars()
                    .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
        }
    }
}

fn is_text(ty: ValueType) -> bool {
    matches!(ty, ValueType::String | ValueType::Data)
}

fn is_bool_text(t: &str) -> bool {
    [
        "true", "false", "yes", "no", "0", "1", "on", "off", "enabled", "disabled",
    ]
    .iter()
    .any(|w| t.eq_ignore_ascii_case(w))
}

fn is_number(t: &str) -> bool {
    t.len() <= SHORT
        && !t.is_empty()
        && t.parse::<f64>().is_ok_and(f64::is_finite)
        && t.chars().all(|c| c.is_ascii_digit() || "+-.eE".contains(c))
}

/// Seconds (or milliseconds) since 1970, or seconds since 2001 (Apple's reference date),
/// between 2001 and 2100.
fn is_epoch(t: &str) -> bool {
    let Ok(n) = t.parse::<f64>() else {
        return false;
    };
    const Y2001_UNIX: f64 = 978_307_200.0;
    const Y2100_UNIX: f64 = 4_102_444_800.0;
    (Y2001_UNIX..Y2100_UNIX).contains(&n)
        || (Y2001_UNIX * 1000.0..Y2100_UNIX * 1000.0).contains(&n)
        || (1.0e8..Y2100_UNIX - Y2001_UNIX).contains(&n)
}

/// `2024-11-15`, `2024-11-15T09:30:00Z`, `2024-11-15 09:30:00 +0000`.
fn is_iso_date(t: &str) -> bool {
    let b = t.as_bytes();
    b.len() >= 10
        && b.len() <= 40
        && b[..4].iter().all(u8::is_ascii_digit)
        && b[4] == b'-'
        && b[5..7].iter().all(u8::is_ascii_digit)
        && b[7] == b'-'
        && b[8..10].iter().all(u8::is_ascii_digit)
        && (b.len() == 10 || matches!(b[10], b'T' | b' '))
}

/// An http(s) or ws(s) URL with a host.
pub fn is_url(t: &str) -> bool {
    let lower = t.to_ascii_lowercase();
    let Some(rest) = ["https://", "http://", "wss://", "ws://"]
        .iter()
        .find_map(|s| lower.strip_prefix(s))
    else {
        return false;
    };
    let authority = rest.split(['/', '?', '#']).next().unwrap_or("");
    let host = authority.rsplit('@').next().unwrap_or("");
    !t.contains(char::is_whitespace) && t.len() <= 2048 && is_host(host)
}

/// A host name with a dot (`api.example.com`), an IPv4 address or `localhost`, with an
/// optional `:port`.
pub fn is_host(t: &str) -> bool {
    if t.len() > 253 || t.is_empty() {
        return false;
    }
    let host = match t.rsplit_once(':') {
        Some((h, p)) if !h.contains(':') => {
            if !p.parse::<u16>().is_ok_and(|p| p > 0) {
                return false;
            }
            h
        }
        Some(_) => return t.starts_with('[') || t.parse::<std::net::Ipv6Addr>().is_ok(),
        None => t,
    };
    if host.eq_ignore_ascii_case("localhost") || host.parse::<std::net::Ipv4Addr>().is_ok() {
        return true;
    }
    let labels: Vec<&str> = host.split('.').collect();
    // A reverse-DNS identifier (a bundle id, a defaults domain: `com.apple.itunesstored`)
    // is not a host: real host names do not begin with a generic top-level domain.
    let reverse_dns = ["com", "org", "net", "edu", "gov", "mil"]
        .iter()
        .any(|g| labels[0].eq_ignore_ascii_case(g));
    !reverse_dns
        && labels.len() >= 2
        && labels.iter().all(|l| {
            !l.is_empty()
                && l.len() <= 63
                && !l.starts_with('-')
                && l.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
        })
        && labels
            .last()
            .is_some_and(|tld| tld.len() >= 2 && tld.chars().all(|c| c.is_ascii_alphabetic()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use ValueType as T;

    #[test]
    fn shapes_tell_types_apart() {
        assert!(fits(Shape::Bool, b"true", T::Bool));
        assert!(fits(Shape::Bool, b"YES", T::String));
        assert!(fits(Shape::Bool, b"1", T::Integer));
        assert!(!fits(Shape::Bool, b"2", T::Integer));
        assert!(!fits(Shape::Bool, b"4711", T::String));
        assert!(fits(Shape::Number, b"300", T::Integer));
        assert!(fits(Shape::Number, b"2.5", T::String));
        assert!(!fits(Shape::Number, b"inf", T::String));
        assert!(!fits(Shape::Number, b"12 apples", T::String));
        assert!(fits(Shape::Port, b"8443", T::Integer));
        assert!(!fits(Shape::Port, b"70000", T::Integer));
        assert!(fits(
            Shape::Url,
            b"https://api.example.com/v2?x=1",
            T::String
        ));
        assert!(fits(Shape::Url, b"http://10.0.0.2:8080", T::String));
        assert!(!fits(Shape::Url, b"https://", T::String));
        assert!(!fits(Shape::Url, b"file:///var/log", T::String));
        assert!(!fits(Shape::Url, b"https://a.example.com", T::Bool));
        assert!(fits(Shape::Host, b"api.example.com", T::String));
        assert!(fits(Shape::Host, b"10.0.0.2:8443", T::String));
        assert!(!fits(Shape::Host, b"v2", T::String));
        assert!(!fits(Shape::Host, b"1.5", T::String));
        assert!(!fits(Shape::Host, b"com.example.app", T::Integer));
        // Reverse-DNS identifiers (bundle ids, defaults domains) are not hosts.
        assert!(!fits(Shape::Host, b"com.apple.itunesstored", T::String));
        assert!(!fits(Shape::Host, b"org.example", T::String));
        assert!(!fits(Shape::Url, b"https://com.example.app/x", T::String));
        assert!(fits(Shape::Host, b"de.wikipedia.org", T::String));
        assert!(fits(Shape::Host, b"init.ess.apple.com", T::String));
        assert!(fits(Shape::Date, b"2024-11-15T09:30:00Z", T::Date));
        assert!(fits(Shape::Date, b"2024-11-15", T::String));
        assert!(fits(Shape::Date, b"1731663000", T::Integer));
        assert!(fits(Shape::Date, b"1731663000000", T::String));
        assert!(!fits(Shape::Date, b"300", T::Integer));
        assert!(!fits(Shape::Date, b"next month", T::String));
        assert!(fits(Shape::Word, b"staging", T::String));
        assert!(!fits(Shape::Word, b"two words", T::String));
        assert!(!fits(Shape::Word, b"https://x.example", T::String));
        assert!(fits(Shape::Any, b"", T::String));
        assert!(!fits(Shape::Document, b"x", T::String));
    }
}
