//! The keychain audit's advice findings and its `--app` filter, on the bundled demo backup.

use super::*;
use crate::test_support::demo_keychain;

/// The rule ids of `findings` at item `table[index]`.
fn rules_at(findings: &[Finding], table: &str, index: usize) -> Vec<&'static str> {
    findings
        .iter()
        .filter(|f| {
            matches!(&f.location, Location::Keychain { table: t, index: i, .. }
                if t == table && *i == index)
        })
        .map(|f| f.rule)
        .collect()
}

/// The findings `advice_findings` gives for `it`.
fn advice(it: &KeychainItem) -> Vec<&'static str> {
    let mut f = Vec::new();
    advice_findings(it, &mut f);
    f.iter().map(|f| f.rule).collect()
}

#[test]
fn deprecated_class_and_migratable_token_fire_on_apps_items() {
    let a = demo_keychain();
    // genp[1]: com.example.notes, dk (kSecAttrAccessibleAlways).
    assert_eq!(
        rules_at(&a.findings, "genp", 1),
        ["keychain.deprecated-class"]
    );
    // genp[0]: com.example.messenger.token, ak: restores to any device.
    assert_eq!(
        rules_at(&a.findings, "genp", 0),
        ["keychain.migratable-token"]
    );
    // Near misses: the bank's ck login (no token word), the sealed dku item (app unknown).
    assert!(rules_at(&a.findings, "inet", 0).is_empty());
    assert!(rules_at(&a.findings, "genp", 3).is_empty());
    // The messages say where and why, never the secret.
    for it in a.items.iter().filter(|i| i.decryptable) {
        let secret = it.secret.as_ref().and_then(|s| s.as_utf8()).unwrap();
        assert!(a.findings.iter().all(|f| !f.message.contains(secret)));
    }
}

#[test]
fn advice_needs_an_apps_item_and_a_migrating_token() {
    let a = demo_keychain();
    let notes = a
        .items
        .iter()
        .find(|i| i.pdmn.as_deref() == Some("dk"))
        .unwrap();
    let token = &a.items[0];
    assert_eq!(advice(notes), ["keychain.deprecated-class"]);
    assert_eq!(advice(token), ["keychain.migratable-token"]);
    // Apple's own items are not the app developer's to fix.
    let mut apple = notes.clone();
    apple.app = Some(ownership::SYSTEM_OWNER.into());
    assert!(advice(&apple).is_empty());
    // A token that stays on the device is what the advice asks for.
    let mut tdo = token.clone();
    tdo.restore.other_device = Some(false);
    assert!(advice(&tdo).is_empty());
    // An `ak` item whose names say nothing of a session.
    let mut plain = token.clone();
    plain.service = Some("com.example.messenger.settings".into());
    plain.label = Some("Messenger settings".into());
    assert!(advice(&plain).is_empty());
    plain.label = Some("refreshToken".into());
    assert_eq!(advice(&plain), ["keychain.migratable-token"]);
}

#[test]
fn retain_app_recounts_the_summary_and_keeps_the_apps_findings() {
    let mut a = demo_keychain();
    assert_eq!(a.summary.items, 6);
    assert!(a.app_filter.is_none());
    a.retain_app("com.example.notes");
    assert_eq!(a.items.len(), 1);
    assert_eq!(
        (
            a.summary.items,
            a.summary.decryptable,
            a.summary.device_bound
        ),
        (1, 1, 0)
    );
    assert_eq!(a.summary.by_restore.get("any_device"), Some(&1));
    assert_eq!(a.summary.by_restore.get("same_device_only"), None);
    let f = a.app_filter.as_ref().unwrap();
    assert_eq!((f.keychain_items, f.may_belong), (6, 3));
    // The messenger's token finding is another app's: gone; the notes' one stays.
    let rules: Vec<&str> = a.findings.iter().map(|f| f.rule).collect();
    assert_eq!(rules, ["keychain.deprecated-class"]);
}

#[test]
fn retain_app_of_an_app_with_no_items_keeps_only_the_sealed_count() {
    let mut a = demo_keychain();
    a.retain_app("com.example.absent");
    assert_eq!(a.summary.items, 0);
    assert!(a.findings.is_empty());
    assert_eq!(a.app_filter.as_ref().unwrap().may_belong, 3);
}
