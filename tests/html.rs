//! `--format html` end to end: every table row of the page traced to the JSON output of the
//! same command (count and cells), hostile file names, bundle ids and keychain attributes
//! kept as text, no external reference, secrets only with `--show-secrets`, and the page's
//! script run in a real browser (Debian's chromium, headless: sorting, filtering, no error).

mod common;
use common::*;
use scraper::{ElementRef, Html, Selector};
use serde_json::{json, Value};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;

const PASSWORD: &str = "html-test";
const UDID: &str = "00008130-0000000HTML0018";
/// A bundle id that would make elements if it were not escaped (bundle ids and domains
/// hold no `/` and no space: the fixture and the policy refuse them, as iOS does).
const EVIL_APP: &str = "com.evil.\"'&<img><script>alert(1)";
/// A file name that would make a script element if it were not escaped.
const EVIL_PATH: &str = "Documents/<script>alert(1)</script>\"'&.txt";
const EVIL_PLIST: &str = "Library/Preferences/<b>bold</b>&amp;.plist";
const EVIL_SERVICE: &str = "<script>alert(1)</script>\"'&";
/// The password in the hostile file: a leak, never in a report without --show-secrets.
const LEAKED: &str = "Sup3rS3cretValue";
const KEYCHAIN_SECRET: &str = "kc-secret-<script>alert(2)</script>";

fn sel(s: &str) -> Selector {
    Selector::parse(s).unwrap()
}

/// The hostile backup: an app whose bundle id, file names and keychain item carry markup,
/// with a leak and a security switch in those files.
fn evil_backup(dir: &Path) -> PathBuf {
    let mut prefs = plist::Dictionary::new();
    let mut security = plist::Dictionary::new();
    security.insert("pinning".into(), plist::Value::Boolean(true));
    prefs.insert("security".into(), plist::Value::Dictionary(security));
    let mut bytes = Vec::new();
    plist::Value::Dictionary(prefs)
        .to_writer_binary(&mut bytes)
        .unwrap();
    let domain = format!("AppDomain-{EVIL_APP}");
    let spec = json!({
        "seed": "html-test",
        "device": {"name": "<i>Evil</i> \"iPhone\" & 'co'", "product_type": "iPhone16,1", "product_version": "18.1", "build": "22B83", "udid": UDID, "serial": "F2LZHTML0001"},
        "date": "2024-11-15T09:30:00Z",
        "encrypted": true,
        "password": PASSWORD,
        "kdf": {"dpic": 1000, "iter": 10},
        "apps": [{"bundle_id": EVIL_APP, "version": "1.0"}, {"bundle_id": "com.example.plain", "version": "2.0"}],
        "files": [
            {"domain": domain, "path": EVIL_PATH, "class": 4, "content": {"text": format!("user = alice\npassword = {LEAKED}\n")}},
            {"domain": domain, "path": EVIL_PLIST, "class": 3, "content": {"hex": hex::encode(&bytes)}},
            {"domain": "AppDomain-com.example.plain", "path": "Documents/a.txt", "class": 2, "content": {"text": "nothing here"}}
        ],
        "keychain": [
            {"table": "genp", "class": "ak", "access_group": format!("ABCDE12345.{EVIL_APP}"), "service": EVIL_SERVICE, "account": "<u>acct</u>", "secret": KEYCHAIN_SECRET}
        ]
    });
    let spec: auditor::fixture::Spec = serde_json::from_value(spec).unwrap();
    let out = dir.join(UDID);
    auditor::fixture::write(&spec, &out).unwrap();
    out
}

/// A policy on the hostile app that fails (its Documents are backed up).
fn evil_policy(dir: &Path) -> PathBuf {
    let p = dir.join("policy.toml");
    let id = EVIL_APP.replace('\\', "\\\\").replace('"', "\\\"");
    std::fs::write(
        &p,
        format!(
            "schema = 1\n[backup]\nencrypted = true\n\n[[app]]\nbundle_id = \"{id}\"\n\
             must_not_back_up = [\"Documents/**\"]\n\n[[app]]\nbundle_id = \"com.example.plain\"\n\
             must_back_up = [\"Documents/**\"]\n"
        ),
    )
    .unwrap();
    p
}

/// The credentials of a backup: the demo's password file, or the hostile one's password.
fn creds(backup: &Path) -> Vec<String> {
    if backup.ends_with(UDID) {
        vec!["--password".into(), PASSWORD.into()]
    } else {
        vec![
            "--password-file".into(),
            repo(DEMO_PASSWORD_FILE).display().to_string(),
        ]
    }
}

