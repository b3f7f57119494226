// Cold start of the built issuer under PLAIN workerd, beside the JS hello-world's under the same
// conditions: every sample is a NEW workerd process (a fresh isolate, nothing compiled, nothing
// cached), and its very first request is the one measured.
//
//   node bench/coldstart.mjs [--samples 5] [--warm 20] [--build DIR]
//   (usually through `bash bench/coldstart.sh ...`, which builds first)
//
//   --samples N  processes per case (default 5)
//   --warm N     requests in a batch after the first, on the same connection (20)
//   --build DIR  the issuer's build folder (build/ by default)
//   EDGEAUTH_V8_FLAGS="..."  V8 flags for every process (edgeauth's and the JS ones), e.g.
//                "--no-wasm-lazy-compilation --no-liftoff" to see what tier-up costs a first request
//
// Four cases, each started fresh --samples times, in turn:
//   edgeauth GET /healthz        a process serving edgeauth (and the in-memory KV service it is
//                                bound to); its first request is the trivial route
//   JS GET /                     a process serving only the JS hello-world (bench/hello/); its
//                                first request is GET /
//   edgeauth POST /oauth/token   edgeauth's first request is a token request, client_secret_basic
//   JS POST /floor               the hello-world's first request is its token floor (read the
//                                body, generate an Ed25519 key, sign a token-sized payload)
//
// The client must exist before the token process starts, and creating it through the admin API
// would warm the isolate: so one setup process creates it, its KV is read out (dumpKv in
// tests/support/workerd.mjs) and the Durable Objects' SQLite files stay on disk (tmpfs, as
// bench/issuer.mjs keeps them); every edgeauth process then starts with that KV as a seed (filled
// in the KV service's global scope, before any request) on the same storage and settings.
//
// For each process, from spawn:
//   listening      wall time until a TCP connection to its socket is accepted (polled every
//                  2 ms, no HTTP sent: the isolate sees nothing); workerd compiles every module
//                  and runs every Worker's global scope (edgeauth's instantiates its wasm) before
//                  it listens, so this is process start + startup
//   startup CPU    workerd's CPU (user + system, all threads, /proc/<pid>/task/*/schedstat, ns)
//                  once it is listening and idle: the process's own start, the config, every
//                  Worker's modules and global scope
//   first request  wall time of the first request, sent on that connection: written to the last
//                  byte of the answer read (Node's own first-call costs are not in it: a raw socket)
//   first CPU      workerd's CPU over the first request: from idle before it to idle after the
//                  answer (so it includes work finished after the answer: V8's background
//                  tier-up compiles the request set off, a Durable Object's write)
//   ready          listening + the first request: spawn to the first 200 of GET /healthz (or /)
//   warm           then batches of --warm requests on the same connection, each idle to idle,
//                  until two in a row cost the same CPU per request (within 20%): the last one's
//                  median wall time and mean CPU. While the first batches run, V8 compiles the
//                  hot functions again with TurboFan (background threads);
//   until warm     the requests before that last batch, and the CPU they and the first took over
//                  as many warm requests: the cold isolate's cost after its startup
//
// Also: the wasm's size (raw, gzip -9), its compile time in Node (WebAssembly.compile in a fresh
// Node process: V8 as workerd's, an older version; default flags, then eager Liftoff, then eager
// TurboFan), and where startup stands against Cloudflare's limit on a Worker's startup (parse and
// run the global scope: 1 s since 2025-10-10, 400 ms before), estimated as edgeauth's startup
// CPU over the hello-world's (workerd's own start cancels out).
//
// Needs build/ (bash scripts/build.sh). Not a test: figures only. Results are also saved under
// bench/results/ (coldstart-*.txt and .json).
import { execFileSync, spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, writeFileSync, rmSync } from 'node:fs';
import { connect } from 'node:net';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join, relative, resolve, sep } from 'node:path';
import { parseArgs } from 'node:util';
import { gzipSync } from 'node:zlib';
import { ROOT, freePort, randomSecret, supervise, untilHealthy } from '../tests/support/worker.mjs';
import {
  WORKERD, dumpKv, memoryStateRoot, workerdConfig, wranglerSettings,
} from '../tests/support/workerd.mjs';
import { call, saveResults } from './wrk.mjs';

