//! The admin API: clients and their secrets, behind a bearer admin token. Resources, the
//! audit trail and usage are in [`crate::admin_governance`]. Every change is audited.

use serde::de::DeserializeOwned;
use serde::Serialize;
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

use crate::activity::merge_last_used;
use crate::admin_governance as governance;
use crate::app::App;
use crate::audit::{self, Action};
use crate::clients::{
    AuthMethod, ClientId, ClientInput, ClientRecord, ClientView, GrantInput, ResourceGrant,
};
use crate::encoding::Form;
use crate::error::Error;
use crate::http::{Method, Request, Response};
use crate::lockout::GuardOp;
use crate::platform::{ClientStore, Clock, Random};
use crate::secrets::{NewSecret, SecretInput};

/// Largest admin request body accepted.
pub const MAX_ADMIN_BODY: usize = 64 * 1024;
const DEFAULT_PAGE: usize = 50;
const MAX_PAGE: usize = 100;
const CHANGED: &str = "the client changed since you read it";

/// Routes `/admin/...` requests; every one must carry the admin token.
pub async fn route<S: ClientStore, C: Clock, R: Random>(
    app: &App<'_, S, C, R>,
    req: &Request,
) -> Result<Response, Error> {
    authorize(app, req)?;
    let segments: Vec<&str> = req.path.trim_start_matches('/').split('/').collect();
    use Method::*;
    let response = match (segments.as_slice(), req.method) {
        (["admin", "clients"], Post) => create_client(app, req).await?,
        (["admin", "clients"], Get | Head) => list_clients(app, req).await?,
        (["admin", "clients"], _) => return Err(Error::MethodNotAllowed(&[Get, Post])),
        (["admin", "clients", id], Get | Head) => {
            let record = load_for_view(app, id).await?;
            let guard = app.guard(&record.client.client_id, GuardOp::Read).await?;
            Response::json(200, &record.guarded_view(&guard, app.clock.now()))
        }
        (["admin", "clients", id], Patch) => update_client(app, id, req).await?,
        (["admin", "clients", id], Delete) => {
            let record = load(app, id).await?;
            let client_id = &record.client.client_id;
            app.delete_client(client_id).await?;
            // Other locations may still read the record from KV for a while: the guard refuses it.
            app.guard(client_id, GuardOp::Delete).await?;
            // Best effort: a leftover last-use key is harmless, the client is gone.
            let _ = app.store.forget_last_used(client_id, None).await;
            let detail = format!("client '{}' deleted", record.client.client_name);
            let result =
                audit::record(app, Action::ClientDeleted, Some(client_id), None, detail).await;
            audit::note_failure(Response::empty(204), result)
        }
        (["admin", "clients", _], _) => return Err(Error::MethodNotAllowed(&[Get, Patch, Delete])),
        (["admin", "clients", id, "secrets"], Post) => add_secret(app, id, req).await?,
        (["admin", "clients", id, "secrets"], Get | Head) => {
            let record = load_for_view(app, id).await?;
            let secrets: Vec<_> = record.secrets.iter().map(|s| &s.meta).collect();
            Response::json(200, &serde_json::json!({ "secrets": secrets }))
        }
        (["admin", "clients", _, "secrets"], _) => {
            return Err(Error::MethodNotAllowed(&[Get, Post]))
        }
        (["admin", "clients", id, "secrets", secret_id], Delete) => {
            let mut record = load(app, id).await?;
            let before = record.secrets.len();
            record.secrets.retain(|s| s.meta.secret_id != *secret_id);
            if record.secrets.len() == before {
                return Err(Error::NotFound("no such secret".into()));
            }
            record.client.updated_at = app.clock.now();
            app.save_client(&mut record).await?;
            let client_id = &record.client.client_id;
            let revoke = GuardOp::Revoke {
                secret_id: secret_id.to_string(),
            };
            app.guard(client_id, revoke).await?;
            let _ = app.store.forget_last_used(client_id, Some(secret_id)).await;
            let detail = format!("secret {secret_id} removed");
            let result =
                audit::record(app, Action::SecretDeleted, Some(client_id), None, detail).await;
            audit::note_failure(Response::empty(204), result)
        }
        (["admin", "clients", _, "secrets", _], _) => {
            return Err(Error::MethodNotAllowed(&[Delete]))
        }
        (["admin", "clients", id, "unlock"], Post) => {
            let record = load_for_view(app, id).await?;
            let client_id = &record.client.client_id;
            let before = app.guard(client_id, GuardOp::Read).await?;
            let guard = app.guard(client_id, GuardOp::Unlock).await?;
            let detail = match before.locked(app.clock.now()) {
                Some(_) => format!("unlocked after {} failed authentications", before.failures),
                None => "unlock requested; the client was not locked".to_string(),
            };
            let result =
                audit::record(app, Action::ClientUnlocked, Some(client_id), None, detail).await;
            let view = record.guarded_view(&guard, app.clock.now());
            audit::note_failure(Response::json(200, &view), result)
        }
        (["admin", "clients", _, "unlock"], _) => return Err(Error::MethodNotAllowed(&[Post])),
        (["admin", "clients", id, "audit"], Get | Head) => {
            governance::client_audit(app, id, req).await?
        }
        (["admin", "clients", _, "audit"], _) => return Err(Error::MethodNotAllowed(&[Get])),
        (["admin", "clients", id, "usage"], Get | Head) => governance::usage(app, id).await?,
        (["admin", "clients", _, "usage"], _) => return Err(Error::MethodNotAllowed(&[Get])),
        (["admin", "resources", ..], _) => governance::route_resources(app, &segments, req).await?,
        (["admin", "limits"], Get | Head) => limits(app),
        (["admin", "limits"], _) => return Err(Error::MethodNotAllowed(&[Get])),
        (["admin", "audit"], Get | Head) => governance::audit(app, req).await?,
        (["admin", "audit"], _) => return Err(Error::MethodNotAllowed(&[Get])),
        _ => return Err(Error::NotFound("no such admin route".into())),
    };
    Ok(response.with_header("cache-control", "no-store"))
}

