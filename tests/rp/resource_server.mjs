// Resource-server check for Gatehouse: an API validates the access tokens it
// is handed with an off-the-shelf JWT library (panva's jose), the way an API
// behind Gatehouse would: keys from the JWKS (createRemoteJWKSet), then
// jwtVerify with the issuer, its own identifier as the audience and the
// RFC 9068 type at+jwt. Tokens come from openid-client: client credentials
// with `resource` (RFC 8707) for each API, and a user's token from the
// authorization-code flow with `resource`, refreshed with it.
//
// The two APIs of tests/rp/access-seed.toml sign differently, so both
// algorithms beside RS256 are verified from the published JWKS:
// https://api.example.test/ with ES256, https://ledger.example.test/ with
// EdDSA.
//
// Usage: GATEHOUSE_ISSUER=http://127.0.0.1:PORT node resource_server.mjs

import * as jose from 'jose';
import * as client from 'openid-client';
import {
  Browser,
  CheckError,
  ISSUER,
  check,
  codeFlow,
  expectResponseBodyError,
  runCases,
} from './rp.mjs';

const API = 'https://api.example.test/';
const LEDGER = 'https://ledger.example.test/';

const WORKER = { clientId: 'worker', secret: 'worker-secret-change-me' };

// One JWKS cache for the whole run, as an API would keep one.
let jwks;
async function remoteJwks(config) {
  if (!jwks) {
    const uri = config.serverMetadata().jwks_uri;
    check(uri, 'discovery has no jwks_uri');
    jwks = jose.createRemoteJWKSet(new URL(uri));
  }
  return jwks;
}

async function workerConfig(rec) {
  const config = await client.discovery(
    new URL(ISSUER),
    WORKER.clientId,
    { token_endpoint_auth_method: 'client_secret_basic' },
    client.ClientSecretBasic(WORKER.secret),
    { execute: [client.allowInsecureRequests], [client.customFetch]: rec.fetchImpl },
  );
  config[client.customFetch] = rec.fetchImpl;
  return config;
}

async function serviceToken(config, resource) {
  const tokens = await client.clientCredentialsGrant(config, { resource });
  check(tokens.access_token, `no access_token for ${resource}`);
  return tokens;
}

// What the API at `audience` does with a bearer token.
function verifyAt(token, keys, audience) {
  return jose.jwtVerify(token, keys, { issuer: ISSUER, audience, typ: 'at+jwt' });
}

async function expectAccepted(token, keys, audience, alg, what) {
  const { payload, protectedHeader } = await verifyAt(token, keys, audience);
  check(payload.aud === audience, `${what}: aud ${JSON.stringify(payload.aud)}, expected ${audience}`);
  check(protectedHeader.alg === alg, `${what}: header alg ${protectedHeader.alg}, expected ${alg}`);
  return { payload, protectedHeader };
}

// jose refuses a token for another audience with a claim validation error
// naming `aud`; anything else (a bad signature, an unknown key) would mean
// the token was refused for the wrong reason.
async function expectRefusedForAudience(token, keys, audience, what) {
  let result;
  try {
    result = await verifyAt(token, keys, audience);
  } catch (err) {
    if (err.code === 'ERR_JWT_CLAIM_VALIDATION_FAILED' && err.claim === 'aud') return;
    throw new CheckError(
      `${what}: expected ERR_JWT_CLAIM_VALIDATION_FAILED on aud, got ${err.code ?? ''} ${err.claim ?? ''}: ${err.message}`,
    );
  }
  throw new CheckError(`${what}: the API at ${audience} accepted it: ${JSON.stringify(result.payload)}`);
}

// ---------------------------------------------------------------------------
// Cases

async function es256Case(rec) {
  const config = await workerConfig(rec);
  const keys = await remoteJwks(config);
  const tokens = await serviceToken(config, API);
  const { payload, protectedHeader } = await expectAccepted(tokens.access_token, keys, API, 'ES256', 'ES256 token');
  check(payload.client_id === 'worker', `client_id ${payload.client_id}`);
  check(payload.sub === 'worker', `sub ${payload.sub}, expected the client itself`);
  check(payload.scope === 'read write', `scope ${JSON.stringify(payload.scope)}, expected the API's scopes`);
  // access_token_ttl = 300 for this API.
  check(payload.exp - payload.iat === 300, `lifetime ${payload.exp - payload.iat}s, expected the API's 300`);
  return `alg=${protectedHeader.alg} kid=${protectedHeader.kid.slice(0, 8)}… scope="${payload.scope}"`;
}

async function eddsaCase(rec) {
  const config = await workerConfig(rec);
  const keys = await remoteJwks(config);
  const tokens = await serviceToken(config, LEDGER);
  const { payload, protectedHeader } = await expectAccepted(
    tokens.access_token,
    keys,
    LEDGER,
    'EdDSA',
    'EdDSA token',
  );
  check(payload.scope === 'post', `scope ${JSON.stringify(payload.scope)}, expected the ledger's`);
  return `alg=${protectedHeader.alg} kid=${protectedHeader.kid.slice(0, 8)}… scope="${payload.scope}"`;
}

