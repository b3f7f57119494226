//! Token signing keys: Ed25519 (RFC 8037), derived from the one `SIGNING_KEY_SEED`, published
//! as a JWKS. Which derived key signs, and which are published, is the rotation schedule's
//! business (`registry::signing_keys`).
//!
//! The Ed25519 arithmetic of a signing key (its public key, its signatures) is the platform's
//! ([`PlatformSigner`]): WebCrypto in Workers, which signs several times faster than the curve
//! arithmetic in wasm, and ed25519-dalek on the host ([`InRust`]). The wasm build links no
//! signing code of its own: that was about 7 KB of its gzipped size.

use hkdf::Hkdf;
use serde::Serialize;
use sha2::Sha256;
use zeroize::Zeroizing;

use crate::error::Error;
use crate::jose::jwk::PublicJwk;
use crate::jose::jws::compact;
use crate::support::b64::b64url;
use crate::support::LocalFuture;

/// An Ed25519 public key with its RFC 7638 thumbprint as `kid`.
#[derive(Debug, Clone)]
pub struct PublicKey {
    x: [u8; 32],
    kid: String,
    /// The same key as `edgeauth-verify` takes it, made once: building it decompresses the
    /// point, which introspection would otherwise pay on every call.
    verify_key: edgeauth_verify::Key,
}

impl PublicKey {
    /// The key whose encoding (RFC 8032 5.1.2) is `x`; an error if `x` is not a point, which
    /// no platform's derivation gives.
    fn new(x: [u8; 32]) -> Result<PublicKey, Error> {
        let kid = PublicJwk::okp_ed25519(&x).thumbprint();
        let verify_key = edgeauth_verify::Key::ed25519(&x, Some(&kid))
            .map_err(|_| Error::Internal("a derived public key is not a point".into()))?;
        Ok(PublicKey { x, kid, verify_key })
    }

    /// This key for `edgeauth-verify`.
    pub fn verify_key(&self) -> &edgeauth_verify::Key {
        &self.verify_key
    }

    /// The key id.
    pub fn kid(&self) -> &str {
        &self.kid
    }

    /// The 32-byte encoding of the key (the JWK's `x`).
    pub fn as_bytes(&self) -> &[u8; 32] {
        &self.x
    }

    /// This key as a JWK.
    pub fn jwk(&self) -> Jwk<'_> {
        Jwk {
            kty: "OKP",
            crv: "Ed25519",
            x: b64url(self.x),
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
    seed: Zeroizing<[u8; 32]>,
    public: PublicKey,
    header_b64: String,
}

impl SigningKey {
    /// The only algorithm this key signs with.
    pub const ALG: &'static str = "EdDSA";

    /// The key of a 32-byte seed (RFC 8032 5.1.5), its public half derived by `platform`.
    pub async fn derive(
        seed: Zeroizing<[u8; 32]>,
        platform: &dyn PlatformSigner,
    ) -> Result<SigningKey, Error> {
        let public = platform.public_key(&seed).await?;
        Ok(SigningKey::new(seed, PublicKey::new(public)?))
    }

    /// As [`SigningKey::derive`] with [`InRust`], at once: host tests and tools.
    #[cfg(not(target_arch = "wasm32"))]
    pub fn from_seed(seed: &[u8; 32]) -> SigningKey {
        let public = PublicKey::new(InRust::public(seed))
            .unwrap_or_else(|_| unreachable!("a dalek public key is a point"));
        SigningKey::new(Zeroizing::new(*seed), public)
    }

    fn new(seed: Zeroizing<[u8; 32]>, public: PublicKey) -> SigningKey {
        // RFC 9068 section 2.1: typ at+jwt.
        let header = format!(
            r#"{{"alg":"{}","typ":"at+jwt","kid":"{}"}}"#,
            Self::ALG,
            public.kid
        );
        SigningKey {
            seed,
            public,
            header_b64: b64url(header),
        }
    }

    /// The public half.
    pub fn public(&self) -> &PublicKey {
        &self.public
    }

    /// Signs a JSON payload as a compact JWS with the `at+jwt` header, with [`InRust`]: host
    /// tests and tools.
    #[cfg(not(target_arch = "wasm32"))]
    pub fn sign_jwt(&self, payload_json: &[u8]) -> String {
        let input = self.signing_input(payload_json);
        let sig = InRust::sign(&self.seed, input.as_bytes());
        compact(input, &sig)
    }