/// Constant-time check of the bearer token; hashing first hides the configured length too.
fn authorize<S, C, R>(app: &App<'_, S, C, R>, req: &Request) -> Result<(), Error> {
    let presented = req
        .header("authorization")
        .and_then(|h| h.split_once(' '))
        .filter(|(scheme, _)| scheme.eq_ignore_ascii_case("bearer"))
        .map(|(_, token)| token.trim())
        .ok_or(Error::AdminUnauthorized)?;
    let a = Sha256::digest(presented.as_bytes());
    let b = Sha256::digest(app.config.admin_token.as_bytes());
    if bool::from(a.ct_eq(&b)) {
        Ok(())
    } else {
        Err(Error::AdminUnauthorized)
    }
}

/// Parses a JSON admin body.
pub(crate) fn json_body<T: DeserializeOwned>(req: &Request) -> Result<T, Error> {
    if req.media_type().as_deref() != Some("application/json") {
        return Err(Error::invalid_request(
            "the content type must be application/json",
        ));
    }
    if req.body.len() > MAX_ADMIN_BODY {
        return Err(Error::invalid_request(format!(
            "the request body is larger than {MAX_ADMIN_BODY} bytes"
        )));
    }
    serde_json::from_slice(&req.body)
        .map_err(|e| Error::invalid_request(format!("invalid JSON body: {e}")))
}

async fn load<S: ClientStore, C: Clock, R: Random>(
    app: &App<'_, S, C, R>,
    id: &str,
) -> Result<ClientRecord, Error> {
    let not_found = || Error::NotFound("no such client".into());
    let id = ClientId::parse(id).ok_or_else(not_found)?;
    app.store.get(&id).await?.ok_or_else(not_found)
}

/// A client with its secrets' last uses merged in, for showing.
async fn load_for_view<S: ClientStore, C: Clock, R: Random>(
    app: &App<'_, S, C, R>,
    id: &str,
) -> Result<ClientRecord, Error> {
    let mut record = load(app, id).await?;
    with_last_used(app, &mut record).await?;
    Ok(record)
}

async fn with_last_used<S: ClientStore, C: Clock, R: Random>(
    app: &App<'_, S, C, R>,
    record: &mut ClientRecord,
) -> Result<(), Error> {
    let used = app.store.last_used(&record.client.client_id).await?;
    merge_last_used(record, &used);
    Ok(())
}

/// Checks grant input against the registered resources (422 for an unknown resource or a
/// scope it does not have).
async fn resolve_grants<S: ClientStore, C: Clock, R: Random>(
    app: &App<'_, S, C, R>,
    inputs: Vec<GrantInput>,
) -> Result<Vec<ResourceGrant>, Error> {
    crate::resources::resolve_grants(inputs, |identifier| async move {
        match app.store.resource_id_for(&identifier).await? {
            None => Ok(None),
            Some(id) => app.store.get_resource(&id).await,
        }
    })
    .await
}

