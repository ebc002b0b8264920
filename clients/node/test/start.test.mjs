// Starting and stopping: seeds as files or text, several servers at once,
// and clear errors when the server cannot start.

import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import net from 'node:net';
import { test } from 'node:test';
import { startGatehouse } from '../index.js';
import { SEED } from './support.mjs';

test('a seed given as TOML text, and two servers side by side', async () => {
  const a = await startGatehouse({ seed: readFileSync(SEED, 'utf8') });
  const b = await startGatehouse();
  try {
    assert.notEqual(a.port, b.port);
    assert.equal(a.issuer, `http://127.0.0.1:${a.port}`);
    const ready = await (await fetch(`${a.issuer}/readyz`)).json();
    assert.equal(ready.status, 'ready');
    assert.equal(ready.test_mode, true);
    const discovery = await (await fetch(`${b.issuer}/.well-known/openid-configuration`)).json();
    assert.equal(discovery.issuer, b.issuer);
  } finally {
    await Promise.all([a.stop(), b.stop()]);
  }
  await assert.rejects(fetch(`${a.issuer}/readyz`));
});

test('stop ends the process', async () => {
  const gh = await startGatehouse();
  const { pid } = gh;
  await gh.stop();
  assert.throws(() => process.kill(pid, 0), { code: 'ESRCH' });
  await gh.stop();
});

test('a binary that is not there is a clear error', async () => {
  await assert.rejects(startGatehouse({ bin: '/nonexistent/gatehouse' }), /could not start \/nonexistent\/gatehouse.*GATEHOUSE_BIN/);
});

test('a server that exits early is an error carrying what it wrote', async () => {
  await assert.rejects(
    startGatehouse({ seed: '[[clients]]\nclient_id = 42\n' }),
    /gatehouse exited before it was ready \(exit code [1-9][0-9]*\)\n--- stderr ---\n.+/s,
  );
});

test('a seed path that does not exist is an error before anything starts', async () => {
  await assert.rejects(startGatehouse({ seed: 'no/such/seed.toml' }), /seed file not found: no\/such\/seed.toml/);
});

test('a fixed port that is taken is an error saying so, with no other port tried', async () => {
  const taken = net.createServer();
  await new Promise((resolve) => taken.listen(0, '127.0.0.1', resolve));
  const { port } = taken.address();
  try {
    await assert.rejects(
      startGatehouse({ port }),
      new RegExp(`gatehouse exited before it was ready .*--- stderr ---\\n.*127\\.0\\.0\\.1:${port}.*[Aa]ddress already in use`, 's'),
    );
  } finally {
    taken.close();
  }
});
