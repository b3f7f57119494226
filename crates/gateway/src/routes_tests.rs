use super::*;

fn table(json: &str) -> RouteTable {
    RouteTable::parse(json).unwrap_or_else(|e| panic!("{json}: {e}"))
}

fn refused(json: &str) -> String {
    RouteTable::parse(json).expect_err(json)
}

const API: &str = r#""audience": "https://api.example.com""#;

#[test]
fn longest_prefix_wins_and_exact_host_beats_any() {
    let t = table(&format!(
        r#"[{{"prefix": "/", "public": true}},
            {{"prefix": "/api/", {API}}},
            {{"prefix": "/api/admin", {API}, "scopes": {{"all_of": ["admin"]}}}},
            {{"host": "API.example.com", "prefix": "/api/", "public": true}}]"#
    ));
    let prefix = |host: &str, path: &str| {
        let r = t.find(host, path, "GET").expect(path);
        (r.host.clone(), r.prefix.clone())
    };
    assert_eq!(prefix("other.example", "/x"), (None, "/".into()));
    assert_eq!(prefix("other.example", "/api/x"), (None, "/api/".into()));
    assert_eq!(
        prefix("other.example", "/api/admin"),
        (None, "/api/admin".into())
    );
    assert_eq!(
        prefix("other.example", "/api/admin/keys"),
        (None, "/api/admin".into())
    );
    // A prefix without a trailing slash ends on a segment boundary.
    assert_eq!(
        prefix("other.example", "/api/administrators"),
        (None, "/api/".into())
    );
    assert_eq!(
        prefix("api.example.com", "/api/x"),
        (Some("api.example.com".into()), "/api/".into())
    );
}

#[test]
fn methods_narrow_a_route_and_unmatched_is_none() {
    let t = table(&format!(
        r#"[{{"prefix": "/items", "methods": ["get", "HEAD"], "public": true}},
            {{"prefix": "/items", "methods": ["POST"], {API}, "scopes": {{"any_of": ["write", "admin"]}}}}]"#
    ));
    assert_eq!(t.find("h", "/items", "GET").unwrap().access, Access::Public);
    assert_eq!(
        t.find("h", "/items/1", "POST").unwrap().access,
        Access::Protected {
            audiences: vec!["https://api.example.com".into()],
            scopes: Some(ScopeRule::AnyOf(vec!["write".into(), "admin".into()])),
        }
    );
    assert!(t.find("h", "/items", "DELETE").is_none());
    assert!(t.find("h", "/other", "GET").is_none());
    assert!(t.find("h", "/itemsx", "GET").is_none());
}

#[test]
fn upstreams_and_cors_parse_with_defaults() {
    let t = table(&format!(
        r#"[{{"prefix": "/a", {API}, "upstream": {{"url": "http://127.0.0.1:8080/base/"}},
              "strip_authorization": true}},
            {{"prefix": "/b", "audience": ["x", "y"], "upstream": {{"service": "API_2"}},
              "cors": {{"origins": ["https://app.example.com"], "headers": ["Authorization"]}}}},
            {{"prefix": "/c", "public": true, "upstream": "origin"}}]"#
    ));
    let r = t.routes();
    assert_eq!(
        r[0].upstream,
        Upstream::Url("http://127.0.0.1:8080/base".into())
    );
    assert!(r[0].strip_authorization);
    assert_eq!(r[1].upstream, Upstream::Service("API_2".into()));
    assert_eq!(
        r[1].cors,
        Some(Cors {
            origins: vec!["https://app.example.com".into()],
            methods: vec!["GET".into()],
            headers: vec!["authorization".into()],
            max_age: DEFAULT_CORS_MAX_AGE,
        })
    );
    assert_eq!(r[2].upstream, Upstream::Origin);
    assert!(!r[2].strip_authorization);
    assert_eq!(t.audiences(), ["https://api.example.com", "x", "y"]);
}

