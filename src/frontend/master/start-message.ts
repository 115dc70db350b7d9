/**
 * @module The first message the master sends a forked worker: its configuration and generation.
 *
 * The worker bootstrap (`worker-main.ts`) waits for it before importing the
 * worker module, so a worker runs exactly the configuration the master
 * validated (a reload never races a file being edited).
 */
import type { VesperConfig } from '../../shared/config/index.js';

/** Master → bootstrap, once, first. Not a {@link MasterMessage}: the worker module never sees it. */
export interface WorkerStartMessage {
  readonly type: 'vesper-worker-start';
  readonly config: VesperConfig;
  readonly generation: number;
  /** The module whose `runWorker` export the bootstrap calls (absolute path). */
  readonly workerModule: string;
}

/** True when `value` is a {@link WorkerStartMessage}. */
export function isWorkerStartMessage(value: unknown): value is WorkerStartMessage {
  if (typeof value !== 'object' || value === null) return false;
  const m = value as Record<string, unknown>;
  return (
    m['type'] === 'vesper-worker-start' &&
    typeof m['config'] === 'object' &&
    m['config'] !== null &&
    typeof m['generation'] === 'number' &&
    typeof m['workerModule'] === 'string'
  );
}

/**
 * Bootstrap → master, once, as soon as the bootstrap listens for messages.
 * An ES module worker registers its listeners only after it has loaded, and
 * messages that arrive before that are lost, so the master sends
 * {@link WorkerStartMessage} only in answer to this.
 */
export interface WorkerHelloMessage {
  readonly type: 'vesper-worker-hello';
}

/** True when `value` is a {@link WorkerHelloMessage}. */
export function isWorkerHelloMessage(value: unknown): value is WorkerHelloMessage {
  return (
    typeof value === 'object' &&
    value !== null &&
    (value as Record<string, unknown>)['type'] === 'vesper-worker-hello'
  );
}

/**
 * Bootstrap → master once `runWorker` has resolved; the bootstrap exits only
 * after the master's {@link WorkerExitMessage}. The channel keeps order, so
 * when the answer arrives the master has long seen the worker close its
 * listeners, and every connection it was handing over meanwhile has reached
 * the worker and been handed back: none is lost with the process.
 */
export interface WorkerDoneMessage {
  readonly type: 'vesper-worker-done';
}

/** Master → bootstrap: the answer to {@link WorkerDoneMessage}: exit now. */
export interface WorkerExitMessage {
  readonly type: 'vesper-worker-exit';
}

/** True when `value` is a message of the given bootstrap `type`. */
export function isBootstrapMessage(
  value: unknown,
  type: 'vesper-worker-done' | 'vesper-worker-exit',
): boolean {
  return (
    typeof value === 'object' &&
    value !== null &&
    (value as Record<string, unknown>)['type'] === type
  );
}
