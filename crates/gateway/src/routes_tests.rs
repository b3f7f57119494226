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
    assert_eq!(
        t.find("h", "/items", "DELETE"),
        Err(Miss::MethodNotAllowed(vec!["GET", "HEAD", "POST"]))
    );
    assert_eq!(t.find("h", "/other", "GET"), Err(Miss::NotFound));
    assert_eq!(t.find("h", "/itemsx", "GET"), Err(Miss::NotFound));
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
            "ROUTES[0].prefix is not canonical (the path percent-encodes",
        ),
        (
            r#"[{"prefix": "/a//b", "public": true}]"#,
            "ROUTES[0].prefix is not canonical (the path holds an empty segment",
        ),
        (
            r#"[{"prefix": "/caf%c3%a9", "public": true}]"#,
            "ROUTES[0].prefix is not canonical (the path's percent-escapes must use upper-case",
        ),
        (
            r#"[{"prefix": "/a?b", "public": true}]"#,
            "ROUTES[0].prefix must start with '/' and hold no query",
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
fn a_method_the_longest_prefix_does_not_serve_never_falls_to_a_shorter_one() {
    let t = table(&format!(
        r#"[{{"prefix": "/", "public": true}},
            {{"prefix": "/admin", "methods": ["GET"], {API}}},
            {{"prefix": "/admin", "methods": ["PUT"], {API}}},
            {{"host": "a.example", "prefix": "/admin", "methods": ["DELETE"], {API}}}]"#
    ));
    for method in ["HEAD", "POST", "OPTIONS", "DELETE"] {
        assert_eq!(
            t.find("b.example", "/admin/x", method),
            Err(Miss::MethodNotAllowed(vec!["GET", "PUT"])),
            "{method}"
        );
    }
    // The exact-host route joins the routes of the same prefix on its host.
    assert_eq!(
        t.find("a.example", "/admin", "POST"),
        Err(Miss::MethodNotAllowed(vec!["GET", "PUT", "DELETE"]))
    );
    assert_eq!(
        t.find("a.example", "/admin", "DELETE")
            .unwrap()
            .host
            .as_deref(),
        Some("a.example")
    );
    assert_eq!(t.find("b.example", "/other", "POST").unwrap().prefix, "/");
}

#[test]
fn canonical_paths_pass_and_each_kind_of_other_path_is_named() {
    for ok in [
        "/",
        "/a",
        "/a/",
        "/a/b.c/d..e/~x",
        "/%25",
        "/caf%C3%A9",
        "/a%20b",
        "/a:b@c!$&'()*+,=",
    ] {
        assert_eq!(canonical_path(ok), Ok(()), "{ok}");
    }
    for (path, why) in [
        ("", NonCanonical::Relative),
        ("a/b", NonCanonical::Relative),
        ("/a;b", NonCanonical::Character),
        ("/a\\b", NonCanonical::Character),
        ("/a b", NonCanonical::Character),
        ("/a\tb", NonCanonical::Character),
        ("/a\u{7f}", NonCanonical::Character),
        ("/caf\u{e9}", NonCanonical::Character),
        ("/a%", NonCanonical::MalformedEscape),
        ("/a%4", NonCanonical::MalformedEscape),
        ("/a%g0", NonCanonical::MalformedEscape),
        ("/%41", NonCanonical::NeedlessEscape),
        ("/%7e", NonCanonical::NeedlessEscape),
        ("/%2d", NonCanonical::NeedlessEscape),
        ("/%2E", NonCanonical::NeedlessEscape),
        ("/%5F", NonCanonical::NeedlessEscape),
        ("/%30", NonCanonical::NeedlessEscape),
        ("/%00", NonCanonical::NeedlessEscape),
        ("/%1F", NonCanonical::NeedlessEscape),
        ("/%7F", NonCanonical::NeedlessEscape),
        ("/%2f", NonCanonical::NeedlessEscape),
        ("/%5C", NonCanonical::NeedlessEscape),
        ("/%3B", NonCanonical::NeedlessEscape),
        ("/%c3%A9", NonCanonical::LowerCaseEscape),
        ("/%3a", NonCanonical::LowerCaseEscape),
        ("/.", NonCanonical::DotSegment),
        ("/..", NonCanonical::DotSegment),
        ("/a/./b", NonCanonical::DotSegment),
        ("/a/../b", NonCanonical::DotSegment),
        ("/a/..", NonCanonical::DotSegment),
        ("//", NonCanonical::EmptySegment),
        ("//a", NonCanonical::EmptySegment),
        ("/a//b", NonCanonical::EmptySegment),
    ] {
        assert_eq!(canonical_path(path), Err(why), "{path:?}");
    }
}
