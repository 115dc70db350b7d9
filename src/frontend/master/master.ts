/**
 * @module The frontend master: signal intents, one loop that acts, the worker pool, and the service children.
 *
 * In nginx's manner: `request()` (called from the signal handlers of
 * `vesper start`) only records an intent and wakes the loop; `#tick()` is
 * the one place that acts on intents, worker exits, load reports and the
 * clock. The master never serves a request itself.
 */
import cluster, { type Worker } from 'node:cluster';
import { fileURLToPath, pathToFileURL } from 'node:url';
import type { VesperConfig } from '../../shared/config/index.js';
import { isVesperError } from '../../shared/errors/index.js';
import type { Logger } from '../../shared/log/index.js';
import {
  isWorkerMessage,
  WORKER_EXIT,
  type MasterMessage,
  type RunWorker,
  type WorkerChannel,
  type WorkerMessage,
} from '../ipc.js';
import {
  ChildService,
  waitForSocket,
  type ServiceExit,
  type ServiceSpec,
  type ServiceStatus,
} from './child-service.js';
import { clusterEnv } from './child-env.js';
import { decidePool, INITIAL_POOL_STATE, POLICY_PERIOD_MS, type PoolState } from './pool-policy.js';
import { ProcessTable, type WorkerRow, type WorkerState } from './process-table.js';
import { RespawnBudget } from './respawn-budget.js';
import {
  isBootstrapMessage,
  isWorkerHelloMessage,
  type WorkerStartMessage,
} from './start-message.js';

/** What a signal asks of the master: SIGHUP, SIGTERM, SIGINT, SIGUSR1. */
export type MasterIntent = 'reload' | 'stop' | 'quit' | 'reopen-logs';

/** The master's life: `starting` until the first workers listen, `stopping` once told to stop. */
export type MasterPhase = 'starting' | 'running' | 'stopping' | 'stopped';

/** What the master needs. */
export interface MasterOptions {
  /** The validated configuration, TLS pair filled in. */
  readonly config: VesperConfig;
  /** Re-reads and validates the configuration for a reload (throws `ConfigError` and the like). */
  readonly loadConfig: () => Promise<VesperConfig>;
  /** The module whose `runWorker` each worker runs (absolute path). */
  readonly workerModule: string;
  /** The worker bootstrap program; default `worker-main.js` next to this file. */
  readonly workerMain?: string;
  /** The service children to run and supervise (accountd, the session server). */
  readonly services: readonly ServiceSpec[];
  readonly log: Logger;
  /** Reopens the master's own log file (SIGUSR1). */
  readonly reopenLogs?: () => void;
  /** Where the workers' minimal environment is taken from; default `process.env`. */
  readonly env?: NodeJS.ProcessEnv;
  /** The clock (ms epoch); default `Date.now`. */
  readonly clock?: () => number;
  /** Run one worker in this process instead of forking (`--foreground`). */
  readonly foreground?: boolean;
}

/** One worker in `vesper status`. */
export interface WorkerStatus {
  readonly pid: number;
  readonly slot: number;
  readonly generation: number;
  readonly state: WorkerState;
  readonly inflight: number | null;
  readonly connections: number | null;
  readonly requests: number | null;
  readonly servedConnections: number | null;
  readonly startedAt: number;
  readonly restarts: number;
}

/** The master's answer to `{"op":"status"}` on its control socket. */
export interface MasterStatus {
  readonly ok: true;
  readonly pid: number;
  readonly startedAt: number;
  readonly phase: MasterPhase;
  readonly generation: number;
  readonly foreground: boolean;
  readonly workers: readonly WorkerStatus[];
  readonly services: readonly ServiceStatus[];
}

/** Grace after a drain deadline before a worker is killed with SIGKILL (ms). */
const KILL_GRACE_MS = 5000;
/** How long a new generation may take to listen before a reload is abandoned (ms). */
const RELOAD_TIMEOUT_MS = 30_000;
/** How long a service may take to exit after SIGTERM before SIGKILL (ms). */
const SERVICE_STOP_MS = 10_000;
/** How long a fast stop waits before SIGKILL (ms). */
const FAST_STOP_MS = 3000;
/** How long `start()` waits for a service's socket (ms). */
const SERVICE_READY_MS = 15_000;

