//! Tests of the Manifest.db reader against the conformance backups, real data and synthetic databases.

use super::*;
use crate::index::record::FileKind;
use std::collections::{BTreeMap, HashMap};
use std::path::PathBuf;

use crate::test_support::shared;

fn collect(db: &ManifestDb) -> Vec<FileRecord> {
    let mut v = Vec::new();
    let n = db.for_each(|r| v.push(r)).unwrap();
    assert_eq!(n as usize, v.len());
    v
}

/// Compare every row with EXPECTED.json `files[]`.
fn assert_matches_expected(records: &[FileRecord], expected: &serde_json::Value, encrypted: bool) {
    let files = expected["files"].as_array().unwrap();
    assert_eq!(records.len(), files.len());
    let by_id: HashMap<&str, &FileRecord> =
        records.iter().map(|r| (r.file_id.as_str(), r)).collect();
    for f in files {
        let id = f["fileID"].as_str().unwrap();
        let r = by_id.get(id).unwrap_or_else(|| panic!("row {id} missing"));
        assert!(r.problems.is_empty(), "{id}: {:?}", r.problems);
        assert_eq!(r.domain, f["domain"].as_str().unwrap());
        assert_eq!(r.relative_path, f["relativePath"].as_str().unwrap());
        assert_eq!(r.valid_file_id(), Some(r.expected_file_id()), "{id}");
        assert_eq!(r.kind.as_str(), f["type"].as_str().unwrap(), "{id}");
        assert_eq!(r.flags, f["flags"].as_i64(), "{id}");
        assert_eq!(
            r.protection_class.map(u64::from),
            f["protection_class"].as_u64(),
            "{id}"
        );
        assert_eq!(r.size, f["size"].as_u64(), "{id}");
        let mode =
            u32::from_str_radix(f["mode"].as_str().unwrap().trim_start_matches("0o"), 8).unwrap();
        assert_eq!(r.mode, Some(mode), "{id}");
        assert_eq!(
            r.target.as_deref(),
            f.get("target").and_then(|t| t.as_str()),
            "{id}"
        );
        assert_eq!(r.user_id, Some(501));
        assert!(r.last_modified.is_some() && r.birth.is_some() && r.inode.is_some());
        if encrypted && f["encrypted"] == true {
            let k = r
                .encryption_key
                .as_ref()
                .unwrap_or_else(|| panic!("{id} has no EncryptionKey"));
            assert!(k.is_ok(), "{id}: {k:?}");
            assert_eq!(r.encryption_key_class(), r.protection_class, "{id}");
        } else {
            assert_eq!(r.encryption_key, None, "{id}");
        }
    }
}

fn expected(dir: &str) -> serde_json::Value {
    serde_json::from_slice(&std::fs::read(shared(dir).unwrap().join("EXPECTED.json")).unwrap())
        .unwrap()
}

#[test]
fn conformance_unencrypted_rows_match_expected() {
    let Some(dir) = shared("conformance/small-unencrypted/00008120-001A2B3C4D5E801E") else {
        return;
    };
    let db = ManifestDb::open_file(&dir.join("Manifest.db")).unwrap();
    assert_eq!(db.count().unwrap(), 113);
    assert_eq!(db.integrity_check().unwrap(), "ok");
    assert!(db.properties().unwrap().is_empty());
    let recs = collect(&db);
    assert_matches_expected(&recs, &expected("conformance/small-unencrypted"), false);
    let kinds: BTreeMap<FileKind, usize> = recs.iter().fold(BTreeMap::new(), |mut m, r| {
        *m.entry(r.kind).or_default() += 1;
        m
    });
    assert_eq!(
        kinds,
        BTreeMap::from([
            (FileKind::File, 46),
            (FileKind::Directory, 65),
            (FileKind::Symlink, 2)
        ])
    );
}

fn decrypt_cbc_zero_iv(key: &[u8; 32], ct: &[u8]) -> Vec<u8> {
    use cbc::cipher::{block_padding::Pkcs7, BlockModeDecrypt, KeyIvInit};
    let mut buf = ct.to_vec();
    let n = cbc::Decryptor::<aes::Aes256>::new(key.into(), &[0u8; 16].into())
        .decrypt_padded::<Pkcs7>(&mut buf)
        .unwrap()
        .len();
    buf.truncate(n);
    buf
}

