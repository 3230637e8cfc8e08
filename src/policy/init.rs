//! `auditor policy init`: a starting policy that the backup it came from satisfies.
//!
//! Every expectation written holds for that backup (a test checks `check` passes on it);
//! suggestions that would not hold are written as comments for the user to tighten.

use super::model::KeychainSelector;
use crate::audit::keychain::KeychainAudit;
use crate::audit::model::{FileReport, FileStatus, ScanReport};
use crate::audit::scan::{scan_all, ScanOptions};
use crate::index::FileKind;
use crate::keychain::{KeychainItem, ReasonCode};
use crate::ownership::{may_belong_to, Ownership};
use crate::session::Session;
use crate::Error;
use std::collections::BTreeMap;
use std::fmt::Write;

/// A TOML string literal (escaped).
pub(super) fn toml_string(s: &str) -> String {
    toml::Value::String(s.to_string()).to_string()
}

/// Text safe for a one-line TOML comment.
pub(super) fn comment_safe(s: &str) -> String {
    s.chars()
        .map(|ch| if ch.is_control() { ' ' } else { ch })
        .collect()
}

/// The policy's class name of a file protection class.
fn class_word(class: u32) -> Option<&'static str> {
    Some(match class {
        1 => "complete",
        2 => "complete_unless_open",
        3 => "complete_until_first_user_authentication",
        4 => "none",
        _ => return None,
    })
}

/// A bundle id the policy parser accepts.
pub(super) fn usable_bundle_id(b: &str) -> bool {
    !b.is_empty()
        && b == b.trim()
        && !b.contains('/')
        && !b.chars().any(|ch| ch.is_whitespace() || ch.is_control())
}

/// The selector naming `it` (non-empty attributes only), or None when nothing names it.
fn selector_for(it: &KeychainItem) -> Option<KeychainSelector> {
    let some = |v: &Option<String>| v.clone().filter(|s| !s.is_empty());
    let sel = KeychainSelector {
        service: some(&it.service),
        account: some(&it.account),
        server: some(&it.server),
        access_group: some(&it.access_group),
        label: None,
        table: Some(it.table.clone()),
    };
    (!sel.is_empty()).then_some(sel)
}

/// What to expect of an item: `Some("device-bound" | "migratable")`.
fn expectation_for(it: &KeychainItem, encrypted: bool) -> Option<&'static str> {
    match it.this_device_only {
        Some(true) => Some("device-bound"),
        Some(false) if encrypted && it.restore.other_device == Some(true) => Some("migratable"),
        _ => None,
    }
}

/// Words that make a keychain attribute look like a session secret (case-insensitive).
const TOKEN_WORDS: [&str; 7] = [
    "token", "session", "refresh", "oauth", "bearer", "cookie", "jwt",
];

/// The attribute (name, value) of `it` that looks like a session token, if any.
fn token_like(it: &KeychainItem) -> Option<(&'static str, &str)> {
    [
        ("service", &it.service),
        ("account", &it.account),
        ("label", &it.label),
    ]
    .into_iter()
    .filter_map(|(n, v)| v.as_deref().map(|v| (n, v)))
    .find(|(_, v)| {
        let v = v.to_lowercase();
        TOKEN_WORDS.iter().any(|w| v.contains(w))
    })
}

/// Comments on what an item's accessibility shows of bad practice (none when nothing does).
fn keychain_practice(it: &KeychainItem) -> Vec<String> {
    let mut notes = Vec::new();
    let acc = it.pdmn.as_deref().unwrap_or("");
    if acc == "dk" || acc == "dku" {
        notes.push(format!(
            "bad practice: {acc} ({}) is deprecated: the item is readable while the\n# device is locked; use kSecAttrAccessibleAfterFirstUnlockThisDeviceOnly or stronger",
            it.accessibility_constant.unwrap_or("kSecAttrAccessibleAlways…")
        ));
    }
    if it.this_device_only == Some(false) {
        if let Some((attr, v)) = token_like(it) {
            notes.push(format!(
                "bad practice: its {attr} {:?} looks like a session token, and it restores to any\n# device: a token should be ThisDeviceOnly (then expect = \"device-bound\")",
                comment_safe(v)
            ));
        }
    }
    notes
}

