// An invitation in headless Chromium, with the mail read from the real SMTP
// server tests/browser/run starts (its folder in SMTP_SINK_DIR): an admin
// invites hana on the new-user screen ("Invite by email"); the message's
// link opens "Welcome, choose a password"; the password chosen there signs
// in. Screenshots of the invitation page and of the message as a mail
// program shows it.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { issuer, openBrowser, screenshot, enterPassword, signOut } from './support.mjs';

const ada = { username: 'ada', password: "ada's admin passphrase 7" };
const hana = { username: 'hana', email: 'hana@example.com', password: "hana's chosen passphrase" };
const mailDir = process.env.SMTP_SINK_DIR;

let browser;
let page;
let problems;

/// Waits (up to 15 s) for a message to `address` with `subject`.
async function waitForMail(address, subject) {
  const deadline = Date.now() + 15_000;
  for (;;) {
    const names = (await readdir(mailDir)).filter((n) => n.endsWith('.json')).sort();
    for (const name of names) {
      const mail = JSON.parse(await readFile(join(mailDir, name), 'utf8'));
      if (mail.subject === subject && mail.rcpt_tos.some((to) => to.toLowerCase() === address)) {
        return mail;
      }
    }
    assert.ok(Date.now() < deadline, `no message "${subject}" to ${address} within 15 s`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

before(async () => {
  assert.ok(issuer, 'GATEHOUSE_ISSUER is set');
  assert.ok(mailDir, 'SMTP_SINK_DIR is set (tests/browser/run starts the SMTP sink)');
  ({ browser, page, problems } = await openBrowser());
});

after(async () => {
  await browser?.close();
});

test('an invited user chooses a password from the emailed link and signs in with it', async () => {
  await page.goto(`${issuer}/admin`);
  await enterPassword(page, ada.username, ada.password);
  await page.waitForURL(`${issuer}/admin/users`);
  await page.getByRole('link', { name: 'New user' }).click();
  await page.getByLabel('Username').fill(hana.username);
  await page.getByLabel('Email', { exact: true }).fill(hana.email);
  await page.getByLabel('Name', { exact: true }).fill('Hana Example');
  await page.getByLabel(/Invite by email/).check();
  await page.getByRole('button', { name: 'Create user' }).click();
  await page.getByRole('heading', { name: hana.username }).waitFor();
  await signOut(page);

  const mail = await waitForMail(hana.email, 'You are invited to Gatehouse');
  const link = mail.text.match(/https?:\/\/\S+\/invitation\?token=[\w-]+/)?.[0];
  assert.ok(link, `an invitation link in:\n${mail.text}`);
  assert.ok(link.startsWith(`${issuer}/invitation?token=`), link);

  // The HTML part, as a mail program shows it.
  const html = join(process.env.SCREENSHOTS_DIR, 'email-invitation.html');
  await writeFile(html, mail.html);
  await page.goto(pathToFileURL(html).href);
  const button = page.getByRole('link', { name: 'Accept the invitation' });
  await button.waitFor();
  assert.equal(await button.getAttribute('href'), link);
  await screenshot(page, 'email-invitation');

  await page.goto(link);
  await page.getByRole('heading', { name: 'Welcome, choose a password' }).waitFor();
  await screenshot(page, 'invitation');
  await page.getByLabel('Password', { exact: true }).fill(hana.password);
  await page.getByLabel('Password, again').fill(hana.password);
  await page.getByRole('button', { name: 'Save and continue to sign in' }).click();
  await page.waitForURL(`${issuer}/login`);
  await enterPassword(page, hana.username, hana.password);
  await page.waitForURL(`${issuer}/`);
  await page.goto(`${issuer}/account`);
  assert.match(await page.locator('main').innerText(), /Signed in as hana/);
  assert.doesNotMatch(await page.locator('main').innerText(), /This address is not verified/);
  await signOut(page);
  assert.deepEqual(problems, []);
});
