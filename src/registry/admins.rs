//! Who may use the admin API, and for what (issue 26): people signed in through Cloudflare
//! Access with a role from `ADMIN_ROLES`, clients holding a management token (an access token
//! of ours for the built-in resource `{ISSUER}/admin`) with its scopes, and the break-glass
//! `ADMIN_TOKEN`. Each admin route names the one [`Permission`] it needs (`crate::admin`).

use serde_json::Value;

use crate::error::Error;
use crate::registry::resources::{Resource, ResourceId, ResourceScope};
use crate::registry::scope::Scope;
use crate::support::json;

/// What an admin route may need.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Permission {
    /// Every read.
    ClientsRead,
    /// Changes to clients, their secrets, keys, certificates and federated credentials.
    ClientsWrite,
    /// Revoking tokens and introspecting them.
    TokensRevoke,
    /// Changes to resources, and granting `admin:*` scopes.
    ResourcesWrite,
    /// Rotating and revoking signing keys.
    KeysWrite,
}

/// Every permission, in the order `/admin/me` lists them.
pub const PERMISSIONS: [Permission; 5] = [
    Permission::ClientsRead,
    Permission::ClientsWrite,
    Permission::TokensRevoke,
    Permission::ResourcesWrite,
    Permission::KeysWrite,
];

/// The built-in admin resource's scopes, one per permission in the order of [`PERMISSIONS`].
const SCOPES: [&str; 5] = [
    "admin:clients:read",
    "admin:clients:write",
    "admin:tokens:revoke",
    "admin:resources:write",
    "admin:keys:write",
];

impl Permission {
    /// The permission's name; the management scope is `admin:` and this name.
    pub fn name(self) -> &'static str {
        &self.scope()[SCOPE_PREFIX.len()..]
    }

    /// The scope of the built-in admin resource that confers it.
    pub fn scope(self) -> &'static str {
        SCOPES[self as usize]
    }

    fn bit(self) -> u8 {
        1 << self as u8
    }
}

/// A set of permissions.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Permissions(u8);

impl Permissions {
    /// Every permission: the break-glass token's.
    pub const ALL: Permissions = Permissions(0b1_1111);

    /// Whether `p` is in the set.
    pub fn has(self, p: Permission) -> bool {
        self.0 & p.bit() != 0
    }

    /// The permissions that the `admin:*` scopes among `scope` confer.
    pub fn from_scope(scope: &str) -> Permissions {
        let bit = |s: &str| SCOPES.iter().position(|x| *x == s).map_or(0, |i| 1 << i);
        Permissions(scope.split(' ').fold(0, |set, s| set | bit(s)))
    }

    /// The names of the permissions in the set.
    pub fn names(self) -> Vec<&'static str> {
        PERMISSIONS
            .iter()
            .filter(|p| self.has(**p))
            .map(|p| p.name())
            .collect()
    }
}

/// What the scopes of the built-in admin resource start with.
pub const SCOPE_PREFIX: &str = "admin:";

/// A person's role.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Role {
    /// Reads everything.
    Viewer,
    /// Also manages clients and revokes tokens.
    Operator,
    /// Everything.
    Admin,
}

impl Role {
    /// The role's name in `ADMIN_ROLES` and `/admin/me`.
    pub fn name(self) -> &'static str {
        match self {
            Role::Viewer => "viewer",
            Role::Operator => "operator",
            Role::Admin => "admin",
        }
    }

    /// What the role may do.
    pub fn permissions(self) -> Permissions {
        match self {
            Role::Viewer => Permissions(Permission::ClientsRead.bit()),
            Role::Operator => Permissions(
                Permission::ClientsRead.bit()
                    | Permission::ClientsWrite.bit()
                    | Permission::TokensRevoke.bit(),
            ),
            Role::Admin => Permissions::ALL,
        }
    }
}

/// One rule of `ADMIN_ROLES`: whom it names.
#[derive(Debug, Clone, PartialEq)]
enum Who {
    /// An identity (an email, or an Access service token's `common_name`), lower-cased.
    Exactly(String),
    /// `*@domain`: every email at the domain (lower-cased, without the `@`).
    Domain(String),
    /// `group:NAME`: members of an Access group, compared exactly.
    Group(String),
}

/// The parsed `ADMIN_ROLES` setting: a JSON object from whom to role.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Roles(Vec<(Who, Role)>);

/// Most rules `ADMIN_ROLES` may hold.
pub const MAX_ROLE_RULES: usize = 500;

