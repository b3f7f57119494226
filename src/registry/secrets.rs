//! Client secrets: made from 32 random bytes, shown once, stored only as a peppered
//! HMAC-SHA256 digest, compared in constant time.
//!
//! Why HMAC and not a slow password hash: a secret carries 256 bits of entropy, so guessing is
//! hopeless without the digest, and with the digest but without the pepper (a Worker secret)
//! it cannot even be checked. One HMAC keeps the token endpoint far inside the CPU limit.
//!
//! `client_secret_jwt` needs the secret itself as an HMAC key, so a digest is not enough. Such
//! secrets are derived instead: HMAC-SHA256(pepper, label, client_id, secret_id, salt) with a
//! random salt stored beside the digest. The trade-off: whoever holds both the KV data and the
//! pepper can recompute these secrets, where for digest-only secrets they could only test
//! guesses. Neither alone reveals anything; rotating the pepper invalidates both kinds.

use hmac::Mac;
use serde::{Deserialize, Serialize};
use subtle::ConstantTimeEq;
use zeroize::Zeroizing;

use crate::error::Error;
use crate::jose::verify::{hmac_sha256, hs256};
use crate::registry::scope::Scope;
use crate::support::b64::{b64url, b64url_decode};
use crate::support::random::{random_id, Random};
use crate::support::text::is_clean;

/// Default secret lifetime: one year.
pub const DEFAULT_SECRET_LIFETIME: u64 = 365 * 86_400;
/// Most secrets a client may hold at once, unless configured otherwise.
pub const MAX_SECRETS: usize = 20;

/// The server's rules for secrets (settings `SECRETS_PER_CLIENT`, `SECRET_MAX_LIFETIME_DAYS`,
/// `SECRET_ALLOW_NEVER`).
#[derive(Debug, Clone, PartialEq)]
pub struct SecretPolicy {
    /// Most secrets one client may hold (default 20).
    pub max_per_client: usize,
    /// Longest lifetime a new secret may have, in seconds (default: no cap).
    pub max_lifetime: Option<u64>,
    /// Whether a secret may never expire (default yes; never with a cap).
    pub allow_never: bool,
}

impl SecretPolicy {
    /// The lifetime of a secret made without an expiry: one year, or the cap if shorter.
    pub fn default_lifetime(&self) -> u64 {
        self.max_lifetime
            .map_or(DEFAULT_SECRET_LIFETIME, |m| m.min(DEFAULT_SECRET_LIFETIME))
    }

    /// Whether a secret may be made that never expires (never under a lifetime cap).
    pub fn allows_never(&self) -> bool {
        self.allow_never && self.max_lifetime.is_none()
    }
}

impl Default for SecretPolicy {
    fn default() -> Self {
        SecretPolicy {
            max_per_client: MAX_SECRETS,
            max_lifetime: None,
            allow_never: true,
        }
    }
}
/// Longest secret description.
pub const MAX_DESCRIPTION: usize = 200;
/// Longest plausible presented secret; longer input is refused before hashing.
pub const MAX_SECRET_LEN: usize = 256;

/// The server-side key mixed into every secret digest.
///
/// Held as the HMAC state already keyed with it: keying hashes two blocks, two of the five
/// compressions a digest took on every token request. The state is as secret as the pepper and
/// lives as long (the isolate's configuration); the bytes given to [`Pepper::new`] are wiped
/// once keyed.
pub struct Pepper(hmac::Hmac<sha2::Sha256>);

impl Pepper {
    /// Wraps pepper bytes (at least 32).
    pub fn new(bytes: Vec<u8>) -> Option<Pepper> {
        let bytes = Zeroizing::new(bytes);
        (bytes.len() >= 32).then(|| Pepper(hmac_sha256(&bytes, &[])))
    }

    /// The keyed state, fed `parts`.
    fn mac(&self, parts: &[&[u8]]) -> hmac::Hmac<sha2::Sha256> {
        let mut mac = self.0.clone();
        for p in parts {
            mac.update(p);
        }
        mac
    }

