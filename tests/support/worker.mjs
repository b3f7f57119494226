// Shared harness: runs the prebuilt Worker (build/) under `wrangler dev` with throwaway state.
//
//   const w = await startWorker({ vars: { ISSUER: 'https://issuer.example' } });
//   const api = admin(w.url, w.adminToken);
//   const { status, json } = await api('POST', '/admin/clients', { client_name: 'x' });
//   await w.stop();
//
// Needs `bash scripts/build.sh` to have run (scripts/test.sh does it once).
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

import { checkAdminAnswer } from './openapi.mjs';

export const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
const WRANGLER = join(ROOT, 'node_modules', 'wrangler', 'bin', 'wrangler.js');

/** 32 random bytes, base64url without padding. */
export function randomSecret() {
  return randomBytes(32).toString('base64url');
}

/** Whether `port` can be bound on 127.0.0.1 right now. */
function canBind(port) {
  return new Promise((res) => {
    const srv = createServer();
    srv.unref();
    srv.once('error', () => res(false));
    srv.listen(port, '127.0.0.1', () => srv.close(() => res(true)));
  });
}

/**
 * A TCP port free on 127.0.0.1 right now, chosen below Linux's ephemeral range (32768+): a
 * port the OS hands out for `listen(0)` could be given to wrangler's or workerd's own internal
 * servers between this check and wrangler binding it ("Address already in use").
 */
