//! The walk: every file of the app domains decrypted in memory (the leak sweep's selection
//! and reader), decoded into typed fields, each matched with the tamper rules; then the
//! integrity evidence of each file and value.

use super::integrity::{self, digests, token, Alg, Encoding, KeychainIndex, Needles, Of, Tokens};
use super::model::{Integrity, Setting, Status, TamperReport, TamperSummary, TAMPER_SCHEMA};
use super::rules::{builtin, key_words, words, Rule};
use super::shape::Shape;
use crate::audit::keychain::audit as keychain_audit;
use crate::audit::ToolInfo;
use crate::index::FileRecord;
use crate::leaks::decode::{self, describe, sqlite, Field, Kind, ValueType, Where};
use crate::leaks::model::{FileNote, LeakBackup};
use crate::leaks::sweep::{read_plain, select_rows, Selected, DEFAULT_MAX_FILE_SIZE};
use crate::session::Session;
use crate::Error;
use rayon::prelude::*;
use regex::Regex;
use std::collections::{HashMap, HashSet};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::OnceLock;

/// Settings kept per file at most; past it the file gets a note.
pub const MAX_SETTINGS_PER_FILE: usize = 500;
/// Longest value shown; longer ones are cut (`…`).
pub const MAX_VALUE_SHOWN: usize = 256;

/// What to walk.
#[derive(Debug, Clone)]
pub struct TamperOptions {
    /// Only this app's domains (its app, group and plugin domains).
    pub app: Option<String>,
    /// Every domain (HomeDomain and the other system domains too), not only app domains.
    pub all_domains: bool,
    /// Files larger than this (stored bytes) are not read.
    pub max_file_size: u64,
}

impl Default for TamperOptions {
    fn default() -> Self {
        TamperOptions {
            app: None,
            all_domains: false,
            max_file_size: DEFAULT_MAX_FILE_SIZE,
        }
    }
}

/// Files of third-party SDKs (analytics, crash reporting, attribution, messaging): their
/// `debug` or `enabled` keys are the SDK's, not the app's controls.
fn third_party_path() -> &'static Regex {
    static R: OnceLock<Regex> = OnceLock::new();
    R.get_or_init(|| {
        Regex::new(
            r"(?i)(^|/)(com\.)?(crashlytics|fabric|google[._-]?(gmp|measurement|analytics|appmeasurement)|googleanalytics|firebase[._-]?(crashlytics|analytics|messaging|installations|sessions)|fir(analytics|crashlytics)|amplitude|mixpanel|segment(io)?|appsflyer|adjust|io\.branch|braze|appboy|facebook|fbsdk|fbaudience|sentry|datadog|newrelic|bugsnag|onesignal|kochava|instabug|flurry|appcenter|urbanairship|airship|leanplum|countly|clevertap|localytics|apptentive|smartlook|uxcam|fullstory|embrace|gad|googlemobileads)",
        )
        .expect("a valid expression")
    })
}

/// Key paths of third-party SDKs kept in the app's own preferences, and of event queues,
/// logs and caches of events (a `debug` member of a queued analytics event is no switch).
fn third_party_key() -> &'static Regex {
    static R: OnceLock<Regex> = OnceLock::new();
    R.get_or_init(|| {
        Regex::new(
            r"(?i)^/(com\.(facebook|crashlytics|google\.(gmp|measurement|analytics)|firebase\.(crashlytics|analytics)|amplitude|mixpanel|appsflyer|adjust|braze|appboy|segment|sentry|onesignal|urbanairship|apptentive)|fb_?sdk|fbsdk|gul|firanalytics|fircls|gad|gma|google_?analytics|gmp_|crashlytics|amplitude|mixpanel|appsflyer|adjust|braze|appboy|segment|sentry|onesignal|kochava|branch|flurry|instabug|bugsnag|datadog|newrelic|mp_|af_)|/(events?|event_?queue|queue|batch|breadcrumbs|analytics|tracking|telemetry|metrics)(/|$)",
        )
        .expect("a valid expression")
    })
}