    /// The digest of a presented secret for one client: HMAC-SHA256(pepper, id NUL secret).
    pub fn digest(&self, client_id: &str, secret: &str) -> [u8; 32] {
        self.mac(&[client_id.as_bytes(), &[0], secret.as_bytes()])
            .finalize()
            .into_bytes()
            .into()
    }

    /// A MAC of `data` under a key of its own for `label`, for values the server hands out
    /// and must recognise when they come back (pagination cursors).
    pub fn tag(&self, label: &str, data: &[u8]) -> [u8; 32] {
        self.mac(&[label.as_bytes(), &[0], data])
            .finalize()
            .into_bytes()
            .into()
    }

    /// The secret of a `client_secret_jwt` client, recomputed from its stored salt.
    pub fn derive_secret(&self, client_id: &str, secret_id: &str, salt: &str) -> Zeroizing<String> {
        let mut mac = self.mac(&[]);
        for part in ["client_secret_jwt", client_id, secret_id, salt] {
            mac.update(part.as_bytes());
            mac.update(&[0]);
        }
        Zeroizing::new(b64url(mac.finalize().into_bytes()))
    }
}

impl std::fmt::Debug for Pepper {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Pepper(redacted)")
    }
}

/// What admins see of a secret.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SecretMeta {
    /// Random identifier, unique within the client.
    pub secret_id: String,
    /// Free text.
    #[serde(default)]
    pub description: String,
    /// Creation time (epoch seconds).
    pub created_at: u64,
    /// Expiry (epoch seconds); `None` never expires.
    pub expires_at: Option<u64>,
    /// Scope limit for tokens got with this secret; `None` means the client's.
    pub scope: Option<Scope>,
    /// Last successful use, if tracked.
    pub last_used_at: Option<u64>,
}

impl SecretMeta {
    /// Whether the secret still works at `now`: it expires at exactly `expires_at`.
    pub fn is_live(&self, now: u64) -> bool {
        self.expires_at.is_none_or(|e| now < e)
    }
}

/// A secret as stored: metadata and digest.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StoredSecret {
    /// The metadata.
    pub meta: SecretMeta,
    /// base64url HMAC-SHA256 digest.
    pub digest: String,
    /// Salt of a derived (`client_secret_jwt`) secret.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub salt: Option<String>,
}

/// A newly made secret: metadata plus the plaintext, shown this once.
#[derive(Serialize)]
pub struct NewSecret {
    #[serde(flatten)]
    meta: SecretMeta,
    client_secret: Zeroizing<String>,
}

/// Admin input for a new secret.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SecretInput {
    /// Free text.
    pub description: Option<String>,
    /// Absolute expiry in epoch seconds; `0` means never.
    pub expires_at: Option<u64>,
    /// Relative expiry in seconds.
    pub expires_in: Option<u64>,
    /// Scope limit, space-separated.
    pub scope: Option<String>,
}

