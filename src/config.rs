//! Server configuration from Worker vars and secrets, parsed once per isolate.

use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;
use zeroize::Zeroizing;

use crate::jose::keys::Seed;
use crate::registry::admins::Roles;
use crate::registry::secrets::{Pepper, SecretPolicy, MAX_SECRETS};
use crate::registry::signing_keys::DEFAULT_PUBLISH_LEAD;
use crate::support::b64::b64url_decode;
use crate::support::uri::HttpUrl;

/// Everything the core needs to know about this deployment.
#[derive(Debug)]
pub struct Config {
    /// Fixed issuer (`ISSUER`); when `None`, the request's origin.
    pub issuer: Option<String>,
    /// The break-glass admin bearer token (`ADMIN_TOKEN`, at least [`MIN_ADMIN_TOKEN`]
    /// characters): required unless Cloudflare Access is configured; `None` also when
    /// `ADMIN_TOKEN_ENABLED=false` turns it off.
    pub admin_token: Option<Zeroizing<String>>,
    /// Cloudflare Access in front of `/admin/*` (`ACCESS_TEAM_DOMAIN`, `ACCESS_AUD`).
    pub access: Option<AccessSettings>,
    /// Roles of people signed in through Access (`ADMIN_ROLES`).
    pub roles: Roles,
    /// The secret-digest key (`SECRET_PEPPER`, at least 32 bytes).
    pub pepper: Pepper,
    /// The seed every token signing key is derived from (`SIGNING_KEY_SEED`).
    pub seed: Seed,
    /// `PREVIOUS_SIGNING_KEY_SEED`, the manual rotation from before scheduled rotation: its
    /// public key is published while set (derived with the key ring, by the platform).
    pub previous_seed: Option<Seed>,
    /// How long a rotated-in key is published before it signs, in seconds
    /// (`KEY_PUBLISH_LEAD`, 1 to 86400, default 600).
    pub key_publish_lead: u64,
    /// Rotate the signing key every this many seconds of signing, from the Cron Trigger
    /// (`KEY_ROTATION_DAYS`, 1 to 3650; unset: only on request).
    pub key_rotation_period: Option<u64>,
    /// Who the admin token speaks for in the audit trail (`ADMIN_TOKEN_LABEL`, default
    /// `admin`, at most 64 printable ASCII characters).
    pub admin_label: String,
    /// How long audit events are kept, in days (`AUDIT_RETENTION_DAYS`, 1 to 3650, default 90).
    pub audit_retention_days: u32,
    /// Rules for secrets (`SECRETS_PER_CLIENT`, `SECRET_MAX_LIFETIME_DAYS`, `SECRET_ALLOW_NEVER`).
    pub secret_policy: SecretPolicy,
    /// Longest a client assertion may live, in seconds (`ASSERTION_MAX_LIFETIME`, 60 to 86400,
    /// default 3600: authlib signs for an hour, MSAL for ten minutes).
    pub assertion_max_lifetime: u64,
}

/// The Cloudflare Access application that guards the admin API.
#[derive(Debug, Clone, PartialEq)]
pub struct AccessSettings {
    /// `https://<team>.cloudflareaccess.com`, without a trailing slash: the tokens' `iss`,
    /// and where the keys are (`/cdn-cgi/access/certs`).
    pub team_domain: String,
    /// The application AUD tags a token's `aud` must hold one of.
    pub audiences: Vec<String>,
}

/// Default longest assertion lifetime, in seconds.
pub const DEFAULT_ASSERTION_MAX_LIFETIME: u64 = 3_600;

/// Default audit retention in days.
pub const DEFAULT_AUDIT_RETENTION_DAYS: u32 = 90;
/// Shortest `ADMIN_TOKEN` accepted: it guards every admin route, so it must be out of reach of
/// online guessing (`scripts/dev.sh` makes 43 characters of 32 random bytes).
pub const MIN_ADMIN_TOKEN: usize = 32;

