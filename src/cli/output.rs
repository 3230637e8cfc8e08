//! Where a report goes: stdout or the --output file (never inside the backup); stderr lines.

use super::style;
use anyhow::Context;
use auditor::report::style::Tone;
use auditor::Error;
use std::io::{self, Write};
use std::path::{Path, PathBuf};

/// The report writer's buffer: large reports (a JSON scan of 1.3 M rows is 1.5 GB) go
/// out in few system calls.
const REPORT_BUFFER: usize = 256 * 1024;

/// Open the destination. Refuses an --output path inside the backup folder (evidence).
pub fn open(output: &Option<PathBuf>, backup: &Path) -> Result<Box<dyn Write>, Error> {
    match output {
        None => {
            super::style::report_to(true);
            Ok(Box::new(io::BufWriter::with_capacity(
                REPORT_BUFFER,
                io::stdout().lock(),
            )))
        }
        Some(p) => {
            refuse_inside_backup(p, backup)?;
            super::style::report_to(false);
            let f = std::fs::File::create(p).map_err(|e| {
                // The user named a file that cannot be created: a usage problem (exit 2).
                Error::Usage(format!("cannot create {}: {e}", p.display()))
            })?;
            Ok(Box::new(io::BufWriter::with_capacity(REPORT_BUFFER, f)))
        }
    }
}

/// Open the destination, render the report into it and flush ([`finish`]).
pub fn emit(
    output: &Option<PathBuf>,
    backup: &Path,
    render: impl FnOnce(&mut dyn Write) -> io::Result<()>,
) -> anyhow::Result<()> {
    let mut out = open(output, backup)?;
    finish(render(&mut out).and_then(|_| out.flush()))
}

/// The outcome of writing a report. A reader that went away (a closed pipe, as in
/// `auditor scan … | head -1`) ends the output quietly, as ripgrep does: the command
/// still ends with its own exit code.
pub fn finish(written: io::Result<()>) -> anyhow::Result<()> {
    match written {
        Err(e) if closed_pipe(&e) => Ok(()),
        r => r.context("cannot write the report"),
    }
}

/// Is `e` a write to a closed pipe, also when wrapped by a serialiser?
fn closed_pipe(e: &io::Error) -> bool {
    e.kind() == io::ErrorKind::BrokenPipe
        || e.get_ref().is_some_and(|inner| {
            inner
                .downcast_ref::<serde_json::Error>()
                .and_then(serde_json::Error::io_error_kind)
                == Some(io::ErrorKind::BrokenPipe)
                || inner.downcast_ref::<io::Error>().is_some_and(closed_pipe)
        })
}

/// Print a line on stderr, even with `--quiet` (the password prompt's own lines). A closed
/// stderr is not an error: there is no one left to tell.
pub fn say(line: std::fmt::Arguments<'_>) {
    let _ = writeln!(io::stderr(), "{line}");
}

/// Print `auditor: MSG` on stderr for the error that ends the run (`--quiet` or not).
pub fn error(msg: impl std::fmt::Display) {
    say(format_args!(
        "{} {msg}",
        style::stderr("auditor:", Tone::Bad)
    ));
}

/// Print a note on stderr (what auditor did for the user), unless `--quiet`.
pub fn note(line: std::fmt::Arguments<'_>) {
    if !style::quiet() {
        say(line);
    }
}

/// Print `auditor: warning: MSG` on stderr, unless `--quiet`.
pub fn warn(msg: impl std::fmt::Display) {
    note(format_args!(
        "auditor: {} {msg}",
        style::stderr("warning:", Tone::Warn)
    ));
}

/// Say on stderr why `--fail-on` ends the run with exit 1 (unless `--quiet`: the exit code
/// says it).
pub fn explain_fail_on(gate: &auditor::audit::finding::Gate) {
    note(format_args!(
        "auditor: --fail-on {}: exit 1 for {gate}",
        gate.threshold.as_str()
    ));
}

/// Print the `auditor.backups/1` listing of `backups` (in the folder `given`) on stdout.
pub fn backups_json(given: &Path, backups: &[auditor::backup::CollectionEntry]) -> io::Result<()> {
    let mut o = io::BufWriter::new(io::stdout().lock());
    auditor::report::backups::write_json(&mut o, given, backups)?;
    o.flush()
}

/// Refuse an output path whose folder is the backup folder or inside it (evidence). For a
/// Manifest.plist given alone, the file itself is refused, and so is its folder when that
/// looks like a backup folder.
pub fn refuse_inside_backup(p: &Path, backup: &Path) -> Result<(), Error> {
    if std::fs::metadata(backup).is_ok_and(|m| m.is_file()) {
        let same = matches!((p.canonicalize(), backup.canonicalize()), (Ok(a), Ok(b)) if a == b);
        if same {
            return Err(Error::Usage(format!(
                "--output {}: refusing to overwrite the Manifest.plist read (it is evidence)",
                p.display()
            )));
        }
        return match backup
            .parent()
            .filter(|d| auditor::backup::is_backup_folder(d))
        {
            Some(dir) => refuse_inside_backup(p, dir),
            None => Ok(()),
        };
    }
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn closed_pipe_is_seen_through_wrappers() {
        let pipe = || io::Error::from(io::ErrorKind::BrokenPipe);
        assert!(closed_pipe(&pipe()));
        assert!(closed_pipe(&io::Error::other(pipe())));
        let json = serde_json::Error::io(pipe());
        assert!(closed_pipe(&io::Error::other(json)));
        // Other write errors are not.
        assert!(!closed_pipe(&io::Error::from(io::ErrorKind::StorageFull)));
        let json = serde_json::Error::io(io::Error::from(io::ErrorKind::PermissionDenied));
        assert!(!closed_pipe(&io::Error::other(json)));
        assert!(finish(Err(pipe())).is_ok());
        let e = finish(Err(io::Error::from(io::ErrorKind::StorageFull))).unwrap_err();
        assert!(
            format!("{e:#}").starts_with("cannot write the report: "),
            "{e:#}"
        );
    }
}
