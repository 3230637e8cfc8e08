//! Command-line interface: argument definitions and one thin function per subcommand.

mod check;
mod completions;
pub mod credentials;
mod diff;
mod extract;
mod fixture;
mod key;
mod keychain;
mod leaks;
mod man;
mod open;
pub mod output;
mod patch;
mod policy_init;
pub mod progress;
mod scan;
pub mod style;
mod tamper;

use auditor::audit::Severity;
use auditor::ExitCode;
use clap::{ColorChoice, Parser, Subcommand, ValueEnum};
use std::path::PathBuf;

/// Audit iOS local (Finder/iTunes) backups: what is in them, what is encrypted with which
/// protection class, and which keychain items survive a restore.
#[derive(Debug, Parser)]
#[command(
    name = "auditor",
    version = env!("AUDITOR_LONG_VERSION"),
    about,
    long_about = None,
    propagate_version = true
)]
pub struct Cli {
    /// Colour in tables and on stderr: auto (only on a terminal, and not when NO_COLOR is
    /// set), always or never.
    #[arg(long, value_enum, global = true, value_name = "WHEN", default_value_t = ColorChoice::Auto)]
    pub color: ColorChoice,
    /// No progress bars, notes or warnings on stderr (errors and the report are still
    /// written; the exit code is the same).
    #[arg(long, short = 'q', global = true)]
    pub quiet: bool,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Format {
    /// Human-readable text.
    Table,
    /// Machine-readable JSON (docs/json-schema.md).
    Json,
}

/// Output format of the reporting subcommands (`scan`, `info`, `keychain`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ReportFormat {
    /// Human-readable text.
    Table,
    /// Machine-readable JSON (docs/json-schema.md).
    Json,
    /// SARIF 2.1.0 for GitHub code scanning (every finding, with its rule's fix).
    Sarif,
    /// One self-contained HTML page (summary, charts, sortable and filterable tables).
    Html,
}

impl ReportFormat {
    /// How a folder of several backups is listed on stdout before the error (exit 2).
    pub fn listing(self) -> open::Listing {
        match self {
            ReportFormat::Json => open::Listing::Json,
            ReportFormat::Table | ReportFormat::Sarif | ReportFormat::Html => open::Listing::None,
        }
    }
}

/// Options shared by the reporting subcommands.
#[derive(Debug, clap::Args, Clone)]
pub struct ReportArgs {
    /// Output format.
    #[arg(long, value_enum, default_value_t = ReportFormat::Table)]
    pub format: ReportFormat,
    /// Exit 1 when any finding has at least this severity (info, low, medium, high).
    #[arg(long, value_name = "SEVERITY")]
    pub fail_on: Option<Severity>,
    /// Write the report to FILE instead of stdout (never inside the backup).
    #[arg(long, short = 'o', value_name = "FILE")]
    pub output: Option<PathBuf>,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Report the backup, its keybag, every app and every file.
    Scan(scan::ScanArgs),
    /// Report the backup and keybag only (fast, never needs a password).
    Info(scan::InfoArgs),
    /// Derive the backup key once and print it (hex) for --key/--key-file; or, with --hash,
    /// print the password hash for hashcat and John the Ripper.
    Key(key::KeyArgs),
    /// Decrypt and classify every backed-up keychain item; predict where it survives a restore.
    Keychain(keychain::KeychainArgs),
    /// Write a synthetic backup from a JSON spec (tests, benchmarks, CI).
    Fixture(fixture::FixtureArgs),
    /// Find secrets and personal data in the backup's app files (tokens, passwords, keys,
    /// e-mail addresses…), where each is, and who can read it.
    Leaks(leaks::LeaksArgs),
    /// The tamper surface: security switches, endpoints, entitlements and policies in the
    /// app files that a modified backup can change, and whether the app could notice.
    Tamper(tamper::TamperArgs),
    /// What changed between two backups (apps, files, keychain items; leaks and tamper
    /// surface on request), and whether it weakens protection (CI gate: --fail-on).
    Diff(diff::DiffArgs),
    /// Check a backup against a policy file (CI gate): exit 1 when an expectation fails.
    Check(check::CheckArgs),
    /// Policy files: `policy init` writes a starting policy from a backup.
    Policy(policy_init::PolicyArgs),
    /// Export decrypted files as DIR/<domain>/<relativePath> (safe paths, parallel).
    Extract(extract::ExtractArgs),
    /// Write a modified copy of the backup (set a plist/JSON value, replace or delete a
    /// file), consistent for restore, and a receipt with SHA-256 before and after.
    Patch(patch::PatchArgs),
    /// Print the shell completion script for bash, zsh, fish, powershell or elvish.
    Completions(completions::CompletionsArgs),
    /// Print the man page of auditor or of one command (roff); --out DIR writes them all.
    Man(man::ManArgs),
}

/// A failed command: the library's typed error (which decides the exit code) with the
/// context the CLI adds, or an error the library did not type (e.g. writing the report).
/// Only `auditor::Error` and `anyhow::Error` convert into it, so a layer's own error
/// cannot skip its typed conversion (and its exit code) on the way out.
#[derive(Debug)]
pub struct Failure(pub anyhow::Error);

impl From<auditor::Error> for Failure {
    fn from(e: auditor::Error) -> Self {
        Failure(e.into())
    }
}

impl From<anyhow::Error> for Failure {
    fn from(e: anyhow::Error) -> Self {
        Failure(e)
    }
}

/// What a subcommand ends with.
pub type Outcome = Result<ExitCode, Failure>;

/// Run the parsed command; returns the process exit code.
pub fn run(cli: Cli) -> Outcome {
    style::init(cli.color, cli.quiet);
    match cli.command {
        Command::Scan(a) => scan::run_scan(a),
        Command::Info(a) => scan::run_info(a),
        Command::Key(a) => key::run(a),
        Command::Keychain(a) => keychain::run(a),
        Command::Leaks(a) => leaks::run(a),
        Command::Fixture(a) => fixture::run(a),
        Command::Tamper(a) => tamper::run(a),
        Command::Diff(a) => diff::run(a),
        Command::Check(a) => check::run(a),
        Command::Policy(a) => policy_init::run(a),
        Command::Extract(a) => extract::run(a),
        Command::Patch(a) => patch::run(a),
        Command::Completions(a) => completions::run(a),
        Command::Man(a) => man::run(a),
    }
}