/// Run `auditor <cmd> <backup> <creds> <extra> --format <format>`; its stdout (exit 0 or 1).
fn run(cmd: &str, backup: &Path, extra: &[&str], format: &str) -> String {
    let mut args: Vec<String> = vec![cmd.into(), backup.display().to_string()];
    args.extend(creds(backup));
    args.extend(extra.iter().map(|s| s.to_string()));
    args.extend(["--format".into(), format.into()]);
    let refs: Vec<&str> = args.iter().map(String::as_str).collect();
    let o = auditor(&refs);
    assert!(
        matches!(o.status.code(), Some(0 | 1)),
        "auditor {}: {:?} {}",
        args.join(" "),
        o.status.code(),
        String::from_utf8_lossy(&o.stderr)
    );
    String::from_utf8(o.stdout).unwrap()
}

/// A JSON value as a cell shows it (written here again, independently of the renderer).
fn cell(v: Option<&Value>) -> String {
    match v {
        None | Some(Value::Null) => String::new(),
        Some(Value::Bool(b)) => if *b { "yes" } else { "no" }.into(),
        Some(Value::Number(n)) => n.to_string(),
        Some(Value::String(s)) => s.clone(),
        Some(Value::Array(a)) => a
            .iter()
            .map(|x| cell(Some(x)))
            .collect::<Vec<_>>()
            .join(", "),
        Some(Value::Object(o)) => o
            .iter()
            .filter(|(_, x)| !x.is_null())
            .map(|(k, x)| format!("{k}={}", cell(Some(x))))
            .collect::<Vec<_>>()
            .join(" "),
    }
}

fn text(e: ElementRef) -> String {
    e.text().collect()
}

/// Check every table of `page` against `doc` (the JSON of the same command): each row names
/// its JSON row (`data-source` + `data-index`), each cell of a JSON field shows that field,
/// the `key_cells` (column key → JSON field) are among them, and every row of each array
/// in `sources` is shown exactly once. Returns the number of rows checked and the key
/// columns met.
fn rows_match(
    page: &Html,
    doc: &Value,
    sources: &[&str],
    key_cells: &[(&str, &str)],
) -> (usize, Vec<String>) {
    let mut seen: BTreeMap<String, Vec<usize>> = BTreeMap::new();
    let mut checked = 0;
    let mut keys_met = std::collections::BTreeSet::new();
    for table in page.select(&sel("table")) {
        let source = table.value().attr("data-source").expect("data-source");
        let fields: Vec<(String, Option<String>)> = table
            .select(&sel("thead th"))
            .map(|th| {
                (
                    th.value().attr("data-key").unwrap().to_string(),
                    th.value().attr("data-field").map(str::to_string),
                )
            })
            .collect();
        let body_rows: Vec<ElementRef> = table.select(&sel("tbody tr")).collect();
        assert_eq!(
            table.value().attr("data-rows"),
            Some(body_rows.len().to_string().as_str())
        );
        for tr in body_rows {
            let i: usize = tr.value().attr("data-index").unwrap().parse().unwrap();
            let row = doc
                .pointer(&format!("{source}/{i}"))
                .unwrap_or_else(|| panic!("{source}/{i} is not in the JSON"));
            let cells: Vec<ElementRef> = tr.select(&sel("td")).collect();
            assert_eq!(cells.len(), fields.len(), "{source}/{i}");
            for (td, (key, field)) in cells.iter().zip(&fields) {
                assert_eq!(td.value().attr("data-key"), Some(key.as_str()));
                let Some(field) = field else { continue };
                assert_eq!(
                    text(*td),
                    cell(row.pointer(field)),
                    "{source}/{i} {field} in the page and in the JSON"
                );
                if let Some((k, f)) = key_cells.iter().find(|(k, _)| k == key) {
                    assert_eq!(field, f, "column {k}");
                    keys_met.insert(*k);
                }
            }
            seen.entry(source.to_string()).or_default().push(i);
            checked += 1;
        }
    }
    for s in sources {
        let n = doc.pointer(s).and_then(Value::as_array).map_or(0, Vec::len);
        let mut got = seen.remove(*s).unwrap_or_default();
        got.sort_unstable();
        assert_eq!(
            got,
            (0..n).collect::<Vec<_>>(),
            "the rows of {s}, once each"
        );
    }
    assert!(seen.is_empty(), "tables of other sources: {seen:?}");
    (checked, keys_met.into_iter().map(str::to_string).collect())
}

