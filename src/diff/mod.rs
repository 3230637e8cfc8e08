//! `auditor diff`: what changed between two backups (apps, files, keychain, leaks, tamper
//! surface), from the models the scan, the keychain audit, the leak sweep and the tamper
//! walk already make ([diff.md](../../docs/diff.md)).
//!
//! Each side is read once into a [`Snapshot`]: the scan's apps and keychain audit, and of
//! every file only a compact entry (domain number, path, kind, status, class, size,
//! digest), sorted by (domain, path) so that the two sides are compared as two sorted
//! streams. [`compare`] then makes the [`DiffReport`].

pub mod files;
mod keychain;
pub mod model;
pub mod rules;

pub use model::{Area, Change, DiffReport, Facts, FailOn, State, Subject, DIFF_SCHEMA};

use crate::audit::keychain::KeychainAudit;
use crate::audit::scan::{scan_all, ScanOptions};
use crate::audit::ToolInfo;
use crate::keychain::KeychainItem;
use crate::leaks::model::LeaksReport;
use crate::leaks::sweep::{self, LeakOptions, DEFAULT_MAX_FILE_SIZE};
use crate::session::Session;
use crate::tamper::{self, TamperOptions, TamperReport};
use crate::Error;
use files::FileList;
use model::{Compared, Counts, DiffBackup, DiffSummary};
use std::collections::{BTreeMap, BTreeSet, HashMap};

/// What to compare.
#[derive(Debug, Clone)]
pub struct DiffOptions {
    /// Only this app: its files (app, group and plugin domains), keychain items, leaks and
    /// settings; the backup-level change (encryption) is kept.
    pub app: Option<String>,
    /// Run the leak sweep on both sides and compare leaks by fingerprint.
    pub leaks: bool,
    /// Walk the tamper surface on both sides and compare settings.
    pub tamper: bool,
    /// Files larger than this are not read by the leak sweep or the tamper walk.
    pub max_file_size: u64,
}

impl Default for DiffOptions {
    fn default() -> Self {
        DiffOptions {
            app: None,
            leaks: false,
            tamper: false,
            max_file_size: DEFAULT_MAX_FILE_SIZE,
        }
    }
}

/// One backup as the diff compares it.
pub struct Snapshot {
    backup: DiffBackup,
    /// Bundle id → version.
    apps: BTreeMap<String, Option<String>>,
    /// Domain → the app it belongs to.
    owner: HashMap<String, String>,
    files: FileList,
    /// The keychain items (secrets dropped), when the keychain was read.
    keychain: Option<Vec<KeychainItem>>,
    notes: Vec<String>,
    leaks: Option<LeaksReport>,
    tamper: Option<TamperReport>,
}

/// Read one side: `side` names it in errors and notes (`old`, `new`). Its index must be
/// readable (an encrypted backup unlocked).
pub fn snapshot(
    s: &Session,
    side: &str,
    opts: &DiffOptions,
    progress: &(dyn Fn(u64, u64) + Sync),
) -> Result<Snapshot, Error> {
    let path = s.backup.root.display().to_string();
    if s.index_is_ciphertext() && s.class_keys.is_none() {
        return Err(Error::CredentialsMissing(format!(
            "the {side} backup {path} is encrypted and no password or key was given for it"
        )));
    }
    let collector = files::Collector::default();
    let keep_file = |f: &crate::audit::FileReport| collector.file(f);
    let keep_row = |r: &crate::index::FileRecord| collector.row(r);
    // Not `summary_only`: that skips `keep_file`, which takes each report's compact entry
    // and keeps no report (it returns false).
    let scan_opts = ScanOptions {
        keep_file: Some(&keep_file),
        keep_row: Some(&keep_row),
        ..Default::default()
    };
    let scanned = scan_all(s, &scan_opts)?;
    let report = scanned.report;
    if !report.index_read {
        return Err(Error::backup(
            &s.backup.root,
            format!("the {side} backup's index could not be read: it cannot be compared"),
        ));
    }
    let mut notes = Vec::new();
    let mut owner = HashMap::new();
    let mut apps = BTreeMap::new();
    for a in &report.apps {
        apps.insert(a.bundle_id.clone(), a.version.clone());
        for d in &a.domains {
            owner
                .entry(d.clone())
                .or_insert_with(|| a.bundle_id.clone());
        }
    }
    let keychain = match scanned.keychain {
        Some(Ok(Some(mut a))) => {
            if let Some(app) = &opts.app {
                a.retain_app(app);
            }
            Some(drop_secrets(a))
        }
        Some(Ok(None)) => {
            notes.push(format!("the {side} backup holds no keychain export"));
            None
        }
        Some(Err(e)) => {
            notes.push(format!(
                "the {side} backup's keychain could not be read: {e}"
            ));
            None
        }
        None => None,
    };
    let files = collector.finish();
    let leaks = match opts.leaks {
        true => Some(sweep::sweep(
            s,
            &LeakOptions {
                app: opts.app.clone(),
                all_domains: false,
                max_file_size: opts.max_file_size,
                show_secrets: false,
            },
            progress,
        )?),
        false => None,
    };
    let tamper = match opts.tamper {
        true => Some(tamper::surface(
            s,
            &TamperOptions {
                app: opts.app.clone(),
                max_file_size: opts.max_file_size,
                ..TamperOptions::default()
            },
            progress,
        )?),
        false => None,
    };
    let b = &report.backup;
    Ok(Snapshot {
        backup: DiffBackup {
            path,
            udid: b.udid.clone(),
            device_name: b.device_name.clone(),
            ios_version: b.ios_version.clone(),
            date: b.date.clone(),
            encrypted: s.is_encrypted(),
            keychain_read: keychain.is_some(),
        },
        apps,
        owner,
        files,
        keychain,
        notes,
        leaks,
        tamper,
    })
}

