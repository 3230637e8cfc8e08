//! The global `--color` and `--quiet`: decided once, from the options, `NO_COLOR` and
//! whether stdout and stderr are terminals; every painted or optional line asks here.

use auditor::report::style::{self, Tone};
use clap::ColorChoice;
use std::ffi::OsString;
use std::io::IsTerminal;
use std::sync::atomic::{AtomicBool, AtomicU8, Ordering};

static QUIET: AtomicBool = AtomicBool::new(false);
static STDERR_COLOR: AtomicBool = AtomicBool::new(false);
/// `--color`: 0 auto, 1 always, 2 never.
static CHOICE: AtomicU8 = AtomicU8::new(0);

/// Record the options for the rest of the run.
pub fn init(choice: ColorChoice, quiet: bool) {
    QUIET.store(quiet, Ordering::Relaxed);
    CHOICE.store(
        match choice {
            ColorChoice::Auto => 0,
            ColorChoice::Always => 1,
            ColorChoice::Never => 2,
        },
        Ordering::Relaxed,
    );
    let no_color = no_color_env();
    STDERR_COLOR.store(
        decide(choice, std::io::stderr().is_terminal(), no_color),
        Ordering::Relaxed,
    );
    // Until a report says where it goes ([`report_to`]): stdout.
    report_to(true);
}

fn choice() -> ColorChoice {
    match CHOICE.load(Ordering::Relaxed) {
        1 => ColorChoice::Always,
        2 => ColorChoice::Never,
        _ => ColorChoice::Auto,
    }
}

/// `NO_COLOR` set to something (https://no-color.org: an empty value does not count).
fn no_color_env() -> bool {
    std::env::var_os("NO_COLOR").is_some_and(|v| !v.is_empty())
}

/// Colour or not: `always` and `never` are obeyed; `auto` paints a terminal only, and
/// nothing when `NO_COLOR` is set.
pub fn decide(choice: ColorChoice, terminal: bool, no_color: bool) -> bool {
    match choice {
        ColorChoice::Always => true,
        ColorChoice::Never => false,
        ColorChoice::Auto => terminal && !no_color,
    }
}

/// Set the report's colour for where it is written: stdout (a terminal, in `auto`) or a
/// file (`--output`: painted only with `--color always`).
pub fn report_to(stdout: bool) {
    let terminal = stdout && std::io::stdout().is_terminal();
    style::set_enabled(decide(choice(), terminal, no_color_env()));
}

/// `--quiet`: no progress bars, notes or warnings.
pub fn quiet() -> bool {
    QUIET.load(Ordering::Relaxed)
}

/// `text` painted for stderr.
pub fn stderr(text: &str, tone: Tone) -> String {
    style::paint_if(STDERR_COLOR.load(Ordering::Relaxed), text, tone)
}

/// The `--color` given in `args` (the last one; none after `--`), for clap's own help and
/// errors, which are written before the options are parsed.
pub fn choice_in(args: impl IntoIterator<Item = OsString>) -> ColorChoice {
    let mut found = ColorChoice::Auto;
    let mut args = args.into_iter().skip(1);
    while let Some(a) = args.next() {
        let value = match a.to_str() {
            Some("--") => break,
            Some("--color") => args.next(),
            Some(s) => match s.strip_prefix("--color=") {
                Some(v) => Some(OsString::from(v)),
                None => continue,
            },
            None => continue,
        };
        match value.as_ref().and_then(|v| v.to_str()) {
            Some("always") => found = ColorChoice::Always,
            Some("never") => found = ColorChoice::Never,
            Some("auto") => found = ColorChoice::Auto,
            // Anything else is clap's to refuse.
            _ => {}
        }
    }
    found
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn auto_paints_a_terminal_without_no_color_only() {
        assert!(decide(ColorChoice::Auto, true, false));
        assert!(!decide(ColorChoice::Auto, false, false));
        assert!(!decide(ColorChoice::Auto, true, true));
        // An explicit choice wins over NO_COLOR and the terminal (no-color.org).
        assert!(decide(ColorChoice::Always, false, true));
        assert!(!decide(ColorChoice::Never, true, false));
    }

    #[test]
    fn the_last_color_option_before_a_double_dash_counts() {
        let args = |v: &[&str]| v.iter().map(OsString::from).collect::<Vec<_>>();
        assert_eq!(choice_in(args(&["auditor", "info"])), ColorChoice::Auto);
        assert_eq!(
            choice_in(args(&["auditor", "--color", "never", "info"])),
            ColorChoice::Never
        );
        assert_eq!(
            choice_in(args(&["auditor", "info", "--color=always"])),
            ColorChoice::Always
        );
        assert_eq!(
            choice_in(args(&["auditor", "--color=never", "--color", "always"])),
            ColorChoice::Always
        );
        assert_eq!(
            choice_in(args(&["auditor", "--", "--color=never"])),
            ColorChoice::Auto
        );
        assert_eq!(
            choice_in(args(&["auditor", "--color", "pink"])),
            ColorChoice::Auto
        );
    }
}
