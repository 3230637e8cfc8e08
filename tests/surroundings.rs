//! Where users already work: `--version` with the commit, shell completions, man pages,
//! `--color` and `--quiet`, `key --hash` for hashcat and John, and the default backup
//! folders when no path is given.

mod common;

use auditor::backup::ManifestPlist;
use auditor::crypto::kdf::{derive_kek, KdfParams};
use auditor::crypto::keybag::WRAP_PASSCODE;
use auditor::crypto::wrap::unwrap32;
use auditor::crypto::{CryptoError, Keybag, Password};
use common::{auditor, repo, shared, DEMO, DEMO_PASSWORD_FILE};
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// Run auditor with `env` set (and NO_COLOR unset unless `env` sets it), stdin closed.
fn auditor_env(args: &[&str], env: &[(&str, &str)]) -> Output {
    let mut c = Command::new(env!("CARGO_BIN_EXE_auditor"));
    c.args(args)
        .stdin(Stdio::null())
        .env_remove("AUDITOR_PASSWORD")
        .env_remove("NO_COLOR");
    for (k, v) in env {
        c.env(k, v);
    }
    c.output().expect("run auditor")
}

/// Is `program` on PATH (it runs with `--version`)?
fn have(program: &str) -> bool {
    let ok = Command::new(program)
        .arg("--version")
        .stdin(Stdio::null())
        .output()
        .is_ok_and(|o| o.status.success());
    if !ok {
        eprintln!("skipped: {program} is not installed");
    }
    ok
}

fn ok(o: &Output, what: &str) {
    assert_eq!(o.status.code(), Some(0), "{what}: {}", stderr(o));
}

// ---- --version --------------------------------------------------------------------------

#[test]
fn version_names_the_version_and_the_commit() {
    let o = auditor(&["--version"]);
    ok(&o, "--version");
    let line = stdout(&o);
    let line = line.trim_end();
    let version = env!("CARGO_PKG_VERSION");
    let rest = line
        .strip_prefix(&format!("auditor {version} ("))
        .and_then(|r| r.strip_suffix(')'))
        .unwrap_or_else(|| panic!("not `auditor {version} (…)`: {line:?}"));
    // `HASH DATE`, `HASH-dirty DATE`, or `unknown` (no git, no repository).
    let mut words = rest.split(' ');
    let commit = words.next().unwrap();
    let hash = commit.strip_suffix("-dirty").unwrap_or(commit);
    if hash != "unknown" {
        assert!(
            hash.len() >= 7 && hash.bytes().all(|b| b.is_ascii_hexdigit()),
            "{line}"
        );
        let date = words.next().expect("a date after the commit");
        assert!(
            date.len() == 10 && date.as_bytes()[4] == b'-' && date.as_bytes()[7] == b'-',
            "{line}"
        );
        // The commit built is the one checked out (cargo reruns the build script when HEAD
        // moves), when git can tell.
        let head = Command::new("git")
            .args(["rev-parse", "--short=7", "HEAD"])
            .current_dir(env!("CARGO_MANIFEST_DIR"))
            .output();
        if let Some(h) = head.ok().filter(|h| h.status.success()) {
            assert_eq!(hash, String::from_utf8_lossy(&h.stdout).trim(), "{line}");
        }
    }
    assert_eq!(words.next(), None, "{line}");
    // Every command says the same.
    let sub = auditor(&["scan", "--version"]);
    assert!(stdout(&sub).ends_with(&format!("{version} ({rest})\n")));
}

// ---- completions --------------------------------------------------------------------------

const SHELLS: [&str; 5] = ["bash", "zsh", "fish", "powershell", "elvish"];

/// The completion script of `shell`, in a temporary file.
fn script_file(shell: &str, dir: &Path) -> PathBuf {
    let o = auditor(&["completions", shell]);
    ok(&o, shell);
    let p = dir.join(format!("auditor.{shell}"));
    std::fs::write(&p, &o.stdout).unwrap();
    p
}