    /// Signs a JSON payload as a compact JWS with the `at+jwt` header, through `platform`.
    /// Ed25519 is deterministic, so the token is the same whichever platform signs.
    pub async fn sign_jwt_with(
        &self,
        platform: &dyn PlatformSigner,
        payload_json: &[u8],
    ) -> Result<String, Error> {
        let input = self.signing_input(payload_json);
        let sig = platform.sign_ed25519(self, input.as_bytes()).await?;
        Ok(compact(input, &sig))
    }

    fn signing_input(&self, payload_json: &[u8]) -> String {
        let mut input =
            String::with_capacity(self.header_b64.len() + payload_json.len() * 4 / 3 + 90);
        input.push_str(&self.header_b64);
        input.push('.');
        input.push_str(&b64url(payload_json));
        input
    }

    /// The 32-byte private seed, for the platform's signer only.
    // Only the wasm shell's WebCrypto signer (and tests) take it.
    #[cfg_attr(not(any(target_arch = "wasm32", test)), allow(dead_code))]
    pub(crate) fn seed_bytes(&self) -> &[u8; 32] {
        &self.seed
    }
}

impl std::fmt::Debug for SigningKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "SigningKey(kid={})", self.public.kid)
    }
}

/// Ed25519 by the platform (WebCrypto in Workers, [`InRust`] on the host): the wasm has no
/// signing arithmetic of its own, so an error here fails the request (a 500).
pub trait PlatformSigner {
    /// The public key of the private key `seed` (RFC 8032 5.1.5), encoded (5.1.2).
    fn public_key<'a>(&'a self, seed: &'a [u8; 32]) -> LocalFuture<'a, Result<[u8; 32], Error>>;

    /// The signature of `input` by `key` (RFC 8032 5.1.6).
    fn sign_ed25519<'a>(
        &'a self,
        key: &'a SigningKey,
        input: &'a [u8],
    ) -> LocalFuture<'a, Result<[u8; 64], Error>>;
}

/// Ed25519 in Rust (ed25519-dalek), at once: the host's platform (tests, tools). Not in the
/// wasm build, which signs through WebCrypto only.
#[cfg(not(target_arch = "wasm32"))]
pub struct InRust;

#[cfg(not(target_arch = "wasm32"))]
impl InRust {
    fn public(seed: &[u8; 32]) -> [u8; 32] {
        ed25519_dalek::SigningKey::from_bytes(seed)
            .verifying_key()
            .to_bytes()
    }

    fn sign(seed: &[u8; 32], input: &[u8]) -> [u8; 64] {
        use ed25519_dalek::Signer;
        ed25519_dalek::SigningKey::from_bytes(seed)
            .sign(input)
            .to_bytes()
    }
}

#[cfg(not(target_arch = "wasm32"))]
impl PlatformSigner for InRust {
    fn public_key<'a>(&'a self, seed: &'a [u8; 32]) -> LocalFuture<'a, Result<[u8; 32], Error>> {
        Box::pin(std::future::ready(Ok(InRust::public(seed))))
    }

