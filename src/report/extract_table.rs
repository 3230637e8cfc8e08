//! The `extract` report as a table: what was exported, then the rows that were not.

use crate::extract::{ExtractReport, RowIssue};
use std::io::Write;

/// Rows listed per category in the table (JSON lists them all).
const SHOW: usize = 20;

/// Write the export report as text: the counts, then up to [`SHOW`] rows per problem.
pub fn write(o: &mut dyn Write, r: &ExtractReport) -> std::io::Result<()> {
    let s = &r.summary;
    writeln!(o, "Exported to {}", r.out)?;
    writeln!(
        o,
        "  {} of {} index rows selected: {} files ({} bytes), {} folders created, {} links created",
        s.selected, s.rows, s.exported, s.bytes, s.directories, s.symlinks_created
    )?;
    writeln!(
        o,
        "  refused {}, missing {}, undecryptable {}, failed {}, links not created {}",
        s.refused, s.missing, s.undecryptable, s.failed, s.symlinks_skipped
    )?;
    if let Some(m) = &r.manifest {
        writeln!(o, "  manifest {} (SHA-256 {})", m.path, m.sha256)?;
        writeln!(
            o,
            "  {} files hashed in {}: check with `sha256sum -c {}` in the output folder",
            m.files,
            m.sums_path,
            crate::extract::SUMS_FILE
        )?;
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
            writeln!(
                o,
                "  {}/{}  [{}] {}",
                x.domain.escape_debug(),
                x.relative_path.escape_debug(),
                x.reason,
                x.detail
            )?;
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