#[test]
fn a_completion_script_for_every_shell() {
    let tmp = tempfile::tempdir().unwrap();
    for shell in SHELLS {
        let text = std::fs::read_to_string(script_file(shell, tmp.path())).unwrap();
        assert!(text.len() > 1000, "{shell}: {} bytes", text.len());
        // Commands and global options are in every script.
        for word in ["scan", "keychain", "completions", "color", "quiet"] {
            assert!(text.contains(word), "{shell} script lacks {word}");
        }
    }
    let o = auditor(&["completions", "tcsh"]);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
}

#[test]
fn bash_reads_the_bash_script_and_registers_it() {
    if !have("bash") {
        return;
    }
    let tmp = tempfile::tempdir().unwrap();
    let p = script_file("bash", tmp.path());
    let n = Command::new("bash").arg("-n").arg(&p).output().unwrap();
    assert!(n.status.success(), "bash -n: {}", stderr(&n));
    let sourced = Command::new("bash")
        .arg("-c")
        .arg(r#"source "$1" && complete -p auditor"#)
        .arg("bash")
        .arg(&p)
        .output()
        .unwrap();
    assert!(sourced.status.success(), "{}", stderr(&sourced));
    let line = stdout(&sourced);
    assert!(
        line.starts_with("complete ") && line.trim_end().ends_with(" auditor"),
        "{line}"
    );
}

#[test]
fn zsh_and_fish_parse_their_scripts() {
    let tmp = tempfile::tempdir().unwrap();
    for (shell, check) in [("zsh", "-n"), ("fish", "--no-execute")] {
        if !have(shell) {
            continue;
        }
        let p = script_file(shell, tmp.path());
        let o = Command::new(shell).arg(check).arg(&p).output().unwrap();
        assert!(o.status.success(), "{shell} {check}: {}", stderr(&o));
    }
}

// ---- man ------------------------------------------------------------------------------

#[test]
fn man_prints_a_page_per_command_and_writes_them_all() {
    let top = auditor(&["man"]);
    ok(&top, "man");
    let page = stdout(&top);
    assert!(page.contains(".TH auditor 1"), "{page}");
    let scan = stdout(&auditor(&["man", "scan"]));
    assert!(scan.contains(".TH auditor-scan 1"), "{scan}");
    let init = stdout(&auditor(&["man", "policy", "init"]));
    assert!(init.contains(".TH auditor-policy-init 1"), "{init}");
    let o = auditor(&["man", "nope"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(
        stderr(&o).contains("no command `nope`; known: scan, info"),
        "{}",
        stderr(&o)
    );

    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("man1");
    let o = auditor(&["man", "--out", dir.to_str().unwrap()]);
    ok(&o, "man --out");
    let mut names: Vec<String> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    // Each page written is the page `auditor man COMMAND…` prints.
    for n in &names {
        let words: Vec<&str> = n.strip_suffix(".1").unwrap().split('-').skip(1).collect();
        let mut args = vec!["man"];
        args.extend(&words);
        let printed = auditor(&args);
        ok(&printed, n);
        assert_eq!(std::fs::read(dir.join(n)).unwrap(), printed.stdout, "{n}");
    }
    for n in [
        "auditor.1",
        "auditor-scan.1",
        "auditor-policy.1",
        "auditor-policy-init.1",
    ] {
        assert!(names.iter().any(|x| x == n), "{n} not in {names:?}");
    }
    assert!(stderr(&o).contains(&format!("wrote {} man pages", names.len())));
}

// ---- --color and --quiet -----------------------------------------------------------------

const ESC: u8 = 0x1b;

fn has_esc(o: &Output) -> bool {
    o.stdout.contains(&ESC) || o.stderr.contains(&ESC)
}

/// `scan` of the demo (it has medium and low findings: painted words, when painted).
fn demo_scan(extra: &[&str]) -> Vec<String> {
    let mut v: Vec<String> = ["scan", DEMO, "--password-file", DEMO_PASSWORD_FILE]
        .iter()
        .map(|s| s.to_string())
        .collect();
    v.extend(extra.iter().map(|s| s.to_string()));
    v
}

fn run_in_repo(args: &[String], env: &[(&str, &str)]) -> Output {
    let mut c = Command::new(env!("CARGO_BIN_EXE_auditor"));
    c.args(args)
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .stdin(Stdio::null())
        .env_remove("AUDITOR_PASSWORD")
        .env_remove("NO_COLOR");
    for (k, v) in env {
        c.env(k, v);
    }
    c.output().unwrap()
}

#[test]
fn no_colour_in_a_pipe_with_never_or_no_color_and_colour_with_always() {
    let plain = run_in_repo(&demo_scan(&[]), &[]);
    ok(&plain, "scan");
    assert!(!has_esc(&plain), "a pipe is not painted");
    let never = run_in_repo(&demo_scan(&["--color", "never"]), &[]);
    assert!(!has_esc(&never));
    let no_color = run_in_repo(&demo_scan(&[]), &[("NO_COLOR", "1")]);
    assert!(!has_esc(&no_color));
    let always = run_in_repo(&demo_scan(&["--color", "always"]), &[]);
    ok(&always, "scan --color always");
    assert!(
        always.stdout.contains(&ESC),
        "--color always paints the table"
    );
    // The same table, the codes aside.
    let text = stdout(&always);
    let stripped = strip_sgr(&text);
    assert_eq!(stripped, stdout(&plain));
    assert!(text.contains("\x1b[33mmedium\x1b[0m"), "{text}");
    // NO_COLOR does not override an explicit --color always (no-color.org).
    let both = run_in_repo(&demo_scan(&["--color=always"]), &[("NO_COLOR", "1")]);
    assert!(both.stdout.contains(&ESC));
    // Errors on stderr too; never is never.
    let err = auditor(&["--color", "always", "info", "/nonexistent/backup"]);
    assert_eq!(err.status.code(), Some(4));
    assert!(err.stderr.starts_with(b"\x1b["), "{}", stderr(&err));
    let err = auditor(&["--color", "never", "info", "/nonexistent/backup"]);
    assert!(!has_esc(&err) && stderr(&err).starts_with("auditor: "));
    // clap's help and usage errors follow --color as well.
    assert!(auditor(&["--color", "always", "--help"])
        .stdout
        .contains(&ESC));
    assert!(!has_esc(&auditor(&["--color", "never", "--help"])));
    assert!(!has_esc(&auditor(&["--color=never", "nosuch"])));
    assert!(auditor(&["nosuch", "--color", "always"])
        .stderr
        .contains(&ESC));
}

#[test]
fn a_report_file_is_painted_only_with_always() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("r.txt");
    let o = out.to_str().unwrap();
    ok(&run_in_repo(&demo_scan(&["-o", o]), &[]), "scan -o");
    assert!(!std::fs::read(&out).unwrap().contains(&ESC));
    ok(
        &run_in_repo(&demo_scan(&["-o", o, "--color", "always"]), &[]),
        "-o always",
    );
    assert!(std::fs::read(&out).unwrap().contains(&ESC));
}

/// `text` without its SGR colour codes.
fn strip_sgr(text: &str) -> String {
    let mut out = String::new();
    let mut rest = text;
    while let Some(i) = rest.find("\x1b[") {
        out.push_str(&rest[..i]);
        let after = &rest[i + 2..];
        let end = after.find('m').expect("an SGR sequence ends with m");
        rest = &after[end + 1..];
    }
    out.push_str(rest);
    out
}

/// Run auditor in a pseudo-terminal (util-linux `script`), stdout and stderr both on it;
/// None (said) when `script` is not there.
fn in_terminal(args: &[String], env: &[(&str, &str)]) -> Option<String> {
    let probe = Command::new("script").arg("--version").output();
    if !probe.is_ok_and(|o| o.status.success()) {
        eprintln!("skipped: util-linux `script` is not installed (no pseudo-terminal)");
        return None;
    }
    let quote = |s: &str| format!("'{}'", s.replace('\'', r"'\''"));
    let mut cmd = quote(env!("CARGO_BIN_EXE_auditor"));
    for a in args {
        cmd.push(' ');
        cmd.push_str(&quote(a));
    }
    let mut c = Command::new("script");
    c.args(["-qec", &cmd, "/dev/null"])
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .stdin(Stdio::null())
        .env_remove("AUDITOR_PASSWORD")
        .env_remove("NO_COLOR")
        .env("TERM", "xterm");
    for (k, v) in env {
        c.env(k, v);
    }
    let o = c.output().unwrap();
    assert_eq!(o.status.code(), Some(0), "{cmd}: {}", stdout(&o));
    Some(stdout(&o))
}

#[test]
fn a_terminal_is_painted_unless_no_color_or_never_and_quiet_hides_the_bars() {
    let Some(tty) = in_terminal(&demo_scan(&[]), &[]) else {
        return;
    };
    assert!(
        tty.contains("\x1b[33mmedium"),
        "auto paints a terminal: {tty:?}"
    );
    assert!(
        tty.contains("deriving key"),
        "the key-derivation bar: {tty:?}"
    );
    // --quiet: no bar (and so, with colour off, not one escape byte).
    let quiet = in_terminal(&demo_scan(&["-q"]), &[]).unwrap();
    assert!(!quiet.contains("deriving key") && quiet.contains("\x1b[33mmedium"));
    let no_color = in_terminal(&demo_scan(&["--quiet"]), &[("NO_COLOR", "1")]).unwrap();
    assert!(!no_color.as_bytes().contains(&ESC), "{no_color:?}");
    assert!(no_color.contains("medium"));
    let never = in_terminal(&demo_scan(&["-q", "--color", "never"]), &[]).unwrap();
    assert!(!never.as_bytes().contains(&ESC), "{never:?}");
    // An empty NO_COLOR does not count.
    let empty = in_terminal(&demo_scan(&["-q"]), &[("NO_COLOR", "")]).unwrap();
    assert!(empty.contains("\x1b[33mmedium"));
}

#[test]
fn quiet_drops_notes_and_warnings_not_errors_or_the_report() {
    let tmp = tempfile::tempdir().unwrap();
    common::copy_dir(
        &repo(DEMO),
        &tmp.path().join("Backup/00008130-000A11CE0DE0001E"),
    );
    let dir = tmp.path().to_str().unwrap();
    let loud = auditor(&["info", dir]);
    ok(&loud, "info");
    assert!(
        stderr(&loud).contains("using the only backup"),
        "{}",
        stderr(&loud)
    );
    let quiet = auditor(&["info", dir, "--quiet"]);
    ok(&quiet, "info --quiet");
    assert_eq!(stderr(&quiet), "");
    assert_eq!(quiet.stdout, loud.stdout);
    // A warning (the password on the command line) and a --fail-on note.
    let pw = std::fs::read_to_string(repo(DEMO_PASSWORD_FILE)).unwrap();
    let demo = repo(DEMO);
    let args = |q: bool| {
        let mut v = vec!["scan", demo.to_str().unwrap(), "--password", pw.trim_end()];
        v.extend(["--fail-on", "low"]);
        if q {
            v.insert(0, "-q");
        }
        v
    };
    let loud = auditor(&args(false));
    assert_eq!(loud.status.code(), Some(1));
    let said = stderr(&loud);
    assert!(
        said.contains("warning:") && said.contains("--fail-on low"),
        "{said}"
    );
    let quiet = auditor(&args(true));
    assert_eq!(quiet.status.code(), Some(1), "the exit code is the same");
    assert_eq!(stderr(&quiet), "");
    assert_eq!(quiet.stdout, loud.stdout);
    // Errors are still said.
    let err = auditor(&["-q", "info", "/nonexistent/backup"]);
    assert_eq!(err.status.code(), Some(4));
    assert!(
        stderr(&err).contains("/nonexistent/backup"),
        "{}",
        stderr(&err)
    );
}

// ---- key --hash -------------------------------------------------------------------------

/// The fields of an `$itunes_backup$` line, split as hashcat's tokenizer and John's
/// `valid()` split them, each checked against their rules.
struct Fields {
    version: u32,
    wpky: Vec<u8>,
    iter: u32,
    salt: Vec<u8>,
    dpic: Option<u32>,
    dpsl: Option<Vec<u8>>,
}

fn lower_hex(s: &str, digits: usize, line: &str) -> Vec<u8> {
    assert_eq!(s.len(), digits, "{line}");
    assert!(
        s.bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b)),
        "{line}"
    );
    hex::decode(s).unwrap()
}