/// The `[[app]]` table of one app: what its `files` and keychain items satisfy now, and
/// commented suggestions for the rest.
fn app_section(
    out: &mut String,
    bundle: &str,
    files: &[&FileReport],
    keychain: Option<&KeychainAudit>,
    owners: &Ownership,
    encrypted: bool,
) {
    app_header(out, bundle, files);
    let _ = writeln!(out, "[[app]]\nbundle_id = {}", toml_string(bundle));
    let _ = writeln!(
        out,
        "# Paths that must never be in a backup (caches, tokens, downloaded media), e.g.:\n# must_not_back_up = [\"Library/Caches/**\", \"tmp/**\"]"
    );
    must_back_up_lines(out, files);
    min_protection_lines(out, files);
    if let Some(k) = keychain {
        keychain_lines(out, bundle, k, owners, encrypted);
    }
    let _ = writeln!(
        out,
        "\n# Values the app must never write in plaintext (test credentials, tokens), e.g.:\n# [[app.canary]]\n# name = \"test-password\"\n# literal = \"...\"            # or regex = \"...\", literals_file = \"canaries.txt\""
    );
    let _ = writeln!(
        out,
        "\n# Secrets the app must never leave in its files (docs/policy.md \"Leak expectations\"), e.g.:\n# [app.leaks]\n# forbid = [\"credential\", \"token\", \"private_key\"]\n# allow = [{{ path = \"Documents/fixtures/**\", reason = \"seeded test data\" }}]"
    );
}

/// The comment above an app's table: its files by protection class, and its domains.
fn app_header(out: &mut String, bundle: &str, files: &[&FileReport]) {
    let mut classes: BTreeMap<String, u64> = BTreeMap::new();
    for f in files.iter().filter(|f| f.kind == FileKind::File) {
        *classes
            .entry(f.protection_class.map_or("none".into(), |x| x.to_string()))
            .or_default() += 1;
    }
    let mut class_list: Vec<(&String, &u64)> = classes.iter().collect();
    class_list
        .sort_by(|a, b| crate::audit::class_sort_key(a.0).cmp(&crate::audit::class_sort_key(b.0)));
    let class_list: Vec<String> = class_list
        .iter()
        .map(|(k, v)| format!("{k}: {v}"))
        .collect();
    let mut domains: Vec<&str> = files.iter().map(|f| f.domain.as_str()).collect();
    domains.sort_unstable();
    domains.dedup();
    let _ = writeln!(
        out,
        "\n# {}: {} files (by protection class {}), domains: {}",
        comment_safe(bundle),
        files.iter().filter(|f| f.kind == FileKind::File).count(),
        if class_list.is_empty() {
            "-".to_string()
        } else {
            class_list.join(", ")
        },
        comment_safe(&domains.join(", "))
    );
}

/// `must_back_up`: `Documents/**` when the app has documents, all of them present.
fn must_back_up_lines(out: &mut String, files: &[&FileReport]) {
    let docs: Vec<&&FileReport> = files
        .iter()
        .filter(|f| f.relative_path.starts_with("Documents/"))
        .collect();
    let docs_ok = !docs.is_empty()
        && docs
            .iter()
            .all(|f| !(f.kind == FileKind::File && f.status == FileStatus::Missing));
    if docs_ok {
        let _ = writeln!(out, "must_back_up = [\"Documents/**\"]");
    } else {
        let _ = writeln!(
            out,
            "# The user's data that must survive a restore, e.g.:\n# must_back_up = [\"Documents/**\"]"
        );
    }
}

