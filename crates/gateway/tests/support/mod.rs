//! What the gateway's host tests share: a fake issuer (keys, and introspection), tokens signed
//! here, fixed time, and helpers to run a request and read the answer.
#![allow(dead_code)]

use std::cell::{Cell, RefCell};
use std::future::Future;

use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64;
use base64::Engine;
use ed25519_dalek::{Signer, SigningKey};
use edgeauth_gateway::{Forward, Gateway, Incoming, Introspect, Outcome, Reply};
use edgeauth_verify::{Fetch, FetchResponse, Key};
use futures_util::FutureExt;
use serde_json::{json, Value};
pub const ISS: &str = "https://auth.example.com";
pub const API: &str = "https://api.example.com";
pub const NOW: u64 = 1_700_000_000;

/// What the fake issuer's introspection answers: status and body, or a transport failure.
pub type Answer = Result<(u16, Vec<u8>), String>;

/// The issuer: serves the JWKS of key 1, or fails while `down`; counts fetches. Answers
/// introspection with `{"active": !revoked}`, or `introspection` when set; records each call.
#[derive(Default)]
pub struct Keys {
    pub down: Cell<bool>,
    pub fetches: Cell<u32>,
    pub urls: RefCell<Vec<String>>,
    pub revoked: Cell<bool>,
    pub introspection: RefCell<Option<Answer>>,
    /// (url, authorization, body) of each introspection call.
    pub introspected: RefCell<Vec<(String, Option<String>, String)>>,
    /// Random ids handed out so far (each one is this count, in its last byte).
    pub ids: Cell<u8>,
}

impl Introspect for &Keys {
    fn post_form(
        &self,
        url: &str,
        authorization: Option<&str>,
        body: String,
        _max: usize,
    ) -> impl Future<Output = Result<(u16, Vec<u8>), String>> {
        self.introspected
            .borrow_mut()
            .push((url.into(), authorization.map(String::from), body));
        let answer = self.introspection.borrow().clone().unwrap_or_else(|| {
            let body = json!({"active": !self.revoked.get()}).to_string();
            Ok((200, body.into_bytes()))
        });
        std::future::ready(answer)
    }

    fn random_id(&self) -> Result<[u8; 16], String> {
        self.ids.set(self.ids.get() + 1);
        let mut id = [0; 16];
        id[15] = self.ids.get();
        Ok(id)
    }
}

impl Fetch for &Keys {
    fn get(&self, url: &str, _max: usize) -> impl Future<Output = Result<FetchResponse, String>> {
        self.fetches.set(self.fetches.get() + 1);
        self.urls.borrow_mut().push(url.to_string());
        let answer = if self.down.get() {
            Err("connection refused".to_string())
        } else {
            let x = B64.encode(signer().verifying_key().as_bytes());
            let body = json!({"keys": [{"kty": "OKP", "crv": "Ed25519", "alg": "EdDSA",
                                        "kid": kid(), "x": x}]});
            Ok(FetchResponse {
                status: 200,
                cache_control: Some("max-age=300".into()),
                body: body.to_string().into_bytes(),
            })
        };
        std::future::ready(answer)
    }
}

pub fn signer() -> SigningKey {
    SigningKey::from_bytes(&[1; 32])
}

pub fn kid() -> String {
    Key::ed25519(signer().verifying_key().as_bytes(), None)
        .unwrap()
        .kid()
        .to_string()
}

/// A token as edgeauth issues it, with `changes` merged into the claims.
pub fn token(changes: Value) -> String {
    let mut claims = json!({"iss": ISS, "sub": "c1", "client_id": "c1", "aud": API,
                            "scope": "read write", "iat": NOW, "exp": NOW + 600, "jti": "j1"});
    for (k, v) in changes.as_object().unwrap() {
        claims[k] = v.clone();
    }
    let header = json!({"alg": "EdDSA", "typ": "at+jwt", "kid": kid()});
    let input = format!(
        "{}.{}",
        B64.encode(header.to_string()),
        B64.encode(claims.to_string())
    );
    let sig = B64.encode(signer().sign(input.as_bytes()).to_bytes());
    format!("{input}.{sig}")
}
thread_local! {
    /// The client certificate fingerprint (hex) the next requests present, if any.
    pub static CERTIFICATE: RefCell<Option<String>> = const { RefCell::new(None) };
}

pub fn run(g: &Gateway<&Keys>, method: &str, url: &str, headers: &[(&str, &str)]) -> Outcome {
    run_at(g, NOW, method, url, headers)
}

/// `run` at `now` (Unix seconds).
pub fn run_at(
    g: &Gateway<&Keys>,
    now: u64,
    method: &str,
    url: &str,
    headers: &[(&str, &str)],
) -> Outcome {
    let headers: Vec<(String, String)> = headers
        .iter()
        .map(|(n, v)| (n.to_string(), v.to_string()))
        .collect();
    let certificate = CERTIFICATE.with(|c| c.borrow().clone());
    let request = Incoming {
        method,
        url,
        headers: &headers,
        certificate: certificate.as_deref(),
    };
    g.handle(&request, now)
        .now_or_never()
        .expect("the fake issuer answers at once")
}

pub fn forwarded(outcome: Outcome) -> Forward {
    match outcome {
        Outcome::Forward(f) => f,
        Outcome::Reply(r) => panic!("refused: {r:?}"),
    }
}

pub fn replied(outcome: Outcome) -> Reply {
    match outcome {
        Outcome::Reply(r) => r,
        Outcome::Forward(f) => panic!("forwarded: {f:?}"),
    }
}

pub fn header<'a>(headers: &'a [(String, String)], name: &str) -> Option<&'a str> {
    let mut found = headers.iter().filter(|(n, _)| n.eq_ignore_ascii_case(name));
    let first = found.next().map(|(_, v)| v.as_str());
    assert!(found.next().is_none(), "{name} appears more than once");
    first
}

pub fn body(r: &Reply) -> Value {
    serde_json::from_str(r.body.as_deref().expect("a body")).unwrap()
}

pub const BASE: &str = "https://gw.example.com";
