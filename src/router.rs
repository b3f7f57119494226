//! All routes in one place, and the one place errors become responses.

use crate::context::Ctx;
use crate::error::Error;
use crate::http::{respond, Method, Request, Response};
use crate::oauth::discovery::{self, INTROSPECTION_PATH, JWKS_PATH, REVOCATION_PATH, TOKEN_PATH};
use crate::oauth::introspect::ADMIN_INTROSPECT_PATH;
use crate::oauth::revocation::ADMIN_REVOKE_PATH;
use crate::{admin, oauth};

/// Answers one request. Never panics on input; every failure is a protocol error response.
pub async fn handle(ctx: &Ctx<'_>, req: &Request) -> Response {
    let response = match route(ctx, req).await {
        Ok(r) => r,
        Err(e) => respond::error(e),
    };
    response.with_header("x-content-type-options", "nosniff")
}

/// The largest body a route accepts: the shell stops reading there, so an oversized body (with
/// or without `Content-Length`) is refused before it is read whole.
pub fn max_body(path: &str) -> usize {
    if path == TOKEN_PATH {
        oauth::token::MAX_TOKEN_BODY
    } else if path == INTROSPECTION_PATH || path == ADMIN_INTROSPECT_PATH {
        oauth::introspect::MAX_INTROSPECTION_BODY
    } else if path == REVOCATION_PATH || path == ADMIN_REVOKE_PATH {
        oauth::revocation::MAX_REVOCATION_BODY
    } else {
        admin::MAX_ADMIN_BODY
    }
}

/// The admin routes `oauth` answers, as it knows how to check a token: their permissions are
/// declared in the admin route table.
const TOKEN_ROUTES: admin::TokenRoutes = admin::TokenRoutes {
    introspect: |ctx, req| Box::pin(oauth::introspect::admin_handle(ctx, req)),
    revoke: |ctx, req| Box::pin(oauth::revocation::admin_handle(ctx, req)),
};

async fn route(ctx: &Ctx<'_>, req: &Request) -> Result<Response, Error> {
    use Method::*;
    let read = matches!(req.method, Get | Head);
    match req.path.as_str() {
        "/healthz" if read => Ok(Response::json_text(200, r#"{"status":"ok"}"#)),
        "/.well-known/oauth-authorization-server" | "/.well-known/openid-configuration" if read => {
            Ok(discovery::metadata(ctx.config, &req.origin))
        }
        JWKS_PATH if read => discovery::jwks(ctx).await,
        "/healthz"
        | "/.well-known/oauth-authorization-server"
        | "/.well-known/openid-configuration"
        | JWKS_PATH => Err(Error::MethodNotAllowed("GET, HEAD")),
        TOKEN_PATH if req.method == Post => oauth::token::handle(ctx, req).await,
        TOKEN_PATH => Err(Error::MethodNotAllowed("POST")),
        INTROSPECTION_PATH if req.method == Post => oauth::introspect::handle(ctx, req).await,
        INTROSPECTION_PATH => Err(Error::MethodNotAllowed("POST")),
        REVOCATION_PATH if req.method == Post => oauth::revocation::handle(ctx, req).await,
        REVOCATION_PATH => Err(Error::MethodNotAllowed("POST")),
        p if p.starts_with("/admin/") => {
            let who = ctx.set_principal(oauth::admins::authenticate(ctx, req).await?);
            admin::route(ctx, req, who, &TOKEN_ROUTES).await
        }
        _ => Err(Error::NotFound("no such endpoint".into())),
    }
}
