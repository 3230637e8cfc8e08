//! End-to-end tests of `auditor check` and `auditor policy init` over fixture backups:
//! each rule passing and failing, exit codes, JSON, SARIF (validated against the official
//! SARIF 2.1.0 schema) and JUnit (parsed back).

mod common;

use common::{auditor, json};
use serde_json::{json, Value};
use std::path::{Path, PathBuf};
use std::process::Output;

const PASSWORD: &str = "policy-pw";
const DEVICE_KEY: &str = "00112233445566778899aabbccddeeff";

/// A big text file: the canary straddles the 256 KiB search-window boundary.
fn big_text_with_canary() -> String {
    let mut s = "a".repeat(262_144 - 5);
    s.push_str("CANARY-BIG-0001");
    s.push_str(&"b".repeat(300_000));
    s
}

/// The base spec: an encrypted backup that satisfies `GOOD_POLICY`.
fn base_spec() -> Value {
    json!({
        "seed": "policy-tests-v1",
        "device": {"name": "Policy iPhone", "product_type": "iPhone15,2", "product_version": "17.5.1",
                   "build": "21F90", "udid": "00008120-0000POLICY0000001", "serial": "F2LZKPOLICY1"},
        "date": "2024-06-01T12:00:00Z",
        "encrypted": true,
        "password": PASSWORD,
        "kdf": {"dpic": 10, "iter": 1},
        "device_key": DEVICE_KEY,
        "apps": [
            {"bundle_id": "com.example.bank", "version": "5.2", "groups": ["group.com.example.bank"],
             "plugins": ["com.example.bank.widget"]},
            {"bundle_id": "com.example.notes", "version": "3.1"}
        ],
        "files": [
            {"domain": "AppDomain-com.example.bank", "path": "Documents/accounts.sqlite", "class": 1,
             "content": {"size": 8192, "pattern": "sqlite"}},
            {"domain": "AppDomain-com.example.bank", "path": "Documents/report.pdf", "class": 1,
             "content": {"size": 40000, "pattern": "random"}},
            {"domain": "AppDomain-com.example.bank", "path": "Library/Preferences/com.example.bank.plist",
             "class": 3, "content": {"text": "<plist><dict><key>lastUser</key><string>alice</string></dict></plist>"}},
            {"domain": "AppDomain-com.example.bank", "path": "Library/Application Support/big.log", "class": 3,
             "content": {"text": "nothing to see here\n"}},
            {"domain": "AppDomainGroup-group.com.example.bank", "path": "shared.sqlite", "class": 3,
             "content": {"size": 4096, "pattern": "sqlite"}},
            {"domain": "AppDomainPlugin-com.example.bank.widget", "path": "Library/cache.json", "class": 4,
             "content": {"text": "{\"balance\": 12}"}},
            {"domain": "AppDomain-com.example.notes", "path": "Documents/n.txt", "class": 3,
             "content": {"text": "shopping list"}}
        ],
        "keychain": [
            {"table": "genp", "class": "ak", "access_group": "ABCDE12345.com.example.bank",
             "service": "com.example.bank.session", "account": "alice", "secret": "CANARY-SECRET-ONLY"},
            {"table": "genp", "class": "aku", "access_group": "ABCDE12345.com.example.bank",
             "service": "com.example.bank.biometric", "account": "alice", "secret": "pin-1234"},
            {"table": "inet", "class": "ck", "access_group": "ABCDE12345.com.example.bank",
             "server": "api.example.com", "account": "alice", "port": 443, "secret": "pw"},
            {"table": "genp", "class": "ck", "access_group": "FGHIJ67890.com.example.notes",
             "service": "com.example.notes.sync", "account": "alice", "secret": "notes"}
        ]
    })
}

const GOOD_POLICY: &str = r#"schema = 1

[backup]
encrypted = true
min_kdf_rounds = 10
complete = true

[[app]]
bundle_id = "com.example.bank"
must_not_back_up = ["Library/Caches/**", "tmp/**"]
must_back_up = ["Documents/**"]

[[app.min_protection]]
glob = "Documents/**"
class = "complete"

[[app.min_protection]]
glob = "**"
class = "none"

[[app.keychain]]
service = "com.example.bank.session"
expect = "migratable"

[[app.keychain]]
service = "com.example.bank.biometric"
account = "alice"
expect = "device-bound"

[[app.keychain]]
service = "com.example.bank.passcode-only"
expect = "absent"

[[app.canary]]
name = "token"
literal = "CANARY-SECRET-ONLY"

[[app.canary]]
name = "big"
literal = "CANARY-BIG-0001"

[[app]]
bundle_id = "com.example.notes"
must_back_up = ["Documents/n.txt"]
"#;

/// A fixture backup with its password file beside it.
struct Fixture {
    _dir: tempfile::TempDir,
    backup: PathBuf,
    root: PathBuf,
}

/// Write the backup of `spec` and the password file.
fn build(spec: &Value) -> Fixture {
    let dir = tempfile::tempdir().unwrap();
    let backup = dir.path().join("backup");
    let spec: auditor::fixture::Spec = serde_json::from_value(spec.clone()).unwrap();
    auditor::fixture::write(&spec, &backup).unwrap();
    std::fs::write(dir.path().join("pw.txt"), PASSWORD).unwrap();
    Fixture {
        root: dir.path().to_path_buf(),
        backup,
        _dir: dir,
    }
}

impl Fixture {
    /// Write policy `text` beside the backup as `name`.
    fn policy(&self, name: &str, text: &str) -> PathBuf {
        let p = self.root.join(name);
        std::fs::write(&p, text).unwrap();
        p
    }
    /// Path of the password file.
    fn pw(&self) -> String {
        self.root.join("pw.txt").display().to_string()
    }
    /// Run check with the password (and `extra` args).
    fn check(&self, policy: &Path, extra: &[&str]) -> Output {
        let b = self.backup.display().to_string();
        let p = policy.display().to_string();
        let pw = self.pw();
        let mut args = vec!["check", &b, "--policy", &p, "--password-file", &pw];
        args.extend_from_slice(extra);
        auditor(&args)
    }
    /// Run check with `--format json`: the exit code and the report.
    fn check_json(&self, policy: &Path, extra: &[&str]) -> (i32, Value) {
        let mut a = vec!["--format", "json"];
        a.extend_from_slice(extra);
        let out = self.check(policy, &a);
        (out.status.code().unwrap_or(-1), json(&out))
    }
}

