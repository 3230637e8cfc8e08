//! `auditor leaks` end to end: a backup written at test time with secrets planted in every
//! kind of content (binary plist, SQLite live and deleted rows, JSON, text, a cookie jar,
//! gzip, a base64 value hiding JSON) and near misses beside them; each must be found in its
//! exact place, the near misses must not, and no value may reach stdout or stderr unless
//! `--show-secrets` is given.

mod common;
use base64::Engine;
use common::*;
use serde_json::{json, Value};
use std::io::Write;
use std::path::{Path, PathBuf};

const PASSWORD: &str = "leaks-test";
const UDID: &str = "00008130-00LEAKS0000001E";

/// Every value planted, so that no output can be said to echo one by accident.
const REFRESH: &str = "8xQm2LpZ7vN4kR1tY9bW3cF6hJ0sD5gA";
const USER_PASSWORD: &str = "S3cure-Pass";
const SESSION: &str = "f3a9c2e81b7d4a6c9e0f2b5d8a1c3e7f";
const EMAIL: &str = "alice.smith@example.org";
const GITHUB: &str = "ghp_R2d7Xq9LmN4vB8kT1sY6wE3uJ0hZ5cP7aFgQ";
const AWS: &str = "AKIAZ7VRSQ4TBXW2NM5D";
const TEXT_PASSWORD: &str = "Tr0ub4dor&3";
const STRIPE: &str = "sk_live_51HxQ2aBcDeFgHiJkLmNoPqRsTuV";
const GOOGLE_OAUTH: &str = "ya29.a0AfB_byC8x2LmQ9pZ7vN4kR1tY9bW3cF6hJ0s";
const HOME_GITHUB: &str = "ghp_H0m3d7Xq9LmN4vB8kT1sY6wE3uJ0hZ5cP7aF";
const MEDIA_PASSWORD: &str = "Zz9-media-Secret";
const KEYCHAIN_ONLY: &str = "Kc-copy-9f3e1a7b";
// The rule families of issue 14's second part, planted in an app of their own.
/// A P-256 key in PKCS#8 (made for these tests), stored as a SQLite blob.
const EC_PKCS8_HEX: &str = "308187020100301306072a8648ce3d020106082a8648ce3d030107046d306b0201010420ad3ab86431a7fdd73b6e0f69bc0e460c55d8d3217ccecdd69a5614586c7fe88ba1440342000485965bc75e410b01984d4aa9b000300e3a659b172dbf95ffae130144974c386016787f23797d311f7d44cdb676e1b87a81e445a1f57b7bb5b3484b9f96e20c76";
/// An Ed25519 key in PKCS#8, stored in base64 without PEM armour.
const ED25519_PKCS8_HEX: &str = "302e020100300506032b65700422042090b74a705c8da887549288f38bfebf7d5ec95dbbeab2bc8520c66d4dca7aa54d";
/// Its public key (SubjectPublicKeyInfo): a decoy, public by design.
const ED25519_SPKI_HEX: &str =
    "302a300506032b6570032100d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a";
