//! The keychain audit: find and decrypt keychain-backup.plist, classify items, count per app.

use super::finding::rules as R;
use super::model::{AppKeychain, KeychainSummary, ScanReport, ToolInfo};
use super::{Finding, Location};
use crate::crypto::KeyUnavailable;
use crate::index::FileRecord;
use crate::keychain::{self, KeychainItem, KeychainReport, RestoreSummary};
use crate::ownership::{self, Ownership};
use crate::session::payload::{ReadError, Unavailable};
use crate::session::Session;
use crate::Error;
use serde::Serialize;
use std::collections::BTreeMap;
use zeroize::Zeroizing;

mod names;
pub use names::{NameRule, SESSION_TOKEN};

/// Version of the keychain JSON schema (docs/json-schema.md).
pub const KEYCHAIN_SCHEMA: &str = "auditor.keychain/1";
/// keychain-backup.plist larger than this is refused (real ones are a few MB).
pub const MAX_KEYCHAIN_BYTES: u64 = 512 * 1024 * 1024;

/// Where the keychain export is in the index.
pub const KEYCHAIN_DOMAIN: &str = "KeychainDomain";
pub const KEYCHAIN_PATH: &str = "keychain-backup.plist";

/// The keychain file as found in the backup.
#[derive(Debug, Clone, Serialize)]
pub struct KeychainFile {
    pub present: bool,
    pub file_id: Option<String>,
    pub encrypted: bool,
    pub protection_class: Option<u32>,
    pub bytes: Option<u64>,
    pub keybag_uuid: Option<String>,
    /// Does the export's `keybag-uuid` equal the backup keybag's UUID?
    pub keybag_uuid_matches: Option<bool>,
}

/// Counts over the items.
#[derive(Debug, Clone, Default, Serialize)]
pub struct KeychainCounts {
    pub items: u64,
    pub decryptable: u64,
    pub device_bound: u64,
    /// Items that do not come back on a restore to a different device.
    pub lost_on_new_device: u64,
    pub by_table: BTreeMap<String, u64>,
    /// Items per protection class, in ascending class order (`unknown` last).
    #[serde(serialize_with = "super::model::class_order")]
    pub by_class: BTreeMap<String, u64>,
    /// `{any_device, same_device_only, never, unknown}` counts.
    pub by_restore: BTreeMap<&'static str, u64>,
}

/// The result of `auditor keychain` (schema `auditor.keychain/1`). Secrets are not in it.
#[derive(Debug, Clone, Serialize)]
pub struct KeychainAudit {
    pub schema: &'static str,
    pub tool: ToolInfo,
    pub backup: KeychainBackupInfo,
    pub keychain_file: KeychainFile,
    pub items: Vec<KeychainItem>,
    pub unknown_tables: Vec<String>,
    pub apps: BTreeMap<String, AppKeychain>,
    /// Counts over `items`: with `--app`, over the items shown only.
    pub summary: KeychainCounts,
    pub findings: Vec<Finding>,
    /// With `--app`: what the filter kept out of the keychain. Absent without it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub app_filter: Option<AppFilter>,
}

/// What `--app` left out: the whole keychain's size and the sealed items that may be the app's.
#[derive(Debug, Clone, Serialize)]
pub struct AppFilter {
    /// The bundle id asked for.
    pub app: String,
    /// Items in the whole keychain, before the filter.
    pub keychain_items: u64,
    /// Sealed items ([`is_sealed`]): their app is unknown, so they may belong to `app`.
    /// They are not in `items` nor in `summary`.
    pub may_belong: u64,
}

/// An item whose attributes could not be read here (not decrypted, no access group): which
/// app it belongs to is unknown.
pub fn is_sealed(it: &KeychainItem) -> bool {
    !it.decryptable && it.access_group.is_none()
}

#[derive(Debug, Clone, Serialize)]
pub struct KeychainBackupInfo {
    pub path: String,
    pub udid: Option<String>,
    pub encrypted: bool,
    pub unlocked: bool,
}

fn restore_word(s: RestoreSummary) -> &'static str {
    match s {
        RestoreSummary::AnyDevice => "any_device",
        RestoreSummary::SameDeviceOnly => "same_device_only",
        RestoreSummary::Never => "never",
        RestoreSummary::Unknown => "unknown",
    }
}

