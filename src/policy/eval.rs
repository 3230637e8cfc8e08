//! Evaluate a policy against what scan, the keychain audit and the canary search found.

use super::canary::{FileSearch, Unsearched};
use super::model::*;
use super::report::*;
use super::rules::{self as R, Rule};
use crate::audit::keychain::KeychainAudit;
use crate::audit::model::{BackupSummary, FileReport, FileStatus, ScanReport, ToolInfo};
use crate::audit::{Finding, Severity};
use crate::index::FileKind;
use crate::keychain::{KeychainItem, ReasonCode};
use crate::leaks::model::{Leak, LeaksReport};
use crate::ownership::Ownership;
use std::collections::{BTreeMap, HashMap, HashSet};

/// Most findings listed for one expectation (the rest are counted in its note).
pub const MAX_FINDINGS_PER_EXPECTATION: usize = 500;

/// The keychain as the evaluation sees it.
pub enum KeychainEvidence<'a> {
    /// Not needed by the policy (not read).
    NotRead,
    /// The index has no keychain-backup.plist.
    Absent,
    /// The keychain file could not be read.
    Unreadable(String),
    Read(&'a KeychainAudit),
}

/// What the evaluation works on.
pub struct Evidence<'a> {
    pub scan: &'a ScanReport,
    /// Which app owns which domain and keychain owner id.
    pub owners: &'a Ownership,
    pub keychain: KeychainEvidence<'a>,
    /// File canary search (None when no canary searches files).
    pub files: Option<&'a FileSearch>,
    /// The leak sweep of each app of the policy (by index; None for an app without
    /// `[app.leaks]`, `Err` when its sweep failed). Empty when no app has leaks.
    pub leaks: &'a [Option<Result<LeaksReport, String>>],
}

/// The expectation results and findings evaluated so far.
struct Results {
    expectations: Vec<ExpectationResult>,
    findings: Vec<PolicyFinding>,
    ids: HashSet<String>,
}

/// One expectation being evaluated.
struct Expectation {
    id: String,
    rule: &'static Rule,
    severity: Severity,
    app: Option<String>,
    description: String,
    origin: Origin,
    checked: u64,
    findings: Vec<PolicyFinding>,
    dropped: u64,
    error: Option<String>,
    notes: Vec<String>,
}

impl Expectation {
    /// A new expectation, nothing checked or found yet.
    fn new(
        id: String,
        rule: &'static Rule,
        severity: Severity,
        app: Option<&str>,
        description: String,
        origin: Origin,
    ) -> Expectation {
        Expectation {
            id,
            rule,
            severity,
            app: app.map(str::to_string),
            description,
            origin,
            checked: 0,
            findings: Vec::new(),
            dropped: 0,
            error: None,
            notes: Vec::new(),
        }
    }

    /// A finding of this expectation's own rule.
    fn fail(&mut self, location: Location, message: String) {
        let rule = self.rule;
        self.fail_with(rule, location, message);
    }

    /// A finding of another rule (e.g. `keychain-missing` for a device-bound expectation).
    fn fail_with(&mut self, rule: &'static Rule, location: Location, message: String) {
        if self.findings.len() >= MAX_FINDINGS_PER_EXPECTATION {
            self.dropped += 1;
            return;
        }
        // Another rule's findings keep that rule's severity unless the policy set one.
        let severity = if rule.id == self.rule.id || self.severity != self.rule.severity {
            self.severity
        } else {
            rule.severity
        };
        self.findings.push(PolicyFinding {
            finding: Finding {
                rule: rule.id,
                severity,
                message,
                location,
            },
            app: self.app.clone(),
            expectation: String::new(),
            policy_line: self.origin.line,
            leak: None,
        });
    }

    /// A `policy.leak` finding for `leak` (the policy's severity, else the leak's).
    fn fail_leak(&mut self, leak: &Leak, severity: Option<Severity>) {
        if self.findings.len() >= MAX_FINDINGS_PER_EXPECTATION {
            self.dropped += 1;
            return;
        }
        let mut extra = Vec::new();
        if leak.occurrences > 1 {
            extra.push(format!("{} times", leak.occurrences));
        }
        if leak.deleted {
            extra.push("in deleted space".to_string());
        }
        let extra = if extra.is_empty() {
            String::new()
        } else {
            format!(" ({})", extra.join(", "))
        };
        let at = crate::leaks::decode::describe(&leak.location);
        let category = category_name(leak.category);
        self.findings.push(PolicyFinding {
            finding: Finding {
                rule: self.rule.id,
                severity: severity.unwrap_or(leak.severity),
                message: format!(
                    "{} ({category}: {}) in {} at {at}: {}{extra}, fingerprint {} (value not shown)",
                    leak.rule, leak.title, leak.path, leak.preview, leak.fingerprint
                ),
                location: Location::file(&leak.domain, &leak.path),
            },
            app: self.app.clone(),
            expectation: String::new(),
            policy_line: self.origin.line,
            leak: Some(LeakRef {
                rule: leak.rule.clone(),
                category,
                fingerprint: leak.fingerprint.clone(),
                location: at,
                preview: leak.preview.clone(),
            }),
        });
    }

    /// It cannot be checked: an error outcome, with a finding so every output shows why.
    fn cannot_check(&mut self, location: Location, why: String) {
        self.fail(location, format!("cannot be checked: {why}"));
        self.error = Some(why);
    }
}

