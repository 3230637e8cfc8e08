//! `auditor check` with leak expectations (`[app.leaks]`, `[[leak_rule]]`): forbidden leaks
//! fail as `policy.leak`, allowlists by fingerprint and path glob, user rules, policy
//! errors, and no planted value in any output.

mod common;

use common::{auditor, json};
use serde_json::{json, Value};
use std::path::{Path, PathBuf};
use std::process::Output;

const PASSWORD: &str = "leaks-pw";
/// Planted values: none may appear in any output.
const AWS_KEY: &str = "AKIAZ7VRSQ4TBXW2NM5D";
const APP_PASSWORD: &str = "Tr0ub4dor-Horse9";
const INTERNAL_KEY: &str = "ik_Q7vN3xLk2Pw9Rt5Yb7Hc4Jd6Fg1Sm0Qa";
/// A near miss of the user rule (31 characters after `ik_`).
const NEAR_MISS: &str = "ik_Q7vN3xLk2Pw9Rt5Yb7Hc4Jd6Fg1Sm0Q";

const BANK: &str = "com.example.bank";
const PREFS: &str = "Library/Preferences/com.example.bank.plist";
const SEED: &str = "Documents/fixtures/seed.txt";

fn spec() -> Value {
    let plist = format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<plist version=\"1.0\"><dict><key>lastUser</key><string>alice</string><key>password</key><string>{APP_PASSWORD}</string><key>awsKeyId</key><string>{AWS_KEY}</string></dict></plist>\n"
    );
    json!({
        "seed": "policy-leaks-v1",
        "device": {"name": "Leaks iPhone", "product_type": "iPhone15,2", "product_version": "17.5.1",
                   "build": "21F90", "udid": "00008120-0000LEAKS0000001", "serial": "F2LZKLEAKS01"},
        "date": "2024-06-01T12:00:00Z",
        "encrypted": true,
        "password": PASSWORD,
        "kdf": {"dpic": 1000, "iter": 10},
        "apps": [
            {"bundle_id": BANK, "version": "5.2"},
            {"bundle_id": "com.example.notes", "version": "3.1"}
        ],
        "files": [
            {"domain": "AppDomain-com.example.bank", "path": PREFS, "class": 3,
             "content": {"text": plist}},
            {"domain": "AppDomain-com.example.bank", "path": SEED, "class": 3,
             "content": {"text": format!("seeded test data\ninternal={INTERNAL_KEY}\nnot-a-key={NEAR_MISS}\n")}},
            {"domain": "AppDomain-com.example.notes", "path": "Documents/n.txt", "class": 3,
             "content": {"text": format!("aws {AWS_KEY}\n")}}
        ]
    })
}

struct Fixture {
    _dir: tempfile::TempDir,
    backup: PathBuf,
    root: PathBuf,
}

fn build() -> Fixture {
    let dir = tempfile::tempdir().unwrap();
    let backup = dir.path().join("backup");
    let spec: auditor::fixture::Spec = serde_json::from_value(spec()).unwrap();
    auditor::fixture::write(&spec, &backup).unwrap();
    std::fs::write(dir.path().join("pw.txt"), PASSWORD).unwrap();
    Fixture {
        root: dir.path().to_path_buf(),
        backup,
        _dir: dir,
    }
}

impl Fixture {
    fn policy(&self, name: &str, text: &str) -> PathBuf {
        let p = self.root.join(name);
        std::fs::write(&p, text).unwrap();
        p
    }
    fn check(&self, policy: &Path, extra: &[&str]) -> Output {
        let b = self.backup.display().to_string();
        let p = policy.display().to_string();
        let pw = self.root.join("pw.txt").display().to_string();
        let mut args = vec!["check", &b, "--policy", &p, "--password-file", &pw];
        args.extend_from_slice(extra);
        auditor(&args)
    }
    fn check_json(&self, policy: &Path) -> (i32, Value) {
        let out = self.check(policy, &["--format", "json"]);
        assert_no_planted_value(&out);
        (out.status.code().unwrap_or(-1), json(&out))
    }
}

fn assert_no_planted_value(out: &Output) {
    for (what, bytes) in [("stdout", &out.stdout), ("stderr", &out.stderr)] {
        let text = String::from_utf8_lossy(bytes);
        for v in [AWS_KEY, APP_PASSWORD, INTERNAL_KEY] {
            assert!(!text.contains(v), "{what} holds a planted value:\n{text}");
        }
    }
}

