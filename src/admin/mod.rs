//! The admin API, for the callers `oauth::admins` authenticates, each route needing one
//! permission (issue 26): clients with their secrets, federated credentials and
//! certificates, resources, the audit trail and usage, the input limits the admin page checks,
//! and the API's own OpenAPI document (`www/admin/openapi.json`). Every change is audited.

mod audit;
mod certificates;
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
use crate::registry::admins::{
    is_admin_resource, Permission, Permissions, Principal, Role, PERMISSIONS,
};
use crate::registry::clients::ClientId;
use crate::support::LocalFuture;

pub use shared::MAX_ADMIN_BODY;

/// The admin API's OpenAPI document: where it is served, and where it sits among the static
/// assets (`www/`), which serve that path only through the Worker (`run_worker_first`).
pub const OPENAPI_PATH: &str = "/admin/openapi.json";

/// An admin route answered by another module (`oauth`, which checks tokens), handed in by
/// the router so that its permission is declared in the one table below.
pub type Delegated =
    for<'a, 'c> fn(&'a Ctx<'c>, &'a Request) -> LocalFuture<'a, Result<Response, Error>>;

/// The routes the router hands in: admin introspection and revocation of one token.
pub struct TokenRoutes {
    /// `POST /admin/tokens/introspect`.
    pub introspect: Delegated,
    /// `POST /admin/tokens/revoke`.
    pub revoke: Delegated,
}

/// Routes `/admin/...` requests of the caller `who` (authenticated by the router). Each row
/// declares the permission it needs (`need(...)`) before anything else happens; a wrong
/// method is 405 whoever asks.
pub async fn route(
    ctx: &Ctx<'_>,
    req: &Request,
    who: &Principal,
    tokens: &TokenRoutes,
) -> Result<Response, Error> {
    let segments: Vec<&str> = req.path.trim_start_matches('/').split('/').collect();
    let need = |p: Permission| need(who, p, req);
    use Method::*;
    use Permission::*;
    if let ["clients", id, rest @ ..] = &segments[1..] {
        let revoking = matches!(rest, ["revoke-tokens" | "revoked-tokens"]);
        // Every other change to a client needs clients:write: without it the row refuses
        // anyway, and the client is not read, so its 403 cannot tell what the client holds.
        if !matches!(req.method, Get | Head) && !revoking && who.permissions.has(ClientsWrite) {
            stronger_client(ctx, who, id).await?;
        }
    }
    let response = match (&segments[1..], req.method) {
        (["clients"], Post) => {
            need(ClientsWrite)?;
            clients::create(ctx, req).await?
        }
        (["clients"], Get | Head) => {
            need(ClientsRead)?;
            clients::list(ctx, req).await?
        }
        (["clients"], _) => return Err(Error::MethodNotAllowed("GET, POST")),
        (["clients", id], Get | Head) => {
            need(ClientsRead)?;
            clients::show(ctx, id).await?
        }
        (["clients", id], Patch) => {
            need(ClientsWrite)?;
            clients::update(ctx, id, req).await?
        }
        (["clients", id], Delete) => {
            need(ClientsWrite)?;
            clients::delete(ctx, id).await?
        }
        (["clients", _], _) => return Err(Error::MethodNotAllowed("GET, PATCH, DELETE")),
        (["clients", id, "secrets"], Post) => {
            need(ClientsWrite)?;
            secrets::add(ctx, id, req).await?
        }
        (["clients", id, "secrets"], Get | Head) => {
            need(ClientsRead)?;
            secrets::list(ctx, id).await?
        }
        (["clients", _, "secrets"], _) => return Err(Error::MethodNotAllowed("GET, POST")),
        (["clients", id, "secrets", secret_id], Delete) => {
            need(ClientsWrite)?;
            secrets::delete(ctx, id, secret_id).await?
        }
        (["clients", _, "secrets", _], _) => return Err(Error::MethodNotAllowed("DELETE")),
        (["clients", id, "federated-credentials"], Post) => {
            need(ClientsWrite)?;
            federated_credentials::add(ctx, id, req).await?
        }
        (["clients", id, "federated-credentials"], Get | Head) => {
            need(ClientsRead)?;
            federated_credentials::list(ctx, id).await?
        }
        (["clients", _, "federated-credentials"], _) => {
            return Err(Error::MethodNotAllowed("GET, POST"))
        }
        (["clients", id, "federated-credentials", credential_id], Delete) => {
            need(ClientsWrite)?;
            federated_credentials::delete(ctx, id, credential_id).await?
        }
        (["clients", _, "federated-credentials", _], _) => {
            return Err(Error::MethodNotAllowed("DELETE"))
        }
        (["clients", id, "certificates"], Post) => {
            need(ClientsWrite)?;
            certificates::handle(ctx, id, req, None).await?
        }
        (["clients", id, "certificates"], Get | Head) => {
            need(ClientsRead)?;
            certificates::handle(ctx, id, req, None).await?
        }
        (["clients", _, "certificates"], _) => return Err(Error::MethodNotAllowed("GET, POST")),
        (["clients", id, "certificates", fingerprint], Delete) => {
            need(ClientsWrite)?;
            certificates::handle(ctx, id, req, Some(fingerprint)).await?
        }
        (["clients", _, "certificates", _], _) => return Err(Error::MethodNotAllowed("DELETE")),
        (["clients", id, "unlock"], Post) => {
            need(ClientsWrite)?;
            clients::unlock(ctx, id).await?
        }
        (["clients", _, "unlock"], _) => return Err(Error::MethodNotAllowed("POST")),
        (["clients", id, "revoke-tokens"], Post) => {
            need(TokensRevoke)?;
            clients::revoke_tokens(ctx, id).await?
        }
        (["clients", _, "revoke-tokens"], _) => return Err(Error::MethodNotAllowed("POST")),
        (["clients", id, "revoked-tokens"], Post) => {
            need(TokensRevoke)?;
            revocations::add(ctx, id, req).await?
        }
        (["clients", id, "revoked-tokens"], Get | Head) => {
            need(ClientsRead)?;
            revocations::list(ctx, id).await?
        }
        (["clients", _, "revoked-tokens"], _) => return Err(Error::MethodNotAllowed("GET, POST")),
        (["clients", id, "audit"], Get | Head) => {
            need(ClientsRead)?;
            audit::client_events(ctx, id, req).await?
        }
        (["clients", id, "usage"], Get | Head) => {
            need(ClientsRead)?;
            audit::usage(ctx, id).await?
        }
        (["clients", _, "audit" | "usage"], _) => return Err(Error::MethodNotAllowed("GET")),
        (["resources"], Post) => {
            need(ResourcesWrite)?;
            resources::create(ctx, req).await?
        }
        (["resources"], Get | Head) => {
            need(ClientsRead)?;
            resources::list(ctx, req).await?
        }
        (["resources"], _) => return Err(Error::MethodNotAllowed("GET, POST")),
        (["resources", id], Get | Head) => {
            need(ClientsRead)?;
            resources::show(ctx, id, req).await?
        }
        (["resources", id], Patch) => {
            need(ResourcesWrite)?;
            resources::update(ctx, id, req).await?
        }
        (["resources", id], Delete) => {
            need(ResourcesWrite)?;
            resources::delete(ctx, id).await?
        }
        (["resources", _], _) => return Err(Error::MethodNotAllowed("GET, PATCH, DELETE")),
        (["keys"], Get | Head) => {
            need(ClientsRead)?;
            keys::show(ctx).await?
        }
        (["keys"], _) => return Err(Error::MethodNotAllowed("GET")),
        (["keys", "rotate"], Post) => {
            need(KeysWrite)?;
            keys::change(ctx, None).await?
        }
        (["keys", kid, "revoke"], Post) => {
            need(KeysWrite)?;
            keys::change(ctx, Some(kid)).await?
        }
        (["keys", "rotate"] | ["keys", _, "revoke"], _) => {
            return Err(Error::MethodNotAllowed("POST"))
        }
        (["tokens", "introspect"], Post) => {
            need(TokensRevoke)?;
            (tokens.introspect)(ctx, req).await?
        }
        (["tokens", "revoke"], Post) => {
            need(TokensRevoke)?;
            (tokens.revoke)(ctx, req).await?
        }
        (["tokens", "introspect" | "revoke"], _) => return Err(Error::MethodNotAllowed("POST")),
        (["limits"], Get | Head) => {
            need(ClientsRead)?;
            limits::show(ctx)
        }
        (["audit"], Get | Head) => {
            need(ClientsRead)?;
            audit::events(ctx, req).await?
        }
        (["openapi.json"], Get | Head) => {
            need(ClientsRead)?;
            Response::json_asset(OPENAPI_PATH)
        }
        // Anyone signed in may ask who they are.
        (["me"], Get | Head) => me(who),
        (["limits" | "audit" | "openapi.json" | "me"], _) => {
            return Err(Error::MethodNotAllowed("GET"))
        }
        _ => return Err(Error::NotFound("no such admin route".into())),
    };
    Ok(response.with_header("cache-control", "no-store"))
}

/// Refuses (403) unless `who` holds `p`, naming the call as `POST /admin/keys/rotate`. Out of
/// line: every row calls it.
#[inline(never)]
fn need(who: &Principal, p: Permission, req: &Request) -> Result<(), Error> {
    match who.permissions.has(p) {
        true => Ok(()),
        false => who.require(p, &format!("{} {}", req.method.as_str(), req.path)),
    }
}

/// A change to a client whose grant of the admin resource carries a permission the caller lacks
/// is refused (403): else an operator could add a secret to an admin's management client and
/// act as it. Revoking its tokens stays open to whoever may revoke.
async fn stronger_client(ctx: &Ctx<'_>, who: &Principal, id: &str) -> Result<(), Error> {
    if who.permissions == Permissions::ALL {
        return Ok(());
    }
    let Some(id) = ClientId::parse(id) else {
        return Ok(());
    };
    let Some(record) = ctx.client(&id).await? else {
        return Ok(());
    };
    let held = record.client.grants.registered();
    for grant in held.filter(|g| is_admin_resource(&g.resource_id)) {
        let needs = Permissions::from_scope(&grant.scope.to_string());
        for p in PERMISSIONS.into_iter().filter(|p| needs.has(*p)) {
            who.require(p, "change a client that holds admin:* scopes")?;
        }
    }
    Ok(())
}

/// `GET /admin/me`: who the caller is, how they signed in, and what they may do.
fn me(who: &Principal) -> Response {
    #[derive(serde::Serialize)]
    struct Me<'a> {
        actor: &'a str,
        via: &'static str,
        role: Option<&'static str>,
        permissions: Vec<&'static str>,
    }
    Response::json(
        200,
        &Me {
            actor: &who.actor,
            via: who.via.name(),
            role: who.role.map(Role::name),
            permissions: who.permissions.names(),
        },
    )
}
