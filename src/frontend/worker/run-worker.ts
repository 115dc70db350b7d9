/**
 * @module `runWorker`: a frontend worker's life: start the listeners, report load to the master, drain on request or retirement.
 */
import { pino } from 'pino';
import type { VesperConfig } from '../../shared/config/index.js';
import { createLogger, type Logger } from '../../shared/log/index.js';
import { workerChannel, type RunWorker, type WorkerOptions } from '../ipc.js';
import { builtinTemplatesDir, staticDir } from './assets.js';
import { FrontendHandler } from './frontend-handler.js';
import { FrontendWorker } from './frontend-worker.js';
import { loadFrontendSecret } from './login/frontend-secret.js';
import { PageRenderer } from './pages/page-renderer.js';
import { tlsOptions } from './tls-credentials.js';

/** Extra knobs for tests and embedding. */
export interface StartWorkerOptions extends WorkerOptions {
  /** A logger to use instead of one made from `config.log`. */
  readonly log?: Logger;
  /** The folder served under `/static/` (default: the repository's `static/`). */
  readonly staticDir?: string;
}

/** A started worker, for tests and `runWorker`. */
export interface StartedWorker {
  readonly worker: FrontendWorker;
  /** Resolves when the worker has drained (after `drain` or {@link StartedWorker.close}). */
  readonly done: Promise<void>;
  /** Drains now (as the master's `drain` message). */
  close(deadlineMs?: number): Promise<void>;
}

function makeLogger(config: VesperConfig): { log: Logger; reopen: () => void } {
  if (config.log.file === null) {
    return {
      log: createLogger({ name: 'frontend-worker', level: config.log.level }),
      reopen: () => undefined,
    };
  }
  const destination = pino.destination({ dest: config.log.file, mkdir: true, sync: false });
  return {
    log: createLogger({ name: 'frontend-worker', level: config.log.level, stream: destination }),
    reopen: () => destination.reopen(),
  };
}

/**
 * Starts a worker: compiles the templates, reads (or makes) the shared secret
 * and the TLS pair, binds every listener, then sends `listening`, a `load`
 * report every second and `retiring` at `frontend.max_connections_per_child`
 * (it goes on serving until the master answers with `drain`; without a master,
 * under `--foreground`, the cap does not apply).
 * @throws VesperError `VESPER_FRONTEND_LISTEN`, `VESPER_FRONTEND_TLS`,
 *   `VESPER_FRONTEND_SECRET`, `VESPER_FRONTEND_UNSAFE_DIRECTORY` or a
 *   template error: the worker can never serve.
 */
export async function startWorker(
  config: VesperConfig,
  options: StartWorkerOptions,
): Promise<StartedWorker> {
  const logging =
    options.log === undefined ? makeLogger(config) : { log: options.log, reopen: () => undefined };
  const log = logging.log.child({ generation: options.generation });
  const channel = workerChannel(options);
  const pages = new PageRenderer(config.frontend.templates ?? builtinTemplatesDir());
  pages.preload();
  const secret = loadFrontendSecret(config);
  const tls = config.frontend.listen.some((l) => l.tls) ? tlsOptions(config) : null;
  let bound: FrontendWorker | null = null;
  const handler = new FrontendHandler({
    config,
    pages,
    log,
    secret,
    staticDir: options.staticDir ?? staticDir(),
    tlsPort: () => bound?.addresses().find((a) => a.tls)?.port ?? null,
  });
  const worker = new FrontendWorker(config, handler, log, tls);
  bound = worker;
  await worker.listen();

  let resolveDone!: () => void;
  const done = new Promise<void>((resolve) => (resolveDone = resolve));
  const report = setInterval(() => channel.send({ type: 'load', ...worker.load() }), 1000);
  report.unref();
  const close = (deadlineMs = config.frontend.timeout.drain): Promise<void> => {
    clearInterval(report);
    return worker.close(deadlineMs).then(resolveDone);
  };
  const cap = config.frontend.max_connections_per_child;
  if (cap > 0 && !options.foreground) {
    // Jitter, so that workers started together do not all retire together.
    const limit = cap + Math.floor(Math.random() * Math.max(1, Math.floor(cap / 10)));
    worker.onAccept(() => {
      if (worker.servedConnections !== limit) return;
      // It keeps accepting until the master's `drain` (sent once another worker listens):
      // a port whose workers all stopped accepting on their own would refuse connections.
      log.info(
        { servedConnections: limit },
        `Worker ${process.pid} served ${limit} connections and asks to retire.`,
      );
      channel.send({ type: 'retiring' });
    });
  }
  channel.onMessage((message) => {
    switch (message.type) {
      case 'drain':
        log.info({ deadlineMs: message.deadlineMs }, `Worker ${process.pid} is draining.`);
        void close(message.deadlineMs);
        return;
      case 'reopen-logs':
        logging.reopen();
        return;
    }
  });
  channel.send({ type: 'listening' });
  log.info({ listen: worker.addresses() }, `Worker ${process.pid} is listening.`);
  return { worker, done, close };
}

/**
 * The worker entry the master's bootstrap calls (see `src/frontend/ipc.ts`):
 * resolves once a drain has finished.
 */
export const runWorker: RunWorker = async (
  config: VesperConfig,
  options: WorkerOptions,
): Promise<void> => {
  const started = await startWorker(config, options);
  await started.done;
};