const { values: opt } = parseArgs({
  options: {
    samples: { type: 'string', default: '5' },
    warm: { type: 'string', default: '20' },
    build: { type: 'string' },
  },
});
const SAMPLES = Number(opt.samples);
const WARM = Number(opt.warm);
// Batches of --warm requests after the first, at most, while their CPU per request still falls.
const MAX_BATCHES = 25;
if (!(SAMPLES >= 1) || !(WARM >= 1) || !Number.isInteger(SAMPLES) || !Number.isInteger(WARM)) {
  console.error('coldstart: --samples and --warm are integers >= 1');
  process.exit(2);
}
const BUILD = opt.build ? resolve(opt.build) : join(ROOT, 'build');
const WASM = join(BUILD, 'index_bg.wasm');
if (!existsSync(join(BUILD, 'index.js')) || !existsSync(WASM)) {
  console.error(`coldstart: ${BUILD}/index.js or index_bg.wasm missing; run \`bash scripts/build.sh\` first`);
  process.exit(1);
}
const command = process.env.EDGEAUTH_BENCH_CMD || ['node', 'bench/coldstart.mjs', ...process.argv.slice(2)].join(' ');
// Cloudflare's limit on a Worker's startup (parse and run its global scope), documented at
// https://developers.cloudflare.com/workers/platform/limits/#worker-startup-time: 1 s since
// 2025-10-10 (https://developers.cloudflare.com/changelog/2025-10-10-increased-startup-time),
// 400 ms before.
const STARTUP_LIMIT_MS = 1000;
const STARTUP_LIMIT_BEFORE_MS = 400;
// EDGEAUTH_V8_FLAGS (as tests/support/workerd.mjs reads it for edgeauth's config) goes to every
// process here, the JS ones too, so that an experiment changes both sides alike.
const V8_FLAGS = (process.env.EDGEAUTH_V8_FLAGS ?? '').split(/\s+/).filter(Boolean);

const lines = [];
const out = (s = '') => { console.log(s); lines.push(s); };
const log = (s) => console.error(`coldstart: ${s}`);
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const loadAtStart = loadavg().map((x) => x.toFixed(2)).join(' ');
const str = (s) => JSON.stringify(String(s));

/** workerd's CPU so far in ms: user + system of every thread, in ns (schedstat's first field). */
function cpuMs(pid) {
  let ns = 0;
  for (const t of readdirSync(`/proc/${pid}/task`)) {
    try { ns += Number(readFileSync(`/proc/${pid}/task/${t}/schedstat`, 'utf8').split(' ')[0]); } catch { /* thread gone */ }
  }
  return ns / 1e6;
}

/**
 * Waits until the process has used (almost) no CPU for a while: `quietMs` of wall time with
 * less than 0.2 ms of CPU. Answers its CPU then (ms).
 */
async function idleCpu(pid, quietMs = 60, maxMs = 5000) {
  const deadline = Date.now() + maxMs;
  let last = cpuMs(pid);
  for (;;) {
    await sleep(quietMs);
    const now = cpuMs(pid);
    if (now - last < 0.2 || Date.now() > deadline) return now;
    last = now;
  }
}

/**
 * One JS Worker alone, as tests/support/workerd.mjs configures the hello-world: `kind` "js" is
 * bench/hello/, "compile" bench/compile/ with the wasm as its data module, under `v8Flags`.
 */
