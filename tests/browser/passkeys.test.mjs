// Passkeys in headless Chromium, with a virtual authenticator (Chrome
// DevTools Protocol, WebAuthn domain) standing for a laptop's built-in one:
// a CTAP2 key on the "internal" transport that stores discoverable
// credentials and verifies its user, and is not backup eligible (so amr
// says hwk). pia, who has a password only, adds a passkey on the account
// page and signs in to an application with it alone, by the button and by
// autofill; with a password, the two-step page asks for the passkey. An
// answer made for a ceremony that one browser started is refused in
// another. A removed passkey no longer signs in. tomas, who has TOTP, is
// offered both on the two-step page and answers with his passkey.
// Screenshots of the sign-in page, the two-step page and the account page.
//
// Two paths to a passkey sign-in, each tested on its own: the button, and
// autofill. As it loads, the sign-in page's script starts an autofill
// ceremony (conditional mediation) when the browser offers it, and the
// virtual authenticator answers that at once; with presence simulation off
// until the click, it still sometimes answered the autofill ceremony as the
// button was clicked, ahead of the button's own. So, except in the autofill
// test, the page is told that the browser has no autofill
// (isConditionalMediationAvailable answers false, as in browsers without
// it): no ceremony starts by itself, and every answer is the button's.
// `requests` counts the challenges asked for and the answers posted.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import {
  issuer, openBrowser, screenshot, authorizeUrl as authorizeFor, tokenRequest, claims, landedAt,
  enterPassword, signOut, totp,
} from './support.mjs';

const client = { id: 'notes', secret: 'notes-secret-0123456789', redirect: 'http://127.0.0.1:7777/callback' };
const pia = { username: 'pia', password: "pia's plain passphrase 31", name: 'Pia Example' };
const tomas = {
  username: 'tomas', password: "tomas's two-step passphrase", name: 'Tomas Example',
  secret: 'JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP',
};

// Where the script asks for a challenge, and where it posts the answer.
const optionsPaths = new Set(['/login/passkey/options', '/account/passkeys/options']);
const answerPaths = new Set(['/login/passkey', '/login/passkey/second-factor', '/account/passkeys']);

let browser;
let page;
let problems;
let icons;
let cdp;
let authenticatorId;
// The passkey requests of the page since the last `requests.length = 0`:
// 'options' or 'answer'.
const requests = [];
// Whether the page is told that the browser offers passkey autofill.
let autofill = false;
const count = () => ({
  options: requests.filter((r) => r === 'options').length,
  answers: requests.filter((r) => r === 'answer').length,
});

// Every sign-in passes the consent page (prompt=consent), and the click on
// Allow sends the browser to the client. A form that a script submits (as
// passkey.js does) is no click: Playwright does not route the redirects
// that follow it, so the client's callback would not be answered.
const authorizeUrl = (state, nonce) =>
  authorizeFor(client, { scope: 'openid profile', state, nonce, prompt: 'consent' });
const consent = () => page.getByRole('heading', { name: 'Allow Notes to use your account?' }).waitFor();

/// Allows Notes on the consent page, and returns where the browser landed.
async function allow() {
  await page.getByRole('button', { name: 'Allow' }).click();
  return landedAt(page, client.redirect);
}

/// Plugs in a new virtual authenticator, holding no credential, that
/// answers each request at once.
async function addAuthenticator() {
  const added = await cdp.send('WebAuthn.addVirtualAuthenticator', {
    options: {
      protocol: 'ctap2', transport: 'internal', hasResidentKey: true, hasUserVerification: true,
      isUserVerified: true, automaticPresenceSimulation: true,
    },
  });
  return added.authenticatorId;
}

const credentials = async () =>
  (await cdp.send('WebAuthn.getCredentials', { authenticatorId })).credentials;

/// Routes the page's passkey answers through `handler` until the returned
/// function is called.
async function routeAnswers(handler) {
  const origin = new URL(issuer).origin;
  const answers = (url) => url.origin === origin && answerPaths.has(url.pathname);
  await page.route(answers, handler);
  return () => page.unroute(answers, handler);
}

