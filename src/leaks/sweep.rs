//! The leak sweep: every file of the selected domains decrypted in memory, decoded by its
//! content and searched with the leak rules, over the session's one payload opener.
//!
//! The index is read twice, and no row is held beyond its batch: the first reading keeps
//! the keychain's rows (so that a value found in a file and held by a keychain item is
//! said to be the same), the selected rows' domains and their `-wal` rows; the second
//! streams the selected rows in batches (at 1.3 M rows, holding every row took 971 MB). Files are read in parallel, each whole and at most
//! `max_file_size` bytes, into wiped buffers; nothing decrypted is written anywhere. A
//! SQLite database with its `-wal` beside it is searched with the WAL applied (the `-wal`
//! is then not searched again on its own).

use super::decode::{self, encoded, sqlite, text, Field, Kind, Where};
use super::model::{
    severity, Exposure, FileNote, Leak, LeakBackup, LeakSummary, LeaksReport, LEAKS_SCHEMA,
};
use super::redact;
use super::rules::{builtin, Matcher, Rule, Rules};
use super::Hit;
use crate::audit::keychain::{audit as keychain_audit, pick_rows};
use crate::audit::ToolInfo;
use crate::crypto::KeyUnavailable;
use crate::index::{FileKind, FileRecord};
use crate::ownership::{app_domain, may_belong_to, Ownership};
use crate::session::payload::{Payloads, ReadError, Unavailable};
use crate::session::Session;
use crate::Error;
use rayon::prelude::*;
use std::collections::{HashMap, HashSet};
use std::sync::atomic::{AtomicU64, Ordering};

/// Default of `--max-file-size`: larger files are skipped (and named in the notes).
pub const DEFAULT_MAX_FILE_SIZE: u64 = 64 << 20;

/// Distinct leaks kept per file; past it the file gets a note (a bound on hostile input).
pub const MAX_LEAKS_PER_FILE: usize = 1000;

/// What to sweep.
#[derive(Debug, Clone)]
pub struct LeakOptions {
    /// Only this app's domains (its app, group and plugin domains).
    pub app: Option<String>,
    /// HomeDomain and the other system domains too (app domains only when false).
    pub all_domains: bool,
    /// Files larger than this (stored bytes) are not read.
    pub max_file_size: u64,
    /// Put each value in `Leak::value` (`--show-secrets`).
    pub show_secrets: bool,
}

impl Default for LeakOptions {
    fn default() -> Self {
        LeakOptions {
            app: None,
            all_domains: false,
            max_file_size: DEFAULT_MAX_FILE_SIZE,
            show_secrets: false,
        }
    }
}

/// Sweep the backup of `s` (unlocked when it is encrypted). `progress(done, total)` is
/// called as files are searched (from several threads; `done` only grows).
pub fn sweep(
    s: &Session,
    opts: &LeakOptions,
    progress: &(dyn Fn(u64, u64) + Sync),
) -> Result<LeaksReport, Error> {
    sweep_with(s, opts, builtin(), progress)
}

/// [`sweep`] with other rules than the built-in ones (`check` adds a policy's own rules
/// to them: [`Rules::parse`] of the built-in text and the policy's).
pub fn sweep_with(
    s: &Session,
    opts: &LeakOptions,
    rules: &Rules,
    progress: &(dyn Fn(u64, u64) + Sync),
) -> Result<LeaksReport, Error> {
    let index = s.index()?.ok_or_else(|| {
        Error::CredentialsMissing("the index is encrypted: a password is needed".into())
    })?;
    let picked = picker(s, opts.app.as_deref(), opts.all_domains);
    // The first reading keeps what the rows are, not the rows: the keychain's rows, the
    // number of selected rows per domain (for the owners and the progress total), and the
    // `-wal` rows whole (few), by domain and the path of their database.
    let mut keychain_rows = crate::audit::keychain::KeychainRows::default();
    let mut first = FirstReading::default();
    index.for_each_record(|r| {
        keychain_rows.observe(&r);
        if picked(&r) {
            first.add(&r);
        }
    })?;
    sweep_selected(s, opts, rules, progress, &keychain_rows, first, &mut |f| {
        index.for_each_record(|r| {
            if picked(&r) {
                f(r)
            }
        })?;
        Ok(())
    })
}

