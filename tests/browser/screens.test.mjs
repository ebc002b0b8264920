// The screens people use, in headless Chromium: a new user enrols TOTP from
// the account page by reading the key off it, signs out, signs in to an
// application with password + TOTP, consents and lands on the redirect_uri;
// a recovery code works once; the account page removes an application's
// access; a user outside a client's allowed groups gets the no-access page,
// and a member of the group signs in to it. Screenshots of each screen at
// desktop and phone widths.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import {
  issuer, openBrowser, screenshot, authorizeUrl as authorizeFor, tokenRequest, claims, landedAt,
  enterPassword as enterPasswordFor, signOut as signOutOf, totp,
} from './support.mjs';

const client = { id: 'notes', secret: 'notes-secret-0123456789', redirect: 'http://127.0.0.1:7777/callback' };
const carol = { username: 'carol', password: "carol's garden gate 42" };
// Only members of engineering may sign in to the wiki (seed.toml): erin is
// one, dan is not.
const wiki = { id: 'wiki', secret: 'wiki-secret-0123456789', redirect: 'http://127.0.0.1:7779/callback' };
const dan = { username: 'dan', password: "dan's ordinary passphrase", name: 'Dan Example' };
const erin = { username: 'erin', password: "erin's engineering passphrase" };

let browser;
let page;
const state = { secret: null, recoveryCodes: [], refreshToken: null, problems: [], icons: new Set() };

// Each code works once: wait for the authenticator's next code.
async function nextCode(secret) {
  const now = Date.now() / 1000;
  const wait = (30 - (now % 30)) + 0.5;
  await new Promise((resolve) => setTimeout(resolve, wait * 1000));
  return totp(secret);
}

const authorizeUrl = (state, nonce) =>
  authorizeFor(client, { scope: 'openid profile email offline_access', state, nonce, prompt: 'consent' });
const signOut = () => signOutOf(page);
const enterPassword = () => enterPasswordFor(page, carol.username, carol.password);
const landedAtClient = () => landedAt(page, client.redirect);
const redeem = async (code) =>
  tokenRequest(client, { grant_type: 'authorization_code', code, redirect_uri: client.redirect });

before(async () => {
  assert.ok(issuer, 'GATEHOUSE_ISSUER is set');
  ({ browser, page, problems: state.problems, icons: state.icons } = await openBrowser(
    [new URL(client.redirect).origin, new URL(wiki.redirect).origin]));
});

after(async () => {
  await browser?.close();
});