/// The answer to the next options request of `p` (a ceremony started).
const optionsAnswered = (p) => p.waitForResponse((r) =>
  r.request().method() === 'POST' && new URL(r.url()).pathname === '/login/passkey/options');

/// Posts `credential` in the sign-in page's passkey form, as the script
/// would, and waits for the page that answers.
async function submitPasskey(p, credential) {
  const answered = p.waitForResponse((r) =>
    r.request().method() === 'POST' && new URL(r.url()).pathname === '/login/passkey');
  const loaded = p.waitForEvent('load');
  await p.evaluate((value) => {
    const form = document.getElementById('passkey-form');
    form.elements.credential.value = value;
    form.submit();
  }, credential);
  const response = await answered;
  await loaded;
  return response;
}

/// The ID token of the code in `landed`, redeemed at the token endpoint.
async function idToken(landed) {
  const tokens = await tokenRequest(client, {
    grant_type: 'authorization_code', code: landed.searchParams.get('code'), redirect_uri: client.redirect,
  });
  assert.equal(tokens.status, 200, JSON.stringify(tokens.body));
  return claims(tokens.body.id_token);
}

const alert = async (p) => (await p.getByRole('alert').innerText()).trim();
const notice = async () => (await page.locator('p.notice[role=status]').innerText()).trim();
const accountDone = (done) => (url) =>
  url.pathname === '/account' && url.searchParams.get('done') === done && url.hash === '#passkeys';

before(async () => {
  assert.ok(issuer, 'GATEHOUSE_ISSUER is set');
  assert.equal(new URL(issuer).hostname, 'localhost', 'passkeys need a domain as the issuer\'s host');
  ({ browser, page, problems, icons } = await openBrowser([new URL(client.redirect).origin]));
  cdp = await page.context().newCDPSession(page);
  await cdp.send('WebAuthn.enable');
  authenticatorId = await addAuthenticator();
  await page.exposeFunction('passkeyAutofillOffered', () => autofill);
  await page.addInitScript(() => {
    if (window.PublicKeyCredential) {
      PublicKeyCredential.isConditionalMediationAvailable = () => window.passkeyAutofillOffered();
    }
  });
  page.on('request', (r) => {
    if (r.method() !== 'POST' || !r.url().startsWith(issuer)) return;
    const path = new URL(r.url()).pathname;
    if (optionsPaths.has(path)) requests.push('options');
    if (answerPaths.has(path)) requests.push('answer');
  });
});

after(async () => {
  await browser?.close();
});

