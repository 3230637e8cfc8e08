//! The `check` report as a table: each expectation with its findings, then the verdict.

use crate::policy::{rules, CheckReport, Status};
use std::io::Write;

/// Write the `check` report as text: one line per expectation, its findings below it.
pub fn write(out: &mut dyn Write, r: &CheckReport) -> std::io::Result<()> {
    writeln!(
        out,
        "auditor check: policy {} on backup {}",
        r.policy.path, r.backup.path
    )?;
    if let (Some(n), Some(v)) = (&r.backup.device_name, &r.backup.ios_version) {
        writeln!(out, "device: {n}, iOS {v}")?;
    }
    writeln!(out)?;
    for e in &r.expectations {
        let word = match e.status {
            Status::Pass => "PASS ",
            Status::Fail => "FAIL ",
            Status::Error => "ERROR",
        };
        let scope = e.app.as_deref().map_or(String::new(), |a| format!("{a}: "));
        writeln!(
            out,
            "{word} {:<30} {scope}{} ({}:{})",
            e.rule, e.description, r.policy.path, e.policy_line
        )?;
        for f in r.findings_of(&e.id) {
            writeln!(
                out,
                "        {:<6} {}: {}",
                f.severity.as_str(),
                f.location.display(),
                f.message
            )?;
            // The rule's fix, as under `scan`'s findings; not under "cannot be checked",
            // which the fix does not address.
            if e.status != Status::Error {
                super::table::write_fix(out, rules::by_id(f.rule), "        ")?;
            }
        }
        if let Some(n) = &e.note {
            if e.status != Status::Error {
                writeln!(out, "        note: {n}")?;
            }
        }
    }
    if !r.warnings.is_empty() {
        writeln!(out)?;
    }
    for w in &r.warnings {
        writeln!(out, "WARN  {w}")?;
    }
    let s = &r.summary;
    writeln!(
        out,
        "\n{}: {} expectations: {} passed, {} failed, {} could not be checked; {} findings{}",
        if r.passed { "PASSED" } else { "FAILED" },
        s.expectations,
        s.passed,
        s.failed,
        s.errors,
        s.findings,
        match (r.strict, r.warnings.len()) {
            (true, n @ 1..) => format!("; --strict: {n} warning(s) fail the check"),
            _ => String::new(),
        }
    )
}
