// An upstream OpenID provider for Gatehouse to sign in through: panva's
// oidc-provider on 127.0.0.1, with one client, `gatehouse`, and one
// account, carol. Its sign-in page is a plain form (username and password)
// served here, since the library's development pages are turned off; once
// carol has signed in, the consent step grants what was asked without a
// page. RP-initiated logout asks for a confirmation on a page of its own.
//
// The authorization code flow needs PKCE (S256) for every client, and each
// authorization response carries RFC 9207's `iss` (oidc-provider always
// sends it and says so in its metadata).
//
// Usage: node upstream_provider.mjs PORT GATEHOUSE_ISSUER
// Runs until it is stopped. tests/rp/with-upstream starts it, and writes
// the matching [[upstreams]] entry (upstream.toml) into Gatehouse's seed.

import crypto from 'node:crypto';
import http from 'node:http';
import { pathToFileURL } from 'node:url';
import Provider from 'oidc-provider';

// As in upstream.toml.
export const CLIENT_ID = 'gatehouse';
export const CLIENT_SECRET = 'gatehouse-at-panva-secret-0123';
export const UPSTREAM_ID = 'panva';

export const CAROL = {
  username: 'carol',
  password: "carol's upstream passphrase",
  claims: {
    sub: 'carol-sub',
    preferred_username: 'carol',
    email: 'carol@example.com',
    email_verified: true,
    name: 'Carol Upstream',
    groups: ['staff'],
  },
};
const ACCOUNTS = new Map([[CAROL.claims.sub, CAROL]]);

