//! `auditor policy init --lock`: a closed-world policy pinned to a known-good backup.
//!
//! Per app: the files it may back up as globs with the weakest class seen under each
//! (`[app.lock] files`), every readable keychain item with where it restores (`[app.lock]
//! keychain`), and the leak fingerprints found now as the only ones allowed (`[app.leaks]`).
//! The keychain items no one could decrypt are counted by table and class (`[lock] sealed`).
//! `check` then fails on anything new or weaker (docs/policy.md "Locked policies").

use super::init::{comment_safe, header, toml_string, usable_bundle_id};
use crate::audit::keychain::KeychainAudit;
use crate::audit::model::{FileReport, ScanReport};
use crate::audit::scan::{scan_all, ScanOptions};
use crate::index::FileKind;
use crate::keychain::KeychainItem;
use crate::leaks::model::LeaksReport;
use crate::ownership::{may_belong_to, Ownership};
use crate::session::Session;
use crate::Error;
use std::collections::BTreeMap;
use std::fmt::Write;

/// A directory with more regular files than this is locked as `dir/*`; fewer, file by file.
pub const EXACT_PATHS_UP_TO: usize = 3;

/// `path` with the glob's special characters escaped (the policy compiles globs with `\`
/// escapes on).
fn glob_escape(path: &str) -> String {
    let mut out = String::with_capacity(path.len());
    for ch in path.chars() {
        if matches!(ch, '*' | '?' | '[' | ']' | '{' | '}' | '\\' | '!') {
            out.push('\\');
        }
        out.push(ch);
    }
    out
}

/// The policy name of file class `c` (1–4).
fn class_name(c: u32) -> Option<&'static str> {
    Some(match c {
        1 => "complete",
        2 => "complete_unless_open",
        3 => "complete_until_first_user_authentication",
        4 => "none",
        _ => return None,
    })
}

/// One `files` entry: a glob and the weakest class of the files under it (None when one of
/// them has no class 1–4).
#[derive(Debug, PartialEq, Eq)]
pub struct FileGlob {
    pub glob: String,
    pub class: Option<u32>,
}

/// The globs of an app's regular `files`: one `dir/*` per directory with more than
/// [`EXACT_PATHS_UP_TO`] files, the exact paths otherwise; sorted.
pub fn file_globs(files: &[&FileReport]) -> Vec<FileGlob> {
    let mut by_dir: BTreeMap<&str, Vec<&FileReport>> = BTreeMap::new();
    for f in files.iter().filter(|f| f.kind == FileKind::File) {
        let dir = f.relative_path.rsplit_once('/').map_or("", |(d, _)| d);
        by_dir.entry(dir).or_default().push(f);
    }
    let weakest = |fs: &[&FileReport]| {
        fs.iter()
            .map(|f| f.protection_class.filter(|c| (1..=4).contains(c)))
            .try_fold(1u32, |acc, c| c.map(|c| acc.max(c)))
    };
    let mut out = Vec::new();
    for (dir, fs) in by_dir {
        if fs.len() > EXACT_PATHS_UP_TO {
            let glob = if dir.is_empty() {
                "*".to_string()
            } else {
                format!("{}/*", glob_escape(dir))
            };
            out.push(FileGlob {
                glob,
                class: weakest(&fs),
            });
        } else {
            for f in fs {
                out.push(FileGlob {
                    glob: glob_escape(&f.relative_path),
                    class: weakest(&[f]),
                });
            }
        }
    }
    out.sort_by(|a, b| a.glob.cmp(&b.glob));
    out.dedup_by(|a, b| a.glob == b.glob);
    out
}

/// The `restore` word of an item.
fn restore_word(it: &KeychainItem) -> String {
    serde_json::to_value(it.restore.summary)
        .ok()
        .and_then(|v| v.as_str().map(str::to_string))
        .unwrap_or_else(|| "unknown".into())
}

