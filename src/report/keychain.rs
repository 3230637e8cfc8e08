//! The keychain audit rendered: a table, or JSON whose items carry secrets only on request.

use crate::audit::keychain::{item_location, KeychainAudit};
use crate::audit::Severity;
use crate::keychain::{KeychainItem, RestoreSummary};
use serde::Serialize;
use std::io::Write;

/// An item plus, only with --show-secrets, its secret.
#[derive(Serialize)]
struct ItemOut<'a> {
    #[serde(flatten)]
    item: &'a KeychainItem,
    #[serde(skip_serializing_if = "Option::is_none")]
    secret: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    secret_encoding: Option<&'static str>,
}

/// The secret as UTF-8 text, or hex when it is not text, with its encoding.
fn secret_text(it: &KeychainItem) -> (Option<String>, Option<&'static str>) {
    match &it.secret {
        None => (None, None),
        Some(s) => match s.as_utf8() {
            Some(t) if !t.chars().any(|c| c.is_control() && c != '\n' && c != '\t') => {
                (Some(t.to_string()), Some("utf8"))
            }
            _ => (Some(hex::encode(s.as_bytes())), Some("hex")),
        },
    }
}

/// The audit as a JSON value (docs/json-schema.md), its items with their secrets when
/// `show_secrets`, and `secrets_shown` saying which.
pub fn json_value(a: &KeychainAudit, show_secrets: bool) -> serde_json::Result<serde_json::Value> {
    let items: Vec<ItemOut> = a
        .items
        .iter()
        .map(|item| {
            let (secret, secret_encoding) = if show_secrets {
                secret_text(item)
            } else {
                (None, None)
            };
            ItemOut {
                item,
                secret,
                secret_encoding,
            }
        })
        .collect();
    // The library's items carry no secret; swap in the ones that may.
    let mut v = serde_json::to_value(a)?;
    v["items"] = serde_json::to_value(&items)?;
    v["secrets_shown"] = serde_json::Value::Bool(show_secrets);
    Ok(v)
}

/// Write the keychain audit as text: the file, one line per item, the summary, findings.
pub fn write_table(
    out: &mut dyn Write,
    a: &KeychainAudit,
    show_secrets: bool,
) -> std::io::Result<()> {
    writeln!(
        out,
        "Keychain of {} ({} backup, {})",
        a.backup.path,
        if a.backup.encrypted {
            "encrypted"
        } else {
            "unencrypted"
        },
        if a.backup.unlocked {
            "unlocked"
        } else {
            "locked"
        }
    )?;
    let f = &a.keychain_file;
    writeln!(
        out,
        "File        fileID {} class {} {} bytes, keybag-uuid {} ({})",
        f.file_id.as_deref().unwrap_or("-"),
        f.protection_class
            .map(|c| c.to_string())
            .unwrap_or_else(|| "-".into()),
        f.bytes.map(|c| c.to_string()).unwrap_or_else(|| "-".into()),
        f.keybag_uuid.as_deref().unwrap_or("-"),
        match f.keybag_uuid_matches {
            Some(true) => "matches the keybag",
            Some(false) => "DOES NOT match the keybag",
            None => "not compared",
        }
    )?;
    writeln!(
        out,
        "\n{:<5} {:>3} {:<5} {:<4} {:<4} {:<16} {:<30} {:<40} {:<18}{}",
        "table",
        "cls",
        "pdmn",
        "TDO",
        "dec",
        "restore",
        "app",
        "service/account or server",
        "fingerprint",
        if show_secrets { " secret" } else { "" }
    )?;
    for it in &a.items {
        let restore = match it.restore.summary {
            RestoreSummary::AnyDevice => "any_device",
            RestoreSummary::SameDeviceOnly => "same_device_only",
            RestoreSummary::Never => "never",
            RestoreSummary::Unknown => "unknown",
        };
        let loc = item_location(it);
        let what = loc
            .split_once(' ')
            .and_then(|(_, r)| r.split_once(' '))
            .map(|(_, r)| r)
            .unwrap_or("");
        let secret = if show_secrets {
            secret_text(it)
                .0
                .map(|s| format!(" {s}"))
                .unwrap_or_default()
        } else {
            String::new()
        };
        writeln!(
            out,
            "{:<5} {:>3} {:<5} {:<4} {:<4} {:<16} {:<30} {:<40} {:<18}{}",
            it.table,
            it.protection_class
                .map(|c| c.to_string())
                .unwrap_or_else(|| "?".into()),
            it.pdmn.as_deref().unwrap_or("?"),
            match it.this_device_only {
                Some(true) => "yes",
                Some(false) => "no",
                None => "?",
            },
            if it.decryptable { "yes" } else { "no" },
            restore,
            it.app.as_deref().unwrap_or("-"),
            what,
            it.secret_fingerprint.as_deref().unwrap_or("-"),
            secret
        )?;
        if let Some(r) = &it.reason {
            writeln!(out, "      not decrypted: {r}")?;
        }
    }
    let s = &a.summary;
    writeln!(
        out,
        "\n{} items: {} decryptable, {} device-bound, {} lost on a new device",
        s.items, s.decryptable, s.device_bound, s.lost_on_new_device
    )?;
    for (k, v) in &s.by_restore {
        writeln!(out, "  {k:<17} {v}")?;
    }
    if !a.findings.is_empty() {
        writeln!(out, "\nFindings")?;
        for f in &a.findings {
            let sev: Severity = f.severity;
            writeln!(
                out,
                "  {:<6} {:<26} {} [{}]",
                sev.as_str(),
                f.rule,
                f.message,
                f.location
            )?;
        }
    }
    Ok(())
}
