//! Unit tests of the policy file parser: accepted format, and errors with file:line:col.

use super::file::{line_col, parse, PolicyError};
use super::model::KeychainExpect;
use std::path::Path;

fn err(text: &str) -> (usize, usize, String) {
    match parse(text, Path::new("p.toml")) {
        Ok(_) => panic!("expected an error for:\n{text}"),
        Err(PolicyError::Invalid {
            line, col, message, ..
        }) => (line, col, message),
        Err(e) => panic!("unexpected error kind: {e}"),
    }
}

const GOOD: &str = r#"schema = 1

[backup]
encrypted = true
min_kdf_rounds = 10000000
complete = true

[[app]]
bundle_id = "com.example.bank"
must_not_back_up = ["Library/Caches/**", "tmp/*.log"]
must_back_up = ["Documents/**"]

[[app.min_protection]]
glob = "Documents/**"
class = "complete"

[[app.min_protection]]
glob = "Library/**"
class = 3
severity = "medium"

[[app.keychain]]
service = "com.example.bank.session"
account = "alice"
expect = "device-bound"

[[app.keychain]]
access_group = "com.example.bank"
table = "inet"
server = "api.example.com"
expect = "absent"

[[app.canary]]
name = "password"
literal = "Sup3r$ecret!"

[[app.canary]]
regex = 'tok_[0-9a-f]{32}'
ignore_case = true
in_keychain = false

[[app]]
bundle_id = "com.example.notes"
required = false
"#;

#[test]
fn good_policy_compiles_with_origins() {
    let p = parse(GOOD, Path::new("p.toml")).unwrap();
    assert_eq!(p.schema, 1);
    assert!(p.backup.encrypted.unwrap().value);
    assert_eq!(p.backup.encrypted.unwrap().origin.line, 4);
    assert_eq!(p.backup.min_kdf_rounds.unwrap().value, 10_000_000);
    assert_eq!(p.backup.complete.unwrap().origin.line, 6);
    assert_eq!(p.apps.len(), 2);
    let a = &p.apps[0];
    assert!(a.required);
    assert_eq!(a.origin.line, 8);
    assert_eq!(a.must_not_back_up.len(), 2);
    assert_eq!(a.must_not_back_up[0].origin.line, 10);
    assert_eq!(a.must_not_back_up[1].origin.col, 42);
    assert_eq!(a.min_protection[0].class, 1);
    assert_eq!(a.min_protection[1].class, 3);
    assert_eq!(a.min_protection[1].severity, crate::audit::Severity::Medium);
    assert_eq!(a.min_protection[0].origin.line, 13);
    assert_eq!(a.keychain[0].expect, KeychainExpect::DeviceBound);
    assert_eq!(a.keychain[0].origin.line, 22);
    assert_eq!(a.keychain[1].expect, KeychainExpect::Absent);
    assert_eq!(a.canaries.len(), 2);
    assert_eq!(a.canaries[0].name, "password");
    assert_eq!(a.canaries[1].name, "#2");
    // The literal's `$` is escaped: it matches literally.
    let set = a.file_canaries.as_ref().unwrap();
    assert!(set.set.is_match(b"xxSup3r$ecret!xx"));
    assert!(!set.set.is_match(b"Sup3r ecret!"));
    assert!(set.set.is_match(b"TOK_0123456789ABCDEF0123456789abcdef"));
    assert_eq!(set.overlap, super::canary::REGEX_WINDOW);
    // Only the first canary searches the keychain.
    let kset = a.keychain_canaries.as_ref().unwrap();
    assert_eq!(kset.owner, vec![0]);
    assert!(!p.apps[1].required);
    assert!(p.needs_index() && p.needs_keychain() && p.needs_contents());
    // Debug never shows canary values.
    let dbg = format!("{p:?}");
    assert!(!dbg.contains("Sup3r"), "{dbg}");
    assert!(!dbg.contains("tok_"), "{dbg}");
}

#[test]
fn glob_semantics() {
    let p = parse(
        "schema = 1\n[[app]]\nbundle_id = \"a.b\"\nmust_not_back_up = [\"Library/*\", \"Library/Caches/**\", \"**/*.log\", \"Doc{s,uments}/[ab]?.txt\"]\n",
        Path::new("p.toml"),
    )
    .unwrap();
    let g = &p.apps[0].must_not_back_up;
    // `*` does not cross '/'.
    assert!(g[0].is_match("Library/x.plist"));
    assert!(!g[0].is_match("Library/Preferences/x.plist"));
    // `**` crosses '/'; `dir/**` does not match `dir` itself.
    assert!(g[1].is_match("Library/Caches/a/b/c"));
    assert!(!g[1].is_match("Library/Caches"));
    assert!(g[2].is_match("a.log") && g[2].is_match("x/y/z.log"));
    assert!(g[3].is_match("Docs/a1.txt") && g[3].is_match("Documents/b2.txt"));
    assert!(!g[3].is_match("Docs/c1.txt"));
}

