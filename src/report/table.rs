//! Human-readable text rendering of a scan report.

use super::text;
use crate::audit::finding::Rule;
use crate::audit::{
    class_sort_key, rules, AppReport, FileReport, FileStatus, Finding, KeybagClass, KeybagSummary,
    Location, ScanReport,
};
use crate::index::FileKind;
use std::io::{self, Write};

/// The value, or `-` when absent.
fn opt<T: std::fmt::Display>(v: &Option<T>) -> String {
    match v {
        Some(x) => x.to_string(),
        None => "-".into(),
    }
}

/// `yes`, `no` or `unknown`.
fn yes_no(v: Option<bool>) -> &'static str {
    match v {
        Some(true) => "yes",
        Some(false) => "no",
        None => "unknown",
    }
}

/// A byte count in B, or KiB…TiB with one decimal.
pub(crate) fn human_bytes(n: u64) -> String {
    const UNITS: [&str; 5] = ["B", "KiB", "MiB", "GiB", "TiB"];
    let mut v = n as f64;
    let mut u = 0;
    while v >= 1024.0 && u + 1 < UNITS.len() {
        v /= 1024.0;
        u += 1;
    }
    if u == 0 {
        format!("{n} B")
    } else {
        format!("{v:.1} {}", UNITS[u])
    }
}

/// Each finding, its message and location wrapped under its rule, and the rule's one-line
/// fix under it (as cargo-deny prints help under each diagnostic).
pub(crate) fn write_findings(
    out: &mut dyn Write,
    findings: &[Finding],
    indent: &str,
) -> io::Result<()> {
    write_findings_at(out, findings, indent, None)
}

/// [`write_findings`], without the location of those at `here` (the row they are under).
fn write_findings_at(
    out: &mut dyn Write,
    findings: &[Finding],
    indent: &str,
    here: Option<&Location>,
) -> io::Result<()> {
    for f in findings {
        let loc = if f.location.is_whole() || Some(&f.location) == here {
            String::new()
        } else {
            format!(" [{}]", f.location)
        };
        let head = format!(
            "{indent}{} {:<28} ",
            super::style::severity(f.severity, 6),
            f.rule
        );
        let message = format!("{}{loc}", f.message);
        text::wrapped(out, &head, &message, text::width(indent) + 7)?;
        write_fix(out, rules::by_id(f.rule), indent)?;
    }
    Ok(())
}

/// The rule's fix under a finding line that starts at `indent`, wrapped under itself
/// (nothing for an unknown rule); the `scan` and `check` tables both print it.
pub(crate) fn write_fix(out: &mut dyn Write, rule: Option<&Rule>, indent: &str) -> io::Result<()> {
    match rule {
        Some(rule) => {
            let head = format!("{indent}{:<6} fix: ", "");
            text::wrapped(out, &head, rule.fix, text::width(&head))
        }
        None => Ok(()),
    }
}

/// One `label  value` line of the header, the value wrapped under itself.
fn field(out: &mut dyn Write, label: &str, value: &str) -> io::Result<()> {
    text::wrapped(out, &format!("{label:<12}"), value, 12)
}

/// What the keybag table's columns mean.
const KEYBAG_LEGEND: &[&str] = &[
    "  cls: Data Protection class",
    "  wrap: what its key is wrapped with: 2 the password, 1 the device's key,",
    "        3 both (so it opens only on the device)",
    "  state: unlocked with the password given, device_bound, or locked (none given)",
];