/// The items of an audit, their secrets zeroized now rather than kept for the compare.
fn drop_secrets(a: KeychainAudit) -> Vec<KeychainItem> {
    let mut items = a.items;
    for it in &mut items {
        it.secret = None;
    }
    items
}

/// Read both sides and compare them.
pub fn diff(
    old: &Session,
    new: &Session,
    opts: &DiffOptions,
    progress: &(dyn Fn(u64, u64) + Sync),
) -> Result<DiffReport, Error> {
    let o = snapshot(old, "old", opts, progress)?;
    let n = snapshot(new, "new", opts, progress)?;
    Ok(compare(&o, &n, opts))
}

/// Compare two snapshots.
pub fn compare(old: &Snapshot, new: &Snapshot, opts: &DiffOptions) -> DiffReport {
    let app = opts.app.as_deref();
    let mut changes = Vec::new();
    let mut unchanged = Counts::default();
    let mut notes: Vec<String> = old.notes.iter().chain(&new.notes).cloned().collect();
    backup_changes(old, new, &mut changes);
    app_changes(old, new, app, &mut changes, &mut unchanged);
    let owner = |domain: &str| {
        new.owner
            .get(domain)
            .or_else(|| old.owner.get(domain))
            .cloned()
    };
    // The keychain export is compared item by item when both were read, not as a file.
    let both_keychains = old.keychain.is_some() && new.keychain.is_some();
    let skip = |domain: &str, path: &str| {
        both_keychains
            && domain == crate::audit::keychain::KEYCHAIN_DOMAIN
            && path == crate::audit::keychain::KEYCHAIN_PATH
    };
    let before = changes.len();
    unchanged.files = files::compare(&old.files, &new.files, app, &owner, &skip, &mut changes);
    changes[before..].sort_by(|a, b| a.subject.cmp(&b.subject).then(a.rule.cmp(b.rule)));
    let keychain = match (&old.keychain, &new.keychain) {
        (Some(o), Some(n)) => {
            let before = changes.len();
            unchanged.keychain_items = keychain::compare(o, n, &mut changes);
            changes[before..].sort_by(|a, b| a.subject.cmp(&b.subject).then(a.rule.cmp(b.rule)));
            true
        }
        _ => {
            notes.push("keychain items were not compared: both keychains must be read".into());
            false
        }
    };
    let mut unchanged_leaks = Vec::new();
    if let (Some(o), Some(n)) = (&old.leaks, &new.leaks) {
        unchanged.leaks = leak_changes(o, n, &mut changes, &mut unchanged_leaks);
    }
    if let (Some(o), Some(n)) = (&old.tamper, &new.tamper) {
        unchanged.tamper_settings = tamper_changes(o, n, &mut changes);
    }
    let mut summary = DiffSummary::default();
    for c in &changes {
        summary.changes += 1;
        match c.state {
            State::New => summary.new += 1,
            State::Absent => summary.absent += 1,
            State::Updated | State::Unchanged => summary.updated += 1,
        }
        summary.weakened += u64::from(c.weakened);
        *summary.by_rule.entry(c.rule).or_default() += 1;
    }
    DiffReport {
        schema: DIFF_SCHEMA,
        tool: ToolInfo::default(),
        old: old.backup.clone(),
        new: new.backup.clone(),
        app: opts.app.clone(),
        compared: Compared {
            apps: true,
            files: true,
            keychain,
            leaks: old.leaks.is_some() && new.leaks.is_some(),
            tamper: old.tamper.is_some() && new.tamper.is_some(),
        },
        changes,
        unchanged,
        summary,
        notes,
        unchanged_leaks,
    }
}

