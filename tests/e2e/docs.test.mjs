// The documentation's links resolve: every relative link in the repository's Markdown files
// (README.md, CHANGELOG.md, docs/, crates/*/README.md, bench/README.md, www/admin/README.md,
// ...) names a file or folder that exists, and a `#anchor` names a heading of its target. Also
// checks the readers the README's curl test relies on (tests/support/docs.mjs), so a broken
// parser cannot pass by finding nothing. Needs no Worker.
import assert from 'node:assert/strict';
import { existsSync, readFileSync, readdirSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { describe, it } from 'node:test';
import { ROOT } from '../support/worker.mjs';
import {
  compileFragment, curlExamples, headingAnchors, markdownLinks, matchFragment, parseExpectation,
} from '../support/docs.mjs';

const SKIP = new Set(['node_modules', 'target', 'build', '.git', '.tools', '.wrangler', 'results', 'screenshots']);

/** The repository's Markdown files, relative to the root. */
function markdownFiles(dir = ROOT) {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    if (SKIP.has(e.name)) return [];
    const path = join(dir, e.name);
    if (e.isDirectory()) return markdownFiles(path);
    return e.name.endsWith('.md') ? [relative(ROOT, path)] : [];
  });
}

/** The broken links of one Markdown file: ["file:line target: why"]. */
function brokenLinks(file, text) {
  const broken = [];
  for (const { line, target } of markdownLinks(text)) {
    if (/^[a-z][a-z0-9+.-]*:/i.test(target)) continue; // https:, mailto:, ...: not ours to check
    const [path, anchor] = target.split('#');
    const where = `${file}:${line} ${target}`;
    if (!path) {
      if (!headingAnchors(text).has(anchor)) broken.push(`${where}: no heading #${anchor} there`);
      continue;
    }
    const resolved = resolve(ROOT, dirname(file), decodeURIComponent(path));
    if (resolved !== ROOT && !resolved.startsWith(ROOT + '/')) {
      broken.push(`${where}: points outside the repository`);
    } else if (!existsSync(resolved)) {
      broken.push(`${where}: no such file`);
    } else if (anchor !== undefined && resolved.endsWith('.md') && statSync(resolved).isFile()) {
      const anchors = headingAnchors(readFileSync(resolved, 'utf8'));
      if (!anchors.has(anchor)) broken.push(`${where}: no heading #${anchor} there`);
    }
  }
  return broken;
}

describe('documentation links', () => {
  const files = markdownFiles();

  it('finds the documents it should check', () => {
    for (const f of ['README.md', 'CHANGELOG.md', 'docs/CONTRACT.md', 'docs/ARCHITECTURE.md', 'docs/SECURITY.md',
      'docs/BENCHMARKS.md', 'docs/RECIPES.md', 'crates/verify/README.md', 'crates/gateway/README.md', 'bench/README.md']) {
      assert.ok(files.includes(f), `${f} is checked`);
    }
  });

  it('every relative link and anchor resolves', () => {
    const broken = files.flatMap((f) => brokenLinks(f, readFileSync(join(ROOT, f), 'utf8')));
    assert.deepEqual(broken, []);
    const count = files.reduce((n, f) => n + markdownLinks(readFileSync(join(ROOT, f), 'utf8')).length, 0);
    assert.ok(count >= 40, `${count} links checked`);
  });

  it('keeps the README the front door: at most 400 lines, the rest linked', () => {
    const lines = readFileSync(join(ROOT, 'README.md'), 'utf8').split('\n').length - 1;
    assert.ok(lines <= 400, `README.md has ${lines} lines`);
  });

  it('reports a missing file, a missing anchor and a link outside the repository', () => {
    const text = [
      '# Title', '', 'See [a](docs/NOPE.md), [b](#title), [c](#nope), [d](README.md#run-it),',
      '[e](README.md#nope), [f](../../etc/passwd), [g](https://example.com/x) and `[h](code.md)`.',
      '', '```sh', '[i](in-code.md)', '```', '[j]: docs/ALSO-NOPE.md',
    ].join('\n');
    assert.deepEqual(brokenLinks('FAKE.md', text).map((b) => b.replace(/^FAKE\.md:\d+ /, '')), [
      'docs/NOPE.md: no such file',
      '#nope: no heading #nope there',
      'README.md#nope: no heading #nope there',
      '../../etc/passwd: points outside the repository',
      'docs/ALSO-NOPE.md: no such file',
    ]);
  });

  it("names headings' anchors as GitHub does", () => {
    const text = '# Route table: `ROUTES`\n## Signing keys: `GET /admin/keys`\n## A\n## A\n```sh\n# not a heading\n```\n### private_key_jwt, ok?';
    assert.deepEqual([...headingAnchors(text)], [
      'route-table-routes', 'signing-keys-get-adminkeys', 'a', 'a-1', 'private_key_jwt-ok',
    ]);
  });
});

