//! The `auditor` binary: parse arguments, run, map errors to the documented exit codes.

mod cli;

use auditor::ExitCode;
use clap::{CommandFactory, FromArgMatches};
use std::io::Write;

fn main() {
    // A panic is a defect: report it as an internal error (exit 70), never a partial result.
    std::panic::set_hook(Box::new(|info| {
        let _ = writeln!(
            std::io::stderr(),
            "auditor: internal error (please report): {info}"
        );
    }));
    // clap writes its help and errors before the options are parsed: give it --color now.
    let mut cmd = cli::Cli::command().color(cli::style::choice_in(std::env::args_os()));
    let parsed = cmd
        .try_get_matches_from_mut(std::env::args_os())
        .and_then(|m| cli::Cli::from_arg_matches(&m));
    let cli = match parsed {
        Ok(c) => c,
        Err(e) => {
            let e = e.format(&mut cmd);
            let code = match e.kind() {
                clap::error::ErrorKind::DisplayHelp | clap::error::ErrorKind::DisplayVersion => {
                    ExitCode::Ok
                }
                _ => ExitCode::Usage,
            };
            let _ = e.print();
            std::process::exit(code.code());
        }
    };
    let code = match std::panic::catch_unwind(|| cli::run(cli)) {
        Ok(Ok(code)) => code,
        Ok(Err(cli::Failure(e))) => {
            cli::output::error(message(&e));
            exit_code(&e)
        }
        Err(_) => ExitCode::Internal,
    };
    std::process::exit(code.code());
}

/// The exit code of an error: that of the library's typed error in its chain; an error the
/// library did not type (e.g. writing the report) is internal.
fn exit_code(e: &anyhow::Error) -> ExitCode {
    e.chain()
        .find_map(|c| c.downcast_ref::<auditor::Error>())
        .map_or(ExitCode::Internal, auditor::Error::exit_code)
}

/// The CLI's context, then the error it is about: the chain down to the library's typed
/// error, whose message already says what its causes are.
fn message(e: &anyhow::Error) -> String {
    let mut parts = Vec::new();
    for c in e.chain() {
        parts.push(c.to_string());
        if c.is::<auditor::Error>() {
            break;
        }
    }
    parts.join(": ")
}

#[cfg(test)]
mod tests {
    use super::*;
    use anyhow::Context;

    #[test]
    fn the_typed_error_decides_the_code_and_ends_the_message() {
        // Context before the typed error; its source is not said twice.
        let typed = auditor::Error::Io {
            context: "cannot write x".into(),
            source: std::io::Error::other("disk full"),
        };
        let e = Err::<(), _>(typed).context("out.json").unwrap_err();
        assert_eq!(message(&e), "out.json: cannot write x: disk full");
        assert_eq!(exit_code(&e), ExitCode::Internal);
        let e = Err::<(), _>(auditor::Error::Usage("bad".into()))
            .context("ctx")
            .unwrap_err();
        assert_eq!(
            (message(&e).as_str(), exit_code(&e)),
            ("ctx: bad", ExitCode::Usage)
        );
        // No typed error: the whole chain, and a defect.
        let e = Err::<(), _>(std::io::Error::other("gone"))
            .context("cannot write the report")
            .unwrap_err();
        assert_eq!(message(&e), "cannot write the report: gone");
        assert_eq!(exit_code(&e), ExitCode::Internal);
    }
}
