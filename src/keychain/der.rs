//! Apple's DER encoding of property lists (SEC `der_plist`): a bounded decoder and an encoder.
//!
//! Value model (§9.4 of FORMAT.md): dictionary = SET `0x31` of SEQUENCE `0x30` {key, value};
//! string = UTF8String `0x0C` (NumericString `0x12`, PrintableString `0x13` and IA5String
//! `0x16` are read as strings too); data = OCTET STRING `0x04`; number = INTEGER `0x02`;
//! boolean = BOOLEAN `0x01`; date = GeneralizedTime `0x18` (UTCTime `0x17` accepted); array =
//! SEQUENCE `0x30`; null = NULL `0x05`. Every other element is kept as [`DerValue::Unknown`]
//! with its identifier and content octets (Apple's private-class CFSet lands there too).
//!
//! Decoding refuses indefinite lengths, lengths longer than 8 bytes or beyond the buffer,
//! nesting deeper than [`MAX_DEPTH`], more than [`MAX_ELEMENTS`] elements and trailing bytes.
//! Decoded values can hold secrets (`v_Data`): `Debug` shows data lengths only, and
//! [`zeroize::Zeroize`] is implemented so callers can wrap a value in `Zeroizing`.

use std::fmt;
use zeroize::Zeroize;

/// Deepest nesting of constructed elements the decoder accepts.
pub const MAX_DEPTH: usize = 32;
/// Most elements (of any kind, at any depth) one decode accepts.
pub const MAX_ELEMENTS: usize = 1_000_000;

/// Why DER bytes could not be decoded.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DerError {
    #[error("DER: input ends at offset {offset} inside {what}")]
    Truncated { offset: usize, what: &'static str },
    #[error("DER: indefinite length (0x80) at offset {offset} is not allowed")]
    IndefiniteLength { offset: usize },
    #[error("DER: length at offset {offset} uses {bytes} length bytes (at most 8 allowed)")]
    LengthTooLong { offset: usize, bytes: usize },
    #[error("DER: element at offset {offset} claims {len} bytes but only {available} remain")]
    LengthBeyondBuffer {
        offset: usize,
        len: u64,
        available: usize,
    },
    #[error("DER: identifier at offset {offset} is longer than 4 bytes")]
    TagTooLong { offset: usize },
    #[error("DER: nesting deeper than {MAX_DEPTH} at offset {offset}")]
    TooDeep { offset: usize },
    #[error("DER: more than {MAX_ELEMENTS} elements")]
    TooManyElements,
    #[error("DER: {count} trailing bytes after the value at offset {offset}")]
    TrailingBytes { offset: usize, count: usize },
    #[error("DER: {what} at offset {offset} is not valid UTF-8")]
    InvalidUtf8 { offset: usize, what: &'static str },
    #[error("DER: INTEGER at offset {offset} has no content bytes")]
    EmptyInteger { offset: usize },
    #[error("DER: BOOLEAN at offset {offset} has {len} content bytes (expected 1)")]
    BadBoolean { offset: usize, len: usize },
    #[error("DER: NULL at offset {offset} has {len} content bytes (expected 0)")]
    BadNull { offset: usize, len: usize },
    #[error("DER: dictionary entry at offset {offset} is not a SEQUENCE of key and value")]
    BadDictEntry { offset: usize },
    #[error("DER: dictionary key at offset {offset} is not a string")]
    NonStringKey { offset: usize },
    #[error("DER: dictionary key {key:?} appears twice")]
    DuplicateKey { key: String },
    #[error("DER: expected a dictionary (SET 0x31), found {found}")]
    NotADictionary { found: String },
}

/// Which ASN.1 time type a date was (or will be) encoded as.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum TimeKind {
    /// GeneralizedTime (0x18), `YYYYMMDDhhmmss[.f]Z`, what Apple writes.
    Generalized,
    /// UTCTime (0x17), `YYMMDDhhmmssZ` (years 50–99 are 19xx).
    Utc,
}

/// A date as stored, with its RFC 3339 form when the text is a valid time.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct DerDate {
    pub kind: TimeKind,
    /// The time text exactly as encoded.
    pub raw: String,
    /// `YYYY-MM-DDThh:mm:ss[.f]Z` when `raw` parses and every field is in range.
    pub rfc3339: Option<String>,
}

impl DerDate {
    /// From the encoded text; computes `rfc3339`.
    pub fn new(kind: TimeKind, raw: impl Into<String>) -> Self {
        let raw = raw.into();
        let rfc3339 = match kind {
            TimeKind::Generalized => parse_generalized(&raw),
            TimeKind::Utc => parse_utc(&raw),
        };
        DerDate { kind, raw, rfc3339 }
    }

    /// The RFC 3339 form if valid, else the raw text.
    pub fn display(&self) -> String {
        self.rfc3339.clone().unwrap_or_else(|| self.raw.clone())
    }
}

/// A DER INTEGER: `Int` when it fits an i64, otherwise the two's-complement content bytes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DerInt {
    Int(i64),
    Big(Vec<u8>),
}

