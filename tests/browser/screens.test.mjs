// The screens people use, in headless Chromium: a new user enrols TOTP from
// the account page by reading the key off it, signs out, signs in to an
// application with password + TOTP, consents and lands on the redirect_uri;
// a recovery code works once; the account page removes an application's
// access. Screenshots of each screen at desktop and phone widths.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { chromium } from 'playwright-core';

const issuer = process.env.GATEHOUSE_ISSUER;
const shots = process.env.SCREENSHOTS_DIR;
const client = { id: 'notes', secret: 'notes-secret-0123456789', redirect: 'http://127.0.0.1:7777/callback' };
const carol = { username: 'carol', password: "carol's garden gate 42" };
const widths = { desktop: { width: 1280, height: 860 }, phone: { width: 390, height: 844 } };

let browser;
let page;
const state = { secret: null, recoveryCodes: [], refreshToken: null };

// RFC 6238 TOTP (SHA-1, 6 digits, 30 s), as an authenticator app computes it.
function base32(text) {
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';
  let bits = 0;
  let value = 0;
  const bytes = [];
  for (const c of text.replace(/[\s=]/g, '').toUpperCase()) {
    value = (value << 5) | alphabet.indexOf(c);
    bits += 5;
    if (bits >= 8) {
      bytes.push((value >>> (bits - 8)) & 0xff);
      bits -= 8;
    }
  }
  return Buffer.from(bytes);
}

function totp(secret, seconds = Date.now() / 1000) {
  const counter = Buffer.alloc(8);
  counter.writeBigUInt64BE(BigInt(Math.floor(seconds / 30)));
  const mac = createHmac('sha1', base32(secret)).update(counter).digest();
  const offset = mac[mac.length - 1] & 0x0f;
  return String((mac.readUInt32BE(offset) & 0x7fffffff) % 1_000_000).padStart(6, '0');
}

// Each code works once: wait for the authenticator's next code.
async function nextCode(secret) {
  const now = Date.now() / 1000;
  const wait = (30 - (now % 30)) + 0.5;
  await new Promise((resolve) => setTimeout(resolve, wait * 1000));
  return totp(secret);
}

async function screenshot(name) {
  for (const [label, size] of Object.entries(widths)) {
    await page.setViewportSize(size);
    await page.screenshot({ path: `${shots}/${name}-${label}.png`, fullPage: true });
  }
  await page.setViewportSize(widths.desktop);
}

function authorizeUrl(state, nonce) {
  const url = new URL(`${issuer}/authorize`);
  url.search = new URLSearchParams({
    response_type: 'code', client_id: client.id, redirect_uri: client.redirect,
    scope: 'openid profile email offline_access', state, nonce, prompt: 'consent',
  }).toString();
  return url.toString();
}

async function signOut() {
  await page.goto(`${issuer}/end_session`);
  await page.getByRole('button', { name: 'Sign out' }).click();
  await page.waitForLoadState();
}

async function enterPassword() {
  await page.getByLabel('Username').fill(carol.username);
  await page.getByLabel('Password').fill(carol.password);
  await page.getByRole('button', { name: 'Sign in' }).click();
}

/// Waits for the browser to be sent to the client, and returns that URL.
async function landedAtClient() {
  await page.waitForURL((url) => url.toString().startsWith(client.redirect));
  return new URL(page.url());
}

async function redeem(code) {
  const response = await fetch(`${issuer}/token`, {
    method: 'POST',
    headers: {
      authorization: 'Basic ' + Buffer.from(`${client.id}:${client.secret}`).toString('base64'),
      'content-type': 'application/x-www-form-urlencoded',
    },
    body: new URLSearchParams({ grant_type: 'authorization_code', code, redirect_uri: client.redirect }),
  });
  return { status: response.status, body: await response.json() };
}

function claims(jwt) {
  return JSON.parse(Buffer.from(jwt.split('.')[1], 'base64url').toString());
}

before(async () => {
  assert.ok(issuer, 'GATEHOUSE_ISSUER is set');
  browser = await chromium.launch({ executablePath: process.env.CHROMIUM, args: ['--no-sandbox'] });
  const context = await browser.newContext({ viewport: widths.desktop });
  page = await context.newPage();
  // The application itself is not running: answer its callback with a
  // plain page, as it would after receiving the code.
  await page.route(`${new URL(client.redirect).origin}/**`, (route) =>
    route.fulfill({ status: 200, contentType: 'text/html', body: '<h1>Notes</h1>' }));
  // A wrong code is answered with a 4xx page on purpose; what must never
  // happen is a script error, a CSP refusal or a stylesheet or image failing.
  const problems = [];
  page.on('console', (m) => {
    if (m.type() === 'error' && !m.text().startsWith('Failed to load resource')) problems.push(m.text());
  });
  page.on('pageerror', (e) => problems.push(e.message));
  page.on('response', (r) => {
    if (r.request().resourceType() !== 'document' && r.status() >= 400) problems.push(`${r.status()} ${r.url()}`);
  });
  state.problems = problems;
});

after(async () => {
  await browser?.close();
});

test('a new user enrols TOTP from the account page, reading the key off the page', async () => {
  await page.goto(`${issuer}/account`);
  assert.match(page.url(), /\/login\?then=account$/);
  await screenshot('login');
  await enterPassword();
  await page.waitForURL(`${issuer}/account`);
  await page.getByRole('link', { name: 'Set up two-step verification' }).click();
  await page.waitForURL(/\/account\/mfa\/enrol$/);
  assert.ok(await page.locator('svg.qr').isVisible(), 'the QR code is drawn');
  await screenshot('totp-enrolment');
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
  await screenshot('recovery-codes');
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
  await screenshot('totp-challenge');
  await field.fill(await nextCode(state.secret));
  await page.getByRole('button', { name: 'Verify' }).click();
  await page.getByRole('heading', { name: 'Allow Notes to use your account?' }).waitFor();
  await screenshot('consent');
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
  await screenshot('account');
  await page.getByRole('button', { name: 'Remove access for Notes' }).click();
  await page.getByRole('status').waitFor();
  assert.match(await page.getByRole('status').innerText(), /Access removed/);
  assert.match(await apps.innerText(), /haven't allowed any application/);

  const refreshed = await fetch(`${issuer}/token`, {
    method: 'POST',
    headers: {
      authorization: 'Basic ' + Buffer.from(`${client.id}:${client.secret}`).toString('base64'),
      'content-type': 'application/x-www-form-urlencoded',
    },
    body: new URLSearchParams({ grant_type: 'refresh_token', refresh_token: state.refreshToken }),
  });
  assert.equal(refreshed.status, 400);
  assert.equal((await refreshed.json()).error, 'invalid_grant');
});

test('no script error, CSP refusal or missing resource on any screen', () => {
  assert.deepEqual(state.problems, []);
});
