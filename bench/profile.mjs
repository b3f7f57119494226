// V8 CPU profile of the Worker under load, in plain workerd: starts workerd with its inspector,
// drives one route with wrk, records a sampling profile of the "main" worker through the
// inspector protocol's Profiler domain, and prints the top self-time functions (and the share
// of wasm, JS glue, GC and idle). The raw profile is saved for Chrome DevTools / speedscope.
//
//   EDGEAUTH_KEEP_NAMES=1 bash scripts/build.sh     # optional: Rust function names in the profile
//   node bench/profile.mjs [--case basic|trivial|pkjwt|introspect|passthrough] [--seconds 8]
//                          [--connections 32] [--interval-us 100] [--top 30]
//
// `passthrough` profiles the gateway Worker (crates/gateway/build/, `bash scripts/build.sh .
// crates/gateway` first) on its public route to the JS hello-world, as bench/gateway.mjs runs it.
//
// Output: bench/results/profile-<case>-<date>.cpuprofile and a table on stdout.
import { spawn, spawnSync } from 'node:child_process';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { ROOT, freePort } from '../tests/support/worker.mjs';
import { memoryStateRoot, startWorkerd } from '../tests/support/workerd.mjs';

// Node 20 has WebSocket behind a flag: run again with it.
if (typeof WebSocket === 'undefined') {
  const r = spawnSync(process.execPath, ['--experimental-websocket', '--no-warnings', ...process.argv.slice(1)], { stdio: 'inherit' });
  process.exit(r.status ?? 1);
}

const { values: opt } = parseArgs({
  options: {
    case: { type: 'string', default: 'basic' },
    seconds: { type: 'string', default: '8' },
    connections: { type: 'string', default: '32' },
    'interval-us': { type: 'string', default: '100' },
    top: { type: 'string', default: '30' },
  },
});
const CASES = ['basic', 'trivial', 'pkjwt', 'introspect', 'passthrough'];
if (!CASES.includes(opt.case)) {
  console.error(`profile: --case is one of ${CASES.join(', ')}`);
  process.exit(2);
}
const seconds = Number(opt.seconds);
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/** A minimal inspector client: send(method, params) answers the result. */
async function inspector(url) {
  const ws = new WebSocket(url);
  await new Promise((res, rej) => { ws.onopen = res; ws.onerror = rej; });
  let id = 0;
  const pending = new Map();
  ws.onmessage = (m) => {
    const msg = JSON.parse(m.data);
    const p = pending.get(msg.id);
    if (!p) return;
    pending.delete(msg.id);
    if (msg.error) p.rej(new Error(`${JSON.stringify(msg.error)}`));
    else p.res(msg.result);
  };
  return {
    send: (method, params = {}) => new Promise((res, rej) => {
      pending.set(++id, { res, rej });
      ws.send(JSON.stringify({ id, method, params }));
    }),
    close: () => ws.close(),
  };
}

