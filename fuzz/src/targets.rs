//! Fuzz target bodies: one function per parser of untrusted bytes, shared by the
//! `cargo fuzz` binaries (fuzz/fuzz_targets/) and the stable-Rust corpus replay and
//! mutational driver (tests/fuzz_corpus_replay.rs includes this file with `#[path]`).
//!
//! Each body feeds the bytes to a library entry point and checks invariants that must
//! hold on any input; a panic (or an abort from a huge allocation) is a finding.
#![allow(dead_code)]

use auditor::backup::plists::{InfoPlist, ManifestPlist, StatusPlist};
use auditor::crypto::{ClassKeyState, ClassKeys, Key32, Keybag};
use auditor::index::{mbdb, mbfile, FileRecord, ManifestDb};
use auditor::keychain::{self, blob, der, export::RawItem, item::KeychainItem};
use std::collections::BTreeMap;

/// A target body.
pub type Target = fn(&[u8]);

/// Every target by name (the corpus directory under tests/corpus/ has the same name).
pub const TARGETS: &[(&str, Target)] = &[
    ("keybag", keybag),
    ("manifest_plist", manifest_plist),
    ("info_plist", info_plist),
    ("status_plist", status_plist),
    ("mbfile", mbfile),
    ("mbdb", mbdb),
    ("manifest_db", manifest_db),
    ("keychain_blob", keychain_blob),
    ("der", der),
    ("keychain_items", keychain_items),
    ("extract_path", extract_path),
    ("leaks_plist", leaks_plist),
    ("leaks_sqlite", leaks_sqlite),
    ("leaks_json", leaks_json),
    ("leaks_text", leaks_text),
    ("leaks_cookies", leaks_cookies),
    ("leaks_compressed", leaks_compressed),
    ("leaks_encoded", leaks_encoded),
    ("leaks_wal", leaks_wal),
];

/// The conformance case `small-encrypted` KEK (EXPECTED.json `kdf.passcode_key_hex`): with it,
/// mutated copies of that keybag still unwrap most class keys, so unlock paths are reached.
pub const KEK_HEX: &str = "306a259b920de3511962a308dba9b34a78f3dd571145f6e27c3b8910d0d8cc01";
/// The same case's stand-in device key 0x835 (EXPECTED.json `keybag.device_key_835_hex`).
pub const DEVICE_KEY_HEX: &str = "f44b6ef5fea5e5351121bf9b47aa8270";
/// Class keys 1..=11 of the conformance cases (EXPECTED.json `keybag.classes`): real
/// keychain blobs from those backups decrypt, so their mutations reach the payload decoders.
pub const CLASS_KEYS_HEX: [&str; 11] = [
    "100b09ad0d27f19a9186d1199571d50cc83f813b1ae6003f304e3c84ed3cee35",
    "61d00bb9a01c234024f6a4ba5b56ef92ba0c226e7b516f906b5cfd47caf5f29f",
    "f5fab51e32709c5ee719e781b0f0372d4d66009467abf193eaec3577d2fbcfc5",
    "243952d7c527c0409f954667df577b844ced4d59c204d224471785ed77c0f34c",
    "f40987cec044b34076d6ad232709cfeca36b8cdcc03d8a12ba9c68723ec018fc",
    "b66578ace61667a94936baed6e3532cb3ca38b10148d687ac8d5bc27a286eec8",
    "753162a982035ad907754f08f677fe69ccf1f83a1819a4705aa0611d92d7f7bb",
    "8785907da6b27660651aef853adb143c95d3bc5dc355b2ae7dc0417aee490c84",
    "7d10c25b7a581b08997196f9fc26bc3cab5da2b79646072f4b4c7fd3582c8ba1",
    "4c54b83a1a4dd3c466cc3887f53f4813bf2f6fd94ec2f1548b10f4a7f53f7008",
    "7ad8bc51ec0937dc7594ea5c8875ff0d153a6603c6bb8f615336c6ddd4aeff9a",
];

