//! Fuzz target bodies for `cargo fuzz` (see `targets.rs`, shared with the stable replay test).

#[path = "targets.rs"]
mod targets;
pub use targets::*;
