//! keychain-backup.plist: the exported item arrays, their `v_Data` blobs and persistent refs.

use super::der::{DerDate, DerDict, DerInt, DerValue, TimeKind, MAX_DEPTH};
use super::KeychainError;
use std::io::Cursor;

/// The item tables securityd exports (SEC `SecServerCopyKeychainPlist`).
pub const KNOWN_TABLES: [&str; 4] = ["genp", "inet", "cert", "keys"];

/// An item's `v_PersistentRef`, decoded.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct PersistentRef {
    pub kind: PersistentRefKind,
    /// The 4-character table name at the start (when it is printable ASCII).
    pub table: Option<String>,
    /// SQLite rowid (8 bytes big-endian after the table name) for [`PersistentRefKind::Rowid`].
    pub rowid: Option<i64>,
    /// Canonical lower-case UUID for [`PersistentRefKind::Uuid`].
    pub uuid: Option<String>,
    /// All bytes, lower-case hex.
    pub hex: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum PersistentRefKind {
    /// table(4) + rowid(8, big-endian): 12 bytes.
    Rowid,
    /// table(4) + UUID(16): 20 bytes ("static persistent refs").
    Uuid,
    /// `tkpr` + DER: a token item reference.
    Token,
    /// Anything else.
    Unknown,
}

impl PersistentRef {
    pub fn parse(bytes: &[u8]) -> PersistentRef {
        let hex = hex::encode(bytes);
        let table = bytes
            .get(..4)
            .filter(|t| t.iter().all(|b| b.is_ascii_graphic()))
            .and_then(|t| std::str::from_utf8(t).ok())
            .map(str::to_owned);
        let unknown = |table| PersistentRef {
            kind: PersistentRefKind::Unknown,
            table,
            rowid: None,
            uuid: None,
            hex: hex.clone(),
        };
        let Some(t) = table else {
            return unknown(None);
        };
        if t == "tkpr" {
            return PersistentRef {
                kind: PersistentRefKind::Token,
                table: Some(t),
                rowid: None,
                uuid: None,
                hex,
            };
        }
        match bytes.len() {
            12 => {
                let mut rb = [0u8; 8];
                rb.copy_from_slice(&bytes[4..12]);
                PersistentRef {
                    kind: PersistentRefKind::Rowid,
                    table: Some(t),
                    rowid: Some(i64::from_be_bytes(rb)),
                    uuid: None,
                    hex,
                }
            }
            20 => PersistentRef {
                kind: PersistentRefKind::Uuid,
                table: Some(t),
                rowid: None,
                uuid: Some(crate::crypto::keybag::format_uuid(&bytes[4..20])),
                hex,
            },
            _ => unknown(Some(t)),
        }
    }
}

/// One item dictionary as exported, before decryption.
#[derive(Debug, Clone)]
pub struct RawItem {
    /// Name of the array it came from (`genp`, `inet`, … or an unknown name).
    pub table: String,
    /// Position in that array.
    pub index: usize,
    /// The encrypted blob (`v_Data`), when present and of type data.
    pub v_data: Option<Vec<u8>>,
    pub persistent_ref: Option<PersistentRef>,
    /// Any other keys of the item dictionary (very old exports kept attributes in clear).
    pub clear_attributes: DerDict,
    /// What is wrong with this item's dictionary.
    pub problems: Vec<String>,
}

/// The parsed file.
#[derive(Debug, Clone, Default)]
pub struct ExportFile {
    /// `keybag-uuid` as written (lower-case canonical UUID in SEC exports).
    pub keybag_uuid: Option<String>,
    pub items: Vec<RawItem>,
    /// Every array found, known tables first (in SEC order), then others in file order.
    pub tables: Vec<String>,
    /// Arrays whose name is not one of [`KNOWN_TABLES`] (e.g. `idnt`); their items are read too.
    pub unknown_tables: Vec<String>,
    /// File-level oddities (unexpected keys or types).
    pub problems: Vec<String>,
}

/// Deepest array/dictionary nesting accepted in a plist (the export is 3 deep).
pub const MAX_PLIST_DEPTH: usize = 32;

/// Why a plist was refused before building it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum ShapeError {
    /// Not a plist at all (the parser's message).
    Parse(String),
    /// Well-formed so far, but too deep or expanding too much.
    Refused(String),
}

