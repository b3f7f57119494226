//! Clients (applications): identifiers, the registration and the stored record.
//!
//! Stored under one key per client with its secrets ([`crate::registry::keyspace`]), so the
//! token endpoint needs one read.

use serde::{Deserialize, Serialize};

use crate::error::Error;
use crate::jose::PublicJwk;
use crate::registry::audiences::Grants;
use crate::registry::federation::FederatedCredential;
use crate::registry::guard::{key_id, key_source};
use crate::registry::quota::TokenQuota;
use crate::registry::resources::ResourceGrant;
use crate::registry::scope::Scope;
use crate::registry::secrets::StoredSecret;
use crate::registry::token_claims::TokenClaims;

pub use crate::registry::lifetime::{DEFAULT_LIFETIME, MAX_LIFETIME, MIN_LIFETIME};
/// Longest client name.
pub const MAX_NAME: usize = 200;
/// Longest client description.
pub const MAX_DESCRIPTION: usize = 1_000;
/// Most flat resources (audiences) a client may list.
pub const MAX_RESOURCES: usize = 20;
/// Longest flat resource URI.
pub const MAX_RESOURCE_LEN: usize = 512;

pub use crate::registry::client_id::ClientId;

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
    /// A client certificate from a CA the hostname trusts, with the registered subject DN
    /// (RFC 8705 section 2.1).
    TlsClientAuth,
    /// A client certificate registered with the client, by fingerprint (RFC 8705 section 2.2).
    SelfSignedTlsClientAuth,
}

impl AuthMethod {
    /// Every method, in the order metadata lists them.
    pub const ALL: [AuthMethod; 6] = [
        AuthMethod::ClientSecretBasic,
        AuthMethod::ClientSecretPost,
        AuthMethod::PrivateKeyJwt,
        AuthMethod::ClientSecretJwt,
        AuthMethod::TlsClientAuth,
        AuthMethod::SelfSignedTlsClientAuth,
    ];

    /// The RFC 7591 name.
    pub fn name(self) -> &'static str {
        match self {
            AuthMethod::ClientSecretBasic => "client_secret_basic",
            AuthMethod::ClientSecretPost => "client_secret_post",
            AuthMethod::PrivateKeyJwt => "private_key_jwt",
            AuthMethod::ClientSecretJwt => "client_secret_jwt",
            AuthMethod::TlsClientAuth => "tls_client_auth",
            AuthMethod::SelfSignedTlsClientAuth => "self_signed_tls_client_auth",
        }
    }

    /// Whether the client presents its secret itself, by HTTP Basic or in the form body: the
    /// two are one credential in two places (RFC 6749 2.3.1), so either is accepted.
    pub fn presents_secret(self) -> bool {
        matches!(
            self,
            AuthMethod::ClientSecretBasic | AuthMethod::ClientSecretPost
        )
    }

    /// Whether the client holds secrets (the secret methods and `client_secret_jwt`).
    pub fn uses_secrets(self) -> bool {
        self.presents_secret() || self == AuthMethod::ClientSecretJwt
    }

    pub(crate) fn parse(name: &str) -> Result<AuthMethod, Error> {
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
#[serde(from = "StoredClient")]
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
    /// Whether the client may introspect tokens of other clients (RFC 7662); off by default.
    #[serde(default)]
    pub introspection_allowed: bool,
    /// Whether every token request must carry a DPoP proof (RFC 9449 section 5.2); off by
    /// default.
    #[serde(default)]
    pub dpop_bound_access_tokens: bool,
    /// Most tokens per UTC hour and day, enforced or monitored; `None` (the default): no quota.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub token_quota: Option<TokenQuota>,
    /// Members added to every access token issued to it; none by default.
    #[serde(skip_serializing_if = "TokenClaims::is_empty")]
    pub token_claims: TokenClaims,
    /// For `tls_client_auth`: the subject DN (RFC 2253 text) its certificate must carry.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tls_client_auth_subject_dn: Option<String>,
    /// Whether its tokens are bound to the client certificate of the token request (RFC 8705
    /// section 3: `cnf.x5t#S256`); off by default, and then not shown.
    #[serde(skip_serializing_if = "is_false")]
    pub tls_client_certificate_bound_access_tokens: bool,
    /// Where its tokens may be for and with which scopes (stored as the flat `scope` and
    /// `resources` and the registered `grants`; see [`Grants`]).
    #[serde(flatten)]
    pub grants: Grants,
    /// Bumped by every write, so an admin can say which state a change was based on; records
    /// written before versioning read as 0.
    #[serde(default)]
    pub version: u64,
}

