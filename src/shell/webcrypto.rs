//! The runtime's WebCrypto: RS256, PS256 and ES256 verification (native speed and no RSA or
//! P-256 code in the wasm; the key comes from the client's registration, or from a DPoP proof
//! of a client that authenticated), Ed25519
//! verification of client assertions once the core's strict checks passed (about 90 µs
//! natively against 200 µs in the wasm), and Ed25519 key derivation and signing of access
//! tokens (native, several times faster than in wasm, which has no signing code at all).

use js_sys::{Array, Object, JSON};
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_futures::JsFuture;
use zeroize::Zeroizing;

use crate::error::Error;
use crate::jose::keys::{PlatformSigner, SigningKey};
use crate::jose::verify::PlatformVerifier;
use crate::jose::{Alg, PublicJwk};
use crate::support::b64::b64url_decode;
use crate::support::cache::Recent;
use crate::support::LocalFuture;

/// [`PlatformVerifier`] over `crypto.subtle`.
pub struct WebCrypto;

fn object(json: &str) -> Result<Object, JsValue> {
    JSON::parse(json)?.dyn_into::<Object>()
}

/// The import and verify parameters for each algorithm (WebCrypto's names).
fn params(alg: Alg) -> Option<(&'static str, &'static str)> {
    Some(match alg {
        Alg::RS256 => (
            r#"{"name":"RSASSA-PKCS1-v1_5","hash":"SHA-256"}"#,
            r#"{"name":"RSASSA-PKCS1-v1_5"}"#,
        ),
        Alg::PS256 => (
            r#"{"name":"RSA-PSS","hash":"SHA-256"}"#,
            r#"{"name":"RSA-PSS","saltLength":32}"#,
        ),
        Alg::ES256 => (
            r#"{"name":"ECDSA","namedCurve":"P-256"}"#,
            r#"{"name":"ECDSA","hash":"SHA-256"}"#,
        ),
        Alg::EdDSA | Alg::Ed25519 | Alg::HS256 => return None,
    })
}

async fn verify(
    alg: Alg,
    key: &PublicJwk,
    input: &[u8],
    signature: &[u8],
) -> Result<bool, JsValue> {
    let Some((import_params, verify_params)) = params(alg) else {
        return Ok(false);
    };
    let subtle = subtle()?;
    let jwk =
        serde_json::to_string(&key.import_form()).map_err(|e| JsValue::from_str(&e.to_string()))?;
    // By the algorithm and the key's exact public members: a kid could name two keys.
    let cache_key = [alg.name(), &jwk].concat();
    let crypto_key = match IMPORTED.with(|k| k.get(&cache_key)) {
        Some(c) => c,
        None => {
            let usages = Array::of1(&JsValue::from_str("verify"));
            let imported = subtle.import_key_with_object(
                "jwk",
                &object(&jwk)?,
                &object(import_params)?,
                false,
                &usages,
            );
            // A key WebCrypto refuses (for example an EC point off the curve) verifies nothing.
            let Ok(c) = JsFuture::from(imported?).await else {
                return Ok(false);
            };
            let c: web_sys::CryptoKey = c.unchecked_into();
            IMPORTED.with(|k| k.put(cache_key, c.clone()));
            c
        }
    };
    let promise = subtle.verify_with_object_and_u8_array_and_u8_array(
        &object(verify_params)?,
        &crypto_key,
        signature,
        input,
    )?;
    Ok(JsFuture::from(promise).await?.as_bool().unwrap_or(false))
}

impl PlatformVerifier for WebCrypto {
    fn verify<'a>(
        &'a self,
        alg: Alg,
        key: &'a PublicJwk,
        input: &'a [u8],
        signature: &'a [u8],
    ) -> LocalFuture<'a, Result<bool, Error>> {
        Box::pin(async move {
            verify(alg, key, input, signature)
                .await
                .map_err(|e| Error::Internal(format!("WebCrypto: {e:?}")))
        })
    }

    fn ed25519<'a>(
        &'a self,
        key: &'a [u8; 32],
        input: &'a [u8],
        signature: &'a [u8; 64],
    ) -> LocalFuture<'a, Option<bool>> {
        // A runtime without WebCrypto Ed25519 leaves it to the wasm.
        Box::pin(async move { verify_ed25519(key, input, signature).await.ok() })
    }
}

thread_local! {
    /// Clients' Ed25519 public keys, imported: importing costs about as much as the operation
    /// the key is for. Only keys that passed the strict checks of a registered client's key,
    /// or of an authenticated client's DPoP proof, land here: a stranger's never.
    static CLIENT_KEYS: Recent<[u8; 32], web_sys::CryptoKey> = const { Recent::new(32) };
    /// The server's own signing keys by kid (a handful over an isolate's life).
    static SIGNING_KEYS: Recent<String, web_sys::CryptoKey> = const { Recent::new(8) };
    /// RS256, PS256 and ES256 keys imported, by algorithm and public members: registered
    /// clients' keys and authenticated clients' DPoP proof keys, whose import costs about as
    /// much as the verification and which a client sends again and again. Only a key WebCrypto
    /// accepted is held, and never a stranger's (oauth::dpop checks a proof's signature after
    /// client authentication).
    static IMPORTED: Recent<String, web_sys::CryptoKey> = const { Recent::new(64) };
}

