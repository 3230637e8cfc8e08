//! Where a report goes: stdout or the --output file (never inside the backup).

use auditor::Error;
use std::io::Write;
use std::path::{Path, PathBuf};

/// Open the destination. Refuses an --output path inside the backup folder (evidence).
pub fn open(output: &Option<PathBuf>, backup: &Path) -> Result<Box<dyn Write>, Error> {
    match output {
        None => Ok(Box::new(std::io::BufWriter::new(std::io::stdout().lock()))),
        Some(p) => {
            refuse_inside_backup(p, backup)?;
            let f = std::fs::File::create(p).map_err(|e| {
                // The user named a file that cannot be created: a usage problem (exit 2).
                Error::Usage(format!("cannot create {}: {e}", p.display()))
            })?;
            Ok(Box::new(std::io::BufWriter::new(f)))
        }
    }
}

/// Refuse an output path whose folder is the backup folder or inside it (evidence).
pub fn refuse_inside_backup(p: &Path, backup: &Path) -> Result<(), Error> {
    let parent = p
        .parent()
        .filter(|x| !x.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    // The nearest folder that exists decides (a missing sub-folder of the backup is still
    // inside it).
    let existing = parent.ancestors().find_map(|a| {
        let a = if a.as_os_str().is_empty() {
            Path::new(".")
        } else {
            a
        };
        a.canonicalize().ok()
    });
    if let (Ok(b), Some(pp)) = (backup.canonicalize(), existing) {
        if pp.starts_with(&b) {
            return Err(Error::Usage(format!(
                "--output {}: refusing to write inside the backup folder (it is evidence)",
                p.display()
            )));
        }
    }
    Ok(())
}

/// Map an I/O error while writing the report.
pub fn write_err(e: std::io::Error) -> Error {
    Error::Io {
        context: "cannot write the report".into(),
        source: e,
    }
}
