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
    #[serde(default)]
    leak_rule: Vec<Spanned<RawLeakRule>>,
    #[serde(default)]
    lock: Option<Spanned<RawTopLock>>,
}

/// `[lock]` (written by `policy init --lock`).
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawTopLock {
    #[serde(default)]
    sealed: Vec<Spanned<RawSealed>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawSealed {
    table: String,
    #[serde(default)]
    class: Option<Spanned<i64>>,
    count: Spanned<i64>,
}

/// `[app.lock]` (written by `policy init --lock`).
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawAppLock {
    #[serde(default)]
    files: Vec<Spanned<RawLockedFiles>>,
    #[serde(default)]
    keychain: Vec<Spanned<RawLockedItem>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawLockedFiles {
    glob: Spanned<String>,
    #[serde(default)]
    class: Option<Spanned<RawClass>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawLockedItem {
    table: Spanned<String>,
    #[serde(default)]
    service: Option<String>,
    #[serde(default)]
    account: Option<String>,
    #[serde(default)]
    server: Option<String>,
    #[serde(default)]
    access_group: Option<String>,
    #[serde(default)]
    restore: Option<Spanned<String>>,
    #[serde(default)]
    new_device: Option<Spanned<String>>,
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
    #[serde(default)]
    leaks: Option<Spanned<RawLeaks>>,
    #[serde(default)]
    lock: Option<Spanned<RawAppLock>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawLeaks {
    #[serde(default)]
    forbid: Option<Spanned<Vec<Spanned<String>>>>,
    #[serde(default)]
    allow: Vec<Spanned<RawAllow>>,
    #[serde(default)]
    severity: Option<Spanned<String>>,
    #[serde(default)]
    max_file_size: Option<Spanned<i64>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawAllow {
    #[serde(default)]
    fingerprint: Option<Spanned<String>>,
    #[serde(default)]
    path: Option<Spanned<String>>,
    #[serde(default)]
    rule: Option<Spanned<String>>,
    /// Why it is allowed (for the reader of the policy; not used).
    #[serde(default)]
    #[allow(dead_code)]
    reason: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawLeakRule {
    id: Spanned<String>,
    category: Spanned<String>,
    pattern: Spanned<String>,
    #[serde(default)]
    confidence: Option<Spanned<String>>,
    #[serde(default)]
    title: Option<String>,
    #[serde(default)]
    fix: Option<String>,
    examples: Spanned<Vec<Spanned<String>>>,
    non_examples: Spanned<Vec<Spanned<String>>>,
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
    let (leak_rules, user_rules) = compile_leak_rules(&source, &raw.leak_rule)?;
    let known_rule = |id: &str| {
        leak_rules
            .as_ref()
            .unwrap_or_else(|| crate::leaks::builtin())
            .get(id)
            .is_some()
    };
    let mut apps: Vec<AppPolicy> = Vec::new();
    for a in raw.app {
        let span = a.span();
        let app = compile_app(&source, span.clone(), a.into_inner(), &known_rule)?;
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
    let lock = match &raw.lock {
        Some(l) => Some(compile_top_lock(&source, l)?),
        None => None,
    };
    Ok(Policy {
        path: path.to_path_buf(),
        schema: SUPPORTED_SCHEMA as u32,
        backup,
        apps,
        leak_rules,
        user_rules,
        lock,
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

/// The `restore` words a lock pins.
const RESTORE_WORDS: [&str; 4] = ["never", "same_device_only", "any_device", "unknown"];

/// Compile `[lock]`.
fn compile_top_lock(
    source: &PolicySource<'_>,
    l: &Spanned<RawTopLock>,
) -> Result<SealedLock, PolicyError> {
    let mut sealed = Vec::new();
    for e in &l.get_ref().sealed {
        let r = e.get_ref();
        let class = match &r.class {
            None => None,
            Some(c) => Some(
                u32::try_from(*c.get_ref())
                    .ok()
                    .filter(|c| *c <= 31)
                    .ok_or_else(|| {
                        source.err(
                            c.span(),
                            format!("class = {}: expected a keychain class 0-31", c.get_ref()),
                        )
                    })?,
            ),
        };
        let count = u64::try_from(*r.count.get_ref()).map_err(|_| {
            source.err(
                r.count.span(),
                format!(
                    "count = {}: expected a number of items, 0 or more",
                    r.count.get_ref()
                ),
            )
        })?;
        sealed.push(SealedCount {
            table: r.table.clone(),
            class,
            count,
        });
    }
    Ok(SealedLock {
        sealed,
        origin: source.origin(l.span()),
    })
}

/// Compile `[app.lock]`.
fn compile_app_lock(
    source: &PolicySource<'_>,
    l: &Spanned<RawAppLock>,
) -> Result<AppLock, PolicyError> {
    let raw = l.get_ref();
    let mut files = Vec::new();
    for f in &raw.files {
        let r = f.get_ref();
        files.push(LockedFiles {
            glob: compile_glob(source, &r.glob)?,
            class: match &r.class {
                Some(c) => Some(compile_class(source, c)?),
                None => None,
            },
        });
    }
    let mut keychain = Vec::new();
    for k in &raw.keychain {
        let r = k.get_ref();
        if let Some(w) = &r.restore {
            if !RESTORE_WORDS.contains(&w.get_ref().as_str()) {
                return Err(source.err(
                    w.span(),
                    format!(
                        "restore = {:?}: expected one of \"never\", \"same_device_only\", \"any_device\", \"unknown\"",
                        w.get_ref()
                    ),
                ));
            }
        }
        if let Some(n) = &r.new_device {
            let ok = n.get_ref().len() == 4
                && n.get_ref()
                    .chars()
                    .zip("euck".chars())
                    .all(|(c, l)| c == l || c == '-' || c == '?');
            if !ok {
                return Err(source.err(
                    n.span(),
                    format!(
                        "new_device = {:?}: expected four letters, one per route: e or -, u or -, c or -, k or - (? unknown), e.g. \"e---\"",
                        n.get_ref()
                    ),
                ));
            }
        }
        keychain.push(LockedItem {
            table: r.table.get_ref().clone(),
            service: r.service.clone(),
            account: r.account.clone(),
            server: r.server.clone(),
            access_group: r.access_group.clone(),
            restore: r.restore.as_ref().map(|w| w.get_ref().clone()),
            new_device: r.new_device.as_ref().map(|w| w.get_ref().clone()),
        });
    }
    Ok(AppLock {
        files,
        keychain,
        origin: source.origin(l.span()),
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
    known_rule: &dyn Fn(&str) -> bool,
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
    let leaks = match &a.leaks {
        Some(l) => Some(compile_leaks(source, l, known_rule)?),
        None => None,
    };
    let lock = match &a.lock {
        Some(l) => Some(compile_app_lock(source, l)?),
        None => None,
    };
    Ok(AppPolicy {
        leaks,
        lock,
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

// ---------------------------------------------------------------------------------------
// Leak expectations (`[app.leaks]`) and the policy's own leak rules (`[[leak_rule]]`).

/// The categories `forbid` names when it is not given: the secrets (not `personal`).
pub const DEFAULT_FORBID: [crate::leaks::Category; 3] = [
    crate::leaks::Category::Credential,
    crate::leaks::Category::Token,
    crate::leaks::Category::PrivateKey,
];

/// Prefix of the ids of a policy's own leak rules (built-in ones start with `leak.`).
pub const USER_RULE_PREFIX: &str = "user.";

/// A leak category by its name.
fn category_of(name: &str) -> Option<crate::leaks::Category> {
    use crate::leaks::Category as C;
    [C::Credential, C::Token, C::PrivateKey, C::Personal]
        .into_iter()
        .find(|c| category_name(*c) == name)
}

const CATEGORY_EXPECTED: &str = "\"credential\", \"token\", \"private_key\" or \"personal\"";

/// Compile one `[app.leaks]` (`known_rule`: is this a leak rule id of the policy's rules?).
fn compile_leaks(
    source: &PolicySource<'_>,
    l: &Spanned<RawLeaks>,
    known_rule: &dyn Fn(&str) -> bool,
) -> Result<LeakExpectation, PolicyError> {
    let r = l.get_ref();
    let forbid = match &r.forbid {
        None => DEFAULT_FORBID
            .iter()
            .map(|c| Forbid::Category(*c))
            .collect(),
        Some(list) => {
            if list.get_ref().is_empty() {
                return Err(source.err(
                    list.span(),
                    format!(
                        "forbid is empty: name categories ({CATEGORY_EXPECTED}) or leak rule ids, or remove the key for the default [\"credential\", \"token\", \"private_key\"]"
                    ),
                ));
            }
            let mut out = Vec::new();
            for f in list.get_ref() {
                let name = f.get_ref().as_str();
                let entry = if let Some(c) = category_of(name) {
                    Forbid::Category(c)
                } else if known_rule(name) {
                    Forbid::Rule(name.to_string())
                } else {
                    return Err(source.err(
                        f.span(),
                        format!(
                            "unknown leak category or rule {name:?}: expected a category ({CATEGORY_EXPECTED}), a built-in rule id (`leak.*`, docs/rules.md) or the id of a [[leak_rule]] of this policy (`user.*`)"
                        ),
                    ));
                };
                if !out.contains(&entry) {
                    out.push(entry);
                }
            }
            out
        }
    };
    let mut allow = Vec::new();
    for a in &r.allow {
        let x = a.get_ref();
        if x.fingerprint.is_none() && x.path.is_none() && x.rule.is_none() {
            return Err(source.err(
                a.span(),
                "an allow entry needs at least one of fingerprint, path or rule",
            ));
        }
        let fingerprint = match &x.fingerprint {
            None => None,
            Some(f) => {
                let v = f.get_ref().to_ascii_lowercase();
                if v.len() != 16 || !v.bytes().all(|b| b.is_ascii_hexdigit()) {
                    return Err(source.err(
                        f.span(),
                        format!(
                            "bad fingerprint {:?}: expected the 16 hex digits of a leak's `fingerprint` (check --format json)",
                            f.get_ref()
                        ),
                    ));
                }
                Some(v)
            }
        };
        let rule = match &x.rule {
            None => None,
            Some(id) if known_rule(id.get_ref()) => Some(id.get_ref().clone()),
            Some(id) => {
                return Err(source.err(
                    id.span(),
                    format!(
                        "unknown leak rule {:?}: expected a built-in rule id (`leak.*`, docs/rules.md) or the id of a [[leak_rule]] of this policy",
                        id.get_ref()
                    ),
                ))
            }
        };
        let path = x
            .path
            .as_ref()
            .map(|p| compile_glob(source, p))
            .transpose()?;
        allow.push(LeakAllow {
            fingerprint,
            path,
            rule,
            origin: source.origin(a.span()),
        });
    }
    let severity = match &r.severity {
        None => None,
        Some(_) => Some(source.severity(&r.severity, super::rules::LEAK.severity)?),
    };
    let max_file_size = match &r.max_file_size {
        None => crate::leaks::sweep::DEFAULT_MAX_FILE_SIZE,
        Some(m) => u64::try_from(*m.get_ref())
            .ok()
            .filter(|v| *v >= 1)
            .ok_or_else(|| {
                source.err(
                    m.span(),
                    format!(
                        "max_file_size = {}: expected a number of bytes, at least 1",
                        m.get_ref()
                    ),
                )
            })?,
    };
    Ok(LeakExpectation {
        forbid,
        allow,
        severity,
        max_file_size,
        origin: source.origin(l.span()),
    })
}

/// A user rule as `Rules::parse` reads it (the `rules.toml` format).
#[derive(serde::Serialize)]
struct GenRule {
    id: String,
    category: crate::leaks::Category,
    confidence: crate::leaks::Confidence,
    title: String,
    why: String,
    fix: String,
    pattern: String,
    examples: Vec<String>,
    non_examples: Vec<String>,
}

#[derive(serde::Serialize)]
struct GenRules {
    rule: Vec<GenRule>,
}

/// Compile the policy's `[[leak_rule]]`s: each checked (id, category, regex, examples that
/// fire and near misses that do not), then added to the built-in rules. None when there
/// are none; also the user rules' ids.
fn compile_leak_rules(
    source: &PolicySource<'_>,
    raw: &[Spanned<RawLeakRule>],
) -> Result<(Option<crate::leaks::Rules>, Vec<String>), PolicyError> {
    use crate::leaks::{Confidence, Rules};
    if raw.is_empty() {
        return Ok((None, Vec::new()));
    }
    let mut gen = Vec::new();
    let mut ids: Vec<String> = Vec::new();
    for r in raw {
        let x = r.get_ref();
        let id = x.id.get_ref();
        let rest = id.strip_prefix(USER_RULE_PREFIX).unwrap_or("");
        if rest.is_empty()
            || !rest.starts_with(|c: char| c.is_ascii_lowercase() || c.is_ascii_digit())
            || !rest
                .chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || "._-".contains(c))
        {
            return Err(source.err(
                x.id.span(),
                format!(
                    "bad leak rule id {id:?}: expected `{USER_RULE_PREFIX}` then lower-case letters, digits, '.', '_' or '-' (e.g. \"user.internal-api-key\"; `leak.*` ids are the built-in rules')"
                ),
            ));
        }
        if ids.contains(id) {
            return Err(source.err(x.id.span(), format!("leak rule {id:?} is defined twice")));
        }
        let category = category_of(x.category.get_ref()).ok_or_else(|| {
            source.err(
                x.category.span(),
                format!(
                    "unknown leak category {:?}: expected {CATEGORY_EXPECTED}",
                    x.category.get_ref()
                ),
            )
        })?;
        let confidence = match x.confidence.as_ref().map(|c| (c, c.get_ref().as_str())) {
            None => Confidence::High,
            Some((_, "high")) => Confidence::High,
            Some((_, "medium")) => Confidence::Medium,
            Some((_, "low")) => Confidence::Low,
            Some((c, other)) => {
                return Err(source.err(
                    c.span(),
                    format!(
                        "unknown confidence {other:?}: expected \"high\", \"medium\" or \"low\""
                    ),
                ))
            }
        };
        let pattern = x.pattern.get_ref();
        let re = regex::bytes::RegexBuilder::new(pattern)
            .size_limit(REGEX_SIZE_LIMIT)
            .build()
            .map_err(|e| {
                source.err(
                    x.pattern.span(),
                    format!("bad leak rule pattern (Rust regex syntax expected): {e}"),
                )
            })?;
        if re.is_match(b"") {
            return Err(source.err(
                x.pattern.span(),
                "the leak rule pattern matches the empty string: it would match everywhere",
            ));
        }
        for (list, what) in [(&x.examples, "examples"), (&x.non_examples, "non_examples")] {
            if list.get_ref().is_empty() {
                return Err(source.err(
                    list.span(),
                    format!(
                        "{what} is empty: a leak rule needs at least one example that must match and one near miss that must not"
                    ),
                ));
            }
        }
        let text = |l: &Spanned<Vec<Spanned<String>>>| -> Vec<String> {
            l.get_ref().iter().map(|e| e.get_ref().clone()).collect()
        };
        gen.push(GenRule {
            id: format!("leak.{id}"),
            category,
            confidence,
            title: x.title.clone().unwrap_or_else(|| id.clone()),
            why: format!("A value matching the policy's leak rule {id}."),
            fix: x.fix.clone().unwrap_or_else(|| {
                "Do not write this value to the app's files; keep secrets in the keychain's secret data (kSecValueData), or exclude the file from backups.".into()
            }),
            pattern: pattern.clone(),
            examples: text(&x.examples),
            non_examples: text(&x.non_examples),
        });
        ids.push(id.clone());
    }
    let generated = toml::to_string(&GenRules { rule: gen })
        .map_err(|e| source.err(raw[0].span(), format!("leak rules: {e}")))?;
    let at_first = |e: String| source.err(raw[0].span(), format!("leak rules: {e}"));
    // The user rules alone: each fires on its examples and not on its near misses (alone,
    // so that an overlapping built-in rule does not hide a user rule's match).
    let alone = Rules::parse(&generated).map_err(at_first)?;
    for (r, rule) in raw.iter().zip(&alone.rules) {
        let x = r.get_ref();
        let fires = |t: &str| {
            alone
                .scan_text(t.as_bytes())
                .iter()
                .any(|h| h.rule.id == rule.id)
        };
        for (n, e) in x.examples.get_ref().iter().enumerate() {
            if !fires(e.get_ref()) {
                return Err(source.err(
                    e.span(),
                    format!(
                        "example {} of leak rule {} does not match its pattern",
                        n + 1,
                        x.id.get_ref()
                    ),
                ));
            }
        }
        for (n, e) in x.non_examples.get_ref().iter().enumerate() {
            if fires(e.get_ref()) {
                return Err(source.err(
                    e.span(),
                    format!(
                        "non-example {} of leak rule {} matches its pattern (a near miss must not)",
                        n + 1,
                        x.id.get_ref()
                    ),
                ));
            }
        }
    }
    let builtin = crate::leaks::rules::RULES_TOML;
    let mut rules = Rules::parse(&format!("{builtin}\n{generated}")).map_err(at_first)?;
    // Rules::parse takes `leak.` ids only: the user rules (appended last) get their own back.
    let first = rules.rules.len() - ids.len();
    for (rule, id) in rules.rules[first..].iter_mut().zip(&ids) {
        rule.id = id.clone();
    }
    Ok((Some(rules), ids))
}
