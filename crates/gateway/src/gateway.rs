//! The decision for one request: which route, whether it may pass, and what goes upstream.

use std::future::Future;
use std::pin::Pin;

use edgeauth_verify::dpop::{self, certificate_thumbprint, ProofKey, DEFAULT_PROOF_WINDOW};
use edgeauth_verify::{
    access_token, Claims, Fetch, Proof, ProofAlg, ProofError, ProofReplay, ProofRules, RemoteJwks,
    Scheme, Scopes, Verifier, VerifyError,
};

use crate::headers::{self, get, RequestEdits, ResponseEdits};
use crate::reply::Reply;
use crate::revocation::{Introspect, Revocation, Unavailable};
use crate::routes::{canonical_path, Access, Miss, Route, ScopeRule, SenderConstraint, Upstream};
use crate::settings::Settings;

/// The request as the gateway sees it.
#[derive(Debug, Clone, Copy)]
pub struct Incoming<'a> {
    /// The method, upper case.
    pub method: &'a str,
    /// The full URL, as the runtime serializes it.
    pub url: &'a str,
    /// The headers, as the runtime lists them.
    pub headers: &'a [(String, String)],
    /// The client certificate's SHA-256 fingerprint as the runtime gives it (hex), when the
    /// connection presented one (`request.cf.tlsClientAuth`, read by the shell only); `None`
    /// otherwise.
    pub certificate: Option<&'a str>,
}

/// Where a forwarded request goes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Target {
    /// The original URL, through the runtime's `fetch` (a Worker's origin).
    Origin,
    /// Another URL, through `fetch`.
    Url(String),
    /// The original URL, through the named service binding.
    Service(String),
}

/// A request allowed through.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Forward {
    /// Where it goes.
    pub target: Target,
    /// Its headers, rewritten: the caller's with [`Forward::request`] applied.
    pub headers: Vec<(String, String)>,
    /// The changes to the caller's headers, as the shell makes them.
    pub request: RequestEdits,
    /// Changes to the upstream's answer (hop-by-hop headers, CORS).
    pub response: ResponseEdits,
}

/// What to do with a request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// Answer it here.
    Reply(Reply),
    /// Send it on.
    Forward(Forward),
}

/// Verified signatures each isolate remembers (32 bytes each).
pub const SEEN_SIGNATURES: usize = 4096;
/// DPoP proofs each isolate remembers to refuse their replay (about 100 bytes each).
pub const PROOF_REPLAY: usize = 8192;

/// Checks a DPoP proof's signature: the algorithm, the proof's key, the signed input and the
/// signature; `true` if it verifies. The shell's is WebCrypto; [`InWasm`] is the default.
pub trait ProofSignatures: std::fmt::Debug {
    /// Whether `signature` over `input` verifies with `key` under `alg`.
    fn verify<'a>(
        &'a self,
        alg: ProofAlg,
        key: &'a ProofKey,
        input: &'a [u8],
        signature: &'a [u8],
    ) -> Pin<Box<dyn Future<Output = bool> + 'a>>;
}

/// Ed25519 proofs verified by `edgeauth-verify` in the wasm; every other algorithm refused.
#[derive(Debug, Default)]
pub struct InWasm;

impl ProofSignatures for InWasm {
    fn verify<'a>(
        &'a self,
        alg: ProofAlg,
        key: &'a ProofKey,
        input: &'a [u8],
        signature: &'a [u8],
    ) -> Pin<Box<dyn Future<Output = bool> + 'a>> {
        let ok = alg == ProofAlg::EdDSA && dpop::ed25519(key, input, signature);
        Box::pin(std::future::ready(ok))
    }
}

/// Why a protected route refused a request.
enum Refusal {
    /// The token or request, as the verifier judged it.
    Token(VerifyError),
    /// The issuer says the token is no longer active.
    Revoked,
    /// The issuer could not say whether it is.
    Unknown(Unavailable),
}

impl From<VerifyError> for Refusal {
    fn from(e: VerifyError) -> Refusal {
        Refusal::Token(e)
    }
}

