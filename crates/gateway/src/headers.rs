//! Header rewriting: what the upstream receives, and the CORS headers browsers read.

use crate::reply::Reply;
use crate::routes::Cors;

/// Hop-by-hop headers (RFC 9110 sections 7.6.1, 7.8, 10.1.4, 11.7) never forwarded, besides
/// those `Connection` names: they speak of the caller's connection to the gateway, not of the
/// request, and a `Proxy-Authorization` meant for the gateway must not reach the upstream.
pub const HOP_BY_HOP: [&str; 8] = [
    "connection",
    "keep-alive",
    "proxy-authenticate",
    "proxy-authorization",
    "proxy-connection",
    "te",
    "trailer",
    "upgrade",
];

/// A header's value, names compared without case; several copies joined with `, `.
pub fn get<'h>(headers: &'h [(String, String)], name: &str) -> Option<&'h str> {
    headers
        .iter()
        .find(|(n, _)| n.eq_ignore_ascii_case(name))
        .map(|(_, v)| v.as_str())
}

/// The changes to the caller's headers before they are forwarded: the hop-by-hop ones and
/// every name its `Connection` header lists dropped, any copy of `identity` names the caller
/// sent dropped (only the gateway sets those), `Authorization` dropped when
/// `strip_authorization`; then `set`.
pub fn forwarded(
    incoming: &[(String, String)],
    identity: &[&str],
    strip_authorization: bool,
    set: Vec<(String, String)>,
) -> RequestEdits {
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
    RequestEdits {
        drop: incoming
            .iter()
            .filter(|(n, _)| dropped(n))
            .map(|(n, _)| n.clone())
            .collect(),
        set,
    }
}

/// Changes to the caller's headers before the request goes on: the shell makes them on the
/// runtime's own copy of the headers, so a request that needs none is sent with them as
/// they came, uncopied.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RequestEdits {
    /// Names removed (every copy; compared without case).
    pub drop: Vec<String>,
    /// Headers then set, replacing any copy.
    pub set: Vec<(String, String)>,
}

impl RequestEdits {
    /// The headers the upstream receives when the caller sent `incoming`.
    pub fn apply(&self, incoming: &[(String, String)]) -> Vec<(String, String)> {
        let replaced = |n: &str| {
            self.drop.iter().any(|d| n.eq_ignore_ascii_case(d))
                || self.set.iter().any(|(s, _)| n.eq_ignore_ascii_case(s))
        };
        let mut out: Vec<(String, String)> = incoming
            .iter()
            .filter(|(n, _)| !replaced(n))
            .cloned()
            .collect();
        out.extend(self.set.iter().cloned());
        out
    }
}

/// Changes the gateway makes to the headers of an answer (CORS): applied to the upstream's
/// answer by the shell, and to the gateway's own refusals by [`ResponseEdits::apply`].
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ResponseEdits {
    /// Headers set, replacing any copy the answer has.
    pub set: Vec<(String, String)>,
    /// Headers removed from the answer.
    pub remove: Vec<&'static str>,
    /// List-valued headers and a name each must list: added to the answer's list, never
    /// written over it (see [`list_with`]).
    pub append: Vec<(&'static str, &'static str)>,
}

impl ResponseEdits {
    /// Whether an answer whose headers `has` (names lower case) would change: if not, it goes
    /// out as it is, uncopied.
    pub fn change(&self, has: impl Fn(&str) -> bool) -> bool {
        !self.set.is_empty() || !self.append.is_empty() || self.remove.iter().any(|n| has(n))
    }

    /// The edits applied to `headers` (names compared without case).
    pub fn apply(&self, headers: &mut Vec<(String, String)>) {
        let replaced = |n: &str| {
            self.remove.iter().any(|r| n.eq_ignore_ascii_case(r))
                || self.set.iter().any(|(s, _)| n.eq_ignore_ascii_case(s))
        };
        headers.retain(|(n, _)| !replaced(n));
        headers.extend(self.set.iter().cloned());
        for (name, token) in &self.append {
            let current: Vec<&str> = headers
                .iter()
                .filter(|(n, _)| n.eq_ignore_ascii_case(name))
                .map(|(_, v)| v.as_str())
                .collect();
            let current = (!current.is_empty()).then(|| current.join(", "));
            if let Some(value) = list_with(current.as_deref(), token) {
                headers.retain(|(n, _)| !n.eq_ignore_ascii_case(name));
                headers.push((name.to_string(), value));
            }
        }
    }
}

/// A comma-separated header list (`Vary`, `Access-Control-Expose-Headers`) that also names
/// `token`: `None` when `current` already lists it (names compared without case) or is `*`.
pub fn list_with(current: Option<&str>, token: &str) -> Option<String> {
    let Some(current) = current.map(str::trim).filter(|c| !c.is_empty()) else {
        return Some(token.to_string());
    };
    let listed = current
        .split(',')
        .map(str::trim)
        .any(|t| t == "*" || t.eq_ignore_ascii_case(token));
    (!listed).then(|| format!("{current}, {token}"))
}

/// Hop-by-hop headers of an answer that reach the Worker: the runtime drops the framing ones
/// (`Connection`, `Keep-Alive`, `Trailer`, `Upgrade`, ...) itself, but not this one, which asks
/// the caller for credentials of a proxy between the gateway and the upstream.
pub const RESPONSE_HOP_BY_HOP: [&str; 1] = ["proxy-authenticate"];

/// The edits for an answer on `route_cors` (the route's `cors`), to a request from `origin`:
/// the hop-by-hop headers dropped, and for CORS:
/// - `origins: ["*"]`: a literal `Access-Control-Allow-Origin: *` on every answer, never the
///   caller's origin, and no `Access-Control-Allow-Credentials`: no site may make credentialed
///   (cookie) reads of a route every site may call, whatever the upstream says;
/// - listed origins: `Origin` added to `Vary` on every answer (it depends on the caller's
///   origin), and the origin echoed when listed.
///
/// Allowed callers may read `WWW-Authenticate`.
pub fn response_edits(route_cors: Option<&Cors>, origin: Option<&str>) -> ResponseEdits {
    let mut edits = ResponseEdits {
        remove: RESPONSE_HOP_BY_HOP.to_vec(),
        ..ResponseEdits::default()
    };
    let Some(cors) = route_cors else {
        return edits;
    };
    let expose = ("access-control-expose-headers", "www-authenticate");
    if cors.allows_any() {
        edits
            .set
            .push(("access-control-allow-origin".into(), "*".into()));
        edits.remove.push("access-control-allow-credentials");
        edits.append.push(expose);
        return edits;
    }
    edits.append.push(("vary", "Origin"));
    if let Some(origin) = origin.filter(|o| cors.allows_origin(o)) {
        edits
            .set
            .push(("access-control-allow-origin".into(), origin.into()));
        edits.append.push(expose);
    }
    edits
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
    let (allowed, vary) = if cors.allows_any() {
        (
            "*",
            "Access-Control-Request-Method, Access-Control-Request-Headers",
        )
    } else {
        (
            origin,
            "Origin, Access-Control-Request-Method, Access-Control-Request-Headers",
        )
    };
    let mut headers = vec![
        (
            "access-control-allow-origin".to_string(),
            allowed.to_string(),
        ),
        (
            "access-control-allow-methods".into(),
            cors.methods.join(", "),
        ),
        ("access-control-max-age".into(), cors.max_age.to_string()),
        ("vary".into(), vary.into()),
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