/// One decoded element.
#[derive(Clone, PartialEq)]
pub enum DerValue {
    Dict(DerDict),
    Array(Vec<DerValue>),
    String(String),
    Data(Vec<u8>),
    Integer(DerInt),
    Bool(bool),
    Date(DerDate),
    Null,
    /// Any other element: identifier octets packed big-endian into `tag` (1–4 octets) and
    /// the raw content octets (not descended into, even when constructed).
    Unknown {
        tag: u32,
        bytes: Vec<u8>,
    },
}

impl DerValue {
    /// A short name of the kind of value, for messages.
    pub fn kind_name(&self) -> String {
        match self {
            DerValue::Dict(_) => "dictionary".into(),
            DerValue::Array(_) => "array".into(),
            DerValue::String(_) => "string".into(),
            DerValue::Data(_) => "data".into(),
            DerValue::Integer(_) => "integer".into(),
            DerValue::Bool(_) => "boolean".into(),
            DerValue::Date(_) => "date".into(),
            DerValue::Null => "null".into(),
            DerValue::Unknown { tag, .. } => format!("unknown element (tag 0x{tag:02X})"),
        }
    }
}

impl fmt::Debug for DerValue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            DerValue::Dict(d) => d.fmt(f),
            DerValue::Array(a) => f.debug_list().entries(a).finish(),
            DerValue::String(s) => write!(f, "String({s:?})"),
            DerValue::Data(d) => write!(f, "Data(<{} bytes>)", d.len()),
            DerValue::Integer(DerInt::Int(i)) => write!(f, "Integer({i})"),
            DerValue::Integer(DerInt::Big(b)) => write!(f, "Integer(<{} bytes>)", b.len()),
            DerValue::Bool(b) => write!(f, "Bool({b})"),
            DerValue::Date(d) => write!(f, "Date({:?})", d.raw),
            DerValue::Null => f.write_str("Null"),
            DerValue::Unknown { tag, bytes } => {
                write!(f, "Unknown(0x{tag:02X}, <{} bytes>)", bytes.len())
            }
        }
    }
}

impl Zeroize for DerValue {
    fn zeroize(&mut self) {
        match self {
            DerValue::Dict(d) => d.zeroize(),
            DerValue::Array(a) => a.iter_mut().for_each(Zeroize::zeroize),
            DerValue::String(s) => s.zeroize(),
            DerValue::Data(d) => d.zeroize(),
            DerValue::Integer(DerInt::Int(i)) => i.zeroize(),
            DerValue::Integer(DerInt::Big(b)) => b.zeroize(),
            DerValue::Bool(b) => b.zeroize(),
            DerValue::Date(d) => {
                d.raw.zeroize();
                if let Some(r) = d.rfc3339.as_mut() {
                    r.zeroize();
                }
            }
            DerValue::Null => {}
            DerValue::Unknown { bytes, .. } => bytes.zeroize(),
        }
    }
}

/// A dictionary: entries in stored order, keys unique.
#[derive(Clone, PartialEq, Default)]
pub struct DerDict {
    entries: Vec<(String, DerValue)>,
}

impl fmt::Debug for DerDict {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_map()
            .entries(self.entries.iter().map(|(k, v)| (k, v)))
            .finish()
    }
}

impl Zeroize for DerDict {
    fn zeroize(&mut self) {
        for (k, v) in self.entries.iter_mut() {
            k.zeroize();
            v.zeroize();
        }
        self.entries.clear();
    }
}

impl DerDict {
    pub fn new() -> Self {
        Self::default()
    }

    /// Set `key` (replacing an existing value of that key).
    pub fn insert(&mut self, key: impl Into<String>, value: DerValue) {
        let key = key.into();
        if let Some(slot) = self.entries.iter_mut().find(|(k, _)| *k == key) {
            slot.1 = value;
        } else {
            self.entries.push((key, value));
        }
    }

    pub fn len(&self) -> usize {
        self.entries.len()
    }

    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    pub fn entries(&self) -> &[(String, DerValue)] {
        &self.entries
    }

    pub fn keys(&self) -> impl Iterator<Item = &str> {
        self.entries.iter().map(|(k, _)| k.as_str())
    }

    pub fn get(&self, key: &str) -> Option<&DerValue> {
        self.entries.iter().find(|(k, _)| k == key).map(|(_, v)| v)
    }

    /// Text of a string value; a data value (SEC stores `acct`/`svce` as blobs) is decoded
    /// as UTF-8 when valid, else given as lower-case hex.
    pub fn get_str(&self, key: &str) -> Option<String> {
        match self.get(key)? {
            DerValue::String(s) => Some(s.clone()),
            DerValue::Data(d) => Some(match std::str::from_utf8(d) {
                Ok(s) => s.to_owned(),
                Err(_) => hex::encode(d),
            }),
            _ => None,
        }
    }

    /// Bytes of a data value (a string value gives its UTF-8 bytes).
    pub fn get_data(&self, key: &str) -> Option<&[u8]> {
        match self.get(key)? {
            DerValue::Data(d) => Some(d),
            DerValue::String(s) => Some(s.as_bytes()),
            _ => None,
        }
    }

    /// An integer that fits an i64.
    pub fn get_int(&self, key: &str) -> Option<i64> {
        match self.get(key)? {
            DerValue::Integer(DerInt::Int(i)) => Some(*i),
            _ => None,
        }
    }

