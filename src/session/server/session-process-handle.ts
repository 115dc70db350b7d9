/**
 * @module The session server's handle on one session process it started: spawn, prepare, assign.
 */
import { fork, type ChildProcess } from 'node:child_process';
import type { VesperConfig } from '../../shared/config/index.js';
import { VesperError } from '../../shared/errors/index.js';
import {
  isProcessMessage,
  type AssignMessage,
  type ProcessMessage,
} from '../process/ipc-messages.js';

/** How to start session processes. */
export interface SpawnOptions {
  /** The compiled `session/process/main.js`. */
  readonly entry: string;
  /** Sent to the process as its configuration. */
  readonly config: VesperConfig;
  /** Node flags for the process (default {@link SESSION_EXEC_ARGV}). */
  readonly execArgv?: readonly string[];
  /** The environment (default {@link minimalEnv}). */
  readonly env?: Readonly<Record<string, string>>;
  /** How long a process may take to become ready or live, ms (default 10,000). */
  readonly startTimeoutMs?: number;
}

/**
 * Node flags of session processes, each chosen for memory, since a session
 * process serves one user and spends most of its life idle:
 * - `--max-semi-space-size=1`: a young generation of 1 MiB semi-spaces instead
 *   of 16 MiB; a session allocates little per request (about 3.5 MiB saved);
 * - `--single-threaded`: no V8 worker threads, so garbage collection and
 *   compilation run on the one thread and their scratch memory is reused;
 * - `--optimize-for-size`: V8 favours memory over speed where it can choose;
 * - `--no-sparkplug`: no baseline-compiled code next to the bytecode (about
 *   0.8 MiB); hot functions are still optimised;
 * - `--expose-gc`: the process runs a full garbage collection once a spare is
 *   ready and once a session has been quiet for 30 s (never during a
 *   request), see `collect-garbage.ts`.
 * Measured together with {@link SESSION_MALLOC_ENV} by `npm run bench -- session`.
 */
export const SESSION_EXEC_ARGV: readonly string[] = [
  '--max-semi-space-size=1',
  '--single-threaded',
  '--optimize-for-size',
  '--no-sparkplug',
  '--expose-gc',
];

/**
 * glibc allocator settings of session processes: one malloc arena instead of
 * one per thread, and free memory returned to the system once 64 KiB sits at
 * the top of the heap. Not secrets; documented in docs/sessions.md.
 */
export const SESSION_MALLOC_ENV: Readonly<Record<string, string>> = {
  MALLOC_ARENA_MAX: '1',
  MALLOC_TRIM_THRESHOLD_: '65536',
};

/**
 * The only environment a session process gets: `PATH`, `NODE_ENV`, `TZ` and
 * `LANG` from the session server's and {@link SESSION_MALLOC_ENV}, nothing else
 * (no `NODE_EXTRA_CA_CERTS`, no `NODE_OPTIONS`, no secrets).
 */
export function minimalEnv(from: NodeJS.ProcessEnv = process.env): Record<string, string> {
  const env: Record<string, string> = { PATH: from.PATH ?? '/usr/local/bin:/usr/bin:/bin' };
  for (const name of ['NODE_ENV', 'TZ', 'LANG'] as const) {
    const v = from[name];
    if (v !== undefined) env[name] = v;
  }
  return { ...env, ...SESSION_MALLOC_ENV };
}

/**
 * A session process started by this server: first a spare (prepared, its
 * application module loaded), then assigned to one session. It runs in its own
 * process group (`detached`) and does not keep the server alive (`unref`), so it
 * survives the server; after `live` it closes the IPC channel.
 */
export class SessionProcessHandle {
  readonly child: ChildProcess;
  readonly pid: number;
  /** Resolves when the process is ready for an assignment. */
  readonly ready: Promise<void>;
  #exited = false;
  readonly #timeoutMs: number;
  #listener: ((m: ProcessMessage) => void) | null = null;
  #exitWaiters: ((err: Error) => void)[] = [];

  /**
   * Spawns the process and sends it the configuration.
   * @throws VesperError `VESPER_SESSION_SPAWN_FAILED` when no process could be started.
   */
  constructor(options: SpawnOptions) {
    this.#timeoutMs = options.startTimeoutMs ?? 10_000;
    this.child = fork(options.entry, [], {
      env: { ...(options.env ?? minimalEnv()) },
      execArgv: [...(options.execArgv ?? SESSION_EXEC_ARGV)],
      detached: true,
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
      serialization: 'json',
    });
    if (this.child.pid === undefined) {
      throw new VesperError('VESPER_SESSION_SPAWN_FAILED', 'Could not start a session process.');
    }
    this.pid = this.child.pid;
    this.child.unref();
    this.child.on('message', (m: unknown) => {
      if (isProcessMessage(m)) this.#listener?.(m);
    });
    this.child.on('error', () => undefined);
    this.child.once('exit', (code, signal) => {
      this.#exited = true;
      const err = new VesperError(
        'VESPER_SESSION_PROCESS_EXITED',
        `The session process ${this.pid} exited (${signal ?? `code ${code}`}) before it was live.`,
      );
      for (const w of this.#exitWaiters) w(err);
      this.#exitWaiters = [];
    });
    this.ready = this.#expect('ready').then(() => undefined);
    this.ready.catch(() => undefined);
    this.child.send({ type: 'prepare', config: options.config });
  }

  /** True once the process has exited. */
  get exited(): boolean {
    return this.#exited;
  }

  /** Waits for `type`; a `failed` message, an exit or the timeout reject. */
  #expect<T extends ProcessMessage['type']>(
    type: T,
  ): Promise<Extract<ProcessMessage, { type: T }>> {
    return new Promise((resolve, reject) => {
      if (this.#exited) {
        reject(
          new VesperError(
            'VESPER_SESSION_PROCESS_EXITED',
            `The session process ${this.pid} has exited.`,
          ),
        );
        return;
      }
      const done = (): void => {
        clearTimeout(timer);
        this.#listener = null;
        this.#exitWaiters = this.#exitWaiters.filter((w) => w !== onExit);
      };
      const onExit = (err: Error): void => {
        done();
        reject(err);
      };
      const timer = setTimeout(() => {
        done();
        reject(
          new VesperError(
            'VESPER_SESSION_START_TIMEOUT',
            `The session process ${this.pid} did not answer within ${this.#timeoutMs} ms.`,
          ),
        );
      }, this.#timeoutMs);
      this.#exitWaiters.push(onExit);
      this.#listener = (m) => {
        if (m.type === type) {
          done();
          resolve(m as Extract<ProcessMessage, { type: T }>);
        } else if (m.type === 'failed') {
          done();
          reject(new VesperError(m.code, m.message));
        }
      };
    });
  }

  /**
   * Makes the (ready) process the given session; resolves with its socket path
   * once it listens. The credential travels only over the IPC channel.
   * @throws VesperError when the process fails, exits or does not answer in time.
   */
  async assign(message: Omit<AssignMessage, 'type'>): Promise<string> {
    await this.ready;
    const live = this.#expect('live');
    this.child.send({ type: 'assign', ...message });
    const m = await live;
    return m.socketPath;
  }

  /** Ends the process (SIGTERM to its group's leader). */
  kill(signal: NodeJS.Signals = 'SIGTERM'): void {
    if (this.#exited) return;
    try {
      process.kill(this.pid, signal);
    } catch {
      // Already gone.
    }
  }
}
