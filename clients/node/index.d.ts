export interface StartOptions {
  /** A seed file's path, or the TOML text of one. */
  seed?: string;
  /** The gatehouse binary: default the env GATEHOUSE_BIN, else `gatehouse` on PATH. */
  bin?: string;
  /** Extra environment for the server (GATEHOUSE_*, RUST_LOG, ...); wins over the defaults. */
  env?: Record<string, string>;
  /** A fixed port instead of a free one (no retry then). */
  port?: number;
  /** How long to wait for /readyz, in milliseconds (default 30000). */
  timeoutMs?: number;
}

export type TokenKind = 'access_token' | 'id_token' | 'refresh_token';
export type SigningAlg = 'RS256' | 'ES256' | 'EdDSA';

export interface MintOptions {
  /** The client the token is for. */
  clientId: string;
  /** A username; an unknown one is created (its subject is the username). null: a token with no user. */
  sub?: string | null;
  aud?: string | string[];
  /** Space-separated scopes. */
  scope?: string;
  /** Extra claims in the token. */
  claims?: Record<string, unknown>;
  /** Lifetime in seconds; negative gives a token that has already expired. */
  expiresIn?: number;
  /** Default access_token. */
  kind?: TokenKind;
  alg?: SigningAlg;
  [other: string]: unknown;
}

export interface MintedToken {
  token: string;
  /** Unix seconds. */
  expiresAt: number;
}

export interface Clock {
  /** Seconds the provider's clock is ahead of real time. */
  offset: number;
  /** The provider's now, Unix seconds. */
  now: number;
}

export declare class GatehouseError extends Error {
  status: number;
  error?: string;
  errorDescription?: string;
  body: string;
}

export declare class Gatehouse {
  /** http://127.0.0.1:PORT */
  readonly issuer: string;
  readonly port: number;
  readonly pid: number;
  mintToken(options: MintOptions): Promise<MintedToken>;
  advanceClock(seconds: number): Promise<Clock>;
  resetClock(): Promise<Clock>;
  clock(): Promise<Clock>;
  /** Empties users, clients, sessions and grants, resets the clock and reloads the seed. */
  reset(): Promise<Record<string, unknown>>;
  /** What the server wrote (the last 64 KiB of each stream). */
  output(): { stdout: string; stderr: string };
  stop(): Promise<void>;
  [Symbol.asyncDispose](): Promise<void>;
}

export declare function startGatehouse(options?: StartOptions): Promise<Gatehouse>;

/** A free loopback port, as the kernel hands one out. */
export declare function freePort(): Promise<number>;
