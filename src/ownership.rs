//! Which app owns a backup domain, an extension or app-group id, or a keychain access group: one rule set for every command.
//!
//! `scan`, `check`, `extract --app`, `policy init` and the keychain attribution all ask an
//! [`Ownership`], built once per backup from what is known before any attribution is made:
//!
//! - **apps**: Manifest.plist `Applications` entries whose `ContainerContentClass` is
//!   `Data/Application` (or absent); Info.plist `Installed Applications` (the only app list
//!   of a backup without Manifest.plist); `X` of every `AppDomain-X` domain of the index;
//!   and ids the caller names as apps (a policy's, the bundle ids given to `extract --app`)
//!   unless the backup shows them to be an extension or a group (an `AppDomainGroup-`/
//!   `AppDomainPlugin-` domain or a Manifest.plist entry of that class): naming an entry
//!   that `scan` lists changes no attribution.
//!   The complete set of the index's domains is given up front, so an attribution never
//!   depends on the order in which rows are read.
//! - **members** (extensions, app groups, access groups) are attributed by these rules, the
//!   first that matches wins:
//!   1. the id (or the id without its team id) is listed in an app's `GroupContainers` (the
//!      first such app in Manifest.plist order);
//!   2. the id, the id without its team id, or its *stem* is an app;
//!   3. the longest app whose id is a dotted prefix of the stem (`com.x.bank.widget` →
//!      `com.x.bank`, never `com.x.bankapp` → `com.x.bank`).
//!
//!   The stem is the id without a team id prefix (10 upper-case ASCII letters or digits and
//!   a dot: `243LU875E5.groups.com.apple.podcasts`; `abcde12345.x` has none) and then
//!   without `group.` or `groups.`.
//! - **domains**: `AppDomain-X` belongs to app `X`; `AppDomainGroup-X` and
//!   `AppDomainPlugin-X` to the owner of member `X`, or, when no app owns it, to `X` itself
//!   (an entry of its own). An extension or group never becomes an entry of its own while an
//!   app owns it. Other domains (`HomeDomain`, …) belong to no app.
//! - **access groups** (keychain `agrp`): `apple` and `com.apple.*` (with or without a team
//!   id) belong to [`SYSTEM_OWNER`]; others to the owner of the member, else to none.
//!
//! Manifest.plist entries that are extensions or groups (`Data/PluginKitPlugin`,
//! `Shared/AppGroup`) are listed as entries of their own only when no app owns them.
//! `docs/ownership.md` describes the same rules for users.

use crate::backup::plists::AppInfo;
use crate::backup::Backup;
use std::collections::{BTreeSet, HashMap, HashSet};

/// Owner name of Apple's own keychain access groups (`apple`, `com.apple.*`).
pub const SYSTEM_OWNER: &str = "system";

/// `ContainerContentClass` values of Manifest.plist entries that are not apps.
const NOT_APPS: [&str; 2] = ["Data/PluginKitPlugin", "Shared/AppGroup"];

/// The kind of an app domain.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DomainKind {
    /// `AppDomain-<bundle id>`: the app's own container.
    App,
    /// `AppDomainGroup-<group id>`: a shared app-group container.
    Group,
    /// `AppDomainPlugin-<extension id>`: an extension's container.
    Plugin,
}

/// `AppDomainGroup-group.x` → `(Group, "group.x")`; `None` for domains of no app.
pub fn app_domain(domain: &str) -> Option<(DomainKind, &str)> {
    if let Some(id) = domain.strip_prefix("AppDomain-") {
        Some((DomainKind::App, id))
    } else if let Some(id) = domain.strip_prefix("AppDomainGroup-") {
        Some((DomainKind::Group, id))
    } else {
        domain
            .strip_prefix("AppDomainPlugin-")
            .map(|id| (DomainKind::Plugin, id))
    }
}

