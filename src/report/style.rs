//! Colour in the tables: severity and verdict words in ANSI colours, only when the caller
//! turned colour on ([`set_enabled`]); plain text otherwise, the library's default.

use crate::audit::Severity;
use anstyle::{AnsiColor, Style};
use std::sync::atomic::{AtomicBool, Ordering};

/// Whether the renderers paint (set once by the CLI from `--color`, `NO_COLOR` and the
/// terminal; never on by itself).
static ENABLED: AtomicBool = AtomicBool::new(false);

/// Turn colour on or off for the renderers that follow.
pub fn set_enabled(on: bool) {
    ENABLED.store(on, Ordering::Relaxed);
}

/// Is colour on?
pub fn enabled() -> bool {
    ENABLED.load(Ordering::Relaxed)
}

/// What a word says, which decides its colour.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Tone {
    /// Something is wrong: high severity, a failed expectation (bold red).
    Bad,
    /// To look at: medium severity, an expectation that could not be checked (yellow).
    Warn,
    /// Worth knowing: low severity (cyan).
    Note,
    /// Passed (green).
    Good,
    /// Unpainted: info severity.
    Plain,
}

impl Tone {
    /// The tone of a severity word.
    pub fn of(s: Severity) -> Tone {
        match s {
            Severity::High => Tone::Bad,
            Severity::Medium => Tone::Warn,
            Severity::Low => Tone::Note,
            Severity::Info => Tone::Plain,
        }
    }

    fn style(self) -> Style {
        match self {
            Tone::Bad => AnsiColor::Red.on_default().bold(),
            Tone::Warn => AnsiColor::Yellow.on_default(),
            Tone::Note => AnsiColor::Cyan.on_default(),
            Tone::Good => AnsiColor::Green.on_default(),
            Tone::Plain => Style::new(),
        }
    }
}

/// `text` in `tone`'s colour when `on` (the escape codes take no column: see
/// [`super::text::width`]).
pub fn paint_if(on: bool, text: &str, tone: Tone) -> String {
    let style = tone.style();
    if !on || style == Style::new() || text.is_empty() {
        return text.to_string();
    }
    format!("{style}{text}{style:#}")
}

/// `text` in `tone`'s colour when colour is on.
pub fn paint(text: &str, tone: Tone) -> String {
    paint_if(enabled(), text, tone)
}

/// `text` painted, then padded with spaces to `w` columns (padding never painted).
pub fn cell(text: &str, tone: Tone, w: usize) -> String {
    let pad = w.saturating_sub(super::text::width(text));
    format!("{}{:pad$}", paint(text, tone), "")
}

/// A severity word painted by its tone and padded to `w` columns.
pub fn severity(s: Severity, w: usize) -> String {
    cell(s.as_str(), Tone::of(s), w)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::text::width;

    // Only `paint_if` is tested: the switch is process-wide, and other tests render tables.
    #[test]
    fn painted_words_take_their_own_columns_only() {
        let p = paint_if(true, "high", Tone::Bad);
        assert!(
            p.starts_with('\x1b') && p.contains("high") && p.ends_with('m'),
            "{p:?}"
        );
        assert_eq!(width(&p), 4);
        assert_eq!(paint_if(false, "high", Tone::Bad), "high");
        // Info stays plain even with colour on: nothing to draw the eye to.
        assert_eq!(paint_if(true, "info", Tone::Plain), "info");
        let tones = [Tone::Bad, Tone::Warn, Tone::Note, Tone::Good];
        let codes: std::collections::BTreeSet<_> =
            tones.iter().map(|&t| paint_if(true, "x", t)).collect();
        assert_eq!(codes.len(), tones.len(), "each tone has its own colour");
        assert_eq!(Tone::of(Severity::High), Tone::Bad);
        assert_eq!(Tone::of(Severity::Info), Tone::Plain);
    }
}
