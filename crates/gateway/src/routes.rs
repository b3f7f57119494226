//! The route table: parsed and validated from the `ROUTES` JSON once per isolate, then matched
//! per request by host, path prefix and method.

use serde::Deserialize;

/// Longest `ROUTES` document accepted, in bytes.
pub const MAX_ROUTES_BYTES: usize = 64 * 1024;
/// Most routes in a table.
pub const MAX_ROUTES: usize = 256;
/// Default `cors.max_age`, in seconds.
pub const DEFAULT_CORS_MAX_AGE: u32 = 600;
/// Longest `cors.max_age` accepted (a day; browsers cap it lower anyway).
pub const MAX_CORS_MAX_AGE: u32 = 86_400;

/// Methods a route may name.
const METHODS: [&str; 7] = ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"];

/// Who may pass a route.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Access {
    /// Anyone: no token is read.
    Public,
    /// A verified token whose `aud` names one of `audiences` and which holds `scopes`.
    Protected {
        /// Accepted audiences (at least one).
        audiences: Vec<String>,
        /// The scopes needed, if any.
        scopes: Option<ScopeRule>,
    },
}

/// The scopes a protected route needs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ScopeRule {
    /// Every one of these.
    AllOf(Vec<String>),
    /// At least one of these.
    AnyOf(Vec<String>),
}

/// Where an allowed request goes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Upstream {
    /// The original URL, as a Worker on a route reaches its origin with `fetch(request)`.
    Origin,
    /// This base URL (no trailing slash) followed by the request's path and query.
    Url(String),
    /// The Worker behind this service binding, with the original URL.
    Service(String),
}

/// Which sender-constrained tokens a route requires (its `sender_constraint`): a plain bearer
/// token is refused there.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SenderConstraint {
    /// A DPoP-bound token (`cnf.jkt`) with its proof.
    Dpop,
    /// A certificate-bound token (`cnf.x5t#S256`) over the connection with that certificate.
    Mtls,
    /// Either binding.
    Any,
}

/// How a route answers CORS preflights.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Cors {
    /// Allowed origins (`scheme://host[:port]`), or `*` alone for any.
    pub origins: Vec<String>,
    /// Allowed methods, upper case.
    pub methods: Vec<String>,
    /// Allowed request headers, lower case.
    pub headers: Vec<String>,
    /// `Access-Control-Max-Age`, in seconds.
    pub max_age: u32,
}

impl Cors {
    /// Whether `origin` may call this route from a browser.
    pub fn allows_origin(&self, origin: &str) -> bool {
        self.allows_any() || self.origins.iter().any(|o| o == origin)
    }

    /// Whether any origin may (`origins: ["*"]`): answers then say `*`, never an origin.
    pub fn allows_any(&self) -> bool {
        self.origins.iter().any(|o| o == "*")
    }
}

/// One validated route.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Route {
    /// Exact host name, lower case; `None` for any host (`*`).
    pub host: Option<String>,
    /// Path prefix, matched on segment boundaries.
    pub prefix: String,
    /// Methods this route serves; `None` for all.
    pub methods: Option<Vec<String>>,
    /// Who may pass.
    pub access: Access,
    /// Whether `Authorization` is removed before forwarding.
    pub strip_authorization: bool,
    /// Where the request goes.
    pub upstream: Upstream,
    /// Preflight handling, if the route serves browsers on other origins.
    pub cors: Option<Cors>,
    /// Whether a verified token is also checked with the issuer for revocation.
    pub revocation: bool,
    /// The binding a token must have here; `None`: bearer tokens pass too.
    pub sender_constraint: Option<SenderConstraint>,
}

impl Route {
    /// Whether this route serves `method` (upper case).
    fn serves(&self, method: &str) -> bool {
        self.methods
            .as_ref()
            .is_none_or(|list| list.iter().any(|m| m == method))
    }

    /// Whether `path` is under the prefix: equal, or continuing at a `/`.
    fn covers(&self, path: &str) -> bool {
        match path.strip_prefix(self.prefix.as_str()) {
            Some(rest) => self.prefix.ends_with('/') || rest.is_empty() || rest.starts_with('/'),
            None => false,
        }
    }

