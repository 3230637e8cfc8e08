//! The listing of the backups a folder holds: aligned columns within 80, and `auditor.backups/1` JSON.

use crate::audit::model::ToolInfo;
use crate::backup::CollectionEntry;
use serde::Serialize;
use std::io::{self, Write};
use std::path::Path;

/// The `schema` of the JSON listing.
pub const BACKUPS_SCHEMA: &str = "auditor.backups/1";

/// Columns the table fits in.
pub const WIDTH: usize = 80;

/// The backups newest first (by their date; undated ones last), then by path.
pub fn sorted(backups: &[CollectionEntry]) -> Vec<&CollectionEntry> {
    let when = |e: &CollectionEntry| {
        e.date.as_deref().and_then(|d| {
            time::OffsetDateTime::parse(d, &time::format_description::well_known::Rfc3339).ok()
        })
    };
    let mut v: Vec<_> = backups.iter().map(|e| (when(e), e)).collect();
    v.sort_by(|(da, a), (db, b)| {
        // `Some` after `None` in Option's order: reversed, the newest comes first and the
        // undated last.
        db.cmp(da).then_with(|| a.path.cmp(&b.path))
    });
    v.into_iter().map(|(_, e)| e).collect()
}

/// The folder of `e` as shown: relative to the folder given, when inside it.
fn folder(given: &Path, e: &CollectionEntry) -> String {
    e.path
        .strip_prefix(given)
        .unwrap_or(&e.path)
        .display()
        .to_string()
}

/// `yes`, `no` or `?`.
fn encrypted(v: Option<bool>) -> &'static str {
    match v {
        Some(true) => "yes",
        Some(false) => "no",
        None => "?",
    }
}

/// `s` cut to `w` characters with `…`: at its end, or in its middle (`middle`, for names
/// whose both ends tell them apart, as UDIDs and paths).
fn fit(s: &str, w: usize, middle: bool) -> String {
    let n = s.chars().count();
    if n <= w {
        return s.to_string();
    }
    if w == 0 {
        return String::new();
    }
    let keep = w - 1;
    let (head, tail) = if middle {
        (keep - keep / 2, keep / 2)
    } else {
        (keep, 0)
    };
    let mut out: String = s.chars().take(head).collect();
    out.push('…');
    out.extend(s.chars().skip(n - tail));
    out
}

/// The column widths: each its widest cell, then the widest of the flexible ones (folder,
/// device, UDID) narrowed a character at a time until the line fits [`WIDTH`].
fn widths(rows: &[Vec<String>]) -> Vec<usize> {
    const MIN: [usize; 5] = [12, 10, 20, 9, 14];
    // Of equal widths, the UDID gives way first, the device name last.
    const RANK: [u8; 5] = [1, 0, 0, 0, 2];
    let cols = rows.first().map_or(0, Vec::len);
    let mut w = vec![0usize; cols];
    for r in rows {
        for (i, c) in r.iter().enumerate() {
            w[i] = w[i].max(c.chars().count());
        }
    }
    // Two spaces of indent, two between columns.
    let line = |w: &[usize]| 2 + w.iter().sum::<usize>() + 2 * (w.len().saturating_sub(1));
    while line(&w) > WIDTH {
        let Some(i) = [0, 1, 4]
            .into_iter()
            .filter(|&i| i < cols && w[i] > MIN[i])
            .max_by_key(|&i| (w[i], RANK[i]))
        else {
            break;
        };
        w[i] -= 1;
    }
    w
}

/// A problem met reading a backup's plists, under its row: the file's path relative to the
/// folder given, cut in the middle to fit (its end says what is wrong).
fn problem_line(given: &Path, problem: &str) -> String {
    let prefix = format!("{}{}", given.display(), std::path::MAIN_SEPARATOR);
    let p = problem.strip_prefix(&prefix).unwrap_or(problem);
    format!("    ! {}", fit(p, WIDTH - 6, true))
}