impl Results {
    /// Add a finished expectation: a unique id, its status and notes; its findings.
    fn push(&mut self, mut e: Expectation) {
        // Unique ids (the same glob twice gets `#2`).
        let mut id = e.id.clone();
        let mut n = 2;
        while !self.ids.insert(id.clone()) {
            id = format!("{}#{n}", e.id);
            n += 1;
        }
        let status = if e.error.is_some() {
            Status::Error
        } else if e.findings.is_empty() {
            Status::Pass
        } else {
            Status::Fail
        };
        if e.dropped > 0 {
            e.notes.push(format!(
                "{} more findings not listed (at most {MAX_FINDINGS_PER_EXPECTATION} per expectation)",
                e.dropped
            ));
        }
        let mut notes = e.notes;
        if let Some(err) = &e.error {
            notes.insert(0, format!("cannot be checked: {err}"));
        }
        let count = e.findings.len() as u64 + e.dropped;
        for mut f in e.findings {
            f.expectation = id.clone();
            self.findings.push(f);
        }
        self.expectations.push(ExpectationResult {
            id,
            rule: e.rule.id,
            severity: e.severity,
            app: e.app,
            description: e.description,
            policy_line: e.origin.line,
            policy_column: e.origin.col,
            status,
            checked: e.checked,
            findings: count,
            note: (!notes.is_empty()).then(|| notes.join("; ")),
        });
    }
}

/// A protection class with its constant name: `3 (NSFileProtection…)`.
fn class_label(c: u32) -> String {
    format!("{c} ({})", crate::crypto::ProtectionClass::new(c).name())
}

/// Where a file of the scan is.
fn file_loc(f: &FileReport) -> Location {
    Location::file(&f.domain, &f.relative_path)
}

/// Where a keychain item is. Attribute values that match one of the app's keychain
/// canaries are replaced by `<redacted>`: a report never shows a canary match.
fn item_loc(it: &KeychainItem, canaries: Option<&CanarySet>) -> Location {
    let show = |v: &Option<String>| -> Option<String> {
        v.as_ref().map(|s| match canaries {
            Some(set) if set.set.is_match(s.as_bytes()) => "<redacted>".to_string(),
            _ => s.clone(),
        })
    };
    Location::Keychain {
        table: it.table.clone(),
        index: it.index,
        service: show(&it.service),
        account: show(&it.account),
        server: show(&it.server),
        access_group: show(&it.access_group),
    }
}

/// Does the item belong to `app` (directly, or through an extension or app group)? Its
/// access group is attributed with the check's ownership (which knows the policy's apps).
pub(super) fn owned_by(it: &KeychainItem, app: &str, owners: &Ownership) -> bool {
    it.access_group
        .as_deref()
        .and_then(|g| owners.access_group_owner(g))
        .is_some_and(|a| a == app)
}

/// The `[backup]` expectations.
fn backup_part(policy: &Policy, scan: &ScanReport, out: &mut Results) {
    let b = &scan.backup;
    let encrypted_now =
        b.encryption.declared == Some(true) || b.encryption.index_encrypted == Some(true);
    if let Some(e) = policy.backup.encrypted {
        out.push(backup_encrypted(e, b, encrypted_now));
    }
    if let Some(m) = policy.backup.min_kdf_rounds {
        out.push(backup_min_kdf_rounds(m, b, encrypted_now));
    }
    if let Some(c) = policy.backup.complete {
        out.push(backup_complete(c, b));
    }
}

/// `encrypted`: the backup is (or is not) encrypted.
fn backup_encrypted(e: Expect<bool>, b: &BackupSummary, encrypted_now: bool) -> Expectation {
    let mut x = Expectation::new(
        "backup.encrypted".into(),
        &R::BACKUP_ENCRYPTED,
        R::BACKUP_ENCRYPTED.severity,
        None,
        if e.value {
            "the backup must be encrypted".into()
        } else {
            "the backup must not be encrypted".into()
        },
        e.origin,
    );
    x.checked = 1;
    let loc = Location::backup("Manifest.plist");
    match (e.value, encrypted_now) {
        (true, false) => x.fail(
            loc,
            format!(
                "the backup is not encrypted (Manifest.plist IsEncrypted is {}): payloads are plaintext and no keychain item migrates",
                b.encryption.declared.map_or("absent".into(), |v| v.to_string())
            ),
        ),
        (false, true) => x.fail(loc, "the backup is encrypted".into()),
        _ => {}
    }
    x
}

/// `min_kdf_rounds`: the password's key derivation costs at least so many rounds.
fn backup_min_kdf_rounds(m: Expect<u32>, b: &BackupSummary, encrypted_now: bool) -> Expectation {
    let mut x = Expectation::new(
        "backup.min_kdf_rounds".into(),
        &R::KDF_COST,
        R::KDF_COST.severity,
        None,
        format!(
            "the backup password's key derivation must use at least {} PBKDF2-SHA256 rounds",
            m.value
        ),
        m.origin,
    );
    x.checked = 1;
    let loc = Location::backup("Manifest.plist");
    match &b.kdf {
        None if !encrypted_now => x.fail(
            loc,
            "the backup is not encrypted: there is no password key derivation".into(),
        ),
        None => x.cannot_check(
            loc,
            "the keybag's key-derivation parameters cannot be read".into(),
        ),
        Some(k) => match k.sha256_rounds {
            None => x.fail(
                loc,
                format!(
                    "legacy key derivation: a single PBKDF2-SHA1 stage of {} rounds (iOS < 10.2)",
                    k.sha1_rounds
                ),
            ),
            Some(d) if d < m.value => x.fail(
                loc,
                format!(
                    "PBKDF2-SHA256 rounds (DPIC) are {d}, fewer than the required {}",
                    m.value
                ),
            ),
            Some(_) => {}
        },
    }
    x
}

/// `complete`: the backup finished (Status.plist).
fn backup_complete(c: Expect<bool>, b: &BackupSummary) -> Expectation {
    let mut x = Expectation::new(
        "backup.complete".into(),
        &R::BACKUP_COMPLETE,
        R::BACKUP_COMPLETE.severity,
        None,
        "the backup must be complete".into(),
        c.origin,
    );
    x.checked = 1;
    let loc = Location::backup("Status.plist");
    match b.complete {
        Some(true) => {}
        Some(false) => x.fail(
            loc,
            format!(
                "SnapshotState is {:?}, not \"finished\": the backup did not complete",
                b.snapshot_state.as_deref().unwrap_or("absent")
            ),
        ),
        None => x.fail(loc, "Status.plist is missing: completion unknown".into()),
    }
    x
}

