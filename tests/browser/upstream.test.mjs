// Signing in through an upstream provider, in headless Chromium: the
// sign-in page of an application (Notes) offers "Sign in with Panva", an
// oidc-provider that tests/rp/with-upstream started before Gatehouse; the
// button takes the browser there, carol signs in on its form, and the
// browser comes back through Gatehouse's consent page to Notes with a
// code. The ID token names a local account made for her, not the upstream's
// subject and not the seed's own carol (who signs in with a password), with
// amr ["fed"]; the account page lists Panva as her only way to sign in.
// Then, in a browser of its own, "Sign in with Corp SSO": a second
// Gatehouse, where dora signs in on its own sign-in page, and comes back to
// Notes the same way, with a local account whose subject is not the one the
// upstream Gatehouse gives her. Screenshots of the sign-in page with both
// buttons and of the account page.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { issuer, openBrowser, screenshot, authorizeUrl, tokenRequest, claims, landedAt } from './support.mjs';

const upstream = process.env.UPSTREAM_ISSUER;
const corp = process.env.GATEHOUSE_UPSTREAM_ISSUER;
const notes = { id: 'notes', secret: 'notes-secret-0123456789', redirect: 'http://127.0.0.1:7777/callback' };
// Her account at the upstream (tests/rp/upstream_provider.mjs).
const carolThere = {
  sub: 'carol-sub',
  username: 'carol',
  password: "carol's upstream passphrase",
  email: 'carol@example.com',
  name: 'Carol Upstream',
};
// Her account at the upstream Gatehouse, and the Gatehouse under test's
// client there (tests/rp/gatehouse-upstream-seed.toml).
const doraThere = {
  username: 'dora',
  password: "dora's corporate passphrase 9",
  email: 'dora@example.com',
  name: 'Dora Upstream',
};
const downstream = { id: 'downstream', secret: 'downstream-at-corp-secret-4567' };
const uuid = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

let browser;
let page;
const state = { problems: [], sub: null };

before(async () => {
  assert.ok(issuer, 'GATEHOUSE_ISSUER is set');
  assert.ok(upstream, 'UPSTREAM_ISSUER is set (tests/rp/with-upstream)');
  assert.ok(corp, 'GATEHOUSE_UPSTREAM_ISSUER is set (tests/rp/with-upstream)');
  ({ browser, page, problems: state.problems } = await openBrowser([new URL(notes.redirect).origin]));
});

after(async () => {
  await browser?.close();
});

test('the sign-in page\'s "Sign in with Panva" signs carol in at the upstream and lands on Notes with a code', async () => {
  await page.goto(authorizeUrl(notes, { scope: 'openid profile email', state: 'up-1', nonce: 'n-up-1' }));
  await page.getByRole('heading', { name: 'Sign in', exact: true }).waitFor();
  assert.match(await page.locator('main').innerText(), /to continue to Notes/);
  const button = page.getByRole('button', { name: 'Sign in with Panva' });
  assert.equal(await button.getAttribute('data-upstream'), 'panva');
  assert.equal(await page.getByRole('button', { name: 'Sign in with Corp SSO' }).getAttribute('data-upstream'), 'corp');
  await screenshot(page, 'upstream-sign-in');

  await button.click();
  await page.waitForURL((url) => url.toString().startsWith(`${upstream}/interaction/`));
  await page.getByRole('heading', { name: 'Sign in to Panva' }).waitFor();
  await page.getByLabel('Username').fill(carolThere.username);
  await page.getByLabel('Password').fill(carolThere.password);
  await page.getByRole('button', { name: 'Sign in' }).click();

  // Back at Gatehouse: a new account, so Notes asks for consent.
  await page.getByRole('heading', { name: 'Allow Notes to use your account?' }).waitFor();
  assert.ok(page.url().startsWith(`${issuer}/consent`), `on ${page.url()}`);
  await page.getByRole('button', { name: 'Allow' }).click();
  const landed = await landedAt(page, notes.redirect);
  assert.equal(landed.searchParams.get('state'), 'up-1');
  assert.equal(landed.searchParams.get('iss'), issuer);

  const tokens = await tokenRequest(notes, {
    grant_type: 'authorization_code', code: landed.searchParams.get('code'), redirect_uri: notes.redirect,
  });
  assert.equal(tokens.status, 200, JSON.stringify(tokens.body));
  const id = claims(tokens.body.id_token);
  assert.equal(id.iss, issuer);
  assert.equal(id.aud, 'notes');
  assert.equal(id.nonce, 'n-up-1');
  assert.deepEqual(id.amr, ['fed']);
  assert.equal(typeof id.sub, 'string');
  assert.notEqual(id.sub, carolThere.sub, 'the sub is a local one, not the upstream\'s');
  state.sub = id.sub;

  const response = await fetch(`${issuer}/userinfo`, {
    headers: { authorization: `Bearer ${tokens.body.access_token}` },
  });
  assert.equal(response.status, 200);
  const userinfo = await response.json();
  assert.equal(userinfo.sub, id.sub);
  // The seed's own carol keeps the name carol: the new account gets the
  // next free one, and what the upstream says about her.
  assert.equal(userinfo.preferred_username, 'carol-2');
  assert.equal(userinfo.name, carolThere.name);
  assert.equal(userinfo.email, carolThere.email);
});

