//! Keychain items of two sides matched and compared: readable items by table, access
//! group, service, account, server and port; sealed ones by table, class and persistent
//! reference.

use super::model::{Area, Change, Facts, State, Subject};
use super::{change, rules};
use crate::audit::keychain::is_sealed;
use crate::keychain::{KeychainItem, RestoreSummary};
use std::collections::{HashMap, VecDeque};

type ReadableKey<'a> = (
    &'a str,
    Option<&'a str>,
    Option<&'a str>,
    Option<&'a str>,
    Option<&'a str>,
    Option<i64>,
);

fn readable_key(it: &KeychainItem) -> ReadableKey<'_> {
    (
        it.table.as_str(),
        it.access_group.as_deref(),
        it.service.as_deref(),
        it.account.as_deref(),
        it.server.as_deref(),
        it.port,
    )
}

pub(super) fn restore_word(s: RestoreSummary) -> &'static str {
    match s {
        RestoreSummary::AnyDevice => "any_device",
        RestoreSummary::SameDeviceOnly => "same_device_only",
        RestoreSummary::Never => "never",
        RestoreSummary::Unknown => "unknown",
    }
}

/// When the item is available: 0 after unlock (`ak`), 1 after first unlock (`ck`), 2
/// always (`dk`).
fn availability(pdmn: &str) -> Option<u8> {
    match pdmn.trim_end_matches('u') {
        "ak" | "akp" => Some(0),
        "ck" => Some(1),
        "dk" => Some(2),
        _ => None,
    }
}

fn this_device_only(pdmn: &str) -> bool {
    pdmn.ends_with('u')
}

/// An accessibility that is no longer ThisDeviceOnly, or available earlier.
fn accessibility_weaker(old: &str, new: &str) -> bool {
    (this_device_only(old) && !this_device_only(new))
        || matches!((availability(old), availability(new)), (Some(a), Some(b)) if b > a)
}

fn facts(it: &KeychainItem) -> Facts {
    Facts {
        protection_class: it.protection_class,
        accessibility: it.pdmn.clone(),
        restore: Some(restore_word(it.restore.summary)),
        decryptable: Some(it.decryptable),
        ..Default::default()
    }
}

/// The identity of `it`: its attributes (`matched_by`: `attributes`, or `persistent_ref`
/// when its counterpart was sealed, the reference then given too), or, sealed, its class
/// and persistent reference (`class_and_ref`).
fn subject(it: &KeychainItem, matched_by: &'static str) -> Subject {
    if matched_by != "class_and_ref" {
        Subject {
            table: Some(it.table.clone()),
            matched_by: Some(matched_by),
            persistent_ref: it
                .persistent_ref
                .as_ref()
                .filter(|_| matched_by == "persistent_ref")
                .map(|p| p.hex.clone()),
            access_group: it.access_group.clone(),
            service: it.service.clone(),
            account: it.account.clone(),
            server: it.server.clone(),
            port: it.port,
            ..Default::default()
        }
    } else {
        Subject {
            table: Some(it.table.clone()),
            matched_by: Some("class_and_ref"),
            protection_class: it.protection_class,
            persistent_ref: it.persistent_ref.as_ref().map(|p| p.hex.clone()),
            ..Default::default()
        }
    }
}

/// How an unpaired item would be matched.
fn own_key(it: &KeychainItem) -> &'static str {
    if is_sealed(it) {
        "class_and_ref"
    } else {
        "attributes"
    }
}

/// A word on the item's class for added and removed items.
fn class_word(it: &KeychainItem) -> String {
    match (&it.pdmn, it.protection_class) {
        (Some(p), _) => format!(
            "accessibility {p}, restore {}",
            restore_word(it.restore.summary)
        ),
        (None, Some(c)) => format!("class {c}, restore {}", restore_word(it.restore.summary)),
        _ => format!("restore {}", restore_word(it.restore.summary)),
    }
}

/// Pair the unpaired items of `old` and `new` with the same table and persistent
/// reference that `fits` accepts (in export order).
fn pair_by_ref(
    old: &[KeychainItem],
    new: &[KeychainItem],
    pair_of_old: &mut [Option<usize>],
    taken: &mut [bool],
    fits: impl Fn(&KeychainItem, &KeychainItem) -> bool,
) {
    let mut by_ref: HashMap<(&str, &str), VecDeque<usize>> = HashMap::new();
    for (j, it) in new.iter().enumerate().filter(|(j, _)| !taken[*j]) {
        if let Some(p) = &it.persistent_ref {
            by_ref
                .entry((it.table.as_str(), p.hex.as_str()))
                .or_default()
                .push_back(j);
        }
    }
    for (i, a) in old.iter().enumerate() {
        let Some(p) = a
            .persistent_ref
            .as_ref()
            .filter(|_| pair_of_old[i].is_none())
        else {
            continue;
        };
        let Some(q) = by_ref.get_mut(&(a.table.as_str(), p.hex.as_str())) else {
            continue;
        };
        if let Some(pos) = q.iter().position(|&j| fits(a, &new[j])) {
            let j = q.remove(pos).expect("a position of the queue");
            pair_of_old[i] = Some(j);
            taken[j] = true;
        }
    }
}

