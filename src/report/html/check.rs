//! The check report as HTML: the verdict, charts by status and rule, warnings, each app's
//! expectations, and the findings.

use super::page::{at, badge, num, text, Column, Page};
use super::{bars, by_app, model, rows};
use crate::policy::CheckReport;
use std::io::Write;

/// The columns of an expectations table (`/expectations`).
pub const EXPECTATION_COLUMNS: &[Column] = &[
    badge("status", "Status", "/status"),
    text("id", "Expectation", "/id"),
    text("rule", "Rule", "/rule"),
    badge("severity", "Severity", "/severity"),
    text("description", "Description", "/description"),
    num("checked", "Checked", "/checked"),
    num("findings", "Findings", "/findings"),
    num("line", "Policy line", "/policy_line"),
    text("note", "Note", "/note"),
];

/// The columns of the findings table (`/findings`).
pub const FINDING_COLUMNS: &[Column] = &[
    badge("severity", "Severity", "/severity"),
    text("app", "App", "/app"),
    text("rule", "Rule", "/rule"),
    text("expectation", "Expectation", "/expectation"),
    text("message", "Message", "/message"),
    text("location", "Location", "/location"),
    text("preview", "Leak preview", "/leak/preview"),
    num("line", "Policy line", "/policy_line"),
];

/// Write the check report as one HTML page.
pub fn write(out: &mut dyn Write, r: &CheckReport) -> std::io::Result<()> {
    let v = model(r)?;
    let mut p = Page::new("check", &v, &at(&v, "/policy/path"));
    let verdict = if r.passed { "passed" } else { "failed" };
    p.section(
        "summary",
        "Summary",
        Some(&format!("The backup {verdict} the policy.")),
    );
    p.row();
    p.facts(
        "Result",
        &[
            ("verdict", verdict.to_string()),
            ("policy", at(&v, "/policy/path")),
            ("strict", at(&v, "/strict")),
            ("expectations", at(&v, "/summary/expectations")),
            ("passed", at(&v, "/summary/passed")),
            ("failed", at(&v, "/summary/failed")),
            ("errors", at(&v, "/summary/errors")),
            ("findings", at(&v, "/summary/findings")),
        ],
    );
    super::backup_facts(&mut p, &v);
    p.end_row();
    p.row();
    let mut by_status: Vec<(String, u64)> = Vec::new();
    for (_, e) in rows(&v, "/expectations") {
        let s = at(e, "/status");
        match by_status.iter_mut().find(|(k, _)| *k == s) {
            Some(x) => x.1 += 1,
            None => by_status.push((s, 1)),
        }
    }
    p.chart("Expectations by status", &by_status);
    p.chart("Findings by rule", &bars(&v, "/summary/by_rule", None));
    p.end_row();
    p.list("warnings", &r.warnings);
    for (app, group) in by_app(&rows(&v, "/expectations"), "/app") {
        let heading = app.unwrap_or_else(|| "the backup".into());
        p.section(&heading, &heading, None);
        p.table(
            &format!("Expectations on {heading}"),
            "/expectations",
            EXPECTATION_COLUMNS,
            group,
        );
    }
    p.section("findings", "Findings", None);
    p.table(
        "Findings",
        "/findings",
        FINDING_COLUMNS,
        rows(&v, "/findings"),
    );
    p.write(out)
}
