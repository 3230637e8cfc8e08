//! The keychain audit as HTML: the keychain file, charts by class, restore outcome and
//! table, findings, and each app's items (secrets only with `--show-secrets`, as in JSON).

use super::page::{at, badge, num, text, Column, Page};
use super::{backup_facts, bars, by_app, class_bars, model, rows, FINDING_COLUMNS};
use crate::audit::keychain::KeychainAudit;
use crate::ownership::SYSTEM_OWNER;
use std::io::Write;

/// The columns of an items table (`/items`).
pub const ITEM_COLUMNS: &[Column] = &[
    text("table", "Table", "/table"),
    num("class", "Class", "/protection_class"),
    text("accessibility", "Accessibility", "/accessibility"),
    text("this_device_only", "ThisDeviceOnly", "/this_device_only"),
    text("decryptable", "Decrypted", "/decryptable"),
    badge("restore", "Restore", "/restore/summary"),
    text("service", "Service", "/service"),
    text("account", "Account", "/account"),
    text("server", "Server", "/server"),
    text("label", "Label", "/label"),
    text("access_group", "Access group", "/access_group"),
    text("fingerprint", "Fingerprint", "/fingerprint"),
    text("reason", "Not decrypted because", "/reason"),
];

/// The secret column, added when the JSON carries secrets (`secrets_shown`).
pub const SECRET_COLUMN: Column = text("secret", "Secret", "/secret");

/// Write the keychain audit as one HTML page; secrets only when `show_secrets` (the same
/// document as `report::keychain::json`).
pub fn write(out: &mut dyn Write, a: &KeychainAudit, show_secrets: bool) -> std::io::Result<()> {
    let v = model(&crate::report::keychain::json(a, show_secrets))?;
    let mut p = Page::new("keychain", &v, &at(&v, "/backup/path"));
    p.section("summary", "Summary", None);
    p.row();
    backup_facts(&mut p, &v);
    p.facts(
        "Keychain file",
        &[
            ("present", at(&v, "/keychain_file/present")),
            ("file id", at(&v, "/keychain_file/file_id")),
            ("encrypted", at(&v, "/keychain_file/encrypted")),
            (
                "protection class",
                at(&v, "/keychain_file/protection_class"),
            ),
            ("bytes", at(&v, "/keychain_file/bytes")),
            (
                "keybag matches",
                at(&v, "/keychain_file/keybag_uuid_matches"),
            ),
        ],
    );
    p.facts(
        "Counts",
        &[
            ("items", at(&v, "/summary/items")),
            ("decrypted", at(&v, "/summary/decryptable")),
            ("device-bound", at(&v, "/summary/device_bound")),
            (
                "lost on a new device",
                at(&v, "/summary/lost_on_new_device"),
            ),
            ("secrets shown", at(&v, "/secrets_shown")),
        ],
    );
    p.end_row();
    p.row();
    p.chart(
        "Items by protection class",
        &class_bars(&v, "/summary/by_class", None),
    );
    p.chart(
        "Items by restore outcome",
        &bars(&v, "/summary/by_restore", None),
    );
    p.chart("Items by table", &bars(&v, "/summary/by_table", None));
    p.end_row();
    p.section("findings", "Findings", None);
    p.table(
        "Findings",
        "/findings",
        FINDING_COLUMNS,
        rows(&v, "/findings"),
    );
    let mut cols = ITEM_COLUMNS.to_vec();
    if v.get("secrets_shown").and_then(|s| s.as_bool()) == Some(true) {
        cols.insert(cols.len() - 1, SECRET_COLUMN);
    }
    for (app, items) in by_app(&rows(&v, "/items"), "/app") {
        let heading = match app.as_deref() {
            Some(SYSTEM_OWNER) => "system (Apple's access groups)".to_string(),
            Some(a) => a.to_string(),
            None => "no app of this backup (sealed or unattributed)".to_string(),
        };
        p.section(app.as_deref().unwrap_or("none"), &heading, None);
        p.table(&format!("Items of {heading}"), "/items", &cols, items);
    }
    p.write(out)
}
