//! Leak detection: rules as data that find secrets and personal data in decoded content.
//!
//! `rules.toml` holds the rules (ids, categories, patterns, checks, examples and near
//! misses); [`rules::builtin`] compiles them once; [`Rules::scan_text`] and
//! [`Rules::scan_field`] report where values are ([`Hit`]: a byte span, never the value);
//! [`redact`] says where a secret is without echoing it.

pub mod decode;
pub mod der;
pub mod detect;
pub mod model;
pub mod redact;
pub mod rules;
pub mod sweep;
pub mod validate;

pub use detect::Hit;
pub use rules::{builtin, Category, Confidence, Rule, Rules};

#[cfg(test)]
mod tests;
