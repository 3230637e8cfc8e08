//! Renderers of audit results (table, JSON, SARIF, JUnit); the JSON schema is a versioned contract.

pub mod json;
pub mod junit;
pub mod sarif;
pub mod table;
