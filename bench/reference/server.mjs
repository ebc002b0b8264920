// The reference provider for bench/run: panva's oidc-provider (OpenID
// Certified) with an in-memory adapter (adapter.mjs: why not the bundled
// one), set up with the same APIs, clients and user as bench/seed.toml so
// that both sides do the same work:
//
// - RS256 for everything but the two APIs' access tokens (a fresh RSA-2048
//   key per start, as Gatehouse makes one on first start, and likewise a
//   P-256 and an Ed25519 key for those);
// - client_credentials returns an RS256 JWT access token (resource
//   indicators with accessTokenFormat 'jwt'), as Gatehouse always does;
// - the two APIs of the seed: a code flow with `resource` set to one of
//   them, and every refresh of that grant, returns a JWT access token for it
//   signed with ES256 or EdDSA (Ed25519), as Gatehouse does; the ID token
//   stays RS256;
// - refresh tokens are issued to the first-party client and rotate on every
//   use;
// - passwords are argon2id with the parameters of Rust's argon2 crate
//   defaults (m=19456 KiB, t=2, p=1), which Gatehouse uses, verified off the
//   event loop (libuv's thread pool), as Gatehouse verifies them off its
//   request workers;
// - the first-party client needs no consent screen (require_consent = false
//   in the seed), so an existing grant is created on first authorization.
//
// Usage: PORT=8123 ISSUER=http://127.0.0.1:8123 node server.mjs
// Prints "listening" on stdout once it serves.

import crypto from 'node:crypto';
import http from 'node:http';

import argon2 from 'argon2';
import Provider from 'oidc-provider';

import MapAdapter from './adapter.mjs';

const PORT = Number(process.env.PORT);
const ISSUER = process.env.ISSUER;
if (!PORT || !ISSUER) {
  console.error('PORT and ISSUER must be set');
  process.exit(2);
}

// Same resource identifier and scope as the service client's scopes in
// bench/seed.toml.
const API = 'urn:gatehouse-bench:api';
const API_SCOPE = 'api:read';

// The [[apis]] of bench/seed.toml, which bench-web may ask tokens for.
const USER_APIS = new Map([
  ['https://es256.bench.test/', 'ES256'],
  ['https://eddsa.bench.test/', 'EdDSA'],
]);

const ARGON2 = { type: argon2.argon2id, memoryCost: 19456, timeCost: 2, parallelism: 1 };

// Mirrors bench/seed.toml.
const SEED_USERS = [
  {
    username: 'alice',
    password: 'correct horse battery staple',
    email: 'alice@example.com',
    name: 'Alice Example',
  },
];
const CLIENTS = [
  {
    client_id: 'bench-web',
    client_secret: 'bench-web-secret',
    redirect_uris: ['http://127.0.0.1:9999/callback'],
    grant_types: ['authorization_code', 'refresh_token'],
    response_types: ['code'],
    // api:read only with `resource` (oidc-provider checks every scope it
    // knows against this list; Gatehouse allows an API's scopes to a client
    // registered for the API).
    scope: `openid profile email offline_access ${API_SCOPE}`,
    token_endpoint_auth_method: 'client_secret_basic',
  },
  {
    client_id: 'bench-service',
    client_secret: 'bench-service-secret',
    redirect_uris: [],
    grant_types: ['client_credentials'],
    response_types: [],
    scope: API_SCOPE,
    token_endpoint_auth_method: 'client_secret_basic',
  },
];

// Hashing at start-up, as Gatehouse hashes its seed users on load.
const users = new Map();
for (const u of SEED_USERS) {
  const id = crypto.randomUUID();
  users.set(u.username, { id, ...u, hash: await argon2.hash(u.password, ARGON2) });
}
const usersById = new Map([...users.values()].map((u) => [u.id, u]));
// Unknown usernames cost the same as known ones, as in Gatehouse.
const dummyHash = await argon2.hash('reference-dummy-password', ARGON2);

