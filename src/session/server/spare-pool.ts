/**
 * @module Keeps `session.spares` session processes started and ready, so a login costs an IPC round trip.
 */
import type { Logger } from '../../shared/log/index.js';
import type { SessionProcessHandle } from './session-process-handle.js';

/** Options of {@link SparePool}. */
export interface SparePoolOptions {
  /** How many ready spares to keep. */
  readonly target: number;
  /** Starts one process. */
  readonly spawn: () => SessionProcessHandle;
  readonly log: Logger;
}

/**
 * A pool of prepared session processes. `acquire()` hands out a ready spare
 * (or starts one when none is ready) and refills the pool in the background.
 * Spares that fail to start are retried with a back-off (1 s doubling to 30 s)
 * so a broken application does not make the server spin.
 */
export class SparePool {
  readonly #o: SparePoolOptions;
  readonly #ready: SessionProcessHandle[] = [];
  readonly #starting = new Set<SessionProcessHandle>();
  #failures = 0;
  #retry: NodeJS.Timeout | null = null;
  #closed = false;

  constructor(options: SparePoolOptions) {
    this.#o = options;
  }

  /** Ready spares. */
  get ready(): number {
    return this.#ready.length;
  }

  /** Spares still starting. */
  get starting(): number {
    return this.#starting.size;
  }

  /** Pids of every spare, ready or starting. */
  pids(): number[] {
    return [...this.#ready, ...this.#starting].map((p) => p.pid);
  }

  /** Starts spares until `target` are ready or starting. */
  fill(): void {
    if (this.#closed || this.#retry !== null) return;
    while (this.#ready.length + this.#starting.size < this.#o.target) this.#startOne();
  }

  #startOne(): SessionProcessHandle | null {
    let p: SessionProcessHandle;
    try {
      p = this.#o.spawn();
    } catch (err) {
      this.#failed(err);
      return null;
    }
    this.#starting.add(p);
    p.ready.then(
      () => {
        this.#starting.delete(p);
        this.#failures = 0;
        if (this.#closed) {
          p.kill();
          return;
        }
        this.#ready.push(p);
        p.child.once('exit', () => {
          const i = this.#ready.indexOf(p);
          if (i === -1) return;
          this.#ready.splice(i, 1);
          this.#o.log.warn(
            { pid: p.pid },
            `Spare session process ${p.pid} exited; starting another.`,
          );
          this.fill();
        });
      },
      (err: unknown) => {
        this.#starting.delete(p);
        p.kill('SIGKILL');
        this.#failed(err);
      },
    );
    return p;
  }

  #failed(err: unknown): void {
    if (this.#closed) return;
    this.#failures += 1;
    const delay = Math.min(30_000, 1_000 * 2 ** Math.min(5, this.#failures - 1));
    this.#o.log.error({ err }, `A spare session process failed to start; retrying in ${delay} ms.`);
    if (this.#retry !== null) return;
    this.#retry = setTimeout(() => {
      this.#retry = null;
      this.fill();
    }, delay);
    this.#retry.unref();
  }

  /**
   * A ready spare, taken out of the pool; when none is ready, a freshly
   * started one once it is ready. The caller calls {@link SparePool.fill}
   * once the login is answered: starting a process blocks this one for a few
   * milliseconds, which the login should not wait for.
   * @throws VesperError when a fresh process fails to start.
   */
  async acquire(): Promise<SessionProcessHandle> {
    const spare = this.#ready.shift();
    if (spare !== undefined) return spare;
    const p = this.#o.spawn();
    await p.ready.catch((err: unknown) => {
      p.kill('SIGKILL');
      throw err;
    });
    return p;
  }

  /** Stops every spare and stops refilling. Idempotent. */
  close(): void {
    this.#closed = true;
    if (this.#retry !== null) clearTimeout(this.#retry);
    this.#retry = null;
    for (const p of [...this.#ready, ...this.#starting]) p.kill();
    this.#ready.length = 0;
  }
}
