//! Tests of the Manifest.mbdb parser: synthetic records, truncation, and two real files.

use super::*;
use crate::index::record::FileKind;
use std::collections::BTreeMap;

use crate::test_support::shared;

/// Append an mbdb string: big-endian u16 length then bytes, 0xFFFF for none.
fn push_mbdb_string(out: &mut Vec<u8>, v: Option<&[u8]>) {
    match v {
        None => out.extend_from_slice(&0xFFFFu16.to_be_bytes()),
        Some(b) => {
            out.extend_from_slice(&(b.len() as u16).to_be_bytes());
            out.extend_from_slice(b);
        }
    }
}

/// One mbdb record with fixed inode, ids and times.
#[allow(clippy::too_many_arguments)]
fn rec_bytes(
    domain: Option<&[u8]>,
    path: Option<&[u8]>,
    target: Option<&[u8]>,
    key: Option<&[u8]>,
    mode: u16,
    size: u64,
    class: u8,
    props: &[(&[u8], &[u8])],
) -> Vec<u8> {
    let mut o = Vec::new();
    push_mbdb_string(&mut o, domain);
    push_mbdb_string(&mut o, path);
    push_mbdb_string(&mut o, target);
    push_mbdb_string(&mut o, None); // digest
    push_mbdb_string(&mut o, key);
    o.extend_from_slice(&mode.to_be_bytes());
    o.extend_from_slice(&77u64.to_be_bytes()); // inode
    o.extend_from_slice(&501u32.to_be_bytes());
    o.extend_from_slice(&0xFFFF_FFFEu32.to_be_bytes());
    o.extend_from_slice(&1_600_000_000u32.to_be_bytes());
    o.extend_from_slice(&1_600_000_001u32.to_be_bytes());
    o.extend_from_slice(&1_500_000_000u32.to_be_bytes());
    o.extend_from_slice(&size.to_be_bytes());
    o.push(class);
    o.push(props.len() as u8);
    for (k, v) in props {
        push_mbdb_string(&mut o, Some(k));
        push_mbdb_string(&mut o, Some(v));
    }
    o
}

/// Three records (a directory, a file with a key and two xattrs, a symlink) after the magic;
/// the file and the offset of the second record.
fn synthetic_mbdb() -> (Vec<u8>, usize) {
    let key = [[4u8, 0, 0, 0].as_slice(), &[9u8; 40]].concat();
    let mut file = MBDB_MAGIC.to_vec();
    file.extend(rec_bytes(
        Some(b"HomeDomain"),
        Some(b""),
        None,
        None,
        0o40755,
        0,
        0,
        &[],
    ));
    let second = file.len();
    file.extend(rec_bytes(
        Some(b"HomeDomain"),
        Some(b"Library/SMS/sms.db"),
        None,
        Some(&key),
        0o100644,
        53248,
        4,
        &[(b"com.apple.x", b"1"), (b"y", b"")],
    ));
    file.extend(rec_bytes(
        Some(b"HomeDomain"),
        Some(b"l"),
        Some(b"../t"),
        None,
        0o120755,
        0,
        0,
        &[],
    ));
    (file, second)
}

#[test]
fn synthetic_records_and_truncation() {
    let (file, second) = synthetic_mbdb();
    let recs = parse("m", &file).unwrap();
    check_synthetic_records(&recs);
    check_truncations(&file, second);
}

/// The three records of [`synthetic_mbdb`] decode with every field.
fn check_synthetic_records(recs: &[FileRecord]) {
    assert_eq!(recs.len(), 3);
    assert_eq!(recs[0].file_id, "70765829101933f25994c71bbee6dfd685535bff");
    assert_eq!(recs[0].kind, FileKind::Directory);
    let r = &recs[1];
    assert_eq!(r.file_id, "3d0d7e5fb2ce288813306e4d4636395e047a3d28");
    assert_eq!(
        (r.kind, r.size, r.protection_class, r.mode),
        (FileKind::File, Some(53248), Some(4), Some(0o100644))
    );
    assert_eq!(r.encryption_key_class(), Some(4));
    assert_eq!(
        (r.inode, r.user_id, r.group_id),
        (Some(77), Some(501), Some(0xFFFF_FFFE))
    );
    assert_eq!(
        (r.last_modified, r.last_status_change, r.birth),
        (
            Some(1_600_000_000),
            Some(1_600_000_001),
            Some(1_500_000_000)
        )
    );
    assert_eq!(r.extended_attributes, Some(2));
    assert_eq!(r.flags, None);
    assert!(r.problems.is_empty());
    assert_eq!(
        (recs[2].kind, recs[2].target.as_deref()),
        (FileKind::Symlink, Some("../t"))
    );
}