#[test]
fn invalid_tables_are_refused_naming_the_route_and_field() {
    for (json, expected) in [
        ("{}", "ROUTES is not a route list"),
        ("[]", "ROUTES has no route"),
        (r#"[{"public": true}]"#, "ROUTES[0].prefix is required"),
        (
            r#"[{"prefix": "api", "public": true}]"#,
            "ROUTES[0].prefix must start with '/'",
        ),
        (
            r#"[{"prefix": "/a%2Fb", "public": true}]"#,
            "ROUTES[0].prefix must start",
        ),
        (
            r#"[{"prefix": "/", "public": true, "scope": "x"}]"#,
            "unknown field `scope`",
        ),
        (
            r#"[{"prefix": "/"}]"#,
            "ROUTES[0].audience is required unless the route is public",
        ),
        (
            r#"[{"prefix": "/", "public": true, "audience": "a"}]"#,
            "ROUTES[0].public routes take no",
        ),
        (
            r#"[{"prefix": "/", "audience": []}]"#,
            "ROUTES[0].audience must be a non-empty",
        ),
        (
            r#"[{"prefix": "/", "audience": "a", "scopes": {}}]"#,
            "exactly one of all_of or any_of",
        ),
        (
            r#"[{"prefix": "/", "audience": "a", "scopes": {"all_of": ["a b"]}}]"#,
            "scope tokens",
        ),
        (
            r#"[{"prefix": "/", "audience": "a", "methods": ["FETCH"]}]"#,
            "ROUTES[0].methods must",
        ),
        (
            r#"[{"prefix": "/", "audience": "a", "upstream": "elsewhere"}]"#,
            "upstream must be",
        ),
        (
            r#"[{"prefix": "/", "audience": "a", "upstream": {"url": "ftp://x"}}]"#,
            "upstream.url",
        ),
        (
            r#"[{"prefix": "/", "audience": "a", "upstream": {"url": "https://x/?q"}}]"#,
            "upstream.url",
        ),
        (
            r#"[{"prefix": "/", "audience": "a", "upstream": {"service": "a-b"}}]"#,
            "upstream.service",
        ),
        (
            r#"[{"prefix": "/", "audience": "a", "upstream": {"url": "https://x", "service": "S"}}]"#,
            "exactly one of url or service",
        ),
        (
            r#"[{"host": "https://x", "prefix": "/", "public": true}]"#,
            "ROUTES[0].host",
        ),
        (
            r#"[{"prefix": "/", "public": true, "cors": {"origins": []}}]"#,
            "cors.origins",
        ),
        (
            r#"[{"prefix": "/", "public": true, "cors": {"origins": ["https://a/"]}}]"#,
            "cors.origins entries",
        ),
        (
            r#"[{"prefix": "/", "public": true, "cors": {"origins": ["*"], "max_age": 100000}}]"#,
            "cors.max_age",
        ),
        (
            r#"[{"prefix": "/", "public": true}, {"prefix": "/x", "public": true},
             {"prefix": "/", "methods": ["GET"], "audience": "a"}]"#,
            "ROUTES[2] repeats ROUTES[0] (*/)",
        ),
    ] {
        let err = refused(json);
        assert!(err.contains(expected), "{json}: {err}");
    }
    let big = format!(
        "[{}]",
        "{\"prefix\": \"/\", \"public\": true},".repeat(3000)
    );
    assert!(refused(&big).contains("over 65536 bytes"));
}

#[test]
fn same_prefix_with_disjoint_methods_or_hosts_is_not_a_repeat() {
    let t = table(
        r#"[{"prefix": "/", "methods": ["GET"], "public": true},
            {"prefix": "/", "methods": ["POST"], "audience": "a"},
            {"host": "a.example", "prefix": "/", "audience": "a"}]"#,
    );
    assert_eq!(t.routes().len(), 3);
}

#[test]
fn encoded_separators_are_spotted_in_any_case() {
    assert!(has_encoded_separator("/a%2fb"));
    assert!(has_encoded_separator("/a%2Fb"));
    assert!(has_encoded_separator("/a%5Cb"));
    assert!(!has_encoded_separator("/a%20b/c"));
}
