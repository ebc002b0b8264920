// A reset forgets everything the tests made and brings the seed back.

import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { startGatehouse } from '../index.js';
import { SEED, refresh } from './support.mjs';

let gh;
before(async () => {
  gh = await startGatehouse({ seed: SEED });
});
after(() => gh?.stop());

test('a refresh token minted before a reset no longer works; one minted after does', async () => {
  const mint = () =>
    gh.mintToken({ clientId: 'app', sub: 'carol', kind: 'refresh_token', scope: 'openid offline_access' });

  const used = await refresh(gh.issuer, (await mint()).token);
  assert.equal(used.status, 200, JSON.stringify(used.body));
  assert.ok(used.body.access_token);

  const before = await mint();
  await gh.advanceClock(600);
  await gh.reset();

  assert.equal((await gh.clock()).offset, 0);
  const stale = await refresh(gh.issuer, before.token);
  assert.equal(stale.status, 400, JSON.stringify(stale.body));
  assert.equal(stale.body.error, 'invalid_grant');

  // The seed's client is back, so carol (made anew) can refresh again.
  const again = await refresh(gh.issuer, (await mint()).token);
  assert.equal(again.status, 200, JSON.stringify(again.body));
});