fn decimal(s: &str, max_digits: usize, line: &str) -> u32 {
    assert!(
        (1..=max_digits).contains(&s.len()) && s.bytes().all(|b| b.is_ascii_digit()),
        "{line}"
    );
    s.parse().unwrap()
}

fn fields(line: &str) -> Fields {
    let t: Vec<&str> = line.split('*').collect();
    assert_eq!(t.len(), 7, "seven tokens: {line}");
    assert_eq!(t[0], "$itunes_backup$", "{line}");
    let version = decimal(t[1], 2, line);
    let (dpic, dpsl) = match version {
        9 => {
            assert_eq!((t[5], t[6]), ("", ""), "version 9 ends with `**`: {line}");
            (None, None)
        }
        10 => (
            Some(decimal(t[5], 9, line)),
            Some(lower_hex(t[6], 40, line)),
        ),
        v => panic!("version {v}: {line}"),
    };
    Fields {
        version,
        wpky: lower_hex(t[2], 80, line),
        iter: decimal(t[3], 6, line),
        salt: lower_hex(t[4], 40, line),
        dpic,
        dpsl,
    }
}

/// What a guess turns out to be.
#[derive(Debug, PartialEq)]
enum Guess {
    /// The WPKY unwraps (the RFC 3394 check passes).
    Right,
    /// It does not (the check fails).
    Wrong,
}

