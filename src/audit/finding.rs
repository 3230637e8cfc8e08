//! Findings: a stable rule id, a severity, a message, a typed location and a fingerprint.
//!
//! This is the one finding model of every command: `scan`, `info` and `keychain` report
//! [`Finding`]s of the scan catalogue ([`rules`]); `check` wraps the same [`Finding`] with
//! the expectation it breaks (`policy::report::PolicyFinding`) and reports rules of the
//! policy catalogue (`policy::rules`), of the same [`Rule`] type. Renderers (table, JSON,
//! SARIF) take findings of any command.

mod location;
pub mod rules;

pub use location::Location;

use serde::{Serialize, Serializer};
use sha2::{Digest, Sha256};

/// Severity of a finding, ordered: `info < low < medium < high`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Info,
    Low,
    Medium,
    High,
}

impl Severity {
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Info => "info",
            Severity::Low => "low",
            Severity::Medium => "medium",
            Severity::High => "high",
        }
    }
}

impl std::str::FromStr for Severity {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s.to_ascii_lowercase().as_str() {
            "info" => Ok(Severity::Info),
            "low" => Ok(Severity::Low),
            "medium" => Ok(Severity::Medium),
            "high" => Ok(Severity::High),
            other => Err(format!(
                "unknown severity '{other}' (info, low, medium, high)"
            )),
        }
    }
}

/// What a `--fail-on` threshold fails on: the findings at or above it, counted per rule.
#[derive(Debug, Clone)]
pub struct Gate {
    pub threshold: Severity,
    /// Rule id → (severity, findings).
    pub rules: std::collections::BTreeMap<&'static str, (Severity, u64)>,
}

impl Gate {
    /// Count `n` findings of `rule` (of severity `severity`) at `threshold`.
    pub fn new(
        threshold: Severity,
        counts: impl IntoIterator<Item = (&'static str, Severity, u64)>,
    ) -> Gate {
        let mut rules = std::collections::BTreeMap::new();
        for (rule, severity, n) in counts {
            if severity >= threshold && n > 0 {
                let e = rules.entry(rule).or_insert((severity, 0));
                e.1 += n;
            }
        }
        Gate { threshold, rules }
    }

    /// The gate over a list of findings.
    pub fn of<'a>(threshold: Severity, findings: impl IntoIterator<Item = &'a Finding>) -> Gate {
        Gate::new(
            threshold,
            findings.into_iter().map(|f| (f.rule, f.severity, 1)),
        )
    }

    /// Does a finding reach the threshold?
    pub fn fails(&self) -> bool {
        !self.rules.is_empty()
    }
}

impl std::fmt::Display for Gate {
    /// `3 findings at or above medium: file.missing (medium) x2, backup.weak-kdf (medium) x1`
    /// (highest severity first).
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let total: u64 = self.rules.values().map(|v| v.1).sum();
        let mut rules: Vec<_> = self.rules.iter().collect();
        rules.sort_by(|a, b| b.1 .0.cmp(&a.1 .0).then(a.0.cmp(b.0)));
        write!(
            f,
            "{total} finding{} at or above {}:",
            if total == 1 { "" } else { "s" },
            self.threshold.as_str()
        )?;
        for (i, (rule, (sev, n))) in rules.iter().enumerate() {
            let sep = if i == 0 { " " } else { ", " };
            write!(f, "{sep}{rule} ({}) x{n}", sev.as_str())?;
        }
        Ok(())
    }
}

/// A rule of a catalogue: stable id, default severity, one-line title, one-line fix and
/// references (MASVS/MASTG ids separated by `;`, possibly none). docs/rules.md documents
/// every rule; SARIF carries them as its `rules`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Rule {
    pub id: &'static str,
    pub severity: Severity,
    /// One line: what the rule finds.
    pub title: &'static str,
    /// One line: what to do about it (printed under each finding of the scan table).
    pub fix: &'static str,
    /// MASVS / MASTG references, `;`-separated; empty when none applies.
    pub references: &'static str,
}

