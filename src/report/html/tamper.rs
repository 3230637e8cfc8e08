//! The tamper report as HTML: keychain evidence, charts by category and integrity, and each
//! app's settings (secret-looking values previewed only, as in JSON).

use super::leaks::NOTE_COLUMNS;
use super::page::{at, badge, num, text, with, Column, Page};
use super::{backup_facts, bars, by_app, model, rows};
use crate::tamper::TamperReport;
use serde_json::Value;
use std::io::Write;

/// The columns of a settings table (`/settings`).
pub const SETTING_COLUMNS: &[Column] = &[
    badge("severity", "Severity", "/severity"),
    text("rule", "Rule", "/rule"),
    text("category", "Category", "/category"),
    text("domain", "Domain", "/domain"),
    text("path", "Path", "/path"),
    text("key", "Key", "/key"),
    text("value_type", "Type", "/value_type"),
    with("value", "Value", shown_value),
    badge("integrity", "Integrity", "/integrity/status"),
    text("integrity_by", "Protected by", "/integrity/by"),
    num("class", "Class", "/protection_class"),
    text("patch", "auditor patch target", "/patch"),
];

/// The value as the table shows it: the value, or its preview when redacted.
fn shown_value(s: &Value) -> String {
    match (s.get("value").and_then(Value::as_str), s.get("preview")) {
        (Some(v), _) => v.to_string(),
        (None, Some(p)) if !p.is_null() => format!("{} (redacted)", at(s, "/preview")),
        _ if at(s, "/value_type") == "document" => "the whole document".into(),
        _ => "(not shown)".into(),
    }
}

/// Write the tamper report as one HTML page.
pub fn write(out: &mut dyn Write, r: &TamperReport) -> std::io::Result<()> {
    let v = model(r)?;
    let mut p = Page::new("tamper", &v, &at(&v, "/backup/path"));
    p.section("summary", "Summary", None);
    p.row();
    backup_facts(&mut p, &v);
    p.facts(
        "Keychain evidence",
        &[
            ("read", at(&v, "/keychain/read")),
            ("items", at(&v, "/keychain/items")),
            ("decrypted", at(&v, "/keychain/decryptable")),
            (
                "device-bound, not decrypted",
                at(&v, "/keychain/device_bound_undecryptable"),
            ),
            ("HMAC keys", at(&v, "/keychain/hmac_keys")),
        ],
    );
    p.facts(
        "Counts",
        &[
            ("app", at(&v, "/app")),
            ("files searched", at(&v, "/summary/files_searched")),
            (
                "files with settings",
                at(&v, "/summary/files_with_settings"),
            ),
            ("settings", at(&v, "/summary/settings")),
            (
                "third-party files skipped",
                at(&v, "/summary/third_party_skipped"),
            ),
        ],
    );
    p.end_row();
    p.row();
    p.chart(
        "Settings by category",
        &bars(&v, "/summary/by_category", None),
    );
    p.chart(
        "Settings by integrity",
        &bars(&v, "/summary/by_status", None),
    );
    p.chart("Settings by rule", &bars(&v, "/summary/by_rule", None));
    p.end_row();
    let settings = rows(&v, "/settings");
    if settings.is_empty() {
        p.para("No tamper surface found.");
    }
    for (app, group) in by_app(&settings, "/app") {
        let heading = app.unwrap_or_else(|| "files of no app".into());
        p.section(&heading, &heading, None);
        p.table(
            &format!("Settings in {heading}"),
            "/settings",
            SETTING_COLUMNS,
            group,
        );
    }
    p.section("notes", "Files not or partly read", None);
    p.table("Notes", "/notes", NOTE_COLUMNS, rows(&v, "/notes"));
    p.write(out)
}
