//! `auditor completions SHELL`: the shell's completion script, generated from the clap
//! definitions, on stdout.

use super::{output, Cli, Outcome};
use auditor::ExitCode;
use clap::CommandFactory;
use clap_complete::Shell;
use std::io::Write;

#[derive(Debug, clap::Args)]
#[command(after_help = "Install, e.g.:\n  \
    bash: auditor completions bash > ~/.local/share/bash-completion/completions/auditor\n  \
    zsh:  auditor completions zsh > ~/.zfunc/_auditor  (with fpath+=~/.zfunc before compinit)\n  \
    fish: auditor completions fish > ~/.config/fish/completions/auditor.fish")]
pub struct CompletionsArgs {
    /// The shell to complete in.
    #[arg(value_enum)]
    pub shell: Shell,
}

/// The completion script of `shell` for the `auditor` command.
pub fn script(shell: Shell) -> Vec<u8> {
    let mut out = Vec::new();
    clap_complete::generate(shell, &mut Cli::command(), "auditor", &mut out);
    out
}

pub fn run(a: CompletionsArgs) -> Outcome {
    let mut o = std::io::stdout().lock();
    output::finish(o.write_all(&script(a.shell)).and_then(|_| o.flush()))?;
    Ok(ExitCode::Ok)
}
