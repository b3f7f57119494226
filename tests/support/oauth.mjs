// OAuth helpers shared by the end-to-end tests: clients made through the admin API, grants
// through openid-client, access tokens checked with jose.
import assert from 'node:assert/strict';
import * as oidc from 'openid-client';
import { jwtVerify } from 'jose';

/** POST /admin/clients through an `admin()` helper (worker.mjs), asserting 201; the JSON answer. */
export async function createClient(api, body) {
  const r = await api('POST', '/admin/clients', body);
  assert.equal(r.status, 201, r.text);
  return r.json;
}

/** openid-client configuration for one client of the Worker at `url` (plain HTTP allowed). */
export function discover(url, clientId, auth, algorithm = 'oidc') {
  return oidc.discovery(new URL(url), clientId, undefined, auth, {
    algorithm,
    execute: [oidc.allowInsecureRequests],
  });
}

/**
 * A client made through the admin API (`client_name`, `scope: 'read'` and `body`), its
 * openid-client configuration with client_secret_basic, and one token: { id, secret, config, token }.
 */
export async function clientWithToken(api, url, body = {}) {
  const { client: c, secret } = await createClient(api, { client_name: 'c', scope: 'read', ...body });
  const config = await discover(url, c.client_id, oidc.ClientSecretBasic(secret.client_secret));
  const { access_token: token } = await oidc.clientCredentialsGrant(config, { scope: 'read' });
  return { id: c.client_id, secret: secret.client_secret, config, token };
}

/** A client_credentials grant through openid-client; `auth` e.g. oidc.ClientSecretBasic(secret). */
export async function grant(url, clientId, auth, params = {}) {
  return oidc.clientCredentialsGrant(await discover(url, clientId, auth), params);
}

/** Verify an access token of the Worker (an at+jwt signed with EdDSA) against its JWKS. */
export function verifyAccessToken(jwks, issuer, token, audience) {
  return jwtVerify(token, jwks, { issuer, audience, typ: 'at+jwt', algorithms: ['EdDSA'] });
}

/** The OAuth error of a rejected openid-client call: { status, error, description, challenge }. */
export async function grantError(promise) {
  try {
    await promise;
  } catch (e) {
    if (e instanceof oidc.ResponseBodyError) return { status: e.status, error: e.error, description: e.error_description };
    if (e instanceof oidc.WWWAuthenticateChallengeError) {
      // 401 with a challenge: openid-client leaves the body unread.
      const body = await e.response.json().catch(() => ({}));
      return { status: e.response.status, error: body.error, description: body.error_description, challenge: e.cause };
    }
    throw e;
  }
  assert.fail('expected the grant to be rejected');
}
