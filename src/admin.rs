//! The admin API: clients and their secrets, behind a bearer admin token.

use serde::de::DeserializeOwned;
use serde::Serialize;
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

use crate::app::App;
use crate::clients::{AuthMethod, ClientId, ClientInput, ClientRecord, ClientView};
use crate::encoding::Form;
use crate::error::Error;
use crate::http::{Method, Request, Response};
use crate::platform::{ClientStore, Clock, Random};
use crate::secrets::{NewSecret, SecretInput, MAX_SECRETS};

/// Largest admin request body accepted.
pub const MAX_ADMIN_BODY: usize = 64 * 1024;
const DEFAULT_PAGE: usize = 50;
const MAX_PAGE: usize = 100;

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
            let record = load(app, id).await?;
            Response::json(200, &record.view())
        }
        (["admin", "clients", id], Patch) => update_client(app, id, req).await?,
        (["admin", "clients", id], Delete) => {
            let record = load(app, id).await?;
            app.delete_client(&record.client.client_id).await?;
            Response::empty(204)
        }
        (["admin", "clients", _], _) => return Err(Error::MethodNotAllowed(&[Get, Patch, Delete])),
        (["admin", "clients", id, "secrets"], Post) => add_secret(app, id, req).await?,
        (["admin", "clients", id, "secrets"], Get | Head) => {
            let record = load(app, id).await?;
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
            app.save_client(&record).await?;
            Response::empty(204)
        }
        (["admin", "clients", _, "secrets", _], _) => {
            return Err(Error::MethodNotAllowed(&[Delete]))
        }
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

fn json_body<T: DeserializeOwned>(req: &Request) -> Result<T, Error> {
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
    let input_had_secret = input.secret.is_some();
    let secret_input = input.secret.take().unwrap_or_default();
    let now = app.clock.now();
    let client = input.create(ClientId::generate(app.rng)?, now)?;
    let method = client.token_endpoint_auth_method;
    let (secrets, secret) = if method.uses_secrets() {
        let (stored, new) = secret_input.issue(
            client.client_id.as_str(),
            &client.scope,
            method == AuthMethod::ClientSecretJwt,
            &app.config.pepper,
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
    let record = ClientRecord { client, secrets };
    app.save_client(&record).await?;
    Ok(Response::json(
        201,
        &Created {
            client: record.view(),
            secret,
        },
    ))
}

async fn list_clients<S: ClientStore, C: Clock, R: Random>(
    app: &App<'_, S, C, R>,
    req: &Request,
) -> Result<Response, Error> {
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
    let page = app.store.list(cursor, limit).await?;
    let clients: Vec<ClientView<'_>> = page.clients.iter().map(ClientRecord::view).collect();
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
    let input: ClientInput = json_body(req)?;
    if input.secret.is_some() {
        return Err(Error::invalid_request(
            "secrets are added with POST /admin/clients/{client_id}/secrets",
        ));
    }
    let mut record = load(app, id).await?;
    input.apply(&mut record.client, app.clock.now())?;
    app.save_client(&record).await?;
    Ok(Response::json(200, &record.view()))
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
    if record.secrets.len() >= MAX_SECRETS {
        return Err(Error::Conflict(
            format!("a client may hold at most {MAX_SECRETS} secrets; delete one first").into(),
        ));
    }
    let now = app.clock.now();
    let (stored, secret) = input.issue(
        record.client.client_id.as_str(),
        &record.client.scope,
        method == AuthMethod::ClientSecretJwt,
        &app.config.pepper,
        app.rng,
        now,
    )?;
    record.secrets.push(stored);
    record.client.updated_at = now;
    app.save_client(&record).await?;
    Ok(Response::json(201, &secret))
}
