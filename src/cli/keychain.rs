//! `auditor keychain`: list, decrypt and classify backed-up keychain items.

use super::credentials::CredentialArgs;
use super::scan::{locate, open_unlocked};
use super::{output, ReportArgs, ReportFormat};
use auditor::audit::keychain::{audit, item_location, pick_rows, KeychainAudit};
use auditor::audit::Severity;
use auditor::keychain::KeychainItem;
use auditor::Error;
use serde::Serialize;
use std::io::Write;
use std::path::PathBuf;

#[derive(Debug, clap::Args)]
pub struct KeychainArgs {
    /// The backup folder.
    pub backup: PathBuf,
    #[command(flatten)]
    pub credentials: CredentialArgs,
    #[command(flatten)]
    pub report: ReportArgs,
    /// Only items of this app (bundle id), including its app groups.
    #[arg(long, value_name = "BUNDLE")]
    pub app: Option<String>,
    /// Print secrets (UTF-8, or hex when not text). Off by default.
    #[arg(long)]
    pub show_secrets: bool,
}

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

fn matches_app(it: &KeychainItem, app: &str) -> bool {
    it.app.as_deref() == Some(app)
}

pub fn run(a: KeychainArgs) -> Result<i32, Error> {
    let path = locate(&a.backup)?;
    let session = open_unlocked(&path, &a.credentials, true, false)?;
    let (rows, _) = pick_rows(&session, |_| false)?.ok_or_else(|| {
        Error::CredentialsMissing("the index is encrypted: a password is needed".into())
    })?;
    let mut audit = audit(&session, rows.rows())?.ok_or_else(|| {
        Error::backup(
            &path,
            "the index has no KeychainDomain/keychain-backup.plist: this backup holds no keychain",
        )
    })?;
    if let Some(app) = &a.app {
        audit.items.retain(|it| matches_app(it, app));
        audit.apps.retain(|k, _| k == app);
    }
    let mut out = output::open(&a.report.output, &path)?;
    let res = match a.report.format {
        ReportFormat::Json => {
            let items: Vec<ItemOut> = audit
                .items
                .iter()
                .map(|item| {
                    let (secret, secret_encoding) = if a.show_secrets {
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
            let mut v = serde_json::to_value(&audit).map_err(|e| Error::Internal(e.to_string()))?;
            v["items"] =
                serde_json::to_value(&items).map_err(|e| Error::Internal(e.to_string()))?;
            v["secrets_shown"] = serde_json::Value::Bool(a.show_secrets);
            auditor::report::json::write(&mut out, &v)
        }
        ReportFormat::Table => write_table(&mut out, &audit, a.show_secrets),
        ReportFormat::Sarif => auditor::report::sarif::write(&mut out, &audit),
    };
    res.and_then(|_| out.flush()).map_err(output::write_err)?;
    let worst = audit.findings.iter().map(|f| f.severity).max();
    Ok(match (a.report.fail_on, worst) {
        (Some(t), Some(w)) if w >= t => 1,
        _ => 0,
    })
}

fn write_table(out: &mut dyn Write, a: &KeychainAudit, show_secrets: bool) -> std::io::Result<()> {
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
            auditor::keychain::RestoreSummary::AnyDevice => "any_device",
            auditor::keychain::RestoreSummary::SameDeviceOnly => "same_device_only",
            auditor::keychain::RestoreSummary::Never => "never",
            auditor::keychain::RestoreSummary::Unknown => "unknown",
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
