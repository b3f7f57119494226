// Reading a client's public keys from the forms: a JWKS URL, a pasted JWK Set, a PEM file.
// Each reader shows its error next to the field and returns null when the input is refused.
import { $, h, showError } from '../lib/dom.js';
import { limit } from '../lib/limits.js';
import { describedBy, errorText } from './markup.js';

const PEM_TYPES = '.pem,.pub,.crt,.cer,.txt,application/x-pem-file,text/plain';

// The three key fields, {uri, pem, jwks}; the create form shows one at a time (`creating`).
export function keyFields(prefix, creating) {
  const one = (name, label, control, ...after) => {
    const id = `${prefix}${name}`;
    return h('div', { class: 'field', id: `${id}-field`, hidden: creating },
      h('label', { for: id }, label),
      h(control.tag, { id, ...control.attrs, ...describedBy(...(creating && name === 'pem' ? [`${id}-hint`] : []), `${id}-error`) }),
      ...after,
      errorText(`${id}-error`));
  };
  return {
    uri: one('jwks-uri', 'JWKS URL', {
      tag: 'input',
      attrs: { type: 'url', placeholder: creating ? 'https://app.example.com/.well-known/jwks.json' : undefined, autocomplete: 'off', spellcheck: 'false' },
    }),
    pem: one('pem', creating ? 'PEM public key file' : 'Replace with a PEM public key file', { tag: 'input', attrs: { type: 'file', accept: PEM_TYPES } },
      creating ? h('p', { id: `${prefix}pem-hint`, class: 'hint' }, 'The public key only (', h('code', {}, '-----BEGIN PUBLIC KEY-----'), '). Never upload a private key.') : null),
    jwks: one('jwks', 'JWK Set (JSON)', {
      tag: 'textarea',
      attrs: { rows: '6', class: 'mono', spellcheck: 'false', placeholder: creating ? '{"keys": [{"kty": "OKP", "crv": "Ed25519", "x": "…", "kid": "…"}]}' : undefined },
    }),
  };
}

const PEM_MAX = 16 * 1024; // a sanity bound for a public key file, not a server rule

// The URL, '' when empty and allowed, or null when refused.
export function readJwksUri(inputId, errId, required) {
  const u = $(inputId).value.trim();
  if ((u || required) && !/^https?:\/\/\S+$/i.test(u)) {
    showError(errId, 'Enter the https:// URL of the JWK Set.', inputId);
    return null;
  }
  return u;
}

export function parseJwks(text, errId, fieldId) {
  const fail = (message) => {
    showError(errId, message, fieldId);
    return null;
  };
  let v;
  try {
    v = JSON.parse(text);
  } catch (e) {
    return fail(`Not valid JSON: ${e.message}`);
  }
  if (!v || typeof v !== 'object' || Array.isArray(v) || !Array.isArray(v.keys) || v.keys.length === 0) {
    return fail('Expected a JWK Set: {"keys": [ … ]} with at least one key.');
  }
  if (v.keys.length > limit('client.keys_max')) return fail(`A JWK Set may hold at most ${limit('client.keys_max')} keys.`);
  if (v.keys.some((k) => !k || typeof k !== 'object' || Array.isArray(k))) return fail('Every entry of "keys" must be a JWK object.');
  if (v.keys.some((k) => 'd' in k || 'p' in k || 'k' in k)) {
    return fail('A key holds private or symmetric key material ("d", "p" or "k"). Paste public keys only.');
  }
  return v;
}

export async function readPem(inputId, errId) {
  const fail = (message) => {
    showError(errId, message, inputId);
    return null;
  };
  const file = $(inputId).files && $(inputId).files[0];
  if (!file) return fail('Choose a PEM file holding the public key.');
  if (file.size > PEM_MAX) return fail('That file is too large for a public key (over 16 KiB).');
  const text = await file.text();
  if (/PRIVATE KEY/.test(text)) return fail('This file holds a private key. Upload the public key only, and keep the private key secret.');
  if (!/-----BEGIN [A-Z0-9 ]+-----/.test(text)) return fail('This does not look like a PEM file (no "-----BEGIN …-----" line).');
  return text;
}
