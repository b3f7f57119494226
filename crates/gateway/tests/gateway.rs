//! The gateway's decisions, on the host: a fake key source, tokens signed here, fixed time.

mod support;

use edgeauth_gateway::{Gateway, Reply, RequestEdits, ResponseEdits, Settings, Target};
use serde_json::json;
use support::*;

const ROUTES: &str = r#"[
  {"prefix": "/public/", "public": true, "upstream": {"url": "http://up.internal:9000/v2"}},
  {"prefix": "/api/", "audience": "https://api.example.com", "scopes": {"all_of": ["read"]},
   "upstream": {"url": "http://up.internal:9000"}, "strip_authorization": true,
   "cors": {"origins": ["https://app.example.com"], "methods": ["GET", "POST"],
            "headers": ["authorization", "content-type"], "max_age": 120}},
  {"prefix": "/api/admin", "audience": ["https://admin.example.com", "https://api.example.com"],
   "scopes": {"any_of": ["admin", "root"]}, "upstream": {"service": "ADMIN_API"}},
  {"host": "origin.example.com", "prefix": "/", "audience": "https://api.example.com"},
  {"prefix": "/open/", "public": true, "upstream": {"url": "http://up.internal:9000"},
   "cors": {"origins": ["*"], "methods": ["GET", "POST"], "headers": ["content-type"]}}
]"#;

fn gateway(keys: &Keys) -> Gateway<&Keys> {
    let settings = Settings::from_lookup(|name| match name {
        "ISSUER" => Some(ISS.into()),
        "ROUTES" => Some(ROUTES.into()),
        "REALM" => Some("example api".into()),
        _ => None,
    })
    .unwrap();
    Gateway::new(settings, keys)
}

#[test]
fn a_good_token_is_forwarded_with_the_client_and_subject_and_without_spoofed_copies() {
    let keys = Keys::default();
    let g = gateway(&keys);
    let bearer = format!("Bearer {}", token(json!({})));
    let f = forwarded(run(
        &g,
        "GET",
        &format!("{BASE}/api/items?page=2"),
        &[
            ("authorization", &bearer),
            ("x-client-id", "admin"),
            ("X-Client-Scopes", "admin"),
            ("X-Auth-Subject", "admin"),
            ("x-auth-actors", "admin"),
            ("connection", "keep-alive, X-Smuggled"),
            ("x-smuggled", "1"),
            ("accept", "application/json"),
        ],
    ));
    assert_eq!(
        f.target,
        Target::Url("http://up.internal:9000/api/items?page=2".into())
    );
    assert_eq!(header(&f.headers, "x-client-id"), Some("c1"));
    assert_eq!(header(&f.headers, "x-client-scopes"), Some("read write"));
    // Not exchanged: the client acts for itself, and no actors are sent.
    assert_eq!(header(&f.headers, "x-auth-subject"), Some("c1"));
    assert_eq!(header(&f.headers, "accept"), Some("application/json"));
    for gone in ["connection", "x-smuggled", "authorization", "x-auth-actors"] {
        assert_eq!(header(&f.headers, gone), None, "{gone}");
    }
    // No Origin: nothing allowed, but the answer of a route with listed origins varies by it.
    assert_eq!(
        f.response,
        ResponseEdits {
            remove: vec!["proxy-authenticate"],
            append: vec![("vary", "Origin")],
            ..ResponseEdits::default()
        }
    );
    assert_eq!(
        keys.urls.borrow().as_slice(),
        [format!("{ISS}/.well-known/jwks.json")]
    );
}

#[test]
fn an_exchanged_token_is_forwarded_with_the_original_caller_and_the_actor_chain() {
    let keys = Keys::default();
    let g = gateway(&keys);
    // A called B, B exchanged A's token for one to C, C for one to this API: sub stays A.
    let exchanged = token(json!({"sub": "client-a", "client_id": "client-c",
                                 "act": {"sub": "client-c", "act": {"sub": "client-b"}}}));
    let bearer = format!("Bearer {exchanged}");
    let f = forwarded(run(
        &g,
        "GET",
        &format!("{BASE}/api/items"),
        &[
            ("authorization", &bearer),
            ("x-auth-subject", "admin"),
            ("X-Auth-Actors", "admin"),
            ("x-auth-actors", "root"),
        ],
    ));
    assert_eq!(header(&f.headers, "x-client-id"), Some("client-c"));
    assert_eq!(header(&f.headers, "x-client-scopes"), Some("read write"));
    assert_eq!(header(&f.headers, "x-auth-subject"), Some("client-a"));
    assert_eq!(
        header(&f.headers, "x-auth-actors"),
        Some("client-c client-b")
    );
}

