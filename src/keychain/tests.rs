//! Tests of the keychain layer as a whole: conformance data, hand-built blobs, malformed input.

use super::der::{self, DerDict, DerValue};
use super::*;
use crate::crypto::{ClassKeyState, ClassKeys, Key32};
use serde_json::Value as Json;
use std::path::{Path, PathBuf};

const UDID: &str = "00008120-001A2B3C4D5E801E";
const KEYCHAIN_FILE_ID: &str = "51a4616e576dd33cd2abadfea874eb8ff246bf0e";

// Independent vectors made with Python `cryptography` (RFC 3394 wrap, AES-CBC, AES-GCM with the
// 12-byte default IV) and a hand-written empty-IV GCM (CTR + GHASH): class key = bytes 0..32,
// item key = bytes 32..64. See the report for the generator.
const V3_DEFAULT_IV: &str = "03000080070000002800000004f8a3c3c302d3b0b7e94b14dcf85ad1da69cd74056ed7907d3cb49fb27799a4104db058f2901adba27ea8c86ae17e63cc1dc6c290cb81167e3015feec2980effeb1ab6c6747269ba3ec4482dd94fa45d3044e51a23addd2b51394bd11e0da87f826fe141dc48b4c60";
const V2_PLIST: &str = "02000000060000002800000004f8a3c3c302d3b0b7e94b14dcf85ad1da69cd74056ed7907d3cb49fb27799a4104db058f2901adb37ee9181f18d7433baa81add8f42b4f0eb27eb52980b053aab2db02102de7b341c501a68f5596afec66b5fd08f94c980feeebb705d7952c9e61694c20d4d30edf532ce1f7f89c6f414e3b5328778dbc62a65cb60ac7bfa6cc14a87cdc3035958c8cdfa448231c0e747314d0111eed18ffef2bdd431b8c59b7064830a533632e55a460edee9785272b387355c388be3faeea2bfc998a01a";
const V1_CBC: &str = "01000000080000002800000004f8a3c3c302d3b0b7e94b14dcf85ad1da69cd74056ed7907d3cb49fb27799a4104db058f2901adb6e80004cabb6b9f6a09b6f6695d51c0d";
const V0_CBC: &str = "000000000900000004f8a3c3c302d3b0b7e94b14dcf85ad1da69cd74056ed7907d3cb49fb27799a4104db058f2901adb92b2df4c4666a267eb188a15245b6cb0ec24ff63d12d9d9692b882d55240af03";

/// The class key of the independent vectors (bytes 0..32).
fn test_class_key() -> Key32 {
    Key32::new(std::array::from_fn(|i| i as u8))
}

/// The item key of the independent vectors (bytes 32..64).
fn test_item_key() -> Key32 {
    Key32::new(std::array::from_fn(|i| (i + 32) as u8))
}

/// Class keys with `key` available for every one of `classes`.
fn keys_all(classes: &[u32], key: &Key32) -> ClassKeys {
    ClassKeys {
        keys: classes
            .iter()
            .map(|c| (*c, ClassKeyState::Available(key.clone())))
            .collect(),
    }
}

/// (v_Data, v_PersistentRef) of one item.
type RawPair = (Vec<u8>, Vec<u8>);

/// A keychain-backup.plist with the given tables of items.
fn export_plist(tables: &[(&str, Vec<RawPair>)], keybag_uuid: Option<&str>) -> Vec<u8> {
    let mut top = plist::Dictionary::new();
    for (t, items) in tables {
        let arr = items
            .iter()
            .map(|(d, r)| {
                let mut it = plist::Dictionary::new();
                it.insert("v_Data".into(), plist::Value::Data(d.clone()));
                it.insert("v_PersistentRef".into(), plist::Value::Data(r.clone()));
                plist::Value::Dictionary(it)
            })
            .collect();
        top.insert((*t).into(), plist::Value::Array(arr));
    }
    if let Some(u) = keybag_uuid {
        top.insert("keybag-uuid".into(), plist::Value::String(u.into()));
    }
    let mut out = Vec::new();
    plist::Value::Dictionary(top)
        .to_writer_binary(&mut out)
        .unwrap();
    out
}

/// A `v_PersistentRef`: table name then the big-endian rowid.
fn pref(table: &str, rowid: i64) -> Vec<u8> {
    let mut r = table.as_bytes().to_vec();
    r.extend_from_slice(&rowid.to_be_bytes());
    r
}

// ------------------------------------------------------------------------------------------
// Conformance data (small-unencrypted): the TRUE class keys are in EXPECTED.json.

struct Conformance {
    plist: Vec<u8>,
    expected: Json,
}

/// The small-unencrypted conformance keychain and EXPECTED.json; `None` when absent.
fn conformance() -> Option<Conformance> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/conformance/small-unencrypted");
    let plist_path: PathBuf = dir
        .join(UDID)
        .join(&KEYCHAIN_FILE_ID[..2])
        .join(KEYCHAIN_FILE_ID);
    let (Ok(plist), Ok(exp)) = (
        std::fs::read(&plist_path),
        std::fs::read(dir.join("EXPECTED.json")),
    ) else {
        eprintln!("skipped: {} not found", plist_path.display());
        return None;
    };
    Some(Conformance {
        plist,
        expected: serde_json::from_slice(&exp).unwrap(),
    })
}

