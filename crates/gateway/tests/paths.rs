//! Path confusion (Envoy's path normalization cases, OWASP's authorization-bypass ones): against
//! a table where a shorter prefix is weaker than a longer one, every path is refused (400, or
//! 405 for a method the longer route does not serve) or reaches the longest route that fits,
//! and never reaches the weaker route when an upstream that decodes, collapses or strips it
//! would see a path under the stronger one.

mod support;

use edgeauth_gateway::{Gateway, Outcome, Settings, Target};
use serde_json::json;
use support::*;

/// `/` and `/v1` are open; `/admin` needs scope `admin`, `/v1/orders` scope `orders`, both
/// GET only. Open routes go to the weak upstream, protected ones to the strong one.
const ROUTES: &str = r#"[
  {"prefix": "/", "public": true, "upstream": {"url": "http://weak.internal"}},
  {"prefix": "/admin", "methods": ["GET"], "audience": "https://api.example.com",
   "scopes": {"all_of": ["admin"]}, "upstream": {"url": "http://strong.internal"}},
  {"prefix": "/v1", "public": true, "upstream": {"url": "http://weak.internal"}},
  {"prefix": "/v1/orders", "methods": ["GET"], "audience": "https://api.example.com",
   "scopes": {"all_of": ["orders"]}, "upstream": {"url": "http://strong.internal"}}
]"#;

/// Prefixes an upstream serves only to holders of the stronger scopes.
const PROTECTED: [&str; 2] = ["/admin", "/v1/orders"];

#[derive(Debug, Clone, PartialEq, Eq)]
enum Seen {
    /// 400 invalid_request: not a canonical path.
    Refused,
    /// 405, with `Allow: GET` (the protected routes' one method).
    NotAllowed,
    /// The protected route: 403 for a token without its scope.
    Strong,
    /// Forwarded to the weak upstream.
    Weak,
}

use Seen::*;

/// (method, path as the runtime hands it over, what the gateway must do).
const CASES: &[(&str, &str, Seen)] = &[
    // The protected routes themselves, and their segment boundary.
    ("GET", "/admin", Strong),
    ("GET", "/admin/", Strong),
    ("GET", "/admin/users", Strong),
    ("GET", "/v1/orders", Strong),
    ("GET", "/v1/orders/", Strong),
    ("GET", "/v1/orders/7", Strong),
    ("GET", "/adminx", Weak),
    ("GET", "/v1/ordersx", Weak),
    // Percent-escapes of unreserved characters, any case of hex.
    ("GET", "/%61dmin", Refused),
    ("GET", "/%41dmin", Refused),
    ("GET", "/adm%69n", Refused),
    ("GET", "/v1/ord%65rs", Refused),
    ("GET", "/%76%31/orders", Refused),
    ("GET", "/admin%7e", Refused),
    ("GET", "/admin%2D", Refused),
    ("GET", "/admin%5f", Refused),
    // Double encoding is canonical, and is not /admin: one decoding leaves `/%61dmin`.
    ("GET", "/%2561dmin", Weak),
    ("GET", "/v1/%256Frders", Weak),
    // Case: matching is case-sensitive (so must the upstream be).
    ("GET", "/ADMIN", Weak),
    ("GET", "/Admin", Weak),
    ("GET", "/v1/Orders", Weak),
    ("GET", "/V1/orders", Weak),
    // Path parameters, literal or escaped.
    ("GET", "/admin;x", Refused),
    ("GET", "/admin;/", Refused),
    ("GET", "/;/admin", Refused),
    ("GET", "/v1/orders;jsessionid=1", Refused),
    ("GET", "/v1;x/orders", Refused),
    ("GET", "/admin%3Bx", Refused),
    ("GET", "/admin%3bx", Refused),
    // Empty segments.
    ("GET", "//admin", Refused),
    ("GET", "/v1//orders", Refused),
    ("GET", "/v1/orders//", Refused),
    // Dot segments, literal and escaped, inside and at the end.
    ("GET", "/./admin", Refused),
    ("GET", "/x/../admin", Refused),
    ("GET", "/v1/./orders", Refused),
    ("GET", "/v1/x/../orders", Refused),
    ("GET", "/v1/orders/..", Refused),
    ("GET", "/v1/orders/.", Refused),
    ("GET", "/admin/..", Refused),
    ("GET", "/v1/%2e/orders", Refused),
    ("GET", "/v1/%2E%2E/v1/orders", Refused),
    ("GET", "/v1/.%2e/v1/orders", Refused),
    ("GET", "/%2e/admin", Refused),
    // Encoded and literal separators.
    ("GET", "/v1%2forders", Refused),
    ("GET", "/v1%2Forders", Refused),
    ("GET", "/%2Fadmin", Refused),
    ("GET", "/v1\\orders", Refused),
    ("GET", "/\\admin", Refused),
    ("GET", "/v1%5corders", Refused),
    ("GET", "/v1%5Corders", Refused),
    // Control characters, escaped and raw; a tab where a trimming upstream would drop it.
    ("GET", "/v1/orders%00", Refused),
    ("GET", "/admin%00.json", Refused),
    ("GET", "/admin%09", Refused),
    ("GET", "/admin%0A", Refused),
    ("GET", "/admin%0d%0a", Refused),
    ("GET", "/admin%7F", Refused),
    ("GET", "/admin\t", Refused),
    ("GET", "/ad\tmin", Refused),
    ("GET", "/admin\u{0}", Refused),
    ("GET", "/admin ", Refused),
    // Malformed escapes, and escapes that must be upper case to compare as strings.
    ("GET", "/admin%", Refused),
    ("GET", "/admin%zz", Refused),
    ("GET", "/v1/orders%c3%a9", Refused),
    ("GET", "/v1/orders%C3%A9", Weak),
    // Raw bytes the runtime would have escaped.
    ("GET", "/admin/\u{e9}", Refused),
    // A method the protected route does not serve never falls through to `/` or `/v1`.
    ("HEAD", "/admin", NotAllowed),
    ("POST", "/admin", NotAllowed),
    ("OPTIONS", "/admin/users", NotAllowed),
    ("HEAD", "/v1/orders/7", NotAllowed),
    ("DELETE", "/v1/orders", NotAllowed),
    // ...while the open routes serve every method.
    ("POST", "/v1/items", Weak),
    ("HEAD", "/", Weak),
];

