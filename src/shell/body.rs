//! Bodies read in JS: a request's without `Content-Length`, and a fetched key set's.

use wasm_bindgen::prelude::wasm_bindgen;
use wasm_bindgen::JsValue;
use wasm_bindgen_futures::JsFuture;

#[wasm_bindgen(inline_js = "
export async function read_capped(r, cap) {
  if (!r.body) return new Uint8Array(0);
  const reader = r.body.getReader();
  const chunks = [];
  let length = 0;
  for (;;) {
    let next;
    try {
      next = await reader.read();
    } catch (e) {
      // An aborted stream ends the body, as the worker crate's ByteStream had it.
      if (String(e) === 'Error: aborted') break;
      throw e;
    }
    if (next.done) break;
    const chunk = next.value;
    length += chunk.length;
    if (length > cap) {
      reader.cancel().catch(() => {});
      return null;
    }
    chunks.push(chunk);
  }
  const body = new Uint8Array(length);
  let at = 0;
  for (const chunk of chunks) {
    body.set(chunk, at);
    at += chunk.length;
  }
  return body;
}")]
extern "C" {
    /// A promise of the body of `r` (a request or a response) read through its stream: its
    /// bytes (a `Uint8Array`), or `null` as soon as more than `cap` bytes came (the rest is
    /// cancelled, not read); it rejects when the stream fails. No body at all is an empty
    /// body. JS reads the chunks (one crossing for the body instead of one per chunk), and the
    /// wasm links no stream adapter (the `worker` crate's `ByteStream`, over wasm-streams).
    pub(super) fn read_capped(r: &JsValue, cap: usize) -> js_sys::Promise;
}

/// The bytes a body promise gives (an `ArrayBuffer` or a `Uint8Array`): `None` for the `null`
/// of [`read_capped`] past its cap, `Err` when the body could not be read.
pub(super) async fn bytes(promise: js_sys::Promise) -> Result<Option<Vec<u8>>, ()> {
    match JsFuture::from(promise).await {
        Ok(body) if body.is_null() => Ok(None),
        Ok(body) => Ok(Some(js_sys::Uint8Array::new(&body).to_vec())),
        Err(_) => Err(()),
    }
}
