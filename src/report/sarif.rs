//! SARIF 2.1.0 rendering of the findings of any command, as GitHub code scanning accepts it.
//!
//! One run per log. The driver lists the catalogue the command reports through (the scan
//! rules for `scan`, `info` and `keychain`, the policy rules for `check`, the leak rules of
//! `rules.toml` for `leaks`), each with its stable `ruleId`, descriptions, help with the
//! fix and MASVS/MASTG references and `security-severity`. Each finding is a result with the backup location (file, payload,
//! keychain item, app) as a logical location and a `partialFingerprints` entry that does not
//! depend on line numbers or messages ([`Finding::fingerprint`],
//! [`PolicyFinding::fingerprint`]). A check result is located at the policy file's line of
//! the expectation it breaks; a scan result at the backup file it names, else the backup
//! folder.

use crate::audit::keychain::KeychainAudit;
use crate::audit::{rules as scan_rules, Finding, Location, Rule, ScanReport, Severity};
use crate::leaks::decode::describe;
use crate::leaks::model::{severity as leak_severity, Leak, LeaksReport};
use crate::leaks::{Category, Confidence, Rule as LeakRule};
use crate::policy::report::{CheckReport, PolicyFinding};
use crate::policy::rules as policy_rules;
use serde_json::{json, Value};
use std::collections::HashMap;
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
pub(crate) fn rule_name(id: &str) -> String {
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

/// Where a catalogue's rules are documented (the help's last line).
fn see_also(r: &Rule) -> &'static str {
    if r.id.starts_with("policy.") {
        "See docs/rules.md (Policy) and docs/policy.md."
    } else {
        "See docs/rules.md."
    }
}

/// The SARIF descriptor of a catalogue rule (its id, title, fix, references, level).
pub(crate) fn rule_descriptor(r: &Rule) -> Value {
    let refs = || {
        r.references
            .split(';')
            .map(str::trim)
            .filter(|t| !t.is_empty())
    };
    let tags: Vec<&str> = ["security", "ios-backup"]
        .into_iter()
        .chain(refs())
        .collect();
    let (full, text, markdown) = if r.references.is_empty() {
        (
            format!("{}.", r.title),
            format!("{}\n\nHow to fix: {}", r.title, r.fix),
            format!(
                "**{}**\n\n**How to fix:** {}\n\n{}",
                r.title,
                r.fix,
                see_also(r)
            ),
        )
    } else {
        (
            format!("{}. References: {}.", r.title, r.references),
            format!(
                "{}\n\nHow to fix: {}\n\nReferences: {}",
                r.title, r.fix, r.references
            ),
            format!(
                "**{}**\n\n**How to fix:** {}\n\n**References:** {}\n\n{}",
                r.title,
                r.fix,
                r.references,
                see_also(r)
            ),
        )
    };
    json!({
        "id": r.id,
        "name": rule_name(r.id),
        "shortDescription": {"text": r.title},
        "fullDescription": {"text": full},
        "help": {"text": text, "markdown": markdown},
        "defaultConfiguration": {"level": level(r.severity)},
        "properties": {
            "tags": tags,
            "precision": "high",
            "problem.severity": match r.severity { Severity::High => "error", Severity::Medium => "warning", _ => "recommendation" },
            "security-severity": security_severity(r.severity),
        },
    })
}

/// One result: `f` located at `physical` (a SARIF physicalLocation) and, unless it is the
/// backup as a whole, at its backup location as a logical location.
fn result(
    f: &Finding,
    rules: &[Rule],
    message: String,
    physical: Value,
    fingerprint: String,
    properties: Value,
) -> Value {
    let rule_index = rules.iter().position(|r| r.id == f.rule).unwrap_or(0);
    let mut location = json!({"physicalLocation": physical});
    if !f.location.is_whole() {
        let text = f.location.to_string();
        location["logicalLocations"] = json!([{
            "name": text,
            "fullyQualifiedName": text,
            "kind": "resource",
        }]);
    }
    json!({
        "ruleId": f.rule,
        "ruleIndex": rule_index,
        "level": level(f.severity),
        "message": {"text": message},
        "locations": [location],
        "partialFingerprints": {FINGERPRINT_KEY: fingerprint},
        "properties": properties,
    })
}

