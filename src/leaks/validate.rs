//! Checks that confirm a candidate value: checksums (Luhn, IBAN, BIP-39), JWT, PEM, e-mail,
//! phone numbers, entropy.

use base64::Engine as _;

/// Why a candidate passed, when there is something worth saying (a JWT's expiry).
pub type Note = Option<String>;

/// Luhn (mod 10) over the digits of `s`, separators ignored; 13 to 19 digits.
pub fn luhn(s: &str) -> bool {
    let digits: Vec<u32> = s.chars().filter_map(|c| c.to_digit(10)).collect();
    if !(13..=19).contains(&digits.len()) || digits.iter().all(|&d| d == digits[0]) {
        return false;
    }
    let sum: u32 = digits
        .iter()
        .rev()
        .enumerate()
        .map(|(i, &d)| match (i % 2 == 1, d * 2) {
            (true, x) if x > 9 => x - 9,
            (true, x) => x,
            (false, _) => d,
        })
        .sum();
    sum % 10 == 0
}

/// IBAN lengths by country (ISO 13616 registry).
const IBAN_LENGTHS: &[(&str, usize)] = &[
    ("AD", 24),
    ("AE", 23),
    ("AL", 28),
    ("AT", 20),
    ("AZ", 28),
    ("BA", 20),
    ("BE", 16),
    ("BG", 22),
    ("BH", 22),
    ("BR", 29),
    ("BY", 28),
    ("CH", 21),
    ("CR", 22),
    ("CY", 28),
    ("CZ", 24),
    ("DE", 22),
    ("DK", 18),
    ("DO", 28),
    ("EE", 20),
    ("EG", 29),
    ("ES", 24),
    ("FI", 18),
    ("FO", 18),
    ("FR", 27),
    ("GB", 22),
    ("GE", 22),
    ("GI", 23),
    ("GL", 18),
    ("GR", 27),
    ("GT", 28),
    ("HR", 21),
    ("HU", 28),
    ("IE", 22),
    ("IL", 23),
    ("IQ", 23),
    ("IS", 26),
    ("IT", 27),
    ("JO", 30),
    ("KW", 30),
    ("KZ", 20),
    ("LB", 28),
    ("LC", 32),
    ("LI", 21),
    ("LT", 20),
    ("LU", 20),
    ("LV", 21),
    ("MC", 27),
    ("MD", 24),
    ("ME", 22),
    ("MK", 19),
    ("MR", 27),
    ("MT", 31),
    ("MU", 30),
    ("NL", 18),
    ("NO", 15),
    ("PK", 24),
    ("PL", 28),
    ("PS", 29),
    ("PT", 25),
    ("QA", 29),
    ("RO", 24),
    ("RS", 22),
    ("SA", 24),
    ("SC", 31),
    ("SE", 24),
    ("SI", 19),
    ("SK", 24),
    ("SM", 27),
    ("ST", 25),
    ("SV", 28),
    ("TL", 23),
    ("TN", 24),
    ("TR", 26),
    ("UA", 29),
    ("VA", 22),
    ("VG", 24),
    ("XK", 20),
];

/// An IBAN: the country's length and the ISO 7064 mod-97 check (spaces ignored).
pub fn iban(s: &str) -> bool {
    let c: String = s.chars().filter(|c| !c.is_whitespace()).collect();
    let Some(&(_, len)) = IBAN_LENGTHS.iter().find(|(cc, _)| c.starts_with(cc)) else {
        return false;
    };
    if c.len() != len || !c.chars().all(|x| x.is_ascii_alphanumeric()) {
        return false;
    }
    let (head, tail) = c.split_at(4);
    let mut rem: u32 = 0;
    for ch in tail.chars().chain(head.chars()) {
        let v = ch.to_digit(36).unwrap_or(0);
        rem = if v >= 10 {
            (rem * 100 + v) % 97
        } else {
            (rem * 10 + v) % 97
        };
    }
    rem == 1
}

/// Base64url (with or without padding) to bytes.
fn b64url(s: &str) -> Option<Vec<u8>> {
    base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(s.trim_end_matches('='))
        .ok()
}

