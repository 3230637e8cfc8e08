//! The patched index: Manifest.db decrypted in memory, edited with SQLite, encrypted again
//! with the same ManifestKey; or Manifest.mbdb records rewritten in place.

use super::{archive, PatchError};
use crate::crypto::{cbc, Key32};
use rusqlite::{params, Connection, OptionalExtension, MAIN_DB};
use std::io::Read;
use zeroize::Zeroizing;

/// What becomes of one index row.
#[derive(Debug, Clone)]
pub enum RowEdit {
    /// New plaintext `Size`, and new `Digest` (only for a row that had one).
    Update { size: u64, digest: Option<Vec<u8>> },
    /// The row is removed.
    Delete,
}

/// Where the index row is: Manifest.db by fileID, Manifest.mbdb by domain and path.
#[derive(Debug, Clone)]
pub struct Row {
    pub file_id: String,
    pub domain: String,
    pub relative_path: String,
    pub edit: RowEdit,
}

fn bad(what: &str, e: impl std::fmt::Display) -> PatchError {
    PatchError::Index(format!("{what}: {e}"))
}

/// Decrypt an encrypted Manifest.db (zero IV) and find the database's length in it: the
/// PKCS#7 padding is removed when the rest is a whole number of pages.
fn decrypt_db(key: &Key32, ct: &[u8]) -> Result<(Zeroizing<Vec<u8>>, usize), PatchError> {
    if ct.len() < 32 || ct.len() % cbc::BLOCK != 0 {
        return Err(bad(
            "Manifest.db",
            format!("ciphertext is {} bytes, not a multiple of 16", ct.len()),
        ));
    }
    let mut plain = Zeroizing::new(ct.to_vec());
    cbc::decrypt_piece(key, &[0u8; 16], &mut plain);
    if !plain.starts_with(b"SQLite format 3\0") {
        return Err(bad(
            "Manifest.db",
            "does not decrypt to an SQLite database with the ManifestKey",
        ));
    }
    let page = match u16::from_be_bytes([plain[16], plain[17]]) {
        1 => 65536,
        n => usize::from(n),
    };
    let len = plain.len();
    let db_len = match cbc::pkcs7_pad_len(&plain[len - 16..]) {
        Some(p) if page >= 512 && (len - p) % page == 0 => len - p,
        _ => len,
    };
    Ok((plain, db_len))
}

/// The rewritten Manifest.db: `stored` is the file as read (ciphertext when `key` is given),
/// and the result the file to write (PKCS#7-padded ciphertext under the same key, zero IV,
/// as FORMAT §6.2 describes; plaintext otherwise).
pub fn rewrite_db(stored: &[u8], key: Option<&Key32>, rows: &[Row]) -> Result<Vec<u8>, PatchError> {
    let (mut image, len) = match key {
        Some(k) => decrypt_db(k, stored)?,
        None => (Zeroizing::new(stored.to_vec()), stored.len()),
    };
    if len < 100 || !image.starts_with(b"SQLite format 3\0") {
        return Err(bad("Manifest.db", "not an SQLite database"));
    }
    // A database in WAL mode (header bytes 18–19 are 2, as in MVT's sample) cannot be
    // opened in memory: it is edited in rollback mode and its mode put back after.
    let versions = [image[18], image[19]];
    image[18] = versions[0].min(1);
    image[19] = versions[1].min(1);
    let mut conn = Connection::open_in_memory().map_err(|e| bad("Manifest.db", e))?;
    conn.deserialize_read_exact(MAIN_DB, &image[..len], len, false)
        .map_err(|e| bad("Manifest.db", e))?;
    drop(image);
    // Deleted rows and replaced archives leave no old bytes in free pages.
    conn.pragma_update(None, "secure_delete", "ON")
        .map_err(|e| bad("Manifest.db", e))?;
    {
        let tx = conn.transaction().map_err(|e| bad("Manifest.db", e))?;
        for r in rows {
            match &r.edit {
                RowEdit::Delete => {
                    let n = tx
                        .execute("DELETE FROM Files WHERE fileID = ?1", params![r.file_id])
                        .map_err(|e| bad("Manifest.db", e))?;
                    if n != 1 {
                        return Err(bad("Manifest.db", format!("no row {}", r.file_id)));
                    }
                }
                RowEdit::Update { size, digest } => {
                    let blob: Option<Vec<u8>> = tx
                        .query_row(
                            "SELECT file FROM Files WHERE fileID = ?1",
                            params![r.file_id],
                            |row| row.get(0),
                        )
                        .optional()
                        .map_err(|e| bad("Manifest.db", e))?;
                    let blob =
                        blob.ok_or_else(|| bad("Manifest.db", format!("no row {}", r.file_id)))?;
                    let new = archive::update(&blob, *size, digest.as_deref())
                        .map_err(|e| bad(&format!("Manifest.db row {}", r.file_id), e))?;
                    tx.execute(
                        "UPDATE Files SET file = ?1 WHERE fileID = ?2",
                        params![new, r.file_id],
                    )
                    .map_err(|e| bad("Manifest.db", e))?;
                }
            }
        }
        tx.commit().map_err(|e| bad("Manifest.db", e))?;
    }
    let data = conn.serialize(MAIN_DB).map_err(|e| bad("Manifest.db", e))?;
    let mut plain = Zeroizing::new(data.to_vec());
    drop(data);
    if plain.len() >= 100 {
        plain[18] = versions[0];
        plain[19] = versions[1];
    }
    Ok(match key {
        Some(k) => cbc::encrypt(k, &plain),
        None => plain.to_vec(),
    })
}

