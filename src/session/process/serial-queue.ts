/**
 * @module The session's serial queue: one application task at a time, in arrival order.
 */

/** A place in the queue. `release()` hands the queue on; it is idempotent. */
export interface QueueSlot {
  /** True once the task has started. */
  readonly started: boolean;
  /** True once the slot was released. */
  readonly released: boolean;
  /** Hands the queue on (or leaves it, when the task has not started yet). */
  release(): void;
}

class Slot implements QueueSlot {
  started = false;
  released = false;
  readonly #queue: SerialQueue;
  readonly run: (slot: QueueSlot) => void;

  constructor(queue: SerialQueue, run: (slot: QueueSlot) => void) {
    this.#queue = queue;
    this.run = run;
  }

  release(): void {
    if (this.released) return;
    this.released = true;
    this.#queue._released(this);
  }
}

/**
 * Runs tasks one at a time. A task starts when every earlier task has released
 * its slot; the task itself decides when that is (after its response is sent,
 * or earlier for a streaming download). A task that throws releases its slot.
 */
export class SerialQueue {
  #running: Slot | null = null;
  readonly #waiting: Slot[] = [];
  #idleWaiters: (() => void)[] = [];

  /** True while a task holds the queue. */
  get busy(): boolean {
    return this.#running !== null;
  }

  /** Tasks waiting for their turn. */
  get waiting(): number {
    return this.#waiting.length;
  }

  /**
   * Queues `run`; it is called with its slot when its turn comes and must
   * eventually call `slot.release()`.
   */
  enqueue(run: (slot: QueueSlot) => void): QueueSlot {
    const slot = new Slot(this, run);
    this.#waiting.push(slot);
    if (this.#running === null) this.#startNext();
    return slot;
  }

  /** Resolves once no task runs and none waits. */
  idle(): Promise<void> {
    if (this.#running === null && this.#waiting.length === 0) return Promise.resolve();
    return new Promise((resolve) => this.#idleWaiters.push(resolve));
  }

  /** @internal Called by a slot on release. */
  _released(slot: Slot): void {
    if (this.#running === slot) {
      this.#running = null;
      this.#startNext();
      return;
    }
    const i = this.#waiting.indexOf(slot);
    if (i !== -1) this.#waiting.splice(i, 1);
    if (this.#running === null && this.#waiting.length === 0) this.#wakeIdle();
  }

  #startNext(): void {
    const next = this.#waiting.shift();
    if (next === undefined) {
      this.#wakeIdle();
      return;
    }
    this.#running = next;
    next.started = true;
    try {
      next.run(next);
    } catch {
      next.release();
    }
  }

  #wakeIdle(): void {
    const waiters = this.#idleWaiters;
    this.#idleWaiters = [];
    for (const w of waiters) w();
  }
}
