// Small helpers shared by the end-to-end tests.
import assert from 'node:assert/strict';

export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

export const UUID_V4 = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;
export const B64URL_32 = /^[A-Za-z0-9_-]{43}$/;

export const nowSec = () => Math.floor(Date.now() / 1000);

/** fetch + read body; json is null when the body is not JSON. */
export async function request(url, init = {}) {
  const r = await fetch(url, { redirect: 'manual', ...init });
  const text = await r.text();
  let json = null;
  try { json = text ? JSON.parse(text) : null; } catch { json = null; }
  return { status: r.status, headers: r.headers, json, text };
}

export function basic(id, secret) {
  // RFC 6749 2.3.1: form-urlencode both parts before base64.
  const enc = (s) => encodeURIComponent(s).replace(/%20/g, '+');
  return 'Basic ' + Buffer.from(`${enc(id)}:${enc(secret)}`).toString('base64');
}

/** POST /oauth/token with a raw form body (string or record) and extra headers. */
export function tokenRequest(baseUrl, form, headers = {}) {
  const body = typeof form === 'string' ? form : new URLSearchParams(form).toString();
  return request(`${baseUrl}/oauth/token`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded', ...headers },
    body,
  });
}

/** Assert an error answer: status, JSON `{error, error_description}` with a non-empty description. */
export function assertError(res, status, error, msg = '') {
  const ctx = `${msg} -> ${res.status} ${res.text.slice(0, 300)}`;
  if (Array.isArray(status)) assert.ok(status.includes(res.status), `status in ${status}: ${ctx}`);
  else assert.equal(res.status, status, `status: ${ctx}`);
  assert.ok(res.json && typeof res.json === 'object', `JSON body: ${ctx}`);
  if (Array.isArray(error)) assert.ok(error.includes(res.json.error), `error in ${error}: ${ctx}`);
  else assert.equal(res.json.error, error, `error: ${ctx}`);
  assert.equal(typeof res.json.error_description, 'string', `error_description: ${ctx}`);
  assert.ok(res.json.error_description.length > 0, `error_description non-empty: ${ctx}`);
  assert.match(res.headers.get('content-type') ?? '', /^application\/json/, `content-type: ${ctx}`);
}

/**
 * Poll `fn` until it returns without throwing (client records are cached in the isolate for a
 * few seconds, so admin changes take a moment to bite). Rethrows the last failure at timeout.
 */
export async function eventually(fn, { timeoutMs = 10_000, intervalMs = 250 } = {}) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      return await fn();
    } catch (e) {
      if (Date.now() > deadline) throw e;
      await sleep(intervalMs);
    }
  }
}

/** Decode a JWT's header and payload without verifying it. */
export function decodeJwt(token) {
  const [h, p] = token.split('.');
  const dec = (s) => JSON.parse(Buffer.from(s, 'base64url').toString('utf8'));
  return { header: dec(h), payload: dec(p) };
}