/// The keychain file's description and its clear bytes.
pub type LoadedKeychain = (KeychainFile, Zeroizing<Vec<u8>>);

/// Read the keychain export's clear bytes (decrypting in memory when needed).
/// `Ok(None)` when the index has no keychain row.
pub fn load(s: &Session, records: &[FileRecord]) -> Result<Option<LoadedKeychain>, Error> {
    let Some(rec) = records
        .iter()
        .find(|r| r.domain == KEYCHAIN_DOMAIN && r.relative_path == KEYCHAIN_PATH)
    else {
        return Ok(None);
    };
    let mut file = KeychainFile {
        present: false,
        file_id: Some(rec.file_id.clone()),
        encrypted: rec.encryption_key.is_some(),
        protection_class: rec.protection_class.or(rec.encryption_key_class()),
        bytes: None,
        keybag_uuid: None,
        keybag_uuid_matches: None,
    };
    let payloads = s.payloads_by_name()?;
    let Ok(listed) = payloads.find(rec) else {
        return Ok(Some((file, Zeroizing::new(Vec::new()))));
    };
    let path = payloads.listing().path(&listed);
    let unreadable = |e: &dyn std::fmt::Display| {
        Error::backup(&path, format!("cannot read the keychain payload: {e}"))
    };
    let payload = payloads.open_listed(&listed).map_err(|e| unreadable(&e))?;
    let len = payload.stored_len();
    if len > MAX_KEYCHAIN_BYTES {
        return Err(Error::backup(&path, format!("keychain-backup.plist payload is {len} bytes, over the {MAX_KEYCHAIN_BYTES}-byte limit")));
    }
    file.present = true;
    let key = payloads.key(rec).map_err(|e| match e {
        Unavailable::Locked => {
            Error::CredentialsMissing("the keychain is encrypted: a password is needed".into())
        }
        Unavailable::BadKey(b) => Error::backup(
            &path,
            format!("keychain EncryptionKey is {} bytes, expected 44", b.len),
        ),
        Unavailable::Key(KeyUnavailable::UnwrapFailed(_, e)) => {
            Error::backup(&path, format!("keychain file key: {e}"))
        }
        Unavailable::Key(k) => Error::backup(
            &path,
            format!("keychain file class {} has no usable class key", k.class()),
        ),
        other => unreadable(&other),
    })?;
    let clear = payload
        .with_key(key)
        .read_whole(MAX_KEYCHAIN_BYTES)
        .map_err(|e| match e {
            ReadError::Io(e) => unreadable(&e),
            ReadError::Decrypt(e) => Error::backup(&path, format!("decrypting the keychain: {e}")),
        })?;
    file.bytes = Some(clear.len() as u64);
    Ok(Some((file, clear)))
}

/// The few index rows the keychain audit looks at, picked out of a stream of rows so that
/// the whole index need not be held: the first keychain row and the first row of every
/// app domain (`AppDomain…-`: they tell which apps own which access groups), in index
/// order. [`audit`] over them equals [`audit`] over all rows.
#[derive(Default)]
pub struct KeychainRows {
    rows: Vec<FileRecord>,
    has_keychain: bool,
    domains: std::collections::HashSet<String>,
    /// The app domain of the last row kept or passed over (rows of one domain tend to come
    /// together: most need no set lookup).
    last: String,
}

impl KeychainRows {
    /// Keep `r` if the keychain audit needs it.
    pub fn observe(&mut self, r: &FileRecord) {
        let keep = if !self.has_keychain
            && r.domain == KEYCHAIN_DOMAIN
            && r.relative_path == KEYCHAIN_PATH
        {
            self.has_keychain = true;
            true
        } else if r.domain == self.last || ownership::app_domain(&r.domain).is_none() {
            false
        } else {
            self.last.clone_from(&r.domain);
            !self.domains.contains(&r.domain) && self.domains.insert(r.domain.clone())
        };
        if keep {
            self.rows.push(r.clone());
        }
    }

    /// The rows kept, in index order.
    pub fn rows(&self) -> &[FileRecord] {
        &self.rows
    }
}

