//! The built-in leak rules: data in `rules.toml`, checked and compiled once.

use super::der::DerKind;
use regex::bytes::{Regex, RegexSet};
use serde::Deserialize;
use std::sync::OnceLock;

/// What kind of sensitive data a rule finds (a JSON contract: exactly these four).
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Deserialize, serde::Serialize,
)]
#[serde(rename_all = "snake_case")]
pub enum Category {
    Credential,
    Token,
    PrivateKey,
    Personal,
}

/// How sure a match is (ordered: a `High` match wins over a `Medium` one on the same bytes).
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Deserialize, serde::Serialize,
)]
#[serde(rename_all = "snake_case")]
pub enum Confidence {
    Low,
    Medium,
    High,
}

/// A check a candidate value must pass (src/leaks/validate.rs).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Check {
    Luhn,
    Iban,
    Jwt,
    Pem,
    Email,
    Coordinate,
    NotPlaceholder,
    Entropy,
    /// A phone number (src/leaks/validate.rs `phone`).
    Phone,
    /// A BIP-39 mnemonic with a valid checksum.
    Bip39,
}

/// One rule as written in `rules.toml`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RuleSpec {
    id: String,
    category: Category,
    confidence: Confidence,
    title: String,
    why: String,
    fix: String,
    pattern: Option<String>,
    context: Option<String>,
    name: Option<String>,
    /// A structure in binary DER (src/leaks/der.rs); its examples are hex.
    der: Option<DerKind>,
    /// The value of a decryptable keychain item, found in a file (`leak.keychain-copy`).
    #[serde(default)]
    keychain: bool,
    #[serde(default)]
    validate: Vec<Check>,
    min_entropy: Option<f64>,
    min_len: Option<usize>,
    #[serde(default)]
    examples: Vec<String>,
    #[serde(default)]
    non_examples: Vec<String>,
    #[serde(default)]
    named_examples: Vec<(String, String)>,
    #[serde(default)]
    named_non_examples: Vec<(String, String)>,
}

#[derive(Deserialize)]
struct RulesFile {
    rule: Vec<RuleSpec>,
}

/// How a rule matches.
#[derive(Debug)]
pub enum Matcher {
    /// Over text: the expression, its `secret` group, and context needed before the value;
    /// and, when the rule has a `name` too, over a whole field whose name matches.
    Pattern {
        regex: Regex,
        context: Option<Regex>,
        name: Option<regex::Regex>,
    },
    /// Over a field's name; the field's value is the candidate.
    Name(regex::Regex),
    /// A value that is one DER structure of this kind (a private key, a PKCS#12 file),
    /// handed out by the decoders for each one they find in binary content
    /// ([`super::decode::binary`]) or in a base64 value ([`super::decode::encoded`]).
    Der(DerKind),
    /// A decryptable keychain item's value, searched for in each file by the sweep (its
    /// examples are the sweep's tests: they need a keychain).
    Keychain,
}

/// A compiled leak rule.
#[derive(Debug)]
pub struct Rule {
    /// Stable id (`leak.*`): a contract, listed in docs/rules.md.
    pub id: String,
    pub category: Category,
    pub confidence: Confidence,
    pub title: String,
    /// What a match means, for a developer who has not read the docs.
    pub why: String,
    /// What to do in the app.
    pub fix: String,
    pub matcher: Matcher,
    pub checks: Vec<Check>,
    pub min_entropy: f64,
    pub min_len: usize,
    /// Texts (pattern rules), hex (der rules) or `(name, value)` pairs (name rules) that
    /// must fire …
    pub examples: Vec<(String, String)>,
    /// … and near misses that must not.
    pub non_examples: Vec<(String, String)>,
}

/// The rule set: the rules, and one set of every text pattern to find candidates in one pass.
#[derive(Debug)]
pub struct Rules {
    pub rules: Vec<Rule>,
    /// The pattern rules' expressions, by position in `text_rules`.
    pub(super) set: RegexSet,
    /// Index into `rules` of each expression of `set`.
    pub(super) text_rules: Vec<usize>,
}

/// The text of `rules.toml`.
pub const RULES_TOML: &str = include_str!("rules.toml");

/// The built-in rules, compiled on first use. (`rules.toml` is part of the binary and a
/// unit test compiles it, so this cannot fail at run time.)
pub fn builtin() -> &'static Rules {
    static RULES: OnceLock<Rules> = OnceLock::new();
    RULES.get_or_init(|| Rules::parse(RULES_TOML).expect("rules.toml is checked by the tests"))
}

impl Matcher {
    /// The expression over field names, for a name rule or a pattern rule that has one.
    pub fn field_name(&self) -> Option<&regex::Regex> {
        match self {
            Matcher::Name(n) => Some(n),
            Matcher::Pattern { name, .. } => name.as_ref(),
            Matcher::Der(_) | Matcher::Keychain => None,
        }
    }
}