/// The inline table of one readable item: its table and names, restore and routes.
fn item_entry(it: &KeychainItem) -> String {
    let name = |v: &Option<String>| v.clone().filter(|s| !s.is_empty());
    let mut parts = vec![format!("table = {}", toml_string(&it.table))];
    for (k, v) in [
        ("service", name(&it.service)),
        ("account", name(&it.account)),
        ("server", name(&it.server)),
        ("access_group", name(&it.access_group)),
    ] {
        if let Some(v) = v {
            parts.push(format!("{k} = {}", toml_string(&v)));
        }
    }
    parts.push(format!("restore = {}", toml_string(&restore_word(it))));
    parts.push(format!(
        "new_device = {}",
        toml_string(&it.routes.new_device_letters())
    ));
    format!("{{ {} }}", parts.join(", "))
}

/// The leak categories a lock forbids (all of them: the allow list is the closed world).
const ALL_CATEGORIES: &str = "[\"credential\", \"token\", \"private_key\", \"personal\"]";

/// `[app.lock]` and `[app.leaks]` of one app.
fn app_lock(
    out: &mut String,
    bundle: &str,
    files: &[&FileReport],
    keychain: Option<&KeychainAudit>,
    owners: &Ownership,
    leaks: Option<&Result<LeaksReport, String>>,
) {
    let regular = files.iter().filter(|f| f.kind == FileKind::File).count();
    let _ = writeln!(
        out,
        "\n# {}: {regular} files\n[[app]]\nbundle_id = {}\n\n[app.lock]",
        comment_safe(bundle),
        toml_string(bundle)
    );
    let globs = file_globs(files);
    if globs.is_empty() {
        let _ = writeln!(out, "files = []");
    } else {
        let _ = writeln!(out, "# the app's files: one glob per directory, or exact paths; the weakest class seen\nfiles = [");
        for g in &globs {
            let class = g
                .class
                .and_then(class_name)
                .map(|c| format!(", class = {}", toml_string(c)))
                .unwrap_or_default();
            let _ = writeln!(out, "  {{ glob = {}{class} }},", toml_string(&g.glob));
        }
        let _ = writeln!(out, "]");
    }
    let mut entries: Vec<String> = keychain
        .map(|k| {
            k.items
                .iter()
                .filter(|it| it.decryptable && super::eval::owned_by(it, bundle, owners))
                .map(item_entry)
                .collect()
        })
        .unwrap_or_default();
    entries.sort();
    entries.dedup();
    if entries.is_empty() {
        let _ = writeln!(out, "keychain = []");
    } else {
        let _ = writeln!(
            out,
            "# the app's keychain items: where each restores (docs/restore.md)\nkeychain = ["
        );
        for e in entries {
            let _ = writeln!(out, "  {e},");
        }
        let _ = writeln!(out, "]");
    }
    let _ = writeln!(out, "\n[app.leaks]\nforbid = {ALL_CATEGORIES}");
    match leaks {
        Some(Ok(r)) => {
            let mut fps: Vec<(&str, &str, &str)> = r
                .leaks
                .iter()
                .filter(|l| l.app.as_deref() == Some(bundle))
                .map(|l| (l.fingerprint.as_str(), l.rule.as_str(), l.path.as_str()))
                .collect();
            fps.sort_unstable();
            fps.dedup_by(|a, b| a.0 == b.0);
            if fps.is_empty() {
                let _ = writeln!(
                    out,
                    "# no leak was found in the app's files when locked\nallow = []"
                );
            } else {
                let _ = writeln!(
                    out,
                    "# the leaks found when locked, by value fingerprint\nallow = ["
                );
                for (fp, rule, path) in fps {
                    let _ = writeln!(
                        out,
                        "  {{ fingerprint = {}, reason = {} }},",
                        toml_string(fp),
                        toml_string(&format!("locked: {rule} in {path}"))
                    );
                }
                let _ = writeln!(out, "]");
            }
        }
        Some(Err(e)) => {
            let _ = writeln!(
                out,
                "# the app's files could not be swept for leaks ({}): nothing is allowed\nallow = []",
                comment_safe(e)
            );
        }
        None => {
            let _ = writeln!(
                out,
                "# the files were not swept (no readable index: give the password): nothing is\n# allowed; lock again with credentials to allow the leaks of a known-good backup\nallow = []"
            );
        }
    }
}

