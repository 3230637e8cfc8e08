//! Decoding of the Manifest.db `file` column: an NSKeyedArchiver binary plist of `MBFile`.
//!
//! Archives are not uniform across iOS versions and tools (FORMAT §7, §11.2 item 6): values
//! may be inline or behind UIDs, data may be raw or `{NS.data}`, strings raw or `{NS.string}`.
//! Every oddity becomes a problem on the record; nothing here fails the whole index.

use super::record::FileRecord;
use crate::backup::plists::{parse_bounded, type_name, PlistLimits};
use plist::{Dictionary, Value};

/// Most UID hops followed when resolving one value (UID → UID → … → value).
const MAX_UID_HOPS: usize = 8;
/// Largest `file` blob decoded (real ones are a few hundred bytes, plus xattrs).
pub const MAX_MBFILE_BYTES: usize = 4 << 20;

/// The `$objects` of one NSKeyedArchiver archive, for resolving UIDs.
struct Archive<'a> {
    objects: &'a [Value],
}

impl<'a> Archive<'a> {
    /// Follow UIDs to the value they name; `Ok(None)` for `$null`.
    fn resolve(&self, mut v: &'a Value) -> Result<Option<&'a Value>, String> {
        for _ in 0..=MAX_UID_HOPS {
            match v {
                Value::Uid(u) => {
                    let idx =
                        usize::try_from(u.get()).map_err(|_| "UID out of range".to_owned())?;
                    v = self.objects.get(idx).ok_or_else(|| {
                        format!(
                            "UID {idx} points past $objects ({} entries)",
                            self.objects.len()
                        )
                    })?;
                }
                Value::String(s) if s == "$null" => return Ok(None),
                other => return Ok(Some(other)),
            }
        }
        Err(format!("more than {MAX_UID_HOPS} chained UIDs"))
    }

    /// Resolve `key` of `dict`; problems go to `problems` with the key named.
    fn field(
        &self,
        dict: &'a Dictionary,
        key: &str,
        problems: &mut Vec<String>,
    ) -> Option<&'a Value> {
        let v = dict.get(key)?;
        match self.resolve(v) {
            Ok(v) => v,
            Err(e) => {
                problems.push(format!("MBFile `{key}`: {e}"));
                None
            }
        }
    }

    /// Resolve `key` as an integer; other types are a problem.
    fn int(&self, dict: &'a Dictionary, key: &str, problems: &mut Vec<String>) -> Option<i128> {
        let v = self.field(dict, key, problems)?;
        match v {
            Value::Integer(i) => i
                .as_signed()
                .map(i128::from)
                .or_else(|| i.as_unsigned().map(i128::from)),
            other => {
                problems.push(format!(
                    "MBFile `{key}` is {}, expected an integer",
                    type_name(other)
                ));
                None
            }
        }
    }

    /// Resolve `key` as data, raw or `{NS.data}`; other types are a problem.
    fn data(&self, dict: &'a Dictionary, key: &str, problems: &mut Vec<String>) -> Option<Vec<u8>> {
        let v = self.field(dict, key, problems)?;
        match v {
            Value::Data(d) => Some(d.clone()),
            Value::Dictionary(d) if d.contains_key("NS.data") => {
                match self.field(d, "NS.data", problems) {
                    Some(Value::Data(b)) => Some(b.clone()),
                    Some(other) => {
                        problems.push(format!(
                            "MBFile `{key}`: NS.data is {}, expected data",
                            type_name(other)
                        ));
                        None
                    }
                    None => None,
                }
            }
            other => {
                problems.push(format!(
                    "MBFile `{key}` is {}, expected data",
                    type_name(other)
                ));
                None
            }
        }
    }

    /// Resolve `key` as a string, raw, `{NS.string}` or `{NS.bytes}`; other types are a problem.
    fn string(
        &self,
        dict: &'a Dictionary,
        key: &str,
        problems: &mut Vec<String>,
    ) -> Option<String> {
        let v = self.field(dict, key, problems)?;
        match v {
            Value::String(s) => Some(s.clone()),
            Value::Dictionary(d) if d.contains_key("NS.string") => {
                match self.field(d, "NS.string", problems) {
                    Some(Value::String(s)) => Some(s.clone()),
                    Some(other) => {
                        problems.push(format!(
                            "MBFile `{key}`: NS.string is {}, expected a string",
                            type_name(other)
                        ));
                        None
                    }
                    None => None,
                }
            }
            Value::Dictionary(d) if d.contains_key("NS.bytes") => {
                match self.field(d, "NS.bytes", problems) {
                    Some(Value::Data(b)) => match String::from_utf8(b.clone()) {
                        Ok(s) => Some(s),
                        Err(e) => {
                            problems.push(format!("MBFile `{key}`: NS.bytes is not UTF-8 ({e})"));
                            Some(String::from_utf8_lossy(b).into_owned())
                        }
                    },
                    _ => {
                        problems.push(format!("MBFile `{key}`: NS.bytes is not data"));
                        None
                    }
                }
            }
            other => {
                problems.push(format!(
                    "MBFile `{key}` is {}, expected a string",
                    type_name(other)
                ));
                None
            }
        }
    }

