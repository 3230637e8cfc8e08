//! The tamper surface: settings in an app's files that a modified backup can change and
//! that look security-relevant, with the integrity evidence for each.
//!
//! `rules.toml` holds the rules (ids, categories, field names, value shapes, examples and
//! near misses); [`rules::builtin`] compiles them once; [`surface::surface`] walks the app
//! files (the leak sweep's selection, reader and decoders) and [`integrity`] looks for a
//! digest or HMAC of each file and value in the keychain and the other files.

pub mod integrity;
pub mod model;
pub mod rules;
pub mod shape;
pub mod surface;

pub use model::{Setting, Status, TamperReport, TAMPER_SCHEMA};

pub use rules::{builtin, Category, Rule, Rules};
pub use surface::{surface, TamperOptions};

/// The `--fail-on` gate over the settings: each rule with its settings at or above
/// `threshold` (unprotected security switches are `medium`, the rest `low`; protected
/// ones `info`).
pub fn gate(r: &TamperReport, threshold: crate::audit::Severity) -> crate::audit::finding::Gate {
    let rules = builtin();
    crate::audit::finding::Gate::new(
        threshold,
        r.settings.iter().filter_map(|s| {
            rules
                .get(&s.rule)
                .map(|rule| (rule.id.as_str(), s.severity, 1))
        }),
    )
}

/// A setting's severity (for `--fail-on` and SARIF): what a change does, and whether the
/// app would notice it.
pub fn severity(status: Status, category: Category) -> crate::audit::Severity {
    use crate::audit::Severity;
    match (status, category) {
        (Status::Protected, _) => Severity::Info,
        (_, Category::SecuritySwitch | Category::Endpoint) => Severity::Medium,
        (_, Category::Entitlement | Category::PolicyDocument) => Severity::Low,
    }
}
