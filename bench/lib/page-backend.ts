/**
 * @module The benchmark's stand-in session backend, run as a child process
 * (page-backend-main.ts) so that it has an event loop of its own: one fixed
 * 2 KiB page behind a session key, on a Unix socket.
 */
import { fork, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { VesperError } from '../../src/shared/errors/index.js';

/** The page's size in bytes. */
export const PAGE_BYTES = 2048;

/** What the backend serves and where. */
export interface PageBackendOptions {
  /** The Unix socket to listen on (a stale socket file is replaced). */
  socketPath: string;
  /** The session's user. */
  user: string;
  /** The session's key. */
  key: string;
}

/** The 2 KiB page: a small HTML document padded to exactly {@link PAGE_BYTES} bytes. */
export function pageBody(user: string): string {
  const head = `<!DOCTYPE html>\n<html><head><title>${user}: benchmark page</title></head><body>\n<p>`;
  const tail = '</p>\n</body></html>\n';
  return head + 'x'.repeat(PAGE_BYTES - head.length - tail.length) + tail;
}

/** The compiled child entry, from `dist/` or (when running from sources) under `dist/bench/lib/`. */
function childEntry(): string {
  const here = fileURLToPath(import.meta.url);
  if (here.endsWith('.js')) return join(here, '..', 'page-backend-main.js');
  return resolve(here, '..', '..', '..', 'dist', 'bench', 'lib', 'page-backend-main.js');
}

/** A running backend process; `stop()` ends it. */
export class PageBackend {
  readonly socketPath: string;
  readonly #child: ChildProcess;

  private constructor(socketPath: string, child: ChildProcess) {
    this.socketPath = socketPath;
    this.#child = child;
  }

  /** The backend's process id. */
  get pid(): number {
    return this.#child.pid ?? 0;
  }

  /**
   * Starts the backend and waits until it listens.
   * @throws VesperError `VESPER_BENCH_NOT_BUILT` when the compiled entry is
   * missing, `VESPER_BENCH_BACKEND_FAILED` when it does not start within 10 s.
   */
  static async start(options: PageBackendOptions): Promise<PageBackend> {
    const entry = childEntry();
    if (!existsSync(entry)) {
      throw new VesperError(
        'VESPER_BENCH_NOT_BUILT',
        `${entry} is missing: build with npm run build.`,
      );
    }
    const child = fork(entry, [], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'], execArgv: [] });
    const ready = await new Promise<boolean>((r) => {
      const t = setTimeout(() => r(false), 10_000);
      child.once('message', (m) => {
        clearTimeout(t);
        r(m === 'ready');
      });
      child.once('exit', () => {
        clearTimeout(t);
        r(false);
      });
      child.send(options);
    });
    if (!ready) {
      child.kill('SIGKILL');
      throw new VesperError(
        'VESPER_BENCH_BACKEND_FAILED',
        'The benchmark page backend did not start.',
      );
    }
    return new PageBackend(options.socketPath, child);
  }

  /** Stops the backend (SIGTERM, SIGKILL after 5 s) and waits for it to exit. Idempotent. */
  async stop(): Promise<void> {
    const child = this.#child;
    if (child.exitCode !== null || child.signalCode !== null) return;
    await new Promise<void>((r) => {
      const t = setTimeout(() => child.kill('SIGKILL'), 5000);
      child.once('exit', () => {
        clearTimeout(t);
        r();
      });
      child.kill('SIGTERM');
    });
  }
}
