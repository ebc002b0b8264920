// The OpenID Foundation's certification plans for an OpenID Provider, as
// checks against a running Gatehouse: every module of
//   oidcc-basic-certification-test-plan             (code, client_secret_basic)
//   oidcc-config-certification-test-plan            (discovery, static client)
//   oidcc-rp-initiated-logout-certification-test-plan
// by its name in the suite (openid-certification/conformance-suite), each
// reported as "passed" or "skipped: <reason>", where the reason is the one
// the suite gives for this provider's configuration. A module fails on what
// the suite fails; where the suite only warns or asks a person to look at a
// screenshot, these checks assert what Gatehouse is meant to do, exactly.
//
// This file is the runner: the plans as tables of module names and the
// checks that run them, one line per module and the summary
// "N passed, M skipped, K failed". The modules are in basic.mjs, config.mjs
// and logout.mjs, one file per plan; the machinery they share is in
// support.mjs.
//
// Usage: GATEHOUSE_ISSUER=https://127.0.0.1:PORT node conformance.mjs
// (tests/conformance/run starts Gatehouse behind TLS and runs this).

import { CheckError } from '../rp/rp.mjs';
import { CALLBACK_BASE, CLIENT, ISSUER, Skip, USER, loadDiscovery } from './support.mjs';
import {
  claimsEssential,
  codeReuse,
  happyFlow,
  maxAge1,
  maxAge10000,
  notForStaticClient,
  plainFlow,
  postRequest,
  promptLogin,
  promptNoneNotLoggedIn,
  refreshToken,
  requestObject,
  requestObjectWithRedirectUri,
  requestUri,
  responseTypeMissing,
  sameAuthTwice,
  scopeModule,
  unregisteredRedirectUri,
  userinfoModule,
  validPkce,
  withoutNonce,
} from './basic.mjs';
import { discoveryEndpointVerification } from './config.mjs';
import {
  algNone,
  confirmedLogout,
  fakeIdToken,
  logoutDiscovery,
  noPostLogoutRedirectUri,
  refusedLogout,
  rpInitiatedLogout,
  unregisteredPostLogoutUri,
} from './logout.mjs';

// ---------------------------------------------------------------------------
// The plans, in the suite's order.

const BASIC = [
  ['oidcc-server', () => happyFlow('client_secret_basic')],
  ['oidcc-response-type-missing', responseTypeMissing],
  ['oidcc-idtoken-signature', notForStaticClient],
  ['oidcc-idtoken-unsigned', notForStaticClient],
  ['oidcc-userinfo-get', () => userinfoModule('get')],
  ['oidcc-userinfo-post-header', () => userinfoModule('post')],
  ['oidcc-userinfo-post-body', () => userinfoModule('body')],
  ['oidcc-ensure-request-without-nonce-succeeds-for-code-flow', withoutNonce],
  ['oidcc-scope-profile', () => scopeModule('openid profile', ['name', 'given_name', 'family_name', 'birthdate', 'updated_at'])],
  ['oidcc-scope-email', () => scopeModule('openid email', ['email', 'email_verified'])],
  ['oidcc-scope-address', () => scopeModule('openid address', ['address'])],
  ['oidcc-scope-phone', () => scopeModule('openid phone', ['phone_number', 'phone_number_verified'])],
  ['oidcc-scope-all', () => scopeModule('openid profile email address phone', ['name', 'email', 'address', 'phone_number'])],
  ['oidcc-ensure-other-scope-order-succeeds', () => plainFlow({ scope: 'email openid' })],
  ['oidcc-display-page', () => plainFlow({ display: 'page' })],
  ['oidcc-display-popup', () => plainFlow({ display: 'popup' })],
  ['oidcc-prompt-login', promptLogin],
  ['oidcc-prompt-none-not-logged-in', promptNoneNotLoggedIn],
  ['oidcc-prompt-none-logged-in', () => sameAuthTwice({}, () => ({ prompt: 'none' }))],
  ['oidcc-max-age-1', maxAge1],
  ['oidcc-max-age-10000', maxAge10000],
  ['oidcc-ensure-request-with-unknown-parameter-succeeds', () => plainFlow({ extra: 'foobar' })],
  ['oidcc-id-token-hint', () => sameAuthTwice({}, (first) => ({ prompt: 'none', id_token_hint: first.tokens.id_token }))],
  ['oidcc-login-hint', () => plainFlow({ login_hint: USER.username })],
  ['oidcc-ui-locales', () => plainFlow({ ui_locales: 'se' })],
  ['oidcc-claims-locales', () => plainFlow({ claims_locales: 'se' })],
  ['oidcc-ensure-request-with-acr-values-succeeds', () => plainFlow({ acr_values: '1 2' })],
  ['oidcc-codereuse', () => codeReuse(0)],
  ['oidcc-codereuse-30seconds', () => codeReuse(30_000)],
  ['oidcc-ensure-registered-redirect-uri', unregisteredRedirectUri],
  ['oidcc-ensure-post-request-succeeds', postRequest],
  ['oidcc-server-client-secret-post', () => happyFlow('client_secret_post')],
  ['oidcc-request-uri-unsigned-supported-correctly-or-rejected-as-unsupported', requestUri],
  ['oidcc-unsigned-request-object-supported-correctly-or-rejected-as-unsupported', requestObject],
  ['oidcc-claims-essential', claimsEssential],
  ['oidcc-ensure-request-object-with-redirect-uri', requestObjectWithRedirectUri],
  ['oidcc-refresh-token', refreshToken],
  ['oidcc-ensure-request-with-valid-pkce-succeeds', validPkce],
];