/// The true class keys of EXPECTED.json; those not `available` are device-bound.
fn true_class_keys(exp: &Json, available: impl Fn(u32) -> bool) -> ClassKeys {
    let mut keys = std::collections::BTreeMap::new();
    for (n, c) in exp["keybag"]["classes"].as_object().unwrap() {
        let n: u32 = n.parse().unwrap();
        let state = if available(n) {
            ClassKeyState::Available(Key32::from_hex(c["key_hex"].as_str().unwrap()).unwrap())
        } else {
            ClassKeyState::DeviceBound
        };
        keys.insert(n, state);
    }
    ClassKeys { keys }
}

/// The expected items that are in the backup (the akpu item is not).
fn expected_items(exp: &Json) -> Vec<&Json> {
    exp["keychain"]["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|i| i["in_backup"] == Json::Bool(true))
        .collect()
}

/// The one report item with the table and rowid of expected item `e`.
fn find<'a>(report: &'a KeychainReport, e: &Json) -> &'a KeychainItem {
    let rowid = e["rowid"].as_i64().unwrap();
    let table = e["table"].as_str().unwrap();
    let hits: Vec<&KeychainItem> = report
        .items
        .iter()
        .filter(|i| {
            i.table == table && i.persistent_ref.as_ref().and_then(|r| r.rowid) == Some(rowid)
        })
        .collect();
    assert_eq!(hits.len(), 1, "{table} rowid {rowid}");
    hits[0]
}

/// The JSON value as a string, `None` otherwise.
fn opt_str(j: &Json) -> Option<&str> {
    j.as_str()
}

#[test]
fn conformance_all_class_keys_decrypt_everything() {
    let Some(c) = conformance() else { return };
    let keys = true_class_keys(&c.expected, |_| true);
    let r = read_items(&c.plist, Some(&keys), false).unwrap();
    let exp = expected_items(&c.expected);
    assert_eq!(exp.len(), 12);
    assert_eq!(r.items.len(), 12);
    assert_eq!(r.decryptable_count(), 12);
    assert_eq!(r.keybag_uuid, None); // this export carries no keybag-uuid
    assert!(r.problems.is_empty(), "{:?}", r.problems);
    assert!(r.unknown_tables.is_empty());
    assert_eq!(
        r.tables.keys().collect::<Vec<_>>(),
        ["cert", "genp", "inet", "keys"]
    );
    assert_eq!(r.tables["genp"].items, 6);
    assert_eq!(r.tables["inet"].decryptable, 6);
    assert_eq!(r.tables["cert"].items, 0);
    assert_eq!(r.tables["genp"].by_class.get("9"), Some(&1));
    for e in exp {
        let it = find(&r, e);
        let ctx = format!("{} {}", it.table, it.index);
        check_conformance_header(it, e, &ctx);
        check_conformance_attributes(it, e, &ctx);
        check_conformance_secret_and_restore(it, e, &ctx);
    }
    check_secrets_not_shown(&r, &c.expected);
}

/// A decrypted conformance item: no reason or problems, its version, class and accessibility.
fn check_conformance_header(it: &KeychainItem, e: &Json, ctx: &str) {
    assert!(it.decryptable, "{ctx}: {:?}", it.reason);
    assert_eq!(it.reason, None);
    assert!(it.problems.is_empty(), "{ctx}: {:?}", it.problems);
    assert_eq!(
        it.blob_version,
        Some(e["blob_version"].as_u64().unwrap() as u32),
        "{ctx}"
    );
    assert_eq!(
        it.protection_class,
        Some(e["protection_class"].as_u64().unwrap() as u32),
        "{ctx}"
    );
    assert_eq!(it.pdmn.as_deref(), opt_str(&e["accessibility"]), "{ctx}");
    assert_eq!(
        it.pdmn_attribute.as_deref(),
        opt_str(&e["accessibility"]),
        "{ctx}"
    );
    assert_eq!(
        it.accessibility_constant,
        opt_str(&e["accessibility_constant"]),
        "{ctx}"
    );
    assert_eq!(
        it.this_device_only,
        e["this_device_only"].as_bool(),
        "{ctx}"
    );
}

