//! `--path` patterns over a relativePath, with `globset` (the same syntax as policy files).
//!
//! `*` matches any run of characters except `/`; `?` one character except `/`; `**` any run
//! including `/` (`**/*.jpg` also matches `a.jpg`); `[abc]`, `[a-z]`, `[!abc]` one
//! character of (or not of) a set; `\` makes the next character literal.

/// Longest pattern accepted (characters).
pub const MAX_PATTERN: usize = 4096;

/// A compiled pattern.
#[derive(Debug, Clone)]
pub struct Glob {
    text: String,
    matcher: globset::GlobMatcher,
}

/// Why a pattern does not compile.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum GlobError {
    #[error("pattern is longer than {MAX_PATTERN} characters")]
    TooLong,
    #[error("pattern {0:?}: {1}")]
    Invalid(String, String),
}

impl Glob {
    /// Compile `pattern`.
    pub fn new(pattern: &str) -> Result<Glob, GlobError> {
        if pattern.chars().count() > MAX_PATTERN {
            return Err(GlobError::TooLong);
        }
        let glob = globset::GlobBuilder::new(pattern)
            .literal_separator(true)
            .backslash_escape(true)
            .build()
            .map_err(|e| GlobError::Invalid(pattern.to_string(), e.kind().to_string()))?;
        Ok(Glob {
            text: pattern.to_string(),
            matcher: glob.compile_matcher(),
        })
    }

    /// Compile a `--path` pattern: one without a `/` matches the file name at any depth
    /// (as `**/PATTERN`, the way ripgrep's and gitignore's globs do); one with a `/` matches
    /// the whole relativePath.
    pub fn path_pattern(pattern: &str) -> Result<Glob, GlobError> {
        if pattern.contains('/') {
            return Glob::new(pattern);
        }
        let mut g = Glob::new(&format!("**/{pattern}"))?;
        g.text = pattern.to_string();
        Ok(g)
    }

    /// The pattern as given.
    pub fn as_str(&self) -> &str {
        &self.text
    }

    /// Does the whole of `path` match?
    pub fn matches(&self, path: &str) -> bool {
        self.matcher.is_match(path)
    }

    /// What every path this pattern matches starts with: its characters before the first
    /// that is special (`*`, `?`, `[`, `{`, `\\`), less a `/` that a `**` follows (`a/**`
    /// may match `a`). Empty when the pattern starts with one (`*.db`, `**/x`).
    pub fn literal_prefix(&self) -> &str {
        let pattern = if self.text.contains('/') {
            &self.text
        } else {
            // A name pattern matches at any depth ([`Glob::path_pattern`]).
            return "";
        };
        let end = pattern
            .find(['*', '?', '[', '{', '\\'])
            .unwrap_or(pattern.len());
        let (head, rest) = pattern.split_at(end);
        match head.strip_suffix('/') {
            Some(h) if rest.starts_with("**") => h,
            _ => head,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn m(p: &str, t: &str) -> bool {
        Glob::new(p).unwrap().matches(t)
    }

    #[test]
    fn stars_questions_classes() {
        assert!(m("Library/SMS/sms.db", "Library/SMS/sms.db"));
        assert!(!m("Library/SMS/sms.db", "Library/SMS/sms.db-wal"));
        assert!(m("*.db", "sms.db"));
        assert!(!m("*.db", "Library/sms.db"));
        assert!(m("Library/*/sms.db", "Library/SMS/sms.db"));
        assert!(!m("Library/*/sms.db", "Library/a/b/sms.db"));
        assert!(m("**/*.db", "sms.db"));
        assert!(m("**/*.db", "Library/a/b/sms.db"));
        assert!(m("Library/**", "Library/a/b"));
        assert!(m(
            "Media/**/IMG_????.HEIC",
            "Media/DCIM/100APPLE/IMG_0001.HEIC"
        ));
        assert!(!m(
            "Media/**/IMG_????.HEIC",
            "Media/DCIM/100APPLE/IMG_001.HEIC"
        ));
        assert!(m("IMG_[0-9][0-9].jpg", "IMG_42.jpg"));
        assert!(!m("IMG_[0-9][0-9].jpg", "IMG_4x.jpg"));
        assert!(m("[!.]*", "visible"));
        assert!(!m("[!.]*", ".hidden"));
        assert!(m("a\\*b", "a*b"));
        assert!(!m("a\\*b", "axb"));
        assert!(matches!(Glob::new("[abc"), Err(GlobError::Invalid(..))));
        // A --path pattern without a slash matches the name at any depth; with one, the
        // whole path.
        let p = |p: &str, t: &str| Glob::path_pattern(p).unwrap().matches(t);
        assert!(p("*.db", "sms.db") && p("*.db", "Library/SMS/sms.db"));
        assert!(!p("*.db", "Library/SMS/sms.db-wal"));
        assert!(!p("Library/*.db", "Library/SMS/sms.db"));
        assert_eq!(Glob::path_pattern("*.db").unwrap().as_str(), "*.db");
        assert_eq!(
            Glob::new(&"a".repeat(MAX_PATTERN + 1)).unwrap_err(),
            GlobError::TooLong
        );
    }

    #[test]
    fn literal_prefix_is_what_every_match_starts_with() {
        let cases = [
            ("Media/DCIM/199APPLE/*", "Media/DCIM/199APPLE/"),
            ("Library/SMS/sms.db", "Library/SMS/sms.db"),
            ("Library/**", "Library"),
            ("Library/**/x.db", "Library"),
            ("Library/Pref*/a", "Library/Pref"),
            ("Library/[ab]/x", "Library/"),
            ("Library/{a,b}/x", "Library/"),
            ("Library/a\\*b/x", "Library/a"),
            ("**/*.db", ""),
            ("*/x", ""),
            ("*.db", ""),
            ("sms.db", ""),
        ];
        for (pattern, prefix) in cases {
            assert_eq!(
                Glob::path_pattern(pattern).unwrap().literal_prefix(),
                prefix,
                "{pattern}"
            );
        }
        // Every path a pattern matches starts with its prefix (globset decides the match).
        let paths = [
            "",
            "Library",
            "Library/",
            "Library/a",
            "Library/a*b/x",
            "Library/a/x.db",
            "Library/x.db",
            "Library/Preferences/a",
            "Library/Pref/a",
            "Library/b/x",
            "Media/DCIM/199APPLE",
            "Media/DCIM/199APPLE/",
            "Media/DCIM/199APPLE/IMG.MOV",
            "Media/DCIM/199APPLEX/IMG.MOV",
            "Library/SMS/sms.db",
            "x.db",
            "a/x",
        ];
        let mut matched = 0;
        for (pattern, _) in cases {
            let g = Glob::path_pattern(pattern).unwrap();
            for p in paths {
                if g.matches(p) {
                    matched += 1;
                    assert!(p.starts_with(g.literal_prefix()), "{pattern} matches {p:?}");
                }
            }
        }
        assert!(matched >= 12, "{matched}");
    }
}