#[test]
fn errors_name_line_column_and_expectation() {
    // Unknown key (typo): line and column of the key, and the expected keys.
    let (l, c, m) = err("schema = 1\n[[app]]\nbundle_id = \"a.b\"\nmust_not_backup = [\"x\"]\n");
    assert_eq!((l, c), (4, 1), "{m}");
    assert!(
        m.contains("unknown field `must_not_backup`") && m.contains("must_not_back_up"),
        "{m}"
    );
    // Unknown top-level table.
    let (l, _, m) = err("schema = 1\n[backups]\nencrypted = true\n");
    assert_eq!(l, 2);
    assert!(m.contains("unknown field `backups`"), "{m}");
    // Wrong type.
    let (l, _, m) = err("schema = 1\n[backup]\nencrypted = \"yes\"\n");
    assert_eq!(l, 3);
    assert!(
        m.contains("expected a boolean") || m.contains("bool"),
        "{m}"
    );
    // Missing schema.
    let (_, _, m) = err("[backup]\nencrypted = true\n");
    assert!(m.contains("missing field `schema`"), "{m}");
    // Unsupported schema.
    let (l, c, m) = err("schema = 2\n");
    assert_eq!((l, c), (1, 10));
    assert!(m.contains("unsupported policy schema 2"), "{m}");
    // Bad glob.
    let (l, c, m) =
        err("schema = 1\n[[app]]\nbundle_id = \"a.b\"\nmust_back_up = [\"ok/**\", \"bad/[a-\"]\n");
    assert_eq!((l, c), (4, 26), "{m}");
    assert!(m.contains("bad glob \"bad/[a-\""), "{m}");
    // Absolute glob.
    let (_, _, m) =
        err("schema = 1\n[[app]]\nbundle_id = \"a.b\"\nmust_back_up = [\"/Documents\"]\n");
    assert!(m.contains("starts with '/'"), "{m}");
    // Bad regex.
    let (l, _, m) =
        err("schema = 1\n[[app]]\nbundle_id = \"a.b\"\n[[app.canary]]\nregex = \"tok_(\"\n");
    assert_eq!(l, 5);
    assert!(m.contains("bad canary regex"), "{m}");
    // Class out of range / unknown name / wrong type.
    let (l, _, m) = err("schema = 1\n[[app]]\nbundle_id = \"a.b\"\n[[app.min_protection]]\nglob = \"**\"\nclass = 5\n");
    assert_eq!(l, 6);
    assert!(
        m.contains("out of range") && m.contains("complete_unless_open"),
        "{m}"
    );
    let (_, _, m) = err("schema = 1\n[[app]]\nbundle_id = \"a.b\"\n[[app.min_protection]]\nglob = \"**\"\nclass = \"strong\"\n");
    assert!(m.contains("unknown protection class \"strong\""), "{m}");
    let (_, _, m) = err("schema = 1\n[[app]]\nbundle_id = \"a.b\"\n[[app.min_protection]]\nglob = \"**\"\nclass = 1.5\n");
    assert!(m.contains("file protection class"), "{m}");
    // Keychain: unknown expectation, no selector, bad table.
    let (l, _, m) = err("schema = 1\n[[app]]\nbundle_id = \"a.b\"\n[[app.keychain]]\nservice = \"s\"\nexpect = \"gone\"\n");
    assert_eq!(l, 6);
    assert!(
        m.contains("\"device-bound\", \"migratable\" or \"absent\""),
        "{m}"
    );
    let (l, _, m) = err("schema = 1\n[[app]]\nbundle_id = \"a.b\"\n[[app.keychain]]\ntable = \"genp\"\nexpect = \"absent\"\n");
    assert_eq!(l, 4);
    assert!(m.contains("at least one of service"), "{m}");
    let (_, _, m) = err("schema = 1\n[[app]]\nbundle_id = \"a.b\"\n[[app.keychain]]\nservice = \"s\"\ntable = \"pass\"\nexpect = \"absent\"\n");
    assert!(m.contains("unknown keychain table"), "{m}");
    // Canary: none or two sources; empty literal; bad severity.
    let (_, _, m) = err("schema = 1\n[[app]]\nbundle_id = \"a.b\"\n[[app.canary]]\nname = \"x\"\n");
    assert!(m.contains("exactly one of literal"), "{m}");
    let (_, _, m) = err("schema = 1\n[[app]]\nbundle_id = \"a.b\"\n[[app.canary]]\nliteral = \"a\"\nregex = \"b\"\n");
    assert!(m.contains("(2 given)"), "{m}");
    let (_, _, m) =
        err("schema = 1\n[[app]]\nbundle_id = \"a.b\"\n[[app.canary]]\nliteral = \"\"\n");
    assert!(m.contains("1 to 4096 bytes"), "{m}");
    let (l, _, m) = err("schema = 1\n[[app]]\nbundle_id = \"a.b\"\n[[app.canary]]\nliteral = \"x\"\nseverity = \"critical\"\n");
    assert_eq!(l, 6);
    assert!(m.contains("invalid severity \"critical\""), "{m}");
    // Canary file missing.
    let (_, _, m) = err(
        "schema = 1\n[[app]]\nbundle_id = \"a.b\"\n[[app.canary]]\nliterals_file = \"nope.txt\"\n",
    );
    assert!(m.contains("cannot read canary file"), "{m}");
    // Duplicate app, bad bundle id, complete = false, bad kdf.
    let (l, _, m) = err("schema = 1\n[[app]]\nbundle_id = \"a.b\"\n[[app]]\nbundle_id = \"a.b\"\n");
    assert_eq!(l, 4);
    assert!(m.contains("listed twice"), "{m}");
    let (_, _, m) = err("schema = 1\n[[app]]\nbundle_id = \"a b\"\n");
    assert!(m.contains("bad bundle_id"), "{m}");
    let (_, _, m) = err("schema = 1\n[backup]\ncomplete = false\n");
    assert!(m.contains("complete = false"), "{m}");
    let (_, _, m) = err("schema = 1\n[backup]\nmin_kdf_rounds = -5\n");
    assert!(m.contains("min_kdf_rounds = -5"), "{m}");
    // TOML syntax error.
    let (l, _, _) = err("schema = 1\n[backup\n");
    assert_eq!(l, 2);
}