/// Columns of a key/value table that hold the key, and those that hold its value.
const KEY_COLUMNS: &[&str] = &[
    "key",
    "name",
    "setting",
    "pref",
    "preference",
    "option",
    "zkey",
    "zname",
    "flag",
    "identifier",
];
const VALUE_COLUMNS: &[&str] = &[
    "value",
    "val",
    "zvalue",
    "setting_value",
    "data",
    "enabled",
    "state",
];

/// Walk the backup of `s` (unlocked when it is encrypted). `progress(done, total)` is
/// called as files are read (from several threads; `done` only grows).
pub fn surface(
    s: &Session,
    opts: &TamperOptions,
    progress: &(dyn Fn(u64, u64) + Sync),
) -> Result<TamperReport, Error> {
    let Selected {
        keychain_rows,
        rows,
        owners,
    } = select_rows(s, opts.app.as_deref(), opts.all_domains)?;
    let mut notes = Vec::new();
    let mut audit = match keychain_audit(s, keychain_rows.rows()) {
        Ok(k) => k,
        Err(e) => {
            notes.push(FileNote {
                app: None,
                domain: crate::audit::keychain::KEYCHAIN_DOMAIN.to_string(),
                path: "keychain-backup.plist".to_string(),
                reason: "unreadable",
                note: format!(
                    "the keychain could not be read, so no digest can be looked for in it: {e}"
                ),
            });
            None
        }
    };
    let keychain = KeychainIndex::of(audit.as_mut());
    drop(audit);
    let apps: Vec<Option<String>> = rows
        .iter()
        .map(|r| owners.domain_owner(&r.domain))
        .collect();

    // A `-wal` whose database is read is applied to it, not read on its own.
    let by_path: HashMap<(&str, &str), usize> = rows
        .iter()
        .enumerate()
        .map(|(i, r)| ((r.domain.as_str(), r.relative_path.as_str()), i))
        .collect();
    let wal_of = |r: &FileRecord| {
        by_path
            .get(&(r.domain.as_str(), &*format!("{}-wal", r.relative_path)))
            .map(|&i| &rows[i])
    };
    let beside_db = |r: &FileRecord| {
        r.relative_path
            .strip_suffix("-wal")
            .is_some_and(|db| by_path.contains_key(&(r.domain.as_str(), db)))
    };

    let payloads = s.payloads_by_name()?;
    let encrypted = s.is_encrypted();
    let total = rows.len() as u64;
    let done = AtomicU64::new(0);
    progress(0, total);
    let ctx = Ctx {
        payloads: &payloads,
        encrypted,
        max: opts.max_file_size,
        keychain: &keychain,
    };
    let walked: Vec<Walked> = rows
        .par_iter()
        .zip(apps.par_iter())
        .map(|(r, app)| {
            let out = if beside_db(r) {
                Walked::skipped("wal_with_database")
            } else {
                ctx.walk(r, wal_of(r), app.as_deref())
            };
            progress(done.fetch_add(1, Ordering::Relaxed) + 1, total);
            out
        })
        .collect();

    // Every file's digest-like values, then every digest looked for.
    let mut tokens = Tokens::default();
    let mut needles = Needles::default();
    let mut summary = TamperSummary {
        max_file_size: opts.max_file_size,
        ..TamperSummary::default()
    };
    let mut settings: Vec<(usize, Found)> = Vec::new();
    for (i, (r, w)) in rows.iter().zip(walked).enumerate() {
        if let Some(reason) = w.skipped {
            *summary.skipped.entry(reason).or_default() += 1;
        }
        if w.kind.is_some() {
            summary.files_searched += 1;
            summary.bytes_searched += w.bytes;
        }
        summary.third_party_skipped += w.third_party;
        summary.hmac_computations += w.hmacs;
        if let Some((reason, note)) = w.note {
            notes.push(FileNote {
                app: apps[i].clone(),
                domain: r.domain.clone(),
                path: r.relative_path.clone(),
                reason,
                note,
            });
        }
        for (raw, enc) in w.tokens {
            tokens.add(i, raw, enc);
        }
        if !w.found.is_empty() {
            summary.files_with_settings += 1;
            needles.add(Of::File(i), &w.digests);
        }
        for mut f in w.found {
            let digests = std::mem::take(&mut f.digests);
            needles.add(Of::Value(settings.len()), &digests);
            settings.push((i, f));
        }
    }
    let app_of = |o: Of| match o {
        Of::File(i) => apps[i].clone(),
        Of::Value(k) => apps[settings[k].0].clone(),
    };
    let file_of = |o: Of| match o {
        Of::File(i) => i,
        Of::Value(k) => settings[k].0,
    };
    let file_name = |i: usize| {
        (
            format!("{}/{}", rows[i].domain, rows[i].relative_path),
            apps[i].clone(),
        )
    };
    let found = integrity::search(&needles, &keychain, &tokens, &app_of, &file_of, &file_name);
    if tokens.capped {
        notes.push(FileNote {
            app: None,
            domain: String::new(),
            path: String::new(),
            reason: "info",
            note: format!(
                "more than {} digest-like values in the files: later ones were not compared",
                integrity::MAX_TOKENS
            ),
        });
    }

    let mut out: Vec<Setting> = Vec::with_capacity(settings.len());
    for (k, (i, f)) in settings.into_iter().enumerate() {
        let r = &rows[i];
        let app = apps[i].clone();
        let evidence = found
            .by
            .get(&Of::File(i))
            .or_else(|| found.by.get(&Of::Value(k)))
            .cloned();
        let device_bound = keychain.device_bound_for(app.as_deref());
        let integrity = match evidence {
            Some((by, ev)) => Integrity {
                status: Status::Protected,
                by: Some(by),
                evidence: Some(ev),
                device_bound_items: device_bound,
            },
            None => Integrity {
                status: if device_bound > 0 {
                    Status::Unknown
                } else {
                    Status::Unprotected
                },
                by: None,
                evidence: None,
                device_bound_items: device_bound,
            },
        };
        out.push(Setting {
            app,
            domain: r.domain.clone(),
            path: r.relative_path.clone(),
            key: f.key,
            location: f.location,
            field: f.field,
            category: f.rule.category,
            rule: f.rule.id.clone(),
            title: f.rule.title.clone(),
            value: f.value,
            value_type: f.value_type,
            shape: f.shape,
            redacted: f.redacted,
            preview: f.preview,
            file_kind: f.kind,
            protection_class: r.protection_class,
            severity: super::severity(integrity.status, f.rule.category),
            integrity,
            patch: f.patch,
            fix: f.rule.fix.clone(),
        });
    }
    out.sort_by(|a, b| {
        (a.app.is_none(), &a.app, &a.domain, &a.path).cmp(&(
            b.app.is_none(),
            &b.app,
            &b.domain,
            &b.path,
        ))
    });
    summary.settings = out.len() as u64;
    for st in &out {
        *summary.by_category.entry(st.category).or_default() += 1;
        *summary.by_status.entry(st.integrity.status).or_default() += 1;
        *summary.by_rule.entry(st.rule.clone()).or_default() += 1;
    }
    Ok(TamperReport {
        schema: TAMPER_SCHEMA,
        tool: ToolInfo::default(),
        backup: backup_info(s),
        settings: out,
        notes,
        keychain: keychain.evidence.clone(),
        summary,
        app: opts.app.clone(),
    })
}