/// A decrypted conformance item's attributes match the expected ones.
fn check_conformance_attributes(it: &KeychainItem, e: &Json, ctx: &str) {
    assert_eq!(
        it.access_group.as_deref(),
        opt_str(&e["access_group"]),
        "{ctx}"
    );
    assert_eq!(it.account.as_deref(), opt_str(&e["account"]), "{ctx}");
    assert_eq!(it.service.as_deref(), opt_str(&e["service"]), "{ctx}");
    assert_eq!(it.server.as_deref(), opt_str(&e["server"]), "{ctx}");
    assert_eq!(it.port, e["port"].as_i64(), "{ctx}");
    if let Some(p) = e["path"].as_str() {
        assert_eq!(it.path.as_deref(), Some(p), "{ctx}");
    }
    if let Some(l) = e["label"].as_str() {
        assert_eq!(it.label.as_deref(), Some(l), "{ctx}");
    }
    if it.table == "inet" {
        assert_eq!(
            it.protocol.as_deref(),
            Some(if it.port == Some(993) { "imap" } else { "htps" }),
            "{ctx}"
        );
        assert_eq!(it.authentication_type.as_deref(), Some("dflt"), "{ctx}");
    }
    assert_eq!(it.synchronizable, Some(false), "{ctx}");
    assert_eq!(it.tombstone, Some(false), "{ctx}");
    assert!(
        it.created
            .as_deref()
            .is_some_and(|d| d.starts_with("2024-04") || d.starts_with("2024-05")),
        "{ctx}"
    );
}

/// A decrypted conformance item's secret, hashes, persistent ref and restore fate.
fn check_conformance_secret_and_restore(it: &KeychainItem, e: &Json, ctx: &str) {
    let secret_hex = e["secret_hex"].as_str().unwrap();
    let secret = it.secret.as_ref().unwrap();
    assert_eq!(hex::encode(secret.as_bytes()), secret_hex, "{ctx}");
    assert_eq!(it.secret_len, Some(secret_hex.len() / 2));
    assert_eq!(
        it.secret_fingerprint.as_deref(),
        Some(item::fingerprint(secret.as_bytes()).as_str())
    );
    assert_eq!(
        it.v_data_sha256.as_deref(),
        opt_str(&e["v_data_sha256"]),
        "{ctx}"
    );
    assert_eq!(
        it.persistent_ref.as_ref().map(|p| p.hex.as_str()),
        opt_str(&e["persistent_ref_hex"]),
        "{ctx}"
    );
    // Unencrypted backup: restore only to the same device, for every class.
    assert_eq!(it.restore.summary, RestoreSummary::SameDeviceOnly, "{ctx}");
    assert_eq!(
        serde_json::to_value(it.restore.summary).unwrap(),
        e["survives_restore"],
        "{ctx}"
    );
    assert!(it.attribute_names.iter().any(|n| n == "musr"));
}

/// Known secrets are in the expected data, but never in JSON or Debug output.
fn check_secrets_not_shown(r: &KeychainReport, expected: &Json) {
    let json = serde_json::to_string(r).unwrap();
    let debug = format!("{r:?}");
    for e in expected_items(expected) {
        let s = e["secret"].as_str().unwrap();
        if s.len() >= 8 {
            assert!(!json.contains(s), "secret {s:?} in JSON");
            assert!(!debug.contains(s), "secret {s:?} in Debug");
        }
    }
    assert!(!json.contains("\"secret\""));
}

#[test]
fn conformance_encrypted_semantics_with_password_only_keys() {
    // As an encrypted backup unlocked with the password: 6–8 available, 9–11 device-bound.
    let Some(c) = conformance() else { return };
    let keys = true_class_keys(&c.expected, |n| !(9..=11).contains(&n));
    let r = read_items(&c.plist, Some(&keys), true).unwrap();
    assert_eq!(r.items.len(), 12);
    for it in &r.items {
        let class = it.protection_class.unwrap();
        if class <= 8 {
            assert!(it.decryptable && !it.device_bound, "{class}");
            assert_eq!(it.restore.summary, RestoreSummary::AnyDevice);
            assert_eq!(
                (it.restore.same_device, it.restore.other_device),
                (Some(true), Some(true))
            );
        } else {
            assert!(!it.decryptable && it.device_bound, "{class}");
            assert_eq!(it.reason_code, Some(ReasonCode::DeviceBoundClassKey));
            assert!(
                it.reason.as_deref().unwrap().contains("device key"),
                "{:?}",
                it.reason
            );
            assert_eq!(it.restore.summary, RestoreSummary::SameDeviceOnly);
            assert!(it.secret.is_none() && it.account.is_none());
            assert_eq!(it.this_device_only, Some(true));
        }
    }
    assert_eq!(r.decryptable_count(), 6);
    assert_eq!(r.tables["genp"].decryptable, 3);
}

#[test]
fn conformance_without_keys_lists_every_item_by_header_class() {
    let Some(c) = conformance() else { return };
    for encrypted in [false, true] {
        let r = read_items(&c.plist, None, encrypted).unwrap();
        let exp = expected_items(&c.expected);
        assert_eq!(r.items.len(), exp.len());
        for e in exp {
            let it = find(&r, e);
            assert!(!it.decryptable);
            assert_eq!(
                it.protection_class,
                Some(e["protection_class"].as_u64().unwrap() as u32)
            );
            assert_eq!(it.pdmn.as_deref(), e["accessibility"].as_str());
            assert_eq!(it.pdmn_attribute, None);
            assert_eq!(it.blob_version, Some(3));
            assert!(
                it.secret.is_none() && it.secret_fingerprint.is_none() && it.access_group.is_none()
            );
            if encrypted {
                assert_eq!(it.reason_code, Some(ReasonCode::NoPassword));
                assert_eq!(it.device_bound, it.this_device_only == Some(true));
            } else {
                assert_eq!(it.reason_code, Some(ReasonCode::UnencryptedBackup));
                assert!(it.device_bound);
                assert_eq!(
                    Some(serde_json::to_value(it.restore.summary).unwrap()),
                    Some(e["survives_restore"].clone())
                );
            }
        }
        assert_eq!(r.tables["inet"].by_class.values().sum::<usize>(), 6);
    }
}

