//! Self-contained HTML reports (`--format html`): one file with inline CSS, SVG charts and a
//! small script for sorting and filtering, rendered from the same JSON models as `--format json`.

pub mod check;
pub mod diff;
pub mod escape;
pub mod keychain;
pub mod leaks;
pub mod page;
pub mod scan;
pub mod tamper;

use crate::audit::model::class_sort_key;
use page::{at, Page};
use serde::Serialize;
use serde_json::Value;

/// The JSON model of a report, as `--format json` writes it.
pub fn model<T: Serialize + ?Sized>(r: &T) -> std::io::Result<Value> {
    serde_json::to_value(r).map_err(std::io::Error::other)
}

/// The rows of the array at `ptr` of `v`, with their indexes.
pub fn rows<'v>(v: &'v Value, ptr: &str) -> Rows<'v> {
    v.pointer(ptr)
        .and_then(Value::as_array)
        .map(|a| a.iter().enumerate().collect())
        .unwrap_or_default()
}

/// Rows of a table: each row's index in its JSON array, and the row.
pub type Rows<'v> = Vec<(usize, &'v Value)>;

/// Rows grouped by the app named at `ptr` of each row: apps by bundle id, then the rows of
/// no app (`None`) last.
pub fn by_app<'v>(rows: &[(usize, &'v Value)], ptr: &str) -> Vec<(Option<String>, Rows<'v>)> {
    let mut groups: std::collections::BTreeMap<(bool, String), Vec<(usize, &Value)>> =
        Default::default();
    for &(i, r) in rows {
        let key = match r.pointer(ptr).and_then(Value::as_str) {
            Some(a) => (false, a.to_string()),
            None => (true, String::new()),
        };
        groups.entry(key).or_default().push((i, r));
    }
    groups
        .into_iter()
        .map(|((none, app), rows)| ((!none).then_some(app), rows))
        .collect()
}

/// The counts of an object `{label: n}` at `ptr` (or `{label: {field: n}}` with `field`),
/// in the model's order, as chart bars.
pub fn bars(v: &Value, ptr: &str, field: Option<&str>) -> Vec<(String, u64)> {
    let Some(o) = v.pointer(ptr).and_then(Value::as_object) else {
        return Vec::new();
    };
    o.iter()
        .filter_map(|(k, n)| {
            let n = match field {
                Some(f) => n.get(f)?,
                None => n,
            };
            Some((k.clone(), n.as_u64()?))
        })
        .collect()
}

/// [`bars`] of a map keyed by protection class, each label with the class's constant name.
/// Classes in numeric order, then words (`none`, `unknown`), as the JSON lists them.
pub fn class_bars(v: &Value, ptr: &str, field: Option<&str>) -> Vec<(String, u64)> {
    let mut b = bars(v, ptr, field);
    b.sort_by(|x, y| class_sort_key(&x.0).cmp(&class_sort_key(&y.0)));
    b.into_iter()
        .map(|(k, n)| {
            let label = match k.parse::<u32>() {
                Ok(c) => format!(
                    "{c} {}",
                    crate::crypto::class::ProtectionClass::new(c)
                        .name()
                        .trim_start_matches("NSFileProtection")
                        .trim_start_matches("kSecAttrAccessible")
                ),
                Err(_) => k,
            };
            (label, n)
        })
        .collect()
}

/// The facts of a backup that every report names (`backup` of its JSON).
pub fn backup_facts(page: &mut Page, v: &Value) {
    page.facts(
        "Backup",
        &[
            ("path", at(v, "/backup/path")),
            ("device", at(v, "/backup/device_name")),
            ("UDID", at(v, "/backup/udid")),
            ("iOS", at(v, "/backup/ios_version")),
            ("date", at(v, "/backup/date")),
            ("encrypted", at(v, "/backup/encrypted")),
            ("unlocked", at(v, "/backup/unlocked")),
        ],
    );
}

/// The columns of a table of findings (`rule`, `severity`, `message`, `location`).
pub const FINDING_COLUMNS: &[page::Column] = &[
    page::badge("severity", "Severity", "/severity"),
    page::text("rule", "Rule", "/rule"),
    page::text("message", "Message", "/message"),
    page::text("location", "Location", "/location"),
];

/// A section's heading for the rows of `app` (`None`: of no app).
pub fn app_heading(app: Option<&str>, none: &str) -> String {
    match app {
        Some(a) => a.to_string(),
        None => none.to_string(),
    }
}
