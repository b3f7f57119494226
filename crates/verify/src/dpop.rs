//! DPoP proofs (RFC 9449): the rules of sections 4.2 and 4.3 a proof must meet, the RFC 7638
//! thumbprint of its key (what a bound token's `cnf.jkt` names), and [`ProofReplay`], a
//! bounded per-isolate memory of the proofs already used.
//!
//! [`Proof::parse`] checks everything but the signature, cheapest first: the size, three
//! base64url parts, the header (`typ` `dpop+jwt`, `alg` in [`ProofAlg`], no `crit`, a public
//! `jwk` of the algorithm's key type), then the claims (`htm`, `htu`, `iat` within the window,
//! `jti`, and `ath` when the proof comes with an access token). [`Proof::verify`] then hands
//! the signature to the caller, since a Worker's platform (WebCrypto) verifies ES256, RS256
//! and PS256 and this crate carries no RSA or ECDSA code; [`ed25519`] is this crate's own
//! Ed25519 check for callers without one.

use std::collections::{HashMap, VecDeque};
use std::future::Future;
use std::sync::Mutex;

use ed25519_dalek::{Signature, VerifyingKey};
use serde_json::{Map, Value};
use sha2::{Digest, Sha256};

use crate::b64::{url_decode, url_encode};

/// The `typ` of a proof's header.
pub const DPOP_TYP: &str = "dpop+jwt";
/// The algorithms accepted, space-separated, as the `algs` of a `DPoP` challenge.
pub const DPOP_ALGS: &str = "ES256 EdDSA RS256 PS256";
/// The same names as a list, as metadata's `dpop_signing_alg_values_supported` has them.
pub const DPOP_ALG_NAMES: [&str; 4] = ["ES256", "EdDSA", "RS256", "PS256"];
/// Default window, in seconds, around now in which a proof's `iat` must fall.
pub const DEFAULT_PROOF_WINDOW: u64 = 60;
/// Longest proof accepted, in bytes: an RSA-4096 key and signature fit in well under half.
pub const MAX_PROOF_LEN: usize = 4 * 1024;
/// Longest `jti` accepted, in bytes (128 random bits take 22).
pub const MAX_JTI_LEN: usize = 128;
/// Smallest RSA modulus accepted, in bytes (2048 bits).
const MIN_RSA_MODULUS: usize = 256;

/// The algorithms a proof may be signed with: a strict allow-list, so never `none` or an HMAC.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ProofAlg {
    /// ECDSA P-256 with SHA-256: an `EC` key on `P-256`.
    ES256,
    /// Ed25519: an `OKP` key on `Ed25519`.
    EdDSA,
    /// RSASSA-PKCS1-v1_5 with SHA-256: an `RSA` key of at least 2048 bits.
    RS256,
    /// RSASSA-PSS with SHA-256: an `RSA` key of at least 2048 bits.
    PS256,
}

impl ProofAlg {
    /// Every accepted algorithm, in the order of [`DPOP_ALGS`].
    pub const ALL: [ProofAlg; 4] = [
        ProofAlg::ES256,
        ProofAlg::EdDSA,
        ProofAlg::RS256,
        ProofAlg::PS256,
    ];

    /// The JOSE name.
    pub fn name(self) -> &'static str {
        match self {
            ProofAlg::ES256 => "ES256",
            ProofAlg::EdDSA => "EdDSA",
            ProofAlg::RS256 => "RS256",
            ProofAlg::PS256 => "PS256",
        }
    }
}

