//! `/admin/clients[/{client_id}[/unlock]]`: register, list, show, change, delete and unlock
//! clients.

use serde::Serialize;

use crate::admin::shared::{audited, changed, json_body, listing, load_client, page_params};
use crate::admin::views::{self, ClientView};
use crate::context::Ctx;
use crate::error::Error;
use crate::http::{Request, Response};
use crate::registry::admins::{
    admin_resource, is_admin_resource, widens, Permission, ADMIN_RESOURCE_PATH,
};
use crate::registry::audit::{Action, Subject};
use crate::registry::client_input::ClientInput;
use crate::registry::clients::{AuthMethod, ClientId, ClientRecord};
use crate::registry::guard::GuardOp;
use crate::registry::resources::{self, GrantInput, ResourceGrant};
use crate::registry::secrets::NewSecret;

const CHANGED: &str = "the client changed since you read it";

#[derive(Serialize)]
struct Created<'a> {
    client: ClientView<'a>,
    #[serde(skip_serializing_if = "Option::is_none")]
    secret: Option<NewSecret>,
}

/// `POST /admin/clients`.
pub async fn create(ctx: &Ctx<'_>, req: &Request) -> Result<Response, Error> {
    let mut input: ClientInput = json_body(req)?;
    if input.version.is_some() {
        return Err(Error::invalid_request("version is only for updates"));
    }
    let input_had_secret = input.secret.is_some();
    let secret_input = input.secret.take().unwrap_or_default();
    let fields = input.field_names().join(", ");
    let grants = match input.grants.take() {
        Some(g) => resolve_grants(ctx, req, g, None).await?,
        None => Vec::new(),
    };
    let mut client = input.create(ClientId::generate(ctx.ports.rng)?, ctx.now())?;
    client.grants.set_registered(grants);
    let (secrets, secret) = if client.token_endpoint_auth_method.uses_secrets() {
        let (stored, new) = crate::admin::secrets::issue(ctx, &client, secret_input)?;
        (vec![stored], Some(new))
    } else if input_had_secret {
        return Err(Error::invalid_metadata(
            "only client_secret_* clients take a secret",
        ));
    } else {
        (Vec::new(), None)
    };
    let mut record = ClientRecord {
        client,
        secrets,
        federated_credentials: Vec::new(),
        certificates: Vec::new(),
    };
    ctx.save_client(&mut record).await?;
    let detail = match record.secrets.first() {
        Some(s) => format!("created with {fields}; secret {} added", s.meta.secret_id),
        None => format!("created with {fields}"),
    };
    let client = views::unguarded(&record);
    let response = Response::json(201, &Created { client, secret });
    let subject = Subject::client(&record.client.client_id);
    Ok(audited(ctx, Action::ClientCreated, subject, detail, response).await)
}

/// `GET /admin/clients`: one page, each client with its guard's lock state. Listings show
/// stored last uses only; one client's read merges the background ones.
pub async fn list(ctx: &Ctx<'_>, req: &Request) -> Result<Response, Error> {
    let (limit, cursor) = page_params(ctx, req)?;
    let page = ctx.ports.clients.list(cursor.as_deref(), limit).await?;
    // One guard read per client, in parallel: admin listings are rare and at most 100 long.
    let reads = page
        .items
        .iter()
        .map(|c| ctx.guard(&c.client.client_id, GuardOp::Read));
    let guards = crate::support::join_all(reads).await;
    let mut clients: Vec<ClientView<'_>> = Vec::with_capacity(page.items.len());
    for (record, guard) in page.items.iter().zip(guards) {
        clients.push(views::client(record, &[], &guard?, ctx.now()));
    }
    let next = page.next_cursor.as_deref();
    Ok(listing(ctx, "clients", &clients, next))
}

/// `GET /admin/clients/{id}`.
pub async fn show(ctx: &Ctx<'_>, id: &str) -> Result<Response, Error> {
    let (record, used) = views::with_last_used(ctx, load_client(ctx, id).await?).await?;
    let guard = ctx.guard(&record.client.client_id, GuardOp::Read).await?;
    Ok(Response::json(
        200,
        &views::client(&record, &used, &guard, ctx.now()),
    ))
}

