// Runs the prebuilt Worker (build/) under PLAIN workerd (node_modules/.bin/workerd, shipped with
// wrangler): no wrangler dev, no Miniflare, so what is measured or observed is the runtime and
// the Worker alone. Shared by the benchmark (bench/) and the end-to-end tests that need a
// runtime without a buffering proxy in front (tests/e2e/workerd.test.mjs).
//
//   const w = await startWorkerd({ hello: true });   // w.url, w.helloUrl, w.adminToken
//   ...
//   await w.stop();
//
// One workerd process serves: the Worker ("main", with KV, the SQLite-backed Durable Object and
// the settings as text bindings), an in-memory KV service (tests/support/workerd-kv.mjs), and
// with `hello` a JS hello-world Worker (bench/hello/worker.mjs) on a second port, the runtime's
// own cost measured beside ours. With `gateway` it also serves the gateway Worker
// (crates/gateway/build/) on a third port, its ISSUER_SERVICE bound to "main" and its other
// service bindings to Workers of the same process (the hello-world as a local upstream, say),
// so a request through it never leaves workerd. Static assets ([assets], www/) are not served: every path
// reaches the Worker, which is what the benchmark and the tests address.
import { spawn } from 'node:child_process';
import {
  accessSync, constants, existsSync, mkdirSync, readFileSync, readdirSync, writeFileSync,
} from 'node:fs';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join, relative, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ROOT, freePort, randomSecret, supervise, untilHealthy } from './worker.mjs';

const HERE = dirname(fileURLToPath(import.meta.url));
export const WORKERD = join(ROOT, 'node_modules', '.bin', 'workerd');

/**
 * V8 flags for diagnosis, from EDGEAUTH_V8_FLAGS (e.g. "--trace-gc"). With any set, workerd runs
 * under `stdbuf -oL`: V8 prints to a block-buffered stdout, which would hold its lines back.
 */
const V8_FLAGS = (process.env.EDGEAUTH_V8_FLAGS ?? '').split(/\s+/).filter(Boolean);

/** Where the benchmarks keep workerd's state (tmpfs, see bench/issuer.mjs), or null if not writable. */
export const MEMORY_ROOT = '/dev/shm';
export function memoryStateRoot() {
  try { accessSync(MEMORY_ROOT, constants.W_OK); return MEMORY_ROOT; } catch { return null; }
}

/** A capnp string literal (JSON's escapes are capnp's for what we write). */
const str = (s) => JSON.stringify(String(s));

/** Bindings and settings the config needs, read from wrangler.toml (the subset it uses). */
export function wranglerSettings(file = join(ROOT, 'wrangler.toml')) {
  const text = readFileSync(file, 'utf8');
  const one = (block, key) => block.match(new RegExp(`^${key}\\s*=\\s*"([^"]*)"`, 'm'))?.[1];
  const blocks = (name) => text.split(/^\[\[/m).slice(1).filter((b) => b.startsWith(`${name}]]`));
  const services = blocks('services').map((b) => ({ binding: one(b, 'binding'), service: one(b, 'service') }));
  const flags = text.match(/^compatibility_flags\s*=\s*\[([^\]]*)\]/m)?.[1]
    ?.split(',').map((s) => s.trim().replace(/^"|"$/g, '')).filter(Boolean) ?? [];
  const sqlite = text.match(/new_sqlite_classes\s*=\s*\[([^\]]*)\]/)?.[1] ?? '';
  return {
    name: one(text, 'name'),
    main: one(text, 'main') ?? 'build/index.js',
    services,
    compatibilityDate: one(text, 'compatibility_date') ?? '2025-01-01',
    compatibilityFlags: flags,
    kv: blocks('kv_namespaces').map((b) => one(b, 'binding')),
    durableObjects: blocks('durable_objects.bindings').map((b) => ({
      name: one(b, 'name'),
      className: one(b, 'class_name'),
      sql: sqlite.includes(`"${one(b, 'class_name')}"`),
    })),
  };
}

/** Module type for a file of the build, as wrangler's default rules; null for non-modules. */
function moduleType(name) {
  if (/\.m?js$/.test(name)) return 'esModule';
  if (/\.wasm$/.test(name)) return 'wasm';
  return null;
}

function walk(dir, base = dir, acc = []) {
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (e.isDirectory()) walk(p, base, acc);
    else acc.push(relative(base, p).split(sep).join('/'));
  }
  return acc;
}

/** The `modules` entries of a build folder, main module first, as capnp `embed`s. */
function buildModules(buildDir, mainName, rel) {
  // The others keep their names relative to the build folder, so that the glue's
  // `import "./index_bg.wasm"` resolves.
  const files = walk(buildDir).filter((f) => moduleType(f) && f !== mainName).sort();
  return [mainName, ...files]
    .map((f) => `(name = ${str(f)}, ${moduleType(f)} = embed ${rel(join(buildDir, f))})`);
}

