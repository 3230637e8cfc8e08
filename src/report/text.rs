//! Table text in 80 columns: display width, cells cut with `…`, prose wrapped, no trailing spaces.

use std::io::{self, Write};
use unicode_width::{UnicodeWidthChar, UnicodeWidthStr};

/// Lines of every table are kept within this many terminal columns. Only a single value
/// that cannot be broken (a path, a location with no space in it) may run past it.
pub const WIDTH: usize = 80;

/// Terminal columns `s` takes (East Asian wide characters count two, combining marks none,
/// and the escape sequences of [`super::style`]'s colours none).
pub fn width(s: &str) -> usize {
    if !s.contains('\x1b') {
        return UnicodeWidthStr::width(s);
    }
    UnicodeWidthStr::width(without_escapes(s).as_str())
}

/// `s` without its CSI escape sequences (`ESC [` … a final byte in `@`…`~`).
fn without_escapes(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut chars = s.chars().peekable();
    while let Some(c) = chars.next() {
        if c == '\x1b' && chars.peek() == Some(&'[') {
            chars.next();
            for c in chars.by_ref() {
                if ('@'..='~').contains(&c) {
                    break;
                }
            }
            continue;
        }
        out.push(c);
    }
    out
}

/// Columns of one character (control characters count none, as `width` counts them).
fn char_width(c: char) -> usize {
    UnicodeWidthChar::width(c).unwrap_or(0)
}

/// `s` padded with spaces to `w` columns.
fn pad(mut s: String, w: usize) -> String {
    let n = w.saturating_sub(width(&s));
    s.extend(std::iter::repeat_n(' ', n));
    s
}

/// The longest prefix of `s` that takes at most `w` columns.
fn head(s: &str, w: usize) -> &str {
    let mut used = 0;
    for (i, c) in s.char_indices() {
        used += char_width(c);
        if used > w {
            return &s[..i];
        }
    }
    s
}

/// The longest suffix of `s` that takes at most `w` columns.
fn tail(s: &str, w: usize) -> &str {
    let mut used = 0;
    for (i, c) in s.char_indices().rev() {
        used += char_width(c);
        if used > w {
            return &s[i + c.len_utf8()..];
        }
    }
    s
}

/// `s` in exactly `w` columns: padded with spaces, or cut with a final `…` when wider.
/// Cut by display width, never inside a character.
pub fn fit(s: &str, w: usize) -> String {
    if width(s) <= w {
        return pad(s.to_string(), w);
    }
    if w == 0 {
        return String::new();
    }
    pad(format!("{}…", head(s, w - 1)), w)
}

/// A path in exactly `w` columns, cut in the middle when wider so that its file name stays
/// visible: `Library/Caches/co…/Cache.db`. The end is the whole file name (from its `/`)
/// when that leaves 4 columns for the start, else the last columns of the name.
pub fn fit_middle(s: &str, w: usize) -> String {
    let room = w.saturating_sub(1);
    let name = s.rfind('/').map_or(s, |i| &s[i..]);
    cut_middle(s, w, width(name).min(room.saturating_sub(4)))
}

/// A dotted id (a bundle id) in exactly `w` columns, cut in the middle when wider: the
/// start keeps a third of the room, the end (where ids differ) the rest:
/// `com.apple…nNotificationContent`.
pub fn fit_id(s: &str, w: usize) -> String {
    let room = w.saturating_sub(1);
    cut_middle(s, w, room - room / 3)
}

/// `s` padded to `w` columns, or its start, `…` and its last `tail_w` columns when wider.
fn cut_middle(s: &str, w: usize, tail_w: usize) -> String {
    if width(s) <= w {
        return pad(s.to_string(), w);
    }
    if w == 0 {
        return String::new();
    }
    let end = tail(s, tail_w.min(w - 1));
    let start = head(s, w - 1 - width(end));
    pad(format!("{start}…{end}"), w)
}

/// `text` broken at spaces into lines of at most `first` columns (the first line) and
/// `rest` columns (the others). A word wider than its line stays whole on a line of its
/// own (a first line too narrow for the first word is left empty when the others are
/// wider); the spacing inside a line is the text's own.
pub fn wrap(text: &str, first: usize, rest: usize) -> Vec<String> {
    let mut lines = Vec::new();
    let mut cur = String::new();
    let mut started = false;
    for word in text.split(' ') {
        // A first word too wide for the first line starts on the next, when that is wider.
        if !started && width(word) > first && rest > first {
            lines.push(String::new());
        }
        let room = if lines.is_empty() { first } else { rest };
        if started && width(&cur) + 1 + width(word) > room && !cur.trim().is_empty() {
            lines.push(std::mem::take(&mut cur));
        } else if started {
            cur.push(' ');
        }
        cur.push_str(word);
        started = true;
    }
    lines.push(cur);
    lines
}

/// Write one line without trailing spaces.
pub fn line(out: &mut dyn Write, text: &str) -> io::Result<()> {
    writeln!(out, "{}", text.trim_end())
}

