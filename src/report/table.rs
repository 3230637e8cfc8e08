//! Human-readable text rendering of a scan report.

use crate::audit::finding::Rule;
use crate::audit::{rules, Finding, ScanReport};
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
fn human_bytes(n: u64) -> String {
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

/// Each finding on one line, its rule's one-line fix under it (as cargo-deny prints help
/// under each diagnostic).
pub(crate) fn write_findings(
    out: &mut dyn Write,
    findings: &[Finding],
    indent: &str,
) -> io::Result<()> {
    for f in findings {
        let loc = if f.location.is_whole() {
            String::new()
        } else {
            format!(" [{}]", f.location)
        };
        writeln!(
            out,
            "{indent}{:<6} {:<28} {}{loc}",
            f.severity.as_str(),
            f.rule,
            f.message
        )?;
        write_fix(out, rules::by_id(f.rule), indent)?;
    }
    Ok(())
}

/// The rule's one-line fix under a finding line that starts at `indent` (nothing for an
/// unknown rule); the `scan` and `check` tables both print it.
pub(crate) fn write_fix(out: &mut dyn Write, rule: Option<&Rule>, indent: &str) -> io::Result<()> {
    match rule {
        Some(rule) => writeln!(out, "{indent}{:<6} fix: {}", "", rule.fix),
        None => Ok(()),
    }
}

/// Render the backup and keybag part (used by `info` and at the top of `scan`).
pub fn write_header(out: &mut dyn Write, r: &ScanReport) -> io::Result<()> {
    let b = &r.backup;
    let alone = b.input == crate::backup::Input::ManifestPlist;
    writeln!(out, "Backup      {}", b.path)?;
    if alone {
        writeln!(
            out,
            "Input       a Manifest.plist alone: Info.plist, Status.plist, the index and the payloads were not read"
        )?;
    }
    writeln!(
        out,
        "Device      {} ({}), iOS {} ({})",
        opt(&b.device_name),
        opt(&b.product_type),
        opt(&b.ios_version),
        opt(&b.build)
    )?;
    writeln!(
        out,
        "UDID        {}   serial {}",
        opt(&b.udid),
        opt(&b.serial)
    )?;
    writeln!(out, "Date        {}", opt(&b.date))?;
    if alone {
        writeln!(out, "Complete    unknown (Status.plist not read)")?;
    } else {
        writeln!(
            out,
            "Complete    {} (SnapshotState {}, full backup {})",
            yes_no(b.complete),
            opt(&b.snapshot_state),
            yes_no(b.is_full_backup)
        )?;
    }
    writeln!(out, "Passcode    {}", yes_no(b.passcode_set))?;
    if alone {
        writeln!(
            out,
            "Index       not read (only a Manifest.plist was given)"
        )?;
    } else {
        writeln!(out, "Index       {} (layout {})", b.index, b.layout)?;
    }
    let e = &b.encryption;
    writeln!(
        out,
        "Encryption  declared {}, index ciphertext {}, payloads encrypted {}{}",
        yes_no(e.declared),
        yes_no(e.index_encrypted),
        yes_no(e.payloads_encrypted),
        e.manifest_key_class
            .map(|c| format!(", ManifestKey class {c}"))
            .unwrap_or_default()
    )?;
    if let Some(k) = &b.kdf {
        match k.sha256_rounds {
            Some(n) => writeln!(
                out,
                "KDF         two-stage: PBKDF2-SHA256 x {n} then PBKDF2-SHA1 x {}",
                k.sha1_rounds
            )?,
            None => writeln!(
                out,
                "KDF         legacy single stage: PBKDF2-SHA1 x {} (weak)",
                k.sha1_rounds
            )?,
        }
    }
    writeln!(out, "Unlocked    {}", if b.unlocked { "yes" } else { "no" })?;
    if let Some(kb) = &r.keybag {
        writeln!(
            out,
            "\nKeybag      version {}, type {}, uuid {}",
            opt(&kb.version),
            opt(&kb.kind),
            opt(&kb.uuid)
        )?;
        writeln!(
            out,
            "  {:>5}  {:<52} {:>4}  {:<16} state",
            "class", "name", "wrap", "needs"
        )?;
        for c in &kb.classes {
            writeln!(
                out,
                "  {:>5}  {:<52} {:>4}  {:<16} {}",
                c.class, c.name, c.wrap, c.needs, c.state
            )?;
        }
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
        writeln!(out, "\n{per_file} per-file findings (use --files or --format json to list them); all findings by rule:")?;
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
    writeln!(out, "Only app    {} ({what})", f.app)?;
    if let Some(n) = f.keychain_may_belong.filter(|&n| n > 0) {
        writeln!(
            out,
            "            {} sealed keychain {} may also be this app's (not counted)",
            n,
            if n == 1 { "item" } else { "items" }
        )?;
    }
    Ok(())
}

/// The apps table: one row per app, with its keychain counts under it when known.
fn write_apps(out: &mut dyn Write, r: &ScanReport) -> io::Result<()> {
    writeln!(out, "\nApps ({})", r.apps.len())?;
    writeln!(
        out,
        "  {:<40} {:<10} {:>6} {:>7} {:>7} {:>10}  classes",
        "bundle id", "version", "files", "present", "missing", "bytes"
    )?;
    for a in &r.apps {
        let classes: Vec<String> = a
            .by_protection_class
            .iter()
            .map(|(k, v)| format!("{k}:{v}"))
            .collect();
        writeln!(
            out,
            "  {:<40} {:<10} {:>6} {:>7} {:>7} {:>10}  {}",
            a.bundle_id,
            a.version.as_deref().unwrap_or("-"),
            a.files,
            a.present,
            a.missing,
            human_bytes(a.bytes),
            classes.join(" ")
        )?;
        if let Some(k) = &a.keychain {
            writeln!(
                out,
                "  {:<40} keychain: {}, {} decryptable, {} device-bound, {} lost on a new device",
                "",
                items(k.items),
                k.decryptable,
                k.device_bound,
                k.lost_on_new_device
            )?;
        }
    }
    Ok(())
}

/// The files list (`--files`): one line per index row, its findings under it.
fn write_files(out: &mut dyn Write, r: &ScanReport) -> io::Result<()> {
    writeln!(out, "\nFiles ({})", r.files.len())?;
    for f in &r.files {
        let class = f
            .protection_class
            .map(|c| c.to_string())
            .unwrap_or_else(|| "-".into());
        writeln!(
            out,
            "  {:<9} {:<7} {:<3} {:<5} {:>10}  {}/{}",
            f.kind.as_str(),
            f.status.as_str(),
            class,
            if f.encrypted { "enc" } else { "plain" },
            f.size.map(|s| s.to_string()).unwrap_or_else(|| "-".into()),
            f.domain,
            f.relative_path
        )?;
        write_findings(out, &f.findings, "      ")?;
    }
    Ok(())
}

/// `key:count` pairs; numeric keys (protection classes) in numeric order, not as text.
fn counts_list<K: std::fmt::Display>(m: &std::collections::BTreeMap<K, u64>) -> String {
    let mut pairs: Vec<(String, u64)> = m.iter().map(|(k, v)| (k.to_string(), *v)).collect();
    pairs.sort_by_key(|(k, _)| (k.parse::<u64>().unwrap_or(u64::MAX), k.clone()));
    pairs
        .iter()
        .map(|(k, v)| format!("{k}:{v}"))
        .collect::<Vec<_>>()
        .join(" ")
}

/// `1 item`, `2 items`.
fn items(n: u64) -> String {
    format!("{n} item{}", if n == 1 { "" } else { "s" })
}

/// The keychain totals line, with the per-table, per-class and restore counts when there are items.
fn write_keychain_totals(out: &mut dyn Write, r: &ScanReport) -> io::Result<()> {
    let Some(k) = &r.keychain else {
        return Ok(());
    };
    writeln!(
        out,
        "\nKeychain    {}, {} decryptable, {} device-bound, {} lost on a new device{}",
        items(k.items),
        k.decryptable,
        k.device_bound,
        k.lost_on_new_device,
        k.error
            .as_deref()
            .map(|e| format!(" ({e})"))
            .unwrap_or_default()
    )?;
    if k.items > 0 {
        writeln!(
            out,
            "            by table {} ; by class {}",
            counts_list(&k.by_table),
            counts_list(&k.by_class)
        )?;
        writeln!(
            out,
            "            restore {} ; {} not attributable to an app (attributes encrypted with device-bound keys)",
            counts_list(&k.by_restore),
            k.unattributed
        )?;
    }
    Ok(())
}

/// The summary block: index row counts, content and stored sizes, and the deep-check totals.
fn write_summary(out: &mut dyn Write, r: &ScanReport) -> io::Result<()> {
    let s = &r.summary;
    writeln!(out, "\nSummary")?;
    writeln!(
        out,
        "  {} index rows: {} files ({} present, {} missing, {} empty), {} directories, {} symlinks",
        s.entries,
        s.files,
        s.files_present,
        s.files_missing,
        s.empty_files,
        s.directories,
        s.symlinks
    )?;
    writeln!(
        out,
        "  content {} ; stored on disk {} ; {} size mismatches ; {} orphans",
        human_bytes(s.content_bytes),
        human_bytes(s.stored_bytes_present),
        s.size_mismatch_files,
        s.orphans
    )?;
    if let Some(d) = &s.deep {
        writeln!(
            out,
            "  deep: {} payloads verified ({}), {} failed{}",
            d.verified,
            human_bytes(d.bytes),
            d.failed,
            if d.hashed {
                ""
            } else {
                " (not hashed: --no-hash)"
            }
        )?;
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
                &format!("         fix: {}", rules::FILE_MISSING.fix),
                // The backup as a whole: no location in brackets.
                "  info   backup.note                  a note",
                &format!("         fix: {}", rules::BACKUP_NOTE.fix),
            ]
        );
    }

    #[test]
    fn bytes_are_human() {
        assert_eq!(human_bytes(512), "512 B");
        assert_eq!(human_bytes(1536), "1.5 KiB");
        assert_eq!(human_bytes(3 * 1024 * 1024 * 1024), "3.0 GiB");
    }
}
