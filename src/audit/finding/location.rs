//! Where a finding applies: the backup, a file of its folder, an app, an index file, a payload or a keychain item.

use crate::keychain::KeychainItem;
use serde::Serialize;
use std::fmt;

/// Where a finding is. Its one-line text ([`fmt::Display`]) is what the scan and keychain
/// JSON carry as `location` and what tables print; `check`'s JSON carries the typed object
/// (`{"kind": …}`, docs/json-schema.md).
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Location {
    /// The backup: a file of its folder, by its path relative to the folder
    /// (`Manifest.plist`, `Status.plist`, an unexpected file), or (`None`) the backup as a
    /// whole.
    Backup {
        #[serde(skip_serializing_if = "Option::is_none")]
        file: Option<String>,
    },
    /// An app as a whole.
    App { bundle_id: String },
    /// A file of the backup's index: domain and relative path.
    File {
        domain: String,
        relative_path: String,
    },
    /// A payload on disk named by its fileID (e.g. one that no index row mentions).
    Payload { file_id: String, path: String },
    /// A keychain item: table, position, and the attributes that name it.
    Keychain {
        table: String,
        index: usize,
        #[serde(skip_serializing_if = "Option::is_none")]
        service: Option<String>,
        #[serde(skip_serializing_if = "Option::is_none")]
        account: Option<String>,
        #[serde(skip_serializing_if = "Option::is_none")]
        server: Option<String>,
        #[serde(skip_serializing_if = "Option::is_none")]
        access_group: Option<String>,
    },
}

impl Location {
    /// The backup as a whole (no narrower place).
    pub fn whole() -> Location {
        Location::Backup { file: None }
    }

    /// A file of the backup folder, by its path relative to the folder.
    pub fn backup(file: impl Into<String>) -> Location {
        Location::Backup {
            file: Some(file.into()),
        }
    }

    /// An app as a whole.
    pub fn app(bundle_id: impl Into<String>) -> Location {
        Location::App {
            bundle_id: bundle_id.into(),
        }
    }

    /// A file of the index.
    pub fn file(domain: impl Into<String>, relative_path: impl Into<String>) -> Location {
        Location::File {
            domain: domain.into(),
            relative_path: relative_path.into(),
        }
    }

    /// A payload on disk: its fileID and its path.
    pub fn payload(file_id: impl Into<String>, path: impl Into<String>) -> Location {
        Location::Payload {
            file_id: file_id.into(),
            path: path.into(),
        }
    }

    /// A keychain item, named by its table, position and attributes.
    pub fn keychain_item(it: &KeychainItem) -> Location {
        Location::Keychain {
            table: it.table.clone(),
            index: it.index,
            service: it.service.clone(),
            account: it.account.clone(),
            server: it.server.clone(),
            access_group: it.access_group.clone(),
        }
    }

    /// Is this the backup as a whole (no location to print)?
    pub fn is_whole(&self) -> bool {
        matches!(self, Location::Backup { file: None })
    }

    /// What names the place wherever the backup is: the text ([`fmt::Display`]), but a
    /// payload by its fileID (`payload <fileID>`), not by its path. Fingerprints hash it.
    pub fn identity(&self) -> String {
        match self {
            Location::Payload { file_id, .. } => format!("payload {file_id}"),
            other => other.to_string(),
        }
    }

    /// The one-line text ([`fmt::Display`]).
    pub fn display(&self) -> String {
        self.to_string()
    }
}

impl From<&KeychainItem> for Location {
    fn from(it: &KeychainItem) -> Location {
        Location::keychain_item(it)
    }
}

/// `Status.plist`, `app com.x`, `AppDomain-com.x/Documents/a`, the payload's path,
/// `keychain genp[3] service/account`; nothing for the backup as a whole.
impl fmt::Display for Location {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Location::Backup { file } => f.write_str(file.as_deref().unwrap_or("")),
            Location::App { bundle_id } => write!(f, "app {bundle_id}"),
            Location::File {
                domain,
                relative_path,
            } => write!(f, "{domain}/{relative_path}"),
            Location::Payload { path, .. } => f.write_str(path),
            Location::Keychain {
                table,
                index,
                service,
                account,
                server,
                ..
            } => {
                write!(f, "keychain {table}[{index}]")?;
                match (service, account, server) {
                    (Some(s), Some(a), _) => write!(f, " {s}/{a}"),
                    (Some(s), None, _) => write!(f, " {s}"),
                    (None, Some(a), Some(h)) => write!(f, " {a}@{h}"),
                    (None, None, Some(h)) => write!(f, " {h}"),
                    (None, Some(a), None) => write!(f, " {a}"),
                    _ => Ok(()),
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn item(service: Option<&str>, account: Option<&str>, server: Option<&str>) -> Location {
        Location::Keychain {
            table: "genp".into(),
            index: 3,
            service: service.map(Into::into),
            account: account.map(Into::into),
            server: server.map(Into::into),
            access_group: Some("TEAM.com.x".into()),
        }
    }

    #[test]
    fn text_of_each_kind() {
        assert_eq!(Location::whole().to_string(), "");
        assert!(Location::whole().is_whole());
        assert!(!Location::backup("Status.plist").is_whole());
        assert_eq!(Location::backup("Status.plist").to_string(), "Status.plist");
        assert_eq!(Location::app("com.x").to_string(), "app com.x");
        assert_eq!(
            Location::file("AppDomain-com.x", "Documents/a").to_string(),
            "AppDomain-com.x/Documents/a"
        );
        assert_eq!(
            Location::payload("ab".repeat(20), "/b/ab/abab").to_string(),
            "/b/ab/abab"
        );
        assert_eq!(
            item(Some("s"), Some("a"), None).to_string(),
            "keychain genp[3] s/a"
        );
        assert_eq!(
            item(Some("s"), None, Some("h")).to_string(),
            "keychain genp[3] s"
        );
        assert_eq!(
            item(None, Some("a"), Some("h")).to_string(),
            "keychain genp[3] a@h"
        );
        assert_eq!(
            item(None, None, Some("h")).to_string(),
            "keychain genp[3] h"
        );
        assert_eq!(
            item(None, Some("a"), None).to_string(),
            "keychain genp[3] a"
        );
        // The access group names no item in the text.
        assert_eq!(item(None, None, None).to_string(), "keychain genp[3]");
        // Identity: the text, but a payload by its fileID wherever the backup is.
        let id = "ab".repeat(20);
        assert_eq!(
            Location::payload(&id, "/x/ab/abab").identity(),
            Location::payload(&id, "/y/ab/abab").identity()
        );
        assert_ne!(
            Location::payload(&id, "/x").identity(),
            Location::payload("cd".repeat(20), "/x").identity()
        );
        assert_eq!(item(Some("s"), None, None).identity(), "keychain genp[3] s");
    }

    #[test]
    fn typed_json_keeps_the_check_schema() {
        let v = serde_json::to_value(Location::backup("Manifest.plist")).unwrap();
        assert_eq!(
            v,
            serde_json::json!({"kind": "backup", "file": "Manifest.plist"})
        );
        let v = serde_json::to_value(Location::file("D", "p")).unwrap();
        assert_eq!(
            v,
            serde_json::json!({"kind": "file", "domain": "D", "relative_path": "p"})
        );
        let v = serde_json::to_value(item(Some("s"), None, None)).unwrap();
        assert_eq!(
            v,
            serde_json::json!({"kind": "keychain", "table": "genp", "index": 3, "service": "s", "access_group": "TEAM.com.x"})
        );
    }
}