    /// The number of extended attributes: NSData holding a plist dictionary, or an archived
    /// NSDictionary (`NS.keys`).
    fn xattr_count(&self, dict: &'a Dictionary, problems: &mut Vec<String>) -> Option<usize> {
        let key = "ExtendedAttributes";
        let v = self.field(dict, key, problems)?;
        if let Value::Dictionary(d) = v {
            if let Some(keys) = d.get("NS.keys") {
                return match keys {
                    Value::Array(a) => Some(a.len()),
                    other => {
                        problems.push(format!("MBFile `{key}`: NS.keys is {}", type_name(other)));
                        None
                    }
                };
            }
        }
        let bytes = self.data(dict, key, problems)?;
        match parse_bounded(&bytes, &PlistLimits::embedded(bytes.len())) {
            Ok(Value::Dictionary(d)) => Some(d.len()),
            Ok(other) => {
                problems.push(format!(
                    "MBFile `{key}` holds {}, expected a dictionary",
                    type_name(&other)
                ));
                None
            }
            Err(e) => {
                problems.push(format!("MBFile `{key}`: {e}"));
                None
            }
        }
    }
}

/// Convert an archived integer to `u32`. Values encoded as int32 may be negative for IDs such
/// as nobody (-2 = 4294967294); `wrap_negative` accepts those as their unsigned bit pattern.
fn to_u32(v: i128, key: &str, wrap_negative: bool, problems: &mut Vec<String>) -> Option<u32> {
    if let Ok(x) = u32::try_from(v) {
        return Some(x);
    }
    if wrap_negative {
        if let Ok(x) = i32::try_from(v) {
            return Some(x as u32);
        }
    }
    problems.push(format!("MBFile `{key}` is {v}, out of range"));
    None
}

/// Convert an archived integer to `u64`, with a problem when out of range.
fn to_u64(v: i128, key: &str, problems: &mut Vec<String>) -> Option<u64> {
    u64::try_from(v)
        .map_err(|_| problems.push(format!("MBFile `{key}` is {v}, out of range")))
        .ok()
}

/// Convert an archived integer to `i64`, with a problem when out of range.
fn to_i64(v: i128, key: &str, problems: &mut Vec<String>) -> Option<i64> {
    i64::try_from(v)
        .map_err(|_| problems.push(format!("MBFile `{key}` is {v}, out of range")))
        .ok()
}

/// Decode an MBFile archive into `rec` (mode, size, class, key, times, …). Problems,
/// including an undecodable archive, are appended to `rec.problems`; returns whether the
/// archive's MBFile object could be read at all.
pub fn decode_into(blob: &[u8], rec: &mut FileRecord) -> bool {
    // Plain archives (nearly all) take the fast path; it gives up on anything unusual.
    if super::mbfile_fast::decode(blob, rec) {
        return true;
    }
    decode_general(blob, rec)
}

/// [`decode_into`] without the fast path (the reference the fast path is tested against).
pub(crate) fn decode_general(blob: &[u8], rec: &mut FileRecord) -> bool {
    let mut problems = Vec::new();
    let ok = decode_inner(blob, rec, &mut problems);
    rec.problems.append(&mut problems);
    ok
}

/// [`decode_general`] collecting problems into `problems`; whether the MBFile object was read.
fn decode_inner(blob: &[u8], rec: &mut FileRecord, problems: &mut Vec<String>) -> bool {
    let Some(top) = parse_archive(blob, problems) else {
        return false;
    };
    let Value::Dictionary(top) = &top else {
        problems.push(format!(
            "MBFile archive is {}, expected a dictionary",
            type_name(&top)
        ));
        return false;
    };
    check_archiver_and_version(top, problems);
    let Some(Value::Array(objects)) = top.get("$objects") else {
        problems.push("MBFile archive: no $objects array".to_owned());
        return false;
    };
    let ar = Archive { objects };
    let root_ref = root_ref(top, problems);
    let Some(root) = resolve_root(&ar, &root_ref, problems) else {
        return false;
    };
    check_root_class(&ar, root, problems);
    read_fields(&ar, root, rec, problems);
    true
}