/// What a cracker does with a guess: derive from the line's own fields, unwrap its WPKY.
fn guess(f: &Fields, password: &str) -> Guess {
    let params = KdfParams {
        dpsl: f.dpsl.clone(),
        dpic: f.dpic,
        salt: f.salt.clone(),
        iter: f.iter,
    };
    let kek = derive_kek(&Password::new(password.into()), &params, &mut |_| {});
    match unwrap32(&kek, &f.wpky) {
        Ok(_) => Guess::Right,
        Err(CryptoError::UnwrapIntegrity) => Guess::Wrong,
        Err(e) => panic!("not a guess's outcome: {e}"),
    }
}

/// `auditor key --hash PATH`: stdout is the one line, exit 0, no password asked.
fn hash_of(path: &Path) -> String {
    let o = auditor(&["key", "--hash", path.to_str().unwrap()]);
    ok(&o, "key --hash");
    let out = stdout(&o);
    assert_eq!(out.lines().count(), 1, "{out}");
    assert!(
        stderr(&o).contains("try passwords offline"),
        "{}",
        stderr(&o)
    );
    out.trim_end().to_string()
}

/// The keybag of a Manifest.plist, read by the library.
fn keybag_of(manifest: &Path) -> Keybag {
    let m = ManifestPlist::parse(&std::fs::read(manifest).unwrap()).unwrap();
    Keybag::parse(m.keybag.as_ref().unwrap()).unwrap()
}

