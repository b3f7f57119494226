//! Clients (applications): identifiers, registration metadata and its validation.
//!
//! Stored in KV under `client:{client_id}` as `{"client": Client, "secrets": [StoredSecret]}`,
//! one key per client so the token endpoint needs one read (see DESIGN notes in README).

use serde::{Deserialize, Serialize};

use crate::error::Error;
use crate::jose::{jwk_from_pem, validate_jwks, PublicJwk};
use crate::lockout::GuardState;
use crate::platform::Random;
use crate::resources::ResourceId;
use crate::scope::Scope;
use crate::secrets::{SecretMeta, StoredSecret};

/// Token lifetime bounds and default, in seconds.
pub const MIN_LIFETIME: u32 = 60;
/// Longest access-token lifetime a client may have (24 h).
pub const MAX_LIFETIME: u32 = 86_400;
/// Default access-token lifetime (1 h).
pub const DEFAULT_LIFETIME: u32 = 3_600;
/// Longest client name.
pub const MAX_NAME: usize = 200;
/// Longest client description.
pub const MAX_DESCRIPTION: usize = 1_000;
/// Most flat resources (audiences) a client may list.
pub const MAX_RESOURCES: usize = 20;
/// Longest flat resource URI.
pub const MAX_RESOURCE_LEN: usize = 512;

/// A client identifier: a lower-case hyphenated UUID v4.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct ClientId(String);

impl ClientId {
    /// Parses an identifier; anything but a canonical UUID is refused.
    pub fn parse(text: &str) -> Option<ClientId> {
        is_uuid(text).then(|| ClientId(text.to_string()))
    }

    /// Makes a fresh random UUID v4 (RFC 9562 section 5.4).
    pub fn generate(rng: &impl Random) -> Result<ClientId, Error> {
        uuid_v4(rng).map(ClientId)
    }

    /// The identifier text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A fresh random UUID v4 (RFC 9562 section 5.4), lower-case and hyphenated.
pub fn uuid_v4(rng: &impl Random) -> Result<String, Error> {
    let mut b = [0u8; 16];
    rng.fill(&mut b)?;
    b[6] = (b[6] & 0x0f) | 0x40;
    b[8] = (b[8] & 0x3f) | 0x80;
    let h: String = b.iter().map(|x| format!("{x:02x}")).collect();
    Ok(format!(
        "{}-{}-{}-{}-{}",
        &h[0..8],
        &h[8..12],
        &h[12..16],
        &h[16..20],
        &h[20..32]
    ))
}

/// Whether `text` is a canonical lower-case hyphenated UUID.
pub fn is_uuid(text: &str) -> bool {
    let b = text.as_bytes();
    b.len() == 36
        && b.iter().enumerate().all(|(i, c)| match i {
            8 | 13 | 18 | 23 => *c == b'-',
            _ => c.is_ascii_digit() || (b'a'..=b'f').contains(c),
        })
}

impl TryFrom<String> for ClientId {
    type Error = String;
    fn try_from(s: String) -> Result<Self, String> {
        ClientId::parse(&s).ok_or_else(|| "client_id is not a UUID".to_string())
    }
}

impl From<ClientId> for String {
    fn from(id: ClientId) -> String {
        id.0
    }
}

/// How a client authenticates at the token endpoint (RFC 7591 `token_endpoint_auth_method`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AuthMethod {
    /// Secret in HTTP Basic (RFC 6749 2.3.1), the default.
    ClientSecretBasic,
    /// Secret in the form body.
    ClientSecretPost,
    /// A JWT assertion signed with the client's private key (RFC 7523, OIDC Core 9).
    PrivateKeyJwt,
    /// A JWT assertion signed with HMAC-SHA256 keyed by the client secret.
    ClientSecretJwt,
}

impl AuthMethod {
    /// Every method, in the order metadata lists them.
    pub const ALL: [AuthMethod; 4] = [
        AuthMethod::ClientSecretBasic,
        AuthMethod::ClientSecretPost,
        AuthMethod::PrivateKeyJwt,
        AuthMethod::ClientSecretJwt,
    ];

