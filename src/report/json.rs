//! JSON rendering: the report structs serialise as documented in docs/json-schema.md.

use crate::audit::ScanReport;
use rayon::prelude::*;
use serde::Serialize;
use std::io::Write;

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
