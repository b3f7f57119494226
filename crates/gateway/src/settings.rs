//! The gateway's configuration from Worker vars, parsed and validated once per isolate.

use crate::routes::RouteTable;

/// Names of the vars the gateway reads.
pub const SETTINGS: [&str; 5] = [
    "ISSUER",
    "ROUTES",
    "CLIENT_ID_HEADER",
    "SCOPES_HEADER",
    "REALM",
];
/// The service binding to the issuer Worker: keys come through it, never over the internet.
pub const ISSUER_BINDING: &str = "ISSUER_SERVICE";
/// Default header carrying the verified client id upstream.
pub const DEFAULT_CLIENT_ID_HEADER: &str = "x-client-id";
/// Default header carrying the verified scopes upstream, space-separated.
pub const DEFAULT_SCOPES_HEADER: &str = "x-client-scopes";
/// Default `realm` of the `WWW-Authenticate` challenge.
pub const DEFAULT_REALM: &str = "api";

/// Headers the identity headers may not replace: the request's own framing and credentials.
const RESERVED: [&str; 8] = [
    "authorization",
    "connection",
    "content-length",
    "content-type",
    "cookie",
    "host",
    "te",
    "transfer-encoding",
];

/// Everything the gateway needs to know about this deployment.
#[derive(Debug, Clone)]
pub struct Settings {
    /// The issuer tokens must name (`ISSUER`, exact match, no trailing slash).
    pub issuer: String,
    /// The route table (`ROUTES`).
    pub routes: RouteTable,
    /// Header for the verified client id (`CLIENT_ID_HEADER`), lower case.
    pub client_id_header: String,
    /// Header for the verified scopes (`SCOPES_HEADER`), lower case.
    pub scopes_header: String,
    /// The challenge's realm (`REALM`).
    pub realm: String,
}

impl Settings {
    /// Parses the vars; `lookup` answers a var's value by name. The error names the var at
    /// fault.
    pub fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Result<Settings, String> {
        let get = |name: &str| lookup(name).filter(|v| !v.trim().is_empty());
        let issuer = get("ISSUER").ok_or("ISSUER is not set")?;
        if !(issuer.starts_with("https://") || issuer.starts_with("http://")) {
            return Err("ISSUER must be an http(s) URL".into());
        }
        let routes = RouteTable::parse(&get("ROUTES").ok_or("ROUTES is not set")?)?;
        let header = |name: &str, default: &str| -> Result<String, String> {
            let value = get(name)
                .unwrap_or_else(|| default.into())
                .to_ascii_lowercase();
            let valid = value
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
            if !valid || RESERVED.contains(&value.as_str()) {
                return Err(format!("{name} must be a header name, not a reserved one"));
            }
            Ok(value)
        };
        let client_id_header = header("CLIENT_ID_HEADER", DEFAULT_CLIENT_ID_HEADER)?;
        let scopes_header = header("SCOPES_HEADER", DEFAULT_SCOPES_HEADER)?;
        if client_id_header == scopes_header {
            return Err("CLIENT_ID_HEADER and SCOPES_HEADER must differ".into());
        }
        Ok(Settings {
            issuer: issuer.trim_end_matches('/').to_string(),
            routes,
            client_id_header,
            scopes_header,
            realm: get("REALM").unwrap_or_else(|| DEFAULT_REALM.into()),
        })
    }

    /// Where the issuer publishes its keys (fetched through [`ISSUER_BINDING`]).
    pub fn jwks_url(&self) -> String {
        format!("{}/.well-known/jwks.json", self.issuer)
    }
}