#[test]
fn conformance_encrypted_decrypts_in_memory() {
    let Some(dir) = shared("conformance/small-encrypted/00008120-001A2B3C4D5E801E") else {
        return;
    };
    let exp = expected("conformance/small-encrypted");
    let ct = std::fs::read(dir.join("Manifest.db")).unwrap();
    // Ciphertext is refused with a clear message, both ways.
    let e = ManifestDb::open_file(&dir.join("Manifest.db")).unwrap_err();
    assert!(matches!(e, IndexError::NotADatabase { .. }), "{e}");
    assert!(e.to_string().contains("file is not a database"), "{e}");
    assert!(matches!(
        ManifestDb::open_bytes(&ct),
        Err(IndexError::NotADatabase { .. })
    ));

    let mut key = [0u8; 32];
    hex::decode_to_slice(exp["manifest_db"]["key_hex"].as_str().unwrap(), &mut key).unwrap();
    let pt = decrypt_cbc_zero_iv(&key, &ct);
    assert_eq!(pt.len(), 118_784);
    let db = ManifestDb::open_bytes(&pt).unwrap();
    assert_eq!(db.count().unwrap(), 113);
    assert_eq!(db.integrity_check().unwrap(), "ok");
    let recs = collect(&db);
    assert_matches_expected(&recs, &exp, true);
    assert_eq!(
        recs.iter().filter(|r| r.encryption_key.is_some()).count(),
        46
    );
}

fn listing(dir: &Path) -> BTreeMap<PathBuf, (u64, Vec<u8>)> {
    let mut out = BTreeMap::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                stack.push(p.clone());
                out.insert(p, (0, Vec::new()));
            } else {
                let bytes = std::fs::read(&p).unwrap();
                out.insert(p, (bytes.len() as u64, bytes));
            }
        }
    }
    out
}

#[test]
fn opening_on_disk_creates_nothing_beside_the_db() {
    let Some(src) = shared("conformance/small-unencrypted/00008120-001A2B3C4D5E801E") else {
        return;
    };
    let tmp = tempfile::tempdir().unwrap();
    // A path with a space, '?' and '%' exercises the URI encoding.
    let dir = tmp.path().join("back up?%x");
    std::fs::create_dir(&dir).unwrap();
    for e in std::fs::read_dir(&src).unwrap() {
        let p = e.unwrap().path();
        if p.is_file() {
            std::fs::copy(&p, dir.join(p.file_name().unwrap())).unwrap();
        }
    }
    let before = listing(tmp.path());
    {
        let db = ManifestDb::open_file(&dir.join("Manifest.db")).unwrap();
        assert_eq!(db.count().unwrap(), 113);
        assert_eq!(collect(&db).len(), 113);
        assert_eq!(db.integrity_check().unwrap(), "ok");
        db.properties().unwrap();
        // A write is refused.
        assert!(db.conn.execute("DELETE FROM Files", []).is_err());
        assert_eq!(listing(tmp.path()), before, "files appeared while open");
    }
    assert_eq!(listing(tmp.path()), before, "files appeared after close");
}

