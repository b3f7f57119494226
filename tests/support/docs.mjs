// What the documentation tests read out of Markdown: the README's curl examples with their
// expected answers (tests/e2e/readme.test.mjs), and every relative link with its anchor
// (tests/e2e/docs.test.mjs).
//
// The README's convention, in ```sh blocks: a line starting with `curl` (continued by lines
// ending in `\`) is an example, and the next line must say what it answers:
//
//   curl -s --oauth2-bearer $ADMIN_TOKEN --json '{"client_name":"x"}' $ISSUER/admin/clients
//   # -> 201 {"client":{"client_id":$CLIENT_ID}}   free text after the JSON is a comment
//
// `# -> STATUS` then, optionally, a JSON fragment the body must contain: objects need the keys
// they name (more are fine), arrays the elements they list at the same positions (more may
// follow), everything else equality. `$NAME` standing for a whole value binds NAME to what the
// body has there (or must equal it, once bound); `$NAME` inside a string is replaced by its
// value. `within N s` after the fragment means the answer may take that long to hold: the
// example is sent again until it does (a state the README promises within a bound). A comment
// must not start with "within" otherwise.

/** Names the examples may use: `$ISSUER`, `$CLIENT_ID`, ... */
const NAME = /\$([A-Z][A-Z0-9_]*)/g;
const CAPTURE = '\u0000capture:';

