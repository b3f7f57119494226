// The client's guard (a SQLite-backed Durable Object) drops its storage when its alarm finds
// nothing left; on SQLite that drops the tables too. The next use of the same object must
// still work. The alarm fires 31 s after the assertion's exp, so this test spans that time,
// using the object every two seconds so the instance stays the same one.
import assert from 'node:assert/strict';
import { SignJWT, exportJWK, generateKeyPair } from 'jose';
import { after, before, it } from 'node:test';
import { admin, startWorker } from '../support/worker.mjs';
import { nowSec, sleep, tokenRequest } from '../support/http.mjs';

const ASSERTION_TYPE = 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer';
let w;
before(async () => { w = await startWorker(); });
after(async () => { await w?.stop(); });

it('the guard works after its alarm has swept its storage away', { timeout: 90_000 }, async () => {
  const api = admin(w.url, w.adminToken);
  const { publicKey, privateKey } = await generateKeyPair('EdDSA', { crv: 'Ed25519' });
  const created = await api('POST', '/admin/clients', {
    client_name: 'sweep', token_endpoint_auth_method: 'private_key_jwt',
    jwks: { keys: [{ ...(await exportJWK(publicKey)), kid: 'k' }] },
  });
  assert.equal(created.status, 201, created.text);
  const id = created.json.client.client_id;
  const issuer = (await (await fetch(`${w.url}/.well-known/oauth-authorization-server`)).json()).issuer;
  const token = async (exp) => tokenRequest(w.url, {
    grant_type: 'client_credentials', client_assertion_type: ASSERTION_TYPE,
    client_assertion: await new SignJWT({ jti: crypto.randomUUID() }).setProtectedHeader({ alg: 'EdDSA', kid: 'k' })
      .setIssuer(id).setSubject(id).setAudience(`${issuer}/oauth/token`).setExpirationTime(exp).sign(privateKey),
  });
  // A jti held until exp + 30 s: the alarm then removes it, finds nothing left and sweeps.
  const exp = nowSec() + 1;
  assert.equal((await token(exp)).status, 200);
  while (nowSec() < exp + 40) {
    // Reads the guard state: after the sweep this needs the tables back.
    const view = await api('GET', `/admin/clients/${id}`);
    assert.equal(view.status, 200, view.text);
    await sleep(2000);
  }
  const again = await token(nowSec() + 60);
  assert.equal(again.status, 200, again.text);
});
