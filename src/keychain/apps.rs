//! Which app a keychain access group (`agrp`) belongs to.

/// Owner name returned for Apple's own access groups (`apple`, `com.apple.*`).
pub const SYSTEM_OWNER: &str = "system";

/// Strip a backup domain prefix (`AppDomain-`, `AppDomainGroup-`, `AppDomainPlugin-`).
fn strip_domain(s: &str) -> &str {
    for p in ["AppDomainGroup-", "AppDomainPlugin-", "AppDomain-"] {
        if let Some(rest) = s.strip_prefix(p) {
            return rest;
        }
    }
    s
}

/// `ABCDE12345.com.example.app` → `Some("com.example.app")`: a 10-character upper-case
/// alphanumeric team ID and a dot.
pub fn strip_team_id(agrp: &str) -> Option<&str> {
    let (team, rest) = agrp.split_at_checked(10)?;
    let rest = rest.strip_prefix('.')?;
    let team_ok = team
        .bytes()
        .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit());
    (team_ok && !rest.is_empty()).then_some(rest)
}

/// The bundle ID of the app an access group belongs to, [`SYSTEM_OWNER`] for Apple's
/// groups, or `None`.
///
/// `apps` lists `(bundle_id, groups)`; `groups` may hold app-group IDs (`group.x`), plugin
/// bundle IDs, keychain groups, or backup domain names (`AppDomainGroup-group.x`,
/// `AppDomainPlugin-com.x.widget`), the prefix being ignored. Rules, first match wins:
/// 1. `apple` or `com.apple.*` (with or without a team ID) → system;
/// 2. the group (team ID stripped) equals a bundle ID;
/// 3. the group (with or without team ID) is in an app's `groups`;
/// 4. the group (team ID stripped) is a bundle ID prefixed by `bundle_id.` (an extension).
pub fn app_for_access_group(agrp: &str, apps: &[(String, Vec<String>)]) -> Option<String> {
    let bare = strip_team_id(agrp).unwrap_or(agrp);
    if agrp == "apple" || bare == "apple" || bare.starts_with("com.apple.") {
        return Some(SYSTEM_OWNER.to_owned());
    }
    if let Some((id, _)) = apps.iter().find(|(id, _)| id == bare) {
        return Some(id.clone());
    }
    if let Some((id, _)) = apps.iter().find(|(_, groups)| {
        groups
            .iter()
            .map(|g| strip_domain(g))
            .any(|g| g == agrp || g == bare)
    }) {
        return Some(id.clone());
    }
    apps.iter()
        .filter(|(id, _)| {
            bare.strip_prefix(id.as_str())
                .is_some_and(|r| r.starts_with('.'))
        })
        .max_by_key(|(id, _)| id.len())
        .map(|(id, _)| id.clone())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn apps() -> Vec<(String, Vec<String>)> {
        vec![
            (
                "com.example.bank".into(),
                vec!["AppDomain-com.example.bank".into()],
            ),
            (
                "com.example.notes".into(),
                vec![
                    "AppDomainGroup-group.com.example.shared".into(),
                    "AppDomainPlugin-com.example.notes.widget".into(),
                ],
            ),
            ("com.example".into(), vec![]),
        ]
    }

    #[test]
    fn attribution() {
        let a = apps();
        let f = |g: &str| app_for_access_group(g, &a);
        assert_eq!(
            f("ABCDE12345.com.example.bank").as_deref(),
            Some("com.example.bank")
        );
        assert_eq!(f("com.example.bank").as_deref(), Some("com.example.bank"));
        assert_eq!(
            f("group.com.example.shared").as_deref(),
            Some("com.example.notes")
        );
        assert_eq!(
            f("FGHIJ67890.group.com.example.shared").as_deref(),
            Some("com.example.notes")
        );
        assert_eq!(
            f("FGHIJ67890.com.example.notes.widget").as_deref(),
            Some("com.example.notes")
        );
        // Extension not listed: longest bundle-ID prefix.
        assert_eq!(
            f("FGHIJ67890.com.example.bank.today").as_deref(),
            Some("com.example.bank")
        );
        assert_eq!(f("apple").as_deref(), Some(SYSTEM_OWNER));
        assert_eq!(f("com.apple.cfnetwork").as_deref(), Some(SYSTEM_OWNER));
        assert_eq!(
            f("ABCDE12345.com.apple.token").as_deref(),
            Some(SYSTEM_OWNER)
        );
        assert_eq!(f("ZZZZZ99999.org.other.app"), None);
        assert_eq!(f("group.org.other"), None);
        assert_eq!(f(""), None);
        // Lower-case or short prefixes are not team IDs.
        assert_eq!(strip_team_id("abcde12345.com.x"), None);
        assert_eq!(strip_team_id("ABCDE1234.com.x"), None);
        assert_eq!(strip_team_id("ABCDE12345."), None);
        assert_eq!(strip_team_id("ÄBCDE12345.x"), None);
    }
}