/// A change with the fields every area fills the same way.
pub(crate) fn change(
    rule: &crate::audit::finding::Rule,
    area: Area,
    state: State,
    subject: Subject,
    old: Option<Facts>,
    new: Option<Facts>,
    message: String,
) -> Change {
    Change {
        rule: rule.id,
        area,
        state,
        weakened: false,
        app: None,
        subject,
        old,
        new,
        message,
    }
}

/// The backup's encryption turned on or off.
fn backup_changes(old: &Snapshot, new: &Snapshot, out: &mut Vec<Change>) {
    let (o, n) = (old.backup.encrypted, new.backup.encrypted);
    if o == n {
        return;
    }
    let word = |e: bool| if e { "encrypted" } else { "not encrypted" };
    let mut c = change(
        &rules::BACKUP_ENCRYPTION,
        Area::Backup,
        State::Updated,
        Subject::default(),
        Some(Facts {
            encrypted: Some(o),
            ..Default::default()
        }),
        Some(Facts {
            encrypted: Some(n),
            ..Default::default()
        }),
        format!("the backup was {}, is {}", word(o), word(n)),
    );
    c.weakened = o && !n;
    out.push(c);
}

/// `5.10.1` after `5.9`: numeric parts compared as numbers, the rest as text.
pub fn version_order(a: &str, b: &str) -> std::cmp::Ordering {
    let parts = |s: &str| -> Vec<(u64, String)> {
        s.split(['.', '-', ' '])
            .map(|p| (p.parse().unwrap_or(u64::MAX), p.to_owned()))
            .collect()
    };
    parts(a).cmp(&parts(b))
}

fn app_changes(
    old: &Snapshot,
    new: &Snapshot,
    only: Option<&str>,
    out: &mut Vec<Change>,
    unchanged: &mut Counts,
) {
    let ids: BTreeSet<&String> = old.apps.keys().chain(new.apps.keys()).collect();
    for id in ids {
        if only.is_some_and(|a| a != id) {
            continue;
        }
        let facts = |v: &Option<String>| Facts {
            version: v.clone(),
            ..Default::default()
        };
        let subject = Subject {
            bundle_id: Some(id.clone()),
            ..Default::default()
        };
        let shown = |v: &Option<String>| v.clone().unwrap_or_else(|| "(no version)".into());
        let mut c = match (old.apps.get(id), new.apps.get(id)) {
            (None, Some(v)) => change(
                &rules::APP_ADDED,
                Area::App,
                State::New,
                subject,
                None,
                Some(facts(v)),
                format!("new app, version {}", shown(v)),
            ),
            (Some(v), None) => change(
                &rules::APP_REMOVED,
                Area::App,
                State::Absent,
                subject,
                Some(facts(v)),
                None,
                format!("version {} no longer in the backup", shown(v)),
            ),
            (Some(a), Some(b)) if a != b => {
                let up = match (a, b) {
                    (Some(a), Some(b)) => version_order(b, a).is_gt(),
                    (None, Some(_)) => true,
                    _ => false,
                };
                change(
                    if up {
                        &rules::APP_UPGRADED
                    } else {
                        &rules::APP_DOWNGRADED
                    },
                    Area::App,
                    State::Updated,
                    subject,
                    Some(facts(a)),
                    Some(facts(b)),
                    format!(
                        "{} → {} ({})",
                        shown(a),
                        shown(b),
                        if up { "upgraded" } else { "downgraded" }
                    ),
                )
            }
            _ => {
                unchanged.apps += 1;
                continue;
            }
        };
        c.app = Some(id.clone());
        out.push(c);
    }
}