/// Per-thread state of one [`check_plist_shape`] walk (the plist crate's event stream is
/// private, so the walk goes through serde, whose `Deserialize` cannot carry a seed here).
#[derive(Default)]
struct ShapeBudget {
    depth: usize,
    events: usize,
    bytes: usize,
    max_events: usize,
    max_bytes: usize,
    refused: Option<String>,
}

thread_local! {
    static SHAPE: std::cell::RefCell<ShapeBudget> = std::cell::RefCell::new(ShapeBudget::default());
}

/// Count one element of `len` string/data bytes; `Err` with the refusal when over budget.
fn shape_tick(len: usize) -> Result<(), String> {
    SHAPE.with(|s| {
        let mut s = s.borrow_mut();
        s.events += 1;
        s.bytes = s.bytes.saturating_add(len);
        let msg = if s.events > s.max_events {
            Some(format!(
                "expands to more than {} elements (shared references)",
                s.max_events
            ))
        } else if s.bytes > s.max_bytes {
            Some(format!(
                "expands to more than {} bytes of strings and data (shared references)",
                s.max_bytes
            ))
        } else {
            None
        };
        match msg {
            Some(m) => {
                s.refused = Some(m.clone());
                Err(m)
            }
            None => Ok(()),
        }
    })
}

/// Enter (`+1`) or leave (`-1`) a collection.
fn shape_nest(enter: bool) -> Result<(), String> {
    SHAPE.with(|s| {
        let mut s = s.borrow_mut();
        if !enter {
            s.depth = s.depth.saturating_sub(1);
            return Ok(());
        }
        s.depth += 1;
        if s.depth > MAX_PLIST_DEPTH {
            let m = format!("nested deeper than {MAX_PLIST_DEPTH}");
            s.refused = Some(m.clone());
            return Err(m);
        }
        Ok(())
    })
}

/// Deserializes anything, keeping nothing: only walks and counts.
struct Shape;

impl<'de> serde::Deserialize<'de> for Shape {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Shape, D::Error> {
        d.deserialize_any(ShapeVisitor)
    }
}

struct ShapeVisitor;

impl<'de> serde::de::Visitor<'de> for ShapeVisitor {
    type Value = Shape;

    fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("any plist value")
    }
    fn visit_bool<E: serde::de::Error>(self, _: bool) -> Result<Shape, E> {
        shape_tick(0).map(|_| Shape).map_err(E::custom)
    }
    fn visit_i64<E: serde::de::Error>(self, _: i64) -> Result<Shape, E> {
        shape_tick(0).map(|_| Shape).map_err(E::custom)
    }
    fn visit_u64<E: serde::de::Error>(self, _: u64) -> Result<Shape, E> {
        shape_tick(0).map(|_| Shape).map_err(E::custom)
    }
    fn visit_f64<E: serde::de::Error>(self, _: f64) -> Result<Shape, E> {
        shape_tick(0).map(|_| Shape).map_err(E::custom)
    }
    fn visit_unit<E: serde::de::Error>(self) -> Result<Shape, E> {
        shape_tick(0).map(|_| Shape).map_err(E::custom)
    }
    fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<Shape, E> {
        shape_tick(v.len()).map(|_| Shape).map_err(E::custom)
    }
    fn visit_bytes<E: serde::de::Error>(self, v: &[u8]) -> Result<Shape, E> {
        shape_tick(v.len()).map(|_| Shape).map_err(E::custom)
    }
    fn visit_seq<A: serde::de::SeqAccess<'de>>(self, mut seq: A) -> Result<Shape, A::Error> {
        use serde::de::Error;
        shape_tick(0).map_err(A::Error::custom)?;
        shape_nest(true).map_err(A::Error::custom)?;
        while seq.next_element::<Shape>()?.is_some() {}
        shape_nest(false).map_err(A::Error::custom)?;
        Ok(Shape)
    }
    fn visit_map<A: serde::de::MapAccess<'de>>(self, mut map: A) -> Result<Shape, A::Error> {
        use serde::de::Error;
        shape_tick(0).map_err(A::Error::custom)?;
        shape_nest(true).map_err(A::Error::custom)?;
        while map.next_entry::<Shape, Shape>()?.is_some() {}
        shape_nest(false).map_err(A::Error::custom)?;
        Ok(Shape)
    }
}

