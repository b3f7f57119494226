// Benchmark of the built Worker under Miniflare's API (leaner than `wrangler dev`), driven by wrk.
// Every figure is printed next to the trivial route (GET /healthz) of the same runtime, same run.
//
//   node bench/bench.mjs [--duration 10] [--warmup 3] [--connections 16] [--threads 2]
//
// Needs build/ (bash scripts/build.sh) and wrk. Results are also saved under bench/results/.
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { gzipSync } from 'node:zlib';
import { Miniflare } from 'miniflare';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const { values: opt } = parseArgs({
  options: {
    duration: { type: 'string', default: '10' },
    warmup: { type: 'string', default: '3' },
    connections: { type: 'string', default: '16' },
    threads: { type: 'string', default: '2' },
    port: { type: 'string', default: '0' },
  },
});

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

const settings = wranglerSettings();
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

  // Cases. `bodies` (an array) makes each request use the next body (per-thread disjoint
  // slices), for requests that must be unique, e.g. pre-generated private_key_jwt assertions.
  // Note the warm-up run uses the same list: for replay-checked bodies, generate enough for
  // warm-up + run and give the warm-up its own case (or its own list).
  const cases = [
    { name: 'trivial GET /healthz', method: 'GET', path: '/healthz', headers: {} },
    {
      name: 'token POST /oauth/token (client_secret_basic)',
      method: 'POST',
      path: '/oauth/token',
      headers: { Authorization: basicAuth, 'Content-Type': 'application/x-www-form-urlencoded' },
      body: tokenBody,
    },
  ];

  const work = mkdtempSync(join(tmpdir(), 'edgeauth-wrk-'));
  const results = [];
  for (const [i, c] of cases.entries()) {
    const script = join(work, `case${i}.lua`);
    let bodiesFile = null;
    if (c.bodies) {
      bodiesFile = join(work, `case${i}.bodies`);
      writeFileSync(bodiesFile, c.bodies.join('\n') + '\n');
    }
    writeFileSync(script, luaScript(c, bodiesFile, Number(opt.threads)));
    await wrk(`${base}${c.path}`, script, opt.warmup); // warm-up, discarded
    const r = await wrk(`${base}${c.path}`, script, opt.duration);
    results.push({ ...c, r });
  }
  rmSync(work, { recursive: true, force: true });

  // ---- report ------------------------------------------------------------------------------
  const ms = (us) => (us / 1000).toFixed(2);
  out(`edgeauth bench  ${new Date().toISOString()}`);
  out(`runtime: Miniflare API (workerd), compatibility_date ${settings.compatibilityDate}`);
  out(`wrk: -t${opt.threads} -c${opt.connections} -d${opt.duration}s (after a ${opt.warmup}s warm-up)`);
  out(`RUSTFLAGS for the build (EDGEAUTH_RUSTFLAGS): ${process.env.EDGEAUTH_RUSTFLAGS || '(none)'}`);
  out('');
  out(`${'case'.padEnd(48)} ${'req/s'.padStart(9)} ${'p50 ms'.padStart(8)} ${'p99 ms'.padStart(8)} ${'non-2xx'.padStart(8)} ${'sock err'.padStart(8)}`);
  for (const { name, r } of results) {
    const sockErr = r.connect + r.read + r.write + r.timeout;
    out(`${name.padEnd(48)} ${r.rps.toFixed(0).padStart(9)} ${ms(r.p50_us).padStart(8)} ${ms(r.p99_us).padStart(8)} ${String(r.non2xx).padStart(8)} ${String(sockErr).padStart(8)}`);
  }
  const [trivial, token] = results;
  out('');
  out(`token/trivial throughput ratio: ${(token.r.rps / trivial.r.rps).toFixed(3)}`);
  out(`token p50 minus trivial p50: ${ms(token.r.p50_us - trivial.r.p50_us)} ms`);
  for (const f of readdirSync(BUILD).filter((n) => n.endsWith('.wasm'))) {
    const raw = readFileSync(join(BUILD, f));
    out(`build/${f}: ${raw.length} bytes, ${gzipSync(raw, { level: 9 }).length} bytes gzipped`);
  }
  for (const { name, r } of results) {
    if (r.non2xx > 0) { out(`WARNING: ${name}: ${r.non2xx} non-2xx answers`); exitCode = 1; }
  }

  const dir = join(ROOT, 'bench', 'results');
  mkdirSync(dir, { recursive: true });
  const stamp = new Date().toISOString().replace(/[:.]/g, '-');
  writeFileSync(join(dir, `${stamp}.txt`), lines.join('\n') + '\n');
  writeFileSync(join(dir, `${stamp}.json`), JSON.stringify({
    date: new Date().toISOString(),
    options: opt,
    rustflags: process.env.EDGEAUTH_RUSTFLAGS || '',
    results: results.map(({ name, r }) => ({ name, ...r })),
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
local bodies = {}
local idx = 0
function init(args)
  local n = 0
  for line in io.lines(${q(bodiesFile)}) do
    if n % ${threads} == id then table.insert(bodies, line) end
    n = n + 1
  end
end
function request()
  idx = idx + 1
  if idx > #bodies then idx = 1 end
  return wrk.format(nil, nil, nil, bodies[idx])
end
`;
  }
  s += `
function done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    'WRKJSON {"requests":%d,"duration_us":%d,"non2xx":%d,"connect":%d,"read":%d,"write":%d,"timeout":%d,"p50_us":%d,"p90_us":%d,"p99_us":%d,"mean_us":%.1f,"max_us":%d}\\n',
    summary.requests, summary.duration, e.status, e.connect, e.read, e.write, e.timeout,
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