/// A comment on the files in Documents/ with protection class none, when there are any.
fn unprotected_documents(out: &mut String, regular: &[&&FileReport]) {
    let unprotected: Vec<&FileReport> = regular
        .iter()
        .map(|f| **f)
        .filter(|f| f.protection_class == Some(4) && f.relative_path.starts_with("Documents/"))
        .collect();
    if let Some(first) = unprotected.first() {
        let _ = writeln!(
            out,
            "# bad practice: {} files in Documents/ have protection class none (NSFileProtectionNone,\n# readable whenever the device is on), e.g. {}: write them with .completeFileProtection",
            unprotected.len(),
            comment_safe(&first.relative_path)
        );
    }
}

/// `min_protection`: the weakest class present now.
fn min_protection_lines(out: &mut String, files: &[&FileReport]) {
    let regular: Vec<&&FileReport> = files.iter().filter(|f| f.kind == FileKind::File).collect();
    let weakest = regular
        .iter()
        .map(|f| f.protection_class.filter(|x| (1..=4).contains(x)))
        .try_fold(0u32, |acc, x| x.map(|x| acc.max(x)));
    match weakest.filter(|w| *w >= 1).and_then(class_word) {
        Some(word) => {
            let _ = writeln!(
                out,
                "\n# Weakest class found now; tighten (e.g. \"complete\" for Documents/**)."
            );
            unprotected_documents(out, &regular);
            let _ = writeln!(
                out,
                "[[app.min_protection]]\nglob = \"**\"\nclass = {}",
                toml_string(word)
            );
        }
        None => {
            let _ = writeln!(out);
            unprotected_documents(out, &regular);
            let _ = writeln!(
                out,
                "# [[app.min_protection]]\n# glob = \"Documents/**\"\n# class = \"complete\""
            );
        }
    }
}

/// Keychain: one expectation per distinct selector whose items agree.
fn keychain_lines(
    out: &mut String,
    bundle: &str,
    k: &KeychainAudit,
    owners: &Ownership,
    encrypted: bool,
) {
    let mine: Vec<&KeychainItem> = k
        .items
        .iter()
        .filter(|it| super::eval::owned_by(it, bundle, owners))
        .collect();
    let mut seen: Vec<KeychainSelector> = Vec::new();
    for it in mine.iter().filter(|it| it.decryptable) {
        let Some(sel) = selector_for(it) else {
            continue;
        };
        if seen.contains(&sel) {
            continue;
        }
        seen.push(sel.clone());
        // Every item the selector picks must agree, else the expectation would fail.
        let picked: Vec<&KeychainItem> =
            super::eval::candidates(&k.items, bundle, &sel, owners).collect();
        let exp = expectation_for(it, encrypted);
        let agree = picked.iter().all(|x| expectation_for(x, encrypted) == exp);
        let acc = it.pdmn.as_deref().unwrap_or("?");
        match exp {
            Some(e) if agree => keychain_table(out, it, &sel, acc, e),
            _ => {
                let _ = writeln!(
                    out,
                    "\n# keychain [{}] ({acc}) left out: {}",
                    comment_safe(&sel.describe()),
                    if exp.is_none() {
                        "it would not migrate from this backup and is not ThisDeviceOnly"
                    } else {
                        "items it selects differ in accessibility"
                    }
                );
                for note in keychain_practice(it) {
                    let _ = writeln!(out, "# {note}");
                }
            }
        }
    }
}

/// One `[[app.keychain]]` table: `sel` expects `expect`; `it` (accessibility `acc`) is
/// the first item it names.
fn keychain_table(
    out: &mut String,
    it: &KeychainItem,
    sel: &KeychainSelector,
    acc: &str,
    expect: &str,
) {
    let _ = writeln!(
        out,
        "\n# now: {acc} ({})",
        comment_safe(it.accessibility_constant.unwrap_or("?"))
    );
    for note in keychain_practice(it) {
        let _ = writeln!(out, "# {note}");
    }
    let _ = writeln!(out, "[[app.keychain]]");
    for (key, v) in [
        ("table", &sel.table),
        ("service", &sel.service),
        ("account", &sel.account),
        ("server", &sel.server),
        ("access_group", &sel.access_group),
    ] {
        if let Some(v) = v {
            let _ = writeln!(out, "{key} = {}", toml_string(v));
        }
    }
    let _ = writeln!(out, "expect = {}", toml_string(expect));
}