/// A PKCS#12 file holding the Ed25519 key, password-encrypted.
const PFX_HEX: &str = "308201420201033081f906092a864886f70d010701a081eb0481e83081e53081e206092a864886f70d010701a081d40481d13081ce3081cb060b2a864886f70d010c0a0102a081a63081a3305f06092a864886f70d01050d3052303106092a864886f70d01050c30240410527f9c234ffa49e7644c83a7446fc7b202024e20300c06082a864886f70d02090500301d060960864801650304012a04105f3e23718d2cd6399f05d21918e0544104407413cc93b3d4942999deabb1c4a06af9c8b5492f303086adcd0e91d89b490b3f466c23f157616668e1c0b0dd9621e85907d5ff286fdee583225fbccb9a2c2e7d3113301106092a864886f70d01091431041e02007430413031300d0609608648016503040201050004208bbed4f004e289f355e71463b5f31d8a8ce7ad01edad77ab9cccea78929805c104084d2314656ccd654302020800";
/// A BIP-39 test vector (entropy 7f…7f), and twelve list words whose checksum is wrong.
const SEED: &str = "legal winner thank year wave sausage worth useful legal winner thank yellow";
const SEED_BAD: &str = "legal winner thank year wave sausage worth useful legal winner thank wave";
const PHONE: &str = "+44 20 7946 0958";
const API_KEY: &str = "qFCiI5ydYgqTxIBAiCofjZUljbQ6oP3Q";
const FCM: &str = "AAAAnFIGLj5:APA91bM7YYpHCOTHUtuJvbipRdkJAWZ4moUxm-yI5B-KGnplJJpdu0ol29vX6N-631mG8YE5-is-I4cZ2cSV8HTMyf8GmXmeyNdaKTGoeszaDGHxFAQLVeuzU-XFXO-eF28RlHnqzgsB";

fn b64(hex_text: &str) -> String {
    base64::engine::general_purpose::STANDARD.encode(hex::decode(hex_text).unwrap())
}

fn planted() -> [&'static str; 18] {
    [
        REFRESH,
        USER_PASSWORD,
        SESSION,
        EMAIL,
        GITHUB,
        AWS,
        TEXT_PASSWORD,
        STRIPE,
        GOOGLE_OAUTH,
        HOME_GITHUB,
        MEDIA_PASSWORD,
        KEYCHAIN_ONLY,
        "my dog",
        SEED,
        PHONE,
        API_KEY,
        FCM,
        // The base64 text of the DER key (the bytes themselves are checked apart).
        "MC4CAQAwBQYDK2VwBCIEIJC3SnBcjaiHVJKI84v+v31eyV27",
    ]
}

/// The wallet app's database: a private key as a blob (and a public key beside it), and a
/// contacts table with a phone number (and a date in a phone column).
fn wallet_db() -> Vec<u8> {
    let mut c = rusqlite::Connection::open_in_memory().unwrap();
    c.execute_batch(
        "CREATE TABLE keys (id INTEGER PRIMARY KEY, label TEXT, der BLOB);
         CREATE TABLE contacts (id INTEGER PRIMARY KEY, name TEXT, phone TEXT, app_version TEXT);",
    )
    .unwrap();
    for (label, der) in [
        ("device", EC_PKCS8_HEX),
        ("server-public", ED25519_SPKI_HEX),
    ] {
        c.execute(
            "INSERT INTO keys (label, der) VALUES (?1, ?2)",
            rusqlite::params![label, hex::decode(der).unwrap()],
        )
        .unwrap();
    }
    for (name, phone) in [("Bob", PHONE), ("Carol", "2024-01-31")] {
        c.execute(
            "INSERT INTO contacts (name, phone, app_version) VALUES (?1, ?2, '4.12.1')",
            [name, phone],
        )
        .unwrap();
    }
    c.serialize(rusqlite::MAIN_DB).unwrap().to_vec()
}

fn bplist(v: plist::Value) -> Vec<u8> {
    let mut b = Vec::new();
    v.to_writer_binary(&mut b).unwrap();
    b
}

fn dict(pairs: &[(&str, plist::Value)]) -> plist::Value {
    let mut d = plist::Dictionary::new();
    for (k, v) in pairs {
        d.insert((*k).to_string(), v.clone());
    }
    plist::Value::Dictionary(d)
}

