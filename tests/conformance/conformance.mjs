// The OpenID Foundation's certification plans for an OpenID Provider, as
// checks against a running Gatehouse: every module of
//   oidcc-basic-certification-test-plan             (code, client_secret_basic)
//   oidcc-config-certification-test-plan            (discovery, static client)
//   oidcc-rp-initiated-logout-certification-test-plan
// by its name in the suite (openid-certification/conformance-suite), each
// reported as "passed" or "skipped: <reason>", where the reason is the one
// the suite gives for this provider's configuration. A module fails on what
// the suite fails; where the suite only warns or asks a person to look at a
// screenshot, these checks assert what Gatehouse is meant to do, exactly.
//
// The browser part is done by hand (rp.mjs's Browser: a cookie jar and no
// automatic redirects), signing in through the real HTML forms;
// openid-client redeems codes and validates ID tokens (signature through
// the JWKS, iss, aud, exp, nonce, at_hash, and iss and state of the
// authorization response). Clients and user: tests/conformance/seed.toml.
//
// Usage: GATEHOUSE_ISSUER=https://127.0.0.1:PORT node conformance.mjs
// (tests/conformance/run starts Gatehouse behind TLS and runs this).

import crypto from 'node:crypto';
import * as client from 'openid-client';
import * as jose from 'jose';
import { Browser, CheckError, check } from '../rp/rp.mjs';

const ISSUER = process.env.GATEHOUSE_ISSUER;
const CALLBACK_BASE = 'https://rp.conformance.test/test/a/gatehouse';
const CLIENT = {
  clientId: 'oidcc-client',
  secret: 'oidcc-client-secret-0123456789abcdef',
  redirectUri: `${CALLBACK_BASE}/callback`,
  postLogoutRedirectUri: `${CALLBACK_BASE}/post_logout_redirect`,
};
const CLIENT2 = {
  clientId: 'oidcc-client2',
  secret: 'oidcc-client2-secret-0123456789abcdef',
  redirectUri: `${CALLBACK_BASE}/callback2`,
};
const USER = { username: 'oidcc', password: 'conformance suite password 1' };

// The suite's own words when a module does not apply or cannot be tested.
const NOT_FOR_STATIC_CLIENT =
  'not applicable to client_registration=static_client (the module needs dynamic client registration; discovery has no registration_endpoint)';

class Skip extends Error {}

// ---------------------------------------------------------------------------
// Discovery, clients, requests

let discovery;

async function loadDiscovery() {
  const response = await fetch(`${ISSUER}/.well-known/openid-configuration`);
  check(response.status === 200, `discovery answered ${response.status}`);
  discovery = { response, json: await response.json() };
}

async function configure(c = CLIENT, auth = 'client_secret_basic') {
  const method = auth === 'client_secret_post' ? client.ClientSecretPost : client.ClientSecretBasic;
  return client.discovery(
    new URL(ISSUER),
    c.clientId,
    { redirect_uris: [c.redirectUri], token_endpoint_auth_method: auth },
    method(c.secret),
  );
}

function random(bytes = 32) {
  return crypto.randomBytes(bytes).toString('base64url');
}