/// Keychain items of the app that a selector may match (readable ones only).
pub fn candidates<'a>(
    items: &'a [KeychainItem],
    app: &'a str,
    sel: &'a KeychainSelector,
    owners: &'a Ownership,
) -> impl Iterator<Item = &'a KeychainItem> + 'a {
    items.iter().filter(move |it| {
        it.decryptable
            && (owned_by(it, app, owners) || sel.access_group.is_some())
            && sel.matches(it)
    })
}

/// How to read device-bound keychain items (appended to the notes that mention them).
const DEVICE_KEY_HINT: &str = "pass --device-key to read device-bound items";

/// What a keychain expectation's selector picks, and what it cannot see.
struct Selection<'a> {
    /// The app's bundle id.
    bundle: &'a str,
    /// The selector in words.
    sel: String,
    /// Readable items of the app that the selector matches.
    found: Vec<&'a KeychainItem>,
    /// Keychain items that could not be decrypted.
    unreadable: usize,
    /// Of those, items whose class key is bound to the device.
    device_bound_unreadable: usize,
    /// The app's keychain canaries: attribute values matching one are redacted.
    redact: Option<&'a CanarySet>,
    /// Where a finding about the app as a whole goes.
    app_loc: Location,
    /// Where a `keychain-missing` finding goes (the selector's attributes).
    missing_loc: Location,
}

impl Selection<'_> {
    /// Nothing readable matches: a `keychain-missing` finding on `x`.
    fn missing(&self, x: &mut Expectation) {
        x.fail_with(
            &R::KEYCHAIN_MISSING,
            self.missing_loc.clone(),
            format!("no keychain item of {} matches [{}]", self.bundle, self.sel),
        );
    }

    /// An unencrypted backup's items are encrypted with the device key: `x` cannot be checked.
    fn cannot_check_unencrypted(&self, x: &mut Expectation) {
        x.cannot_check(
            self.app_loc.clone(),
            format!(
                "the backup is not encrypted: its {} keychain items are encrypted with the device key ({DEVICE_KEY_HINT})",
                self.unreadable
            ),
        );
    }
}

/// Where a keychain expectation's missing item would be: its selector's attributes.
fn selector_loc(sel: &KeychainSelector) -> Location {
    Location::Keychain {
        table: sel.table.clone().unwrap_or_else(|| "any".into()),
        index: 0,
        service: sel.service.clone(),
        account: sel.account.clone(),
        server: sel.server.clone(),
        access_group: sel.access_group.clone(),
    }
}

/// One `[[app.keychain]]` expectation.
fn keychain_part(
    ap: &AppPolicy,
    k: &KeychainExpectation,
    ev: &Evidence<'_>,
    encrypted: bool,
    out: &mut Results,
) {
    let rule: &'static Rule = match k.expect {
        KeychainExpect::DeviceBound => &R::KEYCHAIN_DEVICE_BOUND,
        KeychainExpect::Migratable => &R::KEYCHAIN_MIGRATABLE,
        KeychainExpect::Absent => &R::KEYCHAIN_ABSENT,
    };
    let sel = k.selector.describe();
    let mut x = Expectation::new(
        format!("app/{}/keychain/{}/{sel}", ap.bundle_id, k.expect.as_str()),
        rule,
        k.severity,
        Some(&ap.bundle_id),
        format!("keychain items [{sel}] must be {}", k.expect.as_str()),
        k.origin,
    );
    let items: &[KeychainItem] = match &ev.keychain {
        KeychainEvidence::Read(a) => &a.items,
        KeychainEvidence::Absent | KeychainEvidence::NotRead => &[],
        KeychainEvidence::Unreadable(e) => {
            x.cannot_check(
                Location::backup("KeychainDomain/keychain-backup.plist"),
                format!("the keychain cannot be read: {e}"),
            );
            out.push(x);
            return;
        }
    };
    let selection = Selection {
        bundle: &ap.bundle_id,
        sel,
        found: candidates(items, &ap.bundle_id, &k.selector, ev.owners).collect(),
        unreadable: items.iter().filter(|i| !i.decryptable).count(),
        device_bound_unreadable: items
            .iter()
            .filter(|i| !i.decryptable)
            .filter(|i| i.reason_code == Some(ReasonCode::DeviceBoundClassKey))
            .count(),
        redact: ap.keychain_canaries.as_ref(),
        app_loc: Location::app(&ap.bundle_id),
        missing_loc: selector_loc(&k.selector),
    };
    x.checked = items.iter().filter(|i| i.decryptable).count() as u64;
    match k.expect {
        KeychainExpect::DeviceBound => expect_device_bound(&mut x, &selection, encrypted),
        KeychainExpect::Migratable => expect_migratable(&mut x, &selection, encrypted),
        KeychainExpect::Absent => expect_absent(&mut x, &selection, encrypted),
    }
    out.push(x);
}

/// `expect = "device-bound"`: every selected item is ThisDeviceOnly, and one exists.
fn expect_device_bound(x: &mut Expectation, s: &Selection<'_>, encrypted: bool) {
    for it in &s.found {
        if it.this_device_only != Some(true) {
            let acc = it.pdmn.as_deref().unwrap_or("unknown");
            x.fail(
                item_loc(it, s.redact),
                format!(
                    "accessibility {acc} ({}) is not ThisDeviceOnly: the item restores to a new device from an encrypted backup",
                    it.accessibility_constant.unwrap_or("class unknown")
                ),
            );
        }
    }
    if s.found.is_empty() {
        if !encrypted && s.unreadable > 0 {
            s.cannot_check_unencrypted(x);
        } else if s.device_bound_unreadable > 0 {
            x.notes.push(format!(
                "no readable item matches; {} device-bound items could not be read and may include it (they cannot restore to a new device; {DEVICE_KEY_HINT} to confirm)",
                s.device_bound_unreadable
            ));
        } else {
            s.missing(x);
        }
    }
}