/// Every truncation names the offset of the damaged record; earlier records are delivered.
fn check_truncations(file: &[u8], second: usize) {
    let third = file.len() - recs_len_last();
    for cut in second + 1..file.len() {
        if cut == third {
            assert_eq!(parse("m", &file[..cut]).unwrap().len(), 2);
            continue;
        }
        let (expect_offset, delivered) = if cut < third { (second, 1) } else { (third, 2) };
        let mut got = Vec::new();
        let e = for_each("Manifest.mbdb", &file[..cut], |r| got.push(r)).unwrap_err();
        assert!(
            matches!(e, IndexError::Mbdb { offset, .. } if offset == expect_offset as u64),
            "cut {cut}: {e}"
        );
        assert_eq!(got.len(), delivered, "cut {cut}");
        assert!(
            e.to_string().starts_with("Manifest.mbdb: at byte offset "),
            "{e}"
        );
        assert!(parse("m", &file[..cut]).is_err());
    }
}

#[test]
fn synthetic_random_mutations_never_panic() {
    let (file, _) = synthetic_mbdb();
    // Random mutations: an error or records, never a panic.
    let mut seed = 0x2545_F491_4F6C_DD1Du64;
    for _ in 0..2000 {
        let mut b = file.clone();
        for _ in 0..3 {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            let i = 6 + (seed % (b.len() as u64 - 6)) as usize;
            b[i] = (seed >> 32) as u8;
        }
        let _ = parse("m", &b);
    }
}

#[test]
fn synthetic_header_errors_and_odd_records() {
    // Header errors.
    let e = parse("x", b"mbdb\x04\x00").unwrap_err();
    assert!(matches!(e, IndexError::Mbdb { offset: 0, .. }), "{e}");
    assert!(parse("x", b"").is_err());
    assert_eq!(parse("x", MBDB_MAGIC).unwrap().len(), 0);
    // Null domain/path and non-UTF-8 are problems, not failures.
    let mut odd = MBDB_MAGIC.to_vec();
    odd.extend(rec_bytes(
        None,
        Some(b"\xff\xfe"),
        None,
        None,
        0o10644,
        0,
        0,
        &[],
    ));
    let r = &parse("x", &odd).unwrap()[0];
    assert_eq!(
        r.file_id,
        crate::backup::FileId::compute_bytes(b"", b"\xff\xfe").to_string()
    );
    assert_eq!(r.kind, FileKind::Other);
    assert_eq!(r.problems.len(), 3, "{:?}", r.problems);
}

/// Length of the last record of the file built by [`synthetic_mbdb`].
fn recs_len_last() -> usize {
    rec_bytes(
        Some(b"HomeDomain"),
        Some(b"l"),
        Some(b"../t"),
        None,
        0o120755,
        0,
        0,
        &[],
    )
    .len()
}