    /// The RFC 7591 name.
    pub fn name(self) -> &'static str {
        match self {
            AuthMethod::ClientSecretBasic => "client_secret_basic",
            AuthMethod::ClientSecretPost => "client_secret_post",
            AuthMethod::PrivateKeyJwt => "private_key_jwt",
            AuthMethod::ClientSecretJwt => "client_secret_jwt",
        }
    }

    /// Whether the client holds secrets (every method but `private_key_jwt`).
    pub fn uses_secrets(self) -> bool {
        self != AuthMethod::PrivateKeyJwt
    }

    fn parse(name: &str) -> Result<AuthMethod, Error> {
        AuthMethod::ALL
            .into_iter()
            .find(|m| m.name() == name)
            .ok_or_else(|| {
                Error::invalid_metadata(format!(
                    "token_endpoint_auth_method must be one of: {}",
                    AuthMethod::ALL.map(|m| m.name()).join(", ")
                ))
            })
    }
}

/// A client's registration, without secret material.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Client {
    /// Server-made UUID.
    pub client_id: ClientId,
    /// Display name.
    pub client_name: String,
    /// Free text for admins.
    #[serde(default)]
    pub description: String,
    /// Whether the client may get tokens.
    pub enabled: bool,
    /// The one authentication method this client may use.
    pub token_endpoint_auth_method: AuthMethod,
    /// Scopes the client may request.
    #[serde(default)]
    pub scope: Scope,
    /// Audiences the client may request; the first is the default.
    #[serde(default)]
    pub resources: Vec<String>,
    /// Access-token lifetime in seconds.
    pub access_token_lifetime: u32,
    /// Whether failed attempts lock the client.
    #[serde(default = "yes")]
    pub lockout_enabled: bool,
    /// Inline public keys, for `private_key_jwt`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub jwks: Option<Jwks>,
    /// Where the client publishes its public keys, for `private_key_jwt`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub jwks_uri: Option<String>,
    /// When the client was created (epoch seconds).
    pub client_id_issued_at: u64,
    /// When the client was last changed (epoch seconds).
    pub updated_at: u64,
    /// Registered resources (APIs) the client may get tokens for, each with a subset of that
    /// resource's scopes; the first is the default audience. Records written before grants
    /// existed have none.
    #[serde(default)]
    pub grants: Vec<ResourceGrant>,
    /// Bumped by every write, so an admin can say which state a change was based on; records
    /// written before versioning read as 0.
    #[serde(default)]
    pub version: u64,
}

impl Client {
    /// Every scope this client may hold in some token: its flat scope and all granted scopes.
    /// A secret's scope limit must stay within this.
    pub fn all_scopes(&self) -> Scope {
        let mut text = self.scope.to_string();
        for g in &self.grants {
            text.push(' ');
            text.push_str(&g.scope.to_string());
        }
        // Each part already parsed, so the union does too; the token cap is the only risk.
        Scope::parse(&text).unwrap_or_else(|_| self.scope.clone())
    }
}

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

fn yes() -> bool {
    true
}

/// A JWK Set of validated public keys (RFC 7517 section 5).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Jwks {
    /// The keys.
    pub keys: Vec<PublicJwk>,
}

/// A client with its secrets, as stored.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ClientRecord {
    /// The registration.
    pub client: Client,
    /// The secrets' metadata and digests.
    #[serde(default)]
    pub secrets: Vec<StoredSecret>,
}

/// What the admin API shows of a client: the registration and secret metadata, no digests.
#[derive(Debug, Serialize)]
pub struct ClientView<'a> {
    #[serde(flatten)]
    client: &'a Client,
    secrets: Vec<&'a SecretMeta>,
    /// End of the current lock, if locked.
    locked_until: Option<u64>,
    /// Failed authentications since the last success or unlock.
    failed_attempts: u32,
}

