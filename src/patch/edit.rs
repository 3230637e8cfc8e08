//! One value edited in a plist (binary or XML, kept so) or JSON file, found by a key path.
//!
//! Key paths are JSON pointers (RFC 6901): `/security/pinning`, array indices as numbers,
//! `~1` for `/` and `~0` for `~` inside a key; the empty path (the whole document) cannot be
//! set. Values are typed ([`NewValue::parse`]) and must be of the type already there: a
//! boolean stays a boolean, a string a string. A JSON file is edited in place (the bytes
//! of the old value replaced by those of the new one, everything else kept byte for byte);
//! a plist is decoded and written again in the same format.

use plist::Value as PValue;
use serde_json::Value as JValue;

/// Strings longer than this are shown as a preview in receipts.
pub const PREVIEW_CHARS: usize = 64;

/// A parsed key path: the reference tokens of a JSON pointer, unescaped.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeyPath {
    text: String,
    tokens: Vec<String>,
}

impl KeyPath {
    /// Parse `/a/b~1c/0`; an empty path or one not starting with `/` is refused.
    pub fn parse(text: &str) -> Result<KeyPath, String> {
        let Some(rest) = text.strip_prefix('/') else {
            return Err(format!(
                "key path {text:?} must start with `/` (JSON pointer syntax, e.g. /security/pinning)"
            ));
        };
        let mut tokens = Vec::new();
        for raw in rest.split('/') {
            let mut t = String::with_capacity(raw.len());
            let mut chars = raw.chars();
            while let Some(c) = chars.next() {
                if c != '~' {
                    t.push(c);
                    continue;
                }
                match chars.next() {
                    Some('0') => t.push('~'),
                    Some('1') => t.push('/'),
                    _ => {
                        return Err(format!(
                        "key path {text:?}: `~` must be followed by 0 or 1 (`~0` is ~, `~1` is /)"
                    ))
                    }
                }
            }
            tokens.push(t);
        }
        Ok(KeyPath {
            text: text.to_owned(),
            tokens,
        })
    }

    /// As given.
    pub fn as_str(&self) -> &str {
        &self.text
    }

    /// The path of the first `n` tokens, as written (`/` for none).
    fn prefix(&self, n: usize) -> String {
        let parts: Vec<&str> = self.text.split('/').skip(1).take(n).collect();
        format!("/{}", parts.join("/"))
    }

    /// The unescaped tokens.
    pub fn tokens(&self) -> &[String] {
        &self.tokens
    }
}

/// A typed value given on the command line.
#[derive(Debug, Clone, PartialEq)]
pub enum NewValue {
    Bool(bool),
    Integer(i64),
    Real(f64),
    String(String),
}

impl NewValue {
    /// `true`/`false`, an integer, a real, a JSON string literal (`"text"`), or else the
    /// text itself as a string (so a URL needs no quotes).
    pub fn parse(text: &str) -> NewValue {
        match serde_json::from_str::<JValue>(text) {
            Ok(JValue::Bool(b)) => NewValue::Bool(b),
            Ok(JValue::Number(n)) => match n.as_i64() {
                Some(i) => NewValue::Integer(i),
                None => n
                    .as_f64()
                    .map_or(NewValue::String(text.to_owned()), NewValue::Real),
            },
            Ok(JValue::String(s)) => NewValue::String(s),
            _ => NewValue::String(text.to_owned()),
        }
    }

    /// The type's name (for messages).
    pub fn type_name(&self) -> &'static str {
        match self {
            NewValue::Bool(_) => "boolean",
            NewValue::Integer(_) => "integer",
            NewValue::Real(_) => "real",
            NewValue::String(_) => "string",
        }
    }

    /// As shown in a receipt.
    pub fn shown(&self) -> Shown {
        match self {
            NewValue::Bool(b) => Shown::Bool(*b),
            NewValue::Integer(i) => Shown::Integer(*i as i128),
            NewValue::Real(r) => Shown::Real(*r),
            NewValue::String(s) => Shown::text(s),
        }
    }
}

/// A value as a receipt shows it: scalars typed, long strings previewed.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
#[serde(tag = "type", content = "value", rename_all = "snake_case")]
pub enum Shown {
    Bool(bool),
    Integer(i128),
    Real(f64),
    String(String),
    /// A string longer than [`PREVIEW_CHARS`]: its first 32 characters, `…`, and its
    /// length in characters.
    Preview {
        preview: String,
        chars: usize,
    },
    /// Anything else (data, date, dictionary, array, null): its type only.
    Other(&'static str),
}

impl Shown {
    fn text(s: &str) -> Shown {
        let chars = s.chars().count();
        if chars <= PREVIEW_CHARS {
            Shown::String(s.to_owned())
        } else {
            let mut preview: String = s.chars().take(32).collect();
            preview.push('…');
            Shown::Preview { preview, chars }
        }
    }

