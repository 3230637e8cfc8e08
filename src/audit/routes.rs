//! Every restore route of an app file (docs/restore.md): from its class and its keybag record.
//!
//! Files do not depend on the class the way keychain items do: a restore rewrites them and
//! re-encrypts them under their class on the device they land on. What can stop a file is a
//! class key the backup holds only under the device's UID key (`device_bound`: WRAP with the
//! device bit), and a class Apple does not describe (5 and above, or none recorded).

use crate::index::FileKind;
use crate::keychain::{Outcome, RouteOutcome, Routes};

/// Apple's documented file classes: A–D (1–4).
fn documented_class(class: Option<u32>) -> bool {
    matches!(class, Some(1..=4))
}

/// The routes of a regular file of `class`, `device_bound` when the backup keybag holds its
/// class key under the device key. `None` for rows that are not regular files.
pub fn file_routes(kind: FileKind, class: Option<u32>, device_bound: bool) -> Option<Routes> {
    if kind != FileKind::File {
        return None;
    }
    let known = documented_class(class) && !device_bound;
    let local_encrypted = if device_bound {
        // The class key opens only on the device it was made on (FORMAT §5, the keybag's WRAP);
        // whether that device takes it back is not documented.
        RouteOutcome {
            same_device: Outcome::Unknown,
            other_device: Outcome::No,
        }
    } else if known {
        RouteOutcome::BOTH
    } else {
        RouteOutcome::UNKNOWN
    };
    Some(Routes {
        local_encrypted,
        // Unencrypted: "the files aren't encrypted regardless of their Data Protection class".
        local_unencrypted: RouteOutcome::BOTH,
        icloud_backup: if known {
            RouteOutcome::BOTH
        } else {
            RouteOutcome::UNKNOWN
        },
        // iCloud Keychain holds keychain items, never files.
        icloud_keychain: RouteOutcome::NONE,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use Outcome::{No, Unknown, Yes};

    #[test]
    fn documented_classes_come_back_everywhere_but_icloud_keychain() {
        for c in 1..=4 {
            let r = file_routes(FileKind::File, Some(c), false).unwrap();
            assert_eq!(r.local_encrypted, RouteOutcome::BOTH);
            assert_eq!(r.local_unencrypted, RouteOutcome::BOTH);
            assert_eq!(r.icloud_backup, RouteOutcome::BOTH);
            assert_eq!(r.icloud_keychain, RouteOutcome::NONE);
            assert_eq!(r.new_device_letters(), "euc-");
        }
    }

    #[test]
    fn device_bound_class_stays_off_other_devices_when_encrypted() {
        let r = file_routes(FileKind::File, Some(5), true).unwrap();
        assert_eq!(
            (
                r.local_encrypted.same_device,
                r.local_encrypted.other_device
            ),
            (Unknown, No)
        );
        // An unencrypted backup stores the file in the clear: it comes back.
        assert_eq!(
            (
                r.local_unencrypted.same_device,
                r.local_unencrypted.other_device
            ),
            (Yes, Yes)
        );
        assert_eq!(r.icloud_backup, RouteOutcome::UNKNOWN);
        assert_eq!(r.new_device_letters(), "-u?-");
        // A documented class whose key is device-bound in this keybag is no better.
        let d = file_routes(FileKind::File, Some(3), true).unwrap();
        assert_eq!(d.local_encrypted.other_device, No);
    }

    #[test]
    fn undocumented_or_missing_class_is_unknown_except_unencrypted() {
        for c in [None, Some(0), Some(5), Some(9)] {
            let r = file_routes(FileKind::File, c, false).unwrap();
            assert_eq!(r.local_encrypted, RouteOutcome::UNKNOWN, "{c:?}");
            assert_eq!(r.icloud_backup, RouteOutcome::UNKNOWN, "{c:?}");
            assert_eq!(r.local_unencrypted, RouteOutcome::BOTH, "{c:?}");
            assert_eq!(r.new_device_letters(), "?u?-");
        }
    }

    #[test]
    fn only_regular_files_have_routes() {
        for k in [FileKind::Directory, FileKind::Symlink, FileKind::Other] {
            assert_eq!(file_routes(k, Some(3), false), None);
        }
    }
}