/** Fenced code blocks of a Markdown text: [{ info, startLine (1-based, the fence), lines }]. */
export function fencedBlocks(text) {
  const blocks = [];
  let open = null;
  text.split('\n').forEach((line, i) => {
    const fence = /^(\s*)(`{3,}|~{3,})(.*)$/.exec(line);
    if (!open && fence) {
      open = { info: fence[3].trim(), startLine: i + 1, fence: fence[2], lines: [] };
    } else if (open && fence && fence[2].startsWith(open.fence) && !fence[3].trim()) {
      blocks.push(open);
      open = null;
    } else if (open) {
      open.lines.push({ text: line, line: i + 1 });
    }
  });
  return blocks;
}

/**
 * The curl examples of a Markdown text, in order: [{ line, command, expect }], and the
 * problems found (a curl with no `# ->` line after it, a `# ->` line with no curl before it,
 * an expectation that does not parse).
 */
export function curlExamples(text) {
  const examples = [];
  const problems = [];
  for (const block of fencedBlocks(text).filter((b) => b.info === 'sh')) {
    const lines = block.lines;
    for (let i = 0; i < lines.length; i++) {
      const { text: first, line } = lines[i];
      if (/^#\s*->/.test(first)) {
        problems.push(`line ${line}: an expected answer with no curl before it`);
        continue;
      }
      if (!/^curl\s/.test(first)) continue;
      let command = first;
      // Continued by a trailing `\`, or by a single-quoted argument (a JSON body) left open.
      const open = (c) => c.endsWith('\\') || (c.match(/'/g)?.length ?? 0) % 2 === 1;
      while (open(command) && i + 1 < lines.length) command = `${command}\n${lines[++i].text}`;
      const next = lines[i + 1];
      if (!next || !/^#\s*->/.test(next.text)) {
        problems.push(`line ${line}: a curl example without an expected answer (# -> STATUS ...) on the next line`);
        continue;
      }
      i++;
      try {
        examples.push({ line, command, expect: parseExpectation(next.text) });
      } catch (e) {
        problems.push(`line ${next.line}: ${e.message}`);
      }
    }
  }
  return { examples, problems };
}

/** `# -> 200 {"a":$A} within 5 s` -> { status, fragment (text or null), withinMs, comment }. */
export function parseExpectation(line) {
  const m = /^#\s*->\s*(\d{3})\b\s*(.*)$/.exec(line);
  if (!m) throw new Error(`"${line}" is not "# -> STATUS [JSON] [comment]"`);
  const rest = m[2];
  const length = /^[{["]/.test(rest) ? jsonLength(rest) : 0;
  const fragment = length ? rest.slice(0, length) : null;
  const comment = rest.slice(length).trim();
  const within = /^within (\d+) s\b/.exec(comment);
  if (fragment) compileFragment(fragment, null); // fails now on a fragment that cannot parse
  return { status: Number(m[1]), fragment, withinMs: within ? Number(within[1]) * 1000 : 0, comment };
}

/** Length of the JSON value at the start of `text` (brackets balanced outside strings). */
function jsonLength(text) {
  if (text[0] === '"') {
    for (let i = 1; i < text.length; i++) {
      if (text[i] === '\\') i++;
      else if (text[i] === '"') return i + 1;
    }
    throw new Error(`unterminated string in "${text}"`);
  }
  let depth = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (inString) {
      if (c === '\\') i++;
      else if (c === '"') inString = false;
    } else if (c === '"') inString = true;
    else if (c === '{' || c === '[') depth++;
    else if (c === '}' || c === ']') {
      depth--;
      if (depth === 0) return i + 1;
    }
  }
  throw new Error(`unbalanced JSON in "${text}"`);
}

/**
 * The fragment as a value: `$NAME` outside strings becomes a capture marker, `$NAME` inside a
 * string is replaced by its bound value (an unbound one is an error). With `bound` null, only
 * the syntax is checked and names are left as they are.
 */
export function compileFragment(fragment, bound) {
  let out = '';
  let inString = false;
  for (let i = 0; i < fragment.length; i++) {
    const c = fragment[i];
    if (inString) {
      if (c === '\\') {
        out += c + fragment[++i];
        continue;
      }
      if (c === '"') inString = false;
      out += c;
    } else if (c === '"') {
      inString = true;
      out += c;
    } else if (c === '$') {
      const name = /^\$([A-Z][A-Z0-9_]*)/.exec(fragment.slice(i));
      if (!name) throw new Error(`"$" without a NAME in ${fragment}`);
      out += JSON.stringify(CAPTURE + name[1]);
      i += name[0].length - 1;
    } else out += c;
  }
  let value;
  try {
    value = JSON.parse(out);
  } catch (e) {
    throw new Error(`the expected answer ${fragment} is not JSON: ${e.message}`);
  }
  return bound ? interpolate(value, bound) : value;
}

function interpolate(value, bound) {
  if (typeof value === 'string') {
    if (value.startsWith(CAPTURE)) return value;
    return value.replace(NAME, (_, name) => {
      if (!(name in bound)) throw new Error(`$${name} is used in an expected answer before an example binds it`);
      return String(bound[name]);
    });
  }
  if (Array.isArray(value)) return value.map((v) => interpolate(v, bound));
  if (value && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, interpolate(v, bound)]));
  }
  return value;
}

/**
 * Matches `actual` against a compiled fragment. Answers { mismatches: [text], bindings } where
 * bindings are the names this fragment binds (only meaningful when there is no mismatch).
 */
export function matchFragment(actual, expected, bound) {
  const mismatches = [];
  const bindings = {};
  const walk = (a, e, path) => {
    if (typeof e === 'string' && e.startsWith(CAPTURE)) {
      const name = e.slice(CAPTURE.length);
      const known = name in bindings ? bindings[name] : bound[name];
      if (a === undefined || a === null) mismatches.push(`${path}: expected a value for $${name}, got ${JSON.stringify(a)}`);
      else if (known === undefined) bindings[name] = a;
      else if (JSON.stringify(a) !== JSON.stringify(known)) {
        mismatches.push(`${path}: expected $${name} = ${JSON.stringify(known)}, got ${JSON.stringify(a)}`);
      }
    } else if (Array.isArray(e)) {
      if (!Array.isArray(a) || a.length < e.length) {
        mismatches.push(`${path}: expected an array of at least ${e.length}, got ${JSON.stringify(a)}`);
      } else e.forEach((v, i) => walk(a[i], v, `${path}[${i}]`));
    } else if (e && typeof e === 'object') {
      if (!a || typeof a !== 'object' || Array.isArray(a)) {
        mismatches.push(`${path}: expected an object, got ${JSON.stringify(a)}`);
      } else for (const [k, v] of Object.entries(e)) walk(a[k], v, `${path}.${k}`);
    } else if (a !== e) {
      mismatches.push(`${path}: expected ${JSON.stringify(e)}, got ${JSON.stringify(a)}`);
    }
  };
  walk(actual, expected, 'body');
  return { mismatches, bindings };
}

/** The `$NAME`s a command uses. */
export function namesUsed(command) {
  return [...new Set([...command.matchAll(NAME)].map((m) => m[1]))];
}

/**
 * GitHub's anchor for a heading: lower case, markup and punctuation dropped (letters, digits,
 * `_`, `-` and spaces kept), spaces to `-`; a repeated anchor gets `-1`, `-2`, ...
 */
export function headingAnchors(text) {
  const anchors = new Set();
  const seen = new Map();
  const inCode = new Set(fencedBlocks(text).flatMap((b) => [b.startLine, ...b.lines.map((l) => l.line), b.startLine + b.lines.length + 1]));
  text.split('\n').forEach((line, i) => {
    const h = /^#{1,6}\s+(.*?)\s*#*\s*$/.exec(line);
    if (!h || inCode.has(i + 1)) return;
    const plain = h[1].replace(/\[([^\]]*)\]\([^)]*\)/g, '$1');
    const base = plain.toLowerCase().replace(/[^\p{L}\p{M}\p{N}\p{Pc} -]/gu, '').replace(/ /g, '-');
    const n = seen.get(base) ?? 0;
    seen.set(base, n + 1);
    anchors.add(n ? `${base}-${n}` : base);
  });
  // Explicit HTML anchors: <a id="..."> / <a name="...">.
  for (const m of text.matchAll(/<a\s+(?:id|name)="([^"]+)"/g)) anchors.add(m[1]);
  return anchors;
}

/**
 * Every link of a Markdown text outside code: [{ line, target }]: inline `[text](target)`,
 * images, and reference definitions `[name]: target`.
 */
export function markdownLinks(text) {
  const links = [];
  const inCode = new Set(fencedBlocks(text).flatMap((b) => [b.startLine, ...b.lines.map((l) => l.line), b.startLine + b.lines.length + 1]));
  text.split('\n').forEach((raw, i) => {
    if (inCode.has(i + 1)) return;
    const line = raw.replace(/`[^`]*`/g, '``'); // inline code is not a link
    for (const m of line.matchAll(/!?\[[^\]]*\]\(\s*<?([^)\s>]+)>?(?:\s+"[^"]*")?\s*\)/g)) links.push({ line: i + 1, target: m[1] });
    const def = /^\s{0,3}\[[^\]]+\]:\s*<?(\S+?)>?(?:\s.*)?$/.exec(line);
    if (def) links.push({ line: i + 1, target: def[1] });
  });
  return links;
}