/** The wrk Lua script of a case (same requests as bench/issuer.mjs). */
async function fixture(w) {
  const json = { authorization: `Bearer ${w.adminToken}`, 'content-type': 'application/json' };
  const created = await (await fetch(`${w.url}/admin/clients`, {
    method: 'POST', headers: json,
    body: JSON.stringify({ client_name: 'profile', scope: 'read', lockout_enabled: false }),
  })).json();
  const basic = 'Basic ' + Buffer.from(`${created.client.client_id}:${created.secret.client_secret}`).toString('base64');
  const form = 'application/x-www-form-urlencoded';
  const post = (path, body, auth) => ({
    path,
    lua: `wrk.method = "POST"\nwrk.body = ${JSON.stringify(body)}\nwrk.headers["Content-Type"] = "${form}"\n${auth ? `wrk.headers["Authorization"] = ${JSON.stringify(auth)}\n` : ''}`,
  });
  if (opt.case === 'trivial') return { path: '/healthz', lua: '' };
  if (opt.case === 'passthrough') return { path: '/open/item', lua: '', base: w.gatewayUrl, target: 'gateway' };
  if (opt.case === 'basic') return post('/oauth/token', 'grant_type=client_credentials&scope=read', basic);
  if (opt.case === 'introspect') {
    const t = await (await fetch(`${w.url}/oauth/token`, {
      method: 'POST', headers: { authorization: basic, 'content-type': form }, body: 'grant_type=client_credentials',
    })).json();
    return post('/oauth/introspect', `token=${t.access_token}`, basic);
  }
  // private_key_jwt: unique assertions, as in bench/issuer.mjs.
  const { SignJWT, exportJWK, generateKeyPair } = await import('jose');
  const kp = await generateKeyPair('EdDSA', { crv: 'Ed25519', extractable: true });
  const jwk = { ...(await exportJWK(kp.publicKey)), kid: 'p', alg: 'EdDSA', use: 'sig' };
  const c = await (await fetch(`${w.url}/admin/clients`, {
    method: 'POST', headers: json,
    body: JSON.stringify({ client_name: 'pk', lockout_enabled: false, token_endpoint_auth_method: 'private_key_jwt', jwks: { keys: [jwk] } }),
  })).json();
  const id = c.client.client_id;
  const now = Math.floor(Date.now() / 1000);
  // Enough that wrk never wraps around to a used assertion (a replay is a 401) at 4,000 req/s.
  const n = 4000 * (seconds + 3);
  const bodies = await Promise.all(Array.from({ length: n }, () => new SignJWT({ jti: crypto.randomUUID() })
    .setProtectedHeader({ alg: 'EdDSA', kid: 'p' }).setIssuer(id).setSubject(id).setAudience(`${w.url}/oauth/token`)
    .setIssuedAt(now).setExpirationTime(now + 240).sign(kp.privateKey)));
  const file = join(ROOT, 'bench', 'results', `profile-bodies-${process.pid}.txt`);
  writeFileSync(file, bodies.map((a) => `grant_type=client_credentials&client_assertion_type=urn%3Aietf%3Aparams%3Aoauth%3Aclient-assertion-type%3Ajwt-bearer&client_assertion=${a}`).join('\n') + '\n');
  return {
    path: '/oauth/token',
    bodiesFile: file,
    lua: `wrk.method = "POST"\nwrk.headers["Content-Type"] = "${form}"\nbodies = {}\nidx = 0\nfunction init(args) for l in io.lines(${JSON.stringify(file)}) do table.insert(bodies, l) end end\nfunction request() idx = idx % #bodies + 1\nreturn wrk.format(nil, nil, nil, bodies[idx]) end\n`,
  };
}

/**
 * Self time per function (µs): its share of the samples, times the profile's wall time.
 * Summing `timeDeltas` per sample instead gives a sample the whole gap before it (the sampler
 * falls behind under load: one sample per ~400 µs at a 100 µs interval), so whatever ran right
 * after a gap (idle, GC, a JSON.parse) looked several times larger than it was.
 */
function selfTimes(profile) {
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const wall = profile.timeDeltas.reduce((a, b) => a + b, 0);
  const each = profile.samples.length ? wall / profile.samples.length : 0;
  const self = new Map();
  for (const id of profile.samples) {
    const f = byId.get(id).callFrame;
    const key = `${f.functionName || '(anonymous)'}  ${f.url ? f.url.split('/').pop() : ''}${f.url ? `:${f.lineNumber + 1}` : ''}`;
    self.set(key, (self.get(key) ?? 0) + each);
  }
  return self;
}

mkdirSync(join(ROOT, 'bench', 'results'), { recursive: true });
const inspectorPort = await freePort();
// The Durable Objects' SQLite files on tmpfs, as bench/issuer.mjs keeps them (see STORAGE there).
const gateway = opt.case === 'passthrough'
  ? {
    hello: true,
    gateway: {
      vars: { ISSUER: 'https://issuer.bench.example', ROUTES: JSON.stringify([{ prefix: '/open', public: true, upstream: { service: 'UPSTREAM' } }]) },
      services: { UPSTREAM: 'hello' },
      healthPath: '/open/',
    },
  }
  : {};