impl SecretInput {
    /// Makes a secret for `client_id`, validating the input against the client's scope;
    /// `derived` makes it recomputable for `client_secret_jwt`.
    pub fn issue(
        self,
        client_id: &str,
        client_scope: &Scope,
        derived: bool,
        (pepper, policy): (&Pepper, &SecretPolicy),
        rng: &dyn Random,
        now: u64,
    ) -> Result<(StoredSecret, NewSecret), Error> {
        let description = self.description.unwrap_or_default();
        if description.chars().count() > MAX_DESCRIPTION || !is_clean(&description, false) {
            return Err(Error::invalid_metadata(
                "secret description must be at most 200 characters, without control characters",
            ));
        }
        let expires_at = match (self.expires_at, self.expires_in) {
            (Some(_), Some(_)) => {
                return Err(Error::invalid_metadata(
                    "give expires_at or expires_in, not both",
                ))
            }
            (Some(0), None) => None,
            (Some(at), None) if at <= now => {
                return Err(Error::invalid_metadata("expires_at is in the past"))
            }
            (Some(at), None) => Some(at),
            (None, Some(0)) => return Err(Error::invalid_metadata("expires_in must be positive")),
            (None, Some(secs)) => Some(now.saturating_add(secs)),
            (None, None) => Some(now + policy.default_lifetime()),
        };
        if expires_at.is_none() && !policy.allows_never() {
            return Err(Error::invalid_metadata(
                "this server does not allow secrets that never expire",
            ));
        }
        if let (Some(at), Some(max)) = (expires_at, policy.max_lifetime) {
            if at - now > max {
                return Err(Error::InvalidMetadata(
                    format!(
                        "a secret may live at most {} days on this server",
                        max / 86_400
                    )
                    .into(),
                ));
            }
        }
        let scope = match self.scope {
            None => None,
            Some(s) => {
                let s = Scope::parse(&s).map_err(Error::invalid_metadata)?;
                if let Some(extra) = s.first_outside(client_scope) {
                    return Err(Error::InvalidMetadata(
                        format!("secret scope '{extra}' is not among the client's scopes").into(),
                    ));
                }
                Some(s)
            }
        };
        let secret_id = random_id::<9>(rng)?;
        let mut raw = Zeroizing::new([0u8; 32]);
        rng.fill(raw.as_mut())?;
        let (plaintext, salt) = if derived {
            let salt = b64url(raw.as_ref());
            (
                pepper.derive_secret(client_id, &secret_id, &salt),
                Some(salt),
            )
        } else {
            (Zeroizing::new(b64url(raw.as_ref())), None)
        };
        let meta = SecretMeta {
            secret_id,
            description,
            created_at: now,
            expires_at,
            scope,
            last_used_at: None,
        };
        let stored = StoredSecret {
            meta: meta.clone(),
            digest: b64url(pepper.digest(client_id, &plaintext)),
            salt,
        };
        Ok((
            stored,
            NewSecret {
                meta,
                client_secret: plaintext,
            },
        ))
    }
}

impl std::fmt::Debug for NewSecret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "NewSecret({}, redacted)", self.meta.secret_id)
    }
}

#[cfg(test)]
impl NewSecret {
    /// The plaintext, for tests.
    pub fn plaintext(&self) -> &str {
        &self.client_secret
    }
}

/// Which secret a client proved it holds: made only by a successful check, and carried to the
/// token (the secret's scope limit) and to the activity counters (its last use).
#[derive(Debug, Clone, PartialEq)]
pub struct SecretUse {
    /// The secret's id.
    pub id: String,
    /// The secret's scope limit, if it has one.
    pub scope: Option<Scope>,
}

/// Outcome of checking a presented secret against a client's secrets.
#[derive(Debug, PartialEq)]
pub enum SecretCheck {
    /// A live secret matched.
    Valid(SecretUse),
    /// Only an expired secret matched.
    Expired,
    /// Nothing matched.
    Invalid,
}

/// Checks a presented secret against every stored digest, each compared in constant time.
pub fn check(
    secrets: &[StoredSecret],
    pepper: &Pepper,
    client_id: &str,
    presented: &str,
    now: u64,
) -> SecretCheck {
    if presented.len() > MAX_SECRET_LEN {
        return SecretCheck::Invalid;
    }
    let digest = pepper.digest(client_id, presented);
    first_match(secrets, now, |s| {
        b64url_decode(&s.digest).is_some_and(|stored| bool::from(stored.as_slice().ct_eq(&digest)))
    })
}