/// The log of one run: the tool with the catalogue `rules`, one invocation, the results.
fn log(version: &str, rules: &[Rule], invocation: Value, results: Vec<Value>) -> Value {
    log_with(
        version,
        rules.iter().map(rule_descriptor).collect(),
        invocation,
        results,
    )
}

/// [`log`] with the driver's rule descriptors given as they are.
pub(crate) fn log_with(
    version: &str,
    rules: Vec<Value>,
    invocation: Value,
    results: Vec<Value>,
) -> Value {
    json!({
        "$schema": SARIF_SCHEMA_URI,
        "version": "2.1.0",
        "runs": [{
            "tool": {"driver": {
                "name": "auditor",
                "version": version,
                "semanticVersion": version,
                "rules": rules,
            }},
            "invocations": [{
                "executionSuccessful": true,
                "properties": invocation,
            }],
            "results": results,
        }],
    })
}

/// A report that renders as a SARIF log.
pub trait ToSarif {
    /// The SARIF log as a JSON value.
    fn to_sarif(&self) -> Value;
}

fn policy_result(f: &PolicyFinding, policy_uri: &str, report: &CheckReport) -> Value {
    let col = report
        .expectations
        .iter()
        .find(|e| e.id == f.expectation)
        .map_or(1, |e| e.policy_column.max(1));
    let app = f.app.as_deref().map_or(String::new(), |a| format!("{a}: "));
    result(
        f,
        policy_rules::ALL,
        format!(
            "{app}{} — {} (backup {})",
            f.message, f.location, report.backup.path
        ),
        json!({
            "artifactLocation": {"uri": policy_uri},
            "region": {"startLine": f.policy_line.max(1), "startColumn": col},
        }),
        f.fingerprint(),
        json!({
            "severity": f.severity.as_str(),
            "app": f.app,
            "expectation": f.expectation,
            "backupLocation": f.location,
        }),
    )
}

impl ToSarif for CheckReport {
    fn to_sarif(&self) -> Value {
        let policy_uri = path_uri(Path::new(&self.policy.path));
        let results = self
            .findings
            .iter()
            .map(|f| policy_result(f, &policy_uri, self))
            .collect();
        log(
            self.tool.version,
            policy_rules::ALL,
            json!({
                "policy": self.policy.path,
                "backup": self.backup.path,
                "expectations": self.summary.expectations,
                "passed": self.summary.passed,
                "failed": self.summary.failed,
                "errors": self.summary.errors,
            }),
            results,
        )
    }
}

/// The artifact of a scan finding: the file of the backup folder or the payload it names,
/// else the backup folder.
fn backup_artifact(backup: &Path, l: &Location) -> Value {
    let uri = match l {
        Location::Backup { file: Some(f) } => path_uri(&backup.join(f)),
        Location::Payload { path, .. } => path_uri(Path::new(path)),
        _ => path_uri(backup),
    };
    json!({"artifactLocation": {"uri": uri}})
}