/// Walk the plist (binary, XML or text) and refuse nesting deeper than [`MAX_PLIST_DEPTH`]
/// and binary plists whose shared object references expand to far more elements or bytes
/// than the file holds. `plist::Value` building and dropping recurse, so a deeply nested
/// plist would otherwise overflow the stack; the walk itself stops at the depth limit.
pub(crate) fn check_plist_shape(bytes: &[u8]) -> Result<(), ShapeError> {
    SHAPE.with(|s| {
        *s.borrow_mut() = ShapeBudget {
            max_events: 10_000 + 16 * bytes.len(),
            max_bytes: (1 << 20) + 4 * bytes.len(),
            ..ShapeBudget::default()
        }
    });
    let result = plist::from_bytes::<Shape>(bytes);
    let refused = SHAPE.with(|s| s.borrow_mut().refused.take());
    match (result, refused) {
        (_, Some(m)) => Err(ShapeError::Refused(m)),
        (Err(e), None) => Err(ShapeError::Parse(e.to_string())),
        (Ok(_), None) => Ok(()),
    }
}

/// Parse keychain-backup.plist (binary or XML plist).
pub fn parse_export(bytes: &[u8]) -> Result<ExportFile, KeychainError> {
    check_plist_shape(bytes).map_err(|e| match e {
        ShapeError::Parse(m) => KeychainError::NotAPlist(m),
        ShapeError::Refused(m) => KeychainError::Refused(m),
    })?;
    let value = plist::Value::from_reader(Cursor::new(bytes))
        .map_err(|e| KeychainError::NotAPlist(e.to_string()))?;
    let plist::Value::Dictionary(top) = value else {
        return Err(KeychainError::NotADictionary(plist_kind(&value).to_owned()));
    };
    let mut out = ExportFile::default();
    let mut names: Vec<&String> = Vec::new();
    for t in KNOWN_TABLES {
        if let Some((k, _)) = top.iter().find(|(k, _)| k.as_str() == t) {
            names.push(k);
        }
    }
    for (k, _) in top.iter() {
        if !KNOWN_TABLES.contains(&k.as_str()) {
            names.push(k);
        }
    }
    for key in names {
        let Some(value) = top.get(key) else { continue };
        if key == "keybag-uuid" {
            match value {
                plist::Value::String(s) => out.keybag_uuid = Some(s.clone()),
                plist::Value::Data(d) => {
                    out.problems.push(format!(
                        "keybag-uuid is data ({} bytes), not a string",
                        d.len()
                    ));
                    out.keybag_uuid = Some(crate::crypto::keybag::format_uuid(d));
                }
                other => out.problems.push(format!(
                    "keybag-uuid is {}, not a string",
                    plist_kind(other)
                )),
            }
            continue;
        }
        let known = KNOWN_TABLES.contains(&key.as_str());
        let plist::Value::Array(arr) = value else {
            out.problems.push(format!(
                "top-level key {key:?} is {}, not an array of items",
                plist_kind(value)
            ));
            continue;
        };
        out.tables.push(key.clone());
        if !known {
            out.unknown_tables.push(key.clone());
        }
        for (index, v) in arr.iter().enumerate() {
            out.items.push(raw_item(key, index, v));
        }
    }
    Ok(out)
}

fn raw_item(table: &str, index: usize, v: &plist::Value) -> RawItem {
    let mut item = RawItem {
        table: table.to_owned(),
        index,
        v_data: None,
        persistent_ref: None,
        clear_attributes: DerDict::new(),
        problems: Vec::new(),
    };
    let plist::Value::Dictionary(d) = v else {
        item.problems
            .push(format!("item is {}, not a dictionary", plist_kind(v)));
        return item;
    };
    for (k, v) in d.iter() {
        match (k.as_str(), v) {
            ("v_Data", plist::Value::Data(b)) => item.v_data = Some(b.clone()),
            ("v_Data", other) => item
                .problems
                .push(format!("v_Data is {}, not data", plist_kind(other))),
            ("v_PersistentRef", plist::Value::Data(b)) => {
                item.persistent_ref = Some(PersistentRef::parse(b))
            }
            ("v_PersistentRef", other) => item.problems.push(format!(
                "v_PersistentRef is {}, not data",
                plist_kind(other)
            )),
            (k, v) => match plist_to_der(v, 0) {
                Some(dv) => item.clear_attributes.insert(k, dv),
                None => item
                    .problems
                    .push(format!("clear attribute {k:?} is nested too deeply")),
            },
        }
    }
    if item.v_data.is_none() && !item.problems.iter().any(|p| p.starts_with("v_Data")) {
        item.problems.push("item has no v_Data".into());
    }
    if item.persistent_ref.is_none()
        && !item
            .problems
            .iter()
            .any(|p| p.starts_with("v_PersistentRef"))
    {
        item.problems.push("item has no v_PersistentRef".into());
    }
    item
}