#[test]
fn error_display_is_file_line_col() {
    let e = parse("schema = 1\nfoo = 1\n", Path::new("ci/auditor.toml")).unwrap_err();
    let s = e.to_string();
    assert!(
        s.starts_with("ci/auditor.toml:2:1: unknown field `foo`"),
        "{s}"
    );
    let top: crate::Error = e.into();
    assert_eq!(top.exit_code(), crate::ExitCode::Usage);
}

#[test]
fn canary_files() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("lits.txt"), "alpha-1\r\n\nbeta.2\n").unwrap();
    std::fs::write(dir.path().join("res.txt"), "ok[0-9]+\nbad(\n").unwrap();
    let pol = dir.path().join("p.toml");
    let p = parse(
        "schema = 1\n[[app]]\nbundle_id = \"a.b\"\n[[app.canary]]\nliterals_file = \"lits.txt\"\n",
        &pol,
    )
    .unwrap();
    let c = &p.apps[0].canaries[0];
    assert_eq!(c.patterns.len(), 2);
    let set = p.apps[0].file_canaries.as_ref().unwrap();
    assert!(set.set.is_match(b"..beta.2.."));
    assert!(
        !set.set.is_match(b"..betaX2.."),
        "'.' in a literal is literal"
    );
    assert_eq!(set.overlap, 6);
    let e = parse(
        "schema = 1\n[[app]]\nbundle_id = \"a.b\"\n[[app.canary]]\nregexes_file = \"res.txt\"\n",
        &pol,
    )
    .unwrap_err();
    let s = e.to_string();
    assert!(s.contains("res.txt:2:1: bad canary regex"), "{s}");
}

#[test]
fn line_col_counts_chars() {
    assert_eq!(line_col("ab\ncd", 0), (1, 1));
    assert_eq!(line_col("ab\ncd", 3), (2, 1));
    assert_eq!(line_col("é = 1\nx", 3), (1, 3));
    assert_eq!(line_col("ab", 99), (1, 3));
}

const LEAKS: &str = r#"schema = 1

