//! The findings model and the rules that classify a backup, its files and keychain items.

mod app_view;
mod apps;
mod checks;
mod files;
pub mod finding;
pub mod keychain;
pub mod model;
mod payload;
pub mod routes;
pub mod scan;

pub use finding::{rules, Finding, Location, Rule, Severity};
pub use model::*;
