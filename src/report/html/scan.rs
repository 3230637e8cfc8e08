//! The scan report (and `info`) as HTML: backup, device, encryption, charts, findings, apps,
//! and each app's files.

use super::page::{at, badge, num, text, with, Column, Page};
use super::{bars, by_app, class_bars, model, rows, FINDING_COLUMNS};
use crate::audit::ScanReport;
use serde_json::Value;
use std::io::Write;

/// The columns of the apps table (`/apps`).
pub const APP_COLUMNS: &[Column] = &[
    text("bundle_id", "App", "/bundle_id"),
    text("version", "Version", "/version"),
    num("files", "Files", "/files"),
    num("present", "Present", "/present"),
    num("missing", "Missing", "/missing"),
    num("bytes", "Bytes", "/bytes"),
    num("keychain", "Keychain items", "/keychain/items"),
    text("in_manifest", "In Manifest.plist", "/in_manifest"),
];

/// The columns of a files table (`/files`).
pub const FILE_COLUMNS: &[Column] = &[
    text("domain", "Domain", "/domain"),
    text("path", "Path", "/relative_path"),
    text("kind", "Kind", "/kind"),
    badge("status", "Status", "/status"),
    num("class", "Class", "/protection_class"),
    text("encrypted", "Encrypted", "/encrypted"),
    text("device_bound", "Device-bound", "/device_bound"),
    num("size", "Size", "/size"),
    text("last_modified", "Modified", "/last_modified"),
    with("findings", "Findings", finding_rules),
];

/// The columns of the orphans table (`/orphans`).
pub const ORPHAN_COLUMNS: &[Column] = &[
    text("file_id", "File id", "/file_id"),
    text("path", "Path", "/path"),
    num("bytes", "Bytes", "/bytes"),
];

/// A file's findings by rule.
fn finding_rules(r: &Value) -> String {
    r.get("findings")
        .and_then(Value::as_array)
        .map(|f| {
            f.iter()
                .map(|x| at(x, "/rule"))
                .collect::<Vec<_>>()
                .join(", ")
        })
        .unwrap_or_default()
}

/// Write the scan report `r` as one HTML page.
pub fn write(out: &mut dyn Write, r: &ScanReport) -> std::io::Result<()> {
    let v = model(r)?;
    let subject = match at(&v, "/backup/device_name") {
        d if d.is_empty() => at(&v, "/backup/path"),
        d => d,
    };
    let mut p = Page::new("scan", &v, &subject);
    summary(&mut p, &v);
    p.section("findings", "Findings", None);
    p.table(
        "Findings about the backup",
        "/findings",
        FINDING_COLUMNS,
        rows(&v, "/findings"),
    );
    p.section("apps", "Apps", None);
    p.table("Apps", "/apps", APP_COLUMNS, rows(&v, "/apps"));
    let files = rows(&v, "/files");
    if files.is_empty() {
        p.para("No file is listed in this report (the index was not read, or `info`).");
    }
    let apps: Vec<String> = rows(&v, "/apps")
        .iter()
        .map(|(_, a)| at(a, "/bundle_id"))
        .collect();
    let mut other: Vec<(usize, &Value)> = Vec::new();
    let mut shown = std::collections::BTreeSet::new();
    for (app, group) in by_app(&files, "/app") {
        match app {
            Some(a) if apps.contains(&a) => {
                shown.insert(a.clone());
                app_section(&mut p, &v, &a, &group);
            }
            _ => other.extend(group),
        }
    }
    for a in apps
        .iter()
        .filter(|a| !shown.contains(*a) && !files.is_empty())
    {
        app_section(&mut p, &v, a, &[]);
    }
    if !other.is_empty() {
        other.sort_by_key(|(i, _)| *i);
        p.section(
            "other",
            "Other files",
            Some("System domains and files of no app of this backup."),
        );
        p.table("Files of no app", "/files", FILE_COLUMNS, other);
    }
    if !rows(&v, "/orphans").is_empty() {
        p.section(
            "orphans",
            "Orphans",
            Some("Payloads on disk that no index row names."),
        );
        p.table("Orphans", "/orphans", ORPHAN_COLUMNS, rows(&v, "/orphans"));
    }
    p.write(out)
}

