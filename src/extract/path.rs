//! Output path rules: which domain / relativePath components may become file names.
//!
//! A row's output path is `<domain>/<relativePath>`, built component by component. Every
//! component must be a plain, portable name: the rules below refuse (never rewrite) the rest,
//! so an exported tree never holds a name that differs from the index.
//!
//! | refused | why |
//! |---|---|
//! | empty component (leading `/`, `//`, trailing `/`) | an absolute path or an ambiguous one |
//! | `.` and `..` | they would leave the folder or alias another path |
//! | NUL and control characters U+0001–U+001F, U+007F | not representable or terminal-hostile |
//! | `\` and `:` | path separators on Windows and classic macOS / HFS+ |
//! | more than 255 bytes | longer than every common file system's name limit |
//! | a domain named `auditor-extract-manifest.json` or `SHA256SUMS` (any case) | the export's own files |
//!
//! Characters that are legal on APFS, ext4 and the like but not on Windows or FAT
//! (`* ? " < > |`, trailing dots or spaces, device names such as `CON`) are kept as they are.

use std::fmt;

/// Longest component accepted, in bytes (APFS, ext4, NTFS: 255).
pub const MAX_COMPONENT_BYTES: usize = 255;

/// Why a component or a whole row is not exported.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Refusal {
    /// The domain is empty.
    EmptyDomain,
    /// The relativePath starts with `/`.
    Absolute,
    /// An empty component (`a//b`, a trailing `/`).
    EmptyComponent,
    /// A `.` component.
    Dot,
    /// A `..` component.
    DotDot,
    /// A NUL byte.
    Nul,
    /// A control character (code point given).
    Control(u32),
    /// A character that is a separator on some host file systems.
    Separator(char),
    /// A component longer than [`MAX_COMPONENT_BYTES`].
    TooLong(usize),
    /// A regular file or link with an empty relativePath (that is the domain root).
    EmptyPath,
    /// The same domain and path as an earlier row.
    Duplicate,
    /// Differs only in letter case from an earlier path (they would merge on a case-insensitive
    /// file system such as APFS or NTFS by default).
    CaseCollision(String),
    /// A file or link where an earlier row needs a directory, or the other way round.
    KindConflict(String),
    /// A row kind other than file, directory or symbolic link.
    UnsupportedKind(&'static str),
    /// A symbolic link whose target is absolute.
    LinkAbsolute(String),
    /// A symbolic link whose target leaves the export folder.
    LinkEscapes(String),
    /// A symbolic link whose target passes through another link (its effect is not knowable
    /// from the names alone).
    LinkThroughLink(String),
    /// A symbolic link with an empty or missing target.
    LinkNoTarget,
    /// A symbolic link whose target holds a refused character.
    LinkBadTarget(String),
    /// Something already in the output folder (with `--force`) is in the way.
    Obstructed(String),
    /// A domain named like one of the export's own files (`auditor-extract-manifest.json`,
    /// `SHA256SUMS`, in any letter case): it would mix with the manifest.
    Reserved(String),
}

impl Refusal {
    /// Stable machine-readable code (JSON `reason`).
    pub fn code(&self) -> &'static str {
        match self {
            Refusal::EmptyDomain => "empty_domain",
            Refusal::Absolute => "absolute_path",
            Refusal::EmptyComponent => "empty_component",
            Refusal::Dot => "dot_component",
            Refusal::DotDot => "dot_dot_component",
            Refusal::Nul => "nul_character",
            Refusal::Control(_) => "control_character",
            Refusal::Separator(_) => "separator_character",
            Refusal::TooLong(_) => "component_too_long",
            Refusal::EmptyPath => "empty_path",
            Refusal::Duplicate => "duplicate_path",
            Refusal::CaseCollision(_) => "case_collision",
            Refusal::KindConflict(_) => "kind_conflict",
            Refusal::UnsupportedKind(_) => "unsupported_kind",
            Refusal::LinkAbsolute(_) => "link_absolute",
            Refusal::LinkEscapes(_) => "link_escapes",
            Refusal::LinkThroughLink(_) => "link_through_link",
            Refusal::LinkNoTarget => "link_no_target",
            Refusal::LinkBadTarget(_) => "link_bad_target",
            Refusal::Obstructed(_) => "obstructed",
            Refusal::Reserved(_) => "reserved_name",
        }
    }
}