/// Write `prefix` then `text` wrapped to [`WIDTH`], its further lines indented by `indent`
/// columns.
pub fn wrapped(out: &mut dyn Write, prefix: &str, text: &str, indent: usize) -> io::Result<()> {
    let first = WIDTH.saturating_sub(width(prefix));
    let rest = WIDTH.saturating_sub(indent);
    for (i, l) in wrap(text, first, rest).iter().enumerate() {
        if i == 0 {
            line(out, &format!("{prefix}{l}"))?;
        } else {
            line(out, &format!("{:indent$}{l}", ""))?;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn colour_codes_take_no_column() {
        assert_eq!(width("\x1b[1m\x1b[31mhigh\x1b[0m  x"), 7);
        assert_eq!(width("a\x1b[32mb"), 2);
        // An ESC that starts no sequence is measured as before, and the text after it.
        assert_eq!(width("a\x1bbc"), UnicodeWidthStr::width("a\x1bbc"));
        assert!(width("a\x1bbc") >= 3);
    }

    #[test]
    fn fit_pads_or_cuts_by_display_width() {
        assert_eq!(fit("abc", 5), "abc  ");
        assert_eq!(fit("abcdef", 5), "abcd…");
        assert_eq!(fit("abcde", 5), "abcde");
        assert_eq!(fit("abc", 0), "");
        // Multi-byte, one column each: cut between characters, never inside one.
        assert_eq!(fit("Notizbücher-Übersicht", 12), "Notizbücher…");
        assert_eq!(width(&fit("Notizbücher-Übersicht", 12)), 12);
        // Wide characters take two columns: 写真 fits 4 columns, 写真アプリ does not fit 5.
        assert_eq!(fit("写真", 4), "写真");
        assert_eq!(fit("写真アプリ", 5), "写真…");
        // A wide character that would straddle the edge is left out and the cell padded.
        assert_eq!(fit("写真アプリ", 6), "写真… ");
        assert_eq!(width(&fit("写真アプリ", 6)), 6);
    }

    #[test]
    fn fit_middle_keeps_the_file_name() {
        let p = "Library/Application Support/com.example.app/Caches/Cache.db";
        let f = fit_middle(p, 30);
        assert_eq!(width(&f), 30);
        assert!(f.ends_with("/Cache.db") && f.contains('…'), "{f}");
        assert_eq!(f, "Library/Application …/Cache.db");
        assert_eq!(fit_middle("a/b.txt", 10), "a/b.txt   ");
        // A file name too long for the room is itself cut, keeping its end.
        let long = format!("Documents/{}.sqlite", "x".repeat(60));
        let f = fit_middle(&long, 30);
        assert!(f.starts_with("Docu") && f.ends_with("x.sqlite"), "{f}");
        assert_eq!(width(&f), 30);
        // Multi-byte names are cut by columns.
        let f = fit_middle("Medien/Fotos/Größe/写真アルバム/画像ファイル.heic", 24);
        assert_eq!(width(&f), 24, "{f}");
        assert_eq!(f, "Medie…/画像ファイル.heic");
    }

    #[test]
    fn fit_id_keeps_both_ends_of_a_bundle_id() {
        let ids = [
            "com.apple.AppPredictionWidget.Siri.ActionPredictionNotificationContent",
            "com.apple.AppPredictionWidget.Siri.ActionPredictionNotificationContentIntents",
        ];
        let cut: Vec<String> = ids.iter().map(|id| fit_id(id, 30)).collect();
        assert_eq!(cut[0], "com.apple…nNotificationContent");
        assert_eq!(cut[1], "com.apple…cationContentIntents");
        assert_eq!(
            fit_id("com.apple.Maps", 30),
            format!("{:<30}", "com.apple.Maps")
        );
        assert_eq!(
            width(&fit_id("de.bücher.写真アプリケーション.Erweiterung", 20)),
            20
        );
    }

    #[test]
    fn wrap_breaks_at_spaces_and_keeps_long_words_whole() {
        assert_eq!(wrap("a bb ccc dddd", 6, 6), ["a bb", "ccc", "dddd"]);
        assert_eq!(wrap("a bb ccc dddd", 4, 20), ["a bb", "ccc dddd"]);
        assert_eq!(
            wrap("one averyveryverylongword two", 8, 8),
            ["one", "averyveryverylongword", "two"]
        );
        assert_eq!(wrap("", 5, 5), [""]);
        // The first word does not fit after a wide prefix: the prefix stands alone.
        assert_eq!(
            wrap("com.example.long: text", 10, 30),
            ["", "com.example.long: text"]
        );
        assert_eq!(wrap("keep  two spaces", 40, 40), ["keep  two spaces"]);
        let mut out = Vec::new();
        wrapped(&mut out, "  note ", &"word ".repeat(30), 7).unwrap();
        let text = String::from_utf8(out).unwrap();
        for l in text.lines() {
            assert!(width(l) <= WIDTH && l == l.trim_end(), "{l:?}");
        }
        assert!(text.lines().nth(1).unwrap().starts_with("       word"));
    }
}
