//! Which app owns a domain or an id: an app together with its app groups and extensions.
//!
//! Manifest.plist lists apps, extensions (`Data/PluginKitPlugin`) and app groups
//! (`Shared/AppGroup`) side by side; the policy speaks of apps. An extension belongs to the
//! app whose bundle id prefixes its own (`com.x.app.widget` → `com.x.app`, the longest such
//! app); an app group to the app whose `GroupContainers` lists it, else to the app whose id
//! is its id without `group.` or a dotted prefix of that.

use crate::backup::plists::AppInfo;
use std::collections::{BTreeSet, HashMap};

/// `ContainerContentClass` values that are not apps.
const NOT_APPS: [&str; 2] = ["Data/PluginKitPlugin", "Shared/AppGroup"];

/// App ownership of domains and ids.
#[derive(Debug, Clone, Default)]
pub struct Owners {
    /// Bundle ids of apps.
    apps: BTreeSet<String>,
    /// Apps listed in Manifest.plist as apps.
    manifest_apps: BTreeSet<String>,
    /// App group id → the app whose GroupContainers lists it.
    groups: HashMap<String, String>,
}

impl Owners {
    /// `manifest`: Manifest.plist `Applications`; `extra_apps`: other ids known to be apps
    /// (the policy's); `domains`: the index's domains (each `AppDomain-X` makes X an app).
    pub fn new<'a, 'b>(
        manifest: &[AppInfo],
        extra_apps: impl IntoIterator<Item = &'a str>,
        domains: impl IntoIterator<Item = &'b str>,
    ) -> Owners {
        let mut o = Owners::default();
        for a in manifest {
            let is_app = a
                .container_content_class
                .as_deref()
                .is_none_or(|c| !NOT_APPS.contains(&c));
            if is_app {
                o.apps.insert(a.bundle_id.clone());
                o.manifest_apps.insert(a.bundle_id.clone());
                for g in &a.group_containers {
                    o.groups
                        .entry(g.clone())
                        .or_insert_with(|| a.bundle_id.clone());
                }
            }
        }
        for id in extra_apps {
            o.apps.insert(id.to_string());
        }
        for d in domains {
            if let Some(id) = d.strip_prefix("AppDomain-") {
                o.apps.insert(id.to_string());
            }
        }
        o
    }

    /// Is `id` listed as an app in Manifest.plist?
    pub fn in_manifest(&self, id: &str) -> bool {
        self.manifest_apps.contains(id)
    }

    /// Every app id known (sorted).
    pub fn apps(&self) -> impl Iterator<Item = &str> {
        self.apps.iter().map(String::as_str)
    }

    /// The app an id (app, extension or app group id) belongs to; the id itself when none.
    pub fn host(&self, id: &str) -> String {
        if self.apps.contains(id) {
            return id.to_string();
        }
        if let Some(a) = self.groups.get(id) {
            return a.clone();
        }
        let stem = id.strip_prefix("group.").unwrap_or(id);
        if self.apps.contains(stem) {
            return stem.to_string();
        }
        self.apps
            .iter()
            .filter(|a| {
                stem.strip_prefix(a.as_str())
                    .is_some_and(|rest| rest.starts_with('.'))
            })
            .max_by_key(|a| a.len())
            .cloned()
            .unwrap_or_else(|| id.to_string())
    }

    /// The app owning a backup domain (`AppDomain-`, `AppDomainGroup-`, `AppDomainPlugin-`).
    pub fn domain_owner(&self, domain: &str) -> Option<String> {
        if let Some(id) = domain.strip_prefix("AppDomain-") {
            Some(id.to_string())
        } else if let Some(id) = domain.strip_prefix("AppDomainGroup-") {
            Some(self.host(id))
        } else {
            domain
                .strip_prefix("AppDomainPlugin-")
                .map(|id| self.host(id))
        }
    }
}

