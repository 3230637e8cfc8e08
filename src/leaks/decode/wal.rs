//! SQLite write-ahead logs: committed frames applied to a copy of the database image, the rest kept apart.
//!
//! As SQLite reads a WAL (file format §4): a 32-byte header (magic `0x377f0682` or
//! `…83`, whose low bit says the checksum words are big-endian; version 3007000; page
//! size; checkpoint sequence; two salts; a checksum of the first 24 bytes), then frames of
//! a 24-byte header (page number, database size in pages for a commit frame, the salts, a
//! cumulative checksum over the frame header's first 8 bytes and the page) and a page. A
//! frame is valid while the salts match and the running checksum agrees; the frames up
//! to the last valid commit frame are committed, every later frame (valid but not
//! committed, or past the first invalid one: an older generation of the log) is not.

use std::ops::Range;

const MAGIC: u32 = 0x377f_0682;
const VERSION: u32 = 3_007_000;
const HEADER: usize = 32;
const FRAME_HEADER: usize = 24;

/// A database image with its WAL applied.
#[derive(Debug, Clone, Default)]
pub struct Applied {
    /// The database image after the committed frames (a copy of the database when none).
    pub image: Vec<u8>,
    /// Frames applied.
    pub committed: usize,
    /// Byte ranges in the WAL of the pages of frames that are not committed.
    pub uncommitted: Vec<Range<usize>>,
    /// What was wrong with the WAL (it is then not applied, or only in part).
    pub problems: Vec<String>,
}

impl Applied {
    /// One line for a note.
    pub fn summary(&self) -> String {
        let mut s = format!(
            "-wal: {} committed frames applied, {} not committed",
            self.committed,
            self.uncommitted.len()
        );
        if !self.problems.is_empty() {
            s.push_str(&format!(" ({})", self.problems.join("; ")));
        }
        s
    }
}

fn be32(b: &[u8], at: usize) -> u32 {
    b.get(at..at + 4)
        .and_then(|s| s.try_into().ok())
        .map_or(0, u32::from_be_bytes)
}

/// SQLite's WAL checksum over `data` (a multiple of 8 bytes), from `s`.
pub fn checksum(big_endian: bool, data: &[u8], s: (u32, u32)) -> (u32, u32) {
    let (mut s1, mut s2) = s;
    for w in data.chunks_exact(8) {
        let word = |i: usize| {
            let b = [w[i], w[i + 1], w[i + 2], w[i + 3]];
            if big_endian {
                u32::from_be_bytes(b)
            } else {
                u32::from_le_bytes(b)
            }
        };
        s1 = s1.wrapping_add(word(0)).wrapping_add(s2);
        s2 = s2.wrapping_add(word(4)).wrapping_add(s1);
    }
    (s1, s2)
}

/// One frame as read: its page number, commit size, page bytes range and validity.
struct Frame {
    page: usize,
    commit: usize,
    data: Range<usize>,
}

/// The frames of `wal` that are valid (salts and running checksum), and where the valid
/// ones end. `Err` when the header itself is not a WAL header SQLite would use.
fn frames(wal: &[u8]) -> Result<(usize, Vec<Frame>, usize), String> {
    if wal.len() < HEADER {
        return Err("shorter than a WAL header".into());
    }
    let magic = be32(wal, 0);
    if magic & !1 != MAGIC {
        return Err("no WAL magic".into());
    }
    let big_endian = magic & 1 == 1;
    if be32(wal, 4) != VERSION {
        return Err(format!("WAL format {} is not 3007000", be32(wal, 4)));
    }
    let page_size = be32(wal, 8) as usize;
    if !page_size.is_power_of_two() || !(512..=65_536).contains(&page_size) {
        return Err(format!("WAL page size {page_size}"));
    }
    let salts = (be32(wal, 16), be32(wal, 20));
    let mut sum = checksum(big_endian, &wal[..24], (0, 0));
    if sum != (be32(wal, 24), be32(wal, 28)) {
        return Err("WAL header checksum does not match".into());
    }
    let mut valid = Vec::new();
    let mut at = HEADER;
    while at + FRAME_HEADER + page_size <= wal.len() {
        let h = &wal[at..at + FRAME_HEADER];
        let data = at + FRAME_HEADER..at + FRAME_HEADER + page_size;
        sum = checksum(big_endian, &h[..8], sum);
        sum = checksum(big_endian, &wal[data.clone()], sum);
        let ok = (be32(h, 8), be32(h, 12)) == salts
            && sum == (be32(h, 16), be32(h, 20))
            && be32(h, 0) != 0;
        if !ok {
            break;
        }
        valid.push(Frame {
            page: be32(h, 0) as usize,
            commit: be32(h, 4) as usize,
            data,
        });
        at += FRAME_HEADER + page_size;
    }
    Ok((page_size, valid, at))
}

/// Apply the committed frames of `wal` to a copy of `db`. Never fails: a WAL that cannot be
/// used leaves the image as it was and its frames count as not committed.
pub fn apply(db: &[u8], wal: &[u8]) -> Applied {
    let mut a = Applied {
        image: db.to_vec(),
        ..Applied::default()
    };
    let (page_size, valid, end) = match frames(wal) {
        Ok(f) => f,
        Err(e) => {
            a.problems.push(e);
            a.uncommitted = all_pages(wal);
            return a;
        }
    };
    let db_page_size = super::freespace::geometry(db).map(|g| g.page_size);
    if db_page_size.is_some_and(|p| p != page_size) || (db_page_size.is_none() && !db.is_empty()) {
        a.problems
            .push("the WAL's page size is not the database's: not applied".into());
        a.uncommitted = valid.iter().map(|f| f.data.clone()).collect();
        a.uncommitted.extend(after(wal, end, page_size));
        return a;
    }
    let last_commit = valid.iter().rposition(|f| f.commit != 0);
    let committed = last_commit.map_or(0, |i| i + 1);
    // A page can only be new if every page before it exists: the image never grows past
    // the database plus one page per frame.
    let limit = db.len() + committed * page_size;
    for f in &valid[..committed] {
        let start = (f.page - 1).saturating_mul(page_size);
        if start.saturating_add(page_size) > limit {
            a.problems
                .push(format!("frame for page {} out of range", f.page));
            continue;
        }
        if a.image.len() < start + page_size {
            a.image.resize(start + page_size, 0);
        }
        a.image[start..start + page_size].copy_from_slice(&wal[f.data.clone()]);
        a.committed += 1;
        if f.commit != 0 {
            let size = f.commit.saturating_mul(page_size).min(limit);
            a.image.resize(size, 0);
        }
    }
    a.uncommitted = valid[committed..].iter().map(|f| f.data.clone()).collect();
    a.uncommitted.extend(after(wal, end, page_size));
    a
}

/// The page bytes of the frames from `end` on (past the valid ones), and any cut tail.
fn after(wal: &[u8], end: usize, page_size: usize) -> Vec<Range<usize>> {
    let mut out = Vec::new();
    let mut at = end;
    while at + FRAME_HEADER < wal.len() {
        let stop = (at + FRAME_HEADER + page_size).min(wal.len());
        out.push(at + FRAME_HEADER..stop);
        at = stop;
    }
    out
}

/// Every byte after the header of a WAL that cannot be used, in page-sized pieces.
fn all_pages(wal: &[u8]) -> Vec<Range<usize>> {
    if wal.len() <= HEADER {
        return Vec::new();
    }
    let page = 4096;
    (HEADER..wal.len())
        .step_by(page)
        .map(|s| s..(s + page).min(wal.len()))
        .collect()
}

#[cfg(test)]
mod tests;
