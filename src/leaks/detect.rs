//! Find where the rules match, in text or in a named field, each match as an exact byte span.

use super::rules::{Check, Matcher, Rule, Rules};
use super::validate;
use std::ops::Range;

/// Bytes before a value in which a rule's `context` must match.
pub const CONTEXT_BYTES: usize = 48;

/// One match: the rule, where the value is (byte offsets into the text or field value),
/// and what the check learnt (a JWT's expiry). The value itself is not held.
#[derive(Debug, Clone)]
pub struct Hit<'r> {
    pub rule: &'r Rule,
    pub span: Range<usize>,
    pub note: Option<String>,
}

impl Rules {
    /// Every confirmed match of the pattern rules in `text`; where matches overlap, the
    /// more confident (then the earlier rule) is kept.
    pub fn scan_text(&self, text: &[u8]) -> Vec<Hit<'_>> {
        let mut hits = Vec::new();
        for i in self.set.matches(text).iter() {
            let rule = &self.rules[self.text_rules[i]];
            let Matcher::Pattern { regex, context } = &rule.matcher else {
                continue;
            };
            for caps in regex.captures_iter(text) {
                let Some(m) = caps.name("secret").or_else(|| caps.get(0)) else {
                    continue;
                };
                let before = &text[m.start().saturating_sub(CONTEXT_BYTES)..m.start()];
                if context.as_ref().is_some_and(|c| !c.is_match(before)) {
                    continue;
                }
                if let Some(note) = confirm(rule, m.as_bytes()) {
                    hits.push(Hit {
                        rule,
                        span: m.range(),
                        note,
                    });
                }
            }
        }
        keep_best(hits)
    }

    /// The matches in a named field (a plist key, a column, a JSON member, a cookie): the
    /// name rules over the whole value, and the pattern rules inside it.
    pub fn scan_field(&self, name: &str, value: &[u8]) -> Vec<Hit<'_>> {
        let mut hits: Vec<Hit<'_>> = self
            .rules
            .iter()
            .filter(|r| matches!(&r.matcher, Matcher::Name(n) if n.is_match(name)))
            .filter_map(|rule| {
                confirm(rule, value).map(|note| Hit {
                    rule,
                    span: 0..value.len(),
                    note,
                })
            })
            .collect();
        hits.extend(self.scan_text(value));
        keep_best(hits)
    }
}

/// Does `value` pass the rule's checks? `Some(note)` when it does.
fn confirm(rule: &Rule, value: &[u8]) -> Option<Option<String>> {
    let s = std::str::from_utf8(value).ok()?;
    if s.trim().chars().count() < rule.min_len {
        return None;
    }
    let mut note = None;
    for check in &rule.checks {
        let ok = match check {
            Check::Luhn => validate::luhn(s),
            Check::Iban => validate::iban(s),
            Check::Pem => validate::pem(s),
            Check::Email => validate::email(s),
            Check::Coordinate => validate::coordinate(s),
            Check::NotPlaceholder => validate::not_placeholder(s),
            Check::Entropy => validate::entropy(s.trim().as_bytes()) >= rule.min_entropy,
            Check::Jwt => match validate::jwt(s) {
                Some(n) => {
                    note = n;
                    true
                }
                None => false,
            },
        };
        if !ok {
            return None;
        }
    }
    Some(note)
}

/// Of overlapping hits keep the most confident (then the earlier rule); in text order.
fn keep_best(mut hits: Vec<Hit<'_>>) -> Vec<Hit<'_>> {
    if hits.len() < 2 {
        return hits;
    }
    let rank = |h: &Hit<'_>| (std::cmp::Reverse(h.rule.confidence), h.span.start);
    hits.sort_by_key(rank);
    let mut kept: Vec<Hit<'_>> = Vec::with_capacity(hits.len());
    for h in hits {
        let overlaps = kept
            .iter()
            .any(|k| k.span.start < h.span.end && h.span.start < k.span.end);
        if !overlaps {
            kept.push(h);
        }
    }
    kept.sort_by_key(|h| h.span.start);
    kept
}