/// The backup's identity (as the leaks report gives it).
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

/// A setting of a file before it is placed.
struct Found {
    key: String,
    location: Where,
    field: Option<String>,
    rule: &'static Rule,
    shape: Shape,
    value: Option<String>,
    value_type: &'static str,
    redacted: bool,
    preview: Option<String>,
    kind: Kind,
    patch: Option<String>,
    /// The value's digests (and HMACs), looked for afterwards.
    digests: Vec<(Alg, Vec<u8>, Option<usize>)>,
}

/// What walking one file gave.
#[derive(Default)]
struct Walked {
    kind: Option<Kind>,
    bytes: u64,
    skipped: Option<&'static str>,
    note: Option<(&'static str, String)>,
    found: Vec<Found>,
    /// The file's digests and HMACs (when it has settings).
    digests: Vec<(Alg, Vec<u8>, Option<usize>)>,
    tokens: Vec<(Vec<u8>, Encoding)>,
    third_party: u64,
    hmacs: u64,
}

impl Walked {
    fn skipped(reason: &'static str) -> Self {
        Walked {
            skipped: Some(reason),
            ..Walked::default()
        }
    }
}

/// What every file's walk shares.
struct Ctx<'a> {
    payloads: &'a crate::session::payload::Payloads<'a>,
    encrypted: bool,
    max: u64,
    keychain: &'a KeychainIndex,
}

