/**
 * @module Runs the keep-alive load generator in a child Node process, so that
 * the generator and the process that starts the servers under test never
 * share an event loop (each gets its own core time from the scheduler).
 */
import { fork } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { join, resolve } from 'node:path';
import { VesperError } from '../../src/shared/errors/index.js';
import type { LoadOptions, LoadResult } from './keep-alive-load.js';

/**
 * The compiled child entry: next to this file when running from `dist/`, or
 * under `dist/bench/lib/` when this file runs from TypeScript sources.
 */
function childEntry(): string {
  const here = fileURLToPath(import.meta.url);
  if (here.endsWith('.js')) return join(here, '..', 'load-main.js');
  return resolve(here, '..', '..', '..', 'dist', 'bench', 'lib', 'load-main.js');
}

/**
 * Runs {@link runKeepAliveLoad} with `options` in a child process and returns
 * its figures.
 * @throws VesperError `VESPER_BENCH_LOAD_FAILED` when the child cannot start,
 * fails, or exits without a result (`VESPER_BENCH_NOT_BUILT` when the compiled
 * child entry is missing).
 */
export function runLoadInChild(options: LoadOptions): Promise<LoadResult> {
  const entry = childEntry();
  if (!existsSync(entry)) {
    return Promise.reject(
      new VesperError('VESPER_BENCH_NOT_BUILT', `${entry} is missing: build with npm run build.`),
    );
  }
  return new Promise((resolvePromise, reject) => {
    const child = fork(entry, [], {
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
      execArgv: [],
    });
    let settled = false;
    const fail = (message: string): void => {
      if (settled) return;
      settled = true;
      child.kill('SIGKILL');
      reject(new VesperError('VESPER_BENCH_LOAD_FAILED', `Load generator: ${message}`));
    };
    // The child bounds itself; this is only a guard against a hung child.
    const guard = setTimeout(
      () => fail('did not finish in time'),
      (options.warmupMs ?? 0) +
        options.durationMs +
        2 * (options.requestTimeoutMs ?? 10_000) +
        10_000,
    );
    child.once(
      'message',
      (m: { ok: true; result: LoadResult } | { ok: false; message: string }) => {
        if (settled) return;
        if (!m.ok) return fail(m.message);
        settled = true;
        clearTimeout(guard);
        resolvePromise(m.result);
      },
    );
    child.once('error', (err) => fail(err.message));
    child.once('exit', (code, signal) => {
      clearTimeout(guard);
      fail(`exited (${signal ?? `code ${code}`}) without a result`);
    });
    child.send(options);
  });
}
