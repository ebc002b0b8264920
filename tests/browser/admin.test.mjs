// The admin screens in headless Chromium: a user without the admin role gets
// 403 everywhere under /admin and /admin/api; an admin creates a user and a
// client, and that user then signs in through that client; groups and APIs
// are managed in their screens. Screenshots of the users, clients, groups,
// APIs and audit-log pages.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import {
  issuer, openBrowser, screenshot, authorizeUrl, tokenRequest, claims, landedAt, enterPassword, signOut,
} from './support.mjs';

const ada = { username: 'ada', password: "ada's admin passphrase 7" };
const dan = { username: 'dan', password: "dan's ordinary passphrase" };
const crm = { id: 'crm', redirect: 'http://127.0.0.1:7778/callback', secret: null };
const erik = { username: 'erik', temporary: null, password: "erik's very own passphrase" };

let browser;
let page;
let problems;
let icons;

before(async () => {
  assert.ok(issuer, 'GATEHOUSE_ISSUER is set');
  ({ browser, page, problems, icons } = await openBrowser([new URL(crm.redirect).origin]));
});

after(async () => {
  await browser?.close();
});

test('a user without the admin role gets 403 everywhere under /admin and /admin/api', async () => {
  await page.goto(`${issuer}/login`);
  await enterPassword(page, dan.username, dan.password);
  await page.waitForURL(`${issuer}/`);
  for (const path of ['/admin', '/admin/users', '/admin/clients/new', '/admin/keys', '/admin/audit',
    '/admin/api/v1/users', '/admin/api/v1/openapi.json']) {
    const response = await page.goto(`${issuer}${path}`);
    assert.equal(response.status(), 403, path);
  }
  await page.goto(`${issuer}/admin/users`);
  assert.match(await page.locator('h1').innerText(), /This page is for administrators/);
  await signOut(page);
});

test('an admin creates a user and a client in the screens', async () => {
  await page.goto(`${issuer}/admin`);
  await enterPassword(page, ada.username, ada.password);
  await page.waitForURL(`${issuer}/admin/users`);

  await page.getByRole('link', { name: 'New user' }).click();
  await page.getByLabel('Username').fill(erik.username);
  await page.getByLabel('Email', { exact: true }).fill('erik@example.com');
  await page.getByLabel('Name', { exact: true }).fill('Erik Example');
  await page.getByRole('button', { name: 'Create user' }).click();
  await page.getByRole('heading', { name: 'erik was created' }).waitFor();
  erik.temporary = (await page.locator('#secret').innerText()).trim();
  assert.equal(erik.temporary.length, 20);
  await page.getByRole('link', { name: 'Done, I have saved it' }).click();
  await page.getByRole('heading', { name: 'erik' }).waitFor();

  await page.getByRole('link', { name: 'Clients', exact: true }).click();
  await page.getByRole('link', { name: 'New client' }).click();
  await page.getByLabel('Client ID').fill(crm.id);
  await page.getByLabel('Name shown to users').fill('Customer CRM');
  await page.getByLabel('Redirect URIs, one per line', { exact: true }).fill(crm.redirect);
  await page.getByLabel('Scopes it may ask for, separated by spaces').fill('openid profile email');
  await page.getByLabel('Ask users for consent').uncheck();
  await page.getByRole('button', { name: 'Register client' }).click();
  await page.getByRole('heading', { name: 'crm was registered' }).waitFor();
  crm.secret = (await page.locator('#secret').innerText()).trim();
  await page.getByRole('link', { name: 'Done, I have saved it' }).click();
  await page.getByRole('heading', { name: /Customer CRM/ }).waitFor();

  await page.getByRole('link', { name: 'Users', exact: true }).click();
  assert.match(await page.locator('table').innerText(), /erik/);
  await screenshot(page, 'admin-users');
  await page.getByRole('link', { name: 'Clients', exact: true }).click();
  assert.match(await page.locator('table').innerText(), /crm/);
  await screenshot(page, 'admin-clients');
  await signOut(page);
});

test('the new user signs in through the new client', async () => {
  await page.goto(authorizeUrl(crm, { scope: 'openid profile', state: 'crm-1', nonce: 'n-crm' }));
  assert.match(await page.locator('main').innerText(), /to continue to Customer CRM/);
  await enterPassword(page, erik.username, erik.temporary);
  await page.getByRole('heading', { name: 'Choose a new password' }).waitFor();
  await page.getByLabel('New password', { exact: true }).fill(erik.password);
  await page.getByLabel('New password, again').fill(erik.password);
  await page.getByRole('button', { name: 'Save and continue' }).click();
  const landed = await landedAt(page, crm.redirect);
  assert.equal(landed.searchParams.get('state'), 'crm-1');
  const tokens = await tokenRequest(crm, {
    grant_type: 'authorization_code', code: landed.searchParams.get('code'), redirect_uri: crm.redirect,
  });
  assert.equal(tokens.status, 200, JSON.stringify(tokens.body));
  const id = claims(tokens.body.id_token);
  assert.equal(id.aud, 'crm');
  assert.equal(id.nonce, 'n-crm');
  const info = await fetch(`${issuer}/userinfo`, {
    headers: { authorization: `Bearer ${tokens.body.access_token}` },
  }).then((r) => r.json());
  assert.equal(info.sub, id.sub);
  assert.equal(info.name, 'Erik Example');
  await signOut(page);
});

