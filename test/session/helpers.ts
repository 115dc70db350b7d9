/**
 * @module Helpers of the session tests: configurations in temp directories,
 * the built session process, the test application transpiled for it, and
 * cleanup of every process a test started.
 */
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import ts from 'typescript';
import { fetchStatus } from '../../src/session/server/control-client.js';
import { loadConfigText, type VesperConfig } from '../../src/shared/config/index.js';
import { ensureBuilt, ROOT } from '../accountd/built.js';

/** The built session-process entry. */
export const PROCESS_ENTRY = join(ROOT, 'dist/src/session/process/main.js');

/** Builds `dist/` when the sources are newer. */
export function ensureSessionBuilt(): void {
  ensureBuilt(['src/session/process/main.js', 'src/web/index.js']);
}

/**
 * The test application (`fixtures/test-app.ts`) transpiled to an ES module that
 * imports the BUILT framework, so that it shares classes with the built
 * session process. Returns its absolute path (for `session.app`).
 */
export function builtTestApp(dir: string): string {
  const source = readFileSync(join(import.meta.dirname, 'fixtures/test-app.ts'), 'utf8');
  const js = ts.transpileModule(source, {
    compilerOptions: { module: ts.ModuleKind.ESNext, target: ts.ScriptTarget.ES2022 },
  }).outputText;
  const web = JSON.stringify(join(ROOT, 'dist/src/web/index.js'));
  const out = js.replace(/(["'])\.\.\/\.\.\/\.\.\/src\/web\/index\.js\1/g, web);
  const path = join(dir, 'test-app.mjs');
  writeFileSync(path, out);
  return path;
}

/** A temp directory with a short path (socket paths are limited to ~100 bytes). */
export function shortTempDir(): string {
  return mkdtempSync(join(tmpdir(), 'vs-'));
}

/** A checked configuration rooted at `dir` with `options` (`a.b=VALUE`) applied. */
export function testConfig(dir: string, options: string[] = []): VesperConfig {
  mkdirSync(join(dir, 'var'), { recursive: true, mode: 0o700 });
  return loadConfigText('', {
    cwd: dir,
    options: [
      'paths.var=var',
      'log.level=silent',
      `session.socket_dir=${join(dir, 'var', 'sockets')}`,
      ...options,
    ],
  });
}

/** Tracks processes and directories to remove after each test. */
export class Cleanup {
  readonly #pids = new Set<number>();
  readonly #dirs = new Set<string>();
  readonly #closers: (() => Promise<void> | void)[] = [];
  readonly #socketDirs = new Set<string>();

  /** Kills, at cleanup, every session still answering on a socket in `dir`. */
  sessionsIn(dir: string): void {
    this.#socketDirs.add(dir);
  }

  pid(pid: number): void {
    this.#pids.add(pid);
  }

  dir(dir: string): string {
    this.#dirs.add(dir);
    return dir;
  }

  onClose(fn: () => Promise<void> | void): void {
    this.#closers.push(fn);
  }

  /** Closes servers, kills every tracked process group, removes directories. */
  async run(): Promise<void> {
    for (const fn of this.#closers.splice(0).reverse()) {
      try {
        await fn();
      } catch {
        // Cleanup carries on.
      }
    }
    for (const dir of this.#socketDirs) {
      let names: string[] = [];
      try {
        names = readdirSync(dir).filter((n) => n.startsWith('s-'));
      } catch {
        // No directory: nothing runs there.
      }
      for (const n of names) {
        const st = await fetchStatus(join(dir, n), 1_000);
        if (st.ok) this.#pids.add(st.value.pid);
      }
    }
    this.#socketDirs.clear();
    for (const pid of this.#pids) {
      for (const target of [-pid, pid]) {
        try {
          process.kill(target, 'SIGKILL');
        } catch {
          // Already gone.
        }
      }
    }
    this.#pids.clear();
    for (const d of this.#dirs) rmSync(d, { recursive: true, force: true });
    this.#dirs.clear();
  }
}

/** True while `pid` runs. */
export function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** Polls `check` every 20 ms until it is true or `ms` passed. */
export async function waitFor(check: () => boolean | Promise<boolean>, ms = 5_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`condition not met within ${ms} ms`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** An HTTP response read in full. */
export interface Reply {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
}

/** One HTTP request over a Unix socket, as the frontend would send it. */
export function socketRequest(
  socketPath: string,
  path: string,
  options: { method?: string; headers?: Record<string, string>; body?: string } = {},
): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const req = request(
      {
        socketPath,
        path,
        method: options.method ?? 'GET',
        headers: {
          'X-Vesper-Client-Ip': '127.0.0.1',
          'X-Vesper-Client-Scheme': 'http',
          ...options.headers,
        },
        agent: false,
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () =>
          resolve({
            status: res.statusCode ?? 0,
            headers: res.headers,
            body: Buffer.concat(chunks).toString('utf8'),
          }),
        );
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    req.end(options.body);
  });
}
