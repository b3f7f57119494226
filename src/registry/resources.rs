//! Resources (APIs a token can be for, RFC 8707) and their permission groups (scopes), and
//! the grants that give a client some of a resource's scopes.
//!
//! A grant carries the resource's id as well as its identifier, so the token endpoint reads the
//! resource by id (cached in the isolate) and never needs the identifier index
//! ([`crate::registry::keyspace`]).

use serde::{Deserialize, Serialize};

use crate::error::Error;
use crate::registry::client_id::ClientId;
use crate::registry::lifetime::token_lifetime;
use crate::registry::scope::Scope;
use crate::support::json::present;
use crate::support::text::{is_clean, is_visible, printable};
use crate::support::uri::is_resource_uri;

/// Longest resource identifier.
pub const MAX_IDENTIFIER: usize = 512;
/// Longest resource name.
pub const MAX_NAME: usize = 200;
/// Longest description of a resource scope.
pub const MAX_SCOPE_DESCRIPTION: usize = 200;
/// Most scopes a resource may define.
pub const MAX_RESOURCE_SCOPES: usize = 64;
/// Most grants a client may hold.
pub const MAX_GRANTS: usize = 20;

crate::registry::uuid_id!(
    ResourceId,
    "resource_id",
    "A resource identifier: a lower-case hyphenated UUID v4, made by the server."
);

/// Access to one registered resource with some of its scopes.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ResourceGrant {
    /// The resource's identifier: the token's `aud` and the `resource` parameter's value.
    pub resource: String,
    /// The resource's id, resolved when the grant was made (identifiers never change).
    pub resource_id: ResourceId,
    /// Granted scopes, a subset of the resource's scopes when granted.
    pub scope: Scope,
}

/// Admin input for one grant: a resource identifier and the scopes granted on it.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GrantInput {
    /// The resource's identifier.
    pub resource: String,
    /// Space-separated scopes; absent means none.
    #[serde(default)]
    pub scope: String,
    /// Ignored on input (the server resolves it), accepted so a read grant can be sent back.
    #[serde(default, rename = "resource_id")]
    #[allow(dead_code)]
    ignored_resource_id: Option<serde::de::IgnoredAny>,
}

/// One permission group of a resource.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ResourceScope {
    /// The scope token.
    pub value: String,
    /// What it allows, for admins.
    #[serde(default)]
    pub description: String,
}

/// A registered resource (an API).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Resource {
    /// Server-made UUID.
    pub resource_id: ResourceId,
    /// Absolute URI or URN, unique; the `aud` of its tokens. Never changes.
    pub identifier: String,
    /// Display name.
    pub name: String,
    /// Its permission groups.
    #[serde(default)]
    pub scopes: Vec<ResourceScope>,
    /// Longest lifetime of tokens for it, in seconds; `None`: the client's lifetime.
    #[serde(default)]
    pub access_token_lifetime: Option<u32>,
    /// The client that serves the API (its provider), if named: the client that may exchange
    /// tokens for this resource. A client providing a resource cannot be deleted.
    #[serde(default)]
    pub provider_client_id: Option<ClientId>,
    /// Creation time (epoch seconds).
    pub created_at: u64,
    /// Last change (epoch seconds).
    pub updated_at: u64,
}

impl Resource {
    /// The resource's scopes as a set.
    pub fn scope_set(&self) -> Scope {
        let text: Vec<&str> = self.scopes.iter().map(|s| s.value.as_str()).collect();
        // Values were validated as scope tokens on the way in.
        Scope::parse(&text.join(" ")).unwrap_or_default()
    }
}

/// Admin input for creating or changing a resource; absent fields are left alone.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ResourceInput {
    /// The identifier, at creation (an unchanged value is accepted on update).
    pub identifier: Option<String>,
    /// Display name.
    pub name: Option<String>,
    /// The full list of permission groups.
    pub scopes: Option<Vec<ResourceScope>>,
    /// Token lifetime cap; `null` removes it.
    #[serde(default, deserialize_with = "present")]
    pub access_token_lifetime: Option<Option<i64>>,
    /// The providing client; `null` removes it. Its existence is the admin API's to check.
    #[serde(default, deserialize_with = "present")]
    pub provider_client_id: Option<Option<String>>,
}

/// What a `provider_client_id` that names no client is told.
pub const UNKNOWN_PROVIDER: &str =
    "provider_client_id must be the client_id of a registered client";