function escape(s) {
  return String(s).replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

function page(title, body) {
  return `<!doctype html>
<html lang="en">
<head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escape(title)}</title>
<style>body{font-family:sans-serif;max-width:24rem;margin:3rem auto;padding:0 1rem}
label,input,button{display:block;width:100%;box-sizing:border-box;margin:.3rem 0}
input,button{padding:.5rem;font-size:1rem}.alert{color:#a00}</style></head>
<body>${body}</body>
</html>`;
}

function loginPage(uid, clientId, error) {
  return page('Sign in to Panva', `
<h1>Sign in to Panva</h1>
<p>to continue to <strong>${escape(clientId)}</strong></p>
${error ? `<p class="alert" role="alert">${escape(error)}</p>` : ''}
<form method="post" action="/interaction/${escape(uid)}/login">
  <label for="username">Username</label>
  <input id="username" name="username" autocomplete="username" required>
  <label for="password">Password</label>
  <input id="password" name="password" type="password" autocomplete="current-password" required>
  <button type="submit">Sign in</button>
</form>`);
}

async function readForm(req) {
  let body = '';
  for await (const chunk of req) {
    body += chunk;
    if (body.length > 64 * 1024) throw new Error('form too large');
  }
  return new URLSearchParams(body);
}

function send(res, status, html) {
  res.statusCode = status;
  res.setHeader('content-type', 'text/html; charset=utf-8');
  res.setHeader('cache-control', 'no-store');
  res.end(html);
}

// Grants what the consent prompt says is missing (the library's own
// example does the same after showing a page).
async function grantConsent(provider, details) {
  const { prompt, params, session, grantId } = details;
  const grant = grantId
    ? await provider.Grant.find(grantId)
    : new provider.Grant({ accountId: session.accountId, clientId: params.client_id });
  const missing = prompt.details;
  if (missing.missingOIDCScope) grant.addOIDCScope(missing.missingOIDCScope.join(' '));
  if (missing.missingOIDCClaims) grant.addOIDCClaims(missing.missingOIDCClaims);
  for (const [indicator, scopes] of Object.entries(missing.missingResourceScopes ?? {})) {
    grant.addResourceScope(indicator, scopes.join(' '));
  }
  const saved = await grant.save();
  return grantId ? {} : { grantId: saved };
}

// GET /interaction/{uid}: the sign-in form, or, for consent, straight on.
// POST /interaction/{uid}/login: the form's answer.
async function interaction(provider, req, res) {
  const details = await provider.interactionDetails(req, res);
  const { uid, prompt, params } = details;
  const url = new URL(req.url, 'http://upstream');
  if (req.method === 'GET' && url.pathname === `/interaction/${uid}`) {
    if (prompt.name === 'login') return send(res, 200, loginPage(uid, params.client_id));
    if (prompt.name === 'consent') {
      const consent = await grantConsent(provider, details);
      return provider.interactionFinished(req, res, { consent }, { mergeWithLastSubmission: true });
    }
    return send(res, 400, page('Unexpected prompt', `<h1>Unexpected prompt ${escape(prompt.name)}</h1>`));
  }
  if (req.method === 'POST' && url.pathname === `/interaction/${uid}/login` && prompt.name === 'login') {
    const form = await readForm(req);
    const account = [...ACCOUNTS.values()].find((a) => a.username === form.get('username'));
    if (!account || account.password !== form.get('password')) {
      return send(res, 401, loginPage(uid, params.client_id, 'Wrong username or password.'));
    }
    return provider.interactionFinished(
      req,
      res,
      { login: { accountId: account.claims.sub, amr: ['pwd'] } },
      { mergeWithLastSubmission: false },
    );
  }
  return send(res, 404, page('Not found', '<h1>Not found</h1>'));
}

function logoutSource(ctx, form) {
  ctx.body = page('Sign out of Panva', `
<h1>Sign out of Panva?</h1>
${form}
<button type="submit" form="op.logoutForm" name="logout" value="yes">Yes, sign me out</button>
<button type="submit" form="op.logoutForm">No, stay signed in</button>`);
}

function postLogoutSuccessSource(ctx) {
  ctx.body = page('Signed out of Panva', '<h1>Signed out of Panva</h1>');
}

function renderError(ctx, out) {
  ctx.type = 'html';
  const lines = Object.entries(out).map(([k, v]) => `<p><strong>${escape(k)}</strong>: ${escape(v)}</p>`);
  ctx.body = page('Panva error', `<h1>Something went wrong</h1>${lines.join('')}`);
}

/// Starts the provider on 127.0.0.1:`port` for a Gatehouse at
/// `gatehouse` (its issuer URL); resolves to the running server.
export async function startUpstream(port, gatehouse) {
  const issuer = `http://127.0.0.1:${port}`;
  const base = gatehouse.replace(/\/$/, '');
  const { privateKey } = crypto.generateKeyPairSync('rsa', { modulusLength: 2048 });
  const signingKey = { ...privateKey.export({ format: 'jwk' }), kid: 'panva-rs256', alg: 'RS256', use: 'sig' };

  const provider = new Provider(issuer, {
    clients: [
      {
        client_id: CLIENT_ID,
        client_secret: CLIENT_SECRET,
        redirect_uris: [`${base}/upstream/${UPSTREAM_ID}/callback`],
        post_logout_redirect_uris: [`${base}/upstream/${UPSTREAM_ID}/signed-out`],
        token_endpoint_auth_method: 'client_secret_basic',
        grant_types: ['authorization_code'],
        response_types: ['code'],
      },
    ],
    async findAccount(_ctx, sub) {
      const account = ACCOUNTS.get(sub);
      if (!account) return undefined;
      return { accountId: sub, claims: async () => ({ ...account.claims }) };
    },
    claims: {
      openid: ['sub'],
      profile: ['name', 'preferred_username'],
      email: ['email', 'email_verified'],
      groups: ['groups'],
    },
    pkce: { required: () => true },
    features: {
      devInteractions: { enabled: false },
      rpInitiatedLogout: { enabled: true, logoutSource, postLogoutSuccessSource },
    },
    cookies: { keys: [crypto.randomBytes(32).toString('base64url')] },
    jwks: { keys: [signingKey] },
    renderError,
  });

  const callback = provider.callback();
  const server = http.createServer((req, res) => {
    if (req.url.startsWith('/interaction/')) {
      interaction(provider, req, res).catch((err) => {
        console.error('interaction failed:', err);
        if (!res.headersSent) send(res, 400, page('Interaction failed', `<h1>${escape(err.message)}</h1>`));
      });
      return;
    }
    callback(req, res);
  });
  await new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', resolve);
  });
  return { server, issuer, provider };
}

if (import.meta.url === pathToFileURL(process.argv[1]).href) {
  const [port, gatehouse] = process.argv.slice(2);
  if (!/^[0-9]+$/.test(port ?? '') || !gatehouse) {
    console.error('usage: node upstream_provider.mjs PORT GATEHOUSE_ISSUER');
    process.exit(2);
  }
  const { issuer } = await startUpstream(Number(port), gatehouse);
  console.log(`upstream provider at ${issuer} for ${gatehouse}`);
  const stop = () => process.exit(0);
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
}