/// How a client is read back from storage: [`Client`] with its grants' fields inline. Reading
/// `#[serde(flatten)]` buffers the whole record first, a generic path that cost about 5 KB of
/// wasm more; written records are unchanged (the `Serialize` derive still flattens).
#[derive(Deserialize)]
struct StoredClient {
    client_id: ClientId,
    client_name: String,
    #[serde(default)]
    description: String,
    enabled: bool,
    token_endpoint_auth_method: AuthMethod,
    access_token_lifetime: u32,
    #[serde(default = "yes")]
    lockout_enabled: bool,
    #[serde(default)]
    jwks: Option<Jwks>,
    #[serde(default)]
    jwks_uri: Option<String>,
    client_id_issued_at: u64,
    updated_at: u64,
    #[serde(default)]
    introspection_allowed: bool,
    #[serde(default)]
    dpop_bound_access_tokens: bool,
    /// Read through [`TokenQuota::parse`], which the input path links anyway.
    #[serde(default)]
    token_quota: Option<serde_json::Value>,
    /// Validated when written; serialized for minting once here (see [`TokenClaims`]).
    #[serde(default)]
    token_claims: Option<serde_json::Value>,
    #[serde(default)]
    tls_client_auth_subject_dn: Option<String>,
    #[serde(default)]
    tls_client_certificate_bound_access_tokens: bool,
    #[serde(default)]
    scope: Scope,
    #[serde(default)]
    resources: Vec<String>,
    #[serde(default)]
    grants: Vec<ResourceGrant>,
    #[serde(default)]
    version: u64,
}

impl From<StoredClient> for Client {
    fn from(s: StoredClient) -> Client {
        Client {
            client_id: s.client_id,
            client_name: s.client_name,
            description: s.description,
            enabled: s.enabled,
            token_endpoint_auth_method: s.token_endpoint_auth_method,
            access_token_lifetime: s.access_token_lifetime,
            lockout_enabled: s.lockout_enabled,
            jwks: s.jwks,
            jwks_uri: s.jwks_uri,
            client_id_issued_at: s.client_id_issued_at,
            updated_at: s.updated_at,
            introspection_allowed: s.introspection_allowed,
            dpop_bound_access_tokens: s.dpop_bound_access_tokens,
            token_quota: s.token_quota.and_then(|v| TokenQuota::parse(&v).ok()),
            token_claims: TokenClaims::stored(s.token_claims),
            tls_client_auth_subject_dn: s.tls_client_auth_subject_dn,
            tls_client_certificate_bound_access_tokens: s
                .tls_client_certificate_bound_access_tokens,
            grants: Grants::from_parts(s.grants, s.resources, s.scope),
            version: s.version,
        }
    }
}

impl Client {
    /// The client's keys as the guard names them: each registered key and the `jwks_uri`.
    pub fn key_names(&self) -> Vec<String> {
        let inline = self.jwks.iter().flat_map(|set| &set.keys);
        inline
            .map(|k| key_id(&k.thumbprint()))
            .chain(self.jwks_uri.as_deref().map(key_source))
            .collect()
    }
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
    /// Trusted external issuers' tokens (workload identity federation), for `private_key_jwt`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub federated_credentials: Vec<FederatedCredential>,
    /// Registered client certificates, for `self_signed_tls_client_auth`: each one line (see
    /// [`crate::registry::certificates::StoredCertificate`]).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub certificates: Vec<String>,
}

impl ClientRecord {
    /// Whether the client has a secret a caller could guess: its method uses secrets and it
    /// holds at least one. Only a wrong guess at such a secret counts towards the lockout.
    pub fn holds_secret(&self) -> bool {
        self.client.token_endpoint_auth_method.uses_secrets() && !self.secrets.is_empty()
    }
}

fn yes() -> bool {
    true
}