/// The JSON word of a value type.
fn type_str(t: ValueType) -> &'static str {
    match t {
        ValueType::String => "string",
        ValueType::Data => "data",
        ValueType::Integer => "integer",
        ValueType::Real => "real",
        ValueType::Bool => "bool",
        ValueType::Date => "date",
    }
}

impl Ctx<'_> {
    fn walk(&self, r: &FileRecord, wal: Option<&FileRecord>, app: Option<&str>) -> Walked {
        let bytes = match read_plain(self.payloads, r, self.encrypted, self.max) {
            Ok(b) => b,
            Err(u) => {
                return Walked {
                    skipped: Some(u.skipped),
                    note: u.note,
                    ..Walked::default()
                }
            }
        };
        let kind = decode::sniff(&bytes);
        match kind {
            Kind::Media => return Walked::skipped("media"),
            Kind::Empty => return Walked::skipped("empty"),
            _ => {}
        }
        let rules = builtin();
        let third_party_file = third_party_path().is_match(&r.relative_path);
        let mut w = Walked {
            kind: Some(kind),
            bytes: bytes.len() as u64,
            ..Walked::default()
        };
        if let Some(t) = token(&bytes, true) {
            w.tokens.push(t);
        }
        let mut seen: HashSet<String> = HashSet::new();
        let mut capped = false;
        // Key/value tables: the key of a row names its value cell.
        let mut row_key: Option<(String, Option<i64>, String)> = None;
        let decoder_note = {
            let mut each = |f: Field<'_>| {
                if f.deleted {
                    return;
                }
                // A short binary value, handed out whole: a digest held as raw bytes (a
                // plist `data`, a blob) is evidence, never a setting of its own.
                if f.typed_only && f.ty == ValueType::Data {
                    if let Some(t) = token(f.value, true) {
                        w.tokens.push(t);
                    }
                    return;
                }
                if !matches!(f.at, Where::Text { .. } | Where::Bytes { .. }) {
                    if let Some(t) = token(f.value, false) {
                        w.tokens.push(t);
                    }
                }
                let mut name = f.name.map(str::to_owned);
                let mut key = match &f.at {
                    Where::Plist { key_path } => key_path.clone(),
                    Where::Json { pointer } => pointer.clone(),
                    Where::Cookie { name, .. } => format!("/{name}"),
                    Where::Sqlite { table, .. } => {
                        format!("/{table}/{}", name.as_deref().unwrap_or(""))
                    }
                    Where::Text { .. } | Where::Bytes { .. } => return,
                };
                if let Where::Sqlite {
                    table,
                    column,
                    rowid,
                } = &f.at
                {
                    let col = column.to_ascii_lowercase();
                    if KEY_COLUMNS.contains(&col.as_str()) {
                        row_key = std::str::from_utf8(f.value)
                            .ok()
                            .filter(|k| !k.is_empty() && k.len() <= 128)
                            .map(|k| (table.clone(), *rowid, k.to_owned()));
                    } else if VALUE_COLUMNS.contains(&col.as_str()) {
                        if let Some((t, id, k)) = &row_key {
                            if t == table && id == rowid {
                                key = format!("/{table}/{k}");
                                name = Some(k.clone());
                            }
                        }
                    }
                }
                let Some(name) = name else {
                    return;
                };
                let name_w = words(&name);
                let key_w = key_words(&key);
                let Some((rule, shape)) = rules.match_field(&name_w, &key_w, f.value, f.ty) else {
                    return;
                };
                if third_party_file || third_party_key().is_match(&key) {
                    w.third_party += 1;
                    return;
                }
                let place = describe(&f.at);
                if !seen.insert(place.clone()) {
                    return;
                }
                if w.found.len() >= MAX_SETTINGS_PER_FILE {
                    capped = true;
                    return;
                }
                let text = String::from_utf8_lossy(f.value);
                let secret = looks_secret(&name, f.value, shape, &text);
                let value = (!secret).then(|| {
                    if text.chars().count() > MAX_VALUE_SHOWN {
                        text.chars().take(MAX_VALUE_SHOWN).collect::<String>() + "…"
                    } else {
                        text.clone().into_owned()
                    }
                });
                let keys = self.keychain.keys_for(app);
                w.hmacs += keys.len() as u64;
                w.found.push(Found {
                    key: match &f.at {
                        Where::Plist { .. } | Where::Json { .. } => key.clone(),
                        _ => place,
                    },
                    location: f.at.clone(),
                    field: Some(name),
                    rule,
                    shape,
                    value,
                    value_type: type_str(f.ty),
                    redacted: secret,
                    preview: secret.then(|| crate::leaks::redact::preview(f.value)),
                    kind,
                    patch: None,
                    digests: digests(f.value, &keys),
                });
            };
            match (kind, wal) {
                (Kind::Sqlite, Some(wr)) => {
                    match read_plain(self.payloads, wr, self.encrypted, self.max) {
                        Ok(wb) => sqlite::fields_with_wal(&bytes, &wb, &mut each)
                            .err()
                            .map(|e| format!("does not decode as Sqlite ({e})")),
                        Err(u) => {
                            let n = decode::fields(kind, &bytes, &mut each);
                            let wal_note =
                                u.note.map(|(_, n)| format!("its -wal was not read: {n}"));
                            match (n, wal_note) {
                                (Some(a), Some(b)) => Some(format!("{a}; {b}")),
                                (a, b) => a.or(b),
                            }
                        }
                    }
                }
                _ => decode::fields(kind, &bytes, &mut each),
            }
        };
        // Only what could not be read is worth a note here (not how it was read).
        let mut notes: Vec<String> = decoder_note
            .into_iter()
            .filter(|n| {
                n.contains("does not decode") || n.contains("not read") || n.contains("could not")
            })
            .collect();
        if capped {
            notes.push(format!(
                "more than {MAX_SETTINGS_PER_FILE} settings matched: only the first {MAX_SETTINGS_PER_FILE} are listed"
            ));
        }
        if !notes.is_empty() {
            w.note = Some(("partly_decoded", notes.join("; ")));
        }
        if let Some(rule) = rules.match_file(&r.relative_path) {
            if third_party_file {
                w.third_party += 1;
            } else {
                w.found.push(Found {
                    key: "/".into(),
                    location: match kind {
                        Kind::Json => Where::Json {
                            pointer: String::new(),
                        },
                        _ => Where::Plist {
                            key_path: "/".into(),
                        },
                    },
                    field: None,
                    rule,
                    shape: Shape::Document,
                    value: None,
                    value_type: "document",
                    redacted: false,
                    preview: None,
                    kind,
                    patch: Some(format!("{}:{}", r.domain, r.relative_path)),
                    digests: Vec::new(),
                });
            }
        }
        if !w.found.is_empty() {
            let keys = self.keychain.keys_for(app);
            w.hmacs += keys.len() as u64;
            w.digests = digests(&bytes, &keys);
            set_patch_targets(&mut w.found, kind, &bytes, r);
        }
        w
    }
}

