//! Does a keychain item's name say it holds a session token? A rule over attribute names
//! (service, account, label), never over the secret.

use crate::keychain::KeychainItem;

/// A word list matched against the words of a name, with the names it must and must not match.
pub struct NameRule {
    /// Words (lower case) that make a name match.
    pub words: &'static [&'static str],
    /// Names the rule must match (tested).
    pub examples: &'static [&'static str],
    /// Names the rule must not match (tested).
    pub non_examples: &'static [&'static str],
}

/// Names of items that look like session tokens: a word of the name (split at anything
/// that is not a letter or digit, and at lower→upper case changes) is one of `words`.
pub const SESSION_TOKEN: NameRule = NameRule {
    words: &[
        "token",
        "tokens",
        "accesstoken",
        "refreshtoken",
        "authtoken",
        "idtoken",
        "sessiontoken",
        "session",
        "sessions",
        "sessionid",
        "refresh",
        "oauth",
        "oauth2",
        "bearer",
        "cookie",
        "cookies",
        "jwt",
    ],
    examples: &[
        "com.example.messenger.token",
        "com.example.bank.session",
        "AccessToken",
        "refresh_token",
        "OAuth2Credentials",
        "oauth-state",
        "Bearer",
        "session-cookie",
        "myAppJWT",
        "user.jwt",
        "SESSIONID",
        "auth.refreshToken",
    ],
    non_examples: &[
        "com.example.notes.sync",
        "alice@example.com",
        "tokenizer.settings",
        "broken",
        "cookiecutter",
        "sessionless-mode",
        "History",
        "HomeKit Metadata",
        "jwtest",
        "refreshrate",
        "",
    ],
};

/// The words of a name: runs of letters and digits, also split where a lower-case letter
/// or digit is followed by an upper-case one (`refreshToken` → `refresh`, `token`), lower-cased.
fn words(name: &str) -> impl Iterator<Item = String> + '_ {
    let mut out = Vec::new();
    let mut cur = String::new();
    let mut prev_lower = false;
    for c in name.chars() {
        if !c.is_alphanumeric() {
            out.push(std::mem::take(&mut cur));
            prev_lower = false;
            continue;
        }
        if c.is_uppercase() && prev_lower {
            out.push(std::mem::take(&mut cur));
        }
        prev_lower = c.is_lowercase() || c.is_ascii_digit();
        cur.extend(c.to_lowercase());
    }
    out.push(cur);
    out.into_iter().filter(|w| !w.is_empty())
}

impl NameRule {
    /// The rule's word that `name` contains, if any.
    pub fn matched_word(&self, name: &str) -> Option<&'static str> {
        words(name).find_map(|w| self.words.iter().copied().find(|x| *x == w))
    }

    /// The first attribute of `it` (service, account, label) whose name matches, and the
    /// word: `("service", "token")`. Attribute values are not returned.
    pub fn matched_attribute(&self, it: &KeychainItem) -> Option<(&'static str, &'static str)> {
        [
            ("service", &it.service),
            ("account", &it.account),
            ("label", &it.label),
        ]
        .into_iter()
        .find_map(|(attr, v)| Some((attr, self.matched_word(v.as_deref()?)?)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn session_token_examples_match_and_non_examples_do_not() {
        for n in SESSION_TOKEN.examples {
            assert!(SESSION_TOKEN.matched_word(n).is_some(), "{n} should match");
        }
        for n in SESSION_TOKEN.non_examples {
            assert_eq!(SESSION_TOKEN.matched_word(n), None, "{n} should not match");
        }
    }

    #[test]
    fn words_split_at_case_changes_and_punctuation() {
        let w: Vec<String> = words("auth.refreshToken/OAuth2-x").collect();
        assert_eq!(w, ["auth", "refresh", "token", "oauth2", "x"]);
    }
}
