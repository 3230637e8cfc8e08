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

fn planted() -> [&'static str; 13] {
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
    ]
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
            {"bundle_id": "com.example.clean", "version": "3.0"}
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
            {"domain": "HomeDomain", "path": "Library/Preferences/com.apple.tokens.txt", "class": 4, "content": {"text": format!("gh={HOME_GITHUB}\n")}}
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

    // The summary counts what the list holds.
    // 12 expected (the refresh token twice: its rule and its keychain copy), 12 found.
    let n = r["leaks"].as_array().unwrap().len() as u64;
    assert_eq!(n, 12, "{:#}", r["leaks"]);
    assert_eq!(r["summary"]["leaks"], n);
    let by_rule: u64 = r["summary"]["by_rule"]
        .as_object()
        .unwrap()
        .values()
        .map(|v| v.as_u64().unwrap())
        .sum();
    assert_eq!(by_rule, n);
    assert_eq!(r["summary"]["files_searched"], 11, "{:#}", r["summary"]);

    // No value is in the report: only previews and fingerprints.
    no_value_in("the JSON report", &r.to_string());
    assert!(r["leaks"]
        .as_array()
        .unwrap()
        .iter()
        .all(|l| l.get("value").is_none()));
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