/// The archive's top-level plist, or `None` (with a problem) when too large or unparsable.
fn parse_archive(blob: &[u8], problems: &mut Vec<String>) -> Option<Value> {
    if blob.len() > MAX_MBFILE_BYTES {
        problems.push(format!(
            "MBFile archive is {} bytes (limit {MAX_MBFILE_BYTES})",
            blob.len()
        ));
        return None;
    }
    match parse_bounded(blob, &PlistLimits::embedded(blob.len())) {
        Ok(v) => Some(v),
        Err(e) => {
            problems.push(format!("MBFile archive: {e}"));
            None
        }
    }
}

/// Problems for an `$archiver` other than NSKeyedArchiver or a `$version` other than 100000.
fn check_archiver_and_version(top: &Dictionary, problems: &mut Vec<String>) {
    match top.get("$archiver") {
        Some(Value::String(s)) if s == "NSKeyedArchiver" => {}
        Some(Value::String(s)) => problems.push(format!(
            "MBFile archive: $archiver is {s:?}, expected NSKeyedArchiver"
        )),
        Some(other) => problems.push(format!("MBFile archive: $archiver is {}", type_name(other))),
        None => problems.push("MBFile archive: no $archiver".to_owned()),
    }
    match top.get("$version").and_then(Value::as_signed_integer) {
        Some(100_000) => {}
        Some(v) => problems.push(format!("MBFile archive: $version is {v}, expected 100000")),
        None => problems.push("MBFile archive: no integer $version".to_owned()),
    }
}

/// The `$top` root UID; UID 1 (with a problem) when `$top` or its root is missing.
fn root_ref(top: &Dictionary, problems: &mut Vec<String>) -> Value {
    match top.get("$top") {
        Some(Value::Dictionary(t)) => match t.get("root") {
            Some(v @ Value::Uid(_)) => v.clone(),
            _ => {
                problems.push("MBFile archive: $top has no root UID; assuming object 1".to_owned());
                Value::Uid(plist::Uid::new(1))
            }
        },
        _ => {
            problems.push("MBFile archive: no $top; assuming object 1".to_owned());
            Value::Uid(plist::Uid::new(1))
        }
    }
}

/// The root object's dictionary, or `None` (with a problem) when it is not one.
fn resolve_root<'a>(
    ar: &Archive<'a>,
    root_ref: &'a Value,
    problems: &mut Vec<String>,
) -> Option<&'a Dictionary> {
    match ar.resolve(root_ref) {
        Ok(Some(Value::Dictionary(d))) => Some(d),
        Ok(Some(other)) => {
            problems.push(format!(
                "MBFile archive: root object is {}, expected a dictionary",
                type_name(other)
            ));
            None
        }
        Ok(None) => {
            problems.push("MBFile archive: root object is $null".to_owned());
            None
        }
        Err(e) => {
            problems.push(format!("MBFile archive: root: {e}"));
            None
        }
    }
}

/// Class name (informational): a problem when the root's `$classname` is not MBFile.
fn check_root_class<'a>(ar: &Archive<'a>, root: &'a Dictionary, problems: &mut Vec<String>) {
    if let Some(Value::Dictionary(class)) = ar.field(root, "$class", problems) {
        match class.get("$classname") {
            Some(Value::String(s)) if s == "MBFile" => {}
            Some(Value::String(s)) => problems.push(format!(
                "MBFile archive: root class is {s:?}, expected MBFile"
            )),
            _ => problems.push("MBFile archive: root class has no $classname".to_owned()),
        }
    }
}

