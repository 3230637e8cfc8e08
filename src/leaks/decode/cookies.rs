//! Apple `binarycookies` cookie jars: each cookie's value, named by the cookie, at `name@domain`.
//!
//! Layout (as WebKit writes it; libyal's "Safari Cookies" notes): `cook`, a big-endian page
//! count and page sizes, then the pages. A page is `00 00 01 00`, a little-endian cookie
//! count and cookie offsets (from the page start). A cookie record is little-endian: size,
//! version, flags (Secure = 1, HttpOnly = 4), a reserved word, the offsets (from the record
//! start) of its domain, name, path and value, a comment offset, then expiry and creation as
//! Mac absolute time (`f64`, seconds since 2001-01-01), then NUL-terminated strings.
//!
//! Written here rather than taken from a crate: `safari-binarycookies` (the maintained one)
//! needs Rust 1.88 (this crate keeps 1.85) and refuses a whole jar for one damaged or
//! over-long cookie, where a leak search wants every cookie it can still read and a note.
//! Every offset is checked against its record, page and file; nothing is sized from a count.

use super::{Field, Where};

/// Seconds from the Unix epoch to the Mac epoch (2001-01-01T00:00:00Z).
const MAC_EPOCH: f64 = 978_307_200.0;
/// The fixed part of a cookie record, before its strings.
const RECORD_HEAD: usize = 56;
/// Flag bits.
const SECURE: u32 = 1;
const HTTP_ONLY: u32 = 4;

/// One cookie as read: borrowed strings of the jar.
#[derive(Debug, Clone, PartialEq)]
pub struct Cookie<'a> {
    pub domain: &'a [u8],
    pub name: &'a [u8],
    pub path: &'a [u8],
    pub value: &'a [u8],
    pub flags: u32,
    /// Mac absolute time.
    pub expires: f64,
    pub created: f64,
}

impl Cookie<'_> {
    pub fn secure(&self) -> bool {
        self.flags & SECURE != 0
    }
    pub fn http_only(&self) -> bool {
        self.flags & HTTP_ONLY != 0
    }
}

fn be32(b: &[u8], at: usize) -> Option<u32> {
    let s = b.get(at..at.checked_add(4)?)?;
    Some(u32::from_be_bytes(s.try_into().ok()?))
}

fn le32(b: &[u8], at: usize) -> Option<u32> {
    let s = b.get(at..at.checked_add(4)?)?;
    Some(u32::from_le_bytes(s.try_into().ok()?))
}

fn le_f64(b: &[u8], at: usize) -> Option<f64> {
    let s = b.get(at..at.checked_add(8)?)?;
    Some(f64::from_le_bytes(s.try_into().ok()?))
}

/// Every cookie that can be read, and what could not be (problems, in order).
pub fn parse(b: &[u8]) -> Result<(Vec<Cookie<'_>>, Vec<String>), String> {
    if !b.starts_with(b"cook") {
        return Err("no `cook` signature".into());
    }
    let declared = be32(b, 4).ok_or("no page count")? as usize;
    let mut problems = Vec::new();
    // The page-size table cannot be longer than the file.
    let fits = (b.len() - 8) / 4;
    let pages = declared.min(fits);
    if pages < declared {
        problems.push(format!("{declared} pages declared, {pages} fit the file"));
    }
    let mut at = 8 + 4 * pages;
    let mut cookies = Vec::new();
    for i in 0..pages {
        let size = be32(b, 8 + 4 * i).unwrap_or(0) as usize;
        let Some(page) = b.get(at..).filter(|p| !p.is_empty()) else {
            problems.push(format!("page {i}: past the end of the file"));
            break;
        };
        let page = &page[..size.min(page.len())];
        if page.len() < size {
            problems.push(format!(
                "page {i}: cut short ({} of {size} bytes)",
                page.len()
            ));
        }
        page_cookies(page, i, &mut cookies, &mut problems);
        at = at.saturating_add(size);
    }
    Ok((cookies, problems))
}

fn page_cookies<'a>(
    page: &'a [u8],
    index: usize,
    cookies: &mut Vec<Cookie<'a>>,
    problems: &mut Vec<String>,
) {
    if be32(page, 0) != Some(0x0000_0100) {
        problems.push(format!("page {index}: no page tag"));
        return;
    }
    let declared = le32(page, 4).unwrap_or(0) as usize;
    let count = declared.min(page.len().saturating_sub(8) / 4);
    if count < declared {
        problems.push(format!(
            "page {index}: {declared} cookies declared, {count} offsets fit"
        ));
    }
    for c in 0..count {
        let off = le32(page, 8 + 4 * c).unwrap_or(0) as usize;
        match record(page, off) {
            Ok(cookie) => cookies.push(cookie),
            Err(why) => problems.push(format!("page {index} cookie {c}: {why}")),
        }
    }
}

