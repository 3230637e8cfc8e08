//! Every rule fires on each of its examples and stays silent on each of its near misses.

use super::rules::{Matcher, Rule, Rules, RULES_TOML};
use super::*;

/// The ids of the rules that fire on an example of `rule` (text, a named field, or for a
/// `der` rule the bytes its hex stands for, as the decoders hand them out).
fn fired<'r>(rules: &'r Rules, rule: &Rule, name: &str, text: &str) -> Vec<&'r str> {
    let hits = if matches!(rule.matcher, Matcher::Der(_)) {
        let bytes = hex::decode(text).expect("checked when compiled");
        let mut ids: Vec<&str> = rules
            .scan_text(&bytes)
            .iter()
            .map(|h| h.rule.id.as_str())
            .collect();
        // … and as binary content with bytes around it, found at its place.
        let mut hay = b"\x00\x01 prefix \xff".to_vec();
        hay.extend_from_slice(&bytes);
        hay.extend_from_slice(b"\x00 suffix");
        let mut fields = Vec::new();
        decode::binary(&hay, &mut |f| {
            if f.value.len() == bytes.len() && f.value == &bytes[..] {
                fields.push(f.value.to_vec())
            }
        });
        if fields.is_empty() {
            ids.clear();
        }
        return ids;
    } else if name.is_empty() {
        rules.scan_text(text.as_bytes())
    } else {
        rules.scan_field(name, text.as_bytes())
    };
    hits.iter().map(|h| h.rule.id.as_str()).collect()
}

#[test]
fn the_builtin_rules_compile_and_have_unique_ids() {
    let r = builtin();
    assert!(r.rules.len() >= 15, "{}", r.rules.len());
    for cat in [
        Category::Credential,
        Category::Token,
        Category::PrivateKey,
        Category::Personal,
    ] {
        assert!(r.rules.iter().any(|x| x.category == cat), "{cat:?}");
    }
}

#[test]
fn every_rule_fires_on_its_examples() {
    let rules = builtin();
    for rule in &rules.rules {
        for (name, text) in &rule.examples {
            let ids = fired(rules, rule, name, text);
            assert!(
                ids.contains(&rule.id.as_str()),
                "{} does not fire on its example {name:?} {text:?} (fired: {ids:?})",
                rule.id
            );
        }
    }
}

#[test]
fn no_rule_fires_on_a_near_miss() {
    let rules = builtin();
    for rule in &rules.rules {
        for (name, text) in &rule.non_examples {
            let ids = fired(rules, rule, name, text);
            assert!(
                !ids.contains(&rule.id.as_str()),
                "{} fires on its near miss {name:?} {text:?}",
                rule.id
            );
        }
    }
}

#[test]
fn spans_point_at_the_value_only() {
    let rules = builtin();
    let text = b"x aws_access_key_id=AKIAZ7VRSQ4TBXW2NM5D y";
    let hits = rules.scan_text(text);
    assert_eq!(hits.len(), 1);
    assert_eq!(&text[hits[0].span.clone()], b"AKIAZ7VRSQ4TBXW2NM5D");
    // A JWT in a bearer header is one finding, the JWT (more confident), with its expiry.
    let jwt = "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiJ1c2VyLTQyIiwiZXhwIjoxOTAwMDAwMDAwfQ.dBjftJeZ4CVPmB92K27uhbUJU1p1r_wW1gFWFOEjXk4";
    let text = format!("Authorization: Bearer {jwt}");
    let hits = rules.scan_text(text.as_bytes());
    assert_eq!(hits.len(), 1, "{hits:?}");
    assert_eq!(hits[0].rule.id, "leak.jwt");
    assert_eq!(&text.as_bytes()[hits[0].span.clone()], jwt.as_bytes());
    assert!(hits[0]
        .note
        .as_deref()
        .unwrap()
        .starts_with("expires 2030-"));
    // A refresh token field holding a JWT: the JWT rule wins over the field-name rule.
    let hits = rules.scan_field("refreshToken", jwt.as_bytes());
    assert_eq!(hits.len(), 1, "{hits:?}");
    assert_eq!(hits[0].rule.id, "leak.jwt");
}