impl fmt::Display for Refusal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Refusal::EmptyDomain => write!(f, "the domain is empty"),
            Refusal::Absolute => write!(f, "the relativePath is absolute (starts with '/')"),
            Refusal::EmptyComponent => write!(
                f,
                "the path has an empty component ('//' or a trailing '/')"
            ),
            Refusal::Dot => write!(f, "the path has a '.' component"),
            Refusal::DotDot => write!(
                f,
                "the path has a '..' component (it would leave its folder)"
            ),
            Refusal::Nul => write!(f, "the path holds a NUL character"),
            Refusal::Control(c) => write!(f, "the path holds the control character U+{c:04X}"),
            Refusal::Separator(c) => write!(
                f,
                "the path holds {c:?}, a path separator on some file systems"
            ),
            Refusal::TooLong(n) => write!(
                f,
                "a path component is {n} bytes, more than {MAX_COMPONENT_BYTES}"
            ),
            Refusal::EmptyPath => write!(
                f,
                "a file or link with an empty relativePath (the domain root)"
            ),
            Refusal::Duplicate => write!(f, "an earlier row has the same domain and path"),
            Refusal::CaseCollision(p) => {
                write!(f, "differs only in letter case from {p:?}, exported first")
            }
            Refusal::KindConflict(p) => write!(
                f,
                "{p:?} is exported as another kind (file versus directory)"
            ),
            Refusal::UnsupportedKind(k) => {
                write!(f, "row kind {k} is neither file, directory nor link")
            }
            Refusal::LinkAbsolute(t) => write!(f, "link target {t:?} is absolute"),
            Refusal::LinkEscapes(t) => write!(f, "link target {t:?} leaves the export folder"),
            Refusal::LinkThroughLink(t) => {
                write!(f, "link target {t:?} passes through another link")
            }
            Refusal::LinkNoTarget => write!(f, "the link has no target"),
            Refusal::LinkBadTarget(t) => write!(f, "link target {t:?} holds a refused name"),
            Refusal::Obstructed(p) => write!(
                f,
                "{p} already exists in the output folder and is in the way"
            ),
            Refusal::Reserved(d) => write!(
                f,
                "the domain {d:?} has the name of the export's manifest (reserved in the output folder)"
            ),
        }
    }
}

/// Check one name (a domain or one relativePath component).
pub fn check_component(c: &str) -> Result<(), Refusal> {
    match c {
        "" => return Err(Refusal::EmptyComponent),
        "." => return Err(Refusal::Dot),
        ".." => return Err(Refusal::DotDot),
        _ => {}
    }
    if c.len() > MAX_COMPONENT_BYTES {
        return Err(Refusal::TooLong(c.len()));
    }
    for ch in c.chars() {
        match ch {
            '\0' => return Err(Refusal::Nul),
            '\u{1}'..='\u{1f}' | '\u{7f}' => return Err(Refusal::Control(ch as u32)),
            '\\' | ':' | '/' => return Err(Refusal::Separator(ch)),
            _ => {}
        }
    }
    Ok(())
}

/// The checked components of `<domain>/<relativePath>`. An empty relativePath is the domain
/// root (one component).
pub fn components<'a>(domain: &'a str, relative_path: &'a str) -> Result<Vec<&'a str>, Refusal> {
    if domain.is_empty() {
        return Err(Refusal::EmptyDomain);
    }
    check_component(domain)?;
    if super::manifest::is_reserved(domain) {
        return Err(Refusal::Reserved(domain.to_string()));
    }
    let mut out = vec![domain];
    if relative_path.is_empty() {
        return Ok(out);
    }
    if relative_path.starts_with('/') {
        return Err(Refusal::Absolute);
    }
    for c in relative_path.split('/') {
        check_component(c)?;
        out.push(c);
    }
    Ok(out)
}

