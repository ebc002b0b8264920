// The provider's clock moves forward for the tokens it checks.

import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { startGatehouse } from '../index.js';
import { SEED, userinfo } from './support.mjs';

let gh;
before(async () => {
  gh = await startGatehouse({ seed: SEED });
});
after(() => gh?.stop());

test('an hour later a token minted before has expired at /userinfo', async () => {
  const { token } = await gh.mintToken({ clientId: 'app', sub: 'alice', scope: 'openid', expiresIn: 300 });
  const fresh = await userinfo(gh.issuer, token);
  assert.equal(fresh.status, 200);
  assert.equal(fresh.body.sub, 'alice');

  const realNow = Math.floor(Date.now() / 1000);
  const advanced = await gh.advanceClock(3600);
  assert.equal(advanced.offset, 3600);
  assert.ok(Math.abs(advanced.now - (realNow + 3600)) <= 2, `now ${advanced.now}, real ${realNow}`);

  const read = await gh.clock();
  assert.equal(read.offset, 3600);
  const expired = await userinfo(gh.issuer, token);
  assert.equal(expired.status, 401);

  // The move pruned what had expired by then, so the token stays refused;
  // one minted once the clock is back works.
  const back = await gh.resetClock();
  assert.equal(back.offset, 0);
  assert.equal((await gh.clock()).offset, 0);
  const later = await gh.mintToken({ clientId: 'app', sub: 'alice', scope: 'openid', expiresIn: 300 });
  assert.equal((await userinfo(gh.issuer, later.token)).status, 200);
});

test('advances add up', async () => {
  await gh.advanceClock(60);
  const { offset } = await gh.advanceClock(60);
  assert.equal(offset, 120);
  await gh.resetClock();
});
