//! The one audience model: where a client's tokens may be for, and with which scopes. Each
//! [`Grant`] names an audience and the scopes the client may hold there.
//!
//! Registered resources (RFC 8707) are the general case. The older flat fields of a client
//! (`scope` and `resources`: plain audience URIs, all with the one flat scope, and the issuer
//! as the audience when there is nothing else) are sugar: they are read and written at the
//! edges (admin input and output, the stored record) and become grants here, so the token
//! endpoint knows one model.

use serde::{Deserialize, Serialize};

use crate::registry::resources::{ResourceGrant, ResourceId};
use crate::registry::scope::Scope;

/// What a token can be for.
#[derive(Debug, Clone, PartialEq)]
pub enum Audience {
    /// A registered resource: its identifier is the token's `aud`.
    Resource {
        /// The resource's identifier.
        identifier: String,
        /// The resource's id, for reading its current scopes and lifetime cap.
        resource_id: ResourceId,
    },
    /// An audience URI that is not a registered resource.
    Uri(String),
    /// The issuer itself: the audience when nothing else is granted.
    Issuer,
}

/// An audience with the scopes the client may hold for it.
#[derive(Debug, Clone, PartialEq)]
pub struct Grant {
    /// The audience.
    pub audience: Audience,
    /// The scopes (for a registered resource, still limited to its current scopes).
    pub scope: Scope,
}

/// A client's grants, in the order they are chosen: registered resources, then plain URIs,
/// then the issuer (always present, last), so the first grant is the default audience.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(from = "Stored", into = "Stored")]
pub struct Grants(Vec<Grant>);

/// The stored and admin-facing shape: flat scope and URIs, and registered grants.
#[derive(Serialize, Deserialize)]
struct Stored {
    #[serde(default)]
    scope: Scope,
    #[serde(default)]
    resources: Vec<String>,
    #[serde(default)]
    grants: Vec<ResourceGrant>,
}

impl Default for Grants {
    fn default() -> Self {
        Grants::from_parts(Vec::new(), Vec::new(), Scope::default())
    }
}

impl Grants {
    /// The grants stored as registered grants, plain URIs and their plain scope.
    pub(crate) fn from_parts(
        registered: Vec<ResourceGrant>,
        uris: Vec<String>,
        plain: Scope,
    ) -> Grants {
        let registered = registered.into_iter().map(|g| Grant {
            audience: Audience::Resource {
                identifier: g.resource,
                resource_id: g.resource_id,
            },
            scope: g.scope,
        });
        let uris = uris.into_iter().map(|u| Grant {
            audience: Audience::Uri(u),
            scope: plain.clone(),
        });
        let issuer = Grant {
            audience: Audience::Issuer,
            scope: plain.clone(),
        };
        Grants(registered.chain(uris).chain([issuer]).collect())
    }

    /// The grant for an explicitly requested audience; the issuer is never granted by name.
    pub fn for_resource(&self, resource: &str) -> Option<&Grant> {
        self.0.iter().find(|g| match &g.audience {
            Audience::Resource { identifier, .. } => identifier == resource,
            Audience::Uri(uri) => uri == resource,
            Audience::Issuer => false,
        })
    }

    /// The grant used when no audience is requested.
    pub fn default_grant(&self) -> &Grant {
        // from_parts always ends with the issuer, so there is a first grant.
        &self.0[0]
    }

    /// Every scope the client may hold in some token: a secret's scope limit stays within it.
    pub fn all_scopes(&self) -> Scope {
        let text: Vec<String> = self.0.iter().map(|g| g.scope.to_string()).collect();
        // Each part already parsed, so the union does too; the token cap is the only risk.
        Scope::parse(&text.join(" ")).unwrap_or_else(|_| self.plain_scope().clone())
    }

    /// Whether a registered resource is granted.
    pub fn grants_resource(&self, id: &ResourceId) -> bool {
        self.0.iter().any(
            |g| matches!(&g.audience, Audience::Resource { resource_id, .. } if resource_id == id),
        )
    }

    /// The flat scope (sugar): the issuer's and every plain URI's scopes.
    pub fn plain_scope(&self) -> &Scope {
        &self.0[self.0.len() - 1].scope
    }