    /// A boolean, or an integer 0/1 (SEC stores some flags as numbers).
    pub fn get_bool(&self, key: &str) -> Option<bool> {
        match self.get(key)? {
            DerValue::Bool(b) => Some(*b),
            DerValue::Integer(DerInt::Int(0)) => Some(false),
            DerValue::Integer(DerInt::Int(1)) => Some(true),
            _ => None,
        }
    }

    pub fn get_date(&self, key: &str) -> Option<&DerDate> {
        match self.get(key)? {
            DerValue::Date(d) => Some(d),
            _ => None,
        }
    }
}

// ------------------------------------------------------------------------------------------
// Decoder

/// Decode exactly one element covering all of `bytes`.
pub fn decode(bytes: &[u8]) -> Result<DerValue, DerError> {
    let mut dec = Decoder {
        buf: bytes,
        elements: 0,
    };
    let (value, end) = dec.element(0, 0)?;
    if end != bytes.len() {
        return Err(DerError::TrailingBytes {
            offset: end,
            count: bytes.len() - end,
        });
    }
    Ok(value)
}

/// Decode a DER dictionary (the v3 keychain payload shape).
pub fn decode_dict(bytes: &[u8]) -> Result<DerDict, DerError> {
    match decode(bytes)? {
        DerValue::Dict(d) => Ok(d),
        other => Err(DerError::NotADictionary {
            found: other.kind_name(),
        }),
    }
}

struct Decoder<'a> {
    buf: &'a [u8],
    elements: usize,
}

struct Header {
    tag: u32,
    /// Offset of the first content byte.
    start: usize,
    /// Offset one past the last content byte.
    end: usize,
}

impl<'a> Decoder<'a> {
    fn byte(&self, at: usize, what: &'static str) -> Result<u8, DerError> {
        self.buf
            .get(at)
            .copied()
            .ok_or(DerError::Truncated { offset: at, what })
    }

    /// Read identifier and length at `pos`, bounded by `limit` (end of the enclosing element).
    fn header(&self, pos: usize, limit: usize) -> Result<Header, DerError> {
        if pos >= limit {
            return Err(DerError::Truncated {
                offset: pos,
                what: "an identifier",
            });
        }
        let first = self.byte(pos, "an identifier")?;
        let mut at = pos + 1;
        let mut tag = u32::from(first);
        if first & 0x1F == 0x1F {
            // High-tag-number form: continuation octets with bit 8 set, last one clear.
            loop {
                if at >= limit {
                    return Err(DerError::Truncated {
                        offset: at,
                        what: "a multi-byte identifier",
                    });
                }
                let b = self.byte(at, "a multi-byte identifier")?;
                if at - pos >= 4 {
                    return Err(DerError::TagTooLong { offset: pos });
                }
                tag = (tag << 8) | u32::from(b);
                at += 1;
                if b & 0x80 == 0 {
                    break;
                }
            }
        }
        if at >= limit {
            return Err(DerError::Truncated {
                offset: at,
                what: "a length",
            });
        }
        let l0 = self.byte(at, "a length")?;
        let len_off = at;
        at += 1;
        let len: u64 = if l0 < 0x80 {
            u64::from(l0)
        } else if l0 == 0x80 {
            return Err(DerError::IndefiniteLength { offset: len_off });
        } else {
            let n = usize::from(l0 & 0x7F);
            if n > 8 {
                return Err(DerError::LengthTooLong {
                    offset: len_off,
                    bytes: n,
                });
            }
            let mut v: u64 = 0;
            for _ in 0..n {
                if at >= limit {
                    return Err(DerError::Truncated {
                        offset: at,
                        what: "a long-form length",
                    });
                }
                v = (v << 8) | u64::from(self.byte(at, "a long-form length")?);
                at += 1;
            }
            v
        };
        let available = limit - at;
        if len > available as u64 {
            return Err(DerError::LengthBeyondBuffer {
                offset: pos,
                len,
                available,
            });
        }
        Ok(Header {
            tag,
            start: at,
            end: at + len as usize,
        })
    }

    /// Decode the element at `pos`; returns it and the offset just past it.
    fn element(&mut self, pos: usize, depth: usize) -> Result<(DerValue, usize), DerError> {
        self.element_within(pos, self.buf.len(), depth)
    }

    fn element_within(
        &mut self,
        pos: usize,
        limit: usize,
        depth: usize,
    ) -> Result<(DerValue, usize), DerError> {
        if depth > MAX_DEPTH {
            return Err(DerError::TooDeep { offset: pos });
        }
        self.elements += 1;
        if self.elements > MAX_ELEMENTS {
            return Err(DerError::TooManyElements);
        }
        let h = self.header(pos, limit)?;
        let content = self.buf.get(h.start..h.end).ok_or(DerError::Truncated {
            offset: h.start,
            what: "content",
        })?;
        let value = match h.tag {
            0x31 => DerValue::Dict(self.dict(&h, depth)?),
            0x30 => {
                let mut items = Vec::new();
                let mut at = h.start;
                while at < h.end {
                    let (v, next) = self.element_within(at, h.end, depth + 1)?;
                    items.push(v);
                    at = next;
                }
                DerValue::Array(items)
            }
            0x0C | 0x12 | 0x13 | 0x16 => match std::str::from_utf8(content) {
                Ok(s) => DerValue::String(s.to_owned()),
                Err(_) => {
                    return Err(DerError::InvalidUtf8 {
                        offset: pos,
                        what: "string",
                    })
                }
            },
            0x04 => DerValue::Data(content.to_vec()),
            0x02 => DerValue::Integer(
                decode_integer(content).ok_or(DerError::EmptyInteger { offset: pos })?,
            ),
            0x01 => match content {
                [b] => DerValue::Bool(*b != 0),
                _ => {
                    return Err(DerError::BadBoolean {
                        offset: pos,
                        len: content.len(),
                    })
                }
            },
            0x05 => {
                if !content.is_empty() {
                    return Err(DerError::BadNull {
                        offset: pos,
                        len: content.len(),
                    });
                }
                DerValue::Null
            }
            0x18 | 0x17 => {
                let text = std::str::from_utf8(content).map_err(|_| DerError::InvalidUtf8 {
                    offset: pos,
                    what: "time",
                })?;
                let kind = if h.tag == 0x18 {
                    TimeKind::Generalized
                } else {
                    TimeKind::Utc
                };
                DerValue::Date(DerDate::new(kind, text))
            }
            tag => DerValue::Unknown {
                tag,
                bytes: content.to_vec(),
            },
        };
        Ok((value, h.end))
    }

