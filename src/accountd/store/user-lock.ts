/**
 * @module Serialises writers to one account: an in-process queue per name,
 * and a lock file (`.<name>.lock`, created exclusively, holding the writer's
 * pid) so that `vesper passwd` and a running accountd never interleave.
 */
import { constants } from 'node:fs';
import { open, readFile, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { AccountStoreError, STORE_ERROR_CODES } from './store-errors.js';

/** The lock file of account `name` in `dir`. */
export function lockPathFor(dir: string, name: string): string {
  return join(dir, `.${name}.lock`);
}

/** True when a process with this pid exists (EPERM means it exists, not ours). */
export function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * Runs critical sections one at a time per key within this process, and
 * across processes through lock files in one directory.
 */
export class UserLocks {
  readonly #dir: string;
  readonly #timeoutMs: number;
  readonly #queues = new Map<string, Promise<unknown>>();

  /** `dir` holds the lock files; waiting for another process gives up after `timeoutMs`. */
  constructor(dir: string, timeoutMs = 5000) {
    this.#dir = dir;
    this.#timeoutMs = timeoutMs;
  }

  /**
   * Runs `fn` while holding the lock of `name`, and resolves to its result.
   * Throws {@link AccountStoreError} `VESPER_ACCOUNTD_LOCK_TIMEOUT` when another
   * live process holds the lock for longer than the timeout, or what `fn` throws.
   */
  run<T>(name: string, fn: () => Promise<T>): Promise<T> {
    const prev = this.#queues.get(name) ?? Promise.resolve();
    const next = prev.then(
      () => this.#withFile(name, fn),
      () => this.#withFile(name, fn),
    );
    const tail = next.catch(() => undefined);
    this.#queues.set(name, tail);
    void tail.then(() => {
      if (this.#queues.get(name) === tail) this.#queues.delete(name);
    });
    return next;
  }

  async #withFile<T>(name: string, fn: () => Promise<T>): Promise<T> {
    const path = lockPathFor(this.#dir, name);
    await this.#acquire(path, name);
    try {
      return await fn();
    } finally {
      await unlink(path).catch(() => undefined);
    }
  }

  async #acquire(path: string, name: string): Promise<void> {
    const deadline = Date.now() + this.#timeoutMs;
    for (let delay = 2; ; delay = Math.min(delay * 2, 50)) {
      try {
        const fh = await open(
          path,
          constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL,
          0o600,
        );
        await fh.writeFile(`${process.pid}\n`);
        await fh.close();
        return;
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      }
      // A lock whose writer died (SIGKILL, power loss) is stale: remove it.
      const holder = Number((await readFile(path, 'utf8').catch(() => '')).trim());
      if (Number.isInteger(holder) && holder > 0 && !processAlive(holder)) {
        await unlink(path).catch(() => undefined);
        continue;
      }
      if (Date.now() > deadline) {
        throw new AccountStoreError(
          STORE_ERROR_CODES.lockTimeout,
          `account ${name} is locked by process ${holder || 'unknown'} (${path})`,
        );
      }
      await sleep(delay);
    }
  }
}
