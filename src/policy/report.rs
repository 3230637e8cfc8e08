//! The result of `auditor check`: one outcome per expectation and the findings behind it.
//!
//! Serialised as the versioned JSON schema `auditor.check/1` (docs/json-schema.md).

use crate::audit::finding::fingerprint;
pub use crate::audit::finding::Location;
use crate::audit::model::ToolInfo;
use crate::audit::{Finding, Severity};
use serde::Serialize;
use std::collections::BTreeMap;

/// Version of the check JSON schema. Bump on incompatible change.
pub const CHECK_SCHEMA: &str = "auditor.check/1";

/// Outcome of one expectation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    /// The backup meets it.
    Pass,
    /// The backup breaks it (see the findings).
    Fail,
    /// It could not be checked (e.g. content that cannot be read); counts as failed.
    Error,
}

impl Status {
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Pass => "pass",
            Status::Fail => "fail",
            Status::Error => "error",
        }
    }
}

/// One finding of a policy rule: the one [`Finding`] model, plus the expectation it breaks.
///
/// JSON (`auditor.check/1`): `{rule, severity, message, app?, location, expectation,
/// policy_line}`, with the typed location object. Its fields read through to the finding
/// (`f.rule`, `f.location`, …).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PolicyFinding {
    /// Rule (`policy.*`, docs/rules.md), severity, message and location.
    pub finding: Finding,
    pub app: Option<String>,
    /// Id of the expectation it breaks.
    pub expectation: String,
    /// Line of that expectation in the policy file.
    pub policy_line: usize,
    /// For `policy.leak`: the leak (its rule and value fingerprint, never the value).
    pub leak: Option<LeakRef>,
}

/// The leak behind a `policy.leak` finding (JSON `leak`): what allows it in the policy.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct LeakRef {
    /// The leak rule (`leak.*` built in, `user.*` the policy's).
    pub rule: String,
    /// `credential`, `token`, `private_key` or `personal`.
    pub category: &'static str,
    /// The value's fingerprint (16 hex digits), as `auditor leaks` reports it: an
    /// `allow = [{ fingerprint = "…" }]` entry allows it.
    pub fingerprint: String,
    /// Where in the file (a plist key path, a table.column[rowid], a line).
    pub location: String,
    /// Redacted preview of the value (`AK…(20 chars)`).
    pub preview: String,
}

impl std::ops::Deref for PolicyFinding {
    type Target = Finding;
    fn deref(&self) -> &Finding {
        &self.finding
    }
}

impl PolicyFinding {
    /// Stable identity, independent of policy line numbers and of the message:
    /// [`fingerprint`] of the rule id, the app, the location's identity and the expectation
    /// id (a file can break two expectations of one rule); for a leak, also the leak rule
    /// and the value's fingerprint (a file can hold several leaks).
    pub fn fingerprint(&self) -> String {
        let mut parts = vec![self.rule, self.app.as_deref().unwrap_or("")];
        let identity = self.location.identity();
        parts.push(&identity);
        parts.push(&self.expectation);
        if let Some(l) = &self.leak {
            parts.push(&l.rule);
            parts.push(&l.fingerprint);
        }
        fingerprint(&parts)
    }
}

/// The JSON shape of a [`PolicyFinding`] (field order of the schema).
#[derive(Serialize)]
struct PolicyFindingJson<'a> {
    rule: &'static str,
    severity: Severity,
    message: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    app: Option<&'a str>,
    location: &'a Location,
    expectation: &'a str,
    policy_line: usize,
    #[serde(skip_serializing_if = "Option::is_none")]
    leak: Option<&'a LeakRef>,
}

impl Serialize for PolicyFinding {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        PolicyFindingJson {
            rule: self.rule,
            severity: self.severity,
            message: &self.message,
            app: self.app.as_deref(),
            location: &self.location,
            expectation: &self.expectation,
            policy_line: self.policy_line,
            leak: self.leak.as_ref(),
        }
        .serialize(s)
    }
}

/// The outcome of one expectation of the policy.
#[derive(Debug, Clone, Serialize)]
pub struct ExpectationResult {
    /// Stable id: `backup.encrypted`, `app/<bundle>/must_not_back_up/<glob>`, …
    pub id: String,
    /// The rule it checks.
    pub rule: &'static str,
    pub severity: Severity,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub app: Option<String>,
    /// What it demands, in words.
    pub description: String,
    pub policy_line: usize,
    pub policy_column: usize,
    pub status: Status,
    /// Files or items it examined.
    pub checked: u64,
    pub findings: u64,
    /// Why it could not be checked, or a note on what was not examined.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct PolicyInfo {
    pub path: String,
    pub schema: u32,
}

#[derive(Debug, Clone, Serialize)]
pub struct CheckBackup {
    pub path: String,
    pub udid: Option<String>,
    pub device_name: Option<String>,
    pub ios_version: Option<String>,
    pub date: Option<String>,
    pub encrypted: Option<bool>,
    pub unlocked: bool,
}

#[derive(Debug, Clone, Default, Serialize)]
pub struct CheckSummary {
    pub expectations: u64,
    pub passed: u64,
    pub failed: u64,
    pub errors: u64,
    pub findings: u64,
    /// `{rule: findings}`.
    pub by_rule: BTreeMap<&'static str, u64>,
}

/// The whole report (`auditor.check/1`).
#[derive(Debug, Clone, Serialize)]
pub struct CheckReport {
    pub schema: &'static str,
    pub tool: ToolInfo,
    pub policy: PolicyInfo,
    pub backup: CheckBackup,
    /// Every expectation passed (and, under `--strict`, there is no warning).
    pub passed: bool,
    /// Judged under `--strict` ([`CheckReport::enforce_strict`]).
    pub strict: bool,
    /// Why a pass would prove little: the policy has no expectation, or an expectation
    /// examined nothing. Printed on stderr; `--strict` fails on any.
    pub warnings: Vec<String>,
    pub expectations: Vec<ExpectationResult>,
    pub findings: Vec<PolicyFinding>,
    pub summary: CheckSummary,
}

impl CheckReport {
    /// Judge strictly (`--strict`): any warning fails the check.
    pub fn enforce_strict(&mut self) {
        self.strict = true;
        if !self.warnings.is_empty() {
            self.passed = false;
        }
    }

    /// Findings of one expectation.
    pub fn findings_of<'a>(&'a self, id: &'a str) -> impl Iterator<Item = &'a PolicyFinding> + 'a {
        self.findings.iter().filter(move |f| f.expectation == id)
    }
}
