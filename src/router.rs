//! All routes in one place.

use crate::app::App;
use crate::error::Error;
use crate::http::{Method, Request, Response};
use crate::platform::{ClientStore, Clock, Random};
use crate::{admin, discovery, token_endpoint};

/// Answers one request. Never panics on input; every failure is a protocol error response.
pub async fn handle<S: ClientStore, C: Clock, R: Random>(
    app: &App<'_, S, C, R>,
    req: &Request,
) -> Response {
    let response = route(app, req).await.unwrap_or_else(Error::into_response);
    response.with_header("x-content-type-options", "nosniff")
}

async fn route<S: ClientStore, C: Clock, R: Random>(
    app: &App<'_, S, C, R>,
    req: &Request,
) -> Result<Response, Error> {
    use Method::*;
    const READ: &[Method] = &[Get, Head];
    let allow = |allowed: &'static [Method]| {
        if allowed.contains(&req.method) {
            Ok(())
        } else {
            Err(Error::MethodNotAllowed(allowed))
        }
    };
    match req.path.as_str() {
        "/healthz" => {
            allow(READ)?;
            Ok(Response::json(200, &serde_json::json!({ "status": "ok" })))
        }
        "/.well-known/oauth-authorization-server" | "/.well-known/openid-configuration" => {
            allow(READ)?;
            Ok(discovery::metadata(app.config, &req.origin))
        }
        discovery::JWKS_PATH => {
            allow(READ)?;
            Ok(discovery::jwks(app.config))
        }
        discovery::TOKEN_PATH => {
            allow(&[Post])?;
            token_endpoint::handle(app, req).await
        }
        p if p.starts_with("/admin/") => admin::route(app, req).await,
        _ => Err(Error::NotFound("no such endpoint".into())),
    }
}