/// Could `domain` belong to one of `apps` ([`Owners::domain_owner`]), whatever other apps
/// and domains the backup turns out to hold? Decided before the index is read, so it
/// answers for every way the owner can be found: true for every domain whose owner is one
/// of `apps` (and for a few more). `check` keeps only these files' reports.
pub fn may_belong_to(domain: &str, apps: &[&str], manifest: &[AppInfo]) -> bool {
    if let Some(id) = domain.strip_prefix("AppDomain-") {
        return apps.contains(&id);
    }
    let Some(id) = domain
        .strip_prefix("AppDomainGroup-")
        .or_else(|| domain.strip_prefix("AppDomainPlugin-"))
    else {
        return false;
    };
    let stem = id.strip_prefix("group.").unwrap_or(id);
    apps.iter()
        .any(|a| id == *a || stem == *a || stem.strip_prefix(a).is_some_and(|r| r.starts_with('.')))
        || manifest.iter().any(|m| {
            apps.contains(&m.bundle_id.as_str()) && m.group_containers.iter().any(|g| g == id)
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn info(id: &str, class: Option<&str>, groups: &[&str]) -> AppInfo {
        AppInfo {
            bundle_id: id.into(),
            container_content_class: class.map(str::to_string),
            group_containers: groups.iter().map(|g| g.to_string()).collect(),
            ..Default::default()
        }
    }

    #[test]
    fn ownership() {
        let m = [
            info("com.x", Some("Data/Application"), &[]),
            info(
                "com.x.bank",
                Some("Data/Application"),
                &["group.shared.bank"],
            ),
            info("com.x.bank.widget", Some("Data/PluginKitPlugin"), &[]),
            info("group.com.x.bank", Some("Shared/AppGroup"), &[]),
            info("org.old", None, &[]),
        ];
        let o = Owners::new(
            &m,
            ["com.policy"],
            ["AppDomain-net.only.domain", "HomeDomain"],
        );
        let d = |s: &str| o.domain_owner(s);
        assert_eq!(d("AppDomain-com.x.bank").as_deref(), Some("com.x.bank"));
        assert_eq!(
            d("AppDomainPlugin-com.x.bank.widget").as_deref(),
            Some("com.x.bank")
        );
        assert_eq!(
            d("AppDomainPlugin-com.x.other.ext").as_deref(),
            Some("com.x")
        );
        assert_eq!(
            d("AppDomainGroup-group.com.x.bank").as_deref(),
            Some("com.x.bank")
        );
        assert_eq!(
            d("AppDomainGroup-group.shared.bank").as_deref(),
            Some("com.x.bank")
        );
        assert_eq!(
            d("AppDomainGroup-group.com.policy.g").as_deref(),
            Some("com.policy")
        );
        assert_eq!(
            d("AppDomainGroup-group.unknown").as_deref(),
            Some("group.unknown")
        );
        assert_eq!(d("HomeDomain"), None);
        assert!(o.in_manifest("org.old") && o.in_manifest("com.x.bank"));
        assert!(!o.in_manifest("com.x.bank.widget") && !o.in_manifest("com.policy"));
        assert_eq!(o.host("com.x.bank.widget"), "com.x.bank");
        assert_eq!(o.host("system"), "system");
        let apps: Vec<&str> = o.apps().collect();
        assert_eq!(
            apps,
            [
                "com.policy",
                "com.x",
                "com.x.bank",
                "net.only.domain",
                "org.old"
            ]
        );
    }

    /// Every domain a policy app owns passes [`may_belong_to`], whichever apps the policy
    /// names and whichever domains the index adds.
    #[test]
    fn may_belong_to_covers_every_owned_domain() {
        let m = [
            info("com.x", Some("Data/Application"), &[]),
            info(
                "com.x.bank",
                Some("Data/Application"),
                &["group.shared.bank", "odd"],
            ),
            info("com.y", Some("Data/Application"), &["group.shared.bank"]),
            info("com.x.bank.widget", Some("Data/PluginKitPlugin"), &[]),
            info("group.com.x.bank", Some("Shared/AppGroup"), &[]),
        ];
        let domains = [
            "AppDomain-com.x",
            "AppDomain-com.x.bank",
            "AppDomain-com.x.bank.pro",
            "AppDomain-net.z",
            "AppDomainPlugin-com.x.bank.widget",
            "AppDomainPlugin-com.x.bank.pro.ext",
            "AppDomainPlugin-com.x.other.ext",
            "AppDomainPlugin-net.z",
            "AppDomainGroup-group.com.x.bank",
            "AppDomainGroup-group.shared.bank",
            "AppDomainGroup-odd",
            "AppDomainGroup-group.unknown",
            "AppDomainGroup-com.x",
            "AppDomainGroup-group.net.z.share",
            "HomeDomain",
            "CameraRollDomain",
        ];
        let policies: [&[&str]; 6] = [
            &["com.x"],
            &["com.x.bank"],
            &["com.y"],
            &["net.z", "com.x.bank.pro"],
            &["group.unknown"],
            &["com.absent"],
        ];
        let mut kept = 0;
        let mut left_out = 0;
        for apps in policies {
            // The index may hold any subset of the domains: try growing prefixes.
            for n in 0..=domains.len() {
                let o = Owners::new(&m, apps.iter().copied(), domains[..n].iter().copied());
                for d in domains {
                    let owned = o
                        .domain_owner(d)
                        .is_some_and(|a| apps.contains(&a.as_str()));
                    let may = may_belong_to(d, apps, &m);
                    assert!(
                        !owned || may,
                        "{d} is owned by one of {apps:?} but was left out"
                    );
                    kept += usize::from(may);
                    left_out += usize::from(!may);
                }
            }
        }
        // It does leave domains out (else it would keep everything).
        assert!(
            kept > 0 && left_out > kept,
            "{kept} kept, {left_out} left out"
        );
    }
}