/// Render the backup and keybag part (used by `info` and at the top of `scan`).
pub fn write_header(out: &mut dyn Write, r: &ScanReport) -> io::Result<()> {
    let b = &r.backup;
    let alone = b.input == crate::backup::Input::ManifestPlist;
    field(out, "Backup", &b.path)?;
    if alone {
        field(
            out,
            "Input",
            "a Manifest.plist alone: Info.plist, Status.plist, the index and the payloads were not read",
        )?;
    }
    let device = format!(
        "{} ({}), iOS {} ({})",
        opt(&b.device_name),
        opt(&b.product_type),
        opt(&b.ios_version),
        opt(&b.build)
    );
    field(out, "Device", &device)?;
    field(
        out,
        "UDID",
        &format!("{}   serial {}", opt(&b.udid), opt(&b.serial)),
    )?;
    field(out, "Date", &opt(&b.date))?;
    if alone {
        field(out, "Complete", "unknown (Status.plist not read)")?;
    } else {
        let complete = format!(
            "{} (SnapshotState {}, full backup {})",
            yes_no(b.complete),
            opt(&b.snapshot_state),
            yes_no(b.is_full_backup)
        );
        field(out, "Complete", &complete)?;
    }
    field(out, "Passcode", yes_no(b.passcode_set))?;
    if alone {
        field(out, "Index", "not read (only a Manifest.plist was given)")?;
    } else {
        field(out, "Index", &format!("{} (layout {})", b.index, b.layout))?;
    }
    let e = &b.encryption;
    let encryption = format!(
        "declared {}, index ciphertext {}, payloads encrypted {}{}",
        yes_no(e.declared),
        yes_no(e.index_encrypted),
        yes_no(e.payloads_encrypted),
        e.manifest_key_class
            .map(|c| format!(", ManifestKey class {c}"))
            .unwrap_or_default()
    );
    field(out, "Encryption", &encryption)?;
    if let Some(k) = &b.kdf {
        let kdf = match k.sha256_rounds {
            Some(n) => format!(
                "two-stage: PBKDF2-SHA256 x {n} then PBKDF2-SHA1 x {}",
                k.sha1_rounds
            ),
            None => format!(
                "legacy single stage: PBKDF2-SHA1 x {} (weak)",
                k.sha1_rounds
            ),
        };
        field(out, "KDF", &kdf)?;
    }
    field(out, "Unlocked", if b.unlocked { "yes" } else { "no" })?;
    if let Some(kb) = &r.keybag {
        write_keybag(out, kb)?;
    }
    Ok(())
}

/// The keybag's classes in ascending order, each name whole, the columns in the legend.
fn write_keybag(out: &mut dyn Write, kb: &KeybagSummary) -> io::Result<()> {
    writeln!(out)?;
    let about = format!(
        "version {}, type {}, uuid {}",
        opt(&kb.version),
        opt(&kb.kind),
        opt(&kb.uuid)
    );
    field(out, "Keybag", &about)?;
    // 52 columns: the longest class name, NSFileProtectionCompleteUntilFirstUserAuthentication.
    text::line(
        out,
        &format!("  {:>3}  {:<52}  {:>4}  state", "cls", "name", "wrap"),
    )?;
    let mut classes: Vec<&KeybagClass> = kb.classes.iter().collect();
    classes.sort_by_key(|c| c.class);
    for c in classes {
        let row = format!(
            "  {:>3}  {}  {:>4}  {}",
            c.class,
            text::fit(c.name, 52),
            c.wrap,
            c.state
        );
        text::line(out, &row)?;
    }
    for l in KEYBAG_LEGEND {
        text::line(out, l)?;
    }
    Ok(())
}

/// Render `auditor info`: the backup and keybag part and its findings.
pub fn write_info(out: &mut dyn Write, r: &ScanReport) -> io::Result<()> {
    write_header(out, r)?;
    if !r.findings.is_empty() {
        writeln!(out, "\nFindings")?;
        write_findings(out, &r.findings, "  ")?;
    }
    Ok(())
}

/// Render the whole scan report.
pub fn write_scan(out: &mut dyn Write, r: &ScanReport, show_files: bool) -> io::Result<()> {
    write_header(out, r)?;
    write_app_filter(out, r)?;
    if r.index_read {
        write_apps(out, r)?;
        if show_files {
            write_files(out, r)?;
        }
    }
    write_keychain_totals(out, r)?;
    write_summary(out, r)?;
    if !r.findings.is_empty() {
        writeln!(out, "\nFindings")?;
        write_findings(out, &r.findings, "  ")?;
    }
    let per_file: u64 = r.per_file.findings;
    if per_file > 0 && !show_files {
        let note = format!(
            "{} (--files or --format json lists them)",
            counted(per_file, "per-file finding", "per-file findings")
        );
        writeln!(out)?;
        text::wrapped(out, "", &note, 2)?;
        writeln!(out, "All findings by rule:")?;
        for (rule, n) in &r.summary.findings {
            writeln!(out, "  {rule:<28} {n}")?;
        }
    }
    Ok(())
}

