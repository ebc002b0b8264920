// Signing in to Gatehouse through an upstream provider. openid-client is
// the relying party at Gatehouse (as in rp.mjs), and the upstream is either
// panva's oidc-provider (upstream_provider.mjs, "Panva" in the seed), where
// carol has an account, or a second Gatehouse ("Corp SSO", seeded from
// gatehouse-upstream-seed.toml), where dora has one. The browser is driven
// by hand over HTTP with a cookie jar, so that every hop between the
// client, Gatehouse and the upstream is asserted:
//
// - what Gatehouse sends to the upstream (code flow, PKCE S256, state,
//   nonce, its registered redirect URI), and what comes back (the code,
//   the same state, RFC 9207's iss);
// - that the ID token Gatehouse then issues is validated by openid-client,
//   names a local subject (not the upstream's) and says amr ["fed"], and
//   that userinfo carries what the upstream said about the person;
// - that the sign-in page's button leads to the same local account;
// - that signing out of Gatehouse signs out at the upstream too
//   (sign_out_upstream), so the next sign-in asks there again.
//
// Usage: GATEHOUSE_ISSUER=… UPSTREAM_ISSUER=… GATEHOUSE_UPSTREAM_ISSUER=…
// node upstream.mjs (tests/rp/with-upstream sets all three).

import * as client from 'openid-client';
import {
  Browser,
  CLIENTS,
  ISSUER,
  authorizationRequest,
  check,
  configure,
  describe,
  expectForm,
  expectRedirect,
  hiddenInput,
  htmlUnescape,
  requestParam,
  runCases,
} from './rp.mjs';


// Each upstream as upstream.toml, upstream_provider.mjs and
// gatehouse-upstream-seed.toml have it: the person with an account there,
// how its sign-in form is filled in, and how it signs out.
const PANVA = {
  id: 'panva',
  name: 'Panva',
  issuer: process.env.UPSTREAM_ISSUER,
  clientId: 'gatehouse',
  person: {
    sub: 'carol-sub',
    username: 'carol',
    password: "carol's upstream passphrase",
    email: 'carol@example.com',
    name: 'Carol Upstream',
  },
  // oidc-provider's interaction page (upstream_provider.mjs).
  signInForm(browser, res) {
    const form = res.status === 200 ? res.body.match(/<form method="post" action="(\/interaction\/[^"]+\/login)"/) : null;
    if (!form) return null;
    return {
      url: new URL(htmlUnescape(form[1]), this.issuer),
      fields: { username: this.person.username, password: this.person.password },
    };
  },
  // oidc-provider asks for a confirmation on a page of its own.
  async signOut(browser, there) {
    let res = await browser.get(there);
    check(res.status === 200, `expected the upstream's sign-out page, got ${describe(res)}`);
    const form = res.body.match(/<form[^>]*\baction="([^"]*)"[^>]*>([\s\S]*?)<\/form>/);
    check(form, 'no form on the upstream\'s sign-out page');
    const xsrf = form[2].match(/name="xsrf" value="([^"]*)"/);
    check(xsrf, 'no xsrf field on the upstream\'s sign-out page');
    res = await browser.post(new URL(htmlUnescape(form[1]), there), { xsrf: htmlUnescape(xsrf[1]), logout: 'yes' });
    return res;
  },
};

const CORP = {
  id: 'corp',
  name: 'Corp SSO',
  issuer: process.env.GATEHOUSE_UPSTREAM_ISSUER,
  clientId: 'downstream',
  person: {
    // A UUID the upstream Gatehouse made, not known beforehand.
    sub: null,
    username: 'dora',
    password: "dora's corporate passphrase 9",
    email: 'dora@example.com',
    name: 'Dora Upstream',
  },
  // Gatehouse's own sign-in page, on its /login with the pending request.
  signInForm(browser, res) {
    if (res.status !== 200 || new URL(res.url).pathname !== '/login') return null;
    const form = res.body.match(/<form method="post" action="([^"]*\/login)">/);
    check(form, `no sign-in form on the upstream's sign-in page: ${describe(res)}`);
    const csrf = hiddenInput(res.body, 'csrf');
    const request = hiddenInput(res.body, 'request');
    check(csrf && csrf === browser.jar(this.issuer).get('gatehouse_csrf'),
      'the csrf field of the upstream\'s sign-in page does not match its gatehouse_csrf cookie');
    check(request && request === new URL(res.url).searchParams.get('request'),
      `the upstream's sign-in page carries request ${request}, expected the one in ${res.url}`);
    return {
      url: new URL(htmlUnescape(form[1]), this.issuer),
      fields: { csrf, request, username: this.person.username, password: this.person.password },
    };
  },
  // Gatehouse signs out at once when the id_token_hint names the session.
  signOut(browser, there) {
    return browser.get(there);
  },
};