/// `ABCDE12345.com.example.app` → `Some("com.example.app")`: a 10-character upper-case
/// ASCII alphanumeric team id, a dot and something after it.
pub fn strip_team_id(id: &str) -> Option<&str> {
    let (team, rest) = id.split_at_checked(10)?;
    let rest = rest.strip_prefix('.')?;
    let team_ok = team
        .bytes()
        .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit());
    (team_ok && !rest.is_empty()).then_some(rest)
}

/// The bundle-id-like stem of a member id: without its team id, then without `group.` or
/// `groups.` (`243LU875E5.groups.com.apple.podcasts` → `com.apple.podcasts`).
pub fn stem(id: &str) -> &str {
    let id = strip_team_id(id).unwrap_or(id);
    id.strip_prefix("group.")
        .or_else(|| id.strip_prefix("groups."))
        .unwrap_or(id)
}

/// Is `app` a strict dotted prefix of `id` (`com.x` of `com.x.y`, not of `com.xy`)?
fn dotted_prefix(app: &str, id: &str) -> bool {
    id.strip_prefix(app).is_some_and(|r| r.starts_with('.'))
}

fn is_app_entry(a: &AppInfo) -> bool {
    a.container_content_class
        .as_deref()
        .is_none_or(|c| !NOT_APPS.contains(&c))
}

/// Which app owns what in one backup (see the module documentation for the rules).
#[derive(Debug, Clone, Default)]
pub struct Ownership {
    /// Every id known to be an app.
    apps: BTreeSet<String>,
    /// Manifest.plist entries that stand as entries of their own: its apps, and its
    /// extensions and groups that no app owns.
    manifest_entries: BTreeSet<String>,
    /// App-group id (as listed in `GroupContainers`) → the first app listing it.
    groups: HashMap<String, String>,
}

impl Ownership {
    /// `manifest`: Manifest.plist `Applications`; `installed`: Info.plist `Installed
    /// Applications`; `extra_apps`: ids named as apps (a policy's; ignored for ids the
    /// backup shows to be extensions or groups); `domains`: the index's domains, all of
    /// them (each `AppDomain-X` makes X an app).
    pub fn new<'a, 'b>(
        manifest: &[AppInfo],
        installed: &[String],
        extra_apps: impl IntoIterator<Item = &'a str>,
        domains: impl IntoIterator<Item = &'b str>,
    ) -> Ownership {
        let mut o = Ownership::default();
        for a in manifest.iter().filter(|a| is_app_entry(a)) {
            o.apps.insert(a.bundle_id.clone());
            o.manifest_entries.insert(a.bundle_id.clone());
            for g in &a.group_containers {
                o.groups
                    .entry(g.clone())
                    .or_insert_with(|| a.bundle_id.clone());
            }
        }
        o.apps.extend(installed.iter().cloned());
        // Ids the backup shows to be extensions or groups (their domains, Manifest.plist).
        let mut members: HashSet<&str> = manifest
            .iter()
            .filter(|a| !is_app_entry(a))
            .map(|a| a.bundle_id.as_str())
            .collect();
        for d in domains {
            match app_domain(d) {
                Some((DomainKind::App, id)) if !o.apps.contains(id) => {
                    o.apps.insert(id.to_string());
                }
                Some((DomainKind::Group | DomainKind::Plugin, id)) => {
                    members.insert(id);
                }
                _ => {}
            }
        }
        for id in extra_apps {
            if !members.contains(id) {
                o.apps.insert(id.to_string());
            }
        }
        let unowned: Vec<String> = manifest
            .iter()
            .filter(|a| !is_app_entry(a) && o.member_owner(&a.bundle_id).is_none())
            .map(|a| a.bundle_id.clone())
            .collect();
        o.manifest_entries.extend(unowned);
        o
    }

