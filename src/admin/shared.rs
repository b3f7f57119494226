//! The steps admin handlers share: reading a JSON body, path ids, pages with sealed cursors, and
//! recording a change in the audit trail.

use serde::de::DeserializeOwned;
use serde::Serialize;
use subtle::ConstantTimeEq;

use crate::context::{Actor, Ctx};
use crate::error::Error;
use crate::http::{Request, Response};
use crate::registry::audit::{Action, Subject};
use crate::registry::clients::{ClientId, ClientRecord};
use crate::support::b64::{b64url, b64url_decode};

/// Largest admin request body accepted.
pub const MAX_ADMIN_BODY: usize = 64 * 1024;
const DEFAULT_PAGE: usize = 50;
const MAX_PAGE: usize = 100;

/// Parses a JSON admin body.
pub(super) fn json_body<T: DeserializeOwned>(req: &Request) -> Result<T, Error> {
    req.json(MAX_ADMIN_BODY)
}

/// A path id parsed by `parse`, or 404 naming `what`.
pub(super) fn path_id<T>(text: &str, parse: fn(&str) -> Option<T>, what: &str) -> Result<T, Error> {
    parse(text).ok_or_else(|| not_found(what))
}

pub(super) fn not_found(what: &str) -> Error {
    Error::NotFound(format!("no such {what}").into())
}

/// The stored client named in the path, or 404.
pub(super) async fn load_client(ctx: &Ctx<'_>, id: &str) -> Result<ClientRecord, Error> {
    let id = path_id(id, ClientId::parse, "client")?;
    ctx.client(&id).await?.ok_or_else(|| not_found("client"))
}

/// Parses `limit` and `cursor` of a listing; answers the store's own cursor.
pub(super) fn page_params(ctx: &Ctx<'_>, req: &Request) -> Result<(usize, Option<String>), Error> {
    let query = req.query_form()?;
    let limit = match query.get("limit") {
        None => DEFAULT_PAGE,
        Some(l) => l
            .parse::<usize>()
            .ok()
            .filter(|l| (1..=MAX_PAGE).contains(l))
            .ok_or_else(|| Error::invalid_request(format!("limit must be 1 to {MAX_PAGE}")))?,
    };
    let cursor = query
        .get("cursor")
        .map(|c| open_cursor(ctx, c))
        .transpose()?;
    Ok((limit, cursor))
}

/// One page of a listing: `{<name>: items, "next_cursor": ...}`.
pub(super) fn listing(
    ctx: &Ctx<'_>,
    name: &'static str,
    items: impl Serialize,
    next: Option<&str>,
) -> Response {
    let next = next.map(|c| seal_cursor(ctx, c));
    Response::json(200, &Listing { name, items, next })
}

/// A page written straight to the body, members in name order as a JSON map writes them:
/// through `json!`, every item was first copied into a `Value` (a second serializer for each
/// item type, about 1 KB of wasm gzipped).
struct Listing<T> {
    name: &'static str,
    items: T,
    next: Option<String>,
}

impl<T: Serialize> Serialize for Listing<T> {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeMap;
        const NEXT: &str = "next_cursor";
        let mut map = s.serialize_map(Some(2))?;
        if self.name > NEXT {
            map.serialize_entry(NEXT, &self.next)?;
        }
        map.serialize_entry(self.name, &self.items)?;
        if self.name < NEXT {
            map.serialize_entry(NEXT, &self.next)?;
        }
        map.end()
    }
}

const CURSOR_LABEL: &str = "pagination cursor";

/// The store's cursor, sealed with a MAC: a cursor that comes back tampered is refused here
/// (400) instead of reaching the store, whose answer to one is an error (or, in some runtimes,
/// an arbitrary page).
fn seal_cursor(ctx: &Ctx<'_>, cursor: &str) -> String {
    let tag = ctx.config.pepper.tag(CURSOR_LABEL, cursor.as_bytes());
    format!("{}.{}", b64url(cursor), b64url(&tag[..16]))
}

fn open_cursor(ctx: &Ctx<'_>, sealed: &str) -> Result<String, Error> {
    let invalid = || Error::invalid_request("invalid cursor");
    let (data, tag) = sealed.split_once('.').ok_or_else(invalid)?;
    let cursor = b64url_decode(data).ok_or_else(invalid)?;
    let tag = b64url_decode(tag).ok_or_else(invalid)?;
    let expected = ctx.config.pepper.tag(CURSOR_LABEL, &cursor);
    if !bool::from(expected[..16].ct_eq(&tag)) {
        return Err(invalid());
    }
    String::from_utf8(cursor).map_err(|_| invalid())
}

/// Records an admin change and answers `response`. The change has already been made, so an
/// audit failure leaves the answer a success and goes to the Worker log instead.
pub(super) async fn audited(
    ctx: &Ctx<'_>,
    action: Action,
    subject: Subject<'_>,
    detail: String,
    mut response: Response,
) -> Response {
    if let Err(e) = ctx.audit(Actor::Admin, action, subject, detail).await {
        response.log = Some(format!("audit event not recorded: {e:?}"));
    }
    response
}

/// "changed a, b" (or "changed nothing") for the audit trail: field names, never values.
pub(super) fn changed(fields: &[&str]) -> String {
    match fields {
        [] => "changed nothing".to_string(),
        _ => format!("changed {}", fields.join(", ")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_listing_writes_its_members_in_name_order() {
        let page = |name| {
            let next = Some("c".to_string());
            serde_json::to_string(&Listing {
                name,
                items: [1],
                next,
            })
            .unwrap()
        };
        assert_eq!(page("clients"), r#"{"clients":[1],"next_cursor":"c"}"#);
        assert_eq!(page("resources"), r#"{"next_cursor":"c","resources":[1]}"#);
    }
}
