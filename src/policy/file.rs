//! The policy file (TOML, `schema = 1`): strict parsing into a checked, compiled [`Policy`].
//!
//! Unknown keys, wrong types, bad globs, bad regexes and bad values are errors naming the
//! file, line and column and what was expected (docs/policy.md has the format).

use super::model::*;
use crate::audit::Severity;
use crate::crypto::ProtectionClass;
use serde::Deserialize;
use std::ops::Range;
use std::path::{Path, PathBuf};
use toml::Spanned;

/// Policy schema versions this build understands.
pub const SUPPORTED_SCHEMA: i64 = 1;
/// Largest policy file read.
pub const MAX_POLICY_BYTES: u64 = 4 << 20;
/// Largest canary file (`literals_file` / `regexes_file`) read.
pub const MAX_CANARY_FILE_BYTES: u64 = 1 << 20;
/// Most patterns in one canary file.
pub const MAX_CANARY_PATTERNS: usize = 10_000;
/// Longest canary literal (bytes).
pub const MAX_LITERAL_LEN: usize = 4096;
/// Compiled size limit of one regex (bytes of the regex engine's program).
pub const REGEX_SIZE_LIMIT: usize = 1 << 20;
/// Compiled size limit of one app's canary set.
pub const REGEX_SET_SIZE_LIMIT: usize = 256 << 20;

/// Why a policy file was refused. Every variant maps to exit code 2.
#[derive(Debug, thiserror::Error)]
pub enum PolicyError {
    /// The file parses badly or holds a bad value: where and what was expected.
    #[error("{}:{line}:{col}: {message}", file.display())]
    Invalid {
        file: PathBuf,
        line: usize,
        col: usize,
        message: String,
    },
    /// The file (or a canary file it names) cannot be read.
    #[error("{}: {message}", file.display())]
    Unreadable { file: PathBuf, message: String },
}

/// 1-based line and column (in characters) of byte `offset` of `text`.
pub fn line_col(text: &str, offset: usize) -> (usize, usize) {
    let offset = offset.min(text.len());
    // Back off to a char boundary.
    let mut o = offset;
    while o > 0 && !text.is_char_boundary(o) {
        o -= 1;
    }
    let before = &text[..o];
    let line = before.bytes().filter(|b| *b == b'\n').count() + 1;
    let line_start = before.rfind('\n').map_or(0, |i| i + 1);
    let col = before[line_start..].chars().count() + 1;
    (line, col)
}

// ---------------------------------------------------------------------------------------
// Raw serde model (what the TOML holds).

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawPolicy {
    schema: Spanned<i64>,
    #[serde(default)]
    backup: Option<RawBackup>,
    #[serde(default)]
    app: Vec<Spanned<RawApp>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawBackup {
    #[serde(default)]
    encrypted: Option<Spanned<bool>>,
    #[serde(default)]
    min_kdf_rounds: Option<Spanned<i64>>,
    #[serde(default)]
    complete: Option<Spanned<bool>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawApp {
    bundle_id: Spanned<String>,
    #[serde(default)]
    required: Option<bool>,
    #[serde(default)]
    must_not_back_up: Vec<Spanned<String>>,
    #[serde(default)]
    must_back_up: Vec<Spanned<String>>,
    #[serde(default)]
    min_protection: Vec<Spanned<RawMinProtection>>,
    #[serde(default)]
    keychain: Vec<Spanned<RawKeychain>>,
    #[serde(default)]
    canary: Vec<Spanned<RawCanary>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawMinProtection {
    glob: Spanned<String>,
    class: Spanned<RawClass>,
    #[serde(default)]
    severity: Option<Spanned<String>>,
}

/// A protection class as written: a number or a name.
#[derive(Clone)]
enum RawClass {
    Number(i64),
    Name(String),
}

impl<'de> Deserialize<'de> for RawClass {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl serde::de::Visitor<'_> for V {
            type Value = RawClass;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str(CLASS_EXPECTED)
            }
            fn visit_i64<E: serde::de::Error>(self, v: i64) -> Result<RawClass, E> {
                Ok(RawClass::Number(v))
            }
            fn visit_u64<E: serde::de::Error>(self, v: u64) -> Result<RawClass, E> {
                Ok(RawClass::Number(i64::try_from(v).unwrap_or(i64::MAX)))
            }
            fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<RawClass, E> {
                Ok(RawClass::Name(v.to_string()))
            }
        }
        d.deserialize_any(V)
    }
}

