//! The result of `auditor check`: one outcome per expectation and the findings behind it.
//!
//! Serialised as the versioned JSON schema `auditor.check/1` (docs/json-schema.md).

use crate::audit::model::ToolInfo;
use crate::audit::Severity;
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

/// Where a finding is: in the backup (a top-level file), an app, a file, a keychain item.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Location {
    /// A top-level file of the backup (`Manifest.plist`, `Status.plist`).
    Backup { file: String },
    /// An app as a whole.
    App { bundle_id: String },
    /// A file of the backup: domain and relative path.
    File {
        domain: String,
        relative_path: String,
    },
    /// A keychain item: table, position, and the attributes that name it.
    Keychain {
        table: String,
        index: usize,
        #[serde(skip_serializing_if = "Option::is_none")]
        service: Option<String>,
        #[serde(skip_serializing_if = "Option::is_none")]
        account: Option<String>,
        #[serde(skip_serializing_if = "Option::is_none")]
        server: Option<String>,
        #[serde(skip_serializing_if = "Option::is_none")]
        access_group: Option<String>,
    },
}

impl Location {
    /// One line: `Status.plist`, `app com.x`, `AppDomain-com.x/Documents/a`,
    /// `keychain genp[3] service/account`.
    pub fn display(&self) -> String {
        match self {
            Location::Backup { file } => file.clone(),
            Location::App { bundle_id } => format!("app {bundle_id}"),
            Location::File {
                domain,
                relative_path,
            } => format!("{domain}/{relative_path}"),
            Location::Keychain {
                table,
                index,
                service,
                account,
                server,
                ..
            } => {
                let what = match (service, account, server) {
                    (Some(s), Some(a), _) => format!(" {s}/{a}"),
                    (Some(s), None, _) => format!(" {s}"),
                    (None, Some(a), Some(h)) => format!(" {a}@{h}"),
                    (None, None, Some(h)) => format!(" {h}"),
                    (None, Some(a), None) => format!(" {a}"),
                    _ => String::new(),
                };
                format!("keychain {table}[{index}]{what}")
            }
        }
    }
}

/// One finding of a policy rule.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PolicyFinding {
    /// Stable rule id (`policy.*`, docs/rules.md).
    pub rule: &'static str,
    pub severity: Severity,
    pub message: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub app: Option<String>,
    pub location: Location,
    /// Id of the expectation it breaks.
    pub expectation: String,
    /// Line of that expectation in the policy file.
    pub policy_line: usize,
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
    /// Every expectation passed.
    pub passed: bool,
    pub expectations: Vec<ExpectationResult>,
    pub findings: Vec<PolicyFinding>,
    pub summary: CheckSummary,
}

impl CheckReport {
    /// Findings of one expectation.
    pub fn findings_of<'a>(&'a self, id: &'a str) -> impl Iterator<Item = &'a PolicyFinding> + 'a {
        self.findings.iter().filter(move |f| f.expectation == id)
    }
}
