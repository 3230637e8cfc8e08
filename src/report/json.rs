//! JSON rendering: the report structs serialise as documented in docs/json-schema.md.

use crate::audit::scan::FileSink;
use crate::audit::{FileReport, ScanReport};
use crate::crypto::scratch::Scratch;
use rayon::prelude::*;
use serde::Serialize;
use std::io::Write;
use std::sync::Mutex;

/// Write `value` as pretty JSON followed by a newline.
pub fn write<T: Serialize>(out: &mut dyn Write, value: &T) -> std::io::Result<()> {
    serde_json::to_writer_pretty(&mut *out, value).map_err(std::io::Error::other)?;
    writeln!(out)
}

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
/// and the array is put in its place; each file's pretty JSON is indented for its depth
/// (JSON strings hold no raw line breaks, so every line break is one of the layout's).
pub fn write_scan(out: &mut dyn Write, r: &mut ScanReport) -> std::io::Result<()> {
    const MARK: &[u8] = b"\n  \"files\": []";
    let files = std::mem::take(&mut r.files);
    let shell = serde_json::to_vec_pretty(&*r);
    r.files = files;
    let shell = shell.map_err(std::io::Error::other)?;
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
                let mut one = Vec::with_capacity(1024);
                for (i, f) in chunk.iter().enumerate() {
                    let first = w == 0 && c == 0 && i == 0;
                    buf.extend_from_slice(if first { b"\n    " } else { b",\n    " });
                    one.clear();
                    serde_json::to_writer_pretty(&mut one, f).map_err(std::io::Error::other)?;
                    for line in one.split_inclusive(|&b| b == b'\n') {
                        buf.extend_from_slice(line);
                        if line.ends_with(b"\n") {
                            buf.extend_from_slice(b"    ");
                        }
                    }
                }
                Ok(buf)
            })
            .collect::<std::io::Result<Vec<_>>>()?;
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
    error: Option<std::io::Error>,
}

/// Where a file report's pretty JSON (at depth 0) has its `app`.
const APP_MARK: &[u8] = b"\n  \"app\": ";

impl FileSpill {
    /// A new, empty spill (its scratch file is created at once).
    pub fn new() -> std::io::Result<Self> {
        Ok(FileSpill {
            state: Mutex::new(SpillState {
                scratch: Scratch::new()?,
                files: 0,
                error: None,
            }),
        })
    }
}

/// Append `part` indented for a file report in `files` (every line break gets four spaces).
fn indented(buf: &mut Vec<u8>, part: &[u8]) {
    for line in part.split_inclusive(|&b| b == b'\n') {
        buf.extend_from_slice(line);
        if line.ends_with(b"\n") {
            buf.extend_from_slice(b"    ");
        }
    }
}

/// The spill records of `reports` (their `app` not yet set).
fn spill_records(reports: &[FileReport], domains: &[u32]) -> std::io::Result<Vec<u8>> {
    let mut buf = Vec::with_capacity(reports.len() * 660);
    let mut one = Vec::with_capacity(1024);
    let mut part = Vec::with_capacity(1024);
    for (f, &domain) in reports.iter().zip(domains) {
        one.clear();
        serde_json::to_writer_pretty(&mut one, f).map_err(std::io::Error::other)?;
        let at = one
            .windows(APP_MARK.len())
            .position(|w| w == APP_MARK)
            .filter(|_| f.app.is_none())
            .ok_or_else(|| std::io::Error::other("file report without its app field"))?;
        let (head, rest) = one.split_at(at + APP_MARK.len());
        let rest = rest
            .strip_prefix(b"null")
            .ok_or_else(|| std::io::Error::other("file report with its app already set"))?;
        buf.extend_from_slice(&domain.to_le_bytes());
        let lens = buf.len();
        buf.extend_from_slice(&[0; 8]);
        part.clear();
        indented(&mut part, head);
        let head_len = part.len() as u32;
        indented(&mut part, rest);
        let rest_len = part.len() as u32 - head_len;
        buf[lens..lens + 4].copy_from_slice(&head_len.to_le_bytes());
        buf[lens + 4..lens + 8].copy_from_slice(&rest_len.to_le_bytes());
        buf.extend_from_slice(&part);
    }
    Ok(buf)
}

impl FileSink for FileSpill {
    fn take(&self, reports: Vec<FileReport>, domains: &[u32]) {
        let mut st = self.state.lock().unwrap_or_else(|p| p.into_inner());
        if st.error.is_some() {
            return;
        }
        let parts = reports
            .par_chunks(CHUNK)
            .zip(domains.par_chunks(CHUNK))
            .map(|(r, d)| spill_records(r, d))
            .collect::<std::io::Result<Vec<_>>>();
        drop(reports);
        let pushed = parts.and_then(|parts| st.scratch.push_all(parts));
        match pushed {
            Ok(()) => st.files += domains.len() as u64,
            Err(e) => st.error = Some(e),
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
) -> std::io::Result<()> {
    const MARK: &[u8] = b"\n  \"files\": []";
    let st = spill.state.into_inner().unwrap_or_else(|p| p.into_inner());
    if let Some(e) = st.error {
        return Err(e);
    }
    if !r.files.is_empty() {
        return Err(std::io::Error::other(
            "a report with both kept and spilled file reports",
        ));
    }
    let shell = serde_json::to_vec_pretty(r).map_err(std::io::Error::other)?;
    let at = shell.windows(MARK.len()).position(|w| w == MARK);
    let Some(at) = at.filter(|_| st.files > 0) else {
        out.write_all(&shell)?;
        return writeln!(out);
    };
    let owners = domain_owners
        .iter()
        .map(|o| serde_json::to_vec(o).map_err(std::io::Error::other))
        .collect::<std::io::Result<Vec<_>>>()?;
    let open = at + MARK.len() - 1; // just after '['
    out.write_all(&shell[..open])?;
    let mut first = true;
    let mut written = 0u64;
    st.scratch.drain(|mut chunk| {
        let bad = || std::io::Error::other("temporary scratch file: a record does not parse");
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
        return Err(std::io::Error::other(
            "temporary scratch file: fewer file reports than were spilled",
        ));
    }
    out.write_all(b"\n  ]")?;
    out.write_all(&shell[open + 1..])?;
    writeln!(out)
}
