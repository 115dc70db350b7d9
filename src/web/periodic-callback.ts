/**
 * @module PeriodicCallback: run a function every N milliseconds on the IOLoop
 * clock, skipping runs that would overlap a still-running one (Tornado's).
 */
import { VesperError } from '../shared/errors/index.js';
import { IOLoop, type TimeoutHandle } from './ioloop.js';

/** Options of a {@link PeriodicCallback}. */
export interface PeriodicCallbackOptions {
  /**
   * Randomise each interval by up to ±`jitter/2` of it (Tornado's `jitter`):
   * 0.1 gives intervals between 95 % and 105 % of `callbackTimeMs`. Default 0.
   */
  jitter?: number;
  /** Do not keep the process alive for this callback's timer. Default false. */
  unref?: boolean;
  /** The loop to schedule on. Default `IOLoop.current()`. */
  ioloop?: IOLoop;
}

/**
 * Calls `callback` every `callbackTimeMs` milliseconds once started.
 *
 * The schedule follows the clock, not the previous run: run *k* is due at
 * `start + k * interval`. If `callback` returns a promise, the next run is
 * scheduled only after it settles, and every slot that passed meanwhile is
 * skipped (never queued, never run concurrently). A throwing or rejecting
 * callback is logged by the IOLoop and the schedule goes on. The first run is
 * one interval after `start()`.
 */
export class PeriodicCallback {
  readonly #callback: () => unknown;
  readonly #callbackTimeMs: number;
  readonly #jitter: number;
  readonly #unref: boolean;
  readonly #ioloop: IOLoop;
  #running = false;
  #inFlight = false;
  #generation = 0;
  #nextTimeout = 0;
  #timeout: TimeoutHandle | undefined;

  /**
   * @throws {VesperError} `VESPER_WEB_BAD_OPTION` if `callbackTimeMs` is not a
   *   positive number or `jitter` is negative.
   */
  constructor(
    callback: () => unknown,
    callbackTimeMs: number,
    options: PeriodicCallbackOptions = {},
  ) {
    if (!(callbackTimeMs > 0) || !Number.isFinite(callbackTimeMs)) {
      throw new VesperError(
        'VESPER_WEB_BAD_OPTION',
        `PeriodicCallback needs a positive callbackTimeMs, got ${callbackTimeMs}`,
      );
    }
    const jitter = options.jitter ?? 0;
    if (!(jitter >= 0)) {
      throw new VesperError('VESPER_WEB_BAD_OPTION', `Invalid jitter ${jitter}`);
    }
    this.#callback = callback;
    this.#callbackTimeMs = callbackTimeMs;
    this.#jitter = jitter;
    this.#unref = options.unref ?? false;
    this.#ioloop = options.ioloop ?? IOLoop.current();
  }

  /** Starts the schedule; the first run is one interval from now. No-op if running. */
  start(): void {
    if (this.#running) return;
    this.#running = true;
    this.#generation++;
    this.#nextTimeout = this.#ioloop.time();
    this.#scheduleNext(this.#nextTimeout);
  }

  /** Stops the schedule; a run in progress finishes but is not followed by another. */
  stop(): void {
    this.#running = false;
    this.#generation++;
    this.#ioloop.removeTimeout(this.#timeout);
    this.#timeout = undefined;
  }

  /** True between `start()` and `stop()`. */
  isRunning(): boolean {
    return this.#running;
  }

  #run(generation: number): void {
    if (!this.#running || generation !== this.#generation) return;
    const slot = this.#nextTimeout;
    if (this.#inFlight) {
      // A run from before a stop()/start() is still going: skip this slot.
      this.#scheduleNext(slot);
      return;
    }
    this.#inFlight = true;
    const finished = this.#ioloop.runCallback(this.#callback, []);
    const after = (): void => {
      this.#inFlight = false;
      if (generation === this.#generation) this.#scheduleNext(slot);
    };
    if (finished === undefined) after();
    else void finished.then(after);
  }

  /**
   * Schedules the next run after the slot that just ran. Timers may fire a
   * fraction of a millisecond before their deadline on the monotonic clock,
   * so "now" is never taken to be earlier than the slot itself; otherwise the
   * same slot could run twice.
   */
  #scheduleNext(slot: number): void {
    if (!this.#running) return;
    this.#updateNext(Math.max(this.#ioloop.time(), slot));
    const generation = this.#generation;
    this.#timeout = this.#ioloop.callAt(this.#nextTimeout, () => this.#run(generation));
    if (this.#unref) this.#timeout.unref();
  }

  /** Moves `#nextTimeout` to the first slot after `now`, skipping missed ones. */
  #updateNext(now: number): void {
    let interval = this.#callbackTimeMs / 1000;
    if (this.#jitter > 0) interval *= 1 + this.#jitter * (Math.random() - 0.5);
    if (this.#nextTimeout <= now) {
      this.#nextTimeout += (Math.floor((now - this.#nextTimeout) / interval) + 1) * interval;
    }
  }
}
