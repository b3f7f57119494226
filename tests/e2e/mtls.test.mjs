// Client certificates (RFC 8705) under PLAIN workerd, whose HTTP socket option `cfBlobHeader`
// turns a request header's JSON into `request.cf`: the test plays Cloudflare's edge and hands
// the issuer `cf.tlsClientAuth` as an mTLS hostname would. Both authentication methods, a
// certificate registered through the admin API, and a certificate-bound token's `cnf` checked
// with jose against the SHA-256 of the certificate's DER, computed here by node:crypto.
import assert from 'node:assert/strict';
import { X509Certificate, createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { createLocalJWKSet, jwtVerify } from 'jose';
import { ROOT, admin } from '../support/worker.mjs';
import { startWorkerd } from '../support/workerd.mjs';
import { assertError, basic, eventually, request, tokenRequest } from '../support/http.mjs';

const CF = 'x-test-cf';
const GT = 'grant_type=client_credentials';
const pem = (name) => readFileSync(join(ROOT, 'tests', 'seeds', 'cert', `${name}.pem`), 'utf8');
const CERT = pem('acme');
const OTHER = pem('second');
/** What the edge reports: the SHA-256 of the DER in hex, and the token's x5t#S256. */
const der = (p) => new X509Certificate(p).raw;
const fingerprint = (p) => createHash('sha256').update(der(p)).digest('hex');
const x5t = (p) => createHash('sha256').update(der(p)).digest('base64url');

/** The `request.cf` of a connection with a client certificate, as Cloudflare gives it. */
function cf({ presented = '1', verified = 'FAILED:self signed certificate', cert = CERT, dn } = {}) {
  const subject = dn ?? new X509Certificate(cert).subject.split('\n').reverse().join(',');
  return JSON.stringify({
    tlsClientAuth: {
      certPresented: presented,
      certVerified: verified,
      certFingerprintSHA256: presented === '1' ? fingerprint(cert) : '',
      certSubjectDNRFC2253: presented === '1' ? subject : '',
      certIssuerDNRFC2253: presented === '1' ? subject : '',
      certNotBefore: '', certNotAfter: '', certSerial: '',
    },
  });
}

let w;
let api;
let jwks;
before(async () => {
  w = await startWorkerd({ cfBlobHeader: CF });
  api = admin(w.url, w.adminToken);
  const keys = await request(`${w.url}/.well-known/jwks.json`);
  jwks = createLocalJWKSet(keys.json);
});
after(async () => { await w?.stop(); });

async function client(body) {
  const r = await api('POST', '/admin/clients', { scope: 'read', ...body });
  assert.equal(r.status, 201, r.text);
  return r.json;
}

async function verified(res) {
  assert.equal(res.status, 200, res.text);
  assert.equal(res.json.token_type, 'Bearer');
  const { payload, protectedHeader } = await jwtVerify(res.json.access_token, jwks, {
    issuer: w.url, typ: 'at+jwt',
  });
  assert.equal(protectedHeader.alg, 'EdDSA');
  return payload;
}

describe('client certificates under plain workerd', () => {
  it('the metadata names both methods and certificate-bound tokens', async () => {
    const m = (await request(`${w.url}/.well-known/oauth-authorization-server`)).json;
    assert.ok(m.token_endpoint_auth_methods_supported.includes('tls_client_auth'));
    assert.ok(m.token_endpoint_auth_methods_supported.includes('self_signed_tls_client_auth'));
    assert.equal(m.tls_client_certificate_bound_access_tokens, true);
  });

  it('self_signed_tls_client_auth: a registered certificate authenticates, binds, and stops at once when removed', async () => {
    const c = (await client({
      client_name: 'self-signed', token_endpoint_auth_method: 'self_signed_tls_client_auth',
      tls_client_certificate_bound_access_tokens: true,
    })).client;
    const id = c.client_id;
    assert.equal(c.tls_client_certificate_bound_access_tokens, true);
    const up = await api('POST', `/admin/clients/${id}/certificates`, { certificate: CERT });
    assert.equal(up.status, 201, up.text);
    assert.deepEqual(up.json.certificates.map((x) => [x.fingerprint, x['x5t#S256']]), [[fingerprint(CERT), x5t(CERT)]]);
    assert.equal(up.json.certificates[0].not_after, Math.floor(Date.parse(new X509Certificate(CERT).validTo) / 1000));

    const claims = await verified(await tokenRequest(w.url, `${GT}&client_id=${id}`, { [CF]: cf() }));
    assert.equal(claims.client_id, id);
    assert.deepEqual(claims.cnf, { 'x5t#S256': x5t(CERT) });

    const other = await tokenRequest(w.url, `${GT}&client_id=${id}`, { [CF]: cf({ cert: OTHER }) });
    assertError(other, 401, 'invalid_client');
    assert.equal(other.json.error_description, 'the client certificate is not registered');
    assert.equal(other.headers.get('www-authenticate'), 'Basic realm="edgeauth"');
    for (const headers of [{}, { [CF]: cf({ presented: '0', verified: 'NONE' }) }]) {
      const none = await tokenRequest(w.url, `${GT}&client_id=${id}`, headers);
      assertError(none, 401, 'invalid_client');
      assert.match(none.json.error_description, /client certificate/);
    }
    const shown = await api('GET', `/admin/clients/${id}`);
    assert.equal(shown.json.failed_attempts, 0, 'certificate failures never count');

    const del = await api('DELETE', `/admin/clients/${id}/certificates/${fingerprint(CERT).toUpperCase()}`);
    assert.equal(del.status, 204, del.text);
    await eventually(async () => {
      const r = await tokenRequest(w.url, `${GT}&client_id=${id}`, { [CF]: cf() });
      assertError(r, 401, 'invalid_client');
    }, { timeoutMs: 6_000 });
    const events = (await api('GET', `/admin/clients/${id}/audit`)).json.events.map((e) => e.action);
    assert.deepEqual(events.filter((a) => a.startsWith('certificate.')).sort(), ['certificate.created', 'certificate.deleted']);
  });

  it('tls_client_auth: a certificate the edge verified, with the registered subject DN', async () => {
    const dn = 'CN=client.example,O=Example';
    const id = (await client({
      client_name: 'ca-issued', token_endpoint_auth_method: 'tls_client_auth', tls_client_auth_subject_dn: dn,
    })).client.client_id;
    const ok = await tokenRequest(w.url, `${GT}&client_id=${id}`, { [CF]: cf({ verified: 'SUCCESS', dn }) });
    const claims = await verified(ok);
    assert.equal(claims.sub, id);
    assert.equal(claims.cnf, undefined, 'not bound unless registered so');
    for (const [edge, why] of [
      [{ verified: 'FAILED:unable to get local issuer certificate', dn }, 'the client certificate is not verified by a trusted CA'],
      [{ verified: 'SUCCESS', dn: 'CN=client.example,O=Other' }, "the client certificate's subject DN does not match"],
    ]) {
      const r = await tokenRequest(w.url, `${GT}&client_id=${id}`, { [CF]: cf(edge) });
      assertError(r, 401, 'invalid_client');
      assert.equal(r.json.error_description, why);
    }
  });

  it('a secret client bound to its certificate: cnf from the connection, 400 without one', async () => {
    const { client: c, secret } = await client({
      client_name: 'bound', tls_client_certificate_bound_access_tokens: true,
    });
    const auth = { authorization: basic(c.client_id, secret.client_secret) };
    const claims = await verified(await tokenRequest(w.url, GT, { ...auth, [CF]: cf({ cert: OTHER, verified: 'SUCCESS' }) }));
    assert.deepEqual(claims.cnf, { 'x5t#S256': x5t(OTHER) });
    const none = await tokenRequest(w.url, GT, auth);
    assertError(none, 400, 'invalid_request');
    assert.match(none.json.error_description, /certificate-bound/);
  });

  it('certificate uploads are checked', async () => {
    const id = (await client({ client_name: 'uploads', token_endpoint_auth_method: 'self_signed_tls_client_auth' })).client.client_id;
    const path = `/admin/clients/${id}/certificates`;
    assert.equal((await api('POST', path, { certificate: CERT })).status, 201);
    const again = await api('POST', path, { certificate: CERT });
    assert.equal(again.status, 409);
    assert.equal(again.json.error_description, 'the client already has this certificate');
    const bad = await api('POST', path, { certificate: 'not a certificate' });
    assert.equal(bad.status, 400);
    const list = await api('GET', path);
    assert.equal(list.json.certificates.length, 1);
    assert.match(list.json.certificates[0].subject, /CN=client\.example/);
  });
});
