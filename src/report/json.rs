//! JSON rendering: the report structs serialise as documented in docs/json-schema.md.

use crate::audit::scan::FileSink;
use crate::audit::{FileReport, ScanReport};
use crate::crypto::scratch::Scratch;
use rayon::prelude::*;
use serde::Serialize;
use serde_json::ser::{Formatter, PrettyFormatter};
use std::io::{self, Write};
use std::sync::Mutex;

/// Write `value` as pretty JSON followed by a newline.
pub fn write<T: Serialize>(out: &mut dyn Write, value: &T) -> io::Result<()> {
    serde_json::to_writer_pretty(&mut *out, value).map_err(io::Error::other)?;
    writeln!(out)
}

/// serde_json's pretty layout for a value nested `depth` levels deep: each of its lines
/// indented as [`write`] indents them in place, with no re-indenting pass. Only the layout
/// methods are delegated (the rest of [`Formatter`] is the same for compact and pretty).
struct Nested(PrettyFormatter<'static>);

impl Nested {
    fn at_depth(depth: usize) -> Self {
        let mut f = PrettyFormatter::new();
        for _ in 0..depth {
            // Only the depth is kept: the bracket goes nowhere.
            let _ = f.begin_array(&mut io::sink());
        }
        Nested(f)
    }
}

impl Formatter for Nested {
    fn begin_array<W: ?Sized + Write>(&mut self, w: &mut W) -> io::Result<()> {
        self.0.begin_array(w)
    }
    fn end_array<W: ?Sized + Write>(&mut self, w: &mut W) -> io::Result<()> {
        self.0.end_array(w)
    }
    fn begin_array_value<W: ?Sized + Write>(&mut self, w: &mut W, first: bool) -> io::Result<()> {
        self.0.begin_array_value(w, first)
    }
    fn end_array_value<W: ?Sized + Write>(&mut self, w: &mut W) -> io::Result<()> {
        self.0.end_array_value(w)
    }
    fn begin_object<W: ?Sized + Write>(&mut self, w: &mut W) -> io::Result<()> {
        self.0.begin_object(w)
    }
    fn end_object<W: ?Sized + Write>(&mut self, w: &mut W) -> io::Result<()> {
        self.0.end_object(w)
    }
    fn begin_object_key<W: ?Sized + Write>(&mut self, w: &mut W, first: bool) -> io::Result<()> {
        self.0.begin_object_key(w, first)
    }
    fn begin_object_value<W: ?Sized + Write>(&mut self, w: &mut W) -> io::Result<()> {
        self.0.begin_object_value(w)
    }
    fn end_object_value<W: ?Sized + Write>(&mut self, w: &mut W) -> io::Result<()> {
        self.0.end_object_value(w)
    }
}

/// Append the pretty JSON of a file report as it stands in a scan report's `files` (two
/// levels deep).
fn file_json(buf: &mut Vec<u8>, f: &FileReport) -> io::Result<()> {
    let mut ser = serde_json::Serializer::with_formatter(buf, Nested::at_depth(FILE_DEPTH));
    f.serialize(&mut ser).map_err(io::Error::other)
}

/// How deep a file report sits in a scan report (`{"files": [{…`).
const FILE_DEPTH: usize = 2;

/// Per-file reports rendered per parallel task, and per window written out (the window
/// bounds the memory of the rendered text).
#[cfg(not(test))]
const CHUNK: usize = 256;
#[cfg(not(test))]
const WINDOW: usize = 16 * CHUNK;
#[cfg(test)]
const CHUNK: usize = 3;
#[cfg(test)]
const WINDOW: usize = 4 * CHUNK;

/// [`write`] of a scan report, byte for byte, with its per-file reports (most of a large
/// report) rendered in parallel. The rest of the report is rendered with `files` empty
/// and the array is put in its place; each file's pretty JSON is laid out for its depth
/// ([`Nested`]).
pub fn write_scan(out: &mut dyn Write, r: &mut ScanReport) -> io::Result<()> {
    const MARK: &[u8] = b"\n  \"files\": []";
    let files = std::mem::take(&mut r.files);
    let shell = serde_json::to_vec_pretty(&*r);
    r.files = files;
    let shell = shell.map_err(io::Error::other)?;
    let at = shell.windows(MARK.len()).position(|w| w == MARK);
    let (Some(at), false) = (at, r.files.is_empty()) else {
        return write(out, r);
    };
    let open = at + MARK.len() - 1; // just after '['
    out.write_all(&shell[..open])?;
    for (w, window) in r.files.chunks(WINDOW).enumerate() {
        let parts = window
            .par_chunks(CHUNK)
            .enumerate()
            .map(|(c, chunk)| {
                let mut buf = Vec::with_capacity(chunk.len() * 640);
                for (i, f) in chunk.iter().enumerate() {
                    let first = w == 0 && c == 0 && i == 0;
                    buf.extend_from_slice(if first { b"\n    " } else { b",\n    " });
                    file_json(&mut buf, f)?;
                }
                Ok(buf)
            })
            .collect::<io::Result<Vec<_>>>()?;
        for p in parts {
            out.write_all(&p)?;
        }
    }
    out.write_all(b"\n  ]")?;
    out.write_all(&shell[open + 1..])?;
    writeln!(out)
}

/// The per-file reports of a scan, rendered as they are made ([`FileSink`]) and kept sealed
/// in a scratch file ([`crate::crypto::scratch`]: ciphertext under a key held in memory)
/// until [`write_scan_spilled`] puts them in place: the report's `apps` and totals come
/// before `files` and need every row, and holding every file's report took ≈ 0.5 KB per
/// row (785 MB at 1.3 M rows).
///
/// Each report is rendered as [`write_scan`] renders it, in two parts around its `app`
/// (known only once every domain is): a record is the domain's number, the lengths of the
/// two parts, and the parts.
pub struct FileSpill {
    state: Mutex<SpillState>,
}

struct SpillState {
    scratch: Scratch,
    files: u64,
    error: Option<io::Error>,
}

/// Where a file report's pretty JSON (at [`FILE_DEPTH`]) has its `app`: a key at the
/// report's own level (a nested key has more indent; JSON strings hold no raw line break).
const APP_MARK: &[u8] = b"\n      \"app\": ";

impl FileSpill {
    /// A new, empty spill (its scratch file is created at once).
    pub fn new() -> io::Result<Self> {
        Ok(FileSpill {
            state: Mutex::new(SpillState {
                scratch: Scratch::new()?,
                files: 0,
                error: None,
            }),
        })
    }
}

/// The spill records of `reports` (their `app` not yet set).
fn spill_records(reports: &[FileReport], domains: &[u32]) -> io::Result<Vec<u8>> {
    let mut buf = Vec::with_capacity(reports.len() * 1280);
    let app = memchr::memmem::Finder::new(APP_MARK);
    for (f, &domain) in reports.iter().zip(domains) {
        if f.app.is_some() {
            return Err(io::Error::other("file report with its app already set"));
        }
        buf.extend_from_slice(&domain.to_le_bytes());
        let lens = buf.len();
        buf.extend_from_slice(&[0; 8]);
        let start = buf.len();
        file_json(&mut buf, f)?;
        // The report rendered, its `null` app is cut out: head, then the rest after it.
        let head = app
            .find(&buf[start..])
            .map(|at| at + APP_MARK.len())
            .filter(|&h| buf[start + h..].starts_with(b"null"))
            .ok_or_else(|| io::Error::other("file report without its app field"))?;
        buf.drain(start + head..start + head + 4);
        let rest = buf.len() - start - head;
        buf[lens..lens + 4].copy_from_slice(&(head as u32).to_le_bytes());
        buf[lens + 4..lens + 8].copy_from_slice(&(rest as u32).to_le_bytes());
    }
    Ok(buf)
}

impl FileSink for FileSpill {
    fn take(&self, reports: Vec<FileReport>, domains: &[u32]) {
        let mut st = self.state.lock().unwrap_or_else(|p| p.into_inner());
        if st.error.is_some() {
            return;
        }
        // A window at a time: a `--deep` batch is tens of thousands of reports, whose text
        // at once would be tens of MB.
        for (r, d) in reports.chunks(WINDOW).zip(domains.chunks(WINDOW)) {
            let parts = r
                .par_chunks(CHUNK)
                .zip(d.par_chunks(CHUNK))
                .map(|(r, d)| spill_records(r, d))
                .collect::<io::Result<Vec<_>>>();
            match parts.and_then(|parts| st.scratch.push_all(parts)) {
                Ok(()) => st.files += d.len() as u64,
                Err(e) => {
                    st.error = Some(e);
                    return;
                }
            }
        }
    }
}

/// [`write_scan`] of a report whose file reports went to `spill` (its `files` empty):
/// the same bytes, with each file's `app` the owner of its domain (`domain_owners`, from
/// [`crate::audit::scan::Scanned`]).
pub fn write_scan_spilled(
    out: &mut dyn Write,
    r: &ScanReport,
    spill: FileSpill,
    domain_owners: &[Option<String>],
) -> io::Result<()> {
    const MARK: &[u8] = b"\n  \"files\": []";
    let st = spill.state.into_inner().unwrap_or_else(|p| p.into_inner());
    if let Some(e) = st.error {
        return Err(e);
    }
    if !r.files.is_empty() {
        return Err(io::Error::other(
            "a report with both kept and spilled file reports",
        ));
    }
    let shell = serde_json::to_vec_pretty(r).map_err(io::Error::other)?;
    let at = shell.windows(MARK.len()).position(|w| w == MARK);
    let Some(at) = at.filter(|_| st.files > 0) else {
        out.write_all(&shell)?;
        return writeln!(out);
    };
    let owners = domain_owners
        .iter()
        .map(|o| serde_json::to_vec(o).map_err(io::Error::other))
        .collect::<io::Result<Vec<_>>>()?;
    let open = at + MARK.len() - 1; // just after '['
    out.write_all(&shell[..open])?;
    let mut first = true;
    let mut written = 0u64;
    st.scratch.drain(|mut chunk| {
        let bad = || io::Error::other("temporary scratch file: a record does not parse");
        while !chunk.is_empty() {
            let word = |c: &[u8], i: usize| -> Option<usize> {
                Some(u32::from_le_bytes(c.get(i..i + 4)?.try_into().ok()?) as usize)
            };
            let (domain, head, rest) = (
                word(chunk, 0).ok_or_else(bad)?,
                word(chunk, 4).ok_or_else(bad)?,
                word(chunk, 8).ok_or_else(bad)?,
            );
            let body = chunk.get(12..12 + head + rest).ok_or_else(bad)?;
            let owner = owners.get(domain).ok_or_else(bad)?;
            out.write_all(if first { b"\n    " } else { b",\n    " })?;
            first = false;
            out.write_all(&body[..head])?;
            out.write_all(owner)?;
            out.write_all(&body[head..])?;
            written += 1;
            chunk = &chunk[12 + head + rest..];
        }
        Ok(())
    })?;
    if written != st.files {
        return Err(io::Error::other(
            "temporary scratch file: fewer file reports than were spilled",
        ));
    }
    out.write_all(b"\n  ]")?;
    out.write_all(&shell[open + 1..])?;
    writeln!(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::audit::finding::rules as R;
    use crate::audit::{FileStatus, Finding};
    use crate::index::FileKind;

    /// A file report with every field set, and strings that look like the layout.
    fn report(path: &str, findings: usize) -> FileReport {
        FileReport {
            domain: "AppDomain-com.example.ünïcode".into(),
            relative_path: path.into(),
            file_id: "00".repeat(20),
            kind: FileKind::File,
            status: FileStatus::Present,
            encrypted: true,
            protection_class: Some(3),
            protection_class_name: Some("NSFileProtectionCompleteUntilFirstUserAuthentication"),
            device_bound: false,
            routes: Some(crate::keychain::Routes::UNKNOWN),
            size: Some(12),
            stored_size: Some(16),
            content_size: None,
            sha256: Some("ab".repeat(32)),
            deep_read: false,
            target: None,
            mode: Some(crate::audit::model::Mode(0o100644)),
            user_id: Some(501),
            group_id: None,
            inode: Some(7),
            last_modified: Some(1_700_000_000),
            last_status_change: None,
            birth: Some(0),
            app: None,
            findings: (0..findings)
                .map(|i| Finding::new(&R::FILE_MISSING, format!("\n      \"app\": {i}")))
                .collect(),
        }
    }

    /// serde's pretty JSON of `f` at depth 0, each line break followed by four spaces: how
    /// the report's own writer ([`write`]) lays a file out inside `files`.
    fn witness(f: &FileReport) -> Vec<u8> {
        let one = serde_json::to_vec_pretty(f).unwrap();
        let mut out = Vec::new();
        for line in one.split_inclusive(|&b| b == b'\n') {
            out.extend_from_slice(line);
            if line.ends_with(b"\n") {
                out.extend_from_slice(b"    ");
            }
        }
        out
    }

    const HOSTILE: [&str; 4] = [
        "Library/plain.db",
        "a\n      \"app\": null",
        "\"app\": null\\n      \"app\": ",
        "",
    ];

    #[test]
    fn a_nested_file_report_is_the_pretty_one_indented() {
        for path in HOSTILE {
            for n in [0, 1, 3] {
                let f = report(path, n);
                let mut mine = Vec::new();
                file_json(&mut mine, &f).unwrap();
                assert_eq!(
                    String::from_utf8(mine).unwrap(),
                    String::from_utf8(witness(&f)).unwrap(),
                    "{path:?}, {n} findings"
                );
            }
        }
    }

    #[test]
    fn a_spill_record_is_the_report_cut_at_its_app() {
        let reports: Vec<FileReport> = HOSTILE
            .iter()
            .enumerate()
            .map(|(i, p)| report(p, i))
            .collect();
        let domains: Vec<u32> = (0..reports.len() as u32).rev().collect();
        let buf = spill_records(&reports, &domains).unwrap();
        let mut rest = &buf[..];
        for (f, &d) in reports.iter().zip(&domains) {
            let word = |i: usize| u32::from_le_bytes(rest[i..i + 4].try_into().unwrap());
            assert_eq!(word(0), d);
            let (head, tail) = (word(4) as usize, word(8) as usize);
            let body = &rest[12..12 + head + tail];
            for owner in [None, Some("com.example.app".to_string())] {
                let json = serde_json::to_vec(&owner).unwrap();
                let joined = [&body[..head], &json, &body[head..]].concat();
                let mut set = f.clone();
                set.app = owner;
                assert_eq!(
                    String::from_utf8(joined).unwrap(),
                    String::from_utf8(witness(&set)).unwrap()
                );
            }
            rest = &rest[12 + head + tail..];
        }
        assert!(rest.is_empty());
        // Near miss: a report whose app is already set is refused, not cut elsewhere.
        let mut set = report("x", 0);
        set.app = Some("null".into());
        assert!(spill_records(&[set], &[0]).is_err());
    }
}
