// The machinery the certification plans' modules share (basic.mjs,
// config.mjs, logout.mjs; conformance.mjs runs them): discovery, the
// clients and the user, authorization requests as the suite builds them, a
// person's way through Gatehouse's screens (`drive`), and the checks of
// authorization responses, of the code's redemption and of userinfo.
//
// The browser part is done by hand (rp.mjs's Browser: a cookie jar and no
// automatic redirects), signing in through the real HTML forms;
// openid-client redeems codes and validates ID tokens (signature through
// the JWKS, iss, aud, exp, nonce, at_hash, and iss and state of the
// authorization response). Clients and user: tests/conformance/seed.toml.

import crypto from 'node:crypto';
import * as client from 'openid-client';
import * as jose from 'jose';
import { CheckError, check, htmlUnescape } from '../rp/rp.mjs';

export const ISSUER = process.env.GATEHOUSE_ISSUER;
export const CALLBACK_BASE = 'https://rp.conformance.test/test/a/gatehouse';
export const CLIENT = {
  clientId: 'oidcc-client',
  secret: 'oidcc-client-secret-0123456789abcdef',
  redirectUri: `${CALLBACK_BASE}/callback`,
  postLogoutRedirectUri: `${CALLBACK_BASE}/post_logout_redirect`,
};
export const CLIENT2 = {
  clientId: 'oidcc-client2',
  secret: 'oidcc-client2-secret-0123456789abcdef',
  redirectUri: `${CALLBACK_BASE}/callback2`,
};
export const USER = { username: 'oidcc', password: 'conformance suite password 1' };

// The suite's own words when a module does not apply or cannot be tested.
export const NOT_FOR_STATIC_CLIENT =
  'not applicable to client_registration=static_client (the module needs dynamic client registration; discovery has no registration_endpoint)';
export const SCOPES_NOT_SUPPORTED =
  "scopes_supported from the discovery endpoint indicates the server doesn't support the scopes required for this test; so the test has been skipped";
export const REQUEST_NOT_SUPPORTED =
  "The 'request_not_supported' error from the authorization endpoint indicates that it does not support request objects (which is permitted behaviour), so request objects cannot be tested.";
export const REQUEST_URI_NOT_SUPPORTED =
  "The 'request_uri_not_supported' error from the authorization endpoint indicates that it does not support request_uri (which is permitted behaviour), so request_uri cannot be tested.";

// Thrown by a module the suite would skip, with the suite's reason.
export class Skip extends Error {}

// ---------------------------------------------------------------------------
// Discovery, clients, requests

export let discovery;

export async function loadDiscovery() {
  const response = await fetch(`${ISSUER}/.well-known/openid-configuration`);
  check(response.status === 200, `discovery answered ${response.status}`);
  discovery = { response, json: await response.json() };
}

export async function configure(c = CLIENT, auth = 'client_secret_basic') {
  const method = auth === 'client_secret_post' ? client.ClientSecretPost : client.ClientSecretBasic;
  return client.discovery(
    new URL(ISSUER),
    c.clientId,
    { redirect_uris: [c.redirectUri], token_endpoint_auth_method: auth },
    method(c.secret),
  );
}

export function random(bytes = 32) {
  return crypto.randomBytes(bytes).toString('base64url');
}

// A request as the suite builds it: response_type=code, the client's
// scope, redirect_uri, a fresh state and nonce; `extra` adds or (undefined)
// removes parameters.
export function authRequest(c = CLIENT, extra = {}) {
  const params = {
    client_id: c.clientId,
    redirect_uri: c.redirectUri,
    response_type: 'code',
    scope: 'openid',
    state: random(),
    nonce: random(),
    ...extra,
  };
  for (const [k, v] of Object.entries(params)) if (v === undefined) delete params[k];
  const url = new URL(discovery.json.authorization_endpoint);
  for (const [k, v] of Object.entries(params)) url.searchParams.set(k, v);
  return { params, url };
}