    /// [`Ownership::new`] with the backup's Manifest.plist and Info.plist app lists.
    pub fn of_backup<'a, 'b>(
        backup: &Backup,
        extra_apps: impl IntoIterator<Item = &'a str>,
        domains: impl IntoIterator<Item = &'b str>,
    ) -> Ownership {
        let manifest = backup
            .manifest
            .as_ref()
            .map_or(&[][..], |m| m.applications.as_slice());
        let installed = backup
            .info
            .as_ref()
            .map_or(&[][..], |i| i.installed_applications.as_slice());
        Ownership::new(manifest, installed, extra_apps, domains)
    }

    /// Is `id` a Manifest.plist entry of its own (an app, or an extension or group that no
    /// app owns)?
    pub fn in_manifest(&self, id: &str) -> bool {
        self.manifest_entries.contains(id)
    }

    /// Every id known to be an app (sorted).
    pub fn apps(&self) -> impl Iterator<Item = &str> {
        self.apps.iter().map(String::as_str)
    }

    /// The app owning a member id (extension, app group, access group), by rules 1-3.
    fn member_owner(&self, id: &str) -> Option<&str> {
        let bare = strip_team_id(id).unwrap_or(id);
        if let Some(a) = self.groups.get(id).or_else(|| self.groups.get(bare)) {
            return Some(a);
        }
        let stem = stem(id);
        if let Some(a) = [id, bare, stem].into_iter().find_map(|c| self.apps.get(c)) {
            return Some(a);
        }
        // Rule 3, longest first: each shorter dotted prefix of the stem.
        let mut s = stem;
        while let Some(dot) = s.rfind('.') {
            s = &s[..dot];
            if let Some(a) = self.apps.get(s) {
                return Some(a);
            }
        }
        None
    }

    /// The app an id (an app, extension or app-group id) belongs to; the id itself when
    /// it is an app or when no app owns it.
    pub fn host(&self, id: &str) -> String {
        if self.apps.contains(id) {
            return id.to_string();
        }
        self.member_owner(id).unwrap_or(id).to_string()
    }

    /// The app owning a backup domain; `None` for a domain of no app (`HomeDomain`).
    pub fn domain_owner(&self, domain: &str) -> Option<String> {
        let (kind, id) = app_domain(domain)?;
        Some(match kind {
            DomainKind::App => id.to_string(),
            DomainKind::Group | DomainKind::Plugin => {
                self.member_owner(id).unwrap_or(id).to_string()
            }
        })
    }

    /// The app a keychain access group belongs to, [`SYSTEM_OWNER`] for Apple's groups,
    /// `None` when no app owns it.
    pub fn access_group_owner(&self, agrp: &str) -> Option<String> {
        let bare = strip_team_id(agrp).unwrap_or(agrp);
        if bare == "apple" || bare.starts_with("com.apple.") {
            return Some(SYSTEM_OWNER.to_owned());
        }
        self.member_owner(agrp).map(str::to_string)
    }
}

