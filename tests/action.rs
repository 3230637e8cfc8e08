//! The GitHub Action (action.yml) and the workflow (.github/workflows/ci.yml): their YAML
//! checked (keys, inputs, outputs, steps), and the Action's shell steps run with bash on the
//! bundled demo backup the way the runner runs them.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::path::{Path, PathBuf};
use std::process::Command;

use regex::Regex;
use yaml_rust2::{Yaml, YamlLoader};

const DEMO: &str = "fixtures/demo/00008130-000A11CE0DE0001E";
const DEMO_PASSWORD_FILE: &str = "fixtures/demo/password.txt";
const PASSING: &str = "tests/data/policy/demo.toml";
const FAILING: &str = "tests/data/policy/demo-fail.toml";

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

fn load(rel: &str) -> Yaml {
    let text = std::fs::read_to_string(root().join(rel)).unwrap();
    let mut docs = YamlLoader::load_from_str(&text).unwrap_or_else(|e| panic!("{rel}: {e}"));
    assert_eq!(docs.len(), 1, "{rel}: one YAML document");
    docs.remove(0)
}

/// A scalar as the runner sees it: every input and `with:` value is a string.
fn scalar(y: &Yaml) -> Option<String> {
    match y {
        Yaml::String(s) | Yaml::Real(s) => Some(s.clone()),
        Yaml::Integer(i) => Some(i.to_string()),
        Yaml::Boolean(b) => Some(b.to_string()),
        _ => None,
    }
}

fn keys(y: &Yaml) -> Vec<String> {
    y.as_hash()
        .map(|h| h.keys().filter_map(scalar).collect())
        .unwrap_or_default()
}

fn steps(action: &Yaml) -> &Vec<Yaml> {
    action["runs"]["steps"]
        .as_vec()
        .expect("runs.steps is a list")
}

fn step<'a>(action: &'a Yaml, id: &str) -> &'a Yaml {
    steps(action)
        .iter()
        .find(|s| s["id"].as_str() == Some(id))
        .unwrap_or_else(|| panic!("action.yml has no step with id {id}"))
}

/// Every string anywhere below `y` (keys excluded).
fn strings(y: &Yaml, out: &mut Vec<String>) {
    match y {
        Yaml::Hash(h) => h.values().for_each(|v| strings(v, out)),
        Yaml::Array(a) => a.iter().for_each(|v| strings(v, out)),
        _ => out.extend(scalar(y)),
    }
}