/// [`sweep_with`] over rows a caller has read already (`check`, whose scan reads the index
/// once): `keychain_rows` as [`KeychainRows`](crate::audit::keychain::KeychainRows) kept
/// them over every row, and `rows`, in index order, every row the sweep selects (more may
/// be there: only the selected ones are swept). The same report as [`sweep_with`], without
/// reading the index.
pub fn sweep_rows(
    s: &Session,
    opts: &LeakOptions,
    rules: &Rules,
    keychain_rows: &crate::audit::keychain::KeychainRows,
    rows: &[FileRecord],
) -> Result<LeaksReport, Error> {
    let picked = picker(s, opts.app.as_deref(), opts.all_domains);
    let mut first = FirstReading::default();
    for r in rows.iter().filter(|r| picked(r)) {
        first.add(r);
    }
    sweep_selected(s, opts, rules, &|_, _| {}, keychain_rows, first, &mut |f| {
        for r in rows.iter().filter(|r| picked(r)) {
            f(r.clone());
        }
        Ok(())
    })
}

/// What the first reading of a sweep keeps of its selected rows.
#[derive(Default)]
struct FirstReading {
    /// Selected rows per domain.
    per_domain: HashMap<String, u64>,
    wals: Wals,
}

impl FirstReading {
    fn add(&mut self, r: &FileRecord) {
        match self.per_domain.get_mut(r.domain.as_str()) {
            Some(n) => *n += 1,
            None => {
                self.per_domain.insert(r.domain.clone(), 1);
            }
        }
        if let Some(db) = r.relative_path.strip_suffix("-wal") {
            let db = db.to_owned();
            self.wals
                .entry(r.domain.clone())
                .or_default()
                .insert(db, r.clone());
        }
    }
}

/// A selected row for the sweep's second reading.
type RowFeed<'f> = dyn FnMut(FileRecord) + 'f;

