//! The verifier: the policy a token must meet, and the key source its signature is checked with.

use ed25519_dalek::Signature;

use crate::claims::{check, ClaimRules};
use crate::remote::{Fetch, RemoteJwks};
use crate::seen::{Fingerprint, SeenSignatures};
use crate::token::{parse, HeaderRules, Unverified};
use crate::{Algorithm, Claims, JwkSet, Key, VerifyError};

/// Default clock skew tolerated on `exp`, `nbf` and `iat`, in seconds.
pub const DEFAULT_SKEW: u64 = 60;
/// Default longest token accepted, in bytes; edgeauth's are under 1 KiB.
pub const DEFAULT_MAX_TOKEN_LEN: usize = 8 * 1024;
/// The `typ` RFC 9068 access tokens carry.
pub const ACCESS_TOKEN_TYP: &str = "at+jwt";

/// Verifies access tokens of one issuer, for some audiences, with keys from `K`: a
/// [`JwkSet`] (static, [`Verifier::verify`] is sync) or a [`RemoteJwks`] (fetched, async).
#[derive(Debug)]
pub struct Verifier<K> {
    issuer: String,
    audiences: Option<Vec<String>>,
    skew: u64,
    typ: Option<&'static str>,
    algorithms: Vec<Algorithm>,
    max_token_len: usize,
    keys: K,
    seen: Option<SeenSignatures>,
}

impl<K> Verifier<K> {
    /// A verifier for tokens from `issuer` (exact match) whose `aud` names at least one of
    /// `audiences`: skew 60 s, `typ` `at+jwt` required, EdDSA only, 8 KiB at most.
    pub fn new<A: Into<String>>(
        issuer: impl Into<String>,
        audiences: impl IntoIterator<Item = A>,
        keys: K,
    ) -> Verifier<K> {
        Verifier {
            issuer: issuer.into(),
            audiences: Some(audiences.into_iter().map(Into::into).collect()),
            skew: DEFAULT_SKEW,
            typ: Some(ACCESS_TOKEN_TYP),
            algorithms: vec![Algorithm::EdDSA],
            max_token_len: DEFAULT_MAX_TOKEN_LEN,
            keys,
            seen: None,
        }
    }

    /// Remembers up to `entries` signatures that verified (32 bytes each, oldest forgotten
    /// first), so a token seen again skips the signature check; its claims are checked on
    /// every call. Worth it for a long-lived verifier (a gateway's, per isolate), where a
    /// client sends the same token until it expires.
    pub fn with_seen_signatures(mut self, entries: usize) -> Self {
        self.seen = Some(SeenSignatures::new(entries));
        self
    }

    /// Tolerates `seconds` of clock difference on `exp`, `nbf` and `iat`.
    pub fn with_skew(mut self, seconds: u64) -> Self {
        self.skew = seconds;
        self
    }

    /// Whether the header must say `typ: at+jwt` (on by default; RFC 9068 section 4).
    pub fn require_typ(mut self, required: bool) -> Self {
        self.typ = required.then_some(ACCESS_TOKEN_TYP);
        self
    }

    /// The algorithms accepted; each only ever with its own key type.
    pub fn with_algorithms(mut self, algorithms: &[Algorithm]) -> Self {
        self.algorithms = algorithms.to_vec();
        self
    }

    /// The longest token accepted, in bytes.
    pub fn with_max_token_len(mut self, bytes: usize) -> Self {
        self.max_token_len = bytes;
        self
    }

    /// Accepts any `aud`. Only for an authorization server introspecting its own tokens: a
    /// resource server that skips the audience accepts tokens minted for other APIs.
    pub fn accept_any_audience(mut self) -> Self {
        self.audiences = None;
        self
    }

    /// The key source.
    pub fn keys(&self) -> &K {
        &self.keys
    }