    fn label(&self) -> String {
        format!("{}{}", self.host.as_deref().unwrap_or("*"), self.prefix)
    }
}

/// Why no route serves a request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Miss {
    /// No route's host and prefix fit: 404.
    NotFound,
    /// The longest prefix that fits serves other methods, these: 405 with `Allow`.
    MethodNotAllowed(Vec<&'static str>),
}

/// The validated routes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RouteTable {
    routes: Vec<Route>,
}

impl RouteTable {
    /// Parses and validates the `ROUTES` JSON array. The error names the route and field at
    /// fault.
    pub fn parse(json: &str) -> Result<RouteTable, String> {
        if json.len() > MAX_ROUTES_BYTES {
            return Err(format!("ROUTES is over {MAX_ROUTES_BYTES} bytes"));
        }
        let raw: Vec<RawRoute> =
            serde_json::from_str(json).map_err(|e| format!("ROUTES is not a route list: {e}"))?;
        if raw.is_empty() {
            return Err("ROUTES has no route: every request would be denied".into());
        }
        if raw.len() > MAX_ROUTES {
            return Err(format!("ROUTES has more than {MAX_ROUTES} routes"));
        }
        let routes = raw
            .into_iter()
            .enumerate()
            .map(|(i, r)| r.validate().map_err(|e| format!("ROUTES[{i}].{e}")))
            .collect::<Result<Vec<_>, _>>()?;
        for (i, a) in routes.iter().enumerate() {
            for (j, b) in routes.iter().enumerate().skip(i + 1) {
                if a.host == b.host && a.prefix == b.prefix && overlap(&a.methods, &b.methods) {
                    return Err(format!(
                        "ROUTES[{j}] repeats ROUTES[{i}] ({}) for the same methods",
                        b.label()
                    ));
                }
            }
        }
        Ok(RouteTable { routes })
    }

    /// The routes, in configuration order.
    pub fn routes(&self) -> &[Route] {
        &self.routes
    }

    /// The route for a request. Among the routes whose host (exact, or `*`) and prefix fit,
    /// only those of the longest prefix are considered: one of them that serves `method` (an
    /// exact host beating `*`), or else [`Miss::MethodNotAllowed`] with their methods. A
    /// shorter prefix is never chosen for a method the longer one does not serve.
    pub fn find(&self, host: &str, path: &str, method: &str) -> Result<&Route, Miss> {
        let fits = || {
            self.routes
                .iter()
                .filter(|r| r.host.as_deref().is_none_or(|h| h == host) && r.covers(path))
        };
        let longest = fits().map(|r| r.prefix.len()).max().ok_or(Miss::NotFound)?;
        let candidates = || fits().filter(move |r| r.prefix.len() == longest);
        if let Some(route) = candidates()
            .filter(|r| r.serves(method))
            .max_by_key(|r| r.host.is_some())
        {
            return Ok(route);
        }
        let allowed = METHODS
            .into_iter()
            .filter(|m| candidates().any(|r| r.serves(m)))
            .collect();
        Err(Miss::MethodNotAllowed(allowed))
    }

    /// Every audience some route accepts.
    pub fn audiences(&self) -> Vec<String> {
        let mut all: Vec<String> = Vec::new();
        for route in &self.routes {
            if let Access::Protected { audiences, .. } = &route.access {
                for a in audiences {
                    if !all.contains(a) {
                        all.push(a.clone());
                    }
                }
            }
        }
        all
    }
}

fn overlap(a: &Option<Vec<String>>, b: &Option<Vec<String>>) -> bool {
    match (a, b) {
        (Some(a), Some(b)) => a.iter().any(|m| b.contains(m)),
        _ => true,
    }
}

