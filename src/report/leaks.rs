//! The leaks report (`auditor.leaks/1`) as a table within 80 columns: by app, file and leak.

use super::table::human_bytes;
use super::text::{fit_id, fit_middle, line, width, wrapped, WIDTH};
use crate::crypto::class::ProtectionClass;
use crate::leaks::decode::{describe, Kind};
use crate::leaks::model::{FileNote, Leak, LeaksReport};
use crate::leaks::{Category, Confidence};
use std::collections::BTreeMap;
use std::io::{self, Write};

/// Notes (files not searched in full) listed in the table; the others are counted.
pub const MAX_NOTES: usize = 20;

/// Columns of the header's labels.
const LABEL: usize = 12;
/// Indent of a leak's first line, under its file.
const LEAK_INDENT: usize = 4;
/// Indent of a leak's further lines: under its rule id, after the severity column.
const DETAIL: usize = LEAK_INDENT + 7;
/// The rule id column (the longest built-in id, `leak.aws-secret-access-key`, is 26).
const RULE_W: usize = 26;
/// Width of a `reason` of a note (`partly_decoded`, `decrypt_failed`).
const REASON_W: usize = 14;
/// The most columns a domain takes in a file heading before it is cut.
const DOMAIN_W: usize = 36;

/// The JSON (and table) word of a category.
pub fn category_str(c: Category) -> &'static str {
    match c {
        Category::Credential => "credential",
        Category::Token => "token",
        Category::PrivateKey => "private_key",
        Category::Personal => "personal",
    }
}

/// The JSON word of a confidence.
pub fn confidence_str(c: Confidence) -> &'static str {
    match c {
        Confidence::Low => "low",
        Confidence::Medium => "medium",
        Confidence::High => "high",
    }
}

/// The JSON word of a file kind (`file_kind`).
pub fn kind_str(k: Kind) -> &'static str {
    match k {
        Kind::Plist => "plist",
        Kind::Sqlite => "sqlite",
        Kind::Json => "json",
        Kind::Text => "text",
        Kind::Cookies => "cookies",
        Kind::Compressed => "compressed",
        Kind::Binary => "binary",
        Kind::Media => "media",
        Kind::Empty => "empty",
    }
}

/// Text from the backup with its control characters shown as `?`, so that a hostile name
/// cannot move the cursor or colour the terminal.
pub(crate) fn clean(s: &str) -> String {
    s.chars()
        .map(|c| if c.is_control() { '?' } else { c })
        .collect()
}

/// A secret value as it is, but for control characters, written as `\u{…}` escapes.
fn escaped(s: &str) -> String {
    s.chars()
        .map(|c| {
            if c.is_control() {
                c.escape_unicode().to_string()
            } else {
                c.to_string()
            }
        })
        .collect()
}

/// `n <noun>`, with an `s` unless `n` is 1.
pub(crate) fn counted(n: u64, noun: &str) -> String {
    format!("{n} {noun}{}", if n == 1 { "" } else { "s" })
}

/// `s` when it fits `w` columns, else `cut(s, w)`.
pub(crate) fn within(s: &str, w: usize, cut: fn(&str, usize) -> String) -> String {
    if width(s) <= w {
        s.to_string()
    } else {
        cut(s, w)
    }
}

/// One `label  value` line of the header, the value wrapped under itself.
fn field(out: &mut dyn Write, label: &str, value: &str) -> io::Result<()> {
    wrapped(out, &format!("{label:<LABEL$}"), value, LABEL)
}

/// The backup, the device, whether it is encrypted, who can read it, the app filter.
fn write_header(out: &mut dyn Write, r: &LeaksReport) -> io::Result<()> {
    let b = &r.backup;
    let opt = |v: &Option<String>| v.as_deref().map_or_else(|| "-".into(), clean);
    field(out, "Backup", &clean(&b.path))?;
    let device = format!(
        "{} (UDID {}), iOS {}",
        opt(&b.device_name),
        opt(&b.udid),
        opt(&b.ios_version)
    );
    field(out, "Device", &device)?;
    let encrypted = match b.encrypted {
        Some(true) => "yes",
        Some(false) => "no",
        None => "unknown",
    };
    field(out, "Encrypted", encrypted)?;
    field(out, "Exposure", &r.exposure.text)?;
    if let Some(app) = &r.app {
        field(out, "Only app", &clean(app))?;
    }
    Ok(())
}

/// The place of a leak in its file: [`describe`], and the field's name when that does not
/// already say it.
fn place(l: &Leak) -> String {
    let at = describe(&l.location);
    match &l.field {
        Some(f) if !at.contains(f.as_str()) => clean(&format!("{at} ({f})")),
        _ => clean(&at),
    }
}