/// A value not to show: a leak rule fires on it, a URL carries a user or password, or a
/// free-form value (not a boolean, number, URL, host, date or word) is a long run without
/// spaces that looks random (a token, a key).
fn looks_secret(name: &str, value: &[u8], shape: Shape, text: &str) -> bool {
    if !crate::leaks::builtin().scan_field(name, value).is_empty() || has_userinfo(text) {
        return true;
    }
    matches!(shape, Shape::Any)
        && text.len() >= 16
        && !text.contains(char::is_whitespace)
        && !super::shape::is_url(text)
        && crate::leaks::validate::entropy(value) >= 3.5
}

/// A URL with a user name or password in it (`https://user:pass@host`).
fn has_userinfo(t: &str) -> bool {
    t.split_once("://")
        .map(|(_, rest)| rest.split(['/', '?', '#']).next().unwrap_or(""))
        .is_some_and(|authority| authority.contains('@'))
}

/// `auditor patch --set` targets: for a plist or JSON file, each value at a key path of the
/// file itself (not inside a nested plist or base64), as `DOMAIN:PATH:KEYPATH` with each
/// segment escaped as in a JSON pointer.
fn set_patch_targets(found: &mut [Found], kind: Kind, bytes: &[u8], r: &FileRecord) {
    let target = |segments: &[String]| {
        let pointer: String = segments
            .iter()
            .map(|s| format!("/{}", s.replace('~', "~0").replace('/', "~1")))
            .collect();
        format!("{}:{}:{pointer}", r.domain, r.relative_path)
    };
    match kind {
        Kind::Plist => {
            let Ok(v) = plist::Value::from_reader(std::io::Cursor::new(bytes)) else {
                return;
            };
            for f in found.iter_mut().filter(|f| f.shape != Shape::Document) {
                let Where::Plist { key_path } = &f.location else {
                    continue;
                };
                let segments: Vec<String> =
                    key_path.split('/').skip(1).map(str::to_owned).collect();
                let mut at = &v;
                let mut ok = !segments.is_empty();
                for s in &segments {
                    let next = match at {
                        plist::Value::Dictionary(d) => d.get(s),
                        plist::Value::Array(a) => s.parse::<usize>().ok().and_then(|i| a.get(i)),
                        _ => None,
                    };
                    match next {
                        Some(n) => at = n,
                        None => {
                            ok = false;
                            break;
                        }
                    }
                }
                let scalar = matches!(
                    at,
                    plist::Value::Boolean(_)
                        | plist::Value::Integer(_)
                        | plist::Value::Real(_)
                        | plist::Value::String(_)
                        | plist::Value::Date(_)
                );
                if ok && scalar {
                    f.patch = Some(target(&segments));
                }
            }
        }
        Kind::Json => {
            let Ok(v) = serde_json::from_slice::<serde_json::Value>(bytes) else {
                return;
            };
            for f in found.iter_mut().filter(|f| f.shape != Shape::Document) {
                let Where::Json { pointer } = &f.location else {
                    continue;
                };
                if v.pointer(pointer)
                    .is_some_and(|x| !x.is_object() && !x.is_array())
                    && !pointer.is_empty()
                {
                    f.patch = Some(format!("{}:{}:{pointer}", r.domain, r.relative_path));
                }
            }
        }
        _ => {}
    }
}