fn leak_findings(r: &Value) -> Vec<&Value> {
    r["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["rule"] == "policy.leak")
        .collect()
}

fn leak_rules_of(r: &Value) -> Vec<String> {
    let mut v: Vec<String> = leak_findings(r)
        .iter()
        .map(|f| f["leak"]["rule"].as_str().unwrap().to_string())
        .collect();
    v.sort();
    v
}

fn expectation<'a>(r: &'a Value, id: &str) -> &'a Value {
    r["expectations"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["id"] == id)
        .unwrap_or_else(|| panic!("no expectation {id} in {r:#}"))
}

const USER_RULE: &str = r#"
[[leak_rule]]
id = "user.internal-api-key"
category = "token"
pattern = '\bik_[A-Za-z0-9]{32}\b'
title = "Internal API key"
examples = ["key=ik_abcdefghijklmnopqrstuvwxyz012345"]
non_examples = ["key=ik_abcdefghijklmnopqrstuvwxyz01234"]
"#;

fn bank_policy(leaks: &str) -> String {
    format!("schema = 1\n\n[[app]]\nbundle_id = \"{BANK}\"\n[app.leaks]\n{leaks}\n{USER_RULE}")
}

#[test]
fn forbidden_leaks_fail_and_allowlists_pass() {
    let fx = build();
    // Default forbid: credential, token, private_key.
    let pol = fx.policy("p.toml", &bank_policy(""));
    let (code, r) = fx.check_json(&pol);
    assert_eq!(code, 1, "{r:#}");
    assert_eq!(
        leak_rules_of(&r),
        [
            "leak.aws-access-key-id",
            "leak.password-field",
            "user.internal-api-key"
        ],
        "{r:#}"
    );
    let e = expectation(&r, "app/com.example.bank/leaks");
    assert_eq!(e["status"], "fail");
    assert_eq!(e["rule"], "policy.leak");
    assert_eq!(e["policy_line"], 5);
    for f in leak_findings(&r) {
        assert_eq!(f["app"], BANK);
        let l = &f["leak"];
        assert_eq!(l["fingerprint"].as_str().unwrap().len(), 16);
        let msg = f["message"].as_str().unwrap();
        assert!(msg.contains(l["rule"].as_str().unwrap()), "{msg}");
        assert!(msg.contains(l["fingerprint"].as_str().unwrap()), "{msg}");
        assert_eq!(
            f["location"]["domain"], "AppDomain-com.example.bank",
            "{f:#}"
        );
    }
    let aws = leak_findings(&r)
        .into_iter()
        .find(|f| f["leak"]["rule"] == "leak.aws-access-key-id")
        .unwrap();
    assert_eq!(aws["leak"]["location"], "/awsKeyId");
    assert_eq!(aws["leak"]["category"], "token");
    assert!(aws["message"].as_str().unwrap().contains(PREFS));
    // The notes app holds the AWS key too, but has no [app.leaks]: not swept, no finding.
    assert!(leak_findings(&r).iter().all(|f| f["app"] == BANK));

    // Only `personal` forbidden: nothing of it here; the others are counted in the note.
    let pol = fx.policy("p2.toml", &bank_policy("forbid = [\"personal\"]"));
    let (code, r) = fx.check_json(&pol);
    assert_eq!(code, 0, "{r:#}");
    let note = expectation(&r, "app/com.example.bank/leaks")["note"]
        .as_str()
        .unwrap()
        .to_string();
    assert!(note.contains("3 other leaks not forbidden"), "{note}");

    // Allowed by fingerprint (from the first run's JSON), by path glob, by rule + path.
    let fp = aws["leak"]["fingerprint"].as_str().unwrap();
    let pol = fx.policy(
        "p3.toml",
        &bank_policy(&format!(
            "allow = [\n  {{ fingerprint = \"{fp}\", reason = \"test key\" }},\n  {{ path = \"Documents/fixtures/**\" }},\n  {{ rule = \"leak.password-field\", path = \"Library/Preferences/*.plist\" }},\n  {{ path = \"tmp/**\" }},\n]"
        )),
    );
    let (code, r) = fx.check_json(&pol);
    assert_eq!(code, 0, "{r:#}");
    let e = expectation(&r, "app/com.example.bank/leaks");
    assert_eq!(e["status"], "pass");
    let note = e["note"].as_str().unwrap();
    assert!(
        note.contains("3 leaks allowed by the policy (line 7: 1, line 8: 1, line 9: 1)"),
        "{note}"
    );
    assert!(
        note.contains("allow entry at line 10 (path=tmp/**) matched no leak"),
        "{note}"
    );
    // The table shows the allowlist count too.
    let out = fx.check(&pol, &[]);
    assert_eq!(out.status.code(), Some(0));
    assert!(String::from_utf8_lossy(&out.stdout).contains("3 leaks allowed by the policy"));

    // A fingerprint allows only that value: the others still fail.
    let pol = fx.policy(
        "p4.toml",
        &bank_policy(&format!("allow = [{{ fingerprint = \"{fp}\" }}]")),
    );
    let (code, r) = fx.check_json(&pol);
    assert_eq!(code, 1);
    assert_eq!(
        leak_rules_of(&r),
        ["leak.password-field", "user.internal-api-key"]
    );

    // Forbid by rule id: only that rule.
    let pol = fx.policy(
        "p5.toml",
        &bank_policy("forbid = [\"user.internal-api-key\"]"),
    );
    let (code, r) = fx.check_json(&pol);
    assert_eq!(code, 1);
    assert_eq!(leak_rules_of(&r), ["user.internal-api-key"]);
    // The user rule fires once: on its pattern, not on the near miss in the same file.
    assert_eq!(leak_findings(&r).len(), 1);
    let f = leak_findings(&r)[0];
    assert!(f["message"].as_str().unwrap().contains(SEED));
    assert_eq!(f["leak"]["location"], "line 2 (byte 17)");
}