/// Read the index once, keeping the rows the keychain audit needs and those `keep` accepts
/// (in index order), so that no caller holds the whole index (1.3 M rows in real backups).
/// `Ok(None)` when there is no index or it is encrypted and locked.
pub fn pick_rows(
    s: &Session,
    mut keep: impl FnMut(&FileRecord) -> bool,
) -> Result<Option<(KeychainRows, Vec<FileRecord>)>, Error> {
    let Some(index) = s.index()? else {
        return Ok(None);
    };
    let mut rows = KeychainRows::default();
    let mut kept = Vec::new();
    index.for_each_record(|r| {
        rows.observe(&r);
        if keep(&r) {
            kept.push(r);
        }
    })?;
    Ok(Some((rows, kept)))
}

/// Who owns what, as the keychain audit over `records` attributes access groups: the
/// backup's app lists and the domains of `records` (all app domains when they are the rows
/// [`KeychainRows`] kept, or the whole index).
pub fn ownership(s: &Session, records: &[FileRecord]) -> Ownership {
    Ownership::of_backup(&s.backup, [], records.iter().map(|r| r.domain.as_str()))
}

/// Read and classify the keychain of an opened backup, reading the index for its row:
/// the `auditor keychain` command. An error when the index is locked or has no keychain.
pub fn audit_backup(s: &Session) -> Result<KeychainAudit, Error> {
    let (rows, _) = pick_rows(s, |_| false)?.ok_or_else(|| {
        Error::CredentialsMissing("the index is encrypted: a password is needed".into())
    })?;
    Ok(audit(s, rows.rows())?.unwrap_or_else(|| no_keychain(s)))
}

impl KeychainAudit {
    /// Keep only the items of the app `bundle_id`, their findings (and those not about an
    /// item), its per-app counts; the summary is recounted over the items kept, and
    /// `app_filter` says what was left out.
    pub fn retain_app(&mut self, bundle_id: &str) {
        let filter = AppFilter {
            app: bundle_id.to_owned(),
            keychain_items: self.items.len() as u64,
            may_belong: self.items.iter().filter(|it| is_sealed(it)).count() as u64,
        };
        let mine = |it: &KeychainItem| it.app.as_deref() == Some(bundle_id);
        let others: std::collections::HashSet<(&str, usize)> = self
            .items
            .iter()
            .filter(|it| !mine(it))
            .map(|it| (it.table.as_str(), it.index))
            .collect();
        self.findings.retain(|f| match &f.location {
            Location::Keychain { table, index, .. } => !others.contains(&(table.as_str(), *index)),
            _ => true,
        });
        self.items.retain(mine);
        self.apps.retain(|k, _| k == bundle_id);
        self.summary = count_items(&self.items).0;
        self.app_filter = Some(filter);
    }
}

/// Read and classify the keychain. `Ok(None)` when the backup's index has no keychain.
pub fn audit(s: &Session, records: &[FileRecord]) -> Result<Option<KeychainAudit>, Error> {
    let encrypted = s.is_encrypted();
    let Some((mut file, clear)) = load(s, records)? else {
        return Ok(None);
    };
    let mut findings = Vec::new();
    let mut report = read_report(s, &file, &clear, &mut findings)?;
    drop(clear);
    // Device-bound is a property of the item's class key (WRAP bit 1 in the backup
    // keybag; every class in an unencrypted backup), not of whether this run could open
    // it: with an examiner's device key the item opens but still restores to this device only.
    if let Some(kb) = &s.keybag {
        for it in &mut report.items {
            if let Some(rec) = it
                .protection_class
                .and_then(|c| kb.classes.iter().find(|r| r.class() == c))
            {
                it.device_bound = rec.device_bound() || !encrypted;
            }
        }
    }
    report.attribute_apps(&ownership(s, records));
    file_findings(s, &mut file, &report, &mut findings);
    let (counts, apps) = count_items(&report.items);
    for it in &report.items {
        item_findings(it, &mut findings);
    }
    Ok(Some(KeychainAudit {
        schema: KEYCHAIN_SCHEMA,
        tool: ToolInfo::default(),
        backup: backup_info(s),
        keychain_file: file,
        items: report.items,
        unknown_tables: report.unknown_tables,
        apps,
        summary: counts,
        findings,
        app_filter: None,
    }))
}

/// The backup as the keychain report names it.
fn backup_info(s: &Session) -> KeychainBackupInfo {
    KeychainBackupInfo {
        path: s.backup.root.display().to_string(),
        udid: s
            .backup
            .manifest
            .as_ref()
            .and_then(|m| m.lockdown.unique_device_id.clone()),
        encrypted: s.is_encrypted(),
        unlocked: s.class_keys.is_some(),
    }
}