/// Why a proof was refused. Descriptions are fixed texts: nothing from the proof is echoed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum ProofError {
    /// No proof was sent where one is needed.
    Missing,
    /// More than one proof (several `DPoP` headers arrive joined by commas).
    Multiple,
    /// Longer than [`MAX_PROOF_LEN`].
    TooLong,
    /// Not a compact JWS whose header and claims are JSON objects.
    Malformed,
    /// `typ` is not `dpop+jwt`.
    WrongType,
    /// `alg` is not one of [`DPOP_ALGS`].
    AlgorithmNotAllowed,
    /// The header has `crit`.
    CriticalHeader,
    /// `jwk` is missing, holds private members, or does not fit `alg`.
    BadKey,
    /// The signature does not verify.
    BadSignature,
    /// `htm` is not the request's method.
    WrongMethod,
    /// `htu` is not the request's URL.
    WrongUrl,
    /// `iat` is missing or outside the window.
    BadTime,
    /// `jti` is missing, empty or too long.
    BadJti,
    /// `ath` is missing or is not the hash of the access token sent with it.
    WrongAccessTokenHash,
    /// The proof's key is not the key the access token is bound to.
    WrongKey,
    /// This proof was already used.
    Replayed,
}

impl ProofError {
    /// A short public description.
    pub fn description(self) -> &'static str {
        match self {
            ProofError::Missing => "a DPoP proof is required",
            ProofError::Multiple => "more than one DPoP proof was sent",
            ProofError::TooLong => "the DPoP proof is too long",
            ProofError::Malformed => "the DPoP proof is not a well-formed JWT",
            ProofError::WrongType => "the DPoP proof's typ is not dpop+jwt",
            ProofError::AlgorithmNotAllowed => {
                "the DPoP proof's alg is not one of ES256 EdDSA RS256 PS256"
            }
            ProofError::CriticalHeader => "the DPoP proof has critical header parameters",
            ProofError::BadKey => "the DPoP proof's jwk is not a public key of its alg",
            ProofError::BadSignature => "the DPoP proof's signature is invalid",
            ProofError::WrongMethod => "the DPoP proof's htm is not this request's method",
            ProofError::WrongUrl => "the DPoP proof's htu is not this request's URL",
            ProofError::BadTime => "the DPoP proof's iat is missing or outside the accepted window",
            ProofError::BadJti => "the DPoP proof's jti is missing or malformed",
            ProofError::WrongAccessTokenHash => {
                "the DPoP proof's ath is not the hash of the access token"
            }
            ProofError::WrongKey => "the DPoP proof's key is not the key the token is bound to",
            ProofError::Replayed => "the DPoP proof was already used",
        }
    }
}

/// The proof's public key, its members checked for the algorithm: `crv`, `x`, `y` for EC,
/// `crv`, `x` for OKP, `n`, `e` for RSA.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProofKey {
    /// The RFC 7638 input: the required members only, in lexicographic order, no whitespace.
    /// It is also a JWK a platform can import (WebCrypto `importKey("jwk", ...)`).
    pub canonical: String,
    /// Its SHA-256 thumbprint, base64url: the `jkt` a bound token names.
    pub jkt: String,
}

/// What a proof must match besides its own form.
#[derive(Debug, Clone, Copy)]
pub struct ProofRules<'a> {
    /// The request's method, upper case.
    pub method: &'a str,
    /// The URL the client sent the request to (its query and fragment are ignored).
    pub url: &'a str,
    /// Seconds `iat` may be from now, either way.
    pub window: u64,
    /// The access token sent with the proof, at a resource: `ath` must be its hash. `None` at
    /// the token endpoint, where `ath` is not read.
    pub access_token: Option<&'a str>,
}

/// A proof whose form and claims passed and whose signature is not verified yet.
#[derive(Debug, Clone)]
pub struct Proof<'a> {
    /// The algorithm.
    pub alg: ProofAlg,
    /// The key in its header.
    pub key: ProofKey,
    /// Its `jti`.
    pub jti: String,
    /// Its `iat`.
    pub iat: u64,
    /// The signed input (header and claims).
    pub signing_input: &'a str,
    /// The signature.
    pub signature: Vec<u8>,
}