/// A SQLite database image: a live account row, and a deleted note holding a token.
fn sqlite_db() -> Vec<u8> {
    let mut c = rusqlite::Connection::open_in_memory().unwrap();
    c.execute_batch(
        "PRAGMA secure_delete = OFF;
         CREATE TABLE accounts (id INTEGER PRIMARY KEY, email TEXT, session_token TEXT, nickname TEXT);
         CREATE TABLE notes (id INTEGER PRIMARY KEY, body TEXT);",
    )
    .unwrap();
    c.execute(
        "INSERT INTO accounts (email, session_token, nickname) VALUES (?1, ?2, 'ally')",
        [EMAIL, SESSION],
    )
    .unwrap();
    for i in 0..3 {
        c.execute(
            "INSERT INTO notes (body) VALUES (?1)",
            [format!("note {i}: remember the token {GITHUB} for CI")],
        )
        .unwrap();
    }
    c.execute("DELETE FROM notes", []).unwrap();
    c.serialize(rusqlite::MAIN_DB).unwrap().to_vec()
}

fn gzip(b: &[u8]) -> Vec<u8> {
    let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    e.write_all(b).unwrap();
    e.finish().unwrap()
}

fn hexed(b: &[u8]) -> Value {
    json!({ "hex": hex::encode(b) })
}

