//! `--path` patterns: `*`, `?`, `**` and `[...]` glob matching on a relativePath.
//!
//! `*` matches any run of characters except `/`; `?` one character except `/`; `**` any run
//! including `/`, and `**/` also matches nothing (so `**/*.jpg` matches `a.jpg`); `[abc]`,
//! `[a-z]` and `[!abc]` one character of (or not of) a set. Everything else is literal;
//! `\` makes the next character literal.

/// Longest pattern accepted (characters).
pub const MAX_PATTERN: usize = 4096;

#[derive(Debug, Clone, PartialEq, Eq)]
enum Tok {
    Lit(char),
    Any,
    Star,
    DoubleStar,
    /// `**/`: zero or more whole components.
    DoubleStarSlash,
    Class {
        negated: bool,
        ranges: Vec<(char, char)>,
    },
}

/// A compiled pattern.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Glob {
    text: String,
    toks: Vec<Tok>,
}

/// Why a pattern does not compile.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum GlobError {
    #[error("pattern is longer than {MAX_PATTERN} characters")]
    TooLong,
    #[error("pattern {0:?}: unclosed '['")]
    UnclosedClass(String),
    #[error("pattern {0:?}: ends with an escaping '\\'")]
    TrailingEscape(String),
}

impl Glob {
    pub fn new(pattern: &str) -> Result<Glob, GlobError> {
        let chars: Vec<char> = pattern.chars().collect();
        if chars.len() > MAX_PATTERN {
            return Err(GlobError::TooLong);
        }
        let mut toks = Vec::new();
        let mut i = 0;
        while let Some(&c) = chars.get(i) {
            match c {
                '*' if chars.get(i + 1) == Some(&'*') => {
                    // A run of stars counts as one `**`.
                    let mut j = i + 2;
                    while chars.get(j) == Some(&'*') {
                        j += 1;
                    }
                    if chars.get(j) == Some(&'/') {
                        toks.push(Tok::DoubleStarSlash);
                        i = j + 1;
                    } else {
                        toks.push(Tok::DoubleStar);
                        i = j;
                    }
                }
                '*' => {
                    toks.push(Tok::Star);
                    i += 1;
                }
                '?' => {
                    toks.push(Tok::Any);
                    i += 1;
                }
                '\\' => {
                    let n = chars
                        .get(i + 1)
                        .ok_or_else(|| GlobError::TrailingEscape(pattern.into()))?;
                    toks.push(Tok::Lit(*n));
                    i += 2;
                }
                '[' => {
                    let mut j = i + 1;
                    let negated = matches!(chars.get(j), Some('!') | Some('^'));
                    if negated {
                        j += 1;
                    }
                    let mut ranges = Vec::new();
                    let mut first = true;
                    loop {
                        let c = *chars
                            .get(j)
                            .ok_or_else(|| GlobError::UnclosedClass(pattern.into()))?;
                        if c == ']' && !first {
                            j += 1;
                            break;
                        }
                        first = false;
                        if chars.get(j + 1) == Some(&'-')
                            && chars.get(j + 2).is_some_and(|&e| e != ']')
                        {
                            let e = chars.get(j + 2).copied().unwrap_or(c);
                            ranges.push((c, e));
                            j += 3;
                        } else {
                            ranges.push((c, c));
                            j += 1;
                        }
                    }
                    toks.push(Tok::Class { negated, ranges });
                    i = j;
                }
                _ => {
                    toks.push(Tok::Lit(c));
                    i += 1;
                }
            }
        }
        Ok(Glob {
            text: pattern.to_string(),
            toks,
        })
    }

    /// The pattern as given.
    pub fn as_str(&self) -> &str {
        &self.text
    }