    /// One short line (the table).
    pub fn display(&self) -> String {
        match self {
            Shown::Bool(b) => b.to_string(),
            Shown::Integer(i) => i.to_string(),
            Shown::Real(r) => r.to_string(),
            Shown::String(s) => format!("{s:?}"),
            Shown::Preview { preview, chars } => format!("{preview:?} ({chars} chars)"),
            Shown::Other(t) => format!("<{t}>"),
        }
    }
}

/// The format of an edited file.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Format {
    BinaryPlist,
    XmlPlist,
    Json,
}

/// What one edit did.
#[derive(Debug)]
pub struct Edited {
    pub format: Format,
    pub old: Shown,
    pub content: Vec<u8>,
}

/// Set the value at `path` in `content` (a plist or JSON document) to `value`.
pub fn set(content: &[u8], path: &KeyPath, value: &NewValue) -> Result<Edited, String> {
    if path.tokens.is_empty() {
        return Err("the key path names the whole document".into());
    }
    if content.starts_with(b"bplist00") {
        return set_plist(content, path, value, Format::BinaryPlist);
    }
    let head = content
        .iter()
        .position(|b| !b.is_ascii_whitespace())
        .map_or(&[][..], |i| &content[i..]);
    if head.starts_with(b"<?xml")
        || head.starts_with(b"<!DOCTYPE plist")
        || head.starts_with(b"<plist")
    {
        return set_plist(content, path, value, Format::XmlPlist);
    }
    if head.starts_with(b"{") || head.starts_with(b"[") {
        return set_json(content, path, value);
    }
    Err("not a property list (binary or XML) or a JSON document".into())
}

fn set_plist(
    content: &[u8],
    path: &KeyPath,
    value: &NewValue,
    format: Format,
) -> Result<Edited, String> {
    let mut doc = PValue::from_reader(std::io::Cursor::new(content))
        .map_err(|e| format!("not a readable property list: {e}"))?;
    let slot = plist_slot(&mut doc, path)?;
    let old = plist_shown(slot);
    *slot = plist_value(slot, value, path)?;
    let mut out = Vec::with_capacity(content.len() + 64);
    let written = match format {
        Format::BinaryPlist => doc.to_writer_binary(&mut out),
        _ => doc.to_writer_xml(&mut out),
    };
    written.map_err(|e| format!("cannot write the property list back: {e}"))?;
    if format == Format::XmlPlist && content.ends_with(b"\n") && !out.ends_with(b"\n") {
        out.push(b'\n');
    }
    Ok(Edited {
        format,
        old,
        content: out,
    })
}

/// The value at `path`, which must exist.
fn plist_slot<'a>(mut v: &'a mut PValue, path: &KeyPath) -> Result<&'a mut PValue, String> {
    for (depth, t) in path.tokens.iter().enumerate() {
        v = match v {
            PValue::Dictionary(d) => d.get_mut(t).ok_or_else(|| {
                format!(
                    "key path {}: no key {t:?} at {}",
                    path.text,
                    path.prefix(depth + 1)
                )
            })?,
            PValue::Array(a) => {
                let i = index(t, a.len()).map_err(|e| {
                    format!("key path {}: {e} at {}", path.text, path.prefix(depth + 1))
                })?;
                &mut a[i]
            }
            other => {
                return Err(format!(
                    "key path {}: {} holds {}, not a dictionary or array",
                    path.text,
                    path.prefix(depth),
                    crate::backup::plists::type_name(other)
                ))
            }
        };
    }
    Ok(v)
}

/// An array index token: digits, no leading zero, in range.
fn index(t: &str, len: usize) -> Result<usize, String> {
    let ok =
        !t.is_empty() && t.bytes().all(|b| b.is_ascii_digit()) && (t == "0" || !t.starts_with('0'));
    let i = t
        .parse::<usize>()
        .ok()
        .filter(|_| ok)
        .ok_or_else(|| format!("{t:?} is not an array index"))?;
    if i >= len {
        return Err(format!("index {i} is past the array's {len} items"));
    }
    Ok(i)
}