export const GATEWAY_DIR = join(ROOT, 'crates', 'gateway');

/**
 * The gateway Worker's definition: its wrangler.toml's bindings, the one to the issuer (by its
 * name) made to "main", and `services` ({ BINDING: "service name in this config" }) added.
 */
function gatewayWorker({ issuerName, vars, services = {}, rel }) {
  const g = wranglerSettings(join(GATEWAY_DIR, 'wrangler.toml'));
  const buildDir = join(GATEWAY_DIR, dirname(g.main));
  const bound = { ...Object.fromEntries(g.services.map((b) => [b.binding, b.service === issuerName ? 'main' : b.service])), ...services };
  const bindings = [
    ...Object.entries(vars).map(([k, v]) => `(name = ${str(k)}, text = ${str(v)})`),
    ...Object.entries(bound).map(([k, v]) => `(name = ${str(k)}, service = ${str(v)})`),
  ];
  return `
const gatewayWorker :Workerd.Worker = (
  modules = [
    ${buildModules(buildDir, relative(buildDir, join(GATEWAY_DIR, g.main)), rel).join(',\n    ')}
  ],
  compatibilityDate = ${str(g.compatibilityDate)},
  compatibilityFlags = [${g.compatibilityFlags.map(str).join(', ')}],
  bindings = [
    ${bindings.join(',\n    ')}
  ],
);
`;
}

/**
 * The capnp config text. `configDir` is where it will be written: capnp `embed` takes paths
 * relative to the config file only.
 */