impl ResourceInput {
    /// The provider this input names, parsed: `Some(None)` to remove it, `None` to leave it.
    /// An id that is not a client id is refused here; whether the client exists is checked by
    /// the caller, who can read the registry.
    pub fn provider(&self) -> Result<Option<Option<ClientId>>, Error> {
        match &self.provider_client_id {
            None => Ok(None),
            Some(None) => Ok(Some(None)),
            Some(Some(id)) => ClientId::parse(id)
                .map(|id| Some(Some(id)))
                .ok_or_else(|| Error::invalid_metadata(UNKNOWN_PROVIDER)),
        }
    }

    /// Names of the fields this input sets, for the audit trail.
    pub fn field_names(&self) -> Vec<&'static str> {
        [
            ("identifier", self.identifier.is_some()),
            ("name", self.name.is_some()),
            ("scopes", self.scopes.is_some()),
            (
                "access_token_lifetime",
                self.access_token_lifetime.is_some(),
            ),
            ("provider_client_id", self.provider_client_id.is_some()),
        ]
        .into_iter()
        .filter_map(|(n, set)| set.then_some(n))
        .collect()
    }

    /// Builds a new resource.
    pub fn create(self, id: ResourceId, now: u64) -> Result<Resource, Error> {
        let identifier = self
            .identifier
            .clone()
            .ok_or_else(|| Error::invalid_metadata("identifier is required"))?;
        if !is_resource_uri(&identifier, MAX_IDENTIFIER) {
            return Err(Error::invalid_metadata(
                "identifier must be an absolute URI or URN without a fragment, at most 512 characters",
            ));
        }
        if self.name.is_none() {
            return Err(Error::invalid_metadata("name is required"));
        }
        let mut resource = Resource {
            resource_id: id,
            identifier,
            name: String::new(),
            scopes: Vec::new(),
            access_token_lifetime: None,
            provider_client_id: None,
            created_at: now,
            updated_at: now,
        };
        self.apply(&mut resource, now)?;
        Ok(resource)
    }

    /// Applies the given fields, validating each.
    pub fn apply(self, resource: &mut Resource, now: u64) -> Result<(), Error> {
        let provider = self.provider()?;
        if self.identifier.is_some_and(|i| i != resource.identifier) {
            return Err(Error::invalid_metadata(
                "identifier cannot be changed; register a new resource",
            ));
        }
        if let Some(name) = self.name {
            if !is_visible(&name) || name.chars().count() > MAX_NAME || !is_clean(&name, false) {
                return Err(Error::invalid_metadata(
                    "name must be 1 to 200 characters, without control characters",
                ));
            }
            resource.name = name;
        }
        if let Some(scopes) = self.scopes {
            resource.scopes = validate_scopes(scopes)?;
        }
        if let Some(lifetime) = self.access_token_lifetime {
            resource.access_token_lifetime = lifetime.map(token_lifetime).transpose()?;
        }
        if let Some(provider) = provider {
            resource.provider_client_id = provider;
        }
        resource.updated_at = now;
        Ok(())
    }
}

fn validate_scopes(scopes: Vec<ResourceScope>) -> Result<Vec<ResourceScope>, Error> {
    if scopes.len() > MAX_RESOURCE_SCOPES {
        return Err(Error::invalid_metadata(format!(
            "a resource has at most {MAX_RESOURCE_SCOPES} scopes"
        )));
    }
    let mut seen: Vec<&str> = Vec::new();
    for s in &scopes {
        let parsed = Scope::parse(&s.value).map_err(Error::invalid_metadata)?;
        if parsed.tokens().len() != 1 {
            return Err(Error::invalid_metadata(
                "each scope value must be one scope token",
            ));
        }
        if seen.contains(&s.value.as_str()) {
            return Err(Error::invalid_metadata(format!(
                "scope '{}' is listed twice",
                s.value
            )));
        }
        if s.description.chars().count() > MAX_SCOPE_DESCRIPTION || !is_clean(&s.description, false)
        {
            return Err(Error::invalid_metadata(
                "scope descriptions must be at most 200 characters, without control characters",
            ));
        }
        seen.push(&s.value);
    }
    Ok(scopes)
}

