//! SARIF 2.1.0 rendering of a check report, as GitHub code scanning accepts it.
//!
//! One run; the driver lists every policy rule (stable `ruleId`, descriptions, help with the
//! fix and MASVS/MASTG references, `security-severity`); each finding is a result located at
//! the policy file's line of the expectation it breaks, with the backup location (file,
//! keychain item, app) as a logical location, and a `partialFingerprints` entry that does not
//! depend on line numbers.

use crate::audit::Severity;
use crate::policy::report::{CheckReport, PolicyFinding};
use crate::policy::rules::{self, PolicyRule};
use serde_json::{json, Value};
use sha2::{Digest, Sha256};
use std::io::Write;
use std::path::Path;

/// `$schema` written in the log.
pub const SARIF_SCHEMA_URI: &str = "https://json.schemastore.org/sarif-2.1.0.json";
/// Key of our entry in `partialFingerprints`.
pub const FINGERPRINT_KEY: &str = "auditorFinding/v1";

/// SARIF `level` of a severity.
pub fn level(s: Severity) -> &'static str {
    match s {
        Severity::High => "error",
        Severity::Medium => "warning",
        Severity::Low | Severity::Info => "note",
    }
}

/// GitHub's `security-severity` (0.0–10.0) of a severity.
pub fn security_severity(s: Severity) -> &'static str {
    match s {
        Severity::High => "8.0",
        Severity::Medium => "5.5",
        Severity::Low => "3.0",
        Severity::Info => "1.0",
    }
}

/// A URI reference for a path: relative paths stay relative (to the repository root when
/// `check` runs there), absolute ones become `file://` URIs; unsafe bytes are %-encoded.
pub fn path_uri(p: &Path) -> String {
    let s = p.to_string_lossy().replace('\\', "/");
    let s = s.strip_prefix("./").unwrap_or(&s).to_string();
    let mut enc = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || b"-._~/".contains(&b) {
            enc.push(b as char);
        } else {
            enc.push_str(&format!("%{b:02X}"));
        }
    }
    if s.starts_with('/') {
        format!("file://{enc}")
    } else {
        enc
    }
}

/// `policy.must-not-back-up` → `PolicyMustNotBackUp`.
fn rule_name(id: &str) -> String {
    id.split(['.', '-'])
        .map(|w| {
            let mut c = w.chars();
            match c.next() {
                Some(f) => f.to_ascii_uppercase().to_string() + c.as_str(),
                None => String::new(),
            }
        })
        .collect()
}

fn rule_descriptor(r: &PolicyRule) -> Value {
    let tags: Vec<&str> = std::iter::once("security")
        .chain(std::iter::once("ios-backup"))
        .chain(
            r.references
                .split(';')
                .map(str::trim)
                .filter(|t| !t.is_empty()),
        )
        .collect();
    json!({
        "id": r.id,
        "name": rule_name(r.id),
        "shortDescription": {"text": r.title},
        "fullDescription": {"text": format!("{}. References: {}.", r.title, r.references)},
        "help": {
            "text": format!("{}\n\nHow to fix: {}\n\nReferences: {}", r.title, r.fix, r.references),
            "markdown": format!("**{}**\n\n**How to fix:** {}\n\n**References:** {}\n\nSee docs/rules.md (Policy) and docs/policy.md.", r.title, r.fix, r.references),
        },
        "defaultConfiguration": {"level": level(r.severity)},
        "properties": {
            "tags": tags,
            "precision": "high",
            "problem.severity": match r.severity { Severity::High => "error", Severity::Medium => "warning", _ => "recommendation" },
            "security-severity": security_severity(r.severity),
        },
    })
}

/// Stable identity of a finding (independent of policy line numbers).
pub fn fingerprint(f: &PolicyFinding) -> String {
    let mut h = Sha256::new();
    for part in [
        f.rule,
        f.app.as_deref().unwrap_or(""),
        &f.location.display(),
        &f.expectation,
    ] {
        h.update(part.as_bytes());
        h.update([0u8]);
    }
    hex::encode(&h.finalize()[..16])
}

fn result(f: &PolicyFinding, policy_uri: &str, report: &CheckReport) -> Value {
    let rule_index = rules::ALL.iter().position(|r| r.id == f.rule).unwrap_or(0);
    let col = report
        .expectations
        .iter()
        .find(|e| e.id == f.expectation)
        .map_or(1, |e| e.policy_column.max(1));
    let loc_text = f.location.display();
    let app = f.app.as_deref().map_or(String::new(), |a| format!("{a}: "));
    json!({
        "ruleId": f.rule,
        "ruleIndex": rule_index,
        "level": level(f.severity),
        "message": {"text": format!("{app}{} — {loc_text} (backup {})", f.message, report.backup.path)},
        "locations": [{
            "physicalLocation": {
                "artifactLocation": {"uri": policy_uri},
                "region": {"startLine": f.policy_line.max(1), "startColumn": col},
            },
            "logicalLocations": [{
                "name": loc_text,
                "fullyQualifiedName": loc_text,
                "kind": "resource",
            }],
        }],
        "partialFingerprints": {FINGERPRINT_KEY: fingerprint(f)},
        "properties": {
            "severity": f.severity.as_str(),
            "app": f.app,
            "expectation": f.expectation,
            "backupLocation": f.location,
        },
    })
}

/// The SARIF log as a JSON value.
pub fn to_value(report: &CheckReport) -> Value {
    let policy_uri = path_uri(Path::new(&report.policy.path));
    let results: Vec<Value> = report
        .findings
        .iter()
        .map(|f| result(f, &policy_uri, report))
        .collect();
    json!({
        "$schema": SARIF_SCHEMA_URI,
        "version": "2.1.0",
        "runs": [{
            "tool": {"driver": {
                "name": "auditor",
                "version": report.tool.version,
                "semanticVersion": report.tool.version,
                "rules": rules::ALL.iter().map(rule_descriptor).collect::<Vec<_>>(),
            }},
            "invocations": [{
                "executionSuccessful": true,
                "properties": {
                    "policy": report.policy.path,
                    "backup": report.backup.path,
                    "expectations": report.summary.expectations,
                    "passed": report.summary.passed,
                    "failed": report.summary.failed,
                    "errors": report.summary.errors,
                },
            }],
            "results": results,
        }],
    })
}

/// Write the SARIF log (pretty JSON and a newline).
pub fn write(out: &mut dyn Write, report: &CheckReport) -> std::io::Result<()> {
    serde_json::to_writer_pretty(&mut *out, &to_value(report)).map_err(std::io::Error::other)?;
    writeln!(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn uris() {
        assert_eq!(path_uri(Path::new("auditor.toml")), "auditor.toml");
        assert_eq!(path_uri(Path::new("./ci/auditor.toml")), "ci/auditor.toml");
        assert_eq!(
            path_uri(Path::new("my policy#1.toml")),
            "my%20policy%231.toml"
        );
        assert_eq!(
            path_uri(Path::new("/tmp/p é.toml")),
            "file:///tmp/p%20%C3%A9.toml"
        );
    }

    #[test]
    fn names_and_levels() {
        assert_eq!(rule_name("policy.must-not-back-up"), "PolicyMustNotBackUp");
        assert_eq!(level(Severity::High), "error");
        assert_eq!(level(Severity::Medium), "warning");
        assert_eq!(level(Severity::Low), "note");
    }
}