/// The line carries the keybag's own fields: its first password-wrapped WPKY, ITER, SALT,
/// and DPIC/DPSL exactly when the keybag has them.
fn assert_from_keybag(f: &Fields, kb: &Keybag, what: &str) {
    let first = kb
        .classes
        .iter()
        .find(|c| c.wrap & WRAP_PASSCODE != 0)
        .unwrap();
    assert_eq!(f.wpky, first.wpky, "{what}");
    assert_eq!(Some(f.iter), kb.iter, "{what}");
    assert_eq!(Some(&f.salt), kb.salt.as_ref(), "{what}");
    assert_eq!(f.dpic, kb.dpic, "{what}");
    assert_eq!(f.dpsl.as_ref(), kb.dpsl.as_ref(), "{what}");
    assert_eq!(f.version, if kb.dpsl.is_some() { 10 } else { 9 }, "{what}");
}

#[test]
fn key_hash_on_real_keybags_is_what_hashcat_and_john_read_and_cracks_with_the_password() {
    let Some(john) = shared("external/john-samples") else {
        return;
    };
    for (file, password, version) in [
        ("Manifest-9-123456.plist", "123456", 9),
        ("Manifest-9-test123.plist", "test123", 9),
        ("Manifest-10-test123.plist", "test123", 10),
    ] {
        let p = john.join(file);
        let line = hash_of(&p);
        let f = fields(&line);
        assert_eq!(f.version, version, "{file}");
        assert_from_keybag(&f, &keybag_of(&p), file);
        if version == 9 {
            // 10,000 PBKDF2-SHA1 rounds: cheap enough to crack here.
            assert_eq!(guess(&f, password), Guess::Right, "{file}");
            assert_eq!(guess(&f, "not-it"), Guess::Wrong, "{file}");
        } else {
            assert_eq!((f.dpic, f.iter), (Some(10_000_000), 10_000), "{file}");
        }
    }
    // The same line from the folder of a real backup (hv20: iOS 9.3.6, iMazing).
    let Some(hv20) = shared("external/hv20/Backup") else {
        return;
    };
    let f = fields(&hash_of(&hv20));
    assert_from_keybag(&f, &keybag_of(&hv20.join("Manifest.plist")), "hv20");
    assert_eq!(guess(&f, "20201225"), Guess::Right);
    assert_eq!(guess(&f, "20201224"), Guess::Wrong);
}

