/**
 * @module The IOLoop facade: Tornado's IOLoop API as a thin layer over Node's
 * own event loop (there is no second loop).
 */
import { createLogger, type Logger } from '../shared/log/index.js';
import { TimeoutError } from './timeout-error.js';

/**
 * A scheduled call returned by {@link IOLoop.callLater} / {@link IOLoop.callAt};
 * pass it to {@link IOLoop.removeTimeout} to cancel it.
 */
export class TimeoutHandle {
  /** When the call is due, in {@link IOLoop.time} seconds. */
  readonly deadline: number;
  #timer: NodeJS.Timeout | undefined;

  /** @internal Created by the IOLoop. */
  constructor(deadline: number, timer: NodeJS.Timeout) {
    this.deadline = deadline;
    this.#timer = timer;
  }

  /** True until the call has run or been cancelled. */
  get pending(): boolean {
    return this.#timer !== undefined;
  }

  /** Lets the process exit even though this call is still pending. */
  unref(): this {
    this.#timer?.unref();
    return this;
  }

  /** Undoes {@link unref}: the pending call keeps the process alive again (the default). */
  ref(): this {
    this.#timer?.ref();
    return this;
  }

  /** @internal */
  clear(): void {
    if (this.#timer !== undefined) clearTimeout(this.#timer);
    this.#timer = undefined;
  }

  /** @internal Marks the call as run. */
  fired(): void {
    this.#timer = undefined;
  }
}

function isPromiseLike(value: unknown): value is PromiseLike<unknown> {
  return (
    typeof value === 'object' &&
    value !== null &&
    typeof (value as { then?: unknown }).then === 'function'
  );
}

/**
 * Tornado's IOLoop on Node. Node already runs one event loop per process, so
 * this class only maps Tornado's names onto it: `addCallback` is
 * `setImmediate`, `callLater` is `setTimeout`, and `time()` is the monotonic
 * `performance.now()` in seconds (timers have millisecond granularity).
 * There is no `start()`/`stop()`: the loop runs while there is work, as every
 * Node program's does.
 *
 * Callbacks run "in the loop" as in Tornado: an exception they throw, or a
 * rejection of the promise they return, is logged (with a stack) and does not
 * reach the caller or stop anything else.
 *
 * Timers are *ref'd*, like `setTimeout` and like Tornado's loop, which runs
 * until stopped: a pending call keeps the process alive. Call `unref()` on the
 * returned handle (or pass `unref` to `PeriodicCallback`) for housekeeping that
 * must not hold the process open.
 */
export class IOLoop {
  static #current: IOLoop | undefined;
  #log: Logger | undefined;

  /** The process-wide IOLoop (Node has one event loop per thread). */
  static current(): IOLoop {
    IOLoop.#current ??= new IOLoop();
    return IOLoop.#current;
  }

  /**
   * Where failing callbacks are reported. Default: a logger named
   * `vesper-web` writing to stdout, created on first use.
   */
  get log(): Logger {
    this.#log ??= createLogger({ name: 'vesper-web' });
    return this.#log;
  }

  set log(logger: Logger) {
    this.#log = logger;
  }

  /** The loop's monotonic clock, in seconds (fractional). Not wall-clock time. */
  time(): number {
    return performance.now() / 1000;
  }

  /**
   * Runs `callback(...args)` on the next loop iteration (after pending I/O
   * callbacks). Errors are logged.
   */
  addCallback<A extends unknown[]>(callback: (...args: A) => unknown, ...args: A): void {
    setImmediate(() => {
      void this.runCallback(callback, args);
    });
  }

  /** Tornado's `spawn_callback`: fire-and-forget `callback(...args)`, errors logged. */
  spawnCallback<A extends unknown[]>(callback: (...args: A) => unknown, ...args: A): void {
    this.addCallback(callback, ...args);
  }

  /**
   * Runs `callback(...args)` after `delaySeconds` seconds.
   * @returns a handle for {@link removeTimeout}.
   */
  callLater<A extends unknown[]>(
    delaySeconds: number,
    callback: (...args: A) => unknown,
    ...args: A
  ): TimeoutHandle {
    return this.callAt(this.time() + delaySeconds, callback, ...args);
  }

  /**
   * Runs `callback(...args)` at `when`, a time on the {@link time} clock
   * (a past time runs on the next timer phase).
   * @returns a handle for {@link removeTimeout}.
   */
  callAt<A extends unknown[]>(
    when: number,
    callback: (...args: A) => unknown,
    ...args: A
  ): TimeoutHandle {
    const delayMs = Math.max(0, (when - this.time()) * 1000);
    const timer = setTimeout(() => {
      handle.fired();
      void this.runCallback(callback, args);
    }, delayMs);
    const handle = new TimeoutHandle(when, timer);
    return handle;
  }

  /** Tornado's `add_timeout` with an absolute deadline: the same as {@link callAt}. */
  addTimeout<A extends unknown[]>(
    deadline: number,
    callback: (...args: A) => unknown,
    ...args: A
  ): TimeoutHandle {
    return this.callAt(deadline, callback, ...args);
  }

  /** Cancels a pending call; harmless if it already ran or was cancelled. */
  removeTimeout(handle: TimeoutHandle | null | undefined): void {
    handle?.clear();
  }

  /** Calls `callback(promise)` once `promise` settles (Tornado's `add_future`). */
  addFuture<T>(promise: PromiseLike<T>, callback: (promise: Promise<T>) => unknown): void {
    const settled = Promise.resolve(promise);
    settled.then(
      () => this.addCallback(callback, settled),
      () => this.addCallback(callback, settled),
    );
  }

  /**
   * Runs `fn` and resolves with its result, like Tornado's `run_sync`. Node's
   * loop is already running, so this does not block: it only adds the
   * deadline. `fn` is called on a later microtask, never synchronously.
   * @throws {TimeoutError} (rejects, code `VESPER_WEB_TIMEOUT`) if `fn` has not
   *   finished within `timeoutSeconds`; `fn` itself is not cancelled.
   * @throws whatever `fn` throws or rejects with.
   */
  async runSync<T>(fn: () => T | PromiseLike<T>, timeoutSeconds?: number): Promise<T> {
    const work = Promise.resolve().then(fn);
    if (timeoutSeconds === undefined) return work;
    let timer: NodeJS.Timeout | undefined;
    const deadline = new Promise<never>((_resolve, reject) => {
      timer = setTimeout(() => reject(new TimeoutError(timeoutSeconds)), timeoutSeconds * 1000);
    });
    try {
      return await Promise.race([work, deadline]);
    } finally {
      clearTimeout(timer);
    }
  }

  /**
   * Runs `callback(...args)` now, logging (not throwing) what it throws or
   * what its returned promise rejects with. Used by the scheduling methods and
   * by `PeriodicCallback`; returns the callback's promise, if any, settled
   * either way.
   */
  runCallback<A extends unknown[]>(
    callback: (...args: A) => unknown,
    args: A,
  ): Promise<void> | undefined {
    try {
      const result = callback(...args);
      if (isPromiseLike(result)) {
        return Promise.resolve(result).then(
          () => undefined,
          (err: unknown) => this.#report(err),
        );
      }
    } catch (err) {
      this.#report(err);
    }
    return undefined;
  }

  #report(err: unknown): void {
    this.log.error({ err }, 'A callback scheduled on the IOLoop failed.');
  }
}
