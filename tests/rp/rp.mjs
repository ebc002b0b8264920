// Relying-party check for Gatehouse: an independent OpenID Connect client
// (openid-client) completes the authorization-code + PKCE flow against a
// running server and validates the result the way a real RP would (ID token
// signature via JWKS, iss, aud, exp, nonce, at_hash, state, iss in the
// authorization response, userinfo subject). The browser part is done by hand
// with fetch so that every redirect and cookie of the flow is asserted, not
// followed blindly.
//
// Beyond sign-in it exercises the token lifecycle through openid-client's own
// calls: refresh with rotation and reuse detection, introspection (RFC 7662),
// revocation (RFC 7009) and RP-Initiated Logout 1.0.
//
// With the suite `access` it checks what a client learns about the user
// beyond the standard claims: groups, roles and a custom claim, in the ID
// token and from userinfo, released only by their scopes.
//
// Usage: GATEHOUSE_ISSUER=http://127.0.0.1:PORT node rp.mjs [example|access]
// The suite `example` (the default) expects the users and clients of
// examples/seed.toml, `access` those of tests/rp/access-seed.toml.
// resource_server.mjs and upstream.mjs import the helpers exported here.

import crypto from 'node:crypto';
import { pathToFileURL } from 'node:url';
import * as client from 'openid-client';

export const ISSUER = process.env.GATEHOUSE_ISSUER;
if (!ISSUER) {
  console.error('GATEHOUSE_ISSUER is not set');
  process.exit(2);
}

export const CLIENTS = {
  demo: {
    clientId: 'demo',
    secret: 'demo-secret-change-me',
    redirectUri: 'http://127.0.0.1:9999/callback',
    scope: 'openid profile email offline_access',
    consent: true,
  },
  'demo-spa': {
    clientId: 'demo-spa',
    secret: null,
    redirectUri: 'http://localhost:5173/callback',
    scope: 'openid profile email',
    consent: false,
  },
  // In tests/rp/access-seed.toml.
  portal: {
    clientId: 'portal',
    secret: 'portal-secret-change-me',
    redirectUri: 'http://127.0.0.1:9998/callback',
    scope: 'openid profile groups roles tenant',
    consent: false,
  },
};

export const USERS = {
  alice: {
    password: 'correct horse battery staple',
    email: 'alice@example.com',
    totpSecret: null,
  },
  bob: {
    password: 'hunter2 is not a password',
    email: 'bob@example.com',
    totpSecret: 'JBSWY3DPEHPK3PXP',
  },
};

// Registered for demo in examples/seed.toml.
const POST_LOGOUT_REDIRECT_URI = 'http://127.0.0.1:9999/';

// Each case starts from a fresh browser and fresh tokens, so one failing case
// cannot leave state behind that another depends on.
const CASES = [
  { name: 'alice via demo', run: (rec) => signInCase(rec, 'alice', 'demo') },
  { name: 'bob via demo', run: (rec) => signInCase(rec, 'bob', 'demo') },
  { name: 'alice via demo-spa', run: (rec) => signInCase(rec, 'alice', 'demo-spa') },
  { name: 'refresh rotation (demo)', run: refreshRotationCase },
  { name: 'introspection and revocation (demo)', run: introspectionRevocationCase },
  { name: 'logout (demo)', run: logoutCase },
];

// Against tests/rp/access-seed.toml.
const ACCESS_CASES = [
  { name: 'groups, roles and a custom claim (portal)', run: accessClaimsCase },
  { name: 'no groups, roles or custom claim without their scopes (portal)', run: accessWithoutScopesCase },
];

// ---------------------------------------------------------------------------
// Helpers

export class CheckError extends Error {}

export function check(condition, message) {
  if (!condition) throw new CheckError(message);
}

