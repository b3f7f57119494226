// Secretless clients end to end (issue 23 item 5): a local OIDC issuer (node:http, signing with
// jose) stands in for GitHub Actions and for a Kubernetes cluster, with their exact claim sets;
// the recipes of docs/RECIPES.md ("Secretless: GitHub Actions", "Secretless: Kubernetes") run
// as written, and the tokens they must not trade are refused.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { after, before, describe, it } from 'node:test';
import { SignJWT, createRemoteJWKSet, exportJWK, generateKeyPair, jwtVerify } from 'jose';
import { admin, startWorker } from '../support/worker.mjs';
import { assertError, eventually, nowSec, tokenRequest } from '../support/http.mjs';
import { recipeBlock } from '../support/recipes.mjs';

const run = promisify(execFile);
const JWT_BEARER = 'urn:ietf:params:oauth:grant-type:jwt-bearer';
const ASSERTION_TYPE = 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer';
/** Where the Kubernetes recipe reads the projected token: replaced by the test's file. */
const K8S_TOKEN_PATH = '/var/run/secrets/edgeauth/token';
/** What the fake GitHub token-request endpoint wants as ACTIONS_ID_TOKEN_REQUEST_TOKEN. */
const REQUEST_TOKEN = 'fake-actions-request-token';
const FAILED = 'client authentication failed';

let w;
let api;
let jwks;
let dir;
let host; // the local issuer's server
let hostUrl;
const github = { path: '/github', alg: 'RS256', kid: 'gh-1' };
const k8s = { path: '/k8s', alg: 'ES256', kid: 'k8s-1' };
const unseen = { path: '/unseen', alg: 'ES256', kid: 'u-1' }; // its keys are first asked for in the outage
let ghClient;
let k8sClient;
/** The job the fake GitHub endpoint mints tokens for (what GitHub knows about the run). */
let job;

const issuerOf = (i) => `${hostUrl}${i.path}`;

/** A GitHub Actions OIDC token's claims for `job` (docs.github.com, "About security hardening with OpenID Connect"). */
function githubClaims(j, audience) {
  const repository = j.repository;
  const [owner] = repository.split('/');
  const sub = j.environment
    ? `repo:${repository}:environment:${j.environment}`
    : j.event === 'pull_request' ? `repo:${repository}:pull_request` : `repo:${repository}:ref:${j.ref}`;
  const workflow = `${repository}/.github/workflows/${j.workflow}@${j.ref}`;
  return {
    jti: crypto.randomUUID(), sub, aud: audience, ref: j.ref, sha: 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4',
    repository, repository_owner: owner, repository_owner_id: '1342004', repository_id: '271577010',
    repository_visibility: 'private', run_id: '9012345678', run_number: '17', run_attempt: '1',
    runner_environment: 'github-hosted', actor: 'octocat', actor_id: '583231',
    workflow: 'deploy', head_ref: '', base_ref: '', event_name: j.event, ref_type: 'branch',
    ref_protected: 'true', workflow_ref: workflow, workflow_sha: 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4',
    job_workflow_ref: workflow, job_workflow_sha: 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4',
    ...(j.environment ? { environment: j.environment } : {}),
  };
}

/** A projected service account token's claims (Kubernetes TokenRequest). */
function k8sClaims(audience, ns = 'ci', sa = 'deployer') {
  return {
    sub: `system:serviceaccount:${ns}:${sa}`, aud: [audience],
    'kubernetes.io': {
      namespace: ns,
      serviceaccount: { name: sa, uid: '0b5ea6f2-3c1a-4a0e-9c11-6a4c3b9f6f2d' },
      pod: { name: 'deployer-7d4b9', uid: '8f6a1f0e-2b7c-4f15-9a51-1c2d3e4f5a6b' },
      node: { name: 'node-1', uid: 'c0ffee00-0000-4000-8000-000000000001' },
    },
  };
}

/** Signs `claims` as issuer `i` (iss, iat, nbf, exp added unless given). */
function sign(i, claims, { key = i.privateKey, header = {}, ttl = 300 } = {}) {
  const now = nowSec();
  return new SignJWT({ iat: now, nbf: now, exp: now + ttl, ...claims, iss: claims.iss ?? issuerOf(i) })
    .setProtectedHeader({ alg: i.alg, kid: i.kid, typ: 'JWT', ...header })
    .sign(key);
}

