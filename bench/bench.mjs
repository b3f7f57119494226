// Benchmark of the built Worker under Miniflare's API (leaner than `wrangler dev`), driven by wrk.
// Every figure is printed next to the trivial route (GET /healthz) of the same runtime, same run.
//
//   node bench/bench.mjs [--duration 10] [--warmup 3] [--connections 16] [--threads 2]
//                        [--assertions N]   (sign N per phase instead of the estimate)
//   (usually through `bash bench/run.sh ...`, which installs wrk and builds first)
//
// Cases, one after another, each with a warm-up (discarded) and a measured run:
//   1. trivial: GET /healthz
//   2. token, client_secret_basic: one fixed request, replayed (a secret may be reused)
//   3. token, private_key_jwt (Ed25519): every request carries its own signed assertion with a
//      unique jti, pre-generated with jose; the warm-up and the measured run use disjoint sets,
//      split per wrk thread, sized from the trivial and Basic rates with a margin. A replayed or
//      expired assertion would be a 401, so non-2xx must be 0 (and no thread may run out).
//
// Needs build/ (bash scripts/build.sh) and wrk. Results are also saved under bench/results/.
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync, existsSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { gzipSync } from 'node:zlib';
import { Miniflare } from 'miniflare';
import { SignJWT, exportJWK, generateKeyPair } from 'jose';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const { values: opt } = parseArgs({
  options: {
    duration: { type: 'string', default: '10' },
    warmup: { type: 'string', default: '3' },
    connections: { type: 'string', default: '16' },
    threads: { type: 'string', default: '2' },
    port: { type: 'string', default: '0' },
    // Assertions to sign per phase instead of the estimate (a check: too few must show non-2xx).
    assertions: { type: 'string' },
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
const command = process.env.EDGEAUTH_BENCH_CMD
  || ['node', 'bench/bench.mjs', ...process.argv.slice(2)].join(' ');
const canonical = `bash bench/run.sh --duration ${opt.duration} --warmup ${opt.warmup} --connections ${opt.connections} --threads ${opt.threads}`;
const ASSERTION_TYPE = 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer';

const lines = [];
const out = (s = '') => { console.log(s); lines.push(s); };
const b64u = () => randomBytes(32).toString('base64url');

// ---- the runtime ---------------------------------------------------------------------------
const BUILD = join(ROOT, 'build');
if (!existsSync(join(BUILD, 'index.js'))) {
  console.error('bench: build/index.js missing; run `bash scripts/build.sh` first');
  process.exit(1);
}

/** compatibility_date / flags and Durable Object bindings from wrangler.toml (tiny TOML subset). */
function wranglerSettings() {
  const text = readFileSync(join(ROOT, 'wrangler.toml'), 'utf8');
  const str = (key) => text.match(new RegExp(`^${key}\\s*=\\s*"([^"]*)"`, 'm'))?.[1];
  const flags = text.match(/^compatibility_flags\s*=\s*\[([^\]]*)\]/m)?.[1]
    ?.split(',').map((s) => s.trim().replace(/^"|"$/g, '')).filter(Boolean) ?? [];
  const durableObjects = {};
  for (const block of text.split(/^\[\[/m).slice(1)) {
    if (!/^durable_objects\.bindings\]\]/.test(block)) continue;
    const name = block.match(/^name\s*=\s*"([^"]+)"/m)?.[1];
    const cls = block.match(/^class_name\s*=\s*"([^"]+)"/m)?.[1];
    const sqlite = /new_sqlite_classes\s*=\s*\[[^\]]*"/.test(text);
    if (name && cls) durableObjects[name] = { className: cls, useSQLite: sqlite };
  }
  // Inline table form: durable_objects.bindings = [{ name = "X", class_name = "Y" }]
  for (const m of text.matchAll(/\{\s*name\s*=\s*"([^"]+)"\s*,\s*class_name\s*=\s*"([^"]+)"[^}]*\}/g)) {
    durableObjects[m[1]] ??= { className: m[2], useSQLite: /new_sqlite_classes/.test(text) };
  }
  return {
    compatibilityDate: str('compatibility_date') ?? '2025-01-01',
    compatibilityFlags: flags,
    durableObjects,
  };
}