impl ClientRecord {
    /// The admin API's view of a client that has no guard state yet.
    pub fn view(&self) -> ClientView<'_> {
        self.guarded_view(&GuardState::default(), 0)
    }

    /// The admin API's view, with the lock state from the client's guard at `now`.
    pub fn guarded_view(&self, guard: &GuardState, now: u64) -> ClientView<'_> {
        ClientView {
            client: &self.client,
            secrets: self.secrets.iter().map(|s| &s.meta).collect(),
            locked_until: guard.locked(now),
            failed_attempts: guard.failures,
        }
    }
}

/// Admin input for creating or changing a client; absent fields are left alone.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ClientInput {
    /// New display name.
    pub client_name: Option<String>,
    /// New description.
    pub description: Option<String>,
    /// Enable or disable.
    pub enabled: Option<bool>,
    /// New authentication method.
    pub token_endpoint_auth_method: Option<String>,
    /// New allowed scopes, space-separated.
    pub scope: Option<String>,
    /// New allowed audiences.
    pub resources: Option<Vec<String>>,
    /// New token lifetime in seconds.
    pub access_token_lifetime: Option<i64>,
    /// Lockout switch.
    pub lockout_enabled: Option<bool>,
    /// Inline JWK Set; `null` removes it.
    #[serde(default, deserialize_with = "present")]
    pub jwks: Option<Option<serde_json::Value>>,
    /// JWKS URL; `null` removes it.
    #[serde(default, deserialize_with = "present")]
    pub jwks_uri: Option<Option<String>>,
    /// A PEM public key, stored as a one-key JWK Set.
    pub public_key_pem: Option<String>,
    /// The first secret, at creation only.
    pub secret: Option<crate::secrets::SecretInput>,
    /// New resource grants; resolved against the registry by the admin API, not by `apply`.
    pub grants: Option<Vec<GrantInput>>,
    /// On update: the version the change is based on; a different stored version is a conflict.
    pub version: Option<u64>,
}

impl ClientInput {
    /// Builds a new client from creation input.
    pub fn create(self, id: ClientId, now: u64) -> Result<Client, Error> {
        let name = self
            .client_name
            .clone()
            .ok_or_else(|| Error::invalid_metadata("client_name is required"))?;
        let mut client = Client {
            client_id: id,
            client_name: name,
            description: String::new(),
            enabled: true,
            token_endpoint_auth_method: AuthMethod::ClientSecretBasic,
            scope: Scope::default(),
            resources: Vec::new(),
            access_token_lifetime: DEFAULT_LIFETIME,
            lockout_enabled: true,
            jwks: None,
            jwks_uri: None,
            client_id_issued_at: now,
            updated_at: now,
            grants: Vec::new(),
            version: 0,
        };
        self.apply(&mut client, now)?;
        Ok(client)
    }