impl<'a> Proof<'a> {
    /// Checks everything but the signature, at `now` (Unix seconds).
    pub fn parse(
        proof: &'a str,
        rules: &ProofRules<'_>,
        now: u64,
    ) -> Result<Proof<'a>, ProofError> {
        if proof.len() > MAX_PROOF_LEN {
            return Err(ProofError::TooLong);
        }
        if proof.bytes().any(|b| b == b',') {
            return Err(ProofError::Multiple);
        }
        let mut parts = proof.split('.');
        let (Some(h), Some(p), Some(s), None) =
            (parts.next(), parts.next(), parts.next(), parts.next())
        else {
            return Err(ProofError::Malformed);
        };
        let decode = |part: &str| url_decode(part).ok_or(ProofError::Malformed);
        let header = object(&decode(h)?)?;
        let claims = object(&decode(p)?)?;
        let signature = decode(s)?;
        match text(&header, "typ") {
            Some(typ) if crate::token::typ_matches(typ, DPOP_TYP) => {}
            _ => return Err(ProofError::WrongType),
        }
        let alg = match text(&header, "alg") {
            Some(name) => ProofAlg::ALL
                .into_iter()
                .find(|a| a.name() == name)
                .ok_or(ProofError::AlgorithmNotAllowed)?,
            _ => return Err(ProofError::Malformed),
        };
        if header.contains_key("crit") {
            return Err(ProofError::CriticalHeader);
        }
        let key = match header.get("jwk") {
            Some(Value::Object(jwk)) => proof_key(jwk, alg).ok_or(ProofError::BadKey)?,
            _ => return Err(ProofError::BadKey),
        };
        if text(&claims, "htm") != Some(rules.method) {
            return Err(ProofError::WrongMethod);
        }
        match text(&claims, "htu") {
            Some(htu) if same_url(htu, rules.url) => {}
            _ => return Err(ProofError::WrongUrl),
        }
        let iat = claims
            .get("iat")
            .and_then(Value::as_u64)
            .filter(|iat| iat.abs_diff(now) <= rules.window)
            .ok_or(ProofError::BadTime)?;
        let jti = match text(&claims, "jti") {
            Some(jti) if !jti.is_empty() && jti.len() <= MAX_JTI_LEN => jti.to_string(),
            _ => return Err(ProofError::BadJti),
        };
        if let Some(token) = rules.access_token {
            if text(&claims, "ath") != Some(&access_token_hash(token)) {
                return Err(ProofError::WrongAccessTokenHash);
            }
        }
        Ok(Proof {
            alg,
            key,
            jti,
            iat,
            signing_input: &proof[..h.len() + 1 + p.len()],
            signature,
        })
    }

    /// Checks the signature with `check` (the algorithm, the key, the signed input and the
    /// signature; `true` if it verifies), after which the proof is valid.
    pub async fn verify<'p, F, Fut>(&'p self, check: F) -> Result<(), ProofError>
    where
        F: FnOnce(ProofAlg, &'p ProofKey, &'p [u8], &'p [u8]) -> Fut,
        Fut: Future<Output = bool>,
    {
        if check(
            self.alg,
            &self.key,
            self.signing_input.as_bytes(),
            &self.signature,
        )
        .await
        {
            Ok(())
        } else {
            Err(ProofError::BadSignature)
        }
    }
}

/// The string member `name` of `object`, if it is one.
fn text<'m>(object: &'m Map<String, Value>, name: &str) -> Option<&'m str> {
    object.get(name).and_then(Value::as_str)
}

/// A JSON object, or `Malformed`. Duplicate members keep the last, as RFC 7515 section 4
/// allows a parser to.
fn object(bytes: &[u8]) -> Result<Map<String, Value>, ProofError> {
    // Read as a `Value`, whose reader the crate and the issuer link anyway, not as a `Map`,
    // which would link one of its own.
    match crate::json::from_slice(bytes) {
        Ok(Value::Object(map)) => Ok(map),
        _ => Err(ProofError::Malformed),
    }
}