const loadAtStart = loadavg().map((x) => x.toFixed(2)).join(' ');
const miniflareVersion = () => {
  try { return JSON.parse(readFileSync(join(ROOT, 'node_modules', 'miniflare', 'package.json'), 'utf8')).version; } catch { return '?'; }
};
const settings = wranglerSettings();
// The Worker needs the per-client guard (assertion replay, lockout) whatever the TOML parse found.
settings.durableObjects.CLIENT_GUARD ??= { className: 'ClientGuard', useSQLite: true };
const stateDir = mkdtempSync(join(tmpdir(), 'edgeauth-bench-'));
const adminToken = b64u();
const mf = new Miniflare({
  scriptPath: join(BUILD, 'index.js'),
  modules: true,
  modulesRules: [{ type: 'CompiledWasm', include: ['**/*.wasm'], fallthrough: true }],
  compatibilityDate: settings.compatibilityDate,
  compatibilityFlags: settings.compatibilityFlags,
  kvNamespaces: ['CLIENTS'],
  durableObjects: settings.durableObjects,
  kvPersist: join(stateDir, 'kv'),
  durableObjectsPersist: join(stateDir, 'do'),
  bindings: {
    ADMIN_TOKEN: adminToken,
    SECRET_PEPPER: b64u(),
    SIGNING_KEY_SEED: b64u(),
  },
  host: '127.0.0.1',
  port: Number(opt.port),
});