/// Does some backup's UDID say more than its folder's name (which is the UDID in Finder's
/// and iTunes' own folders)? Without, the UDID column is left out.
fn udid_column(backups: &[&CollectionEntry]) -> bool {
    backups.iter().any(|e| {
        e.udid.is_some() && e.udid.as_deref() != e.path.file_name().and_then(|n| n.to_str())
    })
}

/// The table: a header row, then one row per backup (newest first), then under a backup the
/// problems met reading its plists; every line within [`WIDTH`] columns. The UDID column is
/// there only when some UDID is not its folder's name.
pub fn table_lines(given: &Path, backups: &[CollectionEntry]) -> Vec<String> {
    let sorted = sorted(backups);
    let cols = if udid_column(&sorted) { 5 } else { 4 };
    let mut rows = vec![["FOLDER", "DEVICE", "DATE", "ENCRYPTED", "UDID"]
        .map(String::from)
        .to_vec()];
    for e in &sorted {
        rows.push(vec![
            folder(given, e),
            e.device_name.clone().unwrap_or_else(|| "-".into()),
            e.date.clone().unwrap_or_else(|| "-".into()),
            encrypted(e.encrypted).into(),
            e.udid.clone().unwrap_or_else(|| "-".into()),
        ]);
    }
    for r in &mut rows {
        r.truncate(cols);
    }
    let w = widths(&rows);
    let mut lines = Vec::new();
    for (i, r) in rows.iter().enumerate() {
        let cells: Vec<String> = r
            .iter()
            .enumerate()
            .map(|(c, s)| {
                let s = fit(s, w[c], c != 1);
                match c + 1 == cols {
                    true => s,
                    false => format!("{s}{}", " ".repeat(w[c] - s.chars().count())),
                }
            })
            .collect();
        lines.push(format!("  {}", cells.join("  ")));
        if i > 0 {
            for p in &sorted[i - 1].problems {
                lines.push(problem_line(given, p));
            }
        }
    }
    lines
}

/// `auditor info` on a folder of several backups: what it holds, as a table.
pub fn write_table(
    out: &mut dyn Write,
    given: &Path,
    backups: &[CollectionEntry],
) -> io::Result<()> {
    writeln!(
        out,
        "{} holds {} backups (newest first); give one of them for its details:",
        given.display(),
        backups.len()
    )?;
    for l in table_lines(given, backups) {
        writeln!(out, "{l}")?;
    }
    Ok(())
}

/// One backup of the JSON listing.
#[derive(Debug, Serialize)]
struct Entry<'a> {
    path: String,
    folder: String,
    udid: &'a Option<String>,
    device_name: &'a Option<String>,
    date: &'a Option<String>,
    encrypted: Option<bool>,
    problems: &'a [String],
}

/// The JSON listing (`auditor.backups/1`).
#[derive(Debug, Serialize)]
struct Listing<'a> {
    schema: &'static str,
    tool: ToolInfo,
    path: String,
    backups: Vec<Entry<'a>>,
}

