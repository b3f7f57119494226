// Reading a client's public keys from the forms: a JWKS URL, a pasted JWK Set, a PEM file.
// Each reader shows its error next to the field and returns null when the input is refused.
import { $, showError } from '../lib/dom.js';
import { limit } from '../lib/limits.js';

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
