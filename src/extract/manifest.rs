//! The export's own record (`auditor.extract-manifest/1` and `SHA256SUMS`): every file written, with the SHA-256 of its bytes.
//!
//! Both files sit at the top of the output folder, where only domain folders are otherwise
//! written; a domain with either name (in any letter case) is refused by [`super::path`],
//! so the export can never write into, or mix with, its manifest. The hashes are those of
//! the bytes as they were written (computed while streaming, never by reading back).

use super::plan::FileJob;
use super::report::{ExtractReport, RowIssue};
use super::rows::Rows;
use super::ExtractError;
use crate::crypto::ProtectionClass;
use serde::ser::{SerializeSeq, Serializer};
use serde::Serialize;
use sha2::Digest;
use std::fs::{File, OpenOptions};
use std::io::{BufWriter, ErrorKind, Write};
use std::path::Path;

/// The JSON manifest's file name (top of the output folder).
pub const MANIFEST_FILE: &str = "auditor-extract-manifest.json";
/// The `sha256sum -c` file's name (top of the output folder).
pub const SUMS_FILE: &str = "SHA256SUMS";
/// JSON schema id of the manifest.
pub const MANIFEST_SCHEMA: &str = "auditor.extract-manifest/1";

/// Is `name` (a domain: a child of the output folder) one of the export's own file names?
/// Compared without letter case: on APFS or NTFS `sha256sums` is the same file.
pub fn is_reserved(name: &str) -> bool {
    [MANIFEST_FILE, SUMS_FILE]
        .iter()
        .any(|r| r.eq_ignore_ascii_case(name))
}

/// Why a file left in the output folder is also listed as failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Kept {
    /// Bad padding or a ragged ciphertext: every decrypted byte was kept.
    DecryptFailed,
    /// Its modification time could not be set.
    MtimeFailed,
}

impl Kept {
    /// The reason code (the row's in the report's `failed`).
    pub fn code(self) -> &'static str {
        match self {
            Kept::DecryptFailed => "decrypt_failed",
            Kept::MtimeFailed => "mtime_failed",
        }
    }
}

/// A plan job's file as the manifest lists it (48 bytes: one per planned file is held until
/// the manifest is written). The default is "not written".
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct Written {
    pub sha256: [u8; 32],
    /// Bytes written.
    pub size: u64,
    /// The row's protection class (when `has_class`).
    class: u32,
    has_class: bool,
    written: bool,
    /// The reason the row is also listed as failed (the content was kept).
    pub problem: Option<Kept>,
}

impl Written {
    pub fn new(size: u64, sha256: [u8; 32], class: Option<u32>, problem: Option<Kept>) -> Self {
        Written {
            sha256,
            size,
            class: class.unwrap_or(0),
            has_class: class.is_some(),
            written: true,
            problem,
        }
    }

    /// Was a file left in the output folder?
    pub fn is_written(&self) -> bool {
        self.written
    }

    pub fn protection_class(&self) -> Option<u32> {
        self.has_class.then_some(self.class)
    }
}

/// Where the manifest went, for the report (`manifest` in `auditor.extract/1`).
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct ManifestInfo {
    /// `auditor.extract-manifest/1`.
    pub schema: &'static str,
    /// The JSON manifest (absolute path).
    pub path: String,
    /// SHA-256 of the JSON manifest as written.
    pub sha256: String,
    /// The `SHA256SUMS` file (absolute path): `cd OUT && sha256sum -c SHA256SUMS`.
    pub sums_path: String,
    /// SHA-256 of `SHA256SUMS` as written.
    pub sums_sha256: String,
    /// Files listed (every file the export wrote).
    pub files: u64,
}

/// A writer that hashes what it passes on.
struct HashWrite<W: Write> {
    inner: W,
    hash: sha2::Sha256,
}

impl<W: Write> Write for HashWrite<W> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        let n = self.inner.write(buf)?;
        self.hash.update(buf.get(..n).unwrap_or_default());
        Ok(n)
    }
    fn flush(&mut self) -> std::io::Result<()> {
        self.inner.flush()
    }
}

/// Before anything is exported: a reserved name that is a folder (or anything but a file or
/// a link) cannot be replaced by the manifest, so the export does not start.
pub(crate) fn check_reserved(out: &Path) -> Result<(), ExtractError> {
    for name in [MANIFEST_FILE, SUMS_FILE] {
        let p = out.join(name);
        if let Ok(m) = std::fs::symlink_metadata(&p) {
            if !(m.is_file() || m.file_type().is_symlink()) {
                return Err(ExtractError::ManifestInTheWay(p));
            }
        }
    }
    Ok(())
}

