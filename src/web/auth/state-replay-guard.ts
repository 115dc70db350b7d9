/**
 * @module Remembers which login `state` values were already used, so that a copy
 * of a state cookie cannot complete a second login in this process.
 */
import { createHash } from 'node:crypto';

/**
 * Records used `state` values until they would have expired anyway. The signed
 * state cookie is cleared on first use; this guard also refuses a replay by
 * someone who kept a copy of the cookie. An implementation shared between
 * processes (Redis, say) makes the guarantee hold across a cluster.
 */
export interface StateReplayGuard {
  /**
   * Marks `state` as used until `expiresAt` (milliseconds since the epoch).
   * Returns false when it was already used.
   */
  consume(state: string, expiresAt: number): boolean | Promise<boolean>;
}

/** Options of {@link MemoryStateReplayGuard}. */
export interface MemoryStateReplayGuardOptions {
  /** Most states remembered; beyond it the oldest are forgotten. Default 100000. */
  maxEntries?: number;
  /** The clock, in milliseconds. Default `Date.now`. */
  clock?: () => number;
}

/**
 * A {@link StateReplayGuard} in this process's memory. It stores a SHA-256 of
 * each state (never the state itself), drops entries once expired, and is
 * bounded by `maxEntries`. Since state cookies live minutes, the bound is only
 * reached under a flood of logins, and then the cookie's own expiry still holds.
 */
export class MemoryStateReplayGuard implements StateReplayGuard {
  readonly #entries = new Map<string, number>();
  readonly #maxEntries: number;
  readonly #clock: () => number;

  constructor(options: MemoryStateReplayGuardOptions = {}) {
    this.#maxEntries = options.maxEntries ?? 100_000;
    this.#clock = options.clock ?? Date.now;
  }

  /** {@inheritDoc StateReplayGuard.consume} */
  consume(state: string, expiresAt: number): boolean {
    const now = this.#clock();
    this.#sweep(now);
    const key = createHash('sha256').update(state, 'utf8').digest('base64url');
    const seen = this.#entries.get(key);
    if (seen !== undefined && seen > now) return false;
    this.#entries.set(key, expiresAt);
    while (this.#entries.size > this.#maxEntries) {
      const oldest = this.#entries.keys().next();
      if (oldest.done === true) break;
      this.#entries.delete(oldest.value);
    }
    return true;
  }

  /** How many states are remembered now. */
  get size(): number {
    return this.#entries.size;
  }

  // Entries are inserted in time order with the same lifetime, so expired ones
  // sit at the front of the Map's insertion order.
  #sweep(now: number): void {
    for (const [key, expiresAt] of this.#entries) {
      if (expiresAt > now) break;
      this.#entries.delete(key);
    }
  }
}
