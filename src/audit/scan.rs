//! The scan: classify the backup, its keybag, every index row, every app and orphan payload.

use super::apps::AppMap;
use super::checks::{backup_part, keybag_part};
use super::files::{file_report, FileCtx};
use super::finding::rules as R;
use super::model::*;
use super::{Finding, Severity};
use crate::session::Session;
use crate::Error;
use rayon::prelude::*;
use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::atomic::{AtomicU64, Ordering};

/// What to do beyond the default scan.
#[derive(Default)]
pub struct ScanOptions<'a> {
    /// Decrypt (or read) every payload in full, verify padding and length, hash it.
    pub deep: bool,
    /// Only the backup and keybag part (`auditor info`).
    pub info_only: bool,
    /// Called with (bytes done, bytes total) during `deep`.
    pub deep_progress: Option<&'a (dyn Fn(u64, u64) + Sync)>,
}

/// Scan an opened (and possibly unlocked) backup.
pub fn scan(s: &Session, opts: &ScanOptions<'_>) -> Result<ScanReport, Error> {
    let mut findings = Vec::new();
    let mut backup = backup_part(s, &mut findings);
    let keybag = keybag_part(s, &mut findings);
    let mut report = ScanReport {
        schema: SCAN_SCHEMA,
        tool: ToolInfo::default(),
        backup: BackupSummary::default(),
        keybag,
        index_read: false,
        apps: Vec::new(),
        files: Vec::new(),
        orphans: Vec::new(),
        findings: Vec::new(),
        summary: Summary::default(),
        keychain: None,
    };
    let mut apps = AppMap::new(s);
    if opts.info_only {
        report.apps = apps.apps.into_values().collect();
        report.summary.apps = report.apps.len() as u64;
        report.backup = backup;
        report.findings = findings;
        finish_summary(&mut report);
        return Ok(report);
    }

    let records = s.records()?;
    let scan_disk = s.backup.content_files().map_err(Error::from)?;
    for o in &scan_disk.other {
        let rel = o
            .path
            .strip_prefix(&s.backup.root)
            .unwrap_or(&o.path)
            .display()
            .to_string();
        findings.push(
            Finding::new(
                &R::BACKUP_UNEXPECTED_FILE,
                format!("{} ({:?}, {} bytes)", o.reason, o.kind, o.len),
            )
            .at(rel),
        );
    }
    let on_disk = scan_disk.files;
    for n in s.notes.borrow().iter() {
        findings.push(Finding::new(&R::BACKUP_NOTE, n.clone()).at("Manifest.db"));
    }
    match records {
        None => {
            findings.push(Finding::new(
                &R::BACKUP_INDEX_LOCKED,
                format!(
                    "Manifest.db is encrypted and no password was given: files and apps' contents cannot be listed ({} payload files on disk)",
                    on_disk.len()
                ),
            ).at("Manifest.db"));
            report.summary.orphans = 0;
        }
        Some(records) => {
            report.index_read = true;
            let encrypted_backup = backup.encryption.declared == Some(true);
            let class_wrap: HashMap<u32, u32> = s
                .keybag
                .as_ref()
                .map(|k| k.classes.iter().map(|c| (c.class(), c.wrap)).collect())
                .unwrap_or_default();
            let group_hints: HashMap<String, String> = s
                .backup
                .manifest
                .iter()
                .flat_map(|m| m.applications.iter())
                .flat_map(|a| {
                    a.group_containers
                        .iter()
                        .map(move |g| (g.clone(), a.bundle_id.clone()))
                })
                .collect();
            let owners: Vec<Option<String>> = records
                .iter()
                .map(|r| apps.owner(&r.domain, &group_hints))
                .collect();
            let deep_total = if opts.deep {
                let ids: HashMap<&str, u64> = on_disk
                    .iter()
                    .map(|c| (c.file_id.as_str(), c.len))
                    .collect();
                records
                    .iter()
                    .filter_map(|r| ids.get(r.file_id.as_str()))
                    .sum()
            } else {
                0
            };
            // Payloads found on disk (one listing, no second stat per row); where both
            // layouts hold one, the layout's expected place wins, as `content_path` does.
            let mut payloads: HashMap<&str, (&std::path::Path, u64)> =
                HashMap::with_capacity(on_disk.len());
            for c in &on_disk {
                let expected = s.backup.expected_content_path(&c.file_id) == c.path;
                let e = payloads
                    .entry(c.file_id.as_str())
                    .or_insert((c.path.as_path(), c.len));
                if expected {
                    *e = (c.path.as_path(), c.len);
                }
            }
            let ctx = FileCtx {
                payloads,
                keys: s.class_keys.as_ref(),
                class_wrap,
                check_fileid: true,
                deep: opts.deep,
                deep_done: AtomicU64::new(0),
                deep_total,
                deep_progress: opts.deep_progress,
            };
            // The keychain is found through the index rows, before they become reports.
            let kc = (!s.is_encrypted() || s.class_keys.is_some())
                .then(|| super::keychain::audit(s, &records));
            let files: Vec<FileReport> = records
                .into_par_iter()
                .zip(owners.into_par_iter())
                .map(|(r, app)| file_report(&ctx, r, app, encrypted_backup))
                .collect();
            // Duplicated (domain, relativePath) pairs.
            let mut seen = HashSet::new();
            for f in &files {
                if !seen.insert((f.domain.as_str(), f.relative_path.as_str())) {
                    findings.push(
                        Finding::new(
                            &R::FILE_DUPLICATE_PATH,
                            "two index rows name this domain and path",
                        )
                        .at(format!("{}/{}", f.domain, f.relative_path)),
                    );
                }
            }
            let listed: HashSet<&str> = files.iter().map(|r| r.file_id.as_str()).collect();
            report.orphans = on_disk
                .iter()
                .filter(|c| !listed.contains(c.file_id.as_str()))
                .map(|c| Orphan {
                    file_id: c.file_id.as_str().to_string(),
                    path: c.path.display().to_string(),
                    bytes: c.len,
                })
                .collect();
            for o in &report.orphans {
                findings.push(
                    Finding::new(
                        &R::FILE_ORPHAN,
                        format!(
                            "payload {} ({} bytes) is not in the index",
                            o.file_id, o.bytes
                        ),
                    )
                    .at(o.path.clone()),
                );
            }
            let any_file = files
                .iter()
                .any(|f| f.kind == "file" && f.size.unwrap_or(0) > 0);
            let stored_plain = files
                .iter()
                .filter(|f| {
                    f.findings
                        .iter()
                        .any(|x| x.rule == R::FILE_NOT_CIPHERTEXT.id)
                })
                .count();
            backup.encryption.payloads_encrypted = if any_file {
                Some(files.iter().any(|f| f.encrypted) && stored_plain == 0)
            } else {
                None
            };
            if stored_plain > 0 {
                findings.push(Finding::new(
                    &R::BACKUP_ENCRYPTION_MISMATCH,
                    format!("{stored_plain} payloads are plaintext although their rows carry EncryptionKeys: a decrypted copy of an encrypted backup"),
                ));
            }
            if backup.encryption.declared == Some(false)
                && backup.encryption.payloads_encrypted == Some(true)
            {
                findings.push(Finding::new(
                    &R::BACKUP_ENCRYPTION_MISMATCH,
                    "IsEncrypted is false but index rows carry EncryptionKeys",
                ));
            }
            if opts.deep {
                let failed = files
                    .iter()
                    .filter(|f| {
                        f.findings.iter().any(|x| {
                            x.rule == R::FILE_DECRYPT_FAILED.id || x.rule == R::FILE_UNREADABLE.id
                        })
                    })
                    .count() as u64;
                let verified = files.iter().filter(|f| f.sha256.is_some()).count() as u64;
                report.summary.deep = Some(DeepSummary {
                    verified,
                    failed,
                    bytes: ctx.deep_done.load(Ordering::Relaxed),
                });
            }
            for f in &files {
                if let Some(app) = f.app.as_ref().and_then(|a| apps.apps.get_mut(a)) {
                    if f.kind == "file" {
                        app.files += 1;
                        match f.status {
                            "present" => app.present += 1,
                            _ => app.missing += 1,
                        }
                        app.bytes += f.content_size.or(f.size).unwrap_or(0);
                        let c = f
                            .protection_class
                            .map(|c| c.to_string())
                            .unwrap_or_else(|| "none".into());
                        *app.by_protection_class.entry(c).or_default() += 1;
                    }
                }
            }
            report.files = files;
            if let Some(kc) = kc {
                report.apps = std::mem::take(&mut apps.apps).into_values().collect();
                super::keychain::attach(&mut report, kc);
                findings.append(&mut report.findings);
            }
        }
    }
    if report.apps.is_empty() {
        report.apps = apps.apps.into_values().collect();
    }
    report.backup = backup;
    report.findings = findings;
    finish_summary(&mut report);
    Ok(report)
}