test('the audit log shows who did what', async () => {
  await page.goto(`${issuer}/admin/audit`);
  await enterPassword(page, ada.username, ada.password);
  await page.waitForURL(`${issuer}/admin/users`);
  await page.goto(`${issuer}/admin/audit`);
  const log = await page.locator('table').innerText();
  for (const event of ['admin.user.created', 'admin.client.created', 'sign_in.success', 'token.issued',
    'password.changed']) {
    assert.match(log, new RegExp(event.replace('.', '\\.')), event);
  }
  await page.getByLabel('Event', { exact: true }).fill('admin.');
  await page.getByRole('button', { name: 'Filter' }).click();
  await page.waitForURL(/event=admin\./);
  assert.doesNotMatch(await page.locator('table').innerText(), /sign_in\.success/);
  await page.goto(`${issuer}/admin/audit`);
  await screenshot(page, 'admin-audit');
});

/// Goes to an admin page, signing in as ada if the browser is not.
async function adminPage(path) {
  await page.goto(`${issuer}${path}`);
  if (new URL(page.url()).pathname === '/login') {
    await enterPassword(page, ada.username, ada.password);
    await page.waitForURL(`${issuer}/admin/users`);
    await page.goto(`${issuer}${path}`);
  }
}

test('an admin creates a group and adds a member; a group still in use is kept', async () => {
  await adminPage('/admin/groups');
  assert.match(await page.locator('table').innerText(), /engineering\s+The people who build the product\s+1/);
  await page.getByLabel('Name', { exact: true }).fill('design');
  await page.getByLabel('Description').fill('Product designers');
  await page.getByRole('button', { name: 'Create group' }).click();
  await page.getByRole('heading', { name: 'design' }).waitFor();
  assert.match(await page.getByRole('status').innerText(), /The group was created/);
  await page.getByLabel('Add a member by username').fill('carol');
  await page.getByRole('button', { name: 'Add member' }).click();
  await page.getByRole('button', { name: 'Remove carol from design' }).waitFor();
  assert.match(await page.getByRole('status').innerText(), /The member was added/);

  await page.goto(`${issuer}/admin/groups/engineering`);
  await page.getByLabel(/Type engineering to confirm/).fill('engineering');
  await page.getByRole('button', { name: 'Delete group' }).click();
  await page.getByRole('alert').waitFor();
  assert.match(await page.getByRole('alert').innerText(),
    /The group "engineering" is still used by client wiki \(allowed groups\), client wiki \(roles\), API https:\/\/api\.notes\.example \(roles\)/);

  await page.getByRole('link', { name: 'Groups', exact: true }).click();
  const groups = await page.locator('table').innerText();
  assert.match(groups, /design\s+Product designers\s+1/);
  assert.match(groups, /engineering/);
  await screenshot(page, 'admin-groups');
});

test('an admin creates an API and gives its role to a group', async () => {
  await adminPage('/admin/apis');
  await page.getByLabel('Identifier').fill('https://api.design.example/v1');
  await page.getByLabel('Name', { exact: true }).fill('Design API');
  await page.getByLabel(/^Scopes/).fill('boards:read: Read your boards\nboards:write: Change your boards');
  await page.getByLabel('Signing algorithm').selectOption('EdDSA');
  await page.getByRole('button', { name: 'Create API' }).click();
  await page.getByRole('heading', { name: 'Design API' }).waitFor();
  assert.equal(new URL(page.url()).pathname, '/admin/apis/https%3A%2F%2Fapi.design.example%2Fv1');
  await page.getByLabel(/^Roles/).fill('viewer: design engineering');
  await page.getByLabel(/^Access token lifetime/).fill('900');
  await page.getByRole('button', { name: 'Save' }).click();
  await page.getByRole('status').waitFor();
  assert.match(await page.getByRole('status').innerText(), /The API was saved/);
  assert.equal(await page.getByLabel(/^Roles/).inputValue(), 'viewer: design engineering');
  assert.equal(await page.getByLabel('Signing algorithm').inputValue(), 'EdDSA');

  await page.getByRole('link', { name: 'APIs', exact: true }).click();
  const apis = await page.locator('table').innerText();
  assert.match(apis, /https:\/\/api\.design\.example\/v1\s+Design API\s+boards:read boards:write\s+viewer\s+EdDSA/);
  assert.match(apis, /https:\/\/api\.notes\.example\s+Notes API\s+read\s+reader\s+ES256/);
  await screenshot(page, 'admin-apis');
});

test('no script error, CSP refusal or missing resource on any admin screen', () => {
  assert.deepEqual(problems, []);
  assert.ok(icons.size > 0, 'the icon of the admin screens was checked');
});
