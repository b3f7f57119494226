// The Worker under PLAIN workerd (tests/support/workerd.mjs), where no dev proxy buffers the
// request body: a body without Content-Length is read through the shell's capped stream, so a
// body that keeps streaming past the route's cap is answered at once, before it ends.
import assert from 'node:assert/strict';
import { request as httpRequest } from 'node:http';
import { after, before, describe, it } from 'node:test';
import { admin } from '../support/worker.mjs';
import { startWorkerd } from '../support/workerd.mjs';
import { basic } from '../support/http.mjs';

const GT = 'grant_type=client_credentials';
const TOKEN_CAP = 16 * 1024; // MAX_TOKEN_BODY

let w;
let auth;
before(async () => {
  w = await startWorkerd();
  const r = await admin(w.url, w.adminToken)('POST', '/admin/clients', {
    client_name: 'workerd', scope: 'read', lockout_enabled: false,
  });
  assert.equal(r.status, 201, r.text);
  auth = basic(r.json.client.client_id, r.json.secret.client_secret);
});
after(async () => { await w?.stop(); });

/**
 * A chunked POST /oauth/token (no Content-Length) whose body is written by `feed(req)`; the
 * request is never ended by this helper. Answers { status, json } once the response is whole,
 * then tears the request down.
 */
function chunkedToken(feed, headers = {}) {
  const url = new URL(`${w.url}/oauth/token`);
  return new Promise((resolve, reject) => {
    const req = httpRequest({
      host: url.hostname, port: url.port, path: url.pathname, method: 'POST', agent: false,
      headers: { 'content-type': 'application/x-www-form-urlencoded', 'transfer-encoding': 'chunked', ...headers },
    }, (res) => {
      let text = '';
      res.on('data', (d) => { text += d; });
      res.on('end', () => {
        req.destroy();
        try { resolve({ status: res.statusCode, json: JSON.parse(text) }); } catch (e) { reject(e); }
      });
    });
    // The server may close the connection while a write is still pending: that is not a failure
    // of the test once the response is in; without a response it is.
    req.on('error', (e) => { if (!req.res) reject(e); });
    feed(req);
  });
}

describe('under plain workerd', () => {
  it('a chunked body under the cap is read whole: the token is issued', async () => {
    const r = await chunkedToken((req) => {
      req.write(GT.slice(0, 10));
      req.write(`${GT.slice(10)}&scope=read`);
      req.end();
    }, { authorization: auth });
    assert.equal(r.status, 200, JSON.stringify(r.json));
    assert.equal(r.json.token_type, 'Bearer');
    assert.equal(r.json.scope, 'read');
  });

  it('a chunked body that never ends is refused as soon as it passes the cap', { timeout: 15_000 }, async () => {
    const r = await chunkedToken((req) => {
      // Past the cap, then keep the body open for good: only an answer sent before the body
      // ends can finish this request (the test's timeout fails it otherwise).
      req.write(`${GT}&pad=${'x'.repeat(TOKEN_CAP)}`);
      const more = setInterval(() => {
        if (req.destroyed || req.res) clearInterval(more);
        else req.write('x'.repeat(1024));
      }, 20);
    }, { authorization: auth });
    assert.deepEqual(r, {
      status: 400,
      json: { error: 'invalid_request', error_description: `the request body is larger than ${TOKEN_CAP} bytes` },
    });
  });
});