describe("the README's curl convention", () => {
  it('reads examples, continued lines and expectations, and flags a curl without one', () => {
    const text = [
      '```sh',
      'curl -s $ISSUER/healthz',
      '# -> 200 {"status":"ok"}',
      'curl -s --json \'{"a":1}\' \\',
      '  $ISSUER/x',
      '# -> 201 {"id":$ID,"url":"$ISSUER/x"}   within 5 s: a comment',
      "curl -s --json '{\"a\":1,",
      "  \"b\":2}' $ISSUER/y",
      '# -> 204   not within 5 s: a comment alone',
      'curl -s $ISSUER/nothing-expected',
      '',
      '# -> 200',
      'curl -s $ISSUER/bad-expectation',
      '# -> 20x',
      '```',
      '```text',
      'curl -s not-run',
      '```',
    ].join('\n');
    const { examples, problems } = curlExamples(text);
    assert.deepEqual(examples.map((e) => [e.line, e.command, e.expect.status, e.expect.fragment, e.expect.withinMs]), [
      [2, 'curl -s $ISSUER/healthz', 200, '{"status":"ok"}', 0],
      [4, 'curl -s --json \'{"a":1}\' \\\n  $ISSUER/x', 201, '{"id":$ID,"url":"$ISSUER/x"}', 5000],
      [7, 'curl -s --json \'{"a":1,\n  "b":2}\' $ISSUER/y', 204, null, 0],
    ]);
    assert.deepEqual(problems, [
      'line 10: a curl example without an expected answer (# -> STATUS ...) on the next line',
      'line 12: an expected answer with no curl before it',
      'line 14: "# -> 20x" is not "# -> STATUS [JSON] [comment]"',
    ]);
  });

  it('binds, compares and interpolates names, and reports each mismatch', () => {
    const expect = parseExpectation('# -> 201 {"id":$ID,"url":"$ISSUER/x","tags":[{"n":1}]}');
    const bound = { ISSUER: 'http://h' };
    const fragment = compileFragment(expect.fragment, bound);
    const ok = matchFragment({ id: 'c1', url: 'http://h/x', tags: [{ n: 1, m: 2 }, {}], more: true }, fragment, bound);
    assert.deepEqual(ok, { mismatches: [], bindings: { ID: 'c1' } });
    const bad = matchFragment({ url: 'http://h/y', tags: [] }, fragment, { ...bound, ID: 'c1' });
    assert.deepEqual(bad.mismatches, [
      'body.id: expected a value for $ID, got undefined',
      'body.url: expected "http://h/x", got "http://h/y"',
      'body.tags: expected an array of at least 1, got []',
    ]);
    assert.deepEqual(matchFragment({ id: 'c2' }, compileFragment('{"id":$ID}', {}), { ID: 'c1' }).mismatches,
      ['body.id: expected $ID = "c1", got "c2"']);
    assert.throws(() => compileFragment('{"u":"$NOPE/x"}', {}), /\$NOPE is used .* before an example binds it/);
    assert.throws(() => parseExpectation('# -> 200 {"a":'), /unbalanced JSON/);
  });
});