[[app]]
bundle_id = "com.example.bank"
[app.leaks]
forbid = ["credential", "leak.email-address", "user.internal-api-key"]
allow = [
  { fingerprint = "0123456789ABCDEF" },
  { path = "Documents/fixtures/**", reason = "seeded test data" },
  { rule = "leak.email-address", path = "Library/Caches/**" },
]
severity = "medium"
max_file_size = 1048576

[[app]]
bundle_id = "com.example.notes"

[[leak_rule]]
id = "user.internal-api-key"
category = "token"
pattern = 'ik_[A-Za-z0-9]{32}'
title = "Internal API key"
fix = "Keep it on the server."
confidence = "medium"
examples = ["ik_abcdefghijklmnopqrstuvwxyz012345"]
non_examples = ["ik_abcdefghijklmnopqrstuvwxyz01234"]
"#;

#[test]
fn leak_expectations_and_user_rules_parse() {
    use super::model::Forbid;
    use crate::audit::Severity;
    use crate::leaks::{Category, Confidence};
    let p = parse(LEAKS, Path::new("p.toml")).unwrap();
    assert!(p.needs_leaks());
    assert!(p.apps[1].leaks.is_none());
    let l = p.apps[0].leaks.as_ref().unwrap();
    assert_eq!(l.origin.line, 5);
    assert_eq!(
        l.forbid,
        [
            Forbid::Category(Category::Credential),
            Forbid::Rule("leak.email-address".into()),
            Forbid::Rule("user.internal-api-key".into()),
        ]
    );
    assert!(l.forbids("leak.password-field", Category::Credential));
    assert!(!l.forbids("leak.aws-access-key-id", Category::Token));
    assert!(l.forbids("user.internal-api-key", Category::Token));
    assert_eq!(l.severity, Some(Severity::Medium));
    assert_eq!(l.max_file_size, 1 << 20);
    assert_eq!(l.allow.len(), 3);
    assert_eq!(l.allow[0].fingerprint.as_deref(), Some("0123456789abcdef"));
    assert_eq!(l.allow[1].origin.line, 9);
    assert!(l.allow[0].allows("leak.jwt", "0123456789abcdef", "x"));
    assert!(!l.allow[0].allows("leak.jwt", "0123456789abcdee", "x"));
    assert!(l.allow[1].allows("leak.jwt", "f", "Documents/fixtures/a/b.json"));
    assert!(!l.allow[1].allows("leak.jwt", "f", "Documents/other.json"));
    assert!(l.allow[2].allows("leak.email-address", "f", "Library/Caches/x"));
    assert!(!l.allow[2].allows("leak.jwt", "f", "Library/Caches/x"));

    // The user rule is compiled beside the built-in ones, under its own id.
    assert_eq!(p.user_rules, ["user.internal-api-key"]);
    let rules = p.leak_rules();
    assert_eq!(rules.rules.len(), crate::leaks::builtin().rules.len() + 1);
    let r = rules.get("user.internal-api-key").unwrap();
    assert_eq!(r.category, Category::Token);
    assert_eq!(r.confidence, Confidence::Medium);
    assert_eq!(r.title, "Internal API key");
    assert_eq!(r.fix, "Keep it on the server.");
    let hits = rules.scan_text(b"x ik_abcdefghijklmnopqrstuvwxyz012345 y AKIAZ7VRSQ4TBXW2NM5D");
    let ids: Vec<&str> = hits.iter().map(|h| h.rule.id.as_str()).collect();
    assert_eq!(ids, ["user.internal-api-key", "leak.aws-access-key-id"]);
}

#[test]
fn leak_defaults_are_the_secret_categories_and_the_builtin_rules() {
    use super::model::Forbid;
    use crate::leaks::Category;
    let p = parse(
        "schema = 1\n[[app]]\nbundle_id = \"a.b\"\n[app.leaks]\n",
        Path::new("p.toml"),
    )
    .unwrap();
    let l = p.apps[0].leaks.as_ref().unwrap();
    assert_eq!(
        l.forbid,
        [
            Forbid::Category(Category::Credential),
            Forbid::Category(Category::Token),
            Forbid::Category(Category::PrivateKey),
        ]
    );
    assert!(l.allow.is_empty() && l.severity.is_none());
    assert_eq!(l.max_file_size, crate::leaks::sweep::DEFAULT_MAX_FILE_SIZE);
    assert!(p.leak_rules.is_none());
    assert!(std::ptr::eq(p.leak_rules(), crate::leaks::builtin()));
    assert!(!parse(
        "schema = 1\n[[app]]\nbundle_id = \"a.b\"\n",
        Path::new("p.toml")
    )
    .unwrap()
    .needs_leaks());
}