interface ReloadInProgress {
  readonly generation: number;
  config: VesperConfig | null;
  readonly startedAt: number;
  count: number;
}

interface ForegroundWorker {
  readonly deliver: (message: MasterMessage) => void;
}

/** The frontend master. One per process: it uses the `cluster` primary. */
export class Master {
  readonly #options: MasterOptions;
  readonly #log: Logger;
  readonly #clock: () => number;
  readonly #env: NodeJS.ProcessEnv;
  readonly #table = new ProcessTable();
  readonly #workers = new Map<number, Worker>();
  readonly #killTimers = new Map<number, NodeJS.Timeout>();
  /** Workers whose bootstrap has said hello: only they can receive messages. */
  readonly #greeted = new Set<number>();
  readonly #budget = new RespawnBudget();
  readonly #services: ChildService[];
  readonly #serviceBudgets = new Map<ChildService, RespawnBudget>();
  readonly #fatalGenerations = new Set<number>();
  readonly #intents = { reload: false, stop: false, quit: false, reopen: false };
  readonly #startedAt: number;
  #config: VesperConfig;
  #generation = 1;
  #lastGeneration = 1;
  #phase: MasterPhase = 'starting';
  #poolState: PoolState = INITIAL_POOL_STATE;
  #reload: ReloadInProgress | null = null;
  #reloadAgain = false;
  #exitCode = 0;
  #fast = false;
  #servicesStopping = false;
  #interval: NodeJS.Timeout | null = null;
  #wakeTimer: NodeJS.Timeout | null = null;
  #wakeAt = Number.POSITIVE_INFINITY;
  #wakePending = false;
  #foreground: ForegroundWorker | null = null;
  #readyWaiters: (() => void)[] = [];
  readonly #finished: Promise<number>;
  #resolveFinished: (code: number) => void = () => {};