/// The header of Manifest.mbdb.
const MBDB_MAGIC: &[u8] = b"mbdb\x05\x00";

/// The places of one Manifest.mbdb record.
struct Record {
    start: usize,
    end: usize,
    domain: Vec<u8>,
    path: Vec<u8>,
    /// Where the digest's bytes are (after its 2-byte length), and how many.
    digest: Option<(usize, usize)>,
    /// Where the 8-byte size is.
    size_at: usize,
}

struct Cur<'a> {
    b: &'a [u8],
    pos: usize,
}

impl Cur<'_> {
    fn take(&mut self, n: usize) -> Result<usize, PatchError> {
        let at = self.pos;
        if self.b.len() - at < n {
            return Err(bad(
                "Manifest.mbdb",
                format!("record truncated at byte {at}"),
            ));
        }
        self.pos += n;
        Ok(at)
    }

    /// A string or data field: its bytes' offset and length (`None`: null).
    fn string(&mut self) -> Result<Option<(usize, usize)>, PatchError> {
        let at = self.take(2)?;
        let n = u16::from_be_bytes([self.b[at], self.b[at + 1]]);
        if n == 0xFFFF {
            return Ok(None);
        }
        let n = usize::from(n);
        Ok(Some((self.take(n)?, n)))
    }
}

fn mbdb_records(b: &[u8]) -> Result<Vec<Record>, PatchError> {
    if !b.starts_with(MBDB_MAGIC) {
        return Err(bad("Manifest.mbdb", "header is not \"mbdb\\x05\\x00\""));
    }
    let mut c = Cur {
        b,
        pos: MBDB_MAGIC.len(),
    };
    let mut out = Vec::new();
    let bytes = |s: Option<(usize, usize)>| s.map_or_else(Vec::new, |(a, n)| b[a..a + n].to_vec());
    while c.pos < b.len() {
        let start = c.pos;
        let domain = bytes(c.string()?);
        let path = bytes(c.string()?);
        c.string()?; // link target
        let digest = c.string()?;
        c.string()?; // encryption key
        c.take(2 + 8 + 4 + 4 + 4 + 4 + 4)?; // mode, inode, uid, gid, three times
        let size_at = c.take(8)?;
        c.take(1)?; // protection class
        let props = b[c.take(1)?];
        for _ in 0..props {
            c.string()?;
            c.string()?;
        }
        out.push(Record {
            start,
            end: c.pos,
            domain,
            path,
            digest,
            size_at,
        });
    }
    Ok(out)
}

