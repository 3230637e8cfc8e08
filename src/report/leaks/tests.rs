//! The leaks table and SARIF on a report built by hand: grouping, widths, secrets kept out,
//! each fix once, the notes capped, the empty report; SARIF rules, levels and validity.

use super::*;
use crate::audit::{Severity, ToolInfo};
use crate::leaks::decode::Where;
use crate::leaks::model::{severity, Exposure, LeakBackup, LeakSummary, LEAKS_SCHEMA};
use crate::leaks::redact;
use crate::report::sarif::{self, ToSarif};
use crate::report::text::width;

#[path = "../../../tests/common/sarif.rs"]
mod sarif_schema;

/// Secrets of the leaks whose `value` is None: never in any output.
const HIDDEN: [&str; 3] = [
    "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.c2lnbmF0dXJlLW9mLXRoZS10b2tlbg",
    "hunter2-Correct-Horse-Battery",
    "jane.doe.private@example.org",
];
/// The secret of the leak whose `value` is Some (as with `--show-secrets`).
const SHOWN: &str = "visible-secret-value-123";

const LONG_APP: &str =
    "com.example.averyveryverylongcompanyname.messenger.notificationserviceextension.beta";
const LONG_PATH: &str = "Library/Application Support/com.example.averyveryverylongcompanyname/Databases/Accounts/primary/session-cache.sqlite";

/// A leak of `rule` (built in) for `secret` at `location`; its value only when `shown`.
fn leak(
    rule: &str,
    app: Option<&str>,
    domain: &str,
    path: &str,
    location: Where,
    secret: &str,
    shown: bool,
) -> Leak {
    let r = crate::leaks::builtin().get(rule).unwrap();
    let exposure = Exposure::of(Some(false)).text;
    Leak {
        app: app.map(str::to_string),
        domain: domain.into(),
        path: path.into(),
        protection_class: Some(3),
        rule: rule.into(),
        category: r.category,
        confidence: r.confidence,
        severity: severity(r.category, r.confidence),
        title: r.title.clone(),
        file_kind: match location {
            Where::Sqlite { .. } => Kind::Sqlite,
            _ => Kind::Plist,
        },
        location,
        in_value: None,
        field: None,
        deleted: false,
        occurrences: 1,
        preview: redact::preview(secret.as_bytes()),
        fingerprint: redact::fingerprint(secret.as_bytes()),
        note: None,
        fix: r.fix.clone(),
        exposure,
        value: shown.then(|| secret.to_string()),
    }
}

fn sqlite(table: &str, column: &str, rowid: i64) -> Where {
    Where::Sqlite {
        table: table.into(),
        column: column.into(),
        rowid: Some(rowid),
    }
}

fn plist(key_path: &str) -> Where {
    Where::Plist {
        key_path: key_path.into(),
    }
}