/// The checked key of `alg`: no private member, the key type and curve of the algorithm,
/// each required member base64url of the right size.
fn proof_key(jwk: &Map<String, Value>, alg: ProofAlg) -> Option<ProofKey> {
    const PRIVATE: [&str; 7] = ["d", "p", "q", "dp", "dq", "qi", "k"];
    if PRIVATE.iter().any(|m| jwk.contains_key(*m)) {
        return None;
    }
    let member = |name: &str| text(jwk, name);
    // A member's text, if it decodes to a length `fits` accepts.
    let bytes = |name: &str, fits: &dyn Fn(usize) -> bool| {
        let text = member(name)?;
        url_decode(text).filter(|b| fits(b.len()))?;
        Some(text)
    };
    let canonical = match alg {
        ProofAlg::ES256 => {
            (member("kty")? == "EC" && member("crv")? == "P-256").then_some(())?;
            let x = bytes("x", &|n| n == 32)?;
            let y = bytes("y", &|n| n == 32)?;
            [
                "{\"crv\":\"P-256\",\"kty\":\"EC\",\"x\":\"",
                x,
                "\",\"y\":\"",
                y,
                "\"}",
            ]
            .concat()
        }
        ProofAlg::EdDSA => {
            (member("kty")? == "OKP" && member("crv")? == "Ed25519").then_some(())?;
            let x = bytes("x", &|n| n == 32)?;
            ["{\"crv\":\"Ed25519\",\"kty\":\"OKP\",\"x\":\"", x, "\"}"].concat()
        }
        ProofAlg::RS256 | ProofAlg::PS256 => {
            (member("kty")? == "RSA").then_some(())?;
            let n = bytes("n", &|n| (MIN_RSA_MODULUS..=1024).contains(&n))?;
            let e = bytes("e", &|n| (1..=8).contains(&n))?;
            ["{\"e\":\"", e, "\",\"kty\":\"RSA\",\"n\":\"", n, "\"}"].concat()
        }
    };
    let jkt = url_encode(Sha256::digest(canonical.as_bytes()));
    Some(ProofKey { canonical, jkt })
}

/// `ath`: base64url of the SHA-256 of the access token (RFC 9449 section 4.2).
pub fn access_token_hash(token: &str) -> String {
    url_encode(Sha256::digest(token.as_bytes()))
}

/// Whether `htu` names `url` (RFC 9449 section 4.3 step 9): both without query and fragment,
/// the scheme and host compared case-insensitively, a default port (443 for https, 80 for
/// http) the same as none, and an empty path the same as `/` (RFC 3986 section 6.2.3).
pub fn same_url(htu: &str, url: &str) -> bool {
    match (url_parts(htu), url_parts(url)) {
        (Some(a), Some(b)) => {
            a.0.eq_ignore_ascii_case(b.0) && a.1.eq_ignore_ascii_case(b.1) && a.2 == b.2
        }
        _ => false,
    }
}

/// Scheme, authority without a default port, and path (`/` when empty) of an absolute URL.
/// By bytes rather than `str` patterns, whose searchers would cost the issuer's wasm more
/// than this whole function.
fn url_parts(url: &str) -> Option<(&str, &str, &str)> {
    let bytes = url.as_bytes();
    let end = bytes
        .iter()
        .position(|b| *b == b'?' || *b == b'#')
        .unwrap_or(bytes.len());
    let colon = bytes.iter().position(|b| *b == b':')?;
    let (scheme, rest) = (&url[..colon], url[colon..end].strip_prefix("://")?);
    let slash = rest.bytes().position(|b| b == b'/').unwrap_or(rest.len());
    let (authority, path) = rest.split_at(slash);
    let default = if scheme.eq_ignore_ascii_case("https") {
        ":443"
    } else if scheme.eq_ignore_ascii_case("http") {
        ":80"
    } else {
        return None;
    };
    let authority = authority.strip_suffix(default).unwrap_or(authority);
    if authority.is_empty() {
        return None;
    }
    Some((scheme, authority, if path.is_empty() { "/" } else { path }))
}