#[test]
#[ignore = "10,000,000-round PBKDF2-SHA256 (seconds in release); run with --ignored"]
fn key_hash_of_the_ios10_john_sample_cracks_with_its_password() {
    let Some(john) = shared("external/john-samples") else {
        return;
    };
    let f = fields(&hash_of(&john.join("Manifest-10-test123.plist")));
    assert_eq!(guess(&f, "test123"), Guess::Right);
    assert_eq!(guess(&f, "test124"), Guess::Wrong);
}

#[test]
fn key_hash_of_the_demo_cracks_in_two_stages_and_needs_no_password() {
    let demo = repo(DEMO);
    let line = hash_of(&demo);
    let f = fields(&line);
    assert_eq!(f.version, 10, "{line}");
    assert_from_keybag(&f, &keybag_of(&demo.join("Manifest.plist")), "demo");
    let pw = std::fs::read_to_string(repo(DEMO_PASSWORD_FILE)).unwrap();
    assert_eq!(guess(&f, pw.trim_end()), Guess::Right);
    assert_eq!(guess(&f, "wrong"), Guess::Wrong);
    // The derived key is not what is printed, and no credential option goes with --hash.
    let o = auditor(&["key", "--hash", DEMO, "--password", "x"]);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    // -o writes the same line to a private file.
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("hash.txt");
    let o = auditor(&["key", "--hash", DEMO, "-q", "-o", out.to_str().unwrap()]);
    ok(&o, "key --hash -o");
    assert_eq!(stderr(&o), "");
    assert_eq!(std::fs::read_to_string(&out).unwrap(), format!("{line}\n"));
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&out).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600);
    }
}

