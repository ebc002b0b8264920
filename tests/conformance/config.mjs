// The module of oidcc-config-certification-test-plan (discovery, static
// client), which conformance.mjs runs by its name in the suite: the
// discovery document as fetched by support.mjs's loadDiscovery, and the
// JWKS it points to.

import * as jose from 'jose';
import { check } from '../rp/rp.mjs';
import { ISSUER, allEndpointsHttps, discovery, isHttpsUrl } from './support.mjs';

export async function discoveryEndpointVerification() {
  const { response, json } = discovery;
  check(response.status === 200, `discovery status ${response.status}`);
  check((response.headers.get('content-type') ?? '').startsWith('application/json'), 'discovery is not JSON');
  check(json.response_types_supported.includes('code'), 'response_types_supported lacks code');
  check(json.issuer === ISSUER, `issuer ${json.issuer} is not the one discovery was fetched for`);
  const issuer = new URL(json.issuer);
  check(issuer.protocol === 'https:' && !issuer.search && !issuer.hash, `issuer is not a valid https URL`);
  check(
    json.subject_types_supported.length > 0 &&
      json.subject_types_supported.every((t) => t === 'public' || t === 'pairwise'),
    `subject_types_supported ${json.subject_types_supported}`,
  );
  check(json.id_token_signing_alg_values_supported.includes('RS256'), 'id_token_signing_alg_values_supported lacks RS256');
  for (const k of ['authorization_endpoint', 'token_endpoint', 'userinfo_endpoint', 'jwks_uri']) {
    check(isHttpsUrl(json[k]), `${k} is not an https URL: ${json[k]}`);
  }
  const jwksResponse = await fetch(json.jwks_uri);
  check(jwksResponse.status === 200, `jwks_uri answered ${jwksResponse.status}`);
  const jwks = await jwksResponse.json();
  check(Array.isArray(jwks.keys) && jwks.keys.length > 0, 'the JWKS has no keys');
  for (const key of jwks.keys) {
    check(key.kid, 'a JWKS key has no kid');
    check(key.kty !== 'oct', 'the JWKS holds a symmetric key');
    for (const secret of ['d', 'p', 'q', 'dp', 'dq', 'qi']) check(!(secret in key), `a JWKS key has private part ${secret}`);
    await jose.importJWK(key, key.alg ?? 'RS256');
  }
  check(new Set(jwks.keys.map((k) => k.kid)).size === jwks.keys.length, 'two JWKS keys share a kid');
  check(Array.isArray(json.claims_supported) && json.claims_supported.includes('sub'), 'claims_supported');
  check(json.grant_types_supported.includes('authorization_code'), 'grant_types_supported lacks authorization_code');
  check(json.scopes_supported.includes('openid'), 'scopes_supported lacks openid');
  check(json.scopes_supported.every((s) => /^[\x21\x23-\x5B\x5D-\x7E]+$/.test(s)), 'a scope has bad characters');
  for (const flag of ['request_parameter_supported', 'request_uri_parameter_supported', 'claims_parameter_supported']) {
    if (flag in json) check(typeof json[flag] === 'boolean', `${flag} is not a boolean`);
  }
  allEndpointsHttps(json);
  if ('code_challenge_methods_supported' in json) {
    check(Array.isArray(json.code_challenge_methods_supported), 'code_challenge_methods_supported is not an array');
  }
}