async fn verify_ed25519(
    key: &[u8; 32],
    input: &[u8],
    signature: &[u8; 64],
) -> Result<bool, JsValue> {
    let subtle = subtle()?;
    let crypto_key = match CLIENT_KEYS.with(|k| k.get(key)) {
        Some(c) => c,
        None => {
            let c = import_ed25519(
                "raw",
                &js_sys::Uint8Array::from(key.as_slice()),
                "verify",
                false,
            )
            .await?;
            CLIENT_KEYS.with(|k| k.put(*key, c.clone()));
            c
        }
    };
    let promise = ED25519.with(|algorithm| {
        subtle.verify_with_object_and_u8_array_and_u8_array(
            algorithm,
            &crypto_key,
            signature,
            input,
        )
    })?;
    JsFuture::from(promise)
        .await?
        .as_bool()
        .ok_or_else(|| JsValue::from_str("verify answered no boolean"))
}

/// An Ed25519 key for one use.
async fn import_ed25519(
    format: &str,
    data: &Object,
    usage: &str,
    extractable: bool,
) -> Result<web_sys::CryptoKey, JsValue> {
    let usages = Array::of1(&JsValue::from_str(usage));
    let imported = subtle()?.import_key_with_str(format, data, "Ed25519", extractable, &usages)?;
    Ok(JsFuture::from(imported).await?.unchecked_into())
}

/// The private key `seed` for signing, imported as PKCS#8 (RFC 8410 section 7). The import
/// copies the bytes: the copy in JS memory is wiped whatever happens.
async fn import_private(seed: &[u8; 32], extractable: bool) -> Result<web_sys::CryptoKey, JsValue> {
    let mut der = Zeroizing::new([0u8; 48]);
    der[..16].copy_from_slice(&PKCS8_ED25519);
    der[16..].copy_from_slice(seed);
    let data = js_sys::Uint8Array::from(der.as_slice());
    let key = import_ed25519("pkcs8", &data, "sign", extractable).await;
    data.fill(0, 0, 48);
    key
}

fn subtle() -> Result<web_sys::SubtleCrypto, JsValue> {
    SUBTLE.with(|s| s.clone())
}

thread_local! {
    // Fetched once: three runtime calls each time otherwise, on every token.
    static SUBTLE: Result<web_sys::SubtleCrypto, JsValue> = {
        let global: web_sys::WorkerGlobalScope = js_sys::global().unchecked_into();
        global.crypto().map(|c| c.subtle())
    };
    /// `{name: "Ed25519"}`, made once rather than a string decoded on every call.
    static ED25519: Object = {
        let algorithm = Object::new();
        let _ = js_sys::Reflect::set(&algorithm, &"name".into(), &"Ed25519".into());
        algorithm
    };
}

async fn signing_key(key: &SigningKey) -> Result<web_sys::CryptoKey, JsValue> {
    let kid = key.public().kid();
    if let Some(c) = SIGNING_KEYS.with(|k| k.get(kid)) {
        return Ok(c);
    }
    let crypto_key = import_private(key.seed_bytes(), false).await?;
    SIGNING_KEYS.with(|k| k.put(kid.to_string(), crypto_key.clone()));
    Ok(crypto_key)
}

async fn sign(key: &SigningKey, input: &[u8]) -> Result<[u8; 64], JsValue> {
    let crypto_key = signing_key(key).await?;
    let subtle = subtle()?;
    let promise = ED25519
        .with(|algorithm| subtle.sign_with_object_and_u8_array(algorithm, &crypto_key, input))?;
    let signature = js_sys::Uint8Array::new(&JsFuture::from(promise).await?).to_vec();
    <[u8; 64]>::try_from(signature.as_slice()).map_err(|_| JsValue::from_str("signature length"))
}

/// An Ed25519 `PrivateKeyInfo` (RFC 8410 section 7) up to its 32-byte private key.
const PKCS8_ED25519: [u8; 16] = [
    0x30, 0x2e, 0x02, 0x01, 0x00, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x70, 0x04, 0x22, 0x04, 0x20,
];

/// The public key of `seed`: imported (extractable), exported as a JWK, whose `x` it is. Once
/// per key in an isolate's life (the key ring keeps what it derived).
async fn public_key(seed: &[u8; 32]) -> Result<[u8; 32], JsValue> {
    let key = import_private(seed, true).await?;
    let jwk = JsFuture::from(subtle()?.export_key("jwk", &key)?).await?;
    js_sys::Reflect::get(&jwk, &JsValue::from_str("x"))?
        .as_string()
        .and_then(|x| b64url_decode(&x))
        .and_then(|x| <[u8; 32]>::try_from(x).ok())
        .ok_or_else(|| JsValue::from_str("the exported JWK has no 32-byte x"))
}

impl PlatformSigner for WebCrypto {
    fn public_key<'a>(&'a self, seed: &'a [u8; 32]) -> LocalFuture<'a, Result<[u8; 32], Error>> {
        Box::pin(async move {
            public_key(seed)
                .await
                .map_err(|e| Error::Internal(format!("WebCrypto Ed25519 key: {e:?}")))
        })
    }

    fn sign_ed25519<'a>(
        &'a self,
        key: &'a SigningKey,
        input: &'a [u8],
    ) -> LocalFuture<'a, Result<[u8; 64], Error>> {
        Box::pin(async move {
            sign(key, input)
                .await
                .map_err(|e| Error::Internal(format!("WebCrypto Ed25519 signing: {e:?}")))
        })
    }
}
