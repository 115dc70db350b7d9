/**
 * @module The in-process {@link TokenStore}: the default for one host, where the
 * page that asks for a token and the WebSocket that presents it reach the same
 * process.
 */
import { VesperError } from '../../shared/errors/index.js';
import {
  checkIssueArguments,
  isWellFormedToken,
  newToken,
  tokenStoreClosedError,
  type TokenStore,
} from './token-store.js';

/** Options of {@link MemoryTokenStore}. */
export interface MemoryTokenStoreOptions {
  /** Milliseconds since the epoch; tests inject a fake. Default `Date.now`. */
  clock?: () => number;
  /**
   * The most tokens held at once (default 100,000). Issuing one more evicts the
   * token issued longest ago: tokens are consumed within seconds of being issued,
   * so the oldest is the one least likely still to be wanted, and a flood of
   * requests cannot grow the process without bound.
   */
  maxTokens?: number;
  /**
   * How often expired tokens are swept out, in milliseconds (default 10,000;
   * 0 disables the sweep). The timer is unref'd and never keeps a process alive.
   * Expiry itself is exact: `consume` checks the deadline whatever the sweep does.
   */
  sweepIntervalMs?: number;
}

interface Entry {
  readonly subject: string;
  readonly expiresAt: number;
}

/**
 * A {@link TokenStore} in a `Map`. `consume` reads and deletes in one synchronous
 * step, so it is atomic within the process (JavaScript runs one callback at a time).
 */
export class MemoryTokenStore implements TokenStore {
  readonly #clock: () => number;
  readonly #maxTokens: number;
  readonly #entries = new Map<string, Entry>();
  #sweepTimer: NodeJS.Timeout | undefined;
  #closed = false;

  /**
   * @throws VesperError `VESPER_WEB_TOKEN_INVALID_ARGUMENT` for a `maxTokens` or
   *   `sweepIntervalMs` that is not a non-negative integer (`maxTokens` at least 1).
   */
  constructor(options: MemoryTokenStoreOptions = {}) {
    this.#clock = options.clock ?? Date.now;
    this.#maxTokens = options.maxTokens ?? 100_000;
    if (!Number.isInteger(this.#maxTokens) || this.#maxTokens < 1) {
      throw new VesperError(
        'VESPER_WEB_TOKEN_INVALID_ARGUMENT',
        'invalid maxTokens: a memory token store must hold at least one token',
      );
    }
    const sweepIntervalMs = options.sweepIntervalMs ?? 10_000;
    if (!Number.isInteger(sweepIntervalMs) || sweepIntervalMs < 0) {
      throw new VesperError(
        'VESPER_WEB_TOKEN_INVALID_ARGUMENT',
        'invalid sweepIntervalMs: expected a non-negative whole number of milliseconds',
      );
    }
    if (sweepIntervalMs > 0) {
      this.#sweepTimer = setInterval(() => this.sweep(), sweepIntervalMs);
      this.#sweepTimer.unref();
    }
  }

  /** How many tokens are held, expired ones not yet swept included. */
  get size(): number {
    return this.#entries.size;
  }

  /** {@inheritDoc TokenStore.issue} */
  issue(subject: string, ttlMs?: number): Promise<string> {
    // The work is synchronous; a throw inside the executor becomes the rejection.
    return new Promise((resolve) => resolve(this.#issueNow(subject, ttlMs)));
  }

  #issueNow(subject: string, ttlMs: number | undefined): string {
    if (this.#closed) throw tokenStoreClosedError();
    const ttl = checkIssueArguments(subject, ttlMs);
    let token = newToken();
    // 256 random bits never collide in practice; the loop keeps the contract
    // ("a fresh token") true even if the random source misbehaved.
    while (this.#entries.has(token)) token = newToken();
    if (this.#entries.size >= this.#maxTokens) {
      this.sweep();
      if (this.#entries.size >= this.#maxTokens) {
        const oldest = this.#entries.keys().next();
        if (oldest.done !== true) this.#entries.delete(oldest.value);
      }
    }
    this.#entries.set(token, { subject, expiresAt: this.#clock() + ttl });
    return token;
  }

  /** {@inheritDoc TokenStore.consume} Reads and deletes in one synchronous step. */
  consume(token: string): Promise<string | null> {
    return new Promise((resolve) => resolve(this.#consumeNow(token)));
  }

  #consumeNow(token: string): string | null {
    if (this.#closed) throw tokenStoreClosedError();
    if (!isWellFormedToken(token)) return null;
    const entry = this.#entries.get(token);
    if (entry === undefined) return null;
    this.#entries.delete(token);
    return entry.expiresAt > this.#clock() ? entry.subject : null;
  }
  /** Drops every expired token now (the periodic sweep calls this). */
  sweep(): void {
    const now = this.#clock();
    for (const [token, entry] of this.#entries) {
      if (entry.expiresAt <= now) this.#entries.delete(token);
    }
  }

  /** {@inheritDoc TokenStore.close} */
  close(): Promise<void> {
    this.#closed = true;
    if (this.#sweepTimer !== undefined) clearInterval(this.#sweepTimer);
    this.#sweepTimer = undefined;
    this.#entries.clear();
    return Promise.resolve();
  }
}
