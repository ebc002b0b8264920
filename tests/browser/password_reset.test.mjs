// Forgot password in headless Chromium, with the mail read from the real
// SMTP server tests/browser/run starts (its folder in SMTP_SINK_DIR): the
// sign-in page's "Forgot your password?" → the form → "Check your email" →
// the link in the message → a new password → signing in with it. The old
// password no longer works. Screenshots of the form and of the reset
// message's HTML part as a mail program shows it.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { issuer, openBrowser, screenshot, enterPassword, signOut } from './support.mjs';

const grace = {
  username: 'grace',
  email: 'grace@example.com',
  old: "grace's forgotten passphrase",
  new: "grace's brand new passphrase",
};
const mailDir = process.env.SMTP_SINK_DIR;

let browser;
let page;
let problems;

/// The messages the sink accepted for `address`, in arrival order.
async function mailsTo(address) {
  const names = (await readdir(mailDir)).filter((n) => n.endsWith('.json')).sort();
  const mails = await Promise.all(names.map(async (n) => JSON.parse(await readFile(join(mailDir, n), 'utf8'))));
  return mails.filter((m) => m.rcpt_tos.some((to) => to.toLowerCase() === address));
}

/// Waits (up to 15 s) for a message to `address` with `subject`.
async function waitForMail(address, subject) {
  const deadline = Date.now() + 15_000;
  for (;;) {
    const found = (await mailsTo(address)).find((m) => m.subject === subject);
    if (found) return found;
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

test('forgot password: the emailed link chooses a new password, which signs in', async () => {
  await page.goto(`${issuer}/login`);
  await page.getByRole('link', { name: 'Forgot your password?' }).click();
  await page.waitForURL(`${issuer}/forgot-password`);
  await page.getByRole('heading', { name: 'Forgot your password?' }).waitFor();
  await screenshot(page, 'forgot-password');

  await page.getByLabel('Username or email address').fill(grace.email);
  await page.getByRole('button', { name: 'Email me a link' }).click();
  await page.getByRole('heading', { name: 'Check your email' }).waitFor();
  assert.match(await page.locator('main').innerText(), /If an account matches, we sent a link to its email address\./);

  const mail = await waitForMail(grace.email, 'Reset your Gatehouse password');
  assert.match(mail.message_id, /^<.+@.+>$/);
  const link = mail.text.match(/https?:\/\/\S+\/reset-password\?token=[\w-]+/)?.[0];
  assert.ok(link, `a reset link in:\n${mail.text}`);
  assert.ok(link.startsWith(`${issuer}/reset-password?token=`), link);

  // The HTML part, as a mail program shows it.
  const html = join(process.env.SCREENSHOTS_DIR, 'email-reset.html');
  await writeFile(html, mail.html);
  await page.goto(pathToFileURL(html).href);
  await page.getByRole('link', { name: 'Choose a new password' }).waitFor();
  assert.equal(await page.getByRole('link', { name: 'Choose a new password' }).getAttribute('href'), link);
  await screenshot(page, 'email-reset');

  await page.goto(link);
  await page.getByRole('heading', { name: 'Choose a new password' }).waitFor();
  await page.getByLabel('New password', { exact: true }).fill(grace.new);
  await page.getByLabel('New password, again').fill(grace.new);
  await page.getByRole('button', { name: 'Change my password' }).click();
  await page.getByText('Your password was changed; sign in with your new password.').waitFor();

  // The old password is refused; the new one signs in.
  await page.getByRole('link', { name: 'Sign in' }).click();
  await page.waitForURL(`${issuer}/login`);
  await enterPassword(page, grace.username, grace.old);
  await page.getByRole('alert').waitFor();
  await enterPassword(page, grace.username, grace.new);
  await page.waitForURL(`${issuer}/`);
  await page.goto(`${issuer}/account`);
  assert.match(await page.locator('main').innerText(), /Signed in as grace/);

  // The same link, opened again, has been used.
  await page.goto(link);
  await page.getByRole('heading', { name: 'This link no longer works' }).waitFor();
  await signOut(page);
  assert.deepEqual(problems, []);
});
