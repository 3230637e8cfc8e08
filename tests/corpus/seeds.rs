//! Builds the committed fuzz seeds (tests/corpus/<target>/) from ../shared/conformance (small
//! synthetic backups) and hand-built inputs; used by `regenerate_corpus` only.

use super::targets;
use auditor::keychain::{blob, der};
use std::path::{Path, PathBuf};

type Seed = (&'static str, String, Vec<u8>);

const CASES: [&str; 3] = ["small-encrypted", "small-unencrypted", "realistic-kdf"];

fn backup_dir(conf: &Path, case: &str) -> PathBuf {
    let dir = conf.join(case);
    let expected: serde_json::Value =
        serde_json::from_slice(&std::fs::read(dir.join("EXPECTED.json")).expect("EXPECTED.json"))
            .expect("EXPECTED.json");
    dir.join(expected["backup_dir"].as_str().expect("backup_dir"))
}

fn to_xml(bytes: &[u8]) -> Vec<u8> {
    let v = plist::Value::from_reader(std::io::Cursor::new(bytes)).expect("plist");
    let mut out = Vec::new();
    v.to_writer_xml(&mut out).expect("xml");
    out
}

fn to_binary(v: &plist::Value) -> Vec<u8> {
    let mut out = Vec::new();
    v.to_writer_binary(&mut out).expect("binary");
    out
}

/// Every seed: (target, file name, bytes).
pub fn build(conf: &Path) -> Vec<Seed> {
    let mut out: Vec<Seed> = Vec::new();
    for case in CASES {
        let root = backup_dir(conf, case);
        let manifest = std::fs::read(root.join("Manifest.plist")).expect("Manifest.plist");
        let v = plist::Value::from_reader(std::io::Cursor::new(&manifest)).expect("plist");
        let kb = v
            .as_dictionary()
            .and_then(|d| d.get("BackupKeyBag"))
            .and_then(plist::Value::as_data)
            .expect("BackupKeyBag")
            .to_vec();
        out.push(("keybag", format!("{case}.bin"), kb));
        out.push(("manifest_plist", format!("{case}.plist"), manifest.clone()));
        for f in ["Info.plist", "Status.plist"] {
            let target = if f == "Info.plist" {
                "info_plist"
            } else {
                "status_plist"
            };
            let bytes = std::fs::read(root.join(f)).expect("plist");
            out.push((target, format!("{case}.plist"), bytes.clone()));
            if case == "small-encrypted" {
                out.push((target, format!("{case}-xml.plist"), to_xml(&bytes)));
            }
        }
        if case == "small-encrypted" {
            out.push((
                "manifest_plist",
                format!("{case}-xml.plist"),
                to_xml(&manifest),
            ));
        }
    }

    // Index: a few MBFile archives of each kind, and a compact Manifest.db.
    let plain = backup_dir(conf, "small-unencrypted");
    let db = plain.join("Manifest.db");
    out.extend(mbfile_seeds(&db));
    out.push(("manifest_db", "compact.db".into(), compact_db(&db)));

    // Keychain: the export, its blobs, their decrypted payloads.
    let kc = plain.join("51/51a4616e576dd33cd2abadfea874eb8ff246bf0e");
    let export = std::fs::read(&kc).expect("keychain-backup.plist");
    out.push((
        "keychain_items",
        "small-unencrypted.plist".into(),
        export.clone(),
    ));
    out.push((
        "keychain_items",
        "small-unencrypted-xml.plist".into(),
        to_xml(&export),
    ));
    out.extend(keychain_seeds(&export));

    out.extend(der_seeds());
    out.extend(mbdb_seeds());
    out.extend(extract_path_seeds());
    out
}

/// `domain\nrelativePath\nlinkTarget` for the export path checks.
fn extract_path_seeds() -> Vec<Seed> {
    [
        (
            "plain.txt",
            &b"HomeDomain\nLibrary/SMS/sms.db\n../Preferences/x.plist"[..],
        ),
        (
            "link.txt",
            b"AppDomain-com.example\nDocuments/current\nstatements/2024-05.pdf",
        ),
        (
            "traversal.txt",
            b"HomeDomain\n../../etc/passwd\n/etc/passwd",
        ),
        ("odd.txt", b"HomeDomain\na/./b//c\\\\d:e\n.."),
        ("dotdot-domain.txt", b"..\n\n"),
        ("ctl.txt", b"HomeDomain\nA/\x01ctl/\xffbad\na/../../../../b"),
    ]
    .into_iter()
    .map(|(n, b)| ("extract_path", n.to_owned(), b.to_vec()))
    .collect()
}

fn mbfile_seeds(db: &Path) -> Vec<Seed> {
    let uri = format!("file:{}?mode=ro&immutable=1", db.display());
    let conn = rusqlite::Connection::open_with_flags(
        uri,
        rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY | rusqlite::OpenFlags::SQLITE_OPEN_URI,
    )
    .expect("open");
    let mut st = conn
        .prepare("SELECT flags, file FROM Files ORDER BY fileID")
        .expect("prepare");
    let rows: Vec<(i64, Vec<u8>)> = st
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
        .expect("query")
        .map(|r| r.expect("row"))
        .collect();
    let mut out = Vec::new();
    for flags in [1, 2, 4] {
        for (i, (_, blob)) in rows.iter().filter(|(f, _)| *f == flags).take(2).enumerate() {
            out.push(("mbfile", format!("flags{flags}-{i}.bplist"), blob.clone()));
        }
    }
    out
}

/// A small Manifest.db with the real schema and six rows (page size 512, vacuumed).
fn compact_db(db: &Path) -> Vec<u8> {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("compact.db");
    let conn = rusqlite::Connection::open(&path).expect("create");
    conn.execute_batch("PRAGMA page_size=512;")
        .expect("page size");
    conn.execute(
        "ATTACH DATABASE ?1 AS src",
        [format!("file:{}?mode=ro&immutable=1", db.display())],
    )
    .expect("attach");
    let schema: Vec<String> = {
        let mut st = conn
            .prepare("SELECT sql FROM src.sqlite_master WHERE sql IS NOT NULL ORDER BY type DESC")
            .expect("schema");
        st.query_map([], |r| r.get(0))
            .expect("query")
            .map(|r| r.expect("row"))
            .collect()
    };
    for sql in schema {
        conn.execute_batch(&sql).expect("create table");
    }
    conn.execute_batch(
        "INSERT INTO main.Files SELECT * FROM src.Files WHERE flags = 1 LIMIT 3;
         INSERT INTO main.Files SELECT * FROM src.Files WHERE flags = 2 LIMIT 2;
         INSERT INTO main.Files SELECT * FROM src.Files WHERE flags = 4 LIMIT 1;
         INSERT INTO main.Properties SELECT * FROM src.Properties;
         DETACH DATABASE src;
         VACUUM;",
    )
    .expect("copy rows");
    drop(conn);
    std::fs::read(&path).expect("read compact")
}

fn keychain_seeds(export: &[u8]) -> Vec<Seed> {
    let keys = targets::class_keys();
    let v = plist::Value::from_reader(std::io::Cursor::new(export)).expect("plist");
    let mut out = Vec::new();
    let mut n = 0;
    for table in ["genp", "inet"] {
        let items = v
            .as_dictionary()
            .and_then(|d| d.get(table))
            .and_then(plist::Value::as_array)
            .expect("table");
        for item in items.iter().take(3) {
            let b = item
                .as_dictionary()
                .and_then(|d| d.get("v_Data"))
                .and_then(plist::Value::as_data)
                .expect("v_Data");
            out.push((
                "keychain_blob",
                format!("raw-{table}-{n}.bin"),
                [&[0u8][..], b].concat(),
            ));
            let p = blob::parse(b);
            let body = p.body.expect("blob layout");
            let class = p.header.class.expect("class");
            if let Ok(blob::Payload::Attributes(d)) =
                blob::decrypt(&p.header, &body, keys.get(class).expect("key"))
            {
                let plain = der::encode_dict(&d);
                out.push(("der", format!("item-{table}-{n}.der"), plain.clone()));
                out.push((
                    "keychain_blob",
                    format!("v3-{table}-{n}.bin"),
                    [&[1u8][..], &plain].concat(),
                ));
                if n == 0 {
                    out.push((
                        "keychain_blob",
                        format!("v3iv-{table}-{n}.bin"),
                        [&[2u8][..], &plain].concat(),
                    ));
                    // The same attributes as a v2 (plist) payload.
                    let mut dict = plist::Dictionary::new();
                    for (k, v) in d.entries() {
                        let pv = match v {
                            der::DerValue::String(s) => plist::Value::String(s.clone()),
                            der::DerValue::Data(b) => plist::Value::Data(b.clone()),
                            der::DerValue::Integer(der::DerInt::Int(i)) => {
                                plist::Value::Integer((*i).into())
                            }
                            _ => continue,
                        };
                        dict.insert(k.clone(), pv);
                    }
                    let bp = to_binary(&plist::Value::Dictionary(dict));
                    out.push((
                        "keychain_blob",
                        "v2-plist.bin".into(),
                        [&[3u8][..], &bp].concat(),
                    ));
                    out.push((
                        "keychain_blob",
                        "v0-cbc.bin".into(),
                        b"\x04secret-v0".to_vec(),
                    ));
                    out.push((
                        "keychain_blob",
                        "v1-cbc.bin".into(),
                        b"\x05secret-v1".to_vec(),
                    ));
                }
            }
            n += 1;
        }
    }
    // v4 access-control blob: prot DER, a key blob, ciphertext and tag.
    let mut acl = der::DerDict::new();
    acl.insert("prot", der::DerValue::String("ak".into()));
    let acl = der::encode_dict(&acl);
    let mut b = vec![6u8, 0]; // mode 6, version 4 + 0
    b.extend_from_slice(&(acl.len() as u32).to_le_bytes());
    b.extend_from_slice(&acl);
    b.extend_from_slice(&8u32.to_le_bytes());
    b.extend_from_slice(&[0xAB; 8]);
    b.extend_from_slice(&[0xCD; 32]);
    out.push(("keychain_blob", "v4-acl.bin".into(), b));
    out
}

fn der_seeds() -> Vec<Seed> {
    use der::{DerDate, DerInt, DerValue, TimeKind};
    let mut d = der::DerDict::new();
    d.insert("str", DerValue::String("text".into()));
    d.insert("data", DerValue::Data(vec![0, 1, 2, 0xFF]));
    d.insert("int", DerValue::Integer(DerInt::Int(-129)));
    d.insert("big", DerValue::Integer(DerInt::Big(vec![0x7F; 12])));
    d.insert("bool", DerValue::Bool(true));
    d.insert("null", DerValue::Null);
    d.insert(
        "date",
        DerValue::Date(DerDate::new(TimeKind::Generalized, "20240601120000.5Z")),
    );
    d.insert(
        "utc",
        DerValue::Date(DerDate::new(TimeKind::Utc, "240601120000Z")),
    );
    d.insert(
        "array",
        DerValue::Array(vec![
            DerValue::String("a".into()),
            DerValue::Array(vec![DerValue::Integer(DerInt::Int(1))]),
        ]),
    );
    d.insert(
        "unknown",
        DerValue::Unknown {
            tag: 0xC0,
            bytes: vec![1, 2, 3],
        },
    );
    let mut inner = der::DerDict::new();
    inner.insert("k", DerValue::String("v".into()));
    d.insert("dict", DerValue::Dict(inner));
    let mut out = vec![("der", "all-kinds.der".into(), der::encode_dict(&d))];
    // Long-form length and a high tag number, written by hand.
    out.push((
        "der",
        "long-form.der".into(),
        b"\x31\x81\x0b\x30\x09\x0c\x01k\x04\x81\x03abc".to_vec(),
    ));
    out.push(("der", "high-tag.der".into(), b"\x5f\x81\x01\x02ab".to_vec()));
    out
}

/// Manifest.mbdb: header plus records written from the layout in FORMAT §6.5.
fn mbdb_seeds() -> Vec<Seed> {
    fn s(out: &mut Vec<u8>, v: Option<&[u8]>) {
        match v {
            None => out.extend_from_slice(&0xFFFFu16.to_be_bytes()),
            Some(b) => {
                out.extend_from_slice(&(b.len() as u16).to_be_bytes());
                out.extend_from_slice(b);
            }
        }
    }
    #[allow(clippy::too_many_arguments)]
    fn record(
        out: &mut Vec<u8>,
        domain: &str,
        path: &str,
        target: Option<&str>,
        key: Option<&[u8]>,
        mode: u16,
        size: u64,
        class: u8,
        props: &[(&str, &[u8])],
    ) {
        s(out, Some(domain.as_bytes()));
        s(out, Some(path.as_bytes()));
        s(out, target.map(str::as_bytes));
        s(out, Some(&[0x11; 20]));
        s(out, key);
        out.extend_from_slice(&mode.to_be_bytes());
        out.extend_from_slice(&42u64.to_be_bytes());
        out.extend_from_slice(&501u32.to_be_bytes());
        out.extend_from_slice(&501u32.to_be_bytes());
        for t in [1_500_000_000u32, 1_500_000_001, 1_400_000_000] {
            out.extend_from_slice(&t.to_be_bytes());
        }
        out.extend_from_slice(&size.to_be_bytes());
        out.push(class);
        out.push(props.len() as u8);
        for (k, v) in props {
            s(out, Some(k.as_bytes()));
            s(out, Some(v));
        }
    }
    let mut b = b"mbdb\x05\x00".to_vec();
    let key: Vec<u8> = [&3u32.to_le_bytes()[..], &[0xAA; 40]].concat();
    record(
        &mut b,
        "HomeDomain",
        "Library/SMS/sms.db",
        None,
        Some(&key),
        0o100644,
        53248,
        3,
        &[("com.apple.assetsd.UUID", b"0123")],
    );
    record(
        &mut b,
        "HomeDomain",
        "Library",
        None,
        None,
        0o040755,
        0,
        0,
        &[],
    );
    record(
        &mut b,
        "CameraRollDomain",
        "Media/link",
        Some("../target"),
        None,
        0o120755,
        0,
        0,
        &[],
    );
    let mut out = vec![("mbdb", "three-records.mbdb".into(), b.clone())];
    out.push(("mbdb", "header-only.mbdb".into(), b"mbdb\x05\x00".to_vec()));
    let mut first = b;
    first.truncate(60);
    out.push(("mbdb", "truncated.mbdb".into(), first));
    out
}