/// Parses `limit` and `cursor` of a listing.
pub(crate) fn page_params(req: &Request) -> Result<(usize, Option<String>), Error> {
    let query = Form::parse(req.query.as_bytes(), &[])?;
    let limit = match query.get("limit") {
        None => DEFAULT_PAGE,
        Some(l) => l
            .parse::<usize>()
            .ok()
            .filter(|l| (1..=MAX_PAGE).contains(l))
            .ok_or_else(|| Error::invalid_request(format!("limit must be 1 to {MAX_PAGE}")))?,
    };
    // Cursors are the store's own opaque strings; only their shape is checked here.
    let cursor = query.get("cursor");
    if cursor.is_some_and(|c| c.len() > 2048 || !c.bytes().all(|b| b.is_ascii_graphic())) {
        return Err(Error::invalid_request("invalid cursor"));
    }
    Ok((limit, cursor.map(str::to_string)))
}

#[derive(Serialize)]
struct Created<'a> {
    client: ClientView<'a>,
    #[serde(skip_serializing_if = "Option::is_none")]
    secret: Option<NewSecret>,
}

async fn create_client<S: ClientStore, C: Clock, R: Random>(
    app: &App<'_, S, C, R>,
    req: &Request,
) -> Result<Response, Error> {
    let mut input: ClientInput = json_body(req)?;
    if input.version.is_some() {
        return Err(Error::invalid_request("version is only for updates"));
    }
    let input_had_secret = input.secret.is_some();
    let secret_input = input.secret.take().unwrap_or_default();
    let fields = input.field_names().join(", ");
    let grants = match input.grants.take() {
        Some(g) => resolve_grants(app, g).await?,
        None => Vec::new(),
    };
    let now = app.clock.now();
    let mut client = input.create(ClientId::generate(app.rng)?, now)?;
    client.grants = grants;
    let method = client.token_endpoint_auth_method;
    let (secrets, secret) = if method.uses_secrets() {
        let (stored, new) = secret_input.issue(
            client.client_id.as_str(),
            &client.all_scopes(),
            method == AuthMethod::ClientSecretJwt,
            (&app.config.pepper, &app.config.secret_policy),
            app.rng,
            now,
        )?;
        (vec![stored], Some(new))
    } else if input_had_secret {
        return Err(Error::invalid_metadata(
            "private_key_jwt clients have no secrets",
        ));
    } else {
        (Vec::new(), None)
    };
    let mut record = ClientRecord { client, secrets };
    app.save_client(&mut record).await?;
    let client_id = &record.client.client_id;
    let detail = match record.secrets.first() {
        Some(s) => format!("created with {fields}; secret {} added", s.meta.secret_id),
        None => format!("created with {fields}"),
    };
    let result = audit::record(app, Action::ClientCreated, Some(client_id), None, detail).await;
    let response = Response::json(
        201,
        &Created {
            client: record.view(),
            secret,
        },
    );
    Ok(audit::note_failure(response, result))
}

async fn list_clients<S: ClientStore, C: Clock, R: Random>(
    app: &App<'_, S, C, R>,
    req: &Request,
) -> Result<Response, Error> {
    let (limit, cursor) = page_params(req)?;
    // Listings show stored last uses only; one client's read merges the background ones.
    let page = app.store.list(cursor.as_deref(), limit).await?;
    // One guard read per client, in parallel: admin listings are rare and at most 100 long.
    let reads = page.clients.iter().map(|c| {
        app.coordinator
            .guard(&c.client.client_id, GuardOp::Read, app.clock.now())
    });
    let guards = futures_util::future::join_all(reads).await;
    let now = app.clock.now();
    let mut clients: Vec<ClientView<'_>> = Vec::with_capacity(page.clients.len());
    for (record, guard) in page.clients.iter().zip(guards) {
        clients.push(record.guarded_view(&guard?, now));
    }
    Ok(Response::json(
        200,
        &serde_json::json!({ "clients": clients, "next_cursor": page.next_cursor }),
    ))
}

