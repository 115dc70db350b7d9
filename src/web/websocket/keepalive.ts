/**
 * @module Keepalive pings for one WebSocket connection: ping every interval,
 * give up when a pong does not come back in time (Tornado 6.5 semantics).
 */

/** What {@link Keepalive} needs from its connection. */
export interface KeepaliveTarget {
  /** Sends a ping frame. */
  sendPing(): void;
  /** Called once when a pong did not arrive within the timeout. */
  timedOut(): void;
}

/**
 * Sends a ping every `intervalMs`; if no pong arrives within `timeoutMs` after a
 * ping, calls `timedOut()` once and stops. The timeout defaults to the interval
 * and is capped at it (Tornado 6.5: a longer timeout would let pings pile up
 * unanswered). Timers are unref'd: they never keep a process alive by themselves.
 */
export class Keepalive {
  readonly #target: KeepaliveTarget;
  readonly #timeoutMs: number;
  #interval: NodeJS.Timeout | undefined;
  #deadline: NodeJS.Timeout | undefined;

  constructor(target: KeepaliveTarget, intervalMs: number, timeoutMs?: number) {
    this.#target = target;
    this.#timeoutMs = Math.min(timeoutMs ?? intervalMs, intervalMs);
    this.#interval = setInterval(() => this.#ping(), intervalMs);
    this.#interval.unref();
  }

  #ping(): void {
    if (this.#deadline !== undefined) return; // the previous ping is still due
    this.#deadline = setTimeout(() => {
      this.stop();
      this.#target.timedOut();
    }, this.#timeoutMs);
    this.#deadline.unref();
    this.#target.sendPing();
  }

  /** A pong arrived: the peer is alive. */
  pong(): void {
    if (this.#deadline !== undefined) clearTimeout(this.#deadline);
    this.#deadline = undefined;
  }

  /** Stops pinging. Idempotent. */
  stop(): void {
    if (this.#interval !== undefined) clearInterval(this.#interval);
    if (this.#deadline !== undefined) clearTimeout(this.#deadline);
    this.#interval = undefined;
    this.#deadline = undefined;
  }
}

/**
 * Checks keepalive settings and returns them, or `null` when pinging is off
 * (interval absent or 0).
 * @throws what `invalid(name)` returns, for a negative or non-finite value.
 */
export function keepaliveSettings(
  interval: unknown,
  timeout: unknown,
  invalid: (name: string) => Error,
): { intervalMs: number; timeoutMs: number | undefined } | null {
  if (interval === undefined || interval === null || interval === 0) return null;
  if (typeof interval !== 'number' || !Number.isFinite(interval) || interval < 0) {
    throw invalid('pingInterval');
  }
  if (timeout !== undefined && timeout !== null) {
    if (typeof timeout !== 'number' || !Number.isFinite(timeout) || timeout <= 0) {
      throw invalid('pingTimeout');
    }
    return { intervalMs: interval, timeoutMs: timeout };
  }
  return { intervalMs: interval, timeoutMs: undefined };
}