/// Results of scan-catalogue findings of the backup at `backup`. A finding repeating the
/// rule and location of an earlier one (two plist problems of one file) gets its
/// occurrence number (2, 3, …) as a third part of its fingerprint, so that fingerprints
/// are unique within the log and stable across runs.
fn scan_results<'a>(backup: &str, findings: impl Iterator<Item = &'a Finding>) -> Vec<Value> {
    let root = Path::new(backup);
    let mut seen: HashMap<String, usize> = HashMap::new();
    findings
        .map(|f| {
            let base = f.fingerprint();
            let n = seen.entry(base.clone()).or_default();
            *n += 1;
            let fingerprint = if *n == 1 {
                base
            } else {
                crate::audit::finding::fingerprint(&[
                    f.rule,
                    &f.location.identity(),
                    &n.to_string(),
                ])
            };
            let message = if f.location.is_whole() {
                format!("{} (backup {backup})", f.message)
            } else {
                format!("{} — {} (backup {backup})", f.message, f.location)
            };
            result(
                f,
                scan_rules::ALL,
                message,
                backup_artifact(root, &f.location),
                fingerprint,
                json!({
                    "severity": f.severity.as_str(),
                    "backupLocation": f.location,
                }),
            )
        })
        .collect()
}

/// `scan` and `info`: the backup's findings, then every file's, in index order.
impl ToSarif for ScanReport {
    fn to_sarif(&self) -> Value {
        let findings = self
            .findings
            .iter()
            .chain(self.files.iter().flat_map(|f| f.findings.iter()));
        log(
            self.tool.version,
            scan_rules::ALL,
            json!({"backup": self.backup.path, "findings": self.summary.findings}),
            scan_results(&self.backup.path, findings),
        )
    }
}

/// `keychain`: the keychain audit's findings.
impl ToSarif for KeychainAudit {
    fn to_sarif(&self) -> Value {
        log(
            self.tool.version,
            scan_rules::ALL,
            json!({"backup": self.backup.path, "items": self.summary.items}),
            scan_results(&self.backup.path, self.findings.iter()),
        )
    }
}

/// The OWASP references of every leak rule (docs/leaks.md).
pub const LEAK_REFERENCES: &str = "MASVS-STORAGE-1; MASVS-STORAGE-2; MASWE-0006; MASTG-TEST-0215";

/// What a leak rule's descriptor says: a built-in rule, or the title and fix a leak
/// carries when its rule is not built in.
struct LeakRuleInfo<'a> {
    id: &'a str,
    title: &'a str,
    why: &'a str,
    fix: &'a str,
    category: Category,
    confidence: Confidence,
}

impl<'a> From<&'a LeakRule> for LeakRuleInfo<'a> {
    fn from(r: &'a LeakRule) -> Self {
        LeakRuleInfo {
            id: &r.id,
            title: &r.title,
            why: &r.why,
            fix: &r.fix,
            category: r.category,
            confidence: r.confidence,
        }
    }
}

/// The descriptor of a leak rule: title, why (full description), fix and references (help),
/// the level of its severity, its category and confidence (precision) as properties.
fn leak_rule_descriptor(r: &LeakRuleInfo) -> Value {
    let severity = leak_severity(r.category, r.confidence);
    let refs = LEAK_REFERENCES.split("; ");
    let category = super::leaks::category_str(r.category);
    let tags: Vec<&str> = ["security", "ios-backup", "secrets", category]
        .into_iter()
        .chain(refs)
        .collect();
    json!({
        "id": r.id,
        "name": rule_name(r.id),
        "shortDescription": {"text": r.title},
        "fullDescription": {"text": r.why},
        "help": {
            "text": format!(
                "{}\n\n{}\n\nHow to fix: {}\n\nReferences: {LEAK_REFERENCES}",
                r.title, r.why, r.fix
            ),
            "markdown": format!(
                "**{}**\n\n{}\n\n**How to fix:** {}\n\n**References:** {LEAK_REFERENCES}\n\nSee docs/rules.md (Leak rules) and docs/leaks.md.",
                r.title, r.why, r.fix
            ),
        },
        "defaultConfiguration": {"level": level(severity)},
        "properties": {
            "tags": tags,
            "precision": super::leaks::confidence_str(r.confidence),
            "problem.severity": match severity { Severity::High => "error", Severity::Medium => "warning", _ => "recommendation" },
            "security-severity": security_severity(severity),
            "category": category,
        },
    })
}

