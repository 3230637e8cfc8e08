//! The MBFile archive of a patched file: its `Size` (and `Digest`, when it has one) set anew.
//!
//! The archive is decoded with the `plist` crate, the two values replaced where they are
//! (inline in the MBFile dictionary or behind a UID, data raw or `{NS.data}`), and written
//! again as a binary plist. Every other value, the `EncryptionKey` included, is kept.

use plist::Value;

/// Set `Size` to `size`, and `Digest` (when the archive has one) to `digest`.
pub fn update(blob: &[u8], size: u64, digest: Option<&[u8]>) -> Result<Vec<u8>, String> {
    let mut doc = Value::from_reader(std::io::Cursor::new(blob))
        .map_err(|e| format!("the MBFile archive does not parse: {e}"))?;
    let top = doc
        .as_dictionary_mut()
        .ok_or("the MBFile archive is not a dictionary")?;
    let root = match top
        .get("$top")
        .and_then(Value::as_dictionary)
        .and_then(|t| t.get("root"))
    {
        Some(Value::Uid(u)) => u.get() as usize,
        _ => 1,
    };
    let objects = top
        .get_mut("$objects")
        .and_then(Value::as_array_mut)
        .ok_or("the MBFile archive has no $objects array")?;
    let fields = objects
        .get(root)
        .and_then(Value::as_dictionary)
        .ok_or("the MBFile archive's root object is not a dictionary")?;
    let size_at = match fields.get("Size") {
        Some(Value::Uid(u)) => Slot::Object(u.get() as usize),
        _ => Slot::Field,
    };
    let digest_at = match fields.get("Digest") {
        None => None,
        Some(Value::Uid(u)) => Some(Slot::Object(u.get() as usize)),
        Some(_) => Some(Slot::Field),
    };
    let new_size = Value::Integer(size.into());
    match size_at {
        Slot::Field => field(objects, root, "Size")?.clone_from(&new_size),
        Slot::Object(i) => *object(objects, i)? = new_size,
    }
    if let (Some(at), Some(d)) = (digest_at, digest) {
        let v = match at {
            Slot::Field => field(objects, root, "Digest")?,
            Slot::Object(i) => object(objects, i)?,
        };
        set_data(v, d)?;
        // `{NS.data: UID}`: the data object it names.
        if let Some(Value::Uid(u)) = v.as_dictionary().and_then(|n| n.get("NS.data")) {
            let i = u.get() as usize;
            set_data(object(objects, i)?, d)?;
        }
    }
    let mut out = Vec::with_capacity(blob.len());
    doc.to_writer_binary(&mut out)
        .map_err(|e| format!("cannot write the MBFile archive: {e}"))?;
    Ok(out)
}

enum Slot {
    /// Inline in the MBFile dictionary.
    Field,
    /// In `$objects` at this index.
    Object(usize),
}

fn field<'a>(objects: &'a mut [Value], root: usize, key: &str) -> Result<&'a mut Value, String> {
    objects
        .get_mut(root)
        .and_then(Value::as_dictionary_mut)
        .and_then(|d| d.get_mut(key))
        .ok_or_else(|| format!("the MBFile has no {key}"))
}

fn object(objects: &mut [Value], i: usize) -> Result<&mut Value, String> {
    let n = objects.len();
    objects
        .get_mut(i)
        .ok_or_else(|| format!("UID {i} points past $objects ({n} entries)"))
}

/// Data raw, or `{NS.data: data}`; a UID inside is left to the caller.
fn set_data(v: &mut Value, d: &[u8]) -> Result<(), String> {
    match v {
        Value::Data(old) => *old = d.to_vec(),
        Value::Dictionary(dict) => match dict.get_mut("NS.data") {
            Some(Value::Data(old)) => *old = d.to_vec(),
            Some(Value::Uid(_)) => {}
            _ => return Err("the MBFile Digest is neither data nor {NS.data}".into()),
        },
        _ => return Err("the MBFile Digest is not data".into()),
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::index::FileRecord;
    use plist::{Dictionary, Uid};

    fn archive(digest_by_uid: bool) -> Vec<u8> {
        let mut f = Dictionary::new();
        f.insert("Size".into(), Value::Integer(10u64.into()));
        f.insert("ProtectionClass".into(), Value::Integer(3u64.into()));
        f.insert("RelativePath".into(), Value::Uid(Uid::new(2)));
        f.insert("EncryptionKey".into(), Value::Uid(Uid::new(3)));
        if digest_by_uid {
            f.insert("Digest".into(), Value::Uid(Uid::new(5)));
        } else {
            f.insert("Digest".into(), Value::Data(vec![1; 20]));
        }
        let mut key = Dictionary::new();
        let mut k = vec![3, 0, 0, 0];
        k.extend([9u8; 40]);
        key.insert("NS.data".into(), Value::Data(k));
        let mut top = Dictionary::new();
        top.insert("root".into(), Value::Uid(Uid::new(1)));
        let mut d = Dictionary::new();
        d.insert("$archiver".into(), "NSKeyedArchiver".into());
        d.insert("$version".into(), Value::Integer(100000u64.into()));
        d.insert("$top".into(), Value::Dictionary(top));
        d.insert(
            "$objects".into(),
            Value::Array(vec![
                "$null".into(),
                Value::Dictionary(f),
                "Library/x.plist".into(),
                Value::Dictionary(key),
                "unused".into(),
                Value::Data(vec![1; 20]),
            ]),
        );
        let mut out = Vec::new();
        Value::Dictionary(d).to_writer_binary(&mut out).unwrap();
        out
    }

    #[test]
    fn size_and_digest_change_and_the_key_stays() {
        for by_uid in [false, true] {
            let blob = archive(by_uid);
            let mut before = FileRecord::new(String::new(), String::new(), String::new());
            crate::index::mbfile::decode_into(&blob, &mut before);
            let out = update(&blob, 12345, Some(&[7; 20])).unwrap();
            let mut after = FileRecord::new(String::new(), String::new(), String::new());
            crate::index::mbfile::decode_into(&out, &mut after);
            assert_eq!(after.size, Some(12345));
            assert_eq!(after.digest.as_deref(), Some(&[7u8; 20][..]));
            assert_eq!(after.encryption_key, before.encryption_key);
            assert!(after.encryption_key.is_some());
            assert_eq!(after.relative_path, before.relative_path);
            assert_eq!(after.protection_class, Some(3));
            // No digest given: the old one stays.
            let out = update(&blob, 1, None).unwrap();
            let mut same = FileRecord::new(String::new(), String::new(), String::new());
            crate::index::mbfile::decode_into(&out, &mut same);
            assert_eq!(same.digest.as_deref(), Some(&[1u8; 20][..]));
        }
        assert!(update(b"not a plist", 1, None)
            .unwrap_err()
            .contains("does not parse"));
    }
}
