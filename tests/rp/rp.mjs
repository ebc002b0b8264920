// Relying-party check for Gatehouse: an independent OpenID Connect client
// (openid-client) completes the authorization-code + PKCE flow against a
// running server and validates the result the way a real RP would (ID token
// signature via JWKS, iss, aud, exp, nonce, at_hash, state, iss in the
// authorization response, userinfo subject). The browser part is done by hand
// with fetch so that every redirect and cookie of the flow is asserted, not
// followed blindly.
//
// Usage: GATEHOUSE_ISSUER=http://127.0.0.1:PORT node rp.mjs
// Expects the users and clients of examples/seed.toml.

import crypto from 'node:crypto';
import * as client from 'openid-client';

const ISSUER = process.env.GATEHOUSE_ISSUER;
if (!ISSUER) {
  console.error('GATEHOUSE_ISSUER is not set');
  process.exit(2);
}

const CLIENTS = {
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
};

const USERS = {
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

const CASES = [
  { user: 'alice', client: 'demo' },
  { user: 'bob', client: 'demo' },
  { user: 'alice', client: 'demo-spa' },
];

// ---------------------------------------------------------------------------
// Helpers

class CheckError extends Error {}

function check(condition, message) {
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
function htmlUnescape(s) {
  return s
    .replace(/&#x([0-9a-f]+);/gi, (_, h) => String.fromCodePoint(parseInt(h, 16)))
    .replace(/&#([0-9]+);/g, (_, d) => String.fromCodePoint(parseInt(d, 10)))
    .replace(/&quot;/g, '"')
    .replace(/&lt;/g, '<')
    .replace(/&gt;/g, '>')
    .replace(/&amp;/g, '&');
}

function hiddenInput(html, name) {
  const re = new RegExp(`<input[^>]*\\bname="${name}"[^>]*>`, 'i');
  const tag = html.match(re);
  if (!tag) return null;
  check(/\btype="hidden"/i.test(tag[0]), `input ${name} is not hidden: ${tag[0]}`);
  const value = tag[0].match(/\bvalue="([^"]*)"/i);
  return value ? htmlUnescape(value[1]) : null;
}

// A minimal browser: one cookie jar per case (a fresh user agent), no
// automatic redirects so each hop's status and Location can be asserted.
class Browser {
  constructor() {
    this.cookies = new Map();
  }

  cookieHeader() {
    return [...this.cookies].map(([k, v]) => `${k}=${v}`).join('; ');
  }

  storeCookies(response) {
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
      if (expired || value === '') this.cookies.delete(name);
      else this.cookies.set(name, value);
    }
  }

  async request(method, url, form) {
    const headers = { accept: 'text/html' };
    const cookie = this.cookieHeader();
    if (cookie) headers.cookie = cookie;
    let body;
    if (form) {
      headers['content-type'] = 'application/x-www-form-urlencoded';
      body = new URLSearchParams(form).toString();
    }
    const response = await fetch(url, { method, headers, body, redirect: 'manual' });
    this.storeCookies(response);
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
function describe(res) {
  const alert = res.body.match(/role="alert"[^>]*>([^<]*)</);
  const snippet = alert
    ? `alert: ${htmlUnescape(alert[1]).trim()}`
    : `body: ${res.body.replace(/\s+/g, ' ').slice(0, 300)}`;
  return `${res.status} from ${res.url} (Location: ${res.location ?? '-'}; ${snippet})`;
}

// Asserts a redirect with the given status to the given issuer-relative path
// (or absolute URL) and returns the resolved Location.
function expectRedirect(res, status, path) {
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
function expectForm(browser, res, what, requestId) {
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

function requestParam(location, what) {
  const id = location.searchParams.get('request');
  check(id, `${what} redirect has no request parameter: ${location}`);
  return id;
}

// Records the requests openid-client makes so a failure can show the exact
// HTTP exchange the library objected to.
function recorder() {
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

// ---------------------------------------------------------------------------
// One end-to-end run: a fresh browser signs `userName` in to `clientName`.

async function runCase({ user: userName, client: clientName }, rec) {
  const c = CLIENTS[clientName];
  const u = USERS[userName];
  const base = ISSUER.replace(/\/$/, '');

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

  const codeVerifier = client.randomPKCECodeVerifier();
  const codeChallenge = await client.calculatePKCECodeChallenge(codeVerifier);
  const state = client.randomState();
  const nonce = client.randomNonce();
  const authorizationUrl = client.buildAuthorizationUrl(config, {
    redirect_uri: c.redirectUri,
    scope: c.scope,
    code_challenge: codeChallenge,
    code_challenge_method: 'S256',
    state,
    nonce,
  });

  const browser = new Browser();

  // No session yet, so the authorization request is parked and the user is
  // sent to sign in.
  let res = await browser.get(authorizationUrl);
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
  if (c.consent) {
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
  } else {
    callback = expectRedirect(res, 302, c.redirectUri);
  }
  check(callback.searchParams.get('code'), `callback without code: ${callback}`);
  check(callback.searchParams.get('state') === state, `callback state mismatch: ${callback}`);
  check(callback.searchParams.get('iss') === ISSUER, `callback iss is not the issuer: ${callback}`);

  // From here on openid-client does all protocol validation: state, iss,
  // PKCE, client authentication, ID token signature/iss/aud/exp/nonce/at_hash.
  const tokens = await client.authorizationCodeGrant(config, callback, {
    pkceCodeVerifier: codeVerifier,
    expectedState: state,
    expectedNonce: nonce,
    idTokenExpected: true,
  });

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
  const wantsRefresh = c.scope.split(' ').includes('offline_access');
  if (wantsRefresh) {
    check(tokens.refresh_token, 'no refresh_token although offline_access was granted');
  } else {
    check(!tokens.refresh_token, 'refresh_token issued without offline_access');
  }

  const userinfo = await client.fetchUserInfo(config, tokens.access_token, claims.sub);
  check(userinfo.preferred_username === userName, `userinfo preferred_username is ${userinfo.preferred_username}`);
  check(userinfo.email === u.email, `userinfo email is ${userinfo.email}`);

  return `sub=${claims.sub} amr=${claims.amr.join(',')}${tokens.refresh_token ? ' refresh_token' : ''}`;
}

// ---------------------------------------------------------------------------

let passed = 0;
let failed = 0;
for (const testCase of CASES) {
  const name = `${testCase.user} via ${testCase.client}`;
  const rec = recorder();
  try {
    const detail = await runCase(testCase, rec);
    passed += 1;
    console.log(`ok   ${name} (${detail})`);
  } catch (err) {
    failed += 1;
    console.log(`FAIL ${name}: ${err instanceof CheckError ? err.message : String(err)}`);
    if (!(err instanceof CheckError)) {
      // openid-client errors carry a code and often the offending response.
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