/// `expect = "migratable"`: every selected item restores to a new device, and one exists.
fn expect_migratable(x: &mut Expectation, s: &Selection<'_>, encrypted: bool) {
    if !encrypted {
        x.fail(
            s.app_loc.clone(),
            "the backup is not encrypted: no keychain item restores to another device".into(),
        );
        return;
    }
    for it in &s.found {
        if it.restore.other_device != Some(true) {
            let acc = it.pdmn.as_deref().unwrap_or("unknown");
            x.fail(
                item_loc(it, s.redact),
                format!(
                    "accessibility {acc} ({}) does not restore to a new device",
                    it.accessibility_constant.unwrap_or("class unknown")
                ),
            );
        }
    }
    if s.found.is_empty() {
        s.missing(x);
    }
}

/// `expect = "absent"`: no selected item is in the backup.
fn expect_absent(x: &mut Expectation, s: &Selection<'_>, encrypted: bool) {
    for it in &s.found {
        x.fail(
            item_loc(it, s.redact),
            format!(
                "the item is in the backup (accessibility {})",
                it.pdmn.as_deref().unwrap_or("unknown")
            ),
        );
    }
    if s.found.is_empty() && s.unreadable > 0 {
        if !encrypted {
            s.cannot_check_unencrypted(x);
        } else if s.device_bound_unreadable > 0 {
            x.notes.push(format!(
                "{} device-bound items could not be read and were not checked ({DEVICE_KEY_HINT})",
                s.device_bound_unreadable
            ));
        }
    }
}

/// Attributes of an item searched for canaries: (name, value). Never `v_Data`.
fn item_attributes(it: &KeychainItem) -> Vec<(&'static str, &str)> {
    let mut v = Vec::new();
    for (name, val) in [
        ("access_group", &it.access_group),
        ("service", &it.service),
        ("account", &it.account),
        ("server", &it.server),
        ("path", &it.path),
        ("security_domain", &it.security_domain),
        ("label", &it.label),
        ("description", &it.description),
        ("comment", &it.comment),
    ] {
        if let Some(s) = val {
            v.push((name, s.as_str()));
        }
    }
    v
}

/// Every expectation of one `[[app]]` (`index`: its place in `Policy::apps`).
fn app_part(
    index: usize,
    ap: &AppPolicy,
    ev: &Evidence<'_>,
    domain_owner: &HashMap<&str, Option<String>>,
    encrypted: bool,
    out: &mut Results,
) {
    let bundle = ap.bundle_id.as_str();
    let files: Vec<&FileReport> = ev
        .scan
        .files
        .iter()
        .filter(|f| {
            domain_owner
                .get(f.domain.as_str())
                .is_some_and(|o| o.as_deref() == Some(bundle))
        })
        .collect();
    if ap.required {
        let present = ev.owners.in_manifest(bundle) || !files.is_empty();
        out.push(app_present(ap, present));
    }
    for g in &ap.must_not_back_up {
        out.push(must_not_back_up(bundle, g, &files));
    }
    for g in &ap.must_back_up {
        out.push(must_back_up(bundle, g, &files));
    }
    for m in &ap.min_protection {
        out.push(min_protection(bundle, m, &files));
    }
    for k in &ap.keychain {
        keychain_part(ap, k, ev, encrypted, out);
    }
    for (ci, c) in ap.canaries.iter().enumerate() {
        out.push(canary_part(index, ap, ci, c, ev));
    }
    if let Some(l) = &ap.lock {
        out.push(lock_files(bundle, l, &files));
        out.push(lock_file_classes(bundle, l, &files));
        lock_keychain(ap, l, ev, out);
    }
    if let Some(l) = &ap.leaks {
        out.push(leak_part(
            bundle,
            l,
            ev.leaks.get(index).and_then(Option::as_ref),
        ));
    }
}

/// `[app.leaks]`: no leak the policy forbids, and does not allow, in the app's files.
fn leak_part(
    bundle: &str,
    l: &LeakExpectation,
    sweep: Option<&Result<LeaksReport, String>>,
) -> Expectation {
    let forbid: Vec<String> = l.forbid.iter().map(Forbid::name).collect();
    let mut x = Expectation::new(
        format!("app/{bundle}/leaks"),
        &R::LEAK,
        l.severity.unwrap_or(R::LEAK.severity),
        Some(bundle),
        format!(
            "no leak of {} in the app's files (unless allowed)",
            forbid.join(", ")
        ),
        l.origin,
    );
    let report = match sweep {
        Some(Ok(r)) => r,
        Some(Err(e)) => {
            x.cannot_check(
                Location::app(bundle),
                format!("the app's files could not be swept: {e}"),
            );
            return x;
        }
        None => {
            x.cannot_check(
                Location::app(bundle),
                "the app's files were not swept".into(),
            );
            return x;
        }
    };
    x.checked = report.summary.files_searched;
    let mut allowed = vec![0u64; l.allow.len()];
    let mut other: BTreeMap<&str, u64> = BTreeMap::new();
    for k in report
        .leaks
        .iter()
        .filter(|k| k.app.as_deref() == Some(bundle))
    {
        if !l.forbids(&k.rule, k.category) {
            *other.entry(category_name(k.category)).or_default() += 1;
        } else if let Some(i) = l
            .allow
            .iter()
            .position(|a| a.allows(&k.rule, &k.fingerprint, &k.path))
        {
            allowed[i] += 1;
        } else {
            x.fail_leak(k, l.severity);
        }
    }
    let total: u64 = allowed.iter().sum();
    if total > 0 {
        let each: Vec<String> = l
            .allow
            .iter()
            .zip(&allowed)
            .filter(|(_, n)| **n > 0)
            .map(|(a, n)| format!("line {}: {n}", a.origin.line))
            .collect();
        x.notes.push(format!(
            "{total} leak{} allowed by the policy ({})",
            if total == 1 { "" } else { "s" },
            each.join(", ")
        ));
    }
    for (a, _) in l.allow.iter().zip(&allowed).filter(|(_, n)| **n == 0) {
        x.notes.push(format!(
            "allow entry at line {} ({}) matched no leak",
            a.origin.line,
            a.describe()
        ));
    }
    if !other.is_empty() {
        let n: u64 = other.values().sum();
        let each: Vec<String> = other.iter().map(|(c, n)| format!("{c}: {n}")).collect();
        x.notes.push(format!(
            "{n} other leak{} not forbidden by the policy ({})",
            if n == 1 { "" } else { "s" },
            each.join(", ")
        ));
    }
    leak_file_notes(&mut x, bundle, report);
    x
}

