//! What a restore brings back of a keychain item (FORMAT §10, Apple's restore table).
//!
//! | backup | class | same device | other device | summary |
//! |---|---|---|---|---|
//! | encrypted | 6–8 (ak ck dk) | yes | yes | `any_device` |
//! | encrypted | 9–11 (aku cku dku, ThisDeviceOnly) | yes | no | `same_device_only` |
//! | unencrypted | 6–11 | yes | no | `same_device_only` |
//! | any | 12 (akpu) | no | no | `never` (never exported; if seen anyway, it is not restored) |
//! | any | unknown (header unreadable, 13 `f` unconfirmed, 0–5, >13) | ? | ? | `unknown` |
//!
//! For unknown classes `same_device`/`other_device` are `None`: the table above is all we
//! know, and guessing would be a claim the tool cannot support.

/// One-word summary of [`Restore`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum RestoreSummary {
    AnyDevice,
    SameDeviceOnly,
    Never,
    /// The class is unknown or not in the table: no claim is made.
    Unknown,
}

/// Whether an item comes back when this backup is restored.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub struct Restore {
    /// Restored to the device the backup was made from (`None` = unknown).
    pub same_device: Option<bool>,
    /// Restored to another device (`None` = unknown).
    pub other_device: Option<bool>,
    pub summary: RestoreSummary,
}

impl Restore {
    const ANY: Restore = Restore {
        same_device: Some(true),
        other_device: Some(true),
        summary: RestoreSummary::AnyDevice,
    };
    const SAME: Restore = Restore {
        same_device: Some(true),
        other_device: Some(false),
        summary: RestoreSummary::SameDeviceOnly,
    };
    const NEVER: Restore = Restore {
        same_device: Some(false),
        other_device: Some(false),
        summary: RestoreSummary::Never,
    };
    const UNKNOWN: Restore = Restore {
        same_device: None,
        other_device: None,
        summary: RestoreSummary::Unknown,
    };
}

/// The restore outcome of an item of protection `class` in an (un)encrypted local backup.
pub fn restore_for(class: Option<u32>, backup_encrypted: bool) -> Restore {
    match class {
        Some(12) => Restore::NEVER,
        Some(6..=8) if backup_encrypted => Restore::ANY,
        Some(6..=11) => Restore::SAME,
        _ => Restore::UNKNOWN,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn table() {
        for c in 6..=8 {
            assert_eq!(
                restore_for(Some(c), true).summary,
                RestoreSummary::AnyDevice
            );
            assert_eq!(restore_for(Some(c), true).other_device, Some(true));
            assert_eq!(
                restore_for(Some(c), false).summary,
                RestoreSummary::SameDeviceOnly
            );
        }
        for c in 9..=11 {
            for enc in [true, false] {
                let r = restore_for(Some(c), enc);
                assert_eq!(
                    (r.same_device, r.other_device, r.summary),
                    (Some(true), Some(false), RestoreSummary::SameDeviceOnly)
                );
            }
        }
        for enc in [true, false] {
            assert_eq!(restore_for(Some(12), enc).summary, RestoreSummary::Never);
            assert_eq!(restore_for(Some(12), enc).same_device, Some(false));
            for c in [None, Some(0), Some(3), Some(5), Some(13), Some(31)] {
                assert_eq!(restore_for(c, enc), Restore::UNKNOWN);
            }
        }
    }

    #[test]
    fn serialises_snake_case() {
        assert_eq!(
            serde_json::to_string(&RestoreSummary::AnyDevice).unwrap(),
            "\"any_device\""
        );
        assert_eq!(
            serde_json::to_string(&RestoreSummary::SameDeviceOnly).unwrap(),
            "\"same_device_only\""
        );
        assert_eq!(
            serde_json::to_string(&RestoreSummary::Never).unwrap(),
            "\"never\""
        );
        assert_eq!(
            serde_json::to_string(&restore_for(Some(9), true)).unwrap(),
            r#"{"same_device":true,"other_device":false,"summary":"same_device_only"}"#
        );
        assert_eq!(
            serde_json::to_string(&restore_for(None, true)).unwrap(),
            r#"{"same_device":null,"other_device":null,"summary":"unknown"}"#
        );
    }
}
