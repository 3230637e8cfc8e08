//! The `check` report as a table: each expectation with its findings, then the verdict.

use super::style::{self, Tone};
use super::text::wrapped;
use crate::policy::{rules, CheckReport, Status};
use std::io::Write;

/// Write the `check` report as text: one line per expectation, its findings below it.
pub fn write(out: &mut dyn Write, r: &CheckReport) -> std::io::Result<()> {
    let title = format!(
        "auditor check: policy {} on backup {}",
        r.policy.path, r.backup.path
    );
    wrapped(out, "", &title, 2)?;
    if let (Some(n), Some(v)) = (&r.backup.device_name, &r.backup.ios_version) {
        writeln!(out, "device: {n}, iOS {v}")?;
    }
    writeln!(out)?;
    for e in &r.expectations {
        let word = match e.status {
            Status::Pass => style::cell("PASS", Tone::Good, 5),
            Status::Fail => style::cell("FAIL", Tone::Bad, 5),
            Status::Error => style::cell("ERROR", Tone::Warn, 5),
        };
        let scope = e.app.as_deref().map_or(String::new(), |a| format!("{a}: "));
        let what = format!(
            "{scope}{} ({}:{})",
            e.description, r.policy.path, e.policy_line
        );
        wrapped(out, &format!("{word} {:<30} ", e.rule), &what, 6)?;
        for f in r.findings_of(&e.id) {
            let head = format!("        {} ", style::severity(f.severity, 6));
            let finding = format!("{}: {}", f.location.display(), f.message);
            wrapped(out, &head, &finding, 15)?;
            // The rule's fix, as under `scan`'s findings; not under "cannot be checked",
            // which the fix does not address.
            if e.status != Status::Error {
                super::table::write_fix(out, rules::by_id(f.rule), "        ")?;
            }
        }
        if let Some(n) = &e.note {
            if e.status != Status::Error {
                wrapped(out, "        note: ", n, 14)?;
            }
        }
    }
    if !r.warnings.is_empty() {
        writeln!(out)?;
    }
    for w in &r.warnings {
        wrapped(out, &style::cell("WARN", Tone::Warn, 6), w, 6)?;
    }
    let s = &r.summary;
    let verdict = format!(
        "{}: {} expectations: {} passed, {} failed, {} could not be checked; {} findings{}",
        if r.passed {
            style::paint("PASSED", Tone::Good)
        } else {
            style::paint("FAILED", Tone::Bad)
        },
        s.expectations,
        s.passed,
        s.failed,
        s.errors,
        s.findings,
        match (r.strict, r.warnings.len()) {
            (true, n @ 1..) => format!("; --strict: {n} warning(s) fail the check"),
            _ => String::new(),
        }
    );
    writeln!(out)?;
    wrapped(out, "", &verdict, 2)
}