fn key(hex: &str) -> Key32 {
    Key32::from_hex(hex).expect("constant key")
}

/// The fixed class keys as an unlocked keybag would hold them.
pub fn class_keys() -> ClassKeys {
    let mut keys = BTreeMap::new();
    for (i, h) in CLASS_KEYS_HEX.iter().enumerate() {
        keys.insert(i as u32 + 1, ClassKeyState::Available(key(h)));
    }
    ClassKeys { keys }
}

/// `BackupKeyBag` TLV: parse, KDF parameters, unlock with the fixed KEK and device key.
pub fn keybag(data: &[u8]) {
    let Ok(kb) = Keybag::parse(data) else { return };
    assert!(kb.classes.len() <= auditor::crypto::keybag::MAX_CLASSES);
    let _ = kb.kdf_params();
    let device = hex::decode(DEVICE_KEY_HEX).expect("constant");
    let _ = kb.unlock(&key(KEK_HEX), Some(&device));
    let _ = kb.unlock(&key(KEK_HEX), None);
    // A device key of the wrong length must be refused, not indexed.
    let _ = kb.unlock(&key(KEK_HEX), Some(&device[..7]));
}

/// Manifest.plist (binary or XML) into the typed model.
pub fn manifest_plist(data: &[u8]) {
    if let Ok(m) = ManifestPlist::parse(data) {
        if let Some(kb) = m.keybag.as_deref() {
            keybag(kb);
        }
    }
}

/// Info.plist into the typed model.
pub fn info_plist(data: &[u8]) {
    let _ = InfoPlist::parse(data);
}

/// Status.plist into the typed model.
pub fn status_plist(data: &[u8]) {
    let _ = StatusPlist::parse(data);
}

/// The Manifest.db `file` column: an NSKeyedArchiver MBFile.
pub fn mbfile(data: &[u8]) {
    let mut rec = FileRecord::new(
        "0000000000000000000000000000000000000000".into(),
        "HomeDomain".into(),
        "Library/Preferences/x.plist".into(),
    );
    let ok = mbfile::decode_into(data, &mut rec);
    if !ok {
        assert!(!rec.problems.is_empty(), "a refused archive must say why");
    }
    rec.resolve_kind();
    let _ = rec.encryption_key_class();
}

/// Manifest.mbdb (iOS 4–9 index): all-or-nothing parse and the streaming walk must agree.
pub fn mbdb(data: &[u8]) {
    let all = mbdb::parse("Manifest.mbdb", data);
    let mut n = 0u64;
    let walked = mbdb::for_each("Manifest.mbdb", data, |_| n += 1);
    match (&all, &walked) {
        (Ok(v), Ok(c)) => assert_eq!(v.len() as u64, *c),
        (Err(_), Err(_)) => {}
        _ => panic!("mbdb::parse and mbdb::for_each disagree"),
    }
    if let Ok(recs) = all {
        for mut r in recs {
            r.resolve_kind();
            let _ = r.valid_file_id();
        }
    }
}

/// A whole Manifest.db (SQLite) from memory: open, count, integrity, properties, every row.
pub fn manifest_db(data: &[u8]) {
    let Ok(db) = ManifestDb::open_bytes(data) else {
        return;
    };
    let _ = db.count();
    let _ = db.properties();
    let _ = db.for_each(|mut r| {
        r.resolve_kind();
    });
}

/// `v_Data` blobs of every version. The first byte picks how the rest is used:
/// `0` raw blob bytes (parse, then decrypt with the fixed class keys); `1`..`5` a plaintext
/// that is sealed as a v3 (empty IV), v3 (default IV + AAD), v2 (plist payload), v0 or v1
/// (CBC) blob under the fixed keys, so the payload decoders see fuzzed plaintext;
/// `6` raw bytes as an access-control (v4–6) blob.
pub fn keychain_blob(data: &[u8]) {
    let Some((&mode, rest)) = data.split_first() else {
        return;
    };
    let keys = class_keys();
    let bytes = match mode % 7 {
        0 => rest.to_vec(),
        6 => {
            let mut b = (4 + u32::from(rest.first().copied().unwrap_or(0) % 3))
                .to_le_bytes()
                .to_vec();
            b.extend_from_slice(rest.get(1..).unwrap_or(&[]));
            b
        }
        m => seal(m, rest, &keys),
    };
    blob_through_item(&bytes, &keys);
}