/// Ed25519 (RFC 8032, with `verify_strict`'s extra rules) of a proof's `OKP` key, for callers
/// whose platform has none.
pub fn ed25519(key: &ProofKey, input: &[u8], signature: &[u8]) -> bool {
    let x = key
        .canonical
        .strip_prefix("{\"crv\":\"Ed25519\",\"kty\":\"OKP\",\"x\":\"")
        .and_then(|rest| rest.strip_suffix("\"}"))
        .and_then(url_decode)
        .and_then(|x| <[u8; 32]>::try_from(x).ok());
    let (Some(x), Ok(signature)) = (x, <[u8; 64]>::try_from(signature)) else {
        return false;
    };
    VerifyingKey::from_bytes(&x).is_ok_and(|k| {
        k.verify_strict(input, &Signature::from_bytes(&signature))
            .is_ok()
    })
}

/// The certificate thumbprint of RFC 8705 section 3.1 (`x5t#S256`, base64url of the SHA-256
/// of the DER certificate) from the SHA-256 fingerprint as hex (64 digits, either case), as
/// Cloudflare gives it in `tlsClientAuth.certFingerprintSHA256`. `None` for anything else.
pub fn certificate_thumbprint(hex: &str) -> Option<String> {
    if hex.len() != 64 {
        return None;
    }
    let digit = |b: u8| (b as char).to_digit(16);
    let bytes = hex
        .as_bytes()
        .chunks(2)
        .map(|pair| Some((digit(pair[0])? * 16 + digit(pair[1])?) as u8))
        .collect::<Option<Vec<u8>>>()?;
    Some(url_encode(bytes))
}

/// The proofs an isolate has seen, by key thumbprint and `jti`, each until its window has
/// passed: a second use within the window is a replay. Bounded, the oldest forgotten first
/// when full; it knows only this isolate's proofs (see the crate README on what that stops).
#[derive(Debug)]
pub struct ProofReplay {
    capacity: usize,
    seen: Mutex<Seen>,
}

/// Each proof's id (a digest of its key thumbprint and `jti`) with the time it is held until,
/// as a set and in the order recorded.
type Seen = (HashMap<[u8; 32], u64>, VecDeque<([u8; 32], u64)>);

impl ProofReplay {
    /// Remembers at most `capacity` proofs (about 48 bytes each).
    pub fn new(capacity: usize) -> ProofReplay {
        ProofReplay {
            capacity: capacity.max(1),
            seen: Mutex::default(),
        }
    }

    /// Records the proof of key `jkt` with `jti`, held until `until` (Unix seconds; the proof's
    /// `iat` plus the window), at `now`: `true` the first time, `false` for a replay.
    pub fn first_use(&self, jkt: &str, jti: &str, until: u64, now: u64) -> bool {
        let mut h = Sha256::new();
        h.update(jkt.as_bytes());
        h.update([0]);
        h.update(jti.as_bytes());
        let id: [u8; 32] = h.finalize().into();
        let Ok(mut g) = self.seen.lock() else {
            return false;
        };
        let (set, order) = &mut *g;
        // Forget what has expired, and the oldest when full: entries are in insertion order,
        // close to expiry order. A set entry is removed only if it is the one this queue entry
        // recorded (the same proof may be recorded again after it expired).
        while let Some(&(old, t)) = order.front() {
            if t >= now && order.len() < self.capacity {
                break;
            }
            order.pop_front();
            if set.get(&old) == Some(&t) {
                set.remove(&old);
            }
        }
        if set.get(&id).is_some_and(|t| *t >= now) {
            return false;
        }
        set.insert(id, until);
        order.push_back((id, until));
        true
    }

    /// How many proofs are remembered.
    pub fn len(&self) -> usize {
        self.seen.lock().map(|g| g.0.len()).unwrap_or(0)
    }

    /// Whether none is.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}
