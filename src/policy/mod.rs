//! Policy gate for CI: a TOML file of expectations checked against a backup (`auditor check`).
//!
//! [`load`] reads and compiles a policy (strict: errors name file, line and column);
//! [`check`] gathers the evidence (scan, keychain audit, canary search over decrypted
//! contents) and evaluates every expectation into a [`CheckReport`]; [`init::generate`]
//! writes a starting policy from what a backup shows.

pub mod canary;
pub mod eval;
pub mod file;
pub mod init;
pub mod lock;
pub mod model;
pub mod report;
pub mod rules;

pub use file::{load, parse, PolicyError};
pub use model::Policy;
pub use report::{CheckReport, ExpectationResult, Location, PolicyFinding, Status, CHECK_SCHEMA};

use crate::audit::scan::{scan_all, ScanOptions};
use crate::ownership::{may_belong_to, Ownership};
use crate::session::Session;
use crate::Error;
use eval::{Evidence, KeychainEvidence};
use std::collections::HashSet;

/// App ownership for a scanned backup (its app lists, `extra` ids, the index's domains).
pub fn owners_of<'a>(
    s: &Session,
    report: &crate::audit::ScanReport,
    extra: impl IntoIterator<Item = &'a str>,
) -> Ownership {
    Ownership::of_backup(&s.backup, extra, report.domains.iter().map(String::as_str))
}

/// The domains of each app of `policy` whose files are searched for canaries (none when
/// no canary searches files).
fn searched_domains(
    policy: &Policy,
    report: &crate::audit::ScanReport,
    owners: &Ownership,
) -> Vec<HashSet<String>> {
    if !policy.needs_contents() {
        return Vec::new();
    }
    let all: HashSet<&str> = report.domains.iter().map(String::as_str).collect();
    policy
        .apps
        .iter()
        .map(|a| {
            all.iter()
                .filter(|d| owners.domain_owner(d).as_deref() == Some(a.bundle_id.as_str()))
                .map(|d| d.to_string())
                .collect()
        })
        .collect()
}

/// Check `policy` against an opened (and, when needed, unlocked) backup.
///
/// Needs the index (the password of an encrypted backup) as soon as the policy has an
/// `[[app]]`: `Error::CredentialsMissing` otherwise, never a silent pass.
pub fn check(s: &Session, policy: &Policy) -> Result<CheckReport, Error> {
    // Only the policy's apps' files are evaluated: the other reports are not kept (at
    // 1.3 M index rows they would be most of the memory).
    let manifest: &[crate::backup::AppInfo] = s
        .backup
        .manifest
        .as_ref()
        .map_or(&[], |m| m.applications.as_slice());
    let ids: Vec<&str> = policy.apps.iter().map(|a| a.bundle_id.as_str()).collect();
    let keep = |f: &crate::audit::FileReport| may_belong_to(&f.domain, &ids, manifest);
    // The canary search and the leak sweeps need the rows of the policy's apps: kept as
    // the scan reads them (by the same test; their owner is known once every domain is),
    // so that the index is read once.
    let keep_row = |r: &crate::index::FileRecord| may_belong_to(&r.domain, &ids, manifest);
    let needs_rows = policy.needs_contents() || policy.needs_leaks();
    let scanned = scan_all(
        s,
        &ScanOptions {
            keep_file: Some(&keep),
            keep_row: needs_rows.then_some(&keep_row),
            ..Default::default()
        },
    )?;
    let report = scanned.report;
    if policy.needs_index() && !report.index_read {
        if s.is_encrypted() && s.class_keys.is_none() {
            return Err(Error::CredentialsMissing(
                "the policy has app expectations and the backup's index is encrypted: a password (or --key-file) is needed".into(),
            ));
        }
        return Err(Error::backup(
            &s.backup.root,
            "the backup has no readable file index: app expectations cannot be checked",
        ));
    }
    let owners = owners_of(s, &report, policy.apps.iter().map(|a| a.bundle_id.as_str()));
    let leaks = sweep_leaks(s, policy, &scanned.keychain_rows, &scanned.rows)?;
    let domains = searched_domains(policy, &report, &owners);
    let records: Vec<_> = scanned
        .rows
        .into_iter()
        .filter(|r| domains.iter().any(|d| d.contains(&r.domain)))
        .collect();
    // The scan's keychain audit (none when it could not run: no readable index).
    let keychain = if policy.needs_keychain() {
        match &scanned.keychain {
            Some(Ok(Some(a))) => KeychainEvidence::Read(a),
            Some(Ok(None)) | None => KeychainEvidence::Absent,
            Some(Err(Error::CredentialsMissing(m))) => {
                return Err(Error::CredentialsMissing(m.clone()))
            }
            Some(Err(e)) => KeychainEvidence::Unreadable(e.to_string()),
        }
    } else {
        KeychainEvidence::NotRead
    };
    let search;
    let files = if policy.needs_contents() {
        search = canary::search_files(s, &policy.apps, &domains, &records);
        Some(&search)
    } else {
        None
    };
    Ok(eval::evaluate(
        policy,
        &Evidence {
            scan: &report,
            owners: &owners,
            keychain,
            files,
            leaks: &leaks,
        },
    ))
}

/// The leak sweep of each app with `[app.leaks]` (None for the others), over its own
/// domains only.
///
/// One sweep per such app (`LeakOptions::app`) over the rows the scan kept (`rows`: those
/// that may be the policy's apps', in index order; `keychain_rows` as the scan kept them),
/// so the index is not read again: the same report as `auditor leaks --app`. Each sweep
/// decrypts the files it selects, and decrypting files is what costs; a single sweep of
/// every app domain (`app: None`) would decrypt the files of every app of the backup
/// (hundreds on a phone in use) to keep the few the policy names. A sweep that fails is
/// that app's expectation "cannot be checked"; missing credentials stop the check.
fn sweep_leaks(
    s: &Session,
    policy: &Policy,
    keychain_rows: &crate::audit::keychain::KeychainRows,
    rows: &[crate::index::FileRecord],
) -> Result<Vec<Option<Result<crate::leaks::model::LeaksReport, String>>>, Error> {
    if !policy.needs_leaks() {
        return Ok(Vec::new());
    }
    let rules = policy.leak_rules();
    let mut out = Vec::new();
    for a in &policy.apps {
        let Some(l) = &a.leaks else {
            out.push(None);
            continue;
        };
        let opts = crate::leaks::sweep::LeakOptions {
            app: Some(a.bundle_id.clone()),
            all_domains: false,
            max_file_size: l.max_file_size,
            show_secrets: false,
        };
        match crate::leaks::sweep::sweep_rows(s, &opts, rules, keychain_rows, rows) {
            Ok(r) => out.push(Some(Ok(r))),
            Err(e @ Error::CredentialsMissing(_)) => return Err(e),
            Err(e) => out.push(Some(Err(e.to_string()))),
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests;