#[test]
fn every_format_keeps_values_out_and_sarif_fingerprints_each_leak() {
    let fx = build();
    let pol = fx.policy("p.toml", &bank_policy(""));
    for format in ["table", "json", "sarif", "junit"] {
        let out = fx.check(&pol, &["--format", format]);
        assert_eq!(out.status.code(), Some(1), "{format}");
        assert_no_planted_value(&out);
    }
    let out = fx.check(&pol, &["--format", "sarif"]);
    let sarif = json(&out);
    let validator = common::sarif::validator();
    common::sarif::assert_valid(&validator, &sarif);
    let run = &sarif["runs"][0];
    let rules: Vec<&str> = run["tool"]["driver"]["rules"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["id"].as_str().unwrap())
        .collect();
    assert!(rules.contains(&"policy.leak"));
    let results: Vec<&Value> = run["results"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| r["ruleId"] == "policy.leak")
        .collect();
    assert_eq!(results.len(), 3);
    let fps: std::collections::HashSet<&str> = results
        .iter()
        .map(|r| {
            r["partialFingerprints"]["auditorFinding/v1"]
                .as_str()
                .unwrap()
        })
        .collect();
    // Two leaks of one file have distinct fingerprints.
    assert_eq!(fps.len(), 3);
    for r in &results {
        let logical = r["locations"][0]["logicalLocations"][0]["name"]
            .as_str()
            .unwrap();
        assert!(
            logical.starts_with("AppDomain-com.example.bank/"),
            "{logical}"
        );
        assert!(r["message"]["text"]
            .as_str()
            .unwrap()
            .contains("fingerprint "));
    }
    // The same leaks give the same fingerprints in another run, with the policy's lines moved.
    let moved = fx.policy("p.toml", &format!("# moved\n\n{}", bank_policy("")));
    let again = json(&fx.check(&moved, &["--format", "sarif"]));
    let fps2: std::collections::HashSet<String> = again["runs"][0]["results"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| r["ruleId"] == "policy.leak")
        .map(|r| {
            r["partialFingerprints"]["auditorFinding/v1"]
                .as_str()
                .unwrap()
                .to_string()
        })
        .collect();
    assert_eq!(
        fps2,
        fps.iter().map(|s| s.to_string()).collect(),
        "fingerprints independent of policy lines"
    );
}