const CLASS_EXPECTED: &str = "a file protection class: 1 (complete), 2 (complete_unless_open), \
3 (complete_until_first_user_authentication) or 4 (none), as a number or a name";

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawKeychain {
    #[serde(default)]
    service: Option<String>,
    #[serde(default)]
    account: Option<String>,
    #[serde(default)]
    server: Option<String>,
    #[serde(default)]
    access_group: Option<String>,
    #[serde(default)]
    label: Option<String>,
    #[serde(default)]
    table: Option<Spanned<String>>,
    expect: Spanned<String>,
    #[serde(default)]
    severity: Option<Spanned<String>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawCanary {
    #[serde(default)]
    name: Option<String>,
    #[serde(default)]
    literal: Option<Spanned<String>>,
    #[serde(default)]
    regex: Option<Spanned<String>>,
    #[serde(default)]
    literals_file: Option<Spanned<String>>,
    #[serde(default)]
    regexes_file: Option<Spanned<String>>,
    #[serde(default)]
    ignore_case: bool,
    #[serde(default = "yes")]
    in_files: bool,
    #[serde(default = "yes")]
    in_keychain: bool,
    #[serde(default)]
    severity: Option<Spanned<String>>,
}

/// Serde default `true`.
fn yes() -> bool {
    true
}

// ---------------------------------------------------------------------------------------
// Parsing and compiling.

/// The policy file being compiled: its path and text (for origins and error places).
struct PolicySource<'a> {
    file: &'a Path,
    text: &'a str,
}

impl PolicySource<'_> {
    /// Where byte range `span` starts, as an origin.
    fn origin(&self, span: Range<usize>) -> Origin {
        let (line, col) = line_col(self.text, span.start);
        Origin { line, col }
    }
    /// An error at the start of `span`.
    fn err(&self, span: Range<usize>, message: impl Into<String>) -> PolicyError {
        let (line, col) = line_col(self.text, span.start);
        PolicyError::Invalid {
            file: self.file.to_path_buf(),
            line,
            col,
            message: message.into(),
        }
    }
    /// A severity given as text, or `default` when none is.
    fn severity(
        &self,
        s: &Option<Spanned<String>>,
        default: Severity,
    ) -> Result<Severity, PolicyError> {
        match s {
            None => Ok(default),
            Some(s) => s.get_ref().parse::<Severity>().map_err(|_| {
                self.err(
                    s.span(),
                    format!(
                        "invalid severity {:?}: expected one of \"info\", \"low\", \"medium\", \"high\"",
                        s.get_ref()
                    ),
                )
            }),
        }
    }
}

/// Read and compile a policy file.
pub fn load(path: &Path) -> Result<Policy, PolicyError> {
    let unreadable = |message: String| PolicyError::Unreadable {
        file: path.to_path_buf(),
        message,
    };
    let md = std::fs::metadata(path).map_err(|e| unreadable(format!("cannot read: {e}")))?;
    if !md.is_file() {
        return Err(unreadable("not a regular file".into()));
    }
    if md.len() > MAX_POLICY_BYTES {
        return Err(unreadable(format!(
            "{} bytes, over the {MAX_POLICY_BYTES}-byte limit for a policy file",
            md.len()
        )));
    }
    let bytes = std::fs::read(path).map_err(|e| unreadable(format!("cannot read: {e}")))?;
    let text = String::from_utf8(bytes).map_err(|e| {
        let (line, col) = {
            let good = &e.as_bytes()[..e.utf8_error().valid_up_to()];
            let s = std::str::from_utf8(good).unwrap_or("");
            line_col(s, s.len())
        };
        PolicyError::Invalid {
            file: path.to_path_buf(),
            line,
            col,
            message: "the file is not UTF-8 text (TOML must be UTF-8)".into(),
        }
    })?;
    parse(&text, path)
}