/// A JWT: a JSON header with `alg` and a JSON object of claims. The note gives `exp`.
pub fn jwt(s: &str) -> Option<Note> {
    let mut parts = s.split('.');
    let (h, p) = (parts.next()?, parts.next()?);
    parts.next()?;
    let header: serde_json::Value = serde_json::from_slice(&b64url(h)?).ok()?;
    header.get("alg")?.as_str()?;
    let claims: serde_json::Value = serde_json::from_slice(&b64url(p)?).ok()?;
    let claims = claims.as_object()?;
    let exp = claims.get("exp").and_then(|e| e.as_i64());
    Some(exp.map(|e| {
        let when = time::OffsetDateTime::from_unix_timestamp(e)
            .ok()
            .and_then(|t| {
                t.format(&time::format_description::well_known::Rfc3339)
                    .ok()
            })
            .unwrap_or_else(|| e.to_string());
        let now = time::OffsetDateTime::now_utc().unix_timestamp();
        format!("expires {when}{}", if e < now { " (expired)" } else { "" })
    }))
}

/// A PEM private key block: matching BEGIN/END labels and a body that decodes to a key
/// (DER, an OpenSSH key or a PGP packet), at least 32 bytes.
pub fn pem(s: &str) -> bool {
    let mut lines = s.lines().map(str::trim).filter(|l| !l.is_empty());
    let (Some(first), Some(last)) = (
        lines.next(),
        s.lines().map(str::trim).rfind(|l| !l.is_empty()),
    ) else {
        return false;
    };
    let label = |l: &str, what: &str| {
        l.strip_prefix(what)
            .and_then(|r| r.strip_suffix("-----"))
            .map(str::to_owned)
    };
    let (Some(begin), Some(end)) = (label(first, "-----BEGIN "), label(last, "-----END ")) else {
        return false;
    };
    if begin != end {
        return false;
    }
    // Header lines (`Proc-Type: …`) and a PGP checksum line (`=abcd`) are not body.
    let body: String = s
        .lines()
        .map(str::trim)
        .filter(|l| !l.starts_with("-----") && !l.contains(':') && !l.starts_with('='))
        .collect();
    let Ok(der) = base64::engine::general_purpose::STANDARD.decode(body) else {
        return false;
    };
    der.len() >= 32
        && match begin.as_str() {
            "OPENSSH PRIVATE KEY" => der.starts_with(b"openssh-key-v1\0"),
            "PGP PRIVATE KEY BLOCK" => der[0] & 0x80 != 0,
            _ => der[0] == 0x30,
        }
}

/// File extensions that follow an `@` in asset names (`icon@2x.png`), not top-level domains.
const NOT_TLDS: &[&str] = &[
    "png",
    "jpg",
    "jpeg",
    "gif",
    "heic",
    "webp",
    "svg",
    "pdf",
    "plist",
    "json",
    "js",
    "css",
    "html",
    "htm",
    "xml",
    "txt",
    "db",
    "sqlite",
    "mov",
    "mp4",
    "m4a",
    "caf",
    "strings",
    "nib",
    "storyboardc",
    "car",
    "ttf",
    "otf",
    "log",
    "zip",
    "bin",
    "dat",
    "swift",
    "m",
    "h",
];

/// Domains of messaging identifiers that look like e-mail addresses and are not: WhatsApp
/// JIDs (`<phone>@s.whatsapp.net`, groups `@g.us`, `@broadcast`, linked ids `@lid`) and
/// XMPP-style ids of Facebook Messenger chat.
const NOT_MAIL_DOMAINS: &[&str] = &[
    "s.whatsapp.net",
    "g.us",
    "c.us",
    "broadcast",
    "lid",
    "chat.facebook.com",
];