/// A starting policy for an opened backup, with the reason the keychain could not be
/// read when it could not (no keychain expectations are written then).
pub struct Started {
    pub text: String,
    pub keychain_error: Option<Error>,
}

/// Scan `s` once and write the policy it satisfies (see [`generate`]): of the apps `only`
/// names, or of every app when it is empty. An id that is not an app of the backup is
/// `Error::Usage` naming it.
pub fn start(s: &Session, only: &[String]) -> Result<Started, Error> {
    let manifest: &[crate::backup::AppInfo] = s
        .backup
        .manifest
        .as_ref()
        .map_or(&[], |m| m.applications.as_slice());
    let ids: Vec<&str> = only.iter().map(String::as_str).collect();
    // Only the named apps' file reports are kept (as `check` keeps its policy's).
    let keep = |f: &FileReport| may_belong_to(&f.domain, &ids, manifest);
    let scanned = scan_all(
        s,
        &ScanOptions {
            keep_file: (!only.is_empty()).then_some(&keep),
            ..Default::default()
        },
    )?;
    let (keychain, keychain_error) = match scanned.keychain {
        Some(Ok(k)) => (k, None),
        Some(Err(e)) => (None, Some(e)),
        None => (None, None),
    };
    let owners = super::owners_of(s, &scanned.report, []);
    check_apps(&owners, &scanned.report, only)?;
    Ok(Started {
        text: generate(&scanned.report, keychain.as_ref(), &owners, only),
        keychain_error,
    })
}

/// `Error::Usage` naming the first id of `only` that is not an app of the backup: one it
/// knows as an app, or the owner of one of its domains ([`generate`] writes those).
pub(super) fn check_apps(
    owners: &Ownership,
    scan: &ScanReport,
    only: &[String],
) -> Result<(), Error> {
    let known = |id: &str| {
        owners.apps().any(|a| a == id)
            || scan
                .domains
                .iter()
                .any(|d| owners.domain_owner(d).as_deref() == Some(id))
    };
    let Some(id) = only.iter().find(|id| !known(id)) else {
        return Ok(());
    };
    let host = owners.host(id);
    Err(Error::Usage(if host != *id {
        format!("--app {id}: not an app of the backup: it belongs to {host} (use --app {host})")
    } else {
        format!("--app {id}: no app {id} in the backup (`auditor scan` lists its apps)")
    }))
}

