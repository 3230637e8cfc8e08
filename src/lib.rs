//! auditor: read iOS local (Finder/iTunes) backups and report what a restore brings back.
//!
//! The library has no printing in it: every stage takes typed input and returns typed
//! output (see `docs/architecture.md`); the `cli` module renders and maps errors to exit codes.

pub mod audit;
pub mod backup;
pub mod crypto;
pub mod diff;
pub mod error;
pub mod extract;
pub mod fixture;
pub mod index;
pub mod keychain;
pub mod leaks;
pub mod ownership;
pub mod patch;
pub mod policy;
pub mod report;
pub mod session;
pub mod tamper;
#[cfg(test)]
mod test_support;
mod trim;

pub use error::{Error, ExitCode};
