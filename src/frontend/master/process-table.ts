/**
 * @module The master's process table: one row per live worker, in nginx's manner.
 */
import type { LoadMessage } from '../ipc.js';

/**
 * Where a worker is in its life: `starting` until it reports `listening`,
 * `listening` while it serves, `retiring` after it reached
 * `max_connections_per_child`, `draining` after the master told it to
 * drain (reload, retirement of a spare, stop).
 */
export type WorkerState = 'starting' | 'listening' | 'retiring' | 'draining';

/** One row of the table. */
export interface WorkerRow {
  /** The cluster worker id (unique for the master's life). */
  readonly id: number;
  readonly pid: number;
  /** A small number reused after a worker exits: the lowest free one. */
  readonly slot: number;
  /** The configuration generation the worker runs. */
  readonly generation: number;
  state: WorkerState;
  /** False once it must not be replaced when it exits (a fatal exit, a stop). */
  respawn: boolean;
  /** True once the master expects it to exit (drained, retired, stopping). */
  exiting: boolean;
  /** Crash replacements that have filled this slot before this worker. */
  readonly restarts: number;
  /** When it was forked (ms epoch). */
  readonly startedAt: number;
  /** Its last load report, or null before the first. */
  load: LoadMessage | null;
  /** When the last load report arrived (ms epoch), or null. */
  loadAt: number | null;
}

/** What {@link ProcessTable.add} needs. */
export interface NewWorker {
  readonly id: number;
  readonly pid: number;
  readonly generation: number;
  readonly startedAt: number;
}

/** The live workers, by cluster id, with slot numbers and per-slot crash counts. */
export class ProcessTable {
  readonly #rows = new Map<number, WorkerRow>();
  readonly #slotRestarts = new Map<number, number>();

  /** Adds a forked worker in the lowest free slot and returns its row. */
  add(worker: NewWorker): WorkerRow {
    if (this.#rows.has(worker.id)) {
      throw new Error(`worker ${worker.id} is already in the process table`);
    }
    const used = new Set([...this.#rows.values()].map((r) => r.slot));
    let slot = 0;
    while (used.has(slot)) slot++;
    const row: WorkerRow = {
      ...worker,
      slot,
      state: 'starting',
      respawn: true,
      exiting: false,
      restarts: this.#slotRestarts.get(slot) ?? 0,
      load: null,
      loadAt: null,
    };
    this.#rows.set(worker.id, row);
    return row;
  }

  /** The row of worker `id`, or undefined. */
  get(id: number): WorkerRow | undefined {
    return this.#rows.get(id);
  }

  /**
   * Removes worker `id` after its exit and returns its row (undefined when
   * unknown). `crashed` counts a crash against the slot, so its next
   * occupant shows one more restart.
   */
  remove(id: number, crashed: boolean): WorkerRow | undefined {
    const row = this.#rows.get(id);
    if (row === undefined) return undefined;
    this.#rows.delete(id);
    if (crashed) this.#slotRestarts.set(row.slot, row.restarts + 1);
    return row;
  }

  /** Records a load report of worker `id` received at `now`; unknown ids are ignored. */
  recordLoad(id: number, load: LoadMessage, now: number): void {
    const row = this.#rows.get(id);
    if (row === undefined) return;
    row.load = load;
    row.loadAt = now;
  }

  /** Every live row, in slot order. */
  rows(): WorkerRow[] {
    return [...this.#rows.values()].sort((a, b) => a.slot - b.slot);
  }

  /** The live rows of `generation`. */
  ofGeneration(generation: number): WorkerRow[] {
    return this.rows().filter((r) => r.generation === generation);
  }

  /** The number of live workers. */
  get size(): number {
    return this.#rows.size;
  }
}