fn plist_shown(v: &PValue) -> Shown {
    match v {
        PValue::Boolean(b) => Shown::Bool(*b),
        PValue::Integer(i) => i
            .as_signed()
            .map(i128::from)
            .or_else(|| i.as_unsigned().map(i128::from))
            .map_or(Shown::Other("integer"), Shown::Integer),
        PValue::Real(r) => Shown::Real(*r),
        PValue::String(s) => Shown::text(s),
        other => Shown::Other(crate::backup::plists::type_name(other)),
    }
}

fn mismatch(path: &KeyPath, have: &str, value: &NewValue) -> String {
    format!(
        "key path {}: the value there is {have}; the new value is {} (a value keeps its type: quote text as \"…\", write true/false or a number)",
        path.text,
        value.type_name()
    )
}

/// The new plist value, of the old one's type.
fn plist_value(old: &PValue, value: &NewValue, path: &KeyPath) -> Result<PValue, String> {
    Ok(match (old, value) {
        (PValue::Boolean(_), NewValue::Bool(b)) => PValue::Boolean(*b),
        (PValue::Integer(_), NewValue::Integer(i)) => PValue::Integer((*i).into()),
        (PValue::Real(_), NewValue::Real(r)) => PValue::Real(*r),
        (PValue::Real(_), NewValue::Integer(i)) => PValue::Real(*i as f64),
        (PValue::String(_), NewValue::String(s)) => PValue::String(s.clone()),
        (other, _) => {
            return Err(mismatch(
                path,
                crate::backup::plists::type_name(other),
                value,
            ))
        }
    })
}

fn set_json(content: &[u8], path: &KeyPath, value: &NewValue) -> Result<Edited, String> {
    let doc: JValue = serde_json::from_slice(content)
        .map_err(|e| format!("not a readable JSON document: {e}"))?;
    let old_v = doc
        .pointer(&path.text)
        .ok_or_else(|| format!("key path {}: not found in the JSON document", path.text))?;
    let old = match old_v {
        JValue::Bool(b) => Shown::Bool(*b),
        JValue::Number(n) => n
            .as_i64()
            .map(|i| Shown::Integer(i.into()))
            .or_else(|| n.as_u64().map(|u| Shown::Integer(u.into())))
            .or_else(|| n.as_f64().map(Shown::Real))
            .unwrap_or(Shown::Other("number")),
        JValue::String(s) => Shown::text(s),
        JValue::Null => Shown::Other("null"),
        JValue::Array(_) => Shown::Other("array"),
        JValue::Object(_) => Shown::Other("object"),
    };
    let new_v = match (old_v, value) {
        (JValue::Bool(_), NewValue::Bool(b)) => JValue::Bool(*b),
        (JValue::Number(_), NewValue::Integer(i)) => JValue::from(*i),
        (JValue::Number(_), NewValue::Real(r)) => serde_json::Number::from_f64(*r)
            .map(JValue::Number)
            .ok_or_else(|| format!("{r} is not a JSON number"))?,
        (JValue::String(_), NewValue::String(s)) => JValue::String(s.clone()),
        (other, _) => {
            let have = match other {
                JValue::Null => "null",
                JValue::Bool(_) => "a boolean",
                JValue::Number(_) => "a number",
                JValue::String(_) => "a string",
                JValue::Array(_) => "an array",
                JValue::Object(_) => "an object",
            };
            return Err(mismatch(path, have, value));
        }
    };
    let span = json_span(content, &path.tokens)
        .ok_or_else(|| format!("key path {}: not found in the JSON document", path.text))?;
    let text = serde_json::to_vec(&new_v).map_err(|e| e.to_string())?;
    let mut out = Vec::with_capacity(content.len() + text.len());
    out.extend_from_slice(&content[..span.start]);
    out.extend_from_slice(&text);
    out.extend_from_slice(&content[span.end..]);
    // The splice must give the document the edit meant (a check on the scanner below).
    let mut want = doc.clone();
    if let Some(slot) = want.pointer_mut(&path.text) {
        *slot = new_v;
    }
    let got: Result<JValue, _> = serde_json::from_slice(&out);
    if got.ok().as_ref() != Some(&want) {
        return Err("internal: the JSON edit did not give the expected document".into());
    }
    Ok(Edited {
        format: Format::Json,
        old,
        content: out,
    })
}

