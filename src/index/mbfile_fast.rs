//! Fast path for well-formed MBFile archives: reads the binary plist in place, no `plist::Value`.
//!
//! Decoding an index is mostly decoding its MBFile archives, and building a `plist::Value`
//! tree per row is most of that. This reader handles only the archive shape iOS and common
//! tools write and gives up (returns `false`, leaving the record untouched) on anything
//! else, including every case where the general decoder in [`super::mbfile`] would record
//! a problem. For the archives it accepts its result equals the general decoder's (the tests
//! compare both on fixture, conformance and mutated archives).
//!
//! Accepted: `bplist00` whose reachable objects are integers of 1, 2, 4 or 8 bytes, UIDs,
//! ASCII or UTF-16 strings, data, arrays and dictionaries with string keys; every array or
//! dictionary reached at most once (so the object graph is a tree of collections and
//! cannot expand), at most [`MAX_DEPTH`] levels; no `ExtendedAttributes` and no `NS.string`
//! or `NS.bytes` wrappers (the general decoder handles those).

use super::record::FileRecord;
use crate::crypto::{BadKeyLength, WrappedKey};
use smallvec::SmallVec;

/// Deepest nesting accepted (the general parser's limit for embedded archives is 32).
const MAX_DEPTH: usize = 16;
/// Most objects accepted (the general parser's limit for embedded archives is 20,000).
const MAX_OBJECTS: usize = 4096;
/// UID hops followed when resolving one value (as the general decoder).
const MAX_UID_HOPS: usize = 8;