    /// The plain audience URIs (sugar), in order.
    pub fn plain_uris(&self) -> Vec<String> {
        self.0
            .iter()
            .filter_map(|g| match &g.audience {
                Audience::Uri(u) => Some(u.clone()),
                _ => None,
            })
            .collect()
    }

    /// The registered grants, in the stored and admin-facing shape.
    pub fn registered(&self) -> impl Iterator<Item = ResourceGrant> + '_ {
        self.0.iter().filter_map(|g| match &g.audience {
            Audience::Resource {
                identifier,
                resource_id,
            } => Some(ResourceGrant {
                resource: identifier.clone(),
                resource_id: resource_id.clone(),
                scope: g.scope.clone(),
            }),
            _ => None,
        })
    }

    /// Replaces the flat scope.
    pub fn set_plain_scope(&mut self, scope: Scope) {
        *self = Grants::from_parts(self.registered().collect(), self.plain_uris(), scope);
    }

    /// Replaces the plain audience URIs.
    pub fn set_plain_uris(&mut self, uris: Vec<String>) {
        *self = Grants::from_parts(
            self.registered().collect(),
            uris,
            self.plain_scope().clone(),
        );
    }

    /// Replaces the registered grants.
    pub fn set_registered(&mut self, registered: Vec<ResourceGrant>) {
        *self = Grants::from_parts(registered, self.plain_uris(), self.plain_scope().clone());
    }
}

impl From<Stored> for Grants {
    fn from(s: Stored) -> Grants {
        Grants::from_parts(s.grants, s.resources, s.scope)
    }
}

impl From<Grants> for Stored {
    fn from(g: Grants) -> Stored {
        Stored {
            scope: g.plain_scope().clone(),
            resources: g.plain_uris(),
            grants: g.registered().collect(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn grants(json: &str) -> Grants {
        serde_json::from_str(json).unwrap()
    }

    const RID: &str = "0f8fad5b-d9cb-469f-a165-70867728950e";

    #[test]
    fn registered_resources_then_uris_then_the_issuer() {
        let g = grants(&format!(
            r#"{{"scope":"a","resources":["urn:x"],"grants":[{{"resource":"urn:r","resource_id":"{RID}","scope":"b"}}]}}"#
        ));
        let audiences: Vec<&Audience> = g.0.iter().map(|g| &g.audience).collect();
        assert!(matches!(
            audiences[..],
            [
                Audience::Resource { .. },
                Audience::Uri(_),
                Audience::Issuer
            ]
        ));
        assert_eq!(g.default_grant().scope.to_string(), "b");
        assert_eq!(g.for_resource("urn:x").unwrap().scope.to_string(), "a");
        assert_eq!(g.all_scopes().to_string(), "b a");
        assert!(g.for_resource("urn:nope").is_none());
    }

    #[test]
    fn flat_fields_round_trip_and_default_to_the_issuer() {
        let json = format!(
            r#"{{"scope":"a b","resources":["urn:x","urn:y"],"grants":[{{"resource":"urn:r","resource_id":"{RID}","scope":"c"}}]}}"#
        );
        let g = grants(&json);
        let back = serde_json::to_value(&g).unwrap();
        assert_eq!(
            back,
            serde_json::from_str::<serde_json::Value>(&json).unwrap()
        );
        let empty = grants("{}");
        assert_eq!(empty.default_grant().audience, Audience::Issuer);
        assert_eq!(
            serde_json::to_value(&empty).unwrap(),
            serde_json::json!({"scope": "", "resources": [], "grants": []})
        );
    }

    #[test]
    fn changing_the_flat_scope_changes_every_plain_audience() {
        let mut g = grants(r#"{"scope":"a","resources":["urn:x"]}"#);
        g.set_plain_scope(Scope::parse("z").unwrap());
        assert_eq!(g.for_resource("urn:x").unwrap().scope.to_string(), "z");
        assert_eq!(g.default_grant().scope.to_string(), "z");
        g.set_plain_uris(Vec::new());
        assert_eq!(g.default_grant().audience, Audience::Issuer);
        assert_eq!(g.plain_scope().to_string(), "z");
    }
}
