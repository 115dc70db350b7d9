/**
 * @module What lies at a Unix socket path: nothing, a socket file nobody
 * answers on (left by a dead process), a live socket, or another kind of file.
 */
import { lstat } from 'node:fs/promises';
import { connect } from 'node:net';

/** The state of a Unix socket path. */
export type UnixSocketState = 'none' | 'stale' | 'live' | 'other';

/**
 * Looks at `path` without changing it: `none` when nothing is there, `other`
 * when it is not a socket, `live` when a connection to it is accepted, and
 * `stale` when it is a socket file nobody accepts on (safe to unlink before
 * binding).
 * @throws the `lstat` error when `path` cannot be looked at (other than ENOENT).
 */
export async function probeUnixSocket(path: string): Promise<UnixSocketState> {
  try {
    if (!(await lstat(path)).isSocket()) return 'other';
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return 'none';
    throw err;
  }
  return new Promise((resolve) => {
    const probe = connect(path);
    probe.once('connect', () => {
      probe.destroy();
      resolve('live');
    });
    probe.once('error', () => resolve('stale'));
  });
}
