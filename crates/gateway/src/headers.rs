//! Header rewriting: what the upstream receives, and the CORS headers browsers read.

use crate::reply::Reply;
use crate::routes::Cors;

/// Hop-by-hop headers (RFC 9110 section 7.6.1) never forwarded, besides those `Connection`
/// names.
const HOP_BY_HOP: [&str; 3] = ["connection", "keep-alive", "proxy-connection"];

/// A header's value, names compared without case; several copies joined with `, `.
pub fn get<'h>(headers: &'h [(String, String)], name: &str) -> Option<&'h str> {
    headers
        .iter()
        .find(|(n, _)| n.eq_ignore_ascii_case(name))
        .map(|(_, v)| v.as_str())
}

/// The headers to forward: the caller's, less the hop-by-hop ones and every name its
/// `Connection` header lists, less any copy of `identity` names the caller sent (only the
/// gateway sets those), less `Authorization` when `strip_authorization`; then `set`.
pub fn forwarded(
    incoming: &[(String, String)],
    identity: &[&str],
    strip_authorization: bool,
    set: Vec<(String, String)>,
) -> Vec<(String, String)> {
    // A caller listing a name in Connection asks every hop to drop it: honour that here, and
    // drop Connection itself so no hop after the gateway can be asked to drop what it sets.
    let listed: Vec<String> = incoming
        .iter()
        .filter(|(n, _)| n.eq_ignore_ascii_case("connection"))
        .flat_map(|(_, v)| v.split(','))
        .map(|name| name.trim().to_ascii_lowercase())
        .filter(|name| !name.is_empty())
        .collect();
    let dropped = |name: &str| {
        let name = name.to_ascii_lowercase();
        HOP_BY_HOP.contains(&name.as_str())
            || listed.contains(&name)
            || identity.contains(&name.as_str())
            || (strip_authorization && name == "authorization")
    };
    let mut out: Vec<(String, String)> = incoming
        .iter()
        .filter(|(n, _)| !dropped(n))
        .cloned()
        .collect();
    out.extend(set);
    out
}

/// The CORS headers for a response to a browser at `origin`, when the route allows it:
/// the origin echoed (so `Vary: Origin`), and `WWW-Authenticate` readable by the page.
pub fn cors_response(cors: Option<&Cors>, origin: Option<&str>) -> Vec<(String, String)> {
    match (cors, origin) {
        (Some(cors), Some(origin)) if cors.allows_origin(origin) => vec![
            ("access-control-allow-origin".into(), origin.into()),
            (
                "access-control-expose-headers".into(),
                "www-authenticate".into(),
            ),
            ("vary".into(), "Origin".into()),
        ],
        _ => Vec::new(),
    }
}

/// The answer to a CORS preflight for a route with `cors`: 204 with the allowances, or 403
/// naming what is not allowed (without allowances, so the browser refuses too).
pub fn preflight(cors: &Cors, origin: &str, method: &str, requested: Option<&str>) -> Reply {
    if !cors.allows_origin(origin) {
        return Reply::error(403, "cors_refused", "this origin may not call this route");
    }
    if !cors.methods.iter().any(|m| m.eq_ignore_ascii_case(method)) {
        return Reply::error(
            403,
            "cors_refused",
            "this method is not allowed from browsers",
        );
    }
    let requested = requested.unwrap_or_default();
    let all_allowed = requested
        .split(',')
        .map(|h| h.trim().to_ascii_lowercase())
        .filter(|h| !h.is_empty())
        .all(|h| cors.headers.contains(&h));
    if !all_allowed {
        return Reply::error(403, "cors_refused", "a requested header is not allowed");
    }
    let mut headers = vec![
        (
            "access-control-allow-origin".to_string(),
            origin.to_string(),
        ),
        (
            "access-control-allow-methods".into(),
            cors.methods.join(", "),
        ),
        ("access-control-max-age".into(), cors.max_age.to_string()),
        (
            "vary".into(),
            "Origin, Access-Control-Request-Method, Access-Control-Request-Headers".into(),
        ),
    ];
    if !cors.headers.is_empty() {
        headers.push((
            "access-control-allow-headers".into(),
            cors.headers.join(", "),
        ));
    }
    Reply {
        status: 204,
        headers,
        body: None,
        log: None,
    }
}