/// Checks grant input against the registered resources: each resource must exist, once, and
/// the scopes must be among its scopes. `lookup` finds a resource by identifier.
pub async fn resolve_grants<F, Fut>(
    inputs: Vec<GrantInput>,
    lookup: F,
) -> Result<Vec<ResourceGrant>, Error>
where
    F: Fn(String) -> Fut,
    Fut: std::future::Future<Output = Result<Option<Resource>, Error>>,
{
    if inputs.len() > MAX_GRANTS {
        return Err(Error::invalid_metadata(format!(
            "at most {MAX_GRANTS} grants"
        )));
    }
    let mut grants: Vec<ResourceGrant> = Vec::with_capacity(inputs.len());
    for input in inputs {
        if grants.iter().any(|g| g.resource == input.resource) {
            return Err(Error::invalid_metadata(format!(
                "grants name resource '{}' twice",
                printable(&input.resource)
            )));
        }
        let scope = Scope::parse(&input.scope).map_err(Error::invalid_metadata)?;
        let unknown = || {
            Error::invalid_metadata(format!(
                "no registered resource has the identifier '{}'",
                printable(&input.resource)
            ))
        };
        if input.resource.len() > MAX_IDENTIFIER
            || !crate::support::uri::is_absolute_uri(&input.resource)
        {
            return Err(unknown());
        }
        let resource = lookup(input.resource.clone()).await?.ok_or_else(unknown)?;
        if let Some(extra) = scope.first_outside(&resource.scope_set()) {
            return Err(Error::invalid_metadata(format!(
                "scope '{extra}' is not among the scopes of resource '{}'",
                resource.identifier
            )));
        }
        grants.push(ResourceGrant {
            resource: resource.identifier,
            resource_id: resource.resource_id,
            scope,
        });
    }
    Ok(grants)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn input(json: &str) -> ResourceInput {
        serde_json::from_str(json).unwrap()
    }

    fn id() -> ResourceId {
        ResourceId::parse("0f8fad5b-d9cb-469f-a165-70867728950e").unwrap()
    }

    #[test]
    fn identifiers_are_absolute_uris_or_urns() {
        for bad in ["api", "https://a#b", "a b:c"] {
            let e = input(&format!(r#"{{"identifier":"{bad}","name":"n"}}"#))
                .create(id(), 0)
                .unwrap_err();
            assert_eq!(e.status(), 422, "{bad}");
        }
        for good in ["https://api.test/v1", "urn:example:billing"] {
            let r = input(&format!(r#"{{"identifier":"{good}","name":"n"}}"#))
                .create(id(), 0)
                .unwrap();
            assert_eq!(r.identifier, good);
        }
    }

    #[test]
    fn scopes_are_single_unique_tokens() {
        for bad in [
            r#"[{"value":"a b"}]"#,
            r#"[{"value":"a"},{"value":"a"}]"#,
            r#"[{"value":""}]"#,
        ] {
            let e = input(&format!(
                r#"{{"identifier":"urn:x","name":"n","scopes":{bad}}}"#
            ))
            .create(id(), 0)
            .unwrap_err();
            assert_eq!(e.status(), 422, "{bad}");
        }
    }

    #[test]
    fn lifetime_null_removes_the_cap() {
        let mut r = input(r#"{"identifier":"urn:x","name":"n","access_token_lifetime":600}"#)
            .create(id(), 0)
            .unwrap();
        assert_eq!(r.access_token_lifetime, Some(600));
        input(r#"{"name":"m"}"#).apply(&mut r, 1).unwrap();
        assert_eq!(r.access_token_lifetime, Some(600));
        input(r#"{"access_token_lifetime":null}"#)
            .apply(&mut r, 1)
            .unwrap();
        assert_eq!(r.access_token_lifetime, None);
    }

    #[test]
    fn the_provider_is_a_client_id_and_null_removes_it() {
        let provider = "7c9e6679-7425-40de-944b-e07fc1f90ae7";
        let mut r = input(&format!(
            r#"{{"identifier":"urn:x","name":"n","provider_client_id":"{provider}"}}"#
        ))
        .create(id(), 0)
        .unwrap();
        assert_eq!(
            r.provider_client_id.as_ref().map(|c| c.as_str()),
            Some(provider)
        );
        input(r#"{"name":"m"}"#).apply(&mut r, 1).unwrap();
        assert!(r.provider_client_id.is_some(), "absent leaves it");
        let e = input(r#"{"provider_client_id":"nope"}"#)
            .apply(&mut r, 1)
            .unwrap_err();
        assert_eq!(e.description(), UNKNOWN_PROVIDER);
        input(r#"{"provider_client_id":null}"#)
            .apply(&mut r, 1)
            .unwrap();
        assert_eq!(r.provider_client_id, None);
    }

    #[test]
    fn the_identifier_never_changes() {
        let mut r = input(r#"{"identifier":"urn:x","name":"n"}"#)
            .create(id(), 0)
            .unwrap();
        assert!(input(r#"{"identifier":"urn:x"}"#).apply(&mut r, 1).is_ok());
        assert_eq!(
            input(r#"{"identifier":"urn:y"}"#)
                .apply(&mut r, 1)
                .unwrap_err()
                .description(),
            "identifier cannot be changed; register a new resource"
        );
    }
}
