/**
 * @module Removes a Unix socket file nobody listens on, refusing to touch a live one.
 */
import { lstat, unlink } from 'node:fs/promises';
import { connect } from 'node:net';
import { VesperError } from '../../shared/errors/index.js';

/** True when something accepts connections on `path`. */
export function socketIsLive(path: string): Promise<boolean> {
  return new Promise((resolve) => {
    const s = connect(path);
    s.once('connect', () => {
      s.destroy();
      resolve(true);
    });
    s.once('error', () => resolve(false));
  });
}

/**
 * Removes `path` when it is a socket nobody listens on.
 * @throws VesperError `VESPER_SESSION_INIT_IN_USE` when a server is listening,
 *   `VESPER_SESSION_NOT_A_SOCKET` when the path is something else.
 */
export async function removeStaleSocket(path: string): Promise<void> {
  let st;
  try {
    st = await lstat(path);
  } catch {
    return;
  }
  if (!st.isSocket()) {
    throw new VesperError('VESPER_SESSION_NOT_A_SOCKET', `${path} exists and is not a socket.`);
  }
  if (await socketIsLive(path)) {
    throw new VesperError(
      'VESPER_SESSION_INIT_IN_USE',
      `A session server already listens on ${path}.`,
    );
  }
  await unlink(path);
}