async function keys(i) {
  const pair = await generateKeyPair(i.alg, { extractable: true });
  i.privateKey = pair.privateKey;
  i.jwk = { ...(await exportJWK(pair.publicKey)), kid: i.kid, alg: i.alg, use: 'sig' };
}

function json(res, status, body) {
  res.writeHead(status, { 'content-type': 'application/json', 'cache-control': 'max-age=300' });
  res.end(JSON.stringify(body));
}

/** The local issuer: discovery and JWKS for each issuer path, and GitHub's token-request endpoint. */
async function serveIssuers() {
  host = createServer(async (req, res) => {
    const url = new URL(req.url, hostUrl);
    for (const i of [github, k8s, unseen]) {
      if (url.pathname === `${i.path}/.well-known/openid-configuration`) {
        return json(res, 200, { issuer: issuerOf(i), jwks_uri: `${issuerOf(i)}/jwks`, id_token_signing_alg_values_supported: [i.alg] });
      }
      if (url.pathname === `${i.path}/jwks`) return json(res, 200, { keys: [i.jwk] });
    }
    if (url.pathname === '/_apis/token') {
      if (req.headers.authorization !== `bearer ${REQUEST_TOKEN}`) return json(res, 401, { message: 'bad request token' });
      const audience = url.searchParams.get('audience');
      return json(res, 200, { count: 1, value: await sign(github, githubClaims(job, audience)) });
    }
    json(res, 404, {});
  });
  await new Promise((done) => host.listen(0, '127.0.0.1', done));
  hostUrl = `http://127.0.0.1:${host.address().port}`;
}

/** A keyless private_key_jwt client with one federated credential; answers the client id. */
async function federatedClient(credential) {
  const made = await api('POST', '/admin/clients', {
    client_name: 'secretless', token_endpoint_auth_method: 'private_key_jwt', scope: 'deploy read',
  });
  assert.equal(made.status, 201, made.text);
  const id = made.json.client.client_id;
  const added = await api('POST', `/admin/clients/${id}/federated-credentials`, credential);
  assert.equal(added.status, 201, added.text);
  return id;
}

/** The `run: |` script of the workflow step named `name`, dedented, as GitHub runs it. */
function stepScript(yaml, name) {
  const lines = yaml.split('\n');
  const at = lines.findIndex((l) => l.trim() === `- name: ${name}`);
  assert.ok(at >= 0, `a step named "${name}"`);
  const run = lines.findIndex((l, i) => i > at && /^\s+run: \|$/.test(l));
  assert.ok(run > at, `step "${name}" has a run: | script`);
  const indent = lines[run].indexOf('run:');
  const script = [];
  for (const l of lines.slice(run + 1)) {
    if (l.trim() && l.search(/\S/) <= indent) break;
    script.push(l.slice(indent + 2));
  }
  return script.join('\n');
}

/** Runs the recipe's GitHub step as GitHub would (bash -e); answers { ok, env, output }. */
async function runGithubStep(clientId) {
  const script = stepScript(recipeBlock('## Secretless: GitHub Actions', 'yaml'), 'Get an edgeauth token');
  const githubEnv = join(dir, `github-env-${crypto.randomUUID()}`);
  await writeFile(githubEnv, '');
  const env = {
    PATH: process.env.PATH,
    ACTIONS_ID_TOKEN_REQUEST_URL: `${hostUrl}/_apis/token?api-version=2.0`,
    ACTIONS_ID_TOKEN_REQUEST_TOKEN: REQUEST_TOKEN,
    GITHUB_ENV: githubEnv,
    // The step's env: block, with this deployment's values.
    EDGEAUTH_ISSUER: w.url,
    EDGEAUTH_CLIENT_ID: clientId,
  };
  let ok = true;
  let output = '';
  try {
    // As GitHub runs a bash step: `bash --noprofile --norc -eo pipefail {0}`.
    const r = await run('bash', ['--noprofile', '--norc', '-eo', 'pipefail', '-c', script], { env });
    output = r.stdout + r.stderr;
  } catch (e) {
    ok = false;
    output = `${e.stdout}${e.stderr}`;
  }
  const vars = Object.fromEntries((await readFile(githubEnv, 'utf8')).split('\n').filter(Boolean).map((l) => l.split(/=(.*)/s).slice(0, 2)));
  return { ok, env: vars, output };
}

