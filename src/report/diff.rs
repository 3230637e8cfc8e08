//! The diff report (`auditor.diff/1`) as a table within 80 columns and as SARIF with
//! `baselineState`.

use super::sarif::{log_with, path_uri, rule_descriptor, ToSarif, FINGERPRINT_KEY};
use super::text::{fit, fit_middle, line, wrap, WIDTH};
use crate::diff::model::{Area, Change, DiffBackup, DiffReport, State, Subject};
use crate::diff::rules;
use serde_json::{json, Value};
use std::io::{self, Write};
use std::path::Path;

/// Indent of a change's detail lines.
const DETAIL: usize = 6;

/// The marker of a change: `+` new, `-` absent, `~` updated, `=` unchanged; `!` when it
/// weakens protection.
pub fn marker(c: &Change) -> String {
    let s = match c.state {
        State::New => '+',
        State::Absent => '-',
        State::Updated => '~',
        State::Unchanged => '=',
    };
    format!("{s}{}", if c.weakened { "!" } else { " " })
}

/// What a change is about, in one line: the file, the app, the keychain item, the leak's
/// or setting's place.
pub fn subject_text(area: Area, s: &Subject) -> String {
    let o = |x: &Option<String>| x.clone().unwrap_or_default();
    match area {
        Area::Backup => "the backup".into(),
        Area::App => o(&s.bundle_id),
        Area::File | Area::Leak => format!("{}/{}", o(&s.domain), o(&s.path)),
        Area::Tamper => format!("{}/{} {}", o(&s.domain), o(&s.path), o(&s.key)),
        Area::Keychain => match s.matched_by {
            Some("class_and_ref") => format!(
                "{} sealed, class {}, ref {}",
                o(&s.table),
                s.protection_class.map_or("?".into(), |c| c.to_string()),
                o(&s.persistent_ref)
            ),
            _ => {
                let who = match (&s.service, &s.server) {
                    (Some(sv), _) => format!("{sv}/{}", o(&s.account)),
                    (None, Some(h)) => format!("{}@{h}", o(&s.account)),
                    _ => o(&s.account),
                };
                format!("{} {} ({})", o(&s.table), who, o(&s.access_group))
            }
        },
    }
}

fn side(out: &mut dyn Write, label: &str, b: &DiffBackup) -> io::Result<()> {
    line(
        out,
        &format!("  {label}  {}", fit_middle(&b.path, WIDTH - 7)),
    )?;
    let mut facts = Vec::new();
    if let Some(d) = &b.device_name {
        facts.push(d.clone());
    }
    if let Some(v) = &b.ios_version {
        facts.push(format!("iOS {v}"));
    }
    if let Some(d) = &b.date {
        facts.push(d.clone());
    }
    facts.push(
        if b.encrypted {
            "encrypted"
        } else {
            "not encrypted"
        }
        .into(),
    );
    line(
        out,
        &format!("       {}", fit(&facts.join(" · "), WIDTH - 7)),
    )
}

fn area_title(a: Area) -> &'static str {
    match a {
        Area::Backup => "Backup",
        Area::App => "Apps",
        Area::File => "Files",
        Area::Keychain => "Keychain items",
        Area::Leak => "Leaks",
        Area::Tamper => "Tamper surface",
    }
}