impl Roles {
    /// Parses `{"alice@acme.com": "admin", "*@acme.com": "viewer", "group:sre": "operator"}`.
    pub fn parse(text: &str) -> Result<Roles, String> {
        const RULE: &str = "ADMIN_ROLES must be a JSON object mapping an email, *@domain or group:NAME to viewer, operator or admin";
        let doc: Value = json::from_slice(text.as_bytes()).map_err(|_| RULE)?;
        let map = doc
            .as_object()
            .filter(|m| m.len() <= MAX_ROLE_RULES)
            .ok_or(RULE)?;
        let mut rules = Vec::with_capacity(map.len());
        for (key, role) in map {
            let role = match role.as_str() {
                Some("viewer") => Role::Viewer,
                Some("operator") => Role::Operator,
                Some("admin") => Role::Admin,
                _ => return Err(RULE.into()),
            };
            let who = if let Some(group) = key.strip_prefix("group:") {
                Who::Group(group.to_string())
            } else if let Some(domain) = key.strip_prefix("*@") {
                Who::Domain(domain.to_ascii_lowercase())
            } else {
                Who::Exactly(key.to_ascii_lowercase())
            };
            let blank = matches!(&who, Who::Group(n) | Who::Domain(n) | Who::Exactly(n) if n.is_empty() || n.contains('*'));
            if blank {
                return Err(RULE.into());
            }
            rules.push((who, role));
        }
        Ok(Roles(rules))
    }

    /// The highest role any rule gives `identity` (compared without case) or its `groups`.
    pub fn role_of(&self, identity: &str, groups: &[String]) -> Option<Role> {
        let identity = identity.to_ascii_lowercase();
        let domain = identity.rsplit_once('@').map(|(_, d)| d);
        self.0
            .iter()
            .filter(|(who, _)| match who {
                Who::Exactly(x) => *x == identity,
                Who::Domain(d) => domain == Some(d.as_str()),
                Who::Group(g) => groups.iter().any(|m| m == g),
            })
            .map(|(_, role)| *role)
            .max()
    }
}

/// How a caller of the admin API authenticated.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Via {
    /// Cloudflare Access's `Cf-Access-Jwt-Assertion`.
    Access,
    /// A management token: our access token for `{ISSUER}/admin`.
    ManagementToken,
    /// The break-glass `ADMIN_TOKEN`.
    AdminToken,
}

impl Via {
    /// The name in `/admin/me` and audit events.
    pub fn name(self) -> &'static str {
        match self {
            Via::Access => "access",
            Via::ManagementToken => "management_token",
            Via::AdminToken => "admin_token",
        }
    }
}

/// An authenticated caller of the admin API.
#[derive(Debug, Clone, PartialEq)]
pub struct Principal {
    /// Who, as the audit trail names them: an email (or service token name), `client:<id>`,
    /// or the break-glass label.
    pub actor: String,
    /// How they authenticated.
    pub via: Via,
    /// A person's role; `None` for tokens.
    pub role: Option<Role>,
    /// What they may do.
    pub permissions: Permissions,
}

impl Principal {
    /// Refuses (403) unless the caller holds `needed`; `what` names the call refused.
    pub fn require(&self, needed: Permission, what: &str) -> Result<(), Error> {
        if self.permissions.has(needed) {
            return Ok(());
        }
        let held = match self.role {
            Some(role) => format!("role {}", role.name()),
            None => format!("scopes {}", self.scopes()),
        };
        Err(Error::Forbidden(format!(
            "{} ({held}) may not {what}: it needs {}",
            self.actor,
            needed.name()
        )))
    }

    /// The `admin:*` scopes a management token's permissions come from ("none" when empty).
    fn scopes(&self) -> String {
        let held: Vec<&str> = PERMISSIONS
            .iter()
            .filter(|p| self.permissions.has(**p))
            .map(|p| p.scope())
            .collect();
        match held.is_empty() {
            true => "none".into(),
            false => held.join(" "),
        }
    }
}

/// The path of the built-in admin resource below the issuer: its identifier is
/// `{ISSUER}/admin`.
pub const ADMIN_RESOURCE_PATH: &str = "/admin";

/// The built-in admin resource's id: fixed, so grants of it survive a change of issuer name,
/// and never made by [`ResourceId::generate`] (its random bits are all zero).
pub const ADMIN_RESOURCE_ID: &str = "00000000-0000-4000-8000-000000000000";

/// Whether `id` is the built-in admin resource's.
pub fn is_admin_resource(id: &ResourceId) -> bool {
    id.as_str() == ADMIN_RESOURCE_ID
}

