//! Helpers for the library's unit tests (compiled only under `cfg(test)`).

use std::path::{Path, PathBuf};

/// `../shared/<rel>` beside the repository, or None after saying that the test skips.
pub(crate) fn shared(rel: &str) -> Option<PathBuf> {
    let p = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../shared")
        .join(rel);
    if p.exists() {
        Some(p)
    } else {
        eprintln!("skipped: {} not found", p.display());
        None
    }
}
