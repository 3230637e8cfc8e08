//! The diff report as HTML: both backups side by side, charts of the changes by state, area
//! and kind, and the changes in one sortable, filterable table (weakening changes marked).

use super::page::{at, badge, text, with, Page};
use super::{bars, model, rows};
use crate::diff::DiffReport;
use serde_json::Value;
use std::io::Write;

/// The columns of the changes table (`/changes`).
pub const CHANGE_COLUMNS: &[super::page::Column] = &[
    badge("state", "State", "/state"),
    with("weakened", "Weakens", weakens),
    text("rule", "Change", "/rule"),
    text("area", "Area", "/area"),
    text("app", "App", "/app"),
    with("subject", "What", subject),
    text("message", "Message", "/message"),
];

fn weakens(c: &Value) -> String {
    if c.get("weakened").and_then(Value::as_bool) == Some(true) {
        "weakened".into()
    } else {
        String::new()
    }
}

/// What changed, in words: a file's domain and path, an app's bundle id, a keychain item's
/// table, service, account or server.
fn subject(c: &Value) -> String {
    let s = c.get("subject").cloned().unwrap_or(Value::Null);
    let f = |k: &str| s.get(k).and_then(Value::as_str).map(str::to_string);
    if let (Some(d), Some(p)) = (f("domain"), f("path")) {
        return format!("{d} {p}");
    }
    if let Some(b) = f("bundle_id") {
        return b;
    }
    let parts: Vec<String> = ["table", "service", "account", "server", "access_group"]
        .iter()
        .filter_map(|k| f(k))
        .collect();
    parts.join(" · ")
}

fn side(p: &mut Page, v: &Value, which: &str, heading: &str) {
    let a = |k: &str| at(v, &format!("/{which}/{k}"));
    p.facts(
        heading,
        &[
            ("path", a("path")),
            ("device", a("device_name")),
            ("UDID", a("udid")),
            ("iOS", a("ios_version")),
            ("date", a("date")),
            ("encrypted", a("encrypted")),
            ("keychain read", a("keychain_read")),
        ],
    );
}

/// Write the diff report as one HTML page.
pub fn write(out: &mut dyn Write, r: &DiffReport) -> std::io::Result<()> {
    let v = model(r)?;
    let subject = format!("{} → {}", at(&v, "/old/path"), at(&v, "/new/path"));
    let mut p = Page::new("diff", &v, &subject);
    p.section("summary", "Summary", None);
    p.row();
    side(&mut p, &v, "old", "Old backup");
    side(&mut p, &v, "new", "New backup");
    p.facts(
        "Changes",
        &[
            ("app", at(&v, "/app")),
            ("changes", at(&v, "/summary/changes")),
            ("new", at(&v, "/summary/new")),
            ("absent", at(&v, "/summary/absent")),
            ("updated", at(&v, "/summary/updated")),
            ("weakened", at(&v, "/summary/weakened")),
        ],
    );
    p.end_row();
    p.row();
    let state: Vec<(String, u64)> = ["new", "absent", "updated", "weakened"]
        .iter()
        .map(|k| {
            let n = v
                .pointer(&format!("/summary/{k}"))
                .and_then(Value::as_u64)
                .unwrap_or(0);
            (k.to_string(), n)
        })
        .collect();
    p.chart("Changes by state", &state);
    p.chart("Changes by kind", &bars(&v, "/summary/by_rule", None));
    p.chart("Unchanged", &bars(&v, "/unchanged", None));
    p.end_row();
    let changes = rows(&v, "/changes");
    p.section("changes", "Changes", None);
    if changes.is_empty() {
        p.para("No change between the two backups.");
    } else {
        p.table("Changes", "/changes", CHANGE_COLUMNS, changes);
    }
    let notes: Vec<String> = v
        .pointer("/notes")
        .and_then(Value::as_array)
        .map(|a| {
            a.iter()
                .filter_map(Value::as_str)
                .map(str::to_string)
                .collect()
        })
        .unwrap_or_default();
    if !notes.is_empty() {
        p.section("notes", "What could not be compared", None);
        p.list("notes", &notes);
    }
    p.write(out)
}