/// The sweep once its first reading is done: `second` hands every selected row, in index
/// order, to the function it is given.
fn sweep_selected(
    s: &Session,
    opts: &LeakOptions,
    rules: &Rules,
    progress: &(dyn Fn(u64, u64) + Sync),
    keychain_rows: &crate::audit::keychain::KeychainRows,
    first: FirstReading,
    second: &mut dyn FnMut(&mut RowFeed<'_>) -> Result<(), Error>,
) -> Result<LeaksReport, Error> {
    let FirstReading {
        per_domain,
        mut wals,
    } = first;
    let owners = sweep_owners(s, opts.app.as_deref(), keychain_rows, per_domain.keys());
    let owner_of = |domain: &str| owners.domain_owner(domain);
    // With `app`, `picked` (`may_belong_to`) is a superset of the attribution: only the
    // app's own rows are swept.
    let in_sweep = |domain: &str| {
        opts.app
            .as_deref()
            .is_none_or(|a| owner_of(domain).as_deref() == Some(a))
    };
    wals.retain(|d, _| in_sweep(d));
    let total: u64 = per_domain
        .iter()
        .filter(|(d, _)| in_sweep(d))
        .map(|(_, n)| n)
        .sum();
    drop(per_domain);
    let mut notes = Vec::new();
    let keychain = keychain_values(s, keychain_rows.rows(), &mut notes);
    crate::trim::release_free_memory();

    let wal_of = |r: &FileRecord| {
        wals.get(r.domain.as_str())
            .and_then(|m| m.get(r.relative_path.as_str()))
    };
    let payloads = s.payloads_by_name()?;
    let done = AtomicU64::new(0);
    progress(0, total);
    let ctx = Ctx {
        payloads: &payloads,
        rules,
        opts,
        keychain: &keychain,
        encrypted: s.is_encrypted(),
        keychain_rule: rules
            .rules
            .iter()
            .find(|r| matches!(r.matcher, Matcher::Keychain)),
    };
    let exposure = Exposure::of(s.backup.manifest.as_ref().and_then(|m| m.is_encrypted));
    let mut fold = Fold {
        summary: LeakSummary {
            max_file_size: opts.max_file_size,
            ..LeakSummary::default()
        },
        leaks: Vec::new(),
        notes: Vec::new(),
        exposure: &exposure,
    };
    // The second reading: the selected rows in batches, searched in parallel and folded in
    // index order; a batch's rows and results are dropped before the next one is read.
    // A `-wal` row waits until every row is known: it is searched with its database, or
    // on its own when its database is not swept.
    let mut databases: HashSet<(String, String)> = HashSet::new();
    let mut wal_seq: HashMap<(String, String), u64> = HashMap::new();
    let mut batch: Vec<(u64, FileRecord)> = Vec::with_capacity(SWEEP_BATCH);
    let mut seq = 0u64;
    let search = |batch: &mut Vec<(u64, FileRecord)>, fold: &mut Fold<'_>| {
        let results: Vec<FileResult<'_>> = batch
            .par_iter()
            .map(|(_, r)| {
                let out = ctx.search(r, wal_of(r));
                progress(done.fetch_add(1, Ordering::Relaxed) + 1, total);
                out
            })
            .collect();
        for ((n, r), res) in batch.drain(..).zip(results) {
            fold.add(n, &r, owner_of(&r.domain), res);
        }
    };
    second(&mut |r| {
        if !in_sweep(&r.domain) {
            return;
        }
        let n = seq;
        seq += 1;
        if wal_of(&r).is_some() {
            databases.insert((r.domain.clone(), r.relative_path.clone()));
        }
        if let Some(db) = r.relative_path.strip_suffix("-wal") {
            let key = (r.domain.clone(), db.to_owned());
            // (A second row of the same path, in a damaged index, is searched on its own.)
            let is_wal = wals
                .get(r.domain.as_str())
                .is_some_and(|m| m.contains_key(db));
            if is_wal && !wal_seq.contains_key(&key) {
                wal_seq.insert(key, n);
                return;
            }
        }
        batch.push((n, r));
        if batch.len() >= SWEEP_BATCH {
            search(&mut batch, &mut fold);
        }
    })?;
    search(&mut batch, &mut fold);
    // The `-wal` rows, in index order.
    let mut waiting: Vec<(u64, &FileRecord)> = wals
        .iter()
        .flat_map(|(d, m)| {
            let wal_seq = &wal_seq;
            m.iter()
                .filter_map(move |(db, r)| wal_seq.get(&(d.clone(), db.clone())).map(|&n| (n, r)))
        })
        .collect();
    waiting.sort_by_key(|&(n, _)| n);
    for (n, r) in waiting {
        let db = r.relative_path.strip_suffix("-wal").unwrap_or_default();
        let res = if databases.contains(&(r.domain.clone(), db.to_owned())) {
            FileResult::skipped("wal_with_database")
        } else {
            ctx.search(r, wal_of(r))
        };
        progress(done.fetch_add(1, Ordering::Relaxed) + 1, total);
        fold.add(n, r, owner_of(&r.domain), res);
    }
    fold.notes.sort_by_key(|(n, _)| *n);
    notes.extend(fold.notes.into_iter().map(|(_, note)| note));
    let mut summary = fold.summary;
    let mut leaks = fold.leaks;
    // By app (none last), domain and path; a file's leaks in the order found.
    leaks.sort_by(|(na, a), (nb, b)| {
        (a.app.is_none(), &a.app, &a.domain, &a.path, na).cmp(&(
            b.app.is_none(),
            &b.app,
            &b.domain,
            &b.path,
            nb,
        ))
    });
    let leaks: Vec<Leak> = leaks.into_iter().map(|(_, l)| l).collect();
    summary.leaks = leaks.len() as u64;
    for l in &leaks {
        *summary.by_category.entry(l.category).or_default() += 1;
        *summary.by_rule.entry(l.rule.clone()).or_default() += 1;
    }
    Ok(LeaksReport {
        schema: LEAKS_SCHEMA,
        tool: ToolInfo::default(),
        backup: backup_info(s),
        exposure,
        leaks,
        notes,
        summary,
        app: opts.app.clone(),
    })
}

/// Selected rows per parallel batch of the sweep (the rows of one batch are held at a time).
const SWEEP_BATCH: usize = if cfg!(test) { 5 } else { 4096 };

/// The `-wal` rows of a sweep: domain → path of their database → the row.
type Wals = HashMap<String, HashMap<String, FileRecord>>;

/// What the sweep has found so far: each note and leak with the number of its row (in
/// index order among the selected rows), so that the order does not depend on batches.
struct Fold<'e> {
    summary: LeakSummary,
    leaks: Vec<(u64, Leak)>,
    notes: Vec<(u64, FileNote)>,
    exposure: &'e Exposure,
}