const w = await startWorkerd({ inspectorPort, stateRoot: memoryStateRoot() ?? undefined, ...gateway });
const script = join(ROOT, 'bench', 'results', `profile-${process.pid}.lua`);
let c = {};
try {
  c = await fixture(w);
  writeFileSync(script, c.lua);
  const target = (await (await fetch(`http://127.0.0.1:${inspectorPort}/json/list`)).json()).find((t) => t.id === (c.target ?? 'main'));
  const ins = await inspector(target.webSocketDebuggerUrl);
  await ins.send('Profiler.enable');
  await ins.send('Profiler.setSamplingInterval', { interval: Number(opt['interval-us']) });
  const wrk = spawn('wrk', ['-t1', `-c${opt.connections}`, `-d${seconds + 3}s`, '--latency', '-s', script, `${c.base ?? w.url}${c.path}`], { stdio: ['ignore', 'pipe', 'inherit'] });
  let wrkOut = '';
  wrk.stdout.on('data', (d) => { wrkOut += d; });
  await sleep(2000); // warm-up, not profiled
  await ins.send('Profiler.start');
  await sleep(seconds * 1000);
  const { profile } = await ins.send('Profiler.stop');
  await new Promise((r) => wrk.on('exit', r));
  ins.close();
  const stamp = new Date().toISOString().replace(/[:.]/g, '-');
  const file = join(ROOT, 'bench', 'results', `profile-${opt.case}-${stamp}.cpuprofile`);
  writeFileSync(file, JSON.stringify(profile));

  const self = selfTimes(profile);
  const total = [...self.values()].reduce((a, b) => a + b, 0);
  const busy = total - (self.get('(idle)  ') ?? 0);
  const pct = (us, of) => `${((100 * us) / of).toFixed(1)}%`.padStart(6);
  const reqs = Number((wrkOut.match(/(\d+) requests in/) || [])[1] ?? 0);
  console.log(`profile of ${opt.case} (${c.path}), ${seconds} s sampled at ${opt['interval-us']} µs, wrk -t1 -c${opt.connections}`);
  console.log(wrkOut.split('\n').filter((l) => /Requests\/sec|Latency  |99%|Non-2xx/.test(l)).join('\n'));
  console.log(`samples: ${profile.samples.length}; busy ${(busy / 1000).toFixed(0)} ms of ${(total / 1000).toFixed(0)} ms; ~${reqs ? ((busy / reqs) * ((seconds + 3) / seconds)).toFixed(0) : '?'} µs busy per request (approx.)`);
  const groups = { wasm: 0, 'JS (build/index.js glue)': 0, 'GC': 0, 'runtime/other': 0, idle: 0 };
  for (const [k, us] of self) {
    if (k.startsWith('(idle)')) groups.idle += us;
    else if (k.startsWith('(garbage collector)')) groups.GC += us;
    else if (/wasm|\$/.test(k) && !/index\.js/.test(k)) groups.wasm += us;
    else if (/index\.js/.test(k)) groups['JS (build/index.js glue)'] += us;
    else groups['runtime/other'] += us;
  }
  console.log('share of busy time: ' + Object.entries(groups).filter(([k]) => k !== 'idle')
    .map(([k, us]) => `${k} ${pct(us, busy).trim()}`).join(', '));
  console.log(`\n${'self % busy'.padStart(11)}  ${'self ms'.padStart(8)}  function`);
  for (const [k, us] of [...self].filter(([k]) => !k.startsWith('(idle)')).sort((a, b) => b[1] - a[1]).slice(0, Number(opt.top))) {
    console.log(`${pct(us, busy).padStart(11)}  ${(us / 1000).toFixed(1).padStart(8)}  ${k}`);
  }
  console.log(`\nsaved ${file.replace(ROOT + '/', '')} (open in Chrome DevTools > Performance, or speedscope)`);
} finally {
  await w.stop();
  rmSync(script, { force: true });
  if (c.bodiesFile) rmSync(c.bodiesFile, { force: true });
}