/// Write the backup into `dir` and return its folder.
fn backup(dir: &Path) -> PathBuf {
    let prefs = bplist(dict(&[
        (
            "auth",
            dict(&[("refreshToken", plist::Value::String(REFRESH.into()))]),
        ),
        (
            "user",
            dict(&[
                ("password", plist::Value::String(USER_PASSWORD.into())),
                ("password_hint", plist::Value::String("my dog".into())),
            ]),
        ),
        // A base64 value hiding JSON: decoded once, its members searched.
        (
            "blob",
            plist::Value::String(
                base64::engine::general_purpose::STANDARD
                    .encode(format!(r#"{{"access_token": "{GOOGLE_OAUTH}"}}"#)),
            ),
        ),
        ("theme", plist::Value::String("dark".into())),
    ]));
    let cookies = auditor::leaks::decode::cookies::build(&[(
        ".example.com",
        "sessionid",
        "/",
        SESSION,
        1 | 4,
        800_000_000.0,
    )]);
    let config = format!(r#"{{"aws": {{"key": "{AWS}"}}, "region": "eu-west-1"}}"#);
    // Near misses only: an empty password, a hint, a null token, a key one character short.
    let near = r#"{"password": "", "password_hint": "my dog", "accessToken": "null",
                   "key": "AKIAZ7VRSQ4TBXW2NM5", "lat": "52.5", "card": "4111 1111 1111 1112"}"#;
    let wallet_prefs = bplist(dict(&[
        ("fcmServerKey", plist::Value::String(FCM.into())),
        // One character short of a server key.
        (
            "fcmDraft",
            plist::Value::String(FCM[..FCM.len() - 1].into()),
        ),
    ]));
    let wallet_json = json!({
        "mnemonic": SEED,
        "practice_words": SEED_BAD,
        "deviceKey": b64(ED25519_PKCS8_HEX),
        "serverKey": b64(ED25519_SPKI_HEX),
        "api_key": API_KEY,
        "apiKeyVersion": "v2-2024-01-31",
        "support": {"phone": "1700000000", "build": "4.12.1"}
    })
    .to_string();
    let mut png = b"\x89PNG\r\n\x1a\n".to_vec();
    png.extend_from_slice(format!("tEXt password={MEDIA_PASSWORD} ").as_bytes());
    let spec = json!({
        "seed": "leaks-test",
        "device": {"name": "Leaky iPhone", "product_type": "iPhone16,1", "product_version": "18.1", "build": "22B83", "udid": UDID, "serial": "F2LZLEAK0001"},
        "date": "2024-11-15T09:30:00Z",
        "encrypted": true,
        "password": PASSWORD,
        "kdf": {"dpic": 1000, "iter": 10},
        "apps": [
            {"bundle_id": "com.example.bank", "version": "1.0", "groups": ["group.com.example.bank"]},
            {"bundle_id": "com.example.messenger", "version": "2.0"},
            {"bundle_id": "com.example.clean", "version": "3.0"},
            {"bundle_id": "com.example.wallet", "version": "4.12.1"}
        ],
        "files": [
            {"domain": "AppDomain-com.example.bank", "path": "Library/Preferences/com.example.bank.plist", "class": 3, "content": hexed(&prefs)},
            {"domain": "AppDomainGroup-group.com.example.bank", "path": "config/aws.json", "class": 3, "content": {"text": config}},
            {"domain": "AppDomain-com.example.bank", "path": "Library/Caches/release.gz", "class": 4, "content": hexed(&gzip(format!("stripe.key = {STRIPE}\n").as_bytes()))},
            {"domain": "AppDomain-com.example.messenger", "path": "Documents/chat.sqlite", "class": 3, "content": hexed(&sqlite_db())},
            {"domain": "AppDomain-com.example.messenger", "path": "Library/Cookies/Cookies.binarycookies", "class": 3, "content": hexed(&cookies)},
            {"domain": "AppDomain-com.example.messenger", "path": "Library/Logs/login.log", "class": 4, "content": {"text": format!("boot\nlogin ok user=alice password={TEXT_PASSWORD}\n")}},
            {"domain": "AppDomain-com.example.messenger", "path": "Documents/avatar.png", "class": 3, "content": hexed(&png)},
            {"domain": "AppDomain-com.example.bank", "path": "Library/Caches/last.txt", "class": 4, "content": {"text": format!("restored: {KEYCHAIN_ONLY}\nbalance shown: yes\n")}},
            {"domain": "AppDomain-com.example.clean", "path": "Documents/pin.txt", "class": 4, "content": {"text": "counter 4711 of 9000\n"}},
            {"domain": "AppDomain-com.example.clean", "path": "Documents/near.json", "class": 3, "content": {"text": near}},
            {"domain": "AppDomain-com.example.clean", "path": "Documents/readme.txt", "class": 4, "content": {"text": "Nothing to see here.\nThe password is set in Settings.\n"}},
            {"domain": "AppDomain-com.example.clean", "path": "Documents/big.bin", "class": 4, "content": {"size": 4096, "pattern": "text"}},
            {"domain": "HomeDomain", "path": "Library/Preferences/com.apple.tokens.txt", "class": 4, "content": {"text": format!("gh={HOME_GITHUB}\n")}},
            {"domain": "AppDomain-com.example.wallet", "path": "Library/Application Support/wallet.sqlite", "class": 3, "content": hexed(&wallet_db())},
            {"domain": "AppDomain-com.example.wallet", "path": "Documents/identity.p12", "class": 3, "content": {"hex": PFX_HEX}},
            {"domain": "AppDomain-com.example.wallet", "path": "Documents/server.der", "class": 3, "content": {"hex": ED25519_SPKI_HEX}},
            {"domain": "AppDomain-com.example.wallet", "path": "Documents/wallet.json", "class": 3, "content": {"text": wallet_json}},
            {"domain": "AppDomain-com.example.wallet", "path": "Library/Preferences/com.example.wallet.plist", "class": 3, "content": hexed(&wallet_prefs)}
        ],
        "keychain": [
            {"table": "genp", "class": "ak", "access_group": "ABCDE12345.com.example.bank", "service": "com.example.bank.refresh", "account": "alice", "secret": REFRESH},
            {"table": "inet", "class": "ck", "access_group": "ABCDE12345.com.example.bank", "server": "api.bank.example", "account": "alice", "secret": KEYCHAIN_ONLY},
            // Too short to be searched for: a PIN would match anywhere.
            {"table": "genp", "class": "ak", "access_group": "ABCDE12345.com.example.clean", "service": "com.example.clean.pin", "account": "alice", "secret": "4711"}
        ]
    });
    let spec: auditor::fixture::Spec = serde_json::from_value(spec).unwrap();
    let out = dir.join(UDID);
    auditor::fixture::write(&spec, &out).unwrap();
    out
}

struct Run {
    status: Option<i32>,
    stdout: String,
    stderr: String,
}

fn leaks(b: &Path, extra: &[&str]) -> Run {
    let mut args = vec!["leaks", b.to_str().unwrap(), "--password", PASSWORD];
    args.extend_from_slice(extra);
    let o = auditor(&args);
    Run {
        status: o.status.code(),
        stdout: String::from_utf8_lossy(&o.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&o.stderr).into_owned(),
    }
}

fn leaks_json(b: &Path, extra: &[&str]) -> Value {
    let mut args = vec!["--format", "json"];
    args.extend_from_slice(extra);
    let r = leaks(b, &args);
    assert_eq!(r.status, Some(0), "{}", r.stderr);
    serde_json::from_str(&r.stdout).unwrap()
}

/// The leaks of `path` as (rule, location) pairs.
fn at(r: &Value, path: &str) -> Vec<(String, Value)> {
    r["leaks"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|l| l["path"] == path)
        .map(|l| {
            (
                l["rule"].as_str().unwrap().to_string(),
                l["location"].clone(),
            )
        })
        .collect()
}

fn leak<'a>(r: &'a Value, path: &str, rule: &str) -> &'a Value {
    r["leaks"]
        .as_array()
        .unwrap()
        .iter()
        .find(|l| l["path"] == path && l["rule"] == rule)
        .unwrap_or_else(|| panic!("no {rule} in {path}: {:#}", r["leaks"]))
}