/// The base spec with `f` applied.
fn spec_with(f: impl FnOnce(&mut Value)) -> Value {
    let mut s = base_spec();
    f(&mut s);
    s
}

/// The expectation `id` of a JSON report.
fn expectation<'a>(r: &'a Value, id: &str) -> &'a Value {
    r["expectations"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["id"] == id)
        .unwrap_or_else(|| panic!("no expectation {id} in {r:#}"))
}

/// The findings of rule `rule` in a JSON report.
fn findings<'a>(r: &'a Value, rule: &str) -> Vec<&'a Value> {
    r["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["rule"] == rule)
        .collect()
}

/// (id, status) of every expectation of a JSON report.
fn statuses(r: &Value) -> Vec<(String, String)> {
    r["expectations"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            (
                e["id"].as_str().unwrap().to_string(),
                e["status"].as_str().unwrap().to_string(),
            )
        })
        .collect()
}

/// Stderr of a run as text.
fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// Add a file to the spec.
fn add_file(s: &mut Value, domain: &str, path: &str, class: u32, content: Value) {
    s["files"]
        .as_array_mut()
        .unwrap()
        .push(json!({"domain": domain, "path": path, "class": class, "content": content}));
}

/// Add the big text file with a canary across the search-window boundary.
fn add_big_canary_file(s: &mut Value) {
    add_file(
        s,
        "AppDomainGroup-group.com.example.bank",
        "Library/big.txt",
        3,
        json!({"text": big_text_with_canary()}),
    );
}

#[test]
fn good_policy_passes_every_expectation() {
    let fx = build(&base_spec());
    let pol = fx.policy("auditor.toml", GOOD_POLICY);
    let (code, r) = fx.check_json(&pol, &[]);
    assert_eq!(code, 0, "{r:#}");
    assert_eq!(r["schema"], "auditor.check/1");
    assert_eq!(r["passed"], true);
    let st = statuses(&r);
    assert_eq!(st.len(), 16, "{st:?}");
    assert!(st.iter().all(|(_, s)| s == "pass"), "{st:?}");
    assert_eq!(r["summary"]["expectations"], 16);
    assert_eq!(r["summary"]["findings"], 0);
    // The device-bound item cannot be read with the password alone: passes with a note.
    let db = expectation(
        &r,
        "app/com.example.bank/keychain/device-bound/service=com.example.bank.biometric, account=alice",
    );
    assert!(
        db["note"]
            .as_str()
            .unwrap()
            .contains("device-bound items could not be read"),
        "{db:#}"
    );
    // Canary searched every bank file (app, group, plugin domains).
    // 6 files (app, group and plugin domains) and 2 readable keychain items.
    assert_eq!(
        expectation(&r, "app/com.example.bank/canary/big")["checked"],
        6 + 2
    );
    assert_eq!(expectation(&r, "backup.encrypted")["policy_line"], 4);
    // The table format says PASSED and exits 0.
    let out = fx.check(&pol, &[]);
    assert_eq!(out.status.code(), Some(0));
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains("PASSED: 16 expectations: 16 passed"),
        "{text}"
    );
    // With the device key, the device-bound item is read and checked fully (no note).
    let (code, r) = fx.check_json(&pol, &["--device-key", DEVICE_KEY]);
    assert_eq!(code, 0, "{r:#}");
    let db = expectation(
        &r,
        "app/com.example.bank/keychain/device-bound/service=com.example.bank.biometric, account=alice",
    );
    assert!(db["note"].is_null(), "{db:#}");
    assert_eq!(db["status"], "pass");
}

#[test]
fn backup_rules_fail() {
    // Not encrypted; not complete.
    let fx = build(&spec_with(|s| {
        s["encrypted"] = json!(false);
        s.as_object_mut().unwrap().remove("password");
        s["snapshot_state"] = json!("uploading");
    }));
    let pol = fx.policy(
        "p.toml",
        "schema = 1\n[backup]\nencrypted = true\nmin_kdf_rounds = 10\ncomplete = true\n",
    );
    let (code, r) = fx.check_json(&pol, &[]);
    assert_eq!(code, 1, "{r:#}");
    assert_eq!(r["passed"], false);
    for (id, rule) in [
        ("backup.encrypted", "policy.backup-encrypted"),
        ("backup.min_kdf_rounds", "policy.kdf-cost"),
        ("backup.complete", "policy.backup-complete"),
    ] {
        assert_eq!(expectation(&r, id)["status"], "fail", "{id}");
        let f = findings(&r, rule);
        assert_eq!(f.len(), 1, "{rule}");
        assert_eq!(f[0]["expectation"], id);
    }
    assert_eq!(
        findings(&r, "policy.backup-complete")[0]["location"]["file"],
        "Status.plist"
    );
    assert_eq!(
        findings(&r, "policy.backup-encrypted")[0]["severity"],
        "high"
    );
    // `encrypted = false` holds on it.
    let pol = fx.policy("q.toml", "schema = 1\n[backup]\nencrypted = false\n");
    assert_eq!(fx.check_json(&pol, &[]).0, 0);

    // KDF below the minimum on an encrypted backup; no password needed for backup-only policies.
    let fx = build(&base_spec());
    let pol = fx.policy(
        "p.toml",
        "schema = 1\n[backup]\nmin_kdf_rounds = 10000000\n",
    );
    let b = fx.backup.display().to_string();
    let p = pol.display().to_string();
    let out = auditor(&["check", &b, "--policy", &p, "--format", "json"]);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    let r = json(&out);
    let f = findings(&r, "policy.kdf-cost");
    assert!(
        f[0]["message"]
            .as_str()
            .unwrap()
            .contains("DPIC) are 10, fewer than the required 10000000"),
        "{f:?}"
    );
}

#[test]
fn app_present_rule() {
    let fx = build(&base_spec());
    let pol = fx.policy(
        "p.toml",
        "schema = 1\n[[app]]\nbundle_id = \"com.example.absent\"\n",
    );
    let (code, r) = fx.check_json(&pol, &[]);
    assert_eq!(code, 1);
    let f = findings(&r, "policy.app-present");
    assert_eq!(f.len(), 1);
    assert_eq!(
        f[0]["location"],
        json!({"kind": "app", "bundle_id": "com.example.absent"})
    );
    let pol = fx.policy(
        "q.toml",
        "schema = 1\n[[app]]\nbundle_id = \"com.example.absent\"\nrequired = false\n",
    );
    assert_eq!(fx.check_json(&pol, &[]).0, 0);
}