/// One cookie record at `off` in its page.
fn record(page: &[u8], off: usize) -> Result<Cookie<'_>, &'static str> {
    let rest = page.get(off..).ok_or("offset past the page")?;
    let size = le32(rest, 0).ok_or("no record size")? as usize;
    if size < RECORD_HEAD {
        return Err("record shorter than its header");
    }
    let rec = rest.get(..size).ok_or("record past the page")?;
    let string = |field: usize| -> Result<&[u8], &'static str> {
        let start = le32(rec, field).ok_or("no string offset")? as usize;
        if start < RECORD_HEAD {
            return Err("string offset inside the record header");
        }
        let s = rec.get(start..).ok_or("string offset past the record")?;
        Ok(&s[..s.iter().position(|&c| c == 0).unwrap_or(s.len())])
    };
    Ok(Cookie {
        flags: le32(rec, 8).ok_or("no flags")?,
        domain: string(16)?,
        name: string(20)?,
        path: string(24)?,
        value: string(28)?,
        expires: le_f64(rec, 40).ok_or("no expiry")?,
        created: le_f64(rec, 48).ok_or("no creation time")?,
    })
}

/// Mac absolute time as RFC 3339 (UTC), when it is a time at all.
pub fn rfc3339(mac: f64) -> Option<String> {
    let unix = mac + MAC_EPOCH;
    // Years 1..=9999 only (also refuses NaN and infinities).
    if !(-62_135_596_800.0..=253_402_300_799.0).contains(&unix) {
        return None;
    }
    let t = time::OffsetDateTime::from_unix_timestamp(unix as i64).ok()?;
    t.format(&time::format_description::well_known::Rfc3339)
        .ok()
}