// One key per algorithm, as Gatehouse makes one for each algorithm its
// APIs sign with; oidc-provider picks the key by the algorithm asked for.
// The kid is the RFC 7638 thumbprint (members in lexicographic order).
function signingKey(alg, ...generate) {
  const jwk = { ...crypto.generateKeyPairSync(...generate).privateKey.export({ format: 'jwk' }), alg, use: 'sig' };
  const members = { RSA: ['e', 'kty', 'n'], EC: ['crv', 'kty', 'x', 'y'], OKP: ['crv', 'kty', 'x'] }[jwk.kty];
  jwk.kid = crypto
    .createHash('sha256')
    .update(JSON.stringify(Object.fromEntries(members.map((m) => [m, jwk[m]]))))
    .digest('base64url');
  return jwk;
}
const signingJwks = [
  signingKey('RS256', 'rsa', { modulusLength: 2048 }),
  signingKey('ES256', 'ec', { namedCurve: 'P-256' }),
  signingKey('EdDSA', 'ed25519'),
];

const provider = new Provider(ISSUER, {
  adapter: MapAdapter,
  clients: CLIENTS,
  jwks: { keys: signingJwks },
  cookies: { keys: [crypto.randomBytes(32).toString('base64url')] },
  claims: {
    openid: ['sub'],
    email: ['email', 'email_verified'],
    profile: ['name', 'preferred_username'],
  },
  scopes: ['openid', 'offline_access', 'profile', 'email', API_SCOPE],
  features: {
    devInteractions: { enabled: false },
    clientCredentials: { enabled: true },
    introspection: { enabled: true },
    revocation: { enabled: true },
    resourceIndicators: {
      enabled: true,
      // Only client_credentials is bound to the API by default; user flows
      // without `resource` keep the default (opaque) access token that
      // userinfo accepts.
      defaultResource(ctx) {
        if (ctx.oidc.route === 'token' && ctx.oidc.params.grant_type === 'client_credentials') {
          return API;
        }
        return undefined;
      },
      getResourceServerInfo(ctx, resourceIndicator, client) {
        if (resourceIndicator === API) {
          return {
            scope: API_SCOPE,
            audience: API,
            accessTokenTTL: 600,
            accessTokenFormat: 'jwt',
            jwt: { sign: { alg: 'RS256' } },
          };
        }
        const alg = USER_APIS.get(resourceIndicator);
        if (!alg || client.clientId !== 'bench-web') {
          throw new Provider.errors.InvalidTarget();
        }
        return {
          scope: API_SCOPE,
          audience: resourceIndicator,
          accessTokenTTL: 600,
          accessTokenFormat: 'jwt',
          jwt: { sign: { alg } },
        };
      },
      // A code or refresh token given for one of the APIs yields access
      // tokens for that API without `resource` on the token request, as in
      // Gatehouse; otherwise openid would make it a userinfo token.
      useGrantedResource: (ctx, model) => USER_APIS.has(model.resource),
    },
  },
  rotateRefreshToken: true,
  // OIDC Core 11 lets a provider drop offline_access unless prompt=consent,
  // which this one does; a request with prompt=consent would then show a
  // consent screen on every authorization. Gatehouse issues a refresh token
  // whenever offline_access is granted to a client with the refresh_token
  // grant, so do the same here, with tokens that outlive the session.
  issueRefreshToken: (ctx, client) => client.grantTypeAllowed('refresh_token'),
  expiresWithSession: () => false,
  // First-party client: grant what it asks for without a consent screen,
  // like require_consent = false in the seed. With `resource`, the API's
  // scope too: api:read is a scope oidc-provider knows for client_credentials
  // (and so counts among the OpenID Connect scopes of a request) as well as
  // the API's, so it is granted as both, and only then, so that a grant
  // without a resource is what it always was.
  async loadExistingGrant(ctx) {
    const resources = Object.keys(ctx.oidc.resourceServers ?? {});
    const has = (scope) => scope.split(' ').includes(API_SCOPE);
    const grantId =
      ctx.oidc.result?.consent?.grantId || ctx.oidc.session.grantIdFor(ctx.oidc.client.clientId);
    let grant = grantId ? await ctx.oidc.provider.Grant.find(grantId) : undefined;
    if (
      grant &&
      (!resources.length ||
        (has(grant.getOIDCScopeEncountered()) &&
          resources.every((r) => has(grant.getResourceScopeEncountered(r)))))
    ) {
      return grant;
    }
    grant ??= new ctx.oidc.provider.Grant({
      clientId: ctx.oidc.client.clientId,
      accountId: ctx.oidc.session.accountId,
    });
    const scopes = ctx.oidc.client.scope.split(' ');
    grant.addOIDCScope((resources.length ? scopes : scopes.filter((s) => s !== API_SCOPE)).join(' '));
    for (const r of resources) grant.addResourceScope(r, API_SCOPE);
    await grant.save();
    return grant;
  },
  async findAccount(ctx, sub) {
    const user = usersById.get(sub);
    if (!user) return undefined;
    return {
      accountId: sub,
      async claims() {
        return {
          sub,
          email: user.email,
          email_verified: true,
          name: user.name,
          preferred_username: user.username,
        };
      },
    };
  },
});

