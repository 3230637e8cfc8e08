//! Find where the rules match, in text or in a named field, each match as an exact byte span.

use super::rules::{Check, Matcher, Rule, Rules};
use super::{der, validate};
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
        // A value that is one DER private key or PKCS#12 file (handed out whole by the
        // decoders, see `der`) holds no text: only the `der` rules apply.
        if text.first() == Some(&0x30) {
            if let Some(s) = der::classify(text) {
                return self.der_hits(s, text.len());
            }
        }
        let mut hits = Vec::new();
        for i in self.set.matches(text).iter() {
            let rule = &self.rules[self.text_rules[i]];
            let Matcher::Pattern { regex, context, .. } = &rule.matcher else {
                continue;
            };
            for caps in regex.captures_iter(text) {
                // `secret`, or in an expression of alternatives the `secret…` group that
                // took part; the whole match when there is none.
                let Some(m) = regex
                    .capture_names()
                    .enumerate()
                    .filter(|(_, n)| n.is_some_and(|n| n.starts_with("secret")))
                    .find_map(|(i, _)| caps.get(i))
                    .or_else(|| caps.get(0))
                else {
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

    /// The `der` rules of the structure's kind, over the whole value.
    fn der_hits(&self, s: der::Structure, len: usize) -> Vec<Hit<'_>> {
        self.rules
            .iter()
            .filter(|r| matches!(r.matcher, Matcher::Der(k) if k == s.kind))
            .map(|rule| Hit {
                rule,
                span: 0..len,
                note: Some(s.what.to_owned()),
            })
            .collect()
    }

    /// The matches in a named field (a plist key, a column, a JSON member, a cookie): the
    /// pattern rules inside it, and the name rules over the whole value (after them, so
    /// that of two equally sure matches on the same bytes the more specific pattern wins).
    pub fn scan_field(&self, name: &str, value: &[u8]) -> Vec<Hit<'_>> {
        let mut hits = self.scan_text(value);
        hits.extend(
            self.rules
                .iter()
                .filter(|r| r.matcher.field_name().is_some_and(|n| n.is_match(name)))
                .filter_map(|rule| {
                    confirm(rule, value).map(|note| Hit {
                        rule,
                        span: 0..value.len(),
                        note,
                    })
                }),
        );
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
            Check::Phone => validate::phone(s),
            Check::Bip39 => validate::bip39(s),
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
