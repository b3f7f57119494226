//! The admin API's OpenAPI document (`www/admin/openapi.json`) and the router agree, both ways:
//! every route the router knows is documented, and every documented operation is routed.
//!
//! The router's routes are read from its source, the match arms of `admin::route` and of
//! `router::route`, rather than from a route table: the admin router is a `match` on path
//! segments, which the compiler checks and which costs the wasm nothing, and a table the
//! router would have to consult on every request only to serve this test is not worth its
//! bytes in an issuer at its size budget. The parser is strict: an arm it cannot read fails
//! the test, so a new arm is never skipped silently.

use std::collections::BTreeSet;
use std::fs;
use std::path::Path;

use edgeauth::http::ASSET_HEADER;
use edgeauth::{Method, Request};
use serde_json::Value;

use crate::{body_json, Harness, ADMIN_TOKEN, ORIGIN};

/// One operation: a method and a path template whose parameters are spelled `{}`.
type Operation = (String, String);

fn read(relative: &str) -> String {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join(relative);
    fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

fn document() -> Value {
    serde_json::from_str(&read("www/admin/openapi.json")).expect("openapi.json is JSON")
}

/// `{client_id}` and the like become `{}`, so templates compare whatever their names.
fn unnamed(template: &str) -> String {
    template
        .split('/')
        .map(|s| if s.starts_with('{') { "{}" } else { s })
        .collect::<Vec<_>>()
        .join("/")
}

/// The operations the document describes.
fn documented() -> BTreeSet<Operation> {
    let doc = document();
    let mut out = BTreeSet::new();
    for (template, item) in doc["paths"].as_object().expect("paths") {
        for method in ["get", "put", "post", "delete", "patch", "head", "options"] {
            if item.get(method).is_some() {
                out.insert((method.to_uppercase(), unnamed(template)));
            }
        }
    }
    out
}

/// The lines of the block that starts at the line containing `opening` and ends at the first
/// line after it that is `closing` (indentation included, so an inner block does not end it).
fn block<'a>(text: &'a str, opening: &str, closing: &str) -> Vec<&'a str> {
    let mut lines = text.lines().skip_while(|l| !l.contains(opening));
    assert!(lines.next().is_some(), "'{opening}' not found");
    lines.take_while(|l| l.trim_end() != closing).collect()
}

/// The methods of an arm: `Get | Head` is GET (every GET answers HEAD too).
fn methods(pattern: &str, arm: &str) -> Vec<String> {
    let names: Vec<&str> = pattern.split('|').map(str::trim).collect();
    let mut out = Vec::new();
    for name in &names {
        match *name {
            "Head" => assert!(names.contains(&"Get"), "HEAD without GET: {arm}"),
            "Get" | "Post" | "Put" | "Patch" | "Delete" => out.push(name.to_uppercase()),
            other => panic!("unknown method '{other}' in: {arm}"),
        }
    }
    out
}

/// Every path a segment list stands for: `"a" | "b"` segments give one path each.
fn expand(segments: &str, arm: &str) -> Vec<String> {
    let mut paths = vec![String::from("/admin")];
    for segment in segments.split(',').map(str::trim) {
        let choices: Vec<String> = segment
            .split('|')
            .map(str::trim)
            .map(
                |s| match s.strip_prefix('"').and_then(|s| s.strip_suffix('"')) {
                    Some(literal) => literal.to_string(),
                    None if s.chars().all(|c| c == '_' || c.is_ascii_alphanumeric()) => "{}".into(),
                    None => panic!("cannot read segment '{s}' of: {arm}"),
                },
            )
            .collect();
        paths = paths
            .iter()
            .flat_map(|p| choices.iter().map(move |c| format!("{p}/{c}")))
            .collect();
    }
    paths
}

/// The routes of `admin::route`: every arm that answers (not a 405 arm, not the fallback).
fn admin_routes() -> BTreeSet<Operation> {
    let source = read("src/admin/mod.rs");
    let arms = block(&source, "match (&segments[1..], req.method) {", "    };");
    let mut out = BTreeSet::new();
    let mut fallback = 0;
    for (i, line) in arms.iter().map(|l| l.trim()).enumerate() {
        if !line.contains("=>") {
            continue;
        }
        if line.starts_with("_ =>") {
            fallback += 1;
            continue;
        }
        let (pattern, body) = line
            .split_once(" => ")
            .unwrap_or_else(|| panic!("cannot read arm: {line}"));
        // A body in braces starts on the next line.
        let body = match body {
            "{" => arms.get(i + 1).map_or("", |l| l.trim()),
            _ => body,
        };
        if body.starts_with("return Err(Error::MethodNotAllowed") {
            continue;
        }
        let inner = pattern
            .strip_prefix('(')
            .and_then(|p| p.strip_suffix(')'))
            .unwrap_or_else(|| panic!("cannot read arm: {line}"));
        let (paths, method) = inner
            .rsplit_once("],")
            .unwrap_or_else(|| panic!("cannot read arm: {line}"));
        for alternative in paths.split("] | [") {
            let segments = alternative.trim_start_matches('[');
            for path in expand(segments, line) {
                for m in methods(method, line) {
                    out.insert((m, path.clone()));
                }
            }
        }
    }
    assert_eq!(fallback, 1, "admin::route has one fallback arm");
    out
}

