// Tail latency as each request saw it, under plain workerd. wrk corrects its percentiles for
// coordinated omission (one stall becomes many made-up samples), so its p99 says how long a
// steady-rate client would wait, not what happened; this client records every request's start
// and latency instead, and lists the moments when requests were held (stalls), so a stall can
// be matched to what runs on that period (cache expiry every 5 s, the usage flush every 60 s,
// V8's collections with EDGEAUTH_V8_FLAGS=--trace-gc).
//
//   node bench/tail.mjs [--case basic|floor|hello|trivial] [--duration 20] [--connections 32]
//                       [--rate N] [--warmup 2] [--rounds 1] [--stall-ms 100]
//
// Each round starts its own workerd (SQLite files on tmpfs, as bench/issuer.mjs) and registers a
// client_secret_basic client. Without --rate it keeps --connections keep-alive connections
// busy for --duration seconds, each sending its next request when the last is answered (closed
// loop, like wrk: the server saturated). With --rate it sends N requests a second on schedule
// whatever the answers (open loop, like wrk2), over up to --connections connections, and
// measures each from when it was due, so a stall counts for every request it held back: the
// latency a client sees at that load, below saturation, where queueing does not dominate.
// Each round first runs --warmup seconds of the same load, not recorded (the first requests
// compile and fill caches). Prints per round: req/s, non-2xx, p50/p99/p99.9/max of the recorded latencies,
// how many took over 250 ms, and the stalls: each 0.1 s of start times whose slowest request
// took over --stall-ms, as `second:ms`. Needs build/ (bash scripts/build.sh). Exit 1 on any
// non-2xx.
import http from 'node:http';
import { parseArgs } from 'node:util';
import { memoryStateRoot, startWorkerd } from '../tests/support/workerd.mjs';
import { call } from './wrk.mjs';

const { values: opt } = parseArgs({
  options: {
    case: { type: 'string', default: 'basic' },
    duration: { type: 'string', default: '20' },
    connections: { type: 'string', default: '32' },
    rate: { type: 'string' },
    warmup: { type: 'string', default: '2' },
    rounds: { type: 'string', default: '1' },
    'stall-ms': { type: 'string', default: '100' },
  },
});
const CASES = {
  basic: { path: '/oauth/token', method: 'POST', js: false },
  floor: { path: '/floor', method: 'POST', js: true },
  hello: { path: '/', method: 'GET', js: true },
  trivial: { path: '/healthz', method: 'GET', js: false },
};
const chosen = CASES[opt.case];
const [DURATION_MS, CONNECTIONS, ROUNDS, STALL_MS] =
  [Number(opt.duration) * 1000, Number(opt.connections), Number(opt.rounds), Number(opt['stall-ms'])];
const RATE = opt.rate === undefined ? null : Number(opt.rate);
const WARMUP_MS = Number(opt.warmup) * 1000;
if (!(WARMUP_MS >= 0) || !chosen || !(DURATION_MS > 0) || !(CONNECTIONS >= 1) || !(ROUNDS >= 1) || !(STALL_MS > 0) || (RATE !== null && !(RATE > 0))) {
  console.error(`tail: --case is one of ${Object.keys(CASES).join(', ')}; --duration, --connections, --rate, --rounds, --stall-ms > 0`);
  process.exit(2);
}
const BODY = 'grant_type=client_credentials&scope=read';