    /// Names of the fields this input sets, for the audit trail (never their values).
    pub fn field_names(&self) -> Vec<&'static str> {
        let present = [
            ("client_name", self.client_name.is_some()),
            ("description", self.description.is_some()),
            ("enabled", self.enabled.is_some()),
            (
                "token_endpoint_auth_method",
                self.token_endpoint_auth_method.is_some(),
            ),
            ("scope", self.scope.is_some()),
            ("resources", self.resources.is_some()),
            (
                "access_token_lifetime",
                self.access_token_lifetime.is_some(),
            ),
            ("lockout_enabled", self.lockout_enabled.is_some()),
            ("grants", self.grants.is_some()),
        ];
        present
            .into_iter()
            .filter_map(|(name, set)| set.then_some(name))
            .collect()
    }

    /// Applies the given fields to a client, validating each.
    pub fn apply(self, client: &mut Client, now: u64) -> Result<(), Error> {
        if let Some(name) = self.client_name {
            client.client_name = bounded_text("client_name", name, MAX_NAME)?;
            if client.client_name.trim().is_empty() {
                return Err(Error::invalid_metadata("client_name must not be empty"));
            }
        }
        if let Some(d) = self.description {
            client.description = bounded_text("description", d, MAX_DESCRIPTION)?;
        }
        if let Some(e) = self.enabled {
            client.enabled = e;
        }
        if let Some(m) = self.token_endpoint_auth_method {
            client.token_endpoint_auth_method = AuthMethod::parse(&m)?;
        }
        if let Some(s) = self.scope {
            client.scope = Scope::parse(&s).map_err(Error::invalid_metadata)?;
        }
        if let Some(r) = self.resources {
            client.resources = validate_resources(r)?;
        }
        if let Some(l) = self.access_token_lifetime {
            client.access_token_lifetime = u32::try_from(l)
                .ok()
                .filter(|l| (MIN_LIFETIME..=MAX_LIFETIME).contains(l))
                .ok_or_else(|| {
                    Error::invalid_metadata(format!(
                        "access_token_lifetime must be between {MIN_LIFETIME} and {MAX_LIFETIME} seconds"
                    ))
                })?;
        }
        if let Some(l) = self.lockout_enabled {
            client.lockout_enabled = l;
        }
        if let Some(j) = self.jwks {
            client.jwks = j
                .map(|v| validate_jwks(&v).map(|keys| Jwks { keys }))
                .transpose()
                .map_err(Error::invalid_metadata)?;
        }
        if let Some(pem) = self.public_key_pem {
            let key = jwk_from_pem(&pem).map_err(Error::invalid_metadata)?;
            client.jwks = Some(Jwks { keys: vec![key] });
        }
        if let Some(u) = self.jwks_uri {
            client.jwks_uri = u.map(validate_jwks_uri).transpose()?;
        }
        check_keys(client)?;
        client.updated_at = now;
        Ok(())
    }
}

/// Distinguishes an explicit `null` (remove) from an absent field (leave alone).
fn present<'de, D, T>(d: D) -> Result<Option<Option<T>>, D::Error>
where
    D: serde::Deserializer<'de>,
    T: Deserialize<'de>,
{
    Option::<T>::deserialize(d).map(Some)
}

/// Keys belong to `private_key_jwt` clients, which need exactly one source of them.
fn check_keys(client: &Client) -> Result<(), Error> {
    let has_keys = client.jwks.is_some() || client.jwks_uri.is_some();
    match client.token_endpoint_auth_method {
        AuthMethod::PrivateKeyJwt if client.jwks.is_some() && client.jwks_uri.is_some() => Err(
            Error::invalid_metadata("give jwks (or public_key_pem) or jwks_uri, not both"),
        ),
        AuthMethod::PrivateKeyJwt if !has_keys => Err(Error::invalid_metadata(
            "private_key_jwt needs jwks, jwks_uri or public_key_pem",
        )),
        AuthMethod::PrivateKeyJwt => Ok(()),
        other if has_keys => Err(Error::InvalidMetadata(
            format!(
                "jwks and jwks_uri are only for private_key_jwt; remove them (null) to use {}",
                other.name()
            )
            .into(),
        )),
        _ => Ok(()),
    }
}

/// A JWKS URL must be https, except on loopback for local testing.
fn validate_jwks_uri(uri: String) -> Result<String, Error> {
    let lower = uri.to_ascii_lowercase();
    let local = [
        "http://localhost:",
        "http://localhost/",
        "http://127.0.0.1:",
        "http://127.0.0.1/",
    ];
    let ok = uri.len() <= MAX_RESOURCE_LEN
        && is_absolute_uri(&uri)
        && !uri.contains('#')
        && (lower.starts_with("https://") || local.iter().any(|p| lower.starts_with(p)));
    if ok {
        Ok(uri)
    } else {
        Err(Error::invalid_metadata(
            "jwks_uri must be an https URL (http only for localhost or 127.0.0.1)",
        ))
    }
}

fn bounded_text(field: &str, text: String, max: usize) -> Result<String, Error> {
    if text.chars().count() > max {
        return Err(Error::invalid_metadata(format!(
            "{field} is longer than {max} characters"
        )));
    }
    if text.chars().any(|c| c.is_control() && c != '\n') {
        return Err(Error::invalid_metadata(format!(
            "{field} contains control characters"
        )));
    }
    Ok(text)
}