#[test]
fn decoys_stay_silent() {
    // What app data is full of and must not be reported (issue 14's decoys).
    let decoys = [
        "3F2504E0-4F89-11D3-9A0C-0305E82C3301",
        "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
        "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNkYPhfDwAChwGA60e6kgAAAABJRU5ErkJggg==",
        "CFBundleShortVersionString 4.12.1 (4120100)",
        "Please enter your password to continue.",
        "com.example.app.refreshToken",
        "[UIImage imageNamed:@\"icon@2x.png\"]",
        "timestamp 1700000000123456 id 4000000000000",
    ];
    let rules = builtin();
    for d in decoys {
        let hits = rules.scan_text(d.as_bytes());
        assert!(
            hits.is_empty(),
            "{d:?}: {:?}",
            hits.iter().map(|h| &h.rule.id).collect::<Vec<_>>()
        );
    }
    for (name, value) in [
        ("password", ""),
        ("uuid", "3F2504E0-4F89-11D3-9A0C-0305E82C3301"),
        (
            "hash",
            "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
        ),
        ("passwordRequired", "true"),
    ] {
        let hits = rules.scan_field(name, value.as_bytes());
        assert!(hits.is_empty(), "{name}={value}");
    }
}

#[test]
fn a_bad_rules_file_is_refused_with_the_rule_named() {
    let bad = RULES_TOML.replacen("id = \"leak.iban\"", "id = \"iban\"", 1);
    let e = Rules::parse(&bad).unwrap_err();
    assert!(e.contains("rule iban"), "{e}");
    let twice = format!(
        "{RULES_TOML}\n[[rule]]\nid = \"leak.iban\"\ncategory = \"personal\"\nconfidence = \"low\"\ntitle = \"t\"\nwhy = \"w\"\nfix = \"f\"\npattern = \"x\"\nexamples = [\"x\"]\nnon_examples = [\"y\"]\n"
    );
    assert!(Rules::parse(&twice).unwrap_err().contains("defined twice"));
    let broken = RULES_TOML.replacen(
        "pattern = '''\\b(?P<secret>(?:AKIA",
        "pattern = '''\\b(?P<secret>((?:AKIA",
        1,
    );
    assert!(Rules::parse(&broken)
        .unwrap_err()
        .contains("leak.aws-access-key-id"));
    // Name rules are never run over text.
    assert!(builtin()
        .rules
        .iter()
        .filter(|r| matches!(r.matcher, Matcher::Name(_)))
        .all(|r| !r.examples.is_empty()));
}

#[test]
fn pattern_rules_match_between_non_ascii_and_non_utf8_bytes() {
    // The built-in patterns are compiled ASCII-only (`(?-u:…)`), so that the fast search
    // does not give up at the first non-ASCII byte; the matches must stay the same.
    let rules = builtin();
    let mut text = "héllo wörld — ".as_bytes().to_vec();
    text.extend(b"\xff\xfe aws_access_key_id=AKIAZ7VRSQ4TBXW2NM5D \x80\x81 ");
    text.extend("mail to alice.smith@example.org, ünïcode".as_bytes());
    let ids: Vec<&str> = rules
        .scan_text(&text)
        .iter()
        .map(|h| h.rule.id.as_str())
        .collect();
    assert_eq!(ids, vec!["leak.aws-access-key-id", "leak.email-address"]);
    let re = match &rules.get("leak.aws-access-key-id").map(|r| &r.matcher) {
        Some(Matcher::Pattern { regex, .. }) => regex.as_str().to_owned(),
        _ => String::new(),
    };
    assert!(re.starts_with("(?-u:"), "{re}");
}

