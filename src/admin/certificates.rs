//! `/admin/clients/{client_id}/certificates[/{fingerprint}]`: register, list and remove the
//! client certificates a `self_signed_tls_client_auth` client authenticates with (RFC 8705
//! section 2.2). The rules are `registry::certificates`'.

use serde_json::{Map, Value};

use crate::admin::shared::{audited, json_body, load_client, not_found};
use crate::context::Ctx;
use crate::error::Error;
use crate::http::client_cert::parse_fingerprint;
use crate::http::{Method, Request, Response};
use crate::registry::audit::{Action, Subject};
use crate::registry::certificates::{self, hex, x5t_s256, StoredCertificate};
use crate::registry::clients::AuthMethod;
use crate::registry::guard::GuardOp;

/// `{"certificates": [...]}`, from the stored lines: what listing and registering answer. Each
/// certificate as stored, with its `x5t#S256`; made as JSON values directly, whose writer the
/// wasm has anyway, rather than through derived serializers.
fn listing(status: u16, registered: &[String]) -> Response {
    let certificates = registered
        .iter()
        .filter_map(|line| StoredCertificate::parse(line))
        .map(|c| {
            let x5t = x5t_s256(&parse_fingerprint(&c.fingerprint).unwrap_or_default());
            let mut m = Map::new();
            m.insert("fingerprint".into(), Value::from(c.fingerprint));
            m.insert("x5t#S256".into(), Value::from(x5t));
            m.insert("subject".into(), Value::from(c.subject));
            m.insert("not_before".into(), Value::from(c.not_before));
            m.insert("not_after".into(), Value::from(c.not_after));
            m.insert("created_at".into(), Value::from(c.created_at));
            Value::Object(m)
        })
        .collect();
    let mut body = Map::new();
    body.insert("certificates".into(), Value::Array(certificates));
    Response::json(status, &Value::Object(body))
}

/// The three routes in one function, so that each storage step is awaited once (each await of
/// a shared step is a copy of its state machine in the wasm):
/// `GET .../certificates` lists them; `POST .../certificates` registers
/// `{"certificate": "<PEM>"}` (201 with the listing, the new one last); `DELETE .../certificates/{fingerprint}`
/// (hex, either case) removes one (204).
pub async fn handle(
    ctx: &Ctx<'_>,
    id: &str,
    req: &Request,
    fingerprint: Option<&str>,
) -> Result<Response, Error> {
    let upload = match req.method {
        Method::Post => Some(certificates::input(json_body(req)?)?),
        _ => None,
    };
    let mut record = load_client(ctx, id).await?;
    let (op, action, detail, response) = match (fingerprint, upload) {
        (Some(given), _) => {
            let at = parse_fingerprint(given)
                .and_then(|f| certificates::position(&record.certificates, &hex(&f)))
                .ok_or_else(|| not_found("certificate"))?;
            let removed = StoredCertificate::parse(&record.certificates.remove(at))
                .ok_or_else(|| not_found("certificate"))?;
            // A stale KV copy elsewhere still holds the certificate: the guard refuses it
            // meanwhile. It hears first, as for secrets, so that a failed write leaves the
            // certificate refused, not forgotten.
            let op = GuardOp::Keys {
                removed: vec![removed.guard_name()],
                current: Vec::new(),
            };
            let detail = format!("certificate {} removed", removed.fingerprint);
            (op, Action::CertificateDeleted, detail, Response::empty(204))
        }
        (None, Some(pem)) => {
            if record.client.token_endpoint_auth_method != AuthMethod::SelfSignedTlsClientAuth {
                return Err(Error::Conflict(
                    "only self_signed_tls_client_auth clients hold certificates".into(),
                ));
            }
            let added = certificates::add(&mut record.certificates, &pem, ctx.now())?;
            // Removed moments ago and put back: the guard must stop refusing it.
            let op = GuardOp::Keys {
                removed: Vec::new(),
                current: vec![added.guard_name()],
            };
            let detail = format!("certificate {} added", added.fingerprint);
            (
                op,
                Action::CertificateCreated,
                detail,
                listing(201, &record.certificates),
            )
        }
        (None, None) => return Ok(listing(200, &record.certificates)),
    };
    let client_id = record.client.client_id.clone();
    ctx.guard(&client_id, op).await?;
    record.client.updated_at = ctx.now();
    ctx.save_client(&mut record).await?;
    let subject = Subject::client(&client_id);
    Ok(audited(ctx, action, subject, detail, response).await)
}