/// Copy the MBFile fields (path check, mode, size, class, ids, times, key, digest, …) into `rec`.
fn read_fields<'a>(
    ar: &Archive<'a>,
    root: &'a Dictionary,
    rec: &mut FileRecord,
    problems: &mut Vec<String>,
) {
    if let Some(rp) = ar.string(root, "RelativePath", problems) {
        if rp != rec.relative_path {
            problems.push(format!(
                "MBFile RelativePath {rp:?} differs from the relativePath column {:?}",
                rec.relative_path
            ));
        }
    }
    rec.mode = ar
        .int(root, "Mode", problems)
        .and_then(|v| to_u32(v, "Mode", false, problems));
    rec.size = ar
        .int(root, "Size", problems)
        .and_then(|v| to_u64(v, "Size", problems));
    rec.protection_class = ar
        .int(root, "ProtectionClass", problems)
        .and_then(|v| to_u32(v, "ProtectionClass", false, problems));
    rec.inode = ar
        .int(root, "InodeNumber", problems)
        .and_then(|v| to_u64(v, "InodeNumber", problems));
    rec.user_id = ar
        .int(root, "UserID", problems)
        .and_then(|v| to_u32(v, "UserID", true, problems));
    rec.group_id = ar
        .int(root, "GroupID", problems)
        .and_then(|v| to_u32(v, "GroupID", true, problems));
    rec.last_modified = ar
        .int(root, "LastModified", problems)
        .and_then(|v| to_i64(v, "LastModified", problems));
    rec.last_status_change = ar
        .int(root, "LastStatusChange", problems)
        .and_then(|v| to_i64(v, "LastStatusChange", problems));
    rec.birth = ar
        .int(root, "Birth", problems)
        .and_then(|v| to_i64(v, "Birth", problems));
    rec.mbfile_flags = ar
        .int(root, "Flags", problems)
        .and_then(|v| to_u32(v, "Flags", true, problems));
    rec.encryption_key = ar
        .data(root, "EncryptionKey", problems)
        .map(|k| crate::crypto::WrappedKey::parse(&k));
    rec.digest = ar.data(root, "Digest", problems);
    rec.target = ar.string(root, "Target", problems);
    rec.extended_attributes = ar.xattr_count(root, problems).filter(|&n| n > 0);
}

#[cfg(test)]
mod tests {
    use super::*;
    use plist::Uid;

    /// A plist dictionary of `pairs`.
    fn dict(pairs: Vec<(&str, Value)>) -> Value {
        Value::Dictionary(pairs.into_iter().map(|(k, v)| (k.to_owned(), v)).collect())
    }

    /// A plist UID.
    fn uid(n: u64) -> Value {
        Value::Uid(Uid::new(n))
    }

    /// A binary NSKeyedArchiver archive of `objects` with root UID `root`.
    fn archive(root: u64, objects: Vec<Value>) -> Vec<u8> {
        let v = dict(vec![
            ("$archiver", Value::String("NSKeyedArchiver".into())),
            ("$version", Value::Integer(100_000.into())),
            ("$top", dict(vec![("root", uid(root))])),
            ("$objects", Value::Array(objects)),
        ]);
        let mut out = Vec::new();
        v.to_writer_binary(&mut out).unwrap();
        out
    }

    /// An empty HomeDomain record with relative path `rp`.
    fn record(rp: &str) -> FileRecord {
        FileRecord::new(String::new(), "HomeDomain".into(), rp.into())
    }

    /// The archived class dictionary of MBFile.
    fn mbfile_class() -> Value {
        dict(vec![
            ("$classname", Value::String("MBFile".into())),
            (
                "$classes",
                Value::Array(vec![
                    Value::String("MBFile".into()),
                    Value::String("NSObject".into()),
                ]),
            ),
        ])
    }

    #[test]
    fn decodes_uid_and_inline_forms_with_root_not_at_index_1() {
        let key: Vec<u8> = [vec![3, 0, 0, 0], vec![0xAB; 40]].concat();
        let xattrs = {
            let mut b = Vec::new();
            dict(vec![
                ("com.apple.a", Value::Data(vec![1])),
                ("com.apple.b", Value::Data(vec![2])),
            ])
            .to_writer_binary(&mut b)
            .unwrap();
            b
        };
        // root is object 3; RelativePath via NSString-dict, Target inline, key via {NS.data: UID}
        let objects = vec![
            Value::String("$null".into()),
            Value::String("decoy".into()),
            mbfile_class(),
            dict(vec![
                ("$class", uid(2)),
                ("RelativePath", uid(4)),
                ("Target", Value::String("../t".into())),
                ("EncryptionKey", uid(5)),
                ("Digest", Value::Data(vec![7; 20])),
                ("ExtendedAttributes", uid(7)),
                ("Mode", Value::Integer(0o100644.into())),
                ("Size", Value::Integer(5_000_000_000u64.into())),
                ("ProtectionClass", Value::Integer(3.into())),
                ("InodeNumber", Value::Integer(100039.into())),
                ("UserID", Value::Integer(501.into())),
                ("GroupID", Value::Integer((-2i64).into())),
                ("LastModified", Value::Integer(1718843244.into())),
                ("LastStatusChange", Value::Integer(1718844691.into())),
                ("Birth", Value::Integer(1714106619.into())),
                ("Flags", Value::Integer(128.into())),
            ]),
            dict(vec![("NS.string", Value::String("Library/x".into()))]),
            dict(vec![("NS.data", uid(6)), ("$class", uid(2))]),
            Value::Data(key.clone()),
            Value::Data(xattrs),
        ];
        let mut r = record("Library/x");
        assert!(decode_into(&archive(3, objects), &mut r));
        assert_eq!(r.problems, Vec::<String>::new());
        assert_eq!(r.mode, Some(0o100644));
        assert_eq!(r.size, Some(5_000_000_000));
        assert_eq!(r.protection_class, Some(3));
        assert_eq!(
            r.encryption_key
                .as_ref()
                .map(|k| k.as_ref().unwrap().to_bytes().to_vec()),
            Some(key.to_vec())
        );
        assert_eq!(r.encryption_key_class(), Some(3));
        assert_eq!(r.digest, Some(vec![7; 20]));
        assert_eq!(r.target.as_deref(), Some("../t"));
        assert_eq!(r.inode, Some(100039));
        assert_eq!((r.user_id, r.group_id), (Some(501), Some(4294967294)));
        assert_eq!(
            (r.last_modified, r.last_status_change, r.birth),
            (Some(1718843244), Some(1718844691), Some(1714106619))
        );
        assert_eq!(r.mbfile_flags, Some(128));
        assert_eq!(r.extended_attributes, Some(2));
    }

