// Signing in through an upstream provider, in headless Chromium: the
// sign-in page of an application (Notes) offers "Sign in with Panva", an
// oidc-provider that tests/rp/with-upstream started before Gatehouse; the
// button takes the browser there, carol signs in on its form, and the
// browser comes back through Gatehouse's consent page to Notes with a
// code. The ID token names a local account made for her, not the upstream's
// subject and not the seed's own carol (who signs in with a password), with
// amr ["fed"]; the account page lists Panva as her only way to sign in.
// Screenshots of the sign-in page with the button and of the account page.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { issuer, openBrowser, screenshot, authorizeUrl, tokenRequest, claims, landedAt } from './support.mjs';

const upstream = process.env.UPSTREAM_ISSUER;
const notes = { id: 'notes', secret: 'notes-secret-0123456789', redirect: 'http://127.0.0.1:7777/callback' };
// Her account at the upstream (tests/rp/upstream_provider.mjs).
const carolThere = {
  sub: 'carol-sub',
  username: 'carol',
  password: "carol's upstream passphrase",
  email: 'carol@example.com',
  name: 'Carol Upstream',
};

let browser;
let page;
const state = { problems: [], sub: null };

before(async () => {
  assert.ok(issuer, 'GATEHOUSE_ISSUER is set');
  assert.ok(upstream, 'UPSTREAM_ISSUER is set (tests/rp/with-upstream)');
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