const CONFIG = [['oidcc-discovery-endpoint-verification', discoveryEndpointVerification]];

const LOGOUT = [
  ['oidcc-rp-initiated-logout-discovery-endpoint-verification', logoutDiscovery],
  ['oidcc-rp-initiated-logout', () => rpInitiatedLogout(true)],
  [
    'oidcc-rp-initiated-logout-bad-post-logout-redirect-uri',
    () => unregisteredPostLogoutUri(`${CALLBACK_BASE}/post_logout_redirect_bad`),
  ],
  ['oidcc-rp-initiated-logout-modified-id-token-hint', () => refusedLogout((p) => ({ ...p, id_token_hint: algNone(p.id_token_hint) }))],
  ['oidcc-rp-initiated-logout-no-id-token-hint', () => confirmedLogout((p) => ({ ...p, id_token_hint: undefined }))],
  ['oidcc-rp-initiated-logout-no-params', () => confirmedLogout(() => ({}))],
  ['oidcc-rp-initiated-logout-no-post-logout-redirect-uri', noPostLogoutRedirectUri],
  ['oidcc-rp-initiated-logout-no-state', () => rpInitiatedLogout(false)],
  ['oidcc-rp-initiated-logout-only-state', () => confirmedLogout((p) => ({ state: p.state }))],
  [
    'oidcc-rp-initiated-logout-query-added-to-post-logout-redirect-uri',
    () => unregisteredPostLogoutUri(`${CLIENT.postLogoutRedirectUri}?foo=bar`),
  ],
  ['oidcc-rp-initiated-logout-bad-id-token-hint', async () => {
    const fake = await fakeIdToken();
    await refusedLogout((p) => ({ ...p, id_token_hint: fake }));
  }],
];

const PLANS = [
  ['oidcc-basic-certification-test-plan', BASIC],
  ['oidcc-config-certification-test-plan', CONFIG],
  ['oidcc-rp-initiated-logout-certification-test-plan', LOGOUT],
];

async function runModule(run) {
  try {
    await run();
    return { outcome: 'passed' };
  } catch (err) {
    if (err instanceof Skip) return { outcome: 'skipped', detail: err.message };
    let detail = err instanceof CheckError ? err.message : String(err);
    if (!(err instanceof CheckError) && err.cause) detail += ` (cause: ${JSON.stringify(err.cause)})`;
    return { outcome: 'failed', detail };
  }
}

if (!ISSUER) {
  console.error('GATEHOUSE_ISSUER is not set');
  process.exit(2);
}
await loadDiscovery();

// The 30-second wait of oidcc-codereuse-30seconds runs alongside the other
// modules; its result is printed in its place.
const started = new Map();
for (const [, modules] of PLANS) {
  for (const [name, run] of modules) {
    if (name === 'oidcc-codereuse-30seconds') started.set(name, runModule(run));
  }
}
// The modules this configuration skips, as the suite would. A skip is a
// module that tested nothing: any other module skipping (say, because
// discovery stopped listing a scope) is a failure, and so is one of these
// passing unnoticed.
const EXPECTED_SKIPS = new Set([
  'oidcc-idtoken-signature',
  'oidcc-idtoken-unsigned',
  'oidcc-request-uri-unsigned-supported-correctly-or-rejected-as-unsupported',
  'oidcc-unsigned-request-object-supported-correctly-or-rejected-as-unsupported',
]);
const counts = { passed: 0, skipped: 0, failed: 0 };
for (const [plan, modules] of PLANS) {
  console.log(`--- ${plan} (${modules.length} modules)`);
  for (const [name, run] of modules) {
    let result = await (started.get(name) ?? runModule(run));
    if ((result.outcome === 'skipped') !== EXPECTED_SKIPS.has(name)) {
      result = {
        outcome: 'failed',
        detail: result.outcome === 'skipped'
          ? `skipped, which this configuration never does: ${result.detail}`
          : `${result.outcome}, but this configuration skips it: ${result.detail ?? ''}`,
      };
    }
    counts[result.outcome] += 1;
    if (result.outcome === 'passed') console.log(`${name}: passed`);
    else if (result.outcome === 'skipped') console.log(`${name}: skipped: ${result.detail}`);
    else console.log(`${name}: FAILED: ${result.detail}`);
  }
}
console.log(`${counts.passed} passed, ${counts.skipped} skipped, ${counts.failed} failed`);
process.exit(counts.failed === 0 ? 0 : 1);