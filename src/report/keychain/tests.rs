//! The keychain table on the bundled demo backup: columns, legend, grouping, filter, fixes.

use super::*;
use crate::audit::keychain::KeychainAudit;
use crate::test_support::demo_keychain;

/// The table of `a` as text.
fn table(a: &KeychainAudit, show_secrets: bool) -> String {
    let mut out = Vec::new();
    write_table(&mut out, a, show_secrets).unwrap();
    String::from_utf8(out).unwrap()
}

/// The lines of `text` up to the `Findings` heading (whose messages are the scan's format).
fn body(text: &str) -> Vec<&str> {
    text.lines().take_while(|l| *l != "Findings").collect()
}

#[test]
fn rows_fit_80_columns_with_a_fixed_fingerprint_column_and_a_legend() {
    let mut a = demo_keychain();
    a.items[0].service = Some(format!("com.example.messenger.{}", "x".repeat(90)));
    let text = table(&a, false);
    let header = text.lines().find(|l| l.starts_with("tbl ")).unwrap();
    let at = header.find("fingerprint").unwrap();
    for it in a.items.iter().filter(|i| i.decryptable) {
        let fp = it.secret_fingerprint.as_deref().unwrap();
        let row = text.lines().find(|l| l.contains(fp)).unwrap();
        assert_eq!(row.find(fp), Some(at), "{row}");
    }
    let long = text
        .lines()
        .find(|l| l.contains("com.example.messenger.x"))
        .unwrap();
    assert!(long.ends_with('…') && long.chars().count() == 80, "{long}");
    for l in body(&text) {
        // The path of the backup is the data's own length; the rest wraps or is cut.
        if !l.starts_with("Keychain of") {
            assert!(l.chars().count() <= 80, "{l}");
        }
    }
    assert!(text.lines().all(|l| l == l.trim_end()), "trailing spaces");
    for word in ["cls:", "pdmn:", "TDO:", "dec:", "restore:"] {
        assert!(text.contains(word), "legend lacks {word}");
    }
}

#[test]
fn sealed_items_are_one_line_per_class_with_a_count() {
    let mut a = demo_keychain();
    let sealed = a
        .items
        .iter()
        .find(|i| i.protection_class == Some(11))
        .unwrap()
        .clone();
    for n in 0..23 {
        let mut it = sealed.clone();
        it.index = 100 + n;
        a.items.push(it);
    }
    let text = table(&a, false);
    let reason = sealed.reason.as_deref().unwrap();
    assert_eq!(text.matches(reason).count(), 1, "{text}");
    assert!(text.contains("24 items  cls 11 dku   genp 24"), "{text}");
    // A class with one sealed item: "1 item", never "1 items".
    assert!(text.contains("1 item  cls  9 aku"), "{text}");
    assert!(!text.contains("1 items"));
}

#[test]
fn each_finding_has_its_fix_under_it() {
    let a = demo_keychain();
    assert!(!a.findings.is_empty());
    let text = table(&a, false);
    // Messages and fixes wrap to 80 columns: read the text with its line breaks undone.
    let flat = text.split_whitespace().collect::<Vec<_>>().join(" ");
    for f in &a.findings {
        let fix = crate::audit::rules::by_id(f.rule).unwrap().fix;
        let want = format!(
            "{} {} {} [{}] fix: {fix}",
            f.severity.as_str(),
            f.rule,
            f.message,
            f.location
        );
        assert!(flat.contains(&want), "{want}\n{text}");
    }
}

#[test]
fn app_filter_counts_the_items_shown_and_says_sealed_ones_may_be_the_apps() {
    let mut a = demo_keychain();
    let whole = table(&a, false);
    assert!(
        whole.contains("\n6 items: 3 decryptable, 3 device-bound"),
        "{whole}"
    );
    assert!(!whole.contains("may belong"));
    a.retain_app("com.example.notes");
    let text = table(&a, false);
    assert!(
        text.contains("\n1 item of com.example.notes: 1 decryptable, 0 device-bound, 0 lost"),
        "{text}"
    );
    assert!(
        text.contains("+ 3 sealed items (of the keychain's 6) may belong to com.example.notes too"),
        "{text}"
    );
    assert!(!text.contains("com.example.messenger"), "{text}");
}

#[test]
fn secrets_only_when_asked() {
    let a = demo_keychain();
    let secret = a.items[0]
        .secret
        .as_ref()
        .unwrap()
        .as_utf8()
        .unwrap()
        .to_string();
    assert!(!table(&a, false).contains(&secret));
    assert!(table(&a, true).contains(&format!("     secret: {secret}")));
}

#[test]
fn json_has_every_field_of_the_audit_and_classes_in_numeric_order() {
    let a = demo_keychain();
    let text = serde_json::to_string(&json(&a, false)).unwrap();
    let v: serde_json::Value = serde_json::from_str(&text).unwrap();
    let whole = serde_json::to_value(&a).unwrap();
    for (k, want) in whole.as_object().unwrap() {
        assert_eq!(&v[k], want, "{k}");
    }
    assert_eq!(v["secrets_shown"], false);
    assert_eq!(
        v.as_object().unwrap().len(),
        whole.as_object().unwrap().len() + 1
    );
    let classes: Vec<u64> = a
        .summary
        .by_class
        .keys()
        .filter_map(|k| k.parse().ok())
        .collect();
    assert!(classes.iter().any(|c| *c >= 10) && classes.iter().any(|c| *c < 10));
    let summary = &text[text.find("\"summary\":").unwrap()..];
    let mut pos: Vec<(usize, u64)> = classes
        .iter()
        .map(|c| (summary.find(&format!("\"{c}\":")).unwrap(), *c))
        .collect();
    pos.sort();
    assert!(pos.windows(2).all(|w| w[0].1 < w[1].1), "{summary}");
}
