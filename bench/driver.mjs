// The browser side of bench/run: what wrk cannot do because a request
// depends on the previous response's cookies and HTML. One generic browser
// drives both providers the same way (follow redirects by hand, fill the
// one form a page shows, keep cookies per browser), so neither side gets a
// driver tuned for it. Uses only Node's own http client, which costs less
// CPU per request than fetch; the driver shares the machine with the server
// under test, so its own CPU time is reported beside every result.
//
// Commands (each prints one JSON object on stdout):
//   launch  --url URL --log FILE -- CMD ARGS...
//       starts CMD detached (stdout and stderr to FILE), polls URL every
//       millisecond and reports {pid, startup_ms}: the time from spawn to the
//       first 200, measured by the process that spawned it.
//   prepare --issuer URL --families N [--resource API]
//       signs alice in N + 1 times: an access token, N refresh tokens from N
//       separate families, and a client_credentials token, plus the endpoint
//       paths from discovery. With --resource, the families are for that
//       API: their access tokens, and one refreshed, must be for it and
//       signed with its algorithm (APIS below), or prepare fails.
//   flows   --issuer URL --mode session|signin --duration S --concurrency C
//           [--resource API] [--ready-file F --go-file G]
//       closed loop of complete flows for S seconds, C at a time (with the
//       two files: writes F when set up, starts the clock once G exists):
//       session: authorize with an existing session -> code -> token;
//       signin:  authorize -> sign-in form -> password (argon2) -> code -> token.
//       With --resource, every flow asks for a token for that API, and one
//       signed with another algorithm counts as an error.

import { spawn } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import http from 'node:http';

// Both providers know these from bench/seed.toml and bench/reference/server.mjs.
const WEB = { id: 'bench-web', secret: 'bench-web-secret', redirect: 'http://127.0.0.1:9999/callback' };
const SERVICE = { id: 'bench-service', secret: 'bench-service-secret', scope: 'api:read' };
const USER = { username: 'alice', password: 'correct horse battery staple' };
const SCOPE = 'openid profile email offline_access';
// The APIs bench-web may ask tokens for with `resource`, the algorithm their
// access tokens are signed with, and the scope asked for with them.
const APIS = new Map([
  ['https://es256.bench.test/', 'ES256'],
  ['https://eddsa.bench.test/', 'EdDSA'],
]);
const API_SCOPE = 'api:read';

function parseArgs(argv) {
  const opts = { _: [] };
  for (let i = 0; i < argv.length; i += 1) {
    if (argv[i] === '--') {
      opts.rest = argv.slice(i + 1);
      break;
    }
    if (argv[i].startsWith('--')) {
      opts[argv[i].slice(2)] = argv[i + 1];
      i += 1;
    } else {
      opts._.push(argv[i]);
    }
  }
  return opts;
}

const agent = new http.Agent({ keepAlive: true, maxSockets: 256 });

function request(method, url, { headers = {}, body } = {}) {
  return new Promise((resolve, reject) => {
    const u = new URL(url);
    const req = http.request(
      {
        method,
        hostname: u.hostname,
        port: u.port,
        path: u.pathname + u.search,
        headers: body === undefined ? headers : { ...headers, 'content-length': Buffer.byteLength(body) },
        agent,
      },
      (res) => {
        const chunks = [];
        res.on('data', (c) => chunks.push(c));
        res.on('end', () =>
          resolve({ status: res.statusCode, headers: res.headers, body: Buffer.concat(chunks).toString('utf8'), url }),
        );
        res.on('error', reject);
      },
    );
    req.setTimeout(30_000, () => req.destroy(new Error(`timeout: ${method} ${url}`)));
    req.on('error', reject);
    if (body !== undefined) req.write(body);
    req.end();
  });
}