/// Resolve a link target against the link's own components (`link` = domain … name),
/// lexically. Returns the components of the resolved path inside the export folder.
/// `..` may climb to the folder's root and no further. `is_link` is asked about every
/// path the resolution passes through (not the final one): a link there would make the
/// lexical answer wrong, so it is refused.
pub fn resolve_link(
    link: &[&str],
    is_link: &mut dyn FnMut(&[String]) -> bool,
    target: &str,
) -> Result<Vec<String>, Refusal> {
    if target.is_empty() {
        return Err(Refusal::LinkNoTarget);
    }
    if target.starts_with('/') {
        return Err(Refusal::LinkAbsolute(target.to_string()));
    }
    let parent = link.len().saturating_sub(1);
    let mut stack: Vec<String> = link
        .get(..parent)
        .unwrap_or_default()
        .iter()
        .map(|s| s.to_string())
        .collect();
    // Paths pushed from the target (the link's own parents are folders).
    let mut pushed = false;
    for c in target.split('/') {
        if matches!(c, "" | ".") {
            continue;
        }
        if pushed && is_link(&stack) {
            return Err(Refusal::LinkThroughLink(target.to_string()));
        }
        if c == ".." {
            if stack.pop().is_none() {
                return Err(Refusal::LinkEscapes(target.to_string()));
            }
        } else {
            if check_component(c).is_err() {
                return Err(Refusal::LinkBadTarget(target.to_string()));
            }
            stack.push(c.to_string());
            pushed = true;
        }
    }
    Ok(stack)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_paths_pass() {
        assert_eq!(
            components("HomeDomain", "Library/SMS/sms.db").unwrap(),
            vec!["HomeDomain", "Library", "SMS", "sms.db"]
        );
        assert_eq!(components("HomeDomain", "").unwrap(), vec!["HomeDomain"]);
        // Legal on APFS/ext4, kept as is.
        assert!(components("D", "a*b?c\"d<e>f|g .").is_ok());
        assert!(components("D", "Envelope Index").is_ok());
        assert!(components("D", "émoji 📷.jpg").is_ok());
    }

    #[test]
    fn hostile_paths_are_refused() {
        let r = |d: &str, p: &str| components(d, p).unwrap_err();
        assert_eq!(r("D", "../x"), Refusal::DotDot);
        assert_eq!(r("D", "a/../../x"), Refusal::DotDot);
        assert_eq!(r("D", "a/./x"), Refusal::Dot);
        assert_eq!(r("D", "/etc/passwd"), Refusal::Absolute);
        assert_eq!(r("D", "a//b"), Refusal::EmptyComponent);
        assert_eq!(r("D", "a/"), Refusal::EmptyComponent);
        assert_eq!(r("D", "a\0b"), Refusal::Nul);
        assert_eq!(r("D", "a\nb"), Refusal::Control(10));
        assert_eq!(r("D", "a\u{7f}"), Refusal::Control(0x7f));
        assert_eq!(r("D", "a\\..\\b"), Refusal::Separator('\\'));
        assert_eq!(r("D", "C:x"), Refusal::Separator(':'));
        assert_eq!(r("", "x"), Refusal::EmptyDomain);
        assert_eq!(r("..", "x"), Refusal::DotDot);
        assert_eq!(r("A/B", "x"), Refusal::Separator('/'));
        let long = "x".repeat(256);
        assert_eq!(r("D", &long), Refusal::TooLong(256));
        assert!(components("D", &"x".repeat(255)).is_ok());
        // 86 three-byte characters are 258 bytes.
        assert_eq!(r("D", &"€".repeat(86)), Refusal::TooLong(258));
    }

    #[test]
    fn link_targets_resolve_lexically() {
        let link = ["Cam", "Media", "PhotoData", "Thumbnails"];
        assert_eq!(
            resolve_link(&link, &mut |_| false, "../PhotoData/Caches/Thumbs").unwrap(),
            vec!["Cam", "Media", "PhotoData", "Caches", "Thumbs"]
        );
        assert_eq!(
            resolve_link(&link, &mut |_| false, "./x/./y").unwrap(),
            vec!["Cam", "Media", "PhotoData", "x", "y"]
        );
        // Up to the export root is inside; one more is outside.
        assert_eq!(
            resolve_link(&link, &mut |_| false, "../../..").unwrap(),
            Vec::<String>::new()
        );
        assert_eq!(
            resolve_link(&link, &mut |_| false, "../../../.."),
            Err(Refusal::LinkEscapes("../../../..".into()))
        );
        assert_eq!(
            resolve_link(&link, &mut |_| false, "/etc/passwd"),
            Err(Refusal::LinkAbsolute("/etc/passwd".into()))
        );
        assert_eq!(
            resolve_link(&link, &mut |_| false, ""),
            Err(Refusal::LinkNoTarget)
        );
        assert_eq!(
            resolve_link(&link, &mut |_| false, "a\\b"),
            Err(Refusal::LinkBadTarget("a\\b".into()))
        );
        // Passing through a link is refused; ending on one is not.
        let mut is_link = |p: &[String]| p.last().is_some_and(|c| c == "l");
        assert_eq!(
            resolve_link(&link, &mut is_link, "l/../../../.."),
            Err(Refusal::LinkThroughLink("l/../../../..".into()))
        );
        assert_eq!(
            resolve_link(&link, &mut is_link, "../l"),
            Ok(vec!["Cam".to_string(), "Media".into(), "l".into()])
        );
    }

    #[test]
    fn codes_are_distinct() {
        let all = [
            Refusal::EmptyDomain,
            Refusal::Absolute,
            Refusal::EmptyComponent,
            Refusal::Dot,
            Refusal::DotDot,
            Refusal::Nul,
            Refusal::Control(1),
            Refusal::Separator(':'),
            Refusal::TooLong(300),
            Refusal::EmptyPath,
            Refusal::Duplicate,
            Refusal::CaseCollision(String::new()),
            Refusal::KindConflict(String::new()),
            Refusal::UnsupportedKind("other"),
            Refusal::LinkAbsolute(String::new()),
            Refusal::LinkEscapes(String::new()),
            Refusal::LinkThroughLink(String::new()),
            Refusal::LinkNoTarget,
            Refusal::LinkBadTarget(String::new()),
            Refusal::Obstructed(String::new()),
        ];
        let codes: std::collections::HashSet<_> = all.iter().map(|r| r.code()).collect();
        assert_eq!(codes.len(), all.len());
    }
}
