// Soak: hold the token endpoint (client_secret_basic) under load in the local runtime, then the
// same load against a JS hello-world Worker in the same runtime. Not a test and not a speed
// figure: it prints the non-2xx count and workerd's resident memory over time for both, and
// exits non-zero if any token request failed.
// Runtimes: plain workerd (the default; tests/support/workerd.mjs, nothing in front of the
// Worker) or `wrangler dev` (--runtime wrangler), whose own memory grows under load (the
// hello-world's does too, by a similar amount per request), so its curve is shown beside ours
// rather than judged.
//
//   bash bench/soak.sh [--duration 60] [--connections 64] [--runtime workerd|wrangler]
import { execFileSync, spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { ROOT, admin, freePort, startWorker } from '../tests/support/worker.mjs';
import { startWorkerd } from '../tests/support/workerd.mjs';
import { basic } from '../tests/support/http.mjs';

const { values: opt } = parseArgs({
  options: {
    duration: { type: 'string', default: '60' },
    connections: { type: 'string', default: '64' },
    runtime: { type: 'string', default: 'workerd' },
  },
});
if (!['workerd', 'wrangler'].includes(opt.runtime)) {
  console.error('soak: --runtime is workerd or wrangler');
  process.exit(2);
}
const plain = opt.runtime === 'workerd';
const duration = Number(opt.duration);
const connections = Number(opt.connections);

/** Resident memory (KiB) of the workerd processes in a process group. */
function workerdRss(group) {
  const rows = execFileSync('ps', ['-eo', 'pgid=,rss=,comm='], { encoding: 'utf8' }).trim().split('\n');
  return rows.map((r) => r.trim().split(/\s+/))
    .filter(([pgid, , comm]) => Number(pgid) === group && comm.startsWith('workerd'))
    .reduce((sum, [, rss]) => sum + Number(rss), 0);
}

/** wrk against `url` for the duration, sampling memory every 5 s. */
async function load(url, group, lua) {
  const script = join(process.env.TMPDIR ?? '/tmp', `edgeauth-soak-${process.pid}.lua`);
  writeFileSync(script, lua);
  const samples = [workerdRss(group)];
  const timer = setInterval(() => samples.push(workerdRss(group)), 5000);
  const wrk = spawn('wrk', ['-t2', `-c${connections}`, `-d${duration}s`, '-s', script, url],
    { stdio: ['ignore', 'pipe', 'inherit'] });
  let text = '';
  wrk.stdout.on('data', (d) => { text += d; });
  const code = await new Promise((r) => wrk.on('exit', r));
  clearInterval(timer);
  samples.push(workerdRss(group));
  if (code !== 0) throw new Error(`wrk failed (${code}):\n${text}`);
  return {
    requests: Number((text.match(/(\d+) requests in/) || [])[1] ?? 0),
    non2xx: Number((text.match(/Non-2xx or 3xx responses: (\d+)/) || [])[1] ?? 0),
    socket: (text.match(/Socket errors: .*/) || ['Socket errors: none'])[0],
    samples,
  };
}

function report(name, r) {
  const mib = (k) => (k / 1024).toFixed(0);
  console.log(`${name}: ${r.requests} requests (${(r.requests / duration).toFixed(0)}/s), non-2xx ${r.non2xx}, ${r.socket}`);
  console.log(`  workerd MiB every 5 s: ${r.samples.map(mib).join(' ')}`);
  return r.samples[r.samples.length - 1] - r.samples[0];
}

async function edgeauth() {
  const w = plain ? await startWorkerd() : await startWorker();
  try {
    const created = await admin(w.url, w.adminToken)('POST', '/admin/clients', { client_name: 'soak', scope: 'read' });
    if (created.status !== 201) throw new Error(`creating the client: ${created.status} ${created.text}`);
    const auth = basic(created.json.client.client_id, created.json.secret.client_secret);
    return await load(`${w.url}/oauth/token`, w.processGroup, `wrk.method = "POST"
wrk.body = "grant_type=client_credentials"
wrk.headers["content-type"] = "application/x-www-form-urlencoded"
wrk.headers["authorization"] = "${auth}"`);
  } finally {
    await w.stop();
  }
}

async function hello() {
  if (plain) {
    const w = await startWorkerd({ hello: true });
    try {
      return await load(`${w.helloUrl}/`, w.processGroup, '');
    } finally {
      await w.stop();
    }
  }
  const port = await freePort();
  const child = spawn(process.execPath, [join(ROOT, 'node_modules/wrangler/bin/wrangler.js'), 'dev',
    '--ip', '127.0.0.1', '--port', String(port), '--inspector-port', String(await freePort()),
    '--show-interactive-dev-session=false', '--log-level', 'warn'],
  { cwd: join(ROOT, 'bench/hello'), detached: true, stdio: 'ignore' });
  try {
    for (let i = 0; ; i++) {
      try { await fetch(`http://127.0.0.1:${port}/`); break; } catch (e) {
        if (i > 120) throw e;
        await new Promise((r) => setTimeout(r, 500));
      }
    }
    return await load(`http://127.0.0.1:${port}/`, child.pid, '');
  } finally {
    try { process.kill(-child.pid, 'SIGTERM'); } catch { /* gone */ }
  }
}

console.log(`soak: ${duration} s at ${connections} connections, wrk -t2, in ${plain ? 'plain workerd' : 'wrangler dev'}`);
const ours = await edgeauth();
const base = await hello();
const oursGrowth = report('edgeauth POST /oauth/token (client_secret_basic)', ours);
const baseGrowth = report('JS hello-world, same runtime', base);
// The local runtime's memory grows under load by itself: per request, side by side.
const perRequest = (g, r) => (g / r.requests).toFixed(1);
console.log(`memory growth: edgeauth ${(oursGrowth / 1024).toFixed(0)} MiB (${perRequest(oursGrowth, ours)} KiB/request), hello-world ${(baseGrowth / 1024).toFixed(0)} MiB (${perRequest(baseGrowth, base)} KiB/request)`);
const ok = ours.non2xx === 0 && !/timeout [1-9]/.test(ours.socket);
console.log(ok ? 'soak: OK (zero non-2xx, no socket timeouts)' : 'soak: FAILED');
process.exitCode = ok ? 0 : 1;
