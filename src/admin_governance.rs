//! Admin routes for client governance: resources (APIs) and their permission groups, the
//! audit trail, and per-client usage.

use serde_json::json;

use crate::activity::daily_totals;
use crate::admin::{json_body, page_params};
use crate::app::App;
use crate::audit::{self, Action};
use crate::clients::ClientId;
use crate::error::Error;
use crate::http::{Method, Request, Response};
use crate::platform::{ClientStore, Clock, Random};
use crate::resources::{Resource, ResourceId, ResourceInput};

/// Clients read per page while counting a resource's grants.
const SCAN_PAGE: usize = 100;

/// Routes `/admin/resources[/{resource_id}]`.
pub async fn route_resources<S: ClientStore, C: Clock, R: Random>(
    app: &App<'_, S, C, R>,
    segments: &[&str],
    req: &Request,
) -> Result<Response, Error> {
    use Method::*;
    match (segments, req.method) {
        (["admin", "resources"], Post) => create(app, req).await,
        (["admin", "resources"], Get | Head) => list(app, req).await,
        (["admin", "resources"], _) => Err(Error::MethodNotAllowed(&[Get, Post])),
        (["admin", "resources", id], Get | Head) => Ok(Response::json(200, &load(app, id).await?)),
        (["admin", "resources", id], Patch) => update(app, id, req).await,
        (["admin", "resources", id], Delete) => delete(app, id).await,
        (["admin", "resources", _], _) => Err(Error::MethodNotAllowed(&[Get, Patch, Delete])),
        _ => Err(Error::NotFound("no such admin route".into())),
    }
}

async fn load<S: ClientStore, C: Clock, R: Random>(
    app: &App<'_, S, C, R>,
    id: &str,
) -> Result<Resource, Error> {
    let not_found = || Error::NotFound("no such resource".into());
    let id = ResourceId::parse(id).ok_or_else(not_found)?;
    app.store.get_resource(&id).await?.ok_or_else(not_found)
}

async fn create<S: ClientStore, C: Clock, R: Random>(
    app: &App<'_, S, C, R>,
    req: &Request,
) -> Result<Response, Error> {
    let input: ResourceInput = json_body(req)?;
    let fields = input.field_names().join(", ");
    let resource = input.create(ResourceId::generate(app.rng)?, app.clock.now())?;
    // Best effort: KV has no compare-and-set, so two creations racing in different
    // locations could both pass; the admin sees both in the listing.
    if app
        .store
        .resource_id_for(&resource.identifier)
        .await?
        .is_some()
    {
        return Err(Error::Conflict(
            "a resource with this identifier already exists".into(),
        ));
    }
    app.save_resource(&resource).await?;
    let detail = format!("resource {} created with {fields}", resource.identifier);
    let id = Some(&resource.resource_id);
    let result = audit::record(app, Action::ResourceCreated, None, id, detail).await;
    Ok(audit::note_failure(Response::json(201, &resource), result))
}

async fn list<S: ClientStore, C: Clock, R: Random>(
    app: &App<'_, S, C, R>,
    req: &Request,
) -> Result<Response, Error> {
    let (limit, cursor) = page_params(req)?;
    let page = app.store.list_resources(cursor.as_deref(), limit).await?;
    Ok(Response::json(
        200,
        &json!({ "resources": page.resources, "next_cursor": page.next_cursor }),
    ))
}

async fn update<S: ClientStore, C: Clock, R: Random>(
    app: &App<'_, S, C, R>,
    id: &str,
    req: &Request,
) -> Result<Response, Error> {
    let input: ResourceInput = json_body(req)?;
    let mut resource = load(app, id).await?;
    let fields = input.field_names().join(", ");
    input.apply(&mut resource, app.clock.now())?;
    app.save_resource(&resource).await?;
    let detail = format!(
        "changed {}",
        if fields.is_empty() {
            "nothing"
        } else {
            &fields
        }
    );
    let id = Some(&resource.resource_id);
    let result = audit::record(app, Action::ResourceUpdated, None, id, detail).await;
    Ok(audit::note_failure(Response::json(200, &resource), result))
}