/// Declares a catalogue: one `const` [`Rule`] per line and `ALL`, every rule in order.
macro_rules! catalogue {
    ($($name:ident = ($id:literal, $sev:ident, $title:literal, $fix:literal, $refs:literal);)*) => {
        $(pub const $name: $crate::audit::finding::Rule = $crate::audit::finding::Rule {
            id: $id,
            severity: $crate::audit::finding::Severity::$sev,
            title: $title,
            fix: $fix,
            references: $refs,
        };)*
        /// Every rule of this catalogue, in documentation order.
        pub const ALL: &[$crate::audit::finding::Rule] = &[$($name),*];
    };
}
pub(crate) use catalogue;

/// One finding. `rule` ids are a documented contract (docs/rules.md).
///
/// JSON (`auditor.scan/1`, `keychain`): `{rule, severity, message, location?}` with the
/// location as one line of text ([`Location`]'s `Display`), absent for the backup as a whole.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Finding {
    pub rule: &'static str,
    pub severity: Severity,
    pub message: String,
    /// Where: a file of the backup folder, a file of the index (`domain/relativePath`), a
    /// payload, an app or a keychain item; [`Location::whole`] for the backup as a whole.
    #[serde(
        skip_serializing_if = "Location::is_whole",
        serialize_with = "location_text"
    )]
    pub location: Location,
}

fn location_text<S: Serializer>(l: &Location, s: S) -> Result<S::Ok, S::Error> {
    s.collect_str(l)
}

impl Finding {
    /// A finding of `rule` (its default severity) about the backup as a whole.
    pub fn new(rule: &Rule, message: impl Into<String>) -> Self {
        Finding {
            rule: rule.id,
            severity: rule.severity,
            message: message.into(),
            location: Location::whole(),
        }
    }

    /// The same finding, at `location`.
    pub fn at(mut self, location: impl Into<Location>) -> Self {
        self.location = location.into();
        self
    }

    /// Stable identity of the finding: [`fingerprint`] of its rule id and its location's
    /// [`Location::identity`]. It depends neither on the message (which may carry sizes or
    /// counts) nor on where the backup is.
    pub fn fingerprint(&self) -> String {
        fingerprint(&[self.rule, &self.location.identity()])
    }
}

/// The fingerprint of a finding's identifying parts: the first 16 bytes of SHA-256 over
/// every part followed by a NUL byte, in lower-case hex (32 digits).
pub fn fingerprint(parts: &[&str]) -> String {
    let mut h = Sha256::new();
    for part in parts {
        h.update(part.as_bytes());
        h.update([0u8]);
    }
    hex::encode(&h.finalize()[..16])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn location_serialises_as_its_text_and_the_whole_backup_not_at_all() {
        let f = Finding::new(&rules::FILE_MISSING, "gone").at(Location::file("D", "a/b"));
        let v = serde_json::to_value(&f).unwrap();
        assert_eq!(v["location"], "D/a/b");
        assert_eq!(v["rule"], "file.missing");
        assert_eq!(v["severity"], "medium");
        let text = serde_json::to_string(&Finding::new(&rules::BACKUP_NOTE, "n")).unwrap();
        assert_eq!(
            text,
            r#"{"rule":"backup.note","severity":"info","message":"n"}"#
        );
    }

    #[test]
    fn fingerprint_is_of_rule_and_location_not_message() {
        let a = Finding::new(&rules::FILE_MISSING, "one").at(Location::file("D", "x"));
        let b = Finding::new(&rules::FILE_MISSING, "two").at(Location::file("D", "x"));
        assert_eq!(a.fingerprint(), b.fingerprint());
        assert_eq!(a.fingerprint().len(), 32);
        // Another location, or another rule at the same location, is another finding.
        let c = a.clone().at(Location::file("D", "y"));
        assert_ne!(a.fingerprint(), c.fingerprint());
        let d = Finding::new(&rules::FILE_ORPHAN, "one").at(Location::file("D", "x"));
        assert_ne!(a.fingerprint(), d.fingerprint());
        // Parts are separated: ("ab", "c") is not ("a", "bc").
        assert_ne!(fingerprint(&["ab", "c"]), fingerprint(&["a", "bc"]));
        assert_eq!(
            fingerprint(&[]),
            "e3b0c44298fc1c149afbf4c8996fb924",
            "SHA-256 of nothing"
        );
    }
}
