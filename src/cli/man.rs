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

#[cfg(test)]
mod tests {
    use super::*;

    /// Every command of the tree with its words (`[]` for auditor, `["policy", "init"]`…).
    fn commands(cmd: &clap::Command, path: Vec<String>, out: &mut Vec<Vec<String>>) {
        out.push(path.clone());
        for sub in cmd.get_subcommands() {
            let mut p = path.clone();
            p.push(sub.get_name().to_string());
            commands(sub, p, out);
        }
    }

    /// The names a command's page must show: its long and short options, its positional
    /// arguments' value names and its commands, as clap knows them.
    fn names(cmd: &clap::Command) -> Vec<String> {
        let mut v = Vec::new();
        for a in cmd.get_arguments() {
            if let Some(l) = a.get_long() {
                v.push(format!("--{l}"));
            }
            if let Some(s) = a.get_short() {
                v.push(format!("-{s}"));
            }
            if a.is_positional() {
                for n in a.get_value_names().unwrap_or_default() {
                    v.push(n.to_string());
                }
            }
        }
        v.extend(cmd.get_subcommands().map(|s| s.get_name().to_string()));
        v
    }

    /// Text rendered from roff by groff (as `man` does), or None when groff is missing.
    fn groff(page: &[u8]) -> Option<String> {
        use std::io::Write;
        let child = std::process::Command::new("groff")
            // -P-c: bold and underline by overstrike, not SGR codes.
            .args(["-man", "-Tutf8", "-P-c", "-rLL=100n"])
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn();
        let Ok(mut child) = child else {
            eprintln!("skipped: groff is not installed (the roff is checked, not its rendering)");
            return None;
        };
        child.stdin.take().unwrap().write_all(page).unwrap();
        let out = child.wait_with_output().unwrap();
        assert!(
            out.status.success() && out.stderr.is_empty(),
            "groff: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        // Overstrike (bold, underline) and hyphen-like characters back to plain text.
        let text = String::from_utf8_lossy(&out.stdout).into_owned();
        let mut plain = String::new();
        for c in text.chars() {
            match c {
                '\u{8}' => {
                    plain.pop();
                }
                '\u{2010}' | '\u{2011}' | '\u{2212}' => plain.push('-'),
                c => plain.push(c),
            }
        }
        Some(plain)
    }

    #[test]
    fn every_page_names_every_option_and_command_clap_knows() {
        let root = tree();
        let mut all = Vec::new();
        commands(&root, Vec::new(), &mut all);
        assert!(all.len() >= 13, "{all:?}");
        for path in &all {
            let cmd = find(&root, path).unwrap();
            let page = render(path).unwrap();
            let roff = String::from_utf8(page.clone()).unwrap().replace("\\-", "-");
            let title = std::iter::once("auditor")
                .chain(path.iter().map(String::as_str))
                .collect::<Vec<_>>()
                .join("-");
            assert!(roff.contains(&format!(".TH {title} 1")), "{title}");
            let expected = names(cmd);
            assert!(
                expected.iter().any(|n| n == "--color"),
                "{title}: global options"
            );
            for n in &expected {
                assert!(roff.contains(n.as_str()), "{title}: {n} not in its page");
            }
            if let Some(text) = groff(&page) {
                for n in &expected {
                    assert!(
                        text.contains(n.as_str()),
                        "{title}: {n} not rendered:\n{text}"
                    );
                }
            }
        }
    }

    #[test]
    fn unknown_commands_are_named_with_the_known_ones() {
        let root = tree();
        let e = find(&root, &["policy".into(), "nope".into()]).unwrap_err();
        assert_eq!(
            e.to_string(),
            "auditor man: no command `policy nope`; known: init"
        );
        let e = find(&root, &["scan".into(), "x".into()]).unwrap_err();
        assert!(e.to_string().ends_with("`scan` has no commands"), "{e}");
    }

    #[test]
    fn out_writes_one_page_per_command() {
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path().join("a/man1");
        let written = write_all(&dir).unwrap();
        let mut all = Vec::new();
        commands(&tree(), Vec::new(), &mut all);
        assert_eq!(written.len(), all.len());
        for path in &all {
            let name = std::iter::once("auditor".to_string())
                .chain(path.iter().cloned())
                .collect::<Vec<_>>()
                .join("-");
            let file = dir.join(format!("{name}.1"));
            assert_eq!(
                std::fs::read(&file).unwrap(),
                render(path).unwrap(),
                "{name}"
            );
        }
    }
}