    fn dict(&mut self, h: &Header, depth: usize) -> Result<DerDict, DerError> {
        let mut dict = DerDict::new();
        // Duplicate check by hash: a linear scan per key is quadratic, and a hostile
        // access-control DER (read without any key) can hold hundreds of thousands of keys.
        let mut seen = std::collections::HashSet::new();
        let mut at = h.start;
        while at < h.end {
            if depth + 1 > MAX_DEPTH {
                return Err(DerError::TooDeep { offset: at });
            }
            self.elements += 1;
            if self.elements > MAX_ELEMENTS {
                return Err(DerError::TooManyElements);
            }
            let entry = self.header(at, h.end)?;
            if entry.tag != 0x30 {
                return Err(DerError::BadDictEntry { offset: at });
            }
            let (key, after_key) = self.element_within(entry.start, entry.end, depth + 2)?;
            let key = match key {
                DerValue::String(s) => s,
                _ => {
                    return Err(DerError::NonStringKey {
                        offset: entry.start,
                    })
                }
            };
            if after_key >= entry.end {
                return Err(DerError::BadDictEntry { offset: at });
            }
            let (value, after_value) = self.element_within(after_key, entry.end, depth + 2)?;
            if after_value != entry.end {
                return Err(DerError::BadDictEntry { offset: at });
            }
            if !seen.insert(key.clone()) {
                return Err(DerError::DuplicateKey { key });
            }
            dict.entries.push((key, value));
            at = entry.end;
        }
        Ok(dict)
    }
}

/// Two's-complement big-endian → i64 when it fits (non-minimal encodings accepted).
fn decode_integer(content: &[u8]) -> Option<DerInt> {
    let first = *content.first()?;
    let negative = first & 0x80 != 0;
    let pad = if negative { 0xFF } else { 0x00 };
    // Strip redundant sign-extension octets.
    let mut s = content;
    while s.len() > 1 && s[0] == pad && (s[1] & 0x80 != 0) == negative {
        s = &s[1..];
    }
    if s.len() > 8 {
        return Some(DerInt::Big(content.to_vec()));
    }
    let mut v: i64 = if negative { -1 } else { 0 };
    for &b in s {
        v = (v << 8) | i64::from(b);
    }
    Some(DerInt::Int(v))
}

// ------------------------------------------------------------------------------------------
// Dates

fn digits(s: &str) -> Option<u32> {
    if s.is_empty() || !s.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    s.parse().ok()
}

fn days_in_month(year: u32, month: u32) -> u32 {
    match month {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        2 if (year % 4 == 0 && year % 100 != 0) || year % 400 == 0 => 29,
        2 => 28,
        _ => 0,
    }
}

fn rfc3339(y: u32, mo: u32, d: u32, h: u32, mi: u32, s: u32, frac: &str) -> Option<String> {
    if !(1..=12).contains(&mo) || d == 0 || d > days_in_month(y, mo) || h > 23 || mi > 59 || s > 60
    {
        return None;
    }
    let frac = if frac.is_empty() {
        String::new()
    } else {
        format!(".{frac}")
    };
    Some(format!(
        "{y:04}-{mo:02}-{d:02}T{h:02}:{mi:02}:{s:02}{frac}Z"
    ))
}

/// `YYYYMMDDhhmmss[.fff]Z` (the only form Apple writes; local times and offsets rejected).
fn parse_generalized(raw: &str) -> Option<String> {
    let body = raw.strip_suffix('Z')?;
    let (main, frac) = match body.split_once('.') {
        Some((m, f)) => {
            digits(f)?;
            (m, f)
        }
        None => (body, ""),
    };
    if main.len() != 14 {
        return None;
    }
    rfc3339(
        digits(main.get(0..4)?)?,
        digits(main.get(4..6)?)?,
        digits(main.get(6..8)?)?,
        digits(main.get(8..10)?)?,
        digits(main.get(10..12)?)?,
        digits(main.get(12..14)?)?,
        frac,
    )
}

