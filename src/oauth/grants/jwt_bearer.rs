//! The JWT bearer grant (RFC 7523 section 2.1) for federated credentials: `assertion` is an
//! external token (GitHub Actions, Kubernetes, any OIDC issuer) and `client_id` names the
//! client whose federated credential trusts it. The token is the only client authentication
//! of the request; it gives a token for that client, as client credentials would.

use crate::error::Error;
use crate::http::{Form, Request};
use crate::oauth::assertions;
use crate::oauth::client_auth::Credentials;

/// The `grant_type` value.
pub const NAME: &str = "urn:ietf:params:oauth:grant-type:jwt-bearer";

/// The external token and the client it is for; any other client authentication is refused.
pub fn credentials<'f>(req: &'f Request, form: &'f Form) -> Result<Credentials<'f>, Error> {
    let mixed = ["client_secret", "client_assertion", "client_assertion_type"]
        .iter()
        .any(|p| form.get(p).is_some());
    if mixed || req.header("authorization").is_some() {
        return Err(Error::invalid_request(
            "the jwt-bearer grant authenticates by its assertion alone: send no Authorization header, client_secret or client_assertion",
        ));
    }
    let client_id = form
        .get("client_id")
        .ok_or_else(|| Error::invalid_request("client_id is required with the jwt-bearer grant"))?;
    let assertion = form
        .get("assertion")
        .ok_or_else(|| Error::invalid_request("assertion is required with the jwt-bearer grant"))?;
    let token = Box::new(assertions::parse(assertion)?);
    Ok(Credentials::External { client_id, token })
}
