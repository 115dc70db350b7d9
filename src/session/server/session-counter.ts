/**
 * @module Session numbers that keep increasing across session-server restarts (kept in `<var>/session-number`).
 */
import { readFileSync } from 'node:fs';
import { rename, writeFile } from 'node:fs/promises';

/**
 * Hands out session numbers. The last number given is written to a small file
 * (temp file and rename, without fsync: after a power cut the adopted sessions'
 * numbers still set the floor), so that a restarted server does not reuse the
 * number of a session that ended while it was down and log lines stay unambiguous.
 */
export class SessionCounter {
  readonly #path: string;
  #last: number;
  #writing: Promise<void> = Promise.resolve();

  /** Reads the last number from `path` (0 when missing or unreadable). */
  constructor(path: string) {
    this.#path = path;
    let last = 0;
    try {
      const n = Number(readFileSync(path, 'utf8').trim());
      if (Number.isSafeInteger(n) && n > 0) last = n;
    } catch {
      // No file yet: numbering starts at 1.
    }
    this.#last = last;
  }

  /** The next number, at least `floor`; recorded in the file in the background. */
  next(floor: number): number {
    this.#last = Math.max(this.#last + 1, floor);
    const value = this.#last;
    const tmp = `${this.#path}.tmp`;
    this.#writing = this.#writing
      .then(() => writeFile(tmp, `${value}\n`, { mode: 0o600 }))
      .then(() => rename(tmp, this.#path))
      .catch(() => undefined);
    return value;
  }

  /** Resolves once every number given so far is written. */
  flush(): Promise<void> {
    return this.#writing;
  }
}