/// Resources are absolute URIs without a fragment (RFC 8707 section 2).
fn validate_resources(list: Vec<String>) -> Result<Vec<String>, Error> {
    if list.len() > MAX_RESOURCES {
        return Err(Error::invalid_metadata(format!(
            "at most {MAX_RESOURCES} resources"
        )));
    }
    let mut out: Vec<String> = Vec::with_capacity(list.len());
    for r in list {
        if !is_absolute_uri(&r) || r.len() > MAX_RESOURCE_LEN || r.contains('#') {
            return Err(Error::invalid_metadata(
                "each resource must be an absolute URI without a fragment, at most 512 characters",
            ));
        }
        if out.contains(&r) {
            return Err(Error::invalid_metadata("resources contains a duplicate"));
        }
        out.push(r);
    }
    Ok(out)
}

/// An RFC 3986 absolute URI as far as the scheme goes, with no spaces or controls.
pub fn is_absolute_uri(text: &str) -> bool {
    let Some((scheme, rest)) = text.split_once(':') else {
        return false;
    };
    let mut chars = scheme.chars();
    chars.next().is_some_and(|c| c.is_ascii_alphabetic())
        && chars.all(|c| c.is_ascii_alphanumeric() || "+-.".contains(c))
        && !rest.is_empty()
        && !text.chars().any(|c| c.is_whitespace() || c.is_control())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::memory::SeqRandom;

    const ED_KEY: &str =
        r#"{"kty":"OKP","crv":"Ed25519","x":"11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo"}"#;

    #[test]
    fn private_key_jwt_needs_exactly_one_key_source() {
        let e = input(r#"{"client_name":"a","token_endpoint_auth_method":"private_key_jwt"}"#)
            .create(id(), 0)
            .unwrap_err();
        assert_eq!(
            e.description(),
            "private_key_jwt needs jwks, jwks_uri or public_key_pem"
        );
        let both = format!(
            r#"{{"client_name":"a","token_endpoint_auth_method":"private_key_jwt","jwks":{{"keys":[{ED_KEY}]}},"jwks_uri":"https://c.test/jwks"}}"#
        );
        assert_eq!(
            input(&both).create(id(), 0).unwrap_err().description(),
            "give jwks (or public_key_pem) or jwks_uri, not both"
        );
        let ok = format!(
            r#"{{"client_name":"a","token_endpoint_auth_method":"private_key_jwt","jwks":{{"keys":[{ED_KEY}]}}}}"#
        );
        let c = input(&ok).create(id(), 0).unwrap();
        assert_eq!(
            c.jwks.unwrap().keys[0].kid,
            "kPrK_qmxVWaYVA9wwBF6Iuo3vVzz7TxHCTwXBygrS4k"
        );
    }

    #[test]
    fn keys_are_refused_for_secret_methods_and_null_removes_them() {
        let e = input(&format!(
            r#"{{"client_name":"a","jwks":{{"keys":[{ED_KEY}]}}}}"#
        ))
        .create(id(), 0)
        .unwrap_err();
        assert_eq!(
            e.description(),
            "jwks and jwks_uri are only for private_key_jwt; remove them (null) to use client_secret_basic"
        );
        let mut c = input(
            r#"{"client_name":"a","token_endpoint_auth_method":"private_key_jwt","jwks_uri":"http://127.0.0.1:9/jwks"}"#,
        )
        .create(id(), 0)
        .unwrap();
        input(r#"{"token_endpoint_auth_method":"client_secret_post","jwks_uri":null}"#)
            .apply(&mut c, 1)
            .unwrap();
        assert_eq!(c.jwks_uri, None);
    }

    #[test]
    fn jwks_uri_must_be_https_or_loopback() {
        for bad in [
            "http://evil.test/jwks",
            "ftp://x/y",
            "https://a/b#frag",
            "http://localhost.evil.test/",
        ] {
            let e = input(&format!(
                r#"{{"client_name":"a","token_endpoint_auth_method":"private_key_jwt","jwks_uri":"{bad}"}}"#
            ))
            .create(id(), 0)
            .unwrap_err();
            assert_eq!(
                e.description(),
                "jwks_uri must be an https URL (http only for localhost or 127.0.0.1)",
                "{bad}"
            );
        }
    }

    #[test]
    fn generated_ids_are_uuid_v4() {
        let id = ClientId::generate(&SeqRandom::default()).unwrap();
        assert!(ClientId::parse(id.as_str()).is_some());
        assert_eq!(&id.as_str()[14..15], "4");
        assert!("89ab".contains(&id.as_str()[19..20]));
    }

    #[test]
    fn only_canonical_uuids_parse() {
        assert!(ClientId::parse("0f8fad5b-d9cb-469f-a165-70867728950e").is_some());
        assert!(ClientId::parse("0F8FAD5B-D9CB-469F-A165-70867728950E").is_none());
        assert!(ClientId::parse("0f8fad5bd9cb469fa16570867728950e").is_none());
        assert!(ClientId::parse("").is_none());
    }

    fn input(json: &str) -> ClientInput {
        serde_json::from_str(json).unwrap()
    }

    fn id() -> ClientId {
        ClientId::parse("0f8fad5b-d9cb-469f-a165-70867728950e").unwrap()
    }

    #[test]
    fn creation_applies_defaults() {
        let c = input(r#"{"client_name":"a"}"#).create(id(), 7).unwrap();
        assert_eq!(c.access_token_lifetime, 3600);
        assert_eq!(c.token_endpoint_auth_method, AuthMethod::ClientSecretBasic);
        assert!(c.enabled && c.lockout_enabled);
        assert_eq!(c.client_id_issued_at, 7);
    }

    #[test]
    fn lifetime_must_be_within_bounds() {
        for bad in ["59", "86401", "-1", "99999999999"] {
            let e = input(&format!(
                r#"{{"client_name":"a","access_token_lifetime":{bad}}}"#
            ))
            .create(id(), 0)
            .unwrap_err();
            assert_eq!(
                e.description(),
                "access_token_lifetime must be between 60 and 86400 seconds"
            );
        }
        let c = input(r#"{"client_name":"a","access_token_lifetime":86400}"#)
            .create(id(), 0)
            .unwrap();
        assert_eq!(c.access_token_lifetime, 86400);
    }

    #[test]
    fn name_is_required_and_bounded() {
        assert_eq!(
            input("{}").create(id(), 0).unwrap_err().description(),
            "client_name is required"
        );
        let long = "x".repeat(201);
        let e = input(&format!(r#"{{"client_name":"{long}"}}"#))
            .create(id(), 0)
            .unwrap_err();
        assert_eq!(e.status(), 422);
    }

    #[test]
    fn resources_must_be_absolute_uris() {
        for bad in [
            r#"["api"]"#,
            r#"["https://a#b"]"#,
            r#"["https://a","https://a"]"#,
            r#"["a b:c"]"#,
        ] {
            let e = input(&format!(r#"{{"client_name":"a","resources":{bad}}}"#))
                .create(id(), 0)
                .unwrap_err();
            assert_eq!(e.code(), "invalid_client_metadata", "{bad}");
        }
        let c = input(r#"{"client_name":"a","resources":["https://api.example.com","urn:x:y"]}"#)
            .create(id(), 0)
            .unwrap();
        assert_eq!(c.resources, ["https://api.example.com", "urn:x:y"]);
    }

    #[test]
    fn unknown_fields_and_methods_are_refused() {
        assert!(serde_json::from_str::<ClientInput>(r#"{"client_secret":"x"}"#).is_err());
        let e = input(r#"{"client_name":"a","token_endpoint_auth_method":"none"}"#)
            .create(id(), 0)
            .unwrap_err();
        assert_eq!(
            e.description(),
            "token_endpoint_auth_method must be one of: client_secret_basic, client_secret_post, private_key_jwt, client_secret_jwt"
        );
    }
}
