//! Content decoders: recognise a file by its bytes and hand its values out as fields.
//!
//! Each decoder turns one kind of content into [`Field`]s: a value, the name it is stored
//! under (a plist key, a column, a JSON member, a cookie name) and where it is
//! ([`Where`]). The sweep runs the leak rules over each field. A decoder never fails the
//! sweep: content that does not decode as what its bytes claim falls back to the strings
//! in it, and the fallback is said in a note.

pub mod compressed;
pub mod cookies;
pub mod encoded;
pub mod freespace;
pub mod json;
pub mod plist;
pub mod sqlite;
pub mod text;
pub mod wal;

use serde::Serialize;

/// What a file's bytes say it is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Kind {
    Plist,
    Sqlite,
    Json,
    Text,
    /// Apple `binarycookies` (a cookie jar: `Cookies.binarycookies`).
    Cookies,
    /// gzip or zlib: inflated (bounded), then its content sniffed and decoded.
    Compressed,
    /// Binary content, searched as the printable strings in it.
    Binary,
    /// Images, audio, video: not searched (counted).
    Media,
    Empty,
}

/// Where in a file a value is. Serialised as `{"kind": …}` (docs/json-schema.md, `auditor.leaks/1`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Where {
    /// A plist value by its key path (`/auth/refreshToken`, array items by index); for an
    /// NSKeyedArchiver archive, the path of the resolved object.
    Plist { key_path: String },
    /// A SQLite cell.
    Sqlite {
        table: String,
        column: String,
        #[serde(skip_serializing_if = "Option::is_none")]
        rowid: Option<i64>,
    },
    /// A JSON value by its JSON pointer (RFC 6901).
    Json { pointer: String },
    /// Text: 1-based line and the byte offset of the value in the file.
    Text { line: u64, offset: u64 },
    /// A printable run inside binary content, at this byte offset.
    Bytes { offset: u64 },
    /// An HTTP cookie of a cookie jar; `expires` in RFC 3339 (UTC), when it has one.
    Cookie {
        name: String,
        domain: String,
        path: String,
        secure: bool,
        http_only: bool,
        #[serde(skip_serializing_if = "Option::is_none")]
        expires: Option<String>,
    },
}

/// What a value was in its container, before it was handed out as bytes (`tamper` tells
/// a boolean from the string "true"; the leak sweep searches the bytes alike).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Default, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ValueType {
    /// Text: a plist or JSON string, a SQLite TEXT cell, a line, a printable run.
    #[default]
    String,
    /// Bytes (a plist data value or a SQLite blob) read as text.
    Data,
    Integer,
    Real,
    /// `true` or `false`.
    Bool,
    /// A plist date, as RFC 3339 (UTC).
    Date,
}

/// One value of a file.
pub struct Field<'a> {
    pub at: Where,
    /// The name the value is stored under, when the format has one.
    pub name: Option<&'a str>,
    pub value: &'a [u8],
    /// The value is no longer live: found in free space (a SQLite freelist page, a
    /// freeblock or unallocated space of a page) or in an uncommitted WAL frame.
    pub deleted: bool,
    /// What the value was in its container.
    pub ty: ValueType,
    /// A typed scalar the leak sweep does not search (booleans, dates):
    /// handed out for `tamper`, which reads settings by their type.
    pub typed_only: bool,
}

impl<'a> Field<'a> {
    /// A live string value.
    pub fn new(at: Where, name: Option<&'a str>, value: &'a [u8]) -> Self {
        Field {
            at,
            name,
            value,
            deleted: false,
            ty: ValueType::String,
            typed_only: false,
        }
    }

    /// A live value of type `ty`.
    pub fn typed(at: Where, name: Option<&'a str>, value: &'a [u8], ty: ValueType) -> Self {
        Field {
            ty,
            typed_only: matches!(ty, ValueType::Bool | ValueType::Date),
            ..Field::new(at, name, value)
        }
    }
}

/// Where a value nested in a field lies (a plist in a SQLite blob, a JSON text in a plist
/// string): the outer place, then the inner one.
pub fn nested(outer: &Where, inner: &Where) -> Where {
    let outer_s = describe(outer);
    match inner {
        Where::Plist { key_path } => Where::Plist {
            key_path: format!("{outer_s}{key_path}"),
        },
        Where::Json { pointer } => Where::Json {
            pointer: format!("{outer_s}{pointer}"),
        },
        other => other.clone(),
    }
}

/// A short text for a place (`/a/b`, `table.column[rowid 3]`, `line 4`).
pub fn describe(w: &Where) -> String {
    match w {
        Where::Plist { key_path } => key_path.clone(),
        Where::Sqlite {
            table,
            column,
            rowid,
        } => match rowid {
            Some(r) => format!("{table}.{column}[rowid {r}]"),
            None => format!("{table}.{column}"),
        },
        Where::Json { pointer } => pointer.clone(),
        Where::Text { line, offset } => format!("line {line} (byte {offset})"),
        Where::Bytes { offset } => format!("byte {offset}"),
        Where::Cookie { name, domain, .. } => format!("cookie {name}@{domain}"),
    }
}

