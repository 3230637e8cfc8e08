//! Which app owns a domain: AppDomain-, AppDomainGroup- and AppDomainPlugin- domains, and
//! the plugins and groups Manifest.plist lists beside apps.

use super::model::AppReport;
use crate::session::Session;
use std::collections::{BTreeMap, HashMap};

/// The bundle-id-like part of an app-group or extension id: without a 10-character team ID
/// prefix (`243LU875E5.groups.com.apple.podcasts`) and without `group.`/`groups.`.
fn group_stem(id: &str) -> &str {
    let id = match id.split_once('.') {
        Some((team, rest))
            if team.len() == 10
                && team
                    .bytes()
                    .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit()) =>
        {
            rest
        }
        _ => id,
    };
    id.strip_prefix("group.")
        .or_else(|| id.strip_prefix("groups."))
        .unwrap_or(id)
}

/// Map index domains to the owning app: AppDomain-, AppDomainGroup- and AppDomainPlugin- domains.
pub(super) struct AppMap {
    pub(super) apps: BTreeMap<String, AppReport>,
}

impl AppMap {
    pub(super) fn new(s: &Session) -> Self {
        let mut map = AppMap {
            apps: BTreeMap::new(),
        };
        let Some(m) = &s.backup.manifest else {
            return map;
        };
        // Manifest.plist lists plugins and app groups beside apps (real backups:
        // ContainerContentClass Data/PluginKitPlugin, Shared/AppGroup): they belong to
        // the app whose id prefixes theirs, and are apps of their own only when none does.
        let (apps, extensions): (Vec<_>, Vec<_>) = m.applications.iter().partition(|a| {
            matches!(
                a.container_content_class.as_deref(),
                None | Some("Data/Application")
            )
        });
        for a in apps.into_iter().chain(extensions) {
            let stem = a.bundle_id.as_str();
            if a.container_content_class
                .as_deref()
                .is_some_and(|c| c != "Data/Application")
                && map.owner_of(stem).is_some()
            {
                continue;
            }
            map.apps.insert(
                a.bundle_id.clone(),
                AppReport {
                    bundle_id: a.bundle_id.clone(),
                    version: a.version.clone(),
                    in_manifest: true,
                    ..Default::default()
                },
            );
        }
        map
    }

    /// The longest known bundle id that is `stem` or a dotted prefix of it.
    fn owner_of(&self, stem: &str) -> Option<String> {
        let stem = group_stem(stem);
        self.apps
            .keys()
            .filter(|b| {
                stem == b.as_str()
                    || (stem.starts_with(b.as_str()) && stem.as_bytes().get(b.len()) == Some(&b'.'))
            })
            .max_by_key(|b| b.len())
            .cloned()
    }

    /// The bundle id owning `domain`, if it is an app domain (adds unknown apps).
    pub(super) fn owner(
        &mut self,
        domain: &str,
        group_hints: &HashMap<String, String>,
    ) -> Option<String> {
        let (kind, id) = if let Some(id) = domain.strip_prefix("AppDomain-") {
            (0, id)
        } else if let Some(id) = domain.strip_prefix("AppDomainGroup-") {
            (1, id)
        } else if let Some(id) = domain.strip_prefix("AppDomainPlugin-") {
            (2, id)
        } else {
            return None;
        };
        let owner = match kind {
            0 => id.to_string(),
            _ => {
                if let Some(h) = group_hints.get(id) {
                    h.clone()
                } else {
                    self.owner_of(id).unwrap_or_else(|| id.to_string())
                }
            }
        };
        let entry = self.apps.entry(owner.clone()).or_insert_with(|| AppReport {
            bundle_id: owner.clone(),
            ..Default::default()
        });
        if !entry.domains.iter().any(|d| d == domain) {
            entry.domains.push(domain.to_string());
        }
        Some(owner)
    }
}
