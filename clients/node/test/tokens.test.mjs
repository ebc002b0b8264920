// Tokens minted through /test/v1/tokens, checked the way a resource server
// checks them: jose against the provider's JWKS.

import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import * as jose from 'jose';
import { GatehouseError, startGatehouse } from '../index.js';
import { SEED } from './support.mjs';

const API = 'https://api.example.test/';

let gh;
let jwks;
before(async () => {
  gh = await startGatehouse({ seed: SEED });
  jwks = jose.createRemoteJWKSet(new URL(`${gh.issuer}/jwks`));
});
after(() => gh?.stop());

test('a minted access token verifies against the JWKS with the claims asked for', async () => {
  const before = Math.floor(Date.now() / 1000);
  const { token, expiresAt } = await gh.mintToken({
    clientId: 'app',
    sub: 'alice',
    aud: API,
    scope: 'read',
    claims: { tenant: 'acme' },
    expiresIn: 120,
  });
  assert.ok(expiresAt >= before + 119 && expiresAt <= before + 122, `expires_at ${expiresAt}`);
  const { payload, protectedHeader } = await jose.jwtVerify(token, jwks, {
    issuer: gh.issuer,
    audience: API,
  });
  assert.equal(protectedHeader.alg, 'RS256');
  assert.equal(payload.sub, 'alice');
  assert.equal(payload.client_id, 'app');
  assert.equal(payload.scope, 'read');
  assert.equal(payload.tenant, 'acme');
  assert.equal(payload.exp, expiresAt);
});

for (const alg of ['ES256', 'EdDSA']) {
  test(`a token signed with ${alg} verifies against the JWKS`, async () => {
    const { token } = await gh.mintToken({ clientId: 'app', sub: 'alice', aud: API, alg });
    // The provider makes and publishes a key of this algorithm at the first
    // token that asks for it, so the JWKS is read after minting.
    const fresh = jose.createRemoteJWKSet(new URL(`${gh.issuer}/jwks`));
    const { protectedHeader } = await jose.jwtVerify(token, fresh, { issuer: gh.issuer, audience: API });
    assert.equal(protectedHeader.alg, alg);
  });
}

test('an expired token is refused', async () => {
  const { token, expiresAt } = await gh.mintToken({ clientId: 'app', sub: 'alice', aud: API, expiresIn: -60 });
  assert.ok(expiresAt < Date.now() / 1000, `expires_at ${expiresAt} is not in the past`);
  await assert.rejects(jose.jwtVerify(token, jwks, { issuer: gh.issuer, audience: API }), {
    code: 'ERR_JWT_EXPIRED',
  });
});

test('a token for another audience is refused for this one', async () => {
  const { token } = await gh.mintToken({ clientId: 'app', sub: 'alice', aud: ['https://other.example.test/'] });
  const { payload } = await jose.jwtVerify(token, jwks, {
    issuer: gh.issuer,
    audience: 'https://other.example.test/',
  });
  assert.equal(payload.sub, 'alice');
  await assert.rejects(jose.jwtVerify(token, jwks, { issuer: gh.issuer, audience: API }), {
    code: 'ERR_JWT_CLAIM_VALIDATION_FAILED',
    claim: 'aud',
  });
});

test('an ID token names the client as its audience', async () => {
  const { token } = await gh.mintToken({ clientId: 'app', sub: 'bob', kind: 'id_token', claims: { email: 'bob@example.com' } });
  const { payload } = await jose.jwtVerify(token, jwks, { issuer: gh.issuer, audience: 'app' });
  assert.equal(payload.sub, 'bob');
  assert.equal(payload.email, 'bob@example.com');
});

test('a bad request is an error with the provider\'s description', async () => {
  await assert.rejects(gh.mintToken({ clientId: 'app', sub: 'alice', kind: 'no_such_kind' }), (error) => {
    assert.ok(error instanceof GatehouseError);
    assert.equal(error.status, 400);
    assert.equal(error.error, 'invalid_request');
    assert.ok(error.errorDescription, 'no error_description');
    return true;
  });
});