/// `PATCH /admin/clients/{id}`: the given fields only, optionally based on a `version`.
pub async fn update(ctx: &Ctx<'_>, id: &str, req: &Request) -> Result<Response, Error> {
    let mut input: ClientInput = json_body(req)?;
    if input.secret.is_some() {
        return Err(Error::invalid_request(
            "secrets are added with POST /admin/clients/{client_id}/secrets",
        ));
    }
    let mut record = load_client(ctx, id).await?;
    if input
        .version
        .take()
        .is_some_and(|v| v != record.client.version)
    {
        return Err(Error::Conflict(CHANGED.into()));
    }
    let fields = input.field_names();
    let grants = match input.grants.take() {
        Some(g) => Some(resolve_grants(ctx, req, g, Some(&record)).await?),
        None => None,
    };
    let enabled = input.enabled;
    let keys_before = record.client.key_names();
    let keys_given =
        input.jwks.is_some() || input.jwks_uri.is_some() || input.public_key_pem.is_some();
    input.apply(&mut record.client, ctx.now())?;
    if record.client.token_endpoint_auth_method != AuthMethod::PrivateKeyJwt
        && !record.federated_credentials.is_empty()
    {
        // Kept dormant, they would come back to life with a later switch back.
        return Err(Error::Conflict(
            "federated credentials are only for private_key_jwt clients; delete them before changing token_endpoint_auth_method".into(),
        ));
    }
    if record.client.token_endpoint_auth_method != AuthMethod::SelfSignedTlsClientAuth
        && !record.certificates.is_empty()
    {
        // As federated credentials: kept dormant, they would work again after a switch back.
        return Err(Error::Conflict(
            "delete the client's certificates before changing token_endpoint_auth_method".into(),
        ));
    }
    if let Some(g) = grants {
        record.client.grants.set_registered(g);
    }
    let client_id = record.client.client_id.clone();
    // Every step that can fail comes before the write, so a 503 leaves the record (and its
    // version) as it was and a retry passes. A disable or a key removal must bite everywhere
    // within the cache TTL, not after KV propagation, so the guard hears it first: should the
    // write then fail, the client is refused until the retry, failing closed as asked.
    let current = record.client.key_names();
    // Keys given are sent even when unchanged from what this read says: the read may be
    // stale, and the guard must learn that they are current (a key put back works again).
    let keys_changed = keys_given
        || keys_before.len() != current.len()
        || keys_before.iter().any(|k| !current.contains(k));
    let removed: Vec<String> = keys_before
        .into_iter()
        .filter(|k| !current.contains(k))
        .collect();
    let mut guard = None;
    if let Some(enabled) = enabled {
        guard = Some(ctx.guard(&client_id, GuardOp::Enable { enabled }).await?);
    }
    if keys_changed {
        let op = GuardOp::Keys { removed, current };
        guard = Some(ctx.guard(&client_id, op).await?);
    }
    let guard = match guard {
        Some(g) => g,
        None => ctx.guard(&client_id, GuardOp::Read).await?,
    };
    let used = ctx.ports.activity.last_used(&client_id).await?;
    ctx.save_client(&mut record).await?;
    let subject = Subject::client(&client_id);
    let detail = changed(&fields);
    let record = views::merge_last_used(record, &used);
    let response = Response::json(200, &views::client(&record, &used, &guard, ctx.now()));
    Ok(audited(ctx, Action::ClientUpdated, subject, detail, response).await)
}