export async function freePort() {
  for (let i = 0; i < 200; i++) {
    const port = 20000 + Math.floor(Math.random() * 12000);
    if (await canBind(port)) return port;
  }
  throw new Error('no free port found in 20000..32000');
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/**
 * Start the Worker. Returns { url, adminToken, vars, stop, output }.
 * `vars` are extra `--var NAME:VALUE` (they override the random defaults).
 * `config` is another Worker's wrangler config (relative to the repo root, e.g. the gateway's
 * crates/gateway/wrangler.toml): it gets only `vars`, not the issuer's random secrets.
 * `configs` are more configs run in the same session behind the first (wrangler's multi-config
 * dev: only the first serves the port; service bindings between them work).
 * `registry` is a dev registry folder shared by sessions whose service bindings must reach
 * each other; keep it private to the test, so no other wrangler dev on the machine answers.
 * `healthPath` is polled until it answers `healthStatus` (200).
 */
export async function startWorker(options = {}) {
  // A port can still be taken between the check and wrangler's bind: try again on that alone.
  for (let attempt = 1; ; attempt++) {
    try {
      return await startOnce(options);
    } catch (e) {
      if (attempt >= 3 || !/Address already in use/.test(String(e?.message))) throw e;
    }
  }
}

async function startOnce({
  vars = {}, timeoutMs = 60_000, config = 'wrangler.toml', configs = [], registry,
  healthPath = '/healthz', healthStatus = 200,
} = {}) {
  const issuer = config === 'wrangler.toml';
  if (issuer && !existsSync(join(ROOT, 'build', 'index.js'))) {
    throw new Error('build/index.js missing: run `bash scripts/build.sh` first');
  }
  const port = await freePort();
  let inspectorPort = await freePort();
  while (inspectorPort === port) inspectorPort = await freePort();
  const stateDir = await mkdtemp(join(tmpdir(), 'edgeauth-state-'));
  const secrets = issuer
    ? { ADMIN_TOKEN: randomSecret(), SECRET_PEPPER: randomSecret(), SIGNING_KEY_SEED: randomSecret() }
    : {};
  const allVars = { ...secrets, ...vars };
  const args = [
    WRANGLER, 'dev',
    // The default alone as before: one --config is read as a list of one (multi-config mode).
    ...(issuer && !configs.length ? [] : [config, ...configs].flatMap((c) => ['--config', c])),
    '--ip', '127.0.0.1',
    '--port', String(port),
    '--inspector-port', String(inspectorPort),
    '--persist-to', stateDir,
    '--show-interactive-dev-session=false',
    '--log-level', 'warn',
    // GET /__scheduled runs the Cron Trigger's handler on demand.
    '--test-scheduled',
  ];
  for (const [k, v] of Object.entries(allVars)) args.push('--var', `${k}:${v}`);

  const child = spawn(process.execPath, args, {
    cwd: ROOT,
    detached: true, // own process group: stop() kills wrangler, workerd and esbuild together
    stdio: ['ignore', 'pipe', 'pipe'],
    env: {
      ...process.env,
      EDGEAUTH_SKIP_BUILD: '1',
      ...(registry ? { WRANGLER_REGISTRY_PATH: registry } : {}),
      WRANGLER_SEND_METRICS: 'false',
      CLOUDFLARE_CF_FETCH_ENABLED: 'false',
      NO_COLOR: '1',
      FORCE_COLOR: '0',
    },
  });
  const { stop, exited, output } = supervise(child, stateDir);

  const url = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + timeoutMs;
  await untilHealthy(`${url}${healthPath}`, deadline, { stop, exited, output }, 250, healthStatus);

  return {
    url,
    adminToken: allVars.ADMIN_TOKEN,
    vars: allVars,
    /** The process group of wrangler and its workerd, for measuring memory. */
    processGroup: child.pid,
    stop,
    get output() { return output(); },
  };
}

/**
 * Polls `probe` until it answers `want` (200). Past `deadline` (ms since the epoch), or when
 * the process exits, stops it and throws with its output.
 */
export async function untilHealthy(probe, deadline, { stop, exited, output }, intervalMs, want = 200) {
  let lastErr = '';
  for (;;) {
    if (exited()) {
      await stop();
      throw new Error(`the runtime exited (${JSON.stringify(exited())}) before ${probe} answered.\n--- output ---\n${output()}`);
    }
    try {
      const r = await fetch(probe, { signal: AbortSignal.timeout(2000) });
      const body = await r.text();
      if (r.status === want) return;
      lastErr = `status ${r.status}: ${body.slice(0, 200)}`;
    } catch (e) {
      lastErr = String(e?.cause?.code ?? e?.message ?? e);
    }
    if (Date.now() > deadline) {
      await stop();
      throw new Error(`${probe} did not answer ${want} in time (last: ${lastErr}).\n--- output ---\n${output()}`);
    }
    await sleep(intervalMs);
  }
}

/**
 * Watches a child started with `detached: true` (its own process group): keeps the tail of its
 * output, and `stop()` ends the whole group (SIGTERM, SIGKILL after 5 s) and removes `stateDir`.
 * Answers { stop, exited: () => {code, signal} | null, output: () => text }.
 */
export function supervise(child, stateDir) {
  let output = '';
  const keep = (chunk) => {
    output += chunk.toString();
    if (output.length > 200_000) output = output.slice(-100_000);
  };
  child.stdout.on('data', keep);
  child.stderr.on('data', keep);
  let exited = null;
  const exitPromise = new Promise((res) => child.on('exit', (code, signal) => {
    exited = { code, signal };
    res(exited);
  }));
  const killGroup = (sig) => {
    try { process.kill(-child.pid, sig); } catch { /* already gone */ }
  };
  let stopped = false;
  const stop = async () => {
    if (stopped) return;
    stopped = true;
    if (!exited) {
      killGroup('SIGTERM');
      const done = await Promise.race([exitPromise, sleep(5000).then(() => null)]);
      if (!done) {
        killGroup('SIGKILL');
        await exitPromise;
      }
    }
    // A child of the leader (wrangler's workerd) may outlive it for a moment: end the group.
    killGroup('SIGKILL');
    await rm(stateDir, { recursive: true, force: true }).catch(() => {});
  };
  return { stop, exited: () => exited, output: () => output };
}

/**
 * Admin API helper: `const api = admin(url, token); await api('GET', '/admin/clients')`; a
 * `null` token with `extraHeaders` (Cloudflare Access's header and an Origin) signs in instead
 * → { status, headers, json } (json is null for empty or non-JSON bodies; text holds the raw body).
 * Every answer is checked against the admin API's OpenAPI document (tests/support/openapi.mjs):
 * a status it does not list for the call, or a body that does not match, throws.
 */
export function admin(url, token, extraHeaders = {}) {
  return async (method, path, body) => {
    const headers = { ...extraHeaders };
    if (token != null) headers.authorization = `Bearer ${token}`;
    let payload;
    if (body !== undefined) {
      headers['content-type'] = 'application/json';
      payload = typeof body === 'string' ? body : JSON.stringify(body);
    }
    const r = await fetch(url + path, { method, headers, body: payload });
    const text = await r.text();
    checkAdminAnswer({ method, path, status: r.status, headers: r.headers, text });
    let json = null;
    try { json = text ? JSON.parse(text) : null; } catch { json = null; }
    return { status: r.status, headers: r.headers, json, text };
  };
}
