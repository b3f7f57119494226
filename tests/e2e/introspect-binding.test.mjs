// The recipe "Introspection from a JavaScript Worker, over a Service Binding" (docs/RECIPES.md),
// run as written: its wrangler.toml binding and its module are read from that file, so the test
// fails if the recipe's code stops working. The API Worker and the issuer are two `wrangler dev`
// sessions sharing a private dev registry (see gateway.test.mjs for why not one session).
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { ROOT, admin, startWorker } from '../support/worker.mjs';
import { basic, eventually } from '../support/http.mjs';
import { createClient } from '../support/oauth.mjs';

const API = 'https://api.example.com';
// The recipe calls https://issuer/...: the issuer must have ISSUER set, as the recipe says.
const ISSUER = 'https://auth.e2e.test';

let dir;
let issuer;
let apiWorker;
let client; // { id, secret }: may have tokens for API
let plain; // { id, secret }: a client with no resources, whose tokens are for the issuer

/** The fenced block of `lang` that follows `heading` in the recipes. */
function block(text, heading, lang) {
  const at = text.indexOf(heading);
  assert.ok(at >= 0, `docs/RECIPES.md has "${heading}"`);
  const match = new RegExp('```' + lang + '\\n([\\s\\S]*?)```').exec(text.slice(at));
  assert.ok(match, `a ${lang} block after "${heading}"`);
  return match[1];
}

async function token(resource, who = client) {
  const form = { grant_type: 'client_credentials', scope: 'read', ...(resource ? { resource } : {}) };
  const r = await fetch(`${issuer.url}/oauth/token`, {
    method: 'POST',
    headers: { authorization: basic(who.id, who.secret), 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams(form),
  });
  assert.equal(r.status, 200);
  return (await r.json()).access_token;
}

const call = (t) => fetch(apiWorker.url, t ? { headers: { authorization: `Bearer ${t}` } } : {});

before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'edgeauth-recipe-'));
  const registry = join(dir, 'registry');
  issuer = await startWorker({ registry, vars: { ISSUER } });
  const api = admin(issuer.url, issuer.adminToken);
  const made = await createClient(api, { client_name: 'caller', scope: 'read', resources: [API] });
  client = { id: made.client.client_id, secret: made.secret.client_secret };
  const other = await createClient(api, { client_name: 'plain', scope: 'read' });
  plain = { id: other.client.client_id, secret: other.secret.client_secret };
  const introspector = await createClient(api, { client_name: 'api', introspection_allowed: true });

  const recipes = await readFile(join(ROOT, 'docs', 'RECIPES.md'), 'utf8');
  const heading = '## Introspection from a JavaScript Worker, over a Service Binding';
  const toml = `name = "recipe-api"\nmain = "index.js"\ncompatibility_date = "2025-10-01"\n${block(recipes, heading, 'toml')}`;
  await writeFile(join(dir, 'wrangler.toml'), toml);
  await writeFile(join(dir, 'index.js'), block(recipes, heading, 'js'));
  apiWorker = await startWorker({
    config: join(dir, 'wrangler.toml'),
    registry,
    vars: { API_CLIENT_ID: introspector.client.client_id, API_CLIENT_SECRET: introspector.secret.client_secret },
    // Without a token the recipe answers 401: that is its "up".
    healthPath: '/', healthStatus: 401,
  });
});

after(async () => {
  await apiWorker?.stop();
  await issuer?.stop();
  if (dir) await rm(dir, { recursive: true, force: true });
});

describe('introspection from a JavaScript Worker over a Service Binding (docs/RECIPES.md)', () => {
  it('lets a live token for the API through, with the client and scopes from the issuer', async () => {
    const r = await call(await token(API));
    assert.equal(r.status, 200);
    assert.equal(await r.text(), `hello ${client.id}, scopes: read`);
  });

  it('refuses no token, another audience and garbage with the challenge', async () => {
    const none = await call(null);
    assert.equal(none.status, 401);
    assert.equal(none.headers.get('www-authenticate'), 'Bearer realm="api"');
    for (const t of [await token(null, plain), 'not.a.token']) {
      const r = await call(t);
      assert.equal(r.status, 401);
      assert.equal(r.headers.get('www-authenticate'), 'Bearer realm="api", error="invalid_token"');
    }
  });

  it('refuses a token within seconds of its revocation at the issuer', async () => {
    const t = await token(API);
    assert.equal((await call(t)).status, 200);
    const revoked = await fetch(`${issuer.url}/oauth/revoke`, {
      method: 'POST',
      headers: { authorization: basic(client.id, client.secret), 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ token: t }),
    });
    assert.equal(revoked.status, 200);
    const start = Date.now();
    await eventually(async () => assert.equal((await call(t)).status, 401), { timeoutMs: 12_000, intervalMs: 200 });
    assert.ok(Date.now() - start < 12_000);
  });
});
