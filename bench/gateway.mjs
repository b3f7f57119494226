// Benchmark of the gateway Worker under PLAIN workerd: one workerd process serves the issuer,
// the gateway (crates/gateway/build/, its ISSUER_SERVICE bound to the issuer) and the JS
// hello-world as the upstream (service binding UPSTREAM), so no request leaves the process and
// no Node code is in the path. Two routes of the same gateway reach the same upstream, and a JS
// Worker forwards to it over the same kind of binding:
//
//   passthrough  GET /open/item: a `public: true` route, no token read (the baseline)
//   forwarder    GET /open/item of bench/forwarder/worker.mjs, a JS Worker that hands each
//                request to the same upstream over a service binding (UPSTREAM) and its answer
//                back: the floor under the pass-through (the issue's aim: at most 1.3x its CPU)
//   verified     GET /api/item with a valid token: EdDSA signature, claims, audience, scope
//   dpop         GET /api/item with a DPoP-bound token (`Authorization: DPoP`) and a proof per
//                request (ES256, pre-signed before the phase with a fresh jti each): the token
//                as `verified`, plus the proof's rules, its WebCrypto verification and the
//                replay cache. The issue's aim: at most 150 µs per request over `verified`
//
// They run in turn, the order reversed every other round (A B C, C B A, ...), each with a
// warm-up (discarded, checked) and a measured run. Each round prints the ratio verified /
// pass-through and the CPU added per request (1/req/s at saturation of the single-threaded
// runtime minus the baseline's), and pass-through / JS forwarder in workerd CPU per request
// (user + system of the process, all threads, over the measured run).
//
//   node bench/gateway.mjs [--rounds 3] [--duration 10] [--warmup 2] [--connections 32] [--threads 1]
//   (usually through `bash bench/gateway.sh ...`, which builds first)
//
// Results are also saved under bench/results/ (gateway-*.txt and .json).
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { ROOT } from '../tests/support/worker.mjs';
import { startWorkerd } from '../tests/support/workerd.mjs';
import { SignJWT, exportJWK, generateKeyPair } from 'jose';
import { call, luaScript, saveResults, wrk } from './wrk.mjs';

const { values: opt } = parseArgs({
  options: {
    rounds: { type: 'string', default: '3' },
    duration: { type: 'string', default: '10' },
    warmup: { type: 'string', default: '2' },
    connections: { type: 'string', default: '32' },
    threads: { type: 'string', default: '1' },
  },
});
const ROUNDS = Number(opt.rounds);
if (!(ROUNDS >= 1) || !(Number(opt.duration) > 0) || !(Number(opt.warmup) > 0)
    || !(Number(opt.threads) >= 1) || Number(opt.connections) < Number(opt.threads)) {
  console.error('gateway bench: --rounds >= 1, --duration and --warmup > 0 s, --connections >= --threads >= 1');
  process.exit(2);
}
const command = process.env.EDGEAUTH_BENCH_CMD || ['node', 'bench/gateway.mjs', ...process.argv.slice(2)].join(' ');
const ISSUER = 'https://issuer.bench.example';
const API = 'https://api.bench.example';
const ROUTES = [
  { prefix: '/open', public: true, upstream: { service: 'UPSTREAM' } },
  { prefix: '/api', audience: API, scopes: { all_of: ['read'] }, upstream: { service: 'UPSTREAM' } },
];

const CLOCK_TICKS = Number(execFileSync('getconf', ['CLK_TCK']).toString().trim()) || 100;
/** CPU seconds (user + system, all threads) a process has used so far, from /proc. */
const cpuSeconds = (pid) => {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
  return (Number(fields[11]) + Number(fields[12])) / CLOCK_TICKS;
};
// The aim for the pass-through's CPU over the JS forwarder's (issue 27).
const FORWARDER_AIM = 1.3;

const lines = [];
const out = (s = '') => { console.log(s); lines.push(s); };
const load = () => loadavg().map((x) => x.toFixed(2)).join(' ');
const loadAtStart = load();

