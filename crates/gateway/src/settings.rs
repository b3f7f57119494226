//! The gateway's configuration from Worker vars, parsed and validated once per isolate.

use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64URL;
use base64::Engine;
use zeroize::Zeroizing;

use crate::revocation::Credential;
use crate::routes::RouteTable;

/// Names of the vars (and secrets) the gateway reads.
pub const SETTINGS: [&str; 10] = [
    "ISSUER",
    "ROUTES",
    "CLIENT_ID_HEADER",
    "SCOPES_HEADER",
    "SUBJECT_HEADER",
    "ACTORS_HEADER",
    "REALM",
    "INTROSPECTION_CLIENT_ID",
    "INTROSPECTION_KEY_SEED",
    "INTROSPECTION_CLIENT_SECRET",
];
/// Longest introspection client id or secret accepted, in bytes.
const MAX_CREDENTIAL_BYTES: usize = 512;
/// The service binding to the issuer Worker: keys come through it, never over the internet.
pub const ISSUER_BINDING: &str = "ISSUER_SERVICE";
/// Default header carrying the verified client id upstream.
pub const DEFAULT_CLIENT_ID_HEADER: &str = "x-client-id";
/// Default header carrying the verified scopes upstream, space-separated.
pub const DEFAULT_SCOPES_HEADER: &str = "x-client-scopes";
/// Default header carrying the verified `sub` upstream: on whose behalf the client calls.
pub const DEFAULT_SUBJECT_HEADER: &str = "x-auth-subject";
/// Default header carrying an exchanged token's actors upstream (`act`), space-separated,
/// outermost first; absent when the token has no `act`.
pub const DEFAULT_ACTORS_HEADER: &str = "x-auth-actors";
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
    /// Header for the verified `sub` (`SUBJECT_HEADER`), lower case.
    pub subject_header: String,
    /// Header for the verified actor chain (`ACTORS_HEADER`), lower case.
    pub actors_header: String,
    /// The challenge's realm (`REALM`).
    pub realm: String,
    /// The client the gateway introspects as (`INTROSPECTION_CLIENT_ID`, with
    /// `INTROSPECTION_KEY_SEED` or `INTROSPECTION_CLIENT_SECRET`), needed by routes with
    /// `revocation`.
    pub introspection: Option<Credential>,
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
        let subject_header = header("SUBJECT_HEADER", DEFAULT_SUBJECT_HEADER)?;
        let actors_header = header("ACTORS_HEADER", DEFAULT_ACTORS_HEADER)?;
        let names = [
            &client_id_header,
            &scopes_header,
            &subject_header,
            &actors_header,
        ];
        if names
            .iter()
            .enumerate()
            .any(|(i, n)| names[..i].contains(n))
        {
            return Err(
                "CLIENT_ID_HEADER, SCOPES_HEADER, SUBJECT_HEADER and ACTORS_HEADER must differ"
                    .into(),
            );
        }
        let introspection = credential(
            get("INTROSPECTION_CLIENT_ID"),
            get("INTROSPECTION_KEY_SEED"),
            get("INTROSPECTION_CLIENT_SECRET"),
        )?;
        if introspection.is_none() {
            if let Some(i) = routes.routes().iter().position(|r| r.revocation) {
                return Err(format!(
                    "ROUTES[{i}] checks revocation but INTROSPECTION_CLIENT_ID and \
                     INTROSPECTION_KEY_SEED (or INTROSPECTION_CLIENT_SECRET) are not set"
                ));
            }
        }
        Ok(Settings {
            issuer: issuer.trim_end_matches('/').to_string(),
            routes,
            client_id_header,
            scopes_header,
            subject_header,
            actors_header,
            realm: get("REALM").unwrap_or_else(|| DEFAULT_REALM.into()),
            introspection,
        })
    }

    /// Where the issuer publishes its keys (fetched through [`ISSUER_BINDING`]).
    pub fn jwks_url(&self) -> String {
        format!("{}/.well-known/jwks.json", self.issuer)
    }
}

/// The id with exactly one proof, or nothing; the error names the var at fault and never
/// the value.
fn credential(
    id: Option<String>,
    seed: Option<String>,
    secret: Option<String>,
) -> Result<Option<Credential>, String> {
    let proof = match (seed, secret) {
        (Some(_), Some(_)) => {
            return Err(
                "set INTROSPECTION_KEY_SEED or INTROSPECTION_CLIENT_SECRET, not both".into(),
            )
        }
        (Some(seed), None) => Some(Ok(seed)),
        (None, Some(secret)) => Some(Err(secret)),
        (None, None) => None,
    };
    let id = match (id, &proof) {
        (None, None) => return Ok(None),
        (Some(_), None) => {
            return Err(
                "INTROSPECTION_KEY_SEED (or INTROSPECTION_CLIENT_SECRET) is not set, \
                        though INTROSPECTION_CLIENT_ID is"
                    .into(),
            )
        }
        (None, Some(Ok(_))) => {
            return Err(
                "INTROSPECTION_CLIENT_ID is not set, though INTROSPECTION_KEY_SEED is".into(),
            )
        }
        (None, Some(Err(_))) => {
            return Err(
                "INTROSPECTION_CLIENT_ID is not set, though INTROSPECTION_CLIENT_SECRET is".into(),
            )
        }
        (Some(id), Some(_)) => id,
    };
    let bounded = |name: &str, value: &str| {
        if value.len() > MAX_CREDENTIAL_BYTES || value.trim() != value {
            return Err(format!(
                "{name} must be at most {MAX_CREDENTIAL_BYTES} bytes, without surrounding spaces"
            ));
        }
        Ok(())
    };
    bounded("INTROSPECTION_CLIENT_ID", &id)?;
    match proof {
        Some(Ok(seed)) => {
            let seed = Zeroizing::new(
                B64URL
                    .decode(seed.trim())
                    .ok()
                    .and_then(|b| <[u8; 32]>::try_from(b.as_slice()).ok())
                    .ok_or("INTROSPECTION_KEY_SEED must be base64url (no padding) of 32 bytes")?,
            );
            Ok(Some(Credential::with_key_seed(id, &seed)))
        }
        Some(Err(secret)) => {
            bounded("INTROSPECTION_CLIENT_SECRET", &secret)?;
            Ok(Some(Credential::new(id, secret)))
        }
        None => Ok(None),
    }
}