/// The gateway of one isolate: settings, the verifier with its key cache, and the revocation
/// check with its remembered answers (when a credential is configured).
#[derive(Debug)]
pub struct Gateway<F> {
    settings: Settings,
    verifier: Verifier<RemoteJwks<F>>,
    revocation: Option<Revocation<F>>,
    replay: ProofReplay,
    proofs: Box<dyn ProofSignatures>,
}

impl<F: Fetch + Introspect + Clone> Gateway<F> {
    /// A gateway whose keys and revocation answers come through `issuer` (the service binding
    /// to the issuer). The verifier accepts every audience of any route, and each route then
    /// checks its own.
    pub fn new(settings: Settings, issuer: F) -> Gateway<F> {
        let revocation = settings
            .introspection
            .as_ref()
            .map(|c| Revocation::new(&settings.issuer, c, issuer.clone()));
        let keys = RemoteJwks::new(settings.jwks_url(), issuer);
        // A client sends one token until it expires: checking its signature once per isolate
        // instead of on every request is most of the gateway's cost.
        let verifier = Verifier::new(&*settings.issuer, settings.routes.audiences(), keys)
            .with_seen_signatures(SEEN_SIGNATURES);
        Gateway {
            settings,
            verifier,
            revocation,
            replay: ProofReplay::new(PROOF_REPLAY),
            proofs: Box::new(InWasm),
        }
    }

    /// Checks DPoP proof signatures with `proofs` (the platform's) instead of [`InWasm`].
    pub fn with_proof_signatures(mut self, proofs: impl ProofSignatures + 'static) -> Self {
        self.proofs = Box::new(proofs);
        self
    }

    /// The settings.
    pub fn settings(&self) -> &Settings {
        &self.settings
    }

    /// Decides on `request` at `now` (Unix seconds).
    pub async fn handle(&self, request: &Incoming<'_>, now: u64) -> Outcome {
        let (host, path, query) = split_url(request.url);
        if let Err(e) = canonical_path(path) {
            return Outcome::Reply(Reply::error(400, "invalid_request", e.description()));
        }
        let origin = get(request.headers, "origin");
        let table = &self.settings.routes;
        if request.method == "OPTIONS" {
            let wanted = get(request.headers, "access-control-request-method");
            if let (Some(origin), Some(wanted)) = (origin, wanted) {
                let route = table.find(&host, path, &wanted.to_ascii_uppercase());
                if let Some(cors) = route.ok().and_then(|r| r.cors.as_ref()) {
                    let requested = get(request.headers, "access-control-request-headers");
                    return Outcome::Reply(headers::preflight(cors, origin, wanted, requested));
                }
            }
        }
        let route = match table.find(&host, path, request.method) {
            Ok(route) => route,
            Err(Miss::NotFound) => {
                return Outcome::Reply(Reply::error(
                    404,
                    "not_found",
                    "no route of this gateway serves this method and path",
                ))
            }
            Err(Miss::MethodNotAllowed(allowed)) => {
                return Outcome::Reply(Reply::method_not_allowed(&allowed))
            }
        };
        let edits = headers::response_edits(route.cors.as_ref(), origin);
        let identity = match &route.access {
            Access::Public => Vec::new(),
            Access::Protected { audiences, scopes } => {
                match self
                    .authorize(request, route, audiences, scopes.as_ref(), now)
                    .await
                {
                    Ok(claims) => self.identity(claims),
                    Err(refusal) => {
                        let realm = &self.settings.realm;
                        let mut reply = match refusal {
                            Refusal::Token(e) if dpop_challenge(request, route, &e) => {
                                Reply::refused_dpop(&e, realm)
                            }
                            Refusal::Token(e) => {
                                Reply::refused(&e, realm, self.verifier.keys().last_error())
                            }
                            Refusal::Revoked => Reply::revoked(realm),
                            Refusal::Unknown(Unavailable(reason)) => {
                                Reply::revocation_unknown(&reason)
                            }
                        };
                        edits.apply(&mut reply.headers);
                        return Outcome::Reply(reply);
                    }
                }
            }
        };
        let names = [
            self.settings.client_id_header.as_str(),
            self.settings.scopes_header.as_str(),
            self.settings.subject_header.as_str(),
            self.settings.actors_header.as_str(),
        ];
        let changes =
            headers::forwarded(request.headers, &names, route.strip_authorization, identity);
        Outcome::Forward(Forward {
            target: target(route, path, query),
            headers: changes.apply(request.headers),
            request: changes,
            response: edits,
        })
    }