/// Four leaks (a long app and path with 3 occurrences, a password, a deleted e-mail
/// address, a password of no app with its value shown) and 25 notes.
fn report() -> LeaksReport {
    let mut jwt = leak(
        "leak.jwt",
        Some(LONG_APP),
        &format!("AppDomainPlugin-{LONG_APP}"),
        LONG_PATH,
        sqlite("sessions", "access_token", 7),
        HIDDEN[0],
        false,
    );
    jwt.occurrences = 3;
    jwt.field = Some("access_token".into());
    jwt.note = Some("JWT expired 2024-05-01T10:00:00Z (exp claim)".into());
    let mut password = leak(
        "leak.password-field",
        Some("com.example.app"),
        "AppDomain-com.example.app",
        "Library/Preferences/com.example.app.plist",
        plist("/auth/password"),
        HIDDEN[1],
        false,
    );
    password.field = Some("password".into());
    let mut email = leak(
        "leak.email-address",
        Some("com.example.app"),
        "AppDomain-com.example.app",
        "Documents/app.sqlite",
        Where::Bytes { offset: 40960 },
        HIDDEN[2],
        false,
    );
    email.deleted = true;
    email.file_kind = Kind::Sqlite;
    let home = leak(
        "leak.password-field",
        None,
        "HomeDomain",
        "Library/Preferences/com.apple.example.plist",
        plist("/password"),
        SHOWN,
        true,
    );
    let leaks = vec![jwt, password, email, home];
    let notes = (0..25)
        .map(|i| FileNote {
            app: Some("com.example.app".into()),
            domain: "AppDomain-com.example.app".into(),
            path: format!("Library/Caches/blob-{i:02}.bin"),
            reason: "partly_decoded",
            note: "does not decode as Sqlite (file is not a database): searched as strings".into(),
        })
        .collect();
    let mut summary = LeakSummary {
        files_searched: 42,
        bytes_searched: 3 << 20,
        max_file_size: 64 << 20,
        leaks: 4,
        ..LeakSummary::default()
    };
    summary.skipped.insert("media", 12);
    summary.skipped.insert("too_large", 1);
    summary.by_kind.insert(Kind::Plist, 30);
    summary.by_kind.insert(Kind::Sqlite, 12);
    for l in &leaks {
        *summary.by_category.entry(l.category).or_default() += 1;
        *summary.by_rule.entry(l.rule.clone()).or_default() += 1;
    }
    LeaksReport {
        schema: LEAKS_SCHEMA,
        tool: ToolInfo::default(),
        backup: LeakBackup {
            path: "/evidence/backups/00008030-001A2B3C4D5E6F70".into(),
            udid: Some("00008030-001A2B3C4D5E6F70".into()),
            device_name: Some("Jane's iPhone".into()),
            ios_version: Some("17.4".into()),
            encrypted: Some(false),
        },
        exposure: Exposure::of(Some(false)),
        leaks,
        notes,
        summary,
        app: None,
    }
}

fn table(r: &LeaksReport) -> String {
    let mut out = Vec::new();
    write_table(&mut out, r).unwrap();
    String::from_utf8(out).unwrap()
}

fn assert_fits(text: &str) {
    for l in text.lines() {
        assert!(width(l) <= WIDTH, "{} columns: {l:?}", width(l));
        assert_eq!(l, l.trim_end(), "trailing spaces: {l:?}");
    }
}

#[test]
fn the_table_fits_80_columns_and_groups_by_app_and_file() {
    let r = report();
    let text = table(&r);
    assert_fits(&text);
    assert!(text.starts_with("Backup      /evidence/backups/"), "{text}");
    assert!(text.contains("Device      Jane's iPhone (UDID 00008030-001A2B3C4D5E6F70), iOS 17.4"));
    assert!(text.contains("Encrypted   no\n"));
    assert!(text.contains("Exposure    readable by anyone who can copy this backup"));
    assert!(!text.contains("Only app"));
    // Apps by name, then the leaks of no app.
    let long_app = text.find(", 1 leak\n").unwrap();
    let app = text.find("com.example.app, 2 leaks\n").unwrap();
    let none = text.find("(no app), 1 leak\n").unwrap();
    assert!(app < long_app && long_app < none, "{text}");
    let heading = text.lines().find(|l| l.ends_with(", 1 leak")).unwrap();
    assert!(
        heading.starts_with("com.example") && heading.contains('…'),
        "{heading}"
    );
    // The long path keeps its file name; the file's kind and class are under it.
    let file = text
        .lines()
        .find(|l| l.starts_with("  AppDomainPl"))
        .unwrap();
    assert!(
        file.ends_with("/session-cache.sqlite") && file.contains('…'),
        "{file}"
    );
    assert!(text
        .contains("    sqlite file, class 3 NSFileProtectionCompleteUntilFirstUserAuthentication"));
    assert!(text.contains("  AppDomain-com.example.app  Documents/app.sqlite\n"));
    // One leak: severity, rule, place; preview, fingerprint, count; note.
    let jwt = text.lines().position(|l| l.contains("leak.jwt ")).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(
        lines[jwt],
        format!(
            "    high   {:<26} sessions.access_token[rowid 7]",
            "leak.jwt"
        )
    );
    let l = &r.leaks[0];
    assert_eq!(
        lines[jwt + 1],
        format!(
            "           {}  fingerprint {}  ×3",
            l.preview, l.fingerprint
        )
    );
    assert_eq!(
        lines[jwt + 2],
        "           note: JWT expired 2024-05-01T10:00:00Z (exp claim)"
    );
    assert!(text.contains("    low    leak.email-address"));
    assert!(text.contains(&format!("{}  deleted\n", r.leaks[2].fingerprint)));
    assert!(text.contains("/auth/password"));
}