/// `YYMMDDhhmm[ss]Z`; years 50–99 are 1950–1999 (RFC 5280).
fn parse_utc(raw: &str) -> Option<String> {
    let body = raw.strip_suffix('Z')?;
    if body.len() != 12 && body.len() != 10 {
        return None;
    }
    let yy = digits(body.get(0..2)?)?;
    let year = if yy >= 50 { 1900 + yy } else { 2000 + yy };
    let sec = if body.len() == 12 {
        digits(body.get(10..12)?)?
    } else {
        0
    };
    rfc3339(
        year,
        digits(body.get(2..4)?)?,
        digits(body.get(4..6)?)?,
        digits(body.get(6..8)?)?,
        digits(body.get(8..10)?)?,
        sec,
        "",
    )
}

// ------------------------------------------------------------------------------------------
// Encoder

/// Encode a value; dictionary entries are sorted by their encoded bytes (as DER sets are,
/// and as SEC writes them), strings are written as UTF8String.
pub fn encode(value: &DerValue) -> Vec<u8> {
    let mut out = Vec::new();
    encode_into(value, &mut out);
    out
}

/// Encode a dictionary (convenience for payload building).
pub fn encode_dict(dict: &DerDict) -> Vec<u8> {
    let mut out = Vec::new();
    encode_dict_into(dict, &mut out);
    out
}

fn push_tlv(out: &mut Vec<u8>, tag: u32, content: &[u8]) {
    let tag_bytes = tag.to_be_bytes();
    let skip = tag_bytes.iter().take(3).take_while(|b| **b == 0).count();
    out.extend_from_slice(&tag_bytes[skip..]);
    let len = content.len();
    if len < 0x80 {
        out.push(len as u8);
    } else {
        let lb = (len as u64).to_be_bytes();
        let skip = lb.iter().take_while(|b| **b == 0).count();
        out.push(0x80 | (8 - skip) as u8);
        out.extend_from_slice(&lb[skip..]);
    }
    out.extend_from_slice(content);
}

fn encode_dict_into(dict: &DerDict, out: &mut Vec<u8>) {
    let mut entries: Vec<Vec<u8>> = dict
        .entries
        .iter()
        .map(|(k, v)| {
            let mut body = Vec::new();
            push_tlv(&mut body, 0x0C, k.as_bytes());
            encode_into(v, &mut body);
            let mut e = Vec::new();
            push_tlv(&mut e, 0x30, &body);
            e
        })
        .collect();
    entries.sort();
    let content: Vec<u8> = entries.concat();
    push_tlv(out, 0x31, &content);
}

fn encode_integer(i: i64) -> Vec<u8> {
    let b = i.to_be_bytes();
    let mut s: &[u8] = &b;
    while s.len() > 1 && ((s[0] == 0x00 && s[1] & 0x80 == 0) || (s[0] == 0xFF && s[1] & 0x80 != 0))
    {
        s = &s[1..];
    }
    s.to_vec()
}

