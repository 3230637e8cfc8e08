//! Progress bars on stderr, shown only when stderr is a terminal and not `--quiet`.

use indicatif::{ProgressBar, ProgressStyle};
use std::io::IsTerminal;

/// A progress bar that is hidden unless stderr is a terminal (and not `--quiet`).
pub fn bar(total: u64, what: &str) -> ProgressBar {
    if super::style::quiet() || !std::io::stderr().is_terminal() {
        return ProgressBar::hidden();
    }
    let pb = ProgressBar::new(total);
    if let Ok(style) = ProgressStyle::with_template("{msg:>18} [{bar:40}] {percent:>3}% {eta}") {
        pb.set_style(style.progress_chars("=> "));
    }
    pb.set_message(what.to_string());
    pb
}

/// Show `done` of `total` (the total may be learnt, or change, as the work goes).
pub fn advance(bar: &ProgressBar, done: u64, total: u64) {
    if bar.length() != Some(total) {
        bar.set_length(total);
    }
    bar.set_position(done);
}