/// The table: both backups, what was compared, the changes by area (each: marker and
/// subject, then what changed and its kind), the totals and the notes.
pub fn write_table(out: &mut dyn Write, r: &DiffReport) -> io::Result<()> {
    line(out, "auditor diff")?;
    side(out, "old", &r.old)?;
    side(out, "new", &r.new)?;
    let c = &r.compared;
    let mut what = vec!["apps", "files"];
    for (on, name) in [
        (c.keychain, "keychain"),
        (c.leaks, "leaks"),
        (c.tamper, "tamper surface"),
    ] {
        if on {
            what.push(name);
        }
    }
    let scope = r
        .app
        .as_deref()
        .map_or(String::new(), |a| format!(" (app {a})"));
    line(out, &format!("compared: {}{scope}", what.join(", ")))?;
    let mut area = None;
    for ch in &r.changes {
        if area != Some(ch.area) {
            area = Some(ch.area);
            let n = r.changes.iter().filter(|x| x.area == ch.area).count();
            line(out, "")?;
            line(out, &format!("{} ({n})", area_title(ch.area)))?;
        }
        let head = format!("  {} ", marker(ch));
        line(
            out,
            &format!(
                "{head}{}",
                fit_middle(&subject_text(ch.area, &ch.subject), WIDTH - head.len())
            ),
        )?;
        let text = format!("{} [{}]", ch.message, ch.rule);
        for l in wrap(&text, WIDTH - DETAIL, WIDTH - DETAIL) {
            line(out, &format!("{:DETAIL$}{}", "", fit(&l, WIDTH - DETAIL)))?;
        }
    }
    line(out, "")?;
    let s = &r.summary;
    if s.changes == 0 {
        line(out, "no change")?;
    } else {
        let text = format!(
            "{} change{}: {} new, {} absent, {} updated; {} weaken{} protection (!)",
            s.changes,
            if s.changes == 1 { "" } else { "s" },
            s.new,
            s.absent,
            s.updated,
            s.weakened,
            if s.weakened == 1 { "s" } else { "" }
        );
        for l in wrap(&text, WIDTH, WIDTH) {
            line(out, &l)?;
        }
    }
    let u = &r.unchanged;
    let text = format!(
        "unchanged: {} apps, {} files, {} keychain items, {} leaks, {} settings",
        u.apps, u.files, u.keychain_items, u.leaks, u.tamper_settings
    );
    for l in wrap(&text, WIDTH, WIDTH) {
        line(out, &l)?;
    }
    for n in &r.notes {
        for (i, l) in wrap(n, WIDTH - 6, WIDTH - 6).iter().enumerate() {
            let p = if i == 0 { "note: " } else { "      " };
            line(out, &format!("{p}{}", fit(l, WIDTH - 6)))?;
        }
    }
    Ok(())
}

/// The SARIF level of a change: a new leak is an error, another weakening a warning, the
/// rest notes.
fn level(c: &Change) -> &'static str {
    match (c.weakened, c.area) {
        (true, Area::Leak) => "error",
        (true, _) => "warning",
        _ => "note",
    }
}

/// A fingerprint of what the change is about (its area and identity, not its kind or
/// message), so that one thing keeps its fingerprint from run to run.
pub fn identity_fingerprint(c: &Change) -> String {
    let subject = serde_json::to_string(&c.subject).unwrap_or_default();
    crate::audit::finding::fingerprint(&["diff", c.area.as_str(), &subject])
}

fn result(r: &DiffReport, c: &Change) -> Value {
    let rule_index = rules::ALL.iter().position(|x| x.id == c.rule).unwrap_or(0);
    let backup = if c.state == State::Absent {
        &r.old.path
    } else {
        &r.new.path
    };
    let subject = subject_text(c.area, &c.subject);
    json!({
        "ruleId": c.rule,
        "ruleIndex": rule_index,
        "level": level(c),
        "baselineState": c.state.as_str(),
        "message": {"text": format!("{subject}: {} (old {}, new {})", c.message, r.old.path, r.new.path)},
        "locations": [{
            "physicalLocation": {"artifactLocation": {"uri": path_uri(Path::new(backup))}},
            "logicalLocations": [{
                "name": subject,
                "fullyQualifiedName": format!("{}:{subject}", c.area.as_str()),
                "kind": "resource",
            }],
        }],
        "partialFingerprints": {FINGERPRINT_KEY: identity_fingerprint(c)},
        "properties": {
            "area": c.area,
            "weakened": c.weakened,
            "app": c.app,
            "subject": c.subject,
            "old": c.old,
            "new": c.new,
        },
    })
}

/// Every change with its `baselineState` (`new`, `absent`, `updated`), then the leaks on
/// both sides (`unchanged`).
impl ToSarif for DiffReport {
    fn to_sarif(&self) -> Value {
        let results = self
            .changes
            .iter()
            .chain(&self.unchanged_leaks)
            .map(|c| result(self, c))
            .collect();
        log_with(
            self.tool.version,
            rules::ALL.iter().map(rule_descriptor).collect(),
            json!({
                "old": self.old.path,
                "new": self.new.path,
                "changes": self.summary.changes,
                "weakened": self.summary.weakened,
            }),
            results,
        )
    }
}