let exitCode = 0;
const w = await startWorkerd({
  hello: true,
  vars: { ISSUER },
  gateway: { vars: { ISSUER, ROUTES: JSON.stringify(ROUTES) }, services: { UPSTREAM: 'hello' }, healthPath: '/open/' },
  js: [{ name: 'forwarder', module: join(ROOT, 'bench', 'forwarder', 'worker.mjs'), services: { UPSTREAM: 'hello' } }],
});
try {
  // ---- a client, its token, and a check of each path before measuring ----------------------
  const created = await call(`${w.url}/admin/clients`, {
    method: 'POST',
    headers: { authorization: `Bearer ${w.adminToken}`, 'content-type': 'application/json' },
    body: JSON.stringify({ client_name: 'gateway bench', scope: 'read', resources: [API], lockout_enabled: false }),
  });
  if (created.status !== 201) throw new Error(`create client: ${created.status} ${created.text}`);
  const { client, secret } = created.json;
  const issued = await call(`${w.url}/oauth/token`, {
    method: 'POST',
    headers: {
      authorization: 'Basic ' + Buffer.from(`${client.client_id}:${secret.client_secret}`).toString('base64'),
      'content-type': 'application/x-www-form-urlencoded',
    },
    body: new URLSearchParams({ grant_type: 'client_credentials', scope: 'read', resource: API }).toString(),
  });
  if (issued.status !== 200 || !issued.json?.access_token) throw new Error(`token: ${issued.status} ${issued.text}`);
  const bearer = `Bearer ${issued.json.access_token}`;
  // A DPoP-bound token of the same client, and a proof per request for GET /api/item.
  const dpopKey = await generateKeyPair('ES256', { extractable: true });
  const dpopJwk = await exportJWK(dpopKey.publicKey);
  const prove = (claims) => new SignJWT({ iat: Math.floor(Date.now() / 1000), jti: crypto.randomUUID(), ...claims })
    .setProtectedHeader({ typ: 'dpop+jwt', alg: 'ES256', jwk: dpopJwk })
    .sign(dpopKey.privateKey);
  const bound = await call(`${w.url}/oauth/token`, {
    method: 'POST',
    headers: {
      authorization: 'Basic ' + Buffer.from(`${client.client_id}:${secret.client_secret}`).toString('base64'),
      'content-type': 'application/x-www-form-urlencoded',
      dpop: await prove({ htm: 'POST', htu: `${ISSUER}/oauth/token` }),
    },
    body: new URLSearchParams({ grant_type: 'client_credentials', scope: 'read', resource: API }).toString(),
  });
  if (bound.status !== 200 || bound.json?.token_type !== 'DPoP') throw new Error(`DPoP token: ${bound.status} ${bound.text}`);
  const dpopToken = bound.json.access_token;
  const ath = Buffer.from(await crypto.subtle.digest('SHA-256', new TextEncoder().encode(dpopToken))).toString('base64url');
  const apiUrl = `${w.gatewayUrl}/api/item`;
  /** `n` proofs for GET /api/item with this token, each with its own jti. */
  const dpopProofs = async (n) => {
    const proofs = [];
    for (let start = 0; start < n; start += 1000) {
      const batch = [];
      for (let i = start; i < Math.min(n, start + 1000); i++) batch.push(prove({ htm: 'GET', htu: apiUrl, ath }));
      proofs.push(...(await Promise.all(batch)));
    }
    return proofs;
  };
  const forwarderUrl = w.jsUrls.forwarder;
  const expect = async (path, headers, status, base = w.gatewayUrl) => {
    const r = await call(`${base}${path}`, { headers });
    if (r.status !== status) throw new Error(`GET ${path} through the gateway: ${r.status} ${r.text}, expected ${status}`);
    return r;
  };
  // Each path reaches the upstream (its body), and the verified one does verify: no token, no entry.
  for (const path of ['/open/item', '/api/item']) {
    const r = await expect(path, { authorization: bearer }, 200);
    if (r.text !== 'ok') throw new Error(`GET ${path}: the upstream's body was not forwarded: ${r.text}`);
  }
  await expect('/api/item', {}, 401);
  await expect('/api/item', { authorization: `DPoP ${dpopToken}`, dpop: (await dpopProofs(1))[0] }, 200);
  await expect('/api/item', { authorization: `Bearer ${dpopToken}` }, 401);
  const floor = await expect('/open/item', { authorization: bearer }, 200, forwarderUrl);
  if (floor.text !== 'ok') throw new Error(`GET /open/item: the JS forwarder did not reach the upstream: ${floor.text}`);

  const cases = {
    passthrough: { name: 'pass-through (public route)', path: '/open/item', headers: { Authorization: bearer } },
    forwarder: { name: 'JS forwarder (floor)', path: '/open/item', headers: { Authorization: bearer }, base: forwarderUrl },
    verified: { name: 'verified (valid token)', path: '/api/item', headers: { Authorization: bearer } },
    dpop: { name: 'DPoP (bound token + proof)', path: '/api/item', headers: { Authorization: `DPoP ${dpopToken}` }, lineHeader: 'DPoP' },
  };
  const work = mkdtempSync(join(tmpdir(), 'edgeauth-wrk-'));
  const rounds = [];
  const settings = { threads: opt.threads, connections: opt.connections };
  for (let i = 0; i < ROUNDS; i++) {
    const order = ['passthrough', 'forwarder', 'verified', 'dpop'];
    if (i % 2) order.reverse();
    const round = {};
    for (const key of order) {
      const c = cases[key];
      const script = join(work, `${key}.lua`);
      // Proofs are single-use: each phase gets its own, signed just before it (they live 60 s).
      const proofs = async (seconds) => {
        if (!c.lineHeader) return null;
        const n = Math.ceil((round.verified?.rps ?? 15000) * Number(seconds) * 1.3) + 1000;
        const file = join(work, `${key}.proofs`);
        writeFileSync(file, (await dpopProofs(n)).join('\n') + '\n');
        return file;
      };
      const url = `${c.base ?? w.gatewayUrl}${c.path}`;
      console.error(`gateway bench: round ${i + 1}: ${c.name}: warm-up ${opt.warmup}s, run ${opt.duration}s`);
      writeFileSync(script, luaScript({ method: 'GET', ...c }, await proofs(opt.warmup), Number(opt.threads)));
      const warm = await wrk(url, script, { ...settings, seconds: opt.warmup });
      if (warm.non2xx > 0) {
        console.error(`gateway bench: ${c.name}: warm-up had ${warm.non2xx} non-2xx`);
        exitCode = 1;
      }
      if (c.lineHeader) writeFileSync(script, luaScript({ method: 'GET', ...c }, await proofs(opt.duration), Number(opt.threads)));
      const cpu0 = cpuSeconds(w.processGroup);
      round[key] = await wrk(url, script, { ...settings, seconds: opt.duration });
      const r = round[key];
      r.cpu_us = r.requests > 0 ? ((cpuSeconds(w.processGroup) - cpu0) * 1e6) / r.requests : NaN;
    }
    round.load = load();
    rounds.push(round);
  }
  rmSync(work, { recursive: true, force: true });
  report(rounds);
} catch (e) {
  console.error('gateway bench failed:', e);
  exitCode = 1;
} finally {
  await w.stop();
}
process.exit(exitCode);