#[test]
fn path_rules_fail() {
    let fx = build(&spec_with(|s| {
        add_file(
            s,
            "AppDomain-com.example.bank",
            "Library/Caches/img.png",
            4,
            json!({"size": 100}),
        );
        add_file(
            s,
            "AppDomainPlugin-com.example.bank.widget",
            "tmp/x.tmp",
            4,
            json!({"size": 10}),
        );
        add_file(
            s,
            "AppDomain-com.example.bank",
            "Documents/weak.txt",
            3,
            json!({"text": "w"}),
        );
        s["files"].as_array_mut().unwrap().push(json!({"domain": "AppDomain-com.example.bank",
            "path": "Documents/gone.bin", "class": 1, "content": {"size": 64}, "missing_on_disk": true}));
        // Another app's cache is not the bank's business.
        add_file(
            s,
            "AppDomain-com.example.notes",
            "Library/Caches/n.png",
            4,
            json!({"size": 10}),
        );
    }));
    let pol = fx.policy("auditor.toml", GOOD_POLICY);
    let (code, r) = fx.check_json(&pol, &[]);
    assert_eq!(code, 1);
    let mnb = findings(&r, "policy.must-not-back-up");
    let locs: Vec<String> = mnb
        .iter()
        .map(|f| {
            format!(
                "{}/{}",
                f["location"]["domain"].as_str().unwrap(),
                f["location"]["relative_path"].as_str().unwrap()
            )
        })
        .collect();
    assert_eq!(
        locs,
        [
            "AppDomain-com.example.bank/Library/Caches/img.png",
            "AppDomainPlugin-com.example.bank.widget/tmp/x.tmp"
        ]
    );
    assert_eq!(mnb[0]["policy_line"], 10);
    assert_eq!(mnb[0]["app"], "com.example.bank");
    // must_back_up: Documents/** matches, but one of its files has no payload: "missing".
    let mb = findings(&r, "policy.must-back-up");
    assert_eq!(mb.len(), 1, "{mb:?}");
    assert!(mb[0]["message"].as_str().unwrap().starts_with("missing:"));
    assert_eq!(mb[0]["location"]["relative_path"], "Documents/gone.bin");
    // min_protection: the class-3 document is weaker than complete.
    let mp = findings(&r, "policy.min-protection");
    assert_eq!(mp.len(), 1, "{mp:?}");
    assert_eq!(mp[0]["location"]["relative_path"], "Documents/weak.txt");
    assert!(mp[0]["message"].as_str().unwrap().contains("class 3 (NSFileProtectionCompleteUntilFirstUserAuthentication) is weaker than the required 1"));
    assert_eq!(
        expectation(&r, "app/com.example.bank/min_protection/**")["status"],
        "pass"
    );

    // A glob that matches nothing is "missing".
    let pol = fx.policy(
        "p.toml",
        "schema = 1\n[[app]]\nbundle_id = \"com.example.notes\"\nmust_back_up = [\"Documents/inbox/**\"]\n",
    );
    let (code, r) = fx.check_json(&pol, &[]);
    assert_eq!(code, 1);
    let mb = findings(&r, "policy.must-back-up");
    assert_eq!(
        mb[0]["location"],
        json!({"kind": "app", "bundle_id": "com.example.notes"})
    );
    assert!(mb[0]["message"]
        .as_str()
        .unwrap()
        .starts_with("missing: no entry"));
}

#[test]
fn keychain_rules() {
    let fx = build(&base_spec());
    let pol = fx.policy(
        "p.toml",
        r#"schema = 1
[[app]]
bundle_id = "com.example.bank"

[[app.keychain]]
service = "com.example.bank.session"
expect = "device-bound"

[[app.keychain]]
service = "com.example.bank.session"
expect = "absent"

[[app.keychain]]
service = "com.example.bank.nope"
expect = "device-bound"

[[app.keychain]]
server = "api.example.com"
table = "inet"
expect = "migratable"

[[app.keychain]]
service = "com.example.bank.biometric"
expect = "migratable"

[[app.keychain]]
access_group = "com.example.notes"
expect = "absent"
severity = "low"
"#,
    );
    let (code, r) = fx.check_json(&pol, &["--device-key", DEVICE_KEY]);
    assert_eq!(code, 1);
    let st = statuses(&r);
    let s: Vec<&str> = st.iter().map(|x| x.1.as_str()).collect();
    assert_eq!(
        s,
        ["pass", "fail", "fail", "fail", "pass", "fail", "fail"],
        "{st:?}"
    );
    let db = findings(&r, "policy.keychain-device-bound");
    assert_eq!(db.len(), 1);
    assert_eq!(db[0]["location"]["kind"], "keychain");
    assert_eq!(db[0]["location"]["table"], "genp");
    assert_eq!(db[0]["location"]["service"], "com.example.bank.session");
    assert!(db[0]["message"]
        .as_str()
        .unwrap()
        .contains("kSecAttrAccessibleWhenUnlocked"));
    assert_eq!(findings(&r, "policy.keychain-absent").len(), 2);
    let low = findings(&r, "policy.keychain-absent")
        .into_iter()
        .find(|f| f["location"]["service"] == "com.example.notes.sync")
        .unwrap();
    assert_eq!(low["severity"], "low");
    let miss = findings(&r, "policy.keychain-missing");
    assert_eq!(miss.len(), 1);
    assert_eq!(miss[0]["location"]["service"], "com.example.bank.nope");
    assert_eq!(miss[0]["severity"], "medium");
    let mig = findings(&r, "policy.keychain-migratable");
    assert_eq!(mig.len(), 1);
    assert!(mig[0]["message"].as_str().unwrap().contains("aku"));

    // Unencrypted backup: nothing migrates; items cannot be read (error, exit 1).
    let fx = build(&spec_with(|s| {
        s["encrypted"] = json!(false);
        s.as_object_mut().unwrap().remove("password");
    }));
    let pol = fx.policy(
        "p.toml",
        "schema = 1\n[[app]]\nbundle_id = \"com.example.bank\"\n[[app.keychain]]\nservice = \"com.example.bank.session\"\nexpect = \"migratable\"\n[[app.keychain]]\nservice = \"com.example.bank.biometric\"\nexpect = \"device-bound\"\n",
    );
    let (code, r) = fx.check_json(&pol, &[]);
    assert_eq!(code, 1);
    let s: Vec<String> = statuses(&r).into_iter().map(|x| x.1).collect();
    assert_eq!(s, ["pass", "fail", "error"]);
    assert!(findings(&r, "policy.keychain-migratable")[0]["message"]
        .as_str()
        .unwrap()
        .contains("not encrypted"));
    assert_eq!(r["summary"]["errors"], 1);
}

