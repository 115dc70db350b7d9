/**
 * @module Failed-login counters per client address and per user over a sliding window (`frontend.login_rate`), in one worker's memory.
 *
 * The counters are per worker process: with N workers an attacker can get up
 * to N times the limit through before every worker refuses. The global
 * defence is the account lockout of the session server / accountd
 * (`accountd.lockout`), which this only front-runs cheaply.
 */
import type { LoginRateConfig } from '../../../shared/config/index.js';

/** Most keys tracked per kind; the oldest are dropped beyond it, so memory stays bounded. */
const MAX_KEYS = 10_000;

class WindowCounter {
  readonly #hits = new Map<string, number[]>();

  count(key: string, now: number, window: number): number {
    const list = this.#hits.get(key);
    if (list === undefined) return 0;
    while (list.length > 0 && list[0]! <= now - window) list.shift();
    if (list.length === 0) this.#hits.delete(key);
    return list.length;
  }

  add(key: string, now: number): void {
    let list = this.#hits.get(key);
    if (list === undefined) {
      if (this.#hits.size >= MAX_KEYS) {
        const oldest = this.#hits.keys().next().value;
        if (oldest !== undefined) this.#hits.delete(oldest);
      }
      list = [];
      this.#hits.set(key, list);
    }
    list.push(now);
  }

  clear(key: string): void {
    this.#hits.delete(key);
  }
}

/** Refuses logins from an address or for a user that failed too often within the window. */
export class LoginRateLimiter {
  readonly #config: LoginRateConfig;
  readonly #clock: () => number;
  readonly #addresses = new WindowCounter();
  readonly #users = new WindowCounter();

  constructor(config: LoginRateConfig, clock: () => number = Date.now) {
    this.#config = config;
    this.#clock = clock;
  }

  /** True when a login from `address` for `user` may be tried now. */
  allowed(address: string, user: string): boolean {
    const now = this.#clock();
    const w = this.#config.window;
    return (
      this.#addresses.count(address, now, w) < this.#config.per_address &&
      this.#users.count(user.toLowerCase(), now, w) < this.#config.per_user
    );
  }

  /** Records a failed login. */
  failed(address: string, user: string): void {
    const now = this.#clock();
    this.#addresses.add(address, now);
    this.#users.add(user.toLowerCase(), now);
  }

  /** Forgets the user's failures after a successful login. */
  succeeded(user: string): void {
    this.#users.clear(user.toLowerCase());
  }
}