/// hv20: real iOS 9.3.6 Manifest.mbdb. Figures cross-checked with an independent
/// 30-line python3 parser (struct.unpack '>HQIIIIIQBB') and os.listdir.
#[test]
fn hv20_real_mbdb() {
    let Some(dir) = shared("external/hv20/Backup") else {
        return;
    };
    let bytes = std::fs::read(dir.join("Manifest.mbdb")).unwrap();
    let recs = parse("Manifest.mbdb", &bytes).unwrap();
    assert_eq!(recs.len(), 757);
    assert!(recs.iter().all(|r| r.problems.is_empty()));
    let mut kinds = BTreeMap::new();
    let mut classes = BTreeMap::new();
    for r in &recs {
        *kinds.entry(r.kind).or_insert(0) += 1;
        *classes.entry(r.protection_class.unwrap()).or_insert(0) += 1;
    }
    assert_eq!(
        kinds,
        BTreeMap::from([
            (FileKind::File, 321),
            (FileKind::Directory, 429),
            (FileKind::Symlink, 7)
        ])
    );
    assert_eq!(
        classes,
        BTreeMap::from([(0, 353), (1, 12), (3, 69), (4, 323)])
    );
    let files: Vec<_> = recs.iter().filter(|r| r.kind == FileKind::File).collect();
    assert!(files
        .iter()
        .all(|r| matches!(r.encryption_key, Some(Ok(_)))));
    assert!(files
        .iter()
        .all(|r| r.encryption_key_class() == r.protection_class));
    assert_eq!(
        recs.iter().filter(|r| r.encryption_key.is_some()).count(),
        321
    );
    assert_eq!(
        recs.iter()
            .filter(|r| r.digest.as_ref().map(Vec::len) == Some(20))
            .count(),
        264
    );
    assert_eq!(recs.iter().filter(|r| r.target.is_some()).count(), 7);
    assert_eq!(
        files.iter().map(|r| r.size.unwrap()).sum::<u64>(),
        15_722_889
    );
    assert_eq!(files.iter().filter(|r| r.size == Some(0)).count(), 7);
    let xattrs: Vec<usize> = recs.iter().filter_map(|r| r.extended_attributes).collect();
    assert_eq!(xattrs, [1, 11, 12]);
    let domains: std::collections::BTreeSet<&str> =
        recs.iter().map(|r| r.domain.as_str()).collect();
    assert_eq!(domains.len(), 97);
    let first = &recs[0];
    assert_eq!(
        (first.domain.as_str(), first.relative_path.as_str()),
        ("AppDomain-com.apple.Maps", "")
    );
    assert_eq!(
        (first.mode, first.inode, first.last_modified),
        (Some(0o40755), Some(2957), Some(1602875286))
    );
    let last = recs.last().unwrap();
    assert_eq!(
        (last.domain.as_str(), last.relative_path.as_str()),
        ("HealthDomain", "Health/healthdb.sqlite")
    );
    let kc = recs
        .iter()
        .find(|r| r.file_id == "51a4616e576dd33cd2abadfea874eb8ff246bf0e")
        .unwrap();
    assert_eq!(
        (kc.domain.as_str(), kc.size, kc.protection_class),
        ("KeychainDomain", Some(19627), Some(1))
    );
    let link = recs
        .iter()
        .find(|r| r.kind == FileKind::Symlink && r.domain == "HomeDomain")
        .unwrap();
    assert_eq!(
        link.relative_path,
        "Library/Preferences/com.apple.carrier.default.plist"
    );

    // Every file record but one has its payload on disk (flat); the missing one is the
    // 6.6 MB video the copy leaves out. No payload on disk is unreferenced.
    let ids: std::collections::BTreeSet<String> = files.iter().map(|r| r.file_id.clone()).collect();
    let missing: Vec<_> = files
        .iter()
        .filter(|r| !dir.join(&r.file_id).is_file())
        .collect();
    assert_eq!(missing.len(), 1);
    assert_eq!(missing[0].relative_path, "Media/DCIM/100APPLE/IMG_0001.mp4");
    assert_eq!(missing[0].size, Some(6_621_187));
    let on_disk: Vec<String> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .filter(|n| crate::backup::FileId::parse(n).is_some())
        .collect();
    assert_eq!(on_disk.len(), 320);
    assert!(on_disk.iter().all(|n| ids.contains(n)));

    // Truncated inside the last record: 756 delivered, then an error naming offset 101315.
    let mut n = 0;
    let e = for_each("Manifest.mbdb", &bytes[..101_315 + 30], |_| n += 1).unwrap_err();
    assert_eq!(n, 756);
    assert!(
        matches!(
            e,
            IndexError::Mbdb {
                offset: 101_315,
                ..
            }
        ),
        "{e}"
    );
}

#[test]
fn pyiosbackup_ios9_mbdb() {
    let Some(p) = shared("external/pyiosbackup/backup_ios9_mbdb/Manifest.mbdb") else {
        return;
    };
    let recs = parse("Manifest.mbdb", &std::fs::read(p).unwrap()).unwrap();
    assert_eq!(recs.len(), 1);
    let r = &recs[0];
    assert_eq!(r.file_id, "5727bd1c5fa1055e15d8b4a75a74793c84b5ffdc");
    assert_eq!(
        (r.domain.as_str(), r.relative_path.as_str()),
        ("MyTestDomain", "Media/Test.txt")
    );
    assert_eq!(
        (r.kind, r.mode, r.size, r.protection_class),
        (FileKind::File, Some(0o100755), Some(9), Some(4))
    );
    assert_eq!(
        (r.inode, r.last_modified, r.last_status_change, r.birth),
        (
            Some(4824),
            Some(1628082463),
            Some(1628082509),
            Some(1627974948)
        )
    );
    assert_eq!(
        r.encryption_key
            .as_ref()
            .map(|k| hex::encode(k.as_ref().unwrap().to_bytes()))
            .as_deref(),
        Some("0400000097317494343807e690fd1e431413963dc0e3deb4907fb89fa36ce65126d0ea1301381fb3a2941e2f")
    );
}
