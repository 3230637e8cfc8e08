//! The files of one side as compact entries sorted by (domain, path), and their compare
//! as two sorted streams.
//!
//! Per file only this is kept: the domain's number, the relative path, kind, payload
//! status, protection class, content size and the MBFile SHA-1 digest when the row has
//! one. The scan's own per-file reports are not kept: its `keep_file` takes this entry
//! from each and keeps none.

use super::model::{Area, Change, Facts, State, Subject};
use super::{change, rules};
use crate::audit::model::FileStatus;
use crate::audit::FileReport;
use crate::crypto::class::ProtectionClass;
use crate::index::{FileKind, FileRecord};
use std::collections::HashMap;
use std::sync::Mutex;

/// One file as the diff compares it.
#[derive(Debug, Clone)]
pub struct FileEntry {
    /// Index into [`FileList::domains`].
    pub domain: u32,
    pub path: Box<str>,
    pub kind: FileKind,
    pub status: FileStatus,
    pub class: Option<u8>,
    /// Content length when known, else the recorded Size.
    pub size: Option<u64>,
    /// MBFile `Digest` (SHA-1) when the row has one.
    pub digest: Option<[u8; 20]>,
}

/// Every file of one side, sorted by (domain, path).
#[derive(Debug, Default)]
pub struct FileList {
    pub domains: Vec<String>,
    pub entries: Vec<FileEntry>,
}

impl FileList {
    fn domain(&self, e: &FileEntry) -> &str {
        &self.domains[e.domain as usize]
    }
}

#[derive(Default)]
struct Gathered {
    ids: HashMap<String, u32>,
    list: FileList,
    /// fileID → MBFile digest, for the rows that have one (joined to the entries at the end).
    digests: HashMap<[u8; 20], [u8; 20]>,
    /// fileID of each entry (only while gathering).
    file_ids: Vec<Option<[u8; 20]>>,
}

/// Gathers entries from the scan's `keep_file` and `keep_row` callbacks (called from the
/// scan's worker threads).
#[derive(Default)]
pub struct Collector(Mutex<Gathered>);

fn id20(hex_id: &str) -> Option<[u8; 20]> {
    let mut out = [0u8; 20];
    hex::decode_to_slice(hex_id, &mut out).ok()?;
    Some(out)
}

impl Collector {
    /// Take what the diff needs of a file report; keep nothing else (returns false).
    pub fn file(&self, f: &FileReport) -> bool {
        let mut g = self.0.lock().unwrap_or_else(|e| e.into_inner());
        let next = g.ids.len() as u32;
        let domain = match g.ids.get(&f.domain) {
            Some(&d) => d,
            None => {
                g.ids.insert(f.domain.clone(), next);
                g.list.domains.push(f.domain.clone());
                next
            }
        };
        g.list.entries.push(FileEntry {
            domain,
            path: f.relative_path.as_str().into(),
            kind: f.kind,
            status: f.status,
            class: f.protection_class.and_then(|c| u8::try_from(c).ok()),
            size: f.content_size.or(f.size),
            digest: None,
        });
        let id = id20(&f.file_id);
        g.file_ids.push(id);
        false
    }

    /// Note a row's MBFile digest; keep no row (returns false).
    pub fn row(&self, r: &FileRecord) -> bool {
        if let (Some(d), Some(id)) = (r.digest.as_deref(), id20(&r.file_id)) {
            if let Ok(d) = <[u8; 20]>::try_from(d) {
                let mut g = self.0.lock().unwrap_or_else(|e| e.into_inner());
                g.digests.insert(id, d);
            }
        }
        false
    }

    /// The entries, digests joined, sorted by (domain, path).
    pub fn finish(self) -> FileList {
        let g = self.0.into_inner().unwrap_or_else(|e| e.into_inner());
        let Gathered {
            list: mut l,
            digests,
            file_ids,
            ..
        } = g;
        if !digests.is_empty() {
            for (e, id) in l.entries.iter_mut().zip(&file_ids) {
                e.digest = id.and_then(|id| digests.get(&id).copied());
            }
        }
        drop(file_ids);
        let mut order: Vec<u32> = (0..l.domains.len() as u32).collect();
        order.sort_by(|&a, &b| l.domains[a as usize].cmp(&l.domains[b as usize]));
        let mut rank = vec![0u32; order.len()];
        for (r, &d) in order.iter().enumerate() {
            rank[d as usize] = r as u32;
        }
        l.entries.sort_unstable_by(|a, b| {
            (rank[a.domain as usize], &a.path).cmp(&(rank[b.domain as usize], &b.path))
        });
        l.entries.shrink_to_fit();
        l
    }
}

/// File classes from strongest (A, Complete) to weakest (D, None); other classes (5, …)
/// have no place in the order.
fn strength(class: Option<u8>) -> Option<u8> {
    class.filter(|c| (1..=4).contains(c))
}

fn kind_str(k: FileKind) -> &'static str {
    k.as_str()
}

fn facts(e: &FileEntry) -> Facts {
    Facts {
        kind: Some(kind_str(e.kind)),
        status: Some(e.status.as_str()),
        protection_class: e.class.map(u32::from),
        size: e.size,
        digest: e.digest.map(|d| format!("sha1:{}", hex::encode(d))),
        ..Default::default()
    }
}