/// Column keys and the JSON field each must show.
type KeyCells = &'static [(&'static str, &'static str)];

/// The reports to compare: (command, extra args, arrays shown, key cells).
type Case = (&'static str, Vec<String>, &'static [&'static str], KeyCells);

fn cases(policy: &Path) -> Vec<Case> {
    vec![
        (
            "scan",
            vec![],
            &["/findings", "/apps", "/files", "/orphans"],
            &[
                ("path", "/relative_path"),
                ("domain", "/domain"),
                ("status", "/status"),
                ("class", "/protection_class"),
                ("bundle_id", "/bundle_id"),
                ("rule", "/rule"),
            ],
        ),
        (
            "keychain",
            vec![],
            &["/findings", "/items"],
            &[
                ("service", "/service"),
                ("account", "/account"),
                ("class", "/protection_class"),
                ("restore", "/restore/summary"),
                ("fingerprint", "/fingerprint"),
            ],
        ),
        (
            "leaks",
            vec![],
            &["/leaks", "/notes"],
            &[
                ("path", "/path"),
                ("rule", "/rule"),
                ("preview", "/preview"),
                ("fingerprint", "/fingerprint"),
            ],
        ),
        (
            "tamper",
            vec![],
            &["/settings", "/notes"],
            &[("path", "/path"), ("key", "/key"), ("rule", "/rule")],
        ),
        (
            "check",
            vec!["--policy".into(), policy.display().to_string()],
            &["/expectations", "/findings"],
            &[("id", "/id"), ("status", "/status"), ("rule", "/rule")],
        ),
    ]
}

/// The demo's policy, written by `auditor policy init` (every expectation passes).
fn demo_policy(dir: &Path) -> PathBuf {
    let p = dir.join("demo-policy.toml");
    let demo = repo(DEMO);
    let pf = repo(DEMO_PASSWORD_FILE);
    let o = auditor(&[
        "policy",
        "init",
        demo.to_str().unwrap(),
        "--password-file",
        pf.to_str().unwrap(),
        "-o",
        p.to_str().unwrap(),
    ]);
    assert_eq!(
        o.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    p
}

#[test]
fn every_table_row_matches_the_json_of_the_same_command() {
    let tmp = tempfile::tempdir().unwrap();
    let evil = evil_backup(tmp.path());
    let demo = repo(DEMO);
    let evil_pol = evil_policy(tmp.path());
    let demo_pol = demo_policy(tmp.path());
    let mut total = BTreeMap::new();
    let mut met_keys: BTreeMap<&str, (KeyCells, Vec<String>)> = BTreeMap::new();
    for (backup, policy) in [(&demo, &demo_pol), (&evil, &evil_pol)] {
        for (cmd, extra, sources, keys) in cases(policy) {
            let extra: Vec<&str> = extra.iter().map(String::as_str).collect();
            let doc: Value = serde_json::from_str(&run(cmd, backup, &extra, "json")).unwrap();
            let page = Html::parse_document(&run(cmd, backup, &extra, "html"));
            let (n, met) = rows_match(&page, &doc, sources, keys);
            *total.entry(cmd).or_insert(0) += n;
            let all = met_keys.entry(cmd).or_insert_with(|| (keys, Vec::new()));
            all.1.extend(met);
            // The page names the JSON schema it was rendered from.
            let data = page.select(&sel("script#auditor-data")).next().unwrap();
            let data: Value = serde_json::from_str(&text(data)).unwrap();
            assert_eq!(data["schema"], doc["schema"], "{cmd}");
            assert_eq!(data["report"], cmd);
        }
    }
    // Real rows in every report (the demo's files, items, expectations; the hostile
    // backup's leak and switch).
    for (cmd, min) in [
        ("scan", 45),
        ("keychain", 6),
        ("leaks", 2),
        ("tamper", 1),
        ("check", 10),
    ] {
        assert!(total[cmd] >= min, "{cmd}: {} rows", total[cmd]);
    }
    // Each report's key cells were among the cells checked.
    for (cmd, (keys, mut met)) in met_keys {
        met.sort();
        met.dedup();
        let mut want: Vec<String> = keys.iter().map(|k| k.0.to_string()).collect();
        want.sort();
        want.dedup();
        assert_eq!(met, want, "{cmd}: key cells shown");
    }
}

#[test]
fn charts_show_the_counts_of_the_json() {
    let demo = repo(DEMO);
    let doc: Value = serde_json::from_str(&run("scan", &demo, &[], "json")).unwrap();
    let page = Html::parse_document(&run("scan", &demo, &[], "html"));
    let chart = |title: &str| -> Vec<(String, u64)> {
        let svg = page
            .select(&sel("svg.bars"))
            .find(|s| s.select(&sel("title")).next().map(text).as_deref() == Some(title))
            .unwrap_or_else(|| panic!("no chart {title}"));
        svg.select(&sel("g"))
            .map(|g| {
                let v = g.value();
                let label = v.attr("data-label").unwrap();
                let class = label.split(' ').next().unwrap().to_string();
                (class, v.attr("data-count").unwrap().parse().unwrap())
            })
            .collect()
    };
    let mut want: Vec<(String, u64)> = doc["summary"]["by_protection_class"]
        .as_object()
        .unwrap()
        .iter()
        .map(|(k, v)| (k.clone(), v["files"].as_u64().unwrap()))
        .collect();
    let mut got = chart("Files by protection class");
    want.sort();
    got.sort();
    assert_eq!(got, want);
    let restore: Vec<(String, u64)> = doc["keychain"]["by_restore"]
        .as_object()
        .unwrap()
        .iter()
        .map(|(k, v)| (k.clone(), v.as_u64().unwrap()))
        .collect();
    assert_eq!(chart("Keychain items by restore outcome"), restore);
    // Keychain classes in numeric order, as the JSON lists them.
    let classes: Vec<String> = chart("Keychain items by protection class")
        .into_iter()
        .map(|c| c.0)
        .collect();
    assert_eq!(classes, ["6", "7", "8", "9", "10", "11"]);
}

#[test]
fn hostile_names_stay_text() {
    let tmp = tempfile::tempdir().unwrap();
    let evil = evil_backup(tmp.path());
    let pol = evil_policy(tmp.path());
    for (cmd, extra, _, _) in cases(&pol) {
        let extra: Vec<&str> = extra.iter().map(String::as_str).collect();
        let raw = run(cmd, &evil, &extra, "html");
        let page = Html::parse_document(&raw);
        // No element made by the data: only the page's own two scripts, no img, no b/u/i.
        assert_eq!(page.select(&sel("script")).count(), 2, "{cmd}");
        for tag in ["img", "b", "u", "i", "iframe", "object", "embed"] {
            assert_eq!(
                page.select(&sel(tag)).count(),
                0,
                "{cmd}: a <{tag}> element"
            );
        }
        let script = page.select(&sel("script:not([type])")).next().unwrap();
        assert!(!text(script).contains("alert"), "{cmd}");
        // The names come out as the same text.
        let cells: Vec<String> = page.select(&sel("td")).map(text).collect();
        let all_text: String = page.root_element().text().collect();
        match cmd {
            "scan" => {
                assert!(cells.iter().any(|c| c == EVIL_PATH), "{cmd}: {cells:?}");
                assert!(cells.iter().any(|c| c == EVIL_PLIST), "{cmd}");
                assert!(cells.iter().any(|c| c == EVIL_APP), "{cmd}");
                let h2: Vec<String> = page.select(&sel("h2")).map(text).collect();
                assert!(h2.iter().any(|h| h == EVIL_APP), "{h2:?}");
                let title = text(page.select(&sel("title")).next().unwrap());
                assert_eq!(title, "auditor scan: <i>Evil</i> \"iPhone\" & 'co'");
            }
            "keychain" => {
                assert!(cells.iter().any(|c| c == EVIL_SERVICE), "{cells:?}");
                assert!(cells.iter().any(|c| c == "<u>acct</u>"), "{cells:?}");
            }
            "leaks" => assert!(cells.iter().any(|c| c == EVIL_PATH), "{cells:?}"),
            "tamper" => assert!(cells.iter().any(|c| c == EVIL_PLIST), "{cells:?}"),
            "check" => {
                assert!(all_text.contains(EVIL_APP), "{cmd}");
                assert!(
                    cells.iter().any(|c| c.contains(EVIL_PATH)),
                    "check names the file: {cells:?}"
                );
            }
            _ => unreachable!(),
        }
        // The section links and ids hold no markup.
        for a in page.select(&sel("nav a")) {
            let href = a.value().attr("href").unwrap();
            assert!(href.starts_with('#'));
            assert!(href[1..]
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '-'));
        }
        // The script's data: `<` never raw inside it.
        let data = page.select(&sel("script#auditor-data")).next().unwrap();
        assert!(!text(data).contains('<'));
    }
}

#[test]
fn no_external_reference() {
    let tmp = tempfile::tempdir().unwrap();
    let evil = evil_backup(tmp.path());
    let demo = repo(DEMO);
    let pols = [
        (demo.clone(), demo_policy(tmp.path())),
        (evil.clone(), evil_policy(tmp.path())),
    ];
    for (backup, pol) in &pols {
        for (cmd, extra, _, _) in cases(pol) {
            let extra: Vec<&str> = extra.iter().map(String::as_str).collect();
            let raw = run(cmd, backup, &extra, "html");
            let page = Html::parse_document(&raw);
            for e in page
                .root_element()
                .descendants()
                .filter_map(ElementRef::wrap)
            {
                let v = e.value();
                for attr in ["src", "srcset", "action", "formaction", "data", "poster"] {
                    assert!(v.attr(attr).is_none(), "{cmd}: <{} {attr}>", v.name());
                }
                if let Some(h) = v.attr("href").or(v.attr("xlink:href")) {
                    assert!(h.starts_with('#'), "{cmd}: href {h}");
                }
                assert!(
                    !["link", "iframe", "img", "object", "embed", "base", "audio", "video"]
                        .contains(&v.name()),
                    "{cmd}: <{}>",
                    v.name()
                );
            }
            for style in page.select(&sel("style")) {
                let css = text(style);
                assert!(!css.contains("@import") && !css.contains("url("), "{cmd}");
                assert!(!css.contains("http:") && !css.contains("https:"), "{cmd}");
            }
            let script = text(page.select(&sel("script:not([type])")).next().unwrap());
            for net in [
                "http:",
                "https:",
                "fetch(",
                "XMLHttpRequest",
                "import(",
                "src",
            ] {
                assert!(!script.contains(net), "{cmd}: the script names {net}");
            }
            // And the browser is told to load nothing from anywhere.
            let csp = page
                .select(&sel("meta[http-equiv=Content-Security-Policy]"))
                .next()
                .expect("a CSP");
            assert!(csp
                .value()
                .attr("content")
                .unwrap()
                .starts_with("default-src 'none'"));
        }
    }
}

#[test]
fn secrets_only_with_show_secrets_as_in_the_table() {
    let tmp = tempfile::tempdir().unwrap();
    let evil = evil_backup(tmp.path());
    for (cmd, secret) in [("keychain", KEYCHAIN_SECRET), ("leaks", LEAKED)] {
        let table = run(cmd, &evil, &[], "table");
        let html = run(cmd, &evil, &[], "html");
        assert!(!table.contains(secret) && !html.contains(secret), "{cmd}");
        let page = Html::parse_document(&html);
        assert!(!page
            .root_element()
            .text()
            .collect::<String>()
            .contains(secret));
        let table = run(cmd, &evil, &["--show-secrets"], "table");
        assert!(
            table.contains(secret),
            "{cmd}: the table shows it when asked"
        );
        let page = Html::parse_document(&run(cmd, &evil, &["--show-secrets"], "html"));
        let cells: Vec<String> = page.select(&sel("td")).map(text).collect();
        assert!(cells.iter().any(|c| c == secret), "{cmd}: {cells:?}");
    }
}

/// Debian's chromium, when installed (`.ci/run` installs it; CI fails without it).
fn chromium() -> Option<PathBuf> {
    let found = ["/usr/bin/chromium", "/usr/bin/chromium-browser"]
        .iter()
        .map(PathBuf::from)
        .find(|p| p.exists());
    if found.is_none() {
        assert!(
            std::env::var("CI").as_deref() != Ok("true"),
            "CI=true but chromium is not installed (.ci/run installs it)"
        );
        eprintln!("skipped: chromium is not installed (apt-get install chromium)");
    }
    found
}

/// The page's DOM after its scripts ran (`--dump-dom`), and chromium's stderr.
fn dump_dom(browser: &Path, file: &Path, fragment: &str) -> (String, String) {
    let profile = tempfile::tempdir().unwrap();
    let url = format!("file://{}{fragment}", file.display());
    let o = Command::new(browser)
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--enable-logging=stderr",
            "--v=0",
        ])
        .arg(format!("--user-data-dir={}", profile.path().display()))
        .arg("--dump-dom")
        .arg(&url)
        .output()
        .expect("run chromium");
    let err = String::from_utf8_lossy(&o.stderr).into_owned();
    assert!(o.status.success(), "chromium {url}: {err}");
    (String::from_utf8(o.stdout).unwrap(), err)
}

