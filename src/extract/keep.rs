//! Whole rows kept while the plan is made, so that a small selection (or a big file) is not read from the index twice.
//!
//! The plan holds compact rows ([`super::rows`]); writing a file needs its whole row (the
//! wrapped file key, its times). The rows that may be written — regular files the selection
//! may take, decided before the plan as a superset of it — are kept whole up to
//! [`KEEP_SMALL`]; past that the small ones are dropped and the index is read again for
//! them. Files of [`BIG`] bytes or more are kept whatever the count (up to [`KEEP_BIG`]) so
//! that they are written first and do not finish last.

use super::plan::Selection;
use crate::backup::AppInfo;
use crate::index::{FileKind, FileRecord};
use crate::ownership::may_belong_to;

/// Whole rows kept at most (≈ 600 bytes each), big files aside.
pub(crate) const KEEP_SMALL: usize = 32_768;
/// A file whose recorded Size is at least this is big: written first.
pub(crate) const BIG: u64 = 8 << 20;
/// Big files kept at most.
pub(crate) const KEEP_BIG: usize = 256;

/// The rows kept, by row number.
pub(crate) struct Keep<'a> {
    sel: &'a Selection,
    apps: Vec<&'a str>,
    manifest: &'a [AppInfo],
    /// By domain number: may the selection take this domain's rows?
    domain_ok: Vec<Option<bool>>,
    kept: Vec<(u32, FileRecord)>,
    small: usize,
    big: usize,
    /// More small rows were offered than kept: they are read again.
    overflow: bool,
    limits: (usize, usize),
}

#[cfg(test)]
thread_local! {
    /// Limits for the exports this test thread runs (`None`: the real ones).
    pub(crate) static TEST_LIMITS: std::cell::Cell<Option<(usize, usize)>> =
        const { std::cell::Cell::new(None) };
}

impl<'a> Keep<'a> {
    pub fn new(sel: &'a Selection, manifest: &'a [AppInfo]) -> Self {
        #[cfg(test)]
        if let Some((small, big)) = TEST_LIMITS.with(|l| l.get()) {
            return Keep::new_with(sel, manifest).with_limits(small, big);
        }
        Keep::new_with(sel, manifest)
    }

    fn new_with(sel: &'a Selection, manifest: &'a [AppInfo]) -> Self {
        Keep {
            sel,
            apps: sel.apps.iter().map(String::as_str).collect(),
            manifest,
            domain_ok: Vec::new(),
            kept: Vec::new(),
            small: 0,
            big: 0,
            overflow: false,
            limits: (KEEP_SMALL, KEEP_BIG),
        }
    }

    /// Lower limits (tests).
    #[cfg(test)]
    pub fn with_limits(mut self, small: usize, big: usize) -> Self {
        self.limits = (small, big);
        self
    }

    /// May the selection take a row of `domain` (its domain number `d`) at `relative_path`?
    /// A superset: `--app` is answered by [`may_belong_to`], before every domain is known.
    fn may_take(&mut self, d: u32, domain: &str, relative_path: &str) -> bool {
        let sel = self.sel;
        let d = d as usize;
        if self.domain_ok.len() <= d {
            self.domain_ok.resize(d + 1, None);
        }
        let ok = match self.domain_ok.get(d).copied().flatten() {
            Some(b) => b,
            None => {
                let b = (sel.apps.is_empty() && sel.domains.is_empty())
                    || sel.domains.iter().any(|x| x == domain)
                    || (!self.apps.is_empty() && may_belong_to(domain, &self.apps, self.manifest));
                if let Some(slot) = self.domain_ok.get_mut(d) {
                    *slot = Some(b);
                }
                b
            }
        };
        ok && (sel.paths.is_empty() || sel.paths.iter().any(|g| g.matches(relative_path)))
    }

    /// Row `i` (of domain number `d`), streamed: kept if it may be written and there is room.
    pub fn offer(&mut self, i: u32, d: u32, r: FileRecord) {
        if r.kind != FileKind::File || !self.may_take(d, &r.domain, &r.relative_path) {
            return;
        }
        let (small_max, big_max) = self.limits;
        if r.size.unwrap_or(0) >= BIG && self.big < big_max {
            self.big += 1;
            self.kept.push((i, r));
            return;
        }
        if self.overflow {
            return;
        }
        if self.small >= small_max {
            self.overflow = true;
            self.kept.retain(|(_, r)| r.size.unwrap_or(0) >= BIG);
            self.kept.shrink_to_fit();
            return;
        }
        self.small += 1;
        self.kept.push((i, r));
    }

    /// The rows kept (in index order).
    pub fn into_rows(self) -> Vec<(u32, FileRecord)> {
        self.kept
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::extract::Glob;

    fn file(domain: &str, path: &str, size: u64) -> FileRecord {
        let mut r = FileRecord::new(String::new(), domain.into(), path.into());
        r.kind = FileKind::File;
        r.size = Some(size);
        r
    }

    fn kept(k: Keep<'_>) -> Vec<u32> {
        k.into_rows().into_iter().map(|(i, _)| i).collect()
    }

    #[test]
    fn keeps_what_the_selection_may_take_within_its_limits() {
        let sel = Selection {
            domains: vec!["HomeDomain".into()],
            paths: vec![Glob::path_pattern("*.db").unwrap()],
            ..Default::default()
        };
        let mut k = Keep::new(&sel, &[]);
        k.offer(0, 0, file("HomeDomain", "a.db", 1));
        k.offer(1, 0, file("HomeDomain", "a.txt", 1));
        k.offer(2, 1, file("MediaDomain", "b.db", 1));
        let mut dir = file("HomeDomain", "c.db", 0);
        dir.kind = FileKind::Directory;
        k.offer(3, 0, dir);
        assert_eq!(kept(k), vec![0]);

        // --app: the superset of the app's domains, decided per domain.
        let sel = Selection {
            apps: vec!["com.a".into()],
            ..Default::default()
        };
        let mut k = Keep::new(&sel, &[]);
        k.offer(0, 0, file("AppDomain-com.a", "x", 1));
        k.offer(1, 1, file("AppDomain-com.b", "x", 1));
        k.offer(2, 2, file("AppDomainPlugin-com.a.w", "x", 1));
        k.offer(3, 0, file("AppDomain-com.a", "y", 1));
        assert_eq!(kept(k), vec![0, 2, 3]);

        // Past the limit the small rows are dropped; big ones stay, up to theirs.
        let all = Selection::default();
        let mut k = Keep::new(&all, &[]).with_limits(2, 1);
        k.offer(0, 0, file("D", "a", 1));
        k.offer(1, 0, file("D", "big1", BIG));
        k.offer(2, 0, file("D", "b", 1));
        k.offer(3, 0, file("D", "c", 1));
        k.offer(4, 0, file("D", "big2", BIG));
        k.offer(5, 0, file("D", "d", 1));
        assert_eq!(kept(k), vec![1]);
        let mut k = Keep::new(&all, &[]).with_limits(2, 1);
        k.offer(0, 0, file("D", "a", 1));
        k.offer(1, 0, file("D", "b", 1));
        assert_eq!(kept(k), vec![0, 1]);
    }
}