/// The rewritten Manifest.mbdb (never encrypted as a whole): sizes and digests set in
/// place (same lengths), deleted records left out, every other byte kept.
pub fn rewrite_mbdb(stored: &[u8], rows: &[Row]) -> Result<Vec<u8>, PatchError> {
    let records = mbdb_records(stored)?;
    let mut out = Vec::with_capacity(stored.len());
    out.extend_from_slice(MBDB_MAGIC);
    let mut done = vec![false; rows.len()];
    for r in &records {
        let mut rec = stored[r.start..r.end].to_vec();
        let mut keep = true;
        for (i, row) in rows.iter().enumerate() {
            if row.domain.as_bytes() != r.domain || row.relative_path.as_bytes() != r.path {
                continue;
            }
            done[i] = true;
            match &row.edit {
                RowEdit::Delete => keep = false,
                RowEdit::Update { size, digest } => {
                    let at = r.size_at - r.start;
                    rec[at..at + 8].copy_from_slice(&size.to_be_bytes());
                    if let (Some((d, n)), Some(new)) = (r.digest, digest) {
                        if new.len() != n {
                            return Err(bad(
                                "Manifest.mbdb",
                                format!(
                                    "digest of {} is {n} bytes, not {}",
                                    row.relative_path,
                                    new.len()
                                ),
                            ));
                        }
                        let at = d - r.start;
                        rec[at..at + n].copy_from_slice(new);
                    }
                }
            }
        }
        if keep {
            out.extend_from_slice(&rec);
        }
    }
    if let Some(i) = done.iter().position(|d| !d) {
        return Err(bad(
            "Manifest.mbdb",
            format!("no record {}:{}", rows[i].domain, rows[i].relative_path),
        ));
    }
    Ok(out)
}

/// Read a file of the backup whole (the index), as evidence.
pub fn read_evidence(path: &std::path::Path) -> Result<Vec<u8>, PatchError> {
    let mut f = crate::backup::open_evidence(path).map_err(|e| PatchError::Io {
        context: format!("cannot open {}", path.display()),
        source: e,
    })?;
    let mut out = Vec::new();
    f.read_to_end(&mut out).map_err(|e| PatchError::Io {
        context: format!("cannot read {}", path.display()),
        source: e,
    })?;
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn mbdb_record(domain: &str, path: &str, digest: Option<&[u8]>, size: u64) -> Vec<u8> {
        let mut r = Vec::new();
        let s = |r: &mut Vec<u8>, v: Option<&[u8]>| match v {
            None => r.extend([0xFF, 0xFF]),
            Some(v) => {
                r.extend((v.len() as u16).to_be_bytes());
                r.extend(v);
            }
        };
        s(&mut r, Some(domain.as_bytes()));
        s(&mut r, Some(path.as_bytes()));
        s(&mut r, None);
        s(&mut r, digest);
        s(&mut r, None);
        r.extend(0o100644u16.to_be_bytes());
        r.extend([0u8; 8 + 4 + 4 + 12]);
        r.extend(size.to_be_bytes());
        r.push(4);
        r.push(1);
        s(&mut r, Some(b"com.apple.x"));
        s(&mut r, Some(b"v"));
        r
    }

    #[test]
    fn mbdb_records_are_rewritten_in_place_or_dropped() {
        let mut db = MBDB_MAGIC.to_vec();
        db.extend(mbdb_record("HomeDomain", "a", Some(&[1; 20]), 5));
        db.extend(mbdb_record("HomeDomain", "b", None, 6));
        db.extend(mbdb_record("HomeDomain", "c", None, 7));
        let rows = [
            Row {
                file_id: String::new(),
                domain: "HomeDomain".into(),
                relative_path: "a".into(),
                edit: RowEdit::Update {
                    size: 99,
                    digest: Some(vec![2; 20]),
                },
            },
            Row {
                file_id: String::new(),
                domain: "HomeDomain".into(),
                relative_path: "b".into(),
                edit: RowEdit::Delete,
            },
        ];
        let out = rewrite_mbdb(&db, &rows).unwrap();
        let recs = crate::index::mbdb::parse("t", &out).unwrap();
        assert_eq!(recs.len(), 2);
        assert_eq!(recs[0].size, Some(99));
        assert_eq!(recs[0].digest.as_deref(), Some(&[2u8; 20][..]));
        assert_eq!(recs[0].extended_attributes, Some(1));
        assert_eq!(recs[1].relative_path, "c");
        assert_eq!(recs[1].size, Some(7));
        let missing = [Row {
            file_id: String::new(),
            domain: "HomeDomain".into(),
            relative_path: "zz".into(),
            edit: RowEdit::Delete,
        }];
        assert!(
            matches!(rewrite_mbdb(&db, &missing), Err(PatchError::Index(m)) if m.contains("no record HomeDomain:zz"))
        );
        let cut = &db[..db.len() - 3];
        assert!(rewrite_mbdb(cut, &rows).is_err());
    }
}