#[test]
fn a_user_pattern_that_needs_unicode_keeps_it() {
    let toml = r#"
[[rule]]
id = "leak.letters"
category = "personal"
confidence = "low"
title = "t"
why = "w"
fix = "f"
pattern = '''name=(?P<secret>\p{L}{3,})'''
examples = ["name=Zoë"]
non_examples = ["name=12"]
"#;
    let rules = Rules::parse(toml).expect("a Unicode class compiles");
    let ids = |t: &str| -> Vec<String> {
        rules
            .scan_text(t.as_bytes())
            .iter()
            .map(|h| h.rule.id.clone())
            .collect()
    };
    assert_eq!(ids("name=Zoë"), vec!["leak.letters".to_string()]);
    assert!(ids("name=12").is_empty());
}

/// A WAL-mode database with a token committed to its `-wal` only (not checkpointed): the
/// database file and the `-wal` file as they lie on disk.
fn wal_database(token: &str) -> (Vec<u8>, Vec<u8>) {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("db.sqlite");
    let c = rusqlite::Connection::open(&p).unwrap();
    c.execute_batch(
        "PRAGMA journal_mode=WAL; PRAGMA wal_autocheckpoint=0;
         CREATE TABLE t (id INTEGER PRIMARY KEY, note TEXT);",
    )
    .unwrap();
    c.execute("INSERT INTO t (note) VALUES (?1)", [format!("gh={token}")])
        .unwrap();
    let db = std::fs::read(&p).unwrap();
    let wal = std::fs::read(dir.path().join("db.sqlite-wal")).unwrap();
    drop(c);
    (db, wal)
}

/// Two tokens planted in `-wal` files of an app: one beside its database (12 rows after
/// it in the index), one alone.
const T1: &str = "ghp_W4lD7Xq9LmN4vB8kT1sY6wE3uJ0hZ5cP7aFg";
const T2: &str = "ghp_0rph4nXq9LmN4vB8kT1sY6wE3uJ0hZ5cP7aF";

/// The backup of [`T1`] and [`T2`] (unencrypted), written to a fresh folder.
fn wal_backup() -> (tempfile::TempDir, std::path::PathBuf) {
    let (db, wal) = wal_database(T1);
    let (_, lone) = wal_database(T2);
    let mut files = Vec::new();
    // The -wal first in the index, its database 12 rows later, fillers around.
    let file = |path: &str, content: serde_json::Value| serde_json::json!({"domain": "AppDomain-com.example.wal", "path": path, "class": 3, "content": content});
    files.push(file(
        "Documents/db.sqlite-wal",
        serde_json::json!({"hex": hex::encode(&wal)}),
    ));
    for i in 0..12 {
        files.push(file(
            &format!("Documents/f{i}.txt"),
            serde_json::json!({"text": "nothing"}),
        ));
    }
    files.push(file(
        "Documents/db.sqlite",
        serde_json::json!({"hex": hex::encode(&db)}),
    ));
    files.push(file(
        "Library/lone.sqlite-wal",
        serde_json::json!({"hex": hex::encode(&lone)}),
    ));
    let spec = serde_json::json!({
        "seed": "wal-batches",
        "device": {"name": "W", "product_type": "iPhone16,1", "product_version": "18.1", "build": "22B83", "udid": "00008130-00WAL00000001E", "serial": "F2LZWAL00001"},
        "date": "2024-11-15T09:30:00Z",
        "encrypted": false,
        "apps": [{"bundle_id": "com.example.wal", "version": "1.0"}],
        "files": files
    });
    let spec: crate::fixture::Spec = serde_json::from_value(spec).unwrap();
    let t = tempfile::tempdir().unwrap();
    let out = t.path().join("b");
    crate::fixture::write(&spec, &out).unwrap();
    (t, out)
}