for (const [variable, upstream] of [['UPSTREAM_ISSUER', PANVA], ['GATEHOUSE_UPSTREAM_ISSUER', CORP]]) {
  if (!upstream.issuer) {
    console.error(`${variable} is not set`);
    process.exit(2);
  }
  // Cookies are per host: on the same one, the two Gatehouses' cookies
  // would overwrite each other's, as in any browser.
  if (new URL(upstream.issuer).hostname === new URL(ISSUER).hostname) {
    console.error(`${variable} is on the host of GATEHOUSE_ISSUER; the upstreams need one of their own`);
    process.exit(2);
  }
}

const BASE = ISSUER.replace(/\/$/, '');
const callbackOf = (upstream) => `${BASE}/upstream/${upstream.id}/callback`;
const signedOutOf = (upstream) => `${BASE}/upstream/${upstream.id}/signed-out`;
// Registered for demo in examples/seed.toml.
const POST_LOGOUT_REDIRECT_URI = 'http://127.0.0.1:9999/';
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

// The local subject each upstream's person got on the first sign-in, for
// the later cases.
const localSubs = new Map();

const metadata = new Map();
async function discover(upstream) {
  if (!metadata.has(upstream.id)) {
    const r = await fetch(`${upstream.issuer}/.well-known/openid-configuration`);
    check(r.ok, `${upstream.name}'s discovery answered ${r.status}`);
    metadata.set(upstream.id, await r.json());
  }
  return metadata.get(upstream.id);
}

function sameEndpoint(url, expected) {
  const e = new URL(expected);
  return url.origin === e.origin && url.pathname === e.pathname;
}

// Gatehouse's redirect to the upstream: an authorization code request with
// PKCE S256, state and nonce, for its own client there; and the trip
// cookie that ties the way back to this browser.
async function expectDeparture(upstream, browser, res) {
  const meta = await discover(upstream);
  check(res.status === 303, `expected a 303 to the upstream, got ${describe(res)}`);
  const url = res.location;
  check(url && sameEndpoint(url, meta.authorization_endpoint),
    `expected a redirect to the upstream's ${meta.authorization_endpoint}, got ${describe(res)}`);
  const q = url.searchParams;
  check(q.get('response_type') === 'code', `response_type at the upstream: ${url}`);
  check(q.get('client_id') === upstream.clientId, `client_id at the upstream: ${url}`);
  check(q.get('redirect_uri') === callbackOf(upstream),
    `redirect_uri at the upstream is ${q.get('redirect_uri')}, expected ${callbackOf(upstream)}`);
  check(q.get('code_challenge_method') === 'S256', `code_challenge_method at the upstream: ${url}`);
  check(/^[A-Za-z0-9_-]{43}$/.test(q.get('code_challenge') ?? ''), `code_challenge at the upstream: ${url}`);
  check((q.get('state') ?? '').length >= 16, `state at the upstream: ${url}`);
  check((q.get('nonce') ?? '').length >= 16, `nonce at the upstream: ${url}`);
  check((q.get('scope') ?? '').split(' ').includes('openid'), `scope at the upstream lacks openid: ${url}`);
  check(browser.cookies.has('gatehouse_upstream'), 'no gatehouse_upstream trip cookie on the way to the upstream');
  return url;
}