/// The byte range of the value at `tokens` in a valid JSON document (the last of duplicate
/// keys, as serde_json keeps). A minimal scanner: the document was parsed already.
fn json_span(b: &[u8], tokens: &[String]) -> Option<std::ops::Range<usize>> {
    let mut pos = skip_ws(b, 0);
    for t in tokens {
        match b.get(pos)? {
            b'{' => {
                let mut found = None;
                pos = skip_ws(b, pos + 1);
                if b.get(pos) == Some(&b'}') {
                    return None;
                }
                loop {
                    let (key, after) = json_string(b, pos)?;
                    pos = skip_ws(b, after);
                    if b.get(pos) != Some(&b':') {
                        return None;
                    }
                    pos = skip_ws(b, pos + 1);
                    let end = skip_value(b, pos)?;
                    if key == *t {
                        found = Some(pos);
                    }
                    pos = skip_ws(b, end);
                    match b.get(pos)? {
                        b',' => pos = skip_ws(b, pos + 1),
                        b'}' => break,
                        _ => return None,
                    }
                }
                pos = found?;
            }
            b'[' => {
                let want: usize = t.parse().ok()?;
                pos = skip_ws(b, pos + 1);
                let mut i = 0;
                loop {
                    if b.get(pos) == Some(&b']') {
                        return None;
                    }
                    if i == want {
                        break;
                    }
                    pos = skip_ws(b, skip_value(b, pos)?);
                    match b.get(pos)? {
                        b',' => pos = skip_ws(b, pos + 1),
                        _ => return None,
                    }
                    i += 1;
                }
            }
            _ => return None,
        }
    }
    Some(pos..skip_value(b, pos)?)
}

fn skip_ws(b: &[u8], mut pos: usize) -> usize {
    while matches!(b.get(pos), Some(b' ' | b'\t' | b'\n' | b'\r')) {
        pos += 1;
    }
    pos
}

/// A string starting at `pos` (its opening quote): its decoded text and the end.
fn json_string(b: &[u8], pos: usize) -> Option<(String, usize)> {
    if b.get(pos) != Some(&b'"') {
        return None;
    }
    let mut i = pos + 1;
    while i < b.len() {
        match b[i] {
            b'\\' => i += 2,
            b'"' => {
                let s: String = serde_json::from_slice(&b[pos..=i]).ok()?;
                return Some((s, i + 1));
            }
            _ => i += 1,
        }
    }
    None
}