/// MVT's real iOS 14.3 Manifest.db (a WAL-mode file). Figures cross-checked with python3
/// sqlite3 + plistlib.
#[test]
fn mvt_real_manifest_db() {
    let Some(dir) = shared("external/mvt/ios_backup") else {
        return;
    };
    let path = dir.join("Manifest.db");
    let db = ManifestDb::open_file(&path).unwrap();
    assert_eq!(db.count().unwrap(), 3721);
    let recs = collect(&db);
    assert_eq!(recs.len(), 3721);
    assert!(
        recs.iter().all(|r| r.problems.is_empty()),
        "{:?}",
        recs.iter().find(|r| !r.problems.is_empty())
    );
    assert!(recs
        .iter()
        .all(|r| r.valid_file_id() == Some(r.expected_file_id())));
    let count = |f: &dyn Fn(&FileRecord) -> bool| recs.iter().filter(|r| f(r)).count();
    assert_eq!(
        count(&|r| r.flags == Some(2) && r.kind == FileKind::Directory),
        2618
    );
    assert_eq!(
        count(&|r| r.flags == Some(1) && r.kind == FileKind::File),
        1089
    );
    assert_eq!(
        count(&|r| r.flags == Some(4) && r.kind == FileKind::Symlink),
        14
    );
    let mut classes = BTreeMap::new();
    for r in &recs {
        *classes.entry(r.protection_class.unwrap()).or_insert(0) += 1;
    }
    assert_eq!(
        classes,
        BTreeMap::from([(0, 2496), (1, 40), (2, 2), (3, 612), (4, 571)])
    );
    // Stored "already decrypted", yet every file row still carries its 44-byte key.
    assert_eq!(count(&|r| matches!(r.encryption_key, Some(Ok(_)))), 1089);
    assert_eq!(
        count(&|r| r.kind == FileKind::File && r.encryption_key_class() == r.protection_class),
        1089
    );
    assert_eq!(count(&|r| r.digest.as_ref().map(Vec::len) == Some(20)), 477);
    assert_eq!(count(&|r| r.target.is_some()), 14);
    assert_eq!(count(&|r| r.relative_path.is_empty()), 562); // one root per domain
    assert_eq!(
        recs.iter()
            .map(|r| r.domain.as_str())
            .collect::<std::collections::BTreeSet<_>>()
            .len(),
        562
    );
    assert_eq!(count(&|r| r.mbfile_flags == Some(128)), 7);
    assert_eq!(count(&|r| r.extended_attributes.is_some()), 77);
    assert_eq!(count(&|r| r.extended_attributes == Some(19)), 49);
    assert_eq!(count(&|r| r.user_id == Some(u32::MAX - 1)), 98); // UserID -2 (nobody)
    assert_eq!(
        count(&|r| r.kind == FileKind::File && r.size == Some(0)),
        24
    );
    assert_eq!(
        recs.iter()
            .filter(|r| r.kind == FileKind::File)
            .map(|r| r.size.unwrap())
            .sum::<u64>(),
        182_028_381
    );
    let first = &recs[0];
    assert_eq!(first.file_id, "865e565f7ee3b2842ce05bf30d5cbc3d68352edd");
    assert_eq!(
        first.domain,
        "AppDomainPlugin-com.apple.mobilemail.MailQuickLookExtension"
    );
    assert_eq!(
        (first.relative_path.as_str(), first.mode, first.inode),
        ("", Some(0o40755), Some(184673))
    );
    assert_eq!(first.last_modified, Some(1610674669));
    let link = recs.iter().find(|r| r.kind == FileKind::Symlink).unwrap();
    assert_eq!(link.domain, "AppDomain-ch.icoaching.typewise");
    assert_eq!(
        link.target.as_deref(),
        Some("/var/mobile/Containers/Data/Application/2D4D1445-FCB4-47F6-A789-941C77FBE73B/Library/WebKit/WebsiteData/IndexedDB")
    );
    let sms = recs
        .iter()
        .find(|r| r.file_id == "3d0d7e5fb2ce288813306e4d4636395e047a3d28")
        .unwrap();
    assert_eq!((sms.size, sms.protection_class), (Some(278_528), Some(4)));

    // The same bytes from memory: the WAL-mode header must be accepted.
    let bytes = std::fs::read(&path).unwrap();
    assert_eq!((bytes[18], bytes[19]), (2, 2));
    let mem = ManifestDb::open_bytes(&bytes).unwrap();
    assert_eq!(mem.count().unwrap(), 3721);
    assert_eq!(collect(&mem), recs);
}

#[test]
fn pyiosbackup_encrypted_db_is_refused() {
    let Some(p) = shared("external/pyiosbackup/backup_ios10_sqlite/Manifest.db") else {
        return;
    };
    let e = ManifestDb::open_file(&p).unwrap_err();
    assert!(matches!(e, IndexError::NotADatabase { .. }));
    assert!(e.to_string().starts_with(&p.display().to_string()), "{e}");
}