// The first form of a page: its action and hidden fields.
export function form(res) {
  const tag = res.body.match(/<form[^>]*action="([^"]*)"/i);
  check(tag, `no form on ${res.url} (${res.status})`);
  const fields = {};
  for (const input of res.body.matchAll(/<input[^>]*type="hidden"[^>]*>/gi)) {
    const name = input[0].match(/\bname="([^"]*)"/i);
    const value = input[0].match(/\bvalue="([^"]*)"/i);
    if (name) fields[name[1]] = value ? htmlUnescape(value[1]) : '';
  }
  return { action: new URL(htmlUnescape(tag[1]), res.url), fields };
}

export function describe(res) {
  const alert = res.body.match(/role="alert"[^>]*>([^<]*)</);
  const text = alert ? htmlUnescape(alert[1]).trim() : res.body.replace(/\s+/g, ' ').slice(0, 200);
  return `${res.status} from ${res.url} (Location: ${res.location ?? '-'}; ${text})`;
}

export function isAt(location, uri) {
  const want = new URL(uri);
  return location && location.origin === want.origin && location.pathname === want.pathname;
}

// Follows an authorization request through Gatehouse's screens like a
// person would: signs in when asked (unless `login` is false, when being
// asked fails the check) and allows consent. Returns the callback (the
// redirect to `c`'s redirect URI), how many times the login form was shown,
// or the page the journey stopped on.
export async function drive(browser, start, { c = CLIENT, login = true, method = 'GET', body } = {}) {
  let res = method === 'POST' ? await browser.post(start, body) : await browser.get(start);
  let logins = 0;
  for (let hop = 0; hop < 12; hop += 1) {
    if (res.status >= 300 && res.status < 400 && res.location) {
      if (isAt(res.location, c.redirectUri)) return { callback: res.location, logins, status: res.status };
      check(
        res.location.origin === new URL(ISSUER).origin,
        `redirected to neither Gatehouse nor the client: ${describe(res)}`,
      );
      res = await browser.get(res.location);
      continue;
    }
    if (res.status === 200 && /name="password"/.test(res.body)) {
      check(login, `a sign-in form was shown where none may be: ${res.url}`);
      logins += 1;
      const f = form(res);
      res = await browser.post(f.action, { ...f.fields, username: USER.username, password: USER.password });
      continue;
    }
    if (res.status === 200 && /name="decision" value="allow"/.test(res.body)) {
      const f = form(res);
      res = await browser.post(f.action, { ...f.fields, decision: 'allow' });
      continue;
    }
    return { page: res, logins };
  }
  throw new CheckError(`too many redirects from ${start}`);
}

// An authorization response: at the redirect URI, in the query, with the
// issuer (RFC 9207) and the state of the request.
export function response(result, request) {
  check(result.callback, `expected a redirect to the client, got ${result.page && describe(result.page)}`);
  const q = result.callback.searchParams;
  check(q.get('iss') === ISSUER, `authorization response iss is ${q.get('iss')}`);
  check(!result.callback.hash, `authorization response in the fragment: ${result.callback}`);
  if (request.params.state !== undefined) {
    check(q.get('state') === request.params.state, `state not returned intact: ${q.get('state')}`);
  }
  return q;
}

export function expectAuthError(result, request, error) {
  const q = response(result, request);
  check(q.get('error') === error, `expected error=${error}, got ${result.callback}`);
  check(!q.get('code'), `error response carries a code: ${result.callback}`);
  const description = q.get('error_description');
  if (description !== null) {
    check(/^[\x20-\x21\x23-\x5B\x5D-\x7E]*$/.test(description), `error_description has bad characters`);
  }
}