/// Checks an HS256 signature against every derived secret of a client (RFC 7518 3.2: the key
/// is the secret's octets), in constant time per secret.
pub fn check_hs256(
    secrets: &[StoredSecret],
    pepper: &Pepper,
    client_id: &str,
    signing_input: &[u8],
    signature: &[u8],
    now: u64,
) -> SecretCheck {
    first_match(secrets, now, |s| {
        let Some(salt) = &s.salt else { return false };
        let key = pepper.derive_secret(client_id, &s.meta.secret_id, salt);
        hs256(key.as_bytes(), signing_input, signature)
    })
}

/// The first live secret that `matches`; an expired match alone is told apart from no match.
fn first_match(
    secrets: &[StoredSecret],
    now: u64,
    matches: impl Fn(&StoredSecret) -> bool,
) -> SecretCheck {
    let mut expired = false;
    for s in secrets.iter().filter(|s| matches(s)) {
        if s.meta.is_live(now) {
            return SecretCheck::Valid(SecretUse {
                id: s.meta.secret_id.clone(),
                scope: s.meta.scope.clone(),
            });
        }
        expired = true;
    }
    if expired {
        SecretCheck::Expired
    } else {
        SecretCheck::Invalid
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::SeqRandom;

    fn pepper() -> Pepper {
        Pepper::new(vec![7; 32]).unwrap()
    }

    fn issue(input: SecretInput, now: u64) -> Result<(StoredSecret, NewSecret), Error> {
        let scope = Scope::parse("read write").unwrap();
        let policy = SecretPolicy::default();
        input.issue(
            "cid",
            &scope,
            false,
            (&pepper(), &policy),
            &SeqRandom::default(),
            now,
        )
    }

    #[test]
    fn server_policy_can_cap_lifetimes_and_forbid_never() {
        let capped = SecretPolicy {
            max_lifetime: Some(30 * 86_400),
            ..Default::default()
        };
        let scope = Scope::default();
        let go = |input: SecretInput, policy: &SecretPolicy| {
            input.issue(
                "cid",
                &scope,
                false,
                (&pepper(), policy),
                &SeqRandom::default(),
                0,
            )
        };
        let (s, _) = go(SecretInput::default(), &capped).unwrap();
        assert_eq!(
            s.meta.expires_at,
            Some(30 * 86_400),
            "the default shrinks to the cap"
        );
        let long = SecretInput {
            expires_in: Some(31 * 86_400),
            ..Default::default()
        };
        assert_eq!(
            go(long, &capped).unwrap_err().description(),
            "a secret may live at most 30 days on this server"
        );
        let never = || SecretInput {
            expires_at: Some(0),
            ..Default::default()
        };
        assert_eq!(
            go(never(), &capped).unwrap_err().description(),
            "this server does not allow secrets that never expire"
        );
        let no_never = SecretPolicy {
            allow_never: false,
            ..Default::default()
        };
        assert!(go(never(), &no_never).is_err());
        assert_eq!(
            go(never(), &SecretPolicy::default())
                .unwrap()
                .0
                .meta
                .expires_at,
            None
        );
    }

    #[test]
    fn derived_secrets_are_recomputable_only_with_the_pepper() {
        let scope = Scope::default();
        let (stored, new) = SecretInput::default()
            .issue(
                "cid",
                &scope,
                true,
                (&pepper(), &SecretPolicy::default()),
                &SeqRandom::default(),
                0,
            )
            .unwrap();
        let salt = stored.salt.clone().unwrap();
        assert_eq!(
            *pepper().derive_secret("cid", &stored.meta.secret_id, &salt),
            new.plaintext()
        );
        let other = Pepper::new(vec![8; 32]).unwrap();
        assert_ne!(
            *other.derive_secret("cid", &stored.meta.secret_id, &salt),
            new.plaintext()
        );
        let sig = hmac_sha256(new.plaintext().as_bytes(), &[b"a.b"])
            .finalize()
            .into_bytes();
        let all = [stored];
        assert!(matches!(
            check_hs256(&all, &pepper(), "cid", b"a.b", &sig, 1),
            SecretCheck::Valid(_)
        ));
        assert_eq!(
            check_hs256(&all, &pepper(), "cid", b"a.c", &sig, 1),
            SecretCheck::Invalid
        );
        // A derived secret still works as a plain secret too (digest kept).
        assert!(matches!(
            check(&all, &pepper(), "cid", new.plaintext(), 1),
            SecretCheck::Valid(_)
        ));
    }

    #[test]
    fn secrets_are_256_bit_and_stored_only_as_digest() {
        let (stored, new) = issue(SecretInput::default(), 100).unwrap();
        assert_eq!(new.plaintext().len(), 43);
        let json = serde_json::to_string(&stored).unwrap();
        assert!(!json.contains(new.plaintext()));
        assert_eq!(stored.meta.expires_at, Some(100 + DEFAULT_SECRET_LIFETIME));
    }

    #[test]
    fn a_secret_expires_at_exactly_expires_at() {
        let input = SecretInput {
            expires_in: Some(10),
            ..Default::default()
        };
        let (stored, new) = issue(input, 100).unwrap();
        let all = [stored];
        assert!(matches!(
            check(&all, &pepper(), "cid", new.plaintext(), 109),
            SecretCheck::Valid(_)
        ));
        assert_eq!(
            check(&all, &pepper(), "cid", new.plaintext(), 110),
            SecretCheck::Expired
        );
    }

    #[test]
    fn expiry_choices() {
        let never = SecretInput {
            expires_at: Some(0),
            ..Default::default()
        };
        assert_eq!(issue(never, 5).unwrap().0.meta.expires_at, None);
        let past = SecretInput {
            expires_at: Some(5),
            ..Default::default()
        };
        assert_eq!(
            issue(past, 5).unwrap_err().description(),
            "expires_at is in the past"
        );
        let both = SecretInput {
            expires_at: Some(9),
            expires_in: Some(9),
            ..Default::default()
        };
        assert_eq!(issue(both, 5).unwrap_err().status(), 422);
    }

    #[test]
    fn secret_scope_must_be_within_the_clients() {
        let input = SecretInput {
            scope: Some("read admin".into()),
            ..Default::default()
        };
        assert_eq!(
            issue(input, 0).unwrap_err().description(),
            "secret scope 'admin' is not among the client's scopes"
        );
    }

    #[test]
    fn digest_is_bound_to_the_client_and_the_pepper() {
        let (stored, new) = issue(SecretInput::default(), 0).unwrap();
        let all = [stored];
        assert_eq!(
            check(&all, &pepper(), "other", new.plaintext(), 1),
            SecretCheck::Invalid
        );
        let other = Pepper::new(vec![8; 32]).unwrap();
        assert_eq!(
            check(&all, &other, "cid", new.plaintext(), 1),
            SecretCheck::Invalid
        );
        assert_eq!(
            check(&all, &pepper(), "cid", "wrong", 1),
            SecretCheck::Invalid
        );
    }

    #[test]
    fn digest_and_tag_are_hmac_sha256_under_the_pepper() {
        // Values from Python's hmac module, so a stored digest stays valid whatever the
        // pepper's in-memory form.
        let pepper = Pepper::new((0..32).collect()).unwrap();
        let hex = |b: [u8; 32]| b.iter().map(|x| format!("{x:02x}")).collect::<String>();
        assert_eq!(
            hex(pepper.digest("client-1", "s3cret")),
            "fbad22bb5971684c7545186c5c575dec75976ad8c247293d6529355c56947a97"
        );
        assert_eq!(
            hex(pepper.tag("cursor", b"abc")),
            "fbd0c3888826d54b8c52c209948bee36eae1431e11a984c80e30cf2fa14005f3"
        );
    }

    #[test]
    fn pepper_debug_is_redacted_and_short_peppers_refused() {
        assert_eq!(format!("{:?}", pepper()), "Pepper(redacted)");
        assert!(Pepper::new(vec![1; 31]).is_none());
    }
}