#[test]
fn an_act_or_sub_a_header_cannot_carry_is_an_invalid_token() {
    let keys = Keys::default();
    let g = gateway(&keys);
    for changes in [
        json!({"act": "client-b"}),
        json!({"act": {"sub": 7}}),
        json!({"act": {"sub": "client b"}}),
        json!({"act": {"sub": "b", "act": {"sub": "x\ty"}}}),
        json!({"act": {"sub": " b"}}),
        json!({"act": {"sub": "b", "act": {"sub": "c", "act": {"sub": "d", "act":
               {"sub": "e", "act": {"sub": "f", "act": {"sub": "g"}}}}}}}),
        json!({"sub": "a\r\nx-client-id: admin"}),
        json!({"sub": "caf\u{e9}"}),
    ] {
        let bearer = format!("Bearer {}", token(changes.clone()));
        let r = replied(run(
            &g,
            "GET",
            &format!("{BASE}/api/items"),
            &[("authorization", &bearer)],
        ));
        assert_eq!(
            (r.status, body(&r)["error"].as_str()),
            (401, Some("invalid_token")),
            "{changes}"
        );
        assert_eq!(
            header(&r.headers, "www-authenticate"),
            Some(
                r#"Bearer realm="example api", error="invalid_token", error_description="a required claim is missing or malformed""#
            ),
            "{changes}"
        );
    }
}

#[test]
fn hop_by_hop_headers_are_never_forwarded_in_any_case() {
    let keys = Keys::default();
    let g = gateway(&keys);
    let hop = [
        ("Connection", "close"),
        ("Keep-Alive", "timeout=5"),
        ("Proxy-Connection", "keep-alive"),
        ("TE", "trailers"),
        ("Trailer", "x-checksum"),
        ("Upgrade", "websocket"),
        ("Proxy-Authorization", "Basic cHJveHk6cGFzcw=="),
        ("PROXY-AUTHENTICATE", "Basic"),
        ("accept", "text/plain"),
    ];
    let f = forwarded(run(&g, "GET", &format!("{BASE}/public/x"), &hop));
    assert_eq!(
        f.headers,
        [("accept".to_string(), "text/plain".to_string())],
        "only the end-to-end header is left"
    );
    // The answer's Proxy-Authenticate (the runtime drops the framing ones) is for the gateway.
    let upstream = [
        ("Proxy-Authenticate", "Basic"),
        ("content-type", "text/plain"),
    ];
    assert_eq!(
        edited(&f.response, &upstream),
        [("content-type".to_string(), "text/plain".to_string())]
    );
    assert!(f.response.change(|n| n == "proxy-authenticate"));
    assert!(!f.response.change(|n| n == "content-type"), "else uncopied");
}

#[test]
fn the_shell_gets_the_header_changes_and_none_for_a_plain_public_request() {
    let keys = Keys::default();
    let g = gateway(&keys);
    // Nothing to change: the shell sends the runtime's headers on uncopied.
    let plain = [("accept", "text/plain"), ("x-trace", "1")];
    let f = forwarded(run(&g, "GET", &format!("{BASE}/public/x"), &plain));
    assert_eq!(f.request, RequestEdits::default());
    let sent =
        [("accept", "text/plain"), ("x-trace", "1")].map(|(n, v)| (n.to_string(), v.to_string()));
    assert_eq!(f.headers, sent);
    // A listed name, a hop-by-hop one and a spoofed identity header are dropped by name.
    let spoofed = [
        ("connection", "x-drop-me"),
        ("x-drop-me", "1"),
        ("upgrade", "h2c"),
        ("x-client-id", "admin"),
        ("accept", "text/plain"),
    ];
    let f = forwarded(run(&g, "GET", &format!("{BASE}/public/x"), &spoofed));
    assert_eq!(
        f.request.drop,
        ["connection", "x-drop-me", "upgrade", "x-client-id"]
    );
    assert!(f.request.set.is_empty(), "a public route sets no identity");
    let incoming: Vec<(String, String)> = spoofed
        .iter()
        .map(|(n, v)| (n.to_string(), v.to_string()))
        .collect();
    assert_eq!(f.request.apply(&incoming), f.headers);
    assert_eq!(
        f.headers,
        [("accept".to_string(), "text/plain".to_string())]
    );
}