/// Compile policy `text` read from `path` (used for messages and to resolve canary files).
pub fn parse(text: &str, path: &Path) -> Result<Policy, PolicyError> {
    let source = PolicySource { file: path, text };
    let raw: RawPolicy = toml::from_str(text).map_err(|e| {
        let span = e.span().unwrap_or(0..0);
        source.err(span, e.message().trim_end().to_string())
    })?;
    if *raw.schema.get_ref() != SUPPORTED_SCHEMA {
        return Err(source.err(
            raw.schema.span(),
            format!(
                "unsupported policy schema {}: this auditor understands schema = {SUPPORTED_SCHEMA}",
                raw.schema.get_ref()
            ),
        ));
    }
    let backup = compile_backup(&source, raw.backup)?;
    let mut apps: Vec<AppPolicy> = Vec::new();
    for a in raw.app {
        let span = a.span();
        let app = compile_app(&source, span.clone(), a.into_inner())?;
        if apps.iter().any(|x| x.bundle_id == app.bundle_id) {
            return Err(source.err(
                span,
                format!(
                    "app {:?} is listed twice: merge its [[app]] tables",
                    app.bundle_id
                ),
            ));
        }
        apps.push(app);
    }
    Ok(Policy {
        path: path.to_path_buf(),
        schema: SUPPORTED_SCHEMA as u32,
        backup,
        apps,
    })
}

/// Compile `[backup]`.
fn compile_backup(
    source: &PolicySource<'_>,
    raw: Option<RawBackup>,
) -> Result<BackupPolicy, PolicyError> {
    let Some(b) = raw else {
        return Ok(BackupPolicy::default());
    };
    let min_kdf_rounds = match b.min_kdf_rounds {
        None => None,
        Some(r) => {
            let v = *r.get_ref();
            let v = u32::try_from(v).ok().filter(|v| *v >= 1).ok_or_else(|| {
                source.err(
                    r.span(),
                    format!(
                        "min_kdf_rounds = {v}: expected a number of PBKDF2-SHA256 rounds from 1 to {}",
                        u32::MAX
                    ),
                )
            })?;
            Some(Expect {
                value: v,
                origin: source.origin(r.span()),
            })
        }
    };
    if let Some(c) = &b.complete {
        if !*c.get_ref() {
            return Err(source.err(
                c.span(),
                "complete = false is not an expectation: write complete = true or remove the key",
            ));
        }
    }
    Ok(BackupPolicy {
        encrypted: b.encrypted.map(|e| Expect {
            value: *e.get_ref(),
            origin: source.origin(e.span()),
        }),
        min_kdf_rounds,
        complete: b.complete.map(|e| Expect {
            value: *e.get_ref(),
            origin: source.origin(e.span()),
        }),
    })
}

/// Compile a path glob (relative path inside an app's domains).
fn compile_glob(source: &PolicySource<'_>, s: &Spanned<String>) -> Result<PathGlob, PolicyError> {
    let pat = s.get_ref();
    if pat.is_empty() {
        return Err(source.err(
            s.span(),
            "empty glob: expected a path pattern such as \"Documents/**\"",
        ));
    }
    if pat.starts_with('/') {
        return Err(source.err(
            s.span(),
            format!(
                "glob {pat:?} starts with '/': globs match the relative path inside the app's domains (e.g. \"Library/Caches/**\")"
            ),
        ));
    }
    let glob = globset::GlobBuilder::new(pat)
        .literal_separator(true)
        .backslash_escape(true)
        .build()
        .map_err(|e| source.err(s.span(), format!("bad glob {pat:?}: {}", e.kind())))?;
    Ok(PathGlob {
        pattern: pat.clone(),
        matcher: glob.compile_matcher(),
        origin: source.origin(s.span()),
    })
}