/// The file's kind and protection class, under its heading.
fn file_about(l: &Leak) -> String {
    let class = match l.protection_class {
        Some(c) => format!("class {c} {}", ProtectionClass::new(c).name()),
        None => "no protection class recorded".into(),
    };
    format!("{:LEAK_INDENT$}{} file, {class}", "", kind_str(l.file_kind))
}

/// One leak: severity, rule and place; its preview, fingerprint, count and `deleted`; its
/// note; its value only when the report holds it (`--show-secrets`).
fn write_leak(out: &mut dyn Write, l: &Leak) -> io::Result<()> {
    let head = format!(
        "{:LEAK_INDENT$}{} {:<RULE_W$} ",
        "",
        super::style::severity(l.severity, 6),
        clean(&l.rule)
    );
    let room = WIDTH.saturating_sub(width(&head)).max(12);
    line(
        out,
        &format!("{head}{}", within(&place(l), room, fit_middle)),
    )?;
    let mut about = format!("{}  fingerprint {}", clean(&l.preview), l.fingerprint);
    if l.occurrences > 1 {
        about.push_str(&format!("  ×{}", l.occurrences));
    }
    if l.deleted {
        about.push_str("  deleted");
    }
    let indent = format!("{:DETAIL$}", "");
    wrapped(out, &indent, &about, DETAIL)?;
    if let Some(note) = &l.note {
        wrapped(out, &format!("{indent}note: "), &clean(note), DETAIL + 6)?;
    }
    if let Some(value) = &l.value {
        wrapped(
            out,
            &format!("{indent}value: "),
            &escaped(value),
            DETAIL + 7,
        )?;
    }
    Ok(())
}

/// `domain  path` in at most `w` columns: a long domain cut in the middle as a bundle id,
/// the path cut in the middle keeping its file name.
pub(crate) fn file_label(domain: &str, path: &str, w: usize) -> String {
    let d = within(&clean(domain), DOMAIN_W, fit_id);
    let room = w.saturating_sub(width(&d) + 2).max(12);
    let p = within(&clean(path), room, fit_middle);
    format!("{d}  {p}")
}

/// Items of a report by app (apps by name, then those of no app), then by file
/// (domain, path), each in report order.
pub(crate) type ByApp<'a, T> = BTreeMap<(bool, &'a str), BTreeMap<(&'a str, &'a str), Vec<&'a T>>>;

/// Group `items` by their (app, domain, path).
pub(crate) fn by_app<'a, T>(
    items: &'a [T],
    key: impl Fn(&'a T) -> (Option<&'a str>, &'a str, &'a str),
) -> ByApp<'a, T> {
    let mut apps: ByApp<'a, T> = BTreeMap::new();
    for i in items {
        let (app, domain, path) = key(i);
        apps.entry((app.is_none(), app.unwrap_or("")))
            .or_default()
            .entry((domain, path))
            .or_default()
            .push(i);
    }
    apps
}

/// The groups: a line per app (its name fitted before `suffix` of its items), then per
/// file its label and `about` (of its first item), then each item by `item`.
pub(crate) fn write_by_app<T>(
    out: &mut dyn Write,
    apps: &ByApp<'_, T>,
    suffix: &dyn Fn(&[&T]) -> String,
    about: &dyn Fn(&T) -> String,
    item: &dyn Fn(&mut dyn Write, &T) -> io::Result<()>,
) -> io::Result<()> {
    for ((none, app), files) in apps {
        let all: Vec<&T> = files.values().flatten().copied().collect();
        let suffix = suffix(&all);
        let name = if *none {
            "(no app)".to_string()
        } else {
            within(
                &clean(app),
                WIDTH.saturating_sub(width(&suffix)).max(12),
                fit_id,
            )
        };
        writeln!(out)?;
        line(out, &format!("{name}{suffix}"))?;
        for ((domain, path), items) in files {
            line(out, &format!("  {}", file_label(domain, path, WIDTH - 2)))?;
            line(out, &about(items[0]))?;
            for i in items {
                item(out, i)?;
            }
        }
    }
    Ok(())
}

/// The leaks by app, by file, in report order.
fn write_leaks(out: &mut dyn Write, r: &LeaksReport) -> io::Result<()> {
    let apps = by_app(&r.leaks, |l| {
        (l.app.as_deref(), l.domain.as_str(), l.path.as_str())
    });
    write_by_app(
        out,
        &apps,
        &|all| format!(", {}", counted(all.len() as u64, "leak")),
        &|l| file_about(l),
        &|out, l| write_leak(out, l),
    )
}