/// Create `out/name` exclusively; with `force`, a file or link already there (an earlier
/// export's manifest) is replaced, never followed.
fn create(out: &Path, name: &str, force: bool) -> Result<File, ExtractError> {
    let p = out.join(name);
    let open = || OpenOptions::new().write(true).create_new(true).open(&p);
    let io = |e| super::io_err(format!("cannot write {}", p.display()))(e);
    match open() {
        Ok(f) => Ok(f),
        Err(e) if e.kind() == ErrorKind::AlreadyExists => match std::fs::symlink_metadata(&p) {
            Ok(m) if force && (m.is_file() || m.file_type().is_symlink()) => {
                std::fs::remove_file(&p).and_then(|_| open()).map_err(io)
            }
            _ => Err(ExtractError::ManifestInTheWay(p.clone())),
        },
        Err(e) => Err(io(e)),
    }
}

/// One `SHA256SUMS` line, as GNU `sha256sum` writes it: a name holding `\`, a newline or a
/// carriage return is escaped and the line starts with `\` (export paths never hold them).
fn sums_line(hex: &str, path: &str) -> String {
    if path.contains(['\\', '\n', '\r']) {
        let esc = path
            .replace('\\', "\\\\")
            .replace('\n', "\\n")
            .replace('\r', "\\r");
        format!("\\{hex}  {esc}\n")
    } else {
        format!("{hex}  {path}\n")
    }
}

/// A written file, as the manifest lists it.
#[derive(Serialize)]
struct FileEntry<'a> {
    path: &'a str,
    domain: &'a str,
    relative_path: &'a str,
    file_id: &'a str,
    size: u64,
    sha256: String,
    protection_class: Option<u32>,
    protection_class_name: Option<&'static str>,
    /// `null`, or the reason code of the row in the report's `failed` (content kept).
    problem: Option<&'static str>,
}

/// The files, serialised one by one (no second copy of 1.3 M entries).
struct Files<'a> {
    written: &'a [Written],
    rows: &'a Rows,
    jobs: &'a [FileJob],
}

impl Files<'_> {
    /// The files written, in output path order: job and what was written.
    fn iter(&self) -> impl Iterator<Item = (&FileJob, &Written)> {
        self.jobs
            .iter()
            .zip(self.written)
            .filter(|(_, w)| w.is_written())
    }
}

impl Serialize for Files<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut seq = s.serialize_seq(Some(self.iter().count()))?;
        for (j, w) in self.iter() {
            let class = w.protection_class();
            seq.serialize_element(&FileEntry {
                path: &self.rows.out_path(j.row),
                domain: self.rows.domain(j.row),
                relative_path: self.rows.relative_path(j.row),
                file_id: &self.rows.file_id(j.row),
                size: w.size,
                sha256: hex::encode(w.sha256),
                protection_class: class,
                protection_class_name: class.map(|c| ProtectionClass::new(c).name()),
                problem: w.problem.map(Kept::code),
            })?;
        }
        seq.end()
    }
}

/// A row that left nothing in the output folder, and why.
#[derive(Serialize)]
struct NotWritten<'a> {
    /// `refused`, `missing`, `undecryptable`, `failed` or `symlink_not_created`.
    category: &'static str,
    #[serde(flatten)]
    row: &'a RowIssue,
}

#[derive(Serialize)]
struct Manifest<'a> {
    schema: &'static str,
    tool: &'a crate::audit::ToolInfo,
    backup: &'a str,
    out: &'a str,
    /// Always `sha256`.
    hash_algorithm: &'static str,
    files_written: u64,
    bytes_written: u64,
    files: Files<'a>,
    links: &'a [LinkEntry<'a>],
    not_written: Vec<NotWritten<'a>>,
}

/// A symbolic link the export created (`--symlinks`).
#[derive(Serialize)]
pub(crate) struct LinkEntry<'a> {
    pub path: &'a str,
    pub domain: &'a str,
    pub relative_path: &'a str,
    pub file_id: String,
    pub target: &'a str,
}

/// What the manifest is written from.
pub(crate) struct Contents<'a> {
    pub report: &'a ExtractReport,
    pub rows: &'a Rows,
    /// The plan's files (a written file's path is its row's), in output path order.
    pub jobs: &'a [FileJob],
    /// By job.
    pub written: &'a [Written],
    pub links: &'a [LinkEntry<'a>],
}

/// The rows of the report that left nothing on disk (a failed row whose content was kept
/// is in `files` instead).
fn not_written<'a>(r: &'a ExtractReport) -> Vec<NotWritten<'a>> {
    let lists: [(&'static str, &'a Vec<RowIssue>); 5] = [
        ("refused", &r.refused),
        ("missing", &r.missing),
        ("undecryptable", &r.undecryptable),
        ("failed", &r.failed),
        ("symlink_not_created", &r.skipped_symlinks),
    ];
    lists
        .into_iter()
        .flat_map(|(category, rows)| {
            rows.iter()
                .filter(|x| x.sha256.is_none())
                .map(move |row| NotWritten { category, row })
        })
        .collect()
}