/// The report of a backup whose index lists no keychain export: no items, and the finding
/// a missing payload gets (so that both ways of having no keychain read alike).
fn no_keychain(s: &Session) -> KeychainAudit {
    KeychainAudit {
        schema: KEYCHAIN_SCHEMA,
        tool: ToolInfo::default(),
        backup: backup_info(s),
        keychain_file: KeychainFile {
            present: false,
            file_id: None,
            encrypted: false,
            protection_class: None,
            bytes: None,
            keybag_uuid: None,
            keybag_uuid_matches: None,
        },
        items: Vec::new(),
        unknown_tables: Vec::new(),
        apps: BTreeMap::new(),
        summary: KeychainCounts::default(),
        findings: vec![Finding::new(
            &R::KEYCHAIN_MISSING,
            "the index lists no keychain-backup.plist: this backup holds no keychain",
        )
        .at(Location::file(KEYCHAIN_DOMAIN, KEYCHAIN_PATH))],
        app_filter: None,
    }
}

/// The items of the export's clear bytes; an empty report (and a finding) when the index
/// lists the export but its payload is not on disk.
fn read_report(
    s: &Session,
    file: &KeychainFile,
    clear: &[u8],
    findings: &mut Vec<Finding>,
) -> Result<KeychainReport, Error> {
    if file.present {
        return keychain::read_items(clear, s.class_keys.as_ref(), s.is_encrypted()).map_err(|e| {
            Error::backup(
                s.backup
                    .root
                    .join(file.file_id.as_deref().unwrap_or("keychain")),
                e,
            )
        });
    }
    findings.push(
        Finding::new(
            &R::KEYCHAIN_MISSING,
            "the index lists keychain-backup.plist but its payload is not on disk",
        )
        .at(Location::file(KEYCHAIN_DOMAIN, KEYCHAIN_PATH)),
    );
    Ok(KeychainReport {
        keybag_uuid: None,
        items: Vec::new(),
        tables: BTreeMap::new(),
        unknown_tables: Vec::new(),
        problems: Vec::new(),
    })
}

/// The export's keybag UUID against the backup's keybag, and the export's own problems.
fn file_findings(
    s: &Session,
    file: &mut KeychainFile,
    report: &KeychainReport,
    findings: &mut Vec<Finding>,
) {
    file.keybag_uuid = report.keybag_uuid.clone();
    if let Some(uuid) = s.keybag.as_ref().and_then(|k| k.uuid.as_deref()) {
        file.keybag_uuid_matches = report.keybag_uuid_agrees(uuid);
        if file.keybag_uuid_matches == Some(false) {
            findings.push(
                Finding::new(
                    &R::KEYCHAIN_KEYBAG_MISMATCH,
                    format!(
                        "keychain-backup.plist names keybag {:?}, not this backup's keybag",
                        report.keybag_uuid.as_deref().unwrap_or("")
                    ),
                )
                .at(Location::file(KEYCHAIN_DOMAIN, KEYCHAIN_PATH)),
            );
        }
    }
    for p in &report.problems {
        findings.push(
            Finding::new(&R::KEYCHAIN_MALFORMED, p.clone())
                .at(Location::file(KEYCHAIN_DOMAIN, KEYCHAIN_PATH)),
        );
    }
}

/// Counts over the items, in all and per app.
fn count_items(items: &[KeychainItem]) -> (KeychainCounts, BTreeMap<String, AppKeychain>) {
    let mut counts = KeychainCounts::default();
    let mut apps: BTreeMap<String, AppKeychain> = BTreeMap::new();
    for it in items {
        let lost = it.restore.other_device != Some(true);
        counts.items += 1;
        counts.decryptable += u64::from(it.decryptable);
        counts.device_bound += u64::from(it.device_bound);
        counts.lost_on_new_device += u64::from(lost);
        *counts.by_table.entry(it.table.clone()).or_default() += 1;
        *counts
            .by_class
            .entry(
                it.protection_class
                    .map_or_else(|| "unknown".into(), |c| c.to_string()),
            )
            .or_default() += 1;
        *counts
            .by_restore
            .entry(restore_word(it.restore.summary))
            .or_default() += 1;
        if let Some(app) = &it.app {
            let a = apps.entry(app.clone()).or_default();
            a.items += 1;
            a.decryptable += u64::from(it.decryptable);
            a.device_bound += u64::from(it.device_bound);
            a.lost_on_new_device += u64::from(lost);
        }
    }
    (counts, apps)
}