fn finish_summary(r: &mut ScanReport) {
    let s = &mut r.summary;
    s.apps = r.apps.len() as u64;
    s.orphans = r.orphans.len() as u64;
    s.entries = r.files.len() as u64;
    for f in &r.files {
        match f.kind {
            "file" => {
                s.files += 1;
                if f.status == "present" {
                    s.files_present += 1;
                    s.stored_bytes_present += f.stored_size.unwrap_or(0);
                } else {
                    s.files_missing += 1;
                }
                let bytes = f.content_size.or(f.size).unwrap_or(0);
                if f.size == Some(0) {
                    s.empty_files += 1;
                }
                s.content_bytes += bytes;
                if let Some(c) = f.protection_class {
                    let e = s.by_protection_class.entry(c.to_string()).or_default();
                    e.files += 1;
                    e.bytes += bytes;
                }
            }
            "directory" => s.directories += 1,
            "symlink" => s.symlinks += 1,
            _ => {}
        }
        if f.findings
            .iter()
            .any(|x| x.rule == R::FILE_SIZE_MISMATCH.id)
        {
            s.size_mismatch_files += 1;
        }
    }
    let mut counts = BTreeMap::new();
    for f in r
        .findings
        .iter()
        .chain(r.files.iter().flat_map(|f| f.findings.iter()))
    {
        *counts.entry(f.rule).or_insert(0u64) += 1;
    }
    s.findings = counts;
}

/// Does the report have a finding at or above `threshold`?
pub fn fails(r: &ScanReport, threshold: Severity) -> bool {
    r.max_severity().is_some_and(|s| s >= threshold)
}