#[test]
fn canary_rule() {
    // In a group file (straddling a window boundary), in a keychain attribute; never echoed.
    let fx = build(&spec_with(|s| {
        add_big_canary_file(s);
        s["keychain"]
            .as_array_mut()
            .unwrap()
            .push(json!({"table": "genp", "class": "ck",
            "access_group": "ABCDE12345.com.example.bank", "service": "com.example.bank.debug",
            "account": "user-CANARY-SECRET-ONLY", "secret": "x"}));
        add_file(
            s,
            "AppDomain-com.example.notes",
            "Documents/leak.txt",
            3,
            json!({"text": "CANARY-BIG-0001"}),
        );
    }));
    let pol = fx.policy("auditor.toml", GOOD_POLICY);
    let (code, r) = fx.check_json(&pol, &[]);
    assert_eq!(code, 1);
    let c = findings(&r, "policy.canary");
    assert_eq!(c.len(), 2, "{c:?}");
    let big = c
        .iter()
        .find(|f| f["expectation"] == "app/com.example.bank/canary/big")
        .unwrap();
    assert_eq!(
        big["location"],
        json!({"kind": "file", "domain": "AppDomainGroup-group.com.example.bank", "relative_path": "Library/big.txt"})
    );
    let tok = c
        .iter()
        .find(|f| f["expectation"] == "app/com.example.bank/canary/token")
        .unwrap();
    assert_eq!(tok["location"]["kind"], "keychain");
    assert!(tok["message"]
        .as_str()
        .unwrap()
        .contains("attribute(s) account"));
    // The notes app's leak is not in the bank's scope.
    // Canary values are never in any output format.
    for fmt in ["json", "sarif", "junit", "table"] {
        let out = fx.check(&pol, &["--format", fmt]);
        assert_eq!(out.status.code(), Some(1));
        let all = format!("{}{}", String::from_utf8_lossy(&out.stdout), stderr(&out));
        assert!(
            !all.contains("CANARY-"),
            "{fmt} output shows a canary value"
        );
    }
    // Regex canaries, ignore_case, file of literals, in_keychain = false.
    std::fs::write(fx.root.join("lits.txt"), "zzz-not-there\ncanary-big-0001\n").unwrap();
    let pol = fx.policy(
        "r.toml",
        r#"schema = 1
[[app]]
bundle_id = "com.example.bank"
[[app.canary]]
name = "re"
regex = 'CANARY-BIG-[0-9]{4}'
[[app.canary]]
name = "lits"
literals_file = "lits.txt"
ignore_case = true
[[app.canary]]
name = "files-only"
literal = "CANARY-SECRET-ONLY"
in_keychain = false
[[app.canary]]
name = "keychain-only"
literal = "CANARY-BIG-0001"
in_files = false
"#,
    );
    let (code, r) = fx.check_json(&pol, &[]);
    assert_eq!(code, 1);
    let s: Vec<String> = statuses(&r).into_iter().map(|x| x.1).collect();
    assert_eq!(s, ["pass", "fail", "fail", "pass", "pass"], "{r:#}");

    // Unencrypted backup: plaintext payloads are searched too.
    let fx = build(&spec_with(|s| {
        s["encrypted"] = json!(false);
        s.as_object_mut().unwrap().remove("password");
        add_big_canary_file(s);
    }));
    let pol = fx.policy(
        "p.toml",
        "schema = 1\n[[app]]\nbundle_id = \"com.example.bank\"\n[[app.canary]]\nliteral = \"CANARY-BIG-0001\"\nin_keychain = false\n",
    );
    let (code, r) = fx.check_json(&pol, &[]);
    assert_eq!(code, 1);
    assert_eq!(
        findings(&r, "policy.canary")[0]["expectation"],
        "app/com.example.bank/canary/#1"
    );
}

#[test]
fn sarif_validates_against_the_2_1_0_schema() {
    let fx = build(&spec_with(|s| {
        add_file(
            s,
            "AppDomain-com.example.bank",
            "Library/Caches/a b#.png",
            4,
            json!({"size": 10}),
        );
        add_file(
            s,
            "AppDomain-com.example.bank",
            "Documents/weak.txt",
            3,
            json!({"text": "w"}),
        );
        add_big_canary_file(s);
    }));
    let pol = fx.policy("auditor.toml", GOOD_POLICY);
    let out = fx.check(&pol, &["--format", "sarif"]);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    let sarif: Value = serde_json::from_slice(&out.stdout).unwrap();
    let validator = common::sarif::validator();
    common::sarif::assert_valid(&validator, &sarif);

    assert_eq!(sarif["version"], "2.1.0");
    let run = &sarif["runs"][0];
    let rules = run["tool"]["driver"]["rules"].as_array().unwrap();
    check_sarif_rules(rules);
    let results = run["results"].as_array().unwrap();
    let fps = check_sarif_results(results, rules);
    check_sarif_result_locations(results);
    check_fingerprints_ignore_policy_lines(&fx, &sarif, &fps);
}

/// One SARIF rule per policy rule, each with a description, fix help and a severity.
fn check_sarif_rules(rules: &[Value]) {
    assert_eq!(rules.len(), auditor::policy::rules::ALL.len());
    for r in rules {
        assert!(r["id"].as_str().unwrap().starts_with("policy."));
        assert!(!r["shortDescription"]["text"].as_str().unwrap().is_empty());
        assert!(r["help"]["markdown"]
            .as_str()
            .unwrap()
            .contains("How to fix"));
        assert!(r["properties"]["security-severity"].is_string());
    }
}

