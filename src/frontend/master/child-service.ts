/**
 * @module One supervised service child of the master (accountd, the session server): spawn, exit record, stop.
 *
 * The master's loop decides when to start it again (with its own
 * `RespawnBudget`); this class only runs the process and records what
 * happened.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { connect } from 'node:net';

/** How to run a service. */
export interface ServiceSpec {
  /** `accountd` or `session-server`: the name in logs and in `vesper status`. */
  readonly name: string;
  /** The program (the Node binary). */
  readonly command: string;
  /** Its arguments (the CLI entry, the sub-command, `--config` …). */
  readonly args: readonly string[];
  /** Working directory (relative config paths resolve against it). */
  readonly cwd: string;
  /** The complete environment. */
  readonly env: Readonly<Record<string, string>>;
  /** A Unix socket that accepts connections once the service is ready. */
  readonly readySocket: string;
}

/** How a service's process ended. */
export interface ServiceExit {
  /** The pid the process had. */
  readonly pid: number | null;
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
}

/** The public view of a service, for `vesper status`. */
export interface ServiceStatus {
  readonly name: string;
  readonly pid: number | null;
  readonly state: 'running' | 'stopped' | 'stopping' | 'failed';
  readonly restarts: number;
  readonly startedAt: number | null;
}

/** A supervised child process; at most one process at a time. */
export class ChildService {
  readonly spec: ServiceSpec;
  #child: ChildProcess | null = null;
  #startedAt: number | null = null;
  #restarts = 0;
  #stopping = false;
  #failed = false;
  #exited: Promise<ServiceExit> | null = null;
  readonly #onExit: (service: ChildService, exit: ServiceExit) => void;

  /** `onExit` is called once per process, after it has exited. */
  constructor(spec: ServiceSpec, onExit: (service: ChildService, exit: ServiceExit) => void) {
    this.spec = spec;
    this.#onExit = onExit;
  }

  /** True while a process runs. */
  get running(): boolean {
    return this.#child !== null;
  }

  /** The pid of the running process, or null. */
  get pid(): number | null {
    return this.#child?.pid ?? null;
  }

  /** True once the service exited with code 2 (never respawned). */
  get failed(): boolean {
    return this.#failed;
  }

  /** Marks the service as failed for good: the master will not start it again. */
  markFailed(): void {
    this.#failed = true;
  }

  /** Starts the process (a no-op while one runs). `restart` counts it in `restarts`. */
  start(now: number, restart: boolean): void {
    if (this.#child !== null) return;
    this.#stopping = false;
    const child = spawn(this.spec.command, [...this.spec.args], {
      cwd: this.spec.cwd,
      env: { ...this.spec.env },
      stdio: ['ignore', 'inherit', 'inherit'],
    });
    this.#child = child;
    this.#startedAt = now;
    if (restart) this.#restarts++;
    this.#exited = new Promise((resolve) => {
      let done = false;
      const finish = (exit: ServiceExit): void => {
        if (done) return;
        done = true;
        this.#child = null;
        this.#startedAt = null;
        resolve(exit);
        this.#onExit(this, exit);
      };
      child.once('exit', (code, signal) => finish({ pid: child.pid ?? null, code, signal }));
      // A spawn that fails (no such program) emits 'error' and no 'exit'.
      child.once('error', () => finish({ pid: child.pid ?? null, code: 1, signal: null }));
    });
  }

  /**
   * Sends `signal` and resolves when the process has exited; after
   * `timeoutMs` it is killed with SIGKILL. Resolves at once when none runs.
   */
  async stop(signal: NodeJS.Signals, timeoutMs: number): Promise<void> {
    const child = this.#child;
    const exited = this.#exited;
    if (child === null || exited === null) return;
    this.#stopping = true;
    child.kill(signal);
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    try {
      await exited;
    } finally {
      clearTimeout(timer);
    }
  }

  /** True between {@link stop} and the exit it asked for. */
  get stopping(): boolean {
    return this.#stopping;
  }

  /** The status row of this service. */
  status(): ServiceStatus {
    const state = this.#failed
      ? 'failed'
      : this.#child === null
        ? 'stopped'
        : this.#stopping
          ? 'stopping'
          : 'running';
    return {
      name: this.spec.name,
      pid: this.pid,
      state,
      restarts: this.#restarts,
      startedAt: this.#startedAt,
    };
  }
}

/**
 * Resolves true once `path` accepts a connection, false after `timeoutMs`
 * (polling every 50 ms), or as soon as `alive()` turns false.
 */
export async function waitForSocket(
  path: string,
  timeoutMs: number,
  alive: () => boolean = () => true,
): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline && alive()) {
    const ok = await new Promise<boolean>((resolve) => {
      const socket = connect(path);
      socket.once('connect', () => {
        socket.destroy();
        resolve(true);
      });
      socket.once('error', () => resolve(false));
    });
    if (ok) return true;
    await new Promise((r) => setTimeout(r, 50));
  }
  return false;
}