impl Fold<'_> {
    /// Count the result of row number `n`.
    fn add(&mut self, n: u64, r: &FileRecord, app: Option<String>, res: FileResult<'_>) {
        if let Some(reason) = res.skipped {
            *self.summary.skipped.entry(reason).or_default() += 1;
        }
        if let Some(kind) = res.kind {
            self.summary.files_searched += 1;
            self.summary.bytes_searched += res.bytes;
            *self.summary.by_kind.entry(kind).or_default() += 1;
        }
        if let Some((reason, note)) = res.note {
            self.notes.push((
                n,
                FileNote {
                    app: app.clone(),
                    domain: r.domain.clone(),
                    path: r.relative_path.clone(),
                    reason,
                    note,
                },
            ));
        }
        let kind = res.kind.unwrap_or(Kind::Binary);
        for p in res.leaks {
            let leak = p.into_leak(r, app.clone(), kind, self.exposure);
            self.leaks.push((n, leak));
        }
    }
}

/// Which rows a sweep selects: files with a fileID in the app domains (`all_domains`:
/// every domain; `app`: the domains that may be that app's).
fn picker<'a>(
    s: &'a Session,
    app: Option<&'a str>,
    all_domains: bool,
) -> impl Fn(&FileRecord) -> bool + 'a {
    let manifest_apps = s
        .backup
        .manifest
        .as_ref()
        .map_or(&[][..], |m| m.applications.as_slice());
    move |r: &FileRecord| {
        r.kind == FileKind::File
            && !r.file_id.is_empty()
            && match app {
                Some(a) => may_belong_to(&r.domain, &[a], manifest_apps),
                None => all_domains || app_domain(&r.domain).is_some(),
            }
    }
}

/// Who owns the domains of a sweep: the backup's apps (and `app`), over the keychain's
/// rows and the selected rows' domains.
fn sweep_owners<'d>(
    s: &Session,
    app: Option<&str>,
    keychain_rows: &'d crate::audit::keychain::KeychainRows,
    domains: impl Iterator<Item = &'d String>,
) -> Ownership {
    Ownership::of_backup(
        &s.backup,
        app,
        keychain_rows
            .rows()
            .iter()
            .map(|r| r.domain.as_str())
            .chain(domains.map(String::as_str)),
    )
}

/// The rows a sweep reads (with the keychain's) and who owns their domains.
pub(crate) struct Selected {
    pub keychain_rows: crate::audit::keychain::KeychainRows,
    /// The file rows of the selected domains, in index order.
    pub rows: Vec<FileRecord>,
    pub owners: Ownership,
}

/// Read the index once for the file rows of the app domains (`all_domains`: every domain;
/// `app`: only that app's), with the rows the keychain audit needs, and attribute their
/// domains (shared by the leak sweep and `tamper`).
pub(crate) fn select_rows(
    s: &Session,
    app: Option<&str>,
    all_domains: bool,
) -> Result<Selected, Error> {
    let manifest_apps = s
        .backup
        .manifest
        .as_ref()
        .map_or(&[][..], |m| m.applications.as_slice());
    let apps: Vec<&str> = app.into_iter().collect();
    let selected = |domain: &str| -> bool {
        match app {
            Some(_) => may_belong_to(domain, &apps, manifest_apps),
            None => all_domains || app_domain(domain).is_some(),
        }
    };
    let (keychain_rows, mut rows) = pick_rows(s, |r| {
        r.kind == FileKind::File && !r.file_id.is_empty() && selected(&r.domain)
    })?
    .ok_or_else(|| {
        Error::CredentialsMissing("the index is encrypted: a password is needed".into())
    })?;
    let owners = Ownership::of_backup(
        &s.backup,
        apps.iter().copied(),
        keychain_rows
            .rows()
            .iter()
            .chain(rows.iter())
            .map(|r| r.domain.as_str()),
    );
    let owner_of = |domain: &str| owners.domain_owner(domain);
    if let Some(a) = app {
        // `may_belong_to` is a superset of the attribution: keep only the app's own rows.
        rows.retain(|r| owner_of(&r.domain).as_deref() == Some(a));
    }
    Ok(Selected {
        keychain_rows,
        rows,
        owners,
    })
}

