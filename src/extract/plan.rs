//! The export plan: which rows are selected, where each one goes, and which are refused.
//!
//! Rows are taken in (domain, relativePath) byte order, so that of two colliding rows the
//! same one always wins. Every output node (directory, file or link) is registered under its
//! lower-cased path; a later row that needs the same node with another case, or another kind,
//! is refused and says which earlier path it collides with. Nodes are keyed by a 128-bit
//! keyed hash of that lower-cased path (random keys per run, so no crafted name can aim at
//! another's slot); a node's exact path is rebuilt from the rows only when a collision
//! has to name it.

use super::glob::Glob;
use super::path::{components, resolve_link, Refusal};
use super::rows::Rows;
use crate::index::{FileKind, FileRecord, Subset};
use crate::ownership::Ownership;
use std::collections::HashMap;
use std::hash::{BuildHasher, Hasher, RandomState};

/// Which rows to export. Empty lists select everything.
#[derive(Debug, Clone, Default)]
pub struct Selection {
    /// Bundle ids: the domains each owns (see `ownership`: its `AppDomain-`, and the
    /// `AppDomainGroup-` and `AppDomainPlugin-` domains attributed to it).
    pub apps: Vec<String>,
    /// Exact domain names.
    pub domains: Vec<String>,
    /// relativePath patterns (any one matches).
    pub paths: Vec<Glob>,
}

impl Selection {
    fn is_all(&self) -> bool {
        self.apps.is_empty() && self.domains.is_empty() && self.paths.is_empty()
    }

    /// A part of the index holding every row this selection takes, that the index can find
    /// alone: the named domains, or (with only patterns) the patterns' literal prefixes.
    /// None with `--app` (its domains are only known from the whole index), or with a
    /// pattern that starts with a wildcard. Which filters matched nothing is still decided
    /// right: every row of a named domain, and every row a pattern matches, is in it.
    pub(crate) fn subset(&self) -> Option<Subset> {
        if self.is_all() || !self.apps.is_empty() {
            return None;
        }
        if !self.domains.is_empty() {
            return Some(Subset::Domains(self.domains.clone()));
        }
        let prefixes: Vec<String> = self
            .paths
            .iter()
            .map(|g| g.literal_prefix().to_string())
            .collect();
        prefixes
            .iter()
            .all(|p| !p.is_empty())
            .then_some(Subset::PathPrefixes(prefixes))
    }
}

/// Decides row by row whether it is selected.
pub struct Selector<'a> {
    sel: &'a Selection,
    /// Who owns which domain: the backup's, knowing the selected ids as apps.
    owners: Ownership,
    cache: HashMap<String, bool>,
}

impl<'a> Selector<'a> {
    /// `owners`: built with the selection's app ids among the apps
    /// ([`Selector::for_records`] does so).
    pub fn new(sel: &'a Selection, owners: Ownership) -> Self {
        Selector {
            sel,
            owners,
            cache: HashMap::new(),
        }
    }

    /// The selector for `records` of `backup` (their domains are all the index's).
    pub fn for_records(
        sel: &'a Selection,
        backup: &crate::backup::Backup,
        records: &[FileRecord],
    ) -> Self {
        Self::for_domains(sel, backup, records.iter().map(|r| r.domain.as_str()))
    }

