//! Checks that confirm a candidate value: checksums (Luhn, IBAN), JWT, PEM, e-mail, entropy.

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