/// Once per rule that fired (by rule id, given with its title and fix): what to do.
pub(crate) fn write_fixes<'a>(
    out: &mut dyn Write,
    fired: impl Iterator<Item = (&'a str, &'a str, &'a str)>,
) -> io::Result<()> {
    let mut rules: BTreeMap<&str, (&str, &str)> = BTreeMap::new();
    for (rule, title, fix) in fired {
        rules.entry(rule).or_insert((title, fix));
    }
    if rules.is_empty() {
        return Ok(());
    }
    writeln!(out)?;
    line(out, "What to do")?;
    for (rule, (title, fix)) in rules {
        wrapped(out, "  ", &clean(&format!("{rule}: {title}")), 4)?;
        wrapped(out, "    fix: ", &clean(fix), 9)?;
    }
    Ok(())
}

/// The files not searched in full, then those read in a way worth saying (`info`): the
/// first [`MAX_NOTES`] of each, and how many more.
pub(crate) fn write_notes(out: &mut dyn Write, notes: &[FileNote]) -> io::Result<()> {
    let (info, partial): (Vec<&FileNote>, Vec<&FileNote>) =
        notes.iter().partition(|n| n.reason == "info");
    write_note_list(out, "Not searched in full", &partial)?;
    write_note_list(out, "Searched, with a note on how", &info)
}

fn write_note_list(out: &mut dyn Write, heading: &str, notes: &[&FileNote]) -> io::Result<()> {
    if notes.is_empty() {
        return Ok(());
    }
    writeln!(out)?;
    line(
        out,
        &format!("{heading}: {}", counted(notes.len() as u64, "file")),
    )?;
    for n in notes.iter().take(MAX_NOTES) {
        let head = format!("  {:<REASON_W$} ", n.reason);
        let file = file_label(&n.domain, &n.path, WIDTH - width(&head));
        line(out, &format!("{head}{file}"))?;
        wrapped(out, "    ", &clean(&n.note), 4)?;
    }
    if notes.len() > MAX_NOTES {
        let more = notes.len() - MAX_NOTES;
        line(
            out,
            &format!("  … and {more} more (every note is in --format json)"),
        )?;
    }
    Ok(())
}

/// `k n, k n, …` of a map of counts.
pub(crate) fn counts<K: std::fmt::Display>(m: impl IntoIterator<Item = (K, u64)>) -> String {
    m.into_iter()
        .map(|(k, n)| format!("{k} {n}"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// Files and bytes searched, files skipped by reason, searched files by kind, leaks by
/// category and by rule.
fn write_summary(out: &mut dyn Write, r: &LeaksReport) -> io::Result<()> {
    let s = &r.summary;
    writeln!(out)?;
    line(out, "Summary")?;
    let searched = format!(
        "{} searched, {} ({} bytes); files over {} not searched",
        counted(s.files_searched, "file"),
        human_bytes(s.bytes_searched),
        s.bytes_searched,
        human_bytes(s.max_file_size)
    );
    wrapped(out, "  ", &searched, 4)?;
    if !s.skipped.is_empty() {
        let n: u64 = s.skipped.values().sum();
        let skipped = counts(s.skipped.iter().map(|(k, v)| (k, *v)));
        wrapped(
            out,
            &format!("  {} skipped: ", counted(n, "file")),
            &skipped,
            4,
        )?;
    }
    if !s.by_kind.is_empty() {
        let kinds = counts(s.by_kind.iter().map(|(k, v)| (kind_str(*k), *v)));
        wrapped(out, "  searched by kind: ", &kinds, 4)?;
    }
    let leaks = counted(s.leaks, "leak");
    if s.by_category.is_empty() {
        line(out, &format!("  {leaks}"))?;
    } else {
        let cats = counts(s.by_category.iter().map(|(k, v)| (category_str(*k), *v)));
        wrapped(out, &format!("  {leaks}: "), &cats, 4)?;
    }
    if !s.by_rule.is_empty() {
        let rules = clean(&counts(s.by_rule.iter().map(|(k, v)| (k, *v))));
        wrapped(out, "  by rule: ", &rules, 4)?;
    }
    Ok(())
}

/// Write the leaks report as text: the backup and who can read it, the leaks by app and
/// file, what to do once per rule, the files not searched in full, the summary. Values
/// are never shown but when the report holds them (`--show-secrets`).
pub fn write_table(out: &mut dyn Write, r: &LeaksReport) -> io::Result<()> {
    write_header(out, r)?;
    if r.leaks.is_empty() {
        writeln!(out)?;
        line(
            out,
            &format!(
                "No leaks found in {} searched",
                counted(r.summary.files_searched, "file")
            ),
        )?;
    } else {
        write_leaks(out, r)?;
        write_fixes(
            out,
            r.leaks
                .iter()
                .map(|l| (l.rule.as_str(), l.title.as_str(), l.fix.as_str())),
        )?;
    }
    write_notes(out, &r.notes)?;
    write_summary(out, r)
}

#[cfg(test)]
mod tests;