/// The `/admin/` routes of `router::route` itself (answered by `oauth`): arms whose pattern is
/// a path constant or literal under `/admin/`, with a method guard.
fn router_admin_routes() -> BTreeSet<Operation> {
    let source = read("src/router.rs");
    let arms = block(&source, "match req.path.as_str() {", "    }");
    let mut out = BTreeSet::new();
    for line in arms.iter().map(|l| l.trim()).filter(|l| l.contains(" => ")) {
        let (pattern, body) = line.split_once(" => ").unwrap();
        if body.starts_with("Err(Error::MethodNotAllowed") {
            continue;
        }
        let (paths, guard) = pattern.split_once(" if ").unwrap_or((pattern, ""));
        for name in paths.split('|').map(str::trim).filter(|n| !n.is_empty()) {
            let path = match name.strip_prefix('"').and_then(|n| n.strip_suffix('"')) {
                Some(literal) => literal.to_string(),
                // The prefix arm that hands over to `admin::route`, read above.
                None if name == "p" && guard == "p.starts_with(\"/admin/\")" => continue,
                None if name == "_" => continue,
                None if name.chars().all(|c| c == '_' || c.is_ascii_uppercase()) => constant(name),
                None => panic!("cannot read the pattern of: {line}"),
            };
            if !path.starts_with("/admin/") {
                continue;
            }
            let method = match guard.strip_prefix("req.method == ") {
                Some(m) => methods(m, line).remove(0),
                None if guard == "read" => "GET".to_string(),
                None => panic!("cannot read the guard of: {line}"),
            };
            out.insert((method, path));
        }
    }
    out
}

/// The value of a `&str` constant defined somewhere under `src/`.
fn constant(name: &str) -> String {
    let needle = format!("const {name}: &str = \"");
    let mut dirs = vec![Path::new(env!("CARGO_MANIFEST_DIR")).join("src")];
    while let Some(dir) = dirs.pop() {
        for entry in fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                dirs.push(path);
            } else if let Some(rest) = fs::read_to_string(&path).unwrap().split(&needle).nth(1) {
                return rest.split('"').next().unwrap().to_string();
            }
        }
    }
    panic!("no constant {name} under src/");
}

fn routed() -> BTreeSet<Operation> {
    let mut all = admin_routes();
    all.extend(router_admin_routes());
    all
}

#[test]
fn the_route_reader_reads_the_routers() {
    let routes = routed();
    for known in [
        ("GET", "/admin/clients"),
        ("DELETE", "/admin/clients/{}/secrets/{}"),
        ("GET", "/admin/limits"),
        ("GET", "/admin/audit"),
        ("GET", "/admin/openapi.json"),
        ("POST", "/admin/keys/{}/revoke"),
        ("POST", "/admin/tokens/introspect"),
        ("POST", "/admin/tokens/revoke"),
    ] {
        let op = (known.0.to_string(), known.1.to_string());
        assert!(routes.contains(&op), "{op:?} not read from the routers");
    }
    assert!(routes.len() >= 27, "{routes:?}");
}

#[test]
fn every_admin_route_is_documented() {
    let documented = documented();
    let missing: Vec<_> = routed().difference(&documented).cloned().collect();
    assert!(
        missing.is_empty(),
        "routed but not in www/admin/openapi.json: {missing:?}"
    );
}

#[test]
fn every_documented_operation_is_routed() {
    let h = Harness::new();
    let routes = routed();
    for (method, template) in documented() {
        let path = template.replace("{}", "00000000-0000-4000-8000-000000000000");
        let mut req = Request::new(Method::parse(&method), &format!("{ORIGIN}{path}"))
            .with_header("authorization", &format!("Bearer {ADMIN_TOKEN}"));
        if method != "GET" {
            req = req
                .with_header("content-type", "application/json")
                .with_body("{}");
        }
        let r = h.send(req);
        let body = body_json(&r);
        let unrouted = r.status == 405
            || (r.status == 404 && body["error_description"] == "no such admin route");
        assert!(
            routes.contains(&(method.clone(), template.clone())),
            "{method} {template} is documented but no router arm has it"
        );
        assert!(
            !unrouted,
            "{method} {template} is documented but not routed (the route reader misread an arm): {body}"
        );
    }
}

#[test]
fn the_document_is_answered_only_with_the_admin_bearer() {
    let h = Harness::new();
    let url = format!("{ORIGIN}/admin/openapi.json");
    for method in [Method::Get, Method::Head] {
        let bearer = format!("Bearer {ADMIN_TOKEN}");
        let r = h.send(Request::new(method, &url).with_header("authorization", &bearer));
        assert_eq!(r.status, 200);
        assert_eq!(
            r.header(ASSET_HEADER),
            Some("/admin/openapi.json"),
            "the shell sends the asset"
        );
        assert_eq!(r.header("content-type"), Some("application/json"));
        assert_eq!(r.header("cache-control"), Some("no-store"));
        assert!(r.body.is_empty(), "the document is not in the wasm");
        for auth in [
            None,
            Some(format!("Bearer {ADMIN_TOKEN}x")),
            Some(String::new()),
        ] {
            let mut req = Request::new(method, &url);
            if let Some(a) = auth {
                req = req.with_header("authorization", &a);
            }
            let r = h.send(req);
            assert_eq!(r.status, 401);
            assert_eq!(r.header(ASSET_HEADER), None);
        }
    }
    let post = Request::new(Method::Post, &url)
        .with_header("authorization", &format!("Bearer {ADMIN_TOKEN}"));
    let r = h.send(post);
    assert_eq!(
        (r.status, r.header("allow"), r.header(ASSET_HEADER)),
        (405, Some("GET"), None)
    );
}