#[test]
fn conformance_wrong_class_keys_fail_unwrap() {
    let Some(c) = conformance() else { return };
    let keys = keys_all(&[6, 7, 8, 9, 10, 11], &test_class_key());
    let r = read_items(&c.plist, Some(&keys), true).unwrap();
    assert_eq!(r.items.len(), 12);
    for it in &r.items {
        assert_eq!(it.reason_code, Some(ReasonCode::KeyUnwrapFailed));
        assert!(it.reason.as_deref().unwrap().contains("RFC 3394"));
    }
    // A keybag without a class.
    let keys = keys_all(&[6], &test_class_key());
    let r = read_items(&c.plist, Some(&keys), true).unwrap();
    let missing = r
        .items
        .iter()
        .filter(|i| i.reason_code == Some(ReasonCode::ClassKeyMissing))
        .count();
    assert_eq!(missing, 10);
}

// ------------------------------------------------------------------------------------------
// Independent vectors for every decryptable layout.

#[test]
fn all_layouts_decrypt_independent_vectors() {
    let blobs = [V3_DEFAULT_IV, V2_PLIST, V1_CBC, V0_CBC].map(|h| hex::decode(h).unwrap());
    let plist = export_plist(
        &[(
            "genp",
            blobs
                .iter()
                .enumerate()
                .map(|(i, b)| (b.clone(), pref("genp", i as i64 + 1)))
                .collect(),
        )],
        Some("257ec6be-a1d1-3bed-c469-657e997814eb"),
    );
    let keys = keys_all(&[6, 7, 8, 9], &test_class_key());
    let r = read_items(&plist, Some(&keys), true).unwrap();
    assert_eq!(
        r.decryptable_count(),
        4,
        "{:#?}",
        r.items.iter().map(|i| &i.reason).collect::<Vec<_>>()
    );
    let [v3, v2, v1, v0] = &r.items[..] else {
        panic!()
    };

    assert_eq!(
        (v3.blob_version, v3.blob_default_iv, v3.protection_class),
        (Some(3), true, Some(7))
    );
    assert_eq!(v3.account.as_deref(), Some("dflt-iv"));
    assert_eq!(v3.secret.as_ref().unwrap().as_utf8(), Some("s3cret"));
    assert_eq!(v3.pdmn_attribute.as_deref(), Some("ck"));

    assert_eq!((v2.blob_version, v2.protection_class), (Some(2), Some(6)));
    assert_eq!(v2.account.as_deref(), Some("v2user"));
    assert_eq!(v2.service.as_deref(), Some("v2svc"));
    assert_eq!(v2.port, Some(8080));
    assert_eq!(v2.created.as_deref(), Some("2015-06-07T08:09:10Z"));
    assert_eq!(v2.secret.as_ref().unwrap().as_utf8(), Some("v2secret"));

    assert_eq!((v1.blob_version, v1.protection_class), (Some(1), Some(8)));
    assert_eq!(v1.secret.as_ref().unwrap().as_utf8(), Some("v1secret"));
    assert_eq!(v1.account, None);
    assert_eq!((v0.blob_version, v0.protection_class), (Some(0), Some(9)));
    assert_eq!(
        v0.secret.as_ref().unwrap().as_utf8(),
        Some("v0 secret, seventeen+")
    );
    assert_eq!(v0.secret_len, Some(21));

    assert_eq!(
        r.keybag_uuid_agrees(&hex::decode("257ec6bea1d13bedc469657e997814eb").unwrap()),
        Some(true)
    );
    assert_eq!(r.keybag_uuid_agrees(&[0u8; 16]), Some(false));
}

#[test]
fn seal_v3_round_trips_and_generation_bits_are_masked() {
    let ck = test_class_key();
    let mut attrs = DerDict::new();
    attrs.insert(
        "agrp",
        DerValue::String("ABCDE12345.com.example.app".into()),
    );
    attrs.insert("pdmn", DerValue::String("cku".into())); // disagrees with class 6 below
    attrs.insert("v_Data", DerValue::Data(b"pw".to_vec()));
    attrs.insert("class", DerValue::String("inet".into()));
    let blob = blob::seal_v3(6 | 0x20, &ck, &test_item_key(), &attrs);
    let plist = export_plist(&[("genp", vec![(blob, pref("inet", 5))])], None);
    let keys = keys_all(&[6], &ck);
    let mut r = read_items(&plist, Some(&keys), true).unwrap();
    let it = &r.items[0];
    assert!(it.decryptable);
    assert_eq!(
        (it.protection_class_raw, it.protection_class),
        (Some(0x26), Some(6))
    );
    assert_eq!(it.pdmn.as_deref(), Some("ak"));
    assert_eq!(it.pdmn_attribute.as_deref(), Some("cku"));
    assert_eq!(
        it.problems,
        [
            "persistent ref names table \"inet\" but the item is in \"genp\"",
            "pdmn attribute \"cku\" (class 10) disagrees with the blob's class 6",
            "class attribute \"inet\" disagrees with the table \"genp\"",
        ]
    );
    let own = crate::ownership::Ownership::new(&[], &[], ["com.example.app"], []);
    r.attribute_apps(&own);
    assert_eq!(r.items[0].app.as_deref(), Some("com.example.app"));
}