/// The policy's header comment, `schema` and `[backup]` for the backup `scan` describes
/// (`locked`: written by `--lock`).
pub(super) fn header(scan: &ScanReport, locked: bool) -> String {
    let b = &scan.backup;
    let encrypted =
        b.encryption.declared == Some(true) || b.encryption.index_encrypted == Some(true);
    let mut out = String::new();
    let _ = writeln!(
        out,
        "# auditor policy generated by `auditor policy init{}` from\n#   {}\n#   {} {}, iOS {}, {}",
        if locked { " --lock" } else { "" },
        comment_safe(&b.path),
        comment_safe(b.device_name.as_deref().unwrap_or("?")),
        comment_safe(b.product_type.as_deref().unwrap_or("")),
        comment_safe(b.ios_version.as_deref().unwrap_or("?")),
        comment_safe(b.date.as_deref().unwrap_or("?"))
    );
    if locked {
        let _ = writeln!(
            out,
            "# A LOCKED policy: every file, keychain item and leak of that backup is pinned, and\n# `auditor check` fails on anything new or weaker. Do not edit it by hand: refresh it\n# on purpose (docs/policy.md \"Locked policies\"): lock a new known-good backup, review\n# the diff, commit.\n#   auditor check <BACKUP> --policy <this file>"
        );
    } else {
        let _ = writeln!(
            out,
            "# Every expectation below holds for that backup. Tighten it (docs/policy.md) and run\n#   auditor check <BACKUP> --policy <this file>"
        );
    }
    if encrypted {
        let _ = writeln!(out, "schema = 1\n\n[backup]\nencrypted = true");
    } else {
        // Never require what is bad practice: suggest the encrypted backup instead.
        let _ = writeln!(
            out,
            "schema = 1\n\n[backup]\n# This backup is NOT encrypted: its files are plaintext and no keychain item\n# migrates from it. Require an encrypted backup (\"Encrypt local backup\" in Finder, or\n# `idevicebackup2 encryption on`), as users' backups are, and take the backup again:\n# encrypted = true"
        );
    }
    match (encrypted, b.kdf.as_ref().and_then(|k| k.sha256_rounds)) {
        (true, Some(d)) => {
            let _ = writeln!(out, "min_kdf_rounds = {d}");
        }
        _ => {
            let _ = writeln!(out, "# min_kdf_rounds = 10000000");
        }
    }
    if b.complete == Some(true) {
        let _ = writeln!(out, "complete = true");
    } else {
        let _ = writeln!(out, "# complete = true   (this backup is not complete)");
    }
    out
}

/// The apps a policy is written for (those `only` names, or every app), sorted, each with
/// its file reports; apps with no file and no manifest entry are left out.
pub(super) fn apps_with_files<'a>(
    scan: &'a ScanReport,
    owners: &Ownership,
    only: &[String],
) -> Vec<(String, Vec<&'a FileReport>)> {
    let mut by_owner: BTreeMap<String, Vec<&FileReport>> = BTreeMap::new();
    let mut owner_of: std::collections::HashMap<&str, Option<String>> = Default::default();
    for f in &scan.files {
        let o = owner_of
            .entry(f.domain.as_str())
            .or_insert_with(|| owners.domain_owner(&f.domain));
        if let Some(o) = o {
            by_owner.entry(o.clone()).or_default().push(f);
        }
    }
    let mut ids: Vec<String> = owners.apps().map(str::to_string).collect();
    ids.extend(by_owner.keys().cloned());
    ids.retain(|id| only.is_empty() || only.contains(id));
    ids.sort();
    ids.dedup();
    ids.into_iter()
        .filter_map(|id| {
            let files = by_owner.remove(&id).unwrap_or_default();
            (!files.is_empty() || owners.in_manifest(&id)).then_some((id, files))
        })
        .collect()
}

/// Write a starting policy for the backup `scan` describes (and its readable keychain):
/// the apps `only` names, or every app when it is empty.
pub fn generate(
    scan: &ScanReport,
    keychain: Option<&KeychainAudit>,
    owners: &Ownership,
    only: &[String],
) -> String {
    let b = &scan.backup;
    let encrypted =
        b.encryption.declared == Some(true) || b.encryption.index_encrypted == Some(true);
    let mut out = header(scan, false);
    if let Some(k) = keychain {
        let unreadable = k.items.iter().filter(|it| !it.decryptable).count();
        if unreadable > 0 {
            let bound = k
                .items
                .iter()
                .filter(|it| it.reason_code == Some(ReasonCode::DeviceBoundClassKey))
                .count();
            let _ = writeln!(
                out,
                "\n# {unreadable} keychain items could not be read ({bound} of them device-bound), so no\n# expectation names them: run with --device-key to include them."
            );
        }
    }
    for (id, files) in apps_with_files(scan, owners, only) {
        if !usable_bundle_id(&id) {
            let _ = writeln!(
                out,
                "\n# app {:?} left out: not a usable bundle id",
                comment_safe(&id)
            );
            continue;
        }
        app_section(&mut out, &id, &files, keychain, owners, encrypted);
    }
    out
}