/// Write `SHA256SUMS` and the JSON manifest into `out`.
pub(crate) fn write(
    out: &Path,
    force: bool,
    c: &Contents<'_>,
) -> Result<ManifestInfo, ExtractError> {
    let finish = |name: &str, w: HashWrite<BufWriter<File>>| -> Result<String, ExtractError> {
        let io = |e| super::io_err(format!("cannot write {}", out.join(name).display()))(e);
        let HashWrite { inner, hash } = w;
        let f = inner.into_inner().map_err(|e| io(e.into_error()))?;
        f.sync_all().map_err(io)?;
        Ok(hex::encode(hash.finalize()))
    };
    let io_sums = |e| super::io_err(format!("cannot write {}", out.join(SUMS_FILE).display()))(e);
    let mut sums = HashWrite {
        inner: BufWriter::new(create(out, SUMS_FILE, force)?),
        hash: sha2::Sha256::new(),
    };
    let files = Files {
        written: c.written,
        rows: c.rows,
        jobs: c.jobs,
    };
    let (mut count, mut bytes) = (0u64, 0u64);
    for (j, w) in files.iter() {
        count += 1;
        bytes += w.size;
        sums.write_all(sums_line(&hex::encode(w.sha256), &c.rows.out_path(j.row)).as_bytes())
            .map_err(io_sums)?;
    }
    let sums_sha256 = finish(SUMS_FILE, sums)?;

    let r = c.report;
    let m = Manifest {
        schema: MANIFEST_SCHEMA,
        tool: &r.tool,
        backup: &r.backup,
        out: &r.out,
        hash_algorithm: "sha256",
        files_written: count,
        bytes_written: bytes,
        files,
        links: c.links,
        not_written: not_written(r),
    };
    let io_m = |e| {
        super::io_err(format!(
            "cannot write {}",
            out.join(MANIFEST_FILE).display()
        ))(e)
    };
    let mut json = HashWrite {
        inner: BufWriter::new(create(out, MANIFEST_FILE, force)?),
        hash: sha2::Sha256::new(),
    };
    serde_json::to_writer_pretty(&mut json, &m).map_err(|e| io_m(e.into()))?;
    json.write_all(b"\n").map_err(io_m)?;
    let sha256 = finish(MANIFEST_FILE, json)?;
    Ok(ManifestInfo {
        schema: MANIFEST_SCHEMA,
        path: out.join(MANIFEST_FILE).display().to_string(),
        sha256,
        sums_path: out.join(SUMS_FILE).display().to_string(),
        sums_sha256,
        files: count,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reserved_names_ignore_case() {
        assert!(is_reserved("SHA256SUMS"));
        assert!(is_reserved("sha256sums"));
        assert!(is_reserved("Auditor-Extract-Manifest.JSON"));
        assert!(!is_reserved("HomeDomain"));
        assert!(!is_reserved("SHA256SUMS.txt"));
    }

    #[test]
    fn sums_lines_are_gnu_format() {
        assert_eq!(sums_line("ab", "D/a b.txt"), "ab  D/a b.txt\n");
        assert_eq!(sums_line("ab", "D/a\\b\nc"), "\\ab  D/a\\\\b\\nc\n");
    }

    #[test]
    fn manifest_files_replace_only_files_and_links() {
        let d = tempfile::tempdir().unwrap();
        assert!(check_reserved(d.path()).is_ok());
        std::fs::write(d.path().join(SUMS_FILE), b"old").unwrap();
        assert!(check_reserved(d.path()).is_ok());
        // Without force an existing file is never overwritten; with force it is replaced.
        assert!(matches!(
            create(d.path(), SUMS_FILE, false),
            Err(ExtractError::ManifestInTheWay(_))
        ));
        drop(create(d.path(), SUMS_FILE, true).unwrap());
        assert_eq!(std::fs::read(d.path().join(SUMS_FILE)).unwrap(), b"");
        #[cfg(unix)]
        {
            // A link in the way is replaced, its target left alone.
            let target = d.path().join("target");
            std::fs::write(&target, b"keep").unwrap();
            std::os::unix::fs::symlink(&target, d.path().join(MANIFEST_FILE)).unwrap();
            drop(create(d.path(), MANIFEST_FILE, true).unwrap());
            assert_eq!(std::fs::read(&target).unwrap(), b"keep");
        }
        std::fs::remove_file(d.path().join(MANIFEST_FILE)).unwrap();
        std::fs::create_dir(d.path().join(MANIFEST_FILE)).unwrap();
        assert!(matches!(
            check_reserved(d.path()),
            Err(ExtractError::ManifestInTheWay(_))
        ));
        assert!(matches!(
            create(d.path(), MANIFEST_FILE, true),
            Err(ExtractError::ManifestInTheWay(_))
        ));
    }
}