/// A bad policy: exit 2, `file:line:col: message` on stderr.
fn bad(fx: &Fixture, text: &str, line: usize, want: &str) {
    let pol = fx.policy("bad.toml", text);
    let out = fx.check(&pol, &[]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(
        err.contains(&format!("bad.toml:{line}:")),
        "want line {line}: {err}"
    );
    assert!(err.contains(want), "want {want:?}: {err}");
}

#[test]
fn bad_leak_policies_exit_2_with_the_line() {
    let fx = build();
    let app = "schema = 1\n[[app]]\nbundle_id = \"com.example.bank\"\n[app.leaks]\n";
    bad(
        &fx,
        &format!("{app}forbid = [\"token\"]\nallowed = []\n"),
        6,
        "unknown field `allowed`",
    );
    bad(
        &fx,
        &format!("{app}forbid = [\"tokens\"]\n"),
        5,
        "unknown leak category or rule \"tokens\"",
    );
    bad(
        &fx,
        &format!("{app}allow = [{{ fingerprint = \"xyz\" }}]\n"),
        5,
        "bad fingerprint",
    );
    bad(
        &fx,
        &format!("{app}allow = [{{ path = \"Documents/**\", color = \"red\" }}]\n"),
        5,
        "unknown field `color`",
    );
    bad(
        &fx,
        &format!("{app}allow = [{{ rule = \"leak.nope\" }}]\n"),
        5,
        "unknown leak rule \"leak.nope\"",
    );
    let rule = |body: &str| {
        format!("schema = 1\n\n[[leak_rule]]\nid = \"user.k\"\ncategory = \"token\"\n{body}")
    };
    bad(
        &fx,
        &rule("pattern = 'ik_[A-Z'\nexamples = [\"ik_A\"]\nnon_examples = [\"x\"]\n"),
        6,
        "bad leak rule pattern",
    );
    bad(
        &fx,
        &rule("pattern = 'ik_[A-Z]+'\nexamples = [\"ik_A\", \"ik_b\"]\nnon_examples = [\"x\"]\n"),
        7,
        "example 2 of leak rule user.k does not match its pattern",
    );
    bad(
        &fx,
        &rule("pattern = 'ik_[A-Z]+'\nexamples = [\"ik_A\"]\nnon_examples = [\n  \"x\",\n  \"ik_B\",\n]\n"),
        10,
        "non-example 2 of leak rule user.k matches its pattern",
    );
    bad(
        &fx,
        &rule("pattern = 'ik_[A-Z]+'\nexamples = [\"ik_A\"]\n"),
        3,
        "missing field `non_examples`",
    );
    bad(
        &fx,
        "schema = 1\n[[leak_rule]]\nid = \"leak.mine\"\ncategory = \"token\"\npattern = 'x'\nexamples = [\"x\"]\nnon_examples = [\"y\"]\n",
        3,
        "bad leak rule id",
    );
    bad(
        &fx,
        &rule("pattern = 'ik_[A-Z]+'\nexamples = [\"ik_A\"]\nnon_examples = [\"x\"]\nvalue = 1\n"),
        9,
        "unknown field `value`",
    );
}

#[test]
fn policy_init_suggests_leaks_that_work_when_uncommented() {
    let fx = build();
    let b = fx.backup.display().to_string();
    let pw = fx.root.join("pw.txt").display().to_string();
    let out = auditor(&["policy", "init", &b, "--password-file", &pw, "--app", BANK]);
    assert_eq!(out.status.code(), Some(0));
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(text.contains("# [app.leaks]"), "{text}");
    // Uncommented, the suggestion is a valid expectation: the preferences' password and AWS
    // key fail; the allow entry allows nothing here (the seeded key needs the user rule).
    let uncommented: String = text
        .lines()
        .map(|l| {
            if l.starts_with("# [app.leaks]")
                || l.starts_with("# forbid = ")
                || l.starts_with("# allow = ")
            {
                &l[2..]
            } else {
                l
            }
        })
        .collect::<Vec<_>>()
        .join("\n");
    let pol = fx.policy("init.toml", &uncommented);
    let (code, r) = fx.check_json(&pol);
    assert_eq!(code, 1, "{r:#}\n{uncommented}");
    assert_eq!(
        leak_rules_of(&r),
        ["leak.aws-access-key-id", "leak.password-field"]
    );
    let note = expectation(&r, "app/com.example.bank/leaks")["note"]
        .as_str()
        .unwrap();
    assert!(
        note.contains("(path=Documents/fixtures/**) matched no leak"),
        "{note}"
    );
}
