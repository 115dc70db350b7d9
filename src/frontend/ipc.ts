/**
 * @module The messages between the frontend master and its workers over cluster IPC, and the worker entry's signature.
 *
 * The master forks each worker with `cluster`; the worker process runs the
 * master's bootstrap, which imports the worker module and calls its
 * {@link RunWorker} `runWorker(config, options)` export. From then on the two
 * talk only through the messages below (JSON over the cluster channel).
 *
 * Worker → master:
 * - `{type:'listening'}` once every listener of the worker accepts connections.
 * - `{type:'load', inflight, connections, requests, servedConnections}` about
 *   once a second (and may be sent sooner after a big change).
 * - `{type:'retiring'}` when the worker has served
 *   `frontend.max_connections_per_child` connections (with jitter). It KEEPS
 *   ACCEPTING until the master answers with `drain`, which the master sends
 *   once another worker listens (it starts a replacement first when needed).
 *   A worker that stopped accepting on its own would leave the port with
 *   nobody accepting when every worker retires at once: the cluster primary
 *   closes a listening socket that no worker holds, and clients see
 *   connections refused until a replacement listens.
 *
 * Master → worker:
 * - `{type:'drain', deadlineMs}`: stop accepting, finish in-flight requests,
 *   close WebSockets with 1001 (Going Away), then let `runWorker` resolve
 *   (the bootstrap exits 0). Whatever is still open `deadlineMs` after the
 *   message arrived is closed forcibly.
 * - `{type:'reopen-logs'}`: reopen the log file (after log rotation).
 *
 * Exit codes of a worker process ({@link WORKER_EXIT}): 0 after a drain or a
 * retirement (replaced if the pool needs it), 2 when it can never work
 * (`runWorker` rejected with a `VesperError`, e.g. a listener that cannot be
 * bound or an unreadable certificate: the master does not respawn it), any
 * other code is a crash (respawned with back-off).
 */
import type { VesperConfig } from '../shared/config/index.js';

/** A worker's report of its current load, sent about once a second. */
export interface LoadMessage {
  readonly type: 'load';
  /** Requests being handled right now (WebSockets count as one each while open). */
  readonly inflight: number;
  /** Client connections open right now. */
  readonly connections: number;
  /** Requests answered since the worker started. */
  readonly requests: number;
  /** Client connections accepted since the worker started. */
  readonly servedConnections: number;
}

/** The worker reached `frontend.max_connections_per_child`: it goes on serving until the master sends `drain`. */
export interface RetiringMessage {
  readonly type: 'retiring';
}

/** Every listener of the worker accepts connections. */
export interface ListeningMessage {
  readonly type: 'listening';
}

/** What a worker sends to the master. */
export type WorkerMessage = LoadMessage | RetiringMessage | ListeningMessage;

/** Stop accepting, finish in-flight work, close WebSockets with 1001, then finish; force-close after `deadlineMs`. */
export interface DrainMessage {
  readonly type: 'drain';
  /** Milliseconds, from the message's arrival, before remaining connections are closed forcibly. */
  readonly deadlineMs: number;
}

/** Reopen the log file. */
export interface ReopenLogsMessage {
  readonly type: 'reopen-logs';
}

/** What the master sends to a worker. */
export type MasterMessage = DrainMessage | ReopenLogsMessage;

/** Exit codes of a worker process: `done` after drain or retirement, `crash` otherwise, `fatal` = never respawn. */
export const WORKER_EXIT = Object.freeze({ done: 0, crash: 1, fatal: 2 } as const);

/** How a worker talks to its master; in the foreground (no master) sends go nowhere. */
export interface WorkerChannel {
  /** Sends a message to the master; a no-op when there is none or the channel is closed. */
  send(message: WorkerMessage): void;
  /** Calls `listener` with every valid master message; invalid ones are ignored. */
  onMessage(listener: (message: MasterMessage) => void): void;
}

/** The second argument of {@link RunWorker}. */
export interface WorkerOptions {
  /** The configuration generation this worker belongs to (1 at start, +1 per successful reload). */
  readonly generation: number;
  /** True under `vesper start --foreground`: one worker, no master, no cluster. */
  readonly foreground: boolean;
  /**
   * The channel to the master; omitted means the process's IPC channel
   * (see {@link workerChannel}). `vesper start --foreground` passes one on
   * which it delivers `drain` on SIGTERM/SIGINT and `reopen-logs` on SIGUSR1.
   */
  readonly channel?: WorkerChannel;
}

/**
 * The worker entry, exported as `runWorker` by `src/frontend/worker/index.ts`
 * (or by any module given to the master as its worker module). It starts the
 * listeners, sends `listening`, serves, and resolves once a drain or a
 * retirement has finished (every connection closed). It rejects only when the
 * worker can never serve (the bootstrap then exits 2 for a `VesperError`, 1
 * for anything else).
 */
export type RunWorker = (config: VesperConfig, options: WorkerOptions) => Promise<void>;

/** True when `value` is a well-formed {@link WorkerMessage}. */
export function isWorkerMessage(value: unknown): value is WorkerMessage {
  if (typeof value !== 'object' || value === null) return false;
  const m = value as Record<string, unknown>;
  switch (m['type']) {
    case 'listening':
    case 'retiring':
      return true;
    case 'load':
      return (
        isCount(m['inflight']) &&
        isCount(m['connections']) &&
        isCount(m['requests']) &&
        isCount(m['servedConnections'])
      );
    default:
      return false;
  }
}

/** True when `value` is a well-formed {@link MasterMessage}. */
export function isMasterMessage(value: unknown): value is MasterMessage {
  if (typeof value !== 'object' || value === null) return false;
  const m = value as Record<string, unknown>;
  switch (m['type']) {
    case 'reopen-logs':
      return true;
    case 'drain':
      return isCount(m['deadlineMs']);
    default:
      return false;
  }
}

/**
 * The channel a worker should use: `options.channel` when given, else the
 * process's IPC channel (sends are dropped when the process has none or it
 * is disconnected).
 */
export function workerChannel(options: WorkerOptions): WorkerChannel {
  return options.channel ?? processChannel();
}

/** The process's own IPC channel as a {@link WorkerChannel}. */
export function processChannel(): WorkerChannel {
  return {
    send(message: WorkerMessage): void {
      if (process.send === undefined || !process.connected) return;
      process.send(message, undefined, {}, () => {
        // A send that fails because the master went away is not an error for the worker.
      });
    },
    onMessage(listener: (message: MasterMessage) => void): void {
      process.on('message', (value: unknown) => {
        if (isMasterMessage(value)) listener(value);
      });
    },
  };
}

function isCount(value: unknown): value is number {
  return typeof value === 'number' && Number.isSafeInteger(value) && value >= 0;
}