function htmlUnescape(s) {
  return s
    .replace(/&#x([0-9a-f]+);/gi, (_, h) => String.fromCodePoint(parseInt(h, 16)))
    .replace(/&#([0-9]+);/g, (_, d) => String.fromCodePoint(parseInt(d, 10)))
    .replace(/&quot;/g, '"')
    .replace(/&lt;/g, '<')
    .replace(/&gt;/g, '>')
    .replace(/&amp;/g, '&');
}

function attr(tag, name) {
  const m = tag.match(new RegExp(`\\b${name}="([^"]*)"`, 'i'));
  return m ? htmlUnescape(m[1]) : null;
}

// The first POST form on the page and its named inputs.
function findForm(html) {
  const form = html.match(/<form\b[^>]*\bmethod="post"[^>]*>([\s\S]*?)<\/form>/i);
  if (!form) return null;
  const action = attr(form[0].match(/<form\b[^>]*>/i)[0], 'action');
  const fields = {};
  for (const input of form[1].matchAll(/<input\b[^>]*>/gi)) {
    const name = attr(input[0], 'name');
    if (name) fields[name] = attr(input[0], 'value') ?? '';
  }
  return { action, fields };
}

function describe(res) {
  const snippet = res.body.replace(/\s+/g, ' ').slice(0, 200);
  return `${res.status} from ${res.url} (location: ${res.headers.location ?? '-'}; body: ${snippet})`;
}

class Browser {
  constructor() {
    this.cookies = new Map();
  }

  async go(method, url, form) {
    const headers = { accept: 'text/html' };
    if (this.cookies.size) headers.cookie = [...this.cookies].map(([k, v]) => `${k}=${v}`).join('; ');
    let body;
    if (form) {
      headers['content-type'] = 'application/x-www-form-urlencoded';
      body = new URLSearchParams(form).toString();
    }
    const res = await request(method, url, { headers, body });
    for (const line of res.headers['set-cookie'] ?? []) {
      const [pair, ...attrs] = line.split(';');
      const eq = pair.indexOf('=');
      const name = pair.slice(0, eq).trim();
      const value = pair.slice(eq + 1).trim();
      const expired = attrs.some((a) => {
        const [k, v] = a.trim().split('=');
        if (k.toLowerCase() === 'max-age') return Number(v) <= 0;
        if (k.toLowerCase() === 'expires') return Date.parse(a.trim().slice(8)) <= Date.now();
        return false;
      });
      if (expired || value === '') this.cookies.delete(name);
      else this.cookies.set(name, value);
    }
    return res;
  }
}

async function discover(issuer) {
  const res = await request('GET', `${issuer.replace(/\/$/, '')}/.well-known/openid-configuration`);
  if (res.status !== 200) throw new Error(`discovery: ${describe(res)}`);
  return JSON.parse(res.body);
}

function jwtPart(token, i) {
  const part = typeof token === 'string' ? token.split('.')[i] : undefined;
  if (part === undefined) throw new Error(`not a JWT: ${String(token).slice(0, 40)}`);
  return JSON.parse(Buffer.from(part, 'base64url').toString('utf8'));
}

// The API --resource names, or none.
function resourceOpt(opts) {
  const resource = opts.resource;
  if (resource === undefined) return undefined;
  if (!APIS.has(resource)) throw new Error(`--resource must be one of ${[...APIS.keys()].join(', ')}`);
  return resource;
}

// Only the algorithm: cheap enough for every flow of a timed loop.
function checkAlg(tokens, resource) {
  const alg = jwtPart(tokens.access_token, 0).alg;
  if (alg !== APIS.get(resource)) {
    throw new Error(`access token for ${resource} signed with ${alg}, expected ${APIS.get(resource)}`);
  }
}

// Everything that makes a token response one for the API: the access
// token's algorithm and audience, and an RS256 ID token.
function checkApiTokens(tokens, resource, what) {
  try {
    checkAlg(tokens, resource);
    const { aud } = jwtPart(tokens.access_token, 1);
    if (!(Array.isArray(aud) ? aud.includes(resource) : aud === resource)) {
      throw new Error(`access token for ${resource} has aud ${JSON.stringify(aud)}`);
    }
    const idAlg = jwtPart(tokens.id_token, 0).alg;
    if (idAlg !== 'RS256') throw new Error(`ID token signed with ${idAlg}, expected RS256`);
  } catch (err) {
    throw new Error(`${what}: ${err.message}`);
  }
}

function basic(id, secret) {
  return `Basic ${Buffer.from(`${encodeURIComponent(id)}:${encodeURIComponent(secret)}`).toString('base64')}`;
}

async function tokenRequest(meta, form, client = WEB) {
  const res = await request('POST', meta.token_endpoint, {
    headers: {
      authorization: basic(client.id, client.secret),
      'content-type': 'application/x-www-form-urlencoded',
      accept: 'application/json',
    },
    body: new URLSearchParams(form).toString(),
  });
  if (res.status !== 200) throw new Error(`token: ${describe(res)}`);
  return JSON.parse(res.body);
}

// One authorization request through to tokens. With `signIn`, the browser
// is expected to meet a sign-in form and fill it; without, a form means the
// session did not carry and the flow fails.
async function codeFlow(meta, browser, { signIn, resource }) {
  const verifier = crypto.randomBytes(32).toString('base64url');
  const challenge = crypto.createHash('sha256').update(verifier).digest('base64url');
  const state = crypto.randomBytes(16).toString('base64url');
  const url = new URL(meta.authorization_endpoint);
  for (const [k, v] of Object.entries({
    response_type: 'code',
    client_id: WEB.id,
    redirect_uri: WEB.redirect,
    scope: resource ? `${SCOPE} ${API_SCOPE}` : SCOPE,
    state,
    nonce: crypto.randomBytes(16).toString('base64url'),
    code_challenge: challenge,
    code_challenge_method: 'S256',
  })) {
    url.searchParams.set(k, v);
  }
  if (resource) url.searchParams.set('resource', resource);
  let res = await browser.go('GET', url.href);
  let formsFilled = 0;
  for (let hop = 0; hop < 12; hop += 1) {
    if (res.status >= 300 && res.status < 400 && res.headers.location) {
      const next = new URL(res.headers.location, res.url);
      if (next.href.startsWith(WEB.redirect)) {
        const code = next.searchParams.get('code');
        if (!code) throw new Error(`callback without code: ${next.href}`);
        if (next.searchParams.get('state') !== state) throw new Error(`state mismatch: ${next.href}`);
        if (signIn && formsFilled === 0) throw new Error('expected a sign-in form, got a code straight away');
        return tokenRequest(meta, {
          grant_type: 'authorization_code',
          code,
          redirect_uri: WEB.redirect,
          code_verifier: verifier,
        });
      }
      res = await browser.go('GET', next.href);
      continue;
    }
    const form = res.status === 200 ? findForm(res.body) : null;
    if (!form || !signIn || formsFilled > 0) throw new Error(`unexpected page: ${describe(res)}`);
    formsFilled += 1;
    const fields = { ...form.fields, username: USER.username, password: USER.password };
    res = await browser.go('POST', new URL(form.action, res.url).href, fields);
  }
  throw new Error(`too many redirects, last: ${describe(res)}`);
}

function percentile(sorted, p) {
  if (!sorted.length) return null;
  const i = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[i];
}

function cpuMs(start) {
  const u = process.cpuUsage(start);
  return (u.user + u.system) / 1000;
}

async function cmdLaunch(opts) {
  if (!opts.rest?.length || !opts.url || !opts.log) throw new Error('launch --url URL --log FILE -- CMD ARGS');
  const out = fs.openSync(opts.log, 'a');
  const started = process.hrtime.bigint();
  const child = spawn(opts.rest[0], opts.rest.slice(1), { detached: true, stdio: ['ignore', out, out] });
  let exited = null;
  child.on('exit', (code, signal) => {
    exited = { code, signal };
  });
  const deadline = Date.now() + Number(opts.timeout ?? 60) * 1000;
  for (;;) {
    if (exited) {
      throw new Error(`server exited before answering (code ${exited.code}, signal ${exited.signal}); see ${opts.log}`);
    }
    try {
      const res = await request('GET', opts.url);
      if (res.status === 200) break;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`no 200 from ${opts.url} within ${opts.timeout ?? 60} s; see ${opts.log}`);
    }
    await new Promise((r) => setTimeout(r, 1));
  }
  const startupMs = Number(process.hrtime.bigint() - started) / 1e6;
  child.unref();
  console.log(JSON.stringify({ pid: child.pid, startup_ms: startupMs }));
  agent.destroy();
}

async function cmdPrepare(opts) {
  const resource = resourceOpt(opts);
  const meta = await discover(opts.issuer);
  const first = await codeFlow(meta, new Browser(), { signIn: true });
  // One sign-in per family: the reference keeps one grant per session and
  // client, and a grant is what reuse detection revokes, so families drawn
  // from one session would not be independent there. One at a time, so
  // that the memory a server keeps after concurrent password hashing does
  // not inflate what the next workloads measure.
  const refresh = [];
  const families = Number(opts.families ?? 32);
  while (refresh.length < families) {
    const tokens = await codeFlow(meta, new Browser(), { signIn: true, resource });
    if (!tokens.refresh_token) throw new Error('no refresh_token from a code flow');
    if (resource) checkApiTokens(tokens, resource, 'code flow');
    refresh.push(tokens.refresh_token);
  }
  // A refresh keeps the grant's API (no `resource` on the request, as the
  // refresh workload sends none): one family moves on by one rotation.
  if (resource && refresh.length) {
    const tokens = await tokenRequest(meta, { grant_type: 'refresh_token', refresh_token: refresh[0] });
    if (!tokens.refresh_token) throw new Error('no refresh_token from a refresh');
    checkApiTokens(tokens, resource, 'refresh');
    refresh[0] = tokens.refresh_token;
  }
  const cc = await tokenRequest(meta, { grant_type: 'client_credentials', scope: SERVICE.scope }, SERVICE);
  // A token that works at userinfo and introspects active proves the
  // workloads below measure success, not a fast error.
  const ui = await request('GET', meta.userinfo_endpoint, {
    headers: { authorization: `Bearer ${first.access_token}` },
  });
  if (ui.status !== 200) throw new Error(`userinfo with the prepared token: ${describe(ui)}`);
  const intro = await request('POST', meta.introspection_endpoint, {
    headers: { authorization: basic(WEB.id, WEB.secret), 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ token: first.access_token }).toString(),
  });
  if (intro.status !== 200 || JSON.parse(intro.body).active !== true) {
    throw new Error(`introspection of the prepared token: ${describe(intro)}`);
  }
  const path = (u) => new URL(u).pathname;
  console.log(
    JSON.stringify({
      paths: {
        discovery: path(`${opts.issuer.replace(/\/$/, '')}/.well-known/openid-configuration`),
        jwks: path(meta.jwks_uri),
        token: path(meta.token_endpoint),
        introspection: path(meta.introspection_endpoint),
        userinfo: path(meta.userinfo_endpoint),
      },
      access_token: first.access_token,
      access_token_format: first.access_token.split('.').length === 3 ? 'jwt' : 'opaque',
      client_credentials_token_format: cc.access_token.split('.').length === 3 ? 'jwt' : 'opaque',
      refresh_tokens: refresh,
      resource: resource ?? null,
      web_basic: basic(WEB.id, WEB.secret),
      service_basic: basic(SERVICE.id, SERVICE.secret),
      service_scope: SERVICE.scope,
    }),
  );
  agent.destroy();
}