/// One app's section: its facts and its files.
fn app_section(p: &mut Page, v: &Value, app: &str, files: &[(usize, &Value)]) {
    let a = rows(v, "/apps")
        .into_iter()
        .find(|(_, a)| a.get("bundle_id").and_then(Value::as_str) == Some(app))
        .map(|(_, a)| a.clone())
        .unwrap_or(Value::Null);
    p.section(app, app, None);
    p.row();
    p.facts(
        "App",
        &[
            ("version", at(&a, "/version")),
            ("domains", at(&a, "/domains")),
            ("files", at(&a, "/files")),
            ("bytes", at(&a, "/bytes")),
            ("keychain items", at(&a, "/keychain/items")),
            (
                "lost on a new device",
                at(&a, "/keychain/lost_on_new_device"),
            ),
        ],
    );
    p.chart(
        "Files by protection class",
        &class_bars(&a, "/by_protection_class", None),
    );
    p.end_row();
    p.table(
        &format!("Files of {app}"),
        "/files",
        FILE_COLUMNS,
        files.iter().copied(),
    );
}

/// The summary: backup, device, encryption and counts, then the charts.
fn summary(p: &mut Page, v: &Value) {
    p.section("summary", "Summary", None);
    if let Some(f) = v.get("app_filter") {
        p.para(&format!(
            "Narrowed to the app {} (found: {}); the whole backup has {} entries.",
            at(f, "/app"),
            at(f, "/found"),
            at(f, "/backup_entries")
        ));
    }
    p.row();
    backup_facts_scan(p, v);
    p.facts(
        "Device",
        &[
            ("name", at(v, "/backup/device_name")),
            ("product", at(v, "/backup/product_type")),
            ("iOS", at(v, "/backup/ios_version")),
            ("build", at(v, "/backup/build")),
            ("serial", at(v, "/backup/serial")),
            ("passcode set", at(v, "/backup/passcode_set")),
        ],
    );
    p.facts(
        "Encryption",
        &[
            ("declared", at(v, "/backup/encryption/declared")),
            (
                "index encrypted",
                at(v, "/backup/encryption/index_encrypted"),
            ),
            (
                "payloads encrypted",
                at(v, "/backup/encryption/payloads_encrypted"),
            ),
            (
                "ManifestKey class",
                at(v, "/backup/encryption/manifest_key_class"),
            ),
            ("KDF", at(v, "/backup/kdf/scheme")),
            ("PBKDF2-SHA256 rounds", at(v, "/backup/kdf/sha256_rounds")),
            ("PBKDF2-SHA1 rounds", at(v, "/backup/kdf/sha1_rounds")),
            ("unlocked", at(v, "/backup/unlocked")),
        ],
    );
    p.facts(
        "Counts",
        &[
            ("index rows", at(v, "/summary/entries")),
            ("files", at(v, "/summary/files")),
            ("present", at(v, "/summary/files_present")),
            ("missing", at(v, "/summary/files_missing")),
            ("directories", at(v, "/summary/directories")),
            ("symlinks", at(v, "/summary/symlinks")),
            ("content bytes", at(v, "/summary/content_bytes")),
            ("apps", at(v, "/summary/apps")),
            ("orphans", at(v, "/summary/orphans")),
            ("keychain items", at(v, "/keychain/items")),
        ],
    );
    p.end_row();
    p.row();
    p.chart(
        "Files by protection class",
        &class_bars(v, "/summary/by_protection_class", Some("files")),
    );
    let status: Vec<(String, u64)> = [
        ("present", "/summary/files_present"),
        ("missing", "/summary/files_missing"),
    ]
    .iter()
    .filter_map(|(l, ptr)| Some((l.to_string(), v.pointer(ptr)?.as_u64()?)))
    .filter(|(_, n)| *n > 0)
    .collect();
    p.chart("Files by status", &status);
    if v.get("keychain").is_some() {
        p.chart(
            "Keychain items by protection class",
            &class_bars(v, "/keychain/by_class", None),
        );
        p.chart(
            "Keychain items by restore outcome",
            &bars(v, "/keychain/by_restore", None),
        );
    }
    p.chart("Findings by rule", &bars(v, "/summary/findings", None));
    p.end_row();
}

/// The backup block of the scan (its JSON has more than the other reports').
fn backup_facts_scan(p: &mut Page, v: &Value) {
    p.facts(
        "Backup",
        &[
            ("path", at(v, "/backup/path")),
            ("UDID", at(v, "/backup/udid")),
            ("date", at(v, "/backup/date")),
            ("complete", at(v, "/backup/complete")),
            ("snapshot", at(v, "/backup/snapshot_state")),
            ("full backup", at(v, "/backup/is_full_backup")),
            ("index", at(v, "/backup/index")),
            ("layout", at(v, "/backup/layout")),
            ("manifest version", at(v, "/backup/manifest_version")),
        ],
    );
}