fn gateway(keys: &Keys) -> Gateway<&Keys> {
    let settings = Settings::from_lookup(|name| match name {
        "ISSUER" => Some(ISS.into()),
        "ROUTES" => Some(ROUTES.into()),
        _ => None,
    })
    .unwrap();
    Gateway::new(settings, keys)
}

fn seen(outcome: Outcome) -> Seen {
    match outcome {
        Outcome::Forward(f) => match f.target {
            Target::Url(url) if url.starts_with("http://weak.internal/") => Weak,
            other => panic!("forwarded to {other:?}"),
        },
        Outcome::Reply(r) => match (r.status, body(&r)["error"].as_str()) {
            (400, Some("invalid_request")) => Refused,
            (403, Some("insufficient_scope")) => Strong,
            (405, Some("method_not_allowed")) => {
                assert_eq!(header(&r.headers, "allow"), Some("GET"));
                NotAllowed
            }
            other => panic!("answered {other:?}: {r:?}"),
        },
    }
}

/// The path an upstream could make of `path`: percent-escapes decoded once, `\` taken as
/// `/`, `;` parameters dropped, empty and dot segments resolved (RFC 3986 section 5.2.4).
fn upstream_view(path: &str) -> String {
    let mut decoded = Vec::new();
    let bytes = path.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        let hex = bytes
            .get(i + 1..i + 3)
            .and_then(|h| std::str::from_utf8(h).ok())
            .and_then(|h| u8::from_str_radix(h, 16).ok());
        match (bytes[i], hex) {
            (b'%', Some(b)) => {
                decoded.push(b);
                i += 3;
            }
            (b, _) => {
                decoded.push(b);
                i += 1;
            }
        }
    }
    let decoded = String::from_utf8_lossy(&decoded).replace('\\', "/");
    let mut out: Vec<&str> = Vec::new();
    for segment in decoded.split('/') {
        let segment = segment.split(';').next().unwrap_or_default();
        let segment = segment.trim_matches(|c: char| c.is_ascii_whitespace() || c == '\0');
        match segment {
            "" | "." => {}
            ".." => {
                out.pop();
            }
            s => out.push(s),
        }
    }
    format!("/{}", out.join("/"))
}

fn under(path: &str, prefix: &str) -> bool {
    path.strip_prefix(prefix)
        .is_some_and(|rest| rest.is_empty() || rest.starts_with('/'))
}

#[test]
fn no_path_reaches_a_weaker_route_than_the_longest_that_fits() {
    assert!(CASES.len() >= 30);
    let keys = Keys::default();
    let g = gateway(&keys);
    // A token good for the open routes only: the protected ones answer it 403.
    let bearer = format!("Bearer {}", token(json!({"scope": "read"})));
    for (method, path, expected) in CASES {
        let url = format!("{BASE}{path}");
        let got = seen(run(&g, method, &url, &[("authorization", &bearer)]));
        assert_eq!(&got, expected, "{method} {path:?}");
        if got == Weak {
            let view = upstream_view(path);
            assert!(
                !PROTECTED.iter().any(|p| under(&view, p)),
                "{method} {path:?} reached the weak upstream, which could read it as {view}"
            );
        }
    }
}

#[test]
fn the_upstream_view_sees_through_each_trick() {
    // The oracle above must itself catch what it is there to catch.
    for (path, view) in [
        ("/%61dmin", "/admin"),
        ("/v1//orders", "/v1/orders"),
        ("/v1/x/../orders", "/v1/orders"),
        ("/v1/%2e/orders", "/v1/orders"),
        ("/admin;x", "/admin"),
        ("/v1\\orders", "/v1/orders"),
        ("/admin%09", "/admin"),
        ("/%2561dmin", "/%61dmin"),
    ] {
        assert_eq!(upstream_view(path), view, "{path}");
    }
}

#[test]
fn a_refused_path_says_why_in_json() {
    let keys = Keys::default();
    let g = gateway(&keys);
    let r = replied(run(&g, "GET", &format!("{BASE}/v1/./orders"), &[]));
    assert_eq!(r.status, 400);
    assert_eq!(
        body(&r),
        json!({"error": "invalid_request",
               "error_description": "the path holds a '.' or '..' segment"})
    );
    assert_eq!(header(&r.headers, "content-type"), Some("application/json"));
    let r = replied(run(&g, "HEAD", &format!("{BASE}/admin"), &[]));
    assert_eq!(r.status, 405);
    assert_eq!(header(&r.headers, "allow"), Some("GET"));
    assert_eq!(
        body(&r),
        json!({"error": "method_not_allowed",
               "error_description": "the route for this path does not serve this method"})
    );
    assert_eq!(keys.fetches.get(), 0, "refused before any key is read");
}
