//! Host tests of every endpoint through the core router, on an in-memory store and a fixed clock.

mod activity;
mod admin;
mod admins;
mod assertions;
mod audit;
mod discovery;
mod dpop;
mod ed25519;
mod exchange;
mod faults;
mod federation;
mod federation_admin;
mod fuzz;
mod introspect;
mod keys;
mod layers;
mod lockout;
mod mtls;
mod openapi;
mod pem_differential;
mod pem_inputs;
mod provider;
mod quota;
mod resources;
mod revoke;
mod token;
mod token_claims;
mod verifier;

use std::cell::Cell;
use std::future::Future;
use std::pin::pin;
use std::task::{Context, Poll, Waker};

use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use base64::Engine;
use ed25519_dalek::{Signature, VerifyingKey};
use edgeauth::context::isolate::activity::write as write_activity;
use edgeauth::services::token_quota as quotas;
use edgeauth::testing::{FixedClock, MemoryFetcher, MemoryGuards, MemoryStore, SeqRandom};
use edgeauth::{Config, Ctx, IsolateState, Method, Ports, Request, Response};
use serde_json::{json, Value};

pub const ADMIN_TOKEN: &str = "admin-token-for-tests-0123456789";
pub const ORIGIN: &str = "https://auth.test";
pub const T0: u64 = 1_800_000_000;

/// Runs a future that never waits: the in-memory store answers at once.
pub fn block_on<F: Future>(f: F) -> F::Output {
    let mut f = pin!(f);
    match f.as_mut().poll(&mut Context::from_waker(Waker::noop())) {
        Poll::Ready(v) => v,
        Poll::Pending => panic!("the in-memory platform never pends"),
    }
}

pub struct Harness {
    pub config: Config,
    pub store: MemoryStore,
    pub clock: FixedClock,
    pub rng: SeqRandom,
    pub guards: MemoryGuards,
    pub fetcher: MemoryFetcher,
    pub isolate: IsolateState,
    /// Background quota reports are taken but never sent (an answer that never comes).
    pub hold_reports: Cell<bool>,
    /// Background quota reports sent after responses, and how many of them failed.
    pub reports_sent: Cell<u64>,
    pub report_errors: Cell<u64>,
}

impl Default for Harness {
    fn default() -> Harness {
        Harness::with(&[])
    }
}

impl Harness {
    pub fn new() -> Harness {
        Harness::with(&[])
    }

    pub fn with(extra: &[(&str, &str)]) -> Harness {
        let mut settings = vec![
            ("ADMIN_TOKEN", ADMIN_TOKEN.to_string()),
            (
                "SECRET_PEPPER",
                "pepper-pepper-pepper-pepper-pepper".to_string(),
            ),
            ("SIGNING_KEY_SEED", URL_SAFE_NO_PAD.encode([9u8; 32])),
        ];
        settings.extend(extra.iter().map(|(k, v)| (*k, v.to_string())));
        let config = Config::from_lookup(|name| {
            settings
                .iter()
                .rev()
                .find(|(k, _)| *k == name)
                .map(|(_, v)| v.clone())
        })
        .expect("test config");
        Harness {
            config,
            store: MemoryStore::default(),
            clock: FixedClock::at(T0),
            rng: SeqRandom::default(),
            guards: MemoryGuards::default(),
            fetcher: MemoryFetcher::default(),
            isolate: IsolateState::default(),
            hold_reports: Cell::new(false),
            reports_sent: Cell::new(0),
            report_errors: Cell::new(0),
        }
    }

    /// Answers a request, then performs the background writes the isolate owes, as the
    /// shell does with `wait_until`.
    pub fn send(&self, req: Request) -> Response {
        self.send_in(&self.isolate, req)
    }

    /// [`Harness::send`] served by another isolate, with its own caches: the shared state is
    /// the store and the guards, as across locations.
    pub fn send_in(&self, isolate: &IsolateState, req: Request) -> Response {
        self.with_ctx(isolate, |ctx| {
            let response = block_on(edgeauth::handle(ctx, &req));
            let writes = ctx.due_activity();
            block_on(write_activity(&self.store, writes));
            let reports = quotas::due(ctx);
            if !self.hold_reports.get() {
                self.reports_sent
                    .set(self.reports_sent.get() + reports.len() as u64);
                let errors = block_on(quotas::settle(ctx, reports));
                self.report_errors
                    .set(self.report_errors.get() + errors.len() as u64);
            }
            response
        })
    }

    /// What the Cron Trigger runs.
    pub fn run_scheduled(&self) -> Result<(), edgeauth::Error> {
        self.with_ctx(&self.isolate, |ctx| {
            block_on(edgeauth::admin::keys::tick(ctx))
        })
    }