#[test]
fn key_hash_of_a_backup_not_declared_encrypted_is_refused() {
    // CowabungaLite's Manifest.plist: a keybag, but no IsEncrypted: nothing to recover.
    let Some(dir) = shared("external/cowabungalite") else {
        return;
    };
    let o = auditor(&[
        "key",
        "--hash",
        dir.join("Manifest.plist").to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(3), "{}", stderr(&o));
    assert!(o.stdout.is_empty());
    assert!(stderr(&o).contains("not encrypted"), "{}", stderr(&o));
}

// ---- default backup folders ----------------------------------------------------------------

/// A HOME holding the macOS default folder with the demo backup in it (`copies` times).
fn home_with_demo(copies: usize) -> (tempfile::TempDir, PathBuf) {
    let home = tempfile::tempdir().unwrap();
    let dir = home
        .path()
        .join("Library/Application Support/MobileSync/Backup");
    for i in 0..copies {
        let name = match i {
            0 => "00008130-000A11CE0DE0001E".to_string(),
            i => format!("00008130-000A11CE0DE0001E-{i}"),
        };
        common::copy_dir(&repo(DEMO), &dir.join(name));
    }
    std::fs::create_dir_all(&dir).unwrap();
    (home, dir)
}

#[test]
fn no_path_reads_the_default_folder_under_home() {
    let (home, dir) = home_with_demo(1);
    let env = [("HOME", home.path().to_str().unwrap())];
    let o = auditor_env(&["info", "--format", "json"], &env);
    ok(&o, "info with no path");
    let r = common::json(&o);
    assert_eq!(r["schema"], "auditor.scan/1");
    let path = r["backup"]["path"].as_str().unwrap();
    assert!(Path::new(path).starts_with(&dir), "{path}");
    let said = stderr(&o);
    assert!(
        said.contains("default folder") && said.contains("using the only backup"),
        "{said}"
    );
    let pw = repo(DEMO_PASSWORD_FILE);
    let o = auditor_env(&["scan", "--password-file", pw.to_str().unwrap()], &env);
    ok(&o, "scan with no path");
    assert!(stdout(&o).contains("Demo iPhone"));
}

#[test]
fn no_path_with_several_backups_lists_them() {
    let (home, dir) = home_with_demo(2);
    let env = [("HOME", home.path().to_str().unwrap())];
    let o = auditor_env(&["info", "--format", "json"], &env);
    ok(&o, "info listing");
    let r = common::json(&o);
    assert_eq!(r["schema"], "auditor.backups/1");
    assert_eq!(r["path"], dir.to_str().unwrap());
    assert_eq!(r["backups"].as_array().unwrap().len(), 2);
    let o = auditor_env(&["scan", "--no-password"], &env);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert!(stderr(&o).contains("holds 2 backups"), "{}", stderr(&o));
}

#[test]
fn no_path_and_no_default_folder_is_a_usage_error() {
    let home = tempfile::tempdir().unwrap();
    let env = [("HOME", home.path().to_str().unwrap())];
    let o = auditor_env(&["info"], &env);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    let said = stderr(&o);
    assert!(
        said.contains("no backup given") && said.contains("give the backup folder"),
        "{said}"
    );
    if cfg!(target_os = "linux") {
        assert!(
            said.contains("no default backup folder is known on linux"),
            "{said}"
        );
        assert!(
            said.contains("Library/Application Support/MobileSync/Backup"),
            "{said}"
        );
    }
    // An empty default folder is the same usage error, naming it.
    let dir = home
        .path()
        .join("Library/Application Support/MobileSync/Backup");
    std::fs::create_dir_all(&dir).unwrap();
    let o = auditor_env(&["scan"], &env);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert!(stderr(&o).contains("holds none"), "{}", stderr(&o));
}
