/**
 * @module Vitest global setup: one private redis-server (scripts/redis-server.sh)
 * for the whole run, handed to tests as `inject('redisUrl')` and `REDIS_URL`,
 * stopped at teardown.
 */
import { execFile } from 'node:child_process';
import { rmSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { TestProject } from 'vitest/node';
import { isAlive } from '../src/frontend/master/pid-file.js';

declare module 'vitest' {
  export interface ProvidedContext {
    /** `redis://127.0.0.1:<port>` of the suite's private Redis, or `''` when there is none. */
    redisUrl: string;
    /** Why there is no Redis, when `redisUrl` is `''`. */
    redisError: string;
  }
}

const script = join(dirname(fileURLToPath(import.meta.url)), '..', 'scripts', 'redis-server.sh');

/** Starts Redis, or records loudly why it could not. Never fails the whole run. */
export default async function setup(project: TestProject): Promise<() => Promise<void> | void> {
  const started = await new Promise<{ port: number; pid: number; dir: string } | string>(
    (resolve) => {
      // Installing redis-server with apt-get can take a minute on a fresh machine.
      execFile('bash', [script], { timeout: 180_000 }, (err, stdout, stderr) => {
        const match = /port=(\d+) pid=(\d+) dir=(\S+)/.exec(stdout);
        if (err !== null || match === null) {
          resolve(
            `scripts/redis-server.sh failed: ${(stderr || (err?.message ?? 'no output')).trim()}`,
          );
          return;
        }
        resolve({ port: Number(match[1]), pid: Number(match[2]), dir: match[3]! });
      });
    },
  );
  if (typeof started === 'string') {
    process.stderr.write(
      `\n!!!! ${started}\n!!!! Redis-backed tests will ${process.env.CI === 'true' ? 'FAIL (CI=true)' : 'be SKIPPED'}.\n\n`,
    );
    project.provide('redisUrl', '');
    project.provide('redisError', started);
    return () => {};
  }
  const url = `redis://127.0.0.1:${started.port}`;
  process.env.REDIS_URL = url;
  project.provide('redisUrl', url);
  project.provide('redisError', '');
  return async () => {
    try {
      process.kill(started.pid, 'SIGTERM');
    } catch {
      // Already gone: nothing to stop.
    }
    // Redis still writes into its directory while it shuts down: removing the
    // directory before it has exited fails with ENOTEMPTY and leaves it behind.
    for (let i = 0; i < 100 && isAlive(started.pid); i++) {
      await new Promise((r) => setTimeout(r, 50));
    }
    rmSync(started.dir, { recursive: true, force: true, maxRetries: 5 });
  };
}
