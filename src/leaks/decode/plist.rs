//! Property lists (binary, XML), NSKeyedArchiver archives resolved: values by key path.
//!
//! A plist is checked first for hostile shapes (nesting, shared-reference expansion; the
//! keychain reader's check), then walked: every string, number and date-free scalar is a
//! field named by its key. Data values that hold a plist or JSON are decoded once more;
//! other data that is mostly text is searched as text. An NSKeyedArchiver archive keeps its
//! values in `$objects` behind UIDs: dictionaries (`NS.keys`/`NS.objects`) and archived
//! objects (`encodeObject:forKey:`) are resolved so that a value is named by its key.

use super::{Field, ValueType, Where};
use crate::keychain::export::check_plist_shape;
use plist::Value;
use std::io::Cursor;

/// Deepest nesting walked (the shape check already refused deeper plists).
const MAX_DEPTH: usize = 48;

/// Hand every value of a plist to `out`.
pub fn fields(b: &[u8], out: &mut dyn FnMut(Field<'_>)) -> Result<(), String> {
    let v = parse(b)?;
    if let Some(objects) = keyed_archive(&v) {
        archive_fields(objects, out);
    } else {
        walk(&v, &mut String::new(), None, 0, out);
    }
    Ok(())
}

/// Parse after the shape check.
fn parse(b: &[u8]) -> Result<Value, String> {
    check_plist_shape(b).map_err(|e| format!("{e:?}"))?;
    Value::from_reader(Cursor::new(b)).map_err(|e| e.to_string())
}

/// The `$objects` of an NSKeyedArchiver archive.
fn keyed_archive(v: &Value) -> Option<&[Value]> {
    let d = v.as_dictionary()?;
    let archiver = d.get("$archiver")?.as_string()?;
    if archiver != "NSKeyedArchiver" {
        return None;
    }
    d.get("$objects")?.as_array().map(Vec::as_slice)
}

fn walk(
    v: &Value,
    path: &mut String,
    name: Option<&str>,
    depth: usize,
    out: &mut dyn FnMut(Field<'_>),
) {
    if depth > MAX_DEPTH {
        return;
    }
    let at = |p: &str| Where::Plist {
        key_path: if p.is_empty() { "/".into() } else { p.into() },
    };
    match v {
        Value::String(s) => out(Field::new(at(path), name, s.as_bytes())),
        Value::Integer(i) => {
            let t = i.to_string();
            out(Field::typed(
                at(path),
                name,
                t.as_bytes(),
                ValueType::Integer,
            ))
        }
        Value::Real(r) => {
            let t = r.to_string();
            out(Field::typed(at(path), name, t.as_bytes(), ValueType::Real))
        }
        Value::Boolean(b) => {
            let t: &[u8] = if *b { b"true" } else { b"false" };
            out(Field::typed(at(path), name, t, ValueType::Bool))
        }
        Value::Date(d) => {
            let t = d.to_xml_format();
            out(Field::typed(at(path), name, t.as_bytes(), ValueType::Date))
        }
        Value::Data(d) => data(d, path.as_str(), name, depth, out),
        Value::Array(items) => {
            for (i, item) in items.iter().enumerate() {
                let len = path.len();
                path.push_str(&format!("/{i}"));
                walk(item, path, name, depth + 1, out);
                path.truncate(len);
            }
        }
        Value::Dictionary(d) => {
            for (k, item) in d.iter() {
                let len = path.len();
                path.push('/');
                path.push_str(k);
                walk(item, path, Some(k), depth + 1, out);
                path.truncate(len);
            }
        }
        Value::Uid(_) => {}
        _ => {}
    }
}

/// A data value: a nested plist or JSON is decoded (once more), text is searched as a
/// string, anything else as its printable runs.
fn data(d: &[u8], path: &str, name: Option<&str>, depth: usize, out: &mut dyn FnMut(Field<'_>)) {
    let outer = Where::Plist {
        key_path: path.to_owned(),
    };
    match super::sniff(d) {
        super::Kind::Plist if depth < MAX_DEPTH => {
            if let Ok(v) = parse(d) {
                let mut inner = |f: Field<'_>| {
                    out(Field {
                        at: super::nested(&outer, &f.at),
                        ..f
                    })
                };
                match keyed_archive(&v) {
                    Some(objects) => archive_fields(objects, &mut inner),
                    None => walk(&v, &mut String::new(), name, depth + 1, &mut inner),
                }
                return;
            }
        }
        super::Kind::Json => {
            if let Ok(v) = serde_json::from_slice::<serde_json::Value>(d) {
                let mut inner = |f: Field<'_>| {
                    out(Field {
                        at: super::nested(&outer, &f.at),
                        ..f
                    })
                };
                super::json::walk(&v, &mut String::new(), name, 0, &mut inner);
                return;
            }
        }
        super::Kind::Text => return out(Field::typed(outer, name, d, ValueType::Data)),
        _ => {}
    }
    super::binary_value(d, &mut |f| {
        out(Field {
            at: outer.clone(),
            name,
            ty: ValueType::Data,
            ..f
        })
    });
}

/// The fields of an NSKeyedArchiver archive: each string object once, named by the key
/// it is stored under when a dictionary or an archived object names it, at
/// `/$objects/<index>`.
fn archive_fields(objects: &[Value], out: &mut dyn FnMut(Field<'_>)) {
    let mut names: Vec<Option<&str>> = vec![None; objects.len()];
    let string_at = |u: &Value| -> Option<&str> {
        let i = u.as_uid()?.get() as usize;
        objects.get(i)?.as_string()
    };
    for obj in objects {
        let Some(d) = obj.as_dictionary() else {
            continue;
        };
        let (keys, vals) = (
            d.get("NS.keys").and_then(Value::as_array),
            d.get("NS.objects").and_then(Value::as_array),
        );
        if let (Some(keys), Some(vals)) = (keys, vals) {
            for (k, v) in keys.iter().zip(vals) {
                if let (Some(k), Some(i)) = (string_at(k), v.as_uid()) {
                    if let Some(slot) = names.get_mut(i.get() as usize) {
                        slot.get_or_insert(k);
                    }
                }
            }
        }
        for (k, v) in d.iter() {
            if k.starts_with('$') || k.starts_with("NS.") {
                continue;
            }
            if let Some(i) = v.as_uid() {
                if let Some(slot) = names.get_mut(i.get() as usize) {
                    slot.get_or_insert(k.as_str());
                }
            }
        }
    }
    for (i, obj) in objects.iter().enumerate() {
        let mut path = format!("/$objects/{i}");
        match obj {
            Value::String(s) if s == "$null" => {}
            Value::Dictionary(_) | Value::Array(_) => {}
            other => walk(other, &mut path, names[i], 0, out),
        }
        // Scalars of archived objects stored inline (encodeInteger:forKey:, strings
        // inline in `NS.string`): walked as a plain dictionary without its UIDs.
        if let Value::Dictionary(d) = obj {
            for (k, v) in d.iter() {
                if k.starts_with('$') || v.as_uid().is_some() || matches!(v, Value::Array(_)) {
                    continue;
                }
                let mut p = format!("{path}/{k}");
                let name = if k == "NS.string" {
                    names[i]
                } else {
                    Some(k.as_str())
                };
                walk(v, &mut p, name, 1, out);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use plist::{Dictionary, Uid};

    fn collect(b: &[u8]) -> Vec<(String, Option<String>, String)> {
        let mut got = Vec::new();
        fields(b, &mut |f| {
            got.push((
                super::super::describe(&f.at),
                f.name.map(str::to_owned),
                String::from_utf8_lossy(f.value).into_owned(),
            ))
        })
        .unwrap();
        got
    }

    fn binary(v: &Value) -> Vec<u8> {
        let mut b = Vec::new();
        v.to_writer_binary(&mut b).unwrap();
        b
    }

    #[test]
    fn key_paths_and_nested_plists() {
        let mut inner = Dictionary::new();
        inner.insert("refreshToken".into(), "r-123".into());
        let mut auth = Dictionary::new();
        auth.insert("user".into(), "alice".into());
        auth.insert(
            "blob".into(),
            Value::Data(binary(&Value::Dictionary(inner))),
        );
        let mut top = Dictionary::new();
        top.insert("auth".into(), Value::Dictionary(auth));
        top.insert("list".into(), Value::Array(vec!["a".into(), 7.into()]));
        let got = collect(&binary(&Value::Dictionary(top)));
        let has = |p: &str, n: &str, v: &str| {
            got.iter()
                .any(|(gp, gn, gv)| gp == p && gn.as_deref() == Some(n) && gv == v)
        };
        assert!(has("/auth/user", "user", "alice"), "{got:?}");
        assert!(
            has("/auth/blob/refreshToken", "refreshToken", "r-123"),
            "{got:?}"
        );
        assert!(has("/list/1", "list", "7"), "{got:?}");
        assert!(fields(b"bplist00\x00garbage", &mut |_| {}).is_err());
    }

    #[test]
    fn keyed_archives_name_values_by_their_keys() {
        // {"$archiver": "NSKeyedArchiver", "$top": {"root": UID 1}, "$objects": ["$null",
        //  {NS.keys: [UID 2], NS.objects: [UID 3], $class: UID 4}, "password", "hunter2!x",
        //  {$classname: NSDictionary}]}
        let mut dict = Dictionary::new();
        dict.insert(
            "NS.keys".into(),
            Value::Array(vec![Value::Uid(Uid::new(2))]),
        );
        dict.insert(
            "NS.objects".into(),
            Value::Array(vec![Value::Uid(Uid::new(3))]),
        );
        dict.insert("$class".into(), Value::Uid(Uid::new(4)));
        let mut class = Dictionary::new();
        class.insert("$classname".into(), "NSDictionary".into());
        let objects = vec![
            "$null".into(),
            Value::Dictionary(dict),
            "password".into(),
            "hunter2!x".into(),
            Value::Dictionary(class),
        ];
        let mut top = Dictionary::new();
        top.insert("$archiver".into(), "NSKeyedArchiver".into());
        top.insert("$objects".into(), Value::Array(objects));
        let got = collect(&binary(&Value::Dictionary(top)));
        assert!(
            got.iter().any(|(p, n, v)| p == "/$objects/3"
                && n.as_deref() == Some("password")
                && v == "hunter2!x"),
            "{got:?}"
        );
    }
}