fn encode_into(value: &DerValue, out: &mut Vec<u8>) {
    match value {
        DerValue::Dict(d) => encode_dict_into(d, out),
        DerValue::Array(items) => {
            let mut body = Vec::new();
            for it in items {
                encode_into(it, &mut body);
            }
            push_tlv(out, 0x30, &body);
        }
        DerValue::String(s) => push_tlv(out, 0x0C, s.as_bytes()),
        DerValue::Data(d) => push_tlv(out, 0x04, d),
        DerValue::Integer(DerInt::Int(i)) => push_tlv(out, 0x02, &encode_integer(*i)),
        DerValue::Integer(DerInt::Big(b)) => push_tlv(out, 0x02, b),
        DerValue::Bool(b) => push_tlv(out, 0x01, &[if *b { 0xFF } else { 0x00 }]),
        DerValue::Date(d) => {
            let tag = match d.kind {
                TimeKind::Generalized => 0x18,
                TimeKind::Utc => 0x17,
            };
            push_tlv(out, tag, d.raw.as_bytes())
        }
        DerValue::Null => push_tlv(out, 0x05, &[]),
        DerValue::Unknown { tag, bytes } => push_tlv(out, *tag, bytes),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn s(x: &str) -> DerValue {
        DerValue::String(x.into())
    }

    #[test]
    fn hand_built_dictionary() {
        // { "acct": "bob", "port": 443, "sync": true, "v_Data": h'0102' }
        // 30 0B 0C 04 "acct" 0C 03 "bob"
        // 30 0A 0C 04 "port" 02 02 01 BB
        // 30 09 0C 04 "sync" 01 01 FF
        // 30 0C 0C 06 "v_Data" 04 02 01 02
        let acct = [
            &[0x30, 0x0B, 0x0C, 0x04][..],
            b"acct",
            &[0x0C, 0x03],
            b"bob",
        ]
        .concat();
        let port = [
            &[0x30, 0x0A, 0x0C, 0x04][..],
            b"port",
            &[0x02, 0x02, 0x01, 0xBB],
        ]
        .concat();
        let sync = [&[0x30, 0x09, 0x0C, 0x04][..], b"sync", &[0x01, 0x01, 0xFF]].concat();
        let data = [
            &[0x30, 0x0C, 0x0C, 0x06][..],
            b"v_Data",
            &[0x04, 0x02, 0x01, 0x02],
        ]
        .concat();
        // Stored order (not DER order) is accepted.
        let b = [&[0x31, 0x32][..], &acct, &port, &sync, &data].concat();
        assert_eq!(b.len(), 2 + 0x32);
        let d = decode_dict(&b).unwrap();
        assert_eq!(d.len(), 4);
        assert_eq!(
            d.keys().collect::<Vec<_>>(),
            ["acct", "port", "sync", "v_Data"]
        );
        assert_eq!(d.get_str("acct").as_deref(), Some("bob"));
        assert_eq!(d.get_int("port"), Some(443));
        assert_eq!(d.get_bool("sync"), Some(true));
        assert_eq!(d.get_data("v_Data"), Some(&[1u8, 2][..]));
        assert_eq!(d.get_str("missing"), None);
        // The encoder writes entries in DER set order: by encoded bytes (here by length).
        assert_eq!(
            encode_dict(&d),
            [&[0x31, 0x32][..], &sync, &port, &acct, &data].concat()
        );
    }

    #[test]
    fn integers() {
        let cases: &[(&[u8], i64)] = &[
            (&[0x00], 0),
            (&[0x7F], 127),
            (&[0x00, 0x80], 128),
            (&[0xFF], -1),
            (&[0x80], -128),
            (&[0xFF, 0x7F], -129),
            (&[0x01, 0x00, 0x00, 0x00, 0x00], 4_294_967_296),
            (&[0x80, 0, 0, 0, 0, 0, 0, 0], i64::MIN),
            (&[0x7F, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF], i64::MAX),
            // non-minimal but accepted
            (&[0x00, 0x00, 0x05], 5),
        ];
        for (content, want) in cases {
            let mut b = vec![0x02, content.len() as u8];
            b.extend_from_slice(content);
            assert_eq!(
                decode(&b).unwrap(),
                DerValue::Integer(DerInt::Int(*want)),
                "{content:02X?}"
            );
            if content.len() < 3 || *want != 5 {
                assert_eq!(encode(&DerValue::Integer(DerInt::Int(*want))), b);
            }
        }
        // 2^63 needs 9 bytes: kept as bytes.
        let big = [0x02, 0x09, 0x00, 0x80, 0, 0, 0, 0, 0, 0, 0];
        assert_eq!(
            decode(&big).unwrap(),
            DerValue::Integer(DerInt::Big(big[2..].to_vec()))
        );
        assert_eq!(encode(&decode(&big).unwrap()), big);
        assert_eq!(
            decode(&[0x02, 0x00]),
            Err(DerError::EmptyInteger { offset: 0 })
        );
    }

    #[test]
    fn long_form_lengths() {
        let data = vec![0xAB; 300];
        let enc = encode(&DerValue::Data(data.clone()));
        assert_eq!(&enc[..4], &[0x04, 0x82, 0x01, 0x2C]);
        assert_eq!(decode(&enc).unwrap(), DerValue::Data(data));
        let enc = encode(&DerValue::Data(vec![7; 200]));
        assert_eq!(&enc[..3], &[0x04, 0x81, 0xC8]);
        // Non-minimal long form is accepted.
        assert_eq!(
            decode(&[0x04, 0x82, 0x00, 0x01, 0x09]).unwrap(),
            DerValue::Data(vec![9])
        );
    }

    #[test]
    fn bad_lengths() {
        assert_eq!(
            decode(&[0x04, 0x80, 0x00, 0x00]),
            Err(DerError::IndefiniteLength { offset: 1 })
        );
        assert_eq!(
            decode(&[0x04, 0x89, 1, 2, 3, 4, 5, 6, 7, 8, 9]),
            Err(DerError::LengthTooLong {
                offset: 1,
                bytes: 9
            })
        );
        assert_eq!(
            decode(&[0x04, 0x88, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF]),
            Err(DerError::LengthBeyondBuffer {
                offset: 0,
                len: u64::MAX,
                available: 0
            })
        );
        assert_eq!(
            decode(&[0x04, 0x84, 0x7F, 0xFF, 0xFF, 0xFF, 0x00]),
            Err(DerError::LengthBeyondBuffer {
                offset: 0,
                len: 0x7FFF_FFFF,
                available: 1
            })
        );
        assert_eq!(
            decode(&[0x04, 0x05, 1, 2]),
            Err(DerError::LengthBeyondBuffer {
                offset: 0,
                len: 5,
                available: 2
            })
        );
        assert!(matches!(decode(&[0x04]), Err(DerError::Truncated { .. })));
        assert!(matches!(decode(&[]), Err(DerError::Truncated { .. })));
        assert!(matches!(
            decode(&[0x04, 0x82, 0x01]),
            Err(DerError::Truncated { .. })
        ));
        // Inner element longer than its enclosing sequence (but within the buffer).
        assert_eq!(
            decode(&[0x30, 0x02, 0x04, 0x03, 0x01, 0x02, 0x03]),
            Err(DerError::LengthBeyondBuffer {
                offset: 2,
                len: 3,
                available: 0
            })
        );
        assert_eq!(
            decode(&[0x05, 0x00, 0x00]),
            Err(DerError::TrailingBytes {
                offset: 2,
                count: 1
            })
        );
    }

    #[test]
    fn deep_nesting_is_refused() {
        // 40 nested SEQUENCEs around a NULL.
        let mut v = vec![0x05, 0x00];
        for _ in 0..40 {
            let mut w = vec![0x30, v.len() as u8];
            w.extend_from_slice(&v);
            v = w;
        }
        assert!(matches!(decode(&v), Err(DerError::TooDeep { .. })));
        // MAX_DEPTH levels are fine.
        let mut v = DerValue::Null;
        for _ in 0..MAX_DEPTH {
            v = DerValue::Array(vec![v]);
        }
        assert_eq!(decode(&encode(&v)).unwrap(), v);
        // Deep nesting through dictionaries too.
        let mut v = DerValue::Null;
        for _ in 0..40 {
            let mut d = DerDict::new();
            d.insert("k", v);
            v = DerValue::Dict(d);
        }
        assert!(matches!(decode(&encode(&v)), Err(DerError::TooDeep { .. })));
    }

    #[test]
    fn element_count_is_capped() {
        // MAX_ELEMENTS NULLs inside one array: the array itself is one element too many.
        let n = MAX_ELEMENTS;
        let mut b = vec![0x30, 0x83];
        b.extend_from_slice(&((2 * n) as u32).to_be_bytes()[1..]);
        b.extend(std::iter::repeat_n([0x05u8, 0x00], n).flatten());
        assert_eq!(decode(&b), Err(DerError::TooManyElements));
        // One fewer fits.
        let m = n - 1;
        let mut b = vec![0x30, 0x83];
        b.extend_from_slice(&((2 * m) as u32).to_be_bytes()[1..]);
        b.extend(std::iter::repeat_n([0x05u8, 0x00], m).flatten());
        assert!(matches!(decode(&b), Ok(DerValue::Array(a)) if a.len() == m));
    }

    #[test]
    fn scalar_kinds() {
        assert_eq!(decode(&[0x01, 0x01, 0x00]).unwrap(), DerValue::Bool(false));
        assert_eq!(decode(&[0x01, 0x01, 0x01]).unwrap(), DerValue::Bool(true));
        assert_eq!(
            decode(&[0x01, 0x02, 0x00, 0x00]),
            Err(DerError::BadBoolean { offset: 0, len: 2 })
        );
        assert_eq!(decode(&[0x05, 0x00]).unwrap(), DerValue::Null);
        assert_eq!(
            decode(&[0x05, 0x01, 0x00]),
            Err(DerError::BadNull { offset: 0, len: 1 })
        );
        assert_eq!(decode(&[0x13, 0x02, b'h', b'i']).unwrap(), s("hi"));
        assert_eq!(decode(&[0x16, 0x01, b'x']).unwrap(), s("x"));
        assert_eq!(decode(&[0x12, 0x01, b'7']).unwrap(), s("7"));
        assert!(matches!(
            decode(&[0x0C, 0x01, 0xFF]),
            Err(DerError::InvalidUtf8 { .. })
        ));
        // Unknown primitive and a private-class constructed element are kept raw.
        assert_eq!(
            decode(&[0x03, 0x02, 0x00, 0x01]).unwrap(),
            DerValue::Unknown {
                tag: 0x03,
                bytes: vec![0, 1]
            }
        );
        let set = [0xD1, 0x02, 0x05, 0x00];
        assert_eq!(
            decode(&set).unwrap(),
            DerValue::Unknown {
                tag: 0xD1,
                bytes: vec![5, 0]
            }
        );
        assert_eq!(encode(&decode(&set).unwrap()), set);
        // High-tag-number form: [PRIVATE 200] = DF 81 48.
        let hi = [0xDF, 0x81, 0x48, 0x01, 0x2A];
        assert_eq!(
            decode(&hi).unwrap(),
            DerValue::Unknown {
                tag: 0xDF8148,
                bytes: vec![0x2A]
            }
        );
        assert_eq!(encode(&decode(&hi).unwrap()), hi);
        assert_eq!(
            decode(&[0xDF, 0x81, 0x81, 0x81, 0x01, 0x00]),
            Err(DerError::TagTooLong { offset: 0 })
        );
    }

    #[test]
    fn dates() {
        let g = DerDate::new(TimeKind::Generalized, "20240229123456Z");
        assert_eq!(g.rfc3339.as_deref(), Some("2024-02-29T12:34:56Z"));
        let g = DerDate::new(TimeKind::Generalized, "20231231235959.123Z");
        assert_eq!(g.rfc3339.as_deref(), Some("2023-12-31T23:59:59.123Z"));
        assert_eq!(
            DerDate::new(TimeKind::Generalized, "20230229000000Z").rfc3339,
            None
        );
        assert_eq!(
            DerDate::new(TimeKind::Generalized, "20231301000000Z").rfc3339,
            None
        );
        assert_eq!(
            DerDate::new(TimeKind::Generalized, "20230101000000").rfc3339,
            None
        );
        assert_eq!(
            DerDate::new(TimeKind::Generalized, "2023010100000+Z").rfc3339,
            None
        );
        assert_eq!(
            DerDate::new(TimeKind::Generalized, "20230101000000.Z").rfc3339,
            None
        );
        assert_eq!(
            DerDate::new(TimeKind::Utc, "990101000000Z")
                .rfc3339
                .as_deref(),
            Some("1999-01-01T00:00:00Z")
        );
        assert_eq!(
            DerDate::new(TimeKind::Utc, "491231235959Z")
                .rfc3339
                .as_deref(),
            Some("2049-12-31T23:59:59Z")
        );
        assert_eq!(
            DerDate::new(TimeKind::Utc, "4912312359Z")
                .rfc3339
                .as_deref(),
            Some("2049-12-31T23:59:00Z")
        );
        let mut b = vec![0x18, 15];
        b.extend_from_slice(b"20010324000000Z");
        let v = decode(&b).unwrap();
        match &v {
            DerValue::Date(d) => {
                assert_eq!(d.raw, "20010324000000Z");
                assert_eq!(d.rfc3339.as_deref(), Some("2001-03-24T00:00:00Z"));
            }
            other => panic!("{other:?}"),
        }
        assert_eq!(encode(&v), b);
        // An invalid time is kept, without an RFC 3339 form.
        let mut b = vec![0x18, 3];
        b.extend_from_slice(b"bad");
        match decode(&b).unwrap() {
            DerValue::Date(d) => assert_eq!((d.raw.as_str(), d.rfc3339), ("bad", None)),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn dictionary_errors() {
        // Entry that is not a SEQUENCE.
        assert_eq!(
            decode(&[0x31, 0x02, 0x05, 0x00]),
            Err(DerError::BadDictEntry { offset: 2 })
        );
        // Key that is not a string.
        assert_eq!(
            decode(&[0x31, 0x06, 0x30, 0x04, 0x05, 0x00, 0x05, 0x00]),
            Err(DerError::NonStringKey { offset: 4 })
        );
        // Key without value.
        assert_eq!(
            decode(&[0x31, 0x05, 0x30, 0x03, 0x0C, 0x01, b'a']),
            Err(DerError::BadDictEntry { offset: 2 })
        );
        // Key, value and an extra element.
        assert_eq!(
            decode(&[0x31, 0x09, 0x30, 0x07, 0x0C, 0x01, b'a', 0x05, 0x00, 0x05, 0x00]),
            Err(DerError::BadDictEntry { offset: 2 })
        );
        // Duplicate key.
        let e = [0x30, 0x05, 0x0C, 0x01, b'a', 0x05, 0x00];
        let mut b = vec![0x31, 14];
        b.extend_from_slice(&e);
        b.extend_from_slice(&e);
        assert_eq!(decode(&b), Err(DerError::DuplicateKey { key: "a".into() }));
        assert_eq!(
            decode_dict(&[0x05, 0x00]),
            Err(DerError::NotADictionary {
                found: "null".into()
            })
        );
        // Empty dictionary is fine.
        assert_eq!(decode_dict(&[0x31, 0x00]).unwrap(), DerDict::new());
    }

    #[test]
    fn encoder_sorts_entries_and_round_trips() {
        let mut inner = DerDict::new();
        inner.insert("z", DerValue::Integer(DerInt::Int(-300)));
        let mut d = DerDict::new();
        d.insert("svce", s("com.example"));
        d.insert("acct", DerValue::Data(b"bob".to_vec()));
        d.insert(
            "cdat",
            DerValue::Date(DerDate::new(TimeKind::Generalized, "20200101000000.5Z")),
        );
        d.insert(
            "list",
            DerValue::Array(vec![DerValue::Null, DerValue::Bool(false), s("é")]),
        );
        d.insert("nest", DerValue::Dict(inner));
        d.insert(
            "big",
            DerValue::Integer(DerInt::Big(vec![0x00, 0xFF, 0, 0, 0, 0, 0, 0, 0])),
        );
        d.insert("long", DerValue::Data(vec![0x5A; 70_000]));
        d.insert(
            "unk",
            DerValue::Unknown {
                tag: 0x1E,
                bytes: vec![0, 0x41],
            },
        );
        let bytes = encode_dict(&d);
        let back = decode_dict(&bytes).unwrap();
        // Same content; order is the DER order: shorter entry encodings sort first.
        assert_eq!(back.len(), d.len());
        for (k, v) in d.entries() {
            assert_eq!(back.get(k), Some(v), "{k}");
        }
        assert_eq!(back.get_str("acct").as_deref(), Some("bob"));
        let keys: Vec<&str> = back.keys().collect();
        assert_eq!(
            keys,
            ["unk", "acct", "big", "list", "nest", "svce", "cdat", "long"]
        );
        // Re-encoding the decoded dictionary gives identical bytes.
        assert_eq!(encode_dict(&back), bytes);
    }

    #[test]
    fn text_of_data_values() {
        let mut d = DerDict::new();
        d.insert("acct", DerValue::Data(vec![0xFF, 0x00, 0x10]));
        d.insert("svce", DerValue::Data(b"svc".to_vec()));
        assert_eq!(d.get_str("acct").as_deref(), Some("ff0010"));
        assert_eq!(d.get_str("svce").as_deref(), Some("svc"));
        d.insert("n", DerValue::Integer(DerInt::Int(1)));
        assert_eq!(d.get_bool("n"), Some(true));
        assert_eq!(d.get_str("n"), None);
    }

    #[test]
    fn debug_hides_data() {
        let mut d = DerDict::new();
        d.insert("v_Data", DerValue::Data(b"hunter2".to_vec()));
        let shown = format!("{d:?}");
        assert!(
            !shown.contains("hunter2") && !shown.contains("104"),
            "{shown}"
        );
        assert!(shown.contains("7 bytes"), "{shown}");
    }
}
