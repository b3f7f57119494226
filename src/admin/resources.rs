//! `/admin/resources[/{resource_id}]`: resources (APIs) and their permission groups.

use crate::admin::shared::{audited, changed, json_body, listing, not_found, page_params, path_id};
use crate::context::Ctx;
use crate::error::Error;
use crate::http::{Request, Response};
use crate::registry::admins::{admin_resource, is_admin_resource, ADMIN_RESOURCE_PATH};
use crate::registry::audit::{Action, Subject};
use crate::registry::clients::ClientId;
use crate::registry::resources::{Resource, ResourceId, ResourceInput, UNKNOWN_PROVIDER};

/// Clients read per page while counting a resource's grants.
const SCAN_PAGE: usize = 100;

/// A stored resource, for a change: the built-in admin resource is refused (409).
async fn load(ctx: &Ctx<'_>, id: &str) -> Result<Resource, Error> {
    let id = path_id(id, ResourceId::parse, "resource")?;
    if is_admin_resource(&id) {
        return Err(Error::Conflict(
            "the built-in admin resource cannot be changed or deleted".into(),
        ));
    }
    let stored = ctx.ports.resources.get(&id).await?;
    stored.ok_or_else(|| not_found("resource"))
}

/// `POST /admin/resources`.
pub async fn create(ctx: &Ctx<'_>, req: &Request) -> Result<Response, Error> {
    let input: ResourceInput = json_body(req)?;
    check_provider(ctx, &input).await?;
    let fields = input.field_names().join(", ");
    let resource = input.create(ResourceId::generate(ctx.ports.rng)?, ctx.now())?;
    let builtin = format!("{}{ADMIN_RESOURCE_PATH}", ctx.config.issuer(&req.origin));
    // Best effort: KV has no compare-and-set, so two creations racing in different
    // locations could both pass; the admin sees both in the listing.
    let existing = ctx.ports.resources.id_for(&resource.identifier).await?;
    if existing.is_some() || resource.identifier == builtin {
        return Err(Error::Conflict(
            "a resource with this identifier already exists".into(),
        ));
    }
    ctx.save_resource(&resource).await?;
    let detail = format!("resource {} created with {fields}", resource.identifier);
    let subject = Subject::resource(&resource.resource_id);
    let response = Response::json(201, &resource);
    Ok(audited(ctx, Action::ResourceCreated, subject, detail, response).await)
}

/// `GET /admin/resources`: the stored resources (the built-in admin resource is at its own
/// path only).
pub async fn list(ctx: &Ctx<'_>, req: &Request) -> Result<Response, Error> {
    let (limit, cursor) = page_params(ctx, req)?;
    let page = ctx.ports.resources.list(cursor.as_deref(), limit).await?;
    let next = page.next_cursor.as_deref();
    Ok(listing(ctx, "resources", &page.items, next))
}

/// `GET /admin/resources/{id}`.
pub async fn show(ctx: &Ctx<'_>, id: &str, req: &Request) -> Result<Response, Error> {
    if ResourceId::parse(id).is_some_and(|id| is_admin_resource(&id)) {
        let builtin = admin_resource(ctx.config.issuer(&req.origin));
        return Ok(Response::json(200, &builtin));
    }
    Ok(Response::json(200, &load(ctx, id).await?))
}

/// `PATCH /admin/resources/{id}`.
pub async fn update(ctx: &Ctx<'_>, id: &str, req: &Request) -> Result<Response, Error> {
    let input: ResourceInput = json_body(req)?;
    let mut resource = load(ctx, id).await?;
    check_provider(ctx, &input).await?;
    let detail = changed(&input.field_names());
    input.apply(&mut resource, ctx.now())?;
    ctx.save_resource(&resource).await?;
    let subject = Subject::resource(&resource.resource_id);
    let response = Response::json(200, &resource);
    Ok(audited(ctx, Action::ResourceUpdated, subject, detail, response).await)
}

/// `DELETE /admin/resources/{id}`. Deleting a granted resource is refused (409, naming how
/// many clients hold grants), so a grant never silently loses its target.
pub async fn delete(ctx: &Ctx<'_>, id: &str) -> Result<Response, Error> {
    let resource = load(ctx, id).await?;
    let users = clients_granted(ctx, &resource.resource_id).await?;
    if users > 0 {
        let plural = if users == 1 { "" } else { "s" };
        return Err(Error::Conflict(
            format!("the resource is granted to {users} client{plural}; remove those grants first")
                .into(),
        ));
    }
    ctx.delete_resource(&resource).await?;
    let detail = format!("resource {} deleted", resource.identifier);
    let subject = Subject::resource(&resource.resource_id);
    Ok(audited(
        ctx,
        Action::ResourceDeleted,
        subject,
        detail,
        Response::empty(204),
    )
    .await)
}

/// A provider the input names must be a registered client (422 otherwise). Best effort, as
/// KV has no transactions: a client deleted in another location at the same moment can leave
/// a resource naming it, which then simply has no provider that can act for it.
async fn check_provider(ctx: &Ctx<'_>, input: &ResourceInput) -> Result<(), Error> {
    if let Some(Some(id)) = input.provider()? {
        if ctx.ports.clients.get(&id).await?.is_none() {
            return Err(Error::invalid_metadata(UNKNOWN_PROVIDER));
        }
    }
    Ok(())
}

/// How many resources name `client` as their provider: a scan of the resources, only when a
/// client is deleted.
pub async fn provided_by(ctx: &Ctx<'_>, client: &ClientId) -> Result<usize, Error> {
    let mut count = 0;
    let mut cursor: Option<String> = None;
    loop {
        let page = ctx
            .ports
            .resources
            .list(cursor.as_deref(), SCAN_PAGE)
            .await?;
        count += page
            .items
            .iter()
            .filter(|r| r.provider_client_id.as_ref() == Some(client))
            .count();
        match page.next_cursor {
            Some(next) => cursor = Some(next),
            None => return Ok(count),
        }
    }
}

/// How many clients hold a grant on the resource: a scan of the registry, fine for the
/// thousands of clients an admin manages, and only on deletion.
async fn clients_granted(ctx: &Ctx<'_>, id: &ResourceId) -> Result<usize, Error> {
    let mut count = 0;
    let mut cursor: Option<String> = None;
    loop {
        let page = ctx.ports.clients.list(cursor.as_deref(), SCAN_PAGE).await?;
        count += page
            .items
            .iter()
            .filter(|c| c.client.grants.grants_resource(id))
            .count();
        match page.next_cursor {
            Some(next) => cursor = Some(next),
            None => return Ok(count),
        }
    }
}