test('a new user enrols TOTP from the account page, reading the key off the page', async () => {
  await page.goto(`${issuer}/account`);
  assert.match(page.url(), /\/login\?then=account$/);
  await screenshot(page, 'login');
  await enterPassword();
  await page.waitForURL(`${issuer}/account`);
  await page.getByRole('link', { name: 'Set up two-step verification' }).click();
  await page.waitForURL(/\/account\/mfa\/enrol$/);
  assert.ok(await page.locator('svg.qr').isVisible(), 'the QR code is drawn');
  await screenshot(page, 'totp-enrolment');
  await page.getByText("Can't scan it? Enter the key by hand").click();
  state.secret = (await page.locator('#secret').innerText()).replace(/\s/g, '');
  assert.equal(state.secret.length, 32);

  await page.getByLabel('Code from your app').fill('000000');
  await page.getByRole('button', { name: 'Turn on two-step verification' }).click();
  assert.match(await page.getByRole('alert').innerText(), /doesn't match/);

  await page.getByLabel('Code from your app').fill(totp(state.secret));
  await page.getByRole('button', { name: 'Turn on two-step verification' }).click();
  await page.getByRole('heading', { name: 'Save your recovery codes' }).waitFor();
  state.recoveryCodes = await page.locator('ol.codes code').allInnerTexts();
  assert.equal(state.recoveryCodes.length, 10);
  await screenshot(page, 'recovery-codes');
  await page.getByRole('link', { name: 'I have saved these codes, continue' }).click();
  await page.waitForURL(/\/account/);
  assert.match(await page.locator('#mfa').innerText(), /On/);
  assert.match(await page.locator('#mfa').innerText(), /10 unused recovery codes/);
  await signOut();
});

test('signs in with password and TOTP, gives consent and lands on the redirect_uri', async () => {
  await page.goto(authorizeUrl('state-1', 'nonce-1'));
  await page.getByRole('heading', { name: 'Sign in' }).waitFor();
  assert.match(await page.locator('main').innerText(), /to continue to Notes/);
  await enterPassword();
  await page.getByRole('heading', { name: 'Two-step verification' }).waitFor();
  const field = page.getByLabel('Verification code');
  assert.equal(await field.getAttribute('autocomplete'), 'one-time-code');
  await screenshot(page, 'totp-challenge');
  await field.fill(await nextCode(state.secret));
  await page.getByRole('button', { name: 'Verify' }).click();
  await page.getByRole('heading', { name: 'Allow Notes to use your account?' }).waitFor();
  await screenshot(page, 'consent');
  await page.getByRole('button', { name: 'Allow' }).click();
  const landed = await landedAtClient();
  assert.equal(landed.searchParams.get('state'), 'state-1');
  assert.equal(landed.searchParams.get('iss'), issuer);
  const tokens = await redeem(landed.searchParams.get('code'));
  assert.equal(tokens.status, 200, JSON.stringify(tokens.body));
  const id = claims(tokens.body.id_token);
  assert.deepEqual(id.amr, ['pwd', 'otp']);
  assert.equal(id.nonce, 'nonce-1');
  state.refreshToken = tokens.body.refresh_token;
  assert.ok(state.refreshToken);
  await signOut();
});

test('a recovery code signs in once, and never again', async () => {
  const signInWithRecoveryCode = async (code) => {
    await page.goto(authorizeUrl('state-2', 'nonce-2').replace('&prompt=consent', ''));
    await enterPassword();
    await page.getByText('Lost your phone? Use a recovery code').click();
    await page.getByLabel('Recovery code').fill(code);
    await page.getByRole('button', { name: 'Use recovery code' }).click();
  };
  await signInWithRecoveryCode(state.recoveryCodes[0]);
  const landed = await landedAtClient();
  assert.ok(landed.searchParams.get('code'), 'consent was remembered: straight to the client');
  await signOut();

  await signInWithRecoveryCode(state.recoveryCodes[0]);
  await page.getByRole('heading', { name: 'Two-step verification' }).waitFor();
  assert.match(await page.getByRole('alert').innerText(), /That code didn't work/);
});

test('the account page removes an application, and its refresh token stops working', async () => {
  await page.getByText('Lost your phone? Use a recovery code').click();
  await page.getByLabel('Recovery code').fill(state.recoveryCodes[1]);
  await page.getByRole('button', { name: 'Use recovery code' }).click();
  await landedAtClient();
  await page.goto(`${issuer}/account`);
  const apps = page.locator('#applications');
  assert.match(await apps.innerText(), /Notes/);
  assert.match(await page.locator('#sessions').innerText(), /This browser/);
  await screenshot(page, 'account');
  await page.getByRole('button', { name: 'Remove access for Notes' }).click();
  await page.getByRole('status').waitFor();
  assert.match(await page.getByRole('status').innerText(), /Access removed/);
  assert.match(await apps.innerText(), /haven't allowed any application/);

  const refreshed = await tokenRequest(client, { grant_type: 'refresh_token', refresh_token: state.refreshToken });
  assert.equal(refreshed.status, 400);
  assert.equal(refreshed.body.error, 'invalid_grant');
});

test('a user outside the client\'s allowed groups gets the no-access page', async () => {
  await page.context().clearCookies();
  await page.goto(authorizeFor(wiki, { scope: 'openid profile', state: 'wiki-1', nonce: 'n-wiki-1' }));
  await enterPasswordFor(page, dan.username, dan.password);
  await page.getByRole('heading', { name: "You don't have access to Team Wiki" }).waitFor();
  assert.match(await page.locator('main').innerText(), new RegExp(`signed in as ${dan.name}`));
  const back = new URL(await page.locator('#back').getAttribute('href'));
  assert.equal(`${back.origin}${back.pathname}`, wiki.redirect);
  assert.equal(back.searchParams.get('error'), 'access_denied');
  assert.equal(back.searchParams.get('state'), 'wiki-1');
  assert.equal(back.searchParams.get('code'), null);
  const signOutLink = page.locator('#sign-out');
  assert.equal((await signOutLink.innerText()).trim(), 'Sign out');
  await screenshot(page, 'no-access');
  await signOutLink.click();
  await page.waitForLoadState();
  assert.equal(new URL(page.url()).pathname, '/end_session', 'the link leads to signing out');
  await page.getByRole('button', { name: 'Sign out' }).click();
  await page.waitForLoadState();
});

test('a member of the client\'s allowed group signs in and lands on the redirect_uri with a code', async () => {
  await page.context().clearCookies();
  await page.goto(authorizeFor(wiki, { scope: 'openid profile', state: 'wiki-2', nonce: 'n-wiki-2' }));
  await enterPasswordFor(page, erin.username, erin.password);
  const landed = await landedAt(page, wiki.redirect);
  assert.equal(landed.searchParams.get('state'), 'wiki-2');
  assert.equal(landed.searchParams.get('error'), null);
  const tokens = await tokenRequest(wiki, {
    grant_type: 'authorization_code', code: landed.searchParams.get('code'), redirect_uri: wiki.redirect,
  });
  assert.equal(tokens.status, 200, JSON.stringify(tokens.body));
  const id = claims(tokens.body.id_token);
  assert.equal(id.aud, 'wiki');
  assert.equal(id.nonce, 'n-wiki-2');
  assert.equal(id.given_name, 'Erin');
  await page.context().clearCookies();
});

test('no script error, CSP refusal or missing resource on any screen', () => {
  assert.deepEqual(state.problems, []);
  assert.ok(state.icons.size > 0, 'the icon of the screens was checked');
});
