//! Where a report goes: stdout or the --output file (never inside the backup).

use auditor::Error;
use std::io::Write;
use std::path::{Path, PathBuf};

/// Open the destination. Refuses an --output path inside the backup folder (evidence).
pub fn open(output: &Option<PathBuf>, backup: &Path) -> Result<Box<dyn Write>, Error> {
    match output {
        None => Ok(Box::new(std::io::BufWriter::new(std::io::stdout().lock()))),
        Some(p) => {
            let parent = p
                .parent()
                .filter(|x| !x.as_os_str().is_empty())
                .unwrap_or(Path::new("."));
            if let (Ok(b), Ok(pp)) = (backup.canonicalize(), parent.canonicalize()) {
                if pp.starts_with(&b) {
                    return Err(Error::Usage(format!(
                        "--output {}: refusing to write inside the backup folder (it is evidence)",
                        p.display()
                    )));
                }
            }
            let f = std::fs::File::create(p).map_err(|e| Error::Io {
                context: format!("cannot create {}", p.display()),
                source: e,
            })?;
            Ok(Box::new(std::io::BufWriter::new(f)))
        }
    }
}

/// Map an I/O error while writing the report.
pub fn write_err(e: std::io::Error) -> Error {
    Error::Io {
        context: "cannot write the report".into(),
        source: e,
    }
}
