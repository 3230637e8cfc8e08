//! Renderers of audit results (table, JSON); the JSON schema is a versioned contract.

pub mod json;
pub mod table;