// ------------------------------------------------------------------------------------------
// Malformed blobs: each gives a reason, none panics, none is dropped.

/// A v3 blob of class `class` sealing `payload` with the test keys (no DER check).
fn sealed_raw(class: u32, payload: &[u8]) -> Vec<u8> {
    let ck = test_class_key();
    let ik = test_item_key();
    let mut out = Vec::new();
    for w in [3u32, class, 40] {
        out.extend_from_slice(&w.to_le_bytes());
    }
    out.extend_from_slice(&crate::crypto::wrap::wrap32(&ck, &ik));
    out.extend_from_slice(&crate::crypto::gcm::seal_empty_iv(&ik, payload));
    out
}

/// One malformed-blob case: name, `v_Data`, expected reason code, text the reason contains.
type MalformedCase = (&'static str, Vec<u8>, ReasonCode, &'static str);

/// Cases broken in the clear header or version: truncations, a bad key length, v9 and v7.
fn malformed_header_cases(good: &[u8]) -> Vec<MalformedCase> {
    let mut bad_keylen = good.to_vec();
    bad_keylen[8] = 41;
    let mut version9 = good.to_vec();
    version9[0] = 9;
    let mut version7 = good.to_vec();
    version7[0] = 7;
    vec![
        ("empty", vec![], ReasonCode::MalformedBlob, "version word"),
        (
            "truncated header",
            good[..6].to_vec(),
            ReasonCode::MalformedBlob,
            "class word",
        ),
        (
            "truncated key",
            good[..30].to_vec(),
            ReasonCode::MalformedBlob,
            "wrapped key",
        ),
        (
            "truncated tag",
            good[..60].to_vec(),
            ReasonCode::MalformedBlob,
            "authentication tag",
        ),
        (
            "bad keyLen",
            bad_keylen,
            ReasonCode::MalformedBlob,
            "wrapped-key length field is 41",
        ),
        (
            "version 9",
            version9,
            ReasonCode::UnsupportedVersion,
            "version 9 is unknown",
        ),
        (
            "version 7",
            version7,
            ReasonCode::UnsupportedVersion,
            "on-device",
        ),
    ]
}

/// Cases whose ciphertext, tag, wrapped key or CBC padding is flipped.
fn malformed_crypto_cases(good: &[u8]) -> Vec<MalformedCase> {
    let mut flipped_tag = good.to_vec();
    *flipped_tag.last_mut().unwrap() ^= 0x01;
    let mut flipped_ct = good.to_vec();
    flipped_ct[60] ^= 0x80;
    let mut flipped_wrap = good.to_vec();
    flipped_wrap[20] ^= 0x01;
    let mut cbc_padding = hex::decode(V0_CBC).unwrap(); // two CBC blocks
    let n = cbc_padding.len();
    cbc_padding[n - 17] ^= 0x05; // alters the last plaintext byte (the padding) via CBC
    vec![
        (
            "flipped tag",
            flipped_tag,
            ReasonCode::AuthenticationFailed,
            "corrupt",
        ),
        (
            "flipped ct",
            flipped_ct,
            ReasonCode::AuthenticationFailed,
            "corrupt",
        ),
        (
            "flipped wrap",
            flipped_wrap,
            ReasonCode::KeyUnwrapFailed,
            "RFC 3394",
        ),
        (
            "cbc padding",
            cbc_padding,
            ReasonCode::BadPadding,
            "padding",
        ),
    ]
}

/// 100 nested DER SEQUENCEs around a NULL.
fn deeply_nested_der() -> Vec<u8> {
    let mut deep = vec![0x05, 0x00];
    for _ in 0..100 {
        let mut w = vec![0x30, 0x81, deep.len() as u8];
        if deep.len() > 255 {
            w = vec![0x30, 0x82, (deep.len() >> 8) as u8, deep.len() as u8];
        }
        w.extend_from_slice(&deep);
        deep = w;
    }
    deep
}