let exitCode = 0;
try {
  const base = (await mf.ready).toString().replace(/\/$/, '');

  // ---- fixtures ----------------------------------------------------------------------------
  const health = await fetch(`${base}/healthz`);
  if (health.status !== 200) throw new Error(`/healthz answered ${health.status}: ${await health.text()}`);
  const created = await fetch(`${base}/admin/clients`, {
    method: 'POST',
    headers: { authorization: `Bearer ${adminToken}`, 'content-type': 'application/json' },
    body: JSON.stringify({ client_name: 'bench', scope: 'read write', lockout_enabled: false }),
  });
  const createdText = await created.text();
  if (created.status !== 201) throw new Error(`create client: ${created.status} ${createdText}`);
  const { client, secret } = JSON.parse(createdText);
  const basicAuth = 'Basic ' + Buffer.from(`${client.client_id}:${secret.client_secret}`).toString('base64');
  const tokenBody = 'grant_type=client_credentials&scope=read';
  const check = await fetch(`${base}/oauth/token`, {
    method: 'POST',
    headers: { authorization: basicAuth, 'content-type': 'application/x-www-form-urlencoded' },
    body: tokenBody,
  });
  if (check.status !== 200) throw new Error(`token request: ${check.status} ${await check.text()}`);
  await check.text();

  // private_key_jwt client with an inline Ed25519 key.
  const issuer = (await (await fetch(`${base}/.well-known/oauth-authorization-server`)).json()).issuer;
  const audience = `${issuer}/oauth/token`;
  const kp = await generateKeyPair('EdDSA', { crv: 'Ed25519', extractable: true });
  const jwk = { ...(await exportJWK(kp.publicKey)), kid: 'bench-ed25519', alg: 'EdDSA', use: 'sig' };
  const createdJwt = await fetch(`${base}/admin/clients`, {
    method: 'POST',
    headers: { authorization: `Bearer ${adminToken}`, 'content-type': 'application/json' },
    body: JSON.stringify({
      client_name: 'bench-jwt',
      scope: 'read write',
      lockout_enabled: false,
      token_endpoint_auth_method: 'private_key_jwt',
      jwks: { keys: [jwk] },
    }),
  });
  const createdJwtText = await createdJwt.text();
  if (createdJwt.status !== 201) throw new Error(`create private_key_jwt client: ${createdJwt.status} ${createdJwtText}`);
  const jwtClientId = JSON.parse(createdJwtText).client.client_id;

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
  const jwtCheck = await fetch(`${base}/oauth/token`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: (await assertionBodies(1))[0],
  });
  if (jwtCheck.status !== 200) throw new Error(`private_key_jwt token request: ${jwtCheck.status} ${await jwtCheck.text()}`);
  await jwtCheck.text();

  // Cases. `bodies(phase, seconds)` (async, answers an array) gives each request its own body
  // (per-thread disjoint slices of the list), for requests that must be unique: it is called
  // once for the warm-up and once for the measured run, so the two never share a body.
  /** Upper bound of requests in `seconds`: no route is faster than the trivial one; margin 1.5x. */
  const enough = (seconds) => {
    const fastest = Math.max(...results.map((x) => x.r.rps), ...warmups.map((x) => x.rps));
    return Math.ceil(fastest * seconds * 1.5) + 2000;
  };
  const cases = [
    { key: 'trivial', name: 'trivial GET /healthz', method: 'GET', path: '/healthz', headers: {} },
    {
      key: 'basic',
      name: 'token POST /oauth/token (client_secret_basic)',
      method: 'POST',
      path: '/oauth/token',
      headers: { Authorization: basicAuth, 'Content-Type': 'application/x-www-form-urlencoded' },
      body: tokenBody,
    },
    {
      key: 'private_key_jwt',
      name: 'token POST /oauth/token (private_key_jwt)',
      method: 'POST',
      path: '/oauth/token',
      headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
      bodies: async (phase, seconds) => {
        const n = opt.assertions ? Number(opt.assertions) : enough(seconds);
        const t0 = Date.now();
        const list = await assertionBodies(n);
        console.error(`bench: signed ${n} EdDSA assertions for the ${phase} in ${Date.now() - t0} ms`);
        return list;
      },
    },
  ];

  const work = mkdtempSync(join(tmpdir(), 'edgeauth-wrk-'));
  const results = [];
  const warmups = [];
  for (const [i, c] of cases.entries()) {
    const phase = async (name, seconds) => {
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
      const r = await wrk(`${base}${c.path}`, script, seconds);
      if (bodiesFile) rmSync(bodiesFile, { force: true });
      r.bodies = count;
      return r;
    };
    const w = await phase('warmup', WARMUP); // discarded, but checked
    warmups.push(w);
    if (w.non2xx > 0 || w.wrapped > 0) {
      console.error(`bench: ${c.name}: warm-up had ${w.non2xx} non-2xx, ${w.wrapped} threads out of bodies`);
      exitCode = 1;
    }
    const r = await phase('run', DURATION);
    results.push({ ...c, r });
  }
  rmSync(work, { recursive: true, force: true });

  // ---- report ------------------------------------------------------------------------------
  const ms = (us) => (us / 1000).toFixed(2);
  const trivial = results.find((x) => x.key === 'trivial');
  out(`edgeauth bench  ${new Date().toISOString()}`);
  out(`command: ${command}`);
  out(`  (all options spelled out: ${canonical})`);
  out(`runtime: Miniflare ${miniflareVersion()} API (workerd), compatibility_date ${settings.compatibilityDate}`);
  out(`machine: ${cpus().length} x ${cpus()[0]?.model ?? '?'}; load average at start ${loadAtStart}`);
  out(`wrk: -t${opt.threads} -c${opt.connections} -d${opt.duration}s (after a ${opt.warmup}s warm-up per case)`);
  out(`RUSTFLAGS for the build (EDGEAUTH_RUSTFLAGS): ${process.env.EDGEAUTH_RUSTFLAGS || '(none)'}`);
  out('');
  out(`${'case'.padEnd(46)} ${'req/s'.padStart(8)} ${'p50 ms'.padStart(7)} ${'p99 ms'.padStart(7)} ${'non-2xx'.padStart(7)} ${'sockerr'.padStart(7)} ${'x trivial'.padStart(9)}`);
  for (const { name, r } of results) {
    const sockErr = r.connect + r.read + r.write + r.timeout;
    const ratio = (r.rps / trivial.r.rps).toFixed(3);
    out(`${name.padEnd(46)} ${r.rps.toFixed(0).padStart(8)} ${ms(r.p50_us).padStart(7)} ${ms(r.p99_us).padStart(7)} ${String(r.non2xx).padStart(7)} ${String(sockErr).padStart(7)} ${ratio.padStart(9)}`);
  }
  out('');
  out('x trivial: throughput as a fraction of the trivial route\'s, same runtime, same run.');
  for (const { key, r } of results) {
    if (key === 'trivial') continue;
    const d = (us) => `${us >= 0 ? '+' : ''}${ms(us)}`;
    out(`${key} vs trivial: p50 ${d(r.p50_us - trivial.r.p50_us)} ms, p99 ${d(r.p99_us - trivial.r.p99_us)} ms`);
  }
  for (const { key, r } of results) {
    if (!r.bodies) continue;
    const w = warmups[results.findIndex((x) => x.key === key)];
    out(`${key}: ${r.requests} requests on ${r.bodies} pre-signed unique assertions (warm-up: ${w.requests} on its own ${w.bodies})`);
  }
  for (const f of readdirSync(BUILD).filter((n) => n.endsWith('.wasm'))) {
    const raw = readFileSync(join(BUILD, f));
    out(`build/${f}: ${raw.length} bytes, ${gzipSync(raw, { level: 9 }).length} bytes gzipped (gzip -9)`);
  }
  for (const { name, r } of results) {
    if (r.non2xx > 0) { out(`WARNING: ${name}: ${r.non2xx} non-2xx answers`); exitCode = 1; }
    if (r.wrapped > 0) { out(`WARNING: ${name}: ${r.wrapped} wrk thread(s) ran out of unique bodies and replayed`); exitCode = 1; }
    const sockErr = r.connect + r.read + r.write + r.timeout;
    if (sockErr > 0) out(`WARNING: ${name}: ${sockErr} socket errors`);
  }

  const dir = join(ROOT, 'bench', 'results');
  mkdirSync(dir, { recursive: true });
  const stamp = new Date().toISOString().replace(/[:.]/g, '-');
  writeFileSync(join(dir, `${stamp}.txt`), lines.join('\n') + '\n');
  writeFileSync(join(dir, `${stamp}.json`), JSON.stringify({
    date: new Date().toISOString(),
    command,
    options: opt,
    loadavg_at_start: loadAtStart,
    rustflags: process.env.EDGEAUTH_RUSTFLAGS || '',
    wasm_gzip_bytes: Object.fromEntries(readdirSync(BUILD).filter((n) => n.endsWith('.wasm'))
      .map((f) => [f, gzipSync(readFileSync(join(BUILD, f)), { level: 9 }).length])),
    results: results.map(({ key, name, r }) => ({ key, name, ...r, raw: undefined, ratio_to_trivial: r.rps / trivial.r.rps })),
  }, null, 2));
  out(`saved bench/results/${stamp}.txt`);
} catch (e) {
  console.error('bench failed:', e);
  exitCode = 1;
} finally {
  await mf.dispose().catch(() => {});
  rmSync(stateDir, { recursive: true, force: true });
}
process.exit(exitCode);