    /// The identity headers for a verified token: its client, scopes and subject, and its
    /// actors when it was exchanged (RFC 8693 `act`: the header is absent otherwise).
    fn identity(&self, claims: Claims) -> Vec<(String, String)> {
        let s = &self.settings;
        let mut set = vec![
            (s.client_id_header.clone(), claims.client_id),
            (s.scopes_header.clone(), claims.scopes.join(" ")),
            (s.subject_header.clone(), claims.sub),
        ];
        if !claims.actors.is_empty() {
            set.push((s.actors_header.clone(), claims.actors.join(" ")));
        }
        set
    }

    /// The verified claims of the request's bearer token, for this route; if the route says so,
    /// only once the issuer has said the token is still active.
    async fn authorize(
        &self,
        request: &Incoming<'_>,
        route: &Route,
        audiences: &[String],
        scopes: Option<&ScopeRule>,
        now: u64,
    ) -> Result<Claims, Refusal> {
        let (scheme, token) = access_token(get(request.headers, "authorization"))?;
        let claims = self.verifier.verify(token, now).await?;
        if !claims.audiences.iter().any(|a| audiences.contains(a)) {
            return Err(VerifyError::WrongAudience.into());
        }
        self.binding(request, route, scheme, token, &claims, now)
            .await?;
        // The values go into headers: refuse what a header cannot carry unchanged.
        if !is_header_safe(&claims.client_id) {
            return Err(VerifyError::BadClaim("client_id").into());
        }
        if !claims.scopes.iter().all(|s| is_header_safe(s)) {
            return Err(VerifyError::BadClaim("scope").into());
        }
        if !is_header_safe(&claims.sub) {
            return Err(VerifyError::BadClaim("sub").into());
        }
        // Space-separated upstream, so an actor may not hold a space.
        if !claims
            .actors
            .iter()
            .all(|a| is_header_safe(a) && !a.contains(' '))
        {
            return Err(VerifyError::BadClaim("act").into());
        }
        match scopes {
            None => {}
            Some(ScopeRule::AllOf(list)) => claims.require_scopes(Scopes::AllOf(&strs(list)))?,
            Some(ScopeRule::AnyOf(list)) => claims.require_scopes(Scopes::AnyOf(&strs(list)))?,
        }
        // Asked last, so a request the token cannot pass anyway costs the issuer nothing.
        if route.revocation {
            // Settings refuse a revocation route without a credential, so this is always there.
            let Some(revocation) = &self.revocation else {
                let reason = "no introspection credential".to_string();
                return Err(Refusal::Unknown(Unavailable(reason)));
            };
            match revocation.is_active(token, &claims.jti, now).await {
                Ok(true) => {}
                Ok(false) => return Err(Refusal::Revoked),
                Err(e) => return Err(Refusal::Unknown(e)),
            }
        }
        Ok(claims)
    }
}

impl<F> Gateway<F> {
    /// The token's binding, and the route's: a certificate-bound token needs its certificate
    /// on the connection, a DPoP-bound one the `DPoP` scheme and a valid proof of its key (a
    /// token bound to both needs both), and a route with `sender_constraint` refuses tokens
    /// without the binding it names.
    async fn binding(
        &self,
        request: &Incoming<'_>,
        route: &Route,
        scheme: Scheme,
        token: &str,
        claims: &Claims,
        now: u64,
    ) -> Result<(), VerifyError> {
        let cnf = &claims.cnf;
        let constrained = match route.sender_constraint {
            None => true,
            Some(SenderConstraint::Dpop) => cnf.jkt.is_some(),
            Some(SenderConstraint::Mtls) => cnf.x5t_s256.is_some(),
            Some(SenderConstraint::Any) => cnf.is_bound(),
        };
        if !constrained {
            return Err(VerifyError::BindingRequired);
        }
        if let Some(x5t) = &cnf.x5t_s256 {
            let presented = request.certificate.and_then(certificate_thumbprint);
            if presented.as_deref() != Some(x5t.as_str()) {
                return Err(VerifyError::WrongCertificate);
            }
        }
        match (&cnf.jkt, scheme) {
            (None, Scheme::Bearer) => Ok(()),
            (None, Scheme::DPoP) => Err(VerifyError::NotBound),
            (Some(_), Scheme::Bearer) => Err(VerifyError::BoundToken),
            (Some(jkt), Scheme::DPoP) => self.proof(request, token, jkt, now).await,
        }
    }

