// What the tests share: the seed, its client, and plain requests to the
// provider's endpoints.

import { fileURLToPath } from 'node:url';

export const SEED = fileURLToPath(new URL('./seed.toml', import.meta.url));

export const APP = {
  clientId: 'app',
  secret: 'app-secret-change-me',
  redirectUri: 'http://127.0.0.1:9999/callback',
};

export async function userinfo(issuer, accessToken) {
  const response = await fetch(`${issuer}/userinfo`, {
    headers: { authorization: `Bearer ${accessToken}` },
  });
  const text = await response.text();
  return { status: response.status, body: text ? JSON.parse(text) : null };
}

export async function refresh(issuer, refreshToken) {
  const response = await fetch(`${issuer}/token`, {
    method: 'POST',
    headers: {
      authorization: `Basic ${Buffer.from(`${APP.clientId}:${APP.secret}`).toString('base64')}`,
      'content-type': 'application/x-www-form-urlencoded',
    },
    body: new URLSearchParams({ grant_type: 'refresh_token', refresh_token: refreshToken }),
  });
  return { status: response.status, body: await response.json() };
}