/// The `.github/action/*.sh` scripts a `run:` calls, read from the repository.
fn scripts_of(run: &str) -> Vec<(String, String)> {
    let re = Regex::new(r#"\$GITHUB_ACTION_PATH/(\.github/action/[A-Za-z0-9_.-]+\.sh)"#).unwrap();
    re.captures_iter(run)
        .map(|c| {
            let rel = c[1].to_string();
            let text = std::fs::read_to_string(root().join(&rel))
                .unwrap_or_else(|e| panic!("{rel} (called by action.yml): {e}"));
            (rel, text)
        })
        .collect()
}

/// The outputs a `run:` step can write: `set_output NAME` in its inline script and in the
/// scripts it calls.
fn outputs_written(run: &str) -> BTreeSet<String> {
    let re = Regex::new(r"set_output ([A-Za-z0-9_-]+)").unwrap();
    let mut all = run.to_string();
    for (_, text) in scripts_of(run) {
        all.push_str(&text);
    }
    re.captures_iter(&all).map(|c| c[1].to_string()).collect()
}

/// The outputs of the actions used as steps (their documented outputs).
fn outputs_of_uses(uses: &str) -> BTreeSet<String> {
    let names: &[&str] = if uses.starts_with("actions/cache/restore@") {
        &["cache-hit", "cache-primary-key", "cache-matched-key"]
    } else if uses.starts_with("actions/cache/save@") {
        &[]
    } else if uses.starts_with("github/codeql-action/upload-sarif@") {
        &["sarif-id"]
    } else {
        panic!("action.yml uses {uses}: add its outputs to this test")
    };
    names.iter().map(|s| s.to_string()).collect()
}

#[test]
fn action_is_a_documented_composite() {
    let a = load("action.yml");
    for k in ["name", "description"] {
        assert!(
            a[k].as_str().is_some_and(|s| !s.is_empty()),
            "action.yml {k}"
        );
    }
    assert_eq!(a["runs"]["using"].as_str(), Some("composite"));
    let inputs = keys(&a["inputs"]);
    for name in [
        "backup",
        "policy",
        "key",
        "password",
        "password-file",
        "sarif",
        "upload-sarif",
        "install",
        "args",
    ] {
        assert!(inputs.contains(&name.to_string()), "input {name} declared");
    }
    for name in &inputs {
        let i = &a["inputs"][name.as_str()];
        assert!(
            i["description"].as_str().is_some_and(|d| d.len() > 10),
            "input {name} has a description"
        );
    }
    assert_eq!(
        a["inputs"]["sarif"]["default"].as_str(),
        Some("auditor.sarif")
    );
    assert_eq!(
        a["inputs"]["upload-sarif"]["default"].as_str(),
        Some("true")
    );
    assert_eq!(a["inputs"]["install"]["default"].as_str(), Some("build"));
    for name in ["backup", "policy"] {
        assert_eq!(
            a["inputs"][name]["required"].as_bool(),
            Some(true),
            "{name}"
        );
    }
    for name in ["exit-code", "sarif"] {
        let o = &a["outputs"][name];
        assert!(o["description"].as_str().is_some(), "output {name}");
        assert!(o["value"].as_str().is_some(), "output {name} has a value");
    }
}

#[test]
fn inputs_used_are_the_inputs_declared() {
    let a = load("action.yml");
    let declared: BTreeSet<String> = keys(&a["inputs"]).into_iter().collect();
    let mut texts = Vec::new();
    strings(&a["runs"], &mut texts);
    strings(&a["outputs"], &mut texts);
    let re = Regex::new(r"\binputs\.([A-Za-z0-9_-]+)").unwrap();
    let used: BTreeSet<String> = texts
        .iter()
        .flat_map(|t| re.captures_iter(t).map(|c| c[1].to_string()))
        .collect();
    assert_eq!(used, declared, "inputs used in steps vs declared");
    // And never interpolated into a script (injection): only through `env:`.
    for s in steps(&a) {
        if let Some(run) = s["run"].as_str() {
            assert!(!run.contains("${{"), "expression in a run script: {run}");
        }
    }
}

#[test]
fn steps_are_well_formed() {
    let a = load("action.yml");
    let mut ids = BTreeSet::new();
    let pinned = Regex::new(r"^[\w.-]+/[\w./-]+@v\d+$").unwrap();
    for s in steps(&a) {
        let name = s["name"].as_str().expect("every step has a name");
        if let Some(id) = s["id"].as_str() {
            assert!(ids.insert(id.to_string()), "step id {id} repeated");
        }
        match (s["run"].as_str(), s["uses"].as_str()) {
            (Some(run), None) => {
                assert_eq!(s["shell"].as_str(), Some("bash"), "step {name}: shell");
                for (rel, _) in scripts_of(run) {
                    // The scripts parse (bash -n) where bash is installed.
                    let out = Command::new("bash")
                        .arg("-n")
                        .arg(root().join(&rel))
                        .output();
                    if let Ok(out) = out {
                        assert!(out.status.success(), "bash -n {rel}: {out:?}");
                    }
                }
            }
            (None, Some(uses)) => {
                // Pinned to a major version.
                assert!(pinned.is_match(uses), "step {name}: uses {uses}");
                assert!(
                    s["shell"].is_badvalue(),
                    "step {name}: shell on a uses step"
                );
            }
            _ => panic!("step {name}: exactly one of run and uses"),
        }
    }
    for id in ["install", "key-plan", "key", "check", "result"] {
        assert!(ids.contains(id), "step id {id}");
    }
}

#[test]
fn step_outputs_referenced_exist() {
    let a = load("action.yml");
    let re = Regex::new(r"\bsteps\.([A-Za-z0-9_-]+)\.outputs\.([A-Za-z0-9_-]+)").unwrap();
    // Step id → (position, outputs it writes).
    let mut known: HashMap<String, (usize, BTreeSet<String>)> = HashMap::new();
    for (i, s) in steps(&a).iter().enumerate() {
        if let Some(id) = s["id"].as_str() {
            let outs = match (s["run"].as_str(), s["uses"].as_str()) {
                (Some(run), _) => outputs_written(run),
                (_, Some(uses)) => outputs_of_uses(uses),
                _ => unreachable!(),
            };
            known.insert(id.to_string(), (i, outs));
        }
    }
    let check = |text: &str, at: usize, what: &str| {
        for c in re.captures_iter(text) {
            let (id, out) = (&c[1], &c[2]);
            let (pos, outs) = known
                .get(id)
                .unwrap_or_else(|| panic!("{what}: no step with id {id}"));
            assert!(*pos < at, "{what}: step {id} runs later");
            assert!(
                outs.contains(out),
                "{what}: step {id} writes no output {out} ({outs:?})"
            );
        }
    };
    for (i, s) in steps(&a).iter().enumerate() {
        let mut texts = Vec::new();
        strings(s, &mut texts);
        for t in texts {
            check(&t, i, &format!("step {}", s["name"].as_str().unwrap()));
        }
    }
    let n = steps(&a).len();
    for name in keys(&a["outputs"]) {
        let v = a["outputs"][name.as_str()]["value"].as_str().unwrap();
        assert!(re.is_match(v), "output {name} refers to a step output");
        check(v, n, &format!("output {name}"));
    }
    assert!(a["outputs"]["exit-code"]["value"]
        .as_str()
        .unwrap()
        .contains("steps.check.outputs.exit-code"));
    assert_eq!(
        a["outputs"]["sarif"]["value"].as_str(),
        Some("${{ steps.check.outputs.sarif }}")
    );
}

#[test]
fn check_exit_code_is_propagated_after_the_upload() {
    let a = load("action.yml");
    let all = steps(&a);
    let pos = |pred: &dyn Fn(&Yaml) -> bool| all.iter().position(pred).unwrap();
    let check = pos(&|s| s["id"].as_str() == Some("check"));
    let upload = pos(&|s| {
        s["uses"]
            .as_str()
            .is_some_and(|u| u.starts_with("github/codeql-action/upload-sarif@v3"))
    });
    let result = pos(&|s| s["id"].as_str() == Some("result"));
    assert!(
        check < upload && upload < result,
        "check, upload, then fail"
    );

    // The check step writes the SARIF and keeps the exit code.
    let c = &all[check];
    let script = scripts_of(c["run"].as_str().unwrap());
    assert_eq!(script.len(), 1);
    let body = &script[0].1;
    assert!(body.contains("--format sarif --output \"$sarif\""));
    assert!(body.contains("set_output exit-code \"$code\""));
    assert!(
        body.trim_end().ends_with("exit 0"),
        "check step succeeds itself"
    );

    let u = &all[upload];
    let cond = u["if"].as_str().unwrap();
    assert!(cond.contains("always()"), "{cond}");
    assert!(cond.contains("inputs.upload-sarif == 'true'"), "{cond}");
    assert_eq!(
        u["with"]["sarif_file"].as_str(),
        Some("${{ steps.check.outputs.sarif }}")
    );

    let r = &all[result];
    let cond = r["if"].as_str().unwrap();
    assert!(cond.contains("always()") && cond.contains("steps.check.outputs.exit-code"));
    assert_eq!(
        r["env"]["EXIT_CODE"].as_str(),
        Some("${{ steps.check.outputs.exit-code }}")
    );
    assert!(r["run"].as_str().unwrap().contains("exit \"$EXIT_CODE\""));
    assert_eq!(r, all.last().unwrap(), "failing is the last step");
}

#[test]
fn caches_are_saved_explicitly() {
    // actions/cache's own post step saves only when the job succeeds: a job that fails the
    // policy would never keep its build or key. restore + save instead.
    let a = load("action.yml");
    let uses: Vec<&str> = steps(&a)
        .iter()
        .filter_map(|s| s["uses"].as_str())
        .collect();
    assert!(
        !uses.iter().any(|u| u.starts_with("actions/cache@")),
        "{uses:?}"
    );
    assert_eq!(
        uses.iter()
            .filter(|u| u.starts_with("actions/cache/restore@v4"))
            .count(),
        2
    );
    assert_eq!(
        uses.iter()
            .filter(|u| u.starts_with("actions/cache/save@v4"))
            .count(),
        2
    );
    let restore = step(&a, "key-cache");
    assert_eq!(
        restore["with"]["key"].as_str(),
        Some("${{ steps.key-plan.outputs.cache-key }}")
    );
    assert_eq!(
        restore["with"]["path"].as_str(),
        Some("${{ steps.key-plan.outputs.key-file }}")
    );
}

#[test]
fn workflow_runs_the_tests_and_the_action() {
    let w = load(".github/workflows/ci.yml");
    let a = load("action.yml");
    // YAML 1.2: `on` is a string key, not a boolean.
    let on = keys(&w["on"]);
    assert!(
        on.contains(&"push".into()) && on.contains(&"pull_request".into()),
        "{on:?}"
    );

    let runs = |job: &str| -> String {
        let mut t = Vec::new();
        strings(&w["jobs"][job]["steps"], &mut t);
        t.join("\n")
    };
    let test = runs("test");
    for cmd in [
        "actions/checkout@v4",
        "rustup",
        "cargo test --locked",
        "cargo clippy --locked --all-targets -- -D warnings",
        "cargo fmt --all -- --check",
    ] {
        assert!(test.contains(cmd), "job test runs {cmd}");
    }

    let declared: BTreeSet<String> = keys(&a["inputs"]).into_iter().collect();
    let outputs: BTreeSet<String> = keys(&a["outputs"]).into_iter().collect();
    let steps = w["jobs"]["action"]["steps"].as_vec().unwrap();
    let local: Vec<&Yaml> = steps
        .iter()
        .filter(|s| s["uses"].as_str() == Some("./"))
        .collect();
    assert!(local.len() >= 2, "the workflow runs the local action");
    let mut ids = BTreeSet::new();
    for s in &local {
        let id = s["id"].as_str().expect("uses: ./ has an id");
        ids.insert(id.to_string());
        let with = keys(&s["with"]);
        for k in &with {
            assert!(declared.contains(k), "step {id}: input {k} is not declared");
        }
        for k in ["backup", "policy"] {
            assert!(with.contains(&k.to_string()), "step {id}: {k}");
        }
        // Forks cannot upload to code scanning.
        assert_eq!(scalar(&s["with"]["upload-sarif"]).as_deref(), Some("false"));
        for k in ["backup", "policy", "password-file"] {
            if let Some(p) = s["with"][k].as_str() {
                assert!(
                    root().join(p).exists(),
                    "step {id}: {k} {p} is not in the repository"
                );
            }
        }
    }
    assert_eq!(
        local[0]["with"]["backup"].as_str(),
        Some(DEMO),
        "the bundled demo backup"
    );
    // The outputs read afterwards are the action's, of its `uses: ./` steps.
    let re = Regex::new(r"\bsteps\.([A-Za-z0-9_-]+)\.(outputs\.([A-Za-z0-9_-]+)|outcome)").unwrap();
    let mut checked = BTreeMap::new();
    for s in steps {
        let mut t = Vec::new();
        strings(s, &mut t);
        for text in t {
            for c in re.captures_iter(&text) {
                assert!(
                    ids.contains(&c[1]),
                    "steps.{} is not a uses: ./ step",
                    &c[1]
                );
                if let Some(o) = c.get(3) {
                    assert!(
                        outputs.contains(o.as_str()),
                        "output {} not declared",
                        o.as_str()
                    );
                    *checked.entry(c[1].to_string()).or_insert(0) += 1;
                }
            }
        }
    }
    for id in &ids {
        assert!(
            checked.contains_key(id),
            "the outputs of step {id} are checked"
        );
    }
    // The failing runs are allowed to fail so that their outputs are checked.
    for s in &local[1..] {
        assert_eq!(s["continue-on-error"].as_bool(), Some(true));
    }
}

/// A tiny runner for the composite's `run:` steps: the step's `env:` with `${{ inputs.NAME }}`
/// (the test's values over the declared defaults), `${{ steps.ID.outputs.NAME }}` (outputs of
/// the steps run so far, or seeded) and `${{ github.action_path }}` substituted, GITHUB_OUTPUT
/// read back after each step.
#[cfg(unix)]
struct Runner {
    action: Yaml,
    inputs: HashMap<String, String>,
    outputs: HashMap<String, HashMap<String, String>>,
    dir: tempfile::TempDir,
    /// All a step printed, over the whole run (stdout + stderr + the summary).
    log: String,
}

#[cfg(unix)]
struct StepRun {
    code: i32,
    stdout: String,
}

#[cfg(unix)]
impl Runner {
    fn new(inputs: &[(&str, &str)]) -> Runner {
        let action = load("action.yml");
        let mut all: HashMap<String, String> = HashMap::new();
        for name in keys(&action["inputs"]) {
            let d = scalar(&action["inputs"][name.as_str()]["default"]).unwrap_or_default();
            all.insert(name, d);
        }
        for (k, v) in inputs {
            assert!(all.contains_key(*k), "input {k} is not declared");
            all.insert(k.to_string(), v.to_string());
        }
        let dir = tempfile::tempdir().unwrap();
        for sub in ["workspace", "temp", "home"] {
            std::fs::create_dir(dir.path().join(sub)).unwrap();
        }
        let mut r = Runner {
            action,
            inputs: all,
            outputs: HashMap::new(),
            dir,
            log: String::new(),
        };
        // What the install step would say (tested on its own in install_step_path_mode).
        r.seed("install", "bin", env!("CARGO_BIN_EXE_auditor"));
        r
    }

    fn seed(&mut self, step: &str, name: &str, value: &str) {
        self.outputs
            .entry(step.into())
            .or_default()
            .insert(name.into(), value.into());
    }

    fn output(&self, step: &str, name: &str) -> String {
        self.outputs
            .get(step)
            .and_then(|o| o.get(name))
            .cloned()
            .unwrap_or_default()
    }

    fn workspace(&self) -> PathBuf {
        self.dir.path().join("workspace")
    }

    fn temp(&self) -> PathBuf {
        self.dir.path().join("temp")
    }

    fn substitute(&self, text: &str) -> String {
        let re = Regex::new(r"\$\{\{\s*([^}]*?)\s*\}\}").unwrap();
        let steps = Regex::new(r"^steps\.([A-Za-z0-9_-]+)\.outputs\.([A-Za-z0-9_-]+)$").unwrap();
        re.replace_all(text, |c: &regex::Captures| {
            let e = &c[1];
            if let Some(name) = e.strip_prefix("inputs.") {
                self.inputs
                    .get(name)
                    .unwrap_or_else(|| panic!("undeclared input {name}"))
                    .clone()
            } else if let Some(s) = steps.captures(e) {
                self.output(&s[1], &s[2])
            } else if e == "github.action_path" {
                root().display().to_string()
            } else {
                panic!("expression the test runner does not evaluate: {e}")
            }
        })
        .into_owned()
    }

    fn run(&mut self, id: &str, extra_env: &[(&str, &str)]) -> StepRun {
        let s = step(&self.action, id).clone();
        assert_eq!(s["shell"].as_str(), Some("bash"));
        let script = self.substitute(s["run"].as_str().unwrap());
        let out_file = self.dir.path().join(format!("output-{id}"));
        let summary = self.dir.path().join("summary");
        std::fs::write(&out_file, "").unwrap();
        let script_file = self.dir.path().join(format!("step-{id}.sh"));
        std::fs::write(&script_file, &script).unwrap();
        let mut cmd = Command::new("bash");
        // What the runner runs for `shell: bash`.
        cmd.args(["--noprofile", "--norc", "-eo", "pipefail"])
            .arg(&script_file)
            .current_dir(self.workspace())
            .env_remove("AUDITOR_PASSWORD")
            .env_remove("AUDITOR_BIN")
            .env("GITHUB_ACTION_PATH", root())
            .env("GITHUB_WORKSPACE", self.workspace())
            .env("GITHUB_OUTPUT", &out_file)
            .env("GITHUB_PATH", self.dir.path().join("path"))
            .env("GITHUB_ENV", self.dir.path().join("env"))
            .env("GITHUB_STEP_SUMMARY", &summary)
            .env("RUNNER_TEMP", self.temp())
            .env("RUNNER_OS", "Linux")
            .env("NO_COLOR", "1");
        if let Some(env) = s["env"].as_hash() {
            for (k, v) in env {
                let v = self.substitute(&scalar(v).unwrap());
                cmd.env(k.as_str().unwrap(), v);
            }
        }
        for (k, v) in extra_env {
            cmd.env(k, v);
        }
        let out = cmd.output().unwrap();
        let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
        let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
        self.log.push_str(&stdout);
        self.log.push_str(&stderr);
        let written = std::fs::read_to_string(&out_file).unwrap();
        self.log.push_str(&written);
        for (k, v) in parse_outputs(&written) {
            self.seed(id, &k, &v);
        }
        if let Ok(sum) = std::fs::read_to_string(&summary) {
            self.log.push_str(&sum);
        }
        StepRun {
            code: out.status.code().expect("exit code"),
            stdout,
        }
    }

    fn sarif(&self) -> serde_json::Value {
        let p = self.workspace().join(self.output("check", "sarif"));
        serde_json::from_slice(&std::fs::read(&p).unwrap()).unwrap()
    }
}

/// GITHUB_OUTPUT: `name=value` lines and `name<<DELIM` … `DELIM` blocks.
#[cfg(unix)]
fn parse_outputs(text: &str) -> Vec<(String, String)> {
    let mut out = Vec::new();
    let mut lines = text.lines();
    while let Some(l) = lines.next() {
        if let Some((name, delim)) = l.split_once("<<") {
            let mut v = Vec::new();
            for l in lines.by_ref() {
                if l == delim {
                    break;
                }
                v.push(l);
            }
            out.push((name.to_string(), v.join("\n")));
        } else if let Some((name, v)) = l.split_once('=') {
            out.push((name.to_string(), v.to_string()));
        }
    }
    out
}

#[cfg(unix)]
fn abs(rel: &str) -> String {
    root().join(rel).display().to_string()
}

#[cfg(unix)]
fn mode(p: &Path) -> u32 {
    use std::os::unix::fs::PermissionsExt;
    std::fs::metadata(p).unwrap().permissions().mode() & 0o777
}

#[cfg(unix)]
#[test]
fn password_file_then_cached_key_pass_and_fail() {
    // First job: the key cache misses, the key is derived from the password file.
    let mut r = Runner::new(&[
        ("backup", &abs(DEMO)),
        ("policy", &abs(PASSING)),
        ("password-file", &abs(DEMO_PASSWORD_FILE)),
        ("sarif", "reports/auditor.sarif"),
    ]);
    assert_eq!(r.run("key-plan", &[]).code, 0);
    assert_eq!(r.output("key-plan", "source"), "password");
    let cache_key = r.output("key-plan", "cache-key");
    assert!(
        Regex::new("^auditor-key-[0-9a-f]{64}$")
            .unwrap()
            .is_match(&cache_key),
        "{cache_key}"
    );
    let key_file = PathBuf::from(r.output("key-plan", "key-file"));
    assert!(key_file.starts_with(r.temp()), "{key_file:?}");
    assert!(!key_file.exists(), "nothing restored: a miss");

    assert_eq!(r.run("key", &[]).code, 0);
    assert_eq!(r.output("key", "derived"), "true");
    assert_eq!(PathBuf::from(r.output("key", "key-file")), key_file);
    assert_eq!(mode(&key_file), 0o600);
    assert_eq!(mode(key_file.parent().unwrap()), 0o700);
    let key = std::fs::read_to_string(&key_file).unwrap();
    let key = key.trim();
    assert!(Regex::new("^[0-9a-f]{64}$").unwrap().is_match(key));

    let c = r.run("check", &[]);
    assert_eq!(c.code, 0, "the check step itself succeeds");
    assert_eq!(r.output("check", "exit-code"), "0");
    assert_eq!(r.output("check", "sarif"), "reports/auditor.sarif");
    assert_eq!(r.output("check", "sarif-written"), "true");
    let sarif = r.sarif();
    assert_eq!(sarif["version"], "2.1.0");
    assert_eq!(sarif["runs"][0]["results"].as_array().unwrap().len(), 0);
    assert!(c.stdout.contains("PASSED: 9 expectations"), "{}", c.stdout);
    assert_eq!(r.run("result", &[]).code, 0);
    assert!(!r.log.contains(key), "the derived key was printed");

    // Second job, same keybag: the same cache key, and the key the cache restores is used
    // (not derived again); the failing policy fails the job with exit 1 after the SARIF.
    let mut r2 = Runner::new(&[
        ("backup", &abs(DEMO)),
        ("policy", &abs(FAILING)),
        ("password-file", &abs(DEMO_PASSWORD_FILE)),
    ]);
    assert_eq!(r2.run("key-plan", &[]).code, 0);
    assert_eq!(r2.output("key-plan", "cache-key"), cache_key);
    let restored = PathBuf::from(r2.output("key-plan", "key-file"));
    std::fs::create_dir_all(restored.parent().unwrap()).unwrap();
    std::fs::write(&restored, format!("{key}\n")).unwrap();
    assert_eq!(r2.run("key", &[]).code, 0);
    assert_eq!(r2.output("key", "derived"), "false");
    assert_eq!(mode(&restored), 0o600);
    assert_eq!(r2.run("check", &[]).code, 0);
    assert_eq!(r2.output("check", "exit-code"), "1");
    assert_eq!(r2.output("check", "sarif"), "auditor.sarif", "the default");
    let results = r2.sarif()["runs"][0]["results"].clone();
    let results = results.as_array().unwrap();
    assert_eq!(results.len(), 1);
    assert_eq!(results[0]["ruleId"], "policy.keychain-device-bound");
    let f = r2.run("result", &[]);
    assert_eq!(f.code, 1, "the job fails as check does");
    assert!(
        f.stdout
            .contains("::error title=auditor::auditor check exited 1: the backup fails"),
        "{}",
        f.stdout
    );
    assert!(r2.log.contains("### auditor check: exit 1"), "job summary");
    assert!(!r2.log.contains(key));
}

#[cfg(unix)]
#[test]
fn key_input_is_masked_and_never_printed() {
    let key = {
        let dir = tempfile::tempdir().unwrap();
        let k = dir.path().join("k");
        let out = Command::new(env!("CARGO_BIN_EXE_auditor"))
            .args([
                "key",
                &abs(DEMO),
                "--password-file",
                &abs(DEMO_PASSWORD_FILE),
                "-o",
            ])
            .arg(&k)
            .output()
            .unwrap();
        assert!(out.status.success(), "{out:?}");
        std::fs::read_to_string(k).unwrap().trim().to_string()
    };
    let mut r = Runner::new(&[
        ("backup", &abs(DEMO)),
        ("policy", &abs(PASSING)),
        ("key", &key),
        // Both given: the key wins, the password is never used.
        ("password", "not-the-password"),
        ("args", "--strict"),
    ]);
    let plan = r.run("key-plan", &[]);
    assert_eq!(plan.code, 0);
    assert_eq!(r.output("key-plan", "source"), "key");
    assert_eq!(
        r.output("key-plan", "cache-key"),
        "",
        "a key input is not cached"
    );
    assert!(plan.stdout.contains(&format!("::add-mask::{key}\n")));
    assert!(plan.stdout.contains("::add-mask::not-the-password\n"));
    assert_eq!(r.run("key", &[]).code, 0);
    assert_eq!(r.output("key", "derived"), "false");
    let kf = PathBuf::from(r.output("key", "key-file"));
    assert_eq!(std::fs::read_to_string(&kf).unwrap().trim(), key);
    assert_eq!(mode(&kf), 0o600);
    assert_eq!(r.run("check", &[]).code, 0);
    assert_eq!(r.output("check", "exit-code"), "0");
    assert_eq!(r.run("result", &[]).code, 0);
    // The key appears only in the mask command, which the runner does not log.
    for line in r.log.lines().filter(|l| l.contains(&key)) {
        assert!(line.starts_with("::add-mask::"), "key printed: {line}");
    }
}

#[cfg(unix)]
#[test]
fn credential_and_policy_errors_keep_their_exit_codes() {
    // Wrong password: `auditor key` fails (3); the job stops there with that code.
    let mut r = Runner::new(&[
        ("backup", &abs(DEMO)),
        ("policy", &abs(PASSING)),
        ("password", "wrong-password"),
    ]);
    assert_eq!(r.run("key-plan", &[]).code, 0);
    let k = r.run("key", &[]);
    assert_eq!(k.code, 3);
    assert_eq!(r.output("key", "exit-code"), "3");
    assert!(k
        .stdout
        .contains("::error title=auditor::auditor key exited 3"));
    assert!(!Path::new(&r.output("key-plan", "key-file")).exists());
    for line in r.log.lines().filter(|l| l.contains("wrong-password")) {
        assert!(line.starts_with("::add-mask::"), "password printed: {line}");
    }

    // A wrong key: check says 3, and the last step fails with it.
    let zeros = "0".repeat(64);
    let mut r = Runner::new(&[
        ("backup", &abs(DEMO)),
        ("policy", &abs(PASSING)),
        ("key", &zeros),
        ("table", "false"),
    ]);
    r.run("key-plan", &[]);
    assert_eq!(r.run("key", &[]).code, 0);
    assert_eq!(r.run("check", &[]).code, 0);
    assert_eq!(r.output("check", "exit-code"), "3");
    assert_eq!(r.output("check", "sarif-written"), "false");
    assert_eq!(r.run("result", &[]).code, 3);

    // No credentials at all on an encrypted backup whose policy needs the index: 3.
    let mut r = Runner::new(&[("backup", &abs(DEMO)), ("policy", &abs(PASSING))]);
    r.run("key-plan", &[]);
    assert_eq!(r.output("key-plan", "source"), "none");
    assert_eq!(r.output("key-plan", "cache-key"), "");
    assert_eq!(r.run("key", &[]).code, 0);
    assert_eq!(r.output("key", "key-file"), "");
    r.run("check", &[]);
    assert_eq!(r.output("check", "exit-code"), "3");
    assert_eq!(r.run("result", &[]).code, 3);

    // A policy that is not there: 2, no SARIF, so nothing to upload.
    let mut r = Runner::new(&[
        ("backup", &abs(DEMO)),
        ("policy", "no/such/policy.toml"),
        ("password-file", &abs(DEMO_PASSWORD_FILE)),
    ]);
    r.run("key-plan", &[]);
    r.run("key", &[]);
    r.run("check", &[]);
    assert_eq!(r.output("check", "exit-code"), "2");
    assert_eq!(r.output("check", "sarif-written"), "false");
    assert!(!r.workspace().join("auditor.sarif").exists());
    assert_eq!(r.run("result", &[]).code, 2);

    // An unreadable backup: 4 (no hash line, so no cache key; `auditor key` says why).
    let mut r = Runner::new(&[
        ("backup", "no/such/backup"),
        ("policy", &abs(PASSING)),
        ("password-file", &abs(DEMO_PASSWORD_FILE)),
    ]);
    r.run("key-plan", &[]);
    assert_eq!(r.output("key-plan", "cache-key"), "");
    assert_eq!(r.run("key", &[]).code, 4);
    assert_eq!(r.output("key", "exit-code"), "4");
}

#[cfg(unix)]
#[test]
fn install_step_path_mode_and_build_plan() {
    let bin = PathBuf::from(env!("CARGO_BIN_EXE_auditor"));
    let path = format!(
        "{}:{}",
        bin.parent().unwrap().display(),
        std::env::var("PATH").unwrap_or_default()
    );
    let mut r = Runner::new(&[("install", "path")]);
    r.outputs.clear();
    let s = r.run("install", &[("PATH", &path)]);
    assert_eq!(s.code, 0);
    assert!(s.stdout.starts_with("auditor "), "{}", s.stdout);
    assert_eq!(PathBuf::from(r.output("install", "bin")), bin);
    let added = std::fs::read_to_string(r.dir.path().join("path")).unwrap();
    assert_eq!(added.trim(), bin.parent().unwrap().display().to_string());

    // Nothing on PATH: exit 2 with an error annotation.
    let mut r = Runner::new(&[("install", "path")]);
    let s = r.run("install", &[("PATH", "/nonexistent:/usr/bin:/bin")]);
    assert_eq!(s.code, 2);
    assert!(s
        .stdout
        .contains("::error title=auditor::install is 'path'"));

    // The build cache key: runner, toolchain, Cargo.lock, sources.
    if Command::new("rustc").arg("-V").output().is_ok() {
        let mut r = Runner::new(&[]);
        assert_eq!(r.run("build-plan", &[]).code, 0);
        let key = r.output("build-plan", "key");
        let prefix = r.output("build-plan", "restore-key");
        assert!(
            Regex::new("^auditor-build-Linux-[^-]+-[0-9a-f]{12}-[0-9a-f]{16}-$")
                .unwrap()
                .is_match(&prefix),
            "{prefix}"
        );
        assert!(
            key.starts_with(&prefix) && key.len() == prefix.len() + 16,
            "{key}"
        );
    }
}