// RFC 6238 with the parameters Gatehouse enrols (SHA-1, 6 digits, 30 s),
// computed here so the test needs nothing beyond openid-client.
function base32Decode(input) {
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';
  let bits = 0;
  let value = 0;
  const out = [];
  for (const ch of input.replace(/=+$/, '').toUpperCase()) {
    const idx = alphabet.indexOf(ch);
    if (idx < 0) throw new Error(`invalid base32 character ${ch}`);
    value = (value << 5) | idx;
    bits += 5;
    if (bits >= 8) {
      out.push((value >>> (bits - 8)) & 0xff);
      bits -= 8;
    }
  }
  return Buffer.from(out);
}

function totp(secretBase32, now = Date.now()) {
  const counter = Buffer.alloc(8);
  counter.writeBigUInt64BE(BigInt(Math.floor(now / 1000 / 30)));
  const mac = crypto.createHmac('sha1', base32Decode(secretBase32)).update(counter).digest();
  const offset = mac[mac.length - 1] & 0x0f;
  const code = (mac.readUInt32BE(offset) & 0x7fffffff) % 1_000_000;
  return String(code).padStart(6, '0');
}

// Tera autoescapes attribute values; undo that so submitted tokens match.
export function htmlUnescape(s) {
  return s
    .replace(/&#x([0-9a-f]+);/gi, (_, h) => String.fromCodePoint(parseInt(h, 16)))
    .replace(/&#([0-9]+);/g, (_, d) => String.fromCodePoint(parseInt(d, 10)))
    .replace(/&quot;/g, '"')
    .replace(/&lt;/g, '<')
    .replace(/&gt;/g, '>')
    .replace(/&amp;/g, '&');
}

export function hiddenInput(html, name) {
  const re = new RegExp(`<input[^>]*\\bname="${name}"[^>]*>`, 'i');
  const tag = html.match(re);
  if (!tag) return null;
  check(/\btype="hidden"/i.test(tag[0]), `input ${name} is not hidden: ${tag[0]}`);
  const value = tag[0].match(/\bvalue="([^"]*)"/i);
  return value ? htmlUnescape(value[1]) : null;
}

// A minimal browser: one cookie jar per case (a fresh user agent), no
// automatic redirects so each hop's status and Location can be asserted.
// Cookies are kept per host name, as a browser keeps them (ports do not
// count): `cookies` are those of the Gatehouse under test's host, and
// `jar(url)` those of another's.
export class Browser {
  constructor() {
    this.jars = new Map();
  }

  jar(url) {
    const host = new URL(url).hostname;
    if (!this.jars.has(host)) this.jars.set(host, new Map());
    return this.jars.get(host);
  }

  get cookies() {
    return this.jar(ISSUER);
  }

  cookieHeader(url) {
    return [...this.jar(url)].map(([k, v]) => `${k}=${v}`).join('; ');
  }

  storeCookies(response, url) {
    const jar = this.jar(url);
    for (const line of response.headers.getSetCookie()) {
      const [pair, ...attrs] = line.split(';');
      const eq = pair.indexOf('=');
      const name = pair.slice(0, eq).trim();
      const value = pair.slice(eq + 1).trim();
      const expired = attrs.some((a) => {
        const [k, v] = a.trim().split('=');
        if (k.toLowerCase() === 'max-age') return Number(v) <= 0;
        if (k.toLowerCase() === 'expires') return Date.parse(a.trim().slice(8)) <= Date.now();
        return false;
      });
      if (expired || value === '') jar.delete(name);
      else jar.set(name, value);
    }
  }

  async request(method, url, form) {
    const headers = { accept: 'text/html' };
    const cookie = this.cookieHeader(url);
    if (cookie) headers.cookie = cookie;
    let body;
    if (form) {
      headers['content-type'] = 'application/x-www-form-urlencoded';
      body = new URLSearchParams(form).toString();
    }
    const response = await fetch(url, { method, headers, body, redirect: 'manual' });
    this.storeCookies(response, url);
    const text = await response.text();
    const location = response.headers.get('location');
    return {
      status: response.status,
      location: location ? new URL(location, url) : null,
      body: text,
      url: String(url),
    };
  }

  get(url) {
    return this.request('GET', url);
  }

  post(url, form) {
    return this.request('POST', url, form);
  }
}

// A page's own error message says more than the start of its HTML.
export function describe(res) {
  const alert = res.body.match(/role="alert"[^>]*>([^<]*)</);
  const snippet = alert
    ? `alert: ${htmlUnescape(alert[1]).trim()}`
    : `body: ${res.body.replace(/\s+/g, ' ').slice(0, 300)}`;
  return `${res.status} from ${res.url} (Location: ${res.location ?? '-'}; ${snippet})`;
}

// Asserts a redirect with the given status to the given issuer-relative path
// (or absolute URL) and returns the resolved Location.
export function expectRedirect(res, status, path) {
  check(res.status === status, `expected ${status} to ${path}, got ${describe(res)}`);
  check(res.location, `redirect without Location: ${describe(res)}`);
  const expected = /^https?:/.test(path) ? new URL(path) : new URL(ISSUER.replace(/\/$/, '') + path);
  const got = res.location;
  check(
    got.origin === expected.origin && got.pathname === expected.pathname,
    `expected redirect to ${expected.origin}${expected.pathname}, got ${got}`,
  );
  return got;
}

// Scrapes a form page and checks the double-submit CSRF token matches the
// cookie and the form carries the pending authorization request's id.
export function expectForm(browser, res, what, requestId) {
  check(res.status === 200, `expected the ${what} page, got ${describe(res)}`);
  const csrf = hiddenInput(res.body, 'csrf');
  const request = hiddenInput(res.body, 'request');
  check(csrf, `no csrf field on the ${what} page`);
  check(request, `no request field on the ${what} page`);
  check(
    browser.cookies.get('gatehouse_csrf') === csrf,
    `csrf field on the ${what} page does not match the gatehouse_csrf cookie`,
  );
  check(request === requestId, `${what} page carries request ${request}, expected ${requestId}`);
  return { csrf, request };
}

export function requestParam(location, what) {
  const id = location.searchParams.get('request');
  check(id, `${what} redirect has no request parameter: ${location}`);
  return id;
}

// Records the requests openid-client makes so a failure can show the exact
// HTTP exchange the library objected to.
export function recorder() {
  const log = [];
  const fetchImpl = async (url, options) => {
    const response = await fetch(url, options);
    const entry = {
      request: `${options.method ?? 'GET'} ${url}`,
      headers: options.headers ? Object.fromEntries(new Headers(options.headers)) : {},
      body: options.body === undefined ? undefined : String(options.body),
      status: response.status,
      responseHeaders: Object.fromEntries(response.headers),
      responseBody: await response.clone().text(),
    };
    log.push(entry);
    return response;
  };
  return { log, fetchImpl };
}

function formatExchanges(log) {
  return log
    .map((e) =>
      [
        `  > ${e.request}`,
        ...Object.entries(e.headers).map(([k, v]) => `  > ${k}: ${v}`),
        ...(e.body !== undefined ? [`  > ${e.body}`] : []),
        `  < ${e.status}`,
        ...Object.entries(e.responseHeaders).map(([k, v]) => `  < ${k}: ${v}`),
        `  < ${e.responseBody}`,
      ].join('\n'),
    )
    .join('\n\n');
}


// Runs `promise`, which must be rejected with an OAuth error response
// (RFC 6749 section 5.2) carrying `errorCode`. Any other outcome fails; an
// unexpected library error is passed on so its details and the HTTP exchange
// get reported.
export async function expectResponseBodyError(promise, errorCode, what) {
  let result;
  try {
    result = await promise;
  } catch (err) {
    if (err instanceof client.ResponseBodyError && err.error === errorCode) return err;
    if (err instanceof client.ResponseBodyError) {
      throw new CheckError(
        `${what}: expected error ${errorCode}, got HTTP ${err.status} ${JSON.stringify(err.cause)}`,
      );
    }
    err.message = `${what}: expected error ${errorCode}, got: ${err.message}`;
    throw err;
  }
  throw new CheckError(`${what}: expected error ${errorCode}, but it succeeded: ${JSON.stringify(result)}`);
}

// RFC 7662 section 2.2: an inactive token must reveal nothing beyond the
// flag, so anything but exactly {"active": false} leaks information.
async function expectInactive(config, token, what) {
  const result = await client.tokenIntrospection(config, token);
  check(
    JSON.stringify(result) === '{"active":false}',
    `introspection of ${what} should be exactly {"active":false}, got ${JSON.stringify(result)}`,
  );
}

// ---------------------------------------------------------------------------
// The authorization-code flow: a fresh browser signs `userName` in to
// `clientName`, and openid-client redeems the code.

export async function configure(clientName, rec) {
  const c = CLIENTS[clientName];
  const config = await client.discovery(
    new URL(ISSUER),
    c.clientId,
    {
      redirect_uris: [c.redirectUri],
      token_endpoint_auth_method: c.secret ? 'client_secret_basic' : 'none',
    },
    c.secret ? client.ClientSecretBasic(c.secret) : client.None(),
    // The issuer is plain http on loopback in this test.
    { execute: [client.allowInsecureRequests], [client.customFetch]: rec.fetchImpl },
  );
  config[client.customFetch] = rec.fetchImpl;
  return config;
}

// Fresh PKCE verifier, state and nonce per request, as an RP must use.
export async function authorizationRequest(config, c, extra = {}) {
  const codeVerifier = client.randomPKCECodeVerifier();
  const codeChallenge = await client.calculatePKCECodeChallenge(codeVerifier);
  const state = client.randomState();
  const nonce = client.randomNonce();
  const url = client.buildAuthorizationUrl(config, {
    redirect_uri: c.redirectUri,
    scope: c.scope,
    code_challenge: codeChallenge,
    code_challenge_method: 'S256',
    state,
    nonce,
    ...extra,
  });
  return { url, checks: { pkceCodeVerifier: codeVerifier, expectedState: state, expectedNonce: nonce } };
}

// Consent is remembered per user and client, so a client that requires it
// asks on the first authorization only; later cases expect a straight
// redirect back and would notice a consent page reappearing.
const consented = new Set();

// `authorization` adds to (or overrides, like `scope`) the authorization
// request's parameters; `token` adds to the token request's (e.g. `resource`).
export async function codeFlow(
  rec,
  userName,
  clientName,
  browser = new Browser(),
  { authorization = {}, token = undefined } = {},
) {
  const c = CLIENTS[clientName];
  const u = USERS[userName];
  const base = ISSUER.replace(/\/$/, '');
  const scope = authorization.scope ?? c.scope;

  const config = await configure(clientName, rec);
  const authz = await authorizationRequest(config, c, authorization);
  const { expectedState: state, expectedNonce: nonce } = authz.checks;

  // No session yet, so the authorization request is parked and the user is
  // sent to sign in.
  let res = await browser.get(authz.url);
  let location = expectRedirect(res, 302, '/login');
  const requestId = requestParam(location, 'login');

  res = await browser.get(location);
  let form = expectForm(browser, res, 'login', requestId);
  res = await browser.post(`${base}/login`, {
    csrf: form.csrf,
    request: form.request,
    username: userName,
    password: u.password,
  });

  if (u.totpSecret) {
    // The password alone must not establish a session for an enrolled user.
    location = expectRedirect(res, 303, '/login/totp');
    check(requestParam(location, 'totp') === requestId, `totp redirect lost the request id: ${location}`);
    check(!browser.cookies.has('gatehouse_session'), 'session cookie set before the second factor');
    check(browser.cookies.has('gatehouse_mfa'), 'no gatehouse_mfa cookie after the password step');
    res = await browser.get(location);
    form = expectForm(browser, res, 'totp', requestId);
    res = await browser.post(`${base}/login/totp`, {
      csrf: form.csrf,
      request: form.request,
      code: totp(u.totpSecret),
    });
  }

  location = expectRedirect(res, 303, '/authorize/resume');
  check(requestParam(location, 'resume') === requestId, `resume redirect lost the request id: ${location}`);
  check(browser.cookies.has('gatehouse_session'), 'no gatehouse_session cookie after signing in');

  res = await browser.get(location);
  let callback;
  const grant = `${userName}/${clientName}`;
  if (c.consent && !consented.has(grant)) {
    location = expectRedirect(res, 302, '/consent');
    check(requestParam(location, 'consent') === requestId, `consent redirect lost the request id: ${location}`);
    res = await browser.get(location);
    form = expectForm(browser, res, 'consent', requestId);
    res = await browser.post(`${base}/consent`, {
      csrf: form.csrf,
      request: form.request,
      decision: 'allow',
    });
    callback = expectRedirect(res, 303, c.redirectUri);
    consented.add(grant);
  } else {
    callback = expectRedirect(res, 302, c.redirectUri);
  }
  check(callback.searchParams.get('code'), `callback without code: ${callback}`);
  check(callback.searchParams.get('state') === state, `callback state mismatch: ${callback}`);
  check(callback.searchParams.get('iss') === ISSUER, `callback iss is not the issuer: ${callback}`);

  // From here on openid-client does all protocol validation: state, iss,
  // PKCE, client authentication, ID token signature/iss/aud/exp/nonce/at_hash.
  const tokens = await client.authorizationCodeGrant(
    config,
    callback,
    { ...authz.checks, idTokenExpected: true },
    token,
  );

  const claims = tokens.claims();
  check(claims, 'no ID token in the token response');
  check(typeof claims.sub === 'string' && claims.sub.length > 0, `bad sub: ${claims.sub}`);
  check(claims.iss === ISSUER, `ID token iss ${claims.iss}, expected ${ISSUER}`);
  const aud = Array.isArray(claims.aud) ? claims.aud : [claims.aud];
  check(aud.includes(c.clientId), `ID token aud ${claims.aud} lacks ${c.clientId}`);
  check(claims.nonce === nonce, 'ID token nonce mismatch');
  check(Array.isArray(claims.amr), `ID token amr is not an array: ${JSON.stringify(claims.amr)}`);
  check(claims.amr.includes('pwd'), `amr lacks "pwd": ${JSON.stringify(claims.amr)}`);
  if (u.totpSecret) {
    check(claims.amr.includes('otp'), `amr lacks "otp": ${JSON.stringify(claims.amr)}`);
  } else {
    check(!claims.amr.includes('otp'), `amr claims "otp" without a second factor: ${JSON.stringify(claims.amr)}`);
  }

  check(tokens.access_token, 'no access_token');
  check(tokens.token_type?.toLowerCase() === 'bearer', `token_type is ${tokens.token_type}`);
  const wantsRefresh = scope.split(' ').includes('offline_access');
  if (wantsRefresh) {
    check(tokens.refresh_token, 'no refresh_token although offline_access was granted');
  } else {
    check(!tokens.refresh_token, 'refresh_token issued without offline_access');
  }

  return { c, config, browser, tokens, claims };
}

// ---------------------------------------------------------------------------
// Cases

async function signInCase(rec, userName, clientName) {
  const { config, tokens, claims } = await codeFlow(rec, userName, clientName);
  const u = USERS[userName];

  const userinfo = await client.fetchUserInfo(config, tokens.access_token, claims.sub);
  check(userinfo.preferred_username === userName, `userinfo preferred_username is ${userinfo.preferred_username}`);
  check(userinfo.email === u.email, `userinfo email is ${userinfo.email}`);

  return `sub=${claims.sub} amr=${claims.amr.join(',')}${tokens.refresh_token ? ' refresh_token' : ''}`;
}

// Rotation only protects anything if replaying a rotated-out refresh token is
// treated as theft: the replay fails and the whole family dies, so whichever
// party holds the current token (legitimate client or thief) loses it too.
async function refreshRotationCase(rec) {
  const { config, tokens, claims } = await codeFlow(rec, 'alice', 'demo');

  // openid-client validates the refreshed ID token (signature, iss, aud, exp,
  // azp) but leaves the OIDC Core 12.2 continuity rules to the RP.
  const refreshed = await client.refreshTokenGrant(config, tokens.refresh_token);
  check(refreshed.refresh_token, 'refresh response has no refresh_token, so no rotation');
  check(refreshed.refresh_token !== tokens.refresh_token, 'refresh returned the same refresh_token: not rotated');
  check(refreshed.token_type === 'bearer', `refreshed token_type is ${refreshed.token_type}`);
  const refreshedClaims = refreshed.claims();
  check(refreshedClaims, 'no ID token in the refresh response');
  check(refreshedClaims.sub === claims.sub, `refreshed ID token sub ${refreshedClaims.sub}, expected ${claims.sub}`);
  check(refreshedClaims.iss === claims.iss, `refreshed ID token iss ${refreshedClaims.iss}, expected ${claims.iss}`);
  check(
    JSON.stringify(refreshedClaims.aud) === JSON.stringify(claims.aud),
    `refreshed ID token aud ${JSON.stringify(refreshedClaims.aud)}, expected ${JSON.stringify(claims.aud)}`,
  );
  check(
    refreshedClaims.auth_time === claims.auth_time,
    `refreshed ID token auth_time ${refreshedClaims.auth_time}, expected the original ${claims.auth_time}`,
  );
  check(
    refreshedClaims.nonce === undefined || refreshedClaims.nonce === claims.nonce,
    `refreshed ID token nonce ${refreshedClaims.nonce} differs from the original`,
  );

  const userinfo = await client.fetchUserInfo(config, refreshed.access_token, claims.sub);
  check(userinfo.preferred_username === 'alice', `userinfo with the refreshed access token: ${JSON.stringify(userinfo)}`);

  await expectResponseBodyError(
    client.refreshTokenGrant(config, tokens.refresh_token),
    'invalid_grant',
    'replaying the rotated-out refresh token',
  );

  // The replay must have taken down every token of the authorization, not
  // just refused the old one.
  await expectInactive(config, refreshed.access_token, 'the refreshed access token after the replay');
  await expectInactive(config, tokens.access_token, 'the original access token after the replay');
  await expectResponseBodyError(
    client.refreshTokenGrant(config, refreshed.refresh_token),
    'invalid_grant',
    'the current refresh token after the replay',
  );

  return 'rotated, replay revoked the family';
}

async function introspectionRevocationCase(rec) {
  const { config, tokens, claims } = await codeFlow(rec, 'alice', 'demo');
  const now = Math.floor(Date.now() / 1000);

  const at = await client.tokenIntrospection(config, tokens.access_token);
  const atJson = JSON.stringify(at);
  check(at.active === true, `access token introspects inactive: ${atJson}`);
  check(at.client_id === 'demo', `access token client_id: ${atJson}`);
  check(at.username === 'alice', `access token username: ${atJson}`);
  check(at.sub === claims.sub, `access token sub differs from the ID token's: ${atJson}`);
  check(at.token_type === 'Bearer', `access token token_type: ${atJson}`);
  check(at.iss === ISSUER, `access token iss: ${atJson}`);
  check(typeof at.scope === 'string' && at.scope.split(' ').includes('openid'), `access token scope: ${atJson}`);
  check(at.aud !== undefined, `access token has no aud: ${atJson}`);
  check(Number.isInteger(at.exp) && at.exp > now, `access token exp not in the future: ${atJson}`);
  check(Number.isInteger(at.iat) && at.iat <= at.exp, `access token iat: ${atJson}`);

  const rt = await client.tokenIntrospection(config, tokens.refresh_token);
  const rtJson = JSON.stringify(rt);
  check(rt.active === true, `refresh token introspects inactive: ${rtJson}`);
  check(rt.client_id === 'demo', `refresh token client_id: ${rtJson}`);
  check(rt.username === 'alice', `refresh token username: ${rtJson}`);
  check(rt.token_type === 'refresh_token', `refresh token token_type: ${rtJson}`);

  // Revoking the refresh token ends the authorization, so the access tokens
  // issued under it must stop working as well (RFC 7009 section 2.1).
  await client.tokenRevocation(config, tokens.refresh_token);
  await expectInactive(config, tokens.refresh_token, 'the revoked refresh token');
  await expectInactive(config, tokens.access_token, 'the access token of the revoked refresh token');

  let challenge;
  try {
    const userinfo = await client.fetchUserInfo(config, tokens.access_token, claims.sub);
    throw new CheckError(`userinfo accepted an access token of a revoked grant: ${JSON.stringify(userinfo)}`);
  } catch (err) {
    if (!(err instanceof client.WWWAuthenticateChallengeError)) throw err;
    challenge = err;
  }
  const bearer = challenge.cause.find((ch) => ch.scheme === 'bearer');
  check(
    challenge.status === 401 && bearer?.parameters.error === 'invalid_token',
    `userinfo with a revoked token: expected 401 with a Bearer invalid_token challenge, got ${challenge.status} ${JSON.stringify(challenge.cause)}`,
  );

  return 'revocation cascaded to the access token';
}

// Silent re-authentication (prompt=none) is how an RP learns whether the
// user still has a session at the OP, so it is the observable proof that
// logout really ended it. authorizationCodeGrant checks iss and state of the
// callback, error or not, exactly as it would for a real one.
async function silentAuthorization(browser, config, c) {
  const authz = await authorizationRequest(config, c, { prompt: 'none' });
  const res = await browser.get(authz.url);
  const callback = expectRedirect(res, 302, c.redirectUri);
  return client.authorizationCodeGrant(config, callback, { ...authz.checks, idTokenExpected: true });
}

async function expectLoginRequired(browser, config, c, what) {
  let tokens;
  try {
    tokens = await silentAuthorization(browser, config, c);
  } catch (err) {
    if (!(err instanceof client.AuthorizationResponseError)) throw err;
    check(err.error === 'login_required', `${what}: prompt=none gave error ${err.error}, expected login_required`);
    return;
  }
  throw new CheckError(`${what}: prompt=none still signed the user in (sub ${tokens.claims()?.sub})`);
}

async function logoutCase(rec) {
  const browser = new Browser();
  const { c, config, tokens, claims } = await codeFlow(rec, 'alice', 'demo', browser);
  const sessionCookie = browser.cookies.get('gatehouse_session');

  // Control: while the session lives, prompt=none succeeds, also for a
  // browser holding nothing but a copy of the session cookie. Without this,
  // the login_required answers below could come from prompt=none or cookie
  // copying simply not working.
  const copy = new Browser();
  copy.cookies.set('gatehouse_session', sessionCookie);
  const silent = await silentAuthorization(copy, config, c);
  check(silent.claims()?.sub === claims.sub, `silent sign-in before logout gave sub ${silent.claims()?.sub}`);

  const state = client.randomState();
  const endSessionUrl = client.buildEndSessionUrl(config, {
    id_token_hint: tokens.id_token,
    post_logout_redirect_uri: POST_LOGOUT_REDIRECT_URI,
    state,
  });
  const res = await browser.get(endSessionUrl);
  const back = expectRedirect(res, 302, POST_LOGOUT_REDIRECT_URI);
  check(back.searchParams.get('state') === state, `post-logout redirect state mismatch: ${back}`);
  check(!browser.cookies.has('gatehouse_session'), 'gatehouse_session cookie was not cleared by logout');

  await expectLoginRequired(browser, config, c, 'after logout');

  // Another tab or a thief holding the old cookie must not revive the
  // session: logout has to end it on the server, not only in this browser.
  const replay = new Browser();
  replay.cookies.set('gatehouse_session', sessionCookie);
  await expectLoginRequired(replay, config, c, 'replaying the pre-logout session cookie');

  return 'session ended, prompt=none gives login_required';
}

// What tests/rp/access-seed.toml gives alice: she is in engineering, which
// holds portal's role editor (finance holds viewer), and her tenant is acme.
function expectAccessClaims(got, what) {
  const json = JSON.stringify(got);
  check(JSON.stringify(got.groups) === '["engineering"]', `${what} groups: ${json}`);
  check(Array.isArray(got.roles) && got.roles.includes('editor'), `${what} roles lack editor: ${json}`);
  check(!got.roles.includes('viewer'), `${what} roles include viewer, held by finance only: ${json}`);
  check(got.tenant === 'acme', `${what} tenant: ${json}`);
  check(got.given_name === 'Alice', `${what} given_name: ${json}`);
  check(got.family_name === 'Example', `${what} family_name: ${json}`);
}

async function accessClaimsCase(rec) {
  const { config, tokens, claims } = await codeFlow(rec, 'alice', 'portal');
  const granted = (tokens.scope ?? '').split(' ');
  for (const s of ['groups', 'roles', 'tenant']) {
    check(granted.includes(s), `scope ${s} not granted: ${tokens.scope}`);
  }
  expectAccessClaims(claims, 'ID token');
  const userinfo = await client.fetchUserInfo(config, tokens.access_token, claims.sub);
  expectAccessClaims(userinfo, 'userinfo');
  return `groups=${claims.groups} roles=${claims.roles} tenant=${claims.tenant}`;
}

// The same client and user, asking only for openid profile: the standard
// claims still come, groups, roles and the custom claim must not.
async function accessWithoutScopesCase(rec) {
  const { config, tokens, claims } = await codeFlow(rec, 'alice', 'portal', new Browser(), {
    authorization: { scope: 'openid profile' },
  });
  const userinfo = await client.fetchUserInfo(config, tokens.access_token, claims.sub);
  for (const [what, got] of [['ID token', claims], ['userinfo', userinfo]]) {
    const json = JSON.stringify(got);
    check(got.given_name === 'Alice', `${what} given_name: ${json}`);
    for (const name of ['groups', 'roles', 'tenant']) {
      check(got[name] === undefined, `${what} has ${name} without its scope: ${json}`);
    }
  }
  return 'only the standard claims';
}

// ---------------------------------------------------------------------------

// Runs each case with its own recorder and prints one line per case and the
// closing "N passed, N failed" line; exits non-zero if any failed.
export async function runCases(cases) {
  let passed = 0;
  let failed = 0;
  for (const testCase of cases) {
    const rec = recorder();
    try {
      const detail = await testCase.run(rec);
      passed += 1;
      console.log(`ok   ${testCase.name} (${detail})`);
    } catch (err) {
      failed += 1;
      console.log(`FAIL ${testCase.name}: ${err instanceof CheckError ? err.message : String(err)}`);
      if (!(err instanceof CheckError)) {
        // openid-client and jose errors carry a code and often the offending
        // response or claim.
        if (err.code) console.log(`  code: ${err.code}`);
        if (err.cause) console.log(`  cause: ${JSON.stringify(err.cause, null, 2)}`);
        if (err.stack) console.log(err.stack.split('\n').slice(1, 4).join('\n'));
      }
      // A browser-side failure leaves only discovery in the log: nothing to add.
      const libraryInvolved = !(err instanceof CheckError) || rec.log.length > 1;
      if (libraryInvolved && rec.log.length) console.log(`  openid-client HTTP exchanges:\n${formatExchanges(rec.log)}`);
    }
  }
  console.log(`${passed} passed, ${failed} failed`);
  process.exit(failed === 0 ? 0 : 1);
}

if (import.meta.url === pathToFileURL(process.argv[1]).href) {
  const suites = { example: CASES, access: ACCESS_CASES };
  const suite = process.argv[2] ?? 'example';
  if (!suites[suite]) {
    console.error(`unknown suite ${suite}; expected one of ${Object.keys(suites).join(', ')}`);
    process.exit(2);
  }
  await runCases(suites[suite]);
}
