//! The resource limits of docs/limits.md, one test each: declared lengths, counts, nesting
//! and expansion beyond what a real backup holds are refused early, quickly and with an error
//! that says what was refused (no huge allocation, no stack overflow, no quadratic time).

mod common;
use auditor::backup::plists::{parse_bounded, InfoPlist, PlistLimits};
use auditor::crypto::Keybag;
use auditor::index::{mbdb, mbfile, FileRecord, ManifestDb};
use auditor::keychain::{self, der};
use common::{deep_xml_plist, expanding_bplist};
use std::time::{Duration, Instant};

fn quick<T>(what: &str, f: impl FnOnce() -> T) -> T {
    let t = Instant::now();
    let r = f();
    assert!(
        t.elapsed() < Duration::from_secs(3),
        "{what} took {:?}",
        t.elapsed()
    );
    r
}

#[test]
fn keybag_lengths_and_size() {
    // A 4-byte length of 4 GB with 4 bytes behind it.
    let mut kb = b"VERS".to_vec();
    kb.extend_from_slice(&0xFFFF_FFF0u32.to_be_bytes());
    kb.extend_from_slice(&[0, 0, 0, 4]);
    let e = quick("keybag", || Keybag::parse(&kb))
        .unwrap_err()
        .to_string();
    assert!(e.contains("VERS"), "{e}");
    let big = vec![0u8; auditor::crypto::keybag::MAX_KEYBAG_LEN + 1];
    let e = Keybag::parse(&big).unwrap_err().to_string();
    assert!(e.contains("65536") || e.contains("64"), "{e}");
    // More class records than any keybag has.
    let mut many = Vec::new();
    let tlv = |out: &mut Vec<u8>, tag: &[u8], v: &[u8]| {
        out.extend_from_slice(tag);
        out.extend_from_slice(&(v.len() as u32).to_be_bytes());
        out.extend_from_slice(v);
    };
    tlv(&mut many, b"UUID", &[0; 16]);
    for c in 0..100u32 {
        tlv(&mut many, b"UUID", &[1; 16]);
        tlv(&mut many, b"CLAS", &c.to_be_bytes());
        tlv(&mut many, b"WRAP", &2u32.to_be_bytes());
        tlv(&mut many, b"WPKY", &[0; 40]);
    }
    let e = Keybag::parse(&many).unwrap_err().to_string();
    assert!(e.contains("class"), "{e}");
}

#[test]
fn plist_expansion_depth_and_object_count() {
    let laughs = expanding_bplist(12);
    let e = quick("billion laughs", || {
        parse_bounded(&laughs, &PlistLimits::top_level(laughs.len()))
    })
    .unwrap_err();
    assert!(e.contains("expands"), "{e}");
    let e = quick("typed model", || InfoPlist::parse(&laughs)).unwrap_err();
    assert!(e.contains("expands"), "{e}");

    let deep = deep_xml_plist(100_000);
    let e = quick("deep XML", || {
        parse_bounded(&deep, &PlistLimits::top_level(deep.len()))
    })
    .unwrap_err();
    assert!(e.contains("deeper than 64"), "{e}");

    // A trailer declaring 2^40 objects in a 50-byte file.
    let mut b = b"bplist00\x08".to_vec();
    let mut trailer = [0u8; 32];
    trailer[6] = 1;
    trailer[7] = 1;
    trailer[8..16].copy_from_slice(&(1u64 << 40).to_be_bytes());
    trailer[24..32].copy_from_slice(&8u64.to_be_bytes());
    b.extend_from_slice(&trailer);
    let e = parse_bounded(&b, &PlistLimits::top_level(b.len())).unwrap_err();
    assert!(e.contains("objects"), "{e}");
}

#[test]
fn keychain_export_shape() {
    let deep = deep_xml_plist(10_000);
    let e = quick("deep export", || keychain::read_items(&deep, None, true))
        .unwrap_err()
        .to_string();
    assert!(e.contains("refused") && e.contains("deeper than 32"), "{e}");
    let laughs = expanding_bplist(12);
    let e = quick("expanding export", || {
        keychain::read_items(&laughs, None, true)
    })
    .unwrap_err()
    .to_string();
    assert!(e.contains("refused") && e.contains("expands"), "{e}");
}

