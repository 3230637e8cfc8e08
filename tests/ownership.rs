//! Every command puts every domain under the same app: scan, check, extract --app and the keychain attribution (docs/ownership.md).
//!
//! On the bundled fixture, the conformance backups and the real backups of ../shared (each
//! skipped with a message when absent): `scan`'s JSON is the reference (its `apps[].domains`
//! and each file's `app`); `check` with a policy naming every app must examine exactly the
//! files scan gives each app; `extract --app X` (the library's selector) must select exactly
//! X's domains; the keychain audit's attribution must give each extension's and group's id
//! the owner scan gives its domain.

mod common;
use auditor::audit::keychain;
use auditor::crypto::Password;
use auditor::extract::{Selection, Selector};
use auditor::ownership::{self, DomainKind, SYSTEM_OWNER};
use auditor::session::{Session, Unlock};
use common::*;
use serde_json::Value;
use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

/// A backup to try, with its password (`None`: unencrypted).
struct Case {
    name: &'static str,
    dir: PathBuf,
    password: Option<String>,
}

impl Case {
    fn creds(&self) -> Vec<String> {
        match &self.password {
            Some(p) => vec!["--password".into(), p.clone()],
            None => Vec::new(),
        }
    }

    fn run(&self, args: &[&str]) -> std::process::Output {
        let mut a: Vec<String> = args.iter().map(|s| s.to_string()).collect();
        a.insert(1, self.dir.to_str().unwrap().to_string());
        a.extend(self.creds());
        let refs: Vec<&str> = a.iter().map(String::as_str).collect();
        auditor(&refs)
    }

    fn session(&self) -> Session {
        let mut s = Session::open(&self.dir).unwrap();
        if let Some(p) = &self.password {
            s.unlock(
                Unlock::Password(Password::new(p.clone().into())),
                None,
                &mut |_| {},
            )
            .unwrap();
        }
        s
    }
}

fn demo() -> Case {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/demo");
    let pw = std::fs::read_to_string(root.join("password.txt")).unwrap();
    Case {
        name: "demo",
        dir: root.join("00008130-000A11CE0DE0001E"),
        password: Some(pw.trim_end_matches(['\n', '\r']).to_string()),
    }
}

fn shared_case(name: &'static str, rel: &str, password: Option<&str>) -> Option<Case> {
    shared(rel).map(|dir| Case {
        name,
        dir,
        password: password.map(str::to_string),
    })
}

/// What scan attributed: domain → app (app domains only), and per app the rows that are
/// not directories (what `must_not_back_up` examines).
struct ScanView {
    owner: BTreeMap<String, String>,
    non_dirs: BTreeMap<String, u64>,
    apps: BTreeSet<String>,
}

fn scan_view(c: &Case) -> ScanView {
    let out = c.run(&["scan", "--format", "json"]);
    let r = json(&out);
    let mut owner = BTreeMap::new();
    let mut apps = BTreeSet::new();
    for a in r["apps"].as_array().unwrap() {
        let id = a["bundle_id"].as_str().unwrap().to_string();
        for d in a["domains"].as_array().unwrap() {
            let prev = owner.insert(d.as_str().unwrap().to_string(), id.clone());
            assert!(prev.is_none(), "{}: {d} listed under two apps", c.name);
        }
        assert!(apps.insert(id), "{}: app listed twice", c.name);
    }
    let mut non_dirs = BTreeMap::new();
    for f in r["files"].as_array().unwrap() {
        let domain = f["domain"].as_str().unwrap();
        let want = owner.get(domain);
        assert_eq!(
            f["app"].as_str(),
            want.map(String::as_str),
            "{}: the app of a file of {domain}",
            c.name
        );
        assert_eq!(
            want.is_some(),
            ownership::app_domain(domain).is_some(),
            "{}: {domain} is an app domain exactly when scan gives it an app",
            c.name
        );
        if let Some(a) = want {
            if f["kind"] != "directory" {
                *non_dirs.entry(a.clone()).or_insert(0) += 1;
            }
        }
    }
    ScanView {
        owner,
        non_dirs,
        apps,
    }
}

/// `check` with a policy naming every app of the scan (`must_not_back_up = ["**"]`): each
/// app's expectation examines the files scan gives it, and its findings are in its domains.
fn check_agrees(c: &Case, v: &ScanView) {
    let tmp = tempfile::tempdir().unwrap();
    let mut policy = String::from("schema = 1\n");
    for a in &v.apps {
        policy.push_str(&format!(
            "\n[[app]]\nbundle_id = {a:?}\nmust_not_back_up = [\"**\"]\n"
        ));
    }
    let p = tmp.path().join("p.toml");
    std::fs::write(&p, policy).unwrap();
    let out = c.run(&["check", "--policy", p.to_str().unwrap(), "--format", "json"]);
    let r: Value = json(&out);
    for e in r["expectations"].as_array().unwrap() {
        let (Some(a), Some(id)) = (e["app"].as_str(), e["id"].as_str()) else {
            continue;
        };
        if !id.contains("/must_not_back_up/") {
            continue;
        }
        assert_eq!(
            e["checked"].as_u64(),
            Some(v.non_dirs.get(a).copied().unwrap_or(0)),
            "{}: check examined another number of files of {a}",
            c.name
        );
    }
    let mut seen = 0;
    for f in r["findings"].as_array().unwrap() {
        let (Some(a), Some(d)) = (f["app"].as_str(), f["location"]["domain"].as_str()) else {
            continue;
        };
        assert_eq!(
            v.owner.get(d).map(String::as_str),
            Some(a),
            "{}: check put {d} under {a}",
            c.name
        );
        seen += 1;
    }
    assert!(
        seen > 0 || v.non_dirs.is_empty(),
        "{}: no file finding",
        c.name
    );
}