/// An e-mail address whose domain is a host name (not an asset-scale suffix, a file name
/// or a messaging service's identifier domain).
pub fn email(s: &str) -> bool {
    let Some((local, domain)) = s.rsplit_once('@') else {
        return false;
    };
    let labels: Vec<&str> = domain.split('.').collect();
    let tld = labels.last().copied().unwrap_or("").to_ascii_lowercase();
    let scale = |l: &str| {
        l.len() >= 2
            && l.ends_with(['x', 'X'])
            && l[..l.len() - 1].chars().all(|c| c.is_ascii_digit())
    };
    let domain_lc = domain.to_ascii_lowercase();
    !local.is_empty()
        && !NOT_MAIL_DOMAINS.contains(&domain_lc.as_str())
        && labels.len() >= 2
        && !NOT_TLDS.contains(&tld.as_str())
        && !scale(labels[0])
        && !local.ends_with('.')
}

/// A latitude or longitude with at least four decimals, within ±180.
pub fn coordinate(s: &str) -> bool {
    let t = s.trim();
    let decimals = t.split_once('.').map_or(0, |(_, d)| {
        d.chars().take_while(char::is_ascii_digit).count()
    });
    t.parse::<f64>()
        .is_ok_and(|v| v.is_finite() && v.abs() <= 180.0 && v != 0.0)
        && decimals >= 4
}

/// Values that stand in for a secret rather than being one.
const PLACEHOLDERS: &[&str] = &[
    "password",
    "passwd",
    "changeme",
    "null",
    "nil",
    "none",
    "undefined",
    "true",
    "false",
    "yes",
    "no",
    "redacted",
    "hidden",
    "secret",
    "example",
    "placeholder",
    "your_password",
    "xxx",
    "empty",
    "n/a",
    "na",
    "0",
    "1",
    "(null)",
];

/// Not empty, not masked (`****`), not a known placeholder, not a template (`<…>`, `${…}`,
/// `{{…}}`, `%…%`).
pub fn not_placeholder(s: &str) -> bool {
    let t = s.trim().trim_matches(|c| c == '"' || c == '\'');
    if t.is_empty() {
        return false;
    }
    let mut chars = t.chars();
    let first = chars.next().unwrap_or(' ');
    if chars.all(|c| c == first) && t.chars().count() > 1 {
        return false;
    }
    let lower = t.to_ascii_lowercase();
    let templ = |a: &str, b: &str| lower.starts_with(a) && lower.ends_with(b);
    !PLACEHOLDERS.contains(&lower.as_str())
        && !templ("<", ">")
        && !templ("${", "}")
        && !templ("{{", "}}")
        && !templ("%", "%")
        && !templ("[", "]")
}

/// Shannon entropy of `s` in bits per character.
pub fn entropy(s: &[u8]) -> f64 {
    if s.is_empty() {
        return 0.0;
    }
    let mut counts = [0u32; 256];
    for &b in s {
        counts[b as usize] += 1;
    }
    let n = s.len() as f64;
    counts
        .iter()
        .filter(|&&c| c > 0)
        .map(|&c| {
            let p = f64::from(c) / n;
            -p * p.log2()
        })
        .sum()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn checksums_accept_the_documented_examples_and_reject_one_digit_off() {
        assert!(luhn("4111 1111 1111 1111"));
        assert!(luhn("378282246310005"));
        assert!(!luhn("4111 1111 1111 1112"));
        assert!(!luhn("0000 0000 0000 0000"), "all one digit");
        assert!(iban("GB82 WEST 1234 5698 7654 32"));
        assert!(iban("DE89370400440532013000"));
        assert!(!iban("DE89370400440532013001"), "check digits");
        assert!(!iban("DE8937040044053201300"), "length");
        assert!(!iban("QQ89370400440532013000"), "no such country");
    }

    #[test]
    fn jwt_needs_alg_and_claims_and_tells_expiry() {
        let t = "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiJ1c2VyLTQyIiwiZXhwIjoxOTAwMDAwMDAwfQ.sig";
        let note = jwt(t).expect("a JWT").expect("it has exp");
        assert!(note.starts_with("expires 2030-03-17T17:46:40Z"), "{note}");
        assert!(
            jwt("eyJub3RfYV9qd3QiOjF9.eyJub3RfYV9qd3QiOjF9.x").is_none(),
            "no alg"
        );
        assert!(
            jwt("eyJhbGciOiJub25lIn0.bm90IGpzb24.x").is_none(),
            "claims not JSON"
        );
    }

    #[test]
    fn emails_are_hosts_not_asset_names() {
        assert!(email("alice@example.org"));
        assert!(!email("icon@2x.png"));
        assert!(!email("a@3X.example"));
        assert!(!email("user@localhost"));
    }

    #[test]
    fn placeholders_and_entropy() {
        for p in [
            "",
            "****",
            "xxxxxx",
            "<password>",
            "${PASS}",
            "null",
            "  ",
            "{{secret}}",
        ] {
            assert!(!not_placeholder(p), "{p:?}");
        }
        assert!(not_placeholder("hunter2!x"));
        assert!(entropy(b"aaaaaaaa") < 0.01);
        assert!(entropy(b"8xQm2LpZ7vN4kR1tY9bW3cF6hJ0sD5gA") > 4.5);
        assert!(coordinate("52.520008") && !coordinate("52.5") && !coordinate("181.00001"));
    }
}