/// Recognise content by its first bytes (and, for text, by being mostly printable UTF-8).
pub fn sniff(b: &[u8]) -> Kind {
    let head = &b[..b.len().min(64)];
    let starts = |m: &[u8]| head.starts_with(m);
    let trimmed = trim_start(b);
    if b.is_empty() {
        Kind::Empty
    } else if starts(b"bplist00")
        || (starts(b"<?xml") && contains(head, b"plist"))
        || trimmed.starts_with(b"<plist")
        || contains(&b[..b.len().min(256)], b"<!DOCTYPE plist")
    {
        Kind::Plist
    } else if starts(b"SQLite format 3\0") {
        Kind::Sqlite
    } else if starts(b"cook") && !text::looks_like_text(b) {
        Kind::Cookies
    } else if compressed::sniff(b) {
        Kind::Compressed
    } else if is_media(head) {
        Kind::Media
    } else if (trimmed.starts_with(b"{") || trimmed.starts_with(b"["))
        && serde_json::from_slice::<serde::de::IgnoredAny>(b).is_ok()
    {
        Kind::Json
    } else if text::looks_like_text(b) {
        Kind::Text
    } else {
        Kind::Binary
    }
}

fn trim_start(b: &[u8]) -> &[u8] {
    let b = b.strip_prefix(b"\xef\xbb\xbf").unwrap_or(b);
    let n = b.iter().take_while(|c| c.is_ascii_whitespace()).count();
    &b[n..]
}

fn contains(hay: &[u8], needle: &[u8]) -> bool {
    hay.windows(needle.len()).any(|w| w == needle)
}

/// Images, audio and video by their magic numbers.
fn is_media(h: &[u8]) -> bool {
    let ftyp = h.len() >= 12 && &h[4..8] == b"ftyp";
    h.starts_with(b"\xff\xd8\xff")
        || h.starts_with(b"\x89PNG\r\n\x1a\n")
        || h.starts_with(b"GIF8")
        || ftyp
        || (h.starts_with(b"RIFF")
            && h.len() >= 12
            && (&h[8..12] == b"WEBP" || &h[8..12] == b"WAVE" || &h[8..12] == b"AVI "))
        || h.starts_with(b"ID3")
        || h.starts_with(b"caff")
        || h.starts_with(b"\x1a\x45\xdf\xa3")
        || h.starts_with(b"II*\0")
        || h.starts_with(b"MM\0*")
}

/// Binary content (a file, a SQLite blob, a plist `data` value): each DER private key or
/// PKCS#12 file in it as one field holding its bytes, at its offset
/// ([`crate::leaks::der`]), then the printable strings ([`text::strings`]).
pub fn binary(b: &[u8], out: &mut dyn FnMut(Field<'_>)) {
    for (r, _) in crate::leaks::der::find(b) {
        let at = Where::Bytes {
            offset: r.start as u64,
        };
        out(Field::new(at, None, &b[r]));
    }
    text::strings(b, out);
}

/// The longest binary value handed out whole, typed-only, by [`binary_value`]: a SHA-512
/// digest.
pub const RAW_VALUE_MAX: usize = 64;

/// The binary content of one value (a plist `data`, a SQLite blob): when short, the value
/// itself as one typed-only [`ValueType::Data`] field (a digest or key that a setting's
/// integrity may rest on, for `tamper`; the leak sweep skips it), then [`binary`].
pub fn binary_value(b: &[u8], out: &mut dyn FnMut(Field<'_>)) {
    if !b.is_empty() && b.len() <= RAW_VALUE_MAX {
        out(Field {
            typed_only: true,
            ..Field::typed(Where::Bytes { offset: 0 }, None, b, ValueType::Data)
        });
    }
    binary(b, out);
}

/// Hand every field of `b` (of kind `kind`) to `out`. Returns a note when the content
/// did not decode (in full) as its kind: what could not be read, and that the whole file
/// was then searched as strings.
pub fn fields(kind: Kind, b: &[u8], out: &mut dyn FnMut(Field<'_>)) -> Option<String> {
    let decoded = match kind {
        Kind::Plist => plist::fields(b, out).map(|()| None),
        Kind::Sqlite => sqlite::fields(b, out),
        Kind::Json => json::fields(b, out).map(|()| None),
        Kind::Cookies => cookies::fields(b, out),
        Kind::Compressed => compressed::fields(b, out),
        Kind::Text => {
            text::fields(b, out);
            Ok(None)
        }
        Kind::Binary => {
            binary(b, out);
            Ok(None)
        }
        Kind::Media | Kind::Empty => Ok(None),
    };
    match decoded {
        Ok(note) => note,
        Err(why) => {
            text::strings(b, out);
            Some(format!(
                "does not decode as {kind:?} ({why}): searched as strings"
            ))
        }
    }
}
