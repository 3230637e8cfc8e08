//! Renderers of audit results (tables, JSON, SARIF, JUnit); the JSON schema is a versioned contract.

pub mod backups;
pub mod check_table;
pub mod diff;
pub mod extract_table;
pub mod html;
pub mod json;
pub mod junit;
pub mod keychain;
pub mod leaks;
pub mod patch_table;
pub mod sarif;
pub mod style;
pub mod table;
pub mod tamper;
pub mod text;
