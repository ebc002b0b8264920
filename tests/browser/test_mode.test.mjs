// Test mode in headless Chromium, on a Gatehouse of its own started here
// (`serve --test-mode`, on sqlite::memory:) beside the one the other tests
// share: the ribbon on the sign-in page, and a code flow signed in through
// the "sign in as anyone" form with groups and claims. Screenshots of the
// page empty, filled in, and refusing claims that are not an object.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, writeFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openBrowser, screenshot, claims, landedAt } from './support.mjs';

const client = { id: 'tester', secret: 'tester-secret-0123456789', redirect: 'http://127.0.0.1:7788/callback' };
const seed = `
[[clients]]
client_id = "tester"
name = "Test Suite App"
client_secret = "tester-secret-0123456789"
redirect_uris = ["http://127.0.0.1:7788/callback"]
grant_types = ["authorization_code"]
scopes = ["openid", "profile", "email", "groups"]
require_consent = false
`;
const ribbon = 'Test mode — anyone can sign in as anyone';

let server;
let issuer;
let dir;
let browser;
let page;
let problems;
let log = '';

async function freePort() {
  return new Promise((resolve, reject) => {
    const probe = createServer();
    probe.once('error', reject);
    probe.listen(0, '127.0.0.1', () => {
      const { port } = probe.address();
      probe.close(() => resolve(port));
    });
  });
}

async function startTestModeServer() {
  assert.ok(process.env.GATEHOUSE_BIN, 'GATEHOUSE_BIN names the binary (tests/browser/run)');
  dir = mkdtempSync(join(tmpdir(), 'gh_test_mode_'));
  const seedPath = join(dir, 'seed.toml');
  writeFileSync(seedPath, seed);
  const port = await freePort();
  issuer = `http://localhost:${port}`;
  server = spawn(process.env.GATEHOUSE_BIN, ['serve', '--test-mode', '--seed', seedPath], {
    env: {
      ...process.env,
      NO_COLOR: '1',
      GATEHOUSE_DATABASE_URL: 'sqlite::memory:',
      GATEHOUSE_LISTEN: `127.0.0.1:${port}`,
      GATEHOUSE_ISSUER: issuer,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  server.stdout.on('data', (d) => { log += d; });
  server.stderr.on('data', (d) => { log += d; });
  const deadline = Date.now() + 20_000;
  while (Date.now() < deadline) {
    assert.equal(server.exitCode, null, `the test-mode server exited:\n${log}`);
    try {
      const r = await fetch(`${issuer}/readyz`);
      if (r.ok) return;
    } catch {
      // Not listening yet.
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  assert.fail(`the test-mode server did not become ready:\n${log}`);
}

function authorizeUrl(params) {
  const url = new URL(`${issuer}/authorize`);
  url.search = new URLSearchParams({
    response_type: 'code', client_id: client.id, redirect_uri: client.redirect, ...params,
  }).toString();
  return url.toString();
}

// Full-page screenshots show a fixed element where the page is scrolled
// to: back to the top first, where the ribbon is.
async function shoot(name) {
  await page.evaluate(() => { document.activeElement?.blur(); window.scrollTo(0, 0); });
  await screenshot(page, name);
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

before(async () => {
  await startTestModeServer();
  ({ browser, page, problems } = await openBrowser([new URL(client.redirect).origin]));
});

after(async () => {
  await browser?.close();
  if (server && server.exitCode === null) {
    server.kill('SIGTERM');
    await new Promise((resolve) => server.once('exit', resolve));
  }
  if (dir) rmSync(dir, { recursive: true, force: true });
});

test('in test mode the sign-in page carries the ribbon and signs in as anyone through its form', async () => {
  await page.goto(authorizeUrl({ scope: 'openid email groups', state: 'st-1', nonce: 'n-1' }));
  assert.match(page.url(), /\/login\?request=/);
  const note = page.getByRole('note');
  await note.waitFor();
  assert.equal((await note.textContent()).trim(), ribbon);
  const box = await note.boundingBox();
  assert.equal(box.y, 0, 'the ribbon is at the top of the page');
  await shoot('test-mode-login');

  // Claims that are not an object: the page again, with what was typed.
  await page.locator('#anyone-username').fill('tess');
  await page.locator('#anyone-claims').fill('[1]');
  await page.getByRole('button', { name: 'Sign in as anyone' }).click();
  await page.getByText('The claims must be a JSON object').waitFor();
  assert.equal(await page.locator('#anyone-username').inputValue(), 'tess');
  assert.equal(await page.locator('#anyone-claims').inputValue(), '[1]');
  await shoot('test-mode-login-refused');

  await page.locator('#anyone-groups').fill('qa, staff');
  await page.locator('#anyone-claims').fill('{"email": "tess@example.com", "department": "qa"}');
  await shoot('test-mode-login-filled');
  await page.getByRole('button', { name: 'Sign in as anyone' }).click();
  const landed = await landedAt(page, client.redirect);
  assert.equal(landed.searchParams.get('state'), 'st-1');
  const code = landed.searchParams.get('code');
  assert.ok(code, 'a code');

  const tokens = await redeem(code);
  assert.equal(tokens.status, 200, JSON.stringify(tokens.body));
  const id = claims(tokens.body.id_token);
  assert.equal(id.sub, 'tess');
  assert.equal(id.email, 'tess@example.com');
  assert.deepEqual(id.groups, ['qa', 'staff']);
  assert.equal(id.department, 'qa');
  assert.deepEqual(id.amr, ['test', 'mfa']);
  assert.equal(id.nonce, 'n-1');
  assert.deepEqual(problems, []);
});
