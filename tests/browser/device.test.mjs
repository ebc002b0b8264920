// The device flow (RFC 8628) with a real device-flow client library while
// headless Chromium plays the person: openid-client 6 asks for a device
// code and polls the token endpoint; Chromium opens verification_uri_complete,
// signs in, sees the confirmation screen and allows (then, for a second
// device typed by hand, denies). Screenshots of the screen asking for the
// code, the confirmation and the done page.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import * as client from 'openid-client';
import { issuer, openBrowser, screenshot, enterPassword } from './support.mjs';

const mia = { username: 'mia', password: "mia's living room passphrase" };
const tv = { id: 'tv', secret: 'tv-secret-0123456789' };
const cli = { id: 'cli' };
const codeShape = /^[BCDFGHJKLMNPQRSTVWXZ]{4}-[BCDFGHJKLMNPQRSTVWXZ]{4}$/;

let browser;
let page;
let problems;

before(async () => {
  assert.ok(issuer, 'GATEHOUSE_ISSUER is set');
  ({ browser, page, problems } = await openBrowser());
});

after(async () => {
  await browser?.close();
});

test('a device polls with openid-client while the user allows it in the browser', async () => {
  const config = await client.discovery(new URL(issuer), tv.id, tv.secret, undefined, {
    execute: [client.allowInsecureRequests],
  });
  assert.equal(config.serverMetadata().device_authorization_endpoint, `${issuer}/device_authorization`);
  const device = await client.initiateDeviceAuthorization(config, { scope: 'openid profile offline_access' });
  assert.match(device.user_code, codeShape);
  assert.equal(device.verification_uri, `${issuer}/device`);
  assert.equal(device.interval, 5);
  // The library polls (every 5 s) while the person signs in and allows.
  const polling = client.pollDeviceAuthorizationGrant(config, device);

  await page.goto(device.verification_uri_complete);
  await page.getByRole('heading', { name: 'Sign in' }).waitFor();
  await enterPassword(page, mia.username, mia.password);
  await page.getByRole('heading', { name: 'Allow Living Room TV on your device?' }).waitFor();
  const shown = await page.locator('main').innerText();
  assert.ok(shown.includes(device.user_code), shown);
  assert.ok(shown.includes('See your name, username and profile details'), shown);
  assert.ok(shown.includes('Only allow this if you started signing in on that device yourself'), shown);
  await screenshot(page, 'device-confirm');
  await page.getByRole('button', { name: 'Allow', exact: true }).click();
  await page.getByRole('heading', { name: 'Device connected' }).waitFor();
  assert.match(await page.locator('main').innerText(), /You may return to your device/);
  await screenshot(page, 'device-done');

  const tokens = await polling;
  const claims = tokens.claims();
  assert.equal(claims.iss, issuer);
  assert.equal(claims.aud, tv.id);
  assert.equal(claims.preferred_username, 'mia');
  assert.ok(claims.sid, 'the browser session');
  assert.deepEqual(claims.amr, ['pwd']);
  assert.equal(claims.nonce, undefined);
  assert.ok(tokens.refresh_token, 'offline_access');
  const refreshed = await client.refreshTokenGrant(config, tokens.refresh_token);
  assert.notEqual(refreshed.refresh_token, tokens.refresh_token, 'rotated');
  assert.deepEqual(problems, []);
});

test('a public device client is told access_denied when the user denies it', async () => {
  const config = await client.discovery(new URL(issuer), cli.id, undefined, client.None(), {
    execute: [client.allowInsecureRequests],
  });
  const device = await client.initiateDeviceAuthorization(config, { scope: 'openid profile' });
  const outcome = client.pollDeviceAuthorizationGrant(config, device).then(
    () => assert.fail('a denied device got tokens'),
    (error) => error,
  );

  // Still signed in: the person types the code the device shows.
  await page.goto(device.verification_uri);
  await page.getByRole('heading', { name: 'Connect a device' }).waitFor();
  await screenshot(page, 'device');
  await page.getByLabel('Code').fill(device.user_code.toLowerCase().replace('-', ' '));
  await page.getByRole('button', { name: 'Continue' }).click();
  await page.getByRole('heading', { name: 'Allow Command Line on your device?' }).waitFor();
  await page.getByRole('button', { name: 'Deny', exact: true }).click();
  await page.getByRole('heading', { name: 'Device refused' }).waitFor();

  const error = await outcome;
  assert.equal(error.error, 'access_denied', String(error));
  assert.deepEqual(problems, []);
});
