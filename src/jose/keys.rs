//! Token signing keys: Ed25519 (RFC 8037), derived from the one `SIGNING_KEY_SEED`, published
//! as a JWKS. Which derived key signs, and which are published, is the rotation schedule's
//! business (`registry::signing_keys`).

use ed25519_dalek::{Signer, SigningKey as DalekSigningKey, VerifyingKey};
use hkdf::Hkdf;
use serde::Serialize;
use sha2::Sha256;
use zeroize::Zeroizing;

use crate::jose::jwk::PublicJwk;
use crate::jose::jws::compact;
use crate::support::b64::b64url;
use crate::support::LocalFuture;

/// An Ed25519 public key with its RFC 7638 thumbprint as `kid`.
#[derive(Debug, Clone)]
pub struct PublicKey {
    key: VerifyingKey,
    kid: String,
    /// The same key as `edgeauth-verify` takes it, made once: building it decompresses the
    /// point, which introspection would otherwise pay on every call.
    verify_key: edgeauth_verify::Key,
}

impl PublicKey {
    fn new(key: VerifyingKey) -> PublicKey {
        let kid = PublicJwk::okp_ed25519(key.as_bytes()).thumbprint();
        let verify_key = edgeauth_verify::Key::ed25519(key.as_bytes(), Some(&kid))
            .unwrap_or_else(|_| unreachable!("a dalek verifying key is a valid point"));
        PublicKey {
            key,
            kid,
            verify_key,
        }
    }

    /// This key for `edgeauth-verify`.
    pub fn verify_key(&self) -> &edgeauth_verify::Key {
        &self.verify_key
    }

    /// The key id.
    pub fn kid(&self) -> &str {
        &self.kid
    }

    /// The dalek verifying key.
    pub fn verifying_key(&self) -> &VerifyingKey {
        &self.key
    }

    /// This key as a JWK.
    pub fn jwk(&self) -> Jwk<'_> {
        Jwk {
            kty: "OKP",
            crv: "Ed25519",
            x: b64url(self.key.as_bytes()),
            kid: &self.kid,
            alg: "EdDSA",
            r#use: "sig",
        }
    }
}

/// A public JWK as published.
#[derive(Debug, Serialize)]
pub struct Jwk<'a> {
    kty: &'static str,
    crv: &'static str,
    x: String,
    kid: &'a str,
    alg: &'static str,
    r#use: &'static str,
}

/// The key that signs access tokens. `alg` is fixed to `EdDSA` by the type.
pub struct SigningKey {
    key: DalekSigningKey,
    public: PublicKey,
    header_b64: String,
}

impl SigningKey {
    /// The only algorithm this key signs with.
    pub const ALG: &'static str = "EdDSA";

    /// Derives the key from a 32-byte seed.
    pub fn from_seed(seed: &[u8; 32]) -> SigningKey {
        let key = DalekSigningKey::from_bytes(seed);
        let public = PublicKey::new(key.verifying_key());
        // RFC 9068 section 2.1: typ at+jwt.
        let header = format!(
            r#"{{"alg":"{}","typ":"at+jwt","kid":"{}"}}"#,
            Self::ALG,
            public.kid
        );
        SigningKey {
            key,
            public,
            header_b64: b64url(header),
        }
    }

    /// The public half.
    pub fn public(&self) -> &PublicKey {
        &self.public
    }

    /// Signs a JSON payload as a compact JWS with the `at+jwt` header, in wasm.
    pub fn sign_jwt(&self, payload_json: &[u8]) -> String {
        let input = self.signing_input(payload_json);
        let sig = self.key.sign(input.as_bytes());
        compact(input, &sig.to_bytes())
    }

    /// Signs like [`SigningKey::sign_jwt`], through the platform's native Ed25519 when it has
    /// one: in Workers that is several times faster than the curve arithmetic in wasm, which
    /// was a quarter of a token request's CPU. Ed25519 is deterministic, so the token is the
    /// same either way.
    pub async fn sign_jwt_with(
        &self,
        platform: &dyn PlatformSigner,
        payload_json: &[u8],
    ) -> String {
        let input = self.signing_input(payload_json);
        match platform.sign_ed25519(self, input.as_bytes()).await {
            Some(sig) => compact(input, &sig),
            None => {
                let sig = self.key.sign(input.as_bytes());
                compact(input, &sig.to_bytes())
            }
        }
    }