/// Correctly sealed blobs whose payload is bad: huge DER length, deep nesting, not a dict,
/// a v2 payload that is not a plist.
fn malformed_payload_cases() -> Vec<MalformedCase> {
    let huge = sealed_raw(
        7,
        &[0x31, 0x88, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF],
    );
    let deep = sealed_raw(7, &deeply_nested_der());
    let not_dict = sealed_raw(7, &[0x05, 0x00]);
    let garbage_v2 = {
        let mut b = sealed_raw(7, b"not a plist");
        b[0] = 2;
        b
    };
    vec![
        (
            "huge DER length",
            huge,
            ReasonCode::MalformedPayload,
            "claims",
        ),
        (
            "deep DER",
            deep,
            ReasonCode::MalformedPayload,
            "nesting deeper",
        ),
        (
            "DER not a dict",
            not_dict,
            ReasonCode::MalformedPayload,
            "expected a dictionary",
        ),
        (
            "v2 not a plist",
            garbage_v2,
            ReasonCode::MalformedPayload,
            "v2 plist",
        ),
    ]
}

#[test]
fn malformed_blobs_give_reasons() {
    let good = hex::decode(V3_DEFAULT_IV).unwrap();
    let mut cases = malformed_header_cases(&good);
    cases.extend(malformed_crypto_cases(&good));
    cases.extend(malformed_payload_cases());
    let plist = export_plist(
        &[(
            "genp",
            cases
                .iter()
                .enumerate()
                .map(|(i, c)| (c.1.clone(), pref("genp", i as i64)))
                .collect(),
        )],
        None,
    );
    let keys = keys_all(&[7, 8, 9], &test_class_key());
    let r = read_items(&plist, Some(&keys), true).unwrap();
    assert_eq!(r.items.len(), cases.len());
    for ((name, _, code, needle), it) in cases.iter().zip(&r.items) {
        assert!(!it.decryptable, "{name}");
        assert_eq!(it.reason_code, Some(*code), "{name}: {:?}", it.reason);
        let reason = it.reason.as_deref().unwrap();
        assert!(reason.contains(needle), "{name}: {reason}");
    }
    // Header fields are still reported when the body is malformed.
    assert_eq!(r.items[1].blob_version, Some(3));
    assert_eq!(r.items[1].protection_class, None);
    assert_eq!(r.items[2].protection_class, Some(7));
    assert_eq!(r.items[2].restore.summary, RestoreSummary::AnyDevice);
    assert_eq!(r.items[0].restore.summary, RestoreSummary::Unknown);
    assert_eq!(r.tables["genp"].by_class["unknown"], 4); // empty, truncated header, v9, v7
}

#[test]
fn access_control_blob_is_device_bound() {
    let mut prot = DerDict::new();
    prot.insert("prot", DerValue::String("ak".into()));
    let prot = der::encode_dict(&prot);
    let mut b = Vec::new();
    b.extend_from_slice(&6u32.to_le_bytes());
    b.extend_from_slice(&(prot.len() as u32).to_le_bytes());
    b.extend_from_slice(&prot);
    b.extend_from_slice(&3u32.to_le_bytes());
    b.extend_from_slice(&[1, 2, 3]);
    b.extend_from_slice(&[0; 20]);
    let plist = export_plist(&[("keys", vec![(b, pref("keys", 1))])], None);
    let r = read_items(&plist, Some(&keys_all(&[6], &test_class_key())), true).unwrap();
    let it = &r.items[0];
    assert_eq!(
        (it.blob_version, it.protection_class, it.pdmn.as_deref()),
        (Some(6), Some(6), Some("ak"))
    );
    assert!(it.device_bound && !it.decryptable);
    assert_eq!(it.reason_code, Some(ReasonCode::AccessControlBlob));
}

#[test]
fn items_that_are_not_dictionaries_are_kept() {
    let mut top = plist::Dictionary::new();
    top.insert(
        "inet".into(),
        plist::Value::Array(vec![plist::Value::Integer(1.into())]),
    );
    top.insert(
        "idnt".into(),
        plist::Value::Array(vec![plist::Value::Dictionary(plist::Dictionary::new())]),
    );
    let mut bytes = Vec::new();
    plist::Value::Dictionary(top)
        .to_writer_xml(&mut bytes)
        .unwrap();
    let r = read_items(&bytes, None, true).unwrap();
    assert_eq!(r.items.len(), 2);
    assert_eq!(r.unknown_tables, ["idnt"]);
    for it in &r.items {
        assert_eq!(it.reason_code, Some(ReasonCode::MissingData));
        assert!(!it.problems.is_empty());
    }
    assert_eq!(
        r.items[0].problems,
        ["item is an integer, not a dictionary"]
    );
    assert_eq!(r.tables["idnt"].by_class["unknown"], 1);
}

#[test]
fn unreadable_file_is_an_error() {
    // The plist crate falls back to the OpenStep text format, where bare text is a string.
    let e = read_items(b"\x00\x01garbage", None, true).unwrap_err();
    assert!(matches!(e, KeychainError::NotADictionary(_)), "{e}");
    let e = read_items(b"bplist00\xD1\x01\x02", None, true).unwrap_err();
    assert!(matches!(e, KeychainError::NotAPlist(_)), "{e}");
    let e = read_items(
        b"<?xml version=\"1.0\"?><plist><dict><key>a</key></plist>",
        None,
        true,
    )
    .unwrap_err();
    assert!(matches!(e, KeychainError::NotAPlist(_)), "{e}");
    let mut bytes = Vec::new();
    plist::Value::String("x".into())
        .to_writer_binary(&mut bytes)
        .unwrap();
    let e = read_items(&bytes, None, true).unwrap_err();
    assert_eq!(
        e.to_string(),
        "keychain-backup.plist: top level is a string, not a dictionary"
    );
}