/// One leak as a result: at its file (`domain/path`, relative) and, as a logical location,
/// its place in the file; fingerprinted by rule, file and the value's fingerprint (and an
/// occurrence number when those repeat).
fn leak_result(l: &Leak, rule_index: usize, fingerprint: String) -> Value {
    let file = format!("{}/{}", l.domain, l.path);
    let at = describe(&l.location);
    let place = format!("{file} at {at}");
    let mut properties = json!({
        "severity": l.severity.as_str(),
        "app": l.app,
        "category": super::leaks::category_str(l.category),
        "confidence": super::leaks::confidence_str(l.confidence),
        "field": l.field,
        "location": l.location,
        "deleted": l.deleted,
        "occurrences": l.occurrences,
        "file_kind": super::leaks::kind_str(l.file_kind),
        "protection_class": l.protection_class,
        "preview": l.preview,
        "fingerprint": l.fingerprint,
    });
    if let Some(note) = &l.note {
        properties["note"] = json!(note);
    }
    if let Some(value) = &l.value {
        properties["value"] = json!(value);
    }
    json!({
        "ruleId": l.rule,
        "ruleIndex": rule_index,
        "level": level(l.severity),
        "message": {"text": format!("{} in {file} at {at} ({})", l.title, l.preview)},
        "locations": [{
            "physicalLocation": {"artifactLocation": {"uri": path_uri(Path::new(&file))}},
            "logicalLocations": [{
                "name": place,
                "fullyQualifiedName": place,
                "kind": "resource",
            }],
        }],
        "partialFingerprints": {FINGERPRINT_KEY: fingerprint},
        "properties": properties,
    })
}

/// `leaks`: the built-in leak rules (and any rule a leak names that is not built in), one
/// result per leak.
impl ToSarif for LeaksReport {
    fn to_sarif(&self) -> Value {
        let mut rules: Vec<LeakRuleInfo> = crate::leaks::builtin()
            .rules
            .iter()
            .map(LeakRuleInfo::from)
            .collect();
        for l in &self.leaks {
            if !rules.iter().any(|r| r.id == l.rule) {
                rules.push(LeakRuleInfo {
                    id: &l.rule,
                    title: &l.title,
                    why: &l.title,
                    fix: &l.fix,
                    category: l.category,
                    confidence: l.confidence,
                });
            }
        }
        let mut seen: HashMap<String, usize> = HashMap::new();
        let results = self
            .leaks
            .iter()
            .map(|l| {
                let file = format!("{}/{}", l.domain, l.path);
                let base = crate::audit::finding::fingerprint(&[&l.rule, &file, &l.fingerprint]);
                let n = seen.entry(base.clone()).or_default();
                *n += 1;
                let fingerprint = if *n == 1 {
                    base
                } else {
                    crate::audit::finding::fingerprint(&[
                        &l.rule,
                        &file,
                        &l.fingerprint,
                        &n.to_string(),
                    ])
                };
                let index = rules.iter().position(|r| r.id == l.rule).unwrap_or(0);
                leak_result(l, index, fingerprint)
            })
            .collect();
        let mut invocation = json!({
            "backup": self.backup.path,
            "files_searched": self.summary.files_searched,
            "leaks": self.summary.leaks,
        });
        if let Some(app) = &self.app {
            invocation["app"] = json!(app);
        }
        log_with(
            self.tool.version,
            rules.iter().map(leak_rule_descriptor).collect(),
            invocation,
            results,
        )
    }
}

/// The SARIF log of a report as a JSON value.
pub fn to_value(report: &impl ToSarif) -> Value {
    report.to_sarif()
}

/// Write the SARIF log of a report (pretty JSON and a newline).
pub fn write(out: &mut dyn Write, report: &impl ToSarif) -> std::io::Result<()> {
    serde_json::to_writer_pretty(&mut *out, &report.to_sarif()).map_err(std::io::Error::other)?;
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
