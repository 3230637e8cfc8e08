//! The built-in tamper rules: data in `rules.toml`, checked and compiled once.

use super::shape::{self, Shape};
use crate::leaks::decode::ValueType;
use regex::Regex;
use serde::{Deserialize, Serialize};
use std::sync::OnceLock;

/// What a setting is (a JSON contract: exactly these four).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Deserialize, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Category {
    /// A security control's switch, timer or limit.
    SecuritySwitch,
    /// A server the app talks to: URL, host, port, proxy, environment.
    Endpoint,
    /// What the user may do: premium, admin, trial dates, feature flags.
    Entitlement,
    /// A whole policy or configuration document, or a managed configuration copy.
    PolicyDocument,
}

impl Category {
    /// The JSON (and table) word.
    pub fn as_str(self) -> &'static str {
        match self {
            Category::SecuritySwitch => "security_switch",
            Category::Endpoint => "endpoint",
            Category::Entitlement => "entitlement",
            Category::PolicyDocument => "policy_document",
        }
    }
}

/// One rule as written in `rules.toml`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RuleSpec {
    id: String,
    category: Category,
    title: String,
    why: String,
    fix: String,
    name: Option<String>,
    key: Option<String>,
    not_name: Option<String>,
    #[serde(default)]
    value: Vec<Shape>,
    file: Option<String>,
    not_file: Option<String>,
    #[serde(default)]
    examples: Vec<(String, String)>,
    #[serde(default)]
    non_examples: Vec<(String, String)>,
    #[serde(default)]
    file_examples: Vec<String>,
    #[serde(default)]
    file_non_examples: Vec<String>,
}

#[derive(Deserialize)]
struct RulesFile {
    rule: Vec<RuleSpec>,
}

/// How a rule matches.
#[derive(Debug)]
pub enum Matcher {
    /// A field: its name or key path (in words), and its value's shape.
    Field {
        name: Option<Regex>,
        key: Option<Regex>,
        not_name: Option<Regex>,
        shapes: Vec<Shape>,
    },
    /// A whole file by its relative path (lower case).
    File {
        path: Regex,
        not_path: Option<Regex>,
    },
}

/// A compiled tamper rule.
#[derive(Debug)]
pub struct Rule {
    /// Stable id (`tamper.*`): a contract, listed in docs/rules.md.
    pub id: String,
    pub category: Category,
    pub title: String,
    /// What a changed value means.
    pub why: String,
    /// What the app should do instead.
    pub fix: String,
    pub matcher: Matcher,
    /// `(name or key path, value)` pairs (paths for file rules, value empty) that must fire …
    pub examples: Vec<(String, String)>,
    /// … and near misses that must not.
    pub non_examples: Vec<(String, String)>,
}

/// The rule set.
#[derive(Debug)]
pub struct Rules {
    pub rules: Vec<Rule>,
}

/// The text of `rules.toml`.
pub const RULES_TOML: &str = include_str!("rules.toml");

/// The built-in rules, compiled on first use (a unit test compiles them, so this cannot
/// fail at run time).
pub fn builtin() -> &'static Rules {
    static RULES: OnceLock<Rules> = OnceLock::new();
    RULES.get_or_init(|| Rules::parse(RULES_TOML).expect("rules.toml is checked by the tests"))
}

/// A field's name in words: lower case, words joined by `_` (`isSSLPinningEnabled` →
/// `is_ssl_pinning_enabled`, `jailbreak-check` → `jailbreak_check`).
pub fn words(name: &str) -> String {
    let chars: Vec<char> = name.chars().collect();
    let mut out = String::with_capacity(name.len() + 4);
    for (i, &c) in chars.iter().enumerate() {
        if !c.is_alphanumeric() {
            if !out.is_empty() && !out.ends_with('_') {
                out.push('_');
            }
            continue;
        }
        if i > 0 && c.is_uppercase() && !out.is_empty() && !out.ends_with('_') {
            let prev = chars[i - 1];
            let next_lower = chars.get(i + 1).is_some_and(|n| n.is_lowercase());
            if prev.is_lowercase() || prev.is_ascii_digit() || (prev.is_uppercase() && next_lower) {
                out.push('_');
            }
        }
        out.extend(c.to_lowercase());
    }
    while out.ends_with('_') {
        out.pop();
    }
    out
}

