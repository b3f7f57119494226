//! The client credentials grant (RFC 6749 section 4.4): the client authenticates (a secret, a
//! self-signed assertion, or an external token of a federated credential) and gets a token
//! for itself.

use crate::error::Error;
use crate::http::{Form, Request};
use crate::oauth::client_auth::{self, Credentials};

/// The `grant_type` value.
pub const NAME: &str = "client_credentials";

/// The client's credentials, by any method `client_auth` knows.
pub fn credentials<'f>(req: &'f Request, form: &'f Form) -> Result<Credentials<'f>, Error> {
    client_auth::extract(req, form)
}