/// Names of the settings, as Worker vars or secrets.
pub const SETTINGS: [&str; 17] = [
    "ISSUER",
    "ADMIN_TOKEN",
    "SECRET_PEPPER",
    "SIGNING_KEY_SEED",
    "PREVIOUS_SIGNING_KEY_SEED",
    "ADMIN_TOKEN_LABEL",
    "AUDIT_RETENTION_DAYS",
    "SECRETS_PER_CLIENT",
    "SECRET_MAX_LIFETIME_DAYS",
    "SECRET_ALLOW_NEVER",
    "ASSERTION_MAX_LIFETIME",
    "KEY_PUBLISH_LEAD",
    "KEY_ROTATION_DAYS",
    "ACCESS_TEAM_DOMAIN",
    "ACCESS_AUD",
    "ADMIN_ROLES",
    "ADMIN_TOKEN_ENABLED",
];

impl Config {
    /// Parses the settings; `lookup` answers a setting's value by name. The error names the
    /// setting at fault and never echoes its value.
    pub fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Result<Config, String> {
        let get = |name: &str| lookup(name).filter(|v| !v.trim().is_empty());
        let issuer = match get("ISSUER") {
            Some(i) if i.starts_with("https://") || i.starts_with("http://") => {
                Some(i.trim_end_matches('/').to_string())
            }
            Some(_) => return Err("ISSUER must be an http(s) URL".into()),
            None => None,
        };
        let access = access(get("ACCESS_TEAM_DOMAIN"), get("ACCESS_AUD"))?;
        let roles = get("ADMIN_ROLES")
            .map(|r| Roles::parse(&r))
            .transpose()?
            .unwrap_or_default();
        let admin_token = match get("ADMIN_TOKEN") {
            Some(t) if t.len() >= MIN_ADMIN_TOKEN => Some(Zeroizing::new(t)),
            None if access.is_some() => None,
            _ => return Err("ADMIN_TOKEN must be set, at least 32 characters".into()),
        };
        let admin_token = match get("ADMIN_TOKEN_ENABLED").as_deref().map(str::trim) {
            None | Some("true") => admin_token,
            Some("false") => None,
            Some(_) => return Err("ADMIN_TOKEN_ENABLED must be true or false".into()),
        };
        let pepper = get("SECRET_PEPPER")
            .and_then(|p| Pepper::new(p.into_bytes()))
            .ok_or("SECRET_PEPPER must be set, at least 32 bytes")?;
        let seed = |name: &str| -> Result<Option<Zeroizing<[u8; 32]>>, String> {
            match get(name) {
                None => Ok(None),
                Some(v) => b64url_decode(v.trim())
                    .and_then(|b| <[u8; 32]>::try_from(b.as_slice()).ok())
                    .map(|b| Some(Zeroizing::new(b)))
                    .ok_or_else(|| format!("{name} must be base64url (no padding) of 32 bytes")),
            }
        };
        let current = seed("SIGNING_KEY_SEED")?.ok_or("SIGNING_KEY_SEED must be set")?;
        let previous = seed("PREVIOUS_SIGNING_KEY_SEED")?;
        let admin_label = match get("ADMIN_TOKEN_LABEL") {
            None => "admin".to_string(),
            Some(l) if l.len() <= 64 && l.bytes().all(|b| (0x20..0x7f).contains(&b)) => l,
            Some(_) => {
                return Err(
                    "ADMIN_TOKEN_LABEL must be at most 64 printable ASCII characters".into(),
                )
            }
        };
        let audit_retention_days = match get("AUDIT_RETENTION_DAYS") {
            None => DEFAULT_AUDIT_RETENTION_DAYS,
            Some(d) => d
                .trim()
                .parse::<u32>()
                .ok()
                .filter(|d| (1..=3650).contains(d))
                .ok_or("AUDIT_RETENTION_DAYS must be a whole number of days from 1 to 3650")?,
        };
        let number =
            |name: &str, range: std::ops::RangeInclusive<u64>| -> Result<Option<u64>, String> {
                get(name)
                    .map(|v| {
                        v.trim()
                            .parse::<u64>()
                            .ok()
                            .filter(|n| range.contains(n))
                            .ok_or_else(|| {
                                format!(
                                    "{name} must be a whole number from {} to {}",
                                    range.start(),
                                    range.end()
                                )
                            })
                    })
                    .transpose()
            };
        let secret_policy = SecretPolicy {
            max_per_client: number("SECRETS_PER_CLIENT", 1..=100)?
                .map_or(MAX_SECRETS, |n| n as usize),
            max_lifetime: number("SECRET_MAX_LIFETIME_DAYS", 1..=36_500)?.map(|d| d * 86_400),
            allow_never: match get("SECRET_ALLOW_NEVER").as_deref().map(str::trim) {
                None | Some("true") => true,
                Some("false") => false,
                Some(_) => return Err("SECRET_ALLOW_NEVER must be true or false".into()),
            },
        };
        let assertion_max_lifetime = number("ASSERTION_MAX_LIFETIME", 60..=86_400)?
            .unwrap_or(DEFAULT_ASSERTION_MAX_LIFETIME);
        let key_publish_lead =
            number("KEY_PUBLISH_LEAD", 1..=86_400)?.unwrap_or(DEFAULT_PUBLISH_LEAD);
        let key_rotation_period = number("KEY_ROTATION_DAYS", 1..=3_650)?.map(|d| d * 86_400);
        Ok(Config {
            issuer,
            admin_token,
            access,
            roles,
            pepper,
            seed: Seed::new(current),
            previous_seed: previous.map(Seed::new),
            key_publish_lead,
            key_rotation_period,
            admin_label,
            audit_retention_days,
            secret_policy,
            assertion_max_lifetime,
        })
    }

