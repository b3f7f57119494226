//! `/admin/clients/{client_id}/secrets[/{secret_id}]`: add, list and remove a client's secrets.

use crate::admin::shared::{audited, json_body, load_client};
use crate::admin::views;
use crate::context::Ctx;
use crate::error::Error;
use crate::http::{Request, Response};
use crate::registry::audit::{Action, Subject};
use crate::registry::clients::{AuthMethod, Client};
use crate::registry::guard::GuardOp;
use crate::registry::secrets::{NewSecret, SecretInput, SecretMeta, StoredSecret};

/// Makes a secret for `client` under the server's secret policy.
pub fn issue(
    ctx: &Ctx<'_>,
    client: &Client,
    input: SecretInput,
) -> Result<(StoredSecret, NewSecret), Error> {
    input.issue(
        client.client_id.as_str(),
        &client.grants.all_scopes(),
        client.token_endpoint_auth_method == AuthMethod::ClientSecretJwt,
        (&ctx.config.pepper, &ctx.config.secret_policy),
        ctx.ports.rng,
        ctx.now(),
    )
}

/// `POST /admin/clients/{id}/secrets`.
pub async fn add(ctx: &Ctx<'_>, id: &str, req: &Request) -> Result<Response, Error> {
    let input: SecretInput = json_body(req)?;
    let mut record = load_client(ctx, id).await?;
    if !record.client.token_endpoint_auth_method.uses_secrets() {
        let why = match record.client.token_endpoint_auth_method {
            AuthMethod::PrivateKeyJwt => {
                "private_key_jwt clients authenticate with keys, not secrets"
            }
            _ => "this client authenticates with a certificate, not secrets",
        };
        return Err(Error::Conflict(why.into()));
    }
    let max = ctx.config.secret_policy.max_per_client;
    if record.secrets.len() >= max {
        return Err(Error::Conflict(
            format!("a client may hold at most {max} secrets; delete one first").into(),
        ));
    }
    let (stored, secret) = issue(ctx, &record.client, input)?;
    let detail = format!("secret {} added", stored.meta.secret_id);
    record.secrets.push(stored);
    record.client.updated_at = ctx.now();
    ctx.save_client(&mut record).await?;
    let subject = Subject::client(&record.client.client_id);
    let response = Response::json(201, &secret);
    Ok(audited(ctx, Action::SecretCreated, subject, detail, response).await)
}

/// `GET /admin/clients/{id}/secrets`: metadata only, with last uses.
pub async fn list(ctx: &Ctx<'_>, id: &str) -> Result<Response, Error> {
    let (record, _) = views::with_last_used(ctx, load_client(ctx, id).await?).await?;
    let secrets: Vec<_> = record.secrets.iter().map(|s| &s.meta).collect();
    Ok(Response::json(200, &Secrets { secrets }))
}

/// The secrets listing: `{"secrets": [...]}`.
#[derive(serde::Serialize)]
struct Secrets<'a> {
    secrets: Vec<&'a SecretMeta>,
}

/// `DELETE /admin/clients/{id}/secrets/{secret_id}`.
pub async fn delete(ctx: &Ctx<'_>, id: &str, secret_id: &str) -> Result<Response, Error> {
    let mut record = load_client(ctx, id).await?;
    let before = record.secrets.len();
    record.secrets.retain(|s| s.meta.secret_id != secret_id);
    if record.secrets.len() == before {
        return Err(Error::NotFound("no such secret".into()));
    }
    record.client.updated_at = ctx.now();
    let client_id = &record.client.client_id.clone();
    // A stale KV copy elsewhere still holds the secret: the guard refuses it meanwhile. The
    // guard hears it first: were the record saved first and the guard call then failed, the
    // retry would find no such secret (404) and the guard would never be told.
    let secret_id = secret_id.to_string();
    let revoke = GuardOp::Revoke {
        secret_id: secret_id.clone(),
    };
    ctx.guard(client_id, revoke).await?;
    ctx.save_client(&mut record).await?;
    let _ = ctx
        .ports
        .activity
        .forget_last_used(client_id, Some(&secret_id))
        .await;
    let detail = format!("secret {secret_id} removed");
    let subject = Subject::client(client_id);
    Ok(audited(
        ctx,
        Action::SecretDeleted,
        subject,
        detail,
        Response::empty(204),
    )
    .await)
}