function jsConfig(kind, configDir, port, v8Flags = []) {
  const rel = (abs) => str(relative(configDir, abs).split(sep).join('/'));
  const modules = kind === 'compile'
    ? [
      `(name = "worker.mjs", esModule = embed ${rel(join(ROOT, 'bench', 'compile', 'worker.mjs'))})`,
      `(name = "wasm.wasm", wasm = embed ${rel(WASM)})`,
    ]
    : [`(name = "worker.mjs", esModule = embed ${rel(join(ROOT, 'bench', 'hello', 'worker.mjs'))})`];
  const flags = v8Flags.length ? `\n  v8Flags = [${v8Flags.map(str).join(', ')}],` : '';
  return `# written by bench/coldstart.mjs
using Workerd = import "/workerd/workerd.capnp";

const config :Workerd.Config = (
  services = [(name = "js", worker = .jsWorker)],
  sockets = [(name = "http", address = ${str(`127.0.0.1:${port}`)}, http = (), service = "js")],${flags}
);

const jsWorker :Workerd.Worker = (
  modules = [${modules.join(', ')}],
  compatibilityDate = ${str(wranglerSettings().compatibilityDate)},
);
`;
}

/**
 * A raw HTTP/1.1 client on one socket: `send(bytes)` answers { status, ms } once the whole
 * answer (Content-Length or chunked) is read, ms from the write to its last byte.
 */
function rawClient(socket) {
  let buf = Buffer.alloc(0);
  let waiting = null;
  const tryParse = () => {
    if (!waiting) return;
    const end = buf.indexOf('\r\n\r\n');
    if (end < 0) return;
    const head = buf.subarray(0, end).toString('latin1');
    const status = Number(head.split(' ')[1]);
    const length = head.match(/\r\ncontent-length:\s*(\d+)/i);
    let total;
    if (length) {
      total = end + 4 + Number(length[1]);
      if (buf.length < total) return;
    } else if (/\r\ntransfer-encoding:\s*chunked/i.test(head)) {
      const last = buf.indexOf('\r\n0\r\n\r\n', end);
      if (last < 0) return;
      total = last + 7;
    } else {
      return; // no framing: this client does not expect that
    }
    const ms = performance.now() - waiting.t0;
    const body = buf.subarray(end + 4, total).toString('utf8');
    buf = buf.subarray(total);
    const w = waiting;
    waiting = null;
    w.resolve({ status, ms, body });
  };
  socket.on('data', (d) => { buf = Buffer.concat([buf, d]); tryParse(); });
  socket.on('error', (e) => { waiting?.reject(e); waiting = null; });
  socket.on('close', () => { waiting?.reject(new Error('connection closed before the answer')); waiting = null; });
  return {
    send(bytes) {
      return new Promise((res, rej) => {
        waiting = { resolve: res, reject: rej, t0: performance.now() };
        socket.write(bytes);
      });
    },
  };
}

/** Connects to 127.0.0.1:port every 2 ms until accepted; answers the socket. */
async function connectWhenListening(port, exited, deadline) {
  for (;;) {
    if (exited()) throw new Error(`workerd exited (${JSON.stringify(exited())}) before it listened`);
    const socket = await new Promise((res) => {
      const s = connect({ host: '127.0.0.1', port, noDelay: true });
      s.once('connect', () => { s.removeAllListeners('error'); res(s); });
      s.once('error', () => { s.destroy(); res(null); });
    });
    if (socket) return socket;
    if (Date.now() > deadline) throw new Error(`nothing listened on ${port} in time`);
    await sleep(2);
  }
}

function httpRequest(method, path, port, headers = {}, body = '') {
  const head = [`${method} ${path} HTTP/1.1`, `Host: 127.0.0.1:${port}`];
  for (const [k, v] of Object.entries(headers)) head.push(`${k}: ${v}`);
  if (method !== 'GET') head.push(`Content-Length: ${Buffer.byteLength(body)}`);
  return Buffer.from(`${head.join('\r\n')}\r\n\r\n${body}`);
}

const median = (xs) => {
  const v = [...xs].sort((a, b) => a - b);
  const m = v.length >> 1;
  return v.length % 2 ? v[m] : (v[m - 1] + v[m]) / 2;
};

