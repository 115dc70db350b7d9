/**
 * @module Respawn back-off and the crash-loop guard: when a crashed child may be started again.
 */

/** The limits of a {@link RespawnBudget}; every duration in milliseconds. */
export interface RespawnBudgetOptions {
  /** Delay after the second crash within `window`; doubles with each further one. Default 100. */
  readonly baseDelayMs?: number;
  /** The longest back-off delay. Default 10 000. */
  readonly maxDelayMs?: number;
  /** How far back crashes count. Default 30 000. */
  readonly windowMs?: number;
  /** Crashes within `window` that make a crash loop. Default 10. */
  readonly loopCrashes?: number;
  /** How long respawns stop after a crash loop is detected. Default 30 000. */
  readonly loopPauseMs?: number;
}

/** What {@link RespawnBudget.recordCrash} concluded. */
export interface CrashVerdict {
  /** The earliest time (ms epoch, the injected clock's) a replacement may start. */
  readonly retryAt: number;
  /** True when this crash completed a crash loop (respawns pause for `loopPauseMs`). */
  readonly crashLoop: boolean;
  /** Crashes within the window, this one included. */
  readonly recentCrashes: number;
}

/**
 * Budgets the restarts of one kind of child. The first crash in a quiet
 * window is replaced at once (a SIGKILLed worker is back within a second);
 * each further crash within `windowMs` doubles the delay from `baseDelayMs`
 * up to `maxDelayMs`; `loopCrashes` crashes within the window is a crash
 * loop, and nothing is respawned for `loopPauseMs`. Pure: the caller passes
 * the time, so tests drive the clock.
 */
export class RespawnBudget {
  readonly #base: number;
  readonly #max: number;
  readonly #window: number;
  readonly #loopCrashes: number;
  readonly #loopPause: number;
  #crashes: number[] = [];
  #retryAt = 0;

  constructor(options: RespawnBudgetOptions = {}) {
    this.#base = options.baseDelayMs ?? 100;
    this.#max = options.maxDelayMs ?? 10_000;
    this.#window = options.windowMs ?? 30_000;
    this.#loopCrashes = options.loopCrashes ?? 10;
    this.#loopPause = options.loopPauseMs ?? 30_000;
  }

  /** Records a crash at `now` and returns when a replacement may start. */
  recordCrash(now: number): CrashVerdict {
    this.#crashes = this.#crashes.filter((t) => now - t < this.#window);
    this.#crashes.push(now);
    const recent = this.#crashes.length;
    if (recent >= this.#loopCrashes) {
      this.#retryAt = now + this.#loopPause;
      // The pause is the penalty; counting starts afresh after it.
      this.#crashes = [];
      return { retryAt: this.#retryAt, crashLoop: true, recentCrashes: recent };
    }
    const delay = recent <= 1 ? 0 : Math.min(this.#max, this.#base * 2 ** (recent - 2));
    this.#retryAt = Math.max(this.#retryAt, now + delay);
    return { retryAt: this.#retryAt, crashLoop: false, recentCrashes: recent };
  }

  /** True when a child may be started at `now`. */
  mayStart(now: number): boolean {
    return now >= this.#retryAt;
  }

  /** The earliest time a child may start (0 when it may start at any time). */
  get retryAt(): number {
    return this.#retryAt;
  }
}
