//! `/admin/clients/{client_id}/certificates[/{fingerprint}]`: register, list and remove the
//! client certificates a `self_signed_tls_client_auth` client authenticates with (RFC 8705
//! section 2.2). The rules are `registry::certificates`'.

use serde::Serialize;

use crate::admin::shared::{audited, json_body, load_client, not_found};
use crate::context::Ctx;
use crate::error::Error;
use crate::http::client_cert::parse_fingerprint;
use crate::http::{Request, Response};
use crate::registry::audit::{Action, Subject};
use crate::registry::certificates::{self, hex, x5t_s256, CertificateInput, StoredCertificate};
use crate::registry::clients::AuthMethod;
use crate::registry::guard::GuardOp;

/// A registered certificate as the admin API shows it: as stored, with its `x5t#S256`.
#[derive(Serialize)]
struct CertificateView<'a> {
    #[serde(flatten)]
    certificate: &'a StoredCertificate,
    #[serde(rename = "x5t#S256")]
    x5t_s256: String,
}

fn view(certificate: &StoredCertificate) -> CertificateView<'_> {
    let bytes = parse_fingerprint(&certificate.fingerprint).unwrap_or_default();
    CertificateView {
        certificate,
        x5t_s256: x5t_s256(&bytes),
    }
}

/// `POST /admin/clients/{id}/certificates`: `{"certificate": "<PEM>"}`; 201 with the view.
pub async fn add(ctx: &Ctx<'_>, id: &str, req: &Request) -> Result<Response, Error> {
    let input: CertificateInput = json_body(req)?;
    let mut record = load_client(ctx, id).await?;
    if record.client.token_endpoint_auth_method != AuthMethod::SelfSignedTlsClientAuth {
        return Err(Error::Conflict(
            "only self_signed_tls_client_auth clients register certificates".into(),
        ));
    }
    let added = certificates::add(&mut record.certificates, input, ctx.now())?;
    let (name, detail) = (
        added.guard_name(),
        format!("certificate {} added", added.fingerprint),
    );
    let client_id = record.client.client_id.clone();
    // Removed moments ago and put back: the guard must stop refusing it.
    let op = GuardOp::Keys {
        removed: Vec::new(),
        current: vec![name],
    };
    ctx.guard(&client_id, op).await?;
    record.client.updated_at = ctx.now();
    ctx.save_client(&mut record).await?;
    let added = record.certificates.last().expect("just added");
    let response = Response::json(201, &view(added));
    let subject = Subject::client(&client_id);
    Ok(audited(ctx, Action::CertificateCreated, subject, detail, response).await)
}

/// `GET /admin/clients/{id}/certificates`.
pub async fn list(ctx: &Ctx<'_>, id: &str) -> Result<Response, Error> {
    let record = load_client(ctx, id).await?;
    let certificates = record.certificates.iter().map(view).collect();
    Ok(Response::json(200, &Listing { certificates }))
}

#[derive(Serialize)]
struct Listing<'a> {
    certificates: Vec<CertificateView<'a>>,
}

/// `DELETE /admin/clients/{id}/certificates/{fingerprint}`: the fingerprint in hex, either
/// case.
pub async fn delete(ctx: &Ctx<'_>, id: &str, fingerprint: &str) -> Result<Response, Error> {
    const WHAT: &str = "certificate";
    let mut record = load_client(ctx, id).await?;
    let fingerprint = parse_fingerprint(fingerprint).ok_or_else(|| not_found(WHAT))?;
    let fingerprint = hex(&fingerprint);
    let at = record
        .certificates
        .iter()
        .position(|c| c.fingerprint == fingerprint)
        .ok_or_else(|| not_found(WHAT))?;
    let removed = record.certificates.remove(at);
    record.client.updated_at = ctx.now();
    let client_id = &record.client.client_id.clone();
    // A stale KV copy elsewhere still holds the certificate: the guard refuses it meanwhile.
    // It hears first, as for secrets, so that a failed write leaves it refused, not forgotten.
    let op = GuardOp::Keys {
        removed: vec![removed.guard_name()],
        current: Vec::new(),
    };
    ctx.guard(client_id, op).await?;
    ctx.save_client(&mut record).await?;
    let detail = format!("certificate {fingerprint} removed");
    let subject = Subject::client(client_id);
    Ok(audited(
        ctx,
        Action::CertificateDeleted,
        subject,
        detail,
        Response::empty(204),
    )
    .await)
}
