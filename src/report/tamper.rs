//! The tamper report (`auditor.tamper/1`) as a table within 80 columns (by app, file and
//! setting, each rule's fix once) and as SARIF.

use super::leaks::{
    by_app, clean, counted, counts, kind_str, within, write_by_app, write_fixes, write_notes,
};
use super::sarif::{
    level, log_with, path_uri, rule_name, security_severity, ToSarif, FINGERPRINT_KEY,
};
use super::table::human_bytes;
use super::text::{fit_middle, line, width, wrapped, WIDTH};
use crate::audit::Severity;
use crate::crypto::class::ProtectionClass;
use crate::tamper::model::{Setting, Status, TamperReport};
use crate::tamper::{builtin, Rule};
use serde_json::{json, Value};
use std::io::{self, Write};
use std::path::Path;

/// Columns of the header's labels.
const LABEL: usize = 12;
/// Indent of a setting's first line, under its file.
const INDENT: usize = 4;
/// Indent of a setting's further lines.
const DETAIL: usize = INDENT + 4;
/// The status column (`unprotected`).
const STATUS_W: usize = 11;
/// The rule id column (the longest built-in id, `tamper.biometrics-required`, is 26).
const RULE_W: usize = 26;

/// References every tamper rule's help names.
pub const TAMPER_REFERENCES: &str =
    "MASVS-STORAGE-1; MASVS-RESILIENCE-1; MAS-ATTACK-0009; MASTG-TEST-0058; MASWE-0006";

fn field(out: &mut dyn Write, label: &str, value: &str) -> io::Result<()> {
    wrapped(out, &format!("{label:<LABEL$}"), value, LABEL)
}

fn write_header(out: &mut dyn Write, r: &TamperReport) -> io::Result<()> {
    let b = &r.backup;
    let opt = |v: &Option<String>| v.as_deref().map_or_else(|| "-".into(), clean);
    field(out, "Backup", &clean(&b.path))?;
    let device = format!(
        "{} (UDID {}), iOS {}",
        opt(&b.device_name),
        opt(&b.udid),
        opt(&b.ios_version)
    );
    field(out, "Device", &device)?;
    let encrypted = match b.encrypted {
        Some(true) => "yes",
        Some(false) => "no",
        None => "unknown",
    };
    field(out, "Encrypted", encrypted)?;
    let k = &r.keychain;
    let keychain = if k.read {
        format!(
            "{}: {} decrypted and searched for digests ({} tried as HMAC keys), {} device-bound and not decryptable in this backup",
            counted(k.items, "item"),
            k.decryptable,
            k.hmac_keys,
            k.device_bound_undecryptable
        )
    } else {
        "not read: no digest could be looked for in it".into()
    };
    field(out, "Keychain", &keychain)?;
    if let Some(app) = &r.app {
        field(out, "Only app", &clean(app))?;
    }
    Ok(())
}

/// The value as shown: the value and its type, or why it is not shown.
fn shown(s: &Setting) -> String {
    match (&s.value, &s.preview) {
        _ if s.value_type == "document" => "the whole document".into(),
        (Some(v), _) => format!("= {} ({})", clean(v), s.value_type),
        (None, Some(p)) => format!(
            "= {} ({}, looks like a secret: see auditor leaks)",
            clean(p),
            s.value_type
        ),
        (None, None) => format!("({}, not shown)", s.value_type),
    }
}