/// `DELETE /admin/clients/{id}`. Deleting the provider of a resource is refused (409, naming
/// how many), as deleting a granted resource is, so a resource never names a missing client.
pub async fn delete(ctx: &Ctx<'_>, id: &str) -> Result<Response, Error> {
    let record = load_client(ctx, id).await?;
    let client_id = &record.client.client_id;
    let provided = crate::admin::resources::provided_by(ctx, client_id).await?;
    if provided > 0 {
        let plural = if provided == 1 { "" } else { "s" };
        return Err(Error::Conflict(
            format!("the client provides {provided} resource{plural}; clear their provider_client_id first")
                .into(),
        ));
    }
    // Other locations may still read the record from KV for a while: the guard refuses it.
    // The guard hears it first: were the record deleted first and the guard call then
    // failed, the retry would find no client (404) and the guard would never be told.
    ctx.guard(client_id, GuardOp::Delete).await?;
    ctx.delete_client(client_id).await?;
    // Best effort: a leftover last-use key is harmless, the client is gone.
    let _ = ctx.ports.activity.forget_last_used(client_id, None).await;
    let detail = format!("client '{}' deleted", record.client.client_name);
    let subject = Subject::client(client_id);
    Ok(audited(
        ctx,
        Action::ClientDeleted,
        subject,
        detail,
        Response::empty(204),
    )
    .await)
}

/// `POST /admin/clients/{id}/unlock`.
pub async fn unlock(ctx: &Ctx<'_>, id: &str) -> Result<Response, Error> {
    let (record, used) = views::with_last_used(ctx, load_client(ctx, id).await?).await?;
    let client_id = &record.client.client_id;
    let before = ctx.guard(client_id, GuardOp::Read).await?;
    let guard = ctx.guard(client_id, GuardOp::Unlock).await?;
    let detail = match before.locked(ctx.now()) {
        Some(_) => format!("unlocked after {} failed authentications", before.failures),
        None => "unlock requested; the client was not locked".to_string(),
    };
    let response = Response::json(200, &views::client(&record, &used, &guard, ctx.now()));
    let subject = Subject::client(client_id);
    Ok(audited(ctx, Action::ClientUnlocked, subject, detail, response).await)
}

/// `POST /admin/clients/{id}/revoke-tokens`: every token the client holds stops being active
/// at introspection everywhere within the guard cache time (the "valid after" mark also serves
/// a compromised secret, together with removing the secret).
pub async fn revoke_tokens(ctx: &Ctx<'_>, id: &str) -> Result<Response, Error> {
    let (record, used) = views::with_last_used(ctx, load_client(ctx, id).await?).await?;
    let client_id = &record.client.client_id;
    let guard = ctx.guard(client_id, GuardOp::RevokeTokens).await?;
    let detail = "every token issued until now revoked".to_string();
    let response = Response::json(200, &views::client(&record, &used, &guard, ctx.now()));
    let subject = Subject::client(client_id);
    Ok(audited(ctx, Action::TokensRevoked, subject, detail, response).await)
}

/// Checks grant input against the registered resources and the built-in admin resource (422
/// for an unknown resource or a scope it does not have). Granting `admin:*` scopes the client
/// (`before`) did not hold needs `resources:write`.
async fn resolve_grants(
    ctx: &Ctx<'_>,
    req: &Request,
    inputs: Vec<GrantInput>,
    before: Option<&ClientRecord>,
) -> Result<Vec<ResourceGrant>, Error> {
    let store = ctx.ports.resources;
    let issuer = ctx.config.issuer(&req.origin);
    let grants = resources::resolve_grants(inputs, |identifier| async move {
        if identifier.strip_prefix(issuer) == Some(ADMIN_RESOURCE_PATH) {
            return Ok(Some(admin_resource(issuer)));
        }
        match store.id_for(&identifier).await? {
            None => Ok(None),
            Some(id) => store.get(&id).await,
        }
    })
    .await?;
    let held = |g: &ResourceGrant| is_admin_resource(&g.resource_id);
    let old = before.and_then(|r| r.client.grants.registered().find(held));
    if let (Some(new), Some(who)) = (grants.iter().find(|g| held(g)), ctx.principal()) {
        if widens(&new.scope, old.as_ref().map(|g| &g.scope)) {
            who.require(Permission::ResourcesWrite, "grant admin:* scopes")?;
        }
    }
    Ok(grants)
}