/// Three results, each pointing at its rule and the policy file by a plain URI; their
/// fingerprints, all distinct.
fn check_sarif_results(results: &[Value], rules: &[Value]) -> std::collections::HashSet<String> {
    assert_eq!(results.len(), 3, "{results:#?}");
    let mut fps = std::collections::HashSet::new();
    for res in results {
        let rule_index = res["ruleIndex"].as_u64().unwrap() as usize;
        assert_eq!(rules[rule_index]["id"], res["ruleId"]);
        let loc = &res["locations"][0]["physicalLocation"];
        let uri = loc["artifactLocation"]["uri"].as_str().unwrap();
        assert!(uri.ends_with("auditor.toml"));
        // uri-reference: no spaces or characters that need %-encoding.
        assert!(
            uri.bytes()
                .all(|b| b.is_ascii_alphanumeric() || b"-._~/:%".contains(&b)),
            "{uri}"
        );
        assert!(fps.insert(
            res["partialFingerprints"]["auditorFinding/v1"]
                .as_str()
                .unwrap()
                .to_string()
        ));
    }
    fps
}

/// must-not-back-up and min-protection results point at their policy lines and the file.
fn check_sarif_result_locations(results: &[Value]) {
    let mnb = results
        .iter()
        .find(|r| r["ruleId"] == "policy.must-not-back-up")
        .unwrap();
    assert_eq!(mnb["level"], "error");
    assert_eq!(
        mnb["locations"][0]["physicalLocation"]["region"]["startLine"],
        10
    );
    assert_eq!(
        mnb["locations"][0]["logicalLocations"][0]["fullyQualifiedName"],
        "AppDomain-com.example.bank/Library/Caches/a b#.png"
    );
    let mp = results
        .iter()
        .find(|r| r["ruleId"] == "policy.min-protection")
        .unwrap();
    assert_eq!(
        mp["locations"][0]["physicalLocation"]["region"]["startLine"],
        13
    );
}

/// Fingerprints do not depend on policy lines: shift every line by two.
fn check_fingerprints_ignore_policy_lines(
    fx: &Fixture,
    sarif: &Value,
    fps: &std::collections::HashSet<String>,
) {
    let shifted = fx.policy("auditor.toml", &format!("# a\n# b\n{GOOD_POLICY}"));
    let out2 = fx.check(&shifted, &["--format", "sarif"]);
    let sarif2: Value = serde_json::from_slice(&out2.stdout).unwrap();
    let fps2: std::collections::HashSet<String> = sarif2["runs"][0]["results"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            r["partialFingerprints"]["auditorFinding/v1"]
                .as_str()
                .unwrap()
                .to_string()
        })
        .collect();
    assert_eq!(*fps, fps2);
    assert_eq!(
        sarif2["runs"][0]["results"][0]["locations"][0]["physicalLocation"]["region"]["startLine"]
            .as_u64()
            .unwrap(),
        sarif["runs"][0]["results"][0]["locations"][0]["physicalLocation"]["region"]["startLine"]
            .as_u64()
            .unwrap()
            + 2
    );
}

#[test]
fn sarif_of_a_passing_run_is_valid_and_empty() {
    // A passing run is a valid log with no results.
    let validator = common::sarif::validator();
    let fx = build(&base_spec());
    let pol = fx.policy("auditor.toml", GOOD_POLICY);
    let out = fx.check(
        &pol,
        &[
            "--format",
            "sarif",
            "--output",
            &fx.root.join("out.sarif").display().to_string(),
        ],
    );
    assert_eq!(out.status.code(), Some(0));
    let sarif: Value =
        serde_json::from_slice(&std::fs::read(fx.root.join("out.sarif")).unwrap()).unwrap();
    assert!(validator.is_valid(&sarif));
    assert_eq!(sarif["runs"][0]["results"].as_array().unwrap().len(), 0);
}

#[test]
fn junit_has_one_testcase_per_expectation() {
    let fx = build(&spec_with(|s| {
        add_file(
            s,
            "AppDomain-com.example.bank",
            "Library/Caches/img.png",
            4,
            json!({"size": 10}),
        );
        s["snapshot_state"] = json!("uploading");
    }));
    let pol = fx.policy("auditor.toml", GOOD_POLICY);
    let (_, r) = fx.check_json(&pol, &[]);
    let out = fx.check(&pol, &["--format", "junit"]);
    assert_eq!(out.status.code(), Some(1));
    let xml = String::from_utf8(out.stdout).unwrap();
    let doc = roxmltree::Document::parse(&xml).expect("JUnit XML parses");
    let root = doc.root_element();
    assert_eq!(root.tag_name().name(), "testsuites");
    assert_eq!(root.attribute("tests"), Some("16"));
    assert_eq!(root.attribute("failures"), Some("2"));
    assert_eq!(root.attribute("errors"), Some("0"));
    let suites: Vec<_> = root
        .children()
        .filter(|n| n.has_tag_name("testsuite"))
        .collect();
    let names: Vec<&str> = suites
        .iter()
        .map(|s| s.attribute("name").unwrap())
        .collect();
    assert_eq!(names, ["backup", "com.example.bank", "com.example.notes"]);
    let cases: Vec<_> = root
        .descendants()
        .filter(|n| n.has_tag_name("testcase"))
        .collect();
    assert_eq!(cases.len(), r["expectations"].as_array().unwrap().len());
    let mut names = std::collections::HashSet::new();
    for (c, e) in cases.iter().zip(r["expectations"].as_array().unwrap()) {
        assert!(
            names.insert(c.attribute("name").unwrap().to_string()),
            "duplicate test name"
        );
        assert_eq!(c.attribute("line").unwrap(), e["policy_line"].to_string());
        let failed = c.children().any(|n| n.has_tag_name("failure"));
        assert_eq!(failed, e["status"] == "fail", "{:?}", c.attribute("name"));
    }
    let failed: Vec<_> = cases
        .iter()
        .filter_map(|c| c.children().find(|n| n.has_tag_name("failure")))
        .collect();
    assert_eq!(failed[0].attribute("type"), Some("policy.backup-complete"));
    assert_eq!(failed[1].attribute("type"), Some("policy.must-not-back-up"));
    assert!(failed[1]
        .text()
        .unwrap()
        .contains("AppDomain-com.example.bank/Library/Caches/img.png"));
    // Suite counts.
    assert_eq!(suites[1].attribute("failures"), Some("1"));
    assert_eq!(suites[0].attribute("tests"), Some("3"));

    // Errors are <error>.
    let fx = build(&spec_with(|s| {
        s["encrypted"] = json!(false);
        s.as_object_mut().unwrap().remove("password");
    }));
    let pol = fx.policy(
        "p.toml",
        "schema = 1\n[[app]]\nbundle_id = \"com.example.bank\"\n[[app.keychain]]\nservice = \"x\"\nexpect = \"absent\"\n",
    );
    let out = fx.check(&pol, &["--format", "junit"]);
    let xml = String::from_utf8(out.stdout).unwrap();
    let doc = roxmltree::Document::parse(&xml).unwrap();
    assert_eq!(doc.root_element().attribute("errors"), Some("1"));
    assert_eq!(
        doc.descendants()
            .filter(|n| n.has_tag_name("error"))
            .count(),
        1
    );
}