#[test]
fn bad_leak_expectations_name_line_and_column() {
    let app = "schema = 1\n[[app]]\nbundle_id = \"a.b\"\n[app.leaks]\n";
    let cases: &[(&str, usize, usize, &str)] = &[
        ("forbid = []\n", 5, 10, "forbid is empty"),
        ("forbid = [\"token\", 3]\n", 5, 20, "invalid type"),
        (
            "forbid = [\"user.x\"]\n",
            5,
            11,
            "unknown leak category or rule \"user.x\"",
        ),
        (
            "allow = [{}]\n",
            5,
            10,
            "at least one of fingerprint, path or rule",
        ),
        (
            "allow = [{ fingerprint = \"0123\" }]\n",
            5,
            26,
            "bad fingerprint",
        ),
        ("allow = [{ path = \"/abs\" }]\n", 5, 19, "starts with '/'"),
        (
            "allow = [{ path = \"a\", extra = 1 }]\n",
            5,
            24,
            "unknown field `extra`",
        ),
        ("severity = \"urgent\"\n", 5, 12, "invalid severity"),
        ("max_file_size = 0\n", 5, 17, "max_file_size = 0"),
        ("forbid_all = true\n", 5, 1, "unknown field `forbid_all`"),
    ];
    for (body, line, col, want) in cases {
        let (l, c, m) = err(&format!("{app}{body}"));
        assert_eq!((l, c), (*line, *col), "{body}: {m}");
        assert!(m.contains(want), "{body}: {m}");
    }
}

#[test]
fn bad_user_rules_name_line_and_column() {
    let head = "schema = 1\n[[leak_rule]]\n";
    let ok = "category = \"token\"\npattern = 'k_[0-9]+'\nexamples = [\"k_1\"]\nnon_examples = [\"k_\"]\n";
    let cases: Vec<(String, usize, usize, &str)> = vec![
        (format!("id = \"leak.k\"\n{ok}"), 3, 6, "bad leak rule id"),
        (format!("id = \"user.\"\n{ok}"), 3, 6, "bad leak rule id"),
        (format!("id = \"user.K\"\n{ok}"), 3, 6, "bad leak rule id"),
        (
            format!("id = \"user.k\"\n{ok}[[leak_rule]]\nid = \"user.k\"\n{ok}"),
            9,
            6,
            "defined twice",
        ),
        (
            "id = \"user.k\"\ncategory = \"secret\"\npattern = 'k'\nexamples = [\"k\"]\nnon_examples = [\"j\"]\n".into(),
            4,
            12,
            "unknown leak category \"secret\"",
        ),
        (
            "id = \"user.k\"\ncategory = \"token\"\npattern = '(k'\nexamples = [\"k\"]\nnon_examples = [\"j\"]\n".into(),
            5,
            11,
            "bad leak rule pattern",
        ),
        (
            "id = \"user.k\"\ncategory = \"token\"\npattern = 'k*'\nexamples = [\"k\"]\nnon_examples = [\"j\"]\n".into(),
            5,
            11,
            "matches the empty string",
        ),
        (
            "id = \"user.k\"\ncategory = \"token\"\npattern = 'k'\nexamples = []\nnon_examples = [\"j\"]\n".into(),
            6,
            12,
            "examples is empty",
        ),
        (
            "id = \"user.k\"\ncategory = \"token\"\npattern = 'k'\nexamples = [\"k\", \"j\"]\nnon_examples = [\"x\"]\n".into(),
            6,
            18,
            "example 2 of leak rule user.k does not match",
        ),
        (
            "id = \"user.k\"\ncategory = \"token\"\npattern = 'k'\nexamples = [\"k\"]\nnon_examples = [\"ok\"]\n".into(),
            7,
            17,
            "non-example 1 of leak rule user.k matches",
        ),
        (
            "id = \"user.k\"\ncategory = \"token\"\npattern = 'k'\nconfidence = \"sure\"\nexamples = [\"k\"]\nnon_examples = [\"j\"]\n".into(),
            6,
            14,
            "unknown confidence",
        ),
    ];
    for (body, line, col, want) in &cases {
        let (l, c, m) = err(&format!("{head}{body}"));
        assert_eq!((l, c), (*line, *col), "{body}: {m}");
        assert!(m.contains(want), "{body}: {m}");
    }
}