    /// Whether `presented` is the admin token: compared in constant time, and hashed first so
    /// the configured length does not show either.
    pub fn is_admin_token(&self, presented: &str) -> bool {
        let Some(token) = &self.admin_token else {
            return false;
        };
        let a = Sha256::digest(presented.as_bytes());
        let b = Sha256::digest(token.as_bytes());
        bool::from(a.ct_eq(&b))
    }

    /// The issuer for a request arriving at `origin`.
    pub fn issuer<'a>(&'a self, origin: &'a str) -> &'a str {
        self.issuer.as_deref().unwrap_or(origin)
    }
}

/// `ACCESS_TEAM_DOMAIN` and `ACCESS_AUD`, both or neither.
fn access(domain: Option<String>, aud: Option<String>) -> Result<Option<AccessSettings>, String> {
    const DOMAIN: &str = "ACCESS_TEAM_DOMAIN must be an https URL without a path, such as https://acme.cloudflareaccess.com (http only for localhost or 127.0.0.1)";
    let (domain, aud) = match (domain, aud) {
        (None, None) => return Ok(None),
        (Some(d), Some(a)) => (d.trim().trim_end_matches('/').to_string(), a),
        _ => return Err("ACCESS_TEAM_DOMAIN and ACCESS_AUD must be set together".into()),
    };
    let url = HttpUrl::parse(&domain).ok_or(DOMAIN)?;
    let path = domain.splitn(4, '/').nth(3);
    if !(url.https || url.is_loopback()) || path.is_some() || domain.contains(['?', '#']) {
        return Err(DOMAIN.into());
    }
    let audiences: Vec<String> = aud
        .split(',')
        .map(|a| a.trim().to_string())
        .filter(|a| !a.is_empty())
        .collect();
    if audiences.is_empty() {
        return Err("ACCESS_AUD must hold one or more AUD tags, comma-separated".into());
    }
    Ok(Some(AccessSettings {
        team_domain: domain,
        audiences,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn lookup(pairs: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> {
        let m: HashMap<String, String> = pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        move |k| m.get(k).cloned()
    }

    const SEED: &str = "nWGxne_9WmC6hEr0kuwsxERJxWl7MmkZcDusAxyuf2A";

    #[test]
    fn complete_settings_parse() {
        let c = Config::from_lookup(lookup(&[
            ("ADMIN_TOKEN", "0123456789abcdef0123456789abcdef"),
            ("SECRET_PEPPER", &"p".repeat(32)),
            ("SIGNING_KEY_SEED", SEED),
            ("ISSUER", "https://auth.example.com/"),
        ]))
        .unwrap();
        assert_eq!(c.issuer("http://other"), "https://auth.example.com");
        assert!(c.previous_seed.is_none());
        assert_eq!(c.key_publish_lead, DEFAULT_PUBLISH_LEAD);
        assert_eq!(c.key_rotation_period, None);
        assert_eq!(c.admin_label, "admin");
        assert_eq!(c.audit_retention_days, 90);
    }

    #[test]
    fn errors_name_the_setting_but_not_its_value() {
        let e = Config::from_lookup(lookup(&[
            ("ADMIN_TOKEN", "0123456789abcdef0123456789abcdef"),
            ("SECRET_PEPPER", &"p".repeat(32)),
            ("SIGNING_KEY_SEED", "not-a-seed-value"),
        ]))
        .unwrap_err();
        assert_eq!(
            e,
            "SIGNING_KEY_SEED must be base64url (no padding) of 32 bytes"
        );
        let e = Config::from_lookup(lookup(&[
            ("ADMIN_TOKEN", "0123456789abcdef0123456789abcdef"),
            ("SECRET_PEPPER", &"p".repeat(32)),
            ("SIGNING_KEY_SEED", SEED),
            ("SECRETS_PER_CLIENT", "0"),
        ]))
        .unwrap_err();
        assert_eq!(e, "SECRETS_PER_CLIENT must be a whole number from 1 to 100");
        let e = Config::from_lookup(lookup(&[])).unwrap_err();
        assert_eq!(e, "ADMIN_TOKEN must be set, at least 32 characters");
        for short in ["short", "0123456789abcdef0123456789abcde"] {
            let e = Config::from_lookup(lookup(&[("ADMIN_TOKEN", short)])).unwrap_err();
            assert_eq!(e, "ADMIN_TOKEN must be set, at least 32 characters");
        }
    }

    const TEAM: &str = "https://acme.cloudflareaccess.com";

    fn base() -> Vec<(&'static str, &'static str)> {
        vec![
            ("SECRET_PEPPER", "pppppppppppppppppppppppppppppppp"),
            ("SIGNING_KEY_SEED", SEED),
        ]
    }

    #[test]
    fn the_admin_token_is_optional_once_access_is_set_and_can_be_turned_off() {
        let mut s = base();
        s.extend([
            ("ACCESS_TEAM_DOMAIN", "https://acme.cloudflareaccess.com/"),
            ("ACCESS_AUD", "aud1, aud2"),
        ]);
        let c = Config::from_lookup(lookup(&s)).unwrap();
        assert!(c.admin_token.is_none());
        let access = c.access.unwrap();
        assert_eq!(access.team_domain, TEAM);
        assert_eq!(access.audiences, ["aud1", "aud2"]);
        let token = "0123456789abcdef0123456789abcdef";
        s.push(("ADMIN_TOKEN", token));
        assert!(Config::from_lookup(lookup(&s))
            .unwrap()
            .is_admin_token(token));
        s.push(("ADMIN_TOKEN_ENABLED", "false"));
        let c = Config::from_lookup(lookup(&s)).unwrap();
        assert!(!c.is_admin_token(token), "stored but off");
        s.push(("ADMIN_TOKEN_ENABLED", "no"));
        assert_eq!(
            Config::from_lookup(lookup(&s)).unwrap_err(),
            "ADMIN_TOKEN_ENABLED must be true or false"
        );
    }

    #[test]
    fn the_team_domain_is_https_without_a_path_and_comes_with_an_aud() {
        for bad in [
            "http://acme.cloudflareaccess.com",
            "https://acme.cloudflareaccess.com/cdn-cgi",
            "https://acme.cloudflareaccess.com?x",
            "acme.cloudflareaccess.com",
        ] {
            let mut s = base();
            s.extend([("ACCESS_TEAM_DOMAIN", bad), ("ACCESS_AUD", "a")]);
            let e = Config::from_lookup(lookup(&s)).unwrap_err();
            assert!(
                e.starts_with("ACCESS_TEAM_DOMAIN must be an https URL"),
                "{bad}: {e}"
            );
        }
        for local in ["http://127.0.0.1:8123", "http://localhost:9"] {
            let mut s = base();
            s.extend([("ACCESS_TEAM_DOMAIN", local), ("ACCESS_AUD", "a")]);
            assert!(Config::from_lookup(lookup(&s)).is_ok(), "{local}");
        }
        let mut s = base();
        s.push(("ACCESS_TEAM_DOMAIN", TEAM));
        assert_eq!(
            Config::from_lookup(lookup(&s)).unwrap_err(),
            "ACCESS_TEAM_DOMAIN and ACCESS_AUD must be set together"
        );
        s.push(("ACCESS_AUD", " , "));
        assert_eq!(
            Config::from_lookup(lookup(&s)).unwrap_err(),
            "ACCESS_AUD must hold one or more AUD tags, comma-separated"
        );
    }
}