/// Top-level domains accepted for an e-mail address found among the printable runs of
/// binary content, where random bytes spell short `x@yz.ab` strings: the generic domains
/// most mail is under and the country codes of the larger mail markets.
const MAIL_TLDS_IN_BINARY: &[&str] = &[
    "com", "net", "org", "edu", "gov", "mil", "int", "info", "biz", "io", "co", "me", "app", "dev",
    "ai", "email", "mail", "cloud", "online", "site", "tech", "xyz", "eu", "us", "uk", "de", "fr",
    "it", "es", "nl", "be", "ch", "at", "se", "no", "dk", "fi", "pl", "cz", "sk", "hu", "ro", "bg",
    "gr", "pt", "ie", "lu", "ru", "ua", "tr", "il", "jp", "cn", "kr", "tw", "hk", "sg", "my", "id",
    "th", "vn", "ph", "in", "pk", "au", "nz", "ca", "mx", "br", "ar", "cl", "za", "ng", "eg", "ae",
    "sa",
];

/// An e-mail address plausible in binary content: [`email`], a lower-case known top-level
/// domain, and at least two characters on each side of the `@`.
pub fn email_in_binary(s: &str) -> bool {
    let Some((local, domain)) = s.rsplit_once('@') else {
        return false;
    };
    let Some((host, tld)) = domain.rsplit_once('.') else {
        return false;
    };
    email(s) && local.len() >= 2 && host.len() >= 2 && MAIL_TLDS_IN_BINARY.contains(&tld)
}

#[cfg(test)]
mod binary_mail_tests {
    use super::email_in_binary;

    #[test]
    fn random_runs_are_not_mail_and_addresses_are() {
        for ok in [
            "alice.smith@example.org",
            "jd@mail.example.co",
            "x1@icloud.com",
        ] {
            assert!(email_in_binary(ok), "{ok}");
        }
        // Shapes random printable bytes make: short sides, mixed-case or unknown TLDs.
        for near in [
            "k@dX.Qw",
            "a@b.cd",
            "Zq@r7.pQ",
            "ab@cd.qx",
            "ab@c.com",
            "ab@cd.COM",
        ] {
            assert!(!email_in_binary(near), "{near}");
        }
    }
}

/// E.164 country calling codes in use (ITU-T E.164 assignments): one digit (1, 7), two
/// digits, or three; the codes are prefix-free, so the first that matches is the code.
const CALLING_CODES_2: &[u16] = &[
    20, 27, 30, 31, 32, 33, 34, 36, 39, 40, 41, 43, 44, 45, 46, 47, 48, 49, 51, 52, 53, 54, 55, 56,
    57, 58, 60, 61, 62, 63, 64, 65, 66, 81, 82, 84, 86, 90, 91, 92, 93, 94, 95, 98,
];
/// Three-digit calling codes, as ranges of assigned codes.
const CALLING_CODES_3: &[(u16, u16)] = &[
    (211, 213),
    (216, 216),
    (218, 218),
    (220, 258),
    (260, 269),
    (290, 291),
    (297, 299),
    (350, 359),
    (370, 383),
    (385, 387),
    (389, 389),
    (420, 421),
    (423, 423),
    (500, 509),
    (590, 599),
    (670, 670),
    (672, 683),
    (685, 692),
    (800, 800),
    (808, 808),
    (850, 850),
    (852, 853),
    (855, 856),
    (870, 870),
    (878, 878),
    (880, 883),
    (886, 886),
    (888, 888),
    (960, 968),
    (970, 977),
    (979, 979),
    (992, 996),
    (998, 998),
];