/// With `scan --app`: what the report is narrowed to.
fn write_app_filter(out: &mut dyn Write, r: &ScanReport) -> io::Result<()> {
    let Some(f) = &r.app_filter else {
        return Ok(());
    };
    let what = if !f.found {
        "not in this backup".to_string()
    } else if r.index_read {
        format!(
            "{} of the backup's {} files; findings about the backup as a whole are kept",
            r.summary.files, f.backup_files
        )
    } else {
        "its files are not known (the index was not read)".to_string()
    };
    field(out, "Only app", &format!("{} ({what})", f.app))?;
    if let Some(n) = f.keychain_may_belong.filter(|&n| n > 0) {
        let sealed = format!(
            "{} sealed keychain {} may also be this app's (not counted)",
            n,
            if n == 1 { "item" } else { "items" }
        );
        field(out, "", &sealed)?;
    }
    Ok(())
}

/// Columns of the apps table: bundle id, version, files, miss, bytes; the classes take the rest.
const APP_ID: usize = 30;
const APP_VERSION: usize = 9;
/// Where the classes column starts.
const APP_CLASSES: usize = 2 + APP_ID + 1 + APP_VERSION + 1 + 5 + 1 + 4 + 1 + 10 + 1;

/// What the apps table's columns mean.
const APPS_LEGEND: &[&str] = &[
    "  files: regular files in the app's domains; miss: those not on disk;",
    "  bytes: their content; classes: files per Data Protection class (class:files)",
];

/// The apps table: one row per app by bundle id, its keychain counts under it when known.
fn write_apps(out: &mut dyn Write, r: &ScanReport) -> io::Result<()> {
    writeln!(out, "\nApps ({})", r.apps.len())?;
    if r.apps.is_empty() {
        return Ok(());
    }
    let header = format!(
        "  {:<APP_ID$} {:<APP_VERSION$} {:>5} {:>4} {:>10} classes",
        "bundle id", "version", "files", "miss", "bytes"
    );
    text::line(out, &header)?;
    let mut apps: Vec<&AppReport> = r.apps.iter().collect();
    apps.sort_by(|a, b| a.bundle_id.cmp(&b.bundle_id));
    for a in apps {
        let row = format!(
            "  {} {} {:>5} {:>4} {:>10} ",
            text::fit_id(&a.bundle_id, APP_ID),
            text::fit(a.version.as_deref().unwrap_or("-"), APP_VERSION),
            a.files,
            a.missing,
            human_bytes(a.bytes),
        );
        // The classes wrap under themselves rather than push the row past 80 columns.
        text::wrapped(out, &row, &counts_list(&a.by_protection_class), APP_CLASSES)?;
        if let Some(k) = &a.keychain {
            let counts = format!(
                "{}, {} decryptable, {} device-bound, {} lost on a new device",
                items(k.items),
                k.decryptable,
                k.device_bound,
                k.lost_on_new_device
            );
            text::wrapped(out, "    keychain: ", &counts, 14)?;
        }
    }
    for l in APPS_LEGEND {
        text::line(out, l)?;
    }
    Ok(())
}

/// What the files table's columns mean.
const FILES_LEGEND: &[&str] = &[
    "    row: file, missing (a file whose payload is not on disk), dir, link, other",
    "    cls: Data Protection class; enc: encrypted payload; size: recorded bytes",
    "    new: routes to a new device: e encrypted local backup, u unencrypted local,",
    "    c iCloud Backup (k iCloud Keychain: never files); - not, ? unknown",
];