/// The plist type name, for messages.
pub(crate) fn plist_kind(v: &plist::Value) -> &'static str {
    match v {
        plist::Value::Array(_) => "an array",
        plist::Value::Dictionary(_) => "a dictionary",
        plist::Value::Boolean(_) => "a boolean",
        plist::Value::Data(_) => "data",
        plist::Value::Date(_) => "a date",
        plist::Value::Real(_) => "a real number",
        plist::Value::Integer(_) => "an integer",
        plist::Value::String(_) => "a string",
        plist::Value::Uid(_) => "a UID",
        _ => "an unknown plist type",
    }
}

/// Map a plist value onto the DER value model (one attribute model for v2 payloads, v3
/// payloads and clear attributes). Reals, which Apple DER cannot hold, become their decimal
/// text; UIDs become `Unknown` with tag 0x80. `None` when nested deeper than `MAX_DEPTH`.
pub(crate) fn plist_to_der(v: &plist::Value, depth: usize) -> Option<DerValue> {
    if depth > MAX_DEPTH {
        return None;
    }
    Some(match v {
        plist::Value::Array(a) => {
            let mut out = Vec::with_capacity(a.len());
            for x in a {
                out.push(plist_to_der(x, depth + 1)?);
            }
            DerValue::Array(out)
        }
        plist::Value::Dictionary(d) => {
            let mut out = DerDict::new();
            for (k, x) in d.iter() {
                out.insert(k.clone(), plist_to_der(x, depth + 1)?);
            }
            DerValue::Dict(out)
        }
        plist::Value::Boolean(b) => DerValue::Bool(*b),
        plist::Value::Data(d) => DerValue::Data(d.clone()),
        plist::Value::Date(d) => {
            // RFC 3339 → GeneralizedTime text.
            let xml = d.to_xml_format();
            let gt: String = xml
                .chars()
                .filter(|c| !matches!(c, '-' | ':' | 'T'))
                .collect();
            DerValue::Date(DerDate::new(TimeKind::Generalized, gt))
        }
        plist::Value::Real(r) => DerValue::String(r.to_string()),
        plist::Value::Integer(i) => match i.as_signed() {
            Some(s) => DerValue::Integer(DerInt::Int(s)),
            None => {
                let u = i.as_unsigned().unwrap_or(0);
                let mut b = vec![0u8];
                b.extend_from_slice(&u.to_be_bytes());
                DerValue::Integer(DerInt::Big(b))
            }
        },
        plist::Value::String(s) => DerValue::String(s.clone()),
        plist::Value::Uid(u) => DerValue::Unknown {
            tag: 0x80,
            bytes: u.get().to_be_bytes().to_vec(),
        },
        _ => DerValue::Null,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn plist_bytes(v: plist::Value, binary: bool) -> Vec<u8> {
        let mut out = Vec::new();
        if binary {
            v.to_writer_binary(&mut out).unwrap();
        } else {
            v.to_writer_xml(&mut out).unwrap();
        }
        out
    }

    fn item(v_data: &[u8], pref: &[u8]) -> plist::Value {
        let mut d = plist::Dictionary::new();
        d.insert("v_Data".into(), plist::Value::Data(v_data.to_vec()));
        d.insert("v_PersistentRef".into(), plist::Value::Data(pref.to_vec()));
        plist::Value::Dictionary(d)
    }

    #[test]
    fn persistent_refs() {
        let r = PersistentRef::parse(b"genp\x00\x00\x00\x00\x00\x00\x01\x02");
        assert_eq!(r.kind, PersistentRefKind::Rowid);
        assert_eq!(r.table.as_deref(), Some("genp"));
        assert_eq!(r.rowid, Some(258)); // big-endian (DN reads it little-endian: a peer bug)
        assert_eq!(r.hex, "67656e700000000000000102");
        let mut b = b"inet".to_vec();
        b.extend_from_slice(&[
            0x12, 0x34, 0x56, 0x78, 0x9a, 0xbc, 0xde, 0xf0, 0, 1, 2, 3, 4, 5, 6, 7,
        ]);
        let r = PersistentRef::parse(&b);
        assert_eq!(r.kind, PersistentRefKind::Uuid);
        assert_eq!(
            r.uuid.as_deref(),
            Some("12345678-9abc-def0-0001-020304050607")
        );
        let r = PersistentRef::parse(b"tkpr\x30\x00");
        assert_eq!(r.kind, PersistentRefKind::Token);
        let r = PersistentRef::parse(b"genp\x01");
        assert_eq!(
            (r.kind, r.table.as_deref()),
            (PersistentRefKind::Unknown, Some("genp"))
        );
        let r = PersistentRef::parse(b"\x00\x01\x02\x03\x00\x00\x00\x00\x00\x00\x00\x01");
        assert_eq!((r.kind, r.table), (PersistentRefKind::Unknown, None));
        assert_eq!(PersistentRef::parse(b"").kind, PersistentRefKind::Unknown);
    }

    #[test]
    fn parses_tables_and_tolerates_oddities() {
        let mut top = plist::Dictionary::new();
        top.insert(
            "zzzz".into(),
            plist::Value::Array(vec![item(b"\x03", b"zzzz\0\0\0\0\0\0\0\x09")]),
        );
        top.insert(
            "genp".into(),
            plist::Value::Array(vec![
                item(b"\x03\x00", b"genp\0\0\0\0\0\0\0\x01"),
                plist::Value::String("not an item".into()),
                {
                    let mut d = plist::Dictionary::new();
                    d.insert("v_Data".into(), plist::Value::String("text".into()));
                    d.insert("acct".into(), plist::Value::String("clear-account".into()));
                    d.insert(
                        "cdat".into(),
                        plist::Value::Date(
                            plist::Date::from_xml_format("2010-05-06T07:08:09Z").unwrap(),
                        ),
                    );
                    plist::Value::Dictionary(d)
                },
            ]),
        );
        top.insert("cert".into(), plist::Value::Array(vec![]));
        top.insert(
            "idnt".into(),
            plist::Value::Array(vec![item(b"\x03", b"idnt")]),
        );
        top.insert(
            "keybag-uuid".into(),
            plist::Value::String("257ec6be-a1d1-3bed-c469-657e997814eb".into()),
        );
        top.insert("odd".into(), plist::Value::Integer(5.into()));
        for binary in [true, false] {
            let f =
                parse_export(&plist_bytes(plist::Value::Dictionary(top.clone()), binary)).unwrap();
            assert_eq!(
                f.keybag_uuid.as_deref(),
                Some("257ec6be-a1d1-3bed-c469-657e997814eb")
            );
            assert_eq!(f.tables, ["genp", "cert", "zzzz", "idnt"]);
            assert_eq!(f.unknown_tables, ["zzzz", "idnt"]);
            assert_eq!(
                f.problems,
                ["top-level key \"odd\" is an integer, not an array of items"]
            );
            assert_eq!(f.items.len(), 5);
            let g0 = &f.items[0];
            assert_eq!((g0.table.as_str(), g0.index), ("genp", 0));
            assert_eq!(g0.v_data.as_deref(), Some(&[3u8, 0][..]));
            assert_eq!(g0.persistent_ref.as_ref().and_then(|r| r.rowid), Some(1));
            assert!(g0.problems.is_empty());
            let g1 = &f.items[1];
            assert_eq!(g1.index, 1);
            assert_eq!(g1.problems, ["item is a string, not a dictionary"]);
            let g2 = &f.items[2];
            assert_eq!(g2.v_data, None);
            assert_eq!(
                g2.problems,
                [
                    "v_Data is a string, not data",
                    "item has no v_PersistentRef"
                ]
            );
            assert_eq!(
                g2.clear_attributes.get_str("acct").as_deref(),
                Some("clear-account")
            );
            let cdat = g2.clear_attributes.get_date("cdat").unwrap();
            assert_eq!(cdat.raw, "20100506070809Z");
            assert_eq!(cdat.rfc3339.as_deref(), Some("2010-05-06T07:08:09Z"));
            assert_eq!(f.items[3].table, "zzzz");
            assert_eq!(
                f.items[4].persistent_ref.as_ref().unwrap().kind,
                PersistentRefKind::Unknown
            );
        }
    }

    #[test]
    fn file_level_errors() {
        assert!(matches!(
            parse_export(b"not a plist at all"),
            Err(KeychainError::NotAPlist(_))
        ));
        assert!(matches!(
            parse_export(b""),
            Err(KeychainError::NotAPlist(_))
        ));
        let arr = plist_bytes(plist::Value::Array(vec![]), true);
        match parse_export(&arr) {
            Err(KeychainError::NotADictionary(k)) => assert_eq!(k, "an array"),
            other => panic!("{other:?}"),
        }
        // Truncated binary plist.
        let mut top = plist::Dictionary::new();
        top.insert(
            "genp".into(),
            plist::Value::Array(vec![item(&[3; 100], b"genp\0\0\0\0\0\0\0\x01")]),
        );
        let b = plist_bytes(plist::Value::Dictionary(top), true);
        assert!(matches!(
            parse_export(&b[..b.len() - 10]),
            Err(KeychainError::NotAPlist(_))
        ));
    }

    #[test]
    fn deep_xml_plist_is_refused_without_overflowing_the_stack() {
        let n = 200_000;
        let mut s =
            String::from("<?xml version=\"1.0\"?><plist version=\"1.0\"><dict><key>genp</key>");
        s.push_str(&"<array>".repeat(n));
        s.push_str(&"</array>".repeat(n));
        s.push_str("</dict></plist>");
        match parse_export(s.as_bytes()) {
            Err(KeychainError::Refused(m)) => assert_eq!(m, "nested deeper than 32"),
            other => panic!("{other:?}"),
        }
    }

    /// A binary plist by hand: objects given as encoded bytes, 1-byte offsets and refs.
    fn bplist(objects: &[Vec<u8>], top: u8) -> Vec<u8> {
        let mut out = b"bplist00".to_vec();
        let mut offsets = Vec::new();
        for o in objects {
            offsets.push(out.len() as u8);
            out.extend_from_slice(o);
        }
        let table = out.len() as u64;
        out.extend_from_slice(&offsets);
        out.extend_from_slice(&[0, 0, 0, 0, 0, 0, 1, 1]);
        out.extend_from_slice(&(objects.len() as u64).to_be_bytes());
        out.extend_from_slice(&u64::from(top).to_be_bytes());
        out.extend_from_slice(&table.to_be_bytes());
        out
    }

    #[test]
    fn binary_plist_reference_bombs_are_refused() {
        // Object k (k < 12) is an array of 14 references to object k+1; object 12 is a
        // 100-byte data object. Fully expanded: 14^12 elements from a ~300-byte file.
        let mut objs: Vec<Vec<u8>> = (0..12u8)
            .map(|k| [vec![0xAE], vec![k + 1; 14]].concat())
            .collect();
        objs.push([vec![0x4F, 0x10, 100], vec![0x55; 100]].concat());
        let b = bplist(&objs, 0);
        match check_plist_shape(&b) {
            Err(ShapeError::Refused(m)) => assert!(m.contains("expands"), "{m}"),
            other => panic!("{other:?}"),
        }
        // Sharing within bounds is fine: an array of 2 refs to one 3-byte data object.
        let b = bplist(&[vec![0xA2, 1, 1], vec![0x43, 1, 2, 3]], 0);
        assert_eq!(check_plist_shape(&b), Ok(()));
        assert_eq!(
            plist::Value::from_reader(Cursor::new(&b)).unwrap(),
            plist::Value::Array(vec![
                plist::Value::Data(vec![1, 2, 3]),
                plist::Value::Data(vec![1, 2, 3])
            ])
        );
        // A reference cycle is an error of the parser.
        let b = bplist(&[vec![0xA1, 0]], 0);
        assert!(matches!(check_plist_shape(&b), Err(ShapeError::Parse(_))));
    }
}
