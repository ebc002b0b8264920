// What the browser tests share: the server under test, a headless Chromium
// with a watch for script errors and failed resources, screenshots at
// desktop and phone widths, the token endpoint, and TOTP codes.

import { createHmac } from 'node:crypto';
import { chromium } from 'playwright-core';

export const issuer = process.env.GATEHOUSE_ISSUER;
const shots = process.env.SCREENSHOTS_DIR;
const widths = { desktop: { width: 1280, height: 860 }, phone: { width: 390, height: 844 } };

/// Starts Chromium with one page. `callbacks` are redirect_uri origins of
/// applications that are not running: their callback gets a plain page, as
/// the application would show after receiving the code. A wrong code or a
/// 403 is a 4xx page on purpose; what must never happen is a script error,
/// a CSP refusal, or a stylesheet or image failing: those are collected in
/// `problems`.
export async function openBrowser(callbacks = []) {
  const browser = await chromium.launch({ executablePath: process.env.CHROMIUM, args: ['--no-sandbox'] });
  const context = await browser.newContext({ viewport: widths.desktop });
  const page = await context.newPage();
  for (const origin of callbacks) {
    await page.route(`${origin}/**`, (route) =>
      route.fulfill({ status: 200, contentType: 'text/html', body: '<h1>Signed in</h1>' }));
  }
  const problems = [];
  // Pages answered with an error status on purpose (403 no-access, 400 on
  // a bad form, …) are documents; Chromium logs each as "Failed to load
  // resource", as it does a missing icon or stylesheet. The first are
  // expected, the second never are: a console error counts unless it is
  // about a document.
  const documents = new Set();
  page.on('response', (r) => {
    if (r.request().resourceType() === 'document') documents.add(r.url());
    else if (r.status() >= 400) problems.push(`${r.status()} ${r.url()}`);
  });
  page.on('console', (m) => {
    if (m.type() !== 'error') return;
    const url = m.location().url;
    if (m.text().startsWith('Failed to load resource') && documents.has(url)) return;
    problems.push(`console: ${m.text()} (${url})`);
  });
  page.on('pageerror', (e) => problems.push(e.message));
  // A sub-resource that never arrived; ERR_ABORTED is a load the browser
  // cancelled itself because the page navigated away.
  page.on('requestfailed', (r) => {
    const error = r.failure()?.errorText;
    if (r.resourceType() !== 'document' && error !== 'net::ERR_ABORTED') problems.push(`failed: ${r.url()} (${error})`);
  });
  // Headless Chromium does not fetch a page's icon, which a desktop browser
  // does on every page: fetch it the way a browser would (the <link
  // rel="icon"> the page names, else /favicon.ico) and count a failure.
  const icons = new Set();
  page.on('domcontentloaded', async (frame) => {
    let href;
    try {
      href = await page.evaluate(() =>
        document.querySelector('link[rel~="icon"]')?.href ?? new URL('/favicon.ico', location.href).href);
    } catch (e) {
      if (/context was destroyed|Target page, context or browser has been closed/.test(e.message)) return;
      problems.push(`icon: ${e.message}`);
      return;
    }
    if (!href.startsWith(issuer) || icons.has(href)) return;
    icons.add(href);
    const r = await fetch(href);
    if (!r.ok || !(r.headers.get('content-type') ?? '').startsWith('image/')) {
      problems.push(`icon ${href}: ${r.status} ${r.headers.get('content-type')}`);
    }
  });
  return { browser, page, problems, icons };
}

/// Full-page screenshots of what `page` shows, at desktop and phone widths.
export async function screenshot(page, name) {
  for (const [label, size] of Object.entries(widths)) {
    await page.setViewportSize(size);
    await page.screenshot({ path: `${shots}/${name}-${label}.png`, fullPage: true });
  }
  await page.setViewportSize(widths.desktop);
}

/// An authorization request URL for `client`.
export function authorizeUrl(client, params) {
  const url = new URL(`${issuer}/authorize`);
  url.search = new URLSearchParams({
    response_type: 'code', client_id: client.id, redirect_uri: client.redirect, ...params,
  }).toString();
  return url.toString();
}

/// POSTs a form to the token endpoint as `client`.
export async function tokenRequest(client, form) {
  const response = await fetch(`${issuer}/token`, {
    method: 'POST',
    headers: {
      authorization: 'Basic ' + Buffer.from(`${client.id}:${client.secret}`).toString('base64'),
      'content-type': 'application/x-www-form-urlencoded',
    },
    body: new URLSearchParams(form),
  });
  return { status: response.status, body: await response.json() };
}

/// The claims of a JWT (not verified: the tests only read them).
export function claims(jwt) {
  return JSON.parse(Buffer.from(jwt.split('.')[1], 'base64url').toString());
}

/// Waits for the browser to be sent to `redirect`, and returns that URL.
export async function landedAt(page, redirect) {
  await page.waitForURL((url) => url.toString().startsWith(redirect));
  return new URL(page.url());
}

/// Signs in on the sign-in page the browser is on.
export async function enterPassword(page, username, password) {
  await page.getByLabel('Username').fill(username);
  await page.getByLabel('Password').fill(password);
  await page.getByRole('button', { name: 'Sign in', exact: true }).click();
}

/// Signs the browser out.
export async function signOut(page) {
  await page.goto(`${issuer}/end_session`);
  await page.getByRole('button', { name: 'Sign out' }).click();
  await page.waitForLoadState();
}

// A base32 TOTP key (RFC 4648) as bytes.
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

/// The RFC 6238 TOTP code (SHA-1, 6 digits, 30 s) of `secret` at `seconds`,
/// as an authenticator app computes it.
export function totp(secret, seconds = Date.now() / 1000) {
  const counter = Buffer.alloc(8);
  counter.writeBigUInt64BE(BigInt(Math.floor(seconds / 30)));
  const mac = createHmac('sha1', base32(secret)).update(counter).digest();
  const offset = mac[mac.length - 1] & 0x0f;
  return String((mac.readUInt32BE(offset) & 0x7fffffff) % 1_000_000).padStart(6, '0');
}