    /// Runs `f` with a request context over this harness's ports in `isolate`, as the shell
    /// builds one.
    fn with_ctx<R>(&self, isolate: &IsolateState, f: impl FnOnce(&Ctx<'_>) -> R) -> R {
        let ports = Ports {
            clients: &self.store,
            resources: &self.store,
            audit: &self.store,
            activity: &self.store,
            guards: &self.guards,
            keys: &self.store,
            fetcher: &self.fetcher,
            verifier: &verifier::RustCryptoVerifier,
            signer: &edgeauth::jose::keys::InRust,
            rng: &self.rng,
        };
        f(&Ctx::new(&self.config, ports, isolate, &self.clock))
    }

    /// An admin call with a JSON body; answers status and parsed body (Null when empty).
    pub fn admin(&self, method: Method, path: &str, body: Option<Value>) -> (u16, Value) {
        let mut req = Request::new(method, &format!("{ORIGIN}{path}"))
            .with_header("authorization", &format!("Bearer {ADMIN_TOKEN}"));
        if let Some(b) = body {
            req = req
                .with_header("content-type", "application/json")
                .with_body(b.to_string());
        }
        let r = self.send(req);
        (r.status, body_json(&r))
    }

    /// Creates a client; answers its id and first secret.
    pub fn create(&self, body: Value) -> (String, String) {
        let (status, v) = self.admin(Method::Post, "/admin/clients", Some(body));
        assert_eq!(status, 201, "{v}");
        (
            v["client"]["client_id"].as_str().unwrap().to_string(),
            v["secret"]["client_secret"].as_str().unwrap().to_string(),
        )
    }

    /// A token request with HTTP Basic credentials and extra form parameters.
    pub fn token_basic(&self, id: &str, secret: &str, form: &str) -> Response {
        let creds = STANDARD.encode(format!("{}:{}", urlencode(id), urlencode(secret)));
        self.send(token_request(form).with_header("authorization", &format!("Basic {creds}")))
    }
}

pub fn token_request(form: &str) -> Request {
    Request::new(Method::Post, &format!("{ORIGIN}/oauth/token"))
        .with_header("content-type", "application/x-www-form-urlencoded")
        .with_body(form.to_string())
}

pub fn urlencode(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

pub fn body_json(r: &Response) -> Value {
    if r.body.is_empty() {
        Value::Null
    } else {
        serde_json::from_slice(&r.body).expect("JSON body")
    }
}

/// Asserts an error response: status, code and exact description.
pub fn assert_error(r: &Response, status: u16, code: &str, description: &str) {
    assert_eq!(
        (r.status, body_json(r)),
        (
            status,
            json!({"error": code, "error_description": description})
        )
    );
}

/// Verifies a token against the published JWKS and answers (header, claims).
pub fn verify(h: &Harness, token: &str) -> (Value, Value) {
    let jwks = body_json(&h.send(Request::new(
        Method::Get,
        &format!("{ORIGIN}/.well-known/jwks.json"),
    )));
    let parts: Vec<&str> = token.split('.').collect();
    assert_eq!(parts.len(), 3);
    let header: Value = serde_json::from_slice(&URL_SAFE_NO_PAD.decode(parts[0]).unwrap()).unwrap();
    let claims: Value = serde_json::from_slice(&URL_SAFE_NO_PAD.decode(parts[1]).unwrap()).unwrap();
    let jwk = jwks["keys"]
        .as_array()
        .unwrap()
        .iter()
        .find(|k| k["kid"] == header["kid"])
        .expect("kid published");
    let x: [u8; 32] = URL_SAFE_NO_PAD
        .decode(jwk["x"].as_str().unwrap())
        .unwrap()
        .try_into()
        .unwrap();
    let key = VerifyingKey::from_bytes(&x).unwrap();
    let sig = Signature::from_slice(&URL_SAFE_NO_PAD.decode(parts[2]).unwrap()).unwrap();
    key.verify_strict(format!("{}.{}", parts[0], parts[1]).as_bytes(), &sig)
        .expect("signature verifies");
    (header, claims)
}

/// Tokens that are not ours, each in another way: garbage, claims forged under a real header
/// and signature (`token` is a real token of client `id`), one signed by another server's key,
/// one without a signature, and one far too long.
pub fn not_our_tokens(id: &str, token: &str) -> Vec<String> {
    let parts: Vec<&str> = token.split('.').collect();
    let forged_claims = edgeauth::support::b64::b64url(
        json!({"iss": ORIGIN, "sub": id, "client_id": id, "aud": ORIGIN, "iat": T0,
               "exp": T0 + 99_999, "jti": "x", "scope": "admin"})
        .to_string(),
    );
    let foreign = Harness::with(&[(
        "SIGNING_KEY_SEED",
        "AQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQE",
    )]);
    let body = json!({"client_name": "f", "scope": "read"});
    let (fid, fsecret) = foreign.create(body);
    let r = foreign.token_basic(&fid, &fsecret, "grant_type=client_credentials&scope=read");
    let foreign_token = body_json(&r)["access_token"].as_str().unwrap().to_string();
    vec![
        "garbage".to_string(),
        format!("{}.{forged_claims}.{}", parts[0], parts[2]),
        foreign_token,
        "a.b.c".repeat(2000),
        format!("{}.{}.", parts[0], parts[1]),
    ]
}

/// The admin's introspection of `token`: `POST /admin/tokens/introspect`.
pub fn admin_introspect(token: &str) -> Request {
    Request::new(Method::Post, &format!("{ORIGIN}/admin/tokens/introspect"))
        .with_header("authorization", &format!("Bearer {ADMIN_TOKEN}"))
        .with_header("content-type", "application/json")
        .with_body(serde_json::json!({ "token": token }).to_string())
}

/// An `Authorization: Basic` value for a client id and secret.
pub fn basic(id: &str, secret: &str) -> Option<String> {
    Some(format!(
        "Basic {}",
        STANDARD.encode(format!("{id}:{secret}"))
    ))
}