test('a passkey added on the account page signs in to an application without a password', async () => {
  await page.goto(`${issuer}/account`);
  await enterPassword(page, pia.username, pia.password);
  await page.waitForURL(`${issuer}/account`);
  const section = page.locator('#passkeys');
  assert.match(await section.innerText(), /You have no passkeys yet/);
  await page.getByLabel('Name for the new passkey').fill('Work laptop');
  requests.length = 0;
  await page.getByRole('button', { name: 'Add a passkey' }).click();
  await page.waitForURL(accountDone('passkey-added'));
  assert.deepEqual(count(), { options: 1, answers: 1 });
  assert.equal(await notice(), 'Your passkey was added. You can now sign in with it, without a password.');
  assert.match(await section.getByRole('status').innerText(),
    /^A passkey named Work laptop was added to your account .+\. If that wasn't you, remove it below/);
  assert.ok(await section.getByRole('button', { name: 'Remove passkey Work laptop' }).isVisible());
  assert.match(await section.innerText(), /not used yet/);
  const held = await credentials();
  assert.equal(held.length, 1);
  assert.equal(held[0].rpId, 'localhost');
  assert.equal(held[0].isResidentCredential, true, 'discoverable: it names its user without a username');
  await screenshot(page, 'passkey-account');
  await signOut(page);

  requests.length = 0;
  await page.goto(authorizeUrl('pk-1', 'n-pk-1'));
  await page.getByRole('heading', { name: 'Sign in' }).waitFor();
  assert.match(await page.locator('main').innerText(), /to continue to Notes/);
  assert.equal(await page.getByLabel('Username').getAttribute('autocomplete'), 'username webauthn');
  const button = page.getByRole('button', { name: 'Sign in with a passkey' });
  await button.waitFor();
  await screenshot(page, 'passkey-sign-in');
  assert.deepEqual(count(), { options: 0, answers: 0 }, 'no ceremony before the button is pressed');
  await button.click();
  await consent();
  assert.deepEqual(count(), { options: 1, answers: 1 }, 'the button started a ceremony and answered it');
  const landed = await allow();
  assert.equal(landed.searchParams.get('state'), 'pk-1');
  assert.equal(landed.searchParams.get('iss'), issuer);
  const id = await idToken(landed);
  assert.deepEqual(id.amr, ['hwk', 'pin', 'mfa']);
  assert.equal(id.nonce, 'n-pk-1');
  assert.equal(id.name, pia.name);
  assert.ok((await credentials())[0].signCount > held[0].signCount, 'the authenticator signed');
});

test('passkey autofill on the username field signs in as the sign-in page loads', async () => {
  await signOut(page);
  requests.length = 0;
  autofill = true;
  try {
    await page.goto(authorizeUrl('pk-2', 'n-pk-2'));
    await consent();
  } finally {
    autofill = false;
  }
  assert.deepEqual(count(), { options: 1, answers: 1 }, 'one ceremony, the autofill one: nothing was pressed');
  const landed = await allow();
  assert.equal(landed.searchParams.get('state'), 'pk-2');
  const id = await idToken(landed);
  assert.deepEqual(id.amr, ['hwk', 'pin', 'mfa']);
  assert.equal(id.name, pia.name);
});

test('after a password, the two-step page asks for the passkey', async () => {
  await signOut(page);
  await page.goto(authorizeUrl('pk-3', 'n-pk-3'));
  await enterPassword(page, pia.username, pia.password);
  await page.getByRole('heading', { name: 'Two-step verification' }).waitFor();
  assert.match(await page.locator('main').innerText(), /Confirm it's you with one of your passkeys\./);
  assert.equal(await page.getByLabel('Verification code').count(), 0, 'pia has no authenticator app');
  const button = page.getByRole('button', { name: 'Use a passkey' });
  await button.waitFor();
  requests.length = 0;
  await button.click();
  await consent();
  assert.deepEqual(count(), { options: 1, answers: 1 });
  const landed = await allow();
  assert.equal(landed.searchParams.get('state'), 'pk-3');
  const id = await idToken(landed);
  assert.deepEqual(id.amr, ['pwd', 'hwk', 'pin', 'mfa']);
  assert.equal(id.name, pia.name);
});

test('an answer to a ceremony one browser started is refused in another', async () => {
  await signOut(page);
  await page.goto(`${issuer}/login`);
  // The answer is kept, and not sent: a 204 leaves the page where it is.
  let answered;
  const kept = new Promise((resolve) => { answered = resolve; });
  const release = await routeAnswers(async (route) => {
    answered(route.request().postData());
    await route.fulfill({ status: 204 });
  });
  await page.getByRole('button', { name: 'Sign in with a passkey' }).click();
  await kept;
  await release();
  const credential = new URLSearchParams(await kept).get('credential');
  assert.equal(JSON.parse(credential).type, 'public-key');

  // Another browser, with its own cookies and its own CSRF token.
  const other = await openBrowser();
  try {
    const b = other.page;
    const own = optionsAnswered(b);
    await b.goto(`${issuer}/login`);
    assert.equal((await own).status(), 200, 'it has a ceremony of its own');
    // With a ceremony of its own: none of its ceremonies has the challenge
    // that was signed (ceremonies are found by the browser's cookie and
    // the challenge).
    const again = optionsAnswered(b);
    const first = await submitPasskey(b, credential);
    assert.equal(first.status(), 401);
    assert.equal(await alert(b), 'That passkey request expired or was used already. Please try again.');
    // With no ceremony at all.
    assert.equal((await again).status(), 200, 'the page again started a ceremony');
    assert.ok((await b.context().cookies()).some((c) => c.name === 'gatehouse_passkey'));
    await b.context().clearCookies({ name: 'gatehouse_passkey' });
    const second = await submitPasskey(b, credential);
    assert.equal(second.status(), 401);
    assert.equal(await alert(b), 'That passkey request expired or was used already. Please try again.');
    await b.goto(`${issuer}/account`);
    assert.match(b.url(), /\/login\?then=account$/, 'no session started');
    assert.deepEqual(other.problems, []);
  } finally {
    await other.browser.close();
  }

  // The answer was good: the browser that started the ceremony signs in with it.
  await submitPasskey(page, credential);
  assert.equal(page.url(), `${issuer}/`);
  await page.goto(`${issuer}/account`);
  assert.equal(page.url(), `${issuer}/account`);
  assert.match(await page.locator('main').innerText(), /Signed in as pia/);
});

test('a removed passkey no longer signs in, though the authenticator still holds it', async () => {
  await page.goto(`${issuer}/account`);
  await page.getByRole('button', { name: 'Remove passkey Work laptop' }).click();
  await page.waitForURL(accountDone('passkey-removed'));
  assert.equal(await notice(), 'The passkey was removed: it can no longer sign in to your account.');
  assert.match(await page.locator('#passkeys').innerText(), /You have no passkeys yet/);
  assert.equal((await credentials()).length, 1);
  await signOut(page);

  await page.goto(authorizeUrl('pk-5', 'n-pk-5'));
  requests.length = 0;
  await page.getByRole('button', { name: 'Sign in with a passkey' }).click();
  await page.getByRole('alert').waitFor();
  assert.deepEqual(count(), { options: 1, answers: 1 });
  assert.equal(await alert(page),
    "That passkey isn't registered here. Sign in another way, then add it on your account page.");
  assert.match(await page.locator('main').innerText(), /to continue to Notes/);
  await page.goto(`${issuer}/account`);
  assert.match(page.url(), /\/login\?then=account$/, 'no session started');
});

test('with TOTP and a passkey, the two-step page offers both, and the passkey answers it', async () => {
  // tomas's own device: pia's authenticator is unplugged, a new one plugged in.
  await cdp.send('WebAuthn.removeVirtualAuthenticator', { authenticatorId });
  authenticatorId = await addAuthenticator();
  await page.goto(`${issuer}/account`);
  await enterPassword(page, tomas.username, tomas.password);
  await page.getByLabel('Verification code').fill(totp(tomas.secret));
  await page.getByRole('button', { name: 'Verify' }).click();
  await page.waitForURL(`${issuer}/account`);
  await page.getByLabel('Name for the new passkey').fill('Phone');
  await page.getByRole('button', { name: 'Add a passkey' }).click();
  await page.waitForURL(accountDone('passkey-added'));
  await signOut(page);

  await page.goto(authorizeUrl('pk-6', 'n-pk-6'));
  await enterPassword(page, tomas.username, tomas.password);
  await page.getByRole('heading', { name: 'Two-step verification' }).waitFor();
  assert.match(await page.locator('main').innerText(),
    /Enter the 6-digit code from your authenticator app, or use one of your passkeys\./);
  assert.ok(await page.getByLabel('Verification code').isVisible());
  const button = page.getByRole('button', { name: 'Use a passkey' });
  await button.waitFor();
  await screenshot(page, 'passkey-two-step');
  requests.length = 0;
  await button.click();
  await consent();
  assert.deepEqual(count(), { options: 1, answers: 1 });
  const landed = await allow();
  assert.equal(landed.searchParams.get('state'), 'pk-6');
  const id = await idToken(landed);
  assert.deepEqual(id.amr, ['pwd', 'hwk', 'pin', 'mfa']);
  assert.equal(id.name, tomas.name);
});

test('no script error, CSP refusal or missing resource on any passkey screen', () => {
  assert.deepEqual(problems, []);
  assert.ok(icons.size > 0, 'the icon of the screens was checked');
});