fn no_value_in(what: &str, text: &str) {
    for v in planted() {
        assert!(
            !text.contains(v),
            "{what} echoes a planted value ({v}):\n{text}"
        );
    }
}

#[test]
fn every_planted_secret_is_found_in_its_place_and_near_misses_are_not() {
    let tmp = tempfile::tempdir().unwrap();
    let b = backup(tmp.path());
    let r = leaks_json(&b, &[]);
    assert_eq!(r["schema"], "auditor.leaks/1");
    assert_eq!(r["backup"]["encrypted"], true);
    assert_eq!(r["exposure"]["readable_by"], "backup_password");

    // Binary plist: by key path; the hint is not a password; the refresh token is also a
    // keychain item's value, and the report says so.
    let prefs = "Library/Preferences/com.example.bank.plist";
    let t = leak(&r, prefs, "leak.oauth-token");
    assert_eq!(
        t["location"],
        json!({"kind": "plist", "key_path": "/auth/refreshToken"})
    );
    assert_eq!(t["app"], "com.example.bank");
    assert_eq!(t["protection_class"], 3);
    assert_eq!(t["file_kind"], "plist");
    assert_eq!(t["severity"], "medium");
    assert!(
        t["note"].as_str().unwrap().contains("keychain: genp item"),
        "{t}"
    );
    assert_eq!(t["fingerprint"].as_str().unwrap().len(), 16);
    let p = leak(&r, prefs, "leak.password-field");
    assert_eq!(p["location"]["key_path"], "/user/password");
    assert_eq!(p["field"], "password");
    assert_eq!(p["severity"], "high");
    assert!(!p["fix"].as_str().unwrap().is_empty());
    // The base64 value was decoded once and its JSON member found, placed under the key.
    let g = at(&r, prefs)
        .into_iter()
        .find(|(_, w)| w["kind"] == "json")
        .expect("the token inside the base64 JSON");
    assert_eq!(g.0, "leak.oauth-token");
    assert_eq!(g.1["pointer"], "/blob/access_token");
    // The keychain item's value in the file is a keychain copy, at the same place.
    let kc = leak(&r, prefs, "leak.keychain-copy");
    assert_eq!(kc["location"], t["location"]);
    assert_eq!(kc["fingerprint"], t["fingerprint"]);
    assert_eq!(kc["category"], "credential");
    assert!(
        kc["note"]
            .as_str()
            .unwrap()
            .contains("com.example.bank.refresh"),
        "{kc}"
    );
    assert_eq!(at(&r, prefs).len(), 4, "{:#}", r["leaks"]);
    // A value only the keychain rule can know, in text; a 4-digit keychain PIN is not searched.
    let only = leak(&r, "Library/Caches/last.txt", "leak.keychain-copy");
    assert_eq!(only["location"]["line"], 1);
    assert_eq!(only["in_value"], json!([10, 26]));
    assert!(
        only["note"].as_str().unwrap().contains("inet item"),
        "{only}"
    );
    assert_eq!(at(&r, "Documents/pin.txt"), vec![]);

    // JSON of an app group: attributed to the app, by pointer.
    let a = leak(&r, "config/aws.json", "leak.aws-access-key-id");
    assert_eq!(a["app"], "com.example.bank");
    assert_eq!(a["domain"], "AppDomainGroup-group.com.example.bank");
    assert_eq!(
        a["location"],
        json!({"kind": "json", "pointer": "/aws/key"})
    );

    // gzip: inflated, then searched as text.
    let s = leak(&r, "Library/Caches/release.gz", "leak.stripe-secret-key");
    assert_eq!(s["file_kind"], "compressed");

    // SQLite: live cells by table.column[rowid]; the deleted notes found in free space,
    // marked deleted, one leak with its occurrences counted.
    let db = "Documents/chat.sqlite";
    let st = leak(&r, db, "leak.oauth-token");
    assert_eq!(
        st["location"],
        json!({"kind": "sqlite", "table": "accounts", "column": "session_token", "rowid": 1})
    );
    assert_eq!(st["deleted"], false);
    let e = leak(&r, db, "leak.email-address");
    assert_eq!(e["location"]["column"], "email");
    assert_eq!(e["severity"], "low");
    let gh = leak(&r, db, "leak.github-token");
    assert_eq!(gh["deleted"], true, "{gh}");
    assert!(gh["occurrences"].as_u64().unwrap() >= 1);
    assert_eq!(gh["in_value"].as_array().map(Vec::len), Some(2));

    // The cookie jar: the cookie by name and domain, with its flags.
    let c = leak(
        &r,
        "Library/Cookies/Cookies.binarycookies",
        "leak.oauth-token",
    );
    assert_eq!(c["location"]["kind"], "cookie");
    assert_eq!(c["location"]["name"], "sessionid");
    assert_eq!(c["location"]["domain"], ".example.com");
    assert_eq!(c["location"]["secure"], true);
    assert_eq!(c["location"]["http_only"], true);
    assert_eq!(c["file_kind"], "cookies");
    // The same value in another file of another kind is fingerprinted the same.
    assert_eq!(c["fingerprint"], st["fingerprint"]);

    // Text: line and offset.
    let l = leak(&r, "Library/Logs/login.log", "leak.password-in-text");
    assert_eq!(l["location"]["line"], 2);

    // Media is skipped (counted), the near misses and the clean files give nothing, and
    // HomeDomain is not searched without --all-domains.
    assert!(at(&r, "Documents/avatar.png").is_empty());
    assert!(r["summary"]["skipped"]["media"].as_u64().unwrap() >= 1);
    assert_eq!(at(&r, "Documents/near.json"), vec![], "near misses fired");
    assert_eq!(at(&r, "Documents/readme.txt"), vec![]);
    assert_eq!(at(&r, "Documents/big.bin"), vec![]);
    assert!(at(&r, "Library/Preferences/com.apple.tokens.txt").is_empty());
    assert!(!r["leaks"]
        .as_array()
        .unwrap()
        .iter()
        .any(|l| l["app"] == "com.example.clean"));

    // The wallet app: one of each of the newer rule families, and a decoy beside each.
    let w = "Library/Application Support/wallet.sqlite";
    let k = leak(&r, w, "leak.private-key-der");
    assert_eq!(
        k["location"],
        json!({"kind": "sqlite", "table": "keys", "column": "der", "rowid": 1})
    );
    assert_eq!(k["note"], "PKCS#8 EC private key");
    assert_eq!(k["category"], "private_key");
    assert_eq!(k["severity"], "high");
    assert_eq!(k["preview"], "3081…(138 bytes)");
    let ph = leak(&r, w, "leak.phone-number");
    assert_eq!(
        ph["location"],
        json!({"kind": "sqlite", "table": "contacts", "column": "phone", "rowid": 1})
    );
    assert_eq!(ph["severity"], "low");
    assert_eq!(
        at(&r, w).len(),
        2,
        "the public key, the date: {:#}",
        r["leaks"]
    );
    let p12 = leak(&r, "Documents/identity.p12", "leak.pkcs12");
    assert_eq!(p12["location"], json!({"kind": "bytes", "offset": 0}));
    assert_eq!(p12["file_kind"], "binary");
    assert_eq!(at(&r, "Documents/identity.p12").len(), 1);
    assert_eq!(at(&r, "Documents/server.der"), vec![], "a public key");
    let wj = "Documents/wallet.json";
    let seed = leak(&r, wj, "leak.seed-phrase");
    assert_eq!(seed["location"]["pointer"], "/mnemonic");
    let b64_key = leak(&r, wj, "leak.private-key-der");
    assert_eq!(b64_key["location"]["pointer"], "/deviceKey");
    assert_eq!(b64_key["note"], "PKCS#8 Ed25519 private key");
    let ak = leak(&r, wj, "leak.api-key-field");
    assert_eq!(ak["location"]["pointer"], "/api_key");
    assert_eq!(ak["field"], "api_key");
    assert_eq!(at(&r, wj).len(), 3, "decoys fired: {:#}", r["leaks"]);
    let wp = "Library/Preferences/com.example.wallet.plist";
    let fcm = leak(&r, wp, "leak.firebase-fcm-server-key");
    assert_eq!(fcm["location"]["key_path"], "/fcmServerKey");
    assert_eq!(at(&r, wp).len(), 1, "{:#}", r["leaks"]);

    // The summary counts what the list holds.
    // 19 expected (the refresh token twice: its rule and its keychain copy), 19 found.
    let n = r["leaks"].as_array().unwrap().len() as u64;
    assert_eq!(n, 19, "{:#}", r["leaks"]);
    assert_eq!(r["summary"]["leaks"], n);
    let by_rule: u64 = r["summary"]["by_rule"]
        .as_object()
        .unwrap()
        .values()
        .map(|v| v.as_u64().unwrap())
        .sum();
    assert_eq!(by_rule, n);
    assert_eq!(r["summary"]["files_searched"], 16, "{:#}", r["summary"]);

    // No value is in the report: only previews and fingerprints.
    no_value_in("the JSON report", &r.to_string());
    assert!(r["leaks"]
        .as_array()
        .unwrap()
        .iter()
        .all(|l| l.get("value").is_none()));
    for der in [EC_PKCS8_HEX, PFX_HEX] {
        assert!(!r.to_string().contains(&der[..40]), "a key's bytes in hex");
    }
}