/// `[lock] sealed`: the undecrypted items by table and class.
fn sealed_lines(out: &mut String, keychain: Option<&KeychainAudit>) {
    let mut counts: BTreeMap<(String, Option<u32>), u64> = BTreeMap::new();
    if let Some(k) = keychain {
        for it in k.items.iter().filter(|i| !i.decryptable) {
            *counts
                .entry((it.table.clone(), it.protection_class))
                .or_default() += 1;
        }
    }
    let _ = writeln!(
        out,
        "\n# Keychain items not decrypted here (no app known), counted by table and class.\n[lock]"
    );
    if counts.is_empty() {
        let _ = writeln!(out, "sealed = []");
        return;
    }
    let _ = writeln!(out, "sealed = [");
    for ((table, class), n) in counts {
        let class = class.map(|c| format!(", class = {c}")).unwrap_or_default();
        let _ = writeln!(
            out,
            "  {{ table = {}{class}, count = {n} }},",
            toml_string(&table)
        );
    }
    let _ = writeln!(out, "]");
}

/// Write the locked policy of the backup `scan` describes (see the module doc). `leaks`
/// holds each app's sweep (None when the files could not be swept).
pub fn generate_locked(
    scan: &ScanReport,
    keychain: Option<&KeychainAudit>,
    owners: &Ownership,
    only: &[String],
    leaks: &BTreeMap<String, Result<LeaksReport, String>>,
) -> String {
    let mut out = header(scan, true);
    sealed_lines(&mut out, keychain);
    for (id, files) in super::init::apps_with_files(scan, owners, only) {
        if !usable_bundle_id(&id) {
            let _ = writeln!(
                out,
                "\n# app {:?} left out: not a usable bundle id",
                comment_safe(&id)
            );
            continue;
        }
        app_lock(&mut out, &id, &files, keychain, owners, leaks.get(&id));
    }
    out
}

/// Scan `s` once, sweep each app's files for leaks (when the index is readable), and write
/// the locked policy (of the apps `only` names, or of every app).
pub fn start_locked(s: &Session, only: &[String]) -> Result<super::init::Started, Error> {
    let manifest: &[crate::backup::AppInfo] = s
        .backup
        .manifest
        .as_ref()
        .map_or(&[], |m| m.applications.as_slice());
    let ids: Vec<&str> = only.iter().map(String::as_str).collect();
    let keep = |f: &FileReport| may_belong_to(&f.domain, &ids, manifest);
    let scanned = scan_all(
        s,
        &ScanOptions {
            keep_file: (!only.is_empty()).then_some(&keep),
            ..Default::default()
        },
    )?;
    if !scanned.report.index_read && s.is_encrypted() && s.class_keys.is_none() {
        return Err(Error::CredentialsMissing(
            "a locked policy pins every file and keychain item: the backup's index is encrypted, a password (or --key-file) is needed".into(),
        ));
    }
    let (keychain, keychain_error) = match scanned.keychain {
        Some(Ok(k)) => (k, None),
        Some(Err(e)) => (None, Some(e)),
        None => (None, None),
    };
    let owners = super::owners_of(s, &scanned.report, []);
    super::init::check_apps(&owners, &scanned.report, only)?;
    let mut leaks = BTreeMap::new();
    if scanned.report.index_read {
        for (id, _) in super::init::apps_with_files(&scanned.report, &owners, only) {
            let opts = crate::leaks::sweep::LeakOptions {
                app: Some(id.clone()),
                ..Default::default()
            };
            let r = crate::leaks::sweep::sweep_with(s, &opts, crate::leaks::builtin(), &|_, _| {});
            match r {
                Ok(r) => leaks.insert(id, Ok(r)),
                Err(e @ Error::CredentialsMissing(_)) => return Err(e),
                Err(e) => leaks.insert(id, Err(e.to_string())),
            };
        }
    }
    Ok(super::init::Started {
        text: generate_locked(&scanned.report, keychain.as_ref(), &owners, only, &leaks),
        keychain_error,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_glob_characters() {
        assert_eq!(glob_escape("a/b[1]*.txt"), "a/b\\[1\\]\\*.txt");
        assert_eq!(glob_escape("Library/Preferences"), "Library/Preferences");
    }

    #[test]
    fn class_names_cover_the_four_file_classes() {
        assert_eq!(class_name(1), Some("complete"));
        assert_eq!(class_name(4), Some("none"));
        assert_eq!(class_name(5), None);
    }
}
