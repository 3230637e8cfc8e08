//! The keychain audit rendered: a table, or JSON whose items carry secrets only on request.

use crate::audit::keychain::{
    is_sealed, item_location, AppFilter, KeychainAudit, KeychainBackupInfo, KeychainCounts,
    KeychainFile,
};
use crate::audit::{AppKeychain, Finding, ToolInfo};
use crate::keychain::{KeychainItem, RestoreSummary};
use crate::ownership::SYSTEM_OWNER;
use serde::Serialize;
use std::collections::BTreeMap;
use std::io::Write;

/// An item plus, only with --show-secrets, its secret.
#[derive(Serialize)]
struct ItemOut<'a> {
    #[serde(flatten)]
    item: &'a KeychainItem,
    #[serde(skip_serializing_if = "Option::is_none")]
    secret: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    secret_encoding: Option<&'static str>,
}

/// The secret as UTF-8 text, or hex when it is not text, with its encoding.
fn secret_text(it: &KeychainItem) -> (Option<String>, Option<&'static str>) {
    match &it.secret {
        None => (None, None),
        Some(s) => match s.as_utf8() {
            Some(t) if !t.chars().any(|c| c.is_control() && c != '\n' && c != '\t') => {
                (Some(t.to_string()), Some("utf8"))
            }
            _ => (Some(hex::encode(s.as_bytes())), Some("hex")),
        },
    }
}

/// The keychain JSON (docs/json-schema.md): the audit with its items carrying their secrets
/// when `show_secrets`, and `secrets_shown` saying which. Its fields are the audit's, in their
/// order, so that maps keep the order they serialise in (classes in numeric order).
#[derive(Serialize)]
pub struct KeychainJson<'a> {
    schema: &'a str,
    tool: &'a ToolInfo,
    backup: &'a KeychainBackupInfo,
    keychain_file: &'a KeychainFile,
    items: Vec<ItemOut<'a>>,
    unknown_tables: &'a [String],
    apps: &'a BTreeMap<String, AppKeychain>,
    summary: &'a KeychainCounts,
    findings: &'a [Finding],
    #[serde(skip_serializing_if = "Option::is_none")]
    app_filter: Option<&'a AppFilter>,
    secrets_shown: bool,
}

/// The audit as its JSON document, items with their secrets when `show_secrets`.
pub fn json(a: &KeychainAudit, show_secrets: bool) -> KeychainJson<'_> {
    let items = a
        .items
        .iter()
        .map(|item| {
            let (secret, secret_encoding) = if show_secrets {
                secret_text(item)
            } else {
                (None, None)
            };
            ItemOut {
                item,
                secret,
                secret_encoding,
            }
        })
        .collect();
    KeychainJson {
        schema: a.schema,
        tool: &a.tool,
        backup: &a.backup,
        keychain_file: &a.keychain_file,
        items,
        unknown_tables: &a.unknown_tables,
        apps: &a.apps,
        summary: &a.summary,
        findings: &a.findings,
        app_filter: a.app_filter.as_ref(),
        secrets_shown: show_secrets,
    }
}

use super::text::{fit as cell, line, wrapped, WIDTH};

/// Width of the columns before the name: `tbl cls pdmn TDO dec restore new fingerprint `.
const FIXED: usize = 4 + 1 + 3 + 1 + 4 + 1 + 3 + 1 + 3 + 1 + 7 + 1 + 4 + 1 + 16 + 1;

/// What the short column headers mean, printed under the items.
const LEGEND: &[&str] = &[
    "cls: Data Protection class; TDO: ThisDeviceOnly; dec: decrypted here",
    "pdmn: accessibility: ak WhenUnlocked, ck AfterFirstUnlock, dk Always,",
    "      akpu WhenPasscodeSet; aku, cku, dku: the same, ThisDeviceOnly",
    "restore: to any device, to the same device only, never, ? unknown",
    "new: routes to a new device: e encrypted local backup, u unencrypted local,",
    "     c iCloud Backup, k iCloud Keychain; - not, ? unknown (docs/restore.md)",
];

/// `n item` or `n items`.
fn items(n: u64) -> String {
    counted(n, "item")
}

