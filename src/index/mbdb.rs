//! Manifest.mbdb parser (iOS 4–9 file index, FORMAT §6.5): big-endian records after `mbdb\x05\x00`.
//!
//! Contract on damage: records are delivered in file order; a record that does not fit in the
//! remaining bytes ends the walk with [`IndexError::Mbdb`] naming its byte offset. With
//! [`for_each`] the records before it have already been delivered, and the `Err` tells the
//! caller the rest is missing; [`parse`] is all-or-nothing. Never a silent partial result.

use super::record::FileRecord;
use super::IndexError;
use crate::backup::FileId;

/// `mbdb` + version 5.0.
pub const MBDB_MAGIC: &[u8; 6] = b"mbdb\x05\x00";
/// Null string marker.
const NULL_LEN: u16 = 0xFFFF;

struct Cursor<'a> {
    bytes: &'a [u8],
    pos: usize,
}

impl<'a> Cursor<'a> {
    fn take(&mut self, n: usize, what: &str) -> Result<&'a [u8], String> {
        let end = self.pos.checked_add(n).ok_or("length overflow")?;
        let s = self.bytes.get(self.pos..end).ok_or_else(|| {
            format!(
                "{what} needs {n} bytes at offset {} but only {} remain",
                self.pos,
                self.bytes.len() - self.pos
            )
        })?;
        self.pos = end;
        Ok(s)
    }

    fn u8(&mut self, what: &str) -> Result<u8, String> {
        Ok(self.take(1, what)?[0])
    }

    fn be<const N: usize>(&mut self, what: &str) -> Result<[u8; N], String> {
        let s = self.take(N, what)?;
        let mut a = [0u8; N];
        a.copy_from_slice(s);
        Ok(a)
    }

    /// u16 BE length + bytes; 0xFFFF = null. Lengths are naturally bounded to 65 534.
    fn string(&mut self, what: &str) -> Result<Option<&'a [u8]>, String> {
        let n = u16::from_be_bytes(self.be::<2>(what)?);
        if n == NULL_LEN {
            return Ok(None);
        }
        self.take(usize::from(n), what).map(Some)
    }
}

fn utf8(bytes: Option<&[u8]>, what: &str, problems: &mut Vec<String>) -> Option<String> {
    let b = bytes?;
    Some(match std::str::from_utf8(b) {
        Ok(s) => s.to_owned(),
        Err(_) => {
            problems.push(format!("{what} is not valid UTF-8"));
            String::from_utf8_lossy(b).into_owned()
        }
    })
}

/// Decode one record starting at `cur.pos`.
fn record(cur: &mut Cursor<'_>) -> Result<FileRecord, String> {
    let domain = cur.string("domain")?;
    let path = cur.string("relativePath")?;
    let target = cur.string("linkTarget")?;
    let digest = cur.string("digest")?;
    let key = cur.string("encryptionKey")?;
    let mode = u16::from_be_bytes(cur.be::<2>("mode")?);
    let inode = u64::from_be_bytes(cur.be::<8>("inode")?);
    let uid = u32::from_be_bytes(cur.be::<4>("uid")?);
    let gid = u32::from_be_bytes(cur.be::<4>("gid")?);
    let mtime = u32::from_be_bytes(cur.be::<4>("mtime")?);
    let ctime = u32::from_be_bytes(cur.be::<4>("ctime")?);
    let birth = u32::from_be_bytes(cur.be::<4>("birth")?);
    let size = u64::from_be_bytes(cur.be::<8>("size")?);
    let class = cur.u8("protectionClass")?;
    let nprops = cur.u8("propertyCount")?; // at most 255 by construction
    for _ in 0..nprops {
        cur.string("property name")?;
        cur.string("property value")?;
    }

    let mut problems = Vec::new();
    if domain.is_none() {
        problems.push("domain is null".to_owned());
    }
    if path.is_none() {
        problems.push("relativePath is null".to_owned());
    }
    let file_id = FileId::compute_bytes(domain.unwrap_or_default(), path.unwrap_or_default());
    let mut rec = FileRecord::new(
        file_id.as_str().to_owned(),
        utf8(domain, "domain", &mut problems).unwrap_or_default(),
        utf8(path, "relativePath", &mut problems).unwrap_or_default(),
    );
    rec.target = utf8(target, "linkTarget", &mut problems);
    rec.digest = digest.map(<[u8]>::to_vec);
    rec.encryption_key = key.map(crate::crypto::WrappedKey::parse);
    rec.mode = Some(u32::from(mode));
    rec.inode = Some(inode);
    rec.user_id = Some(uid);
    rec.group_id = Some(gid);
    rec.last_modified = Some(i64::from(mtime));
    rec.last_status_change = Some(i64::from(ctime));
    rec.birth = Some(i64::from(birth));
    rec.size = Some(size);
    rec.protection_class = Some(u32::from(class));
    rec.extended_attributes = (nprops > 0).then_some(usize::from(nprops));
    rec.problems = problems;
    rec.resolve_kind();
    Ok(rec)
}

pub(crate) fn check_header(name: &str, bytes: &[u8]) -> Result<(), IndexError> {
    if !bytes.starts_with(MBDB_MAGIC) {
        let got = bytes.get(..6).unwrap_or(bytes);
        return Err(IndexError::Mbdb {
            name: name.to_owned(),
            offset: 0,
            problem: format!("header is {got:02x?}, expected \"mbdb\\x05\\x00\""),
        });
    }
    Ok(())
}

/// Walk every record, delivering each to `f`; returns the record count. See the module
/// comment for what happens on a truncated or damaged record.
pub fn for_each<F: FnMut(FileRecord)>(
    name: &str,
    bytes: &[u8],
    mut f: F,
) -> Result<u64, IndexError> {
    check_header(name, bytes)?;
    let mut cur = Cursor {
        bytes,
        pos: MBDB_MAGIC.len(),
    };
    let mut n = 0u64;
    while cur.pos < bytes.len() {
        let start = cur.pos;
        let rec = record(&mut cur).map_err(|problem| IndexError::Mbdb {
            name: name.to_owned(),
            offset: start as u64,
            problem: format!("record {n} is truncated or damaged: {problem}"),
        })?;
        f(rec);
        n += 1;
    }
    Ok(n)
}

/// Parse all records, or fail (no partial result).
pub fn parse(name: &str, bytes: &[u8]) -> Result<Vec<FileRecord>, IndexError> {
    let mut out = Vec::new();
    for_each(name, bytes, |r| out.push(r))?;
    Ok(out)
}

#[cfg(test)]
mod tests;