async function cmdFlows(opts) {
  const mode = opts.mode;
  if (mode !== 'session' && mode !== 'signin') throw new Error('--mode session|signin');
  const resource = resourceOpt(opts);
  const meta = await discover(opts.issuer);
  const concurrency = Number(opts.concurrency ?? 32);
  const durationMs = Number(opts.duration ?? 10) * 1000;

  // Session mode: every worker is its own browser with its own session,
  // signed in before the clock starts (many users, each already signed in).
  const browsers = [];
  if (mode === 'session') {
    await Promise.all(
      Array.from({ length: concurrency }, async () => {
        const b = new Browser();
        const tokens = await codeFlow(meta, b, { signIn: true, resource });
        if (resource) checkApiTokens(tokens, resource, 'code flow');
        browsers.push(b);
      }),
    );
  }

  // Handshake with bench/run, so that the server's CPU time and peak memory
  // are sampled over the timed loop only, not over the sign-ins above.
  if (opts['ready-file']) {
    fs.writeFileSync(opts['ready-file'], '');
    while (!fs.existsSync(opts['go-file'])) await new Promise((r) => setTimeout(r, 5));
  }

  const latencies = [];
  let errors = 0;
  let firstError = null;
  const cpuStart = process.cpuUsage();
  const started = process.hrtime.bigint();
  const deadline = Date.now() + durationMs;
  await Promise.all(
    Array.from({ length: concurrency }, async (_, i) => {
      while (Date.now() < deadline) {
        const t0 = process.hrtime.bigint();
        try {
          const browser = mode === 'session' ? browsers[i] : new Browser();
          const tokens = await codeFlow(meta, browser, { signIn: mode === 'signin', resource });
          if (!tokens.access_token || !tokens.id_token) throw new Error('token response lacks access_token or id_token');
          if (resource) checkAlg(tokens, resource);
          latencies.push(Number(process.hrtime.bigint() - t0) / 1e6);
        } catch (err) {
          errors += 1;
          firstError ??= String(err.message ?? err);
        }
      }
    }),
  );
  const elapsedS = Number(process.hrtime.bigint() - started) / 1e9;
  latencies.sort((a, b) => a - b);
  console.log(
    JSON.stringify({
      mode,
      resource: resource ?? null,
      completed: latencies.length,
      errors,
      first_error: firstError,
      seconds: elapsedS,
      rate: latencies.length / elapsedS,
      p50_ms: percentile(latencies, 50),
      p99_ms: percentile(latencies, 99),
      driver_cpu_s: cpuMs(cpuStart) / 1000,
    }),
  );
  agent.destroy();
}

const opts = parseArgs(process.argv.slice(2));
const commands = { launch: cmdLaunch, prepare: cmdPrepare, flows: cmdFlows };
const command = commands[opts._[0]];
if (!command) {
  console.error(`usage: node driver.mjs ${Object.keys(commands).join('|')} ...`);
  process.exit(2);
}
command(opts).catch((err) => {
  console.error(`driver ${opts._[0]}: ${err.message ?? err}`);
  process.exit(1);
});