/// `n <noun>`, with an `s` unless `n` is 1.
fn counted(n: u64, noun: &str) -> String {
    format!("{n} {noun}{}", if n == 1 { "" } else { "s" })
}

/// The restore column's short word.
fn restore_short(s: RestoreSummary) -> &'static str {
    match s {
        RestoreSummary::AnyDevice => "any",
        RestoreSummary::SameDeviceOnly => "same",
        RestoreSummary::Never => "never",
        RestoreSummary::Unknown => "?",
    }
}

/// The item's name as its location shows it: `service/account`, `account@server`, or empty.
fn item_name(it: &KeychainItem) -> String {
    let loc = item_location(it);
    loc.split_once(' ')
        .and_then(|(_, r)| r.split_once(' '))
        .map(|(_, r)| r.to_string())
        .unwrap_or_default()
}

/// One item's row (and, under it, why it was not decrypted and, when asked, its secret).
fn write_row(out: &mut dyn Write, it: &KeychainItem, show_secrets: bool) -> std::io::Result<()> {
    let yes_no = |b: Option<bool>| match b {
        Some(true) => "yes",
        Some(false) => "no",
        None => "?",
    };
    let cls = it
        .protection_class
        .map_or_else(|| "?".into(), |c| c.to_string());
    let row = format!(
        "{} {cls:>3} {} {:<3} {:<3} {:<7} {:<4} {:<16} {}",
        cell(&it.table, 4),
        cell(it.pdmn.as_deref().unwrap_or("?"), 4),
        yes_no(it.this_device_only),
        yes_no(Some(it.decryptable)),
        restore_short(it.restore.summary),
        it.routes.new_device_letters(),
        it.secret_fingerprint.as_deref().unwrap_or("-"),
        cell(&item_name(it), WIDTH - FIXED),
    );
    line(out, &row)?;
    if let Some(r) = &it.reason {
        wrapped(out, "     not decrypted: ", r, 20)?;
    }
    if let (true, Some(secret)) = (show_secrets, secret_text(it).0) {
        line(out, &format!("     secret: {secret}"))?;
    }
    Ok(())
}

/// The heading of an app's rows.
fn app_heading(app: Option<&str>, n: u64) -> String {
    match app {
        Some(SYSTEM_OWNER) => format!("system (Apple's access groups), {}", items(n)),
        Some(a) => format!("{a}, {}", items(n)),
        None => format!("no app of this backup, {}", items(n)),
    }
}

/// The readable items, grouped by app (apps by name, then Apple's, then those of no app of
/// the backup), each group in export order, with the legend under them.
fn write_items(out: &mut dyn Write, a: &KeychainAudit, show_secrets: bool) -> std::io::Result<()> {
    let mut groups: BTreeMap<(u8, &str), Vec<&KeychainItem>> = BTreeMap::new();
    for it in a.items.iter().filter(|it| !is_sealed(it)) {
        let key = match it.app.as_deref() {
            Some(SYSTEM_OWNER) => (1, SYSTEM_OWNER),
            Some(app) => (0, app),
            None => (2, ""),
        };
        groups.entry(key).or_default().push(it);
    }
    if groups.is_empty() {
        return Ok(());
    }
    let header = format!(
        "\n{:<4} {:>3} {:<4} {:<3} {:<3} {:<7} {:<4} {:<16} service/account or server",
        "tbl", "cls", "pdmn", "TDO", "dec", "restore", "new", "fingerprint"
    );
    line(out, &header)?;
    for ((_, app), rows) in &groups {
        let app = rows[0].app.as_deref().map(|_| *app);
        line(out, &app_heading(app, rows.len() as u64))?;
        for it in rows {
            write_row(out, it, show_secrets)?;
        }
    }
    for l in LEGEND {
        line(out, l)?;
    }
    Ok(())
}