/// The library side: `extract --app`, the keychain attribution and check's pre-index filter.
fn library_agrees(c: &Case, v: &ScanView) {
    let s = c.session();
    let records = s.records().unwrap().expect("readable index");
    let domains: BTreeSet<&str> = records.iter().map(|r| r.domain.as_str()).collect();
    // extract --app X selects exactly X's domains.
    for a in &v.apps {
        let sel = Selection {
            apps: vec![a.clone()],
            ..Default::default()
        };
        let mut selector = Selector::for_records(&sel, &s.backup, &records);
        for d in &domains {
            assert_eq!(
                selector.domain_selected(d),
                v.owner.get(*d) == Some(a),
                "{}: extract --app {a} and {d}",
                c.name
            );
        }
    }
    // The keychain audit's attribution: an access group named like a domain's id.
    let (rows, _) = keychain::pick_rows(&s, |_| false).unwrap().unwrap();
    let own = keychain::ownership(&s, rows.rows());
    let manifest = s
        .backup
        .manifest
        .as_ref()
        .map_or(&[][..], |m| m.applications.as_slice());
    for d in &domains {
        let Some((kind, id)) = ownership::app_domain(d) else {
            continue;
        };
        let scan_owner = v.owner.get(*d).map(String::as_str);
        assert!(scan_owner.is_some(), "{}: {d} has no app in scan", c.name);
        let agrp = match ownership::strip_team_id(id) {
            Some(_) => id.to_string(),
            None => format!("ABCDE12345.{id}"),
        };
        let bare = ownership::strip_team_id(&agrp).unwrap();
        let want = if bare.starts_with("com.apple.") {
            Some(SYSTEM_OWNER)
        } else if kind != DomainKind::App && scan_owner == Some(id) {
            None // An entry of its own: no app owns the group.
        } else {
            scan_owner
        };
        assert_eq!(
            own.access_group_owner(&agrp).as_deref(),
            want,
            "{}: keychain attribution of {agrp}",
            c.name
        );
        // check keeps the reports of every file its apps own.
        let a = scan_owner.unwrap();
        assert!(
            ownership::may_belong_to(d, &[a], manifest),
            "{}: check would drop {d} of {a}",
            c.name
        );
    }
}

/// Every keychain item attributed to an app names an app scan lists (so its counts land).
fn keychain_items_agree(c: &Case, v: &ScanView) {
    let out = c.run(&["keychain", "--format", "json"]);
    if out.status.code() != Some(0) {
        return;
    }
    let r = json(&out);
    for it in r["items"].as_array().unwrap() {
        if let Some(a) = it["app"].as_str() {
            assert!(
                a == SYSTEM_OWNER || v.apps.contains(a),
                "{}: keychain item of {:?} attributed to {a}, which scan does not list",
                c.name,
                it["access_group"]
            );
        }
    }
}

fn agree(c: &Case) -> ScanView {
    let v = scan_view(c);
    check_agrees(c, &v);
    library_agrees(c, &v);
    keychain_items_agree(c, &v);
    v
}

#[test]
fn fixture_every_command_agrees() {
    let v = agree(&demo());
    assert!(v.owner.len() > 3);
}

#[test]
fn conformance_every_command_agrees() {
    let cases = [
        shared_case(
            "small-encrypted",
            "conformance/small-encrypted/00008120-001A2B3C4D5E801E",
            Some("oracle-small-pw"),
        ),
        shared_case(
            "small-unencrypted",
            "conformance/small-unencrypted/00008120-001A2B3C4D5E801E",
            None,
        ),
    ];
    for c in cases.into_iter().flatten() {
        let v = agree(&c);
        // As the independent generator attributes them.
        assert_eq!(
            v.owner
                .get("AppDomainGroup-group.com.example.bank")
                .map(String::as_str),
            Some("com.example.bank")
        );
        assert_eq!(
            v.owner
                .get("AppDomainPlugin-com.example.bank.widget")
                .map(String::as_str),
            Some("com.example.bank")
        );
    }
}

#[test]
fn mvt_every_command_agrees() {
    let Some(c) = shared_case("mvt", "external/mvt/ios_backup", None) else {
        return;
    };
    let v = agree(&c);
    // No Manifest.plist: the podcasts app owns its group and all seven of its extensions,
    // whatever order the rows come in, and none of them is an app of its own.
    let podcasts: Vec<&String> = v
        .owner
        .iter()
        .filter(|(_, a)| *a == "com.apple.podcasts")
        .map(|(d, _)| d)
        .collect();
    assert_eq!(podcasts.len(), 9, "{podcasts:?}");
    assert!(v
        .owner
        .contains_key("AppDomainGroup-243LU875E5.groups.com.apple.podcasts"));
    assert!(!v.apps.iter().any(|a| a.starts_with("com.apple.podcasts.")));
    // A group whose stem is no app's id nor extends one stays an entry of its own.
    assert_eq!(
        v.owner
            .get("AppDomainGroup-group.com.google.chrome")
            .map(String::as_str),
        Some("group.com.google.chrome")
    );
}

#[test]
fn hv20_every_command_agrees() {
    let Some(c) = shared_case("hv20", "external/hv20/Backup", Some("20201225")) else {
        return;
    };
    agree(&c);
}