/// A key path in words: each segment by [`words`] (`/com.apple.configuration.managed/serverURL`
/// → `/com_apple_configuration_managed/server_url`).
pub fn key_words(path: &str) -> String {
    path.split('/').map(words).collect::<Vec<_>>().join("/")
}

impl Rules {
    /// Parse and compile a rules file; every problem names the rule.
    pub fn parse(text: &str) -> Result<Rules, String> {
        let file: RulesFile = toml::from_str(text).map_err(|e| format!("tamper rules: {e}"))?;
        let mut rules = Vec::new();
        for spec in file.rule {
            let id = spec.id.clone();
            rules.push(compile(spec).map_err(|e| format!("rule {id}: {e}"))?);
        }
        let mut seen = std::collections::HashSet::new();
        if let Some(dup) = rules.iter().find(|r| !seen.insert(r.id.as_str())) {
            return Err(format!("rule {}: defined twice", dup.id));
        }
        Ok(Rules { rules })
    }

    /// The rule with this id.
    pub fn get(&self, id: &str) -> Option<&Rule> {
        self.rules.iter().find(|r| r.id == id)
    }

    /// The first field rule that a field named `name` (its words: [`words`]) at key path
    /// `key` (in words: [`key_words`]) with this value matches, and the shape it matched.
    pub fn match_field(
        &self,
        name: &str,
        key: &str,
        value: &[u8],
        ty: ValueType,
    ) -> Option<(&Rule, Shape)> {
        self.rules.iter().find_map(|r| {
            let shape = r.matches_field(name, key, value, ty)?;
            Some((r, shape))
        })
    }

    /// The first file rule that a file's relative path matches.
    pub fn match_file(&self, path: &str) -> Option<&Rule> {
        let lower = path.to_lowercase();
        self.rules.iter().find(|r| r.matches_file(&lower))
    }
}

impl Rule {
    /// The shape the value matched when this field rule fires on the field.
    pub fn matches_field(
        &self,
        name: &str,
        key: &str,
        value: &[u8],
        ty: ValueType,
    ) -> Option<Shape> {
        let Matcher::Field {
            name: n,
            key: k,
            not_name,
            shapes,
        } = &self.matcher
        else {
            return None;
        };
        let by_name = n.as_ref().is_some_and(|n| n.is_match(name));
        let by_key = k.as_ref().is_some_and(|k| k.is_match(key));
        if !(by_name || by_key) || not_name.as_ref().is_some_and(|x| x.is_match(name)) {
            return None;
        }
        shapes.iter().copied().find(|s| shape::fits(*s, value, ty))
    }

    /// Whether this file rule fires on a path (lower case).
    pub fn matches_file(&self, lower_path: &str) -> bool {
        match &self.matcher {
            Matcher::File { path, not_path } => {
                path.is_match(lower_path)
                    && !not_path.as_ref().is_some_and(|x| x.is_match(lower_path))
            }
            Matcher::Field { .. } => false,
        }
    }
}

fn regex(what: &str, r: &Option<String>) -> Result<Option<Regex>, String> {
    r.as_deref()
        .map(Regex::new)
        .transpose()
        .map_err(|e| format!("{what}: {e}"))
}