/// A route as written. Unknown fields are errors, so a typo cannot silently open a route.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawRoute {
    host: Option<String>,
    prefix: Option<String>,
    methods: Option<Vec<String>>,
    audience: Option<OneOrMany>,
    scopes: Option<RawScopes>,
    #[serde(default)]
    public: bool,
    #[serde(default)]
    strip_authorization: bool,
    upstream: Option<RawUpstream>,
    cors: Option<RawCors>,
    #[serde(default)]
    revocation: bool,
    sender_constraint: Option<String>,
}

#[derive(Deserialize)]
#[serde(untagged)]
enum OneOrMany {
    One(String),
    Many(Vec<String>),
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawScopes {
    all_of: Option<Vec<String>>,
    any_of: Option<Vec<String>>,
}

#[derive(Deserialize)]
#[serde(untagged)]
enum RawUpstream {
    Named(String),
    Target(RawTarget),
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawTarget {
    url: Option<String>,
    service: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawCors {
    origins: Vec<String>,
    methods: Option<Vec<String>>,
    headers: Option<Vec<String>>,
    max_age: Option<u32>,
}

impl RawRoute {
    fn validate(self) -> Result<Route, String> {
        let host = match self.host.as_deref() {
            None | Some("*") => None,
            Some(h) if is_host(h) => Some(h.to_ascii_lowercase()),
            Some(_) => {
                return Err("host must be '*' or a host name without scheme, port or path".into())
            }
        };
        let prefix = self.prefix.ok_or("prefix is required (e.g. \"/api/\")")?;
        if !prefix.starts_with('/') || prefix.contains(['?', '#']) {
            return Err("prefix must start with '/' and hold no query or fragment".into());
        }
        // A prefix no request can reach would silently leave its paths to a shorter route.
        canonical_path(&prefix)
            .map_err(|e| format!("prefix is not canonical ({})", e.description()))?;
        let methods = self.methods.map(|m| methods(m, "methods")).transpose()?;
        if self.public && self.revocation {
            return Err("revocation needs a token: public routes cannot check it".into());
        }
        let sender_constraint = match self.sender_constraint.as_deref() {
            None => None,
            Some(_) if self.public => {
                return Err("sender_constraint needs a token: public routes cannot check it".into())
            }
            Some("dpop") => Some(SenderConstraint::Dpop),
            Some("mtls") => Some(SenderConstraint::Mtls),
            Some("any") => Some(SenderConstraint::Any),
            Some(_) => return Err("sender_constraint must be \"dpop\", \"mtls\" or \"any\"".into()),
        };
        let access = match (self.public, self.audience, self.scopes) {
            (true, None, None) => Access::Public,
            (true, _, _) => return Err("public routes take no audience or scopes".into()),
            (false, None, _) => {
                return Err("audience is required unless the route is public".into())
            }
            (false, Some(audience), scopes) => Access::Protected {
                audiences: audiences(audience)?,
                scopes: scopes.map(RawScopes::validate).transpose()?,
            },
        };
        let upstream = match self.upstream {
            None => Upstream::Origin,
            Some(RawUpstream::Named(name)) if name == "origin" => Upstream::Origin,
            Some(RawUpstream::Named(_)) => {
                return Err(
                    "upstream must be \"origin\", {\"url\": ...} or {\"service\": ...}".into(),
                )
            }
            Some(RawUpstream::Target(t)) => t.validate()?,
        };
        Ok(Route {
            host,
            prefix,
            methods,
            access,
            strip_authorization: self.strip_authorization,
            upstream,
            cors: self.cors.map(RawCors::validate).transpose()?,
            revocation: self.revocation,
            sender_constraint,
        })
    }
}

impl RawScopes {
    fn validate(self) -> Result<ScopeRule, String> {
        let check = |list: Vec<String>, field: &str| {
            if list.is_empty() || !list.iter().all(|s| is_scope_token(s)) {
                return Err(format!(
                    "scopes.{field} must be a non-empty list of scope tokens"
                ));
            }
            Ok(list)
        };
        match (self.all_of, self.any_of) {
            (Some(all), None) => Ok(ScopeRule::AllOf(check(all, "all_of")?)),
            (None, Some(any)) => Ok(ScopeRule::AnyOf(check(any, "any_of")?)),
            _ => Err("scopes must have exactly one of all_of or any_of".into()),
        }
    }
}

impl RawTarget {
    fn validate(self) -> Result<Upstream, String> {
        match (self.url, self.service) {
            (Some(url), None) => {
                let rest = url
                    .strip_prefix("https://")
                    .or_else(|| url.strip_prefix("http://"))
                    .unwrap_or_default();
                let host = rest.split('/').next().unwrap_or_default();
                if host.is_empty() || url.contains(['?', '#']) || url.contains(char::is_whitespace)
                {
                    return Err(
                        "upstream.url must be an http(s) URL with a host and no query or fragment"
                            .into(),
                    );
                }
                Ok(Upstream::Url(url.trim_end_matches('/').to_string()))
            }
            (None, Some(name)) if is_binding_name(&name) => Ok(Upstream::Service(name)),
            (None, Some(_)) => {
                Err("upstream.service must be a binding name (letters, digits, '_')".into())
            }
            _ => Err("upstream must have exactly one of url or service".into()),
        }
    }
}

impl RawCors {
    fn validate(self) -> Result<Cors, String> {
        let any = self.origins.iter().any(|o| o == "*");
        if self.origins.is_empty() || (any && self.origins.len() > 1) {
            return Err("cors.origins must be a non-empty list of origins, or [\"*\"]".into());
        }
        if !any && !self.origins.iter().all(|o| is_origin(o)) {
            return Err("cors.origins entries must be scheme://host[:port], with no path".into());
        }
        let headers = self.headers.unwrap_or_default();
        if !headers.iter().all(|h| is_token(h)) {
            return Err("cors.headers must be header names".into());
        }
        let max_age = self.max_age.unwrap_or(DEFAULT_CORS_MAX_AGE);
        if max_age > MAX_CORS_MAX_AGE {
            return Err(format!("cors.max_age must be at most {MAX_CORS_MAX_AGE}"));
        }
        Ok(Cors {
            origins: self.origins,
            methods: methods(
                self.methods.unwrap_or_else(|| vec!["GET".into()]),
                "cors.methods",
            )?,
            headers: headers.iter().map(|h| h.to_ascii_lowercase()).collect(),
            max_age,
        })
    }
}

fn methods(list: Vec<String>, field: &str) -> Result<Vec<String>, String> {
    let list: Vec<String> = list.iter().map(|m| m.to_ascii_uppercase()).collect();
    if list.is_empty() || !list.iter().all(|m| METHODS.contains(&m.as_str())) {
        return Err(format!(
            "{field} must be a non-empty list of {}",
            METHODS.join(", ")
        ));
    }
    Ok(list)
}

fn audiences(audience: OneOrMany) -> Result<Vec<String>, String> {
    let list = match audience {
        OneOrMany::One(a) => vec![a],
        OneOrMany::Many(list) => list,
    };
    if list.is_empty() || list.iter().any(|a| a.trim().is_empty()) {
        return Err("audience must be a non-empty string or list of strings".into());
    }
    Ok(list)
}

/// Why a path is not canonical: the gateway refuses it before choosing a route, since an
/// upstream that decodes, collapses or strips it could serve another path than the one matched.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NonCanonical {
    /// Not starting with `/`.
    Relative,
    /// A byte outside printable ASCII, a space, `\` or `;`.
    Character,
    /// `%` not followed by two hex digits.
    MalformedEscape,
    /// A percent-escape of an unreserved character, a control character, `/`, `\` or `;`.
    NeedlessEscape,
    /// A percent-escape with lower-case hex (`%c3` for `%C3`).
    LowerCaseEscape,
    /// A `.` or `..` segment.
    DotSegment,
    /// An empty segment (`//`).
    EmptySegment,
}

impl NonCanonical {
    /// The `error_description` of the 400 answer.
    pub fn description(self) -> &'static str {
        match self {
            NonCanonical::Relative => "the path must start with '/'",
            NonCanonical::Character => {
                "the path holds a character it may not: a control character, a space, '\\' or ';'"
            }
            NonCanonical::MalformedEscape => "the path holds a '%' not followed by two hex digits",
            NonCanonical::NeedlessEscape => {
                "the path percent-encodes a character it must not: a letter, digit, '-', '.', '_', \
                 '~' (write it as it is), a control character, '/', '\\' or ';'"
            }
            NonCanonical::LowerCaseEscape => "the path's percent-escapes must use upper-case hex",
            NonCanonical::DotSegment => "the path holds a '.' or '..' segment",
            NonCanonical::EmptySegment => "the path holds an empty segment ('//')",
        }
    }
}

/// Checks that `path` (as received, before any decoding) is in the one form the route table
/// matches: it starts with `/`; holds only printable ASCII without space, `\` or `;`; every
/// `%` starts an upper-case escape of a byte that needs one (not an unreserved character, a
/// control character, `/`, `\` or `;`); and no segment is empty, `.` or `..`. A trailing `/`
/// is fine. Two paths that pass differ for an upstream exactly when they differ as strings.
pub fn canonical_path(path: &str) -> Result<(), NonCanonical> {
    let bytes = path.as_bytes();
    if bytes.first() != Some(&b'/') {
        return Err(NonCanonical::Relative);
    }
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'%' => {
                let hex = |at: usize| bytes.get(at).copied().filter(u8::is_ascii_hexdigit);
                let (Some(hi), Some(lo)) = (hex(i + 1), hex(i + 2)) else {
                    return Err(NonCanonical::MalformedEscape);
                };
                let value = (hex_value(hi) << 4) | hex_value(lo);
                if is_unreserved(value)
                    || value < 0x20
                    || value == 0x7f
                    || matches!(value, b'/' | b'\\' | b';')
                {
                    return Err(NonCanonical::NeedlessEscape);
                }
                if hi.is_ascii_lowercase() || lo.is_ascii_lowercase() {
                    return Err(NonCanonical::LowerCaseEscape);
                }
                i += 3;
            }
            b'\\' | b';' => return Err(NonCanonical::Character),
            b if !(0x21..=0x7e).contains(&b) => return Err(NonCanonical::Character),
            _ => i += 1,
        }
    }
    // The first segment is the empty one before the leading `/`; a trailing `/` leaves an
    // empty last one, which is a path of its own, not a collapsible one.
    let segments: Vec<&str> = path[1..].split('/').collect();
    for (n, segment) in segments.iter().enumerate() {
        match *segment {
            "." | ".." => return Err(NonCanonical::DotSegment),
            "" if n + 1 < segments.len() => return Err(NonCanonical::EmptySegment),
            _ => {}
        }
    }
    Ok(())
}

