//! The export plan: which rows are selected, where each one goes, and which are refused.
//!
//! Rows are taken in (domain, relativePath) byte order, so that of two colliding rows the
//! same one always wins. Every output node (directory, file or link) is registered under its
//! lower-cased path; a later row that needs the same node with another case, or another kind,
//! is refused and says which earlier path it collides with.

use super::glob::Glob;
use super::path::{components, resolve_link, Refusal};
use crate::index::{FileKind, FileRecord};
use crate::ownership::Ownership;
use std::collections::HashMap;

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
        let owners = if sel.apps.is_empty() {
            Ownership::default()
        } else {
            let domains: std::collections::HashSet<&str> =
                records.iter().map(|r| r.domain.as_str()).collect();
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
        let domains: std::collections::BTreeSet<&str> =
            records.iter().map(|r| r.domain.as_str()).collect();
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
        for r in records {
            if hit.iter().all(|&h| h) {
                break;
            }
            if !self.domain_selected(&r.domain) {
                continue;
            }
            for (h, g) in hit.iter_mut().zip(&self.sel.paths) {
                *h = *h || g.matches(&r.relative_path);
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
        if self.sel.is_all() {
            return true;
        }
        self.domain_selected(&r.domain)
            && (self.sel.paths.is_empty()
                || self.sel.paths.iter().any(|g| g.matches(&r.relative_path)))
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum NodeKind {
    Dir,
    File,
    Link,
}

/// An output node under its lower-cased path. Its exact path is not stored (at 1.3 M rows
/// that was ~100 MB): a directory's is its `DirJob`'s, a file's or link's is rebuilt from
/// its row when a collision has to name it.
struct Node {
    kind: NodeKind,
    /// `Dir`: index into `Plan::dirs`; `File` or `Link`: the row.
    at: usize,
}

impl Node {
    /// The node's exact path (`domain/relative/path`).
    fn exact(&self, p: &Plan, records: &[FileRecord]) -> String {
        match self.kind {
            NodeKind::Dir => p.dirs.get(self.at).map(|d| d.path.clone()),
            NodeKind::File | NodeKind::Link => records
                .get(self.at)
                .and_then(|r| components(&r.domain, &r.relative_path).ok())
                .map(|c| c.join("/")),
        }
        .unwrap_or_default()
    }

    /// Is the node's exact path `exact`?
    fn is(&self, exact: &str, p: &Plan, records: &[FileRecord]) -> bool {
        match self.kind {
            NodeKind::Dir => p.dirs.get(self.at).is_some_and(|d| d.path == exact),
            NodeKind::File | NodeKind::Link => self.exact(p, records) == exact,
        }
    }
}

/// A directory to create (in order: parents first).
#[derive(Debug, Clone)]
pub(crate) struct DirJob {
    /// `domain/relative/path` (the components were checked).
    pub path: String,
    /// The explicit directory row, if any (for its modification time).
    pub row: Option<usize>,
    /// Parent directory job; `None` for a domain folder (a child of the output folder).
    pub parent: Option<u32>,
}

/// A regular file to write.
#[derive(Debug, Clone)]
pub(crate) struct FileJob {
    pub row: usize,
    pub path: String,
    pub parent: u32,
}

/// A symbolic link (created only with `--symlinks`).
#[derive(Debug, Clone)]
pub(crate) struct LinkJob {
    pub row: usize,
    pub path: String,
    pub parent: u32,
    /// The target as recorded (relative, checked to stay inside the output folder).
    pub target: String,
}

#[derive(Default)]
pub(crate) struct Plan {
    pub dirs: Vec<DirJob>,
    pub files: Vec<FileJob>,
    pub links: Vec<LinkJob>,
    pub refused: Vec<(usize, Refusal)>,
    /// Rows selected (any kind).
    pub selected: u64,
}

fn kind_name(k: FileKind) -> &'static str {
    k.as_str()
}

/// Build the plan for `records` (indices refer to it).
pub(crate) fn plan(records: &[FileRecord], selector: &mut Selector<'_>) -> Plan {
    let mut order: Vec<usize> = (0..records.len())
        .filter(|&i| records.get(i).is_some_and(|r| selector.selected(r)))
        .collect();
    order.sort_by(|&a, &b| {
        let (ra, rb) = (&records[a], &records[b]);
        ra.domain
            .as_bytes()
            .cmp(rb.domain.as_bytes())
            .then_with(|| ra.relative_path.as_bytes().cmp(rb.relative_path.as_bytes()))
    });
    let mut p = Plan {
        selected: order.len() as u64,
        ..Default::default()
    };
    // Keys are boxed: exactly as long as the path (a `String` grown component by component
    // keeps up to twice that).
    let mut nodes: HashMap<Box<str>, Node> = HashMap::new();
    let mut pending_links: Vec<(usize, String, u32)> = Vec::new();
    for i in order {
        let r = &records[i];
        match place(i, r, records, &mut nodes, &mut p) {
            Ok(Placed::Dir) => {}
            Ok(Placed::File(path, parent)) => p.files.push(FileJob {
                row: i,
                path,
                parent,
            }),
            Ok(Placed::Link(path, parent)) => pending_links.push((i, path, parent)),
            Err(e) => p.refused.push((i, e)),
        }
    }
    // Links last: their targets are checked against every node of the plan.
    for (i, path, parent) in pending_links {
        let r = &records[i];
        let check = || -> Result<Vec<String>, Refusal> {
            let target = r.target.as_deref().unwrap_or("");
            let comps: Vec<&str> = path.split('/').collect();
            let mut is_link = |p: &[String]| {
                let lower = p.join("/").to_lowercase();
                nodes
                    .get(lower.as_str())
                    .is_some_and(|n| n.kind == NodeKind::Link)
            };
            resolve_link(&comps, &mut is_link, target)
        };
        match check() {
            Ok(_) => p.links.push(LinkJob {
                row: i,
                path,
                parent,
                target: r.target.clone().unwrap_or_default(),
            }),
            Err(e) => p.refused.push((i, e)),
        }
    }
    p
}

enum Placed {
    Dir,
    File(String, u32),
    Link(String, u32),
}

fn place(
    row: usize,
    r: &FileRecord,
    records: &[FileRecord],
    nodes: &mut HashMap<Box<str>, Node>,
    p: &mut Plan,
) -> Result<Placed, Refusal> {
    let kind = match r.kind {
        FileKind::File => NodeKind::File,
        FileKind::Directory => NodeKind::Dir,
        FileKind::Symlink => NodeKind::Link,
        FileKind::Other => return Err(Refusal::UnsupportedKind(kind_name(r.kind))),
    };
    let comps = components(&r.domain, &r.relative_path)?;
    if kind != NodeKind::Dir && comps.len() < 2 {
        return Err(Refusal::EmptyPath);
    }
    // Walk the parents: existing ones must be directories with the same case.
    let mut exact = String::new();
    let mut lower = String::new();
    let mut parent: Option<u32> = None;
    let mut new_dirs: Vec<(String, String)> = Vec::new();
    let last = comps.len() - 1;
    for (k, c) in comps.iter().enumerate() {
        if k > 0 {
            exact.push('/');
            lower.push('/');
        }
        exact.push_str(c);
        lower.push_str(&c.to_lowercase());
        let existing = if new_dirs.is_empty() {
            nodes.get(lower.as_str())
        } else {
            None
        };
        if k < last {
            match existing {
                Some(n) if n.kind != NodeKind::Dir => {
                    return Err(Refusal::KindConflict(n.exact(p, records)))
                }
                Some(n) if !n.is(&exact, p, records) => {
                    return Err(Refusal::CaseCollision(n.exact(p, records)))
                }
                Some(n) => parent = Some(n.at as u32),
                None => new_dirs.push((exact.clone(), lower.clone())),
            }
        } else {
            match existing {
                Some(n) if !n.is(&exact, p, records) => {
                    return Err(Refusal::CaseCollision(n.exact(p, records)))
                }
                Some(n) if n.kind == NodeKind::Dir && kind == NodeKind::Dir => {
                    // An explicit row for a directory implied by an earlier one.
                    if let Some(d) = p.dirs.get_mut(n.at) {
                        d.row.get_or_insert(row);
                    }
                    return Ok(Placed::Dir);
                }
                Some(n) if n.kind != kind => {
                    return Err(Refusal::KindConflict(n.exact(p, records)))
                }
                Some(_) => return Err(Refusal::Duplicate),
                None => {}
            }
        }
    }
    // Commit: parents, then the node itself.
    let mut add_dir = |mut path: String, lower: String, parent: Option<u32>, row: Option<usize>| {
        let idx = p.dirs.len() as u32;
        path.shrink_to_fit();
        p.dirs.push(DirJob { path, row, parent });
        nodes.insert(
            lower.into_boxed_str(),
            Node {
                kind: NodeKind::Dir,
                at: idx as usize,
            },
        );
        idx
    };
    for (e, l) in new_dirs {
        parent = Some(add_dir(e, l, parent, None));
    }
    match kind {
        NodeKind::Dir => {
            add_dir(exact, lower, parent, Some(row));
            Ok(Placed::Dir)
        }
        _ => {
            // A file or link always has a parent (the domain folder at least).
            let parent = parent.unwrap_or(0);
            nodes.insert(lower.into_boxed_str(), Node { kind, at: row });
            exact.shrink_to_fit();
            Ok(if kind == NodeKind::File {
                Placed::File(exact, parent)
            } else {
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

    fn run(records: &[FileRecord], sel: &Selection) -> Plan {
        let domains: Vec<&str> = records.iter().map(|r| r.domain.as_str()).collect();
        let owners = Ownership::new(&[], &[], sel.apps.iter().map(String::as_str), domains);
        let mut s = Selector::new(sel, owners);
        plan(records, &mut s)
    }

    fn refused(p: &Plan, records: &[FileRecord]) -> Vec<(String, &'static str)> {
        let mut v: Vec<_> = p
            .refused
            .iter()
            .map(|(i, r)| (records[*i].relative_path.clone(), r.code()))
            .collect();
        v.sort();
        v
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
        let files: Vec<_> = p
            .files
            .iter()
            .map(|f| (f.path.as_str(), f.parent))
            .collect();
        assert_eq!(
            files,
            vec![("D/a/b/c.txt", 2), ("D/a/b/d.txt", 2), ("E/x", 3)]
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
        let files: Vec<_> = p.files.iter().map(|f| f.path.as_str()).collect();
        assert_eq!(files, vec!["D/Documents/A.txt", "D/f"]);
        // A collision names the path exported first.
        let why = |path: &str| {
            p.refused
                .iter()
                .find(|(i, _)| rs[*i].relative_path == path)
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
        let files: Vec<_> = p.files.iter().map(|f| f.path.as_str()).collect();
        assert_eq!(
            files,
            vec![
                "AppDomain-com.a/Documents/x.jpg",
                "AppDomainPlugin-com.a.w/y.jpg",
                "HomeDomain/Library/h.jpg"
            ]
        );
        assert_eq!(p.selected, 3);
    }
}