/** One round: a fresh workerd, a client, the warm-up, the load; answers the round's summary. */
async function round() {
  const w = await startWorkerd({ hello: true, stateRoot: memoryStateRoot() });
  try {
    const created = await call(`${w.url}/admin/clients`, {
      method: 'POST',
      headers: { authorization: `Bearer ${w.adminToken}`, 'content-type': 'application/json' },
      body: JSON.stringify({ client_name: 'tail', scope: 'read write', lockout_enabled: false }),
    });
    if (created.status !== 201) throw new Error(`create client: ${created.status} ${created.text}`);
    const { client, secret } = created.json;
    const url = new URL(chosen.path, chosen.js ? w.helloUrl : w.url);
    const headers = chosen.method === 'POST' ? {
      authorization: 'Basic ' + Buffer.from(`${client.client_id}:${secret.client_secret}`).toString('base64'),
      'content-type': 'application/x-www-form-urlencoded',
      'content-length': BODY.length,
    } : {};
    const agent = new http.Agent({ keepAlive: true, maxSockets: CONNECTIONS });
    // One request, timed from `t0`: when it was sent, or when it was due (open loop).
    const one = (t0 = performance.now()) => new Promise((settle, fail) => {
      const req = http.request({ host: url.hostname, port: url.port, path: url.pathname, method: chosen.method, agent, headers }, (res) => {
        res.resume();
        res.on('end', () => settle([t0, performance.now() - t0, res.statusCode]));
      });
      // A keep-alive connection workerd reset (wrk counts these as read errors): a failed
      // request, counted apart, not a latency.
      req.on('error', (e) => (e.code === 'ECONNRESET' ? settle([t0, null, 'reset']) : fail(e)));
      req.end(chosen.method === 'POST' ? BODY : undefined);
    });
    await load(one, WARMUP_MS);
    const log = [];
    const start = await load(one, DURATION_MS, log);
    agent.destroy();
    return summary(log, start);
  } finally {
    await w.stop();
  }
}

/** Runs the load for `ms` with `one`, each answer pushed to `log`; answers when it started. */
async function load(one, ms, log = []) {
  const start = performance.now();
  if (RATE === null) {
    await Promise.all(Array.from({ length: CONNECTIONS }, async () => {
      while (performance.now() - start < ms) log.push(await one());
    }));
  } else {
    // Every millisecond, send what fell due since the last tick; the agent queues requests
    // beyond its connections, and that wait counts, since each is timed from when it was due.
    const total = Math.floor((RATE * ms) / 1000);
    const pending = [];
    let sent = 0;
    while (sent < total) {
      const due = Math.min(total, Math.floor(((performance.now() - start) * RATE) / 1000));
      for (; sent < due; sent++) pending.push(one(start + (sent * 1000) / RATE).then((r) => log.push(r)));
      await new Promise((tick) => setTimeout(tick, 1));
    }
    await Promise.all(pending);
  }
  return start;
}

/** The round's figures from its [start, latency, status] records. */
function summary(all, start) {
  const log = all.filter(([, ms]) => ms !== null);
  const byLatency = log.map(([, ms]) => ms).sort((a, b) => b - a);
  const at = (fraction) => byLatency[Math.floor(byLatency.length * fraction)].toFixed(1);
  const stalls = new Map();
  for (const [t0, ms] of log) {
    if (ms <= STALL_MS) continue;
    const second = ((t0 - start) / 1000).toFixed(1);
    stalls.set(second, Math.max(stalls.get(second) ?? 0, Math.round(ms)));
  }
  return {
    line: [
      `${(log.length / (DURATION_MS / 1000)).toFixed(0)} req/s`,
      `non-2xx ${log.filter(([, , s]) => s < 200 || s > 299).length}`,
      `p50 ${at(0.5)} p99 ${at(0.01)} p99.9 ${at(0.001)} max ${byLatency[0].toFixed(0)} ms`,
      `over 250 ms: ${byLatency.filter((ms) => ms > 250).length}`,
      `connections reset: ${all.length - log.length}`,
    ].join(', '),
    stalls: [...stalls].sort((a, b) => a[0] - b[0]).map(([s, ms]) => `${s}:${ms}`).join(' '),
    non2xx: log.some(([, , s]) => s < 200 || s > 299),
  };
}

const shape = RATE === null ? `${CONNECTIONS} connections, closed loop` : `${RATE} req/s on schedule over up to ${CONNECTIONS} connections`;
console.log(`tail: ${opt.case} ${chosen.method} ${chosen.path}, ${shape}, ${opt.duration} s a round, stalls over ${STALL_MS} ms (start second:slowest ms)`);
let failed = false;
for (let i = 1; i <= ROUNDS; i++) {
  const r = await round();
  console.log(`round ${i}: ${r.line}\n  stalls: ${r.stalls || 'none'}`);
  failed ||= r.non2xx;
}
process.exit(failed ? 1 : 0);
