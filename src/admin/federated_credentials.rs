//! `/admin/clients/{client_id}/federated-credentials[/{credential_id}]`: add, list and remove
//! the external issuers' tokens a `private_key_jwt` client accepts (workload identity
//! federation).

use serde::Serialize;

use crate::admin::shared::{audited, json_body, load_client, not_found, path_id};
use crate::admin::views::{self, CredentialView};
use crate::context::Ctx;
use crate::error::Error;
use crate::http::{Request, Response};
use crate::registry::audit::{Action, Subject};
use crate::registry::clients::AuthMethod;
use crate::registry::federation::{CredentialId, MAX_CREDENTIALS};
use crate::registry::federation_input::FederatedCredentialInput;
use crate::registry::guard::GuardOp;
use crate::support::text::printable;

/// `POST /admin/clients/{id}/federated-credentials`.
pub async fn add(ctx: &Ctx<'_>, id: &str, req: &Request) -> Result<Response, Error> {
    let input = FederatedCredentialInput::from_json(json_body(req)?)?;
    let mut record = load_client(ctx, id).await?;
    if record.client.token_endpoint_auth_method != AuthMethod::PrivateKeyJwt {
        return Err(Error::Conflict(
            "only private_key_jwt clients hold federated credentials; this client authenticates with secrets".into(),
        ));
    }
    if record.federated_credentials.len() >= MAX_CREDENTIALS {
        return Err(Error::Conflict(
            format!("a client may hold at most {MAX_CREDENTIALS} federated credentials; delete one first").into(),
        ));
    }
    let credential = input.create(CredentialId::generate(ctx.ports.rng)?, ctx.now())?;
    if record
        .federated_credentials
        .iter()
        .any(|c| c.name == credential.name)
    {
        return Err(Error::Conflict(
            format!(
                "the client already has a federated credential named '{}'",
                printable(&credential.name)
            )
            .into(),
        ));
    }
    let detail = format!(
        "federated credential {} '{}' added",
        credential.credential_id.as_str(),
        printable(&credential.name)
    );
    record.federated_credentials.push(credential);
    record.client.updated_at = ctx.now();
    ctx.save_client(&mut record).await?;
    let added = record.federated_credentials.last().expect("just added");
    let response = Response::json(201, &views::credential(added, &[]));
    let subject = Subject::client(&record.client.client_id);
    Ok(audited(
        ctx,
        Action::FederatedCredentialCreated,
        subject,
        detail,
        response,
    )
    .await)
}

/// `GET /admin/clients/{id}/federated-credentials`: with last uses.
pub async fn list(ctx: &Ctx<'_>, id: &str) -> Result<Response, Error> {
    let (record, used) = views::with_last_used(ctx, load_client(ctx, id).await?).await?;
    let federated_credentials = record
        .federated_credentials
        .iter()
        .map(|c| views::credential(c, &used))
        .collect();
    let listing = Listing {
        federated_credentials,
    };
    Ok(Response::json(200, &listing))
}

/// The listing, serialized straight to bytes as the client view's credentials are (`json!`
/// would build a `Value` first, through a second copy of the credential's serializer).
#[derive(Serialize)]
struct Listing<'a> {
    federated_credentials: Vec<CredentialView<'a>>,
}

/// `DELETE /admin/clients/{id}/federated-credentials/{credential_id}`.
pub async fn delete(ctx: &Ctx<'_>, id: &str, credential_id: &str) -> Result<Response, Error> {
    const WHAT: &str = "federated credential";
    let mut record = load_client(ctx, id).await?;
    let credential_id = path_id(credential_id, CredentialId::parse, WHAT)?;
    let at = record
        .federated_credentials
        .iter()
        .position(|c| c.credential_id == credential_id)
        .ok_or_else(|| not_found(WHAT))?;
    let removed = record.federated_credentials.remove(at);
    record.client.updated_at = ctx.now();
    let client_id = &record.client.client_id.clone();
    // A stale KV copy elsewhere still holds the credential: the guard refuses it meanwhile,
    // by its guard name among removed keys. The guard hears it first, as for secrets: were
    // the record saved first and the guard call then failed, the retry would find nothing
    // to delete (404) and the guard would never be told.
    let op = GuardOp::Keys {
        removed: vec![removed.guard_name()],
        current: Vec::new(),
    };
    ctx.guard(client_id, op).await?;
    ctx.save_client(&mut record).await?;
    let _ = ctx
        .ports
        .activity
        .forget_last_used(client_id, Some(credential_id.as_str()))
        .await;
    let detail = format!(
        "federated credential {} '{}' removed",
        credential_id.as_str(),
        printable(&removed.name)
    );
    let subject = Subject::client(client_id);
    Ok(audited(
        ctx,
        Action::FederatedCredentialDeleted,
        subject,
        detail,
        Response::empty(204),
    )
    .await)
}