/// What the sweep could not search in the app's files: a file that could not be read or
/// decrypted makes the expectation "cannot be checked" (a note when it failed anyway);
/// files over `max_file_size` and files decoded only in part are noted.
fn leak_file_notes(x: &mut Expectation, bundle: &str, report: &LeaksReport) {
    let notes: Vec<_> = report
        .notes
        .iter()
        .filter(|n| n.app.as_deref() == Some(bundle))
        .collect();
    let count = |reason: &str| notes.iter().filter(|n| n.reason == reason).count();
    let (large, partly) = (count("too_large"), count("partly_decoded"));
    if large > 0 {
        x.notes.push(format!(
            "{large} files over max_file_size ({} bytes) were not searched",
            report.summary.max_file_size
        ));
    }
    if partly > 0 {
        x.notes.push(format!(
            "{partly} files could only be searched in part (see `auditor leaks`)"
        ));
    }
    let unread: Vec<_> = notes
        .iter()
        .filter(|n| matches!(n.reason, "unreadable" | "decrypt_failed" | "locked"))
        .collect();
    if let Some(first) = unread.first() {
        let why = format!(
            "{} files could not be searched (first: {}/{}: {})",
            unread.len(),
            first.domain,
            first.path,
            first.note
        );
        if x.findings.is_empty() {
            x.cannot_check(Location::app(bundle), why);
        } else {
            x.notes.push(why);
        }
    }
}

/// The first `files` entry of the lock whose glob matches `path`.
fn locked_glob<'a>(l: &'a AppLock, path: &str) -> Option<&'a LockedFiles> {
    l.files.iter().find(|g| g.glob.is_match(path))
}

/// `[app.lock] files`: every regular file of the app matches a locked glob.
fn lock_files(bundle: &str, l: &AppLock, files: &[&FileReport]) -> Expectation {
    let mut x = Expectation::new(
        format!("app/{bundle}/lock/files"),
        &R::LOCK_FILE_NEW,
        R::LOCK_FILE_NEW.severity,
        Some(bundle),
        format!(
            "the app's files must match the {} locked globs",
            l.files.len()
        ),
        l.origin,
    );
    let regular: Vec<&&FileReport> = files.iter().filter(|f| f.kind == FileKind::File).collect();
    for f in &regular {
        x.checked += 1;
        if locked_glob(l, &f.relative_path).is_none() {
            x.fail(
                file_loc(f),
                format!(
                    "new file {} (class {}) is outside the locked globs",
                    f.relative_path,
                    f.protection_class
                        .map_or_else(|| "none recorded".into(), class_label)
                ),
            );
        }
    }
    let empty: Vec<&str> = l
        .files
        .iter()
        .filter(|g| !regular.iter().any(|f| g.glob.is_match(&f.relative_path)))
        .map(|g| g.glob.pattern.as_str())
        .collect();
    if !empty.is_empty() {
        x.notes.push(format!(
            "{} locked globs match no file now (first: {:?})",
            empty.len(),
            empty[0]
        ));
    }
    x
}

/// `[app.lock] files` classes: no file is weaker than the weakest its glob had.
fn lock_file_classes(bundle: &str, l: &AppLock, files: &[&FileReport]) -> Expectation {
    let mut x = Expectation::new(
        format!("app/{bundle}/lock/file-classes"),
        &R::LOCK_FILE_CLASS,
        R::LOCK_FILE_CLASS.severity,
        Some(bundle),
        "the app's files must keep the classes locked per glob".into(),
        l.origin,
    );
    for f in files.iter().filter(|f| f.kind == FileKind::File) {
        let Some(g) = locked_glob(l, &f.relative_path) else {
            continue;
        };
        let Some(locked) = g.class else {
            continue;
        };
        x.checked += 1;
        match f.protection_class {
            Some(c @ 1..=4) if c <= locked => {}
            Some(c) => x.fail(
                file_loc(f),
                format!(
                    "protection class {} of {} is weaker than {} locked for {:?}",
                    class_label(c),
                    f.relative_path,
                    class_label(locked),
                    g.glob.pattern
                ),
            ),
            None => x.fail(
                file_loc(f),
                format!(
                    "{} has no protection class; {} was locked for {:?}",
                    f.relative_path,
                    class_label(locked),
                    g.glob.pattern
                ),
            ),
        }
    }
    x
}

/// Rank of a `restore` summary word: how far the item goes (`unknown`: not ranked).
fn restore_rank(word: &str) -> Option<u8> {
    match word {
        "never" => Some(0),
        "same_device_only" => Some(1),
        "any_device" => Some(2),
        _ => None,
    }
}