    /// The selector for a backup whose index holds exactly `domains`.
    pub fn for_domains<'d>(
        sel: &'a Selection,
        backup: &crate::backup::Backup,
        domains: impl IntoIterator<Item = &'d str>,
    ) -> Self {
        let owners = if sel.apps.is_empty() {
            Ownership::default()
        } else {
            let domains: std::collections::HashSet<&str> = domains.into_iter().collect();
            Ownership::of_backup(backup, sel.apps.iter().map(String::as_str), domains)
        };
        Selector::new(sel, owners)
    }

    /// Is `domain` selected (named, or owned by a selected app)?
    pub fn domain_selected(&mut self, domain: &str) -> bool {
        if self.sel.apps.is_empty() && self.sel.domains.is_empty() {
            return true;
        }
        if let Some(&b) = self.cache.get(domain) {
            return b;
        }
        let b = self.sel.domains.iter().any(|d| d == domain)
            || self
                .owners
                .domain_owner(domain)
                .is_some_and(|o| self.sel.apps.contains(&o));
        self.cache.insert(domain.to_string(), b);
        b
    }

    /// The filters of the selection that select no row of `records`, as the user spelt
    /// them (`--app X`, `--domain D`, `--path P`); a pattern counts in the selected domains.
    pub fn unmatched(&mut self, records: &[FileRecord]) -> Vec<String> {
        let rows = records
            .iter()
            .map(|r| (r.domain.as_str(), r.relative_path.as_str()));
        self.unmatched_in(rows)
    }

    /// [`Selector::unmatched`] over the compact rows.
    pub(crate) fn unmatched_rows(&mut self, rows: &Rows) -> Vec<String> {
        self.unmatched_in((0..rows.len() as u32).map(|i| (rows.domain(i), rows.relative_path(i))))
    }

    fn unmatched_in<'r>(
        &mut self,
        rows: impl Iterator<Item = (&'r str, &'r str)> + Clone,
    ) -> Vec<String> {
        let domains: std::collections::BTreeSet<&str> = rows.clone().map(|(d, _)| d).collect();
        let mut out = Vec::new();
        for app in &self.sel.apps {
            if !domains
                .iter()
                .any(|d| self.owners.domain_owner(d).as_deref() == Some(app.as_str()))
            {
                out.push(format!("--app {app}"));
            }
        }
        for d in &self.sel.domains {
            if !domains.contains(d.as_str()) {
                out.push(format!("--domain {d}"));
            }
        }
        let mut hit = vec![false; self.sel.paths.len()];
        for (domain, path) in rows {
            if hit.iter().all(|&h| h) {
                break;
            }
            if !self.domain_selected(domain) {
                continue;
            }
            for (h, g) in hit.iter_mut().zip(&self.sel.paths) {
                *h = *h || g.matches(path);
            }
        }
        for (g, h) in self.sel.paths.iter().zip(hit) {
            if !h {
                out.push(format!("--path {}", g.as_str()));
            }
        }
        out
    }

    /// Is the row selected (its domain, and its path when patterns are given)?
    pub fn selected(&mut self, r: &FileRecord) -> bool {
        self.selects(&r.domain, &r.relative_path)
    }

    /// Is a row of `domain` and `relative_path` selected?
    pub fn selects(&mut self, domain: &str, relative_path: &str) -> bool {
        if self.sel.is_all() {
            return true;
        }
        self.domain_selected(domain)
            && (self.sel.paths.is_empty()
                || self.sel.paths.iter().any(|g| g.matches(relative_path)))
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum NodeKind {
    Dir,
    File,
    Link,
}

/// An output node under its lower-cased path. Its exact path is not stored: a directory's
/// is its `DirJob`'s, a file's or link's is rebuilt from its row when a collision has to
/// name it.
#[derive(Clone, Copy)]
struct Node {
    kind: NodeKind,
    /// `Dir`: index into `Plan::dirs`; `File` or `Link`: the row.
    at: u32,
}

impl Node {
    /// The node's exact path (`domain/relative/path`).
    fn exact(&self, p: &Plan, rows: &Rows) -> String {
        match self.kind {
            NodeKind::Dir => p.dirs.get(self.at as usize).map(|d| d.path.clone()),
            NodeKind::File | NodeKind::Link => {
                components(rows.domain(self.at), rows.relative_path(self.at))
                    .ok()
                    .map(|c| c.join("/"))
            }
        }
        .unwrap_or_default()
    }

    /// Is the node's exact path `exact`?
    fn is(&self, exact: &str, p: &Plan, rows: &Rows) -> bool {
        match self.kind {
            NodeKind::Dir => p
                .dirs
                .get(self.at as usize)
                .is_some_and(|d| d.path == exact),
            NodeKind::File | NodeKind::Link => self.exact(p, rows) == exact,
        }
    }
}

/// The key of a lower-cased path: two SipHash sums of it under this run's random key (told
/// apart by a first byte), 128 bits. Two different paths share a key with a probability of
/// about 2^-128 per pair, and without the key no name can be made to.
struct PathKeys(RandomState);

impl PathKeys {
    fn new() -> Self {
        PathKeys(RandomState::new())
    }

    fn of(&self, lower: &str) -> [u64; 2] {
        let sum = |tag: u8| {
            let mut h = self.0.build_hasher();
            h.write_u8(tag);
            h.write(lower.as_bytes());
            h.finish()
        };
        [sum(0), sum(1)]
    }
}

type Nodes = HashMap<[u64; 2], Node>;

/// A directory to create (in order: parents first).
#[derive(Debug, Clone)]
pub(crate) struct DirJob {
    /// `domain/relative/path` (the components were checked).
    pub path: String,
    /// The explicit directory row, if any (for its modification time).
    pub row: Option<u32>,
    /// Parent directory job; `None` for a domain folder (a child of the output folder).
    pub parent: Option<u32>,
}

/// A regular file to write: its row (its path is the row's `domain/relativePath`).
#[derive(Debug, Clone, Copy)]
pub(crate) struct FileJob {
    pub row: u32,
    pub parent: u32,
}

/// A symbolic link (created only with `--symlinks`).
#[derive(Debug, Clone)]
pub(crate) struct LinkJob {
    pub row: u32,
    pub path: String,
    pub parent: u32,
    /// The target as recorded (relative, checked to stay inside the output folder).
    pub target: String,
}

#[derive(Default)]
pub(crate) struct Plan {
    pub dirs: Vec<DirJob>,
    /// In output path order.
    pub files: Vec<FileJob>,
    pub links: Vec<LinkJob>,
    pub refused: Vec<(u32, Refusal)>,
    /// Rows selected (any kind).
    pub selected: u64,
    /// The recorded Sizes of the files, summed.
    pub bytes: u64,
}

fn kind_name(k: FileKind) -> &'static str {
    k.as_str()
}