/// The end of the value starting at `pos`.
fn skip_value(b: &[u8], pos: usize) -> Option<usize> {
    match b.get(pos)? {
        b'"' => json_string(b, pos).map(|(_, e)| e),
        b'{' | b'[' => {
            let mut depth = 0usize;
            let mut i = pos;
            while i < b.len() {
                match b[i] {
                    b'"' => {
                        i = json_string(b, i)?.1;
                        continue;
                    }
                    b'{' | b'[' => depth += 1,
                    b'}' | b']' => {
                        depth -= 1;
                        if depth == 0 {
                            return Some(i + 1);
                        }
                    }
                    _ => {}
                }
                i += 1;
            }
            None
        }
        _ => {
            let mut i = pos;
            while i < b.len() && !matches!(b[i], b',' | b'}' | b']' | b' ' | b'\t' | b'\n' | b'\r')
            {
                i += 1;
            }
            (i > pos).then_some(i)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kp(s: &str) -> KeyPath {
        KeyPath::parse(s).unwrap()
    }

    #[test]
    fn key_paths_unescape_and_refuse_bad_syntax() {
        assert_eq!(kp("/a~1b/c~0d/0").tokens(), ["a/b", "c~d", "0"]);
        assert_eq!(kp("/").tokens(), [""]);
        assert!(KeyPath::parse("a/b")
            .unwrap_err()
            .contains("must start with `/`"));
        assert!(KeyPath::parse("/a~2")
            .unwrap_err()
            .contains("`~` must be followed"));
    }

    #[test]
    fn values_are_typed() {
        assert_eq!(NewValue::parse("true"), NewValue::Bool(true));
        assert_eq!(NewValue::parse("-42"), NewValue::Integer(-42));
        assert_eq!(NewValue::parse("1.5"), NewValue::Real(1.5));
        assert_eq!(NewValue::parse("\"42\""), NewValue::String("42".into()));
        assert_eq!(
            NewValue::parse("https://evil.example/x?a=1"),
            NewValue::String("https://evil.example/x?a=1".into())
        );
        assert_eq!(NewValue::parse("[1]"), NewValue::String("[1]".into()));
    }

    fn plist_doc() -> PValue {
        let mut inner = plist::Dictionary::new();
        inner.insert("pinning".into(), PValue::Boolean(true));
        inner.insert("hosts".into(), PValue::Array(vec!["a".into(), "b".into()]));
        let mut d = plist::Dictionary::new();
        d.insert("security".into(), PValue::Dictionary(inner));
        d.insert("count".into(), PValue::Integer(3.into()));
        d.insert("a/b".into(), PValue::String("x".repeat(100)));
        PValue::Dictionary(d)
    }

    #[test]
    fn plists_keep_their_format_and_other_values() {
        for binary in [true, false] {
            let mut bytes = Vec::new();
            if binary {
                plist_doc().to_writer_binary(&mut bytes).unwrap();
            } else {
                plist_doc().to_writer_xml(&mut bytes).unwrap();
            }
            let e = set(&bytes, &kp("/security/pinning"), &NewValue::Bool(false)).unwrap();
            assert_eq!(e.old, Shown::Bool(true));
            assert_eq!(
                e.format,
                if binary {
                    Format::BinaryPlist
                } else {
                    Format::XmlPlist
                }
            );
            assert_eq!(e.content.starts_with(b"bplist00"), binary);
            let mut want = plist_doc();
            want.as_dictionary_mut().unwrap()["security"]
                .as_dictionary_mut()
                .unwrap()
                .insert("pinning".into(), PValue::Boolean(false));
            assert_eq!(
                PValue::from_reader(std::io::Cursor::new(&e.content)).unwrap(),
                want
            );
            // Arrays by index, escaped keys, long strings previewed.
            let e = set(
                &bytes,
                &kp("/security/hosts/1"),
                &NewValue::String("evil".into()),
            )
            .unwrap();
            assert_eq!(e.old, Shown::String("b".into()));
            let e = set(&bytes, &kp("/a~1b"), &NewValue::String("y".into())).unwrap();
            assert!(matches!(e.old, Shown::Preview { chars: 100, .. }));
        }
    }

    #[test]
    fn plist_errors_say_what_is_wrong() {
        let mut bytes = Vec::new();
        plist_doc().to_writer_binary(&mut bytes).unwrap();
        let err = |p: &str, v: NewValue| set(&bytes, &kp(p), &v).unwrap_err();
        assert!(err("/security/nope", NewValue::Bool(true))
            .contains("no key \"nope\" at /security/nope"));
        assert!(err("/security/hosts/2", NewValue::Bool(true)).contains("past the array's 2 items"));
        assert!(err("/security/hosts/01", NewValue::Bool(true)).contains("not an array index"));
        assert!(err("/count/x", NewValue::Bool(true)).contains("/count holds an integer"));
        assert!(err("/security/pinning", NewValue::String("no".into()))
            .contains("the value there is a boolean; the new value is string"));
        assert!(err("/security", NewValue::Bool(true)).contains("is a dictionary"));
        assert!(set(b"hello", &kp("/a"), &NewValue::Bool(true))
            .unwrap_err()
            .contains("not a property list"));
        assert!(set(b"bplist00garbage", &kp("/a"), &NewValue::Bool(true))
            .unwrap_err()
            .contains("not a readable property list"));
    }

    #[test]
    fn json_is_edited_in_place() {
        let doc = br#"{ "b": 1, "security" : {"pinning": true, "hosts": ["a", "b\"}"]},
  "url": "https://good.example", "n": 2.5 }
"#;
        let e = set(doc, &kp("/security/pinning"), &NewValue::Bool(false)).unwrap();
        assert_eq!(e.format, Format::Json);
        assert_eq!(e.old, Shown::Bool(true));
        let want = String::from_utf8_lossy(doc).replace("\"pinning\": true", "\"pinning\": false");
        assert_eq!(String::from_utf8(e.content).unwrap(), want);
        let e = set(doc, &kp("/security/hosts/1"), &NewValue::String("x".into())).unwrap();
        assert_eq!(e.old, Shown::String("b\"}".into()));
        assert!(String::from_utf8(e.content)
            .unwrap()
            .contains(r#"["a", "x"]"#));
        let e = set(
            doc,
            &kp("/url"),
            &NewValue::String("https://evil.example".into()),
        )
        .unwrap();
        assert!(String::from_utf8(e.content)
            .unwrap()
            .contains(r#""url": "https://evil.example","#));
        let e = set(doc, &kp("/n"), &NewValue::Integer(7)).unwrap();
        assert_eq!(e.old, Shown::Real(2.5));
        assert!(set(doc, &kp("/nope"), &NewValue::Integer(7))
            .unwrap_err()
            .contains("not found"));
        assert!(set(doc, &kp("/b"), &NewValue::Bool(true))
            .unwrap_err()
            .contains("the value there is a number; the new value is boolean"));
        assert!(set(b"{\"a\": ", &kp("/a"), &NewValue::Bool(true))
            .unwrap_err()
            .contains("not a readable JSON document"));
    }
}
