/**
 * @module The program a forked worker runs: waits for its configuration, then calls the worker module's `runWorker`.
 *
 * It greets the master (`vesper-worker-hello`), waits for
 * `vesper-worker-start`, imports the worker module and calls `runWorker`
 * with a channel that keeps master messages which arrive before the worker
 * listens for them (a `drain` during start-up is not lost).
 *
 * Exit codes follow `WORKER_EXIT`: 0 when `runWorker` resolved (drained or
 * retired), 2 when the module cannot be loaded or `runWorker` rejected with
 * a `VesperError` (it can never work: do not respawn), 1 for any other
 * failure. SIGINT and SIGHUP are ignored here: a terminal sends them to the
 * whole process group, and the master decides what the workers do. SIGTERM
 * keeps its default (exit at once): it is the master's fast stop.
 */
import { pathToFileURL } from 'node:url';
import { isVesperError } from '../../shared/errors/index.js';
import {
  isMasterMessage,
  processChannel,
  WORKER_EXIT,
  type MasterMessage,
  type RunWorker,
  type WorkerChannel,
} from '../ipc.js';
import {
  isBootstrapMessage,
  isWorkerStartMessage,
  type WorkerStartMessage,
} from './start-message.js';

process.on('SIGINT', () => {});
process.on('SIGHUP', () => {});

const pending: MasterMessage[] = [];
const listeners: ((message: MasterMessage) => void)[] = [];
let resolveStart: (start: WorkerStartMessage) => void = () => {};
const started = new Promise<WorkerStartMessage>((resolve) => (resolveStart = resolve));
process.on('message', (value: unknown) => {
  if (isWorkerStartMessage(value)) resolveStart(value);
  else if (isMasterMessage(value)) {
    if (listeners.length === 0) pending.push(value);
    else for (const l of listeners) l(value);
  }
});
const toMaster = processChannel();
const channel: WorkerChannel = {
  send: (message) => toMaster.send(message),
  onMessage(listener) {
    listeners.push(listener);
    for (const m of pending.splice(0)) listener(m);
  },
};
process.send?.({ type: 'vesper-worker-hello' });
const start = await started;

/** Tells the master this worker is done and waits for its answer (at most 2 s), see `WorkerDoneMessage`. */
function farewell(): Promise<void> {
  if (process.send === undefined || !process.connected) return Promise.resolve();
  return new Promise((resolve) => {
    const timer = setTimeout(resolve, 2000);
    process.on('message', (value: unknown) => {
      if (!isBootstrapMessage(value, 'vesper-worker-exit')) return;
      clearTimeout(timer);
      resolve();
    });
    process.once('disconnect', () => {
      clearTimeout(timer);
      resolve();
    });
    process.send?.({ type: 'vesper-worker-done' });
  });
}

let runWorker: RunWorker;
try {
  const mod = (await import(pathToFileURL(start.workerModule).href)) as { runWorker?: unknown };
  if (typeof mod.runWorker !== 'function') throw new Error('it does not export runWorker');
  runWorker = mod.runWorker as RunWorker;
} catch (err) {
  // A module that cannot be loaded never will be: fatal, not a crash to retry.
  process.stderr.write(
    `vesper worker ${process.pid}: cannot load ${start.workerModule}: ${err instanceof Error ? err.message : String(err)}\n`,
  );
  process.exit(WORKER_EXIT.fatal);
}

try {
  await runWorker(start.config, { generation: start.generation, foreground: false, channel });
  await farewell();
  process.exit(WORKER_EXIT.done);
} catch (err) {
  process.stderr.write(
    `vesper worker ${process.pid}: ${err instanceof Error ? err.message : String(err)}\n`,
  );
  process.exit(isVesperError(err) ? WORKER_EXIT.fatal : WORKER_EXIT.crash);
}
