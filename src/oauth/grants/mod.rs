//! The grants the token endpoint serves, one file each, behind one table: [`Grant::ALL`] is
//! what `grant_types_supported` lists and what the endpoint dispatches on. A grant finds how
//! the client presents itself in the request; the client is then authenticated and what it
//! may have authorized ([`Granted`]) the same way for every grant that gives a client a token
//! for itself; the token exchange authorizes by its subject token instead. The endpoint does
//! the steps every grant shares (the key ring, the quota, minting, counting, the response).
//! Adding a grant: its file, and its row in [`Grant`] (variant, name, dispatch).

pub mod authorize;
pub mod client_credentials;
pub mod jwt_bearer;
pub mod token_exchange;

pub use authorize::Granted;

use crate::context::Ctx;
use crate::error::Error;
use crate::http::{Form, Request};
use crate::oauth::{client_auth, mtls};

/// The grant types the token endpoint serves.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Grant {
    /// RFC 6749 section 4.4.
    ClientCredentials,
    /// RFC 7523 section 2.1: an external token of a federated credential as the grant.
    JwtBearer,
    /// RFC 8693: a token the client received, traded for a token to another API.
    TokenExchange,
}

impl Grant {
    /// Every grant, in the order the metadata lists them.
    pub const ALL: [Grant; 3] = [
        Grant::ClientCredentials,
        Grant::JwtBearer,
        Grant::TokenExchange,
    ];

    /// The `grant_type` value.
    pub fn name(self) -> &'static str {
        match self {
            Grant::ClientCredentials => client_credentials::NAME,
            Grant::JwtBearer => jwt_bearer::NAME,
            Grant::TokenExchange => token_exchange::NAME,
        }
    }

    /// The grant a `grant_type` value names, if served.
    pub fn parse(name: &str) -> Option<Grant> {
        Grant::ALL.into_iter().find(|g| g.name() == name)
    }

    /// Runs the grant on a request whose form is parsed: the client it authenticates, and
    /// what its token carries.
    pub async fn run(
        self,
        ctx: &Ctx<'_>,
        req: &Request,
        form: &Form,
        issuer: &str,
    ) -> Result<Granted, Error> {
        let exchange = match self {
            Grant::TokenExchange => Some(token_exchange::request(form)?),
            _ => None,
        };
        let credentials = match self {
            Grant::JwtBearer => jwt_bearer::credentials(req, form)?,
            // The exchanging client authenticates as for client credentials.
            _ => client_credentials::credentials(req, form)?,
        };
        let client = client_auth::authenticate(ctx, credentials, issuer).await?;
        // Every grant binds the token of a client registered for it (RFC 8705 section 3).
        let x5t = mtls::binding(req, client.record())?;
        let mut authorized = match exchange {
            Some(exchange) => {
                token_exchange::authorize(ctx, &client, exchange, form, issuer).await?
            }
            None => authorize::authorize(ctx, &client, form, issuer).await?,
        };
        if x5t.is_some() {
            let cnf = authorized.confirmation.get_or_insert_with(Default::default);
            cnf.x5t_s256 = x5t;
        }
        Ok(Granted { client, authorized })
    }
}