    /// The request's DPoP proof for `token`, bound to key `jkt`: its rules (method and URL of
    /// this request, `iat` window, `ath`), its key, its signature, then not seen before in
    /// this isolate.
    async fn proof(
        &self,
        request: &Incoming<'_>,
        token: &str,
        jkt: &str,
        now: u64,
    ) -> Result<(), VerifyError> {
        let text = get(request.headers, "dpop").ok_or(VerifyError::Proof(ProofError::Missing))?;
        let rules = ProofRules {
            method: request.method,
            url: request.url,
            window: DEFAULT_PROOF_WINDOW,
            access_token: Some(token),
        };
        let proof = Proof::parse(text, &rules, now).map_err(VerifyError::Proof)?;
        if proof.key.jkt != jkt {
            return Err(VerifyError::Proof(ProofError::WrongKey));
        }
        let proofs = &*self.proofs;
        proof
            .verify(|alg, key, input, signature| proofs.verify(alg, key, input, signature))
            .await
            .map_err(VerifyError::Proof)?;
        let until = proof.iat + DEFAULT_PROOF_WINDOW;
        if !self
            .replay
            .first_use(&proof.key.jkt, &proof.jti, until, now)
        {
            return Err(VerifyError::Proof(ProofError::Replayed));
        }
        Ok(())
    }
}

/// Whether a refusal is answered with the `DPoP` challenge (RFC 9449 section 7.1): the
/// request used the DPoP scheme, the refusal is about DPoP, or the route takes DPoP only.
fn dpop_challenge(request: &Incoming<'_>, route: &Route, e: &VerifyError) -> bool {
    let scheme = get(request.headers, "authorization")
        .and_then(|a| a.get(..5))
        .is_some_and(|s| s.eq_ignore_ascii_case("dpop "));
    scheme
        || matches!(
            e,
            VerifyError::Proof(_) | VerifyError::BoundToken | VerifyError::NotBound
        )
        || route.sender_constraint == Some(SenderConstraint::Dpop)
}

fn strs(list: &[String]) -> Vec<&str> {
    list.iter().map(String::as_str).collect()
}

/// Printable ASCII, no leading or trailing space.
fn is_header_safe(value: &str) -> bool {
    !value.is_empty() && value.bytes().all(|b| (0x20..=0x7e).contains(&b)) && value.trim() == value
}

fn target(route: &Route, path: &str, query: &str) -> Target {
    match &route.upstream {
        Upstream::Origin => Target::Origin,
        Upstream::Url(base) => Target::Url(format!("{base}{path}{query}")),
        Upstream::Service(name) => Target::Service(name.clone()),
    }
}

/// The host (lower case, no port), the path, and the query with its `?` (or empty) of an
/// absolute URL as the runtime serializes it. The fragment is never sent, so not looked for.
pub fn split_url(url: &str) -> (String, &str, &str) {
    let after_scheme = url.split_once("://").map_or(url, |(_, rest)| rest);
    let authority_end = after_scheme.find(['/', '?']).unwrap_or(after_scheme.len());
    let (authority, rest) = after_scheme.split_at(authority_end);
    let authority = authority.rsplit_once('@').map_or(authority, |(_, h)| h);
    let host = if let Some(v6) = authority.strip_prefix('[') {
        v6.split(']').next().unwrap_or_default()
    } else {
        authority.split(':').next().unwrap_or_default()
    };
    let (path, query) = match rest.find('?') {
        Some(i) => rest.split_at(i),
        None => (rest, ""),
    };
    let path = if path.is_empty() { "/" } else { path };
    (host.to_ascii_lowercase(), path, query)
}