#[test]
fn bad_policies_exit_2_with_file_line_and_expectation() {
    let fx = build(&base_spec());
    let b = fx.backup.display().to_string();
    let cases = [
        ("schema = 1\n[backup]\nencrypted = true\nencrypt = true\n", ":4:1:", "unknown field `encrypt`"),
        ("schema = 1\n[backup]\ncomplete = \"yes\"\n", ":3:12:", "expected a boolean"),
        ("schema = 1\n[[app]]\nbundle_id = \"a.b\"\nmust_back_up = [\"a/[\"]\n", ":4:17:", "bad glob"),
        ("schema = 1\n[[app]]\nbundle_id = \"a.b\"\n[[app.canary]]\nregex = \"(x\"\n", ":5:9:", "bad canary regex"),
        ("schema = 1\n[[app]]\nbundle_id = \"a.b\"\n[[app.min_protection]]\nglob = \"**\"\nclass = \"hard\"\n", ":6:9:", "unknown protection class"),
        ("schema = 3\n", ":1:10:", "unsupported policy schema"),
    ];
    for (text, pos, what) in cases {
        let pol = fx.policy("bad.toml", text);
        let p = pol.display().to_string();
        // No password given: the policy is refused before anything is asked.
        let out = auditor(&["check", &b, "--policy", &p]);
        let err = stderr(&out);
        assert_eq!(out.status.code(), Some(2), "{text}: {err}");
        assert!(err.contains(&format!("bad.toml{pos}")), "{text}: {err}");
        assert!(err.contains(what), "{text}: {err}");
        assert!(out.stdout.is_empty());
    }
    let out = auditor(&["check", &b, "--policy", "/nonexistent/p.toml"]);
    assert_eq!(out.status.code(), Some(2));
}