/// The backup's identity as Info.plist (else Manifest.plist's Lockdown) gives it.
fn backup_info(s: &Session) -> LeakBackup {
    let info = s.backup.info.as_ref();
    let lockdown = s.backup.manifest.as_ref().map(|m| &m.lockdown);
    LeakBackup {
        path: s.backup.root.display().to_string(),
        udid: info
            .and_then(|i| i.unique_identifier.clone())
            .or_else(|| lockdown.and_then(|l| l.unique_device_id.clone())),
        device_name: info
            .and_then(|i| i.device_name.clone())
            .or_else(|| lockdown.and_then(|l| l.device_name.clone())),
        ios_version: info
            .and_then(|i| i.product_version.clone())
            .or_else(|| lockdown.and_then(|l| l.product_version.clone())),
        encrypted: s.backup.manifest.as_ref().and_then(|m| m.is_encrypted),
    }
}

/// Keychain values shorter than this are not searched for in files (a 4-digit PIN would
/// match everywhere).
pub const MIN_KEYCHAIN_VALUE: usize = 8;

/// The decryptable keychain items' values, to find copies of them in files
/// (`leak.keychain-copy`) and to say which item holds a value a rule found. The values stay
/// in wiped buffers; lookups go through a bitmap of first byte pairs, then a comparison.
#[derive(Default)]
struct KeychainValues {
    /// (value, fingerprint, the item in words).
    values: Vec<(zeroize::Zeroizing<Vec<u8>>, String, String)>,
    /// Bit `u16(first two bytes)` set for each value.
    first_pairs: Vec<u64>,
    by_fingerprint: HashMap<String, usize>,
}

impl KeychainValues {
    fn pair(b: &[u8]) -> usize {
        (usize::from(b[0]) << 8) | usize::from(b[1])
    }

    /// Each place in `hay` where a value starts: (index of the value, its span).
    fn find(&self, hay: &[u8]) -> Vec<(usize, std::ops::Range<usize>)> {
        let mut out = Vec::new();
        if self.values.is_empty() || hay.len() < MIN_KEYCHAIN_VALUE {
            return out;
        }
        for i in 0..hay.len() - 1 {
            let p = Self::pair(&hay[i..]);
            if self.first_pairs[p / 64] & (1 << (p % 64)) == 0 {
                continue;
            }
            for (k, (v, _, _)) in self.values.iter().enumerate() {
                if hay[i..].starts_with(v) {
                    out.push((k, i..i + v.len()));
                }
            }
        }
        out
    }
}

/// The keychain's decryptable values (see [`KeychainValues`]). A keychain that cannot be
/// read is a note: no value is then matched to an item.
fn keychain_values(s: &Session, rows: &[FileRecord], notes: &mut Vec<FileNote>) -> KeychainValues {
    let mut out = KeychainValues {
        first_pairs: vec![0; 1024],
        ..KeychainValues::default()
    };
    let mut k = match keychain_audit(s, rows) {
        Ok(Some(k)) => k,
        Ok(None) => return out,
        Err(e) => {
            notes.push(FileNote {
                app: None,
                domain: crate::audit::keychain::KEYCHAIN_DOMAIN.to_string(),
                path: "keychain-backup.plist".to_string(),
                reason: "unreadable",
                note: format!(
                    "the keychain could not be read, so no value is matched to a keychain item: {e}"
                ),
            });
            return out;
        }
    };
    for it in &mut k.items {
        let (Some(secret), Some(fp)) = (it.secret.take(), it.secret_fingerprint.clone()) else {
            continue;
        };
        if secret.len() < MIN_KEYCHAIN_VALUE
            || out.by_fingerprint.contains_key(&fp)
            || secret
                .as_utf8()
                .is_some_and(|t| !super::validate::not_placeholder(t))
        {
            continue;
        }
        let what = it
            .service
            .as_deref()
            .or(it.server.as_deref())
            .or(it.label.as_deref())
            .map_or(String::new(), |w| format!(" ({w})"));
        let p = KeychainValues::pair(secret.as_bytes());
        out.first_pairs[p / 64] |= 1 << (p % 64);
        out.by_fingerprint.insert(fp.clone(), out.values.len());
        out.values.push((
            zeroize::Zeroizing::new(secret.as_bytes().to_vec()),
            fp,
            format!("{} item {}{what}", it.table, it.index),
        ));
    }
    out
}

/// What searching one file gave.
#[derive(Default)]
struct FileResult<'r> {
    /// What the file is, when it was searched.
    kind: Option<Kind>,
    bytes: u64,
    skipped: Option<&'static str>,
    note: Option<(&'static str, String)>,
    leaks: Vec<Pending<'r>>,
}