// ------------------------------------------------------------------------------------------
// Real data: hv20 (iPhone 4S, iOS 9.3.6, encrypted, password 20201225). Expected values come
// from an independent Python decoder (pbkdf2 + `cryptography` key unwrap + hand-written
// empty-IV GCM + a DER walker), not from this code.

/// The encryption key (class ‖ wrapped) of KeychainDomain/keychain-backup.plist in a
/// Manifest.mbdb (test-only walker; the index module owns the real parser).
fn mbdb_keychain_key(mbdb: &[u8]) -> Option<Vec<u8>> {
    let mut p = 6usize;
    let string = |p: &mut usize| -> Option<Option<Vec<u8>>> {
        let len = u16::from_be_bytes(mbdb.get(*p..*p + 2)?.try_into().ok()?);
        *p += 2;
        if len == 0xFFFF {
            return Some(None);
        }
        let v = mbdb.get(*p..*p + usize::from(len))?.to_vec();
        *p += usize::from(len);
        Some(Some(v))
    };
    while p < mbdb.len() {
        let domain = string(&mut p)?;
        let path = string(&mut p)?;
        let _link = string(&mut p)?;
        let _digest = string(&mut p)?;
        let key = string(&mut p)?;
        p += 39; // mode … protection class
        let props = *mbdb.get(p)?;
        p += 1;
        for _ in 0..props {
            string(&mut p)?;
            string(&mut p)?;
        }
        if domain.as_deref() == Some(b"KeychainDomain")
            && path.as_deref() == Some(b"keychain-backup.plist")
        {
            return key;
        }
    }
    None
}

/// hv20's decrypted keychain-backup.plist, its class keys and keybag; `None` when absent.
fn hv20_keychain() -> Option<(Vec<u8>, ClassKeys, crate::crypto::Keybag)> {
    use crate::crypto::{cbc, kdf, wrap, Keybag, Password};
    use sha2::{Digest, Sha256};
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/external/hv20/Backup");
    let (Ok(manifest), Ok(mbdb), Ok(enc)) = (
        std::fs::read(dir.join("Manifest.plist")),
        std::fs::read(dir.join("Manifest.mbdb")),
        std::fs::read(dir.join(KEYCHAIN_FILE_ID)),
    ) else {
        eprintln!("skipped: {} not found", dir.display());
        return None;
    };
    let manifest: plist::Dictionary = plist::from_bytes(&manifest).unwrap();
    let kb_bytes = manifest
        .get("BackupKeyBag")
        .and_then(|v| v.as_data())
        .unwrap();
    let kb = Keybag::parse(kb_bytes).unwrap();
    let kek = kdf::derive_kek(
        &Password::new(b"20201225".to_vec()),
        &kb.kdf_params().unwrap(),
        &mut |_| {},
    );
    let keys = kb.unlock(&kek, None).unwrap();
    let fkey = mbdb_keychain_key(&mbdb).unwrap();
    assert_eq!(fkey.len(), 44);
    let fclass = u32::from_le_bytes(fkey[..4].try_into().unwrap());
    assert_eq!(fclass, 1);
    let file_key = wrap::unwrap32(keys.get(fclass).unwrap(), &fkey[4..]).unwrap();
    let plist_bytes = cbc::decrypt(&file_key, &enc).unwrap();
    assert_eq!(
        hex::encode(Sha256::digest(&plist_bytes)),
        "e643cacdb77e9e3ee986bf79c7c4d69e7b1f0d7099bb2ce1d3665ac4054f8774"
    );
    Some((plist_bytes, keys, kb))
}

#[test]
fn hv20_real_keychain_end_to_end() {
    let Some((plist_bytes, keys, kb)) = hv20_keychain() else {
        return;
    };
    let r = read_items(&plist_bytes, Some(&keys), true).unwrap();
    assert_eq!(r.items.len(), 30);
    assert_eq!(r.keybag_uuid, None); // the iOS 9 export has no keybag-uuid
    assert_eq!(r.keybag_uuid_agrees(kb.uuid.as_deref().unwrap()), None);
    assert!(r.problems.is_empty() && r.unknown_tables.is_empty());
    check_hv20_tables(&r);
    check_hv20_items(&r);
    check_hv20_secrets(&r);
    let mut r = r;
    r.attribute_apps(&crate::ownership::Ownership::default());
    assert!(r
        .items
        .iter()
        .filter(|i| i.decryptable)
        .all(|i| i.app.as_deref() == Some(crate::ownership::SYSTEM_OWNER)));
}