#[derive(Clone, Copy, Debug, PartialEq)]
enum Obj<'a> {
    Int(i64),
    Uid(u64),
    Ascii(&'a [u8]),
    Utf16(&'a [u8]),
    Data(&'a [u8]),
    /// Child references (raw, `ref_size` bytes each).
    Array(&'a [u8]),
    /// Keys then values (raw references).
    Dict(&'a [u8], usize),
}

struct Reader<'a> {
    bytes: &'a [u8],
    ref_size: usize,
    n: usize,
    table_off: usize,
    /// Every object, parsed once (`None`: it does not parse, which matters only if it is
    /// reached). Archives hold a few dozen objects: they stay on the stack.
    objs: SmallVec<[Option<Obj<'a>>; INLINE_OBJECTS]>,
}

/// Objects (and collections walked) held without a heap allocation.
const INLINE_OBJECTS: usize = 64;

/// A big-endian unsigned integer of 0 to 8 bytes (the widths bplist uses take one load).
#[inline(always)]
fn be(b: &[u8]) -> u64 {
    match *b {
        [x] => u64::from(x),
        [x, y] => u64::from(u16::from_be_bytes([x, y])),
        [a, b2, c, d] => u64::from(u32::from_be_bytes([a, b2, c, d])),
        [a, b2, c, d, e, f, g, h] => u64::from_be_bytes([a, b2, c, d, e, f, g, h]),
        _ => b.iter().fold(0u64, |acc, &x| (acc << 8) | u64::from(x)),
    }
}

impl<'a> Reader<'a> {
    fn new(bytes: &'a [u8]) -> Option<(Reader<'a>, usize)> {
        if !bytes.starts_with(b"bplist00") || bytes.len() < 8 + 32 {
            return None;
        }
        let t = bytes.get(bytes.len() - 32..)?;
        let off_size = usize::from(*t.get(6)?);
        let ref_size = usize::from(*t.get(7)?);
        let n = usize::try_from(be(t.get(8..16)?)).ok()?;
        let root = usize::try_from(be(t.get(16..24)?)).ok()?;
        let table_off = usize::try_from(be(t.get(24..32)?)).ok()?;
        if !matches!(off_size, 1 | 2 | 4 | 8) || !matches!(ref_size, 1 | 2 | 4 | 8) {
            return None;
        }
        if n == 0 || n > MAX_OBJECTS || root >= n || table_off < 8 {
            return None;
        }
        let offsets = bytes.get(table_off..table_off.checked_add(n.checked_mul(off_size)?)?)?;
        if table_off + n * off_size > bytes.len() - 32 {
            return None;
        }
        let mut r = Reader {
            bytes,
            ref_size,
            n,
            table_off,
            objs: SmallVec::new(),
        };
        r.objs.reserve_exact(n);
        // Every offset of the table points into the object area.
        for c in offsets.chunks(off_size) {
            let at = usize::try_from(be(c)).ok()?;
            if at < 8 || at >= table_off {
                return None;
            }
            let o = r.parse(at);
            r.objs.push(o);
        }
        Some((r, root))
    }

    /// `len` bytes at `at`, inside the object area.
    #[inline(always)]
    fn get(&self, at: usize, len: usize) -> Option<&'a [u8]> {
        let end = at.checked_add(len)?;
        if end > self.table_off {
            return None;
        }
        self.bytes.get(at..end)
    }

    /// Object `index` (parsed when the reader was made).
    #[inline(always)]
    fn obj(&self, index: usize) -> Option<Obj<'a>> {
        *self.objs.get(index)?
    }

    /// The object at byte `at` (at least 8, inside the object area).
    fn parse(&self, at: usize) -> Option<Obj<'a>> {
        let marker = *self.get(at, 1)?.first()?;
        let low = usize::from(marker & 0x0F);
        // Length of a variable-size object and where its content starts.
        let len = |at: usize| -> Option<(usize, usize)> {
            if low != 0x0F {
                return Some((low, at + 1));
            }
            let m = *self.get(at + 1, 1)?.first()?;
            if m & 0xF0 != 0x10 || m & 0x0F > 3 {
                return None;
            }
            let w = 1usize << (m & 0x0F);
            Some((usize::try_from(be(self.get(at + 2, w)?)).ok()?, at + 2 + w))
        };
        match marker >> 4 {
            0x1 => {
                let b = self.get(at + 1, 1usize << low.min(4))?;
                match b.len() {
                    1 | 2 | 4 => Some(Obj::Int(be(b) as i64)),
                    8 => Some(Obj::Int(be(b) as i64)),
                    _ => None,
                }
            }
            0x4 => {
                let (n, s) = len(at)?;
                Some(Obj::Data(self.get(s, n)?))
            }
            0x5 => {
                let (n, s) = len(at)?;
                let b = self.get(s, n)?;
                b.is_ascii().then_some(Obj::Ascii(b))
            }
            0x6 => {
                let (n, s) = len(at)?;
                Some(Obj::Utf16(self.get(s, n.checked_mul(2)?)?))
            }
            0x8 => {
                let b = self.get(at + 1, low + 1)?;
                matches!(b.len(), 1 | 2 | 4 | 8).then(|| Obj::Uid(be(b)))
            }
            0xA => {
                let (n, s) = len(at)?;
                Some(Obj::Array(self.get(s, n.checked_mul(self.ref_size)?)?))
            }
            0xD => {
                let (n, s) = len(at)?;
                Some(Obj::Dict(
                    self.get(s, n.checked_mul(2 * self.ref_size)?)?,
                    n,
                ))
            }
            _ => None,
        }
    }

    fn refs(&self, raw: &'a [u8]) -> impl Iterator<Item = usize> + 'a {
        let rs = self.ref_size;
        raw.chunks_exact(rs).map(move |c| {
            if rs == 1 {
                // Nearly every archive: one-byte references.
                usize::from(c[0])
            } else {
                usize::try_from(be(c)).unwrap_or(usize::MAX)
            }
        })
    }

    /// Reference `k` of a collection's raw references.
    #[inline(always)]
    fn ref_at(&self, raw: &[u8], k: usize) -> Option<usize> {
        if self.ref_size == 1 {
            return raw.get(k).map(|&b| usize::from(b));
        }
        let rs = self.ref_size;
        usize::try_from(be(raw.get(k * rs..(k + 1) * rs)?)).ok()
    }
}

fn text(o: Obj<'_>) -> Option<String> {
    match o {
        Obj::Ascii(b) => std::str::from_utf8(b).ok().map(str::to_owned),
        Obj::Utf16(b) => {
            let units = b.chunks(2).map(|c| u16::from_be_bytes([c[0], c[1]]));
            char::decode_utf16(units)
                .collect::<Result<String, _>>()
                .ok()
        }
        _ => None,
    }
}

/// Walk every object reachable from `root`: all must parse, dictionary keys must be
/// strings, no collection may be reached twice or nest too deeply, and the expanded tree
/// stays well inside the general parser's limits for embedded archives.
fn check_tree(r: &Reader<'_>, root: usize) -> Option<()> {
    // (Every offset of the table was checked when the reader was made.)
    let max_nodes = 10_000usize;
    let max_payload = r.bytes.len().saturating_mul(4);
    let (mut nodes, mut payload) = (0usize, 0usize);
    let mut seen: SmallVec<[bool; INLINE_OBJECTS]> = smallvec::smallvec![false; r.n];
    let mut stack: SmallVec<[(usize, usize); INLINE_OBJECTS]> = smallvec::smallvec![(root, 0usize)];
    while let Some((i, depth)) = stack.pop() {
        nodes += 1;
        if depth > MAX_DEPTH || nodes > max_nodes {
            return None;
        }
        match r.obj(i)? {
            Obj::Array(raw) => {
                if std::mem::replace(seen.get_mut(i)?, true) {
                    return None;
                }
                for c in r.refs(raw) {
                    stack.push((c, depth + 1));
                }
            }
            Obj::Dict(raw, n) => {
                if std::mem::replace(seen.get_mut(i)?, true) {
                    return None;
                }
                for (k, c) in r.refs(raw).enumerate() {
                    if k < n {
                        is_text(r.obj(c)?)?;
                    }
                    stack.push((c, depth + 1));
                }
            }
            o @ Obj::Utf16(b) => {
                text(o)?;
                payload += b.len();
            }
            Obj::Ascii(b) | Obj::Data(b) => payload += b.len(),
            Obj::Int(_) | Obj::Uid(_) => {}
        }
        if payload > max_payload {
            return None;
        }
    }
    Some(())
}

/// `Some` when `o` is a string (valid UTF-16 when it is UTF-16).
fn is_text(o: Obj<'_>) -> Option<()> {
    match o {
        Obj::Ascii(_) => Some(()),
        Obj::Utf16(_) => text(o).map(|_| ()),
        _ => None,
    }
}

/// Is `o` the string `key`? `None` when it is not a string (or invalid UTF-16).
fn key_eq(o: Obj<'_>, key: &str) -> Option<bool> {
    match o {
        Obj::Ascii(b) => Some(b == key.as_bytes()),
        Obj::Utf16(b) => {
            let units = b.chunks(2).map(|c| u16::from_be_bytes([c[0], c[1]]));
            let mut want = key.chars();
            for c in char::decode_utf16(units) {
                if Some(c.ok()?) != want.next() {
                    // Still validate the rest, as the general parser would.
                    return text(o).map(|_| false);
                }
            }
            Some(want.next().is_none())
        }
        _ => None,
    }
}

/// A dictionary: the value of `key` (the last one when a key repeats, as the general parser).
fn lookup(r: &Reader<'_>, dict: Obj<'_>, key: &str) -> Option<Option<usize>> {
    let Obj::Dict(raw, n) = dict else {
        return None;
    };
    let at = |k: usize| r.ref_at(raw, k);
    let mut found = None;
    for k in 0..n {
        if key_eq(r.obj(at(k)?)?, key)? {
            found = Some(at(n + k)?);
        }
    }
    Some(found)
}

/// The MBFile keys read, in slot order (see [`slots`]).
const MB_KEYS: [&str; 16] = [
    "Mode",
    "Size",
    "ProtectionClass",
    "InodeNumber",
    "UserID",
    "GroupID",
    "LastModified",
    "LastStatusChange",
    "Birth",
    "Flags",
    "EncryptionKey",
    "Digest",
    "Target",
    "RelativePath",
    "ExtendedAttributes",
    "$class",
];

/// The slot of an ASCII key in [`MB_KEYS`] (a `match`, so no string comparisons in a loop).
#[inline(always)]
fn mb_key(b: &[u8]) -> Option<usize> {
    Some(match b {
        b"Mode" => 0,
        b"Size" => 1,
        b"ProtectionClass" => 2,
        b"InodeNumber" => 3,
        b"UserID" => 4,
        b"GroupID" => 5,
        b"LastModified" => 6,
        b"LastStatusChange" => 7,
        b"Birth" => 8,
        b"Flags" => 9,
        b"EncryptionKey" => 10,
        b"Digest" => 11,
        b"Target" => 12,
        b"RelativePath" => 13,
        b"ExtendedAttributes" => 14,
        b"$class" => 15,
        _ => return None,
    })
}

/// One pass over a dictionary's keys: the value reference of each of [`MB_KEYS`] (the
/// last one when a key repeats, as [`lookup`]); `None` (give up) when a key is not a
/// string, as [`lookup`] would.
fn slots(r: &Reader<'_>, dict: Obj<'_>) -> Option<[Option<usize>; MB_KEYS.len()]> {
    let Obj::Dict(raw, n) = dict else {
        return None;
    };
    let at = |k: usize| r.ref_at(raw, k);
    let mut out = [None; MB_KEYS.len()];
    for k in 0..n {
        let key = r.obj(at(k)?)?;
        let slot = match key {
            Obj::Ascii(b) => mb_key(b),
            Obj::Utf16(_) => {
                let t = text(key)?;
                MB_KEYS.iter().position(|m| *m == t)
            }
            _ => return None,
        };
        if let Some(i) = slot {
            out[i] = Some(at(n + k)?);
        }
    }
    Some(out)
}

/// The archive's top dictionary in one pass: the references of `$archiver`, `$version`,
/// `$objects` and `$top` (the last one when a key repeats, as [`lookup`]); `None` (give up)
/// when a key is not a string, as [`lookup`] would.
fn top_slots(r: &Reader<'_>, dict: Obj<'_>) -> Option<[Option<usize>; 4]> {
    const TOP_KEYS: [&str; 4] = ["$archiver", "$version", "$objects", "$top"];
    let Obj::Dict(raw, n) = dict else {
        return None;
    };
    let mut out = [None; 4];
    for k in 0..n {
        let key = r.obj(r.ref_at(raw, k)?)?;
        let slot = match key {
            Obj::Ascii(b) => TOP_KEYS.iter().position(|t| t.as_bytes() == b),
            Obj::Utf16(_) => {
                let t = text(key)?;
                TOP_KEYS.iter().position(|m| *m == t)
            }
            _ => return None,
        };
        if let Some(i) = slot {
            out[i] = Some(r.ref_at(raw, n + k)?);
        }
    }
    Some(out)
}

struct Archive<'r, 'a> {
    r: &'r Reader<'a>,
    objects: SmallVec<[usize; INLINE_OBJECTS]>,
}

impl<'a> Archive<'_, 'a> {
    /// Follow UIDs from `o`; `Some(None)` for `$null`; `None` (give up) for anything odd.
    fn resolve(&self, mut o: Obj<'a>) -> Option<Option<Obj<'a>>> {
        for _ in 0..=MAX_UID_HOPS {
            match o {
                Obj::Uid(u) => o = self.r.obj(*self.objects.get(usize::try_from(u).ok()?)?)?,
                Obj::Ascii(b"$null") => return Some(None),
                Obj::Utf16(_) if text(o)? == "$null" => return Some(None),
                o => return Some(Some(o)),
            }
        }
        None
    }

    /// `Some(None)` when absent or `$null`.
    fn field(&self, dict: Obj<'a>, key: &str) -> Option<Option<Obj<'a>>> {
        self.field_at(lookup(self.r, dict, key)?)
    }

    /// The value whose reference is `at` (from [`slots`]), UIDs followed.
    fn field_at(&self, at: Option<usize>) -> Option<Option<Obj<'a>>> {
        match at {
            None => Some(None),
            Some(i) => self.resolve(self.r.obj(i)?),
        }
    }

    fn int(&self, at: Option<usize>) -> Option<Option<i64>> {
        match self.field_at(at)? {
            None => Some(None),
            Some(Obj::Int(v)) => Some(Some(v)),
            Some(_) => None,
        }
    }

    /// The bytes of a data field (inline or `NS.data`), borrowed from the archive.
    fn data(&self, at: Option<usize>) -> Option<Option<&'a [u8]>> {
        match self.field_at(at)? {
            None => Some(None),
            Some(Obj::Data(b)) => Some(Some(b)),
            Some(d @ Obj::Dict(..)) if lookup(self.r, d, "NS.data")?.is_some() => {
                match self.field(d, "NS.data")? {
                    None => Some(None),
                    Some(Obj::Data(b)) => Some(Some(b)),
                    Some(_) => None,
                }
            }
            Some(_) => None,
        }
    }

    fn string(&self, at: Option<usize>) -> Option<Option<String>> {
        match self.field_at(at)? {
            None => Some(None),
            Some(o @ (Obj::Ascii(_) | Obj::Utf16(_))) => Some(Some(text(o)?)),
            Some(_) => None,
        }
    }
}

fn u32_of(v: Option<i64>, wrap_negative: bool) -> Option<Option<u32>> {
    match v {
        None => Some(None),
        Some(v) => match u32::try_from(v) {
            Ok(x) => Some(Some(x)),
            Err(_) if wrap_negative => i32::try_from(v).ok().map(|x| Some(x as u32)),
            Err(_) => None,
        },
    }
}

fn u64_of(v: Option<i64>) -> Option<Option<u64>> {
    v.map_or(Some(None), |v| u64::try_from(v).ok().map(Some))
}

fn i64_of(v: Option<i64>) -> Option<Option<i64>> {
    Some(v)
}

/// Decode `blob` into `rec` if it is a plain, well-formed MBFile archive; otherwise leave
/// `rec` untouched and return `false` (the general decoder takes over).
pub(super) fn decode(blob: &[u8], rec: &mut FileRecord) -> bool {
    match decode_inner(blob, &rec.relative_path) {
        Some(d) => {
            rec.mode = d.mode;
            rec.size = d.size;
            rec.protection_class = d.protection_class;
            rec.inode = d.inode;
            rec.user_id = d.user_id;
            rec.group_id = d.group_id;
            rec.last_modified = d.last_modified;
            rec.last_status_change = d.last_status_change;
            rec.birth = d.birth;
            rec.mbfile_flags = d.mbfile_flags;
            rec.encryption_key = d.encryption_key;
            rec.digest = d.digest;
            rec.target = d.target;
            rec.extended_attributes = None;
            true
        }
        None => false,
    }
}

struct Decoded {
    mode: Option<u32>,
    size: Option<u64>,
    protection_class: Option<u32>,
    inode: Option<u64>,
    user_id: Option<u32>,
    group_id: Option<u32>,
    last_modified: Option<i64>,
    last_status_change: Option<i64>,
    birth: Option<i64>,
    mbfile_flags: Option<u32>,
    encryption_key: Option<Result<WrappedKey, BadKeyLength>>,
    digest: Option<Vec<u8>>,
    target: Option<String>,
}

fn decode_inner(blob: &[u8], relative_path: &str) -> Option<Decoded> {
    if blob.len() > super::mbfile::MAX_MBFILE_BYTES {
        return None;
    }
    let (r, root) = Reader::new(blob)?;
    check_tree(&r, root)?;
    let [archiver, version, objects, top] = top_slots(&r, r.obj(root)?)?;
    let obj_of = |at: Option<usize>| r.obj(at?);
    if !key_eq(obj_of(archiver)?, "NSKeyedArchiver")? {
        return None;
    }
    if obj_of(version)? != Obj::Int(100_000) {
        return None;
    }
    let Obj::Array(raw) = obj_of(objects)? else {
        return None;
    };
    let ar = Archive {
        r: &r,
        objects: r.refs(raw).collect(),
    };
    let t = obj_of(top)?;
    let Obj::Uid(root_uid) = r.obj(lookup(&r, t, "root")??)? else {
        return None;
    };
    let Some(mb @ Obj::Dict(..)) = ar.resolve(Obj::Uid(root_uid))? else {
        return None;
    };
    let [mode, size, class, inode, uid, gid, mtime, ctime, birth, flags, key, digest, target, rel, xattr, class_ref] =
        slots(&r, mb)?;
    // Informational class name: must be MBFile (the general decoder notes anything else).
    if let Some(c @ Obj::Dict(..)) = ar.field_at(class_ref)? {
        let name = lookup(&r, c, "$classname")??;
        if !key_eq(r.obj(name)?, "MBFile")? {
            return None;
        }
    }
    // The archive's RelativePath, when it has one, is the row's (compared in place).
    let same_path = match ar.field_at(rel)? {
        None => true,
        Some(o @ (Obj::Ascii(_) | Obj::Utf16(_))) => key_eq(o, relative_path)?,
        Some(_) => false,
    };
    if !same_path {
        return None;
    }
    if xattr.is_some() {
        return None;
    }
    Some(Decoded {
        mode: u32_of(ar.int(mode)?, false)?,
        size: u64_of(ar.int(size)?)?,
        protection_class: u32_of(ar.int(class)?, false)?,
        inode: u64_of(ar.int(inode)?)?,
        user_id: u32_of(ar.int(uid)?, true)?,
        group_id: u32_of(ar.int(gid)?, true)?,
        last_modified: i64_of(ar.int(mtime)?)?,
        last_status_change: i64_of(ar.int(ctime)?)?,
        birth: i64_of(ar.int(birth)?)?,
        mbfile_flags: u32_of(ar.int(flags)?, true)?,
        encryption_key: ar.data(key)?.map(WrappedKey::parse),
        digest: ar.data(digest)?.map(<[u8]>::to_vec),
        target: ar.string(target)?,
    })
}

#[cfg(test)]
mod tests {
    use super::super::mbfile::decode_general;
    use super::*;
    use std::path::{Path, PathBuf};

    /// (relativePath, MBFile blob) of every row of a plaintext Manifest.db.
    fn blobs(db: &Path) -> Vec<(String, Vec<u8>)> {
        let c =
            rusqlite::Connection::open_with_flags(db, rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY)
                .unwrap();
        let mut st = c.prepare("SELECT relativePath, file FROM Files").unwrap();
        let rows = st
            .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
            .unwrap()
            .collect::<Result<Vec<_>, _>>()
            .unwrap();
        rows
    }

    /// The fast result, if it accepted, and the general decoder's.
    fn both(rp: &str, blob: &[u8]) -> (Option<FileRecord>, FileRecord) {
        let mut slow = FileRecord::new(String::new(), String::new(), rp.to_string());
        decode_general(blob, &mut slow);
        let mut fast = FileRecord::new(String::new(), String::new(), rp.to_string());
        let ok = decode(blob, &mut fast);
        if !ok {
            assert_eq!(
                fast,
                FileRecord::new(String::new(), String::new(), rp.to_string()),
                "a refused archive leaves the record untouched"
            );
        }
        (ok.then_some(fast), slow)
    }

    /// Whether the fast path took the (mutated) archive; when it did, its result must be
    /// the general decoder's (`what`: the mutation, for the failure message).
    fn agrees(rp: &str, blob: &[u8], what: &str) -> bool {
        let (fast, slow) = both(rp, blob);
        if let Some(f) = &fast {
            assert_eq!(f, &slow, "{rp}: {what}");
        }
        fast.is_some()
    }

    fn fixture_blobs() -> (tempfile::TempDir, Vec<(String, Vec<u8>)>) {
        let spec =
            Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/specs/small-unencrypted.json");
        let spec =
            crate::fixture::Spec::from_json(&std::fs::read_to_string(spec).unwrap()).unwrap();
        let t = tempfile::tempdir().unwrap();
        let out = t.path().join("b");
        crate::fixture::write(&spec, &out).unwrap();
        let b = blobs(&out.join("Manifest.db"));
        (t, b)
    }

    #[test]
    fn fixture_archives_take_the_fast_path_with_equal_results() {
        let (_t, rows) = fixture_blobs();
        assert!(rows.len() > 50);
        for (rp, blob) in &rows {
            let (fast, slow) = both(rp, blob);
            let fast = fast.unwrap_or_else(|| panic!("{rp}: fast path refused a fixture archive"));
            assert_eq!(fast, slow, "{rp}");
            assert!(slow.problems.is_empty());
        }
        // Values are really decoded (not all left empty).
        assert!(rows.iter().any(|(rp, b)| {
            let (f, _) = both(rp, b);
            f.is_some_and(|f| f.size.is_some() && f.last_modified.is_some() && f.mode.is_some())
        }));
    }

    fn shared_dbs() -> Vec<PathBuf> {
        let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared");
        let mut v = Vec::new();
        for rel in [
            "conformance/small-unencrypted/00008120-001A2B3C4D5E801E/Manifest.db",
            "external/mvt/ios_backup/Manifest.db",
        ] {
            let p = root.join(rel);
            if p.exists() {
                v.push(p);
            } else {
                eprintln!("skipped: {} not found", p.display());
            }
        }
        v
    }

    #[test]
    fn shared_archives_agree_with_the_general_decoder() {
        for db in shared_dbs() {
            let rows = blobs(&db);
            let mut accepted = 0;
            for (rp, blob) in &rows {
                let (fast, slow) = both(rp, blob);
                if let Some(f) = fast {
                    assert_eq!(f, slow, "{}: {rp}", db.display());
                    accepted += 1;
                }
            }
            eprintln!(
                "{}: fast path took {accepted} of {}",
                db.display(),
                rows.len()
            );
            assert!(accepted > 0, "{}", db.display());
        }
    }

    #[test]
    fn mutated_archives_never_disagree() {
        let (_t, rows) = fixture_blobs();
        let mut accepted = 0u64;
        let mut tried = 0u64;
        for (rp, blob) in rows.iter().step_by(7).take(12) {
            for pos in 0..blob.len() {
                for x in [0x01u8, 0x10, 0x80, 0xff] {
                    let mut m = blob.clone();
                    m[pos] ^= x;
                    tried += 1;
                    accepted += u64::from(agrees(rp, &m, &format!("byte {pos} ^ {x:#04x}")));
                }
            }
        }
        // Many mutations only change values (times, sizes): those stay on the fast path.
        assert!(accepted > 0 && accepted < tried, "{accepted} of {tried}");
    }

    #[test]
    fn randomly_mutated_archives_never_disagree() {
        // Several bytes at once (a seeded xorshift: the same inputs every run), over every
        // fixture archive: reference widths, counts and markers change together.
        let (_t, rows) = fixture_blobs();
        let mut x = 0x9E37_79B9_7F4A_7C15u64;
        let mut next = move || {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x
        };
        let (mut accepted, mut tried) = (0u64, 0u64);
        for (rp, blob) in &rows {
            for _ in 0..200 {
                let mut m = blob.clone();
                for _ in 0..1 + next() % 4 {
                    let pos = (next() % m.len() as u64) as usize;
                    m[pos] = next() as u8;
                }
                tried += 1;
                accepted += u64::from(agrees(rp, &m, &format!("{m:02x?}")));
            }
        }
        assert!(accepted > 0 && accepted < tried, "{accepted} of {tried}");
    }
}
#[cfg(test)]
mod key_slots {
    #[test]
    fn mb_key_agrees_with_the_key_list() {
        for (i, k) in super::MB_KEYS.iter().enumerate() {
            assert_eq!(super::mb_key(k.as_bytes()), Some(i), "{k}");
        }
        assert_eq!(super::mb_key(b"Sizes"), None);
    }
}