    fn parse<'t>(&self, token: &'t str) -> Result<Unverified<'t>, VerifyError> {
        let rules = HeaderRules {
            max_len: self.max_token_len,
            algorithms: &self.algorithms,
            typ: self.typ,
        };
        parse(token, &rules)
    }

    /// Signature, then claims.
    fn finish(&self, token: &Unverified<'_>, key: &Key, now: u64) -> Result<Claims, VerifyError> {
        if let Some(pending) = self.unseen(token, key)? {
            pending.check_in_wasm(token)?;
            self.remember(pending);
        }
        self.claims(token, now)
    }

    /// The signature check still owed for `token` with `key`, or `None` when this verifier
    /// has seen that exact signature verify.
    fn unseen<'k>(
        &self,
        token: &Unverified<'_>,
        key: &'k Key,
    ) -> Result<Option<Pending<'k>>, VerifyError> {
        if key.algorithm() != token.alg {
            return Err(VerifyError::UnknownKey);
        }
        let public = key.verifying_key();
        let fingerprint = self.seen.as_ref().map(|_| {
            SeenSignatures::fingerprint(public.as_bytes(), token.signing_input, &token.signature)
        });
        if let (Some(seen), Some(f)) = (&self.seen, &fingerprint) {
            if seen.contains(f) {
                return Ok(None);
            }
        }
        Ok(Some(Pending { key, fingerprint }))
    }

    fn remember(&self, pending: Pending<'_>) {
        if let (Some(seen), Some(f)) = (&self.seen, pending.fingerprint) {
            seen.insert(f);
        }
    }

    fn claims(&self, token: &Unverified<'_>, now: u64) -> Result<Claims, VerifyError> {
        let rules = ClaimRules {
            issuer: &self.issuer,
            audiences: self.audiences.as_deref(),
            skew: self.skew,
        };
        check(&token.payload, &rules, now)
    }
}

/// A signature check owed: the key, and what to remember it by once it passes.
struct Pending<'k> {
    key: &'k Key,
    fingerprint: Option<Fingerprint>,
}

impl Pending<'_> {
    /// RFC 8032 with `verify_strict`'s extra rules (no small-order `R` or key, `s` reduced).
    fn check_in_wasm(&self, token: &Unverified<'_>) -> Result<(), VerifyError> {
        let signature = Signature::from_bytes(&token.signature);
        self.key
            .verifying_key()
            .verify_strict(token.signing_input.as_bytes(), &signature)
            .map_err(|_| VerifyError::BadSignature)
    }
}

impl Verifier<JwkSet> {
    fn parse_static<'t>(&self, token: &'t str) -> Result<(Unverified<'t>, &Key), VerifyError> {
        let token = self.parse(token)?;
        let kid = token.kid.as_deref().ok_or(VerifyError::UnknownKey)?;
        let key = self
            .keys
            .find(kid, token.alg)
            .ok_or(VerifyError::UnknownKey)?;
        Ok((token, key))
    }

    /// Verifies `token` at `now` (Unix seconds) against the static key set.
    pub fn verify(&self, token: &str, now: u64) -> Result<Claims, VerifyError> {
        let (token, key) = self.parse_static(token)?;
        self.finish(&token, key, now)
    }

    /// As [`Verifier::verify`], with the Ed25519 equation handed to `native`: a platform's
    /// own implementation (WebCrypto in a Worker is several times faster than this crate's
    /// code in wasm). `native` gets the public key, the signed input and the signature, and
    /// answers whether they verify, or `None` to leave it to this crate. It must verify as
    /// strictly as `verify_strict` (a small-order `R` or an unreduced `s` refused); a signature
    /// it accepts is remembered like any other. A `native` that answers a plain `bool` always
    /// answers: this crate's Ed25519 arithmetic is then left out of the caller's build.
    pub async fn verify_with<'t, N, F, A>(
        &self,
        token: &'t str,
        now: u64,
        native: N,
    ) -> Result<Claims, VerifyError>
    where
        N: FnOnce([u8; 32], &'t [u8], [u8; 64]) -> F,
        F: std::future::Future<Output = A>,
        A: Into<Option<bool>>,
    {
        let (token, key) = self.parse_static(token)?;
        if let Some(pending) = self.unseen(&token, key)? {
            let public = *key.verifying_key().as_bytes();
            let answer = native(public, token.signing_input.as_bytes(), token.signature).await;
            match answer.into() {
                Some(true) => {}
                Some(false) => return Err(VerifyError::BadSignature),
                None => pending.check_in_wasm(&token)?,
            }
            self.remember(pending);
        }
        self.claims(&token, now)
    }
}

impl<F: Fetch> Verifier<RemoteJwks<F>> {
    /// Verifies `token` at `now` (Unix seconds), fetching the key set when the cache allows.
    pub async fn verify(&self, token: &str, now: u64) -> Result<Claims, VerifyError> {
        let token = self.parse(token)?;
        let kid = token.kid.as_deref().ok_or(VerifyError::UnknownKey)?;
        let key = self.keys.key(kid, token.alg, now).await?;
        self.finish(&token, &key, now)
    }
}
