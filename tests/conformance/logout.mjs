// The modules of oidcc-rp-initiated-logout-certification-test-plan, which
// conformance.mjs runs by the module's name in the suite: the end_session
// endpoint in discovery, then sign-outs with the suite's request or a
// changed one (a forged or missing id_token_hint, an unregistered
// post_logout_redirect_uri, ...) and whether the user is still signed in
// afterwards. The machinery they share is in support.mjs.

import * as jose from 'jose';
import { Browser, check } from '../rp/rp.mjs';
import {
  CLIENT,
  ISSUER,
  allEndpointsHttps,
  authRequest,
  configure,
  describe,
  discovery,
  drive,
  expectAuthError,
  form,
  isAt,
  isHttpsUrl,
  random,
  response,
  signedIn,
} from './support.mjs';

export async function logoutDiscovery() {
  allEndpointsHttps(discovery.json);
  check(isHttpsUrl(discovery.json.end_session_endpoint), 'no https end_session_endpoint');
}

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

export async function rpInitiatedLogout(withState = true) {
  const { browser, res, params } = await logoutSetup((p) => (withState ? p : { ...p, state: undefined }));
  // A GET with a hint of the current session signs out at once: 302 to the
  // registered address (303 is kept for the answer to a POST).
  check(res.status === 302, `expected the post-logout redirect (302), got ${describe(res)}`);
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
export async function refusedLogout(change) {
  const { browser, res } = await logoutSetup(change);
  noRedirect(res);
  check(res.status === 400, `expected the error page (400), got ${describe(res)}`);
  check(/cannot be trusted/.test(res.body), 'the error page does not say the request is invalid');
  await promptNoneGives(browser, 'signed in');
}

// No redirect to the unregistered address; the page says why.
export async function unregisteredPostLogoutUri(uri) {
  const { browser, res } = await logoutSetup((p) => ({ ...p, post_logout_redirect_uri: uri }));
  noRedirect(res);
  check(res.status === 200, `expected the signed-out page, got ${describe(res)}`);
  check(/has not registered/.test(res.body), 'the page does not say the address is not registered');
  await promptNoneGives(browser, 'login_required');
}

// Without proof that the request comes from the user's application, the
// user is asked; confirming signs out and shows the signed-out page, never
// a redirect.
export async function confirmedLogout(change) {
  const { browser, res } = await logoutSetup(change);
  noRedirect(res);
  check(res.status === 200 && /end_session\/confirm/.test(res.body), `expected the confirmation page, got ${describe(res)}`);
  const f = form(res);
  const done = await browser.post(f.action, { ...f.fields, decision: 'logout' });
  noRedirect(done);
  check(done.status === 200 && /You are signed out/.test(done.body), `expected the signed-out page, got ${describe(done)}`);
  await promptNoneGives(browser, 'login_required');
}

export async function noPostLogoutRedirectUri() {
  const { browser, res } = await logoutSetup((p) => ({ ...p, post_logout_redirect_uri: undefined }));
  noRedirect(res);
  check(res.status === 200 && /You are signed out/.test(res.body), `expected the signed-out page, got ${describe(res)}`);
  await promptNoneGives(browser, 'login_required');
}

// ChangeIdTokenToAlgNone: the same claims, alg none, no signature.
export function algNone(idToken) {
  const [, payload] = idToken.split('.');
  const header = Buffer.from(JSON.stringify({ alg: 'none', typ: 'JWT' })).toString('base64url');
  return `${header}.${payload}.`;
}

// GenerateFakeIdTokenClaims + SignFakeIdToken: an ID token "issued" by the
// client (iss and aud swapped), signed with a key Gatehouse never saw.
export async function fakeIdToken() {
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
