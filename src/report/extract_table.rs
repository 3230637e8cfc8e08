//! The `extract` report as a table: what was exported, then the rows that were not.

use super::text::{fit_middle, line, wrapped, WIDTH};
use crate::extract::{ExtractReport, RowIssue};
use std::io::Write;

/// Rows listed per category in the table (JSON lists them all).
const SHOW: usize = 20;

/// Write the export report as text: the counts, then up to [`SHOW`] rows per problem.
pub fn write(o: &mut dyn Write, r: &ExtractReport) -> std::io::Result<()> {
    let s = &r.summary;
    wrapped(o, "", &format!("Exported to {}", r.out), 2)?;
    wrapped(
        o,
        "  ",
        &format!("{} of {} index rows selected", s.selected, s.rows),
        4,
    )?;
    let created = format!(
        "written: {} files ({} bytes), {} folders created, {} links created",
        s.exported, s.bytes, s.directories, s.symlinks_created
    );
    wrapped(o, "  ", &created, 4)?;
    let problems = format!(
        "refused {}, missing {}, undecryptable {}, failed {}, links not created {}",
        s.refused, s.missing, s.undecryptable, s.failed, s.symlinks_skipped
    );
    wrapped(o, "  ", &problems, 4)?;
    if let Some(m) = &r.manifest {
        wrapped(
            o,
            "  ",
            &format!("manifest {} (SHA-256 {})", m.path, m.sha256),
            4,
        )?;
        let sums = format!(
            "{} files hashed in {}: check with `sha256sum -c {}` in the output folder",
            m.files,
            m.sums_path,
            crate::extract::SUMS_FILE
        );
        wrapped(o, "  ", &sums, 4)?;
    }
    let sections: [(&str, &Vec<RowIssue>); 5] = [
        (
            "Refused (unsafe or colliding paths, never written)",
            &r.refused,
        ),
        ("Missing (payload not on disk)", &r.missing),
        ("Undecryptable (no class key)", &r.undecryptable),
        ("Failed", &r.failed),
        ("Links not created (use --symlinks)", &r.skipped_symlinks),
    ];
    for (title, rows) in sections {
        if rows.is_empty() {
            continue;
        }
        writeln!(o, "\n{title}:")?;
        for x in rows.iter().take(SHOW) {
            // The path on its line (cut in the middle, keeping the file name), why under it.
            let path = format!(
                "{}/{}",
                x.domain.escape_debug(),
                x.relative_path.escape_debug()
            );
            line(o, &format!("  {}", fit_middle(&path, WIDTH - 2)))?;
            wrapped(o, "    ", &format!("[{}] {}", x.reason, x.detail), 4)?;
        }
        if rows.len() > SHOW {
            writeln!(
                o,
                "  … and {} more (--format json lists all)",
                rows.len() - SHOW
            )?;
        }
    }
    Ok(())
}