#[test]
fn values_are_shown_only_when_the_report_holds_them() {
    let r = report();
    let text = table(&r);
    let log = serde_json::to_string(&r.to_sarif()).unwrap();
    for secret in HIDDEN {
        assert!(!text.contains(secret), "{secret} in the table");
        assert!(!log.contains(secret), "{secret} in SARIF");
    }
    assert!(
        text.contains(&format!("           value: {SHOWN}\n")),
        "{text}"
    );
    assert_eq!(text.matches("value: ").count(), 1);
    assert!(log.contains(SHOWN));
    // Control characters of a value are escaped, not written to the terminal.
    let mut r = report();
    r.leaks[3].value = Some("a\u{1b}[31mb".into());
    assert!(table(&r).contains("value: a\\u{1b}[31mb"));
}

#[test]
fn each_rule_s_fix_is_printed_once() {
    let r = report();
    let text = table(&r);
    for rule in ["leak.jwt", "leak.password-field", "leak.email-address"] {
        let fix = &crate::leaks::builtin().get(rule).unwrap().fix;
        let start: String = fix.split(' ').take(4).collect::<Vec<_>>().join(" ");
        assert_eq!(text.matches(&start).count(), 1, "{rule}: {start}\n{text}");
        assert_eq!(
            text.lines()
                .filter(|l| l.starts_with(&format!("  {rule}: ")))
                .count(),
            1
        );
    }
    let fixes = text.find("\nWhat to do\n").unwrap();
    assert!(fixes > text.find("(no app)").unwrap());
}

#[test]
fn notes_are_capped_and_the_summary_counts() {
    let text = table(&report());
    assert!(text.contains("Not searched in full: 25 files\n"));
    assert_eq!(text.matches("  partly_decoded ").count(), MAX_NOTES);
    assert!(text.contains("blob-19.bin") && !text.contains("blob-20.bin"));
    assert!(text.contains("  … and 5 more (every note is in --format json)\n"));
    let summary = &text[text.find("\nSummary\n").unwrap()..];
    assert!(
        summary.contains(
            "  42 files searched, 3.0 MiB (3145728 bytes); files over 64.0 MiB not searched"
        ),
        "{summary}"
    );
    assert!(summary.contains("  13 files skipped: media 12, too_large 1"));
    assert!(summary.contains("  searched by kind: plist 30, sqlite 12"));
    assert!(summary.contains("  4 leaks: credential 2, token 1, personal 1"));
    assert!(summary.contains("  by rule: leak.email-address 1, leak.jwt 1, leak.password-field 2"));
}

#[test]
fn an_empty_report_says_so() {
    let mut r = report();
    r.leaks.clear();
    r.notes.clear();
    r.summary.leaks = 0;
    r.summary.by_category.clear();
    r.summary.by_rule.clear();
    r.summary.files_searched = 7;
    r.app = Some("com.example.app".into());
    r.backup.encrypted = Some(true);
    r.exposure = Exposure::of(Some(true));
    let text = table(&r);
    assert_fits(&text);
    assert!(
        text.contains("\nNo leaks found in 7 files searched\n"),
        "{text}"
    );
    assert!(text.contains("Only app    com.example.app\n"));
    assert!(text.contains("Encrypted   yes\n"));
    assert!(text.contains("and its password"));
    assert!(!text.contains("What to do") && !text.contains("Not searched"));
    assert!(text.contains("  0 leaks\n"));
    let log = r.to_sarif();
    assert_eq!(log["runs"][0]["results"].as_array().unwrap().len(), 0);
    assert_eq!(
        log["runs"][0]["invocations"][0]["properties"]["app"],
        "com.example.app"
    );
}

