// The modules of oidcc-basic-certification-test-plan (code,
// client_secret_basic), which conformance.mjs runs by the module's name in
// the suite: sign-ins with the suite's requests and their variants (scopes,
// prompt, max_age, request objects, PKCE, ...), the redemption of their
// codes, userinfo and refresh. The machinery they share is in support.mjs.

import * as client from 'openid-client';
import { Browser, CheckError, check } from '../rp/rp.mjs';
import {
  CALLBACK_BASE,
  CLIENT,
  CLIENT2,
  ISSUER,
  NOT_FOR_STATIC_CLIENT,
  REQUEST_NOT_SUPPORTED,
  REQUEST_URI_NOT_SUPPORTED,
  SCOPES_NOT_SUPPORTED,
  Skip,
  authRequest,
  configure,
  describe,
  discovery,
  drive,
  expectAuthError,
  random,
  redeem,
  signedIn,
  userinfo,
  validUserinfo,
} from './support.mjs';

function sleep(ms) {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

export async function happyFlow(auth) {
  const config = await configure(CLIENT, auth);
  const { tokens, claims, code } = await signedIn(new Browser(), config);
  // EnsureMinimumAuthorizationCodeLength / Entropy: at least 128 bits.
  check(code.length >= 22, `authorization code is only ${code.length} characters`);
  check(new Set(code).size >= 16, 'authorization code has too little variety to carry 128 bits');
  await validUserinfo(tokens.access_token, claims.sub);
}

export async function responseTypeMissing() {
  const request = authRequest(CLIENT, { response_type: undefined });
  const result = await drive(new Browser(), request.url);
  expectAuthError(result, request, 'invalid_request');
}

export async function userinfoModule(how) {
  const config = await configure();
  const { tokens, claims } = await signedIn(new Browser(), config);
  await validUserinfo(tokens.access_token, claims.sub, how);
}

export async function withoutNonce() {
  const config = await configure();
  const { claims } = await signedIn(new Browser(), config, { nonce: undefined });
  check(claims.nonce === undefined, `ID token nonce ${claims.nonce}`);
}

// Skipped by the suite when scopes_supported lacks a scope it asks for.
export async function scopeModule(scope, expectClaims) {
  const wanted = scope.split(' ');
  if (!wanted.every((s) => discovery.json.scopes_supported.includes(s))) {
    throw new Skip(SCOPES_NOT_SUPPORTED);
  }
  const config = await configure();
  const { tokens, claims } = await signedIn(new Browser(), config, { scope });
  const json = await validUserinfo(tokens.access_token, claims.sub);
  for (const name of expectClaims) check(name in json, `userinfo lacks ${name} for scope "${scope}": ${JSON.stringify(json)}`);
}

export async function plainFlow(extra) {
  const config = await configure();
  const { tokens, claims } = await signedIn(new Browser(), config, extra);
  await validUserinfo(tokens.access_token, claims.sub);
  return { tokens, claims };
}

export async function promptLogin() {
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

export async function promptNoneNotLoggedIn() {
  const request = authRequest(CLIENT, { prompt: 'none', state: random(96) });
  check(request.params.state.length === 128, 'state is not 128 characters');
  const result = await drive(new Browser(), request.url, { login: false });
  expectAuthError(result, request, 'login_required');
}

// First a normal sign-in, then a second request (`second`) that must come
// back without the login form, for the same user and the same sign-in.
export async function sameAuthTwice(firstExtra, second) {
  const config = await configure();
  const browser = new Browser();
  const first = await signedIn(browser, config, firstExtra);
  const again = await signedIn(browser, config, second(first), { login: false });
  check(again.claims.sub === first.claims.sub, 'sub differs between the two authorizations');
  check(again.claims.auth_time === first.claims.auth_time, 'auth_time differs: the user was signed in again');
  return { first, again };
}

export async function maxAge1() {
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

export async function maxAge10000() {
  const { first, again } = await sameAuthTwice({ max_age: '15000' }, () => ({ max_age: '10000' }));
  check(Number.isInteger(first.claims.auth_time), 'no auth_time although max_age=15000 was requested');
  check(Number.isInteger(again.claims.auth_time), 'no auth_time although max_age=10000 was requested');
}

export async function codeReuse(waitMs) {
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

export async function unregisteredRedirectUri() {
  const request = authRequest(CLIENT, { redirect_uri: `${CALLBACK_BASE}/callback/${random(6)}` });
  const result = await drive(new Browser(), request.url, { login: false });
  check(!result.callback, `redirected to ${result.callback}`);
  const page = result.page;
  check(page.status === 400, `expected the error page (400), got ${describe(page)}`);
  check(!page.location, `error page redirects to ${page.location}`);
  check(/redirect_uri/.test(page.body), 'the error page does not say what is wrong with the redirect URI');
}

export async function postRequest() {
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

export async function requestObject() {
  const config = await configure();
  const { inner, outer } = requestObjectRequest();
  const result = await drive(new Browser(), outer.url);
  const q = result.callback?.searchParams;
  if (q?.get('error') === 'request_not_supported') {
    expectAuthError(result, outer, 'request_not_supported');
    throw new Skip(REQUEST_NOT_SUPPORTED);
  }
  // Processed: the state and nonce inside the object come back.
  await redeem(config, result, inner);
}

export async function requestUri() {
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
    throw new Skip(REQUEST_URI_NOT_SUPPORTED);
  }
  await redeem(config, result, inner);
}

export async function claimsEssential() {
  await plainFlow({ claims: JSON.stringify({ userinfo: { name: { essential: true } } }) });
}

// The object's redirect_uri is registered, the parameter's is not: the
// server uses the object's (and answers there) or shows the invalid
// redirect_uri page; it never answers at either address otherwise.
export async function requestObjectWithRedirectUri() {
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

export async function refreshToken() {
  const scope = 'openid offline_access';
  const config = await configure();
  const first = await signedIn(new Browser(), config, { scope, prompt: 'consent' });
  const rt = first.tokens.refresh_token;
  check(rt, 'no refresh token although offline_access was granted');
  check(discovery.json.grant_types_supported.includes('refresh_token'), 'discovery does not list refresh_token');
  check(/^[\x20-\x7E]+$/.test(rt), 'refresh token has characters outside RFC 6749 A.17');
  const refreshed = await client.refreshTokenGrant(config, rt);
  check(refreshed.access_token, 'no access token from the refresh');
  // Gatehouse issues a new ID token on every refresh with openid in scope
  // (OpenID Connect Core §12.2 allows it; the suite checks it when present).
  const claims = refreshed.claims();
  check(claims, 'no ID token from the refresh although openid is in scope');
  check(claims.sub === first.claims.sub && claims.iss === first.claims.iss, 'refreshed ID token sub/iss differ');
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

export async function validPkce() {
  const config = await configure();
  const verifier = client.randomPKCECodeVerifier();
  const challenge = await client.calculatePKCECodeChallenge(verifier);
  const request = authRequest(CLIENT, { code_challenge: challenge, code_challenge_method: 'S256' });
  const result = await drive(new Browser(), request.url);
  const { tokens, claims } = await redeem(config, result, request, { pkceCodeVerifier: verifier });
  await validUserinfo(tokens.access_token, claims.sub);
}

export function notForStaticClient() {
  check(!discovery.json.registration_endpoint, 'discovery has a registration_endpoint: run with dynamic clients');
  throw new Skip(NOT_FOR_STATIC_CLIENT);
}