/// The row column: the kind, and for a regular file whether its payload is on disk.
fn row_word(f: &FileReport) -> &'static str {
    match (f.kind, f.status) {
        (FileKind::File, FileStatus::Missing) => "missing",
        (FileKind::File, _) => "file",
        (FileKind::Directory, _) => "dir",
        (FileKind::Symlink, _) => "link",
        (FileKind::Other, _) => "other",
    }
}

/// The files list (`--files`): the rows by domain, then relative path, under a heading per
/// domain; long paths cut in the middle so the file name stays; each row's findings under it.
fn write_files(out: &mut dyn Write, r: &ScanReport) -> io::Result<()> {
    writeln!(out, "\nFiles ({}) by domain, then path", r.files.len())?;
    if r.files.is_empty() {
        return Ok(());
    }
    // 4 + row 7 + cls 3 + enc 5 + new 4 + size 10, spaced: the path has the other 41 columns.
    const PATH: usize = text::WIDTH - 39;
    text::line(
        out,
        &format!(
            "    {:<7} {:>3} {:<5} {:<4} {:>10}  path",
            "row", "cls", "enc", "new", "size"
        ),
    )?;
    let mut files: Vec<&FileReport> = r.files.iter().collect();
    files.sort_by(|a, b| (&a.domain, &a.relative_path).cmp(&(&b.domain, &b.relative_path)));
    let mut domain = None;
    for f in files {
        if domain != Some(&f.domain) {
            text::line(out, &format!("  {}", text::fit(&f.domain, text::WIDTH - 2)))?;
            domain = Some(&f.domain);
        }
        let row = format!(
            "    {:<7} {:>3} {:<5} {:<4} {:>10}  {}",
            row_word(f),
            opt(&f.protection_class),
            if f.encrypted { "enc" } else { "plain" },
            f.routes
                .map_or_else(|| "".into(), |r| r.new_device_letters()),
            opt(&f.size),
            text::fit_middle(&f.relative_path, PATH)
        );
        text::line(out, &row)?;
        // Under its row, a finding about the row needs no location.
        let here = Location::file(&f.domain, &f.relative_path);
        write_findings_at(out, &f.findings, "        ", Some(&here))?;
    }
    for l in FILES_LEGEND {
        text::line(out, l)?;
    }
    Ok(())
}

/// `key:count` pairs; numeric keys (protection classes) in numeric order, not as text.
fn counts_list<K: std::fmt::Display>(m: &std::collections::BTreeMap<K, u64>) -> String {
    let mut pairs: Vec<(String, u64)> = m.iter().map(|(k, v)| (k.to_string(), *v)).collect();
    pairs.sort_by(|a, b| class_sort_key(&a.0).cmp(&class_sort_key(&b.0)));
    pairs
        .iter()
        .map(|(k, v)| format!("{k}:{v}"))
        .collect::<Vec<_>>()
        .join(" ")
}

/// `1 item`, `2 items`.
fn items(n: u64) -> String {
    counted(n, "item", "items")
}

/// `n` and the noun in the number `n` asks for.
fn counted(n: u64, one: &str, many: &str) -> String {
    format!("{n} {}", if n == 1 { one } else { many })
}

/// The keychain totals line, with the per-table, per-class and restore counts when there are items.
fn write_keychain_totals(out: &mut dyn Write, r: &ScanReport) -> io::Result<()> {
    let Some(k) = &r.keychain else {
        return Ok(());
    };
    writeln!(out)?;
    let totals = format!(
        "{}, {} decryptable, {} device-bound, {} lost on a new device{}",
        items(k.items),
        k.decryptable,
        k.device_bound,
        k.lost_on_new_device,
        k.error
            .as_deref()
            .map(|e| format!(" ({e})"))
            .unwrap_or_default()
    );
    field(out, "Keychain", &totals)?;
    if k.items > 0 {
        field(out, "", &format!("by table {}", counts_list(&k.by_table)))?;
        field(out, "", &format!("by class {}", counts_list(&k.by_class)))?;
        field(out, "", &format!("restore {}", counts_list(&k.by_restore)))?;
        let unattributed = format!(
            "{} not attributable to an app (their attributes need the device key)",
            k.unattributed
        );
        field(out, "", &unattributed)?;
    }
    Ok(())
}

