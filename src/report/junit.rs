//! JUnit XML rendering of a check report: one test case per expectation, grouped per scope.
//!
//! Suites: `backup` for backup-level expectations, then one per app (bundle id). A failed
//! expectation has a `<failure>` listing its findings; one that could not be checked has an
//! `<error>`. The layout is the common Surefire/Jenkins one that GitHub and GitLab test
//! reports read.

use crate::policy::report::{CheckReport, ExpectationResult, Status};
use std::io::Write;

/// Escape text for XML content and attribute values; drop characters XML 1.0 forbids.
pub fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for ch in s.chars() {
        match ch {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            '\t' | '\n' | '\r' => out.push(ch),
            c if (c as u32) < 0x20 || c == '\u{FFFE}' || c == '\u{FFFF}' => out.push('\u{FFFD}'),
            c => out.push(c),
        }
    }
    out
}

fn scope(e: &ExpectationResult) -> String {
    e.app.clone().unwrap_or_else(|| "backup".to_string())
}

fn case(out: &mut dyn Write, r: &CheckReport, e: &ExpectationResult) -> std::io::Result<()> {
    let name = format!("{} ({}:{})", e.description, r.policy.path, e.policy_line);
    write!(
        out,
        "    <testcase name=\"{}\" classname=\"auditor.policy.{}\" file=\"{}\" line=\"{}\" time=\"0\"",
        escape(&name),
        escape(&scope(e)),
        escape(&r.policy.path),
        e.policy_line
    )?;
    if e.status == Status::Pass {
        match &e.note {
            None => return writeln!(out, "/>"),
            Some(n) => {
                writeln!(out, ">")?;
                writeln!(out, "      <system-out>{}</system-out>", escape(n))?;
                return writeln!(out, "    </testcase>");
            }
        }
    }
    writeln!(out, ">")?;
    let tag = if e.status == Status::Error {
        "error"
    } else {
        "failure"
    };
    let mut body = format!("{} [{}] {}\n", e.rule, e.severity.as_str(), e.description);
    for f in r.findings_of(&e.id) {
        body.push_str(&format!(
            "{} [{}] {}: {}\n",
            f.rule,
            f.severity.as_str(),
            f.location.display(),
            f.message
        ));
    }
    if let Some(n) = &e.note {
        body.push_str(&format!("note: {n}\n"));
    }
    let message = match e.status {
        Status::Error => e.note.clone().unwrap_or_else(|| "cannot be checked".into()),
        _ => format!("{} finding(s) of {}", e.findings, e.rule),
    };
    writeln!(
        out,
        "      <{tag} type=\"{}\" message=\"{}\">{}</{tag}>",
        escape(e.rule),
        escape(&message),
        escape(&body)
    )?;
    writeln!(out, "    </testcase>")
}

/// Write the JUnit XML document.
pub fn write(out: &mut dyn Write, r: &CheckReport) -> std::io::Result<()> {
    // Scopes in order of first appearance.
    let mut scopes: Vec<String> = Vec::new();
    for e in &r.expectations {
        let s = scope(e);
        if !scopes.contains(&s) {
            scopes.push(s);
        }
    }
    writeln!(out, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>")?;
    writeln!(
        out,
        "<testsuites name=\"auditor check\" tests=\"{}\" failures=\"{}\" errors=\"{}\" time=\"0\">",
        r.summary.expectations, r.summary.failed, r.summary.errors
    )?;
    for s in &scopes {
        let cases: Vec<&ExpectationResult> =
            r.expectations.iter().filter(|e| &scope(e) == s).collect();
        let failures = cases.iter().filter(|e| e.status == Status::Fail).count();
        let errors = cases.iter().filter(|e| e.status == Status::Error).count();
        writeln!(
            out,
            "  <testsuite name=\"{}\" tests=\"{}\" failures=\"{failures}\" errors=\"{errors}\" skipped=\"0\" time=\"0\">",
            escape(s),
            cases.len()
        )?;
        writeln!(out, "    <properties>")?;
        writeln!(
            out,
            "      <property name=\"policy\" value=\"{}\"/>",
            escape(&r.policy.path)
        )?;
        writeln!(
            out,
            "      <property name=\"backup\" value=\"{}\"/>",
            escape(&r.backup.path)
        )?;
        writeln!(out, "    </properties>")?;
        for e in cases {
            case(out, r, e)?;
        }
        writeln!(out, "  </testsuite>")?;
    }
    writeln!(out, "</testsuites>")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes() {
        assert_eq!(
            escape("a<b>&\"c'\u{1}\n"),
            "a&lt;b&gt;&amp;&quot;c&apos;\u{FFFD}\n"
        );
    }
}