fn seal(mode: u8, plain: &[u8], keys: &ClassKeys) -> Vec<u8> {
    let class = 6 + u32::from(plain.len() as u8 % 6);
    let class_key = keys.get(class).expect("fixed class key");
    let item_key = Key32::new([0x5A; 32]);
    let wrapped = auditor::crypto::wrap::wrap32(class_key, &item_key);
    let mut out = Vec::new();
    let version: u32 = match mode {
        1 => 3,
        2 => 0x8000_0003,
        3 => 2,
        4 => 0,
        _ => 1,
    };
    out.extend_from_slice(&version.to_le_bytes());
    out.extend_from_slice(&class.to_le_bytes());
    if version != 0 {
        out.extend_from_slice(&40u32.to_le_bytes());
    }
    out.extend_from_slice(&wrapped);
    match mode {
        1 | 3 => out.extend_from_slice(&auditor::crypto::gcm::seal_empty_iv(&item_key, plain)),
        2 => {
            let aad = out.clone();
            out.extend_from_slice(&auditor::crypto::gcm::seal_default_iv(
                &item_key, &aad, plain,
            ));
        }
        _ => out.extend_from_slice(&auditor::crypto::cbc::encrypt(&item_key, plain)),
    }
    out
}

fn blob_through_item(bytes: &[u8], keys: &ClassKeys) {
    let parsed = blob::parse(bytes);
    if let Ok(body) = &parsed.body {
        if let Some(class) = parsed.header.class {
            if let Some(k) = keys.get(class) {
                let _ = blob::decrypt(&parsed.header, body, k);
            }
        }
    }
    let raw = RawItem {
        table: "genp".into(),
        index: 0,
        v_data: Some(bytes.to_vec()),
        persistent_ref: None,
        clear_attributes: der::DerDict::new(),
        problems: Vec::new(),
    };
    for encrypted in [true, false] {
        let item = KeychainItem::from_raw(&raw, Some(keys), encrypted);
        let dbg = format!("{item:?}");
        let _ = dbg;
        let _ = KeychainItem::from_raw(&raw, None, encrypted);
    }
}

/// Apple DER property lists: decode; what decodes must re-encode to bytes that decode.
pub fn der(data: &[u8]) {
    let _ = der::decode_dict(data);
    if let Ok(v) = der::decode(data) {
        let again = der::encode(&v);
        assert!(
            der::decode(&again).is_ok(),
            "re-encoded DER does not decode"
        );
    }
}

/// keychain-backup.plist: the whole export with and without class keys.
pub fn keychain_items(data: &[u8]) {
    let keys = class_keys();
    if let Ok(mut r) = keychain::read_items(data, Some(&keys), true) {
        r.attribute_apps(&auditor::ownership::Ownership::new(
            &[],
            &[],
            [],
            ["AppDomain-com.example.app"],
        ));
        let _ = r.keybag_uuid_agrees(&[0u8; 16]);
        let _ = serde_json::to_string(&r);
    }
    let _ = keychain::read_items(data, None, false);
}