function escapeHtml(s) {
  return String(s).replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

function loginPage(uid, error) {
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Sign in</title></head>
<body>
  <h1>Sign in</h1>
  ${error ? `<p role="alert">${escapeHtml(error)}</p>` : ''}
  <form method="post" action="/interaction/${escapeHtml(uid)}/login">
    <label for="username">Username</label>
    <input id="username" name="username" type="text" autocomplete="username" required>
    <label for="password">Password</label>
    <input id="password" name="password" type="password" autocomplete="current-password" required>
    <button type="submit">Sign in</button>
  </form>
</body></html>`;
}

function readBody(req) {
  return new Promise((resolve, reject) => {
    const chunks = [];
    let size = 0;
    req.on('data', (c) => {
      size += c.length;
      if (size > 64 * 1024) {
        reject(new Error('body too large'));
        req.destroy();
      } else {
        chunks.push(c);
      }
    });
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

function send(res, status, html) {
  res.writeHead(status, {
    'content-type': 'text/html; charset=utf-8',
    'cache-control': 'no-store',
  });
  res.end(html);
}

// The sign-in screen, outside the provider's own routes as its docs
// prescribe: interactionDetails() ties the request to the pending
// authorization through the interaction cookie, interactionFinished()
// resumes it.
async function interaction(req, res, uid, action) {
  const details = await provider.interactionDetails(req, res);
  if (details.uid !== uid) {
    return send(res, 400, 'interaction mismatch');
  }
  if (details.prompt.name !== 'login') {
    return send(res, 400, `unexpected prompt ${details.prompt.name}`);
  }
  if (req.method === 'GET' && !action) {
    return send(res, 200, loginPage(uid));
  }
  if (req.method === 'POST' && action === 'login') {
    const form = new URLSearchParams(await readBody(req));
    const user = users.get(form.get('username') ?? '');
    const password = form.get('password') ?? '';
    const ok = user
      ? await argon2.verify(user.hash, password)
      : (await argon2.verify(dummyHash, password), false);
    if (!ok) {
      return send(res, 200, loginPage(uid, "That username and password don't match."));
    }
    return provider.interactionFinished(
      req,
      res,
      { login: { accountId: user.id, amr: ['pwd'] } },
      { mergeWithLastSubmission: false },
    );
  }
  return send(res, 405, 'method not allowed');
}

const callback = provider.callback();
const server = http.createServer((req, res) => {
  const match = /^\/interaction\/([^/?]+)(?:\/([a-z]+))?(?:\?.*)?$/.exec(req.url);
  if (!match) return callback(req, res);
  interaction(req, res, match[1], match[2]).catch((err) => {
    if (!res.headersSent) send(res, err.statusCode || 500, err.message);
    else res.destroy();
  });
});
server.keepAliveTimeout = 65_000;
server.listen(PORT, '127.0.0.1', () => {
  console.log('listening');
});
