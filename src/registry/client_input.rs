//! What admins send to create or change a client, and every rule it must meet.

use serde::Deserialize;

use crate::error::Error;
use crate::jose::jwk::validate_jwks;
use crate::jose::pem::jwk_from_pem;
use crate::registry::audiences::Grants;
use crate::registry::certificates;
use crate::registry::clients::*;
use crate::registry::lifetime::token_lifetime;
use crate::registry::quota::TokenQuota;
use crate::registry::resources::GrantInput;
use crate::registry::scope::Scope;
use crate::registry::token_claims::TokenClaims;
use crate::support::json::present;
use crate::support::text::{is_clean, is_visible};
use crate::support::uri::{is_resource_uri, HttpUrl};

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
    /// Whether the client may introspect other clients' tokens.
    pub introspection_allowed: Option<bool>,
    /// Whether token requests must carry a DPoP proof.
    pub dpop_bound_access_tokens: Option<bool>,
    /// Token quota; `null` removes it. Checked by [`TokenQuota::parse`] for precise messages.
    #[serde(default, deserialize_with = "present")]
    pub token_quota: Option<Option<serde_json::Value>>,
    /// Members for every access token; `null` or `{}` removes them. Checked by
    /// [`TokenClaims::parse`].
    #[serde(default, deserialize_with = "present")]
    pub token_claims: Option<Option<serde_json::Value>>,
    /// Inline JWK Set; `null` removes it.
    #[serde(default, deserialize_with = "present")]
    pub jwks: Option<Option<serde_json::Value>>,
    /// JWKS URL; `null` removes it.
    #[serde(default, deserialize_with = "present")]
    pub jwks_uri: Option<Option<String>>,
    /// A PEM public key, stored as a one-key JWK Set.
    pub public_key_pem: Option<String>,
    /// For `tls_client_auth`: the certificate's subject DN; `null` removes it.
    #[serde(default, deserialize_with = "present")]
    pub tls_client_auth_subject_dn: Option<Option<String>>,
    /// Whether tokens are bound to the request's client certificate (RFC 8705 section 3).
    pub tls_client_certificate_bound_access_tokens: Option<bool>,
    /// The first secret, at creation only.
    pub secret: Option<crate::registry::secrets::SecretInput>,
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
            access_token_lifetime: DEFAULT_LIFETIME,
            lockout_enabled: true,
            introspection_allowed: false,
            dpop_bound_access_tokens: false,
            token_quota: None,
            token_claims: TokenClaims::default(),
            jwks: None,
            jwks_uri: None,
            tls_client_auth_subject_dn: None,
            tls_client_certificate_bound_access_tokens: false,
            client_id_issued_at: now,
            updated_at: now,
            grants: Grants::default(),
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
            (
                "introspection_allowed",
                self.introspection_allowed.is_some(),
            ),
            (
                "dpop_bound_access_tokens",
                self.dpop_bound_access_tokens.is_some(),
            ),
            ("token_quota", self.token_quota.is_some()),
            ("token_claims", self.token_claims.is_some()),
            (
                "tls_client_auth_subject_dn",
                self.tls_client_auth_subject_dn.is_some(),
            ),
            (
                "tls_client_certificate_bound_access_tokens",
                self.tls_client_certificate_bound_access_tokens.is_some(),
            ),
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
            client.client_name = bounded_text("client_name", name, MAX_NAME, false)?;
            if !is_visible(&client.client_name) {
                return Err(Error::invalid_metadata("client_name must not be empty"));
            }
        }
        if let Some(d) = self.description {
            client.description = bounded_text("description", d, MAX_DESCRIPTION, true)?;
        }
        if let Some(e) = self.enabled {
            client.enabled = e;
        }
        if let Some(m) = self.token_endpoint_auth_method {
            client.token_endpoint_auth_method = AuthMethod::parse(&m)?;
        }
        if let Some(s) = self.scope {
            let scope = Scope::parse(&s).map_err(Error::invalid_metadata)?;
            client.grants.set_plain_scope(scope);
        }
        if let Some(r) = self.resources {
            client.grants.set_plain_uris(validate_resources(r)?);
        }
        if let Some(l) = self.access_token_lifetime {
            client.access_token_lifetime = token_lifetime(l)?;
        }
        if let Some(l) = self.lockout_enabled {
            client.lockout_enabled = l;
        }
        if let Some(i) = self.introspection_allowed {
            client.introspection_allowed = i;
        }
        if let Some(d) = self.dpop_bound_access_tokens {
            client.dpop_bound_access_tokens = d;
        }
        if let Some(q) = self.token_quota {
            client.token_quota = q.as_ref().map(TokenQuota::parse).transpose()?;
        }
        if let Some(c) = self.token_claims {
            let parsed = c.map(TokenClaims::parse).transpose()?;
            client.token_claims = parsed.unwrap_or_default();
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
        if let Some(dn) = self.tls_client_auth_subject_dn {
            client.tls_client_auth_subject_dn = dn.map(certificates::subject_dn).transpose()?;
        }
        if let Some(b) = self.tls_client_certificate_bound_access_tokens {
            client.tls_client_certificate_bound_access_tokens = b;
        }
        check_keys(client)?;
        check_subject_dn(client)?;
        client.updated_at = now;
        Ok(())
    }
}