  constructor(options: MasterOptions) {
    this.#options = options;
    this.#log = options.log;
    this.#clock = options.clock ?? Date.now;
    this.#env = options.env ?? process.env;
    this.#config = options.config;
    this.#startedAt = this.#clock();
    this.#services = options.services.map((spec) => {
      const service = new ChildService(spec, (s, exit) => this.#onServiceExit(s, exit));
      this.#serviceBudgets.set(service, new RespawnBudget({ baseDelayMs: 500 }));
      return service;
    });
    this.#finished = new Promise((resolve) => (this.#resolveFinished = resolve));
  }

  /** Resolves to the exit code once the master has stopped (0 after a stop, 1 when no worker could run). */
  get finished(): Promise<number> {
    return this.#finished;
  }

  /** The current phase. */
  get phase(): MasterPhase {
    return this.#phase;
  }

  /**
   * Starts the services and the first workers and resolves once the first
   * workers listen and the services' sockets accept connections (or the
   * master stopped meanwhile: check {@link phase}). Throws when the worker
   * module cannot be loaded in the foreground.
   */
  async start(): Promise<void> {
    const now = this.#clock();
    this.#interval = setInterval(() => this.#tick(), POLICY_PERIOD_MS);
    for (const service of this.#services) this.#startService(service, now, false);
    const ready = new Promise<void>((resolve) => this.#readyWaiters.push(resolve));
    if (this.#options.foreground === true) {
      await this.#startForeground();
    } else {
      cluster.setupPrimary({
        exec:
          this.#options.workerMain ?? fileURLToPath(new URL('./worker-main.js', import.meta.url)),
        args: [],
        execArgv: [],
        serialization: 'advanced',
        silent: false,
      });
      const initial = Math.max(1, this.#config.frontend.min_servers);
      for (let i = 0; i < initial; i++) this.#fork(1, this.#config);
    }
    const services = Promise.all(
      this.#services.map(async (s) => {
        const ok = await waitForSocket(
          s.spec.readySocket,
          SERVICE_READY_MS,
          () => !s.failed && this.#phase !== 'stopping' && this.#phase !== 'stopped',
        );
        if (!ok && this.#phase === 'starting') {
          this.#log.warn(
            { service: s.spec.name, socket: s.spec.readySocket },
            `${s.spec.name} is not answering on ${s.spec.readySocket} yet; starting without it`,
          );
        }
      }),
    );
    await Promise.all([ready, services]);
    if (this.#phase === 'starting') {
      this.#phase = 'running';
      const workers = this.#table.rows().filter((r) => r.state === 'listening').length;
      this.#log.info(
        { generation: this.#generation, workers },
        `Vesper is running: ${workers} workers of generation ${this.#generation} listen`,
      );
    }
    this.#wake();
  }

  /** Records a signal's intent; the loop acts on it. Safe to call from a signal handler. */
  request(intent: MasterIntent): void {
    switch (intent) {
      case 'reload':
        this.#intents.reload = true;
        break;
      case 'stop':
        this.#intents.stop = true;
        break;
      case 'quit':
        this.#intents.quit = true;
        break;
      case 'reopen-logs':
        this.#intents.reopen = true;
        break;
    }
    this.#wake();
  }

  /** The scoreboard: the master, every live worker and every service. */
  status(): MasterStatus {
    return {
      ok: true,
      pid: process.pid,
      startedAt: this.#startedAt,
      phase: this.#phase,
      generation: this.#generation,
      foreground: this.#options.foreground === true,
      workers: this.#table.rows().map((r) => ({
        pid: r.pid,
        slot: r.slot,
        generation: r.generation,
        state: r.state,
        inflight: r.load?.inflight ?? null,
        connections: r.load?.connections ?? null,
        requests: r.load?.requests ?? null,
        servedConnections: r.load?.servedConnections ?? null,
        startedAt: r.startedAt,
        restarts: r.restarts,
      })),
      services: this.#services.map((s) => s.status()),
    };
  }

  // The loop ---------------------------------------------------------------

  #wake(): void {
    if (this.#wakePending) return;
    this.#wakePending = true;
    setImmediate(() => {
      this.#wakePending = false;
      this.#tick();
    });
  }

  #wakeLater(at: number): void {
    if (at >= this.#wakeAt) return;
    if (this.#wakeTimer !== null) clearTimeout(this.#wakeTimer);
    this.#wakeAt = at;
    this.#wakeTimer = setTimeout(
      () => {
        this.#wakeTimer = null;
        this.#wakeAt = Number.POSITIVE_INFINITY;
        this.#tick();
      },
      Math.max(0, at - this.#clock()),
    );
  }

  #tick(): void {
    if (this.#phase === 'stopped') return;
    const now = this.#clock();
    if (this.#intents.quit) {
      this.#intents.quit = false;
      this.#quit();
    }
    if (this.#intents.stop) {
      this.#intents.stop = false;
      if (this.#phase === 'starting' || this.#phase === 'running') this.#stop(0, 'SIGTERM');
    }
    if (this.#phase === 'stopping') {
      this.#checkStopped();
      return;
    }
    if (this.#intents.reopen) {
      this.#intents.reopen = false;
      this.#reopenLogs();
    }
    if (this.#intents.reload && this.#phase === 'running') {
      this.#intents.reload = false;
      this.#beginReload();
    }
    this.#advanceReload(now);
    // Also while starting: a first worker that crashes is replaced, one that is fatal ends the start.
    if (this.#reload === null) this.#applyPool(now);
    this.#drainRetired();
    this.#superviseServices(now);
  }

  // Workers ----------------------------------------------------------------

  #fork(generation: number, config: VesperConfig): void {
    const worker = cluster.fork(clusterEnv(this.#env));
    const pid = worker.process.pid ?? 0;
    this.#table.add({ id: worker.id, pid, generation, startedAt: this.#clock() });
    this.#workers.set(worker.id, worker);
    const start: WorkerStartMessage = {
      type: 'vesper-worker-start',
      config,
      generation,
      workerModule: this.#options.workerModule,
    };
    worker.on('message', (message: unknown) => {
      if (isWorkerHelloMessage(message)) {
        this.#greeted.add(worker.id);
        worker.send(start);
      } else if (isBootstrapMessage(message, 'vesper-worker-done')) {
        if (worker.isConnected()) worker.send({ type: 'vesper-worker-exit' });
      } else this.#onWorkerMessage(worker.id, message);
    });
    worker.on('exit', (code: number | null, signal: NodeJS.Signals | null) =>
      this.#onWorkerExit(worker.id, code, signal),
    );
    // A send to a worker that is exiting fails with EPIPE; its exit event follows.
    worker.on('error', () => {});
    this.#log.debug(
      { childPid: pid, generation },
      `Started worker ${pid} of generation ${generation}`,
    );
  }

  #onWorkerMessage(id: number, message: unknown): void {
    if (!isWorkerMessage(message)) return;
    this.#handleWorkerMessage(id, message);
  }

  #handleWorkerMessage(id: number, message: WorkerMessage): void {
    const row = this.#table.get(id);
    if (row === undefined) return;
    switch (message.type) {
      case 'load':
        this.#table.recordLoad(id, message, this.#clock());
        return;
      case 'listening':
        if (row.state === 'starting') row.state = 'listening';
        this.#log.debug(
          { childPid: row.pid, generation: row.generation },
          `Worker ${row.pid} of generation ${row.generation} listens`,
        );
        this.#checkReady();
        this.#wake();
        return;
      case 'retiring':
        if (row.exiting) return;
        // It goes on accepting until #drainRetired finds another worker listening.
        row.state = 'retiring';
        row.exiting = true;
        this.#log.info(
          { childPid: row.pid },
          `Worker ${row.pid} served its max_connections_per_child and is retiring`,
        );
        this.#wake();
        return;
    }
  }

  #checkReady(): void {
    if (this.#readyWaiters.length === 0) return;
    // Ready once no first worker is still starting and at least one listens
    // (one that exited fatally is not waited for; a crashed one's replacement is).
    const rows = this.#table.ofGeneration(1);
    const listening = rows.filter((r) => r.state === 'listening').length;
    const starting = rows.filter((r) => r.state === 'starting').length;
    if ((listening > 0 && starting === 0) || this.#phase === 'stopping') {
      for (const resolve of this.#readyWaiters.splice(0)) resolve();
    }
  }

  #onWorkerExit(id: number, code: number | null, signal: NodeJS.Signals | null): void {
    const row = this.#table.get(id);
    this.#workers.delete(id);
    this.#greeted.delete(id);
    const timer = this.#killTimers.get(id);
    if (timer !== undefined) clearTimeout(timer);
    this.#killTimers.delete(id);
    if (row === undefined) return;
    const how = signal !== null ? `was killed by ${signal}` : `exited with code ${code}`;
    const fields = { childPid: row.pid, generation: row.generation, code, signal };
    if (row.exiting) {
      this.#table.remove(id, false);
      if (code === 0) this.#log.info(fields, `Worker ${row.pid} ${how}`);
      else this.#log.warn(fields, `Worker ${row.pid} ${how} while finishing its work`);
    } else if (code === WORKER_EXIT.fatal) {
      this.#table.remove(id, false);
      this.#fatalGenerations.add(row.generation);
      this.#log.error(
        fields,
        `Worker ${row.pid} exited with fatal code 2 and will not be respawned; see its message above`,
      );
    } else {
      this.#table.remove(id, true);
      const now = this.#clock();
      const verdict = this.#budget.recordCrash(now);
      if (verdict.crashLoop) {
        this.#log.error(
          fields,
          `Worker ${row.pid} ${how}: ${verdict.recentCrashes} crashes in a row; ` +
            `no worker is started for ${Math.round((verdict.retryAt - now) / 1000)} s`,
        );
      } else {
        this.#log.warn(fields, `Worker ${row.pid} ${how}; it will be replaced`);
      }
      if (verdict.retryAt > now) this.#wakeLater(verdict.retryAt);
    }
    this.#checkReady();
    this.#wake();
  }

  #drain(row: WorkerRow, deadlineMs: number): void {
    if (row.state === 'draining') return;
    row.state = 'draining';
    row.exiting = true;
    row.respawn = false;
    const worker = this.#workers.get(row.id);
    if (worker !== undefined && !this.#greeted.has(row.id)) {
      // It has not started anything yet, and could not hear the message.
      worker.process.kill('SIGTERM');
    } else if (worker !== undefined && worker.isConnected()) {
      worker.send({ type: 'drain', deadlineMs } satisfies MasterMessage);
    }
    this.#armKill(row, deadlineMs);
  }

  #armKill(row: WorkerRow, deadlineMs: number): void {
    const old = this.#killTimers.get(row.id);
    if (old !== undefined) clearTimeout(old);
    const timer = setTimeout(() => {
      this.#killTimers.delete(row.id);
      const worker = this.#workers.get(row.id);
      if (worker === undefined) return;
      this.#log.warn(
        { childPid: row.pid },
        `Worker ${row.pid} did not finish within ${deadlineMs + KILL_GRACE_MS} ms; killing it`,
      );
      worker.process.kill('SIGKILL');
    }, deadlineMs + KILL_GRACE_MS);
    this.#killTimers.set(row.id, timer);
  }

  /**
   * Drains every retiring worker once another worker of the serving
   * generation listens, so the port always has a worker accepting.
   */
  #drainRetired(): void {
    const retiring = this.#table.rows().filter((r) => r.state === 'retiring');
    if (retiring.length === 0) return;
    const serving = this.#table
      .ofGeneration(this.#generation)
      .some((r) => r.state === 'listening' && !r.exiting);
    if (!serving) return;
    for (const row of retiring) this.#drain(row, this.#config.frontend.timeout.drain);
  }

  #applyPool(now: number): void {
    if (this.#foreground !== null) return;
    const generation = this.#generation;
    const rows = this.#table.ofGeneration(generation);
    if (this.#fatalGenerations.has(generation)) {
      if (!rows.some((r) => !r.exiting)) {
        this.#log.error(
          { generation },
          'No worker can run with this configuration (fatal exit code 2); stopping',
        );
        this.#stop(1, 'SIGTERM');
      }
      return;
    }
    const children = rows.map((r) => ({
      id: r.id,
      slot: r.slot,
      accepting: r.state === 'starting' || r.state === 'listening',
      inflight: r.load?.inflight ?? null,
      connections: r.load?.connections ?? null,
    }));
    const outcome = decidePool(children, this.#config.frontend, this.#poolState, now);
    const decision = outcome.decision;
    switch (decision.action) {
      case 'spawn':
        if (!this.#budget.mayStart(now)) {
          this.#wakeLater(this.#budget.retryAt);
          return;
        }
        this.#poolState = outcome.state;
        if (decision.reason === 'spare') {
          this.#log.info(
            { count: decision.count },
            `Short of spare workers: starting ${decision.count} more`,
          );
        }
        for (let i = 0; i < decision.count; i++) this.#fork(generation, this.#config);
        return;
      case 'retire': {
        this.#poolState = outcome.state;
        const row = this.#table.get(decision.id);
        if (row === undefined) return;
        this.#log.info({ childPid: row.pid }, `Retiring spare worker ${row.pid}`);
        this.#drain(row, this.#config.frontend.timeout.drain);
        return;
      }
      case 'none':
        this.#poolState = outcome.state;
        return;
    }
  }

  // Reload -----------------------------------------------------------------

  #beginReload(): void {
    if (this.#foreground !== null) {
      this.#log.warn('Reload is not supported with --foreground; restart instead');
      return;
    }
    if (this.#reload !== null) {
      this.#reloadAgain = true;
      return;
    }
    const generation = ++this.#lastGeneration;
    const reload: ReloadInProgress = {
      generation,
      config: null,
      startedAt: this.#clock(),
      count: 0,
    };
    this.#reload = reload;
    this.#log.info({ generation }, 'Reloading: reading the configuration again');
    this.#options.loadConfig().then(
      (config) => {
        if (this.#reload !== reload || this.#phase !== 'running') return;
        const current = this.#table.ofGeneration(this.#generation).filter((r) => !r.exiting).length;
        reload.count = Math.min(
          Math.max(config.frontend.min_servers, current, 1),
          config.frontend.max_servers,
        );
        reload.config = config;
        this.#log.info(
          { generation, count: reload.count },
          `Configuration valid: starting ${reload.count} workers of generation ${generation}`,
        );
        for (let i = 0; i < reload.count; i++) this.#fork(generation, config);
        this.#wake();
      },
      (err: unknown) => {
        if (this.#reload !== reload) return;
        this.#reload = null;
        this.#lastGeneration--;
        this.#log.error(
          { err: err instanceof Error ? err.message : String(err) },
          `Reload refused, generation ${this.#generation} keeps running: ${err instanceof Error ? err.message : String(err)}`,
        );
        this.#afterReload();
      },
    );
  }

  #advanceReload(now: number): void {
    const reload = this.#reload;
    if (reload?.config == null) return;
    const rows = this.#table.ofGeneration(reload.generation);
    const failed = this.#fatalGenerations.has(reload.generation);
    if (failed || now - reload.startedAt > RELOAD_TIMEOUT_MS) {
      this.#log.error(
        { generation: reload.generation },
        `Reload failed: the workers of generation ${reload.generation} ` +
          `${failed ? 'exited with a fatal error' : `did not listen within ${RELOAD_TIMEOUT_MS / 1000} s`}; ` +
          `generation ${this.#generation} keeps running`,
      );
      for (const row of rows) this.#drain(row, 0);
      this.#reload = null;
      this.#afterReload();
      return;
    }
    const live = rows.filter((r) => !r.exiting);
    if (live.length < reload.count && this.#budget.mayStart(now)) {
      for (let i = live.length; i < reload.count; i++) this.#fork(reload.generation, reload.config);
      return;
    }
    if (live.filter((r) => r.state === 'listening').length < reload.count) return;
    const previous = this.#generation;
    const old = this.#table.rows().filter((r) => r.generation !== reload.generation && !r.exiting);
    this.#generation = reload.generation;
    this.#config = reload.config;
    this.#poolState = INITIAL_POOL_STATE;
    this.#reload = null;
    for (const row of old) this.#drain(row, this.#config.frontend.timeout.drain);
    this.#log.info(
      { generation: reload.generation, draining: old.length },
      `Reloaded: generation ${reload.generation} serves; draining ${old.length} workers of generation ${previous}`,
    );
    this.#afterReload();
  }

  #afterReload(): void {
    if (!this.#reloadAgain) return;
    this.#reloadAgain = false;
    this.#intents.reload = true;
    this.#wake();
  }

  #reopenLogs(): void {
    this.#options.reopenLogs?.();
    this.#log.info('Reopened the log file (SIGUSR1)');
    for (const row of this.#table.rows()) {
      const worker = this.#workers.get(row.id);
      if (worker?.isConnected() === true && this.#greeted.has(row.id)) {
        worker.send({ type: 'reopen-logs' } satisfies MasterMessage);
      }
    }
    this.#foreground?.deliver({ type: 'reopen-logs' });
  }

  // Stop -------------------------------------------------------------------

  #stop(code: number, reason: string): void {
    this.#phase = 'stopping';
    this.#exitCode = code;
    const deadline = this.#config.frontend.timeout.drain;
    this.#log.info(
      { reason },
      `Stopping (${reason}): draining workers within ${deadline} ms, then the session server and accountd`,
    );
    this.#reload = null;
    for (const row of this.#table.rows()) this.#drain(row, deadline);
    this.#foreground?.deliver({ type: 'drain', deadlineMs: deadline });
    this.#checkReady();
    this.#checkStopped();
  }

  #quit(): void {
    if (this.#fast) return;
    this.#fast = true;
    if (this.#phase !== 'stopping') {
      this.#phase = 'stopping';
      this.#log.info('Stopping fast (SIGINT)');
    } else {
      this.#log.info('Stopping fast (SIGINT) instead of draining');
    }
    this.#reload = null;
    for (const row of this.#table.rows()) {
      row.exiting = true;
      row.state = 'draining';
      this.#workers.get(row.id)?.process.kill('SIGTERM');
      this.#armKill(row, FAST_STOP_MS - KILL_GRACE_MS);
    }
    this.#foreground?.deliver({ type: 'drain', deadlineMs: 0 });
    this.#checkReady();
    this.#checkStopped();
  }

  #checkStopped(): void {
    if (this.#phase !== 'stopping' || this.#table.size > 0) return;
    if (this.#servicesStopping) {
      // A fast stop during the services' graceful stop hurries them.
      if (this.#fast) for (const s of this.#services) void s.stop('SIGINT', FAST_STOP_MS);
      return;
    }
    this.#servicesStopping = true;
    void this.#stopServices().then(() => this.#finish());
  }

  async #stopServices(): Promise<void> {
    if (this.#fast) {
      await Promise.all(this.#services.map((s) => s.stop('SIGINT', FAST_STOP_MS)));
      return;
    }
    // The session server first (no new logins), accountd last (sessions may still use it).
    const order = [...this.#services].sort(
      (a, b) => Number(a.spec.name === 'accountd') - Number(b.spec.name === 'accountd'),
    );
    for (const s of order) await s.stop('SIGTERM', SERVICE_STOP_MS);
  }

  #finish(): void {
    if (this.#phase === 'stopped') return;
    this.#phase = 'stopped';
    if (this.#interval !== null) clearInterval(this.#interval);
    if (this.#wakeTimer !== null) clearTimeout(this.#wakeTimer);
    for (const timer of this.#killTimers.values()) clearTimeout(timer);
    this.#log.info({ code: this.#exitCode }, 'Vesper stopped');
    this.#resolveFinished(this.#exitCode);
  }

  // Services ---------------------------------------------------------------

  #startService(service: ChildService, now: number, restart: boolean): void {
    service.start(now, restart);
    this.#log.info(
      { service: service.spec.name, childPid: service.pid },
      `Started ${service.spec.name} (pid ${service.pid})`,
    );
  }

  #superviseServices(now: number): void {
    if (this.#phase !== 'running' && this.#phase !== 'starting') return;
    for (const service of this.#services) {
      if (service.running || service.failed) continue;
      const budget = this.#serviceBudgets.get(service)!;
      if (budget.mayStart(now)) this.#startService(service, now, true);
      else this.#wakeLater(budget.retryAt);
    }
  }

  #onServiceExit(service: ChildService, exit: ServiceExit): void {
    const name = service.spec.name;
    const how =
      exit.signal !== null ? `was killed by ${exit.signal}` : `exited with code ${exit.code}`;
    const fields = { service: name, childPid: exit.pid, code: exit.code, signal: exit.signal };
    if (this.#phase === 'stopping' || this.#phase === 'stopped' || service.stopping) {
      this.#log.info(fields, `${name} ${exit.pid} ${how}`);
      return;
    }
    if (exit.code === 2) {
      service.markFailed();
      this.#log.error(
        fields,
        `${name} ${exit.pid} exited with fatal code 2 and will not be respawned; see its message above`,
      );
    } else {
      const now = this.#clock();
      const verdict = this.#serviceBudgets.get(service)!.recordCrash(now);
      this.#log.warn(fields, `${name} ${exit.pid} ${how}; restarting it`);
      if (verdict.retryAt > now) this.#wakeLater(verdict.retryAt);
    }
    this.#wake();
  }

  // Foreground -------------------------------------------------------------

  async #startForeground(): Promise<void> {
    const mod = (await import(pathToFileURL(this.#options.workerModule).href)) as {
      runWorker?: unknown;
    };
    if (typeof mod.runWorker !== 'function') {
      throw new Error(`${this.#options.workerModule} does not export runWorker`);
    }
    const runWorker = mod.runWorker as RunWorker;
    const listeners: ((message: MasterMessage) => void)[] = [];
    const id = 0;
    this.#table.add({ id, pid: process.pid, generation: 1, startedAt: this.#clock() });
    const channel: WorkerChannel = {
      send: (message) => {
        if (isWorkerMessage(message)) this.#handleWorkerMessage(id, message);
      },
      onMessage: (listener) => listeners.push(listener),
    };
    this.#foreground = { deliver: (m) => listeners.forEach((l) => l(m)) };
    runWorker(this.#config, { generation: 1, foreground: true, channel }).then(
      () => {
        this.#table.remove(id, false);
        if (this.#phase === 'starting' || this.#phase === 'running')
          this.#stop(0, 'worker finished');
        this.#checkReady();
        this.#wake();
      },
      (err: unknown) => {
        this.#table.remove(id, false);
        this.#log.error(
          { err: err instanceof Error ? err.message : String(err) },
          `The worker failed: ${err instanceof Error ? err.message : String(err)}`,
        );
        if (this.#phase !== 'stopping') this.#stop(isVesperError(err) ? 2 : 1, 'worker failed');
        this.#checkReady();
        this.#wake();
      },
    );
  }
}