/// Export path safety (`extract::path`): `domain\nrelativePath\nlinkTarget`. Whatever is
/// accepted must be safe to join under the export folder: no empty, `.`, `..`, separator,
/// NUL or control-character component, none longer than the limit; a resolved link target
/// never climbs out.
pub fn extract_path(data: &[u8]) {
    use auditor::extract::path::{check_component, components, resolve_link};
    let text = String::from_utf8_lossy(data);
    let mut parts = text.splitn(3, '\n');
    let domain = parts.next().unwrap_or("");
    let rp = parts.next().unwrap_or("");
    let target = parts.next().unwrap_or("");
    let safe = |c: &str| {
        !c.is_empty()
            && c != "."
            && c != ".."
            && !c
                .chars()
                .any(|ch| matches!(ch, '/' | '\\' | ':' | '\0'..='\u{1f}' | '\u{7f}'))
    };
    let Ok(comps) = components(domain, rp) else {
        return;
    };
    for c in &comps {
        assert!(
            safe(c) && check_component(c).is_ok(),
            "accepted component {c:?}"
        );
    }
    let mut never = |_: &[String]| false;
    if let Ok(resolved) = resolve_link(&comps, &mut never, target) {
        for c in &resolved {
            assert!(safe(c), "resolved link component {c:?}");
        }
    }
    let mut always = |_: &[String]| true;
    let _ = resolve_link(&comps, &mut always, target);
}

// ------------------------------------------------------------------------------------------
// Leak decoders (src/leaks/decode/): any bytes decode to fields or a note, never a panic.

use auditor::leaks::decode::{self as leaks_decode, Field, Kind, Where};

/// Run one decoder kind over `data`; where a place is a byte offset into `data` itself it
/// must lie inside it.
fn leaks_fields(kind: Kind, data: &[u8]) {
    let own_offsets = !matches!(kind, Kind::Compressed);
    let mut n = 0usize;
    let _ = leaks_decode::fields(kind, data, &mut |f: Field<'_>| {
        n += 1;
        let _ = leaks_decode::describe(&f.at);
        if let (true, Where::Bytes { offset }) = (own_offsets, &f.at) {
            assert!(
                *offset as usize + f.value.len() <= data.len(),
                "string past the end"
            );
        }
    });
    let _ = n;
}

/// Plists (binary, XML, NSKeyedArchiver) as the leak sweep reads them.
pub fn leaks_plist(data: &[u8]) {
    leaks_fields(Kind::Plist, data);
}

/// SQLite from memory, every cell, LocalStorage, free space.
pub fn leaks_sqlite(data: &[u8]) {
    leaks_fields(Kind::Sqlite, data);
}

/// JSON by pointer.
pub fn leaks_json(data: &[u8]) {
    leaks_fields(Kind::Json, data);
}

/// Text lines, strings of binary, and the sniffer that picks the decoder.
pub fn leaks_text(data: &[u8]) {
    let _ = leaks_decode::sniff(data);
    leaks_fields(Kind::Text, data);
    leaks_fields(Kind::Binary, data);
}

/// Apple binarycookies jars.
pub fn leaks_cookies(data: &[u8]) {
    leaks_fields(Kind::Cookies, data);
    let _ = leaks_decode::cookies::parse(data);
}

/// gzip/zlib payloads (inflation capped), then whatever is inside.
pub fn leaks_compressed(data: &[u8]) {
    leaks_fields(Kind::Compressed, data);
}

/// Base64/hex values: decoded once; what decodes is decoded as its kind.
pub fn leaks_encoded(data: &[u8]) {
    if let Some(d) = leaks_decode::encoded::decode(data) {
        assert!(matches!(d.kind, Kind::Plist | Kind::Json | Kind::Text));
        let outer = Where::Json {
            pointer: "/v".into(),
        };
        leaks_decode::encoded::fields(&d, &outer, Some("v"), &mut |_| {});
    }
}

/// A database and its -wal: a u32 little-endian length of the database, the database,
/// then the WAL. The applied image never grows past the two inputs.
pub fn leaks_wal(data: &[u8]) {
    let Some((len, rest)) = data.split_first_chunk::<4>() else {
        return;
    };
    let n = (u32::from_le_bytes(*len) as usize).min(rest.len());
    let (db, wal) = rest.split_at(n);
    let a = leaks_decode::wal::apply(db, wal);
    assert!(
        a.image.len() <= db.len() + wal.len() + 65_536,
        "WAL image grew"
    );
    for r in &a.uncommitted {
        assert!(r.end <= wal.len());
    }
    let _ = leaks_decode::sqlite::fields_with_wal(db, wal, &mut |_| {});
}