// The browser at the upstream: follows its redirects, signs its person in
// on its form when asked (`signIn` says whether it must ask, exactly once),
// and returns the answer that leaves the upstream.
async function atUpstream(upstream, browser, url, { signIn }) {
  const who = upstream.person.username;
  const origin = new URL(upstream.issuer).origin;
  let res = await browser.get(url);
  let asked = 0;
  for (let hop = 0; hop < 12; hop += 1) {
    const form = upstream.signInForm(browser, res);
    if (form) {
      check(signIn, `${upstream.name} asked ${who} to sign in, though she should still be signed in there: ${describe(res)}`);
      check(asked === 0, `${upstream.name} asked ${who} to sign in a second time: ${describe(res)}`);
      asked += 1;
      res = await browser.post(form.url, form.fields);
      continue;
    }
    check([302, 303].includes(res.status) && res.location, `unexpected answer at ${upstream.name}: ${describe(res)}`);
    if (res.location.origin !== origin) break;
    res = await browser.get(res.location);
  }
  check(res.location && res.location.origin !== origin, `still at ${upstream.name} after 12 hops: ${describe(res)}`);
  if (signIn) check(asked === 1, `${upstream.name} did not ask ${who} to sign in`);
  return res;
}

// The upstream's answer on its way back to Gatehouse: a code, the state
// Gatehouse sent, and the upstream's issuer (RFC 9207).
function expectUpstreamAnswer(upstream, res, departure) {
  const url = res.location;
  check(sameEndpoint(url, callbackOf(upstream)), `the upstream sent the browser to ${url}, expected ${callbackOf(upstream)}`);
  const q = url.searchParams;
  check(!q.get('error'), `the upstream answered with an error: ${url}`);
  check(q.get('code'), `the upstream's answer has no code: ${url}`);
  check(q.get('state') === departure.searchParams.get('state'), `the upstream's answer carries another state: ${url}`);
  check(q.get('iss') === upstream.issuer, `the upstream's answer has iss ${q.get('iss')}, expected ${upstream.issuer}`);
  return url;
}

// Back at Gatehouse with the upstream's answer: signed in, on to the
// pending request, through the consent page when `consent`, and to the
// client with a code.
async function backAtGatehouse(browser, answer, requestId, c, { consent, state }) {
  let res = await browser.get(answer);
  let location = expectRedirect(res, 303, '/authorize/resume');
  check(requestParam(location, 'resume') === requestId, `resume redirect lost the request id: ${location}`);
  check(browser.cookies.has('gatehouse_session'), 'no gatehouse_session cookie after the upstream sign-in');

  res = await browser.get(location);
  let callback;
  if (consent) {
    location = expectRedirect(res, 302, '/consent');
    check(requestParam(location, 'consent') === requestId, `consent redirect lost the request id: ${location}`);
    res = await browser.get(location);
    const form = expectForm(browser, res, 'consent', requestId);
    res = await browser.post(`${BASE}/consent`, { csrf: form.csrf, request: form.request, decision: 'allow' });
    callback = expectRedirect(res, 303, c.redirectUri);
  } else {
    callback = expectRedirect(res, 302, c.redirectUri);
  }
  check(callback.searchParams.get('code'), `callback without code: ${callback}`);
  check(callback.searchParams.get('state') === state, `callback state mismatch: ${callback}`);
  check(callback.searchParams.get('iss') === ISSUER, `callback iss is not the issuer: ${callback}`);
  return callback;
}

// openid-client redeems the code and validates the ID token; then what
// Gatehouse says about the user it signed in through the upstream.
async function redeem(upstream, config, callback, checks) {
  const person = upstream.person;
  const tokens = await client.authorizationCodeGrant(config, callback, { ...checks, idTokenExpected: true });
  const claims = tokens.claims();
  check(claims, 'no ID token in the token response');
  check(UUID.test(claims.sub ?? ''), `the ID token's sub is not a local one (a UUID): ${claims.sub}`);
  if (person.sub) {
    check(claims.sub !== person.sub, `the ID token's sub is the upstream's subject ${person.sub}, not a local one`);
  }
  check(claims.iss === ISSUER, `ID token iss ${claims.iss}, expected ${ISSUER}`);
  check(JSON.stringify(claims.amr) === '["fed"]', `ID token amr is ${JSON.stringify(claims.amr)}, expected ["fed"]`);

  const userinfo = await client.fetchUserInfo(config, tokens.access_token, claims.sub);
  const json = JSON.stringify(userinfo);
  check(userinfo.preferred_username === person.username, `userinfo preferred_username: ${json}`);
  check(userinfo.email === person.email, `userinfo email: ${json}`);
  check(userinfo.email_verified === true, `userinfo email_verified (the upstream verified it): ${json}`);
  check(userinfo.name === person.name, `userinfo name: ${json}`);
  return { tokens, claims };
}

