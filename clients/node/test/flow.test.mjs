// A relying party (openid-client) signs alice in through the whole
// authorization code flow with PKCE, with no screen: login_hint and
// test_claims at /authorize sign her in at once.

import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import * as client from 'openid-client';
import { startGatehouse } from '../index.js';
import { APP, SEED } from './support.mjs';

let gh;
before(async () => {
  gh = await startGatehouse({ seed: SEED });
});
after(() => gh?.stop());

test('the code flow with PKCE signs alice in with the claims the test gave her', async () => {
  const config = await client.discovery(
    new URL(gh.issuer),
    APP.clientId,
    undefined,
    client.ClientSecretBasic(APP.secret),
    { execute: [client.allowInsecureRequests] },
  );
  assert.equal(config.serverMetadata().issuer, gh.issuer);

  const verifier = client.randomPKCECodeVerifier();
  const state = client.randomState();
  const nonce = client.randomNonce();
  const url = client.buildAuthorizationUrl(config, {
    redirect_uri: APP.redirectUri,
    scope: 'openid profile email groups',
    state,
    nonce,
    code_challenge: await client.calculatePKCECodeChallenge(verifier),
    code_challenge_method: 'S256',
    login_hint: 'alice',
    test_claims: JSON.stringify({
      email: 'alice@example.com',
      name: 'Alice Example',
      department: 'qa',
      groups: ['staff'],
    }),
  });

  const response = await fetch(url, { redirect: 'manual' });
  assert.equal(response.status, 302, await response.text());
  const location = response.headers.get('location');
  assert.ok(location?.startsWith(`${APP.redirectUri}?`), `redirected to ${location}, not to the client`);
  const callback = new URL(location);
  assert.ok(callback.searchParams.get('code'), `no code in ${callback}`);

  const tokens = await client.authorizationCodeGrant(config, callback, {
    pkceCodeVerifier: verifier,
    expectedState: state,
    expectedNonce: nonce,
    idTokenExpected: true,
  });
  const claims = tokens.claims();
  assert.equal(claims.iss, gh.issuer);
  assert.equal(claims.aud, APP.clientId);
  assert.equal(claims.sub, 'alice');
  assert.equal(claims.email, 'alice@example.com');
  assert.equal(claims.name, 'Alice Example');
  assert.equal(claims.department, 'qa');
  assert.deepEqual(claims.groups, ['staff']);

  const info = await client.fetchUserInfo(config, tokens.access_token, claims.sub);
  assert.equal(info.sub, 'alice');
  assert.equal(info.email, 'alice@example.com');
  assert.equal(info.department, 'qa');
  assert.deepEqual(info.groups, ['staff']);
});

test('a client that is not in the seed gets no code', async () => {
  const url = new URL(`${gh.issuer}/authorize`);
  url.search = new URLSearchParams({
    response_type: 'code',
    client_id: 'nobody',
    redirect_uri: APP.redirectUri,
    scope: 'openid',
    state: 's',
    code_challenge: 'E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM',
    code_challenge_method: 'S256',
    login_hint: 'alice',
  }).toString();
  const response = await fetch(url, { redirect: 'manual' });
  assert.equal(response.status, 400);
});