impl FileResult<'_> {
    fn skipped(reason: &'static str) -> Self {
        FileResult {
            skipped: Some(reason),
            ..FileResult::default()
        }
    }
}

/// A leak of a file before it is placed (the file's row gives the rest).
struct Pending<'r> {
    rule: &'r Rule,
    at: Where,
    field: Option<String>,
    in_value: Option<[usize; 2]>,
    deleted: bool,
    occurrences: u64,
    preview: String,
    fingerprint: String,
    note: Option<String>,
    value: Option<String>,
}

impl Pending<'_> {
    fn into_leak(self, r: &FileRecord, app: Option<String>, kind: Kind, e: &Exposure) -> Leak {
        let rule = self.rule;
        Leak {
            app,
            domain: r.domain.clone(),
            path: r.relative_path.clone(),
            protection_class: r.protection_class,
            rule: rule.id.clone(),
            category: rule.category,
            confidence: rule.confidence,
            severity: severity(rule.category, rule.confidence),
            title: rule.title.clone(),
            file_kind: kind,
            location: self.at,
            in_value: self.in_value,
            field: self.field,
            deleted: self.deleted,
            occurrences: self.occurrences,
            preview: self.preview,
            fingerprint: self.fingerprint,
            note: self.note,
            fix: rule.fix.clone(),
            exposure: e.text.clone(),
            value: self.value,
        }
    }
}

/// What every file's search shares.
struct Ctx<'a> {
    payloads: &'a Payloads<'a>,
    rules: &'a Rules,
    opts: &'a LeakOptions,
    keychain: &'a KeychainValues,
    /// The backup is declared encrypted (Manifest.plist `IsEncrypted`).
    encrypted: bool,
    /// The rule that reports keychain values found in files, when the rules have one.
    keychain_rule: Option<&'a Rule>,
}

impl<'a> Ctx<'a> {
    /// Read, decode and search one file (`wal`: its `-wal` row, for a database).
    fn search(&self, r: &FileRecord, wal: Option<&FileRecord>) -> FileResult<'a> {
        let bytes = match self.read(r) {
            Ok(b) => b,
            Err(res) => return res,
        };
        let kind = decode::sniff(&bytes);
        match kind {
            Kind::Media => return FileResult::skipped("media"),
            Kind::Empty => return FileResult::skipped("empty"),
            _ => {}
        }
        let mut found = Found::new(self);
        let mut wal_note = None;
        let decoder_note = {
            let mut each = |f: Field<'_>| found.field(f);
            let wal_bytes = match (kind, wal) {
                (Kind::Sqlite, Some(w)) => match self.read(w) {
                    Ok(b) => Some(b),
                    Err(res) => {
                        wal_note = res.note.map(|(_, n)| format!("its -wal was not read: {n}"));
                        None
                    }
                },
                _ => None,
            };
            match wal_bytes {
                Some(w) => match sqlite::fields_with_wal(&bytes, &w, &mut each) {
                    Ok(n) => n,
                    Err(why) => {
                        text::strings(&bytes, &mut each);
                        Some(format!(
                            "does not decode as Sqlite ({why}): searched as strings"
                        ))
                    }
                },
                None => decode::fields(kind, &bytes, &mut each),
            }
        };
        let mut notes: Vec<String> = decoder_note.into_iter().chain(wal_note).collect();
        if found.capped {
            notes.push(format!(
                "more than {MAX_LEAKS_PER_FILE} distinct values matched: only the first {MAX_LEAKS_PER_FILE} are listed"
            ));
        }
        FileResult {
            kind: Some(kind),
            bytes: bytes.len() as u64,
            skipped: None,
            note: (!notes.is_empty()).then(|| {
                let text = notes.join("; ");
                (note_reason(&text, found.capped), text)
            }),
            leaks: found.leaks,
        }
    }

    /// The plaintext of a row, or why it cannot be had (as the file's result).
    fn read(&self, r: &FileRecord) -> Result<zeroize::Zeroizing<Vec<u8>>, FileResult<'a>> {
        read_plain(self.payloads, r, self.encrypted, self.opts.max_file_size).map_err(|u| {
            FileResult {
                skipped: Some(u.skipped),
                note: u.note,
                ..FileResult::default()
            }
        })
    }
}