// A sign-in to demo with `idp_hint`: past Gatehouse's sign-in page straight
// to the upstream and back.
async function hintedSignIn(upstream, rec, browser, { signIn, consent }) {
  const c = CLIENTS.demo;
  const config = await configure('demo', rec);
  const authz = await authorizationRequest(config, c, { idp_hint: upstream.id });

  let res = await browser.get(authz.url);
  const location = expectRedirect(res, 302, '/login');
  const requestId = requestParam(location, 'login');
  res = await browser.get(location);
  const departure = await expectDeparture(upstream, browser, res);
  res = await atUpstream(upstream, browser, departure, { signIn });
  const answer = expectUpstreamAnswer(upstream, res, departure);
  const callback = await backAtGatehouse(browser, answer, requestId, c, { consent, state: authz.checks.expectedState });
  return { config, ...(await redeem(upstream, config, callback, authz.checks)) };
}

// ---------------------------------------------------------------------------
// Cases

async function hintCase(upstream, rec) {
  // A first sign-in: the account is made here, and demo asks for consent.
  const { claims } = await hintedSignIn(upstream, rec, new Browser(), { signIn: true, consent: true });
  localSubs.set(upstream.id, claims.sub);
  return `sub=${claims.sub} amr=${claims.amr.join(',')}`;
}

async function buttonCase(upstream, rec) {
  const localSub = localSubs.get(upstream.id);
  check(localSub, `no earlier sign-in through ${upstream.name} to compare with`);
  const browser = new Browser();
  const c = CLIENTS.demo;
  const config = await configure('demo', rec);
  const authz = await authorizationRequest(config, c);

  let res = await browser.get(authz.url);
  const location = expectRedirect(res, 302, '/login');
  const requestId = requestParam(location, 'login');
  res = await browser.get(location);
  expectForm(browser, res, 'login', requestId);

  const action = `/upstream/${upstream.id}/start`;
  const forms = [...res.body.matchAll(/<form method="post" action="([^"]*)">([\s\S]*?)<\/form>/g)];
  const mine = forms.filter((f) => htmlUnescape(f[1]).endsWith(action));
  check(mine.length === 1, `expected one form posting to ${action} on the sign-in page, found ${mine.length}`);
  const inner = mine[0][2];
  const button = inner.match(/<button[^>]*\bdata-upstream="([^"]*)"[^>]*>([\s\S]*?)<\/button>/);
  check(button, `no upstream button in the form posting to ${action}`);
  check(button[1] === upstream.id, `the button's data-upstream is ${button[1]}`);
  check(htmlUnescape(button[2]).trim() === `Sign in with ${upstream.name}`, `the button says ${JSON.stringify(button[2].trim())}`);
  const field = (name) => {
    const tag = inner.match(new RegExp(`<input type="hidden" name="${name}" value="([^"]*)">`));
    return tag ? htmlUnescape(tag[1]) : null;
  };
  check(field('csrf') === browser.cookies.get('gatehouse_csrf'), 'the button\'s csrf field does not match the gatehouse_csrf cookie');
  check(field('request') === requestId, `the button's form carries request ${field('request')}, expected ${requestId}`);

  res = await browser.post(new URL(htmlUnescape(mine[0][1]), BASE), { csrf: field('csrf'), request: field('request') });
  const departure = await expectDeparture(upstream, browser, res);
  res = await atUpstream(upstream, browser, departure, { signIn: true });
  const answer = expectUpstreamAnswer(upstream, res, departure);
  // Same local account: the consent given on the first sign-in holds.
  const callback = await backAtGatehouse(browser, answer, requestId, c, {
    consent: false,
    state: authz.checks.expectedState,
  });
  const { claims } = await redeem(upstream, config, callback, authz.checks);
  check(claims.sub === localSub, `the button signed ${upstream.person.username} in as ${claims.sub}, the first sign-in as ${localSub}`);
  return `same sub=${claims.sub}`;
}

