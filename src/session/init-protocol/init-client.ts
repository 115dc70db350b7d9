/**
 * @module A client of the init socket: one request, one reply, on a fresh connection.
 */
import { connect } from 'node:net';
import { VesperError } from '../../shared/errors/index.js';
import { encodeLine, JsonLineDecoder } from './line-decoder.js';
import type { InitReply, InitRequest } from './messages.js';

/**
 * Sends `request` to the init socket at `path` and resolves with the reply.
 * @throws VesperError `VESPER_SESSION_INIT_UNAVAILABLE` when the socket cannot
 *   be reached, closes early or does not answer within `timeoutMs`;
 *   `VESPER_SESSION_INIT_PROTOCOL` for a reply that is not a JSON object.
 */
export function initRequest(
  path: string,
  request: InitRequest,
  timeoutMs = 15_000,
): Promise<InitReply> {
  return new Promise((resolve, reject) => {
    const socket = connect(path);
    const decoder = new JsonLineDecoder();
    let settled = false;
    const settle = (err: Error | null, reply?: InitReply): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      socket.destroy();
      if (err !== null) reject(err);
      else resolve(reply!);
    };
    const timer = setTimeout(
      () =>
        settle(
          new VesperError('VESPER_SESSION_INIT_UNAVAILABLE', `No reply within ${timeoutMs} ms.`),
        ),
      timeoutMs,
    );
    socket.once('connect', () => socket.write(encodeLine(request)));
    socket.on('data', (chunk: Buffer) => {
      const line = decoder.push(chunk)[0];
      if (line === undefined) return;
      if (!line.ok || typeof line.value !== 'object' || line.value === null) {
        settle(
          new VesperError(
            'VESPER_SESSION_INIT_PROTOCOL',
            'The session server sent a malformed reply.',
          ),
        );
        return;
      }
      settle(null, line.value as InitReply);
    });
    socket.once('error', (err) =>
      settle(
        new VesperError(
          'VESPER_SESSION_INIT_UNAVAILABLE',
          `Cannot reach the session server: ${err.message}`,
          {
            cause: err,
          },
        ),
      ),
    );
    socket.once('close', () =>
      settle(
        new VesperError(
          'VESPER_SESSION_INIT_UNAVAILABLE',
          'The session server closed the connection.',
        ),
      ),
    );
  });
}