/// The sweep streams its rows in batches (of 5 in unit tests) with the `-wal` rows held
/// back until every row is known: a database is searched with its `-wal` (which is then
/// skipped), a `-wal` without its database on its own, wherever they fall in the batches.
#[test]
fn a_wal_is_searched_with_its_database_across_batches() {
    let (_t, out) = wal_backup();
    let s = crate::session::Session::open(&out).unwrap();
    let done = std::sync::Mutex::new((0u64, 0u64));
    let r = sweep::sweep(&s, &sweep::LeakOptions::default(), &|d, t| {
        *done.lock().unwrap() = (d, t)
    })
    .unwrap();
    // 15 files: 14 searched, the database's -wal skipped (searched with it).
    assert_eq!(r.summary.files_searched, 14, "{:?}", r.summary);
    assert_eq!(r.summary.skipped.get("wal_with_database"), Some(&1));
    assert_eq!(
        *done.lock().unwrap(),
        (15, 15),
        "progress reaches its total"
    );
    let found: Vec<(&str, &str)> = r
        .leaks
        .iter()
        .map(|l| (l.path.as_str(), l.rule.as_str()))
        .collect();
    assert!(
        found.contains(&("Documents/db.sqlite", "leak.github-token")),
        "the WAL's token, found with its database: {found:?}"
    );
    assert!(
        found.contains(&("Library/lone.sqlite-wal", "leak.github-token")),
        "the lone -wal searched on its own: {found:?}"
    );
    assert!(
        !found.iter().any(|(p, _)| *p == "Documents/db.sqlite-wal"),
        "{found:?}"
    );
}

/// `check` sweeps the rows its scan kept ([`sweep::sweep_rows`]) instead of reading the
/// index twice more per app: the report is [`sweep::sweep_with`]'s, field for field, for
/// every app of the leak corpus (group domains, keychain copies, an app with no leak) and
/// of the `-wal` backup.
#[test]
fn a_sweep_over_the_scans_rows_is_the_sweep_over_the_index() {
    use crate::audit::scan::{scan_all, ScanOptions};
    let spec = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/specs/leaks.json");
    let text = std::fs::read_to_string(spec).unwrap();
    let password = serde_json::from_str::<serde_json::Value>(&text).unwrap()["password"]
        .as_str()
        .unwrap()
        .to_string();
    let spec = crate::fixture::Spec::from_json(&text).unwrap();
    let t = tempfile::tempdir().unwrap();
    let corpus = t.path().join("leaks");
    crate::fixture::write(&spec, &corpus).unwrap();
    let (_w, wal) = wal_backup();
    let cases = [
        (
            corpus,
            Some(password),
            vec![
                "com.example.bank",
                "com.example.chat",
                "com.example.wallet",
                "com.example.clean",
                "com.example.absent",
            ],
        ),
        (wal, None, vec!["com.example.wal"]),
    ];
    for (dir, password, apps) in cases {
        let mut s = crate::session::Session::open(&dir).unwrap();
        if let Some(p) = password {
            s.unlock(
                crate::session::Unlock::Password(crate::crypto::Password::new(p.into())),
                None,
                &mut |_| {},
            )
            .unwrap();
        }
        let manifest = s
            .backup
            .manifest
            .as_ref()
            .map_or(&[][..], |m| m.applications.as_slice());
        let keep = |r: &crate::index::FileRecord| {
            crate::ownership::may_belong_to(&r.domain, &apps, manifest)
        };
        let scanned = scan_all(
            &s,
            &ScanOptions {
                keep_row: Some(&keep),
                summary_only: true,
                ..Default::default()
            },
        )
        .unwrap();
        let mut leaks = 0;
        for app in &apps {
            let opts = sweep::LeakOptions {
                app: Some(app.to_string()),
                ..Default::default()
            };
            let read = sweep::sweep_with(&s, &opts, builtin(), &|_, _| {}).unwrap();
            let kept =
                sweep::sweep_rows(&s, &opts, builtin(), &scanned.keychain_rows, &scanned.rows)
                    .unwrap();
            leaks += read.leaks.len();
            assert_eq!(
                serde_json::to_value(&kept).unwrap(),
                serde_json::to_value(&read).unwrap(),
                "{}: {app}",
                dir.display()
            );
            // Near miss: without the app's rows the sweep finds nothing, so the comparison
            // above can fail.
            if !read.leaks.is_empty() {
                let none =
                    sweep::sweep_rows(&s, &opts, builtin(), &scanned.keychain_rows, &[]).unwrap();
                assert!(none.leaks.is_empty());
            }
        }
        assert!(leaks > 0, "{}: some app has leaks", dir.display());
    }
}