/// Hand every cookie's value to `out`, named by the cookie. `Ok(Some(note))` when some
/// of the jar could not be read.
pub fn fields(b: &[u8], out: &mut dyn FnMut(Field<'_>)) -> Result<Option<String>, String> {
    let (cookies, problems) = parse(b)?;
    if cookies.is_empty() && !problems.is_empty() {
        return Err(problems.join("; "));
    }
    for c in &cookies {
        let lossy = |s: &[u8]| String::from_utf8_lossy(s).into_owned();
        let at = Where::Cookie {
            name: lossy(c.name),
            domain: lossy(c.domain),
            path: lossy(c.path),
            secure: c.secure(),
            http_only: c.http_only(),
            expires: rfc3339(c.expires),
        };
        out(Field::new(at, std::str::from_utf8(c.name).ok(), c.value));
    }
    Ok((!problems.is_empty()).then(|| {
        let mut shown: Vec<String> = problems.iter().take(5).cloned().collect();
        if problems.len() > 5 {
            shown.push(format!("{} more", problems.len() - 5));
        }
        format!("cookie jar not read in full: {}", shown.join("; "))
    }))
}

/// A jar of one page holding `cookies` (domain, name, path, value, flags, expiry), as
/// WebKit writes it (tests, fuzz seeds and the fixture).
pub fn build(cookies: &[(&str, &str, &str, &str, u32, f64)]) -> Vec<u8> {
    let mut page = vec![0, 0, 1, 0];
    page.extend_from_slice(&(cookies.len() as u32).to_le_bytes());
    let table = page.len();
    page.resize(table + 4 * cookies.len() + 4, 0);
    for (i, (domain, name, path, value, flags, expires)) in cookies.iter().enumerate() {
        let start = page.len();
        page[table + 4 * i..table + 4 * i + 4].copy_from_slice(&(start as u32).to_le_bytes());
        let mut strings = Vec::new();
        let mut offsets = [0u32; 4];
        for (k, s) in [domain, name, path, value].iter().enumerate() {
            offsets[k] = (RECORD_HEAD + strings.len()) as u32;
            strings.extend_from_slice(s.as_bytes());
            strings.push(0);
        }
        let mut rec = Vec::new();
        rec.extend_from_slice(&((RECORD_HEAD + strings.len()) as u32).to_le_bytes());
        rec.extend_from_slice(&1u32.to_le_bytes());
        rec.extend_from_slice(&flags.to_le_bytes());
        rec.extend_from_slice(&0u32.to_le_bytes());
        for o in offsets {
            rec.extend_from_slice(&o.to_le_bytes());
        }
        rec.extend_from_slice(&[0; 8]);
        rec.extend_from_slice(&expires.to_le_bytes());
        rec.extend_from_slice(&(expires - 86_400.0).to_le_bytes());
        rec.extend_from_slice(&strings);
        page.extend_from_slice(&rec);
    }
    let mut jar = b"cook".to_vec();
    jar.extend_from_slice(&1u32.to_be_bytes());
    jar.extend_from_slice(&(page.len() as u32).to_be_bytes());
    jar.extend_from_slice(&page);
    // Footer: checksum, the end tag, and no metadata plist.
    jar.extend_from_slice(&[0; 4]);
    jar.extend_from_slice(&[0x07, 0x17, 0x20, 0x05, 0, 0, 0, 0x4b]);
    jar
}

#[cfg(test)]
mod tests {
    use super::*;

    type Got = Vec<(Where, Option<String>, String)>;

    fn collect(b: &[u8]) -> (Got, Option<String>) {
        let mut got = Vec::new();
        let note = fields(b, &mut |f| {
            got.push((
                f.at,
                f.name.map(str::to_owned),
                String::from_utf8_lossy(f.value).into_owned(),
            ))
        })
        .unwrap();
        (got, note)
    }

    #[test]
    fn cookies_by_name_and_domain_with_flags_and_expiry() {
        let jar = build(&[
            (
                ".example.com",
                "session",
                "/",
                "s3cr3t-session-v4lue",
                5,
                0.0,
            ),
            ("api.example.com", "theme", "/app", "dark", 0, f64::NAN),
        ]);
        assert_eq!(super::super::sniff(&jar), super::super::Kind::Cookies);
        let (got, note) = collect(&jar);
        assert_eq!(note, None);
        assert_eq!(got.len(), 2);
        assert_eq!(
            got[0],
            (
                Where::Cookie {
                    name: "session".into(),
                    domain: ".example.com".into(),
                    path: "/".into(),
                    secure: true,
                    http_only: true,
                    expires: Some("2001-01-01T00:00:00Z".into()),
                },
                Some("session".into()),
                "s3cr3t-session-v4lue".into()
            )
        );
        assert!(
            matches!(&got[1].0, Where::Cookie { secure: false, http_only: false, expires: None, path, .. } if path == "/app")
        );
        assert_eq!(
            super::super::describe(&got[0].0),
            "cookie session@.example.com"
        );
        let json = serde_json::to_value(&got[0].0).unwrap();
        assert_eq!(json["kind"], "cookie");
    }

    #[test]
    fn damaged_jars_keep_what_can_be_read() {
        let jar = build(&[
            ("a.example", "one", "/", "value-one", 0, 1.0),
            ("b.example", "two", "/", "value-two", 0, 1.0),
        ]);
        // Second cookie's name offset points past its record: it is dropped with a note.
        let mut bad = jar.clone();
        let page = 12;
        let second = u32::from_le_bytes(bad[page + 12..page + 16].try_into().unwrap()) as usize;
        bad[page + second + 20..page + second + 24].copy_from_slice(&9999u32.to_le_bytes());
        let (got, note) = collect(&bad);
        assert_eq!(got.len(), 1);
        assert!(note.unwrap().contains("cookie 1"));
        // A jar cut in its second cookie still gives the first.
        let (got, note) = collect(&jar[..page + second + 30]);
        assert_eq!(got.len(), 1);
        assert!(note.is_some());
        // Near misses: text that starts like the magic is text; not a jar at all, or a
        // jar of nothing readable.
        assert_eq!(
            super::super::sniff(b"cookie_consent=yes\nsession=abc\n"),
            super::super::Kind::Text
        );
        assert!(fields(b"cookie: a=b", &mut |_| {}).is_err());
        assert!(fields(b"cook\xff\xff\xff\xff", &mut |_| {}).is_err());
        assert!(fields(b"cook\0\0\0\0", &mut |_| {}).unwrap().is_none());
    }

    #[test]
    fn hostile_counts_and_offsets_are_bounded() {
        let mut jar = build(&[("d", "n", "/", "v", 0, 0.0)]);
        jar[4..8].copy_from_slice(&u32::MAX.to_be_bytes());
        let _ = fields(&jar, &mut |_| {});
        let mut jar = build(&[("d", "n", "/", "v", 0, 0.0)]);
        jar[8..12].copy_from_slice(&u32::MAX.to_be_bytes());
        jar[20..24].copy_from_slice(&u32::MAX.to_le_bytes());
        let _ = fields(&jar, &mut |_| {});
        // String offsets into the record header are refused (no value read from it).
        let mut jar = build(&[("d", "n", "/", "v", 0, 0.0)]);
        let rec = 12 + 16;
        jar[rec + 28..rec + 32].copy_from_slice(&4u32.to_le_bytes());
        assert!(fields(&jar, &mut |_| {}).is_err());
    }
}