/// hv20's per-table item and decryptable counts, and its items by class.
fn check_hv20_tables(r: &KeychainReport) {
    let counts: Vec<(&str, usize, usize)> = r
        .tables
        .iter()
        .map(|(t, s)| (t.as_str(), s.items, s.decryptable))
        .collect();
    assert_eq!(
        counts,
        [
            ("cert", 1, 0),
            ("genp", 20, 4),
            ("inet", 1, 1),
            ("keys", 8, 1)
        ]
    );
    let by_class = |t: &str| {
        r.tables[t]
            .by_class
            .iter()
            .map(|(c, n)| format!("{c}:{n}"))
            .collect::<Vec<_>>()
    };
    assert_eq!(by_class("genp"), ["10:2", "11:12", "6:3", "8:1", "9:2"]);
    assert_eq!(by_class("keys"), ["10:2", "11:3", "6:1", "9:2"]);
    assert_eq!(by_class("cert"), ["11:1"]);
}

/// Every hv20 item: v3 blob, rowid ref, decryptable iff class ≤ 8, device-bound otherwise.
fn check_hv20_items(r: &KeychainReport) {
    for it in &r.items {
        assert_eq!(it.blob_version, Some(3));
        assert!(!it.blob_default_iv);
        assert!(it.problems.is_empty(), "{:?}", it.problems);
        assert_eq!(
            it.persistent_ref.as_ref().map(|p| p.kind),
            Some(PersistentRefKind::Rowid)
        );
        let c = it.protection_class.unwrap();
        assert_eq!(it.decryptable, c <= 8, "class {c}");
        assert_eq!(it.device_bound, c >= 9, "class {c}");
        if c >= 9 {
            assert_eq!(it.reason_code, Some(ReasonCode::DeviceBoundClassKey));
            assert_eq!(it.restore.summary, RestoreSummary::SameDeviceOnly);
        } else {
            assert_eq!(it.pdmn_attribute, it.pdmn);
            assert_eq!(it.restore.summary, RestoreSummary::AnyDevice);
        }
    }
}

/// The SHA-256 of the secret of item `i` of table `t`, and the item.
fn secret_sha<'a>(r: &'a KeychainReport, t: &str, i: usize) -> (String, &'a KeychainItem) {
    use sha2::{Digest, Sha256};
    let it = r
        .items
        .iter()
        .find(|x| x.table == t && x.index == i)
        .unwrap();
    (
        hex::encode(Sha256::digest(it.secret.as_ref().unwrap().as_bytes())),
        it,
    )
}

/// hv20's decrypted items: secrets (by hash) and attributes as the independent decoder saw them.
fn check_hv20_secrets(r: &KeychainReport) {
    let (sha, inet) = secret_sha(r, "inet", 0);
    assert_eq!(
        sha,
        "ef070f91005b44c54b875e002c31ac32a81964fd49b2e0fd5dbf6ede3f466e4f"
    );
    assert_eq!(inet.secret_len, Some(10));
    assert_eq!(inet.server.as_deref(), Some("accounts.google.com"));
    assert_eq!(inet.account.as_deref(), Some("ckospam@gmail.com"));
    assert_eq!(inet.protocol.as_deref(), Some("htps")); // a string here, a number in newer data
    assert_eq!(inet.authentication_type.as_deref(), Some("form"));
    assert_eq!(
        (inet.port, inet.synchronizable, inet.tombstone),
        (Some(0), Some(true), Some(false))
    );
    assert_eq!(inet.access_group.as_deref(), Some("com.apple.cfnetwork"));
    assert_eq!(inet.created.as_deref(), Some("2020-10-16T19:21:13.811873Z"));
    assert_eq!(
        inet.modified.as_deref(),
        Some("2020-10-16T19:21:13.812873Z")
    );
    let (sha, homekit) = secret_sha(r, "genp", 12);
    assert_eq!(
        sha,
        "4ca9a296918207b442f66b09ab49ea6def7b4c53b15908967151c93c840948bf"
    );
    assert_eq!(
        (homekit.protection_class, homekit.label.as_deref()),
        (Some(8), Some("HomeKit Metadata"))
    );
    assert_eq!(
        homekit.persistent_ref.as_ref().and_then(|p| p.rowid),
        Some(16)
    );
    for (i, want) in [
        (
            15,
            "4493d89acae0349b5fbb487241f765f620b7e8103f91d0b2cf0b3093bc7cbfb5",
        ),
        (
            17,
            "194d43e29c663fada7e0dc790ef8e8a858897a2ded338c36b7a062f420c6203e",
        ),
        (
            19,
            "6c5bce06cbad4f67cb4ee60d36077ed49b9dfa2cf92549c0f850312919631ee9",
        ),
    ] {
        assert_eq!(secret_sha(r, "genp", i).0, want);
    }
    let (sha, key) = secret_sha(r, "keys", 7);
    assert_eq!(
        sha,
        "c23cdc3d77226a45498d52a91454fe96b8235157d4dce499773309407f980c89"
    );
    assert_eq!(key.application_label_hex.as_deref(), Some("534753616c74")); // "SGSalt"
    assert_eq!(key.key_class, Some(0));
}
