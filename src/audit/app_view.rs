//! A scan narrowed to one app (`scan --app`): its files, its findings, its counts.

use super::finding::Location;
use super::model::{DeepSummary, PerFileTotals, ScanAppFilter, ScanReport, Summary};
use super::scan::{count_file, deep_outcome};
use super::Finding;
use crate::index::FileKind;
use std::collections::HashMap;

/// Keep of `report` (and of the scan's top-level `findings`) what is about `app` or about
/// the backup as a whole, recount the summary over the app's files, and say in
/// `app_filter` what the whole backup held. `owners`: each index domain's app.
pub(super) fn narrow(
    report: &mut ScanReport,
    findings: &mut Vec<Finding>,
    app: &str,
    owners: &HashMap<String, Option<String>>,
) {
    let mine = |domain: &str| owners.get(domain).and_then(|o| o.as_deref()) == Some(app);
    report.app_filter = Some(ScanAppFilter {
        app: app.to_owned(),
        found: report.apps.iter().any(|a| a.bundle_id == app),
        backup_entries: report.summary.entries,
        backup_files: report.summary.files,
        keychain_items: None,
        keychain_may_belong: None,
    });
    report.apps.retain(|a| a.bundle_id == app);
    report.files.retain(|f| f.app.as_deref() == Some(app));
    findings.retain(|f| match &f.location {
        Location::File { domain, .. } => mine(domain),
        Location::App { bundle_id } => bundle_id == app,
        _ => true,
    });
    let mut summary = Summary::default();
    let mut per_file = PerFileTotals::default();
    let (mut verified, mut failed, mut bytes) = (0, 0, 0);
    for f in &report.files {
        count_file(&mut summary, &mut per_file, f);
        match deep_outcome(f) {
            Some(true) => verified += 1,
            Some(false) => failed += 1,
            None => {}
        }
        if f.kind == FileKind::File {
            bytes += f.stored_size.unwrap_or(0);
        }
    }
    summary.deep = report.summary.deep.take().map(|d| DeepSummary {
        verified,
        failed,
        bytes,
        hashed: d.hashed,
    });
    report.summary = summary;
    report.per_file = per_file;
}
