#!/usr/bin/env node
// Prints the JWK Set to register on the issuer client the gateway introspects as, from the
// gateway's INTROSPECTION_KEY_SEED (crates/gateway README, "Keys and revocation"): the Ed25519 public key
// of that seed, named by its RFC 7638 thumbprint, which is the kid the gateway's assertions carry.
//
//   printf %s "$SEED" | node scripts/gateway-jwk.mjs
//   INTROSPECTION_KEY_SEED=... node scripts/gateway-jwk.mjs
//
// The seed is read from the environment or standard input, never from the command line (which
// other users of the machine can read), and is never printed.
import { createHash, createPrivateKey, createPublicKey } from 'node:crypto';
import { readFileSync } from 'node:fs';

function fail(message) {
  process.stderr.write(`gateway-jwk: ${message}\n`);
  process.exit(1);
}

const text = (process.env.INTROSPECTION_KEY_SEED ?? readFileSync(0, 'utf8')).trim();
if (!/^[A-Za-z0-9_-]{43}$/.test(text)) {
  fail('INTROSPECTION_KEY_SEED must be base64url (no padding) of 32 bytes');
}
const seed = Buffer.from(text, 'base64url');
if (seed.length !== 32 || seed.toString('base64url') !== text) {
  fail('INTROSPECTION_KEY_SEED must be base64url (no padding) of 32 bytes');
}
// PKCS#8 of an Ed25519 private key (RFC 8410): a fixed prefix, then the 32-byte seed.
const pkcs8 = Buffer.concat([Buffer.from('302e020100300506032b657004220420', 'hex'), seed]);
const { x } = createPublicKey(createPrivateKey({ key: pkcs8, format: 'der', type: 'pkcs8' }))
  .export({ format: 'jwk' });
// RFC 7638: the required members in lexical order, no spaces.
const kid = createHash('sha256')
  .update(JSON.stringify({ crv: 'Ed25519', kty: 'OKP', x }))
  .digest('base64url');
process.stdout.write(`${JSON.stringify({ keys: [{ kty: 'OKP', crv: 'Ed25519', x, kid, alg: 'EdDSA', use: 'sig' }] })}\n`);
