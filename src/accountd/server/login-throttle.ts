/**
 * @module Failed-login throttling: each failure delays the reply a little
 * more, and `attempts` failures within `window` lock the user, and separately
 * the client address, out for `duration`.
 */

/** Throttle settings (milliseconds). */
export interface LoginThrottleOptions {
  /** Failures within `windowMs` that lock a key out. */
  attempts: number;
  windowMs: number;
  /** How long a lockout lasts. */
  durationMs: number;
  /** Delay before answering the first failure; doubled per further failure. Default 200. */
  baseDelayMs?: number;
  /** The longest delay. Default 3000. */
  maxDelayMs?: number;
  /** Milliseconds since the epoch; injectable for tests. */
  now?: () => number;
  /** Most keys tracked at once, so a flood of names cannot exhaust memory. Default 100 000. */
  maxKeys?: number;
}

/** What the throttle says about one attempt. */
export interface ThrottleVerdict {
  /** Set while the user or the address is locked out: which, and until when (ms since epoch). */
  locked: { by: 'user' | 'address'; until: number } | undefined;
}

/** The outcome of recording a failure. */
export interface FailureVerdict {
  /** Delay before the `NO` reply, ms. */
  delayMs: number;
  /** Which keys this failure has just locked out (empty when none). */
  lockedNow: ('user' | 'address')[];
}

interface Entry {
  failures: number[];
  lockedUntil: number;
}

/**
 * Tracks failed logins per user and per client address. An address of
 * `undefined` (a local client that did not say for whom it asks) is only
 * throttled per user.
 */
export class LoginThrottle {
  readonly #o: Required<LoginThrottleOptions>;
  readonly #users = new Map<string, Entry>();
  readonly #addresses = new Map<string, Entry>();

  constructor(options: LoginThrottleOptions) {
    this.#o = { baseDelayMs: 200, maxDelayMs: 3000, now: Date.now, maxKeys: 100_000, ...options };
  }

  #entry(map: Map<string, Entry>, key: string): Entry {
    let entry = map.get(key);
    if (entry === undefined) {
      if (map.size >= this.#o.maxKeys) this.#prune(map);
      entry = { failures: [], lockedUntil: 0 };
      map.set(key, entry);
    }
    return entry;
  }

  #prune(map: Map<string, Entry>): void {
    const now = this.#o.now();
    for (const [key, e] of map) {
      if (e.lockedUntil <= now && e.failures.every((t) => now - t >= this.#o.windowMs)) {
        map.delete(key);
      }
    }
    // Still full: forget the oldest keys (Map iterates in insertion order).
    for (const key of map.keys()) {
      if (map.size < this.#o.maxKeys) break;
      map.delete(key);
    }
  }

  /** Whether an attempt for `user` from `address` may be checked at all. */
  check(user: string, address: string | undefined): ThrottleVerdict {
    const now = this.#o.now();
    const u = this.#users.get(user);
    if (u !== undefined && u.lockedUntil > now)
      return { locked: { by: 'user', until: u.lockedUntil } };
    if (address !== undefined) {
      const a = this.#addresses.get(address);
      if (a !== undefined && a.lockedUntil > now) {
        return { locked: { by: 'address', until: a.lockedUntil } };
      }
    }
    return { locked: undefined };
  }

  #fail(entry: Entry, now: number): boolean {
    entry.failures = entry.failures.filter((t) => now - t < this.#o.windowMs);
    entry.failures.push(now);
    if (entry.failures.length >= this.#o.attempts) {
      entry.lockedUntil = now + this.#o.durationMs;
      entry.failures = [];
      return true;
    }
    return false;
  }

  /** Records a failed attempt and says how long to wait before answering. */
  recordFailure(user: string, address: string | undefined): FailureVerdict {
    const now = this.#o.now();
    const u = this.#entry(this.#users, user);
    const lockedNow: ('user' | 'address')[] = [];
    if (this.#fail(u, now)) lockedNow.push('user');
    let count = u.failures.length;
    if (address !== undefined) {
      const a = this.#entry(this.#addresses, address);
      if (this.#fail(a, now)) lockedNow.push('address');
      count = Math.max(count, a.failures.length);
    }
    const delayMs = Math.min(this.#o.baseDelayMs * 2 ** Math.max(count - 1, 0), this.#o.maxDelayMs);
    return { delayMs, lockedNow };
  }

  /** Forgets the failures of `user` after a successful login (the address's stay). */
  recordSuccess(user: string): void {
    const u = this.#users.get(user);
    if (u !== undefined && u.lockedUntil <= this.#o.now()) this.#users.delete(user);
  }
}