/// The length of the E.164 country calling code that `digits` (an international number
/// without its `+`) starts with, when it starts with one in use.
pub fn calling_code_len(digits: &str) -> Option<usize> {
    let d = digits.as_bytes();
    let num = |n: usize| -> Option<u16> { digits.get(..n)?.parse().ok() };
    match d.first()? {
        b'1' | b'7' => Some(1),
        b'0' => None,
        _ => {
            if num(2).is_some_and(|c| CALLING_CODES_2.contains(&c)) {
                Some(2)
            } else {
                let c = num(3)?;
                CALLING_CODES_3
                    .iter()
                    .any(|&(lo, hi)| (lo..=hi).contains(&c))
                    .then_some(3)
            }
        }
    }
}

/// A phone number, not a number that only looks like one: digits with the separators
/// people write (space, `-`, `.`, `(…)`), an optional leading `+`; international (`+`):
/// a calling code in use and 8 to 15 digits (E.164), the national part at least 6; else
/// 7 to 12 digits. Not a date (`2024-01-31`, `31.01.2024`), an IPv4 address or a version
/// (dotted groups must be 2 to 4 digits, at least three of them, not four of at most
/// three), not one digit repeated nor a run like `1234567890`, no digit six times in a row,
/// and not a bare 10-digit number starting with 1 (a Unix time; no national plan starts so
/// with 10 digits). `+1` and `+7` need ten national digits (a North American area code and
/// exchange do not start with 0 or 1).
pub fn phone(s: &str) -> bool {
    let t = s.trim();
    let body = t.strip_prefix('+').unwrap_or(t);
    let plus = body.len() != t.len();
    if body.is_empty()
        || !body
            .bytes()
            .all(|c| c.is_ascii_digit() || matches!(c, b' ' | b'-' | b'.' | b'(' | b')'))
        || !body.starts_with(|c: char| c.is_ascii_digit() || c == '(')
        || !body.ends_with(|c: char| c.is_ascii_digit())
    {
        return false;
    }
    // Separators one at a time (`) ` and ` (` aside), parentheses paired and not nested.
    let seps = |c: u8| matches!(c, b' ' | b'-' | b'.');
    let b = body.as_bytes();
    if b.windows(2).any(|w| seps(w[0]) && seps(w[1])) {
        return false;
    }
    let (mut depth, mut pairs) = (0i32, 0);
    for &c in b {
        match c {
            b'(' => depth += 1,
            b')' => {
                depth -= 1;
                pairs += 1
            }
            _ => {}
        }
        if !(0..=1).contains(&depth) {
            return false;
        }
    }
    if depth != 0 || pairs > 1 {
        return false;
    }
    let digits: String = body.chars().filter(char::is_ascii_digit).collect();
    let n = digits.len();
    let groups: Vec<&str> = body
        .split(|c: char| !c.is_ascii_digit())
        .filter(|g| !g.is_empty())
        .collect();
    let sep_kinds: std::collections::BTreeSet<u8> =
        b.iter().copied().filter(|&c| seps(c)).collect();
    if sep_kinds.contains(&b'.') {
        let ip_like = groups.len() == 4 && groups.iter().all(|g| g.len() <= 3);
        if ip_like || groups.len() < 3 || groups.iter().any(|g| !(2..=4).contains(&g.len())) {
            return false;
        }
    }
    let lens: Vec<usize> = groups.iter().map(|g| g.len()).collect();
    if !plus && (lens == [4, 2, 2] || lens == [2, 2, 4] || lens == [4, 2, 2, 2, 2]) {
        return false; // a date (and time)
    }
    let first = digits.as_bytes()[0];
    let run = |step: i8| {
        digits
            .as_bytes()
            .windows(2)
            .all(|w| (w[1] as i8 - w[0] as i8).rem_euclid(10) == step.rem_euclid(10))
    };
    if digits.bytes().all(|c| c == first) || run(1) || run(-1) {
        return false;
    }
    // Six of one digit in a row is a filler, not a subscriber number.
    if digits
        .as_bytes()
        .windows(6)
        .any(|w| w.iter().all(|&c| c == w[0]))
    {
        return false;
    }
    if plus {
        let Some(cc) = calling_code_len(&digits) else {
            return false;
        };
        let national = &digits.as_bytes()[cc..];
        // The North American plan (+1) and +7 have ten national digits; a North American
        // area code and exchange do not start with 0 or 1.
        let plan_ok = match cc {
            1 if first == b'1' => {
                national.len() == 10 && national[0] >= b'2' && national[3] >= b'2'
            }
            1 => national.len() == 10,
            _ => national.len() >= 6,
        };
        plan_ok && (8..=15).contains(&n)
    } else {
        (7..=12).contains(&n) && !(n == 10 && first == b'1' && groups.len() == 1)
    }
}