/// Compile a protection class, by number or by policy name, to its number.
fn compile_class(source: &PolicySource<'_>, c: &Spanned<RawClass>) -> Result<u32, PolicyError> {
    match c.get_ref() {
        RawClass::Number(n) => ProtectionClass::policy_file_class(*n)
            .map(ProtectionClass::number)
            .ok_or_else(|| {
                source.err(
                    c.span(),
                    format!("protection class {n} is out of range: expected {CLASS_EXPECTED}"),
                )
            }),
        RawClass::Name(s) => ProtectionClass::from_policy_name(s)
            .map(ProtectionClass::number)
            .ok_or_else(|| {
                source.err(
                    c.span(),
                    format!("unknown protection class {s:?}: expected {CLASS_EXPECTED}"),
                )
            }),
    }
}

/// Compile one `[[app]]` (`span`: where it is written).
fn compile_app(
    source: &PolicySource<'_>,
    span: Range<usize>,
    a: RawApp,
) -> Result<AppPolicy, PolicyError> {
    let bundle_id = a.bundle_id.get_ref().trim().to_string();
    if bundle_id.is_empty()
        || bundle_id.contains('/')
        || bundle_id
            .chars()
            .any(|c| c.is_whitespace() || c.is_control())
    {
        return Err(source.err(
            a.bundle_id.span(),
            format!(
                "bad bundle_id {:?}: expected an app's bundle identifier such as \"com.example.app\"",
                a.bundle_id.get_ref()
            ),
        ));
    }
    let mut must_not_back_up = Vec::new();
    for g in &a.must_not_back_up {
        must_not_back_up.push(compile_glob(source, g)?);
    }
    let mut must_back_up = Vec::new();
    for g in &a.must_back_up {
        must_back_up.push(compile_glob(source, g)?);
    }
    let mut min_protection = Vec::new();
    for m in &a.min_protection {
        let r = m.get_ref();
        min_protection.push(MinProtection {
            glob: compile_glob(source, &r.glob)?,
            class: compile_class(source, &r.class)?,
            severity: source.severity(&r.severity, super::rules::MIN_PROTECTION.severity)?,
            origin: source.origin(m.span()),
        });
    }
    let mut keychain = Vec::new();
    for k in &a.keychain {
        keychain.push(compile_keychain(source, k)?);
    }
    let mut canaries = Vec::new();
    for (i, c) in a.canary.iter().enumerate() {
        canaries.push(compile_canary(source, i, c)?);
    }
    let file_canaries = canary_set(source, span.clone(), &canaries, |c| c.in_files)?;
    let keychain_canaries = canary_set(source, span.clone(), &canaries, |c| c.in_keychain)?;
    Ok(AppPolicy {
        bundle_id,
        required: a.required.unwrap_or(true),
        origin: source.origin(span),
        file_canaries,
        keychain_canaries,
        must_not_back_up,
        must_back_up,
        min_protection,
        keychain,
        canaries,
    })
}