    fn sign_ed25519<'a>(
        &'a self,
        key: &'a SigningKey,
        input: &'a [u8],
    ) -> LocalFuture<'a, Result<[u8; 64], Error>> {
        Box::pin(std::future::ready(Ok(InRust::sign(&key.seed, input))))
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

    /// The signing key with this index, derived in Rust: host tests and tools (the core
    /// derives with [`SigningKey::derive`] over [`Seed::private`]).
    #[cfg(not(target_arch = "wasm32"))]
    pub fn key(&self, index: u32) -> SigningKey {
        SigningKey::from_seed(&self.private(index))
    }

    /// The private key (RFC 8032's 32-byte seed) with this index. Index 0 is the seed itself,
    /// so a deployment from before rotation keeps its key and kid; later ones come from
    /// HKDF-SHA256 (RFC 5869) with the index in `info`, so they are independent of each other
    /// and of the seed.
    pub(crate) fn private(&self, index: u32) -> Zeroizing<[u8; 32]> {
        if index == 0 {
            return self.0.clone();
        }
        let mut okm = Zeroizing::new([0u8; 32]);
        let info = [b"edgeauth signing key ".as_slice(), &index.to_be_bytes()].concat();
        Hkdf::<Sha256>::new(Some(b"edgeauth/signing-keys/v1"), self.0.as_slice())
            .expand(&info, okm.as_mut_slice())
            .unwrap_or_else(|_| unreachable!("32 bytes is within HKDF-SHA256's output limit"));
        okm
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
    use ed25519_dalek::{Signature, Signer, VerifyingKey};

    /// RFC 8037 appendix A.1-A.4: key, thumbprint and the Ed25519 JWS of "Example of Ed25519 signing".
    #[test]
    fn rfc8037_vectors() {
        let seed: [u8; 32] = b64url_decode("nWGxne_9WmC6hEr0kuwsxERJxWl7MmkZcDusAxyuf2A")
            .unwrap()
            .try_into()
            .unwrap();
        let key = SigningKey::from_seed(&seed);
        assert_eq!(
            b64url(key.public.as_bytes()),
            "11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo"
        );
        assert_eq!(
            key.public.kid(),
            "kPrK_qmxVWaYVA9wwBF6Iuo3vVzz7TxHCTwXBygrS4k"
        );
        let input = "eyJhbGciOiJFZERTQSJ9.RXhhbXBsZSBvZiBFZDI1NTE5IHNpZ25pbmc";
        let sig = InRust::sign(key.seed_bytes(), input.as_bytes());
        assert_eq!(
            b64url(sig),
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
        VerifyingKey::from_bytes(key.public.as_bytes())
            .unwrap()
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
        assert_eq!(b64url(k1.public().as_bytes()), DERIVED_1);
        let other = Seed::new(Zeroizing::new([8; 32]));
        assert_ne!(other.key(1).public().kid(), k1.public().kid());
        assert_eq!(format!("{seed:?}"), "Seed(redacted)");
    }

    const DERIVED_1: &str = "6yTvHGES-WgGJdF_hNwMPInV8FgbN7d0FMhhMnyHn1Y";

    /// A platform with its own Ed25519, as WebCrypto is: dalek's key type, not [`InRust`].
    struct Native;

    impl PlatformSigner for Native {
        fn public_key<'a>(
            &'a self,
            seed: &'a [u8; 32],
        ) -> LocalFuture<'a, Result<[u8; 32], Error>> {
            let key = ed25519_dalek::SigningKey::from_bytes(seed);
            Box::pin(std::future::ready(Ok(key.verifying_key().to_bytes())))
        }

        fn sign_ed25519<'a>(
            &'a self,
            key: &'a SigningKey,
            input: &'a [u8],
        ) -> LocalFuture<'a, Result<[u8; 64], Error>> {
            let copy = ed25519_dalek::SigningKey::from_bytes(key.seed_bytes());
            Box::pin(std::future::ready(Ok(copy.sign(input).to_bytes())))
        }
    }

    /// A platform whose Ed25519 fails, as a runtime without it would.
    struct Failing;

    impl PlatformSigner for Failing {
        fn public_key<'a>(&'a self, _: &'a [u8; 32]) -> LocalFuture<'a, Result<[u8; 32], Error>> {
            Box::pin(std::future::ready(Err(Error::Internal(
                "no Ed25519".into(),
            ))))
        }

        fn sign_ed25519<'a>(
            &'a self,
            _: &'a SigningKey,
            _: &'a [u8],
        ) -> LocalFuture<'a, Result<[u8; 64], Error>> {
            Box::pin(std::future::ready(Err(Error::Internal(
                "no Ed25519".into(),
            ))))
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
    fn a_platform_derives_and_signs_the_same_keys_and_tokens() {
        let seed = Seed::new(Zeroizing::new([7; 32]));
        for index in [0, 1, 2] {
            let derived = now(SigningKey::derive(seed.private(index), &Native)).unwrap();
            assert_eq!(derived.public().kid(), seed.key(index).public().kid());
            assert_eq!(derived.seed_bytes(), seed.key(index).seed_bytes());
        }
        let key = SigningKey::from_seed(&[3; 32]);
        let payload = br#"{"a":1}"#;
        let in_rust = key.sign_jwt(payload);
        assert_eq!(now(key.sign_jwt_with(&Native, payload)).unwrap(), in_rust);
        assert_eq!(now(key.sign_jwt_with(&InRust, payload)).unwrap(), in_rust);
    }

    #[test]
    fn without_the_platform_nothing_is_derived_or_signed() {
        let seed = Seed::new(Zeroizing::new([7; 32]));
        let derived = now(SigningKey::derive(seed.private(1), &Failing));
        assert!(matches!(derived, Err(Error::Internal(_))));
        let key = SigningKey::from_seed(&[3; 32]);
        let signed = now(key.sign_jwt_with(&Failing, b"{}"));
        assert!(matches!(signed, Err(Error::Internal(_))));
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
