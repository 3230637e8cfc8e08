//! The scan's app list: file counts folded per domain as rows stream, attributed to apps once every domain is known.

use super::model::{AppReport, FileReport, FileStatus};
use crate::index::FileKind;
use crate::ownership::Ownership;
use crate::session::Session;
use std::collections::{BTreeMap, BTreeSet, HashMap};

/// Counts of one domain's regular files (an app's are the sums over its domains).
#[derive(Default)]
struct Counts {
    files: u64,
    present: u64,
    missing: u64,
    bytes: u64,
    /// Files per protection class (`None`: no class).
    by_class: BTreeMap<Option<u32>, u64>,
}

/// The domains of the index rows in the order they were first seen, each with its counts.
#[derive(Default)]
pub(super) struct DomainFold {
    ids: HashMap<String, u32>,
    seen: Vec<(String, Counts)>,
    /// The number of the domain last asked for (rows of one domain tend to come together).
    last: Option<u32>,
}

/// What the domains tell once attributed.
pub(super) struct Attributed {
    /// The app list (bundle id → report), with counts and domains.
    pub apps: BTreeMap<String, AppReport>,
    /// Every distinct domain.
    pub domains: BTreeSet<String>,
    /// The owner of each domain (`None`: no app's).
    pub owners: HashMap<String, Option<String>>,
    /// The owner of each domain by its number ([`DomainFold::id`]).
    pub by_id: Vec<Option<String>>,
}

impl DomainFold {
    /// The number of `domain` (numbered as first seen).
    pub(super) fn id(&mut self, domain: &str) -> u32 {
        if let Some(i) = self.last {
            if self.seen.get(i as usize).is_some_and(|(d, _)| d == domain) {
                return i;
            }
        }
        if let Some(&i) = self.ids.get(domain) {
            self.last = Some(i);
            return i;
        }
        let i = self.seen.len() as u32;
        self.last = Some(i);
        self.ids.insert(domain.to_string(), i);
        self.seen.push((domain.to_string(), Counts::default()));
        i
    }

    /// Count the report of a row of domain number `id`.
    pub(super) fn add(&mut self, id: u32, f: &FileReport) {
        let Some((_, c)) = self.seen.get_mut(id as usize) else {
            return;
        };
        if f.kind == FileKind::File {
            c.files += 1;
            match f.status {
                FileStatus::Present => c.present += 1,
                _ => c.missing += 1,
            }
            c.bytes += f.content_size.or(f.size).unwrap_or(0);
            *c.by_class.entry(f.protection_class).or_default() += 1;
        }
    }

    /// Attribute every domain seen (see [`Ownership`]) and sum the counts per app.
    pub(super) fn attribute(self, s: &Session) -> Attributed {
        let own = Ownership::of_backup(&s.backup, [], self.seen.iter().map(|(d, _)| d.as_str()));
        let mut apps = manifest_apps(s, &own);
        let mut owners = HashMap::with_capacity(self.seen.len());
        let mut by_id = Vec::with_capacity(self.seen.len());
        for (domain, c) in self.seen {
            let owner = own.domain_owner(&domain);
            if let Some(o) = &owner {
                let a = apps.entry(o.clone()).or_insert_with(|| AppReport {
                    bundle_id: o.clone(),
                    ..Default::default()
                });
                a.domains.push(domain.clone());
                a.files += c.files;
                a.present += c.present;
                a.missing += c.missing;
                a.bytes += c.bytes;
                for (class, n) in c.by_class {
                    let k = class.map_or_else(|| "none".into(), |c| c.to_string());
                    *a.by_protection_class.entry(k).or_default() += n;
                }
            }
            by_id.push(owner.clone());
            owners.insert(domain, owner);
        }
        Attributed {
            apps,
            domains: owners.keys().cloned().collect(),
            owners,
            by_id,
        }
    }
}

/// The Manifest.plist entries that stand as apps of their own (none without Manifest.plist).
pub(super) fn manifest_apps(s: &Session, own: &Ownership) -> BTreeMap<String, AppReport> {
    s.backup
        .manifest
        .iter()
        .flat_map(|m| m.applications.iter())
        .filter(|a| own.in_manifest(&a.bundle_id))
        .map(|a| {
            let r = AppReport {
                bundle_id: a.bundle_id.clone(),
                version: a.version.clone(),
                in_manifest: true,
                ..Default::default()
            };
            (a.bundle_id.clone(), r)
        })
        .collect()
}