    #[test]
    fn bad_values_are_problems_and_the_row_survives() {
        let objects = vec![
            Value::String("$null".into()),
            dict(vec![
                ("$class", uid(2)),
                ("RelativePath", Value::String("other/path".into())),
                ("Mode", Value::String("33188".into())),
                ("Size", Value::Integer((-5i64).into())),
                ("ProtectionClass", Value::Integer(3.into())),
                ("EncryptionKey", uid(99)),
                ("Digest", uid(0)), // $null: absent, no problem
                ("ExtendedAttributes", Value::Data(b"not a plist".to_vec())),
            ]),
            dict(vec![("$classname", Value::String("NSObject".into()))]),
        ];
        let mut r = record("Library/x");
        assert!(decode_into(&archive(1, objects), &mut r));
        assert_eq!(r.protection_class, Some(3));
        assert_eq!(
            (r.mode, r.size, r.encryption_key.as_ref(), r.digest.as_ref()),
            (None, None, None, None)
        );
        let p = r.problems.join("\n");
        for needle in [
            "root class is \"NSObject\"",
            "RelativePath \"other/path\" differs",
            "`Mode` is a string",
            "`Size` is -5, out of range",
            "`EncryptionKey`: UID 99 points past $objects",
            "`ExtendedAttributes`: not a property list",
        ] {
            assert!(p.contains(needle), "missing {needle:?} in\n{p}");
        }
        assert_eq!(r.problems.len(), 6, "{p}");
    }

    #[test]
    fn broken_archives_never_panic() {
        let mut r = record("");
        assert!(!decode_into(b"", &mut r));
        assert!(!decode_into(
            b"bplist00garbage-garbage-garbage-garbage-garbage",
            &mut r
        ));
        let mut plain = Vec::new();
        Value::Array(vec![]).to_writer_binary(&mut plain).unwrap();
        assert!(!decode_into(&plain, &mut r));
        // root UID pointing at itself-ish chains and out-of-range roots
        assert!(!decode_into(
            &archive(5, vec![Value::String("$null".into())]),
            &mut r
        ));
        assert!(!decode_into(
            &archive(1, vec![Value::String("$null".into()), uid(1)]),
            &mut r
        ));
        assert!(!decode_into(
            &archive(0, vec![Value::String("$null".into())]),
            &mut r
        ));
        assert_eq!(r.problems.len(), 6, "{:?}", r.problems);
        assert!(r.problems[4].contains("chained UIDs"), "{:?}", r.problems);
        // Every truncation of a valid archive is handled.
        let good = archive(
            1,
            vec![
                Value::String("$null".into()),
                dict(vec![("Mode", Value::Integer(1.into()))]),
            ],
        );
        for n in 0..good.len() {
            let mut r = record("");
            decode_into(&good[..n], &mut r);
            assert!(!r.problems.is_empty());
        }
    }

    #[test]
    fn missing_top_falls_back_to_object_1() {
        let v = dict(vec![
            ("$archiver", Value::String("NSKeyedArchiver".into())),
            ("$version", Value::Integer(100_000.into())),
            (
                "$objects",
                Value::Array(vec![
                    Value::String("$null".into()),
                    dict(vec![("Size", Value::Integer(9.into()))]),
                ]),
            ),
        ]);
        let mut b = Vec::new();
        v.to_writer_binary(&mut b).unwrap();
        let mut r = record("");
        assert!(decode_into(&b, &mut r));
        assert_eq!(r.size, Some(9));
        assert_eq!(r.problems, ["MBFile archive: no $top; assuming object 1"]);
    }
}
