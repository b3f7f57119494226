// Python authlib 1.9 against the built Worker with its defaults unchanged: RS256 client
// assertions that live an hour (exp = iat + 3600), HS256 client_secret_jwt, and a secret in the
// form body of a client created with defaults (client_secret_basic).
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { generateKeyPair, exportJWK, exportPKCS8, createRemoteJWKSet, jwtVerify } from 'jose';
import { after, before, describe, it } from 'node:test';
import { promisify } from 'node:util';
import { ROOT, admin, startWorker } from '../support/worker.mjs';

const run = promisify(execFile);
let w;
let api;
let jwks;
let issuer;

/** authlib's token request, as a parsed JSON answer. */
async function authlib(clientId, method, credential) {
  const { stdout } = await run(`${ROOT}/.tools/py/bin/python`,
    [`${ROOT}/tests/e2e/python/authlib_token.py`, `${w.url}/oauth/token`, clientId, method, credential]);
  return JSON.parse(stdout);
}

async function create(body) {
  const r = await api('POST', '/admin/clients', { client_name: 'authlib', scope: 'read', ...body });
  assert.equal(r.status, 201, r.text);
  return r.json;
}

async function assertToken(answer, clientId) {
  assert.equal(answer.token_type, 'Bearer', JSON.stringify(answer));
  assert.equal(answer.scope, 'read');
  const { payload, protectedHeader } = await jwtVerify(answer.access_token, jwks, { issuer, typ: 'at+jwt', algorithms: ['EdDSA'] });
  assert.equal(protectedHeader.typ, 'at+jwt');
  assert.equal(payload.client_id, clientId);
}

before(async () => {
  w = await startWorker();
  api = admin(w.url, w.adminToken);
  issuer = (await (await fetch(`${w.url}/.well-known/oauth-authorization-server`)).json()).issuer;
  jwks = createRemoteJWKSet(new URL(`${w.url}/.well-known/jwks.json`));
});
after(async () => { await w?.stop(); });

describe('Python authlib, defaults unchanged', () => {
  it('private_key_jwt: an RS256 assertion living an hour gets a token', async () => {
    const { publicKey, privateKey } = await generateKeyPair('RS256', { extractable: true });
    const jwk = { ...(await exportJWK(publicKey)), kid: 'rsa-1' };
    const { client } = await create({ token_endpoint_auth_method: 'private_key_jwt', jwks: { keys: [jwk] } });
    await assertToken(await authlib(client.client_id, 'private_key_jwt', await exportPKCS8(privateKey)), client.client_id);
  });

  it('client_secret_jwt: an HS256 assertion with the secret gets a token', async () => {
    const { client, secret } = await create({ token_endpoint_auth_method: 'client_secret_jwt' });
    await assertToken(await authlib(client.client_id, 'client_secret_jwt', secret.client_secret), client.client_id);
  });

  it('a default client sends its secret in the form body or by Basic', async () => {
    const { client, secret } = await create({});
    for (const method of ['client_secret_post', 'client_secret_basic']) {
      await assertToken(await authlib(client.client_id, method, secret.client_secret), client.client_id);
    }
  });

  it('a wrong secret is refused as invalid_client', async () => {
    const { client } = await create({ lockout_enabled: false });
    const answer = await authlib(client.client_id, 'client_secret_post', 'not-the-secret');
    assert.deepEqual(answer.error_body, { error: 'invalid_client', error_description: 'client authentication failed' });
  });
});