const viaGrant = (clientId, token, extra = {}) => tokenRequest(w.url, { grant_type: JWT_BEARER, client_id: clientId, assertion: token, ...extra });
const viaAssertion = (clientId, token) => tokenRequest(w.url, {
  grant_type: 'client_credentials', client_id: clientId, client_assertion_type: ASSERTION_TYPE, client_assertion: token,
});

async function assertOurs(accessToken, clientId) {
  const { payload } = await jwtVerify(accessToken, jwks, { issuer: w.url });
  assert.equal(payload.sub, clientId);
  assert.equal(payload.client_id, clientId);
  return payload;
}

before(async () => {
  await Promise.all([keys(github), keys(k8s), keys(unseen)]);
  await serveIssuers();
  dir = await mkdtemp(join(tmpdir(), 'edgeauth-federation-'));
  w = await startWorker();
  api = admin(w.url, w.adminToken);
  jwks = createRemoteJWKSet(new URL(`${w.url}/.well-known/jwks.json`));
  // As the recipe registers GitHub's issuer, with the local issuer's URL in its place.
  ghClient = await federatedClient({
    name: 'main branch', issuer: issuerOf(github), audiences: [w.url],
    subject: 'repo:acme/api:ref:refs/heads/main',
    claims: { job_workflow_ref: 'acme/api/.github/workflows/deploy.yml@refs/heads/main' },
  });
  const env = await api('POST', `/admin/clients/${ghClient}/federated-credentials`, {
    name: 'production', issuer: issuerOf(github), audiences: [w.url],
    subject: 'repo:acme/api:environment:production',
  });
  assert.equal(env.status, 201, env.text);
  k8sClient = await federatedClient({
    name: 'ci deployer', issuer: issuerOf(k8s), audiences: [w.url], subject: 'system:serviceaccount:ci:deployer',
  });
});

after(async () => {
  await w?.stop();
  host?.closeAllConnections();
  host?.close();
  if (dir) await rm(dir, { recursive: true, force: true });
});

const mainPush = { repository: 'acme/api', ref: 'refs/heads/main', event: 'push', workflow: 'deploy.yml' };

describe('Secretless: GitHub Actions (docs/RECIPES.md, run as written)', () => {
  it('the allowed branch gets an ordinary token for the client', async () => {
    job = mainPush;
    const r = await runGithubStep(ghClient);
    assert.ok(r.ok, r.output);
    assert.ok(r.env.EDGEAUTH_TOKEN, r.output);
    const claims = await assertOurs(r.env.EDGEAUTH_TOKEN, ghClient);
    assert.equal(claims.scope, 'deploy');
    // The credential's last use shows on the admin side (written in the background, after the answer).
    await eventually(async () => {
      const listed = await api('GET', `/admin/clients/${ghClient}/federated-credentials`);
      const used = listed.json.federated_credentials.find((c) => c.name === 'main branch');
      assert.equal(typeof used.last_used_at, 'number', JSON.stringify(used));
    });
  });

  it('a pull request, another repository or another workflow gets no token', async () => {
    for (const j of [
      { ...mainPush, event: 'pull_request', ref: 'refs/pull/7/merge' },
      { ...mainPush, repository: 'acme/other' },
      { ...mainPush, repository: 'evil/api' },
      { ...mainPush, workflow: 'release.yml' },
      { ...mainPush, ref: 'refs/heads/dev' },
    ]) {
      job = j;
      const r = await runGithubStep(ghClient);
      assert.equal(r.ok, false, `${JSON.stringify(j)}: ${r.output}`);
      assert.equal(r.env.EDGEAUTH_TOKEN, undefined);
      // The same token straight at the endpoint: the generic 401.
      const token = await sign(github, githubClaims(j, w.url));
      assertError(await viaGrant(ghClient, token), 401, 'invalid_client', JSON.stringify(j));
      assert.equal((await viaGrant(ghClient, token)).json.error_description, FAILED);
    }
  });

  it('an environment subject works, and the token trades again and as a client assertion', async () => {
    const token = await sign(github, githubClaims({ ...mainPush, environment: 'production' }, w.url));
    for (const r of [await viaGrant(ghClient, token), await viaGrant(ghClient, token), await viaAssertion(ghClient, token)]) {
      assert.equal(r.status, 200, r.text);
      await assertOurs(r.json.access_token, ghClient);
    }
  });

  it('a wrong audience, an expired token, a forged signature and alg none are refused', async () => {
    const good = githubClaims(mainPush, w.url);
    const other = await generateKeyPair('RS256');
    const parts = (await sign(github, good)).split('.');
    const b64 = (o) => Buffer.from(JSON.stringify(o)).toString('base64url');
    const cases = {
      'wrong audience': await sign(github, { ...good, aud: 'https://other.example' }),
      expired: await sign(github, { ...good, iat: nowSec() - 900, nbf: nowSec() - 900, exp: nowSec() - 120 }),
      'forged signature': await sign(github, good, { key: other.privateKey }),
      'claims swapped under a real signature': `${parts[0]}.${b64({ ...good, repository: 'evil/api' })}.${parts[2]}`,
      'alg none': `${b64({ alg: 'none', typ: 'JWT' })}.${parts[1]}.AAAA`,
    };
    for (const [what, token] of Object.entries(cases)) {
      for (const r of [await viaGrant(ghClient, token), await viaAssertion(ghClient, token)]) {
        assertError(r, 401, 'invalid_client', what);
        assert.equal(r.json.error_description, FAILED, what);
      }
    }
    // Unsigned in form too (no signature part): refused before any check, as a malformed JWS.
    const unsigned = await viaGrant(ghClient, `${b64({ alg: 'none', typ: 'JWT' })}.${parts[1]}.`);
    assertError(unsigned, 401, 'invalid_client');
    assert.equal(unsigned.json.error_description, 'invalid client assertion: the assertion signature is not valid unpadded base64url');
    const client = await api('GET', `/admin/clients/${ghClient}`);
    assert.equal(client.json.failed_attempts, 0, 'federated refusals are never counted');
    assert.equal(client.json.locked_until, null);
  });
});