/// The routes to a new device that `now` has and `locked` did not (`e`, `u`, `c`, `k`).
fn gained_routes(locked: &str, now: &str) -> String {
    locked
        .chars()
        .zip(now.chars())
        .filter(|(l, n)| n.is_ascii_alphabetic() && l != n)
        .map(|(_, n)| n)
        .collect()
}

/// `[app.lock] keychain`: every readable item of the app is locked, and restores no further.
fn lock_keychain(ap: &AppPolicy, l: &AppLock, ev: &Evidence<'_>, out: &mut Results) {
    let bundle = ap.bundle_id.as_str();
    let mut new = Expectation::new(
        format!("app/{bundle}/lock/keychain"),
        &R::LOCK_KEYCHAIN_NEW,
        R::LOCK_KEYCHAIN_NEW.severity,
        Some(bundle),
        format!(
            "the app's keychain items must be the {} locked ones",
            l.keychain.len()
        ),
        l.origin,
    );
    let mut weaker = Expectation::new(
        format!("app/{bundle}/lock/keychain-restore"),
        &R::LOCK_KEYCHAIN_WEAKER,
        R::LOCK_KEYCHAIN_WEAKER.severity,
        Some(bundle),
        "locked keychain items must restore no further than locked".into(),
        l.origin,
    );
    let items: &[KeychainItem] = match &ev.keychain {
        KeychainEvidence::Read(a) => &a.items,
        KeychainEvidence::Absent | KeychainEvidence::NotRead => &[],
        KeychainEvidence::Unreadable(e) => {
            let why = format!("the keychain cannot be read: {e}");
            let loc = Location::backup("KeychainDomain/keychain-backup.plist");
            new.cannot_check(loc.clone(), why.clone());
            weaker.cannot_check(loc, why);
            out.push(new);
            out.push(weaker);
            return;
        }
    };
    let redact = ap.keychain_canaries.as_ref();
    let mut seen = vec![false; l.keychain.len()];
    for it in items
        .iter()
        .filter(|it| it.decryptable && owned_by(it, bundle, ev.owners))
    {
        new.checked += 1;
        let Some(i) = l.keychain.iter().position(|e| e.is(it)) else {
            new.fail(
                item_loc(it, redact),
                format!(
                    "new keychain item ({}, accessibility {}, restore {}, to a new device by {}) is not in the lock",
                    it.table,
                    it.pdmn.as_deref().unwrap_or("unknown"),
                    serde_json::to_value(it.restore.summary)
                        .ok()
                        .and_then(|v| v.as_str().map(str::to_string))
                        .unwrap_or_default(),
                    it.routes.new_device_letters()
                ),
            );
            continue;
        };
        seen[i] = true;
        let e = &l.keychain[i];
        weaker.checked += 1;
        let now = serde_json::to_value(it.restore.summary)
            .ok()
            .and_then(|v| v.as_str().map(str::to_string))
            .unwrap_or_default();
        let mut why = Vec::new();
        if let Some(was) = &e.restore {
            let wider = match (restore_rank(was), restore_rank(&now)) {
                (Some(a), Some(b)) => b > a,
                _ => false,
            };
            if wider {
                why.push(format!("restore was {was}, now {now}"));
            }
        }
        if let Some(was) = &e.new_device {
            let letters = it.routes.new_device_letters();
            let gained = gained_routes(was, &letters);
            if !gained.is_empty() {
                why.push(format!(
                    "routes to a new device were {was}, now {letters} (gained {gained})"
                ));
            }
        }
        if !why.is_empty() {
            weaker.fail(
                item_loc(it, redact),
                format!(
                    "keychain item now restores further (accessibility {}): {}",
                    it.pdmn.as_deref().unwrap_or("unknown"),
                    why.join("; ")
                ),
            );
        }
    }
    let gone = seen.iter().filter(|s| !**s).count();
    if gone > 0 {
        new.notes.push(format!(
            "{gone} locked items are not among the readable items now"
        ));
    }
    let unreadable = items.iter().filter(|i| !i.decryptable).count();
    if unreadable > 0 {
        new.notes.push(format!(
            "{unreadable} keychain items of the backup could not be read: [lock] sealed counts them"
        ));
    }
    out.push(new);
    out.push(weaker);
}

/// `[lock] sealed`: no more undecrypted items of a table and class than counted.
fn lock_sealed(l: &SealedLock, ev: &Evidence<'_>) -> Expectation {
    let mut x = Expectation::new(
        "lock/sealed".into(),
        &R::LOCK_SEALED_NEW,
        R::LOCK_SEALED_NEW.severity,
        None,
        "undecrypted keychain items must be no more than locked per table and class".into(),
        l.origin,
    );
    let items: &[KeychainItem] = match &ev.keychain {
        KeychainEvidence::Read(a) => &a.items,
        KeychainEvidence::Absent | KeychainEvidence::NotRead => &[],
        KeychainEvidence::Unreadable(e) => {
            x.cannot_check(
                Location::backup("KeychainDomain/keychain-backup.plist"),
                format!("the keychain cannot be read: {e}"),
            );
            return x;
        }
    };
    let mut now: BTreeMap<(&str, Option<u32>), u64> = BTreeMap::new();
    for it in items.iter().filter(|i| !i.decryptable) {
        x.checked += 1;
        *now.entry((it.table.as_str(), it.protection_class))
            .or_default() += 1;
    }
    for ((table, class), n) in now {
        let locked: u64 = l
            .sealed
            .iter()
            .filter(|e| e.table == table && e.class == class)
            .map(|e| e.count)
            .sum();
        if n > locked {
            let cls = class.map_or_else(|| "unknown".into(), |c| c.to_string());
            x.fail(
                Location::Keychain {
                    table: table.to_string(),
                    index: 0,
                    service: None,
                    account: None,
                    server: None,
                    access_group: None,
                },
                format!(
                    "{} new undecrypted {table} items of class {cls} ({n} now, {locked} locked)",
                    n - locked
                ),
            );
        }
    }
    x
}