#[test]
fn values_are_shown_only_when_asked_for() {
    let tmp = tempfile::tempdir().unwrap();
    let b = backup(tmp.path());
    for format in ["table", "json", "sarif"] {
        let r = leaks(&b, &["--format", format]);
        assert_eq!(r.status, Some(0), "{format}: {}", r.stderr);
        no_value_in(format, &r.stdout);
        no_value_in("stderr", &r.stderr);
    }
    let r = leaks_json(&b, &["--show-secrets"]);
    let v = leak(
        &r,
        "Library/Preferences/com.example.bank.plist",
        "leak.password-field",
    );
    assert_eq!(v["value"], USER_PASSWORD);
    let t = leaks(&b, &["--show-secrets"]);
    assert!(t.stdout.contains(USER_PASSWORD), "{}", t.stdout);
    // A binary value (a DER key) is shown in base64.
    let k = leak(
        &r,
        "Library/Application Support/wallet.sqlite",
        "leak.private-key-der",
    );
    assert_eq!(k["value"], b64(EC_PKCS8_HEX));
}

#[test]
fn domains_apps_size_limit_and_the_gate() {
    let tmp = tempfile::tempdir().unwrap();
    let b = backup(tmp.path());
    // --all-domains adds HomeDomain (no app).
    let all = leaks_json(&b, &["--all-domains"]);
    let h = leak(
        &all,
        "Library/Preferences/com.apple.tokens.txt",
        "leak.github-token",
    );
    assert_eq!(h["app"], Value::Null);
    assert_eq!(h["domain"], "HomeDomain");

    // --app: that app's domains only (its group included), and said in the report.
    let bank = leaks_json(&b, &["--app", "com.example.bank"]);
    assert_eq!(bank["app"], "com.example.bank");
    let apps: std::collections::BTreeSet<&str> = bank["leaks"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| l["app"].as_str().unwrap())
        .collect();
    assert_eq!(apps, ["com.example.bank"].into());
    assert!(!at(&bank, "config/aws.json").is_empty());
    let unknown = leaks(&b, &["--app", "com.example.absent", "--format", "json"]);
    assert_eq!(unknown.status, Some(0));
    assert!(
        unknown.stderr.contains("no file of this app"),
        "{}",
        unknown.stderr
    );

    // A size limit skips what is over it and names each file.
    let small = leaks_json(&b, &["--max-file-size", "1K"]);
    assert!(small["summary"]["skipped"]["too_large"].as_u64().unwrap() >= 2);
    assert_eq!(small["summary"]["max_file_size"], 1024);
    assert!(small["notes"]
        .as_array()
        .unwrap()
        .iter()
        .any(|n| n["reason"] == "too_large" && n["path"] == "Documents/chat.sqlite"));
    let bad = leaks(&b, &["--max-file-size", "lots"]);
    assert_eq!(bad.status, Some(2), "{}", bad.stderr);

    // --fail-on: exit 1 at a severity reached, 0 above it.
    let gate = leaks(&b, &["--fail-on", "high", "--format", "json"]);
    assert_eq!(gate.status, Some(1), "{}", gate.stderr);
    assert!(
        gate.stderr.contains("leak.password-field"),
        "{}",
        gate.stderr
    );
    let clean = leaks(&b, &["--app", "com.example.clean", "--fail-on", "low"]);
    assert_eq!(clean.status, Some(0), "{}", clean.stderr);
}