async fn update_client<S: ClientStore, C: Clock, R: Random>(
    app: &App<'_, S, C, R>,
    id: &str,
    req: &Request,
) -> Result<Response, Error> {
    let mut input: ClientInput = json_body(req)?;
    if input.secret.is_some() {
        return Err(Error::invalid_request(
            "secrets are added with POST /admin/clients/{client_id}/secrets",
        ));
    }
    let mut record = load(app, id).await?;
    if input
        .version
        .take()
        .is_some_and(|v| v != record.client.version)
    {
        return Err(Error::Conflict(CHANGED.into()));
    }
    let fields = input.field_names().join(", ");
    let grants = match input.grants.take() {
        Some(g) => Some(resolve_grants(app, g).await?),
        None => None,
    };
    let enabled = input.enabled;
    input.apply(&mut record.client, app.clock.now())?;
    if let Some(g) = grants {
        record.client.grants = g;
    }
    app.save_client(&mut record).await?;
    let client_id = record.client.client_id.clone();
    // A disable must bite everywhere within the cache TTL, not after KV propagation.
    let guard = match enabled {
        Some(enabled) => app.guard(&client_id, GuardOp::Enable { enabled }).await?,
        None => app.guard(&client_id, GuardOp::Read).await?,
    };
    let detail = format!(
        "changed {}",
        if fields.is_empty() {
            "nothing"
        } else {
            &fields
        }
    );
    let result = audit::record(app, Action::ClientUpdated, Some(&client_id), None, detail).await;
    with_last_used(app, &mut record).await?;
    Ok(audit::note_failure(
        Response::json(200, &record.guarded_view(&guard, app.clock.now())),
        result,
    ))
}

async fn add_secret<S: ClientStore, C: Clock, R: Random>(
    app: &App<'_, S, C, R>,
    id: &str,
    req: &Request,
) -> Result<Response, Error> {
    let input: SecretInput = json_body(req)?;
    let mut record = load(app, id).await?;
    let method = record.client.token_endpoint_auth_method;
    if !method.uses_secrets() {
        return Err(Error::Conflict(
            "private_key_jwt clients authenticate with keys, not secrets".into(),
        ));
    }
    let max = app.config.secret_policy.max_per_client;
    if record.secrets.len() >= max {
        return Err(Error::Conflict(
            format!("a client may hold at most {max} secrets; delete one first").into(),
        ));
    }
    let now = app.clock.now();
    let (stored, secret) = input.issue(
        record.client.client_id.as_str(),
        &record.client.all_scopes(),
        method == AuthMethod::ClientSecretJwt,
        (&app.config.pepper, &app.config.secret_policy),
        app.rng,
        now,
    )?;
    let detail = format!("secret {} added", stored.meta.secret_id);
    record.secrets.push(stored);
    record.client.updated_at = now;
    app.save_client(&mut record).await?;
    let client_id = &record.client.client_id;
    let result = audit::record(app, Action::SecretCreated, Some(client_id), None, detail).await;
    Ok(audit::note_failure(Response::json(201, &secret), result))
}

/// `GET /admin/limits`: the input rules the admin page checks before sending, taken from the
/// server's own constants and settings so the page never copies them.
fn limits<S, C, R>(app: &App<'_, S, C, R>) -> Response {
    use crate::{clients, jose, resources, scope, secrets};
    let policy = &app.config.secret_policy;
    Response::json(
        200,
        &serde_json::json!({
            "client": {
                "name_max": clients::MAX_NAME,
                "description_max": clients::MAX_DESCRIPTION,
                "resources_max": clients::MAX_RESOURCES,
                "resource_max": clients::MAX_RESOURCE_LEN,
                "grants_max": resources::MAX_GRANTS,
                "keys_max": jose::MAX_KEYS,
            },
            "access_token_lifetime": {
                "min": clients::MIN_LIFETIME,
                "max": clients::MAX_LIFETIME,
                "default": clients::DEFAULT_LIFETIME,
            },
            "scope": {
                "tokens_max": scope::MAX_TOKENS,
                "token_max": scope::MAX_TOKEN_LEN,
                "token_pattern": scope::TOKEN_PATTERN,
            },
            "secret": {
                "per_client": policy.max_per_client,
                "description_max": secrets::MAX_DESCRIPTION,
                "default_lifetime_days": policy.max_lifetime.map_or(secrets::DEFAULT_SECRET_LIFETIME, |m| m.min(secrets::DEFAULT_SECRET_LIFETIME)) / 86_400,
                "max_lifetime_days": policy.max_lifetime.map(|m| m / 86_400),
                "allow_never": policy.allow_never && policy.max_lifetime.is_none(),
            },
            "resource": {
                "identifier_max": resources::MAX_IDENTIFIER,
                "name_max": resources::MAX_NAME,
                "scopes_max": resources::MAX_RESOURCE_SCOPES,
                "scope_description_max": resources::MAX_SCOPE_DESCRIPTION,
            },
        }),
    )
}