#[test]
fn credentials_are_needed_for_app_expectations() {
    let fx = build(&base_spec());
    let pol = fx.policy(
        "p.toml",
        "schema = 1\n[[app]]\nbundle_id = \"com.example.bank\"\n",
    );
    let b = fx.backup.display().to_string();
    let p = pol.display().to_string();
    let out = auditor(&["check", &b, "--policy", &p]);
    assert_eq!(out.status.code(), Some(3), "{}", stderr(&out));
    std::fs::write(fx.root.join("wrong.txt"), "nope").unwrap();
    let w = fx.root.join("wrong.txt").display().to_string();
    let out = auditor(&["check", &b, "--policy", &p, "--password-file", &w]);
    assert_eq!(out.status.code(), Some(3));
    // The derived key works like the password.
    let out = auditor(&["key", &b, "--password-file", &fx.pw()]);
    assert_eq!(out.status.code(), Some(0));
    std::fs::write(fx.root.join("k.hex"), &out.stdout).unwrap();
    let k = fx.root.join("k.hex").display().to_string();
    let out = auditor(&["check", &b, "--policy", &p, "--key-file", &k]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    // --output inside the backup is refused.
    let inside = fx.backup.join("r.json").display().to_string();
    let out = auditor(&[
        "check",
        &b,
        "--policy",
        &p,
        "--key-file",
        &k,
        "--output",
        &inside,
    ]);
    assert_eq!(out.status.code(), Some(2));
}

/// Run policy init then check with the written policy: the policy text and the JSON report.
fn init_then_check(fx: &Fixture, creds: &[&str]) -> (String, Value) {
    init_then_check_with(fx, creds, &[])
}

/// [`init_then_check`] with `init_args` given to `policy init` only.
fn init_then_check_with(fx: &Fixture, creds: &[&str], init_args: &[&str]) -> (String, Value) {
    let b = fx.backup.display().to_string();
    let mut args = vec!["policy", "init", &b];
    args.extend_from_slice(creds);
    args.extend_from_slice(init_args);
    let out = auditor(&args);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let text = String::from_utf8(out.stdout).unwrap();
    // It is a valid policy …
    let pol = fx.policy("init.toml", &text);
    auditor::policy::load(&pol)
        .unwrap_or_else(|e| panic!("init output does not parse: {e}\n{text}"));
    // … that the backup satisfies.
    let p = pol.display().to_string();
    let mut args = vec!["check", &b, "--policy", &p, "--format", "json"];
    args.extend_from_slice(creds);
    let out = auditor(&args);
    let r = json(&out);
    assert_eq!(out.status.code(), Some(0), "{r:#}\n{text}");
    (text, r)
}

#[test]
fn policy_init_passes_on_its_backup() {
    let fx = build(&spec_with(|s| {
        s["keychain"].as_array_mut().unwrap().push(json!({"table": "genp", "class": "ck",
            "access_group": "ABCDE12345.com.example.bank", "service": "we\"ird\\name\n", "account": "x", "secret": "s"}));
    }));
    let pw = fx.pw();
    let (text, r) = init_then_check(&fx, &["--password-file", &pw]);
    assert!(text.contains("schema = 1"));
    assert!(text.contains("bundle_id = \"com.example.bank\""));
    assert!(text.contains("bundle_id = \"com.example.notes\""));
    assert!(text.contains("min_kdf_rounds = 10"));
    // Near miss: an encrypted backup keeps its requirement.
    assert!(text.contains("\n[backup]\nencrypted = true\n"), "{text}");
    assert!(text.contains("expect = \"migratable\""));
    // The device-bound item is unreadable with the password only: mentioned, not expected.
    assert!(!text.contains("com.example.bank.biometric"), "{text}");
    assert!(text.contains("could not be read"));
    assert!(r["summary"]["expectations"].as_u64().unwrap() >= 10);
    // With the device key, the device-bound item gets its expectation.
    let dk = ["--password-file", pw.as_str(), "--device-key", DEVICE_KEY];
    let (text, _) = init_then_check(&fx, &dk);
    assert!(text.contains("service = \"com.example.bank.biometric\"\naccount = \"alice\"\naccess_group = \"ABCDE12345.com.example.bank\"\nexpect = \"device-bound\""), "{text}");
    // Refuses to overwrite.
    let b = fx.backup.display().to_string();
    let existing = fx.root.join("init.toml").display().to_string();
    let out = auditor(&[
        "policy",
        "init",
        &b,
        "--password-file",
        &pw,
        "--output",
        &existing,
    ]);
    assert_eq!(out.status.code(), Some(2));

    // An unencrypted backup.
    let fx = build(&spec_with(|s| {
        s["encrypted"] = json!(false);
        s.as_object_mut().unwrap().remove("password");
    }));
    let (text, _) = init_then_check(&fx, &[]);
    // Not encrypted: an encrypted backup is suggested, never `encrypted = false` required.
    assert!(!text.contains("encrypted = false"), "{text}");
    assert!(text.contains("\n# encrypted = true\n"), "{text}");
    assert!(!text.lines().any(|l| l.starts_with("encrypted")), "{text}");
    assert!(text.contains("NOT encrypted"), "{text}");
    assert!(text.contains("# min_kdf_rounds"));
}

#[test]
fn ci_example_policy_passes_on_small_fixture() {
    // docs/ci.md: fixtures/specs/small.json + tests/data/policy/small.toml, with a derived key.
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let text = std::fs::read_to_string(root.join("fixtures/specs/small.json")).unwrap();
    let spec: auditor::fixture::Spec = serde_json::from_str(&text).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let backup = dir.path().join("backup");
    auditor::fixture::write(&spec, &backup).unwrap();
    std::fs::write(dir.path().join("pw.txt"), spec.password.as_deref().unwrap()).unwrap();
    let b = backup.display().to_string();
    let pw = dir.path().join("pw.txt").display().to_string();
    let key = dir.path().join("backup.key").display().to_string();
    let out = auditor(&["key", &b, "--password-file", &pw, "-o", &key]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let pol = root
        .join("tests/data/policy/small.toml")
        .display()
        .to_string();
    let out = auditor(&[
        "check",
        &b,
        "--policy",
        &pol,
        "--key-file",
        &key,
        "--format",
        "json",
    ]);
    let r = json(&out);
    assert_eq!(out.status.code(), Some(0), "{r:#}");
    assert_eq!(r["summary"]["expectations"], 19);
    // And `policy init` on it passes too.
    let fx = Fixture {
        root: dir.path().to_path_buf(),
        backup,
        _dir: dir,
    };
    let (_, r) = init_then_check(&fx, &["--key-file", &key]);
    assert!(r["summary"]["expectations"].as_u64().unwrap() > 19);
}

#[test]
fn every_policy_rule_is_documented() {
    let doc =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/docs/rules.md")).unwrap();
    let section = doc
        .split("## Policy")
        .nth(1)
        .expect("docs/rules.md has a Policy section");
    for r in auditor::policy::rules::ALL {
        let row = format!("| `{}` | {} |", r.id, r.severity.as_str());
        assert!(section.contains(&row), "docs/rules.md Policy lacks {row}");
        let line = section.lines().find(|l| l.starts_with(&row)).unwrap();
        assert!(
            line.contains("MASTG-TEST-00"),
            "{} has no MASTG reference",
            r.id
        );
    }
}

#[test]
fn check_table_prints_each_findings_fix_under_it() {
    let fx = build(&spec_with(|s| {
        add_file(
            s,
            "AppDomain-com.example.bank",
            "Documents/weak.txt",
            3,
            json!({"text": "w"}),
        );
    }));
    let pol = fx.policy(
        "p.toml",
        "schema = 1\n[backup]\ncomplete = true\n[[app]]\nbundle_id = \"com.example.bank\"\n[[app.min_protection]]\nglob = \"Documents/**\"\nclass = \"complete\"\n",
    );
    let out = fx.check(&pol, &[]);
    assert_eq!(out.status.code(), Some(1));
    let text = String::from_utf8(out.stdout).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    let at = lines
        .iter()
        .position(|l| l.contains("Documents/weak.txt"))
        .unwrap_or_else(|| panic!("{text}"));
    let fix = auditor::policy::rules::MIN_PROTECTION.fix;
    // The finding and its fix wrap to 80 columns: the fix starts on the line after the
    // finding's last line, under it, and reads whole with the line breaks undone.
    let fix_at = lines
        .iter()
        .position(|l| l.starts_with("               fix: "))
        .unwrap_or_else(|| panic!("{text}"));
    assert!(fix_at > at, "{text}");
    let flat = |ls: &[&str]| {
        ls.join(" ")
            .split_whitespace()
            .collect::<Vec<_>>()
            .join(" ")
    };
    let fix_lines: Vec<&str> = lines[fix_at..]
        .iter()
        .take_while(|l| l.starts_with("               "))
        .copied()
        .collect();
    assert_eq!(flat(&fix_lines), format!("fix: {fix}"), "{text}");
    // Near miss: a passing expectation has no finding, so no fix line.
    assert_eq!(text.matches("fix: ").count(), 1, "{text}");
    // And an expectation that cannot be checked gets none: the fix does not address it.
    let fx = build(&spec_with(|s| {
        s["encrypted"] = json!(false);
        s.as_object_mut().unwrap().remove("password");
    }));
    let pol = fx.policy(
        "p.toml",
        "schema = 1\n[[app]]\nbundle_id = \"com.example.bank\"\n[[app.keychain]]\nservice = \"com.example.bank.biometric\"\nexpect = \"device-bound\"\n",
    );
    let b = fx.backup.display().to_string();
    let p = pol.display().to_string();
    let out = auditor(&["check", &b, "--policy", &p]);
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(text.contains("ERROR"), "{text}");
    assert!(!text.contains("fix: "), "{text}");
}

#[test]
fn a_policy_that_checks_nothing_warns_and_fails_under_strict() {
    let fx = build(&base_spec());
    let empty = fx.policy("empty.toml", "schema = 1\n");
    let b = fx.backup.display().to_string();
    let p = empty.display().to_string();
    // No password needed (no app), and no --strict: a loud warning, exit 0 as before.
    let out = auditor(&["check", &b, "--policy", &p]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("warning: the policy has no expectation: it checks nothing"),
        "{}",
        stderr(&out)
    );
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(
        text.contains("WARN  the policy has no expectation"),
        "{text}"
    );
    assert!(text.contains("PASSED: 0 expectations"), "{text}");
    // --strict: exit 1, and the reports say why.
    let out = auditor(&["check", &b, "--policy", &p, "--strict"]);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    assert!(String::from_utf8_lossy(&out.stdout).contains("FAILED: 0 expectations"));
    let out = auditor(&["check", &b, "--policy", &p, "--strict", "--format", "json"]);
    let r = json(&out);
    assert_eq!(
        (r["passed"].clone(), r["strict"].clone()),
        (json!(false), json!(true))
    );
    assert_eq!(r["warnings"].as_array().unwrap().len(), 1);
    // An expectation that examined nothing is a warning too; --strict fails on it.
    let hollow = fx.policy(
        "hollow.toml",
        "schema = 1\n[[app]]\nbundle_id = \"com.example.bank\"\n[[app.min_protection]]\nglob = \"Nowhere/**\"\nclass = \"complete\"\n",
    );
    let (code, r) = fx.check_json(&hollow, &[]);
    assert_eq!(code, 0);
    assert!(r["warnings"][0].as_str().unwrap().contains(
        "app/com.example.bank/min_protection/Nowhere/** (policy line 4) examined nothing"
    ));
    let (code, _) = fx.check_json(&hollow, &["--strict"]);
    assert_eq!(code, 1);
    // Near miss: an absent app's expectations examine nothing too, but its failed
    // `present` already says so: no warning.
    let absent = fx.policy(
        "absent.toml",
        "schema = 1\n[[app]]\nbundle_id = \"com.example.absent\"\n[[app.min_protection]]\nglob = \"Nowhere/**\"\nclass = \"complete\"\n",
    );
    let (code, r) = fx.check_json(&absent, &[]);
    assert_eq!((code, r["warnings"].clone()), (1, json!([])));
    // Near miss: a policy that checks something, every expectation examining something,
    // passes under --strict, with no warning.
    let one = fx.policy(
        "one.toml",
        "schema = 1\n[backup]\ncomplete = true\n[[app]]\nbundle_id = \"com.example.bank\"\n[[app.min_protection]]\nglob = \"Documents/**\"\nclass = \"complete\"\n",
    );
    let out = fx.check(&one, &["--strict"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert!(!stderr(&out).contains("warning"), "{}", stderr(&out));
    let (code, r) = fx.check_json(&one, &["--strict"]);
    assert_eq!((code, r["warnings"].clone()), (0, json!([])));
}

#[test]
fn policy_init_app_writes_only_the_named_apps() {
    let fx = build(&base_spec());
    let pw = fx.pw();
    let creds = ["--password-file", pw.as_str()];
    let (text, r) = init_then_check_with(&fx, &creds, &["--app", "com.example.bank"]);
    assert!(text.contains("bundle_id = \"com.example.bank\""), "{text}");
    assert!(!text.contains("com.example.notes"), "{text}");
    assert!(r["expectations"]
        .as_array()
        .unwrap()
        .iter()
        .all(|e| e["app"].is_null() || e["app"] == "com.example.bank"));
    // Near miss: two --app, both written.
    let two = ["--app", "com.example.bank", "--app", "com.example.notes"];
    let (text, _) = init_then_check_with(&fx, &creds, &two);
    assert!(text.contains("bundle_id = \"com.example.notes\""), "{text}");
    // An id that is not an app of the backup: exit 2, naming it (and its app for a group).
    let b = fx.backup.display().to_string();
    for (id, says) in [
        (
            "com.example.nope",
            "--app com.example.nope: no app com.example.nope in the backup (",
        ),
        ("group.com.example.bank", "it belongs to com.example.bank"),
    ] {
        let out = auditor(&["policy", "init", &b, "--password-file", &pw, "--app", id]);
        assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
        assert!(stderr(&out).contains(says), "{}", stderr(&out));
        assert!(out.stdout.is_empty());
    }
}

#[test]
fn policy_init_comments_bad_practice() {
    let fx = build(&spec_with(|s| {
        add_file(
            s,
            "AppDomain-com.example.bank",
            "Documents/open.txt",
            4,
            json!({"text": "o"}),
        );
        let kc = s["keychain"].as_array_mut().unwrap();
        kc.push(
            json!({"table": "genp", "class": "dk", "access_group": "ABCDE12345.com.example.bank",
            "service": "com.example.bank.legacy", "account": "alice", "secret": "x"}),
        );
        kc.push(
            json!({"table": "genp", "class": "ck", "access_group": "FGHIJ67890.com.example.notes",
            "service": "com.example.notes.prefs", "account": "OAuth-Refresh", "secret": "x"}),
        );
    }));
    let pw = fx.pw();
    let (text, _) = init_then_check(&fx, &["--password-file", &pw]);
    let section = |bundle: &str| -> String {
        let start = text.find(&format!("bundle_id = \"{bundle}\"")).unwrap();
        let end = text[start + 1..]
            .find("\n[[app]]")
            .map_or(text.len(), |e| start + 1 + e);
        text[start..end].to_string()
    };
    let bank = section("com.example.bank");
    // Documents with class none: one comment, naming the file.
    assert!(
        bank.contains("# bad practice: 1 files in Documents/ have protection class none"),
        "{bank}"
    );
    assert!(bank.contains("e.g. Documents/open.txt"), "{bank}");
    // A migratable session token, beside its expectation.
    assert!(
        bank.contains(
            "# bad practice: its service \"com.example.bank.session\" looks like a session token"
        ),
        "{bank}"
    );
    // A deprecated class.
    assert!(
        bank.contains("# bad practice: dk (kSecAttrAccessibleAlways) is deprecated"),
        "{bank}"
    );
    // An account that looks like a token (case-insensitive).
    let notes = section("com.example.notes");
    assert!(
        notes.contains("its account \"OAuth-Refresh\" looks like a session token"),
        "{notes}"
    );
    // Near misses: a class-none file outside Documents (the widget's Library/cache.json), a
    // migratable item named like no token (com.example.notes.sync, server api.example.com)
    // and current classes get no comment.
    assert_eq!(
        text.matches("in Documents/ have protection class none")
            .count(),
        1,
        "{text}"
    );
    assert_eq!(
        text.matches("looks like a session token").count(),
        2,
        "{text}"
    );
    assert_eq!(text.matches("is deprecated").count(), 1, "{text}");
}