#[test]
fn credentials_are_needed_and_the_backup_is_not_written() {
    let tmp = tempfile::tempdir().unwrap();
    let b = backup(tmp.path());
    let before = tree_digest(&b);
    let o = auditor(&["leaks", b.to_str().unwrap(), "--format", "json"]);
    assert_eq!(
        o.status.code(),
        Some(3),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    let o = auditor(&["leaks", b.to_str().unwrap(), "--password", "wrong"]);
    assert_eq!(
        o.status.code(),
        Some(3),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    let _ = leaks_json(&b, &["--all-domains"]);
    assert_eq!(tree_digest(&b), before, "the backup was changed");
    // A report is never written inside the backup.
    let inside = b.join("leaks.json");
    let r = leaks(&b, &["--format", "json", "-o", inside.to_str().unwrap()]);
    assert_eq!(r.status, Some(2), "{}", r.stderr);
    assert!(!inside.exists());
}

/// The bundled demo backup: its one planted password is found, nothing else.
#[test]
fn the_demo_backup_shows_its_one_password() {
    let demo = repo(DEMO);
    let pw = repo(DEMO_PASSWORD_FILE);
    let r = json_ok(&[
        "leaks",
        demo.to_str().unwrap(),
        "--password-file",
        pw.to_str().unwrap(),
        "--format",
        "json",
    ]);
    let rules: Vec<(&str, &str)> = r["leaks"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| (l["path"].as_str().unwrap(), l["rule"].as_str().unwrap()))
        .collect();
    assert_eq!(
        rules,
        vec![("Documents/welcome.txt", "leak.password-in-text")]
    );
}
