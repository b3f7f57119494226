// Benchmark of the built Worker under PLAIN workerd (no Miniflare, no wrangler dev, whose own
// per-request cost hides ours), driven by wrk. One workerd process serves edgeauth and a JS
// hello-world Worker (the runtime's own ceiling); every figure is printed next to the trivial
// Rust route (GET /healthz) of the same run, and the trivial route next to the JS hello-world.
//
//   node bench/issuer.mjs [--duration 10] [--warmup 2] [--connections 32] [--threads 1]
//                        [--assertions N]   (sign N per phase instead of the estimate)
//                        [--peers DIR]      (also run DIR/oidc-provider/bench.sh and print ratios)
//                        [--cases basic,pkjwt]  (only these besides hello and trivial)
//                        [--storage memory|disk] (where the Durable Objects' SQLite files live:
//                                            tmpfs by default, see STORAGE below)
//                        [--build DIR]      (the issuer's build folder: build/ by default; another
//                                            build, kept aside, to compare two in one sitting)
//   (usually through `bash bench/issuer.sh ...`, which builds first)
//
// Cases, one after another, each with a warm-up (discarded, checked) and a measured run:
//   hello       GET / of the JS hello-world under the same workerd
//   trivial     GET /healthz
//   floor       POST /floor of the JS hello-world: read the body, one WebCrypto Ed25519 sign of
//               a token-sized payload, answer; the least a token can cost in this runtime (run
//               with basic)
//   floor_pkjwt the same plus one WebCrypto Ed25519 verify: the least a private_key_jwt token
//               can cost here before its jti is claimed (run with pkjwt)
//   floor_dpop  floor plus one WebCrypto ES256 verify (key imported once) and one jti claimed in a
//               JS Durable Object's SQLite by RPC: the least a DPoP-bound token can cost here (run
//               with dpop, beside floor)
//   basic       POST /oauth/token, client_secret_basic (one fixed request, replayed)
//   basic_quota the same for a client with an enforced token quota (10,000,000 per hour and
//               per day: never reached, so every token is counted, and reported in batches);
//               --quota-rounds N adds N rounds of the two, in alternating order
//   --goal-rounds N adds N rounds of hello, trivial, floor and basic back to back (alternating
//               order), each printed with issue 27's ratios, and their median
//   pkjwt       POST /oauth/token, private_key_jwt (Ed25519): every request its own pre-signed
//               assertion with a unique jti; warm-up and run use disjoint sets, split per wrk
//               thread. A replayed or expired assertion is a 401, so non-2xx must stay 0.
//   federated   POST /oauth/token, the jwt-bearer grant (RFC 7523 2.1) with an external token
//               (Ed25519) of a local issuer (a node:http server in this process serving its
//               JWKS) that a federated credential of a keyless private_key_jwt client trusts:
//               one token, replayed (not single-use); the keys are fetched once and cached, so
//               the steady state measures verification and the credential's checks
//   exchange    POST /oauth/token, the token-exchange grant (RFC 8693): an API's client
//               (client_secret_basic) trades one caller's token, replayed, for a token to the
//               next API; the subject's client and the keys stay cached, so the steady state
//               is a signature the verifier already remembers and one sign
//   exchange_fresh  the same over 6,000 distinct subject tokens in turn, more than the 4,096
//               verified signatures an isolate remembers (oldest first out), so every request
//               verifies one signature and signs one token (the issue's target: at most 1.3x
//               Basic's CPU); the bodies cycle, which is expected here
//   basic_cf    basic with a `request.cf` as Cloudflare's edge makes one (colo, country, TLS
//               details; no client certificate), handed in through workerd's cfBlobHeader: what
//               reading `cf.tlsClientAuth` costs the requests that have none (almost all)
//   mtls        POST /oauth/token, self_signed_tls_client_auth (RFC 8705): client_id in the form,
//               the registered certificate (tests/seeds/cert/acme.pem) in `cf.tlsClientAuth`
//   dpop        POST /oauth/token, client_secret_basic with a DPoP proof (RFC 9449, ES256 as
//               openid-client makes them): every request its own pre-signed proof (fresh jti,
//               iat now; a proof lives 60 s, so keep --duration + --warmup well under that),
//               one key, so the isolate keeps its imported key; the token is DPoP-bound. A
//               replayed or stale proof is a 400, so non-2xx must stay 0. The issue's aim: at
//               least 0.7x Basic's req/s
//   introspect  POST /oauth/introspect, client_secret_basic, the caller's own valid token
//   admin_list  GET /admin/clients with the admin bearer token
//
// Needs build/ (bash scripts/build.sh) and wrk. Results are also saved under bench/results/.
import { execFileSync, spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync, existsSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { gzipSync } from 'node:zlib';
import { createServer } from 'node:http';
import { X509Certificate, createHash } from 'node:crypto';
import { SignJWT, exportJWK, generateKeyPair } from 'jose';
import { ROOT } from '../tests/support/worker.mjs';
import { MEMORY_ROOT, WORKERD, memoryStateRoot, startWorkerd } from '../tests/support/workerd.mjs';
import { call, luaScript, wrk as runWrk } from './wrk.mjs';

const wrk = (url, script, seconds) => runWrk(url, script, { threads: opt.threads, connections: opt.connections, seconds });

const { values: opt } = parseArgs({
  options: {
    duration: { type: 'string', default: '10' },
    warmup: { type: 'string', default: '2' },
    connections: { type: 'string', default: '32' },
    threads: { type: 'string', default: '1' },
    // Assertions to sign per phase instead of the estimate (a check: too few must show non-2xx).
    assertions: { type: 'string' },
    peers: { type: 'string' },
    // Comma-separated case keys to run besides hello and trivial (default: all).
    cases: { type: 'string' },
    storage: { type: 'string', default: 'memory' },
    build: { type: 'string' },
    // Extra rounds of token Basic with and without a quota, in alternating order (the pair's
    // figures move with the machine's load between phases; alternating evens that out).
    'quota-rounds': { type: 'string', default: '0' },
    // Extra rounds of the JS hello-world, the trivial route, the token floor and token Basic
    // back to back, in alternating order: issue 27's ratios from measurements minutes apart
    // drift with the machine; these pair them within a minute.
    'goal-rounds': { type: 'string', default: '0' },
  },
});
const DURATION = Number(opt.duration);
const WARMUP = Number(opt.warmup);
const THREADS = Number(opt.threads);
// private_key_jwt assertions live 240 s (the server allows at most 300 s): each set must be used
// up within that, so a single phase may not run longer.
const ASSERTION_TTL = 240;
if (!(DURATION > 0) || !(WARMUP > 0) || !(THREADS > 0) || Number(opt.connections) < THREADS) {
  console.error('bench: --duration and --warmup must be > 0 s, --connections >= --threads >= 1');
  process.exit(2);
}
if (DURATION > ASSERTION_TTL - 40 || WARMUP > ASSERTION_TTL - 40) {
  console.error(`bench: --duration/--warmup at most ${ASSERTION_TTL - 40} s (assertions live ${ASSERTION_TTL} s)`);
  process.exit(2);
}
if (!['memory', 'disk'].includes(opt.storage)) {
  console.error('bench: --storage is memory or disk');
  process.exit(2);
}
// STORAGE: the Durable Objects' SQLite files go on tmpfs by default. Locally each commit is an
// fsync on workerd's only thread, about a quarter of a private_key_jwt request's time here; a
// deployed object's storage is not a local file, and oidc-provider keeps its jtis in memory.
// `--storage disk` measures with the files on disk, as the tests and `wrangler dev` keep them.
const stateRoot = opt.storage === 'memory' ? memoryStateRoot() : null;
const storageNote = stateRoot
  ? `SQLite files on tmpfs (${stateRoot}); --storage disk puts them on disk`
  : `SQLite files on disk (${tmpdir()})${opt.storage === 'memory' ? `: ${MEMORY_ROOT} is not writable here` : ''}`;
const peersDir = opt.peers ? resolve(opt.peers) : null;
if (peersDir && !existsSync(join(peersDir, 'oidc-provider', 'bench.sh'))) {
  console.error(`bench: ${peersDir}/oidc-provider/bench.sh not found (copy the peers folder to a writable place first)`);
  process.exit(2);
}
const command = process.env.EDGEAUTH_BENCH_CMD
  || ['node', 'bench/issuer.mjs', ...process.argv.slice(2)].join(' ');
const canonical = `bash bench/issuer.sh --duration ${opt.duration} --warmup ${opt.warmup} --connections ${opt.connections} --threads ${opt.threads} --storage ${opt.storage}${peersDir ? ` --peers ${peersDir}` : ''}`;
const ASSERTION_TYPE = 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer';

const lines = [];
const out = (s = '') => { console.log(s); lines.push(s); };

const BUILD = opt.build ? resolve(opt.build) : join(ROOT, 'build');
if (!existsSync(join(BUILD, 'index.js'))) {
  console.error(`bench: ${join(BUILD, 'index.js')} missing; run \`bash scripts/build.sh\` first`);
  process.exit(1);
}
const CLOCK_TICKS = Number(execFileSync('getconf', ['CLK_TCK']).toString().trim()) || 100;
const loadAtStart = loadavg().map((x) => x.toFixed(2)).join(' ');
const workerdVersion = () => {
  try { return JSON.parse(readFileSync(join(ROOT, 'node_modules', 'workerd', 'package.json'), 'utf8')).version; } catch { return '?'; }
};

let exitCode = 0;
// The federated case's issuer: serves its JWKS to the Worker over loopback.
let issuerJwks = '{"keys":[]}';
const keyHost = createServer((req, res) => {
  res.writeHead(200, { 'content-type': 'application/json', 'cache-control': 'max-age=3600' });
  res.end(issuerJwks);
});
await new Promise((done) => keyHost.listen(0, '127.0.0.1', done));
const keyHostUrl = `http://127.0.0.1:${keyHost.address().port}`;
// The edge's `request.cf`, handed in as this header's JSON (workerd's cfBlobHeader; never in a
// deployment, where Cloudflare makes it).
const CF_HEADER = 'x-bench-cf';
const w = await startWorkerd({
  hello: true, stateRoot: stateRoot ?? tmpdir(), localOutbound: true, buildDir: BUILD, cfBlobHeader: CF_HEADER,
});
try {
  const base = w.url;
  const adminAuth = `Bearer ${w.adminToken}`;
  const form = 'application/x-www-form-urlencoded';

  // ---- fixtures ----------------------------------------------------------------------------
  const created = await call(`${base}/admin/clients`, {
    method: 'POST',
    headers: { authorization: adminAuth, 'content-type': 'application/json' },
    body: JSON.stringify({ client_name: 'bench', scope: 'read write', lockout_enabled: false }),
  });
  if (created.status !== 201) throw new Error(`create client: ${created.status} ${created.text}`);
  const { client, secret } = created.json;
  const basicAuth = 'Basic ' + Buffer.from(`${client.client_id}:${secret.client_secret}`).toString('base64');
  const tokenBody = 'grant_type=client_credentials&scope=read';
  const issued = await call(`${base}/oauth/token`, {
    method: 'POST', headers: { authorization: basicAuth, 'content-type': form }, body: tokenBody,
  });
  if (issued.status !== 200 || !issued.json?.access_token) throw new Error(`token request: ${issued.status} ${issued.text}`);
  const introspectBody = `token=${issued.json.access_token}`;
  const createdQuota = await call(`${base}/admin/clients`, {
    method: 'POST',
    headers: { authorization: adminAuth, 'content-type': 'application/json' },
    body: JSON.stringify({
      client_name: 'bench-quota', scope: 'read write', lockout_enabled: false,
      token_quota: { per_hour: 10_000_000, per_day: 10_000_000, enforce: true },
    }),
  });
  if (createdQuota.status !== 201) throw new Error(`create quota client: ${createdQuota.status} ${createdQuota.text}`);
  const quotaAuth = 'Basic ' + Buffer.from(`${createdQuota.json.client.client_id}:${createdQuota.json.secret.client_secret}`).toString('base64');
  const active = await call(`${base}/oauth/introspect`, {
    method: 'POST', headers: { authorization: basicAuth, 'content-type': form }, body: introspectBody,
  });
  if (active.status !== 200 || active.json?.active !== true) throw new Error(`introspection: ${active.status} ${active.text}`);

  // A request.cf as the edge makes it for a plain HTTPS request (no client certificate), and a
  // self_signed_tls_client_auth client with its certificate registered, presented in
  // cf.tlsClientAuth (only when a case needs it: a build from before RFC 8705 has no such route).
  const edgeCf = {
    asn: 13335, asOrganization: 'Example', colo: 'FRA', country: 'DE', city: 'Frankfurt am Main',
    continent: 'EU', region: 'Hesse', regionCode: 'HE', timezone: 'Europe/Berlin', latitude: '50.11',
    longitude: '8.68', postalCode: '60313', httpProtocol: 'HTTP/2', requestPriority: '',
    tlsVersion: 'TLSv1.3', tlsCipher: 'AEAD-AES128-GCM-SHA256', clientTcpRtt: 12, edgeRequestKeepAliveStatus: 1,
    clientAcceptEncoding: 'gzip, deflate, br', verifiedBotCategory: '',
    botManagement: { score: 99, verifiedBot: false, staticResource: false, ja3Hash: '', ja4: '' },
    tlsClientHelloLength: '512', tlsClientRandom: 'AAAA', tlsExportedAuthenticator: {},
  };
  let mtlsBody = null;
  let mtlsCf = null;
  if (!opt.cases || opt.cases.split(',').includes('mtls')) {
    const pem = readFileSync(join(ROOT, 'tests', 'seeds', 'cert', 'acme.pem'), 'utf8');
    const cert = new X509Certificate(pem);
    const created = await call(`${base}/admin/clients`, {
      method: 'POST',
      headers: { authorization: adminAuth, 'content-type': 'application/json' },
      body: JSON.stringify({
        client_name: 'bench-mtls', scope: 'read write', token_endpoint_auth_method: 'self_signed_tls_client_auth',
      }),
    });
    if (created.status !== 201) throw new Error(`create mtls client: ${created.status} ${created.text}`);
    const id = created.json.client.client_id;
    const up = await call(`${base}/admin/clients/${id}/certificates`, {
      method: 'POST',
      headers: { authorization: adminAuth, 'content-type': 'application/json' },
      body: JSON.stringify({ certificate: pem }),
    });
    if (up.status !== 201) throw new Error(`upload certificate: ${up.status} ${up.text}`);
    mtlsBody = `${tokenBody}&client_id=${id}`;
    mtlsCf = JSON.stringify({
      ...edgeCf,
      tlsClientAuth: {
        certPresented: '1', certVerified: 'FAILED:self signed certificate',
        certFingerprintSHA256: createHash('sha256').update(cert.raw).digest('hex'),
        certSubjectDNRFC2253: 'CN=client.example,O=Acme', certIssuerDNRFC2253: 'CN=client.example,O=Acme',
        certNotBefore: 'Dec  7 13:57:44 2026 GMT', certNotAfter: 'Dec  4 13:57:44 2036 GMT', certSerial: '01',
        certIssuerDN: '', certSubjectDN: '', certIssuerDNLegacy: '', certSubjectDNLegacy: '',
        certFingerprintSHA1: '', certIssuerSKI: '', certSKI: '', certRevoked: '0',
      },
    });
    const check = await call(`${base}/oauth/token`, {
      method: 'POST', headers: { 'content-type': form, [CF_HEADER]: mtlsCf }, body: mtlsBody,
    });
    if (check.status !== 200) throw new Error(`mtls token request: ${check.status} ${check.text}`);
  }

  // private_key_jwt client with an inline Ed25519 key.
  const issuer = (await call(`${base}/.well-known/oauth-authorization-server`)).json.issuer;
  const audience = `${issuer}/oauth/token`;
  const kp = await generateKeyPair('EdDSA', { crv: 'Ed25519', extractable: true });
  const jwk = { ...(await exportJWK(kp.publicKey)), kid: 'bench-ed25519', alg: 'EdDSA', use: 'sig' };
  const createdJwt = await call(`${base}/admin/clients`, {
    method: 'POST',
    headers: { authorization: adminAuth, 'content-type': 'application/json' },
    body: JSON.stringify({
      client_name: 'bench-jwt',
      scope: 'read write',
      lockout_enabled: false,
      token_endpoint_auth_method: 'private_key_jwt',
      jwks: { keys: [jwk] },
    }),
  });
  if (createdJwt.status !== 201) throw new Error(`create private_key_jwt client: ${createdJwt.status} ${createdJwt.text}`);
  const jwtClientId = createdJwt.json.client.client_id;

  /** `n` form bodies, each with a freshly signed assertion (unique jti, exp = now + 240 s). */
  async function assertionBodies(n) {
    const now = Math.floor(Date.now() / 1000);
    const prefix = `${tokenBody}&client_assertion_type=${encodeURIComponent(ASSERTION_TYPE)}&client_assertion=`;
    const bodies = [];
    for (let start = 0; start < n; start += 1000) {
      const batch = [];
      for (let i = start; i < Math.min(n, start + 1000); i++) {
        batch.push(new SignJWT({ jti: crypto.randomUUID() })
          .setProtectedHeader({ alg: 'EdDSA', kid: jwk.kid })
          .setIssuer(jwtClientId)
          .setSubject(jwtClientId)
          .setAudience(audience)
          .setIssuedAt(now)
          .setExpirationTime(now + ASSERTION_TTL)
          .sign(kp.privateKey));
      }
      for (const a of await Promise.all(batch)) bodies.push(prefix + a);
    }
    return bodies;
  }
  const jwtCheck = await call(`${base}/oauth/token`, {
    method: 'POST', headers: { 'content-type': form }, body: (await assertionBodies(1))[0],
  });
  if (jwtCheck.status !== 200) throw new Error(`private_key_jwt token request: ${jwtCheck.status} ${jwtCheck.text}`);
  // A keyless private_key_jwt client trusting the local issuer's tokens for one subject, with a
  // claim condition as a GitHub credential would have (only when the case runs: a build from
  // before federated credentials has no such admin route).
  let fedBody = null;
  if (!opt.cases || opt.cases.split(',').includes('federated')) {
    const fedKp = await generateKeyPair('EdDSA', { crv: 'Ed25519', extractable: true });
    issuerJwks = JSON.stringify({ keys: [{ ...(await exportJWK(fedKp.publicKey)), kid: 'issuer-1', alg: 'EdDSA', use: 'sig' }] });
    const createdFed = await call(`${base}/admin/clients`, {
      method: 'POST',
      headers: { authorization: adminAuth, 'content-type': 'application/json' },
      body: JSON.stringify({
        client_name: 'bench-federated', scope: 'read write', lockout_enabled: false, token_endpoint_auth_method: 'private_key_jwt',
      }),
    });
    if (createdFed.status !== 201) throw new Error(`create federated client: ${createdFed.status} ${createdFed.text}`);
    const fedClientId = createdFed.json.client.client_id;
    const subject = 'repo:acme/api:ref:refs/heads/main';
    const credential = await call(`${base}/admin/clients/${fedClientId}/federated-credentials`, {
      method: 'POST',
      headers: { authorization: adminAuth, 'content-type': 'application/json' },
      body: JSON.stringify({
        name: 'bench', issuer: keyHostUrl, jwks_uri: `${keyHostUrl}/jwks`, audiences: ['edgeauth-bench'], subject,
        claims: { repository_owner: 'acme' },
      }),
    });
    if (credential.status !== 201) throw new Error(`add federated credential: ${credential.status} ${credential.text}`);
    const fedNow = Math.floor(Date.now() / 1000);
    const external = await new SignJWT({ repository: 'acme/api', repository_owner: 'acme', ref: 'refs/heads/main' })
      .setProtectedHeader({ alg: 'EdDSA', kid: 'issuer-1', typ: 'JWT' })
      .setIssuer(keyHostUrl)
      .setSubject(subject)
      .setAudience('edgeauth-bench')
      .setIssuedAt(fedNow)
      .setExpirationTime(fedNow + 3600)
      .sign(fedKp.privateKey);
    fedBody = `grant_type=${encodeURIComponent('urn:ietf:params:oauth:grant-type:jwt-bearer')}&client_id=${fedClientId}&assertion=${external}&scope=read`;
    const fedCheck = await call(`${base}/oauth/token`, { method: 'POST', headers: { 'content-type': form }, body: fedBody });
    if (fedCheck.status !== 200) throw new Error(`federated token request: ${fedCheck.status} ${fedCheck.text}`);
  }
  // Token exchange: API B's client (the provider of B's resource, granted C) trades a caller's
  // token for B for a token to C (only when the case runs: a build from before resource
  // providers refuses the fixtures).
  let exchangeBody = null;
  let exchangeAuth = null;
  const freshSubjects = [];
  if (!opt.cases || /(^|,)exchange(_fresh)?(,|$)/.test(opt.cases)) {
    const admin = async (method, path, body) => {
      const r = await call(`${base}${path}`, { method, headers: { authorization: adminAuth, 'content-type': 'application/json' }, body: JSON.stringify(body) });
      if (r.status !== 200 && r.status !== 201) throw new Error(`exchange fixture ${method} ${path}: ${r.status} ${r.text}`);
      return r.json;
    };
    const provider = await admin('POST', '/admin/clients', { client_name: 'bench-api-b', lockout_enabled: false });
    const scopes = [{ value: 'read' }, { value: 'write' }];
    await admin('POST', '/admin/resources', { identifier: 'https://b.bench', name: 'B', scopes, provider_client_id: provider.client.client_id });
    await admin('POST', '/admin/resources', { identifier: 'https://c.bench', name: 'C', scopes });
    await admin('PATCH', `/admin/clients/${provider.client.client_id}`, { grants: [{ resource: 'https://c.bench', scope: 'read write' }] });
    const caller = await admin('POST', '/admin/clients', { client_name: 'bench-caller', lockout_enabled: false, grants: [{ resource: 'https://b.bench', scope: 'read write' }] });
    const callerAuth = 'Basic ' + Buffer.from(`${caller.client.client_id}:${caller.secret.client_secret}`).toString('base64');
    const subject = await call(`${base}/oauth/token`, { method: 'POST', headers: { authorization: callerAuth, 'content-type': form }, body: 'grant_type=client_credentials&resource=https://b.bench' });
    if (subject.status !== 200) throw new Error(`exchange subject token: ${subject.status} ${subject.text}`);
    exchangeAuth = 'Basic ' + Buffer.from(`${provider.client.client_id}:${provider.secret.client_secret}`).toString('base64');
    const type = encodeURIComponent('urn:ietf:params:oauth:token-type:access_token');
    exchangeBody = `grant_type=${encodeURIComponent('urn:ietf:params:oauth:grant-type:token-exchange')}&subject_token=${subject.json.access_token}&subject_token_type=${type}&resource=https://c.bench&scope=read`;
    const exchangeCheck = await call(`${base}/oauth/token`, { method: 'POST', headers: { authorization: exchangeAuth, 'content-type': form }, body: exchangeBody });
    if (exchangeCheck.status !== 200) throw new Error(`token exchange: ${exchangeCheck.status} ${exchangeCheck.text}`);
    if (!opt.cases || opt.cases.split(',').includes('exchange_fresh')) {
      const t0 = Date.now();
      for (let i = 0; i < 6000; i += 32) {
        const batch = await Promise.all(Array.from({ length: 32 }, () => call(`${base}/oauth/token`, {
          method: 'POST', headers: { authorization: callerAuth, 'content-type': form }, body: 'grant_type=client_credentials&resource=https://b.bench',
        })));
        for (const r of batch) {
          if (r.status !== 200) throw new Error(`exchange subject token: ${r.status} ${r.text}`);
          freshSubjects.push(exchangeBody.replace(subject.json.access_token, r.json.access_token));
        }
      }
      console.error(`bench: issued ${freshSubjects.length} subject tokens for exchange_fresh in ${Date.now() - t0} ms`);
    }
  }
  const listed = await call(`${base}/admin/clients`, { headers: { authorization: adminAuth } });
  if (listed.status !== 200 || !listed.text.includes(jwtClientId)) throw new Error(`admin list: ${listed.status} ${listed.text}`);

  // DPoP proofs for the token endpoint, one per request: ES256, one key (a client keeps one).
  const dpopKey = await generateKeyPair('ES256', { extractable: true });
  const dpopJwk = await exportJWK(dpopKey.publicKey);
  /** `n` DPoP proofs for POST {issuer}/oauth/token, each with its own jti, iat now. */
  async function dpopProofs(n) {
    const iat = Math.floor(Date.now() / 1000);
    const proofs = [];
    for (let start = 0; start < n; start += 1000) {
      const batch = [];
      for (let i = start; i < Math.min(n, start + 1000); i++) {
        batch.push(new SignJWT({ htm: 'POST', htu: audience, iat, jti: crypto.randomUUID() })
          .setProtectedHeader({ typ: 'dpop+jwt', alg: 'ES256', jwk: dpopJwk })
          .sign(dpopKey.privateKey));
      }
      proofs.push(...(await Promise.all(batch)));
    }
    return proofs;
  }
  const dpopCheck = await call(`${base}/oauth/token`, {
    method: 'POST',
    headers: { authorization: basicAuth, 'content-type': form, dpop: (await dpopProofs(1))[0] },
    body: tokenBody,
  });
  if (dpopCheck.status !== 200 || dpopCheck.json?.token_type !== 'DPoP') {
    throw new Error(`DPoP token request: ${dpopCheck.status} ${dpopCheck.text}`);
  }

  // Cases. `bodies(phase, seconds)` gives each request its own body, for requests that must be
  // unique: called once for the warm-up and once for the run, so the two never share a body.
  /** Upper bound of private_key_jwt requests in `seconds`: never faster than Basic; margin 1.5x. */
  const enough = (seconds) => {
    // Never faster than Basic, nor than the trivial route when Basic was not run (--cases).
    const ceiling = results.some((x) => x.key === 'basic') ? 'basic' : 'trivial';
    const basic = [...results, ...warmups].filter((x) => x.key === ceiling).map((x) => x.r.rps);
    return Math.ceil(Math.max(...basic) * seconds * 1.5) + 2000;
  };
  const cases = [
    { key: 'hello', name: 'JS hello-world GET / (same workerd)', method: 'GET', url: `${w.helloUrl}/`, headers: {} },
    { key: 'trivial', name: 'trivial GET /healthz', method: 'GET', path: '/healthz', headers: {} },
    {
      key: 'floor',
      name: 'JS floor: body + Ed25519 sign (same workerd)',
      method: 'POST',
      url: `${w.helloUrl}/floor`,
      headers: { 'Content-Type': form },
      body: tokenBody,
    },
    {
      key: 'floor_pkjwt',
      name: 'JS floor: + Ed25519 verify (same workerd)',
      method: 'POST',
      url: `${w.helloUrl}/floor-assertion`,
      headers: { 'Content-Type': form },
      body: tokenBody,
    },
    {
      key: 'floor_dpop',
      name: 'JS floor: + ES256 verify + DO claim (same workerd)',
      method: 'POST',
      url: `${w.helloUrl}/floor-dpop`,
      headers: { 'Content-Type': form },
      body: tokenBody,
    },
    {
      key: 'basic',
      name: 'token POST /oauth/token (client_secret_basic)',
      method: 'POST',
      path: '/oauth/token',
      headers: { Authorization: basicAuth, 'Content-Type': form },
      body: tokenBody,
    },
    {
      key: 'basic_cf',
      name: 'token POST /oauth/token (Basic, request.cf)',
      method: 'POST',
      path: '/oauth/token',
      headers: { Authorization: basicAuth, 'Content-Type': form, [CF_HEADER]: JSON.stringify(edgeCf) },
      body: tokenBody,
    },
    {
      key: 'mtls',
      name: 'token POST /oauth/token (self_signed_tls_client_auth)',
      method: 'POST',
      path: '/oauth/token',
      headers: { 'Content-Type': form, [CF_HEADER]: mtlsCf },
      body: mtlsBody,
    },
    {
      key: 'basic_quota',
      name: 'token POST /oauth/token (Basic, token quota)',
      method: 'POST',
      path: '/oauth/token',
      headers: { Authorization: quotaAuth, 'Content-Type': form },
      body: tokenBody,
    },
    {
      key: 'pkjwt',
      name: 'token POST /oauth/token (private_key_jwt)',
      method: 'POST',
      path: '/oauth/token',
      headers: { 'Content-Type': form },
      bodies: async (phase, seconds) => {
        const n = opt.assertions ? Number(opt.assertions) : enough(seconds);
        const t0 = Date.now();
        const list = await assertionBodies(n);
        console.error(`bench: signed ${n} EdDSA assertions for the ${phase} in ${Date.now() - t0} ms`);
        return list;
      },
    },
    {
      key: 'federated',
      name: 'token POST /oauth/token (federated, jwt-bearer)',
      method: 'POST',
      path: '/oauth/token',
      headers: { 'Content-Type': form },
      body: fedBody,
    },
    {
      key: 'exchange',
      name: 'token POST /oauth/token (token exchange)',
      method: 'POST',
      path: '/oauth/token',
      headers: { Authorization: exchangeAuth, 'Content-Type': form },
      body: exchangeBody,
    },
    {
      key: 'exchange_fresh',
      name: 'token POST /oauth/token (exchange, fresh subj.)',
      method: 'POST',
      path: '/oauth/token',
      headers: { Authorization: exchangeAuth, 'Content-Type': form },
      bodies: async () => freshSubjects,
      cycles: true,
    },
    {
      key: 'dpop',
      name: 'token POST /oauth/token (Basic + DPoP proof)',
      method: 'POST',
      path: '/oauth/token',
      headers: { Authorization: basicAuth, 'Content-Type': form },
      body: tokenBody,
      lineHeader: 'DPoP',
      bodies: async (phase, seconds) => {
        const n = enough(seconds);
        const t0 = Date.now();
        const list = await dpopProofs(n);
        console.error(`bench: signed ${n} ES256 DPoP proofs for the ${phase} in ${Date.now() - t0} ms`);
        return list;
      },
    },
    {
      key: 'introspect',
      name: 'POST /oauth/introspect (client_secret_basic)',
      method: 'POST',
      path: '/oauth/introspect',
      headers: { Authorization: basicAuth, 'Content-Type': form },
      body: introspectBody,
    },
    { key: 'admin_list', name: 'admin GET /admin/clients', method: 'GET', path: '/admin/clients', headers: { Authorization: adminAuth } },
  ];

  // A floor goes with the token case it is the floor of.
  const chosen = opt.cases?.split(',') ?? [];
  // exchange_fresh's floor is the assertion floor too: one verify and one sign.
  const floors = [
    ...(chosen.includes('basic') || chosen.includes('exchange_fresh') ? ['floor'] : []),
    ...(chosen.includes('pkjwt') || chosen.includes('exchange_fresh') ? ['floor_pkjwt'] : []),
    ...(chosen.includes('dpop') ? ['floor', 'floor_dpop'] : []),
  ];
  const only = opt.cases ? new Set(['hello', 'trivial', ...chosen, ...floors]) : null;
  if (only) cases.splice(0, cases.length, ...cases.filter((c) => only.has(c.key)));
  const work = mkdtempSync(join(tmpdir(), 'edgeauth-wrk-'));
  const results = [];
  const warmups = [];
  const measure = (c, i) => async (name, seconds) => {
    const script = join(work, `case${i}-${name}.lua`);
    let bodiesFile = null;
    let count = 0;
    if (c.bodies) {
      const list = await c.bodies(name, seconds);
      count = list.length;
      bodiesFile = join(work, `case${i}-${name}.bodies`);
      writeFileSync(bodiesFile, list.join('\n') + '\n');
    }
    writeFileSync(script, luaScript(c, bodiesFile, THREADS));
    console.error(`bench: ${c.name}: ${name} ${seconds}s`);
    const cpu0 = cpuSeconds(w.processGroup);
    const r = await wrk(c.url ?? `${base}${c.path}`, script, seconds);
    // workerd's own CPU time per request (all its threads: the Worker, the guard, KV): unlike
    // req/s it barely moves when another process takes the other core.
    r.cpu_us = r.requests > 0 ? ((cpuSeconds(w.processGroup) - cpu0) * 1e6) / r.requests : NaN;
    if (bodiesFile) rmSync(bodiesFile, { force: true });
    r.bodies = count;
    return r;
  };
  for (const [i, c] of cases.entries()) {
    const phase = measure(c, i);
    const wr = await phase('warmup', WARMUP); // discarded, but checked
    warmups.push({ key: c.key, r: wr });
    if (wr.non2xx > 0 || (wr.wrapped > 0 && !c.cycles)) {
      console.error(`bench: ${c.name}: warm-up had ${wr.non2xx} non-2xx, ${wr.wrapped} threads out of bodies`);
      exitCode = 1;
    }
    results.push({ ...c, r: await phase('run', DURATION) });
  }
  /** `n` more rounds of the cases `keys`, back to back, the order reversed every other round. */
  const rounds = async (keys, n) => {
    const picked = keys.map((k) => cases.findIndex((c) => c.key === k));
    const out = [];
    for (let round = 0; picked.every((i) => i >= 0) && round < n; round++) {
      const measured = {};
      for (const i of round % 2 ? [...picked].reverse() : picked) {
        const phase = measure(cases[i], i);
        await phase('warmup', WARMUP);
        measured[cases[i].key] = await phase('run', DURATION);
      }
      out.push(measured);
    }
    return out;
  };
  const quotaRounds = await rounds(['basic_quota', 'basic'], Number(opt['quota-rounds']));
  const goalRounds = await rounds(['hello', 'trivial', 'floor', 'basic'], Number(opt['goal-rounds']));
  rmSync(work, { recursive: true, force: true });
  // EDGEAUTH_BENCH_LOG=1: the end of workerd's own output (Worker errors, runtime warnings), the
  // last 60 lines or EDGEAUTH_BENCH_LOG_LINES (the harness keeps a bounded tail of it anyway).
  if (process.env.EDGEAUTH_BENCH_LOG) console.log(String(w.output).split("\n").slice(-Number(process.env.EDGEAUTH_BENCH_LOG_LINES || 60)).join("\n"));
  await w.stop();
  const peers = peersDir ? await runPeers() : null;
  report(results, warmups, peers, quotaRounds, goalRounds);
} catch (e) {
  console.error('bench failed:', e);
  exitCode = 1;
} finally {
  await w.stop();
  keyHost.close();
}
process.exit(exitCode);

/** CPU seconds (user + system) a process has used so far, from /proc. */
function cpuSeconds(pid) {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
  return (Number(fields[11]) + Number(fields[12])) / CLOCK_TICKS;
}

// ---- report ---------------------------------------------------------------------------------
function report(results, warmups, peers, quotaRounds = [], goalRounds = []) {
  const ms = (us) => (us / 1000).toFixed(2);
  const by = Object.fromEntries(results.map((x) => [x.key, x.r]));
  const trivial = by.trivial;
  out(`edgeauth bench  ${new Date().toISOString()}`);
  out(`command: ${command}`);
  out(`  (all options spelled out: ${canonical})`);
  out(`runtime: plain workerd ${workerdVersion()} (${WORKERD.replace(ROOT + '/', '')}), edgeauth and the JS hello-world in one process`);
  out(`Durable Object storage: ${storageNote}`);
  out(`machine: ${cpus().length} x ${cpus()[0]?.model ?? '?'}; load average at start ${loadAtStart}`);
  out(`wrk: -t${opt.threads} -c${opt.connections} -d${opt.duration}s (after a ${opt.warmup}s warm-up per case)`);
  out(`RUSTFLAGS for the build (EDGEAUTH_RUSTFLAGS): ${process.env.EDGEAUTH_RUSTFLAGS || '(none)'}`);
  out('');
  const head = ['req/s', 'p50 ms', 'p90 ms', 'p99 ms', 'non-2xx', 'sockerr', 'x trivial', 'cpu µs'];
  out(`${'case'.padEnd(46)} ${head.map((h, i) => h.padStart(i ? 8 : 8)).join(' ')}`);
  for (const { key, name, r } of results) {
    const sockErr = r.connect + r.read + r.write + r.timeout;
    const ratio = key === 'hello' ? '' : (r.rps / trivial.rps).toFixed(3);
    const cells = [r.rps.toFixed(0), ms(r.p50_us), ms(r.p90_us), ms(r.p99_us), String(r.non2xx), String(sockErr), ratio, r.cpu_us.toFixed(0)];
    out(`${name.padEnd(46)} ${cells.map((c) => c.padStart(8)).join(' ')}`);
  }
  out('');
  out('x trivial: throughput as a fraction of the trivial route\'s (GET /healthz), same runtime, same run.');
  out('cpu µs: workerd\'s CPU time (user + system, all threads) per request served: steadier than req/s on a shared machine.');
  out('p50/p90/p99: wrk\'s, corrected for coordinated omission (a stall adds the samples a steady-rate client would have had), not raw per-request latencies.');
  out(`trivial vs JS hello-world: ${(trivial.rps / by.hello.rps).toFixed(3)} of its req/s`);
  if (by.basic) out(`tail latency: token (Basic) p99 ${ms(by.basic.p99_us)} ms, JS hello-world p99 ${ms(by.hello.p99_us)} ms, trivial p99 ${ms(trivial.p99_us)} ms`);
  const perReq = (r) => 1e6 / r.rps; // µs of the (saturated, single-threaded) runtime per request
  for (const { key, r } of results) {
    if (key === 'hello' || key === 'trivial' || key.startsWith('floor')) continue;
    out(`${key}: ${(perReq(r) - perReq(trivial)).toFixed(0)} µs per request over the trivial route (1/req/s at saturation)`);
  }
  const over = (a, b) => (a.cpu_us - b.cpu_us).toFixed(0);
  if (by.floor && by.basic) {
    out(`token floor: body + Ed25519 sign cost the JS Worker ${over(by.floor, by.hello)} µs of workerd CPU over its GET /; token Basic costs edgeauth ${over(by.basic, trivial)} µs over its trivial route`);
  }
  if (by.basic && by.basic_quota) {
    const pct = (x) => `${(x * 100).toFixed(1)}%`;
    const rounds = [{ basic: by.basic, basic_quota: by.basic_quota }, ...quotaRounds];
    for (const [n, { basic, basic_quota: q }] of rounds.entries()) {
      out(`token quota${rounds.length > 1 ? ` (round ${n + 1}, ${n % 2 ? 'with the quota first' : 'without first'})` : ''}: Basic with a quota ${q.cpu_us.toFixed(0)} µs CPU and ${q.rps.toFixed(0)} req/s, without ${basic.cpu_us.toFixed(0)} µs and ${basic.rps.toFixed(0)} req/s: CPU ${pct(q.cpu_us / basic.cpu_us - 1)}, req/s ${pct(q.rps / basic.rps - 1)}`);
    }
    if (rounds.length > 1) {
      const median = (xs) => { const v = [...xs].sort((a, b) => a - b); const m = v.length >> 1; return v.length % 2 ? v[m] : (v[m - 1] + v[m]) / 2; };
      out(`token quota, median of ${rounds.length} rounds: CPU ${pct(median(rounds.map((r) => r.basic_quota.cpu_us / r.basic.cpu_us - 1)))}, req/s ${pct(median(rounds.map((r) => r.basic_quota.rps / r.basic.rps - 1)))}`);
    }
  }
  if (goalRounds.length > 0) {
    // Issue 27's aims: trivial at most 1.2x the hello-world's CPU, Basic at most 1.25x the
    // floor's CPU and at least 0.8 of its req/s.
    const median = (xs) => { const v = [...xs].sort((a, b) => a - b); const m = v.length >> 1; return v.length % 2 ? v[m] : (v[m - 1] + v[m]) / 2; };
    const ratios = goalRounds.map((g) => ({
      trivial: g.trivial.cpu_us / g.hello.cpu_us,
      cpu: g.basic.cpu_us / g.floor.cpu_us,
      rps: g.basic.rps / g.floor.rps,
    }));
    for (const [n, g] of goalRounds.entries()) {
      const x = ratios[n];
      out(`goal round ${n + 1} (${n % 2 ? 'Basic first' : 'hello first'}): trivial ${g.trivial.cpu_us.toFixed(0)} against hello ${g.hello.cpu_us.toFixed(0)} µs (${x.trivial.toFixed(2)}x, aim <= 1.2); Basic ${g.basic.cpu_us.toFixed(0)} against floor ${g.floor.cpu_us.toFixed(0)} µs (${x.cpu.toFixed(2)}x, aim <= 1.25), req/s ${x.rps.toFixed(2)} (aim >= 0.8)`);
    }
    out(`goal rounds, median of ${ratios.length}: trivial / hello CPU ${median(ratios.map((x) => x.trivial)).toFixed(2)}x, Basic / floor CPU ${median(ratios.map((x) => x.cpu)).toFixed(2)}x, req/s ${median(ratios.map((x) => x.rps)).toFixed(2)}`);
  }
  if (by.floor_pkjwt && by.pkjwt) {
    out(`assertion floor: body + Ed25519 verify + sign cost the JS Worker ${over(by.floor_pkjwt, by.hello)} µs over its GET /; token private_key_jwt costs edgeauth ${over(by.pkjwt, trivial)} µs over its trivial route`);
  }
  if (by.federated && by.pkjwt) {
    out(`federated / private_key_jwt: req/s ${(by.federated.rps / by.pkjwt.rps).toFixed(2)} (target >= 0.80), CPU ${by.federated.cpu_us.toFixed(0)} against ${by.pkjwt.cpu_us.toFixed(0)} µs a request`);
  }
  for (const key of ['exchange', 'exchange_fresh']) {
    const x = by[key];
    if (!x || !by.basic) continue;
    out(`${key} / Basic: CPU ${(x.cpu_us / by.basic.cpu_us).toFixed(2)}x (target <= 1.30), ${x.cpu_us.toFixed(0)} against ${by.basic.cpu_us.toFixed(0)} µs a request; req/s ${(x.rps / by.basic.rps).toFixed(2)}x`);
  }
  if (by.dpop && by.basic) {
    out(`dpop / Basic: req/s ${(by.dpop.rps / by.basic.rps).toFixed(2)}x (target >= 0.70), CPU ${by.dpop.cpu_us.toFixed(0)} against ${by.basic.cpu_us.toFixed(0)} µs a request`);
    if (by.floor && by.floor_dpop) {
      // The same ratio for the least a Worker can do: what the runtime itself allows.
      out(`JS floors, dpop / token: req/s ${(by.floor_dpop.rps / by.floor.rps).toFixed(2)}x, CPU ${by.floor_dpop.cpu_us.toFixed(0)} against ${by.floor.cpu_us.toFixed(0)} µs; edgeauth dpop / JS dpop floor CPU ${(by.dpop.cpu_us / by.floor_dpop.cpu_us).toFixed(2)}x (Basic / token floor ${(by.basic.cpu_us / by.floor.cpu_us).toFixed(2)}x)`);
    }
  }
  if (by.exchange_fresh && by.basic && by.floor && by.floor_pkjwt) {
    // What one more Ed25519 verify costs the runtime itself, against what it costs edgeauth.
    out(`exchange_fresh over Basic: ${over(by.exchange_fresh, by.basic)} µs; the JS floors' verify + sign over sign: ${over(by.floor_pkjwt, by.floor)} µs (floor ratio ${(by.floor_pkjwt.cpu_us / by.floor.cpu_us).toFixed(2)}x)`);
  }
  for (const { key, r, cycles } of results) {
    if (!r.bodies) continue;
    const wr = warmups.find((x) => x.key === key).r;
    const what = cycles ? 'distinct bodies, cycled' : key === 'dpop' ? 'pre-signed unique DPoP proofs' : 'pre-signed unique assertions';
    out(`${key}: ${r.requests} requests on ${r.bodies} ${what} (warm-up: ${wr.requests} on its own ${wr.bodies})`);
  }

  if (peers) {
    out('');
    out(`oidc-provider (${peersDir}/oidc-provider/bench.sh), same sitting, after edgeauth stopped:`);
    for (const [k, v] of Object.entries(peers)) out(`  ${k.padEnd(11)} ${v.rps.toFixed(0).padStart(8)} req/s  p50 ${v.p50} ms  p99 ${v.p99} ms  non-2xx ${v.non2xx}`);
    const vs = (ours, theirs) => (theirs && ours ? (ours.rps / theirs.rps).toFixed(2) + 'x' : 'n/a');
    out(`edgeauth / oidc-provider: token Basic ${vs(by.basic, peers.token)}, private_key_jwt ${vs(by.pkjwt, peers.pkjwt)}, introspect ${vs(by.introspect, peers.introspect)}; runtime ceilings: JS hello / node:http ${vs(by.hello, peers.baseline)}`);
    out(`JS floors / oidc-provider (what any Worker that signs each token reaches here): token ${vs(by.floor, peers.token)}, private_key_jwt ${vs(by.floor_pkjwt, peers.pkjwt)}`);
  }
  for (const f of readdirSync(BUILD).filter((n) => n.endsWith('.wasm'))) {
    const raw = readFileSync(join(BUILD, f));
    // The gzip tool's -9 is the figure the size aim is stated in; Node's zlib at level 9 packs
    // a few KB less tightly, and is the fallback where the tool is missing.
    let gz;
    try { gz = `${execFileSync('gzip', ['-9', '-c', join(BUILD, f)], { maxBuffer: 1 << 26 }).length} bytes gzipped (gzip -9)`; }
    catch { gz = `${gzipSync(raw, { level: 9 }).length} bytes gzipped (Node's zlib, level 9)`; }
    out(`build/${f}: ${raw.length} bytes, ${gz}`);
  }
  for (const { name, r, cycles } of results) {
    if (r.non2xx > 0) { out(`WARNING: ${name}: ${r.non2xx} non-2xx answers`); exitCode = 1; }
    if (r.wrapped > 0 && !cycles) { out(`WARNING: ${name}: ${r.wrapped} wrk thread(s) ran out of unique bodies and replayed`); exitCode = 1; }
    // By kind: a timeout is a request unanswered after wrk's 2 s; a read error, a keep-alive
    // connection workerd closed (seen on the JS hello-world too), which wrk then reopens.
    const kinds = ['timeout', 'read', 'connect', 'write'].filter((k) => r[k] > 0).map((k) => `${r[k]} ${k}`);
    if (kinds.length > 0) out(`WARNING: ${name}: socket errors: ${kinds.join(', ')}`);
  }

  const dir = join(ROOT, 'bench', 'results');
  mkdirSync(dir, { recursive: true });
  const stamp = new Date().toISOString().replace(/[:.]/g, '-');
  writeFileSync(join(dir, `${stamp}.txt`), lines.join('\n') + '\n');
  writeFileSync(join(dir, `${stamp}.json`), JSON.stringify({
    date: new Date().toISOString(),
    command,
    options: opt,
    runtime: `workerd ${workerdVersion()}`,
    loadavg_at_start: loadAtStart,
    rustflags: process.env.EDGEAUTH_RUSTFLAGS || '',
    results: results.map(({ key, name, r }) => ({ key, name, ...r, raw: undefined, ratio_to_trivial: r.rps / trivial.rps })),
    peers,
  }, null, 2));
  out(`saved bench/results/${stamp}.txt`);
}

// ---- oidc-provider, the anchor ---------------------------------------------------------------
/** Runs the peer's own bench.sh with the same wrk settings; answers { scenario: {rps, p50, p99, non2xx} }. */
function runPeers() {
  return new Promise((res, rej) => {
    const env = {
      ...process.env,
      DURATION: opt.duration,
      WARMUP: opt.warmup,
      CONNECTIONS: opt.connections,
      THREADS: opt.threads,
      SCENARIOS: 'token introspect pkjwt baseline',
    };
    console.error(`bench: oidc-provider: ${peersDir}/oidc-provider/bench.sh`);
    const p = spawn('bash', [join(peersDir, 'oidc-provider', 'bench.sh')], { env, stdio: ['ignore', 'pipe', 'inherit'] });
    let text = '';
    p.stdout.on('data', (d) => { text += d; });
    p.on('error', rej);
    p.on('exit', (code) => {
      const found = {};
      for (const m of text.matchAll(/^(token|introspect|pkjwt|baseline)\s+([\d.]+)\s+([\d.]+)\s+([\d.]+)\s+(\d+)/gm)) {
        found[m[1]] = { rps: Number(m[2]), p50: m[3], p99: m[4], non2xx: Number(m[5]) };
      }
      if (code !== 0 || !found.token) return rej(new Error(`oidc-provider bench failed (${code}):\n${text}`));
      res(found);
    });
  });
}