fn mbfile_blob(mode: i64, size: i64, class: i64, rp: &str) -> Vec<u8> {
    use plist::{Uid, Value};
    let d = |pairs: Vec<(&str, Value)>| {
        Value::Dictionary(pairs.into_iter().map(|(k, v)| (k.to_owned(), v)).collect())
    };
    let v = d(vec![
        ("$archiver", Value::String("NSKeyedArchiver".into())),
        ("$version", Value::Integer(100_000.into())),
        ("$top", d(vec![("root", Value::Uid(Uid::new(1)))])),
        (
            "$objects",
            Value::Array(vec![
                Value::String("$null".into()),
                d(vec![
                    ("RelativePath", Value::Uid(Uid::new(2))),
                    ("Mode", Value::Integer(mode.into())),
                    ("Size", Value::Integer(size.into())),
                    ("ProtectionClass", Value::Integer(class.into())),
                ]),
                Value::String(rp.into()),
            ]),
        ),
    ]);
    let mut out = Vec::new();
    v.to_writer_binary(&mut out).unwrap();
    out
}

/// fileID, domain, relativePath, flags, file.
type Row<'a> = (
    Option<&'a str>,
    Option<&'a str>,
    Option<&'a str>,
    Option<i64>,
    Option<Vec<u8>>,
);

