//! The extract report (`schema: auditor.extract/1`): what was exported, refused, missing.

use serde::Serialize;

/// JSON schema id of [`ExtractReport`].
pub const EXTRACT_SCHEMA: &str = "auditor.extract/1";

/// One row that was not exported (or a link that was not created), and why.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct RowIssue {
    pub domain: String,
    pub relative_path: String,
    pub file_id: String,
    /// `file`, `directory`, `symlink` or `other`.
    pub kind: &'static str,
    /// Stable code (e.g. `dot_dot_component`, `case_collision`, `device_bound`).
    pub reason: &'static str,
    /// Human-readable explanation.
    pub detail: String,
    /// SHA-256 (hex) of the content kept in the output folder for a `failed` row that was
    /// written all the same (bad padding, modification time not set); `null` otherwise.
    pub sha256: Option<String>,
}

/// Counts.
#[derive(Debug, Clone, Default, Serialize, PartialEq, Eq)]
pub struct ExtractSummary {
    /// Index rows read.
    pub rows: u64,
    /// Rows matching the selection (any kind).
    pub selected: u64,
    /// Regular files written.
    pub exported: u64,
    /// Plaintext bytes written.
    pub bytes: u64,
    /// Directories created (explicit rows and parents).
    pub directories: u64,
    /// Symbolic links created (`--symlinks`).
    pub symlinks_created: u64,
    /// Safe symbolic links not created (no `--symlinks`).
    pub symlinks_skipped: u64,
    pub refused: u64,
    pub missing: u64,
    pub undecryptable: u64,
    pub failed: u64,
}

/// The whole report.
#[derive(Debug, Clone, Serialize)]
pub struct ExtractReport {
    pub schema: &'static str,
    pub tool: crate::audit::ToolInfo,
    /// The backup folder.
    pub backup: String,
    /// The output folder (absolute).
    pub out: String,
    pub selection: SelectionReport,
    pub summary: ExtractSummary,
    /// Unsafe or colliding rows, never written.
    pub refused: Vec<RowIssue>,
    /// Files whose payload is not on disk.
    pub missing: Vec<RowIssue>,
    /// Files whose class key is not available (device-bound, or no key).
    pub undecryptable: Vec<RowIssue>,
    /// Files that could not be read or written, or whose content did not decrypt cleanly
    /// (for bad padding the whole decrypted content is kept; `detail` says so).
    pub failed: Vec<RowIssue>,
    /// Safe links not created because `--symlinks` was not given.
    pub skipped_symlinks: Vec<RowIssue>,
    /// The manifest written into the output folder: every file written, with its SHA-256
    /// (`auditor.extract-manifest/1`), and `SHA256SUMS` (always present once an export ran).
    pub manifest: Option<super::manifest::ManifestInfo>,
}

/// The selection, echoed.
#[derive(Debug, Clone, Default, Serialize)]
pub struct SelectionReport {
    pub apps: Vec<String>,
    pub domains: Vec<String>,
    pub paths: Vec<String>,
    pub symlinks: bool,
    /// The filters that selected no row (`--app X`, `--domain D`, `--path P`): usually a
    /// typo or a pattern that does not reach where the files are.
    pub unmatched: Vec<String>,
}

impl ExtractReport {
    /// Were all selected files exported (nothing refused, missing, undecryptable or failed)?
    pub fn complete(&self) -> bool {
        let s = &self.summary;
        s.refused + s.missing + s.undecryptable + s.failed == 0
    }
}