/// `required`: the app is in the backup (`present`: in the manifest or with a domain).
fn app_present(ap: &AppPolicy, present: bool) -> Expectation {
    let bundle = ap.bundle_id.as_str();
    let mut x = Expectation::new(
        format!("app/{bundle}/present"),
        &R::APP_PRESENT,
        R::APP_PRESENT.severity,
        Some(bundle),
        format!("app {bundle} must be in the backup"),
        ap.origin,
    );
    x.checked = 1;
    if !present {
        x.fail(
            Location::app(bundle),
            "the backup has neither a Manifest.plist Applications entry nor a domain for this app"
                .into(),
        );
    }
    x
}

/// One `must_not_back_up` glob: no entry of the app's `files` matches it.
fn must_not_back_up(bundle: &str, g: &PathGlob, files: &[&FileReport]) -> Expectation {
    let mut x = Expectation::new(
        format!("app/{bundle}/must_not_back_up/{}", g.pattern),
        &R::MUST_NOT_BACK_UP,
        R::MUST_NOT_BACK_UP.severity,
        Some(bundle),
        format!("files matching {:?} must not be backed up", g.pattern),
        g.origin,
    );
    for f in files.iter().filter(|f| f.kind != FileKind::Directory) {
        x.checked += 1;
        if g.is_match(&f.relative_path) {
            x.fail(
                file_loc(f),
                format!(
                    "{} is in the backup but matches the excluded glob {:?}",
                    f.relative_path, g.pattern
                ),
            );
        }
    }
    x
}

/// One `must_back_up` glob: an entry of the app's `files` matches it, and no matching
/// file's payload is missing.
fn must_back_up(bundle: &str, g: &PathGlob, files: &[&FileReport]) -> Expectation {
    let mut x = Expectation::new(
        format!("app/{bundle}/must_back_up/{}", g.pattern),
        &R::MUST_BACK_UP,
        R::MUST_BACK_UP.severity,
        Some(bundle),
        format!("files matching {:?} must be backed up", g.pattern),
        g.origin,
    );
    let matching: Vec<&&FileReport> = files
        .iter()
        .filter(|f| g.is_match(&f.relative_path))
        .collect();
    x.checked = files.len() as u64;
    if matching.is_empty() {
        x.fail(
            Location::app(bundle),
            format!(
                "missing: no entry of the app's domains matches {:?}",
                g.pattern
            ),
        );
    }
    for f in matching
        .iter()
        .filter(|f| f.kind == FileKind::File && f.status == FileStatus::Missing)
    {
        x.fail(
            file_loc(f),
            format!(
                "missing: {} is listed in the index but its payload is not in the backup",
                f.relative_path
            ),
        );
    }
    x
}

/// One `[[app.min_protection]]`: the app's matching files have the class or a stronger one.
fn min_protection(bundle: &str, m: &MinProtection, files: &[&FileReport]) -> Expectation {
    let mut x = Expectation::new(
        format!("app/{bundle}/min_protection/{}", m.glob.pattern),
        &R::MIN_PROTECTION,
        m.severity,
        Some(bundle),
        format!(
            "files matching {:?} need protection class {} or stronger",
            m.glob.pattern,
            class_label(m.class)
        ),
        m.origin,
    );
    for f in files
        .iter()
        .filter(|f| f.kind == FileKind::File && m.glob.is_match(&f.relative_path))
    {
        x.checked += 1;
        match f.protection_class {
            Some(c @ 1..=4) if c <= m.class => {}
            Some(c @ 1..=4) => x.fail(
                file_loc(f),
                format!(
                    "protection class {} is weaker than the required {}",
                    class_label(c),
                    class_label(m.class)
                ),
            ),
            Some(c) => x.fail(
                file_loc(f),
                format!("protection class {c} is not a file protection class (1-4)"),
            ),
            None => x.fail(file_loc(f), "no protection class is recorded".into()),
        }
    }
    if x.checked == 0 {
        x.notes.push("no file matches the glob".into());
    }
    x
}

/// One `[[app.canary]]` (`ci`: its index in the app's canaries): searched for in the
/// app's file contents and/or its keychain items' non-secret attributes.
fn canary_part(
    index: usize,
    ap: &AppPolicy,
    ci: usize,
    c: &Canary,
    ev: &Evidence<'_>,
) -> Expectation {
    let bundle = ap.bundle_id.as_str();
    let mut where_ = Vec::new();
    if c.in_files {
        where_.push("files");
    }
    if c.in_keychain {
        where_.push("keychain attributes");
    }
    let mut x = Expectation::new(
        format!("app/{bundle}/canary/{}", c.name),
        &R::CANARY,
        c.severity,
        Some(bundle),
        format!(
            "canary {} must not appear in plaintext in the app's {}",
            c.name,
            where_.join(" or ")
        ),
        c.origin,
    );
    if c.in_files {
        canary_in_files(&mut x, index, bundle, ci, c, ev.files);
    }
    if c.in_keychain {
        canary_in_keychain(&mut x, ap, ci, c, ev);
    }
    x
}