/// Match and compare; returns the number of items alike on both sides.
pub(super) fn compare(old: &[KeychainItem], new: &[KeychainItem], out: &mut Vec<Change>) -> u64 {
    let mut pair_of_old: Vec<Option<usize>> = vec![None; old.len()];
    let mut taken = vec![false; new.len()];
    // Readable with readable, by attributes (several alike: in export order).
    let mut by_attr: HashMap<ReadableKey<'_>, VecDeque<usize>> = HashMap::new();
    for (j, it) in new.iter().enumerate().filter(|(_, it)| !is_sealed(it)) {
        by_attr.entry(readable_key(it)).or_default().push_back(j);
    }
    for (i, it) in old.iter().enumerate().filter(|(_, it)| !is_sealed(it)) {
        if let Some(j) = by_attr
            .get_mut(&readable_key(it))
            .and_then(VecDeque::pop_front)
        {
            pair_of_old[i] = Some(j);
            taken[j] = true;
        }
    }
    // Sealed with sealed, by table, class and persistent reference; then a sealed item
    // with a readable one (one backup could not open it: its class may be what changed),
    // by table and persistent reference.
    pair_by_ref(old, new, &mut pair_of_old, &mut taken, |a, b| {
        is_sealed(a) && is_sealed(b) && a.protection_class == b.protection_class
    });
    pair_by_ref(old, new, &mut pair_of_old, &mut taken, |a, b| {
        is_sealed(a) != is_sealed(b)
    });
    let mut unchanged = 0;
    for (i, a) in old.iter().enumerate() {
        let Some(j) = pair_of_old[i] else {
            let mut c = change(
                &rules::KEYCHAIN_REMOVED,
                Area::Keychain,
                State::Absent,
                subject(a, own_key(a)),
                Some(facts(a)),
                None,
                format!("no longer in the keychain ({})", class_word(a)),
            );
            c.app = a.app.clone();
            out.push(c);
            continue;
        };
        let b = &new[j];
        let restore = a.restore.summary != b.restore.summary;
        let access = a.pdmn != b.pdmn;
        if !(restore || access) {
            unchanged += 1;
            continue;
        }
        let now_migrates =
            b.restore.other_device == Some(true) && a.restore.other_device != Some(true);
        let weaker_access = match (&a.pdmn, &b.pdmn) {
            (Some(x), Some(y)) => accessibility_weaker(x, y),
            _ => false,
        };
        let mut what = Vec::new();
        if access {
            what.push(format!(
                "accessibility {} → {}",
                a.pdmn.as_deref().unwrap_or("?"),
                b.pdmn.as_deref().unwrap_or("?")
            ));
        }
        if restore {
            what.push(format!(
                "restore {} → {}",
                restore_word(a.restore.summary),
                restore_word(b.restore.summary)
            ));
        }
        let (sa, sb) = (is_sealed(a), is_sealed(b));
        let (shown, matched_by) = match (sa, sb) {
            (false, false) => (b, "attributes"),
            (true, true) => (b, "class_and_ref"),
            (false, true) => (a, "persistent_ref"),
            (true, false) => (b, "persistent_ref"),
        };
        let mut c = change(
            if restore {
                &rules::KEYCHAIN_RESTORE_CHANGED
            } else {
                &rules::KEYCHAIN_ACCESSIBILITY_CHANGED
            },
            Area::Keychain,
            State::Updated,
            subject(shown, matched_by),
            Some(facts(a)),
            Some(facts(b)),
            what.join("; "),
        );
        c.weakened = now_migrates || weaker_access;
        c.app = b.app.clone().or_else(|| a.app.clone());
        out.push(c);
    }
    for (j, b) in new.iter().enumerate().filter(|(j, _)| !taken[*j]) {
        let _ = j;
        let mut c = change(
            &rules::KEYCHAIN_ADDED,
            Area::Keychain,
            State::New,
            subject(b, own_key(b)),
            None,
            Some(facts(b)),
            format!("new in the keychain ({})", class_word(b)),
        );
        c.app = b.app.clone();
        out.push(c);
    }
    unchanged
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accessibility_weakening() {
        assert!(accessibility_weaker("aku", "ak"));
        assert!(accessibility_weaker("ak", "ck"));
        assert!(accessibility_weaker("cku", "dk"));
        assert!(!accessibility_weaker("ak", "aku"));
        assert!(!accessibility_weaker("ck", "ak"));
        assert!(!accessibility_weaker("ck", "ck"));
    }
}