// ---- wrk ------------------------------------------------------------------------------------
function luaScript(c, bodiesFile, threads) {
  const q = (s) => JSON.stringify(s); // JSON strings are valid Lua string literals for ASCII
  const hdrs = Object.entries(c.headers).map(([k, v]) => `wrk.headers[${q(k)}] = ${q(v)}`).join('\n');
  let s = `wrk.method = ${q(c.method)}\n${hdrs}\n`;
  if (c.body !== undefined) s += `wrk.body = ${q(c.body)}\n`;
  if (bodiesFile) {
    s += `
local counter = 0
local threads = {}
function setup(thread)
  thread:set("id", counter)
  counter = counter + 1
  table.insert(threads, thread)
end
bodies = {}
idx = 0
wrapped = 0
function init(args)
  local n = 0
  for line in io.lines(${q(bodiesFile)}) do
    if n % ${threads} == id then table.insert(bodies, line) end
    n = n + 1
  end
end
function request()
  idx = idx + 1
  if idx > #bodies then idx = 1; wrapped = 1 end
  return wrk.format(nil, nil, nil, bodies[idx])
end
`;
  }
  s += `
function done(summary, latency, requests)
  local e = summary.errors
  local wrapped_threads = 0
  for _, t in ipairs(threads or {}) do
    if t:get("wrapped") == 1 then wrapped_threads = wrapped_threads + 1 end
  end
  io.write(string.format(
    'WRKJSON {"wrapped":%d,"requests":%d,"duration_us":%d,"non2xx":%d,"connect":%d,"read":%d,"write":%d,"timeout":%d,"p50_us":%d,"p90_us":%d,"p99_us":%d,"mean_us":%.1f,"max_us":%d}\\n',
    wrapped_threads, summary.requests, summary.duration, e.status, e.connect, e.read, e.write, e.timeout,
    latency:percentile(50), latency:percentile(90), latency:percentile(99), latency.mean, latency.max))
end
`;
  return s;
}

function wrk(url, script, seconds) {
  return new Promise((res, rej) => {
    const args = [`-t${opt.threads}`, `-c${opt.connections}`, `-d${seconds}s`, '--latency', '-s', script, url];
    const p = spawn('wrk', args, { stdio: ['ignore', 'pipe', 'inherit'] });
    let text = '';
    p.stdout.on('data', (d) => { text += d; });
    p.on('error', rej);
    p.on('exit', (code) => {
      const m = text.match(/WRKJSON (\{.*\})/);
      if (code !== 0 || !m) return rej(new Error(`wrk failed (${code}):\n${text}`));
      const r = JSON.parse(m[1]);
      r.rps = r.requests / (r.duration_us / 1e6);
      r.raw = text;
      res(r);
    });
  });
}
