//! The admin API, behind the admin bearer token: clients with their secrets and federated
//! credentials, resources, the audit trail and usage, the input limits the admin page checks,
//! and the API's own OpenAPI document (`www/admin/openapi.json`). Every change is audited.

mod audit;
mod clients;
mod federated_credentials;
pub mod keys;
mod limits;
mod resources;
mod revocations;
mod secrets;
mod shared;
mod views;

use crate::context::Ctx;
use crate::error::Error;
use crate::http::{Method, Request, Response};

pub use shared::MAX_ADMIN_BODY;

/// The admin API's OpenAPI document: where it is served, and where it sits among the static
/// assets (`www/`), which serve that path only through the Worker (`run_worker_first`).
pub const OPENAPI_PATH: &str = "/admin/openapi.json";

/// Routes `/admin/...` requests; every one must carry the admin token.
pub async fn route(ctx: &Ctx<'_>, req: &Request) -> Result<Response, Error> {
    authorize(ctx, req)?;
    let segments: Vec<&str> = req.path.trim_start_matches('/').split('/').collect();
    use Method::*;
    let response = match (&segments[1..], req.method) {
        (["clients"], Post) => clients::create(ctx, req).await?,
        (["clients"], Get | Head) => clients::list(ctx, req).await?,
        (["clients"], _) => return Err(Error::MethodNotAllowed("GET, POST")),
        (["clients", id], Get | Head) => clients::show(ctx, id).await?,
        (["clients", id], Patch) => clients::update(ctx, id, req).await?,
        (["clients", id], Delete) => clients::delete(ctx, id).await?,
        (["clients", _], _) => return Err(Error::MethodNotAllowed("GET, PATCH, DELETE")),
        (["clients", id, "secrets"], Post) => secrets::add(ctx, id, req).await?,
        (["clients", id, "secrets"], Get | Head) => secrets::list(ctx, id).await?,
        (["clients", _, "secrets"], _) => return Err(Error::MethodNotAllowed("GET, POST")),
        (["clients", id, "secrets", secret_id], Delete) => {
            secrets::delete(ctx, id, secret_id).await?
        }
        (["clients", _, "secrets", _], _) => return Err(Error::MethodNotAllowed("DELETE")),
        (["clients", id, "federated-credentials"], Post) => {
            federated_credentials::add(ctx, id, req).await?
        }
        (["clients", id, "federated-credentials"], Get | Head) => {
            federated_credentials::list(ctx, id).await?
        }
        (["clients", _, "federated-credentials"], _) => {
            return Err(Error::MethodNotAllowed("GET, POST"))
        }
        (["clients", id, "federated-credentials", credential_id], Delete) => {
            federated_credentials::delete(ctx, id, credential_id).await?
        }
        (["clients", _, "federated-credentials", _], _) => {
            return Err(Error::MethodNotAllowed("DELETE"))
        }
        (["clients", id, "unlock"], Post) => clients::unlock(ctx, id).await?,
        (["clients", _, "unlock"], _) => return Err(Error::MethodNotAllowed("POST")),
        (["clients", id, "revoke-tokens"], Post) => clients::revoke_tokens(ctx, id).await?,
        (["clients", _, "revoke-tokens"], _) => return Err(Error::MethodNotAllowed("POST")),
        (["clients", id, "revoked-tokens"], Post) => revocations::add(ctx, id, req).await?,
        (["clients", id, "revoked-tokens"], Get | Head) => revocations::list(ctx, id).await?,
        (["clients", _, "revoked-tokens"], _) => return Err(Error::MethodNotAllowed("GET, POST")),
        (["clients", id, "audit"], Get | Head) => audit::client_events(ctx, id, req).await?,
        (["clients", id, "usage"], Get | Head) => audit::usage(ctx, id).await?,
        (["clients", _, "audit" | "usage"], _) => return Err(Error::MethodNotAllowed("GET")),
        (["resources"], Post) => resources::create(ctx, req).await?,
        (["resources"], Get | Head) => resources::list(ctx, req).await?,
        (["resources"], _) => return Err(Error::MethodNotAllowed("GET, POST")),
        (["resources", id], Get | Head) => resources::show(ctx, id).await?,
        (["resources", id], Patch) => resources::update(ctx, id, req).await?,
        (["resources", id], Delete) => resources::delete(ctx, id).await?,
        (["resources", _], _) => return Err(Error::MethodNotAllowed("GET, PATCH, DELETE")),
        (["keys"], Get | Head) => keys::show(ctx).await?,
        (["keys"], _) => return Err(Error::MethodNotAllowed("GET")),
        (["keys", "rotate"], Post) => keys::change(ctx, None).await?,
        (["keys", kid, "revoke"], Post) => keys::change(ctx, Some(kid)).await?,
        (["keys", "rotate"] | ["keys", _, "revoke"], _) => {
            return Err(Error::MethodNotAllowed("POST"))
        }
        (["limits"], Get | Head) => limits::show(ctx),
        (["audit"], Get | Head) => audit::events(ctx, req).await?,
        (["openapi.json"], Get | Head) => Response::json_asset(OPENAPI_PATH),
        (["limits" | "audit" | "openapi.json"], _) => return Err(Error::MethodNotAllowed("GET")),
        _ => return Err(Error::NotFound("no such admin route".into())),
    };
    Ok(response.with_header("cache-control", "no-store"))
}

/// The admin bearer token must be presented.
fn authorize(ctx: &Ctx<'_>, req: &Request) -> Result<(), Error> {
    match req.authorization("bearer") {
        Some(token) if ctx.config.is_admin_token(token) => Ok(()),
        _ => Err(Error::AdminUnauthorized),
    }
}
