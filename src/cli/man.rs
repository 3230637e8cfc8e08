//! `auditor man [COMMAND]…`: the roff man page of auditor or of one of its commands, from
//! the clap definitions; `--out DIR` writes every page (auditor.1, auditor-scan.1, …).

use super::{output, Cli, Outcome};
use auditor::{Error, ExitCode};
use clap::CommandFactory;
use std::io::Write;
use std::path::{Path, PathBuf};

#[derive(Debug, clap::Args)]
#[command(after_help = "Install, e.g.:\n  \
    auditor man > ~/.local/share/man/man1/auditor.1\n  \
    auditor man --out ~/.local/share/man/man1   (every page: auditor.1, auditor-scan.1, …)\n\
    then `man auditor`, `man auditor-scan` (MANPATH may need ~/.local/share/man).")]
pub struct ManArgs {
    /// The command whose page to print (e.g. `scan`, or `policy init`); none: auditor's.
    #[arg(value_name = "COMMAND", conflicts_with = "out")]
    pub command: Vec<String>,
    /// Write one page per command into DIR (created if missing; pages there are replaced)
    /// instead of printing one.
    #[arg(long, value_name = "DIR")]
    pub out: Option<PathBuf>,
}

/// The command tree the pages describe: built (global options and the version propagated
/// to every command), without clap's `help` command, which has no page.
pub fn tree() -> clap::Command {
    let mut cmd = Cli::command().disable_help_subcommand(true);
    cmd.build();
    cmd
}

/// The page's date: the day of the commit built (none when unknown).
fn page(cmd: clap::Command) -> clap_mangen::Man {
    let man = clap_mangen::Man::new(cmd);
    match env!("AUDITOR_COMMIT_DATE") {
        "" => man,
        date => man.date(date),
    }
}

/// The command named by `path` (`[]`: auditor itself), or a usage error naming what exists.
pub fn find<'a>(root: &'a clap::Command, path: &[String]) -> Result<&'a clap::Command, Error> {
    let mut cmd = root;
    for (i, name) in path.iter().enumerate() {
        cmd = cmd.find_subcommand(name).ok_or_else(|| {
            let known: Vec<&str> = cmd.get_subcommands().map(|s| s.get_name()).collect();
            Error::Usage(format!(
                "auditor man: no command `{}`; {}",
                path[..=i].join(" "),
                match known.is_empty() {
                    true => format!("`{}` has no commands", path[..i].join(" ")),
                    false => format!("known: {}", known.join(", ")),
                }
            ))
        })?;
    }
    Ok(cmd)
}

/// The roff page of the command at `path`.
pub fn render(path: &[String]) -> Result<Vec<u8>, Error> {
    let root = tree();
    let cmd = find(&root, path)?.clone();
    let mut out = Vec::new();
    page(cmd)
        .render(&mut out)
        .map_err(|e| Error::Internal(format!("cannot render the man page: {e}")))?;
    Ok(out)
}

/// Write every command's page into `dir`; the files written, in order.
pub fn write_all(dir: &Path) -> Result<Vec<PathBuf>, Error> {
    let usage = |e: std::io::Error| Error::Usage(format!("--out {}: {e}", dir.display()));
    std::fs::create_dir_all(dir).map_err(usage)?;
    fn each(cmd: &clap::Command, dir: &Path, done: &mut Vec<PathBuf>) -> std::io::Result<()> {
        done.push(page(cmd.clone()).generate_to(dir)?);
        for sub in cmd.get_subcommands().filter(|s| !s.is_hide_set()) {
            each(sub, dir, done)?;
        }
        Ok(())
    }
    let mut done = Vec::new();
    each(&tree(), dir, &mut done).map_err(usage)?;
    Ok(done)
}

pub fn run(a: ManArgs) -> Outcome {
    match &a.out {
        Some(dir) => {
            let written = write_all(dir)?;
            output::note(format_args!(
                "auditor: wrote {} man pages into {}",
                written.len(),
                dir.display()
            ));
        }
        None => {
            let page = render(&a.command)?;
            let mut o = std::io::stdout().lock();
            output::finish(o.write_all(&page).and_then(|_| o.flush()))?;
        }
    }
    Ok(ExitCode::Ok)
}