/// Compile one `[[app.keychain]]`.
fn compile_keychain(
    source: &PolicySource<'_>,
    k: &Spanned<RawKeychain>,
) -> Result<KeychainExpectation, PolicyError> {
    let r = k.get_ref();
    let expect = match r.expect.get_ref().as_str() {
        "device-bound" => KeychainExpect::DeviceBound,
        "migratable" => KeychainExpect::Migratable,
        "absent" => KeychainExpect::Absent,
        other => {
            return Err(source.err(
                r.expect.span(),
                format!(
                    "unknown keychain expectation {other:?}: expected \"device-bound\", \"migratable\" or \"absent\""
                ),
            ))
        }
    };
    let table = match &r.table {
        None => None,
        Some(t) => match t.get_ref().as_str() {
            "genp" | "inet" | "cert" | "keys" => Some(t.get_ref().clone()),
            other => {
                return Err(source.err(
                    t.span(),
                    format!(
                        "unknown keychain table {other:?}: expected \"genp\", \"inet\", \"cert\" or \"keys\""
                    ),
                ))
            }
        },
    };
    let selector = KeychainSelector {
        service: r.service.clone(),
        account: r.account.clone(),
        server: r.server.clone(),
        access_group: r.access_group.clone(),
        label: r.label.clone(),
        table,
    };
    if selector.is_empty() {
        return Err(source.err(
            k.span(),
            "a keychain expectation needs at least one of service, account, server, access_group or label to select items",
        ));
    }
    let default = match expect {
        KeychainExpect::DeviceBound => super::rules::KEYCHAIN_DEVICE_BOUND.severity,
        KeychainExpect::Migratable => super::rules::KEYCHAIN_MIGRATABLE.severity,
        KeychainExpect::Absent => super::rules::KEYCHAIN_ABSENT.severity,
    };
    Ok(KeychainExpectation {
        selector,
        expect,
        severity: source.severity(&r.severity, default)?,
        origin: source.origin(k.span()),
    })
}

/// Check one pattern and return its regex source (`(?i)` prefixed for ignore_case).
fn build_regex(pattern: &str, literal: bool, ignore_case: bool) -> Result<String, String> {
    let body = if literal {
        regex::escape(pattern)
    } else {
        pattern.to_string()
    };
    let src = if ignore_case {
        format!("(?i:{body})")
    } else {
        body
    };
    regex::bytes::RegexBuilder::new(&src)
        .size_limit(REGEX_SIZE_LIMIT)
        .build()
        .map_err(|e| e.to_string())?;
    Ok(src)
}

/// Build the per-app search set of the canaries `pick` selects.
fn canary_set(
    source: &PolicySource<'_>,
    origin_span: Range<usize>,
    canaries: &[Canary],
    pick: impl Fn(&Canary) -> bool,
) -> Result<Option<CanarySet>, PolicyError> {
    let mut sources = Vec::new();
    let mut owner = Vec::new();
    let mut overlap = 0usize;
    for (i, c) in canaries.iter().enumerate().filter(|(_, c)| pick(c)) {
        for p in &c.patterns {
            sources.push(p.source.as_str());
            owner.push(i);
            let w = match p.max_len {
                Some(n) => n.saturating_sub(1),
                None => super::canary::REGEX_WINDOW,
            };
            overlap = overlap.max(w);
        }
    }
    if sources.is_empty() {
        return Ok(None);
    }
    let set = regex::bytes::RegexSetBuilder::new(&sources)
        .size_limit(REGEX_SET_SIZE_LIMIT)
        .build()
        .map_err(|e| {
            source.err(
                origin_span,
                format!("the app's canaries together are too large to search: {e}"),
            )
        })?;
    Ok(Some(CanarySet {
        set,
        owner,
        overlap,
    }))
}