export function workerdConfig({
  configDir, stateDir, port, helloPort, gatewayPort, gateway, vars, buildDir = join(ROOT, 'build'),
  localOutbound = false, js = [], kvSeed, kvPort, cfBlobHeader,
}) {
  const s = wranglerSettings();
  const rel = (abs) => str(relative(configDir, abs).split(sep).join('/'));
  const mainName = relative(join(ROOT, dirname(s.main)), join(ROOT, s.main)).split(sep).join('/');
  const modules = buildModules(buildDir, mainName, rel);
  const bindings = Object.entries(vars).map(([k, v]) => `(name = ${str(k)}, text = ${str(v)})`);
  for (const name of s.kv) bindings.push(`(name = ${str(name)}, kvNamespace = (name = "kv"))`);
  for (const d of s.durableObjects) bindings.push(`(name = ${str(d.name)}, durableObjectNamespace = ${str(d.className)})`);
  // SQLite-backed classes need localDisk storage: inMemory has no SQL API.
  const namespaces = s.durableObjects
    .map((d) => `(className = ${str(d.className)}, uniqueKey = ${str(`edgeauth-${d.className}`)}, enableSql = ${d.sql})`);
  const services = [
    '(name = "main", worker = .mainWorker)',
    '(name = "kv", worker = .kvWorker)',
    `(name = "do-disk", disk = (path = ${str(join(stateDir, 'do'))}, writable = true))`,
  ];
  // workerd's default outbound reaches public addresses only: a key host on this machine (the
  // bench's federated issuer) needs loopback too.
  let outbound = '';
  if (localOutbound) {
    services.push('(name = "loopback", network = (allow = ["public", "local"]))');
    outbound = '\n  globalOutbound = "loopback",';
  }
  // `cfBlobHeader` names a request header whose JSON workerd turns into `request.cf`: how a test hands the Worker what Cloudflare's edge would, a client certificate's
  // `tlsClientAuth` say. For tests only: in production the edge makes `request.cf`.
  const http = cfBlobHeader ? `(cfBlobHeader = ${str(cfBlobHeader)})` : '()';
  const sockets = [`(name = "http", address = ${str(`127.0.0.1:${port}`)}, http = ${http}, service = "main")`];
  let hello = '';
  if (helloPort) {
    services.push('(name = "hello", worker = .helloWorker)');
    sockets.push(`(name = "hello", address = ${str(`127.0.0.1:${helloPort}`)}, http = (), service = "hello")`);
    hello = `
const helloWorker :Workerd.Worker = (
  modules = [(name = "worker.mjs", esModule = embed ${rel(join(ROOT, 'bench', 'hello', 'worker.mjs'))})],
  compatibilityDate = ${str(s.compatibilityDate)},
  bindings = [(name = "JTI_GUARD", durableObjectNamespace = "JtiGuard")],
  durableObjectNamespaces = [(className = "JtiGuard", uniqueKey = "bench-hello-JtiGuard", enableSql = true)],
  durableObjectStorage = (localDisk = "do-disk"),
);
`;
  }
  // More JS Workers (bench/forwarder/, say), each on its own port, their service bindings to
  // services of this config.
  const jsText = js.map(({ name, module, port: jsPort, services: bound = {} }, i) => {
    services.push(`(name = ${str(name)}, worker = .jsWorker${i})`);
    sockets.push(`(name = ${str(name)}, address = ${str(`127.0.0.1:${jsPort}`)}, http = (), service = ${str(name)})`);
    const b = Object.entries(bound).map(([k, v]) => `(name = ${str(k)}, service = ${str(v)})`);
    return `
const jsWorker${i} :Workerd.Worker = (
  modules = [(name = "worker.mjs", esModule = embed ${rel(module)})],
  compatibilityDate = ${str(s.compatibilityDate)},
  bindings = [${b.join(', ')}],
);
`;
  }).join('');
  // The KV service: empty, or filled from `kvSeed` (a JSON file of dumpKv's entries) at start;
  // `kvPort` serves it on a socket too, for dumpKv.
  const kvModules = kvSeed
    ? [
      `(name = "workerd-kv-seeded.mjs", esModule = embed ${rel(join(HERE, 'workerd-kv-seeded.mjs'))})`,
      `(name = "workerd-kv.mjs", esModule = embed ${rel(join(HERE, 'workerd-kv.mjs'))})`,
      `(name = "seed.json", json = embed ${rel(kvSeed)})`,
    ]
    : [`(name = "workerd-kv.mjs", esModule = embed ${rel(join(HERE, 'workerd-kv.mjs'))})`];
  if (kvPort) sockets.push(`(name = "kv", address = ${str(`127.0.0.1:${kvPort}`)}, http = (), service = "kv")`);
  let gatewayText = '';
  if (gatewayPort) {
    services.push('(name = "gateway", worker = .gatewayWorker)');
    // `gateway.cfBlobHeader` names a request header whose JSON workerd turns into the gateway's
    // `request.cf` (a client certificate's `tlsClientAuth`): for tests only, as Cloudflare's
    // edge makes `request.cf` in production.
    const gatewayHttp = gateway.cfBlobHeader ? `(cfBlobHeader = ${str(gateway.cfBlobHeader)})` : '()';
    sockets.push(`(name = "gateway", address = ${str(`127.0.0.1:${gatewayPort}`)}, http = ${gatewayHttp}, service = "gateway")`);
    gatewayText = gatewayWorker({ issuerName: s.name, rel, ...gateway });
  }
  const v8Flags = V8_FLAGS.length ? `\n  v8Flags = [${V8_FLAGS.map(str).join(', ')}],` : '';
  return `# written by tests/support/workerd.mjs
using Workerd = import "/workerd/workerd.capnp";

const config :Workerd.Config = (
  services = [
    ${services.join(',\n    ')}
  ],
  sockets = [
    ${sockets.join(',\n    ')}
  ],${v8Flags}
);

const mainWorker :Workerd.Worker = (
  modules = [
    ${modules.join(',\n    ')}
  ],
  compatibilityDate = ${str(s.compatibilityDate)},
  compatibilityFlags = [${s.compatibilityFlags.map(str).join(', ')}],
  bindings = [
    ${bindings.join(',\n    ')}
  ],
  durableObjectNamespaces = [
    ${namespaces.join(',\n    ')}
  ],
  durableObjectStorage = (localDisk = "do-disk"),${outbound}
);

const kvWorker :Workerd.Worker = (
  modules = [${kvModules.join(', ')}],
  compatibilityDate = ${str(s.compatibilityDate)},
);
${hello}${gatewayText}${jsText}`;
}

/**
 * The KV service's entries, read over its socket (workerdConfig's `kvPort`) as its protocol
 * allows: [{ key, value (base64), metadata, expiration }], the `kvSeed` of a later process.
 */
export async function dumpKv(kvUrl) {
  const entries = [];
  for (let cursor = null; ;) {
    const r = await fetch(`${kvUrl}/?key_count_limit=1000${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`);
    if (r.status !== 200) throw new Error(`KV list: ${r.status}`);
    const page = await r.json();
    for (const { name, metadata = null, expiration = null } of page.keys) {
      const v = await fetch(`${kvUrl}/${encodeURIComponent(name)}?urlencoded=true`);
      if (v.status !== 200) throw new Error(`KV get ${name}: ${v.status}`);
      entries.push({ key: name, value: Buffer.from(await v.arrayBuffer()).toString('base64'), metadata, expiration });
    }
    if (page.list_complete) return entries;
    cursor = page.cursor;
  }
}

