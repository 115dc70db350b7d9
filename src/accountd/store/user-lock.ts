/**
 * @module Serialises writers to one account: an in-process queue per name,
 * and a lock file (`.<name>.lock`, holding the writer's pid, put in place with
 * an atomic link) so that `vesper passwd` and a running accountd never interleave.
 */
import { link, readFile, stat, unlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { AccountStoreError, STORE_ERROR_CODES } from './store-errors.js';

/** The lock file of account `name` in `dir`. */
export function lockPathFor(dir: string, name: string): string {
  return join(dir, `.${name}.lock`);
}

/** Age after which a lock file naming no holder is considered stale. */
const EMPTY_LOCK_STALE_MS = 10_000;

async function olderThan(path: string, ms: number): Promise<boolean> {
  try {
    return Date.now() - (await stat(path)).mtimeMs > ms;
  } catch {
    return false;
  }
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
  #attempt = 0;

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
      // The pid is written first and the file linked into place, so a lock
      // file always names its holder, even when the writer dies at once.
      const temp = `${path}.${process.pid}.${this.#attempt++}`;
      await writeFile(temp, `${process.pid}\n`, { mode: 0o600 });
      try {
        await link(temp, path);
        return;
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      } finally {
        await unlink(temp).catch(() => undefined);
      }
      // A lock whose writer died (SIGKILL, power loss) is stale: remove it.
      const holder = Number((await readFile(path, 'utf8').catch(() => '')).trim());
      if (Number.isInteger(holder) && holder > 0 && !processAlive(holder)) {
        await unlink(path).catch(() => undefined);
        continue;
      }
      // An empty lock file is what an earlier version left when its writer died
      // between creating the file and writing its pid: stale once it is old.
      if (!(holder > 0) && (await olderThan(path, EMPTY_LOCK_STALE_MS))) {
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