/// Deleting a granted resource is refused (409, naming how many clients hold grants), so a
/// grant never silently loses its target; the admin removes the grants first.
async fn delete<S: ClientStore, C: Clock, R: Random>(
    app: &App<'_, S, C, R>,
    id: &str,
) -> Result<Response, Error> {
    let resource = load(app, id).await?;
    let users = clients_granted(app, &resource.resource_id).await?;
    if users > 0 {
        let plural = if users == 1 { "" } else { "s" };
        return Err(Error::Conflict(
            format!("the resource is granted to {users} client{plural}; remove those grants first")
                .into(),
        ));
    }
    app.store.delete_resource(&resource).await?;
    app.isolate
        .resources
        .put(resource.resource_id.clone(), None, app.clock.now_ms());
    let detail = format!("resource {} deleted", resource.identifier);
    let id = Some(&resource.resource_id);
    let result = audit::record(app, Action::ResourceDeleted, None, id, detail).await;
    Ok(audit::note_failure(Response::empty(204), result))
}

/// How many clients hold a grant on the resource: a scan of the registry, fine for the
/// thousands of clients an admin manages, and only on deletion.
async fn clients_granted<S: ClientStore, C: Clock, R: Random>(
    app: &App<'_, S, C, R>,
    id: &ResourceId,
) -> Result<usize, Error> {
    let mut count = 0;
    let mut cursor: Option<String> = None;
    loop {
        let page = app.store.list(cursor.as_deref(), SCAN_PAGE).await?;
        count += page
            .clients
            .iter()
            .filter(|c| c.client.grants.iter().any(|g| g.resource_id == *id))
            .count();
        match page.next_cursor {
            Some(next) => cursor = Some(next),
            None => return Ok(count),
        }
    }
}

/// `GET /admin/audit`: the whole trail, newest first.
pub async fn audit<S: ClientStore, C: Clock, R: Random>(
    app: &App<'_, S, C, R>,
    req: &Request,
) -> Result<Response, Error> {
    events(app, None, req).await
}

/// `GET /admin/clients/{id}/audit`: one client's history, newest first. It stays readable
/// after the client is deleted, until the events expire.
pub async fn client_audit<S: ClientStore, C: Clock, R: Random>(
    app: &App<'_, S, C, R>,
    id: &str,
    req: &Request,
) -> Result<Response, Error> {
    let id = ClientId::parse(id).ok_or_else(|| Error::NotFound("no such client".into()))?;
    events(app, Some(&id), req).await
}

async fn events<S: ClientStore, C: Clock, R: Random>(
    app: &App<'_, S, C, R>,
    client: Option<&ClientId>,
    req: &Request,
) -> Result<Response, Error> {
    let (limit, cursor) = page_params(req)?;
    let page = app.store.events(client, cursor.as_deref(), limit).await?;
    Ok(Response::json(
        200,
        &json!({ "events": page.events, "next_cursor": page.next_cursor }),
    ))
}

/// `GET /admin/clients/{id}/usage`: tokens issued per UTC day, the last 30 days, oldest first.
pub async fn usage<S: ClientStore, C: Clock, R: Random>(
    app: &App<'_, S, C, R>,
    id: &str,
) -> Result<Response, Error> {
    let not_found = || Error::NotFound("no such client".into());
    let id = ClientId::parse(id).ok_or_else(not_found)?;
    app.store.get(&id).await?.ok_or_else(not_found)?;
    let entries = app.store.usage(&id).await?;
    let days: Vec<_> = daily_totals(&entries, app.clock.now())
        .into_iter()
        .map(|(date, tokens)| json!({ "date": date, "tokens": tokens }))
        .collect();
    Ok(Response::json(200, &json!({ "days": days })))
}