function report(rounds) {
  const ms = (us) => (us / 1000).toFixed(2);
  const perReq = (r) => 1e6 / r.rps; // µs of the saturated runtime per request
  const workerd = JSON.parse(readFileSync(join(ROOT, 'node_modules', 'workerd', 'package.json'), 'utf8')).version;
  out(`edgeauth gateway bench  ${new Date().toISOString()}`);
  out(`command: ${command}`);
  out(`runtime: plain workerd ${workerd}: issuer, gateway, the JS forwarder and the JS hello-world upstream in one process (service bindings)`);
  out(`machine: ${cpus().length} x ${cpus()[0]?.model ?? '?'}; load average at start ${loadAtStart}`);
  out(`wrk: -t${opt.threads} -c${opt.connections} -d${opt.duration}s after a ${opt.warmup}s warm-up, per case and round; rounds alternate the order`);
  out('');
  out(`${'round'.padEnd(6)} ${'case'.padEnd(28)} ${['req/s', 'p50 ms', 'p99 ms', 'non-2xx', 'sockerr', 'cpu µs'].map((h) => h.padStart(8)).join(' ')}`);
  const names = {
    passthrough: 'pass-through (public route)', forwarder: 'JS forwarder (floor)', verified: 'verified (valid token)',
    dpop: 'DPoP (bound token + proof)',
  };
  const summary = [];
  for (const [i, r] of rounds.entries()) {
    for (const key of ['passthrough', 'forwarder', 'verified', 'dpop']) {
      const x = r[key];
      const sockErr = x.connect + x.read + x.write + x.timeout;
      const cells = [x.rps.toFixed(0), ms(x.p50_us), ms(x.p99_us), String(x.non2xx), String(sockErr), x.cpu_us.toFixed(0)];
      out(`${String(i + 1).padEnd(6)} ${names[key].padEnd(28)} ${cells.map((c) => c.padStart(8)).join(' ')}`);
      if (x.non2xx > 0) exitCode = 1;
    }
    const ratio = r.verified.rps / r.passthrough.rps;
    const added = perReq(r.verified) - perReq(r.passthrough);
    const overFloor = r.passthrough.cpu_us / r.forwarder.cpu_us;
    const dpopAdded = perReq(r.dpop) - perReq(r.verified);
    summary.push({ ratio, added, overFloor, dpopAdded });
    out(`${''.padEnd(6)} DPoP over verified: ${dpopAdded.toFixed(0)} µs per request (aim <= 150); CPU ${r.dpop.cpu_us.toFixed(0)} against ${r.verified.cpu_us.toFixed(0)} µs`);
    out(`${''.padEnd(6)} verified / pass-through ${ratio.toFixed(3)}, added ${added.toFixed(0)} µs per request (load average after: ${r.load})`);
    out(`${''.padEnd(6)} pass-through / JS forwarder: CPU ${overFloor.toFixed(2)}x (target <= ${FORWARDER_AIM}), ${r.passthrough.cpu_us.toFixed(0)} against ${r.forwarder.cpu_us.toFixed(0)} µs a request; req/s ${(r.passthrough.rps / r.forwarder.rps).toFixed(2)}x`);
  }
  const range = (xs, d) => {
    const lo = Math.min(...xs); const hi = Math.max(...xs);
    return lo.toFixed(d) === hi.toFixed(d) ? lo.toFixed(d) : `${lo.toFixed(d)}-${hi.toFixed(d)}`;
  };
  out('');
  for (const key of ['passthrough', 'forwarder', 'verified', 'dpop']) {
    const xs = rounds.map((r) => r[key]);
    out(`${key.padEnd(12)} req/s ${range(xs.map((x) => x.rps), 0)}, p50 ${range(xs.map((x) => x.p50_us / 1000), 2)} ms, p99 ${range(xs.map((x) => x.p99_us / 1000), 2)} ms, cpu ${range(xs.map((x) => x.cpu_us), 0)} µs, non-2xx ${xs.reduce((n, x) => n + x.non2xx, 0)}`);
  }
  const ratios = summary.map((s) => s.ratio);
  const added = summary.map((s) => s.added);
  const met = (ok) => `met in ${ok.filter(Boolean).length} of ${ok.length} rounds`;
  out(`verified / pass-through: ${range(ratios, 3)} (aim >= 0.8: ${met(ratios.map((r) => r >= 0.8))})`);
  out(`added CPU per request: ${range(added, 0)} µs (aim < 50: ${met(added.map((a) => a < 50))})`);
  const dpopAdded = summary.map((s) => s.dpopAdded);
  out(`DPoP over verified, per request: ${range(dpopAdded, 0)} µs (aim <= 150: ${met(dpopAdded.map((a) => a <= 150))})`);
  const overFloor = summary.map((s) => s.overFloor);
  out(`pass-through / JS forwarder, workerd CPU per request: ${range(overFloor, 2)}x (aim <= ${FORWARDER_AIM}: ${met(overFloor.map((x) => x <= FORWARDER_AIM))})`);

  const saved = saveResults('gateway', lines, {
    command,
    options: opt,
    runtime: `workerd ${workerd}`,
    loadavg_at_start: loadAtStart,
    rounds: rounds.map((r, i) => ({
      passthrough: { ...r.passthrough, raw: undefined },
      forwarder: { ...r.forwarder, raw: undefined },
      verified: { ...r.verified, raw: undefined },
      ratio: summary[i].ratio,
      added_us: summary[i].added,
      passthrough_over_forwarder_cpu: summary[i].overFloor,
      loadavg_after: r.load,
    })),
  });
  out(`saved ${saved}`);
}