/// Build the plan for `rows` (job rows are row numbers of it).
pub(crate) fn plan(rows: &Rows, selector: &mut Selector<'_>) -> Plan {
    // Rows are taken in (domain, relativePath) byte order: domains by the rank of their name.
    let mut by_name: Vec<u32> = (0..rows.domain_count() as u32).collect();
    by_name.sort_by(|&a, &b| {
        rows.domain_name(a)
            .as_bytes()
            .cmp(rows.domain_name(b).as_bytes())
    });
    let mut rank = vec![0u32; by_name.len()];
    for (k, &d) in by_name.iter().enumerate() {
        if let Some(r) = rank.get_mut(d as usize) {
            *r = k as u32;
        }
    }
    let rank_of = |i: u32| rank.get(rows.domain_id(i) as usize).copied().unwrap_or(0);
    let mut order: Vec<u32> = (0..rows.len() as u32)
        .filter(|&i| selector.selects(rows.domain(i), rows.relative_path(i)))
        .collect();
    order.sort_by(|&a, &b| {
        rank_of(a).cmp(&rank_of(b)).then_with(|| {
            rows.relative_path(a)
                .as_bytes()
                .cmp(rows.relative_path(b).as_bytes())
        })
    });
    let mut p = Plan {
        selected: order.len() as u64,
        ..Default::default()
    };
    let keys = PathKeys::new();
    // Sized once: about one node per row (growing would hold two tables at once).
    let mut nodes: Nodes = HashMap::with_capacity(order.len());
    let mut pending_links: Vec<(u32, String, u32)> = Vec::new();
    for i in order {
        match place(i, rows, &keys, &mut nodes, &mut p) {
            Ok(Placed::Dir) => {}
            Ok(Placed::File(parent)) => {
                p.bytes = p.bytes.saturating_add(rows.size(i));
                p.files.push(FileJob { row: i, parent })
            }
            Ok(Placed::Link(path, parent)) => pending_links.push((i, path, parent)),
            Err(e) => p.refused.push((i, e)),
        }
    }
    // Links last: their targets are checked against every node of the plan.
    for (i, path, parent) in pending_links {
        let target = rows.target(i).unwrap_or("");
        let check = || -> Result<Vec<String>, Refusal> {
            let comps: Vec<&str> = path.split('/').collect();
            let mut is_link = |p: &[String]| {
                let lower = p.join("/").to_lowercase();
                nodes
                    .get(&keys.of(&lower))
                    .is_some_and(|n| n.kind == NodeKind::Link)
            };
            resolve_link(&comps, &mut is_link, target)
        };
        match check() {
            Ok(_) => p.links.push(LinkJob {
                row: i,
                path,
                parent,
                target: target.to_string(),
            }),
            Err(e) => p.refused.push((i, e)),
        }
    }
    p
}

