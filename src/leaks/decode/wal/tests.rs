//! WAL tests on logs SQLite itself writes (file-backed databases in a temporary folder).

use super::*;
use crate::leaks::decode::{sqlite, Where};
use rusqlite::Connection;

/// A WAL-mode database in `dir` (no automatic checkpoint) after `sql`, and the bytes of
/// the database and its -wal file, read while the connection is open.
fn snapshot(c: &Connection, dir: &std::path::Path) -> (Vec<u8>, Vec<u8>) {
    let _ = c;
    (
        std::fs::read(dir.join("t.db")).unwrap(),
        std::fs::read(dir.join("t.db-wal")).unwrap(),
    )
}

fn wal_db(dir: &std::path::Path) -> Connection {
    let c = Connection::open(dir.join("t.db")).unwrap();
    c.execute_batch(
        "PRAGMA journal_mode = WAL; PRAGMA wal_autocheckpoint = 0;
         CREATE TABLE t(k TEXT, v TEXT);
         INSERT INTO t VALUES('a', 'committed-secret-1111');",
    )
    .unwrap();
    c
}

type Got = Vec<(String, bool, Where)>;

fn with_wal(db: &[u8], wal: &[u8]) -> (Got, String) {
    let mut got = Vec::new();
    let note = sqlite::fields_with_wal(db, wal, &mut |f| {
        got.push((
            String::from_utf8_lossy(f.value).into_owned(),
            f.deleted,
            f.at,
        ))
    })
    .unwrap()
    .unwrap();
    (got, note)
}

fn live(got: &Got, v: &str) -> bool {
    got.iter().any(|g| !g.1 && g.0 == v)
}

fn deleted(got: &Got, v: &str) -> bool {
    got.iter().any(|g| g.1 && g.0.contains(v))
}

#[test]
fn committed_frames_are_applied_before_decoding() {
    let dir = tempfile::tempdir().unwrap();
    let c = wal_db(dir.path());
    let (db, wal) = snapshot(&c, dir.path());
    assert!(wal.len() > 32, "the WAL holds the table");
    // Without the WAL the row is not in the database file at all.
    let mut alone = Vec::new();
    let _ = sqlite::fields(&db, &mut |f| alone.push(f.value.to_vec()));
    assert!(!alone.iter().any(|v| v == b"committed-secret-1111"));
    let (got, note) = with_wal(&db, &wal);
    assert!(live(&got, "committed-secret-1111"), "{got:?} {note}");
    assert!(note.contains("committed frames applied"), "{note}");
    assert!(!got.iter().any(|g| g.1 && g.0.contains("committed-secret")));
    drop(c);
}

/// Frame offsets of a WAL (for page size `ps`).
fn frame_starts(wal: &[u8]) -> Vec<usize> {
    let ps = be32(wal, 8) as usize;
    (32..wal.len()).step_by(24 + ps).collect()
}

#[test]
fn frames_after_the_last_commit_are_deleted_strings() {
    let dir = tempfile::tempdir().unwrap();
    let c = wal_db(dir.path());
    let (_, first) = snapshot(&c, dir.path());
    c.execute("INSERT INTO t VALUES('b', 'never-committed-2222')", [])
        .unwrap();
    let (db, mut wal) = snapshot(&c, dir.path());
    drop(c);
    // Unmark the second transaction's commit frame: its frames are no longer committed.
    let starts = frame_starts(&wal);
    let last = *starts.last().unwrap();
    assert!(last >= first.len() - 1);
    wal[last + 4..last + 8].copy_from_slice(&0u32.to_be_bytes());
    let (got, note) = with_wal(&db, &wal);
    assert!(live(&got, "committed-secret-1111"), "{note}");
    assert!(!live(&got, "never-committed-2222"), "{note}");
    assert!(deleted(&got, "never-committed-2222"), "{got:?}");
    assert!(note.contains("uncommitted WAL frames"), "{note}");
    // The offset of a deleted string is its place in the WAL file.
    let (v, _, at) = got
        .iter()
        .find(|g| g.1 && g.0.contains("never-committed"))
        .unwrap();
    let Where::Bytes { offset } = at else {
        panic!()
    };
    assert_eq!(
        &wal[*offset as usize..*offset as usize + v.len()],
        v.as_bytes()
    );
}

#[test]
fn checksums_and_salts_are_verified() {
    let dir = tempfile::tempdir().unwrap();
    let c = wal_db(dir.path());
    let (db, wal) = snapshot(&c, dir.path());
    drop(c);
    let good = apply(&db, &wal);
    assert!(
        good.committed > 0 && good.uncommitted.is_empty(),
        "{good:?}"
    );
    // A flipped page byte breaks the running checksum: nothing after it is applied.
    let first = frame_starts(&wal)[0];
    let mut bad = wal.clone();
    bad[first + 24 + 200] ^= 0x40;
    let a = apply(&db, &bad);
    assert_eq!(a.committed, 0);
    assert!(!a.uncommitted.is_empty());
    // A frame of another generation (salt) is not applied either.
    let mut bad = wal.clone();
    bad[first + 8] ^= 1;
    assert_eq!(apply(&db, &bad).committed, 0);
    // A damaged header: the WAL is not used at all, but its bytes are still searched.
    let mut bad = wal.clone();
    bad[12] ^= 1;
    let a = apply(&db, &bad);
    assert_eq!(a.committed, 0);
    assert!(a.problems[0].contains("checksum"));
    let (got, _) = with_wal(&db, &bad);
    assert!(deleted(&got, "committed-secret-1111"));
    assert_eq!(checksum(true, &[0, 0, 0, 1, 0, 0, 0, 2], (0, 0)), (1, 3));
    assert_eq!(checksum(false, &[1, 0, 0, 0, 2, 0, 0, 0], (0, 0)), (1, 3));
}

#[test]
fn hostile_logs_are_bounded() {
    let dir = tempfile::tempdir().unwrap();
    let c = wal_db(dir.path());
    let (db, wal) = snapshot(&c, dir.path());
    drop(c);
    for cut in [0, 10, 31, 32, 33, 100, wal.len() - 1] {
        let _ = apply(&db, &wal[..cut.min(wal.len())]);
        let _ = with_wal(&db, &wal[..cut.min(wal.len())]);
    }
    let _ = apply(b"", &wal);
    let _ = apply(b"not a database", &wal);
    // A valid-looking frame for page 2^32-1 cannot grow the image.
    let mut w = wal[..32].to_vec();
    let ps = be32(&wal, 8) as usize;
    let mut h = Vec::new();
    h.extend_from_slice(&u32::MAX.to_be_bytes());
    h.extend_from_slice(&u32::MAX.to_be_bytes());
    h.extend_from_slice(&wal[16..24]);
    let page = vec![0x41u8; ps];
    let mut sum = (be32(&wal, 24), be32(&wal, 28));
    sum = checksum(false, &h[..8], sum);
    sum = checksum(false, &page, sum);
    h.extend_from_slice(&sum.0.to_be_bytes());
    h.extend_from_slice(&sum.1.to_be_bytes());
    w.extend_from_slice(&h);
    w.extend_from_slice(&page);
    let a = apply(&db, &w);
    assert!(a.image.len() <= db.len() + ps, "{}", a.image.len());
    assert!(
        a.problems.iter().any(|p| p.contains("out of range")),
        "{:?}",
        a.problems
    );
}