#[test]
fn sarif_lists_the_leak_rules_and_one_result_per_leak() {
    let r = report();
    let log = sarif::to_value(&r);
    sarif_schema::assert_valid(&sarif_schema::validator(), &log);
    let run = &log["runs"][0];
    let rules = run["tool"]["driver"]["rules"].as_array().unwrap();
    assert_eq!(rules.len(), crate::leaks::builtin().rules.len());
    for l in &r.leaks {
        let rule = crate::leaks::builtin().get(&l.rule).unwrap();
        let d = rules.iter().find(|d| d["id"] == l.rule.as_str()).unwrap();
        assert_eq!(d["shortDescription"]["text"], rule.title.as_str());
        assert_eq!(d["fullDescription"]["text"], rule.why.as_str());
        let help = d["help"]["text"].as_str().unwrap();
        assert!(
            help.contains(&format!("How to fix: {}", rule.fix)),
            "{help}"
        );
        assert!(help.contains("MASWE-0006") && help.contains("MASTG-TEST-0215"));
        assert!(d["properties"]["security-severity"].is_string());
    }
    let results = run["results"].as_array().unwrap();
    assert_eq!(results.len(), 4);
    let got: Vec<(&str, &str)> = results
        .iter()
        .map(|x| (x["ruleId"].as_str().unwrap(), x["level"].as_str().unwrap()))
        .collect();
    assert_eq!(
        got,
        [
            ("leak.jwt", "error"),
            ("leak.password-field", "error"),
            ("leak.email-address", "note"),
            ("leak.password-field", "error"),
        ]
    );
    for (x, l) in results.iter().zip(&r.leaks) {
        let i = x["ruleIndex"].as_u64().unwrap() as usize;
        assert_eq!(rules[i]["id"], x["ruleId"]);
        assert_eq!(x["level"], sarif::level(l.severity));
        assert_eq!(
            x["locations"][0]["physicalLocation"]["artifactLocation"]["uri"],
            sarif::path_uri(std::path::Path::new(&format!("{}/{}", l.domain, l.path)))
        );
    }
    let pw = &results[1];
    assert_eq!(
        pw["message"]["text"],
        format!(
            "Password in a named field in AppDomain-com.example.app/Library/Preferences/com.example.app.plist at /auth/password ({})",
            r.leaks[1].preview
        )
    );
    let p = &pw["properties"];
    assert_eq!(p["app"], "com.example.app");
    assert_eq!(p["category"], "credential");
    assert_eq!(p["confidence"], "high");
    assert_eq!(p["field"], "password");
    assert_eq!(p["deleted"], false);
    assert_eq!(p["occurrences"], 1);
    assert_eq!(p["file_kind"], "plist");
    assert_eq!(p["protection_class"], 3);
    assert!(p.get("value").is_none());
    assert_eq!(results[3]["properties"]["value"], SHOWN);
    assert_eq!(results[2]["properties"]["deleted"], true);
    assert_eq!(results[0]["properties"]["occurrences"], 3);
    assert_eq!(
        results[0]["properties"]["severity"],
        Severity::High.as_str()
    );
    // Fingerprints: distinct, stable, not the value's own.
    let fps: std::collections::BTreeSet<&str> = results
        .iter()
        .map(|x| {
            x["partialFingerprints"][sarif::FINGERPRINT_KEY]
                .as_str()
                .unwrap()
        })
        .collect();
    assert_eq!(fps.len(), 4);
    assert_eq!(sarif::to_value(&r), log);
    // The same value found twice in one file (live, then deleted) keeps two fingerprints.
    let mut twice = report();
    let mut again = twice.leaks[1].clone();
    again.deleted = true;
    twice.leaks.push(again);
    let log = twice.to_sarif();
    let fps: std::collections::BTreeSet<&str> = log["runs"][0]["results"]
        .as_array()
        .unwrap()
        .iter()
        .map(|x| {
            x["partialFingerprints"][sarif::FINGERPRINT_KEY]
                .as_str()
                .unwrap()
        })
        .collect();
    assert_eq!(fps.len(), 5);
}
