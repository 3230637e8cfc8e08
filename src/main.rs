//! The `auditor` binary: parse arguments, run, map errors to the documented exit codes.

mod cli;

use auditor::ExitCode;
use clap::Parser;

fn main() {
    // A panic is a defect: report it as an internal error (exit 70), never a partial result.
    std::panic::set_hook(Box::new(|info| {
        eprintln!("auditor: internal error (please report): {info}");
    }));
    let cli = match cli::Cli::try_parse() {
        Ok(c) => c,
        Err(e) => {
            let code = match e.kind() {
                clap::error::ErrorKind::DisplayHelp | clap::error::ErrorKind::DisplayVersion => 0,
                _ => ExitCode::Usage as i32,
            };
            let _ = e.print();
            std::process::exit(code);
        }
    };
    let code = match std::panic::catch_unwind(|| cli::run(cli)) {
        Ok(Ok(code)) => code,
        Ok(Err(e)) => {
            eprintln!("auditor: {e}");
            e.exit_code() as i32
        }
        Err(_) => ExitCode::Internal as i32,
    };
    std::process::exit(code);
}