// ---- the state every edgeauth process starts from ---------------------------------------------
const stateRoot = memoryStateRoot() ?? tmpdir();
const stateDir = mkdtempSync(join(stateRoot, 'edgeauth-cold-'));
mkdirSync(join(stateDir, 'do'));
const vars = { ADMIN_TOKEN: randomSecret(), SECRET_PEPPER: randomSecret(), SIGNING_KEY_SEED: randomSecret() };
const kvSeed = join(stateDir, 'kv-seed.json');
const form = 'application/x-www-form-urlencoded';
const tokenBody = 'grant_type=client_credentials&scope=read';
const children = new Set();

/**
 * Starts workerd on a config of its own (`kind`: "edgeauth", "js" or "compile"); answers
 * { pid, port, t0, exited, stop } right after the spawn. Its config folder goes with stop().
 */
async function launch(kind, { kvPort, v8Flags } = {}) {
  const configDir = mkdtempSync(join(stateDir, 'run-'));
  const port = await freePort();
  let kvAt = null;
  const text = kind !== 'edgeauth'
    ? jsConfig(kind, configDir, port, [...V8_FLAGS, ...(v8Flags ?? [])])
    : workerdConfig({
      configDir, stateDir, port, vars, buildDir: BUILD, kvPort,
      kvSeed: existsSync(kvSeed) ? kvSeed : undefined,
    });
  if (kvPort) kvAt = `http://127.0.0.1:${kvPort}`;
  const config = join(configDir, 'config.capnp');
  writeFileSync(config, text);
  const t0 = performance.now();
  const child = spawn(WORKERD, ['serve', config], { cwd: configDir, detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
  const { stop, exited, output } = supervise(child, configDir);
  children.add(stop);
  return { pid: child.pid, port, t0, exited, output, kvAt, stop: async () => { await stop(); children.delete(stop); } };
}

/** One sample: a fresh process, its first request `first` and `warm` more of them. */
async function sample(kind, first) {
  const p = await launch(kind);
  try {
    const socket = await connectWhenListening(p.port, p.exited, Date.now() + 30_000);
    const listenMs = performance.now() - p.t0;
    const startupCpu = await idleCpu(p.pid);
    const client = rawClient(socket);
    const bytes = httpRequest(first.method, first.path, p.port, first.headers, first.body);
    const r = await client.send(bytes);
    const atAnswer = cpuMs(p.pid);
    const settled = await idleCpu(p.pid);
    if (r.status !== 200) throw new Error(`${kind} ${first.method} ${first.path}: first answer ${r.status} ${r.body}\n${p.output()}`);
    // Batches of --warm requests, each idle to idle, until two in a row cost the same CPU per
    // request within 20%: while the first ones run, V8 compiles the hot functions again with
    // TurboFan (background threads), a cost the later ones no longer carry.
    let sent = 1;
    const batches = [];
    let before = settled;
    for (;;) {
      const ms = [];
      for (let i = 0; i < WARM; i++) {
        const w = await client.send(bytes);
        sent++;
        if (w.status !== 200) throw new Error(`${kind} ${first.method} ${first.path}: answer ${sent} was ${w.status} ${w.body}`);
        ms.push(w.ms);
      }
      const after = await idleCpu(p.pid);
      batches.push({ cpu_ms: after - before, ms });
      before = after;
      const [a, b] = batches.slice(-2).map((x) => x.cpu_ms);
      if ((batches.length >= 2 && Math.abs(a - b) <= 0.2 * Math.min(a, b)) || batches.length >= MAX_BATCHES) break;
    }
    socket.destroy();
    const last = batches[batches.length - 1];
    const warmCpu = last.cpu_ms;
    return {
      listen_ms: listenMs,
      startup_cpu_ms: startupCpu,
      first_ms: r.ms,
      ready_ms: listenMs + r.ms,
      first_cpu_ms: settled - startupCpu,
      first_cpu_at_answer_ms: atAnswer - startupCpu,
      warm_ms: median(last.ms),
      warm_cpu_us: (warmCpu * 1000) / WARM,
      // What the isolate cost over warm requests until it was warm: the first request's and the
      // batches' CPU beyond as many warm requests.
      requests_until_warm: 1 + WARM * (batches.length - 1),
      extra_cpu_until_warm_ms: (settled - startupCpu) + batches.slice(0, -1).reduce((n, x) => n + x.cpu_ms, 0)
        - (1 + WARM * (batches.length - 1)) * (warmCpu / WARM),
      batches_cpu_ms: batches.map((x) => x.cpu_ms),
    };
  } finally {
    await p.stop();
  }
}

/**
 * A fresh process of `kind` ("js" or "compile", under `v8Flags`) until it listens and is idle:
 * { listen_ms, startup_cpu_ms }. Its one request (GET /) only checks that it serves.
 */
async function startupSample(kind, v8Flags) {
  const p = await launch(kind, { v8Flags });
  try {
    const socket = await connectWhenListening(p.port, p.exited, Date.now() + 30_000);
    const listenMs = performance.now() - p.t0;
    const cpu = await idleCpu(p.pid);
    const r = await rawClient(socket).send(httpRequest('GET', '/', p.port));
    if (r.status !== 200) throw new Error(`${kind} GET /: ${r.status} ${r.body}\n${p.output()}`);
    socket.destroy();
    return { listen_ms: listenMs, startup_cpu_ms: cpu };
  } finally {
    await p.stop();
  }
}

/** WebAssembly.compile of the wasm in a fresh Node process: ms, or why Node cannot. */
function nodeCompile() {
  const script = `const b=require('fs').readFileSync(${JSON.stringify(WASM)});const t=performance.now();`
    + 'WebAssembly.compile(b).then(()=>console.log(performance.now()-t),(e)=>{console.log("ERR "+e.message);});';
  const text = execFileSync(process.execPath, ['-e', script]).toString().trim();
  return text.startsWith('ERR ') ? { error: text.slice(4) } : { ms: Number(text) };
}

// The compile's variants: V8's default (lazy: the module is decoded and validated, each
// function compiled on its first call, by Liftoff, hot ones later by TurboFan), and every
// function compiled up front, by Liftoff or by TurboFan.
const COMPILE_FLAGS = {
  default: [],
  eager_liftoff: ['--no-wasm-lazy-compilation'],
  eager_turbofan: ['--no-wasm-lazy-compilation', '--no-liftoff'],
};

let exitCode = 0;
try {
  // ---- setup: the client, in a process of its own ----------------------------------------------
  const kvPort = await freePort();
  const setup = await launch('edgeauth', { kvPort });
  let basicAuth;
  try {
    const url = `http://127.0.0.1:${setup.port}`;
    await untilHealthy(`${url}/healthz`, Date.now() + 30_000, { stop: setup.stop, exited: setup.exited, output: setup.output }, 50);
    const created = await call(`${url}/admin/clients`, {
      method: 'POST',
      headers: { authorization: `Bearer ${vars.ADMIN_TOKEN}`, 'content-type': 'application/json' },
      body: JSON.stringify({ client_name: 'coldstart', scope: 'read', lockout_enabled: false }),
    });
    if (created.status !== 201) throw new Error(`create client: ${created.status} ${created.text}`);
    const { client, secret } = created.json;
    basicAuth = 'Basic ' + Buffer.from(`${client.client_id}:${secret.client_secret}`).toString('base64');
    const issued = await call(`${url}/oauth/token`, {
      method: 'POST', headers: { authorization: basicAuth, 'content-type': form }, body: tokenBody,
    });
    if (issued.status !== 200) throw new Error(`token request in the setup process: ${issued.status} ${issued.text}`);
    const entries = await dumpKv(setup.kvAt);
    writeFileSync(kvSeed, JSON.stringify(entries));
    log(`setup: client ${client.client_id} created, ${entries.length} KV entries carried over`);
  } finally {
    await setup.stop();
  }

  // ---- the samples ---------------------------------------------------------------------------------
  const cases = [
    { key: 'edgeauth_healthz', kind: 'edgeauth', name: 'edgeauth GET /healthz', first: { method: 'GET', path: '/healthz' } },
    { key: 'js_get', kind: 'js', name: 'JS hello-world GET /', first: { method: 'GET', path: '/' } },
    {
      key: 'edgeauth_token', kind: 'edgeauth', name: 'edgeauth POST /oauth/token (Basic)',
      first: { method: 'POST', path: '/oauth/token', headers: { Authorization: basicAuth, 'Content-Type': form }, body: tokenBody },
    },
    {
      key: 'js_floor', kind: 'js', name: 'JS floor POST /floor',
      first: { method: 'POST', path: '/floor', headers: { 'Content-Type': form }, body: tokenBody },
    },
  ];
  const results = Object.fromEntries(cases.map((c) => [c.key, []]));
  for (let i = 0; i < SAMPLES; i++) {
    // Every other sample the other way round, so a drift of the machine's load falls on both.
    for (const c of i % 2 ? [...cases].reverse() : cases) {
      log(`sample ${i + 1}/${SAMPLES}: ${c.name}`);
      results[c.key].push(await sample(c.kind, c.first));
    }
  }
  // The compile: a process with the module and one without, under the same flags, in turn.
  const compile = { node: nodeCompile() };
  for (const [key, flags] of Object.entries(COMPILE_FLAGS)) {
    compile[key] = { with: [], without: [] };
    for (let i = 0; i < SAMPLES; i++) {
      log(`sample ${i + 1}/${SAMPLES}: wasm compile in workerd, ${key}`);
      compile[key].with.push(await startupSample('compile', flags));
      compile[key].without.push(await startupSample('js', flags));
    }
  }
  report(cases, results, compile);
} catch (e) {
  console.error('coldstart failed:', e);
  exitCode = 1;
} finally {
  for (const stop of children) await stop();
  rmSync(stateDir, { recursive: true, force: true });
}
process.exit(exitCode);

// ---- report -------------------------------------------------------------------------------------
function report(cases, results, compile) {
  const workerd = JSON.parse(readFileSync(join(ROOT, 'node_modules', 'workerd', 'package.json'), 'utf8')).version;
  const f1 = (x) => x.toFixed(1);
  const spread = (xs, d = 1) => {
    const lo = Math.min(...xs); const hi = Math.max(...xs);
    return `${median(xs).toFixed(d)} (${lo.toFixed(d)}-${hi.toFixed(d)})`;
  };
  out(`edgeauth cold start  ${new Date().toISOString()}`);
  out(`command: ${command}`);
  out(`runtime: plain workerd ${workerd}, a new process per sample (edgeauth with its KV service; the JS hello-world alone)`);
  out(`Durable Object storage: SQLite files on ${stateRoot === tmpdir() ? 'disk' : 'tmpfs'} (${stateRoot}), the setup process's, reused`);
  out(`machine: ${cpus().length} x ${cpus()[0]?.model ?? '?'}; load average at start ${loadAtStart}`);
  out(`samples: ${SAMPLES} processes per case; after the first request, batches of ${WARM} on the same connection until one costs as the one before`);
  out(`V8 flags (EDGEAUTH_V8_FLAGS): ${V8_FLAGS.join(' ') || '(none: V8\'s defaults)'}`);
  out('');
  const head = ['listen ms', 'startup CPU ms', 'first ms', 'first CPU ms', 'ready ms', 'warm ms', 'warm CPU µs', 'until warm', 'extra CPU ms'];
  out(`${'case: median (min-max)'.padEnd(36)} ${head.map((h) => h.padStart(20)).join('')}`);
  for (const c of cases) {
    const xs = results[c.key];
    const col = (k, d) => spread(xs.map((x) => x[k]), d);
    const cells = [
      col('listen_ms'), col('startup_cpu_ms'), col('first_ms'), col('first_cpu_ms'), col('ready_ms'),
      col('warm_ms', 2), col('warm_cpu_us', 0), col('requests_until_warm', 0), col('extra_cpu_until_warm_ms'),
    ];
    out(`${c.name.padEnd(36)} ${cells.map((x) => x.padStart(20)).join('')}`);
  }
  out('');
  out('listen: spawn to the first TCP connection accepted (workerd listens once every module is compiled and every global scope has run).');
  out('startup CPU: workerd\'s CPU (user + system, all threads) when listening and idle: the process\'s start, its config, the Workers\' modules and global scopes.');
  out('first: the first HTTP request of the process, on that connection (write to last byte); first CPU: workerd\'s CPU from idle before it to idle after it,');
  out('  so with what it set off past the answer (background tier-up compiles, storage writes). ready: listen + first, spawn to the first 200.');
  out(`warm: after the first, batches of ${WARM} until two in a row cost the same CPU (within 20%); the last one's median wall and mean CPU per request.`);
  out('until warm: the requests before that batch (the first included); extra CPU: what they cost over as many warm ones (first-call work, TurboFan tier-up).');
  const m = (key, k) => median(results[key].map((x) => x[k]));
  const eaStartup = median([...results.edgeauth_healthz, ...results.edgeauth_token].map((x) => x.startup_cpu_ms));
  const jsStartup = median([...results.js_get, ...results.js_floor].map((x) => x.startup_cpu_ms));
  const eaListen = median([...results.edgeauth_healthz, ...results.edgeauth_token].map((x) => x.listen_ms));
  const jsListen = median([...results.js_get, ...results.js_floor].map((x) => x.listen_ms));
  out('');
  out(`first token request: ${f1(m('edgeauth_token', 'first_ms'))} ms and ${f1(m('edgeauth_token', 'first_cpu_ms'))} ms of CPU, `
    + `the JS floor's first ${f1(m('js_floor', 'first_ms'))} ms and ${f1(m('js_floor', 'first_cpu_ms'))} ms `
    + `(${(m('edgeauth_token', 'first_ms') / m('js_floor', 'first_ms')).toFixed(1)}x wall, ${(m('edgeauth_token', 'first_cpu_ms') / m('js_floor', 'first_cpu_ms')).toFixed(1)}x CPU); `
    + `warm: ${m('edgeauth_token', 'warm_ms').toFixed(2)} against ${m('js_floor', 'warm_ms').toFixed(2)} ms`);
  out(`a new isolate, token requests: startup ${f1(m('edgeauth_token', 'startup_cpu_ms') - m('js_floor', 'startup_cpu_ms'))} ms of CPU over the JS floor's process, `
    + `then ${f1(m('edgeauth_token', 'extra_cpu_until_warm_ms'))} ms over warm requests in its first ${m('edgeauth_token', 'requests_until_warm').toFixed(0)} `
    + `(the JS floor: ${f1(m('js_floor', 'extra_cpu_until_warm_ms'))} ms in ${m('js_floor', 'requests_until_warm').toFixed(0)}); warm, ${m('edgeauth_token', 'warm_cpu_us').toFixed(0)} µs a request against ${m('js_floor', 'warm_cpu_us').toFixed(0)}`);
  out(`first GET /healthz: ${f1(m('edgeauth_healthz', 'first_ms'))} ms, ${f1(m('edgeauth_healthz', 'first_cpu_ms'))} ms of CPU; the JS hello-world's first GET /: `
    + `${f1(m('js_get', 'first_ms'))} ms, ${f1(m('js_get', 'first_cpu_ms'))} ms of CPU`);
  out(`spawn to the first 200: edgeauth GET /healthz ${f1(m('edgeauth_healthz', 'ready_ms'))} ms, JS hello-world GET / ${f1(m('js_get', 'ready_ms'))} ms (both with workerd's own process start)`);
  const ours = eaStartup - jsStartup;
  out(`startup: edgeauth's process ${f1(eaStartup)} ms of CPU and ${f1(eaListen)} ms to listen, the JS hello-world's ${f1(jsStartup)} ms and ${f1(jsListen)} ms (medians of ${2 * SAMPLES} processes each)`);
  out(`Cloudflare's startup limit (a Worker's global scope parsed and run: ${STARTUP_LIMIT_MS} ms since 2025-10-10, ${STARTUP_LIMIT_BEFORE_MS} ms before): `
    + `edgeauth's startup over the hello-world's is ${f1(ours)} ms of CPU here, ${(100 * ours / STARTUP_LIMIT_MS).toFixed(1)}% of ${STARTUP_LIMIT_MS} ms `
    + `(${(100 * ours / STARTUP_LIMIT_BEFORE_MS).toFixed(1)}% of ${STARTUP_LIMIT_BEFORE_MS} ms); an estimate on this machine: it holds the wasm's compile and `
    + 'instantiation, the glue\'s global scope and the KV emulator\'s, not what Cloudflare\'s own measure counts at upload');
  const raw = readFileSync(WASM);
  let gz;
  try { gz = `${execFileSync('gzip', ['-9', '-c', WASM], { maxBuffer: 1 << 26 }).length} bytes gzipped (gzip -9)`; }
  catch { gz = `${gzipSync(raw, { level: 9 }).length} bytes gzipped (Node's zlib, level 9)`; }
  out(`wasm: ${relative(ROOT, WASM)}: ${raw.length} bytes, ${gz}; ${relative(ROOT, join(BUILD, 'index.js'))}: ${readFileSync(join(BUILD, 'index.js')).length} bytes`);
  const cm = ({ with: a, without: b }) => {
    const d = (k) => median(a.map((x) => x[k])) - median(b.map((x) => x[k]));
    return `${f1(d('startup_cpu_ms'))} ms of CPU, ${f1(d('listen_ms'))} ms later listening `
      + `(startup CPU ${spread(a.map((x) => x.startup_cpu_ms))} with it, ${spread(b.map((x) => x.startup_cpu_ms))} without)`;
  };
  out(`wasm compile in workerd (bench/compile/: a fresh process whose Worker imports the module, over one without it, same flags; medians of ${SAMPLES}):`);
  out(`  V8's default (lazy: decode and validate; each function compiled on its first call): ${cm(compile.default)}`);
  out(`  --no-wasm-lazy-compilation (every function by Liftoff up front): ${cm(compile.eager_liftoff)}`);
  out(`  --no-wasm-lazy-compilation --no-liftoff (every function by TurboFan up front): ${cm(compile.eager_turbofan)}`);
  out(compile.node.error
    ? `wasm compile in Node ${process.version} (V8 ${process.versions.v8}): not possible, this V8 lacks proposals the module uses (typed references, exception handling) that workerd's has: ${compile.node.error}`
    : `wasm compile in Node ${process.version} (V8 ${process.versions.v8}, not workerd's; WebAssembly.compile, default flags): ${f1(compile.node.ms)} ms`);

  const saved = saveResults('coldstart', lines, {
    command,
    options: opt,
    runtime: `workerd ${workerd}`,
    loadavg_at_start: loadAtStart,
    cases: cases.map((c) => ({ key: c.key, name: c.name, samples: results[c.key] })),
    startup_over_hello_cpu_ms: ours,
    startup_limit_ms: STARTUP_LIMIT_MS,
    wasm_bytes: raw.length,
    wasm_gzip: gz,
    compile: { ...compile, node_version: process.version, node_v8: process.versions.v8 },
  });
  out(`saved ${saved}`);
}