async function wrongAudienceCase(rec) {
  const config = await workerConfig(rec);
  const keys = await remoteJwks(config);
  const forApi = await serviceToken(config, API);
  const forLedger = await serviceToken(config, LEDGER);
  await expectRefusedForAudience(forLedger.access_token, keys, API, 'the ledger token at the example API');
  await expectRefusedForAudience(forApi.access_token, keys, LEDGER, 'the example API token at the ledger');
  // Without `resource` the token is for the client itself.
  const own = await client.clientCredentialsGrant(config);
  await expectRefusedForAudience(own.access_token, keys, API, 'a token without resource at the example API');
  return 'each API refuses the other\'s token and the client\'s own';
}

async function unknownResourceCase(rec) {
  const config = await workerConfig(rec);
  await expectResponseBodyError(
    client.clientCredentialsGrant(config, { resource: 'https://unknown.example.test/' }),
    'invalid_target',
    'client credentials for an API that does not exist',
  );
  await expectResponseBodyError(
    client.clientCredentialsGrant(config, { resource: API, scope: 'post' }),
    'invalid_scope',
    'client credentials for the example API with the ledger\'s scope',
  );
  return 'invalid_target, invalid_scope';
}

// A person's token for the example API: the code flow with `resource` on
// both the authorization and the token request (RFC 8707 §2.1, §2.2), then a
// refresh with the same resource. The API sees the user, the client, its own
// scope and alice's roles for the API (reader, by engineering), not the
// client's (editor) nor the ledger's (bookkeeper).
async function userTokenCase(rec) {
  const { config, tokens, claims } = await codeFlow(rec, 'alice', 'portal', new Browser(), {
    authorization: { scope: 'openid profile offline_access read', resource: API },
    token: { resource: API },
  });
  const keys = await remoteJwks(config);
  const first = await expectAccepted(tokens.access_token, keys, API, 'ES256', 'user token');
  const p = first.payload;
  const json = JSON.stringify(p);
  check(p.sub === claims.sub, `sub ${p.sub}, expected the ID token's ${claims.sub}`);
  check(p.client_id === 'portal', `client_id: ${json}`);
  check(p.scope.split(' ').includes('read'), `scope lacks read: ${json}`);
  check(Array.isArray(p.roles) && p.roles.includes('reader'), `roles lack reader: ${json}`);
  for (const other of ['editor', 'bookkeeper', 'auditor']) {
    check(!p.roles.includes(other), `roles include ${other}: ${json}`);
  }
  await expectRefusedForAudience(tokens.access_token, keys, LEDGER, 'the user token at the ledger');

  check(tokens.refresh_token, 'no refresh_token although offline_access was granted');
  const refreshed = await client.refreshTokenGrant(config, tokens.refresh_token, { resource: API });
  const again = await expectAccepted(refreshed.access_token, keys, API, 'ES256', 'refreshed user token');
  check(again.payload.sub === claims.sub, `refreshed token sub ${again.payload.sub}`);
  check(
    JSON.stringify(again.payload.roles) === JSON.stringify(p.roles),
    `refreshed token roles ${JSON.stringify(again.payload.roles)}, expected ${JSON.stringify(p.roles)}`,
  );
  // The grant is for the example API; it cannot be turned into a ledger token.
  await expectResponseBodyError(
    client.refreshTokenGrant(config, refreshed.refresh_token, { resource: LEDGER }),
    'invalid_target',
    'refreshing for another API',
  );
  return `alg=${first.protectedHeader.alg} roles=${p.roles} scope="${p.scope}"`;
}

// The ledger signs with EdDSA also for a person's token.
async function userTokenEddsaCase(rec) {
  const { config, tokens } = await codeFlow(rec, 'alice', 'portal', new Browser(), {
    authorization: { scope: 'openid post', resource: LEDGER },
    token: { resource: LEDGER },
  });
  const keys = await remoteJwks(config);
  const { payload, protectedHeader } = await expectAccepted(
    tokens.access_token,
    keys,
    LEDGER,
    'EdDSA',
    'user ledger token',
  );
  check(
    JSON.stringify(payload.roles) === '["bookkeeper"]',
    `roles ${JSON.stringify(payload.roles)}, expected ["bookkeeper"]`,
  );
  await expectRefusedForAudience(tokens.access_token, keys, API, 'the user ledger token at the example API');
  return `alg=${protectedHeader.alg} roles=${payload.roles}`;
}

await runCases([
  { name: 'ES256 token for its API (client credentials)', run: es256Case },
  { name: 'EdDSA token for its API (client credentials)', run: eddsaCase },
  { name: 'a token for another API is refused', run: wrongAudienceCase },
  { name: 'unknown resource and another API\'s scope are refused', run: unknownResourceCase },
  { name: 'user token for the API (code flow and refresh with resource)', run: userTokenCase },
  { name: 'user token for the EdDSA API (code flow with resource)', run: userTokenEddsaCase },
]);