/// The built-in admin resource of `issuer`: never stored, never changed, granted like any
/// other resource; its scopes are the permissions.
pub fn admin_resource(issuer: &str) -> Resource {
    Resource {
        resource_id: ResourceId::parse(ADMIN_RESOURCE_ID).unwrap_or_else(|| unreachable!()),
        identifier: format!("{issuer}{ADMIN_RESOURCE_PATH}"),
        name: "edgeauth admin API".into(),
        scopes: PERMISSIONS
            .iter()
            .map(|p| ResourceScope {
                value: p.scope().to_string(),
                description: String::new(),
            })
            .collect(),
        access_token_lifetime: None,
        provider_client_id: None,
        created_at: 0,
        updated_at: 0,
    }
}

/// Whether granting `scope` of the admin resource to a client that held `before` of it gives
/// something new: that needs `resources:write`.
pub fn widens(scope: &Scope, before: Option<&Scope>) -> bool {
    match before {
        Some(b) => scope.first_outside(b).is_some(),
        None => !scope.tokens().is_empty(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_highest_role_that_applies_wins_and_emails_ignore_case() {
        let roles = Roles::parse(
            r#"{"Alice@Acme.com":"admin","*@acme.com":"viewer","group:sre":"operator"}"#,
        )
        .unwrap();
        let none: &[String] = &[];
        assert_eq!(roles.role_of("alice@acme.COM", none), Some(Role::Admin));
        assert_eq!(roles.role_of("bob@acme.com", none), Some(Role::Viewer));
        let sre = ["sre".to_string()];
        assert_eq!(roles.role_of("bob@acme.com", &sre), Some(Role::Operator));
        assert_eq!(roles.role_of("eve@acme.com.evil", none), None);
        assert_eq!(roles.role_of("eve@evil.test", &["SRE".into()]), None);
    }

    #[test]
    fn bad_role_settings_are_refused() {
        for bad in [
            "[]",
            "{",
            r#"{"a@b":"root"}"#,
            r#"{"a@b":1}"#,
            r#"{"":"admin"}"#,
            r#"{"group:":"admin"}"#,
            r#"{"*@":"admin"}"#,
            r#"{"*":"admin"}"#,
        ] {
            assert!(Roles::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn roles_hold_the_permissions_of_the_table() {
        let names = |r: Role| r.permissions().names().join(" ");
        assert_eq!(names(Role::Viewer), "clients:read");
        assert_eq!(
            names(Role::Operator),
            "clients:read clients:write tokens:revoke"
        );
        assert_eq!(
            names(Role::Admin),
            "clients:read clients:write tokens:revoke resources:write keys:write"
        );
    }

    #[test]
    fn management_scopes_map_to_permissions_and_others_to_nothing() {
        let p = Permissions::from_scope("read admin:clients:read admin:keys:write admin:root");
        assert_eq!(p.names(), ["clients:read", "keys:write"]);
        assert_eq!(Permissions::from_scope("clients:read"), Permissions(0));
    }

    #[test]
    fn a_refusal_names_who_what_and_the_permission() {
        let viewer = Principal {
            actor: "bob@acme.com".into(),
            via: Via::Access,
            role: Some(Role::Viewer),
            permissions: Role::Viewer.permissions(),
        };
        assert!(viewer.require(Permission::ClientsRead, "x").is_ok());
        let e = viewer
            .require(Permission::KeysWrite, "POST /admin/keys/rotate")
            .unwrap_err();
        assert_eq!(e.status(), 403);
        assert_eq!(
            e.description(),
            "bob@acme.com (role viewer) may not POST /admin/keys/rotate: it needs keys:write"
        );
        let token = Principal {
            actor: "client:c1".into(),
            via: Via::ManagementToken,
            role: None,
            permissions: Permissions::from_scope("admin:clients:read"),
        };
        let e = token
            .require(Permission::ClientsWrite, "POST /admin/clients")
            .unwrap_err();
        assert_eq!(
            e.description(),
            "client:c1 (scopes admin:clients:read) may not POST /admin/clients: it needs clients:write"
        );
    }

    #[test]
    fn the_admin_resource_has_one_scope_per_permission_and_its_fixed_id() {
        let r = admin_resource("https://auth.test");
        assert_eq!(r.identifier, "https://auth.test/admin");
        assert!(is_admin_resource(&r.resource_id));
        assert_eq!(
            r.scope_set().to_string(),
            "admin:clients:read admin:clients:write admin:tokens:revoke admin:resources:write admin:keys:write"
        );
    }
}
