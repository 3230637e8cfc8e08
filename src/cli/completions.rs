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

#[cfg(test)]
mod tests {
    use super::*;
    use clap::ValueEnum;

    #[test]
    fn every_script_completes_every_command_and_global_option() {
        let cmd = Cli::command();
        let subcommands: Vec<&str> = cmd.get_subcommands().map(|s| s.get_name()).collect();
        assert!(subcommands.contains(&"completions") && subcommands.contains(&"man"));
        for &shell in Shell::value_variants() {
            let text = String::from_utf8(script(shell)).unwrap();
            for word in subcommands.iter().copied().chain(["color", "quiet"]) {
                assert!(text.contains(word), "{shell}: {word}");
            }
        }
    }
}