fn hex_value(b: u8) -> u8 {
    match b {
        b'0'..=b'9' => b - b'0',
        b'a'..=b'f' => b - b'a' + 10,
        _ => b - b'A' + 10,
    }
}

/// RFC 3986 section 2.3: ALPHA / DIGIT / "-" / "." / "_" / "~".
fn is_unreserved(b: u8) -> bool {
    b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~')
}

fn is_host(h: &str) -> bool {
    !h.is_empty()
        && h.len() <= 253
        && h.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'.')
}

fn is_origin(o: &str) -> bool {
    let rest = o
        .strip_prefix("https://")
        .or_else(|| o.strip_prefix("http://"));
    rest.is_some_and(|r| {
        let (host, port) = r.split_once(':').unwrap_or((r, "1"));
        is_host(host) && !port.is_empty() && port.bytes().all(|b| b.is_ascii_digit())
    })
}

/// An RFC 7230 token (header names, methods).
fn is_token(s: &str) -> bool {
    !s.is_empty()
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b))
}

/// An RFC 6749 scope token: printable ASCII without space, `"` or `\`.
fn is_scope_token(s: &str) -> bool {
    !s.is_empty()
        && s.bytes()
            .all(|b| b == b'!' || (0x23..=0x7e).contains(&b) && b != b'\\')
}

fn is_binding_name(s: &str) -> bool {
    s.chars()
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && s.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
}

#[cfg(test)]
#[path = "routes_tests.rs"]
mod tests;
