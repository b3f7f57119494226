//! RS256, PS256 and ES256 verification through the runtime's WebCrypto: native speed and no
//! RSA or P-256 code in the wasm. The key comes from the client's registration only.

use js_sys::{Array, Object, JSON};
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_futures::JsFuture;

use crate::error::Error;
use crate::jose::verify::PlatformVerifier;
use crate::jose::{Alg, PublicJwk};
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
    let global: web_sys::WorkerGlobalScope = js_sys::global().unchecked_into();
    let subtle = global.crypto()?.subtle();
    let jwk =
        serde_json::to_string(&key.import_form()).map_err(|e| JsValue::from_str(&e.to_string()))?;
    let usages = Array::of1(&JsValue::from_str("verify"));
    let imported = subtle.import_key_with_object(
        "jwk",
        &object(&jwk)?,
        &object(import_params)?,
        false,
        &usages,
    );
    // A key WebCrypto refuses (for example an EC point off the curve) verifies nothing.
    let Ok(crypto_key) = JsFuture::from(imported?).await else {
        return Ok(false);
    };
    let promise = subtle.verify_with_object_and_u8_array_and_u8_array(
        &object(verify_params)?,
        &crypto_key.unchecked_into(),
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
}