    fn signing_input(&self, payload_json: &[u8]) -> String {
        let mut input =
            String::with_capacity(self.header_b64.len() + payload_json.len() * 4 / 3 + 90);
        input.push_str(&self.header_b64);
        input.push('.');
        input.push_str(&b64url(payload_json));
        input
    }

    /// The 32-byte private seed, for handing the key to the platform's signer only.
    // Only the wasm shell's WebCrypto signer (and tests) take it.
    #[cfg_attr(not(any(target_arch = "wasm32", test)), allow(dead_code))]
    pub(crate) fn seed_bytes(&self) -> Zeroizing<[u8; 32]> {
        Zeroizing::new(self.key.to_bytes())
    }
}

impl std::fmt::Debug for SigningKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "SigningKey(kid={})", self.public.kid)
    }
}

/// Ed25519 signing by the platform (WebCrypto in Workers).
pub trait PlatformSigner {
    /// The signature of `input` by `key`, or `None` when the platform cannot sign (the caller
    /// then signs in wasm).
    fn sign_ed25519<'a>(
        &'a self,
        key: &'a SigningKey,
        input: &'a [u8],
    ) -> LocalFuture<'a, Option<[u8; 64]>>;
}

/// No platform signer: every signature is made in wasm (host tests, and a fallback).
pub struct InWasm;

impl PlatformSigner for InWasm {
    fn sign_ed25519<'a>(
        &'a self,
        _key: &'a SigningKey,
        _input: &'a [u8],
    ) -> LocalFuture<'a, Option<[u8; 64]>> {
        Box::pin(std::future::ready(None))
    }
}

/// The deployment's root seed (`SIGNING_KEY_SEED`): every signing key is derived from it, so a
/// rotation needs no new secret.
pub struct Seed(Zeroizing<[u8; 32]>);

impl Seed {
    /// Wraps the 32 seed bytes.
    pub fn new(bytes: Zeroizing<[u8; 32]>) -> Seed {
        Seed(bytes)
    }

    /// The signing key with this index. Index 0 is the seed itself, so a deployment from
    /// before rotation keeps its key and kid; later ones come from HKDF-SHA256 (RFC 5869) with
    /// the index in `info`, so they are independent of each other and of the seed.
    pub fn key(&self, index: u32) -> SigningKey {
        if index == 0 {
            return SigningKey::from_seed(&self.0);
        }
        let mut okm = Zeroizing::new([0u8; 32]);
        let info = [b"edgeauth signing key ".as_slice(), &index.to_be_bytes()].concat();
        Hkdf::<Sha256>::new(Some(b"edgeauth/signing-keys/v1"), self.0.as_slice())
            .expand(&info, okm.as_mut_slice())
            .unwrap_or_else(|_| unreachable!("32 bytes is within HKDF-SHA256's output limit"));
        SigningKey::from_seed(&okm)
    }
}

impl std::fmt::Debug for Seed {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Seed(redacted)")
    }
}

/// A JWK Set document.
#[derive(Debug, Serialize)]
pub struct Jwks<'a> {
    keys: Vec<Jwk<'a>>,
}

