/**
 * @module The account application's event bus: handlers publish what changed,
 * the live WebSocket channel subscribes and pushes it to the open pages.
 */
import type { ForwardingSettings, QuotaStatus } from '../../accountd/client/index.js';

/**
 * What the live channel tells open pages. Events never carry a password;
 * `vacation` carries the settings without the message body.
 */
export type AccountEvent =
  | { type: 'quota'; quota: QuotaStatus }
  | { type: 'forwarding'; forwarding: ForwardingSettings }
  | { type: 'vacation'; enabled: boolean; subject: string; days: number }
  | { type: 'vacation-log-cleared' }
  | { type: 'fullname'; fullName: string }
  | { type: 'password-changed' }
  | { type: 'accountd'; available: boolean };

/** A subscriber; it must not throw (an exception is caught and dropped). */
export type AccountEventListener = (event: AccountEvent, at: number) => void;

/** A synchronous publish/subscribe list, in subscription order. */
export class AccountEventBus {
  readonly #listeners = new Set<AccountEventListener>();
  readonly #now: () => number;

  /** Makes an empty bus; `now` stamps events (default `Date.now`). */
  constructor(now: () => number = Date.now) {
    this.#now = now;
  }

  /** Adds `listener`; returns the function that removes it (idempotent). */
  subscribe(listener: AccountEventListener): () => void {
    // A wrapper, so the same function subscribed twice gets two deliveries and two removals.
    const entry: AccountEventListener = (event, at) => listener(event, at);
    this.#listeners.add(entry);
    return () => {
      this.#listeners.delete(entry);
    };
  }

  /** Delivers `event` to every current subscriber; one that throws does not stop the others. */
  publish(event: AccountEvent): void {
    const at = this.#now();
    for (const listener of [...this.#listeners]) {
      try {
        listener(event, at);
      } catch {
        // A subscriber's failure is its own (a closing socket); the others still hear.
      }
    }
  }

  /** The number of subscribers (open live channels). */
  get size(): number {
    return this.#listeners.size;
  }

  /** Removes every subscriber. */
  clear(): void {
    this.#listeners.clear();
  }
}