#[test]
fn der_depth_length_and_size() {
    // 100 000 nested SEQUENCEs (indefinite nesting would overflow the stack).
    let n = 100_000;
    let mut b = Vec::new();
    for i in 0..n {
        let inner = (n - i - 1) * 6;
        b.push(0x30);
        b.push(0x84);
        b.extend_from_slice(&(inner as u32).to_be_bytes());
    }
    let e = quick("deep DER", || der::decode(&b)).unwrap_err();
    assert!(matches!(e, der::DerError::TooDeep { .. }), "{e}");
    // An 8-byte length of 2^63 in a 10-byte input.
    let e = der::decode(b"\x04\x88\x80\x00\x00\x00\x00\x00\x00\x00").unwrap_err();
    assert!(matches!(e, der::DerError::LengthBeyondBuffer { .. }), "{e}");
    let e = der::decode(b"\x04\x89\x01\x00\x00\x00\x00\x00\x00\x00\x00").unwrap_err();
    assert!(matches!(e, der::DerError::LengthTooLong { .. }), "{e}");

    // A dictionary of 200 000 distinct keys decodes in linear time; a repeated key is refused.
    let mut entries = Vec::new();
    for i in 0..200_000u32 {
        let k = format!("k{i}");
        let mut e = vec![0x0C, k.len() as u8];
        e.extend_from_slice(k.as_bytes());
        e.extend_from_slice(&[0x05, 0x00]);
        entries.push(0x30);
        entries.push(e.len() as u8);
        entries.extend_from_slice(&e);
    }
    let mut dict = vec![0x31, 0x84];
    dict.extend_from_slice(&(entries.len() as u32).to_be_bytes());
    dict.extend_from_slice(&entries);
    let d = quick("200 000-key dictionary", || der::decode_dict(&dict)).unwrap();
    assert_eq!(d.len(), 200_000);
    let dup = b"\x31\x0e\x30\x05\x0c\x01a\x05\x00\x30\x05\x0c\x01a\x05\x00";
    let mut dup = dup.to_vec();
    dup[1] = (dup.len() - 2) as u8;
    assert!(matches!(
        der::decode_dict(&dup[..]),
        Err(der::DerError::DuplicateKey { .. })
    ));
}

#[test]
fn mbfile_size_and_uid_chains() {
    let mut rec = FileRecord::new("x".into(), "HomeDomain".into(), "p".into());
    let big = vec![0u8; mbfile::MAX_MBFILE_BYTES + 1];
    assert!(!mbfile::decode_into(&big, &mut rec));
    assert!(
        rec.problems.iter().any(|p| p.contains("limit")),
        "{:?}",
        rec.problems
    );
}

#[test]
fn mbdb_declared_lengths() {
    // A record whose first string claims 65 534 bytes in a 20-byte file.
    let mut b = mbdb::MBDB_MAGIC.to_vec();
    b.extend_from_slice(&0xFFFEu16.to_be_bytes());
    b.extend_from_slice(b"HomeDomain");
    let e = mbdb::parse("Manifest.mbdb", &b).unwrap_err().to_string();
    assert!(e.contains("Manifest.mbdb") && e.contains("offset 6"), "{e}");
}

#[test]
fn manifest_db_must_be_a_plain_table() {
    let dir = tempfile::tempdir().unwrap();
    for (name, sql, want) in [
        (
            "view",
            "CREATE VIEW Files AS WITH RECURSIVE c(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM c) \
             SELECT n AS fileID, 'd' AS domain, 'p' AS relativePath, 1 AS flags, NULL AS file FROM c;",
            "is a view",
        ),
        (
            "generated",
            "CREATE TABLE Files(fileID, domain, relativePath, flags, \
             file BLOB GENERATED ALWAYS AS (zeroblob(900000000)) VIRTUAL);",
            "generated",
        ),
    ] {
        let p = dir.path().join(format!("{name}.db"));
        rusqlite::Connection::open(&p)
            .unwrap()
            .execute_batch(sql)
            .unwrap();
        let e = quick(name, || ManifestDb::open_file(&p)).unwrap_err().to_string();
        assert!(e.contains(want), "{e}");
        let bytes = std::fs::read(&p).unwrap();
        let e = ManifestDb::open_bytes(&bytes).unwrap_err().to_string();
        assert!(e.contains(want), "{e}");
    }
}