/// Why a file's plaintext cannot be had: the `skipped` reason of the summary, and the
/// note's reason and text when the file is worth a note.
pub(crate) struct Unread {
    pub skipped: &'static str,
    pub note: Option<(&'static str, String)>,
}

impl Unread {
    fn skipped(reason: &'static str) -> Self {
        Unread {
            skipped: reason,
            note: None,
        }
    }

    fn unsearched(reason: &'static str, note_reason: &'static str, note: String) -> Self {
        Unread {
            skipped: reason,
            note: Some((note_reason, note)),
        }
    }
}

/// The plaintext of a row (at most `max_file_size` bytes, in a wiped buffer), or why it
/// cannot be had. `encrypted`: the backup is declared encrypted (a backup that is not, whose
/// rows keep their keys, is a decrypted copy: its payloads are read as plaintext).
pub(crate) fn read_plain(
    payloads: &Payloads<'_>,
    r: &FileRecord,
    encrypted: bool,
    max_file_size: u64,
) -> Result<zeroize::Zeroizing<Vec<u8>>, Unread> {
    let payload = match payloads.open(r) {
        Ok(p) => p,
        // A backup not declared encrypted whose rows keep their keys is a decrypted
        // copy (tools such as mvt store them so): its payloads are plaintext.
        Err(Unavailable::Locked) if !encrypted => {
            match payloads.find(r).and_then(|c| payloads.open_listed(&c)) {
                Ok(p) => p,
                Err(Unavailable::Missing | Unavailable::BadFileId) => {
                    return Err(Unread::skipped("missing"))
                }
                Err(e) => {
                    return Err(Unread::unsearched(
                        "unreadable",
                        "unreadable",
                        format!("the payload cannot be opened: {e}"),
                    ))
                }
            }
        }
        Err(Unavailable::Missing | Unavailable::BadFileId) => {
            return Err(Unread::skipped("missing"))
        }
        Err(Unavailable::Unreadable(e)) => {
            return Err(Unread::unsearched(
                "unreadable",
                "unreadable",
                format!("the payload cannot be opened: {e}"),
            ))
        }
        Err(why @ (Unavailable::Locked | Unavailable::BadKey(_))) => {
            return Err(Unread::unsearched(
                "not_decryptable",
                "locked",
                why.to_string(),
            ))
        }
        Err(Unavailable::Key(k)) => {
            let reason = match k {
                KeyUnavailable::UnwrapFailed(..) => "decrypt_failed",
                _ => "locked",
            };
            return Err(Unread::unsearched(
                "not_decryptable",
                reason,
                Unavailable::Key(k).to_string(),
            ));
        }
    };
    let stored = payload.stored_len();
    if stored > max_file_size {
        return Err(Unread::unsearched(
            "too_large",
            "too_large",
            format!(
                "{stored} bytes, over --max-file-size {}: not searched",
                max_file_size
            ),
        ));
    }
    payload.read_whole(max_file_size).map_err(|e| match e {
        ReadError::Io(e) => Unread::unsearched(
            "unreadable",
            "unreadable",
            format!("the payload cannot be read: {e}"),
        ),
        ReadError::Decrypt(e) => Unread::unsearched(
            "decrypt_failed",
            "decrypt_failed",
            format!("the payload does not decrypt: {e}"),
        ),
    })
}

/// `partly_decoded` when a decoder could not read all of a file (it was then searched as
/// strings, or only in part), `info` when the note only says how it was read (inflated,
/// WAL applied, free space searched).
fn note_reason(text: &str, capped: bool) -> &'static str {
    let partial = [
        "does not decode",
        "not read",
        "could not",
        "cannot",
        "truncated",
    ];
    if capped || partial.iter().any(|p| text.contains(p)) {
        "partly_decoded"
    } else {
        "info"
    }
}

/// The leaks of one file, one per distinct (rule, value), with how often each recurs.
struct Found<'c, 'a> {
    ctx: &'c Ctx<'a>,
    leaks: Vec<Pending<'a>>,
    seen: HashMap<(&'a str, String), usize>,
    capped: bool,
}

impl<'c, 'a> Found<'c, 'a> {
    fn new(ctx: &'c Ctx<'a>) -> Self {
        Found {
            ctx,
            leaks: Vec::new(),
            seen: HashMap::new(),
            capped: false,
        }
    }

