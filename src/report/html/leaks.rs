//! The leaks report as HTML: exposure, charts by category and file kind, and each app's
//! leaks (redacted previews; values only with `--show-secrets`, as in JSON).

use super::page::{at, badge, num, text, with, Column, Page};
use super::{backup_facts, bars, by_app, model, rows};
use crate::leaks::model::LeaksReport;
use std::io::Write;

/// The columns of a leaks table (`/leaks`).
pub const LEAK_COLUMNS: &[Column] = &[
    badge("severity", "Severity", "/severity"),
    text("rule", "Rule", "/rule"),
    text("category", "Category", "/category"),
    text("confidence", "Confidence", "/confidence"),
    text("domain", "Domain", "/domain"),
    text("path", "Path", "/path"),
    with("location", "Location", |r| at(r, "/location")),
    text("field", "Field", "/field"),
    text("preview", "Preview", "/preview"),
    text("fingerprint", "Fingerprint", "/fingerprint"),
    num("occurrences", "Occurrences", "/occurrences"),
    text("deleted", "Deleted record", "/deleted"),
    num("class", "Class", "/protection_class"),
];

/// The value column, added when some leak carries its value (`--show-secrets`).
pub const VALUE_COLUMN: Column = text("value", "Value", "/value");

/// The columns of a notes table (`/notes`: files not or partly searched).
pub const NOTE_COLUMNS: &[Column] = &[
    text("app", "App", "/app"),
    text("domain", "Domain", "/domain"),
    text("path", "Path", "/path"),
    text("reason", "Reason", "/reason"),
    text("note", "Note", "/note"),
];

/// Write the leaks report as one HTML page.
pub fn write(out: &mut dyn Write, r: &LeaksReport) -> std::io::Result<()> {
    let v = model(r)?;
    let mut p = Page::new("leaks", &v, &at(&v, "/backup/path"));
    p.section("summary", "Summary", Some(&at(&v, "/exposure/text")));
    p.row();
    backup_facts(&mut p, &v);
    p.facts(
        "Counts",
        &[
            ("app", at(&v, "/app")),
            ("files searched", at(&v, "/summary/files_searched")),
            ("bytes searched", at(&v, "/summary/bytes_searched")),
            ("largest file searched", at(&v, "/summary/max_file_size")),
            ("leaks", at(&v, "/summary/leaks")),
            ("readable by", at(&v, "/exposure/readable_by")),
        ],
    );
    p.end_row();
    p.row();
    p.chart("Leaks by category", &bars(&v, "/summary/by_category", None));
    p.chart("Leaks by rule", &bars(&v, "/summary/by_rule", None));
    p.chart("Files by kind", &bars(&v, "/summary/by_kind", None));
    p.chart("Files skipped", &bars(&v, "/summary/skipped", None));
    p.end_row();
    let leaks = rows(&v, "/leaks");
    let mut cols = LEAK_COLUMNS.to_vec();
    if leaks.iter().any(|(_, l)| l.get("value").is_some()) {
        cols.push(VALUE_COLUMN);
    }
    if leaks.is_empty() {
        p.para("No leak found.");
    }
    for (app, group) in by_app(&leaks, "/app") {
        let heading = app.unwrap_or_else(|| "files of no app".into());
        p.section(&heading, &heading, None);
        p.table(&format!("Leaks in {heading}"), "/leaks", &cols, group);
    }
    p.section("notes", "Files not or partly searched", None);
    p.table("Notes", "/notes", NOTE_COLUMNS, rows(&v, "/notes"));
    p.write(out)
}