async function signOutCase(upstream, rec) {
  const localSub = localSubs.get(upstream.id);
  check(localSub, `no earlier sign-in through ${upstream.name} to compare with`);
  const browser = new Browser();
  const { config, tokens, claims } = await hintedSignIn(upstream, rec, browser, { signIn: true, consent: false });
  check(claims.sub === localSub, `signed in as ${claims.sub}, expected ${localSub}`);

  // Control: with only the upstream's cookies (a new session here), the
  // upstream still knows its person and does not ask to sign in; so its
  // asking after the sign-out below means the sign-out reached it.
  const other = new Browser();
  for (const [name, value] of browser.jar(upstream.issuer)) other.jar(upstream.issuer).set(name, value);
  const again = await hintedSignIn(upstream, rec, other, { signIn: false, consent: false });
  check(again.claims.sub === localSub, `signed in again as ${again.claims.sub}, expected ${localSub}`);

  const meta = await discover(upstream);
  const state = client.randomState();
  const endSession = client.buildEndSessionUrl(config, {
    id_token_hint: tokens.id_token,
    post_logout_redirect_uri: POST_LOGOUT_REDIRECT_URI,
    state,
  });
  let res = await browser.get(endSession);
  check(res.status === 303, `expected a 303 to sign out at the upstream, got ${describe(res)}`);
  const there = res.location;
  check(there && sameEndpoint(there, meta.end_session_endpoint),
    `expected a redirect to the upstream's ${meta.end_session_endpoint}, got ${describe(res)}`);
  check(!browser.cookies.has('gatehouse_session'), 'gatehouse_session cookie was not cleared by the sign-out');
  const q = there.searchParams;
  check(q.get('client_id') === upstream.clientId, `client_id at the upstream's end_session: ${there}`);
  check(q.get('post_logout_redirect_uri') === signedOutOf(upstream),
    `post_logout_redirect_uri at the upstream: ${q.get('post_logout_redirect_uri')}`);
  check(q.get('state'), `no state at the upstream's end_session: ${there}`);
  const hint = q.get('id_token_hint');
  check(hint, 'no id_token_hint at the upstream\'s end_session');
  const hinted = JSON.parse(Buffer.from(hint.split('.')[1], 'base64url').toString());
  const what = `the id_token_hint is not ${upstream.name}'s ID token for ${upstream.person.username}: ${JSON.stringify(hinted)}`;
  check(hinted.iss === upstream.issuer, what);
  check(hinted.aud === upstream.clientId, what);
  if (upstream.person.sub) {
    check(hinted.sub === upstream.person.sub, what);
  } else {
    check(UUID.test(hinted.sub ?? ''), what);
  }
  // Her subject there is not the one here.
  check(hinted.sub !== localSub, `the local sub ${localSub} is the upstream's subject ${hinted.sub}`);

  res = await upstream.signOut(browser, there);
  check([302, 303].includes(res.status) && res.location, `expected the upstream to send the browser back, got ${describe(res)}`);
  check(sameEndpoint(res.location, signedOutOf(upstream)),
    `the upstream sent the browser to ${res.location}, expected ${signedOutOf(upstream)}`);
  check(res.location.searchParams.get('state') === q.get('state'), `the upstream's sign-out answer carries another state: ${res.location}`);

  res = await browser.get(res.location);
  const back = expectRedirect(res, 303, POST_LOGOUT_REDIRECT_URI);
  check(back.searchParams.get('state') === state, `post-logout redirect state mismatch: ${back}`);

  // Signed out at the upstream: the next sign-in through it asks again.
  const after = await hintedSignIn(upstream, rec, browser, { signIn: true, consent: false });
  check(after.claims.sub === localSub, `signed in after the sign-out as ${after.claims.sub}, expected ${localSub}`);
  return `signed out at ${upstream.name}, which asked again; its subject ${hinted.sub}`;
}

const CASES = [PANVA, CORP].flatMap((upstream) => {
  const kind = upstream === CORP ? ' (a second Gatehouse)' : '';
  return [
    { name: `sign in through ${upstream.name}${kind} with idp_hint (demo): a local account, amr fed`, run: (rec) => hintCase(upstream, rec) },
    { name: `the sign-in page's "Sign in with ${upstream.name}" button: the same local account`, run: (rec) => buttonCase(upstream, rec) },
    { name: `signing out of Gatehouse signs out at ${upstream.name} too`, run: (rec) => signOutCase(upstream, rec) },
  ];
});

await runCases(CASES);