/// Write the `auditor.backups/1` document: the folder given and its backups, newest first.
pub fn write_json(
    out: &mut dyn Write,
    given: &Path,
    backups: &[CollectionEntry],
) -> io::Result<()> {
    let doc = Listing {
        schema: BACKUPS_SCHEMA,
        tool: ToolInfo::default(),
        path: given.display().to_string(),
        backups: sorted(backups)
            .into_iter()
            .map(|e| Entry {
                path: e.path.display().to_string(),
                folder: folder(given, e),
                udid: &e.udid,
                device_name: &e.device_name,
                date: &e.date,
                encrypted: e.encrypted,
                problems: &e.problems,
            })
            .collect(),
    };
    super::json::write(out, &doc)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::PathBuf;

    fn entry(path: &str, name: Option<&str>, date: Option<&str>) -> CollectionEntry {
        CollectionEntry {
            path: PathBuf::from(path),
            udid: Path::new(path)
                .file_name()
                .map(|n| n.to_string_lossy().into_owned()),
            device_name: name.map(Into::into),
            date: date.map(Into::into),
            encrypted: Some(true),
            problems: vec![],
        }
    }

    #[test]
    fn fit_cuts_at_the_end_or_in_the_middle() {
        assert_eq!(fit("abcdef", 6, true), "abcdef");
        assert_eq!(fit("abcdefgh", 5, false), "abcd…");
        assert_eq!(fit("abcdefgh", 5, true), "ab…gh");
        assert_eq!(fit("abcdefgh", 6, true), "abc…gh");
        assert_eq!(fit("ab", 0, true), "");
    }

    #[test]
    fn newest_first_undated_last() {
        let v = [
            entry("M/b", None, Some("2024-01-01T00:00:00Z")),
            entry("M/c", None, None),
            entry("M/a", None, Some("2025-06-01T00:00:00Z")),
            entry("M/d", None, Some("2024-01-01T00:00:00Z")),
        ];
        let order: Vec<_> = sorted(&v).iter().map(|e| e.path.clone()).collect();
        assert_eq!(order, ["M/a", "M/b", "M/d", "M/c"].map(PathBuf::from));
    }

    #[test]
    fn long_rows_fit_80_columns_aligned() {
        let udid = "00008120-001A2B3C4D5E801E";
        let long = "0123456789abcdef0123456789abcdef01234567";
        let mut v = vec![
            entry(
                &format!("M/Backup/{udid}"),
                Some("A very long device name indeed, really"),
                Some("2024-06-01T12:00:00Z"),
            ),
            entry(&format!("M/Backup/{long}"), Some("Short"), None),
        ];
        v[1].udid = Some("different".into());
        v[1].problems
            .push("M/Backup/x/Info.plist: not a regular file".into());
        v[1].problems.push(format!(
            "M/Backup/{}/Info.plist: {}",
            "x".repeat(80),
            "too big"
        ));
        let lines = table_lines(Path::new("M"), &v);
        assert_eq!(lines.len(), 5, "{lines:#?}");
        for l in &lines {
            assert!(
                l.chars().count() <= WIDTH,
                "{l:?} is {} wide",
                l.chars().count()
            );
        }
        // The columns start at the same place on every row.
        let col = |l: &str, what: &str| l.find(what).map(|i| l[..i].chars().count());
        assert_eq!(col(&lines[0], "DATE"), col(&lines[1], "2024-06-01"));
        assert_eq!(col(&lines[0], "DATE"), col(&lines[2], "- "));
        assert!(
            lines[1].contains('…')
                && lines[1].starts_with("  Backup…")
                && lines[1].ends_with("5E801E"),
            "{}",
            lines[1]
        );
        assert!(lines[4].ends_with("Info.plist: too big"), "{}", lines[4]);
        assert!(
            lines[3] == "    ! Backup/x/Info.plist: not a regular file",
            "{}",
            lines[3]
        );
        // Near miss: rows that fit are not cut.
        let short = [entry("M/abc", Some("Phone"), None)];
        let lines = table_lines(Path::new("M"), &short);
        assert_eq!(lines[1], "  abc     Phone   -     yes");
        assert!(!lines.iter().any(|l| l.contains('…')));
    }

    #[test]
    fn the_udid_column_is_there_when_it_says_more_than_the_folder() {
        let mut v = vec![entry(
            "M/Backup/00008120-001A2B3C4D5E801E",
            Some("Phone"),
            None,
        )];
        let lines = table_lines(Path::new("M"), &v);
        assert_eq!(
            lines[0],
            "  FOLDER                            DEVICE  DATE  ENCRYPTED"
        );
        assert_eq!(
            lines[1],
            "  Backup/00008120-001A2B3C4D5E801E  Phone   -     yes"
        );
        v[0].udid = Some("00008120-001A2B3C4D5E8FFF".into());
        let lines = table_lines(Path::new("M"), &v);
        assert!(lines[0].ends_with("ENCRYPTED  UDID"), "{}", lines[0]);
        assert!(
            lines[1].ends_with("yes        00008120-001A2B3C4D5E8FFF"),
            "{}",
            lines[1]
        );
    }
}
