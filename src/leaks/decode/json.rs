//! JSON: every string, number and boolean by its JSON pointer, named by its member.

use super::{Field, ValueType, Where};
use serde_json::Value;

/// Deepest nesting followed (serde_json itself stops at 128).
const MAX_DEPTH: usize = 128;

/// Hand every string (and number, as written) of a JSON document to `out`.
pub fn fields(b: &[u8], out: &mut dyn FnMut(Field<'_>)) -> Result<(), String> {
    let v: Value = serde_json::from_slice(b).map_err(|e| e.to_string())?;
    walk(&v, &mut String::new(), None, 0, out);
    Ok(())
}

/// Walk a parsed value (also used for JSON found inside other formats).
pub fn walk(
    v: &Value,
    pointer: &mut String,
    name: Option<&str>,
    depth: usize,
    out: &mut dyn FnMut(Field<'_>),
) {
    if depth > MAX_DEPTH {
        return;
    }
    let mut leaf = |text: &str, ty: ValueType| {
        out(Field::typed(
            Where::Json {
                pointer: pointer.clone(),
            },
            name,
            text.as_bytes(),
            ty,
        ))
    };
    match v {
        Value::String(s) => leaf(s, ValueType::String),
        Value::Number(n) if n.is_f64() => leaf(&n.to_string(), ValueType::Real),
        Value::Number(n) => leaf(&n.to_string(), ValueType::Integer),
        Value::Bool(b) => leaf(if *b { "true" } else { "false" }, ValueType::Bool),
        Value::Array(items) => {
            for (i, item) in items.iter().enumerate() {
                let len = pointer.len();
                pointer.push_str(&format!("/{i}"));
                walk(item, pointer, name, depth + 1, out);
                pointer.truncate(len);
            }
        }
        Value::Object(members) => {
            for (k, item) in members {
                let len = pointer.len();
                pointer.push('/');
                // RFC 6901: `~` is `~0`, `/` is `~1`.
                pointer.push_str(&k.replace('~', "~0").replace('/', "~1"));
                walk(item, pointer, Some(k), depth + 1, out);
                pointer.truncate(len);
            }
        }
        Value::Null => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pointers_and_names() {
        let mut got = Vec::new();
        fields(
            br#"{"auth":{"refresh/token":"abc","n":[1,"x"]},"ok":true}"#,
            &mut |f| {
                // Booleans are handed out typed-only (for `tamper`; the leak sweep skips them).
                if f.typed_only {
                    assert_eq!((f.ty, f.value), (ValueType::Bool, &b"true"[..]));
                    return;
                }
                got.push((
                    super::super::describe(&f.at),
                    f.name.map(str::to_owned),
                    String::from_utf8_lossy(f.value).into_owned(),
                ))
            },
        )
        .unwrap();
        let want = [
            ("/auth/refresh~1token", Some("refresh/token"), "abc"),
            ("/auth/n/0", Some("n"), "1"),
            ("/auth/n/1", Some("n"), "x"),
        ];
        let want: Vec<(String, Option<String>, String)> = want
            .iter()
            .map(|(a, b, c)| (a.to_string(), b.map(str::to_owned), c.to_string()))
            .collect();
        let mut want = want;
        want.sort();
        got.sort();
        assert_eq!(got, want);
        assert!(fields(b"{\"a\":", &mut |_| {}).is_err());
    }
}