test('the account page lists Panva as a linked sign-in provider, the only way in for this account', async () => {
  assert.ok(state.sub, 'signed in through the upstream');
  await page.goto(`${issuer}/account`);
  const section = page.locator('#upstreams');
  await section.getByRole('heading', { name: 'Sign-in providers' }).waitFor();
  const row = section.locator('li[data-upstream="panva"]');
  const text = await row.innerText();
  assert.match(text, /Panva/);
  assert.match(text, new RegExp(`Linked .* as ${carolThere.email.replace('.', '\\.')}`));
  // No password here: the link cannot be removed.
  assert.match(text, /Your only way to sign in/);
  assert.equal(await row.getByRole('button', { name: 'Unlink Panva' }).count(), 0);
  await section.scrollIntoViewIfNeeded();
  await screenshot(page, 'upstream-account');
});

test('no script error, CSP refusal or missing resource on the way through the upstream', () => {
  assert.deepEqual(state.problems, []);
});

test('"Sign in with Corp SSO" signs dora in on the upstream Gatehouse\'s own sign-in page and lands on Notes with a code', async () => {
  assert.ok(state.sub, 'carol signed in through Panva first');
  // A browser of its own: nobody is signed in to either Gatehouse.
  const fresh = await openBrowser([new URL(notes.redirect).origin]);
  try {
    const { page } = fresh;
    await page.goto(authorizeUrl(notes, { scope: 'openid profile email', state: 'corp-1', nonce: 'n-corp-1' }));
    await page.getByRole('heading', { name: 'Sign in', exact: true }).waitFor();
    const button = page.getByRole('button', { name: 'Sign in with Corp SSO' });
    assert.equal(await button.getAttribute('data-upstream'), 'corp');
    await button.click();

    // The upstream Gatehouse's own sign-in page, for its client that is the
    // Gatehouse under test.
    await page.waitForURL((url) => url.toString().startsWith(`${corp}/login?`));
    await page.getByRole('heading', { name: 'Sign in', exact: true }).waitFor();
    assert.match(await page.locator('main').innerText(), /to continue to Gatehouse under test/);
    assert.equal(await page.getByRole('button', { name: /^Sign in with / }).count(), 0,
      'the upstream Gatehouse has no upstreams of its own');
    await page.getByLabel('Username').fill(doraThere.username);
    await page.getByLabel('Password').fill(doraThere.password);
    await page.getByRole('button', { name: 'Sign in', exact: true }).click();

    // Back at the Gatehouse under test: a new account, so Notes asks for
    // consent.
    await page.getByRole('heading', { name: 'Allow Notes to use your account?' }).waitFor();
    assert.ok(page.url().startsWith(`${issuer}/consent`), `on ${page.url()}`);
    await page.getByRole('button', { name: 'Allow' }).click();
    const landed = await landedAt(page, notes.redirect);
    assert.equal(landed.searchParams.get('state'), 'corp-1');
    assert.equal(landed.searchParams.get('iss'), issuer);

    const tokens = await tokenRequest(notes, {
      grant_type: 'authorization_code', code: landed.searchParams.get('code'), redirect_uri: notes.redirect,
    });
    assert.equal(tokens.status, 200, JSON.stringify(tokens.body));
    const id = claims(tokens.body.id_token);
    assert.equal(id.iss, issuer);
    assert.equal(id.aud, 'notes');
    assert.equal(id.nonce, 'n-corp-1');
    assert.deepEqual(id.amr, ['fed']);
    assert.match(id.sub, uuid);
    assert.notEqual(id.sub, state.sub, 'dora is not carol');

    const response = await fetch(`${issuer}/userinfo`, {
      headers: { authorization: `Bearer ${tokens.body.access_token}` },
    });
    assert.equal(response.status, 200);
    const userinfo = await response.json();
    assert.equal(userinfo.sub, id.sub);
    assert.equal(userinfo.preferred_username, doraThere.username);
    assert.equal(userinfo.name, doraThere.name);
    assert.equal(userinfo.email, doraThere.email);

    // Her subject at the upstream Gatehouse, from its own ID token: ask it
    // once more as its client (she is still signed in there), keep the
    // code from the way back, and redeem it there.
    const callback = `${issuer}/upstream/corp/callback`;
    const intercept = (url) => url.toString().startsWith(`${callback}?`);
    await page.route(intercept, (route) =>
      route.fulfill({ status: 200, contentType: 'text/html', body: '<h1>Code kept</h1>' }));
    const there = new URL(`${corp}/authorize`);
    there.search = new URLSearchParams({
      response_type: 'code', client_id: downstream.id, redirect_uri: callback, scope: 'openid', state: 'corp-2', nonce: 'n-corp-2',
    }).toString();
    await page.goto(there.toString());
    const back = await landedAt(page, callback);
    await page.unroute(intercept);
    assert.equal(back.searchParams.get('state'), 'corp-2');
    const answer = await fetch(`${corp}/token`, {
      method: 'POST',
      headers: {
        authorization: 'Basic ' + Buffer.from(`${downstream.id}:${downstream.secret}`).toString('base64'),
        'content-type': 'application/x-www-form-urlencoded',
      },
      body: new URLSearchParams({ grant_type: 'authorization_code', code: back.searchParams.get('code'), redirect_uri: callback }),
    });
    const body = await answer.json();
    assert.equal(answer.status, 200, JSON.stringify(body));
    const upstreamId = claims(body.id_token);
    assert.equal(upstreamId.iss, corp);
    assert.match(upstreamId.sub, uuid);
    assert.notEqual(id.sub, upstreamId.sub, 'the sub is a local one, not the upstream Gatehouse\'s');

    assert.deepEqual(fresh.problems, []);
  } finally {
    await fresh.browser.close();
  }
});