    /// Does the whole of `path` match?
    pub fn matches(&self, path: &str) -> bool {
        let text: Vec<char> = path.chars().collect();
        let t = text.len();
        // ok[j]: the first i tokens match text[..j]. Row by row over tokens (O(p·t)).
        let mut ok = vec![false; t + 1];
        ok[0] = true;
        for tok in &self.toks {
            let mut next = vec![false; t + 1];
            match tok {
                Tok::Lit(c) => {
                    for j in 0..t {
                        next[j + 1] = ok[j] && text[j] == *c;
                    }
                }
                Tok::Any => {
                    for j in 0..t {
                        next[j + 1] = ok[j] && text[j] != '/';
                    }
                }
                Tok::Class { negated, ranges } => {
                    for j in 0..t {
                        let inside = ranges.iter().any(|&(a, b)| a <= text[j] && text[j] <= b);
                        next[j + 1] = ok[j] && text[j] != '/' && inside != *negated;
                    }
                }
                Tok::Star => {
                    next[0] = ok[0];
                    for j in 0..t {
                        next[j + 1] = ok[j + 1] || (next[j] && text[j] != '/');
                    }
                }
                Tok::DoubleStar => {
                    next[0] = ok[0];
                    for j in 0..t {
                        next[j + 1] = ok[j + 1] || next[j];
                    }
                }
                Tok::DoubleStarSlash => {
                    // Zero components, or any run ending with '/'.
                    let mut reach = false;
                    for j in 0..=t {
                        next[j] = ok[j] || (reach && j > 0 && text[j - 1] == '/');
                        if ok[j] {
                            reach = true;
                        }
                    }
                }
            }
            ok = next;
        }
        ok[t]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn m(p: &str, t: &str) -> bool {
        Glob::new(p).unwrap().matches(t)
    }

    #[test]
    fn stars_and_questions() {
        assert!(m("Library/SMS/sms.db", "Library/SMS/sms.db"));
        assert!(!m("Library/SMS/sms.db", "Library/SMS/sms.db-wal"));
        assert!(m("*.db", "sms.db"));
        assert!(!m("*.db", "Library/sms.db"));
        assert!(m("Library/*/sms.db", "Library/SMS/sms.db"));
        assert!(!m("Library/*/sms.db", "Library/a/b/sms.db"));
        assert!(m("**/*.db", "sms.db"));
        assert!(m("**/*.db", "Library/a/b/sms.db"));
        assert!(!m("**/*.db", "Library/a/b/sms.dbx"));
        assert!(m("Library/**", "Library/a/b"));
        assert!(m("Library/**", "Library/"));
        assert!(!m("Library/**", "Librar"));
        assert!(m(
            "Media/**/IMG_????.HEIC",
            "Media/DCIM/100APPLE/IMG_0001.HEIC"
        ));
        assert!(!m(
            "Media/**/IMG_????.HEIC",
            "Media/DCIM/100APPLE/IMG_001.HEIC"
        ));
        assert!(m("a**b", "a/x/b"));
        assert!(m("", ""));
        assert!(!m("", "a"));
        assert!(m("*", ""));
    }

    #[test]
    fn classes_and_escapes() {
        assert!(m("IMG_[0-9][0-9].jpg", "IMG_42.jpg"));
        assert!(!m("IMG_[0-9][0-9].jpg", "IMG_4x.jpg"));
        assert!(m("[!.]*", "visible"));
        assert!(!m("[!.]*", ".hidden"));
        assert!(m("[]]x", "]x"));
        assert!(m("a\\*b", "a*b"));
        assert!(!m("a\\*b", "axb"));
        assert!(!m("a[/]b", "a/b"));
        assert_eq!(
            Glob::new("[abc"),
            Err(GlobError::UnclosedClass("[abc".into()))
        );
        assert_eq!(
            Glob::new("abc\\"),
            Err(GlobError::TrailingEscape("abc\\".into()))
        );
        assert_eq!(
            Glob::new(&"a".repeat(MAX_PATTERN + 1)),
            Err(GlobError::TooLong)
        );
    }

    #[test]
    fn long_inputs_stay_linear() {
        // A pattern that makes naive backtracking exponential.
        let p = "*a*a*a*a*a*a*a*a*b";
        let t = "a".repeat(5000);
        assert!(!m(p, &t));
    }
}