fn compile(s: RuleSpec) -> Result<Rule, String> {
    if !s.id.starts_with("tamper.") || s.id.len() <= 7 {
        return Err("an id starts with `tamper.`".into());
    }
    let matcher = match (&s.name, &s.key, &s.file) {
        (None, None, Some(_)) => {
            if s.file_examples.is_empty() || s.file_non_examples.is_empty() {
                return Err("a file rule needs file_examples and file_non_examples".into());
            }
            Matcher::File {
                path: regex("file", &s.file)?.expect("checked"),
                not_path: regex("not_file", &s.not_file)?,
            }
        }
        (Some(_), _, None) | (_, Some(_), None) => {
            if s.examples.is_empty() || s.non_examples.is_empty() {
                return Err("a field rule needs examples and non_examples".into());
            }
            if s.value.is_empty() {
                return Err("a field rule needs `value` (its shapes)".into());
            }
            Matcher::Field {
                name: regex("name", &s.name)?,
                key: regex("key", &s.key)?,
                not_name: regex("not_name", &s.not_name)?,
                shapes: s.value,
            }
        }
        _ => return Err("either `name`/`key`, or `file`".into()),
    };
    let (examples, non_examples) = match matcher {
        Matcher::File { .. } => {
            let paths = |v: Vec<String>| v.into_iter().map(|p| (p, String::new())).collect();
            (paths(s.file_examples), paths(s.file_non_examples))
        }
        Matcher::Field { .. } => (s.examples, s.non_examples),
    };
    Ok(Rule {
        id: s.id,
        category: s.category,
        title: s.title,
        why: s.why,
        fix: s.fix,
        matcher,
        examples,
        non_examples,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A rule's example as a field: a name, or a key path whose last segment is the name.
    fn fires(r: &Rule, (name, value): &(String, String)) -> bool {
        match r.matcher {
            Matcher::File { .. } => r.matches_file(&name.to_lowercase()),
            Matcher::Field { .. } => {
                let (key, leaf) = match name.rsplit_once('/') {
                    Some((_, leaf)) if name.starts_with('/') => (name.clone(), leaf),
                    _ => (format!("/{name}"), name.as_str()),
                };
                r.matches_field(
                    &words(leaf),
                    &key_words(&key),
                    value.as_bytes(),
                    ValueType::String,
                )
                .is_some()
            }
        }
    }

    #[test]
    fn the_rules_compile_and_every_example_and_near_miss_behaves() {
        let rules = Rules::parse(RULES_TOML).unwrap();
        assert!(rules.rules.len() >= 15);
        for r in &rules.rules {
            assert!(
                !r.examples.is_empty() && !r.non_examples.is_empty(),
                "{}",
                r.id
            );
            for ex in &r.examples {
                assert!(fires(r, ex), "{} should fire on {ex:?}", r.id);
            }
            for ex in &r.non_examples {
                assert!(!fires(r, ex), "{} should not fire on {ex:?}", r.id);
            }
        }
    }

    #[test]
    fn names_in_words() {
        for (name, want) in [
            ("isSSLPinningEnabled", "is_ssl_pinning_enabled"),
            ("jailbreak-check", "jailbreak_check"),
            (
                "com.apple.configuration.managed",
                "com_apple_configuration_managed",
            ),
            ("NSAllowsArbitraryLoads", "ns_allows_arbitrary_loads"),
            ("URL", "url"),
            ("apiBaseURL", "api_base_url"),
            ("__debug__", "debug"),
            ("Ünïcode Key", "ünïcode_key"),
        ] {
            assert_eq!(words(name), want, "{name}");
        }
        assert_eq!(key_words("/security/isDebug"), "/security/is_debug");
    }

    #[test]
    fn bad_rules_are_refused_with_their_id() {
        for (bad, why) in [
            ("[[rule]]\nid='x.y'\ncategory='endpoint'\ntitle='t'\nwhy='w'\nfix='f'\nname='a'\nvalue=['bool']\nexamples=[['a','1']]\nnon_examples=[['b','1']]", "tamper."),
            ("[[rule]]\nid='tamper.y'\ncategory='endpoint'\ntitle='t'\nwhy='w'\nfix='f'\nname='a'\nvalue=['bool']", "examples"),
            ("[[rule]]\nid='tamper.y'\ncategory='endpoint'\ntitle='t'\nwhy='w'\nfix='f'\nname='('\nvalue=['bool']\nexamples=[['a','1']]\nnon_examples=[['b','1']]", "name"),
            ("[[rule]]\nid='tamper.y'\ncategory='nope'\ntitle='t'\nwhy='w'\nfix='f'", "category"),
        ] {
            let e = Rules::parse(bad).unwrap_err();
            assert!(e.contains(why), "{e}");
        }
    }
}