impl<'a> Jwks<'a> {
    /// The set of these public keys, in order.
    pub fn of(keys: impl IntoIterator<Item = &'a PublicKey>) -> Jwks<'a> {
        Jwks {
            keys: keys.into_iter().map(PublicKey::jwk).collect(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::support::b64::b64url_decode;
    use ed25519_dalek::Signature;

    /// RFC 8037 appendix A.1-A.4: key, thumbprint and the Ed25519 JWS of "Example of Ed25519 signing".
    #[test]
    fn rfc8037_vectors() {
        let seed: [u8; 32] = b64url_decode("nWGxne_9WmC6hEr0kuwsxERJxWl7MmkZcDusAxyuf2A")
            .unwrap()
            .try_into()
            .unwrap();
        let key = SigningKey::from_seed(&seed);
        assert_eq!(
            b64url(key.public.key.as_bytes()),
            "11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo"
        );
        assert_eq!(
            key.public.kid(),
            "kPrK_qmxVWaYVA9wwBF6Iuo3vVzz7TxHCTwXBygrS4k"
        );
        let input = "eyJhbGciOiJFZERTQSJ9.RXhhbXBsZSBvZiBFZDI1NTE5IHNpZ25pbmc";
        let sig = key.key.sign(input.as_bytes());
        assert_eq!(
            b64url(sig.to_bytes()),
            "hgyY0il_MGCjP0JzlnLWG1PPOt7-09PGcvMg3AIbQR6dWbhijcNR4ki4iylGjg5BhVsPt9g7sVvpAr_MuM0KAg"
        );
    }

    #[test]
    fn tokens_carry_at_jwt_header_and_verify() {
        let key = SigningKey::from_seed(&[3; 32]);
        let jwt = key.sign_jwt(br#"{"a":1}"#);
        let parts: Vec<&str> = jwt.split('.').collect();
        let header: serde_json::Value =
            serde_json::from_slice(&b64url_decode(parts[0]).unwrap()).unwrap();
        assert_eq!(header["typ"], "at+jwt");
        assert_eq!(header["alg"], "EdDSA");
        assert_eq!(header["kid"], key.public.kid());
        let sig = Signature::from_slice(&b64url_decode(parts[2]).unwrap()).unwrap();
        let signed = format!("{}.{}", parts[0], parts[1]);
        key.public
            .key
            .verify_strict(signed.as_bytes(), &sig)
            .unwrap();
    }

    #[test]
    fn derived_keys_are_distinct_stable_and_index_zero_is_the_seed() {
        let seed = Seed::new(Zeroizing::new([7; 32]));
        let k0 = seed.key(0);
        assert_eq!(
            k0.public().kid(),
            SigningKey::from_seed(&[7; 32]).public().kid()
        );
        let k1 = seed.key(1);
        let k2 = seed.key(2);
        assert_ne!(k1.public().kid(), k0.public().kid());
        assert_ne!(k1.public().kid(), k2.public().kid());
        assert_eq!(seed.key(1).public().kid(), k1.public().kid());
        // Pinned, and computed independently with Python's `cryptography` (HKDF-SHA256, then
        // Ed25519): a change to the derivation would orphan every deployed rotated key.
        assert_eq!(b64url(k1.public().verifying_key().as_bytes()), DERIVED_1);
        let other = Seed::new(Zeroizing::new([8; 32]));
        assert_ne!(other.key(1).public().kid(), k1.public().kid());
        assert_eq!(format!("{seed:?}"), "Seed(redacted)");
    }

    const DERIVED_1: &str = "6yTvHGES-WgGJdF_hNwMPInV8FgbN7d0FMhhMnyHn1Y";

    /// A platform that signs with its own copy of the key, as WebCrypto does.
    struct Native;

    impl PlatformSigner for Native {
        fn sign_ed25519<'a>(
            &'a self,
            key: &'a SigningKey,
            input: &'a [u8],
        ) -> LocalFuture<'a, Option<[u8; 64]>> {
            let copy = DalekSigningKey::from_bytes(&key.seed_bytes());
            Box::pin(std::future::ready(Some(copy.sign(input).to_bytes())))
        }
    }

    fn now<F: std::future::Future>(f: F) -> F::Output {
        let mut f = std::pin::pin!(f);
        let waker = std::task::Waker::noop();
        match f.as_mut().poll(&mut std::task::Context::from_waker(waker)) {
            std::task::Poll::Ready(v) => v,
            std::task::Poll::Pending => unreachable!("ready futures only"),
        }
    }

    #[test]
    fn the_platform_signs_the_same_token_and_wasm_is_the_fallback() {
        let key = SigningKey::from_seed(&[3; 32]);
        let payload = br#"{"a":1}"#;
        let in_wasm = key.sign_jwt(payload);
        assert_eq!(now(key.sign_jwt_with(&Native, payload)), in_wasm);
        assert_eq!(now(key.sign_jwt_with(&InWasm, payload)), in_wasm);
    }

    #[test]
    fn jwks_lists_the_keys_given_in_order() {
        let a = SigningKey::from_seed(&[1; 32]);
        let b = SigningKey::from_seed(&[2; 32]);
        let v = serde_json::to_value(Jwks::of([a.public(), b.public()])).unwrap();
        assert_eq!(v["keys"].as_array().unwrap().len(), 2);
        assert_eq!(v["keys"][0]["kid"], a.public().kid());
        assert_eq!(v["keys"][1]["kid"], b.public().kid());
        assert_eq!(v["keys"][1]["crv"], "Ed25519");
        assert!(v["keys"][0].get("d").is_none());
    }
}
