// Starts Gatehouse in test mode for a test suite: a fresh provider on an
// in-memory database and a free loopback port, with the test endpoints
// (/test/v1/tokens, /test/v1/clock, /test/v1/reset) behind small methods.
// Uses nothing but Node's own modules.

import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';

const PORT_ATTEMPTS = 5;
const OUTPUT_LIMIT = 64 * 1024;

/** A request to a test endpoint that Gatehouse refused. */
export class GatehouseError extends Error {
  constructor(message, { status, error, errorDescription, body } = {}) {
    super(message);
    this.name = 'GatehouseError';
    this.status = status;
    this.error = error;
    this.errorDescription = errorDescription;
    this.body = body;
  }
}

/** Asks the kernel for a free loopback port (bind 0, read it, close). */
export function freePort() {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.unref();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });
}

// A seed is a path when such a file exists, TOML text when it holds a
// newline, `=` or `[` (which no sensible path does); anything else is a
// path that is missing.
function seedFile(seed, tmp) {
  if (seed === undefined || seed === null) return null;
  if (typeof seed !== 'string') throw new TypeError('seed must be a path or TOML text');
  if (existsSync(seed)) return path.resolve(seed);
  if (!/[\n=[]/.test(seed)) throw new Error(`seed file not found: ${seed}`);
  const file = path.join(tmp(), 'seed.toml');
  writeFileSync(file, seed);
  return file;
}

// Keeps the last OUTPUT_LIMIT characters the server wrote, for error
// messages and `output()`.
class Tail {
  constructor() {
    this.text = '';
  }

  push(chunk) {
    this.text += chunk;
    if (this.text.length > OUTPUT_LIMIT) this.text = this.text.slice(-OUTPUT_LIMIT);
  }
}

const running = new Set();
let exitHookInstalled = false;

function installExitHook() {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  // Whatever the suite forgot to stop goes down with it.
  process.on('exit', () => {
    for (const child of running) {
      try {
        child.kill('SIGKILL');
      } catch {
        // already gone
      }
    }
  });
}

function addressInUse(text) {
  return /address already in use|addrinuse|os error 98|os error 48/i.test(text);
}

function launch(bin, args, env) {
  const child = spawn(bin, args, { env, stdio: ['ignore', 'pipe', 'pipe'] });
  const stdout = new Tail();
  const stderr = new Tail();
  child.stdout.setEncoding('utf8').on('data', (c) => stdout.push(c));
  child.stderr.setEncoding('utf8').on('data', (c) => stderr.push(c));
  const exited = new Promise((resolve) => {
    child.once('error', (error) => resolve({ error }));
    child.once('exit', (code, signal) => resolve({ code, signal }));
  });
  // The server must not keep the suite's process alive: `stop()` or the
  // exit hook ends it.
  child.unref();
  child.stdout.unref?.();
  child.stderr.unref?.();
  running.add(child);
  exited.then(() => running.delete(child));
  return { child, stdout, stderr, exited };
}

async function waitReady(issuer, proc, timeoutMs) {
  const deadline = Date.now() + timeoutMs;
  let last = 'no answer yet';
  let done = null;
  proc.exited.then((r) => {
    done = r;
  });
  while (Date.now() < deadline) {
    if (done) return { exited: done };
    try {
      const response = await fetch(`${issuer}/readyz`, { signal: AbortSignal.timeout(2000) });
      const text = await response.text();
      if (response.status === 200) {
        const body = JSON.parse(text);
        if (body.status === 'ready' && body.test_mode === true) return { ready: body };
        if (body.test_mode !== true) {
          return { fatal: `${issuer}/readyz says the server is not in test mode: ${text}` };
        }
      }
      last = `${response.status} ${text}`;
    } catch (error) {
      last = error.cause?.code ?? error.message;
    }
    await Promise.race([sleep(50), proc.exited]);
  }
  return { timeout: last };
}

function describeExit({ error, code, signal }) {
  if (error) return error.message;
  return signal ? `killed by ${signal}` : `exit code ${code}`;
}

/**
 * Starts Gatehouse in test mode and resolves once its /readyz answers ready.
 * @param {import('./index.js').StartOptions} [options]
 * @returns {Promise<import('./index.js').Gatehouse>}
 */
export async function startGatehouse(options = {}) {
  const bin = options.bin ?? process.env.GATEHOUSE_BIN ?? 'gatehouse';
  const timeoutMs = options.timeoutMs ?? 30_000;
  let tmpDir = null;
  const tmp = () => (tmpDir ??= mkdtempSync(path.join(os.tmpdir(), 'gatehouse-testing-')));
  const removeTmp = () => {
    if (tmpDir) rmSync(tmpDir, { recursive: true, force: true });
    tmpDir = null;
  };

  let seed;
  try {
    seed = seedFile(options.seed, tmp);
  } catch (error) {
    removeTmp();
    throw error;
  }
  const args = ['serve', '--test-mode'];
  if (seed) args.push('--seed', seed);

  installExitHook();
  for (let attempt = 1; ; attempt++) {
    const port = options.port ?? (await freePort());
    const issuer = `http://127.0.0.1:${port}`;
    const env = { ...process.env };
    // The seed comes from the options only, and the database is the
    // in-memory one unless the caller's env says otherwise.
    delete env.GATEHOUSE_SEED;
    Object.assign(env, {
      GATEHOUSE_TEST_MODE: 'true',
      GATEHOUSE_DATABASE_URL: 'sqlite::memory:',
      GATEHOUSE_LISTEN: `127.0.0.1:${port}`,
      GATEHOUSE_ISSUER: issuer,
      ...options.env,
    });

    const proc = launch(bin, args, env);
    const result = await waitReady(issuer, proc, timeoutMs);
    if (result.ready) return new Gatehouse({ issuer, port, proc, removeTmp });

    if (!result.exited) {
      proc.child.kill('SIGKILL');
      await proc.exited;
    }
    const output = `--- stderr ---\n${proc.stderr.text}--- stdout ---\n${proc.stdout.text}`;
    if (result.exited) {
      if (result.exited.error) {
        removeTmp();
        throw new Error(
          `could not start ${bin} (${result.exited.error.message}); set GATEHOUSE_BIN or the bin option to the gatehouse binary`,
        );
      }
      const text = proc.stderr.text + proc.stdout.text;
      if (options.port === undefined && attempt < PORT_ATTEMPTS && addressInUse(text)) continue;
      removeTmp();
      throw new Error(`gatehouse exited before it was ready (${describeExit(result.exited)})\n${output}`);
    }
    removeTmp();
    if (result.fatal) throw new Error(`${result.fatal}\n${output}`);
    throw new Error(
      `gatehouse was not ready at ${issuer}/readyz within ${timeoutMs} ms (last answer: ${result.timeout})\n${output}`,
    );
  }
}

export class Gatehouse {
  #proc;
  #removeTmp;
  #stopped = null;

  constructor({ issuer, port, proc, removeTmp }) {
    this.issuer = issuer;
    this.port = port;
    this.#proc = proc;
    this.#removeTmp = removeTmp;
  }

  /** The process id of the server. */
  get pid() {
    return this.#proc.child.pid;
  }

  /** What the server wrote on stdout and stderr (the last 64 KiB of each). */
  output() {
    return { stdout: this.#proc.stdout.text, stderr: this.#proc.stderr.text };
  }

  async #call(method, route, body) {
    const init = { method, headers: { accept: 'application/json' } };
    if (body !== undefined) {
      init.headers['content-type'] = 'application/json';
      init.body = JSON.stringify(body);
    }
    const response = await fetch(`${this.issuer}${route}`, init);
    const text = await response.text();
    let json = null;
    try {
      json = JSON.parse(text);
    } catch {
      // reported below
    }
    if (response.status !== 200 || json === null) {
      const detail = json?.error_description ?? json?.error ?? (text.length > 200 ? `${text.slice(0, 200)}…` : text);
      throw new GatehouseError(`${method} ${route} answered ${response.status}: ${detail}`, {
        status: response.status,
        error: json?.error,
        errorDescription: json?.error_description,
        body: text,
      });
    }
    return json;
  }

  /**
   * Mints a token signed with the provider's keys.
   * @param {import('./index.js').MintOptions} options
   */
  async mintToken(options) {
    const { clientId, expiresIn, ...rest } = options ?? {};
    const body = { ...rest };
    if (clientId !== undefined) body.client_id = clientId;
    if (expiresIn !== undefined) body.expires_in = expiresIn;
    const answer = await this.#call('POST', '/test/v1/tokens', body);
    return { token: answer.token, expiresAt: answer.expires_at };
  }

  /** Moves the provider's clock forward (or back, with a negative number) by `seconds`. */
  async advanceClock(seconds) {
    return this.#call('POST', '/test/v1/clock', { advance: seconds });
  }

  /** Returns the provider's clock to real time. */
  async resetClock() {
    return this.#call('POST', '/test/v1/clock', { reset: true });
  }

  /** The clock's offset from real time and the provider's now, in seconds. */
  async clock() {
    return this.#call('GET', '/test/v1/clock');
  }

  /** Empties users, clients, sessions and grants, resets the clock and reloads the seed. */
  async reset() {
    return this.#call('POST', '/test/v1/reset', {});
  }

  /** Stops the server (SIGTERM, then SIGKILL after five seconds). */
  stop() {
    this.#stopped ??= (async () => {
      const { child, exited } = this.#proc;
      if (child.exitCode === null && child.signalCode === null) {
        child.kill('SIGTERM');
        const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
        await exited;
        clearTimeout(timer);
      }
      this.#removeTmp();
    })();
    return this.#stopped;
  }
}

// `await using gh = await startGatehouse()` stops it at the end of the block.
if (Symbol.asyncDispose) {
  Gatehouse.prototype[Symbol.asyncDispose] = function dispose() {
    return this.stop();
  };
}
