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

/// The bundled demo backup (encrypted), opened with its password.
fn demo_session() -> crate::session::Session {
    use crate::session::{open_unlocked, OpenOptions, Unlock};
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/demo");
    let pw = std::fs::read_to_string(root.join("password.txt")).unwrap();
    let opts = OpenOptions {
        unlock: Unlock::Password(crate::crypto::Password::from_string(
            pw.trim_end().to_string(),
        )),
        device_key: None,
        keys_needed: true,
        ask_password: None,
        progress: &mut |_| {},
    };
    open_unlocked(&root.join("00008130-000A11CE0DE0001E"), opts).unwrap()
}

/// The keychain audit of the bundled demo backup (encrypted, opened with its password).
pub(crate) fn demo_keychain() -> crate::audit::keychain::KeychainAudit {
    crate::audit::keychain::audit_backup(&demo_session()).unwrap()
}

/// The scan report of the bundled demo backup, every file's report kept.
pub(crate) fn demo_scan() -> crate::audit::ScanReport {
    crate::audit::scan::scan(&demo_session(), &Default::default()).unwrap()
}
