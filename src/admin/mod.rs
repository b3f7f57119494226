//! The admin API, behind the admin bearer token: clients and their secrets, resources, the
//! audit trail and usage, the input limits the admin page checks, and the API's own OpenAPI
//! document (`www/admin/openapi.json`). Every change is audited.

mod audit;
mod clients;
pub mod keys;
mod limits;
mod resources;
mod revocations;
mod secrets;
mod views;

use serde::de::DeserializeOwned;
use serde::Serialize;
use serde_json::json;
use subtle::ConstantTimeEq;

use crate::context::{Actor, Ctx};
use crate::error::Error;
use crate::http::{Method, Request, Response};
use crate::registry::audit::{Action, Subject};
use crate::registry::clients::{ClientId, ClientRecord};
use crate::support::b64::{b64url, b64url_decode};

/// Largest admin request body accepted.
pub const MAX_ADMIN_BODY: usize = 64 * 1024;
/// The admin API's OpenAPI document: where it is served, and where it sits among the static
/// assets (`www/`), which serve that path only through the Worker (`run_worker_first`).
pub const OPENAPI_PATH: &str = "/admin/openapi.json";
const DEFAULT_PAGE: usize = 50;
const MAX_PAGE: usize = 100;

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
        (["keys", "rotate"], Post) => keys::rotate(ctx).await?,
        (["keys", "rotate"], _) => return Err(Error::MethodNotAllowed("POST")),
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

/// Parses a JSON admin body.
fn json_body<T: DeserializeOwned>(req: &Request) -> Result<T, Error> {
    req.json(MAX_ADMIN_BODY)
}

/// A path id parsed by `parse`, or 404 naming `what`.
fn path_id<T>(text: &str, parse: fn(&str) -> Option<T>, what: &str) -> Result<T, Error> {
    parse(text).ok_or_else(|| not_found(what))
}

fn not_found(what: &str) -> Error {
    Error::NotFound(format!("no such {what}").into())
}

/// The stored client named in the path, or 404.
async fn load_client(ctx: &Ctx<'_>, id: &str) -> Result<ClientRecord, Error> {
    let id = path_id(id, ClientId::parse, "client")?;
    ctx.client(&id).await?.ok_or_else(|| not_found("client"))
}

/// Parses `limit` and `cursor` of a listing; answers the store's own cursor.
fn page_params(ctx: &Ctx<'_>, req: &Request) -> Result<(usize, Option<String>), Error> {
    let query = req.query_form()?;
    let limit = match query.get("limit") {
        None => DEFAULT_PAGE,
        Some(l) => l
            .parse::<usize>()
            .ok()
            .filter(|l| (1..=MAX_PAGE).contains(l))
            .ok_or_else(|| Error::invalid_request(format!("limit must be 1 to {MAX_PAGE}")))?,
    };
    let cursor = query
        .get("cursor")
        .map(|c| open_cursor(ctx, c))
        .transpose()?;
    Ok((limit, cursor))
}

/// One page of a listing: `{<name>: items, "next_cursor": ...}`.
fn listing(ctx: &Ctx<'_>, name: &str, items: impl Serialize, next: Option<&str>) -> Response {
    let next = next.map(|c| seal_cursor(ctx, c));
    Response::json(200, &json!({ name: items, "next_cursor": next }))
}

const CURSOR_LABEL: &str = "pagination cursor";

/// The store's cursor, sealed with a MAC: a cursor that comes back tampered is refused here
/// (400) instead of reaching the store, whose answer to one is an error (or, in some runtimes,
/// an arbitrary page).
fn seal_cursor(ctx: &Ctx<'_>, cursor: &str) -> String {
    let tag = ctx.config.pepper.tag(CURSOR_LABEL, cursor.as_bytes());
    format!("{}.{}", b64url(cursor), b64url(&tag[..16]))
}

fn open_cursor(ctx: &Ctx<'_>, sealed: &str) -> Result<String, Error> {
    let invalid = || Error::invalid_request("invalid cursor");
    let (data, tag) = sealed.split_once('.').ok_or_else(invalid)?;
    let cursor = b64url_decode(data).ok_or_else(invalid)?;
    let tag = b64url_decode(tag).ok_or_else(invalid)?;
    let expected = ctx.config.pepper.tag(CURSOR_LABEL, &cursor);
    if !bool::from(expected[..16].ct_eq(&tag)) {
        return Err(invalid());
    }
    String::from_utf8(cursor).map_err(|_| invalid())
}

/// Records an admin change and answers `response`. The change has already been made, so an
/// audit failure leaves the answer a success and goes to the Worker log instead.
async fn audited(
    ctx: &Ctx<'_>,
    action: Action,
    subject: Subject<'_>,
    detail: String,
    mut response: Response,
) -> Response {
    if let Err(e) = ctx.audit(Actor::Admin, action, subject, detail).await {
        response.log = Some(format!("audit event not recorded: {e:?}"));
    }
    response
}

/// "changed a, b" (or "changed nothing") for the audit trail: field names, never values.
fn changed(fields: &[&str]) -> String {
    match fields {
        [] => "changed nothing".to_string(),
        _ => format!("changed {}", fields.join(", ")),
    }
}