    /// Search a field, then (once, never deeper) the plist, JSON or JWT its base64 or hex
    /// value hides.
    fn field(&mut self, f: Field<'_>) {
        if f.typed_only {
            return;
        }
        self.search(&f);
        if let Some(d) = encoded::decode(f.value) {
            let mut inner = Vec::new();
            encoded::fields(&d, &f.at, f.name, &mut |g| {
                if !g.typed_only {
                    inner.push((g.at, g.name.map(str::to_owned), g.value.to_vec(), g.deleted))
                }
            });
            for (at, name, value, deleted) in inner {
                let value = zeroize::Zeroizing::new(value);
                self.search(&Field {
                    deleted: deleted || f.deleted,
                    ..Field::new(at, name.as_deref(), &value)
                });
            }
        }
    }

    fn search(&mut self, f: &Field<'_>) {
        let rules = self.ctx.rules;
        let mut hits = match f.name {
            Some(n) => rules.scan_field(n, f.value),
            None => rules.scan_text(f.value),
        };
        if let Some(rule) = self.ctx.keychain_rule {
            for (k, span) in self.ctx.keychain.find(f.value) {
                hits.push(Hit {
                    rule,
                    span,
                    note: Some(format!(
                        "the value of keychain {}",
                        self.ctx.keychain.values[k].2
                    )),
                });
            }
        }
        for h in hits {
            let Some(value) = f.value.get(h.span.clone()) else {
                continue;
            };
            // Printable runs of binary content are noisy: an e-mail address there needs a
            // known top-level domain (random bytes spell `x@yz.Ab` now and then).
            if h.rule.id == "leak.email-address"
                && matches!(f.at, Where::Bytes { .. })
                && !std::str::from_utf8(value).is_ok_and(super::validate::email_in_binary)
            {
                continue;
            }
            let fingerprint = redact::fingerprint(value);
            let key = (h.rule.id.as_str(), fingerprint);
            if let Some(&i) = self.seen.get(&key) {
                self.leaks[i].occurrences += 1;
                continue;
            }
            if self.leaks.len() >= MAX_LEAKS_PER_FILE {
                self.capped = true;
                continue;
            }
            let in_keychain = self.ctx.keychain.by_fingerprint.get(&key.1).map(|&k| {
                format!(
                    "the same value is in the keychain: {}",
                    self.ctx.keychain.values[k].2
                )
            });
            let in_keychain = in_keychain.filter(|_| !matches!(h.rule.matcher, Matcher::Keychain));
            let note = match (h.note, in_keychain) {
                (Some(a), Some(b)) => Some(format!("{a}; {b}")),
                (a, b) => a.or(b),
            };
            let whole = h.span.start == 0 && h.span.end == f.value.len();
            self.seen.insert((key.0, key.1.clone()), self.leaks.len());
            self.leaks.push(Pending {
                rule: h.rule,
                at: f.at.clone(),
                field: f.name.map(str::to_owned),
                in_value: (!whole).then_some([h.span.start, h.span.end]),
                deleted: f.deleted,
                occurrences: 1,
                preview: redact::preview(value),
                fingerprint: key.1,
                note,
                value: self.ctx.opts.show_secrets.then(|| redact::shown(value)),
            });
        }
    }
}

/// Apps named by `--app` that own nothing swept (for the CLI's warning): true when the
/// report holds no file of the app and the backup does not list it.
pub fn app_unknown(s: &Session, app: &str, report: &LeaksReport) -> bool {
    let listed: HashSet<&str> = s
        .backup
        .manifest
        .as_ref()
        .map(|m| {
            m.applications
                .iter()
                .map(|a| a.bundle_id.as_str())
                .collect()
        })
        .unwrap_or_default();
    report.summary.files_searched == 0
        && report.summary.skipped.values().sum::<u64>() == 0
        && !listed.contains(app)
}

/// The `--fail-on` gate over the leaks: each rule with its leaks at or above `threshold`.
pub fn gate(r: &LeaksReport, threshold: crate::audit::Severity) -> crate::audit::finding::Gate {
    let rules = builtin();
    crate::audit::finding::Gate::new(
        threshold,
        r.leaks.iter().filter_map(|l| {
            rules
                .get(&l.rule)
                .map(|rule| (rule.id.as_str(), l.severity, 1))
        }),
    )
}