impl Rules {
    /// Parse and compile a rules file; every problem names the rule.
    pub fn parse(text: &str) -> Result<Rules, String> {
        let file: RulesFile = toml::from_str(text).map_err(|e| format!("rules: {e}"))?;
        let mut rules = Vec::new();
        for spec in file.rule {
            let id = spec.id.clone();
            rules.push(compile(spec).map_err(|e| format!("rule {id}: {e}"))?);
        }
        let mut seen = std::collections::HashSet::new();
        if let Some(dup) = rules.iter().find(|r| !seen.insert(r.id.as_str())) {
            return Err(format!("rule {}: defined twice", dup.id));
        }
        let (mut exprs, mut text_rules) = (Vec::new(), Vec::new());
        for (i, r) in rules.iter().enumerate() {
            if let Matcher::Pattern { regex, .. } = &r.matcher {
                exprs.push(regex.as_str().to_owned());
                text_rules.push(i);
            }
        }
        let set = RegexSet::new(&exprs).map_err(|e| format!("rules: {e}"))?;
        Ok(Rules {
            rules,
            set,
            text_rules,
        })
    }

    /// The rule with this id.
    pub fn get(&self, id: &str) -> Option<&Rule> {
        self.rules.iter().find(|r| r.id == id)
    }
}

fn compile(s: RuleSpec) -> Result<Rule, String> {
    if !s.id.starts_with("leak.") || s.id.len() <= 5 {
        return Err("an id starts with `leak.`".into());
    }
    let given = [
        s.pattern.is_some() || s.name.is_some(),
        s.der.is_some(),
        s.keychain,
    ];
    if given.iter().filter(|&&g| g).count() != 1 {
        return Err("exactly one of `pattern` (with or without `name`), `name`, `der` and `keychain = true`".into());
    }
    let name = s
        .name
        .as_deref()
        .map(regex::Regex::new)
        .transpose()
        .map_err(|e| e.to_string())?;
    if name.is_some() && (s.named_examples.is_empty() || s.named_non_examples.is_empty()) {
        return Err("a name rule needs named_examples and named_non_examples".into());
    }
    let matcher = if s.keychain {
        Matcher::Keychain
    } else if let Some(kind) = s.der {
        if s.examples.is_empty() || s.non_examples.is_empty() {
            return Err("a der rule needs examples and non_examples (hex)".into());
        }
        if let Some(bad) = s
            .examples
            .iter()
            .chain(&s.non_examples)
            .find(|e| hex::decode(e).is_err())
        {
            return Err(format!("a der rule's examples are hex, not {bad:.24}…"));
        }
        Matcher::Der(kind)
    } else if let Some(p) = &s.pattern {
        // ASCII-only classes and word boundaries where the pattern allows it: the lazy DFA
        // gives up on a Unicode `\b` at the first non-ASCII byte, and the built-in rules
        // are ASCII. A user rule that needs Unicode keeps it.
        let ascii = format!("(?-u:{p})");
        let regex = match Regex::new(&ascii) {
            Ok(r) => r,
            Err(_) => Regex::new(p).map_err(|e| e.to_string())?,
        };
        let context = s
            .context
            .as_deref()
            .map(|c| Regex::new(&format!("(?i){c}")))
            .transpose()
            .map_err(|e| e.to_string())?;
        if s.examples.is_empty() || s.non_examples.is_empty() {
            return Err("a pattern rule needs examples and non_examples".into());
        }
        Matcher::Pattern {
            regex,
            context,
            name,
        }
    } else {
        Matcher::Name(name.ok_or("a rule needs a matcher")?)
    };
    if s.validate.contains(&Check::Entropy) != s.min_entropy.is_some() {
        return Err("`entropy` and `min_entropy` go together".into());
    }
    let text = |v: Vec<String>| -> Vec<(String, String)> {
        v.into_iter().map(|t| (String::new(), t)).collect()
    };
    // Texts have no name; a pattern rule with a `name` has both kinds.
    let (examples, non_examples) = match matcher {
        Matcher::Pattern { .. } | Matcher::Der(_) => (
            text(s.examples)
                .into_iter()
                .chain(s.named_examples)
                .collect(),
            text(s.non_examples)
                .into_iter()
                .chain(s.named_non_examples)
                .collect(),
        ),
        Matcher::Name(_) | Matcher::Keychain => (s.named_examples, s.named_non_examples),
    };
    Ok(Rule {
        id: s.id,
        category: s.category,
        confidence: s.confidence,
        title: s.title,
        why: s.why,
        fix: s.fix,
        matcher,
        checks: s.validate,
        min_entropy: s.min_entropy.unwrap_or(0.0),
        min_len: s.min_len.unwrap_or(1),
        examples,
        non_examples,
    })
}