/// Leaks by (app, rule, fingerprint): new, fixed, or on both sides (counted, and kept for
/// SARIF's `unchanged`).
fn leak_changes(
    old: &LeaksReport,
    new: &LeaksReport,
    out: &mut Vec<Change>,
    same: &mut Vec<Change>,
) -> u64 {
    type Key<'a> = (Option<&'a str>, &'a str, &'a str);
    fn group(r: &LeaksReport) -> BTreeMap<Key<'_>, (&crate::leaks::model::Leak, BTreeSet<String>)> {
        let mut m: BTreeMap<Key<'_>, (&crate::leaks::model::Leak, BTreeSet<String>)> =
            BTreeMap::new();
        for l in &r.leaks {
            m.entry((l.app.as_deref(), l.rule.as_str(), l.fingerprint.as_str()))
                .or_insert_with(|| (l, BTreeSet::new()))
                .1
                .insert(format!("{}/{}", l.domain, l.path));
        }
        m
    }
    let (o, n) = (group(old), group(new));
    let facts = |(l, at): &(&crate::leaks::model::Leak, BTreeSet<String>)| Facts {
        locations: Some(at.iter().cloned().collect()),
        preview: Some(l.preview.clone()),
        protection_class: l.protection_class,
        ..Default::default()
    };
    let subject = |l: &crate::leaks::model::Leak| Subject {
        domain: Some(l.domain.clone()),
        path: Some(l.path.clone()),
        rule: Some(l.rule.clone()),
        fingerprint: Some(l.fingerprint.clone()),
        ..Default::default()
    };
    let keys: BTreeSet<&Key<'_>> = o.keys().chain(n.keys()).collect();
    let mut unchanged = 0;
    for k in keys {
        let (state, rule, l) = match (o.get(k), n.get(k)) {
            (None, Some(x)) => (State::New, &rules::LEAK_NEW, x.0),
            (Some(x), None) => (State::Absent, &rules::LEAK_FIXED, x.0),
            (Some(_), Some(x)) => (State::Unchanged, &rules::LEAK_NEW, x.0),
            (None, None) => continue,
        };
        let at = |x: Option<&(&crate::leaks::model::Leak, BTreeSet<String>)>| x.map(facts);
        let mut c = change(
            rule,
            Area::Leak,
            state,
            subject(l),
            at(o.get(k)),
            at(n.get(k)),
            match state {
                State::New => format!("new {} leak ({})", l.rule, l.preview),
                State::Absent => format!("{} leak fixed: no longer in the app's files", l.rule),
                _ => format!("{} leak in both backups ({})", l.rule, l.preview),
            },
        );
        c.app = l.app.clone();
        c.weakened = state == State::New;
        if state == State::Unchanged {
            unchanged += 1;
            same.push(c);
        } else {
            out.push(c);
        }
    }
    unchanged
}

/// Settings by (domain, path, key, rule): gained, lost, or their integrity changed.
fn tamper_changes(old: &TamperReport, new: &TamperReport, out: &mut Vec<Change>) -> u64 {
    type Key<'a> = (&'a str, &'a str, &'a str, &'a str);
    fn index(r: &TamperReport) -> BTreeMap<Key<'_>, &crate::tamper::Setting> {
        r.settings
            .iter()
            .map(|s| {
                (
                    (
                        s.domain.as_str(),
                        s.path.as_str(),
                        s.key.as_str(),
                        s.rule.as_str(),
                    ),
                    s,
                )
            })
            .collect()
    }
    let (o, n) = (index(old), index(new));
    let facts = |s: &crate::tamper::Setting| Facts {
        integrity: Some(s.integrity.status.as_str()),
        value: s.value.clone(),
        protection_class: s.protection_class,
        ..Default::default()
    };
    let keys: BTreeSet<&Key<'_>> = o.keys().chain(n.keys()).collect();
    let mut unchanged = 0;
    for k in keys {
        let (a, b) = (o.get(k).copied(), n.get(k).copied());
        let s = b.or(a).expect("a key of either side");
        let subject = Subject {
            domain: Some(s.domain.clone()),
            path: Some(s.path.clone()),
            key: Some(s.key.clone()),
            rule: Some(s.rule.clone()),
            ..Default::default()
        };
        let (rule, state, message, weakened) = match (a, b) {
            (None, Some(x)) => (
                &rules::TAMPER_GAINED,
                State::New,
                format!(
                    "new {} setting (integrity {})",
                    x.rule,
                    x.integrity.status.as_str()
                ),
                false,
            ),
            (Some(x), None) => (
                &rules::TAMPER_LOST,
                State::Absent,
                format!("{} setting no longer there", x.rule),
                false,
            ),
            (Some(x), Some(y)) if x.integrity.status != y.integrity.status => (
                &rules::TAMPER_INTEGRITY_CHANGED,
                State::Updated,
                format!(
                    "integrity {} → {}",
                    x.integrity.status.as_str(),
                    y.integrity.status.as_str()
                ),
                x.integrity.status == crate::tamper::Status::Protected,
            ),
            _ => {
                unchanged += 1;
                continue;
            }
        };
        let mut c = change(
            rule,
            Area::Tamper,
            state,
            subject,
            a.map(facts),
            b.map(facts),
            message,
        );
        c.app = s.app.clone();
        c.weakened = weakened;
        out.push(c);
    }
    unchanged
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn versions_order_by_number() {
        use std::cmp::Ordering::*;
        assert_eq!(version_order("5.10.1", "5.9"), Greater);
        assert_eq!(version_order("5.2.1", "5.3"), Less);
        assert_eq!(version_order("1.0", "1.0"), Equal);
        assert_eq!(version_order("2.0b", "2.0a"), Greater);
    }
}
