/**
 * @module Removes a Unix socket file nobody listens on, refusing to touch a live one.
 */
import { unlink } from 'node:fs/promises';
import { probeUnixSocket } from '../../web/unix-socket-probe.js';
import { VesperError } from '../../shared/errors/index.js';

/**
 * Removes `path` when it is a socket nobody listens on.
 * @throws VesperError `VESPER_SESSION_INIT_IN_USE` when a server is listening,
 *   `VESPER_SESSION_NOT_A_SOCKET` when the path is something else.
 */
export async function removeStaleSocket(path: string): Promise<void> {
  const state = await probeUnixSocket(path);
  if (state === 'other') {
    throw new VesperError('VESPER_SESSION_NOT_A_SOCKET', `${path} exists and is not a socket.`);
  }
  if (state === 'live') {
    throw new VesperError(
      'VESPER_SESSION_INIT_IN_USE',
      `A session server already listens on ${path}.`,
    );
  }
  if (state === 'stale') await unlink(path);
}