/// The file search's hits of canary `ci` of app `index`, and the files it could not search.
fn canary_in_files(
    x: &mut Expectation,
    index: usize,
    bundle: &str,
    ci: usize,
    c: &Canary,
    search: Option<&FileSearch>,
) {
    let Some(fs) = search else {
        x.cannot_check(
            Location::app(bundle),
            "file contents were not searched".into(),
        );
        return;
    };
    x.checked += fs.files.get(index).copied().unwrap_or(0);
    for h in fs.hits.iter().filter(|h| h.app == index && h.canary == ci) {
        x.fail(
            Location::file(&h.domain, &h.relative_path),
            format!(
                "canary {} appears in plaintext in {} (match not shown)",
                c.name, h.relative_path
            ),
        );
    }
    let (bound, other): (Vec<&Unsearched>, Vec<&Unsearched>) = fs
        .unsearched
        .iter()
        .filter(|u| u.app == index)
        .partition(|u| u.reason.device_bound());
    if !bound.is_empty() {
        x.notes.push(format!(
            "{} files of device-bound classes could not be searched",
            bound.len()
        ));
    }
    if let Some(first) = other.first() {
        let why = format!(
            "{} files could not be searched (first: {}/{}: {})",
            other.len(),
            first.domain,
            first.relative_path,
            first.reason
        );
        if x.findings.is_empty() {
            x.cannot_check(Location::app(bundle), why);
        } else {
            x.notes.push(why);
        }
    }
}

/// Canary `ci` in the non-secret attributes of the app's readable keychain items.
fn canary_in_keychain(
    x: &mut Expectation,
    ap: &AppPolicy,
    ci: usize,
    c: &Canary,
    ev: &Evidence<'_>,
) {
    let bundle = ap.bundle_id.as_str();
    if let (Some(set), KeychainEvidence::Read(a)) = (&ap.keychain_canaries, &ev.keychain) {
        for it in a
            .items
            .iter()
            .filter(|it| it.decryptable && owned_by(it, bundle, ev.owners))
        {
            x.checked += 1;
            let attrs: Vec<&str> = item_attributes(it)
                .into_iter()
                .filter(|(_, v)| super::canary::search_text(set, v).contains(&ci))
                .map(|(n, _)| n)
                .collect();
            if !attrs.is_empty() {
                x.fail(
                    item_loc(it, Some(set)),
                    format!(
                        "canary {} appears in the item's non-secret attribute(s) {} (match not shown)",
                        c.name,
                        attrs.join(", ")
                    ),
                );
            }
        }
    } else if let KeychainEvidence::Unreadable(e) = &ev.keychain {
        if x.findings.is_empty() {
            x.cannot_check(
                Location::app(bundle),
                format!("the keychain cannot be read: {e}"),
            );
        }
    }
}

/// Why passing `expectations` would prove little: there are none, or one that passes only
/// because it examined nothing (a `min_protection` glob that matches no file, a canary that
/// searched no file and no item) of an app that is there. `must_not_back_up` and `absent`
/// pass on nothing by design.
fn hollow(expectations: &[ExpectationResult]) -> Vec<String> {
    if expectations.is_empty() {
        return vec![
            "the policy has no expectation: it checks nothing, and passing it proves nothing (add [backup] or [[app]] expectations)".into(),
        ];
    }
    // An absent app's expectations examine nothing: its failed `present` already says so.
    let absent: HashSet<Option<&str>> = expectations
        .iter()
        .filter(|e| e.rule == R::APP_PRESENT.id && e.status != Status::Pass)
        .map(|e| e.app.as_deref())
        .collect();
    expectations
        .iter()
        .filter(|e| e.status == Status::Pass && e.checked == 0)
        .filter(|e| !absent.contains(&e.app.as_deref()))
        .filter(|e| [R::MIN_PROTECTION.id, R::CANARY.id, R::LEAK.id].contains(&e.rule))
        .map(|e| {
            format!(
                "{} (policy line {}) examined nothing: {}",
                e.id,
                e.policy_line,
                if e.rule == R::CANARY.id {
                    "no file or keychain item was searched"
                } else if e.rule == R::LEAK.id {
                    "no file of the app was searched for leaks"
                } else {
                    "no file matches the glob"
                }
            )
        })
        .collect()
}

/// Evaluate every expectation of `policy`.
pub fn evaluate(policy: &Policy, ev: &Evidence<'_>) -> CheckReport {
    let scan = ev.scan;
    let b = &scan.backup;
    let encrypted =
        b.encryption.declared == Some(true) || b.encryption.index_encrypted == Some(true);
    let mut out = Results {
        expectations: Vec::new(),
        findings: Vec::new(),
        ids: HashSet::new(),
    };
    backup_part(policy, scan, &mut out);
    let domain_owner: HashMap<&str, Option<String>> = scan
        .files
        .iter()
        .map(|f| f.domain.as_str())
        .collect::<HashSet<&str>>()
        .into_iter()
        .map(|d| (d, ev.owners.domain_owner(d)))
        .collect();
    if let Some(l) = &policy.lock {
        out.push(lock_sealed(l, ev));
    }
    for (i, ap) in policy.apps.iter().enumerate() {
        app_part(i, ap, ev, &domain_owner, encrypted, &mut out);
    }
    let mut summary = CheckSummary {
        expectations: out.expectations.len() as u64,
        ..Default::default()
    };
    for e in &out.expectations {
        match e.status {
            Status::Pass => summary.passed += 1,
            Status::Fail => summary.failed += 1,
            Status::Error => summary.errors += 1,
        }
    }
    let mut by_rule: BTreeMap<&'static str, u64> = BTreeMap::new();
    for f in &out.findings {
        *by_rule.entry(f.rule).or_default() += 1;
    }
    summary.findings = out.expectations.iter().map(|e| e.findings).sum();
    summary.by_rule = by_rule;
    CheckReport {
        schema: CHECK_SCHEMA,
        tool: ToolInfo::default(),
        policy: PolicyInfo {
            path: policy.path.display().to_string(),
            schema: policy.schema,
        },
        backup: CheckBackup {
            path: b.path.clone(),
            udid: b.udid.clone(),
            device_name: b.device_name.clone(),
            ios_version: b.ios_version.clone(),
            date: b.date.clone(),
            encrypted: b.encryption.declared,
            unlocked: b.unlocked,
        },
        passed: summary.failed == 0 && summary.errors == 0,
        strict: false,
        warnings: hollow(&out.expectations),
        expectations: out.expectations,
        findings: out.findings,
        summary,
    }
}