/// Compile one `[[app.canary]]` (`index`: its place, which names an unnamed canary).
fn compile_canary(
    source: &PolicySource<'_>,
    index: usize,
    c: &Spanned<RawCanary>,
) -> Result<Canary, PolicyError> {
    let r = c.get_ref();
    let given = [
        r.literal.is_some(),
        r.regex.is_some(),
        r.literals_file.is_some(),
        r.regexes_file.is_some(),
    ]
    .iter()
    .filter(|x| **x)
    .count();
    if given != 1 {
        return Err(source.err(
            c.span(),
            format!(
                "a canary needs exactly one of literal, regex, literals_file or regexes_file ({given} given)"
            ),
        ));
    }
    if !r.in_files && !r.in_keychain {
        return Err(source.err(
            c.span(),
            "in_files and in_keychain are both false: the canary would search nothing",
        ));
    }
    let mut patterns = Vec::new();
    let check_literal = |s: &Spanned<String>, v: &str| -> Result<(), PolicyError> {
        if v.is_empty() || v.len() > MAX_LITERAL_LEN {
            return Err(source.err(
                s.span(),
                format!(
                    "a canary literal must be 1 to {MAX_LITERAL_LEN} bytes long (this one is {})",
                    v.len()
                ),
            ));
        }
        Ok(())
    };
    if let Some(l) = &r.literal {
        check_literal(l, l.get_ref())?;
        let re = build_regex(l.get_ref(), true, r.ignore_case)
            .map_err(|e| source.err(l.span(), format!("canary literal: {e}")))?;
        patterns.push(Pattern {
            source: re,
            max_len: Some(l.get_ref().len()),
        });
    }
    if let Some(x) = &r.regex {
        let re = build_regex(x.get_ref(), false, r.ignore_case).map_err(|e| {
            source.err(
                x.span(),
                format!("bad canary regex (Rust regex syntax expected): {e}"),
            )
        })?;
        patterns.push(Pattern {
            source: re,
            max_len: None,
        });
    }
    for (f, literal) in [(&r.literals_file, true), (&r.regexes_file, false)] {
        if let Some(f) = f {
            patterns_from_file(source, f, literal, r.ignore_case, &mut patterns)?;
        }
    }
    Ok(Canary {
        name: r.name.clone().unwrap_or_else(|| format!("#{}", index + 1)),
        patterns,
        in_files: r.in_files,
        in_keychain: r.in_keychain,
        severity: source.severity(&r.severity, super::rules::CANARY.severity)?,
        origin: source.origin(c.span()),
    })
}

/// Add the patterns of canary file `f` (one literal or regex a line, empty lines skipped;
/// a path relative to the policy file) to `patterns`.
fn patterns_from_file(
    source: &PolicySource<'_>,
    f: &Spanned<String>,
    literal: bool,
    ignore_case: bool,
    patterns: &mut Vec<Pattern>,
) -> Result<(), PolicyError> {
    let path = source
        .file
        .parent()
        .unwrap_or(Path::new("."))
        .join(f.get_ref());
    let text = read_canary_file(&path).map_err(|e| source.err(f.span(), e))?;
    for (n, line) in text.lines().enumerate() {
        let line = line.strip_suffix('\r').unwrap_or(line);
        if line.is_empty() {
            continue;
        }
        let at_line = |m: String| PolicyError::Invalid {
            file: path.clone(),
            line: n + 1,
            col: 1,
            message: m,
        };
        if literal && line.len() > MAX_LITERAL_LEN {
            return Err(at_line(format!(
                "a canary literal must be at most {MAX_LITERAL_LEN} bytes long"
            )));
        }
        let re = build_regex(line, literal, ignore_case).map_err(|e| {
            at_line(if literal {
                format!("canary literal: {e}")
            } else {
                format!("bad canary regex (Rust regex syntax expected): {e}")
            })
        })?;
        patterns.push(Pattern {
            source: re,
            max_len: literal.then_some(line.len()),
        });
        if patterns.len() > MAX_CANARY_PATTERNS {
            return Err(at_line(format!(
                "more than {MAX_CANARY_PATTERNS} patterns in one canary file"
            )));
        }
    }
    if patterns.is_empty() {
        return Err(source.err(
            f.span(),
            format!("{} holds no pattern (only empty lines)", path.display()),
        ));
    }
    Ok(())
}

/// Read a canary file: a regular UTF-8 file of at most `MAX_CANARY_FILE_BYTES`.
fn read_canary_file(path: &Path) -> Result<String, String> {
    let md = std::fs::metadata(path)
        .map_err(|e| format!("cannot read canary file {}: {e}", path.display()))?;
    if !md.is_file() || md.len() > MAX_CANARY_FILE_BYTES {
        return Err(format!(
            "canary file {} must be a regular file of at most {MAX_CANARY_FILE_BYTES} bytes",
            path.display()
        ));
    }
    let bytes = std::fs::read(path)
        .map_err(|e| format!("cannot read canary file {}: {e}", path.display()))?;
    String::from_utf8(bytes)
        .map_err(|_| format!("canary file {} is not UTF-8 text", path.display()))
}