/// The sealed items in one line per reason and class, with a count and the tables.
fn write_sealed(out: &mut dyn Write, a: &KeychainAudit) -> std::io::Result<()> {
    type Group<'a> = BTreeMap<&'a str, u64>;
    let mut groups: BTreeMap<(Option<u32>, &str, &str), (u64, Group)> = BTreeMap::new();
    for it in a.items.iter().filter(|it| is_sealed(it)) {
        let key = (
            it.protection_class,
            it.pdmn.as_deref().unwrap_or("?"),
            it.reason.as_deref().unwrap_or("no reason recorded"),
        );
        let g = groups.entry(key).or_default();
        g.0 += 1;
        *g.1.entry(it.table.as_str()).or_default() += 1;
    }
    let total: u64 = groups.values().map(|g| g.0).sum();
    if total == 0 {
        return Ok(());
    }
    line(
        out,
        &format!(
            "\nSealed: {} not decrypted here, so their app and name are unknown",
            items(total)
        ),
    )?;
    let mut reason = "";
    for ((class, pdmn, why), (n, tables)) in &groups {
        if *why != reason {
            // Under the `Sealed` heading, which says they were not decrypted.
            wrapped(out, "  ", why, 4)?;
            reason = why;
        }
        let tables: Vec<String> = tables.iter().map(|(t, n)| format!("{t} {n}")).collect();
        let class = class.map_or_else(|| "?".into(), |c| c.to_string());
        let head = format!("    {:>9}  cls {class:>2} {pdmn:<4}  ", items(*n));
        wrapped(out, &head, &tables.join(", "), head.len())?;
    }
    Ok(())
}

/// The counts of the items shown, and with `--app` what the filter left out.
fn write_summary(out: &mut dyn Write, a: &KeychainAudit) -> std::io::Result<()> {
    let s = &a.summary;
    let of = a
        .app_filter
        .as_ref()
        .map(|f| format!(" of {}", f.app))
        .unwrap_or_default();
    let counts = format!(
        "{}{of}: {} decryptable, {} device-bound, {} lost on a new device",
        items(s.items),
        s.decryptable,
        s.device_bound,
        s.lost_on_new_device
    );
    writeln!(out)?;
    wrapped(out, "", &counts, 2)?;
    for (k, v) in &s.by_restore {
        line(out, &format!("  {k:<17} {v}"))?;
    }
    if let Some(f) = a.app_filter.as_ref().filter(|f| f.may_belong > 0) {
        let more = format!(
            "+ {} (of the keychain's {}) may belong to {} too:",
            counted(f.may_belong, "sealed item"),
            f.keychain_items,
            f.app
        );
        wrapped(out, "", &more, 2)?;
        line(
            out,
            "  not decrypted here, so their app cannot be told; not counted above",
        )?;
    }
    Ok(())
}

/// Write the keychain audit as text: the file, the items by app, the sealed items counted
/// by reason, the summary, and the findings each with its fix.
pub fn write_table(
    out: &mut dyn Write,
    a: &KeychainAudit,
    show_secrets: bool,
) -> std::io::Result<()> {
    let state = |b, yes, no| if b { yes } else { no };
    let title = format!(
        "Keychain of {} ({} backup, {})",
        a.backup.path,
        state(a.backup.encrypted, "encrypted", "unencrypted"),
        state(a.backup.unlocked, "unlocked", "locked"),
    );
    wrapped(out, "", &title, 2)?;
    let f = &a.keychain_file;
    let opt = |v: Option<String>| v.unwrap_or_else(|| "-".into());
    writeln!(
        out,
        "File ID     {}  class {}{}",
        f.file_id.as_deref().unwrap_or("-"),
        opt(f.protection_class.map(|c| c.to_string())),
        f.bytes.map(|n| format!(", {n} bytes")).unwrap_or_default(),
    )?;
    let keybag = format!(
        "{} ({})",
        f.keybag_uuid
            .as_deref()
            .unwrap_or("not named by the export"),
        match f.keybag_uuid_matches {
            Some(true) => "matches the backup's keybag",
            Some(false) => "DOES NOT match the backup's keybag",
            None => "not compared",
        }
    );
    wrapped(out, "Keybag      ", &keybag, 12)?;
    write_items(out, a, show_secrets)?;
    write_sealed(out, a)?;
    write_summary(out, a)?;
    if !a.findings.is_empty() {
        writeln!(out, "\nFindings")?;
        super::table::write_findings(out, &a.findings, "  ")?;
    }
    Ok(())
}

#[cfg(test)]
mod tests;