// Redeems the code with openid-client, which checks the ID token (signature
// by JWKS, iss, aud, exp, iat, nonce, at_hash) and the response's iss and
// state; then the checks of the suite's ValidateIdToken* conditions.
export async function redeem(config, result, request, extraChecks = {}) {
  const q = response(result, request);
  check(q.get('code'), `no code in ${result.callback}`);
  const tokens = await client.authorizationCodeGrant(config, result.callback, {
    expectedState: request.params.state ?? client.skipStateCheck,
    expectedNonce: request.params.nonce,
    idTokenExpected: true,
    ...extraChecks,
  });
  check(tokens.token_type?.toLowerCase() === 'bearer', `token_type ${tokens.token_type}`);
  check(Number.isInteger(tokens.expires_in) && tokens.expires_in > 0, `expires_in ${tokens.expires_in}`);
  const claims = tokens.claims();
  const header = jose.decodeProtectedHeader(tokens.id_token);
  check(header.kid, 'ID token header has no kid');
  const jwks = await (await fetch(discovery.json.jwks_uri)).json();
  const key = jwks.keys.find((k) => k.kid === header.kid);
  check(key, `ID token kid ${header.kid} is not in the JWKS`);
  check(discovery.json.id_token_signing_alg_values_supported.includes(header.alg), `ID token alg ${header.alg}`);
  await jose.compactVerify(tokens.id_token, await jose.importJWK(key, header.alg));
  check(typeof claims.sub === 'string' && claims.sub.length > 0, `ID token sub ${claims.sub}`);
  check(Number.isInteger(claims.iat) && Number.isInteger(claims.exp) && claims.exp > claims.iat, 'ID token iat/exp');
  if (request.params.nonce === undefined) check(claims.nonce === undefined, 'ID token has a nonce none was sent');
  return { tokens, claims, code: q.get('code') };
}

export async function signedIn(browser, config, extra = {}, opts = {}) {
  const request = authRequest(opts.c ?? CLIENT, extra);
  const result = await drive(browser, request.url, opts);
  const redeemed = await redeem(config, result, request);
  return { ...redeemed, request, result };
}

export async function userinfo(accessToken, how = 'get') {
  const headers = { accept: 'application/json' };
  let body;
  let method = 'GET';
  if (how === 'body') {
    method = 'POST';
    headers['content-type'] = 'application/x-www-form-urlencoded';
    body = new URLSearchParams({ access_token: accessToken }).toString();
  } else {
    headers.authorization = `Bearer ${accessToken}`;
    if (how === 'post') method = 'POST';
  }
  const res = await fetch(discovery.json.userinfo_endpoint, { method, headers, body });
  const text = await res.text();
  return { status: res.status, type: res.headers.get('content-type') ?? '', text, res };
}

// OpenID Connect Core §5.3.2 and the types of §5.1 (ValidateUserInfoStandardClaims).
export async function validUserinfo(accessToken, sub, how = 'get') {
  const u = await userinfo(accessToken, how);
  check(u.status === 200, `userinfo (${how}) answered ${u.status}: ${u.text}`);
  check(u.type.startsWith('application/json'), `userinfo content-type ${u.type}`);
  const json = JSON.parse(u.text);
  check(json.sub === sub, `userinfo sub ${json.sub}, ID token sub ${sub}`);
  const strings = ['name', 'given_name', 'family_name', 'nickname', 'preferred_username', 'email', 'website',
    'gender', 'zoneinfo', 'locale', 'phone_number'];
  for (const s of strings) if (s in json) check(typeof json[s] === 'string', `userinfo ${s} is not a string`);
  for (const b of ['email_verified', 'phone_number_verified']) {
    if (b in json) check(typeof json[b] === 'boolean', `userinfo ${b} is not a boolean`);
  }
  if ('updated_at' in json) check(Number.isInteger(json.updated_at), 'userinfo updated_at is not a number');
  if ('birthdate' in json) check(/^\d{4}(-\d{2}-\d{2})?$/.test(json.birthdate), `birthdate ${json.birthdate}`);
  if ('address' in json) check(typeof json.address === 'object', 'userinfo address is not an object');
  return json;
}

// ---------------------------------------------------------------------------
// https endpoints, checked by oidcc-config and the logout plan's discovery module

export function isHttpsUrl(value) {
  try {
    const url = new URL(value);
    return url.protocol === 'https:' && !url.hash;
  } catch {
    return false;
  }
}

// CheckDiscEndpointAllEndpointsAreHttps: every *_endpoint and jwks_uri.
export function allEndpointsHttps(json) {
  for (const [k, v] of Object.entries(json)) {
    if (k.endsWith('_endpoint') || k === 'jwks_uri') check(isHttpsUrl(v), `${k} is not an https URL: ${v}`);
  }
}