fn class_text(c: Option<u8>) -> String {
    match c {
        Some(c) => format!("class {c} ({})", ProtectionClass::new(u32::from(c)).name()),
        None => "no class".into(),
    }
}

/// Compare two sorted lists; push the changes of the files `only` (an app) owns, or of all
/// files; returns the number of files alike on both sides.
pub fn compare(
    old: &FileList,
    new: &FileList,
    only: Option<&str>,
    owner: &dyn Fn(&str) -> Option<String>,
    skip: &dyn Fn(&str, &str) -> bool,
    out: &mut Vec<Change>,
) -> u64 {
    let mut unchanged = 0;
    let (mut i, mut j) = (0, 0);
    let mut owner_cache: HashMap<&str, Option<String>> = HashMap::new();
    loop {
        let a = old.entries.get(i);
        let b = new.entries.get(j);
        let (a, b) = match (a, b) {
            (None, None) => break,
            (Some(a), None) => {
                i += 1;
                (Some(a), None)
            }
            (None, Some(b)) => {
                j += 1;
                (None, Some(b))
            }
            (Some(a), Some(b)) => match (old.domain(a), &*a.path).cmp(&(new.domain(b), &*b.path)) {
                std::cmp::Ordering::Less => {
                    i += 1;
                    (Some(a), None)
                }
                std::cmp::Ordering::Greater => {
                    j += 1;
                    (None, Some(b))
                }
                std::cmp::Ordering::Equal => {
                    i += 1;
                    j += 1;
                    (Some(a), Some(b))
                }
            },
        };
        let domain = a
            .map(|a| old.domain(a))
            .or(b.map(|b| new.domain(b)))
            .unwrap_or_default();
        let app = owner_cache
            .entry(domain)
            .or_insert_with(|| owner(domain))
            .clone();
        if let Some(only) = only {
            if app.as_deref() != Some(only) {
                continue;
            }
        }
        let path = a
            .map(|a| &*a.path)
            .or(b.map(|b| &*b.path))
            .unwrap_or_default();
        if skip(domain, path) {
            continue;
        }
        match one(domain, path, a, b) {
            Some(mut c) => {
                c.app = app;
                out.push(c);
            }
            None => unchanged += 1,
        }
    }
    unchanged
}

/// The change of one file, if any.
fn one(domain: &str, path: &str, a: Option<&FileEntry>, b: Option<&FileEntry>) -> Option<Change> {
    let subject = Subject {
        domain: Some(domain.to_owned()),
        path: Some(path.to_owned()),
        ..Default::default()
    };
    match (a, b) {
        (None, Some(b)) => {
            let mut c = change(
                &rules::FILE_ADDED,
                Area::File,
                State::New,
                subject,
                None,
                Some(facts(b)),
                match b.kind {
                    FileKind::File => format!("new file, {}", class_text(b.class)),
                    k => format!("new {}", kind_str(k)),
                },
            );
            c.weakened = b.kind == FileKind::File && b.class == Some(4);
            Some(c)
        }
        (Some(a), None) => Some(change(
            &rules::FILE_REMOVED,
            Area::File,
            State::Absent,
            subject,
            Some(facts(a)),
            None,
            format!("{} no longer in the backup", kind_str(a.kind)),
        )),
        (Some(a), Some(b)) => {
            let size = matches!((a.size, b.size), (Some(x), Some(y)) if x != y);
            let digest = matches!((a.digest, b.digest), (Some(x), Some(y)) if x != y);
            let class = a.class != b.class;
            let kind = a.kind != b.kind;
            let status = a.status != b.status;
            if !(size || digest || class || kind || status) {
                return None;
            }
            let (sa, sb) = (strength(a.class), strength(b.class));
            let weaker = class && matches!((sa, sb), (Some(x), Some(y)) if y > x);
            let stronger = class && matches!((sa, sb), (Some(x), Some(y)) if y < x);
            let now_missing = a.status == FileStatus::Present && b.status == FileStatus::Missing;
            let rule = if weaker {
                &rules::FILE_CLASS_WEAKENED
            } else if now_missing {
                &rules::FILE_NOW_MISSING
            } else if stronger {
                &rules::FILE_CLASS_STRENGTHENED
            } else {
                &rules::FILE_CHANGED
            };
            let mut what = Vec::new();
            if class {
                what.push(format!("{} → {}", class_text(a.class), class_text(b.class)));
            }
            if status {
                what.push(format!(
                    "payload {} → {}",
                    a.status.as_str(),
                    b.status.as_str()
                ));
            }
            if kind {
                what.push(format!("{} → {}", kind_str(a.kind), kind_str(b.kind)));
            }
            if size {
                what.push(format!(
                    "{} → {} bytes",
                    a.size.unwrap_or_default(),
                    b.size.unwrap_or_default()
                ));
            }
            if digest {
                what.push("digest changed".into());
            }
            let mut c = change(
                rule,
                Area::File,
                State::Updated,
                subject,
                Some(facts(a)),
                Some(facts(b)),
                what.join("; "),
            );
            c.weakened = weaker;
            Some(c)
        }
        (None, None) => None,
    }
}