fn is_false(b: &bool) -> bool {
    !b
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::SeqRandom;

    /// The field names a derived `Deserialize` asks for, caught at `deserialize_struct`.
    fn fields_read_by<T: for<'de> Deserialize<'de>>() -> Vec<&'static str> {
        use serde::de::value::Error as E;
        use std::cell::Cell;
        struct Catch<'a>(&'a Cell<&'static [&'static str]>);
        impl<'de> serde::Deserializer<'de> for Catch<'_> {
            type Error = E;
            fn deserialize_any<V: serde::de::Visitor<'de>>(self, _: V) -> Result<V::Value, E> {
                Err(serde::de::Error::custom("not a struct"))
            }
            fn deserialize_struct<V: serde::de::Visitor<'de>>(
                self,
                _: &'static str,
                fields: &'static [&'static str],
                _: V,
            ) -> Result<V::Value, E> {
                self.0.set(fields);
                Err(serde::de::Error::custom("caught"))
            }
            serde::forward_to_deserialize_any! {
                bool i8 i16 i32 i64 i128 u8 u16 u32 u64 u128 f32 f64 char str string bytes
                byte_buf option unit unit_struct newtype_struct seq tuple tuple_struct map
                enum identifier ignored_any
            }
        }
        let caught = Cell::new(&[][..]);
        let _ = T::deserialize(Catch(&caught));
        caught.get().to_vec()
    }

    /// The stored client is spelled twice (written by `Client`'s derived `Serialize`, with
    /// `Grants` flattened through `audiences::Stored`; read by `StoredClient`, to save wasm):
    /// a record with every field set reads back as written, and both spellings name the same
    /// fields, so a field added to one and not the other fails here.
    #[test]
    fn the_two_spellings_of_the_stored_client_agree() {
        let written = serde_json::json!({
            "client_id": "7c9e6679-7425-40de-944b-e07fc1f90ae7",
            "client_name": "every field",
            "description": "set",
            "enabled": false,
            "token_endpoint_auth_method": "private_key_jwt",
            "access_token_lifetime": 900,
            "lockout_enabled": false,
            "jwks": {"keys": [{"kty": "OKP", "crv": "Ed25519",
                               "x": "11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo",
                               "kid": "kPrK_qmxVWaYVA9wwBF6Iuo3vVzz7TxHCTwXBygrS4k"}]},
            "jwks_uri": "https://keys.example/jwks.json",
            "client_id_issued_at": 1_700_000_000u64,
            "updated_at": 1_700_000_100u64,
            "introspection_allowed": true,
            "dpop_bound_access_tokens": true,
            "token_quota": {"per_hour": 5, "per_day": 50, "enforce": false},
            "token_claims": {"tenant": "acme", "tier": 3, "regions": ["eu"]},
            "tls_client_auth_subject_dn": "CN=client,O=Example",
            "tls_client_certificate_bound_access_tokens": true,
            "scope": "a b",
            "resources": ["https://plain.example"],
            "grants": [{"resource": "https://api.example", "scope": "x",
                        "resource_id": "9b2e3c4d-1a2b-4c3d-8e4f-5a6b7c8d9e0f"}],
            "version": 7
        });
        let read: Client = serde_json::from_value(written.clone()).unwrap();
        let again = serde_json::to_value(&read).unwrap();
        let reread: Client = serde_json::from_value(again.clone()).unwrap();
        assert_eq!(reread, read);
        assert_eq!(serde_json::to_value(&reread).unwrap(), again);
        let mut keys: Vec<&str> = again
            .as_object()
            .unwrap()
            .keys()
            .map(String::as_str)
            .collect();
        let mut given: Vec<&str> = written
            .as_object()
            .unwrap()
            .keys()
            .map(String::as_str)
            .collect();
        let mut fields = fields_read_by::<StoredClient>();
        keys.sort();
        given.sort();
        fields.sort();
        assert_eq!(keys, given, "every field written survives a read");
        assert_eq!(
            fields, keys,
            "StoredClient reads exactly the fields Client writes"
        );
        assert_eq!(read.token_quota.as_ref().map(|q| q.enforce), Some(false));
        assert_eq!(
            read.grants
                .for_resource("https://api.example")
                .map(|g| g.scope.to_string()),
            Some("x".into())
        );
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
}