/**
 * Start workerd with the Worker. Options: `vars` (extra or overriding settings), `hello` (also
 * serve the JS hello-world, at `helloUrl`), `gateway` ({ vars, services, healthPath }: also serve
 * the gateway Worker, at `gatewayUrl`, probed at `healthPath`; `cfBlobHeader`: a header whose JSON becomes its `request.cf`, for tests of client certificates), `js` ([{ name, module, services,
 * healthPath }]: more JS Workers, each at `jsUrls[name]`), `buildDir` (the issuer's build folder,
 * build/ by default), `inspectorPort` (V8 inspector for profiling),
 * `localOutbound` (the Worker may fetch from 127.0.0.1, e.g. a local key host), `cfBlobHeader`
 * (a header whose JSON becomes the issuer's `request.cf`, as Cloudflare's edge would make it: tests
 * of client certificates; never a deployment setting), `timeoutMs`, `stateRoot` (where the state folder goes, with the Durable Objects' SQLite files; the
 * system's temporary folder by default). Returns { url, helloUrl, adminToken, vars, processGroup, stop, output }.
 */
export async function startWorkerd(options = {}) {
  // A port can still be taken between the check and workerd's bind: try again on that alone.
  for (let attempt = 1; ; attempt++) {
    try {
      return await startOnce(options);
    } catch (e) {
      if (attempt >= 3 || !/in use|EADDRINUSE/i.test(String(e?.message))) throw e;
    }
  }
}

async function startOnce({
  vars = {}, hello = false, gateway, js = [], inspectorPort, timeoutMs = 30_000, stateRoot = tmpdir(), localOutbound = false,
  buildDir = join(ROOT, 'build'), cfBlobHeader,
} = {}) {
  if (!existsSync(join(buildDir, 'index.js'))) {
    throw new Error(`${join(buildDir, 'index.js')} missing: run \`bash scripts/build.sh\` first`);
  }
  if (gateway && !existsSync(join(GATEWAY_DIR, 'build', 'index.js'))) {
    throw new Error('crates/gateway/build/index.js missing: run `bash scripts/build-gateway.sh` first');
  }
  const port = await freePort();
  let helloPort = null;
  while (hello && (helloPort === null || helloPort === port)) helloPort = await freePort();
  let gatewayPort = null;
  while (gateway && (gatewayPort === null || gatewayPort === port || gatewayPort === helloPort)) gatewayPort = await freePort();
  const taken = new Set([port, helloPort, gatewayPort]);
  const jsPorts = [];
  for (let i = 0; i < js.length; i++) {
    let p;
    do p = await freePort(); while (taken.has(p));
    taken.add(p);
    jsPorts.push(p);
  }
  const jsWorkers = js.map((x, i) => ({ ...x, port: jsPorts[i] }));
  const stateDir = await mkdtemp(join(stateRoot, 'edgeauth-workerd-'));
  mkdirSync(join(stateDir, 'do'));
  const allVars = {
    ADMIN_TOKEN: randomSecret(),
    SECRET_PEPPER: randomSecret(),
    SIGNING_KEY_SEED: randomSecret(),
    ...vars,
  };
  const config = join(stateDir, 'config.capnp');
  writeFileSync(config, workerdConfig({
    configDir: stateDir, stateDir, port, helloPort, gatewayPort, gateway, vars: allVars, localOutbound, buildDir,
    js: jsWorkers, cfBlobHeader,
  }));
  const args = ['serve', config];
  if (inspectorPort) args.push(`--inspector-addr=127.0.0.1:${inspectorPort}`);
  const [command, argv] = V8_FLAGS.length ? ['stdbuf', ['-oL', WORKERD, ...args]] : [WORKERD, args];
  const child = spawn(command, argv, {
    cwd: stateDir,
    detached: true, // own process group: stop() ends workerd and anything it started
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const { stop, exited, output } = supervise(child, stateDir);

  const url = `http://127.0.0.1:${port}`;
  const helloUrl = helloPort ? `http://127.0.0.1:${helloPort}` : null;
  const gatewayUrl = gatewayPort ? `http://127.0.0.1:${gatewayPort}` : null;
  const deadline = Date.now() + timeoutMs;
  const probes = [`${url}/healthz`];
  if (helloUrl) probes.push(`${helloUrl}/`);
  if (gatewayUrl) probes.push(`${gatewayUrl}${gateway.healthPath ?? '/healthz'}`);
  const jsUrls = Object.fromEntries(jsWorkers.map((x) => [x.name, `http://127.0.0.1:${x.port}`]));
  for (const x of jsWorkers) probes.push(`${jsUrls[x.name]}${x.healthPath ?? '/'}`);
  for (const probe of probes) await untilHealthy(probe, deadline, { stop, exited, output }, 50);
  return {
    url,
    helloUrl,
    /** Where workerd keeps this run's Durable Object storage (SQLite files under `do/`). */
    stateDir,
    gatewayUrl,
    jsUrls,
    adminToken: allVars.ADMIN_TOKEN,
    vars: allVars,
    /** workerd's process group (its pid), for measuring memory. */
    processGroup: child.pid,
    stop,
    get output() { return output(); },
  };
}
