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
pub mod model;
pub mod report;
pub mod rules;

pub use file::{load, parse, PolicyError};
pub use model::Policy;
pub use report::{CheckReport, ExpectationResult, Location, PolicyFinding, Status, CHECK_SCHEMA};

use crate::audit::scan::{scan, ScanOptions};
use crate::session::Session;
use crate::Error;
use eval::{Evidence, KeychainEvidence};
use std::collections::HashSet;

/// Check `policy` against an opened (and, when needed, unlocked) backup.
///
/// Needs the index (the password of an encrypted backup) as soon as the policy has an
/// `[[app]]`: `Error::CredentialsMissing` otherwise, never a silent pass.
pub fn check(s: &Session, policy: &Policy) -> Result<CheckReport, Error> {
    let report = scan(s, &ScanOptions::default())?;
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
    let records = if policy.needs_keychain() || policy.needs_contents() {
        s.records()?.unwrap_or_default()
    } else {
        Vec::new()
    };
    let kc_audit;
    let keychain = if policy.needs_keychain() {
        match crate::audit::keychain::audit(s, &records) {
            Ok(Some(a)) => {
                kc_audit = a;
                KeychainEvidence::Read(&kc_audit)
            }
            Ok(None) => KeychainEvidence::Absent,
            Err(e @ Error::CredentialsMissing(_)) => return Err(e),
            Err(e) => KeychainEvidence::Unreadable(e.to_string()),
        }
    } else {
        KeychainEvidence::NotRead
    };
    let search;
    let files = if policy.needs_contents() {
        let domains: Vec<HashSet<String>> = policy
            .apps
            .iter()
            .map(|a| {
                report
                    .apps
                    .iter()
                    .find(|r| r.bundle_id == a.bundle_id)
                    .map(|r| r.domains.iter().cloned().collect())
                    .unwrap_or_default()
            })
            .collect();
        search = canary::search_files(s, &policy.apps, &domains, &records);
        Some(&search)
    } else {
        None
    };
    Ok(eval::evaluate(
        policy,
        &Evidence {
            scan: &report,
            keychain,
            files,
        },
    ))
}

#[cfg(test)]
mod tests;