describe('Secretless: Kubernetes (docs/RECIPES.md, run as written)', () => {
  async function trade(token) {
    const file = join(dir, `token-${crypto.randomUUID()}`);
    await writeFile(file, token);
    const command = recipeBlock('## Secretless: Kubernetes', 'sh', 1);
    assert.ok(command.includes(K8S_TOKEN_PATH), `the recipe reads ${K8S_TOKEN_PATH}`);
    const env = { PATH: process.env.PATH, EDGEAUTH_ISSUER: w.url, EDGEAUTH_CLIENT_ID: k8sClient };
    const r = await run('bash', ['--noprofile', '--norc', '-e', '-c', command.replaceAll(K8S_TOKEN_PATH, file)], { env });
    return JSON.parse(r.stdout);
  }

  it('the service account trades its projected token, discovered through the issuer', async () => {
    const body = await trade(await sign(k8s, k8sClaims(w.url), { ttl: 600 }));
    assert.ok(body.access_token, JSON.stringify(body));
    assert.equal(body.scope, 'deploy');
    await assertOurs(body.access_token, k8sClient);
  });

  it('another service account, namespace or audience gets the generic 401', async () => {
    for (const claims of [k8sClaims(w.url, 'ci', 'builder'), k8sClaims(w.url, 'prod', 'deployer'), k8sClaims('https://other.example')]) {
      const body = await trade(await sign(k8s, claims));
      assert.deepEqual(body, { error: 'invalid_client', error_description: FAILED });
    }
  });
});

describe('an issuer outage', () => {
  it('is a 503 with Retry-After, and locks nothing', async () => {
    const id = await federatedClient({
      name: 'unseen', issuer: issuerOf(unseen), audiences: [w.url], subject: 'system:serviceaccount:ci:deployer',
    });
    const token = await sign(unseen, k8sClaims(w.url));
    host.closeAllConnections();
    await new Promise((done) => host.close(done));
    for (let i = 0; i < 6; i++) {
      const r = await viaGrant(id, token);
      assertError(r, 503, 'temporarily_unavailable', `attempt ${i}`);
      assert.ok(Number(r.headers.get('retry-after')) > 0, 'Retry-After');
    }
    const client = await api('GET', `/admin/clients/${id}`);
    assert.equal(client.status, 200);
    assert.equal(client.json.locked_until, null);
    assert.equal(client.json.failed_attempts, 0);
  });
});
