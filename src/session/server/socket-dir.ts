/**
 * @module The socket directory: created 0700, owned by the Vesper user, under a parent nobody else may write.
 */
import { chmodSync, lstatSync, mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { VesperError } from '../../shared/errors/index.js';

/**
 * Creates `dir` (mode 0700) or checks an existing one: it must be a directory
 * owned by this user, and its parent must not be world-writable (unless it has
 * the sticky bit, like `/tmp`). A looser mode on our own directory is tightened.
 * @throws VesperError `VESPER_SESSION_SOCKET_DIR` saying what is wrong.
 */
export function ensureSocketDir(dir: string): void {
  const parent = dirname(dir);
  mkdirSync(parent, { recursive: true, mode: 0o700 });
  const p = lstatSync(parent);
  if ((p.mode & 0o002) !== 0 && (p.mode & 0o1000) === 0) {
    throw new VesperError(
      'VESPER_SESSION_SOCKET_DIR',
      `The parent of the socket directory, ${parent}, is world-writable; refusing to use it.`,
    );
  }
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const st = lstatSync(dir);
  if (!st.isDirectory()) {
    throw new VesperError('VESPER_SESSION_SOCKET_DIR', `${dir} is not a directory.`);
  }
  if (typeof process.getuid === 'function' && st.uid !== process.getuid()) {
    throw new VesperError(
      'VESPER_SESSION_SOCKET_DIR',
      `${dir} belongs to another user; refusing to use it.`,
    );
  }
  if ((st.mode & 0o777) !== 0o700) chmodSync(dir, 0o700);
}
