// What the benchmarks drive the Workers with: fetch for the fixtures, wrk (with a Lua script
// that reports its figures as one JSON line) for the load, and where their results go. Shared by
// bench/issuer.mjs (the issuer's cases), bench/gateway.mjs (the gateway beside a pass-through)
// and bench/coldstart.mjs.
import { spawn } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ROOT } from '../tests/support/worker.mjs';

/**
 * Saves a run under bench/results/ as `<name>-<date>.txt` (the printed `lines`) and `.json`
 * (`{ date, ...data }`); answers the .txt file's path from the repository's root.
 */
export function saveResults(name, lines, data) {
  const dir = join(ROOT, 'bench', 'results');
  mkdirSync(dir, { recursive: true });
  const date = new Date().toISOString();
  const stamp = `${name}-${date.replace(/[:.]/g, '-')}`;
  writeFileSync(join(dir, `${stamp}.txt`), lines.join('\n') + '\n');
  writeFileSync(join(dir, `${stamp}.json`), JSON.stringify({ date, ...data }, null, 2));
  return `bench/results/${stamp}.txt`;
}

/** fetch that answers { status, text, json } (json null when the body is not JSON). */
export async function call(url, init) {
  const r = await fetch(url, init);
  const text = await r.text();
  let json = null;
  try { json = JSON.parse(text); } catch { /* not JSON */ }
  return { status: r.status, text, json };
}

/**
 * The wrk Lua script for case `c` ({ method, headers, body, lineHeader? }): with `bodiesFile`,
 * each request its own line of that file, split among `threads`, as its body or, when
 * `c.lineHeader` names a header, as that header's value (a DPoP proof); `done` prints the
 * results as WRKJSON.
 */
export function luaScript(c, bodiesFile, threads) {
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
${c.lineHeader ? `  local h = {}
  for k, v in pairs(wrk.headers) do h[k] = v end
  h[${q(c.lineHeader)}] = bodies[idx]
  return wrk.format(nil, nil, h, wrk.body)` : '  return wrk.format(nil, nil, nil, bodies[idx])'}
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

/** Runs wrk on `url` with `script`; answers its WRKJSON figures plus `rps` and the `raw` output. */
export function wrk(url, script, { threads, connections, seconds }) {
  return new Promise((res, rej) => {
    const args = [`-t${threads}`, `-c${connections}`, `-d${seconds}s`, '--latency', '-s', script, url];
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
