//! Renderers of audit results (table, JSON); the JSON schema is a versioned contract.