/// Could `domain` belong to one of `apps` ([`Ownership::domain_owner`]), whatever other
/// apps and domains the backup turns out to hold? Decided before the index is read, so it
/// answers for every way the owner can be found: true for every domain whose owner is one
/// of `apps` (and for a few more). `check` keeps only these files' reports.
pub fn may_belong_to(domain: &str, apps: &[&str], manifest: &[AppInfo]) -> bool {
    let Some((kind, id)) = app_domain(domain) else {
        return false;
    };
    if kind == DomainKind::App {
        return apps.contains(&id);
    }
    let bare = strip_team_id(id).unwrap_or(id);
    let stem = stem(id);
    apps.iter()
        .any(|a| [id, bare, stem].contains(a) || dotted_prefix(a, stem))
        || manifest.iter().any(|m| {
            apps.contains(&m.bundle_id.as_str())
                && m.group_containers.iter().any(|g| g == id || g == bare)
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

    const APP: Option<&str> = Some("Data/Application");
    const PLUGIN: Option<&str> = Some("Data/PluginKitPlugin");
    const GROUP: Option<&str> = Some("Shared/AppGroup");

    fn manifest() -> Vec<AppInfo> {
        vec![
            info("com.x", APP, &[]),
            info("com.x.bank", APP, &["group.shared.bank"]),
            info("com.x.bank.widget", PLUGIN, &[]),
            info("group.com.x.bank", GROUP, &[]),
            info("243LU875E5.groups.com.apple.podcasts", GROUP, &[]),
            info("com.apple.podcasts", APP, &[]),
            info("org.lone.widget", PLUGIN, &[]),
            info("org.old", None, &[]),
        ]
    }

    #[test]
    fn team_ids_and_stems() {
        assert_eq!(strip_team_id("ABCDE12345.com.x"), Some("com.x"));
        assert_eq!(strip_team_id("243LU875E5.groups.x"), Some("groups.x"));
        // Near misses: lower case, too short, too long, nothing after, not ASCII.
        assert_eq!(strip_team_id("abcde12345.com.x"), None);
        assert_eq!(strip_team_id("ABCDE1234.com.x"), None);
        assert_eq!(strip_team_id("ABCDE123456.com.x"), None);
        assert_eq!(strip_team_id("ABCDE12345."), None);
        assert_eq!(strip_team_id("ÄBCDE12345.x"), None);
        assert_eq!(
            stem("243LU875E5.groups.com.apple.podcasts"),
            "com.apple.podcasts"
        );
        assert_eq!(stem("group.com.x"), "com.x");
        assert_eq!(stem("ABCDE12345.group.com.x"), "com.x");
        assert_eq!(stem("abcde12345.group.com.x"), "abcde12345.group.com.x");
        assert_eq!(stem("groupie.com.x"), "groupie.com.x");
        assert_eq!(
            app_domain("AppDomainPlugin-a.b"),
            Some((DomainKind::Plugin, "a.b"))
        );
        assert_eq!(app_domain("AppDomainX-a"), None);
        assert_eq!(app_domain("HomeDomain"), None);
    }

    #[test]
    fn domains() {
        let o = Ownership::new(
            &manifest(),
            &["net.installed".into()],
            ["com.policy"],
            ["AppDomain-net.only.domain", "HomeDomain"],
        );
        let d = |s: &str| o.domain_owner(s);
        assert_eq!(d("AppDomain-com.x.bank").as_deref(), Some("com.x.bank"));
        assert_eq!(d("AppDomain-com.unknown").as_deref(), Some("com.unknown"));
        assert_eq!(
            d("AppDomainPlugin-com.x.bank.widget").as_deref(),
            Some("com.x.bank")
        );
        assert_eq!(
            d("AppDomainPlugin-com.x.bank.widget.deeper").as_deref(),
            Some("com.x.bank")
        );
        assert_eq!(
            d("AppDomainPlugin-com.x.other.ext").as_deref(),
            Some("com.x")
        );
        // Not an extension of com.x.bank: only a dotted prefix counts.
        assert_eq!(d("AppDomainPlugin-com.x.bankapp").as_deref(), Some("com.x"));
        assert_eq!(
            d("AppDomainPlugin-org.xyz.ext").as_deref(),
            Some("org.xyz.ext")
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
            d("AppDomainGroup-243LU875E5.groups.com.apple.podcasts").as_deref(),
            Some("com.apple.podcasts")
        );
        // A lower-case prefix is no team id: the group is its own entry.
        assert_eq!(
            d("AppDomainGroup-243lu875e5.groups.com.apple.podcasts").as_deref(),
            Some("243lu875e5.groups.com.apple.podcasts")
        );
        assert_eq!(
            d("AppDomainGroup-group.com.policy.g").as_deref(),
            Some("com.policy")
        );
        assert_eq!(
            d("AppDomainPlugin-net.installed.share").as_deref(),
            Some("net.installed")
        );
        assert_eq!(
            d("AppDomainPlugin-net.only.domain.w").as_deref(),
            Some("net.only.domain")
        );
        assert_eq!(
            d("AppDomainGroup-group.unknown").as_deref(),
            Some("group.unknown")
        );
        assert_eq!(d("HomeDomain"), None);
    }

    #[test]
    fn manifest_entries_hosts_and_apps() {
        let o = Ownership::new(&manifest(), &[], ["com.policy"], ["AppDomain-net.z"]);
        assert!(o.in_manifest("org.old") && o.in_manifest("com.x.bank"));
        // Owned extensions and groups are no entries of their own; an unowned one is.
        assert!(!o.in_manifest("com.x.bank.widget"));
        assert!(!o.in_manifest("group.com.x.bank"));
        assert!(!o.in_manifest("243LU875E5.groups.com.apple.podcasts"));
        assert!(o.in_manifest("org.lone.widget"));
        assert!(!o.in_manifest("com.policy") && !o.in_manifest("net.z"));
        assert_eq!(o.host("com.x.bank.widget"), "com.x.bank");
        assert_eq!(o.host("com.x.bank"), "com.x.bank");
        assert_eq!(o.host("system"), "system");
        let apps: Vec<&str> = o.apps().collect();
        assert_eq!(
            apps,
            [
                "com.apple.podcasts",
                "com.policy",
                "com.x",
                "com.x.bank",
                "net.z",
                "org.old"
            ]
        );
    }

    /// Ids named as apps that the backup shows to be extensions or groups stay members:
    /// naming them takes nothing from their owner or from other members.
    #[test]
    fn named_members_are_no_apps() {
        let domains = [
            "AppDomain-com.x",
            "AppDomainPlugin-com.x.widget",
            "AppDomainPlugin-org.lone.ext",
            "AppDomainGroup-group.org.lone.ext",
            "AppDomainGroup-group.com.named",
        ];
        let named = [
            "com.x.widget",
            "org.lone.ext",
            "group.org.lone.ext",
            "com.named",
        ];
        let m = [info("com.y.share", GROUP, &[])];
        let plain = Ownership::new(&m, &[], [], domains);
        let with = Ownership::new(
            &m,
            &[],
            named.iter().copied().chain(["com.y.share"]),
            domains,
        );
        for d in &domains[..4] {
            assert_eq!(plain.domain_owner(d), with.domain_owner(d), "{d}");
        }
        assert_eq!(
            with.domain_owner("AppDomainPlugin-com.x.widget").as_deref(),
            Some("com.x")
        );
        assert_eq!(
            with.domain_owner("AppDomainGroup-group.org.lone.ext")
                .as_deref(),
            Some("group.org.lone.ext")
        );
        // An id the backup does not know is an app: it takes its group.
        assert_eq!(
            with.domain_owner("AppDomainGroup-group.com.named")
                .as_deref(),
            Some("com.named")
        );
        let apps: Vec<&str> = with.apps().collect();
        assert_eq!(apps, ["com.named", "com.x"]);
    }

    /// The order in which domains are given does not change any attribution.
    #[test]
    fn order_does_not_matter() {
        let domains = [
            "AppDomainPlugin-com.apple.podcasts.widget",
            "AppDomainGroup-243LU875E5.groups.com.apple.podcasts",
            "AppDomain-com.apple.podcasts",
            "AppDomainPlugin-com.apple.podcasts.widget.inner",
        ];
        let owners = |ds: &[&str]| -> Vec<Option<String>> {
            let o = Ownership::new(&[], &[], [], ds.iter().copied());
            domains.iter().map(|d| o.domain_owner(d)).collect()
        };
        let mut rev = domains;
        rev.reverse();
        assert_eq!(owners(&domains), owners(&rev));
        assert!(owners(&domains)
            .iter()
            .all(|o| o.as_deref() == Some("com.apple.podcasts")));
    }

    #[test]
    fn access_groups() {
        let o = Ownership::new(
            &[
                info("com.example.bank", APP, &[]),
                info("com.example.notes", APP, &["group.com.example.shared"]),
                info("com.example", APP, &[]),
            ],
            &[],
            [],
            ["AppDomainPlugin-com.example.notes.widget"],
        );
        let f = |g: &str| o.access_group_owner(g);
        assert_eq!(
            f("ABCDE12345.com.example.bank").as_deref(),
            Some("com.example.bank")
        );
        assert_eq!(f("com.example.bank").as_deref(), Some("com.example.bank"));
        assert_eq!(
            f("group.com.example.shared").as_deref(),
            Some("com.example.notes")
        );
        assert_eq!(
            f("FGHIJ67890.group.com.example.shared").as_deref(),
            Some("com.example.notes")
        );
        assert_eq!(
            f("FGHIJ67890.com.example.notes.widget").as_deref(),
            Some("com.example.notes")
        );
        assert_eq!(
            f("FGHIJ67890.com.example.bank.today").as_deref(),
            Some("com.example.bank")
        );
        // Not an extension of com.example.bank (but of com.example).
        assert_eq!(
            f("FGHIJ67890.com.example.bankapp").as_deref(),
            Some("com.example")
        );
        assert_eq!(f("apple").as_deref(), Some(SYSTEM_OWNER));
        assert_eq!(f("com.apple.cfnetwork").as_deref(), Some(SYSTEM_OWNER));
        assert_eq!(
            f("ABCDE12345.com.apple.token").as_deref(),
            Some(SYSTEM_OWNER)
        );
        assert_eq!(f("com.applesauce.x"), None);
        assert_eq!(f("ZZZZZ99999.org.other.app"), None);
        assert_eq!(f("group.org.other"), None);
        assert_eq!(f(""), None);
    }

    /// Every domain a policy app owns passes [`may_belong_to`], whichever apps the policy
    /// names and whichever domains the index adds.
    #[test]
    fn may_belong_to_covers_every_owned_domain() {
        let m = [
            info("com.x", APP, &[]),
            info("com.x.bank", APP, &["group.shared.bank", "odd"]),
            info("com.y", APP, &["group.shared.bank", "TEAMID1234.group.y"]),
            info("com.x.bank.widget", PLUGIN, &[]),
            info("group.com.x.bank", GROUP, &[]),
        ];
        let domains = [
            "AppDomain-com.x",
            "AppDomain-com.x.bank",
            "AppDomain-com.x.bank.pro",
            "AppDomain-net.z",
            "AppDomainPlugin-com.x.bank.widget",
            "AppDomainPlugin-com.x.bank.pro.ext",
            "AppDomainPlugin-com.x.other.ext",
            "AppDomainPlugin-com.x.bankapp",
            "AppDomainPlugin-net.z",
            "AppDomainGroup-group.com.x.bank",
            "AppDomainGroup-243LU875E5.groups.com.x.bank",
            "AppDomainGroup-243LU875E5.group.y",
            "AppDomainGroup-TEAMID1234.group.y",
            "AppDomainGroup-group.shared.bank",
            "AppDomainGroup-odd",
            "AppDomainGroup-group.unknown",
            "AppDomainGroup-com.x",
            "AppDomainGroup-group.net.z.share",
            "HomeDomain",
            "CameraRollDomain",
        ];
        let policies: [&[&str]; 7] = [
            &["com.x"],
            &["com.x.bank"],
            &["com.y"],
            &["net.z", "com.x.bank.pro"],
            &["group.unknown"],
            &["group.y"],
            &["com.absent"],
        ];
        let mut kept = 0;
        let mut left_out = 0;
        for apps in policies {
            // The index may hold any subset of the domains: try growing prefixes.
            for n in 0..=domains.len() {
                let o = Ownership::new(&m, &[], apps.iter().copied(), domains[..n].iter().copied());
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
        // A near miss is left out: com.x.bankapp is no extension of com.x.bank.
        assert!(!may_belong_to(
            "AppDomainPlugin-com.x.bankapp",
            &["com.x.bank"],
            &m
        ));
        assert!(may_belong_to(
            "AppDomainPlugin-com.x.bankapp",
            &["com.x"],
            &m
        ));
    }
}
