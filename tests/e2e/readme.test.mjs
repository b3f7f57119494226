// The README's curl examples, run as written against the built Worker, in order: each answers
// the status and the JSON the `# ->` line after it says (the convention is described in
// tests/support/docs.mjs). `$ISSUER` and `$ADMIN_TOKEN` are the Worker's; every other `$NAME`
// is bound by an earlier example's answer. A README example that stops working fails here.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { ROOT, startWorker } from '../support/worker.mjs';
import { compileFragment, curlExamples, matchFragment, namesUsed } from '../support/docs.mjs';

const readme = await readFile(join(ROOT, 'README.md'), 'utf8');
const { examples, problems } = curlExamples(readme);

let w;
let dir;
const bound = {};

before(async () => {
  w = await startWorker();
  dir = await mkdtemp(join(tmpdir(), 'edgeauth-readme-'));
  Object.assign(bound, { ISSUER: w.url, ADMIN_TOKEN: w.adminToken });
});
after(async () => {
  await w?.stop();
  if (dir) await rm(dir, { recursive: true, force: true });
});

/** Runs one example in bash with the bound names in its environment: { status, body }. */
async function run(command) {
  const out = join(dir, 'body');
  await rm(out, { force: true });
  // The command runs verbatim; curl is wrapped so its status and body can be read.
  const script = `set -u\ncurl() { command curl -sS -o "$EDGEAUTH_BODY" -w '%{http_code}' "$@"; }\n${command}\n`;
  const env = { PATH: process.env.PATH, HOME: process.env.HOME ?? '/tmp', EDGEAUTH_BODY: out };
  for (const [k, v] of Object.entries(bound)) env[k] = String(v);
  const child = spawn('bash', ['-c', script], { env, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d) => { stdout += d; });
  child.stderr.on('data', (d) => { stderr += d; });
  const code = await new Promise((res) => child.on('close', res));
  assert.equal(code, 0, `the command failed (exit ${code}): ${stderr}`);
  const body = await readFile(out, 'utf8').catch(() => '');
  return { status: Number(stdout.trim()), body };
}

/** Checks one answer against its expectation: a list of mismatches and the names it binds. */
function check(answer, expect) {
  const mismatches = [];
  if (answer.status !== expect.status) mismatches.push(`status: expected ${expect.status}, got ${answer.status}`);
  if (!expect.fragment) return { mismatches, bindings: {} };
  let json;
  try {
    json = JSON.parse(answer.body);
  } catch {
    return { mismatches: [...mismatches, `body: expected JSON, got ${JSON.stringify(answer.body.slice(0, 300))}`], bindings: {} };
  }
  const result = matchFragment(json, compileFragment(expect.fragment, bound), bound);
  return { mismatches: [...mismatches, ...result.mismatches], bindings: result.bindings };
}

describe('the README', () => {
  it('gives every curl example an expected answer', () => {
    assert.deepEqual(problems, []);
    // The convention is in use: without examples this test would prove nothing.
    assert.ok(examples.length >= 20, `${examples.length} examples`);
  });

  for (const { line, command, expect } of examples) {
    const title = command.split('\n')[0].replace(/\s+/g, ' ').slice(0, 110);
    it(`README.md:${line} ${title}`, async () => {
      const missing = namesUsed(command).filter((n) => !(n in bound));
      assert.deepEqual(missing, [], 'names no earlier example bound');
      const deadline = Date.now() + expect.withinMs + (expect.withinMs ? 2_000 : 0);
      for (;;) {
        const answer = await run(command);
        const { mismatches, bindings } = check(answer, expect);
        if (!mismatches.length) {
          Object.assign(bound, bindings);
          return;
        }
        if (Date.now() >= deadline) {
          assert.fail(`README.md:${line}\n${command}\n${mismatches.join('\n')}\nbody: ${answer.body.slice(0, 500)}`);
        }
        // A state promised within a bound: ask again until it holds.
        await new Promise((r) => setTimeout(r, 100));
      }
    });
  }
});