/// An item that did not decrypt for a reason that is not its class (corrupt, unsupported),
/// and an item of a class iOS never exports.
fn item_findings(it: &KeychainItem, findings: &mut Vec<Finding>) {
    use crate::keychain::ReasonCode as C;
    let rule = match it.reason_code {
        Some(
            C::AuthenticationFailed
            | C::BadPadding
            | C::KeyUnwrapFailed
            | C::MalformedBlob
            | C::MalformedPayload
            | C::MissingData,
        ) => Some(&R::KEYCHAIN_CORRUPT_ITEM),
        Some(C::UnsupportedVersion | C::UnknownClass) => Some(&R::KEYCHAIN_UNSUPPORTED_ITEM),
        _ => None,
    };
    if let Some(rule) = rule {
        findings.push(Finding::new(rule, it.reason.clone().unwrap_or_default()).at(it));
    }
    advice_findings(it, findings);
    if it.protection_class == Some(12) {
        findings.push(
            Finding::new(
                &R::KEYCHAIN_AKPU_PRESENT,
                "a WhenPasscodeSetThisDeviceOnly item is in the backup (iOS never exports them)",
            )
            .at(it),
        );
    }
}

/// Advice to the app's developer: a deprecated `Always` accessibility, and a session token
/// that restores to any device. Only for items whose app is known and not Apple's.
fn advice_findings(it: &KeychainItem, findings: &mut Vec<Finding>) {
    let Some(app) = it.app.as_deref().filter(|a| *a != ownership::SYSTEM_OWNER) else {
        return;
    };
    if let Some(pdmn @ ("dk" | "dku")) = it.pdmn.as_deref() {
        let constant = it
            .accessibility_constant
            .unwrap_or("kSecAttrAccessibleAlways");
        findings.push(
            Finding::new(
                &R::KEYCHAIN_DEPRECATED_CLASS,
                format!("{app}: deprecated accessibility {pdmn} ({constant})"),
            )
            .at(it),
        );
    }
    if it.restore.other_device != Some(true) {
        return;
    }
    if let Some((attr, word)) = SESSION_TOKEN.matched_attribute(it) {
        findings.push(
            Finding::new(
                &R::KEYCHAIN_MIGRATABLE_TOKEN,
                format!(
                    "{app}: a session token? its {attr} has the word \"{word}\"; it restores to any device"
                ),
            )
            .at(it),
        );
    }
}

/// A short location for an item: `table[index] service/account` or server.
pub fn item_location(it: &KeychainItem) -> String {
    Location::keychain_item(it).to_string()
}

/// Add the keychain summary (totals and per app) to a scan report.
pub fn attach(report: &mut ScanReport, kc: &Result<Option<KeychainAudit>, Error>) {
    match kc {
        Ok(None) => {}
        Ok(Some(a)) => {
            report.keychain = Some(KeychainSummary {
                present: a.keychain_file.present,
                items: a.summary.items,
                decryptable: a.summary.decryptable,
                device_bound: a.summary.device_bound,
                lost_on_new_device: a.summary.lost_on_new_device,
                unattributed: a.items.iter().filter(|i| i.app.is_none()).count() as u64,
                by_table: a.summary.by_table.clone(),
                by_class: a.summary.by_class.clone(),
                by_restore: a.summary.by_restore.clone(),
                error: None,
            });
            for app in report.apps.iter_mut() {
                if let Some(k) = a.apps.get(&app.bundle_id) {
                    app.keychain = Some(k.clone());
                }
            }
            report.findings.extend(a.findings.iter().cloned());
        }
        Err(e) => {
            report.keychain = Some(KeychainSummary {
                error: Some(e.to_string()),
                ..Default::default()
            });
            report.findings.push(
                Finding::new(&R::KEYCHAIN_UNREADABLE, e.to_string())
                    .at(Location::file(KEYCHAIN_DOMAIN, KEYCHAIN_PATH)),
            );
        }
    }
}

#[cfg(test)]
mod tests;
