//! Federated credentials (workload identity federation): trust a client places in tokens that
//! another OIDC issuer (GitHub Actions, a Kubernetes cluster, a cloud) signs for its workloads.
//! A `private_key_jwt` client holds up to [`MAX_CREDENTIALS`] of them, stored in its record
//! beside its secrets so the token endpoint still reads one key.
//!
//! A credential matches an external token when the token's `iss` is exactly `issuer`, its `aud`
//! holds one of `audiences`, its `sub` is `subject` or fits `subject_pattern`, and every entry
//! of `claims` names a string claim that fits the entry's pattern. Patterns: `*` matches any
//! run of characters (none included), everything else is literal.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

/// Most federated credentials one client may hold.
pub const MAX_CREDENTIALS: usize = 20;
/// Most audiences one credential may list.
pub const MAX_AUDIENCES: usize = 10;
/// Most claim conditions one credential may carry.
pub const MAX_CLAIMS: usize = 10;

crate::registry::uuid_id!(
    CredentialId,
    "credential_id",
    "A federated credential's identifier: a lower-case hyphenated UUID v4, made by the server."
);

/// One federated credential, as stored in the client's record (and, with its last use, shown).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FederatedCredential {
    /// Server-made UUID.
    pub credential_id: CredentialId,
    /// Display name, unique within the client.
    pub name: String,
    /// Free text for admins.
    #[serde(default)]
    pub description: String,
    /// The external issuer's `iss`, compared exactly.
    pub issuer: String,
    /// Where the issuer's keys are; `None`: discovered from
    /// `{issuer}/.well-known/openid-configuration`.
    #[serde(default)]
    pub jwks_uri: Option<String>,
    /// Accepted `aud` values: the token's `aud` must hold one of them.
    pub audiences: Vec<String>,
    /// The exact `sub`, or `None` when [`Self::subject_pattern`] is set.
    #[serde(default)]
    pub subject: Option<String>,
    /// A pattern `sub` must fit, or `None` when [`Self::subject`] is set.
    #[serde(default)]
    pub subject_pattern: Option<String>,
    /// Further string claims and the pattern each must fit.
    #[serde(default)]
    pub claims: BTreeMap<String, String>,
    /// When the credential was made (epoch seconds).
    pub created_at: u64,
}

impl FederatedCredential {
    /// Whether `sub` is the credential's subject, or fits its pattern.
    pub fn subject_matches(&self, sub: &str) -> bool {
        match (&self.subject, &self.subject_pattern) {
            (Some(exact), _) => exact == sub,
            (None, Some(pattern)) => pattern_matches(pattern, sub),
            (None, None) => false,
        }
    }

    /// How a deleted credential is named in the client's guard, so the deletion bites in every
    /// isolate within the guard cache time, before KV has spread it.
    pub fn guard_name(&self) -> String {
        guard_name(&self.credential_id)
    }
}

/// How a deleted credential is named in the client's guard (`revoked_keys`).
pub fn guard_name(id: &CredentialId) -> String {
    format!("fed:{}", id.as_str())
}

/// Whether `text` fits `pattern`, where `*` matches any run of characters and everything else
/// is literal. Greedy with one backtrack point, as glob matchers do: at worst the product of
/// the two lengths (both bounded), never the exponential backtracking of a naive recursion.
pub fn pattern_matches(pattern: &str, text: &str) -> bool {
    let (p, t) = (pattern.as_bytes(), text.as_bytes());
    let (mut pi, mut ti) = (0, 0);
    // Where the last `*` was, and the text position it has been tried against.
    let mut star: Option<(usize, usize)> = None;
    while ti < t.len() {
        if pi < p.len() && p[pi] == b'*' {
            star = Some((pi, ti));
            pi += 1;
        } else if pi < p.len() && p[pi] == t[ti] {
            pi += 1;
            ti += 1;
        } else if let Some((sp, st)) = star {
            pi = sp + 1;
            ti = st + 1;
            star = Some((sp, st + 1));
        } else {
            return false;
        }
    }
    p[pi..].iter().all(|&c| c == b'*')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_star_matches_any_run_and_everything_else_is_literal() {
        let cases = [
            (
                "repo:acme/deploy:ref:refs/heads/main",
                "repo:acme/deploy:ref:refs/heads/main",
                true,
            ),
            (
                "repo:acme/deploy:*",
                "repo:acme/deploy:ref:refs/heads/main",
                true,
            ),
            ("repo:acme/deploy:*", "repo:acme/deploy:", true),
            (
                "repo:acme/deploy:*",
                "repo:acme/deployer:ref:refs/heads/main",
                false,
            ),
            (
                "repo:acme/*:environment:prod",
                "repo:acme/api:environment:prod",
                true,
            ),
            (
                "repo:acme/*:environment:prod",
                "repo:acme/api:environment:prod2",
                false,
            ),
            (
                "repo:acme/*:environment:prod",
                "repo:evil/x:y:acme/api:environment:prod",
                false,
            ),
            ("*:pull_request", "repo:a/b:pull_request", true),
            ("a*b*c", "aXbYc", true),
            ("a*b*c", "aXbY", false),
            ("a?c", "abc", false),
            ("a.c", "abc", false),
            ("", "", true),
            ("", "x", false),
            ("**", "", true),
            (
                "system:serviceaccount:ci:*",
                "system:serviceaccount:ci:deployer",
                true,
            ),
            (
                "system:serviceaccount:ci:*",
                "system:serviceaccount:cix:deployer",
                false,
            ),
        ];
        for (pattern, text, want) in cases {
            assert_eq!(pattern_matches(pattern, text), want, "{pattern} vs {text}");
        }
    }

    #[test]
    fn a_hostile_pattern_is_refused_quickly() {
        let pattern = "*a".repeat(100) + "b";
        let text = "a".repeat(8 * 1024);
        assert!(!pattern_matches(&pattern, &text));
    }

    #[test]
    fn exactly_one_subject_rule_applies() {
        let mut c = FederatedCredential {
            credential_id: CredentialId::parse("7c9e6679-7425-40de-944b-e07fc1f90ae7").unwrap(),
            name: "deploy".into(),
            description: String::new(),
            issuer: "https://token.actions.githubusercontent.com".into(),
            jwks_uri: None,
            audiences: vec!["edgeauth".into()],
            subject: Some("repo:acme/api:ref:refs/heads/main".into()),
            subject_pattern: None,
            claims: BTreeMap::new(),
            created_at: 0,
        };
        assert!(c.subject_matches("repo:acme/api:ref:refs/heads/main"));
        assert!(!c.subject_matches("repo:acme/api:ref:refs/heads/*"));
        c.subject = None;
        c.subject_pattern = Some("repo:acme/api:*".into());
        assert!(c.subject_matches("repo:acme/api:pull_request"));
        c.subject_pattern = None;
        assert!(!c.subject_matches(""));
        assert_eq!(c.guard_name(), "fed:7c9e6679-7425-40de-944b-e07fc1f90ae7");
    }
}
