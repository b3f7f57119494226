// A local stand-in for a Cloudflare Access team domain: serves /cdn-cgi/access/certs with a
// test RSA key, and signs Access tokens with it as Access does for the people it lets through
// (`Cf-Access-Jwt-Assertion`). Plain http on 127.0.0.1, which ACCESS_TEAM_DOMAIN allows for
// tests only.
//
//   const team = await startAccessTeam();
//   const w = await startWorker({ vars: team.vars({ 'ada@acme.test': 'admin' }) });
//   const jwt = await team.token('ada@acme.test');          // { exp: ... } overrides claims
//   team.close();
import { createServer } from 'node:http';

import { SignJWT, exportJWK, generateKeyPair } from 'jose';

/** The Access application's AUD tag the tokens carry. */
export const ACCESS_AUD = '4714c1358e65fe4b408ad6d432a5f878f08194bdb4752441fd56faefa9b2b6f2';

export async function startAccessTeam() {
  const pair = await generateKeyPair('RS256', { extractable: true });
  const kid = 'access-test-key';
  const jwk = { ...(await exportJWK(pair.publicKey)), kid, alg: 'RS256', use: 'sig' };
  let fetches = 0;
  const server = createServer((req, res) => {
    if (req.url !== '/cdn-cgi/access/certs') {
      res.writeHead(404);
      return res.end();
    }
    fetches += 1;
    res.writeHead(200, { 'content-type': 'application/json', 'cache-control': 'max-age=300' });
    res.end(JSON.stringify({ keys: [jwk], public_cert: { kid, cert: '' }, public_certs: [] }));
  });
  await new Promise((done) => server.listen(0, '127.0.0.1', done));
  const url = `http://127.0.0.1:${server.address().port}`;
  return {
    url,
    kid,
    /** How often the keys were fetched. */
    fetches: () => fetches,
    /** The Worker vars for this team, with `roles` as ADMIN_ROLES. */
    vars: (roles) => ({ ACCESS_TEAM_DOMAIN: url, ACCESS_AUD: `other-app,${ACCESS_AUD}`, ADMIN_ROLES: JSON.stringify(roles) }),
    /** An Access token for `email`, issued now for an hour; `over` replaces or adds claims. */
    token: (email, over = {}) => {
      const now = Math.floor(Date.now() / 1000);
      const claims = {
        iss: url, aud: [ACCESS_AUD], sub: '7335d417-61da-459d-899c-0a01c76a2f94', iat: now, nbf: now, exp: now + 3600,
        email, type: 'app', identity_nonce: 'n', country: 'NL', ...over,
      };
      return new SignJWT(claims).setProtectedHeader({ alg: 'RS256', kid }).sign(pair.privateKey);
    },
    close: () => new Promise((done) => server.close(done)),
  };
}