#[test]
fn refusals_carry_the_rfc_6750_status_challenge_and_body() {
    let keys = Keys::default();
    let g = gateway(&keys);
    let url = format!("{BASE}/api/items");
    let realm = r#"Bearer realm="example api""#;
    let cases: [(Option<String>, u16, &str, String); 6] = [
        (None, 401, "unauthorized", realm.to_string()),
        (
            Some("Basic YTpi".into()),
            401,
            "unauthorized",
            realm.to_string(),
        ),
        (
            Some("Bearer a b".into()),
            400,
            "invalid_request",
            format!(
                r#"{realm}, error="invalid_request", error_description="the Authorization header is not 'Bearer' followed by one space and a token""#
            ),
        ),
        (
            Some(format!(
                "Bearer {}",
                token(json!({"aud": "https://other.example.com"}))
            )),
            401,
            "invalid_token",
            format!(
                r#"{realm}, error="invalid_token", error_description="the token is not for this audience""#
            ),
        ),
        (
            Some(format!("Bearer {}", token(json!({"exp": NOW - 61})))),
            401,
            "invalid_token",
            format!(r#"{realm}, error="invalid_token", error_description="the token has expired""#),
        ),
        (
            Some(format!("Bearer {}", token(json!({"scope": "write"})))),
            403,
            "insufficient_scope",
            format!(
                r#"{realm}, error="insufficient_scope", error_description="the token lacks a required scope", scope="read""#
            ),
        ),
    ];
    for (authorization, status, error, challenge) in cases {
        let mut headers = vec![];
        if let Some(a) = &authorization {
            headers.push(("authorization", a.as_str()));
        }
        let r = replied(run(&g, "GET", &url, &headers));
        assert_eq!(r.status, status, "{authorization:?}");
        assert_eq!(body(&r)["error"], error, "{authorization:?}");
        assert_eq!(
            header(&r.headers, "www-authenticate"),
            Some(challenge.as_str())
        );
        assert_eq!(header(&r.headers, "content-type"), Some("application/json"));
    }
}

#[test]
fn a_token_for_one_route_does_not_pass_another_routes_audience_or_scopes() {
    let keys = Keys::default();
    let g = gateway(&keys);
    // The admin route accepts the API audience too, but needs admin or root.
    let read = format!("Bearer {}", token(json!({})));
    let r = replied(run(
        &g,
        "POST",
        &format!("{BASE}/api/admin/keys"),
        &[("authorization", &read)],
    ));
    assert_eq!(r.status, 403);
    assert!(header(&r.headers, "www-authenticate")
        .unwrap()
        .ends_with(r#"scope="admin root""#));
    let admin = format!(
        "Bearer {}",
        token(json!({"aud": "https://admin.example.com", "scope": "root"}))
    );
    let f = forwarded(run(
        &g,
        "POST",
        &format!("{BASE}/api/admin/keys"),
        &[("authorization", &admin)],
    ));
    assert_eq!(f.target, Target::Service("ADMIN_API".into()));
    // The admin route keeps Authorization: only /api/ strips it.
    assert_eq!(header(&f.headers, "authorization"), Some(admin.as_str()));
    // The admin audience is not accepted on /api/.
    let r = replied(run(
        &g,
        "GET",
        &format!("{BASE}/api/items"),
        &[("authorization", &admin)],
    ));
    assert_eq!(
        (r.status, body(&r)["error"].as_str()),
        (401, Some("invalid_token"))
    );
}

#[test]
fn public_routes_pass_without_a_token_but_never_with_caller_identity_headers() {
    let keys = Keys::default();
    let g = gateway(&keys);
    let f = forwarded(run(
        &g,
        "POST",
        &format!("{BASE}/public/form"),
        &[
            ("x-client-id", "admin"),
            ("x-auth-subject", "admin"),
            ("x-auth-actors", "admin"),
            ("authorization", "Bearer whatever"),
        ],
    ));
    assert_eq!(
        f.target,
        Target::Url("http://up.internal:9000/v2/public/form".into())
    );
    for gone in ["x-client-id", "x-auth-subject", "x-auth-actors"] {
        assert_eq!(header(&f.headers, gone), None, "{gone}");
    }
    assert_eq!(header(&f.headers, "authorization"), Some("Bearer whatever"));
    assert_eq!(keys.fetches.get(), 0, "a public route reads no keys");
}

#[test]
fn unmatched_paths_and_ambiguous_paths_are_denied() {
    let keys = Keys::default();
    let g = gateway(&keys);
    let r = replied(run(&g, "GET", &format!("{BASE}/private"), &[]));
    assert_eq!(
        (r.status, body(&r)["error"].as_str()),
        (404, Some("not_found"))
    );
    assert_eq!(header(&r.headers, "www-authenticate"), None);
    // The exact-host route answers only its host, and its default upstream is the origin.
    let bearer = format!("Bearer {}", token(json!({})));
    let f = forwarded(run(
        &g,
        "GET",
        "https://ORIGIN.example.com:8443/x",
        &[("authorization", &bearer)],
    ));
    assert_eq!(f.target, Target::Origin);
    for path in ["/public/..%2Fapi/items", "/public/%5c..", "/public/a\\b"] {
        let r = replied(run(&g, "GET", &format!("{BASE}{path}"), &[]));
        assert_eq!(
            (r.status, body(&r)["error"].as_str()),
            (400, Some("invalid_request")),
            "{path}"
        );
    }
}

#[test]
fn preflights_are_answered_per_route() {
    let keys = Keys::default();
    let g = gateway(&keys);
    let url = format!("{BASE}/api/items");
    let ok = replied(run(
        &g,
        "OPTIONS",
        &url,
        &[
            ("origin", "https://app.example.com"),
            ("access-control-request-method", "POST"),
            (
                "access-control-request-headers",
                "Authorization, content-type",
            ),
        ],
    ));
    assert_eq!(ok.status, 204);
    assert_eq!(
        header(&ok.headers, "access-control-allow-origin"),
        Some("https://app.example.com")
    );
    assert_eq!(
        header(&ok.headers, "access-control-allow-methods"),
        Some("GET, POST")
    );
    assert_eq!(
        header(&ok.headers, "access-control-allow-headers"),
        Some("authorization, content-type")
    );
    assert_eq!(header(&ok.headers, "access-control-max-age"), Some("120"));
    for (origin, method, asked) in [
        ("https://evil.example.com", "GET", ""),
        ("https://app.example.com", "DELETE", ""),
        ("https://app.example.com", "GET", "x-secret"),
    ] {
        let r = replied(run(
            &g,
            "OPTIONS",
            &url,
            &[
                ("origin", origin),
                ("access-control-request-method", method),
                ("access-control-request-headers", asked),
            ],
        ));
        assert_eq!(
            (r.status, body(&r)["error"].as_str()),
            (403, Some("cors_refused"))
        );
        assert_eq!(header(&r.headers, "access-control-allow-origin"), None);
    }
    // A route without cors treats OPTIONS as any request: here, no token.
    let r = replied(run(
        &g,
        "OPTIONS",
        &format!("{BASE}/api/admin"),
        &[
            ("origin", "https://app.example.com"),
            ("access-control-request-method", "POST"),
        ],
    ));
    assert_eq!(r.status, 401);
    assert_eq!(keys.fetches.get(), 0);
    // Refusals and forwards to an allowed origin say so, and expose the challenge.
    let r = replied(run(
        &g,
        "GET",
        &url,
        &[("origin", "https://app.example.com")],
    ));
    assert_eq!(
        header(&r.headers, "access-control-allow-origin"),
        Some("https://app.example.com")
    );
    assert_eq!(
        header(&r.headers, "access-control-expose-headers"),
        Some("www-authenticate")
    );
}

#[test]
fn a_key_outage_is_a_503_with_retry_after_and_a_logged_reason() {
    let keys = Keys::default();
    keys.down.set(true);
    let g = gateway(&keys);
    let bearer = format!("Bearer {}", token(json!({})));
    let r = replied(run(
        &g,
        "GET",
        &format!("{BASE}/api/items"),
        &[("authorization", &bearer)],
    ));
    assert_eq!(r.status, 503);
    assert_eq!(body(&r)["error"], "temporarily_unavailable");
    assert_eq!(header(&r.headers, "retry-after"), Some("30"));
    assert_eq!(header(&r.headers, "www-authenticate"), None);
    assert!(r.log.unwrap().contains("connection refused"));
}

#[test]
fn settings_are_validated_naming_the_var() {
    let routes = r#"[{"prefix": "/", "public": true}]"#;
    let parse = |vars: &[(&str, &str)]| {
        Settings::from_lookup(|n| {
            vars.iter()
                .find(|(k, _)| *k == n)
                .map(|(_, v)| v.to_string())
        })
    };
    for (vars, expected) in [
        (vec![("ROUTES", routes)], "ISSUER is not set"),
        (
            vec![("ISSUER", "auth.example.com"), ("ROUTES", routes)],
            "ISSUER must be",
        ),
        (vec![("ISSUER", ISS)], "ROUTES is not set"),
        (
            vec![
                ("ISSUER", ISS),
                ("ROUTES", routes),
                ("CLIENT_ID_HEADER", "authorization"),
            ],
            "CLIENT_ID_HEADER must",
        ),
        (
            vec![
                ("ISSUER", ISS),
                ("ROUTES", routes),
                ("SCOPES_HEADER", "x y"),
            ],
            "SCOPES_HEADER must",
        ),
        (
            vec![
                ("ISSUER", ISS),
                ("ROUTES", routes),
                ("SCOPES_HEADER", "X-Client-Id"),
            ],
            "must differ",
        ),
        (
            vec![
                ("ISSUER", ISS),
                ("ROUTES", routes),
                ("SUBJECT_HEADER", "cookie"),
            ],
            "SUBJECT_HEADER must",
        ),
        (
            vec![
                ("ISSUER", ISS),
                ("ROUTES", routes),
                ("ACTORS_HEADER", "x-client-scopes"),
            ],
            "CLIENT_ID_HEADER, SCOPES_HEADER, SUBJECT_HEADER and ACTORS_HEADER must differ",
        ),
        (
            vec![
                ("ISSUER", ISS),
                ("ROUTES", routes),
                ("SUBJECT_HEADER", "X-On-Behalf-Of"),
                ("ACTORS_HEADER", "x-on-behalf-of"),
            ],
            "must differ",
        ),
    ] {
        let err = parse(&vars).expect_err(expected);
        assert!(err.contains(expected), "{err}");
    }
    let s = parse(&[
        ("ISSUER", "https://auth.example.com/"),
        ("ROUTES", routes),
        ("CLIENT_ID_HEADER", "X-Caller"),
    ])
    .unwrap();
    assert_eq!(s.issuer, ISS);
    assert_eq!(s.client_id_header, "x-caller");
    assert_eq!(s.scopes_header, "x-client-scopes");
    assert_eq!(
        (s.subject_header.as_str(), s.actors_header.as_str()),
        ("x-auth-subject", "x-auth-actors")
    );
    assert_eq!(s.realm, "api");
    let m = Reply::misconfigured("ROUTES is not set");
    assert_eq!(
        (m.status, body(&m)["error"].as_str()),
        (500, Some("server_error"))
    );
    assert!(
        !m.body.unwrap().contains("ROUTES"),
        "the client is not told"
    );
    assert_eq!(
        m.log.as_deref(),
        Some("gateway configuration: ROUTES is not set")
    );
}

/// `edits` applied to an upstream's answer with these headers.
fn edited(edits: &ResponseEdits, upstream: &[(&str, &str)]) -> Vec<(String, String)> {
    let mut headers: Vec<(String, String)> = upstream
        .iter()
        .map(|(n, v)| (n.to_string(), v.to_string()))
        .collect();
    edits.apply(&mut headers);
    headers
}

#[test]
fn a_wildcard_route_says_star_and_drops_the_upstreams_credentials_allowance() {
    let keys = Keys::default();
    let g = gateway(&keys);
    let upstream = [
        ("Access-Control-Allow-Origin", "https://evil.example.com"),
        ("Access-Control-Allow-Credentials", "true"),
        ("Vary", "Accept-Encoding"),
        ("set-cookie", "session=1"),
    ];
    // With any Origin, and without one: the answer is the same for every caller.
    for origin in [Some("https://evil.example.com"), None] {
        let headers: Vec<(&str, &str)> = origin.map(|o| ("origin", o)).into_iter().collect();
        let f = forwarded(run(&g, "GET", &format!("{BASE}/open/x"), &headers));
        let out = edited(&f.response, &upstream);
        assert_eq!(
            out,
            [
                ("Vary", "Accept-Encoding"),
                ("set-cookie", "session=1"),
                ("access-control-allow-origin", "*"),
                ("access-control-expose-headers", "www-authenticate"),
            ]
            .map(|(n, v)| (n.to_string(), v.to_string())),
            "{origin:?}"
        );
    }
    let pre = replied(run(
        &g,
        "OPTIONS",
        &format!("{BASE}/open/x"),
        &[
            ("origin", "https://any.example.com"),
            ("access-control-request-method", "POST"),
        ],
    ));
    assert_eq!(pre.status, 204);
    assert_eq!(
        header(&pre.headers, "access-control-allow-origin"),
        Some("*")
    );
    assert_eq!(
        header(&pre.headers, "access-control-allow-credentials"),
        None
    );
}

#[test]
fn listed_origins_are_echoed_and_origin_is_added_to_the_upstreams_vary() {
    let keys = Keys::default();
    let g = gateway(&keys);
    let bearer = format!("Bearer {}", token(json!({})));
    let url = format!("{BASE}/api/items");
    let app = [
        ("authorization", bearer.as_str()),
        ("origin", "https://app.example.com"),
    ];
    let f = forwarded(run(&g, "GET", &url, &app));
    for (upstream_vary, expected) in [
        (None, "Origin"),
        (Some("Accept-Encoding"), "Accept-Encoding, Origin"),
        (Some("accept-encoding, ORIGIN"), "accept-encoding, ORIGIN"),
        (Some("*"), "*"),
    ] {
        let upstream: Vec<(&str, &str)> = upstream_vary.map(|v| ("vary", v)).into_iter().collect();
        let out = edited(&f.response, &upstream);
        assert_eq!(header(&out, "vary"), Some(expected), "{upstream_vary:?}");
        assert_eq!(
            header(&out, "access-control-allow-origin"),
            Some("https://app.example.com")
        );
    }
    // The upstream's own exposed headers stay, with the challenge added.
    let out = edited(&f.response, &[("access-control-expose-headers", "x-total")]);
    assert_eq!(
        header(&out, "access-control-expose-headers"),
        Some("x-total, www-authenticate")
    );
    // Another origin gets no allowance, but the answer still varies by Origin.
    let evil = [
        ("authorization", bearer.as_str()),
        ("origin", "https://evil.example.com"),
    ];
    let out = edited(
        &forwarded(run(&g, "GET", &url, &evil)).response,
        &[("vary", "Accept")],
    );
    assert_eq!(out, [("vary".to_string(), "Accept, Origin".to_string())]);
    // A refusal made by the gateway says the same.
    let r = replied(run(
        &g,
        "GET",
        &url,
        &[("origin", "https://app.example.com")],
    ));
    assert_eq!(r.status, 401);
    assert_eq!(header(&r.headers, "vary"), Some("Origin"));
}