fn write_setting(out: &mut dyn Write, s: &Setting) -> io::Result<()> {
    let head = format!(
        "{:INDENT$}{:<STATUS_W$} {:<RULE_W$} ",
        "",
        s.integrity.status.as_str(),
        clean(&s.rule)
    );
    let room = WIDTH.saturating_sub(width(&head)).max(12);
    line(
        out,
        &format!("{head}{}", within(&clean(&s.key), room, fit_middle)),
    )?;
    let indent = format!("{:DETAIL$}", "");
    wrapped(out, &indent, &shown(s), DETAIL)?;
    match (&s.integrity.by, s.integrity.status) {
        (Some(by), _) => wrapped(out, &format!("{indent}by "), &clean(by), DETAIL + 3)?,
        (None, Status::Unknown) => wrapped(
            out,
            &indent,
            &format!(
                "{} that this backup cannot decrypt could hold a digest",
                counted(s.integrity.device_bound_items, "device-bound keychain item")
            ),
            DETAIL,
        )?,
        _ => {}
    }
    if let Some(p) = &s.patch {
        let verb = if s.value_type == "document" {
            "--replace"
        } else {
            "--set"
        };
        wrapped(
            out,
            &format!("{indent}patch: {verb} "),
            &clean(p),
            DETAIL + 7,
        )?;
    }
    Ok(())
}

fn file_about(s: &Setting) -> String {
    let class = match s.protection_class {
        Some(c) => format!("class {c} {}", ProtectionClass::new(c).name()),
        None => "no protection class recorded".into(),
    };
    format!("{:INDENT$}{} file, {class}", "", kind_str(s.file_kind))
}

/// The settings by app, by file, in report order; each app's counts by status.
fn write_settings(out: &mut dyn Write, r: &TamperReport) -> io::Result<()> {
    let apps = by_app(&r.settings, |s| {
        (s.app.as_deref(), s.domain.as_str(), s.path.as_str())
    });
    let suffix = |all: &[&Setting]| {
        let by = |st: Status| all.iter().filter(|s| s.integrity.status == st).count() as u64;
        format!(
            ", {} ({} unprotected, {} unknown, {} protected)",
            counted(all.len() as u64, "setting"),
            by(Status::Unprotected),
            by(Status::Unknown),
            by(Status::Protected)
        )
    };
    write_by_app(out, &apps, &suffix, &|s| file_about(s), &|out, s| {
        write_setting(out, s)
    })
}

fn write_summary(out: &mut dyn Write, r: &TamperReport) -> io::Result<()> {
    let s = &r.summary;
    writeln!(out)?;
    line(out, "Summary")?;
    let searched = format!(
        "{} read, {} ({} bytes); files over {} not read",
        counted(s.files_searched, "file"),
        human_bytes(s.bytes_searched),
        s.bytes_searched,
        human_bytes(s.max_file_size)
    );
    wrapped(out, "  ", &searched, 4)?;
    if !s.skipped.is_empty() {
        let n: u64 = s.skipped.values().sum();
        let skipped = counts(s.skipped.iter().map(|(k, v)| (k, *v)));
        wrapped(
            out,
            &format!("  {} skipped: ", counted(n, "file")),
            &skipped,
            4,
        )?;
    }
    let total = format!(
        "{} in {}",
        counted(s.settings, "setting"),
        counted(s.files_with_settings, "file")
    );
    if s.by_category.is_empty() {
        line(out, &format!("  {total}"))?;
    } else {
        let cats = counts(s.by_category.iter().map(|(k, v)| (k.as_str(), *v)));
        wrapped(out, &format!("  {total}: "), &cats, 4)?;
        let st = counts(s.by_status.iter().map(|(k, v)| (k.as_str(), *v)));
        wrapped(out, "  integrity: ", &st, 4)?;
        let rules = clean(&counts(s.by_rule.iter().map(|(k, v)| (k, *v))));
        wrapped(out, "  by rule: ", &rules, 4)?;
    }
    if s.third_party_skipped > 0 {
        wrapped(
            out,
            "  ",
            &format!(
                "{} of third-party SDKs or event queues left out",
                counted(s.third_party_skipped, "matching field")
            ),
            4,
        )?;
    }
    Ok(())
}

