//! SQLite free space (freelist pages, b-tree freeblocks, unallocated page space) as deleted strings.
//!
//! Read from the database image directly (SQLite's file format, §1.4 freelist and §1.6
//! b-tree pages): the freelist trunk chain from the header (offsets 32, 36), every leaf page
//! it lists and the unused tail of each trunk page; and in every b-tree page that is not
//! free, the gap between the cell pointer array and the cell content area, and each
//! freeblock of the chain that starts at header offset 1. What lies there is no longer part
//! of any live row: its printable runs are handed out with `deleted: true` at their byte
//! offset in the image. Every page number, offset and chain is checked and bounded.

use super::{Field, Where};
use std::ops::Range;

/// The parts of the database header the walk needs.
#[derive(Debug, Clone, Copy)]
pub struct Geometry {
    pub page_size: usize,
    /// Page size less the reserved bytes at the end of each page.
    pub usable: usize,
    /// Whole pages in the image.
    pub pages: usize,
}

fn be16(b: &[u8], at: usize) -> Option<usize> {
    Some(u16::from_be_bytes(b.get(at..at + 2)?.try_into().ok()?) as usize)
}

fn be32(b: &[u8], at: usize) -> Option<usize> {
    Some(u32::from_be_bytes(b.get(at..at + 4)?.try_into().ok()?) as usize)
}

/// Page size (offset 16: 1 means 65 536), reserved bytes (offset 20) and page count.
pub fn geometry(b: &[u8]) -> Option<Geometry> {
    if b.len() < 100 || !b.starts_with(b"SQLite format 3\0") {
        return None;
    }
    let page_size = match be16(b, 16)? {
        1 => 65_536,
        n => n,
    };
    if !page_size.is_power_of_two() || !(512..=65_536).contains(&page_size) {
        return None;
    }
    let usable = page_size.checked_sub(usize::from(b[20]))?;
    (usable >= 480).then_some(Geometry {
        page_size,
        usable,
        pages: b.len() / page_size,
    })
}

/// The free regions of the image, in page order.
pub fn free_regions(b: &[u8]) -> Vec<Range<usize>> {
    let Some(g) = geometry(b) else {
        return Vec::new();
    };
    let mut free = vec![false; g.pages + 1];
    let mut regions = freelist(b, g, &mut free);
    let autovacuum = be32(b, 52).unwrap_or(0) != 0;
    let ptrmap_stride = g.usable / 5 + 1;
    for (p, &is_free) in free.iter().enumerate().skip(1) {
        // Pointer-map pages (auto-vacuum) start with a type byte that can look like a
        // b-tree page type: skipped (page 2, then every `usable/5 + 1` pages).
        let ptrmap = autovacuum && p >= 2 && (p - 2) % ptrmap_stride == 0;
        if !is_free && !ptrmap {
            btree_page(b, g, p, &mut regions);
        }
    }
    regions.sort_by_key(|r| r.start);
    regions
}

/// The freelist: trunk pages from header offset 32, each listing leaf pages. Marks every
/// freelist page in `free`; returns the leaf pages whole and each trunk page's unused tail.
fn freelist(b: &[u8], g: Geometry, free: &mut [bool]) -> Vec<Range<usize>> {
    let mut regions = Vec::new();
    let mut trunk = be32(b, 32).unwrap_or(0);
    let max_leaves = g.usable / 4 - 2;
    while (2..=g.pages).contains(&trunk) && !free[trunk] {
        free[trunk] = true;
        let base = (trunk - 1) * g.page_size;
        let page = &b[base..base + g.usable];
        let n = be32(page, 4).unwrap_or(0).min(max_leaves);
        for i in 0..n {
            let leaf = be32(page, 8 + 4 * i).unwrap_or(0);
            if (2..=g.pages).contains(&leaf) && !free[leaf] {
                free[leaf] = true;
                let at = (leaf - 1) * g.page_size;
                regions.push(at..at + g.usable);
            }
        }
        regions.push(base + 8 + 4 * n..base + g.usable);
        trunk = be32(page, 0).unwrap_or(0);
    }
    regions
}

/// A b-tree page's unallocated gap and freeblocks, when its header is consistent.
fn btree_page(b: &[u8], g: Geometry, p: usize, regions: &mut Vec<Range<usize>>) {
    let base = (p - 1) * g.page_size;
    let page = &b[base..base + g.usable];
    let h = if p == 1 { 100 } else { 0 };
    let header_len = match page[h] {
        0x02 | 0x05 => 12,
        0x0a | 0x0d => 8,
        _ => return,
    };
    let (Some(first_free), Some(cells), Some(content)) =
        (be16(page, h + 1), be16(page, h + 3), be16(page, h + 5))
    else {
        return;
    };
    let content = if content == 0 { 65_536 } else { content };
    let pointers_end = h + header_len + 2 * cells;
    if pointers_end > content || content > g.usable {
        return;
    }
    regions.push(base + pointers_end..base + content);
    // Freeblocks: ascending offsets inside the content area, each at least 4 bytes.
    let mut at = first_free;
    while at != 0 {
        if at < content || at + 4 > g.usable {
            break;
        }
        let (Some(next), Some(size)) = (be16(page, at), be16(page, at + 2)) else {
            break;
        };
        if size < 4 || at + size > g.usable {
            break;
        }
        regions.push(base + at + 4..base + at + size);
        if next != 0 && next < at + size {
            break;
        }
        at = next;
    }
}