// A request as the suite builds it: response_type=code, the client's
// scope, redirect_uri, a fresh state and nonce; `extra` adds or (undefined)
// removes parameters.
function authRequest(c = CLIENT, extra = {}) {
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

function htmlUnescape(s) {
  return s
    .replace(/&#x([0-9a-f]+);/gi, (_, h) => String.fromCodePoint(parseInt(h, 16)))
    .replace(/&#([0-9]+);/g, (_, d) => String.fromCodePoint(parseInt(d, 10)))
    .replace(/&quot;/g, '"')
    .replace(/&lt;/g, '<')
    .replace(/&gt;/g, '>')
    .replace(/&amp;/g, '&');
}

// The first form of a page: its action and hidden fields.
function form(res) {
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

function describe(res) {
  const alert = res.body.match(/role="alert"[^>]*>([^<]*)</);
  const text = alert ? htmlUnescape(alert[1]).trim() : res.body.replace(/\s+/g, ' ').slice(0, 200);
  return `${res.status} from ${res.url} (Location: ${res.location ?? '-'}; ${text})`;
}

function isAt(location, uri) {
  const want = new URL(uri);
  return location && location.origin === want.origin && location.pathname === want.pathname;
}

// Follows an authorization request through Gatehouse's screens like a
// person would: signs in when asked (unless `login` is false, when being
// asked fails the check) and allows consent. Returns the callback (the
// redirect to `c`'s redirect URI), how many times the login form was shown,
// or the page the journey stopped on.
async function drive(browser, start, { c = CLIENT, login = true, method = 'GET', body } = {}) {
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
function response(result, request) {
  check(result.callback, `expected a redirect to the client, got ${result.page && describe(result.page)}`);
  const q = result.callback.searchParams;
  check(q.get('iss') === ISSUER, `authorization response iss is ${q.get('iss')}`);
  check(!result.callback.hash, `authorization response in the fragment: ${result.callback}`);
  if (request.params.state !== undefined) {
    check(q.get('state') === request.params.state, `state not returned intact: ${q.get('state')}`);
  }
  return q;
}

function expectAuthError(result, request, error) {
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
async function redeem(config, result, request, extraChecks = {}) {
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

async function signedIn(browser, config, extra = {}, opts = {}) {
  const request = authRequest(opts.c ?? CLIENT, extra);
  const result = await drive(browser, request.url, opts);
  const redeemed = await redeem(config, result, request);
  return { ...redeemed, request, result };
}

async function userinfo(accessToken, how = 'get') {
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
async function validUserinfo(accessToken, sub, how = 'get') {
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
// Modules of oidcc-basic-certification-test-plan

async function happyFlow(auth) {
  const config = await configure(CLIENT, auth);
  const { tokens, claims, code } = await signedIn(new Browser(), config);
  // EnsureMinimumAuthorizationCodeLength / Entropy: at least 128 bits.
  check(code.length >= 22, `authorization code is only ${code.length} characters`);
  check(new Set(code).size >= 16, 'authorization code has too little variety to carry 128 bits');
  await validUserinfo(tokens.access_token, claims.sub);
}

async function responseTypeMissing() {
  const request = authRequest(CLIENT, { response_type: undefined });
  const result = await drive(new Browser(), request.url);
  expectAuthError(result, request, 'invalid_request');
}

async function userinfoModule(how) {
  const config = await configure();
  const { tokens, claims } = await signedIn(new Browser(), config);
  await validUserinfo(tokens.access_token, claims.sub, how);
}

async function withoutNonce() {
  const config = await configure();
  const { claims } = await signedIn(new Browser(), config, { nonce: undefined });
  check(claims.nonce === undefined, `ID token nonce ${claims.nonce}`);
}

// Skipped by the suite when scopes_supported lacks a scope it asks for.
async function scopeModule(scope, expectClaims) {
  const wanted = scope.split(' ');
  if (!wanted.every((s) => discovery.json.scopes_supported.includes(s))) {
    throw new Skip(
      "scopes_supported from the discovery endpoint indicates the server doesn't support the scopes required for this test; so the test has been skipped",
    );
  }
  const config = await configure();
  const { tokens, claims } = await signedIn(new Browser(), config, { scope });
  const json = await validUserinfo(tokens.access_token, claims.sub);
  for (const name of expectClaims) check(name in json, `userinfo lacks ${name} for scope "${scope}": ${JSON.stringify(json)}`);
}

async function plainFlow(extra) {
  const config = await configure();
  const { tokens, claims } = await signedIn(new Browser(), config, extra);
  await validUserinfo(tokens.access_token, claims.sub);
  return { tokens, claims };
}

async function promptLogin() {
  const config = await configure();
  const browser = new Browser();
  const first = await signedIn(browser, config);
  await sleep(1100);
  const request = authRequest(CLIENT, { prompt: 'login' });
  const result = await drive(browser, request.url);
  check(result.logins === 1, `prompt=login showed the login form ${result.logins} times, expected once`);
  const second = await redeem(config, result, request);
  check(second.claims.sub === first.claims.sub, 'sub changed between the two sign-ins');
  // CheckIdTokenAuthTimeClaimsDifferIfPresent
  if (first.claims.auth_time !== undefined && second.claims.auth_time !== undefined) {
    check(second.claims.auth_time > first.claims.auth_time, 'auth_time did not move on after prompt=login');
  }
}

async function promptNoneNotLoggedIn() {
  const request = authRequest(CLIENT, { prompt: 'none', state: random(96) });
  check(request.params.state.length === 128, 'state is not 128 characters');
  const result = await drive(new Browser(), request.url, { login: false });
  expectAuthError(result, request, 'login_required');
}

// First a normal sign-in, then a second request (`second`) that must come
// back without the login form, for the same user and the same sign-in.
async function sameAuthTwice(firstExtra, second) {
  const config = await configure();
  const browser = new Browser();
  const first = await signedIn(browser, config, firstExtra);
  const again = await signedIn(browser, config, second(first), { login: false });
  check(again.claims.sub === first.claims.sub, 'sub differs between the two authorizations');
  check(again.claims.auth_time === first.claims.auth_time, 'auth_time differs: the user was signed in again');
  return { first, again };
}

async function maxAge1() {
  const config = await configure();
  const browser = new Browser();
  const first = await signedIn(browser, config);
  await sleep(2000);
  const request = authRequest(CLIENT, { max_age: '1' });
  const result = await drive(browser, request.url);
  check(result.logins === 1, `max_age=1 after 2 s showed the login form ${result.logins} times, expected once`);
  const second = await redeem(config, result, request);
  const now = Math.floor(Date.now() / 1000);
  check(Number.isInteger(second.claims.auth_time), 'no auth_time although max_age was requested');
  check(second.claims.auth_time > (first.claims.auth_time ?? 0), 'second auth_time is not later than the first');
  check(Math.abs(now - second.claims.auth_time) <= 60, `auth_time ${second.claims.auth_time} is not recent`);
}

async function maxAge10000() {
  const { first, again } = await sameAuthTwice({ max_age: '15000' }, () => ({ max_age: '10000' }));
  check(Number.isInteger(first.claims.auth_time), 'no auth_time although max_age=15000 was requested');
  check(Number.isInteger(again.claims.auth_time), 'no auth_time although max_age=10000 was requested');
}

async function codeReuse(waitMs) {
  const config = await configure();
  const { tokens, claims, code } = await signedIn(new Browser(), config);
  await validUserinfo(tokens.access_token, claims.sub);
  if (waitMs) await sleep(waitMs);
  const res = await fetch(discovery.json.token_endpoint, {
    method: 'POST',
    headers: {
      authorization: `Basic ${Buffer.from(`${CLIENT.clientId}:${CLIENT.secret}`).toString('base64')}`,
      'content-type': 'application/x-www-form-urlencoded',
    },
    body: new URLSearchParams({ grant_type: 'authorization_code', code, redirect_uri: CLIENT.redirectUri }).toString(),
  });
  const text = await res.text();
  check(res.status === 400, `second redemption answered ${res.status}: ${text}`);
  check((res.headers.get('content-type') ?? '').startsWith('application/json'), 'error is not JSON');
  const body = JSON.parse(text);
  check(body.error === 'invalid_grant', `second redemption gave ${body.error}, expected invalid_grant`);
  if (body.error_description !== undefined) {
    check(/^[\x20-\x21\x23-\x5B\x5D-\x7E]*$/.test(body.error_description), 'error_description has bad characters');
  }
  if (waitMs) {
    // RFC 6749 §4.1.2: the tokens issued for the code are revoked.
    const u = await userinfo(tokens.access_token);
    check(u.status === 401, `the first access token still works after the code was replayed (${u.status})`);
  }
}

async function unregisteredRedirectUri() {
  const request = authRequest(CLIENT, { redirect_uri: `${CALLBACK_BASE}/callback/${random(6)}` });
  const result = await drive(new Browser(), request.url, { login: false });
  check(!result.callback, `redirected to ${result.callback}`);
  const page = result.page;
  check(page.status === 400, `expected the error page (400), got ${describe(page)}`);
  check(!page.location, `error page redirects to ${page.location}`);
  check(/redirect_uri/.test(page.body), 'the error page does not say what is wrong with the redirect URI');
}

async function postRequest() {
  const config = await configure();
  const request = authRequest(CLIENT);
  const result = await drive(new Browser(), discovery.json.authorization_endpoint, {
    method: 'POST',
    body: request.params,
  });
  const { tokens, claims } = await redeem(config, result, request);
  await validUserinfo(tokens.access_token, claims.sub);
}

function unsignedRequestObject(claims) {
  const header = Buffer.from(JSON.stringify({ alg: 'none' })).toString('base64url');
  const payload = Buffer.from(JSON.stringify(claims)).toString('base64url');
  return `${header}.${payload}.`;
}

// The suite keeps response_type, client_id, scope and redirect_uri outside
// the object (BuildRequestObjectRedirectToAuthorizationEndpoint); state and
// nonce travel only inside it.
function requestObjectRequest(outerRedirectUri) {
  const inner = authRequest(CLIENT);
  const object = unsignedRequestObject({ ...inner.params, iss: CLIENT.clientId, aud: ISSUER });
  const outer = authRequest(CLIENT, {
    state: undefined,
    nonce: undefined,
    redirect_uri: outerRedirectUri ?? CLIENT.redirectUri,
    request: object,
  });
  return { inner, outer };
}

async function requestObject() {
  const config = await configure();
  const { inner, outer } = requestObjectRequest();
  const result = await drive(new Browser(), outer.url);
  const q = result.callback?.searchParams;
  if (q?.get('error') === 'request_not_supported') {
    expectAuthError(result, outer, 'request_not_supported');
    throw new Skip(
      "The 'request_not_supported' error from the authorization endpoint indicates that it does not support request objects (which is permitted behaviour), so request objects cannot be tested.",
    );
  }
  // Processed: the state and nonce inside the object come back.
  await redeem(config, result, inner);
}

async function requestUri() {
  const config = await configure();
  const inner = authRequest(CLIENT);
  const outer = authRequest(CLIENT, {
    state: undefined,
    nonce: undefined,
    request_uri: `${CALLBACK_BASE}/requesturi/${random(12)}`,
  });
  const result = await drive(new Browser(), outer.url);
  if (result.callback?.searchParams.get('error') === 'request_uri_not_supported') {
    expectAuthError(result, outer, 'request_uri_not_supported');
    check(discovery.json.request_uri_parameter_supported === false, 'discovery does not say request_uri is unsupported');
    throw new Skip(
      "The 'request_uri_not_supported' error from the authorization endpoint indicates that it does not support request_uri (which is permitted behaviour), so request_uri cannot be tested.",
    );
  }
  await redeem(config, result, inner);
}

async function claimsEssential() {
  await plainFlow({ claims: JSON.stringify({ userinfo: { name: { essential: true } } }) });
}

// The object's redirect_uri is registered, the parameter's is not: the
// server uses the object's (and answers there) or shows the invalid
// redirect_uri page; it never answers at either address otherwise.
async function requestObjectWithRedirectUri() {
  const config = await configure();
  const { inner, outer } = requestObjectRequest(`${CALLBACK_BASE}/invalid-${random(6)}`);
  const result = await drive(new Browser(), outer.url);
  if (result.callback) {
    check(!result.callback.searchParams.get('error'), `answered with an error at the registered URI: ${result.callback}`);
    await redeem(config, result, inner);
    return;
  }
  check(result.page.status === 400, `expected the invalid redirect_uri page (400), got ${describe(result.page)}`);
  check(!result.page.location, `the error page redirects to ${result.page.location}`);
  check(/redirect_uri/.test(result.page.body), 'the error page does not name the redirect URI');
}

async function refreshToken() {
  const scope = 'openid offline_access';
  const config = await configure();
  const first = await signedIn(new Browser(), config, { scope, prompt: 'consent' });
  const rt = first.tokens.refresh_token;
  check(rt, 'no refresh token although offline_access was granted');
  check(discovery.json.grant_types_supported.includes('refresh_token'), 'discovery does not list refresh_token');
  check(/^[\x20-\x7E]+$/.test(rt), 'refresh token has characters outside RFC 6749 A.17');
  const refreshed = await client.refreshTokenGrant(config, rt);
  check(refreshed.access_token, 'no access token from the refresh');
  const claims = refreshed.claims();
  if (claims) {
    check(claims.sub === first.claims.sub && claims.iss === first.claims.iss, 'refreshed ID token sub/iss differ');
  }
  await validUserinfo(refreshed.access_token, first.claims.sub);

  // The second client's refresh token must not work for the first client.
  const config2 = await configure(CLIENT2);
  const second = await signedIn(new Browser(), config2, { scope, prompt: 'consent' }, { c: CLIENT2 });
  check(second.tokens.refresh_token, 'no refresh token for the second client');
  try {
    await client.refreshTokenGrant(config, second.tokens.refresh_token);
  } catch (err) {
    if (err instanceof client.ResponseBodyError) {
      check(err.status === 400 && err.error === 'invalid_grant', `expected 400 invalid_grant, got ${err.status} ${err.error}`);
      return;
    }
    throw err;
  }
  throw new CheckError("client 1 refreshed with client 2's refresh token");
}

async function validPkce() {
  const config = await configure();
  const verifier = client.randomPKCECodeVerifier();
  const challenge = await client.calculatePKCECodeChallenge(verifier);
  const request = authRequest(CLIENT, { code_challenge: challenge, code_challenge_method: 'S256' });
  const result = await drive(new Browser(), request.url);
  const { tokens, claims } = await redeem(config, result, request, { pkceCodeVerifier: verifier });
  await validUserinfo(tokens.access_token, claims.sub);
}

function notForStaticClient() {
  check(!discovery.json.registration_endpoint, 'discovery has a registration_endpoint: run with dynamic clients');
  throw new Skip(NOT_FOR_STATIC_CLIENT);
}

// ---------------------------------------------------------------------------
// oidcc-config-certification-test-plan and the logout plan's discovery module

function isHttpsUrl(value) {
  try {
    const url = new URL(value);
    return url.protocol === 'https:' && !url.hash;
  } catch {
    return false;
  }
}

// CheckDiscEndpointAllEndpointsAreHttps: every *_endpoint and jwks_uri.
function allEndpointsHttps(json) {
  for (const [k, v] of Object.entries(json)) {
    if (k.endsWith('_endpoint') || k === 'jwks_uri') check(isHttpsUrl(v), `${k} is not an https URL: ${v}`);
  }
}

async function discoveryEndpointVerification() {
  const { response, json } = discovery;
  check(response.status === 200, `discovery status ${response.status}`);
  check((response.headers.get('content-type') ?? '').startsWith('application/json'), 'discovery is not JSON');
  check(json.response_types_supported.includes('code'), 'response_types_supported lacks code');
  check(json.issuer === ISSUER, `issuer ${json.issuer} is not the one discovery was fetched for`);
  const issuer = new URL(json.issuer);
  check(issuer.protocol === 'https:' && !issuer.search && !issuer.hash, `issuer is not a valid https URL`);
  check(
    json.subject_types_supported.length > 0 &&
      json.subject_types_supported.every((t) => t === 'public' || t === 'pairwise'),
    `subject_types_supported ${json.subject_types_supported}`,
  );
  check(json.id_token_signing_alg_values_supported.includes('RS256'), 'id_token_signing_alg_values_supported lacks RS256');
  for (const k of ['authorization_endpoint', 'token_endpoint', 'userinfo_endpoint', 'jwks_uri']) {
    check(isHttpsUrl(json[k]), `${k} is not an https URL: ${json[k]}`);
  }
  const jwksResponse = await fetch(json.jwks_uri);
  check(jwksResponse.status === 200, `jwks_uri answered ${jwksResponse.status}`);
  const jwks = await jwksResponse.json();
  check(Array.isArray(jwks.keys) && jwks.keys.length > 0, 'the JWKS has no keys');
  for (const key of jwks.keys) {
    check(key.kid, 'a JWKS key has no kid');
    check(key.kty !== 'oct', 'the JWKS holds a symmetric key');
    for (const secret of ['d', 'p', 'q', 'dp', 'dq', 'qi']) check(!(secret in key), `a JWKS key has private part ${secret}`);
    await jose.importJWK(key, key.alg ?? 'RS256');
  }
  check(new Set(jwks.keys.map((k) => k.kid)).size === jwks.keys.length, 'two JWKS keys share a kid');
  check(Array.isArray(json.claims_supported) && json.claims_supported.includes('sub'), 'claims_supported');
  check(json.grant_types_supported.includes('authorization_code'), 'grant_types_supported lacks authorization_code');
  check(json.scopes_supported.includes('openid'), 'scopes_supported lacks openid');
  check(json.scopes_supported.every((s) => /^[\x21\x23-\x5B\x5D-\x7E]+$/.test(s)), 'a scope has bad characters');
  for (const flag of ['request_parameter_supported', 'request_uri_parameter_supported', 'claims_parameter_supported']) {
    if (flag in json) check(typeof json[flag] === 'boolean', `${flag} is not a boolean`);
  }
  allEndpointsHttps(json);
  if ('code_challenge_methods_supported' in json) {
    check(Array.isArray(json.code_challenge_methods_supported), 'code_challenge_methods_supported is not an array');
  }
}

async function logoutDiscovery() {
  allEndpointsHttps(discovery.json);
  check(isHttpsUrl(discovery.json.end_session_endpoint), 'no https end_session_endpoint');
}

// ---------------------------------------------------------------------------
// Modules of oidcc-rp-initiated-logout-certification-test-plan

function endSessionUrl(params) {
  const url = new URL(discovery.json.end_session_endpoint);
  for (const [k, v] of Object.entries(params)) if (v !== undefined) url.searchParams.set(k, v);
  return url;
}

// Signs in, then calls the end_session endpoint with the suite's request
// (id_token_hint, post_logout_redirect_uri, a 128-character state) as
// changed by `change`.
async function logoutSetup(change = (p) => p) {
  const config = await configure();
  const browser = new Browser();
  const signed = await signedIn(browser, config);
  const params = change({
    id_token_hint: signed.tokens.id_token,
    post_logout_redirect_uri: CLIENT.postLogoutRedirectUri,
    state: random(96),
  }, signed);
  const res = await browser.get(endSessionUrl(params));
  return { browser, config, signed, params, res };
}

async function promptNoneGives(browser, expected) {
  const request = authRequest(CLIENT, { prompt: 'none', state: random(96) });
  const result = await drive(browser, request.url, { login: false });
  if (expected === 'login_required') {
    expectAuthError(result, request, 'login_required');
  } else {
    const q = response(result, request);
    check(q.get('code'), `prompt=none did not sign in silently: ${result.callback}`);
  }
}

function noRedirect(res) {
  check(!(res.status >= 300 && res.status < 400), `redirected to ${res.location}`);
}

async function rpInitiatedLogout(withState = true) {
  const { browser, res, params } = await logoutSetup((p) => (withState ? p : { ...p, state: undefined }));
  check(res.status === 302 || res.status === 303, `expected the post-logout redirect, got ${describe(res)}`);
  check(isAt(res.location, CLIENT.postLogoutRedirectUri), `redirected to ${res.location}`);
  const got = [...res.location.searchParams.keys()];
  if (withState) {
    check(res.location.searchParams.get('state') === params.state, 'state not returned intact');
    check(JSON.stringify(got) === '["state"]', `unexpected parameters: ${res.location.search}`);
  } else {
    check(got.length === 0, `parameters without a state in the request: ${res.location.search}`);
  }
  await promptNoneGives(browser, 'login_required');
}

// The request is refused on an error page; the user stays signed in.
async function refusedLogout(change) {
  const { browser, res } = await logoutSetup(change);
  noRedirect(res);
  check(res.status === 400, `expected the error page (400), got ${describe(res)}`);
  check(/cannot be trusted/.test(res.body), 'the error page does not say the request is invalid');
  await promptNoneGives(browser, 'signed in');
}

// No redirect to the unregistered address; the page says why.
async function unregisteredPostLogoutUri(uri) {
  const { browser, res } = await logoutSetup((p) => ({ ...p, post_logout_redirect_uri: uri }));
  noRedirect(res);
  check(res.status === 200, `expected the signed-out page, got ${describe(res)}`);
  check(/has not registered/.test(res.body), 'the page does not say the address is not registered');
  await promptNoneGives(browser, 'login_required');
}

// Without proof that the request comes from the user's application, the
// user is asked; confirming signs out and shows the signed-out page, never
// a redirect.
async function confirmedLogout(change) {
  const { browser, res } = await logoutSetup(change);
  noRedirect(res);
  check(res.status === 200 && /end_session\/confirm/.test(res.body), `expected the confirmation page, got ${describe(res)}`);
  const f = form(res);
  const done = await browser.post(f.action, { ...f.fields, decision: 'logout' });
  noRedirect(done);
  check(done.status === 200 && /You are signed out/.test(done.body), `expected the signed-out page, got ${describe(done)}`);
  await promptNoneGives(browser, 'login_required');
}

async function noPostLogoutRedirectUri() {
  const { browser, res } = await logoutSetup((p) => ({ ...p, post_logout_redirect_uri: undefined }));
  noRedirect(res);
  check(res.status === 200 && /You are signed out/.test(res.body), `expected the signed-out page, got ${describe(res)}`);
  await promptNoneGives(browser, 'login_required');
}

// ChangeIdTokenToAlgNone: the same claims, alg none, no signature.
function algNone(idToken) {
  const [, payload] = idToken.split('.');
  const header = Buffer.from(JSON.stringify({ alg: 'none', typ: 'JWT' })).toString('base64url');
  return `${header}.${payload}.`;
}

// GenerateFakeIdTokenClaims + SignFakeIdToken: an ID token "issued" by the
// client (iss and aud swapped), signed with a key Gatehouse never saw.
async function fakeIdToken() {
  const { privateKey } = await jose.generateKeyPair('RS256');
  const now = Math.floor(Date.now() / 1000);
  return new jose.SignJWT({ nonce: 'flibble' })
    .setProtectedHeader({ alg: 'RS256', typ: 'JWT', kid: random(8) })
    .setIssuer(CLIENT.clientId)
    .setSubject('SubjectID')
    .setAudience(ISSUER)
    .setIssuedAt(now)
    .setExpirationTime(now + 300)
    .sign(privateKey);
}

// ---------------------------------------------------------------------------
// The plans, in the suite's order.

function sleep(ms) {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

const BASIC = [
  ['oidcc-server', () => happyFlow('client_secret_basic')],
  ['oidcc-response-type-missing', responseTypeMissing],
  ['oidcc-idtoken-signature', notForStaticClient],
  ['oidcc-idtoken-unsigned', notForStaticClient],
  ['oidcc-userinfo-get', () => userinfoModule('get')],
  ['oidcc-userinfo-post-header', () => userinfoModule('post')],
  ['oidcc-userinfo-post-body', () => userinfoModule('body')],
  ['oidcc-ensure-request-without-nonce-succeeds-for-code-flow', withoutNonce],
  ['oidcc-scope-profile', () => scopeModule('openid profile', ['name', 'given_name', 'family_name', 'birthdate', 'updated_at'])],
  ['oidcc-scope-email', () => scopeModule('openid email', ['email', 'email_verified'])],
  ['oidcc-scope-address', () => scopeModule('openid address', ['address'])],
  ['oidcc-scope-phone', () => scopeModule('openid phone', ['phone_number', 'phone_number_verified'])],
  ['oidcc-scope-all', () => scopeModule('openid profile email address phone', ['name', 'email', 'address', 'phone_number'])],
  ['oidcc-ensure-other-scope-order-succeeds', () => plainFlow({ scope: 'email openid' })],
  ['oidcc-display-page', () => plainFlow({ display: 'page' })],
  ['oidcc-display-popup', () => plainFlow({ display: 'popup' })],
  ['oidcc-prompt-login', promptLogin],
  ['oidcc-prompt-none-not-logged-in', promptNoneNotLoggedIn],
  ['oidcc-prompt-none-logged-in', () => sameAuthTwice({}, () => ({ prompt: 'none' }))],
  ['oidcc-max-age-1', maxAge1],
  ['oidcc-max-age-10000', maxAge10000],
  ['oidcc-ensure-request-with-unknown-parameter-succeeds', () => plainFlow({ extra: 'foobar' })],
  ['oidcc-id-token-hint', () => sameAuthTwice({}, (first) => ({ prompt: 'none', id_token_hint: first.tokens.id_token }))],
  ['oidcc-login-hint', () => plainFlow({ login_hint: USER.username })],
  ['oidcc-ui-locales', () => plainFlow({ ui_locales: 'se' })],
  ['oidcc-claims-locales', () => plainFlow({ claims_locales: 'se' })],
  ['oidcc-ensure-request-with-acr-values-succeeds', () => plainFlow({ acr_values: '1 2' })],
  ['oidcc-codereuse', () => codeReuse(0)],
  ['oidcc-codereuse-30seconds', () => codeReuse(30_000)],
  ['oidcc-ensure-registered-redirect-uri', unregisteredRedirectUri],
  ['oidcc-ensure-post-request-succeeds', postRequest],
  ['oidcc-server-client-secret-post', () => happyFlow('client_secret_post')],
  ['oidcc-request-uri-unsigned-supported-correctly-or-rejected-as-unsupported', requestUri],
  ['oidcc-unsigned-request-object-supported-correctly-or-rejected-as-unsupported', requestObject],
  ['oidcc-claims-essential', claimsEssential],
  ['oidcc-ensure-request-object-with-redirect-uri', requestObjectWithRedirectUri],
  ['oidcc-refresh-token', refreshToken],
  ['oidcc-ensure-request-with-valid-pkce-succeeds', validPkce],
];

const CONFIG = [['oidcc-discovery-endpoint-verification', discoveryEndpointVerification]];

const LOGOUT = [
  ['oidcc-rp-initiated-logout-discovery-endpoint-verification', logoutDiscovery],
  ['oidcc-rp-initiated-logout', () => rpInitiatedLogout(true)],
  [
    'oidcc-rp-initiated-logout-bad-post-logout-redirect-uri',
    () => unregisteredPostLogoutUri(`${CALLBACK_BASE}/post_logout_redirect_bad`),
  ],
  ['oidcc-rp-initiated-logout-modified-id-token-hint', () => refusedLogout((p) => ({ ...p, id_token_hint: algNone(p.id_token_hint) }))],
  ['oidcc-rp-initiated-logout-no-id-token-hint', () => confirmedLogout((p) => ({ ...p, id_token_hint: undefined }))],
  ['oidcc-rp-initiated-logout-no-params', () => confirmedLogout(() => ({}))],
  ['oidcc-rp-initiated-logout-no-post-logout-redirect-uri', noPostLogoutRedirectUri],
  ['oidcc-rp-initiated-logout-no-state', () => rpInitiatedLogout(false)],
  ['oidcc-rp-initiated-logout-only-state', () => confirmedLogout((p) => ({ state: p.state }))],
  [
    'oidcc-rp-initiated-logout-query-added-to-post-logout-redirect-uri',
    () => unregisteredPostLogoutUri(`${CLIENT.postLogoutRedirectUri}?foo=bar`),
  ],
  ['oidcc-rp-initiated-logout-bad-id-token-hint', async () => {
    const fake = await fakeIdToken();
    await refusedLogout((p) => ({ ...p, id_token_hint: fake }));
  }],
];

const PLANS = [
  ['oidcc-basic-certification-test-plan', BASIC],
  ['oidcc-config-certification-test-plan', CONFIG],
  ['oidcc-rp-initiated-logout-certification-test-plan', LOGOUT],
];

async function runModule(run) {
  try {
    await run();
    return { outcome: 'passed' };
  } catch (err) {
    if (err instanceof Skip) return { outcome: 'skipped', detail: err.message };
    let detail = err instanceof CheckError ? err.message : String(err);
    if (!(err instanceof CheckError) && err.cause) detail += ` (cause: ${JSON.stringify(err.cause)})`;
    return { outcome: 'failed', detail };
  }
}

if (!ISSUER) {
  console.error('GATEHOUSE_ISSUER is not set');
  process.exit(2);
}
await loadDiscovery();

// The 30-second wait of oidcc-codereuse-30seconds runs alongside the other
// modules; its result is printed in its place.
const started = new Map();
for (const [, modules] of PLANS) {
  for (const [name, run] of modules) {
    if (name === 'oidcc-codereuse-30seconds') started.set(name, runModule(run));
  }
}
const counts = { passed: 0, skipped: 0, failed: 0 };
for (const [plan, modules] of PLANS) {
  console.log(`--- ${plan} (${modules.length} modules)`);
  for (const [name, run] of modules) {
    const result = await (started.get(name) ?? runModule(run));
    counts[result.outcome] += 1;
    if (result.outcome === 'passed') console.log(`${name}: passed`);
    else if (result.outcome === 'skipped') console.log(`${name}: skipped: ${result.detail}`);
    else console.log(`${name}: FAILED: ${result.detail}`);
  }
}
console.log(`${counts.passed} passed, ${counts.skipped} skipped, ${counts.failed} failed`);
process.exit(counts.failed === 0 ? 0 : 1);