/// No script error in chromium's log, and the page's own marker set.
fn ran_cleanly(dom: &Html, log: &str) {
    for l in log.lines() {
        assert!(
            !(l.contains("Uncaught") || (l.contains("CONSOLE") && l.contains("rror"))),
            "console: {l}"
        );
    }
    let html = dom.select(&sel("html")).next().unwrap();
    assert_eq!(html.value().attr("data-ready"), Some("ok"));
}

#[test]
fn chromium_sorts_and_filters_without_errors() {
    let Some(browser) = chromium() else { return };
    let tmp = tempfile::tempdir().unwrap();
    let file = tmp.path().join("scan.html");
    std::fs::write(&file, run("scan", &repo(DEMO), &[], "html")).unwrap();
    let path_cells = |t: ElementRef, hidden: bool| -> Vec<String> {
        t.select(&sel("tbody tr"))
            .filter(|tr| tr.value().attr("hidden").is_some() == hidden)
            .map(|tr| text(tr.select(&sel("td[data-key=path]")).next().unwrap()))
            .collect()
    };
    // Sorted by path, descending: every files table in that order.
    let (dom, log) = dump_dom(&browser, &file, "#sort=-path");
    let dom = Html::parse_document(&dom);
    ran_cleanly(&dom, &log);
    let mut tables = 0;
    for t in dom.select(&sel("table[data-source='/files']")) {
        let got = path_cells(t, false);
        let mut want = got.clone();
        want.sort_by_key(|p| std::cmp::Reverse(p.to_lowercase()));
        assert_eq!(got, want);
        assert!(path_cells(t, true).is_empty(), "no filter: nothing hidden");
        let th = t.select(&sel("th[data-key=path]")).next().unwrap();
        assert_eq!(th.value().attr("aria-sort"), Some("descending"));
        tables += 1;
    }
    assert!(tables >= 2, "{tables} files tables");
    // A real reordering: the rows were written in the JSON's order (by domain and path).
    let other = dom
        .select(&sel("table[data-source='/files']"))
        .max_by_key(|t| t.select(&sel("tbody tr")).count())
        .unwrap();
    let index: Vec<usize> = other
        .select(&sel("tbody tr"))
        .map(|tr| tr.value().attr("data-index").unwrap().parse().unwrap())
        .collect();
    assert!(
        index.len() > 3 && index.windows(2).any(|w| w[0] > w[1]),
        "{index:?}"
    );
    // Filtered: rows without "sms" hidden, the rest shown, and the counts say so.
    let (dom, log) = dump_dom(&browser, &file, "#sort=path&filter=SMS");
    let dom = Html::parse_document(&dom);
    ran_cleanly(&dom, &log);
    let (mut shown, mut hidden) = (0, 0);
    for tr in dom.select(&sel("tbody tr")) {
        let t = text(tr).to_lowercase();
        if tr.value().attr("hidden").is_some() {
            assert!(!t.contains("sms"), "{t}");
            hidden += 1;
        } else {
            assert!(t.contains("sms"), "{t}");
            shown += 1;
        }
    }
    assert!(shown >= 1 && hidden > 10, "{shown} shown, {hidden} hidden");
    for t in dom.select(&sel("table[data-source='/files']")) {
        let got = path_cells(t, false);
        let mut want = got.clone();
        want.sort_by_key(|p| p.to_lowercase());
        assert_eq!(got, want);
    }
    let filter = dom.select(&sel("input#filter")).next().unwrap();
    assert_eq!(
        filter.value().attr("value"),
        None,
        "the box is set as a property"
    );
    let counts: Vec<String> = dom.select(&sel("p.count")).map(text).collect();
    assert!(counts.iter().any(|c| c.contains(" of ")), "{counts:?}");
    // The hostile report runs cleanly too, its names still text.
    let evil = evil_backup(tmp.path());
    let file = tmp.path().join("evil.html");
    std::fs::write(&file, run("scan", &evil, &[], "html")).unwrap();
    let (dom, log) = dump_dom(&browser, &file, "#filter=%3C%2Fscript%3E%22");
    let dom = Html::parse_document(&dom);
    ran_cleanly(&dom, &log);
    assert_eq!(dom.select(&sel("script")).count(), 2);
    assert_eq!(dom.select(&sel("img")).count(), 0);
    let shown: Vec<String> = dom
        .select(&sel("tbody tr:not([hidden]) td[data-key=path]"))
        .map(text)
        .collect();
    assert_eq!(
        shown,
        [EVIL_PATH],
        "the filter </script>\" matches the file named so"
    );
}