/// A BIP-39 mnemonic in the English word list: 12, 15, 18, 21 or 24 words whose last
/// bits are the checksum (the first bits of SHA-256 of the entropy the words encode).
pub fn bip39(s: &str) -> bool {
    let words = s.split_ascii_whitespace().count();
    matches!(words, 12 | 15 | 18 | 21 | 24)
        && s.split_ascii_whitespace()
            .all(|w| bip39::Language::English.find_word(w).is_some())
        && bip39::Mnemonic::parse_in_normalized(bip39::Language::English, s).is_ok()
}

#[cfg(test)]
mod phone_and_mnemonic_tests {
    use super::{bip39, calling_code_len, phone};

    #[test]
    fn phone_numbers_and_what_only_looks_like_them() {
        for ok in [
            "+14155552671",
            "+1 415-555-2671",
            "+44 20 7946 0958",
            "+49 151 23456789",
            "+33 6 12 34 56 78",
            "+852 5123 4567",
            "(415) 555-2671",
            "06.12.34.56.78",
            "030 12345678",
            "0151 2345 6789",
        ] {
            assert!(phone(ok), "{ok}");
        }
        for near in [
            "+12345",            // too short
            "+1234567890123456", // 16 digits: over E.164
            "+0123456789",       // no calling code starts with 0
            "+8091234567",       // 809 is not a calling code (it is +1 809)
            "+2141234567",       // 214 is not assigned
            "192.168.100.200",   // an IPv4 address
            "10.0.0.1",
            "4.12.1",     // a version
            "2024-01-31", // a date
            "31.01.2024",
            "2024-01-31-12-30",
            "1700000000", // a Unix time
            "1234567890", // a run
            "0000000000",
            "12:30:45",
            "1.0.0.1234",
            "+1 (415) (555) 2671",
            "415--555--2671",
            "-4155552671",
        ] {
            assert!(!phone(near), "{near}");
        }
        assert_eq!(calling_code_len("14155552671"), Some(1));
        assert_eq!(calling_code_len("4915112345678"), Some(2));
        assert_eq!(calling_code_len("35312345678"), Some(3));
        assert_eq!(calling_code_len("2141234567"), None);
    }

    #[test]
    fn mnemonics_need_the_word_list_the_count_and_the_checksum() {
        // The BIP-39 test vectors' first mnemonics (entropy 00…00 and 7f…7f).
        let zero = "abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon about";
        assert!(bip39(zero));
        assert!(bip39(
            "legal winner thank year wave sausage worth useful legal winner thank yellow"
        ));
        // Wrong checksum, 11 words, a word not in the list, prose.
        assert!(!bip39("abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon"));
        assert!(!bip39(
            "abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon about"
        ));
        assert!(!bip39("abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon aboutt"));
        assert!(!bip39(
            "please remember to bring the large green folder with you when you come back"
        ));
    }
}