/// Hand the printable runs of the free space of `b` to `out` as `deleted` fields, at most
/// `limit`. Returns how many.
pub fn deleted_strings(b: &[u8], limit: usize, out: &mut dyn FnMut(Field<'_>)) -> usize {
    let mut found = 0usize;
    for r in free_regions(b) {
        let Some(region) = b.get(r.clone()) else {
            continue;
        };
        super::text::strings(region, &mut |f| {
            if found >= limit {
                return;
            }
            found += 1;
            let offset = match f.at {
                Where::Bytes { offset } => offset + r.start as u64,
                _ => r.start as u64,
            };
            out(Field {
                at: Where::Bytes { offset },
                deleted: true,
                ..f
            })
        });
    }
    found
}

#[cfg(test)]
mod tests {
    use super::*;
    use rusqlite::Connection;

    fn image(c: &mut Connection) -> Vec<u8> {
        c.serialize(rusqlite::MAIN_DB).unwrap().to_vec()
    }

    fn all(b: &[u8]) -> Vec<(String, bool, u64)> {
        let mut got = Vec::new();
        super::super::sqlite::fields(b, &mut |f| {
            let off = match f.at {
                Where::Bytes { offset } => offset,
                _ => u64::MAX,
            };
            got.push((
                String::from_utf8_lossy(f.value).into_owned(),
                f.deleted,
                off,
            ))
        })
        .unwrap();
        got
    }

    #[test]
    fn deleted_rows_are_found_in_freeblocks_and_live_rows_are_not_deleted() {
        let mut c = Connection::open_in_memory().unwrap();
        c.execute_batch(
            "PRAGMA secure_delete = OFF;
             CREATE TABLE t(k TEXT, v TEXT);
             INSERT INTO t VALUES('one', 'live-secret-AAAA-1111');
             INSERT INTO t VALUES('two', 'gone-secret-BBBB-2222');
             INSERT INTO t VALUES('three', 'live-secret-CCCC-3333');
             DELETE FROM t WHERE k = 'two';",
        )
        .unwrap();
        let b = image(&mut c);
        let got = all(&b);
        let deleted: Vec<_> = got.iter().filter(|g| g.1).collect();
        assert!(
            deleted
                .iter()
                .any(|(v, _, _)| v.contains("gone-secret-BBBB-2222")),
            "{got:?}"
        );
        for (v, _, off) in &deleted {
            assert!(!v.contains("live-secret"), "live row reported deleted: {v}");
            // The offset is where the string is in the file.
            let at = *off as usize;
            assert_eq!(&b[at..at + v.len()], v.as_bytes());
        }
        assert!(got.iter().any(|g| !g.1 && g.0 == "live-secret-AAAA-1111"));
        assert!(!got.iter().any(|g| !g.1 && g.0.contains("gone-secret")));
    }

    #[test]
    fn freelist_pages_are_scanned() {
        let mut c = Connection::open_in_memory().unwrap();
        c.execute_batch(
            "PRAGMA secure_delete = OFF; PRAGMA page_size = 1024; PRAGMA auto_vacuum = NONE;
             CREATE TABLE keep(v TEXT); INSERT INTO keep VALUES('still-here-live-value');
             CREATE TABLE big(v TEXT);",
        )
        .unwrap();
        for i in 0..200 {
            c.execute(
                "INSERT INTO big VALUES(?1)",
                [format!("dropped-token-{i:04}-{}", "x".repeat(40))],
            )
            .unwrap();
        }
        c.execute_batch("DROP TABLE big;").unwrap();
        let b = image(&mut c);
        assert!(be32(&b, 36).unwrap() > 0, "the drop left free pages");
        let got = all(&b);
        let n = got
            .iter()
            .filter(|g| g.1 && g.0.contains("dropped-token-"))
            .count();
        assert!(n > 100, "{n} deleted strings");
        assert!(got.iter().any(|g| !g.1 && g.0 == "still-here-live-value"));
        assert!(!got.iter().any(|g| g.1 && g.0.contains("still-here")));
    }

    #[test]
    fn secure_delete_leaves_nothing_and_hostile_headers_are_bounded() {
        let mut c = Connection::open_in_memory().unwrap();
        c.execute_batch(
            "PRAGMA secure_delete = ON; CREATE TABLE t(v TEXT);
             INSERT INTO t VALUES('wiped-secret-value-1'); DELETE FROM t;",
        )
        .unwrap();
        let b = image(&mut c);
        assert!(!all(&b).iter().any(|g| g.0.contains("wiped")));
        // A freelist that loops on itself, freeblocks that point anywhere: bounded.
        let mut bad = b.clone();
        let ps = geometry(&bad).unwrap().page_size;
        bad[32..36].copy_from_slice(&2u32.to_be_bytes());
        bad[ps..ps + 4].copy_from_slice(&2u32.to_be_bytes());
        bad[ps + 4..ps + 8].copy_from_slice(&u32::MAX.to_be_bytes());
        let _ = free_regions(&bad);
        let mut bad = b.clone();
        bad[101..103].copy_from_slice(&0xfff0u16.to_be_bytes());
        bad[16..18].copy_from_slice(&1u16.to_be_bytes());
        let _ = free_regions(&bad);
        assert!(free_regions(b"SQLite format 3\0").is_empty());
    }
}