/// Keys belong to `private_key_jwt` clients, which have at most one source of them: one
/// without keys authenticates only through its federated credentials.
fn check_keys(client: &Client) -> Result<(), Error> {
    let has_keys = client.jwks.is_some() || client.jwks_uri.is_some();
    match client.token_endpoint_auth_method {
        AuthMethod::PrivateKeyJwt if client.jwks.is_some() && client.jwks_uri.is_some() => Err(
            Error::invalid_metadata("give jwks (or public_key_pem) or jwks_uri, not both"),
        ),
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

/// A `tls_client_auth` client registers the subject DN its certificate carries (RFC 8705
/// section 2.1.2); no other client has one.
fn check_subject_dn(client: &Client) -> Result<(), Error> {
    let tls = client.token_endpoint_auth_method == AuthMethod::TlsClientAuth;
    match (tls, &client.tls_client_auth_subject_dn) {
        (true, None) => Err(Error::invalid_metadata(
            "tls_client_auth needs tls_client_auth_subject_dn",
        )),
        (false, Some(_)) => Err(Error::invalid_metadata(
            "tls_client_auth_subject_dn is only for tls_client_auth; remove it (null)",
        )),
        _ => Ok(()),
    }
}

/// A JWKS URL must be https, except on loopback for local testing, and must lead where it
/// seems to (see [`HttpUrl::parse`]).
pub(crate) fn validate_jwks_uri(uri: String) -> Result<String, Error> {
    let ok = uri.len() <= MAX_RESOURCE_LEN
        && HttpUrl::parse(&uri).is_some_and(|u| u.https || u.is_loopback());
    if ok {
        Ok(uri)
    } else {
        Err(Error::invalid_metadata(JWKS_URI_RULE))
    }
}

const JWKS_URI_RULE: &str = "jwks_uri must be an https URL without user info or fragment (http only for localhost, 127.0.0.1 or [::1])";

/// Text of at most `max` characters, with line breaks only where `multiline`.
pub(crate) fn bounded_text(
    field: &str,
    text: String,
    max: usize,
    multiline: bool,
) -> Result<String, Error> {
    if text.chars().count() > max {
        return Err(Error::invalid_metadata(format!(
            "{field} is longer than {max} characters"
        )));
    }
    if !is_clean(&text, multiline) {
        return Err(Error::invalid_metadata(format!(
            "{field} contains control or bidirectional formatting characters"
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
        if !is_resource_uri(&r, MAX_RESOURCE_LEN) {
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

#[cfg(test)]
mod tests {
    use super::*;

    const ED_KEY: &str =
        r#"{"kty":"OKP","crv":"Ed25519","x":"11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo"}"#;

    #[test]
    fn private_key_jwt_takes_at_most_one_key_source() {
        // Without keys, the client authenticates only through federated credentials.
        let c = input(r#"{"client_name":"a","token_endpoint_auth_method":"private_key_jwt"}"#)
            .create(id(), 0)
            .unwrap();
        assert_eq!((c.jwks, c.jwks_uri), (None, None));
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
            "http://localhost:@attacker.example/jwks",
            "https://user:pass@keys.example.com/jwks",
        ] {
            let e = input(&format!(
                r#"{{"client_name":"a","token_endpoint_auth_method":"private_key_jwt","jwks_uri":"{bad}"}}"#
            ))
            .create(id(), 0)
            .unwrap_err();
            assert_eq!(e.description(), JWKS_URI_RULE, "{bad}");
        }
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
        assert_eq!(
            c.grants.plain_uris(),
            ["https://api.example.com", "urn:x:y"]
        );
    }

    #[test]
    fn unknown_fields_and_methods_are_refused() {
        assert!(serde_json::from_str::<ClientInput>(r#"{"client_secret":"x"}"#).is_err());
        let e = input(r#"{"client_name":"a","token_endpoint_auth_method":"none"}"#)
            .create(id(), 0)
            .unwrap_err();
        assert_eq!(
            e.description(),
            "token_endpoint_auth_method must be one of: client_secret_basic, client_secret_post, private_key_jwt, client_secret_jwt, tls_client_auth, self_signed_tls_client_auth"
        );
    }

    #[test]
    fn tls_client_auth_takes_a_subject_dn_and_only_it_does() {
        let e = input(r#"{"client_name":"a","token_endpoint_auth_method":"tls_client_auth"}"#)
            .create(id(), 0)
            .unwrap_err();
        assert_eq!(
            e.description(),
            "tls_client_auth needs tls_client_auth_subject_dn"
        );
        let mut c = input(
            r#"{"client_name":"a","token_endpoint_auth_method":"tls_client_auth","tls_client_auth_subject_dn":" CN=a,O=b "}"#,
        )
        .create(id(), 0)
        .unwrap();
        assert_eq!(c.tls_client_auth_subject_dn.as_deref(), Some("CN=a,O=b"));
        assert!(!c.tls_client_certificate_bound_access_tokens);
        let e = input(r#"{"token_endpoint_auth_method":"self_signed_tls_client_auth"}"#)
            .apply(&mut c.clone(), 1)
            .unwrap_err();
        assert_eq!(
            e.description(),
            "tls_client_auth_subject_dn is only for tls_client_auth; remove it (null)"
        );
        input(r#"{"token_endpoint_auth_method":"self_signed_tls_client_auth","tls_client_auth_subject_dn":null,"tls_client_certificate_bound_access_tokens":true}"#)
            .apply(&mut c, 1)
            .unwrap();
        assert_eq!(c.tls_client_auth_subject_dn, None);
        assert!(c.tls_client_certificate_bound_access_tokens);
        let e = input(r#"{"client_name":"a","token_endpoint_auth_method":"tls_client_auth","tls_client_auth_subject_dn":""}"#)
            .create(id(), 0)
            .unwrap_err();
        assert_eq!(e.status(), 422);
    }

    fn input(json: &str) -> ClientInput {
        serde_json::from_str(json).unwrap()
    }

    fn id() -> ClientId {
        ClientId::parse("0f8fad5b-d9cb-469f-a165-70867728950e").unwrap()
    }
}