fn make_db(path: &Path, rows: &[Row<'_>]) {
    let c = Connection::open(path).unwrap();
    c.execute_batch(
        "CREATE TABLE Files (fileID TEXT PRIMARY KEY, domain TEXT, relativePath TEXT, flags INTEGER, file BLOB);
         CREATE TABLE Properties (key TEXT PRIMARY KEY, value BLOB);
         INSERT INTO Properties VALUES ('salt', x'0102');",
    )
    .unwrap();
    for (id, d, p, f, b) in rows {
        c.execute(
            "INSERT INTO Files VALUES (?1, ?2, ?3, ?4, ?5)",
            rusqlite::params![id, d, p, f, b],
        )
        .unwrap();
    }
}

#[test]
fn synthetic_null_rows_flags_zero_and_disagreements() {
    let tmp = tempfile::tempdir().unwrap();
    let path = tmp.path().join("Manifest.db");
    let id_a = crate::backup::FileId::compute("D", "a").to_string();
    let id_b = crate::backup::FileId::compute("D", "b").to_string();
    make_db(
        &path,
        &[
            (
                Some("0000000000000000000000000000000000000016"),
                None,
                None,
                Some(16),
                None,
            ),
            (
                Some(&id_a),
                Some("D"),
                Some("a"),
                Some(0),
                Some(mbfile_blob(0o100644, 9, 3, "a")),
            ),
            (
                Some(&id_b),
                Some("D"),
                Some("b"),
                Some(2),
                Some(mbfile_blob(0o100644, 9, 3, "b")),
            ),
            (
                Some("not-hex"),
                Some("D"),
                Some("c"),
                Some(1),
                Some(b"garbage".to_vec()),
            ),
        ],
    );
    let db = ManifestDb::open_file(&path).unwrap();
    assert_eq!(
        db.properties().unwrap(),
        vec![("salt".to_string(), vec![1, 2])]
    );
    let recs = collect(&db);
    assert_eq!(recs.len(), 4);
    // iOS 10.0 flags=16 row: kept, kind Other, NULLs recorded.
    assert_eq!(recs[0].kind, FileKind::Other);
    assert_eq!(
        recs[0].problems,
        [
            "domain is NULL",
            "relativePath is NULL",
            "file (MBFile) is NULL",
            "flags is 16, not 1 (file), 2 (directory) or 4 (symlink)"
        ]
    );
    // flags 0 (pyiosbackup): kind from Mode, no problem.
    assert_eq!(
        (recs[1].kind, recs[1].size, recs[1].protection_class),
        (FileKind::File, Some(9), Some(3))
    );
    assert!(recs[1].problems.is_empty(), "{:?}", recs[1].problems);
    // flags 2 but a regular-file Mode.
    assert_eq!(recs[2].kind, FileKind::Directory);
    assert_eq!(
        recs[2].problems,
        ["flags 2 says directory but Mode 0o100644 says file"]
    );
    // Undecodable blob: row kept, kind from flags, fileID invalid.
    assert_eq!(recs[3].kind, FileKind::File);
    assert_eq!(recs[3].valid_file_id(), None);
    assert_eq!(recs[3].problems.len(), 1);
    assert!(
        recs[3].problems[0].starts_with("MBFile archive: not a property list"),
        "{:?}",
        recs[3].problems
    );
}

#[test]
fn not_a_db_and_wrong_schema() {
    let tmp = tempfile::tempdir().unwrap();
    let text = tmp.path().join("text.db");
    std::fs::write(&text, b"hello, this is not SQLite at all").unwrap();
    let e = ManifestDb::open_file(&text).unwrap_err();
    assert!(matches!(e, IndexError::NotADatabase { .. }));
    assert!(
        e.to_string().contains("text.db: file is not a database"),
        "{e}"
    );
    let empty = tmp.path().join("empty.db");
    std::fs::write(&empty, b"").unwrap();
    assert!(ManifestDb::open_file(&empty)
        .unwrap_err()
        .to_string()
        .contains("empty (0 bytes)"));
    assert!(matches!(
        ManifestDb::open_file(&tmp.path().join("absent.db")),
        Err(IndexError::Io { .. })
    ));
    assert!(matches!(
        ManifestDb::open_bytes(b"SQLite format 3\0short"),
        Err(IndexError::NotADatabase { .. })
    ));

    let other = tmp.path().join("other.db");
    Connection::open(&other)
        .unwrap()
        .execute_batch("CREATE TABLE t (x);")
        .unwrap();
    let e = ManifestDb::open_file(&other).unwrap_err();
    assert!(matches!(e, IndexError::Schema { .. }));
    assert!(
        e.to_string()
            .ends_with("unexpected schema: no table `Files`"),
        "{e}"
    );
    let partial = tmp.path().join("partial.db");
    Connection::open(&partial)
        .unwrap()
        .execute_batch("CREATE TABLE Files (fileID, domain);")
        .unwrap();
    let e = ManifestDb::open_file(&partial).unwrap_err().to_string();
    assert!(
        e.contains("lacks column(s) relativePath, flags, file"),
        "{e}"
    );
    let top: crate::Error = ManifestDb::open_file(&partial).unwrap_err().into();
    assert_eq!(top.exit_code(), crate::ExitCode::BadBackup);
    assert!(top.to_string().starts_with(&partial.display().to_string()));
}

#[test]
fn truncated_or_corrupt_images_fail_cleanly() {
    let Some(dir) = shared("conformance/small-unencrypted/00008120-001A2B3C4D5E801E") else {
        return;
    };
    let bytes = std::fs::read(dir.join("Manifest.db")).unwrap();
    for cut in [100, 4096, 8192, bytes.len() / 2, bytes.len() - 4096] {
        let r = ManifestDb::open_bytes(&bytes[..cut]).and_then(|db| {
            db.count()?;
            db.for_each(|_| {})?;
            db.integrity_check()
        });
        // Either refused, or read with integrity findings — never a panic or a silent "ok".
        if let Ok(report) = r {
            assert_ne!(report, "ok", "cut at {cut}");
        }
    }
    let mut flipped = bytes.clone();
    for b in flipped.iter_mut().skip(4096).take(4096) {
        *b ^= 0x5A;
    }
    let r = ManifestDb::open_bytes(&flipped).and_then(|db| {
        db.for_each(|_| {})?;
        db.integrity_check()
    });
    assert!(r.map(|s| s != "ok").unwrap_or(true));
}

/// pyiosbackup's encrypted iOS 10.3 Manifest.db. The key was derived independently with
/// python3 (PBKDF2 ×2 from password "0000" and the keybag's zero salts, RFC 3394 unwrap
/// with `cryptography`, ManifestKey class 2): it is 32 zero bytes. The ciphertext has NO
/// PKCS#7 padding (8192 bytes = two 4 KiB pages; the last byte is 0x7a), so it is
/// decrypted without unpadding here.
#[test]
fn pyiosbackup_ios10_decrypted_flags_zero_and_sparse_mbfile() {
    use cbc::cipher::{block_padding::NoPadding, BlockModeDecrypt, KeyIvInit};
    let Some(p) = shared("external/pyiosbackup/backup_ios10_sqlite/Manifest.db") else {
        return;
    };
    let mut buf = std::fs::read(p).unwrap();
    assert_eq!(buf.len(), 8192);
    let n = cbc::Decryptor::<aes::Aes256>::new(&[0u8; 32].into(), &[0u8; 16].into())
        .decrypt_padded::<NoPadding>(&mut buf)
        .unwrap()
        .len();
    assert_eq!(n, 8192);
    assert_eq!(buf[8191], 0x7a); // not a valid PKCS#7 pad byte
    let db = ManifestDb::open_bytes(&buf).unwrap();
    assert_eq!(db.integrity_check().unwrap(), "ok");
    assert!(db.properties().unwrap().is_empty()); // no Properties table at all
    let recs = collect(&db);
    assert_eq!(recs.len(), 1);
    let r = &recs[0];
    assert!(r.problems.is_empty(), "{:?}", r.problems);
    assert_eq!(r.file_id, "5727bd1c5fa1055e15d8b4a75a74793c84b5ffdc");
    assert_eq!(r.valid_file_id(), Some(r.expected_file_id()));
    assert_eq!(
        (r.domain.as_str(), r.relative_path.as_str()),
        ("MyTestDomain", "Media/Test.txt")
    );
    assert_eq!(
        (r.flags, r.kind, r.mode, r.size),
        (Some(0), FileKind::File, Some(0o100755), Some(9))
    );
    // This archive carries no ProtectionClass, InodeNumber or Flags; the key (NS.data
    // behind a UID) says class 2.
    assert_eq!(
        (r.protection_class, r.inode, r.mbfile_flags),
        (None, None, None)
    );
    assert!(matches!(r.encryption_key, Some(Ok(_))));
    assert_eq!(r.encryption_key_class(), Some(2));
    assert_eq!(
        (r.user_id, r.group_id, r.birth),
        (Some(501), Some(501), Some(1627974948))
    );
}

/// A table big enough for the parallel reader (rowid ranges read by a reader thread while
/// rows are handed out): every row once, in rowid order, also with gaps in the rowids;
/// a damaged page in the middle is an error, not a hang or a panic.
#[test]
fn parallel_read_keeps_rowid_order_and_fails_cleanly() {
    let t = tempfile::tempdir().unwrap();
    let p = t.path().join("Manifest.db");
    let n = PARALLEL_MIN_ROWS as usize + 3 * RANGE_ROWS as usize + 17;
    let blob = mbfile_blob(0o100644, 5, 3, "x");
    {
        let c = Connection::open(&p).unwrap();
        c.execute_batch(
            "CREATE TABLE Files (fileID TEXT PRIMARY KEY, domain TEXT, relativePath TEXT, flags INTEGER, file BLOB);",
        )
        .unwrap();
        let tx = c.unchecked_transaction().unwrap();
        for i in 0..n {
            tx.execute(
                "INSERT INTO Files VALUES (?1, 'HomeDomain', ?2, 1, ?3)",
                rusqlite::params![format!("{i:040x}"), format!("f{i}"), blob],
            )
            .unwrap();
        }
        // Gaps: whole ranges of rowids missing, and the last rows.
        tx.execute_batch("DELETE FROM Files WHERE rowid BETWEEN 9000 AND 12000 OR rowid > 40000")
            .unwrap();
        tx.commit().unwrap();
    }
    let db = ManifestDb::open_file(&p).unwrap();
    let expect: Vec<String> = (0..n)
        .map(|i| i + 1)
        .filter(|&r| !(9000..=12000).contains(&r) && r <= 40000)
        .map(|r| format!("f{}", r - 1))
        .collect();
    assert!(expect.len() as i64 >= PARALLEL_MIN_ROWS);
    let got: Vec<String> = collect(&db).into_iter().map(|r| r.relative_path).collect();
    assert_eq!(got, expect);

    // Damage pages in the middle of the file: the read fails with an error.
    let mut bytes = std::fs::read(&p).unwrap();
    let mid = bytes.len() / 2;
    for b in &mut bytes[mid..mid + 64 * 4096] {
        *b = 0xA5;
    }
    let r = ManifestDb::open_bytes(&bytes).and_then(|db| {
        let mut rows = 0u64;
        db.for_each(|_| rows += 1).map(|n| (n, rows))
    });
    match r {
        Err(_) => {}
        Ok((n, rows)) => panic!("damaged image read as {n} rows ({rows} handed out)"),
    }
}

#[test]
fn successor_bounds_every_string_with_the_prefix() {
    assert_eq!(successor("ab").as_deref(), Some("ac"));
    assert_eq!(successor("a/").as_deref(), Some("a0"));
    assert_eq!(successor("a\u{10FFFF}").as_deref(), Some("b"));
    assert_eq!(successor("a\u{D7FF}").as_deref(), Some("a\u{E000}"));
    assert_eq!(successor("\u{10FFFF}"), None);
    assert_eq!(successor(""), None);
    for (p, s) in [("Media/DCIM/", "Media/DCIM/zz"), ("é", "é\u{10FFFF}x")] {
        let up = successor(p).unwrap();
        assert!(
            s.starts_with(p) && s.as_bytes() < up.as_bytes(),
            "{p} {s} {up}"
        );
    }
}

/// A subset read through the database's indexes gives every row a whole reading gives
/// that starts with a prefix (or is of a domain), odd rows included, and no other row
/// unless its column is not text; a subset that is most of the table, or a table without
/// the index, is read whole.
#[test]
fn subset_reading_gives_what_a_whole_reading_would() {
    let t = tempfile::tempdir().unwrap();
    let p = t.path().join("Manifest.db");
    let blob = mbfile_blob(0o100644, 5, 3, "x");
    let c = Connection::open(&p).unwrap();
    c.execute_batch(
        "CREATE TABLE Files (fileID TEXT PRIMARY KEY, domain TEXT, relativePath TEXT, flags INTEGER, file BLOB);
         CREATE INDEX FilesDomainIdx ON Files(domain);
         CREATE INDEX FilesRelativePathIdx ON Files(relativePath);",
    )
    .unwrap();
    let tx = c.unchecked_transaction().unwrap();
    let add = |id: String, d: rusqlite::types::Value, rp: rusqlite::types::Value| {
        tx.execute(
            "INSERT INTO Files VALUES (?1, ?2, ?3, 1, ?4)",
            rusqlite::params![id, d, rp, blob],
        )
        .unwrap();
    };
    use rusqlite::types::Value as V;
    let text = |s: &str| V::Text(s.to_string());
    for i in 0..SUBSET_SMALL + 1000 {
        add(
            format!("a{i}"),
            text("HomeDomain"),
            text(&format!("Library/f{i}")),
        );
    }
    for i in 0..40 {
        add(
            format!("m{i}"),
            text("CameraRollDomain"),
            text(&format!("Media/DCIM/100APPLE/IMG_{i:04}.JPG")),
        );
    }
    // Near misses and odd rows.
    add(
        "n1".into(),
        text("CameraRollDomain"),
        text("Media/DCIM/100APPLEX/IMG.JPG"),
    );
    add(
        "n2".into(),
        text("CameraRollDomain"),
        text("Media/DCIM/100APPL"),
    );
    add("o1".into(), text("CameraRollDomain"), V::Null);
    add("o2".into(), text("CameraRollDomain"), V::Integer(7));
    add(
        "o3".into(),
        V::Blob(b"CameraRollDomain".to_vec()),
        V::Blob(b"Media/DCIM/100APPLE/b.JPG".to_vec()),
    );
    add(
        "o4".into(),
        V::Null,
        text("Media/DCIM/100APPLE/nodomain.JPG"),
    );
    tx.commit().unwrap();
    drop(c);
    let db = ManifestDb::open_file(&p).unwrap();
    let whole = collect(&db);
    let ids = |reading: &Reading| {
        let mut v = Vec::new();
        db.for_each_in(reading, 1, |r| v.push(r.file_id)).unwrap();
        v
    };

    let prefix = "Media/DCIM/100APPLE/";
    let reading = db.reading(Subset::PathPrefixes(vec![
        prefix.into(),
        "Media/DCIM/100APPLE/IMG".into(),
    ]));
    assert!(matches!(reading, Reading::Subset(_)), "{reading:?}");
    let got = ids(&reading);
    assert_eq!(got, ids(&reading), "two readings, one order");
    let mut sorted = got.clone();
    sorted.sort();
    sorted.dedup();
    assert_eq!(sorted.len(), got.len(), "a row given twice");
    let want: Vec<&str> = whole
        .iter()
        .filter(|r| r.relative_path.starts_with(prefix))
        .map(|r| r.file_id.as_str())
        .collect();
    assert_eq!(want.len(), 42, "{want:?}");
    for id in &want {
        assert!(got.iter().any(|g| g == id), "{id} missing");
    }
    // Besides those: only the rows whose relativePath is not text (the blob "o3" is among
    // those wanted; the number 7 of "o2" was stored as the text "7" under TEXT affinity).
    let extra: Vec<&str> = got
        .iter()
        .map(String::as_str)
        .filter(|g| !want.contains(g))
        .collect();
    assert_eq!(extra, ["o1"]);

    let reading = db.reading(Subset::Domains(vec!["CameraRollDomain".into()]));
    assert!(matches!(reading, Reading::Subset(_)), "{reading:?}");
    let mut got = ids(&reading);
    got.sort();
    let mut want: Vec<String> = whole
        .iter()
        .filter(|r| r.domain == "CameraRollDomain" || r.file_id == "o4")
        .map(|r| r.file_id.clone())
        .collect();
    want.sort();
    assert_eq!(got, want);

    // Most of the table, an empty prefix, no prefix at all: every row.
    for s in [
        Subset::PathPrefixes(vec!["Library/".into()]),
        Subset::PathPrefixes(vec![prefix.into(), String::new()]),
        Subset::PathPrefixes(vec![]),
        Subset::Domains(vec!["HomeDomain".into()]),
        Subset::Domains(vec!["\u{FFFD}".into()]),
    ] {
        assert_eq!(db.reading(s), Reading::All);
    }
    assert_eq!(ids(&Reading::All).len(), whole.len());

    // An index of another collation (the column's) is not one of byte order: read whole.
    let q = t.path().join("nocase.db");
    let c = Connection::open(&q).unwrap();
    c.execute_batch(
        "CREATE TABLE Files (fileID TEXT PRIMARY KEY, domain TEXT COLLATE NOCASE,
                             relativePath TEXT COLLATE NOCASE, flags INTEGER, file BLOB);
         CREATE INDEX FilesDomainIdx ON Files(domain);
         CREATE INDEX FilesRelativePathIdx ON Files(relativePath);",
    )
    .unwrap();
    c.execute(
        "INSERT INTO Files VALUES ('z', 'D', 'Media/Z/x', 1, ?1)",
        rusqlite::params![blob],
    )
    .unwrap();
    drop(c);
    let nocase = ManifestDb::open_file(&q).unwrap();
    assert_eq!(
        nocase.reading(Subset::PathPrefixes(vec!["Media/Z".into()])),
        Reading::All
    );
    assert_eq!(
        nocase.reading(Subset::Domains(vec!["D".into()])),
        Reading::All
    );
    // A UTF-16 database: its byte order is not code point order.
    let u = t.path().join("utf16.db");
    let c = Connection::open(&u).unwrap();
    c.execute_batch(
        "PRAGMA encoding = 'UTF-16le';
         CREATE TABLE Files (fileID TEXT PRIMARY KEY, domain TEXT, relativePath TEXT, flags INTEGER, file BLOB);
         CREATE INDEX FilesRelativePathIdx ON Files(relativePath);",
    )
    .unwrap();
    c.execute(
        "INSERT INTO Files VALUES ('u', 'D', 'Media/\u{FF}/x', 1, ?1)",
        rusqlite::params![blob],
    )
    .unwrap();
    drop(c);
    let utf16 = ManifestDb::open_file(&u).unwrap();
    assert_eq!(
        utf16.reading(Subset::PathPrefixes(vec!["Media/\u{FF}".into()])),
        Reading::All
    );

    // Without the index the subset would be a scan per part: read whole.
    let c = Connection::open(&p).unwrap();
    c.execute_batch("DROP INDEX FilesRelativePathIdx").unwrap();
    drop(c);
    let db = ManifestDb::open_file(&p).unwrap();
    assert_eq!(
        db.reading(Subset::PathPrefixes(vec![prefix.into()])),
        Reading::All
    );
}