enum Placed {
    Dir,
    File(u32),
    Link(String, u32),
}

fn place(
    row: u32,
    rows: &Rows,
    keys: &PathKeys,
    nodes: &mut Nodes,
    p: &mut Plan,
) -> Result<Placed, Refusal> {
    let kind = match rows.kind(row) {
        FileKind::File => NodeKind::File,
        FileKind::Directory => NodeKind::Dir,
        FileKind::Symlink => NodeKind::Link,
        k @ FileKind::Other => return Err(Refusal::UnsupportedKind(kind_name(k))),
    };
    let comps = components(rows.domain(row), rows.relative_path(row))?;
    if kind != NodeKind::Dir && comps.len() < 2 {
        return Err(Refusal::EmptyPath);
    }
    // Walk the parents: existing ones must be directories with the same case.
    let mut exact = String::new();
    let mut lower = String::new();
    let mut parent: Option<u32> = None;
    let mut new_dirs: Vec<(String, [u64; 2])> = Vec::new();
    let mut key = [0u64; 2];
    let last = comps.len() - 1;
    for (k, c) in comps.iter().enumerate() {
        if k > 0 {
            exact.push('/');
            lower.push('/');
        }
        exact.push_str(c);
        lower.push_str(&c.to_lowercase());
        key = keys.of(&lower);
        let existing = if new_dirs.is_empty() {
            nodes.get(&key).copied()
        } else {
            None
        };
        if k < last {
            match existing {
                Some(n) if n.kind != NodeKind::Dir => {
                    return Err(Refusal::KindConflict(n.exact(p, rows)))
                }
                Some(n) if !n.is(&exact, p, rows) => {
                    return Err(Refusal::CaseCollision(n.exact(p, rows)))
                }
                Some(n) => parent = Some(n.at),
                None => new_dirs.push((exact.clone(), key)),
            }
        } else {
            match existing {
                Some(n) if !n.is(&exact, p, rows) => {
                    return Err(Refusal::CaseCollision(n.exact(p, rows)))
                }
                Some(n) if n.kind == NodeKind::Dir && kind == NodeKind::Dir => {
                    // An explicit row for a directory implied by an earlier one.
                    if let Some(d) = p.dirs.get_mut(n.at as usize) {
                        d.row.get_or_insert(row);
                    }
                    return Ok(Placed::Dir);
                }
                Some(n) if n.kind != kind => return Err(Refusal::KindConflict(n.exact(p, rows))),
                Some(_) => return Err(Refusal::Duplicate),
                None => {}
            }
        }
    }
    // Commit: parents, then the node itself (under the last key: its full path's).
    let mut add_dir = |mut path: String, key: [u64; 2], parent: Option<u32>, row: Option<u32>| {
        let idx = p.dirs.len() as u32;
        path.shrink_to_fit();
        p.dirs.push(DirJob { path, row, parent });
        nodes.insert(
            key,
            Node {
                kind: NodeKind::Dir,
                at: idx,
            },
        );
        idx
    };
    for (e, k) in new_dirs {
        parent = Some(add_dir(e, k, parent, None));
    }
    match kind {
        NodeKind::Dir => {
            add_dir(exact, key, parent, Some(row));
            Ok(Placed::Dir)
        }
        _ => {
            // A file or link always has a parent (the domain folder at least).
            let parent = parent.unwrap_or(0);
            nodes.insert(key, Node { kind, at: row });
            Ok(if kind == NodeKind::File {
                Placed::File(parent)
            } else {
                exact.shrink_to_fit();
                Placed::Link(exact, parent)
            })
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rec(domain: &str, path: &str, kind: FileKind) -> FileRecord {
        let mut r = FileRecord::new(
            crate::backup::FileId::compute(domain, path)
                .as_str()
                .to_string(),
            domain.to_string(),
            path.to_string(),
        );
        r.kind = kind;
        r
    }

    fn link(domain: &str, path: &str, target: &str) -> FileRecord {
        let mut r = rec(domain, path, FileKind::Symlink);
        r.target = Some(target.to_string());
        r
    }

    fn rows_of(records: &[FileRecord]) -> Rows {
        let mut rows = Rows::default();
        for r in records {
            rows.push(r);
        }
        rows
    }

    fn run(records: &[FileRecord], sel: &Selection) -> Plan {
        let domains: Vec<&str> = records.iter().map(|r| r.domain.as_str()).collect();
        let owners = Ownership::new(&[], &[], sel.apps.iter().map(String::as_str), domains);
        let mut s = Selector::new(sel, owners);
        plan(&rows_of(records), &mut s)
    }

    fn refused(p: &Plan, records: &[FileRecord]) -> Vec<(String, &'static str)> {
        let mut v: Vec<_> = p
            .refused
            .iter()
            .map(|(i, r)| (records[*i as usize].relative_path.clone(), r.code()))
            .collect();
        v.sort();
        v
    }

    /// The output paths of the plan's files.
    fn file_paths(p: &Plan, records: &[FileRecord]) -> Vec<String> {
        let rows = rows_of(records);
        p.files.iter().map(|f| rows.out_path(f.row)).collect()
    }

    #[test]
    fn parents_are_created_once_in_order() {
        let rs = vec![
            rec("D", "a/b/c.txt", FileKind::File),
            rec("D", "a/b/d.txt", FileKind::File),
            rec("D", "a", FileKind::Directory),
            rec("D", "", FileKind::Directory),
            rec("E", "x", FileKind::File),
        ];
        let p = run(&rs, &Selection::default());
        let dirs: Vec<_> = p.dirs.iter().map(|d| d.path.as_str()).collect();
        assert_eq!(dirs, vec!["D", "D/a", "D/a/b", "E"]);
        assert_eq!(p.dirs[0].row, Some(3));
        assert_eq!(p.dirs[1].row, Some(2));
        assert_eq!(p.dirs[2].row, None);
        assert_eq!(p.dirs[2].parent, Some(1));
        assert_eq!(p.dirs[0].parent, None);
        let files: Vec<_> = file_paths(&p, &rs)
            .into_iter()
            .zip(p.files.iter().map(|f| f.parent))
            .collect();
        assert_eq!(
            files,
            vec![
                ("D/a/b/c.txt".to_string(), 2),
                ("D/a/b/d.txt".to_string(), 2),
                ("E/x".to_string(), 3)
            ]
        );
        assert!(p.refused.is_empty());
        assert_eq!(p.selected, 5);
    }

    #[test]
    fn collisions_and_conflicts_are_refused() {
        // In byte order upper case comes first, so "A.txt" is exported and wins.
        let rs = vec![
            rec("D", "Documents/a.txt", FileKind::File),
            rec("D", "documents/b.txt", FileKind::File),
            rec("D", "Documents/A.txt", FileKind::File),
            rec("D", "Documents/A.txt", FileKind::File),
            rec("D", "Documents/A.txt/inner", FileKind::File),
            rec("D", "f", FileKind::File),
            rec("D", "f", FileKind::Directory),
            rec("D", "../x", FileKind::File),
            rec("D", "a/../../x", FileKind::File),
            rec("D", "/etc/passwd", FileKind::File),
            rec("D", "n\0ul", FileKind::File),
            rec("D", "", FileKind::File),
            rec("D", "odd", FileKind::Other),
        ];
        let p = run(&rs, &Selection::default());
        assert_eq!(
            refused(&p, &rs),
            vec![
                ("".into(), "empty_path"),
                ("../x".into(), "dot_dot_component"),
                ("/etc/passwd".into(), "absolute_path"),
                ("Documents/A.txt".into(), "duplicate_path"),
                ("Documents/A.txt/inner".into(), "kind_conflict"),
                ("Documents/a.txt".into(), "case_collision"),
                ("a/../../x".into(), "dot_dot_component"),
                ("documents/b.txt".into(), "case_collision"),
                ("f".into(), "kind_conflict"),
                ("n\0ul".into(), "nul_character"),
                ("odd".into(), "unsupported_kind"),
            ]
        );
        assert_eq!(file_paths(&p, &rs), vec!["D/Documents/A.txt", "D/f"]);
        // A collision names the path exported first.
        let why = |path: &str| {
            p.refused
                .iter()
                .find(|(i, _)| rs[*i as usize].relative_path == path)
                .map(|(_, r)| r.clone())
                .unwrap()
        };
        assert_eq!(
            why("documents/b.txt"),
            Refusal::CaseCollision("D/Documents".into())
        );
        assert_eq!(
            why("Documents/a.txt"),
            Refusal::CaseCollision("D/Documents/A.txt".into())
        );
        assert_eq!(
            why("Documents/A.txt/inner"),
            Refusal::KindConflict("D/Documents/A.txt".into())
        );
    }

    #[test]
    fn links_must_stay_inside_and_not_chain() {
        let rs = vec![
            rec("D", "dir/file", FileKind::File),
            link("D", "dir/ok", "file"),
            link("D", "dir/up", "../../E/x"),
            link("D", "dir/out", "../../../etc/passwd"),
            link("D", "dir/abs", "/etc/passwd"),
            link("D", "dir/via", "up/../y"),
            link("D", "dir/final", "ok"),
        ];
        let p = run(&rs, &Selection::default());
        assert_eq!(
            refused(&p, &rs),
            vec![
                ("dir/abs".into(), "link_absolute"),
                ("dir/out".into(), "link_escapes"),
                ("dir/via".into(), "link_through_link"),
            ]
        );
        let links: Vec<_> = p
            .links
            .iter()
            .map(|l| (l.path.as_str(), l.target.clone()))
            .collect();
        assert_eq!(
            links,
            vec![
                ("D/dir/final", "ok".to_string()),
                ("D/dir/ok", "file".to_string()),
                ("D/dir/up", "../../E/x".to_string()),
            ]
        );
    }

    #[test]
    fn selection_by_app_domain_and_path() {
        let m = [crate::backup::AppInfo {
            bundle_id: "com.a".into(),
            group_containers: vec!["group.shared".into()],
            ..Default::default()
        }];
        let sel = Selection {
            apps: vec!["com.a".into()],
            ..Default::default()
        };
        let mut s = Selector::new(
            &sel,
            Ownership::new(&m, &[], ["com.a"], ["AppDomain-com.ab"]),
        );
        assert!(s.domain_selected("AppDomain-com.a"));
        assert!(!s.domain_selected("AppDomain-com.ab"));
        assert!(s.domain_selected("AppDomainPlugin-com.a.widget"));
        assert!(!s.domain_selected("AppDomainPlugin-com.ab.widget"));
        assert!(!s.domain_selected("AppDomainPlugin-com.abc.widget"));
        assert!(s.domain_selected("AppDomainGroup-group.com.a"));
        assert!(s.domain_selected("AppDomainGroup-ABCDE12345.groups.com.a"));
        assert!(s.domain_selected("AppDomainGroup-group.shared"));
        assert!(!s.domain_selected("AppDomainGroup-group.other"));
        assert!(!s.domain_selected("HomeDomain"));

        let rs = vec![
            rec("AppDomain-com.a", "Documents/x.jpg", FileKind::File),
            rec("AppDomain-com.a", "Documents/x.txt", FileKind::File),
            rec("AppDomainPlugin-com.a.w", "y.jpg", FileKind::File),
            rec("AppDomain-com.b", "z.jpg", FileKind::File),
            rec("HomeDomain", "Library/h.jpg", FileKind::File),
        ];
        let sel = Selection {
            apps: vec!["com.a".into()],
            domains: vec!["HomeDomain".into()],
            paths: vec![Glob::new("**/*.jpg").unwrap()],
        };
        let p = run(&rs, &sel);
        assert_eq!(
            file_paths(&p, &rs),
            vec![
                "AppDomain-com.a/Documents/x.jpg",
                "AppDomainPlugin-com.a.w/y.jpg",
                "HomeDomain/Library/h.jpg"
            ]
        );
        assert_eq!(p.selected, 3);
    }

    /// The plan as it was made before rows were compact and nodes keyed by hashes: every
    /// node under its lower-cased path as a string, with its exact path. Returns the dirs
    /// (path, row, parent), the files (row, parent), the links (row, path, target) and the
    /// refusals (row, why).
    #[allow(clippy::type_complexity)]
    fn reference(
        rs: &[FileRecord],
    ) -> (
        Vec<(String, Option<u32>, Option<u32>)>,
        Vec<(u32, u32)>,
        Vec<(u32, String, String)>,
        Vec<(u32, Refusal)>,
    ) {
        let mut order: Vec<usize> = (0..rs.len()).collect();
        order.sort_by(|&a, &b| {
            (rs[a].domain.as_bytes(), rs[a].relative_path.as_bytes())
                .cmp(&(rs[b].domain.as_bytes(), rs[b].relative_path.as_bytes()))
        });
        let mut nodes: HashMap<String, (NodeKind, usize, String)> = HashMap::new();
        let mut dirs: Vec<(String, Option<u32>, Option<u32>)> = Vec::new();
        let (mut files, mut links, mut refused) = (Vec::new(), Vec::new(), Vec::new());
        let mut pending = Vec::new();
        for i in order {
            let r = &rs[i];
            let row = i as u32;
            let res = (|| -> Result<(), Refusal> {
                let kind = match r.kind {
                    FileKind::File => NodeKind::File,
                    FileKind::Directory => NodeKind::Dir,
                    FileKind::Symlink => NodeKind::Link,
                    FileKind::Other => return Err(Refusal::UnsupportedKind("other")),
                };
                let comps = components(&r.domain, &r.relative_path)?;
                if kind != NodeKind::Dir && comps.len() < 2 {
                    return Err(Refusal::EmptyPath);
                }
                let (mut exact, mut lower) = (String::new(), String::new());
                let mut parent = None;
                let mut new_dirs = Vec::new();
                for (k, c) in comps.iter().enumerate() {
                    if k > 0 {
                        exact.push('/');
                        lower.push('/');
                    }
                    exact.push_str(c);
                    lower.push_str(&c.to_lowercase());
                    let ex = if new_dirs.is_empty() {
                        nodes.get(&lower).cloned()
                    } else {
                        None
                    };
                    if k + 1 < comps.len() {
                        match ex {
                            Some((k2, _, e)) if k2 != NodeKind::Dir => {
                                return Err(Refusal::KindConflict(e))
                            }
                            Some((_, _, e)) if e != exact => return Err(Refusal::CaseCollision(e)),
                            Some((_, at, _)) => parent = Some(at as u32),
                            None => new_dirs.push((exact.clone(), lower.clone())),
                        }
                    } else {
                        match ex {
                            Some((_, _, e)) if e != exact => return Err(Refusal::CaseCollision(e)),
                            Some((NodeKind::Dir, at, _)) if kind == NodeKind::Dir => {
                                dirs[at].1.get_or_insert(row);
                                return Ok(());
                            }
                            Some((k2, _, e)) if k2 != kind => return Err(Refusal::KindConflict(e)),
                            Some(_) => return Err(Refusal::Duplicate),
                            None => {}
                        }
                    }
                }
                for (e, l) in new_dirs {
                    dirs.push((e.clone(), None, parent));
                    parent = Some(dirs.len() as u32 - 1);
                    nodes.insert(l, (NodeKind::Dir, dirs.len() - 1, e));
                }
                match kind {
                    NodeKind::Dir => {
                        dirs.push((exact.clone(), Some(row), parent));
                        nodes.insert(lower, (NodeKind::Dir, dirs.len() - 1, exact));
                    }
                    NodeKind::File => {
                        nodes.insert(lower, (kind, i, exact));
                        files.push((row, parent.unwrap_or(0)));
                    }
                    NodeKind::Link => {
                        nodes.insert(lower, (kind, i, exact.clone()));
                        pending.push((row, exact));
                    }
                }
                Ok(())
            })();
            if let Err(e) = res {
                refused.push((row, e));
            }
        }
        for (row, path) in pending {
            let target = rs[row as usize].target.clone().unwrap_or_default();
            let comps: Vec<&str> = path.split('/').collect();
            let mut is_link = |p: &[String]| {
                nodes
                    .get(&p.join("/").to_lowercase())
                    .is_some_and(|n| n.0 == NodeKind::Link)
            };
            match resolve_link(&comps, &mut is_link, &target) {
                Ok(_) => links.push((row, path, target)),
                Err(e) => refused.push((row, e)),
            }
        }
        (dirs, files, links, refused)
    }

    /// A small deterministic generator (xorshift).
    struct Rng(u64);
    impl Rng {
        fn next(&mut self, n: u64) -> u64 {
            self.0 ^= self.0 << 13;
            self.0 ^= self.0 >> 7;
            self.0 ^= self.0 << 17;
            self.0 % n
        }
    }

    #[test]
    fn compact_plan_equals_the_reference_on_colliding_rows() {
        // Names that collide by letter case (including non-ASCII), kinds that conflict,
        // links in and out, duplicates, hostile components.
        let names = ["a", "A", "b", "B", "É", "é", "ß", "SS", "..", "x:y", ""];
        let targets = ["a", "../A", "../../b/a", "../../../x", "/abs", "A/../b", ""];
        let domains = ["D", "d", "E"];
        let mut rng = Rng(0x9E37_79B9_7F4A_7C15);
        for round in 0..200 {
            let n = 1 + rng.next(40) as usize;
            let mut rs = Vec::new();
            for _ in 0..n {
                let depth = rng.next(4);
                let path: Vec<&str> = (0..depth)
                    .map(|_| names[rng.next(names.len() as u64) as usize])
                    .collect();
                let domain = domains[rng.next(domains.len() as u64) as usize];
                let kind = match rng.next(10) {
                    0..=4 => FileKind::File,
                    5..=7 => FileKind::Directory,
                    8 => FileKind::Symlink,
                    _ => FileKind::Other,
                };
                let mut r = rec(domain, &path.join("/"), kind);
                if kind == FileKind::Symlink {
                    r.target = Some(targets[rng.next(targets.len() as u64) as usize].into());
                }
                rs.push(r);
            }
            let p = run(&rs, &Selection::default());
            let (dirs, files, links, refused) = reference(&rs);
            let got_dirs: Vec<_> = p
                .dirs
                .iter()
                .map(|d| (d.path.clone(), d.row, d.parent))
                .collect();
            let got_files: Vec<_> = p.files.iter().map(|f| (f.row, f.parent)).collect();
            let got_links: Vec<_> = p
                .links
                .iter()
                .map(|l| (l.row, l.path.clone(), l.target.clone()))
                .collect();
            assert_eq!(got_dirs, dirs, "round {round}");
            assert_eq!(got_files, files, "round {round}");
            assert_eq!(got_links, links, "round {round}");
            assert_eq!(p.refused, refused, "round {round}: {rs:?}");
        }
    }
}