/// The summary block: index row counts, content and stored sizes, and the deep-check totals.
fn write_summary(out: &mut dyn Write, r: &ScanReport) -> io::Result<()> {
    let s = &r.summary;
    writeln!(out, "\nSummary")?;
    let rows = format!(
        "{} index rows: {}, {}, {}",
        s.entries,
        counted(s.files, "file", "files"),
        counted(s.directories, "directory", "directories"),
        counted(s.symlinks, "symlink", "symlinks")
    );
    text::wrapped(out, "  ", &rows, 4)?;
    let files = format!(
        "files: {} present, {} missing, {} empty",
        s.files_present, s.files_missing, s.empty_files
    );
    text::wrapped(out, "  ", &files, 4)?;
    let sizes = format!(
        "content {} ; stored on disk {} ; {} ; {}",
        human_bytes(s.content_bytes),
        human_bytes(s.stored_bytes_present),
        counted(s.size_mismatch_files, "size mismatch", "size mismatches"),
        counted(s.orphans, "orphan", "orphans")
    );
    text::wrapped(out, "  ", &sizes, 4)?;
    if let Some(d) = &s.deep {
        let deep = format!(
            "deep: {} payloads verified ({}), {} failed{}",
            d.verified,
            human_bytes(d.bytes),
            d.failed,
            if d.hashed {
                ""
            } else {
                " (not hashed: --no-hash)"
            }
        );
        text::wrapped(out, "  ", &deep, 4)?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_sort_classes_as_numbers_and_items_agree_in_number() {
        let m: std::collections::BTreeMap<String, u64> =
            [("10", 1), ("11", 2), ("6", 3), ("unknown", 4)]
                .into_iter()
                .map(|(k, v)| (k.to_string(), v))
                .collect();
        // As text this would be 10:1 11:2 6:3 (issue 13 item 11).
        assert_eq!(counts_list(&m), "6:3 10:1 11:2 unknown:4");
        let t: std::collections::BTreeMap<&str, u64> = [("genp", 2), ("cert", 1)].into();
        assert_eq!(counts_list(&t), "cert:1 genp:2");
        assert_eq!(items(1), "1 item");
        assert_eq!(items(0), "0 items");
        assert_eq!(items(2), "2 items");
    }

    #[test]
    fn each_finding_has_its_fix_under_it() {
        use crate::audit::Location;
        let findings = [
            Finding::new(&rules::FILE_MISSING, "gone").at(Location::file("D", "a")),
            Finding::new(&rules::BACKUP_NOTE, "a note"),
        ];
        let mut out = Vec::new();
        write_findings(&mut out, &findings, "  ").unwrap();
        let text = String::from_utf8(out).unwrap();
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(
            lines,
            [
                "  medium file.missing                 gone [D/a]",
                "         fix: Check the copy of the backup: partial or incremental copies miss",
                "              payloads, which do not come back on restore.",
                // The backup as a whole: no location in brackets.
                "  info   backup.note                  a note",
                &format!("         fix: {}", rules::BACKUP_NOTE.fix),
            ]
        );
    }

    /// The scan table of `r` as text.
    fn scan_text(r: &ScanReport, files: bool) -> String {
        let mut out = Vec::new();
        write_scan(&mut out, r, files).unwrap();
        String::from_utf8(out).unwrap()
    }

    /// The first column of the lines after the one that starts with `header`, up to a
    /// line that starts with `end`.
    fn column<'a>(text: &'a str, header: &str, end: &str) -> Vec<&'a str> {
        text.lines()
            .skip_while(|l| !l.starts_with(header))
            .skip(1)
            .take_while(|l| !l.starts_with(end))
            .filter_map(|l| l.split_whitespace().next())
            .collect()
    }

    #[test]
    fn keybag_classes_ascend_whatever_the_order_of_the_report() {
        let mut r = crate::test_support::demo_scan();
        r.keybag.as_mut().unwrap().classes.reverse();
        let text = scan_text(&r, false);
        let classes = column(&text, "  cls  name", "  cls:");
        let want: Vec<String> = (1..=11).map(|c| c.to_string()).collect();
        assert_eq!(classes, want, "{text}");
        // Every name whole, and each column in the legend.
        assert!(text.contains("  3  NSFileProtectionCompleteUntilFirstUserAuthentication     2"));
        for word in ["cls:", "wrap:", "state:"] {
            assert!(
                text.contains(&format!("\n  {word} ")),
                "legend lacks {word}"
            );
        }
    }

    #[test]
    fn apps_by_bundle_id_and_long_ids_cut_in_the_middle() {
        let mut r = crate::test_support::demo_scan();
        r.apps.reverse();
        let messenger = r
            .apps
            .iter_mut()
            .find(|a| a.bundle_id == "com.example.messenger")
            .unwrap();
        messenger.bundle_id = "com.apple.WebContentFilter.remoteUI.WebContentAnalysisUI".into();
        let text = scan_text(&r, false);
        let ids = column(&text, "  bundle id", "  files:");
        let ids: Vec<&str> = ids.into_iter().filter(|i| *i != "keychain:").collect();
        let mut sorted = ids.clone();
        sorted.sort();
        assert_eq!(ids, sorted);
        let row = text.lines().find(|l| l.contains("com.apple…")).unwrap();
        assert!(
            row.starts_with("  com.apple…WebContentAnalysisUI 8.4 "),
            "{row}"
        );
        let header = text.lines().find(|l| l.starts_with("  bundle id")).unwrap();
        // The columns stay where the header puts them.
        let col = row.find(" 8.4 ").map(|i| text::width(&row[..i]) + 1);
        assert_eq!(col, header.find("version"));
        for word in ["files:", "miss:", "bytes:", "classes:"] {
            assert!(text.contains(word), "legend lacks {word}");
        }
    }

    #[test]
    fn files_have_a_header_and_are_sorted_by_domain_then_path() {
        let mut r = crate::test_support::demo_scan();
        r.files.reverse();
        let text = scan_text(&r, true);
        let lines: Vec<&str> = text.lines().collect();
        let at = lines.iter().position(|l| l.starts_with("Files (")).unwrap();
        assert_eq!(lines[at + 1], "    row     cls enc   new        size  path");
        // Domain headings at 2 columns, rows at 4, findings deeper: in sorted order.
        let mut seen: Vec<(String, String)> = Vec::new();
        let mut domain = String::new();
        for l in &lines[at + 2..] {
            if l.is_empty() {
                break;
            }
            if l.starts_with("    row:")
                || l.starts_with("    cls:")
                || l.starts_with("    new:")
                || l.starts_with("    c iCloud")
            {
                continue;
            }
            if !l.starts_with("   ") {
                domain = l.trim().to_string();
            } else if !l.starts_with("        ") {
                let path = l.get(39..).unwrap_or("").to_string();
                seen.push((domain.clone(), path));
            }
        }
        assert_eq!(seen.len(), r.files.len());
        let mut sorted = seen.clone();
        sorted.sort();
        assert_eq!(seen, sorted);
        // The missing photo says so in the row column; its finding under it, no location.
        let missing = lines
            .iter()
            .position(|l| l.starts_with("    missing "))
            .unwrap();
        assert!(lines[missing].ends_with("Media/DCIM/100APPLE/IMG_0002.HEIC"));
        assert!(lines[missing + 1].starts_with("        medium file.missing"));
        assert!(!lines[missing + 1].contains('['), "{}", lines[missing + 1]);
    }

    #[test]
    fn bytes_are_human() {
        assert_eq!(human_bytes(512), "512 B");
        assert_eq!(human_bytes(1536), "1.5 KiB");
        assert_eq!(human_bytes(3 * 1024 * 1024 * 1024), "3.0 GiB");
    }
}