/// Write the tamper report as text: the backup and its keychain, the settings by app and
/// file with their integrity, what to do once per rule, the files not read in full, the
/// summary.
pub fn write_table(out: &mut dyn Write, r: &TamperReport) -> io::Result<()> {
    write_header(out, r)?;
    if r.settings.is_empty() {
        writeln!(out)?;
        line(
            out,
            &format!(
                "No tamperable settings found in {} read",
                counted(r.summary.files_searched, "file")
            ),
        )?;
    } else {
        write_settings(out, r)?;
        write_fixes(
            out,
            r.settings
                .iter()
                .map(|s| (s.rule.as_str(), s.title.as_str(), s.fix.as_str())),
        )?;
    }
    write_notes(out, &r.notes)?;
    write_summary(out, r)
}

/// The SARIF descriptor of a tamper rule.
fn rule_descriptor(r: &Rule) -> Value {
    let severity = crate::tamper::severity(Status::Unprotected, r.category);
    let tags: Vec<&str> = ["security", "ios-backup", "tamper", r.category.as_str()]
        .into_iter()
        .chain(TAMPER_REFERENCES.split("; "))
        .collect();
    json!({
        "id": r.id,
        "name": rule_name(&r.id),
        "shortDescription": {"text": r.title},
        "fullDescription": {"text": r.why},
        "help": {
            "text": format!("{}\n\n{}\n\nHow to fix: {}\n\nReferences: {TAMPER_REFERENCES}", r.title, r.why, r.fix),
            "markdown": format!(
                "**{}**\n\n{}\n\n**How to fix:** {}\n\n**References:** {TAMPER_REFERENCES}\n\nSee docs/rules.md (Tamper rules) and docs/tamper.md.",
                r.title, r.why, r.fix
            ),
        },
        "defaultConfiguration": {"level": level(severity)},
        "properties": {
            "tags": tags,
            "precision": "medium",
            "problem.severity": match severity { Severity::High => "error", Severity::Medium => "warning", _ => "recommendation" },
            "security-severity": security_severity(severity),
            "category": r.category.as_str(),
        },
    })
}

/// `tamper`: the built-in tamper rules, one result per setting (fingerprinted by rule,
/// file and key).
impl ToSarif for TamperReport {
    fn to_sarif(&self) -> Value {
        let rules = &builtin().rules;
        let results = self
            .settings
            .iter()
            .map(|s| {
                let file = format!("{}/{}", s.domain, s.path);
                let place = format!("{file} at {}", s.key);
                let index = rules.iter().position(|r| r.id == s.rule).unwrap_or(0);
                let value = match (&s.value, &s.preview) {
                    (Some(v), _) => v.clone(),
                    (None, Some(p)) => p.clone(),
                    (None, None) => s.value_type.to_string(),
                };
                json!({
                    "ruleId": s.rule,
                    "ruleIndex": index,
                    "level": level(s.severity),
                    "message": {"text": format!(
                        "{} in {file} at {} = {value}: integrity {}",
                        s.title, s.key, s.integrity.status.as_str()
                    )},
                    "locations": [{
                        "physicalLocation": {"artifactLocation": {"uri": path_uri(Path::new(&file))}},
                        "logicalLocations": [{"name": place, "fullyQualifiedName": place, "kind": "resource"}],
                    }],
                    "partialFingerprints": {
                        FINGERPRINT_KEY: crate::audit::finding::fingerprint(&[&s.rule, &file, &s.key]),
                    },
                    "properties": {
                        "severity": s.severity.as_str(),
                        "app": s.app,
                        "category": s.category.as_str(),
                        "key": s.key,
                        "location": s.location,
                        "value": s.value,
                        "value_type": s.value_type,
                        "redacted": s.redacted,
                        "integrity": s.integrity,
                        "patch": s.patch,
                    },
                })
            })
            .collect();
        let mut invocation = json!({
            "backup": self.backup.path,
            "files_searched": self.summary.files_searched,
            "settings": self.summary.settings,
        });
        if let Some(app) = &self.app {
            invocation["app"] = json!(app);
        }
        log_with(
            self.tool.version,
            rules.iter().map(rule_descriptor).collect(),
            invocation,
            results,
        )
    }
}
