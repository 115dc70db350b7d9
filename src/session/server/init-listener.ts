/**
 * @module The init socket: accepts frontend connections and answers JSON-line requests one at a time.
 */
import { chmod } from 'node:fs/promises';
import { createServer, type Server, type Socket } from 'node:net';
import type { Logger } from '../../shared/log/index.js';
import { removeStaleSocket } from './stale-socket.js';
import {
  encodeLine,
  failure,
  JsonLineDecoder,
  parseInitRequest,
  type InitReply,
  type InitRequest,
} from '../init-protocol/index.js';

/** Options of {@link InitListener}. */
export interface InitListenerOptions {
  readonly path: string;
  /** Answers one request. */
  readonly handle: (request: InitRequest) => Promise<InitReply>;
  readonly log: Logger;
  /** A connection idle this long is closed, ms (default 60,000). */
  readonly idleTimeoutMs?: number;
}

/** Requests read ahead of the one being answered before the connection is closed. */
const MAX_QUEUED = 16;

/**
 * Serves the init socket (mode 0600). Each connection may carry several
 * requests in sequence; replies come in request order. A line over 64 KiB,
 * malformed JSON or an invalid request gets a `bad-request` reply; an
 * over-long line also closes the connection.
 */
export class InitListener {
  readonly #o: InitListenerOptions;
  readonly #server: Server;
  readonly #sockets = new Set<Socket>();
  #closing: Promise<void> | null = null;

  constructor(options: InitListenerOptions) {
    this.#o = options;
    this.#server = createServer((socket) => this.#serve(socket));
  }

  /**
   * Listens (a stale socket file is removed first) and sets mode 0600.
   * @throws VesperError `VESPER_SESSION_INIT_IN_USE` when another server owns it.
   */
  async listen(): Promise<void> {
    await removeStaleSocket(this.#o.path);
    await new Promise<void>((resolve, reject) => {
      this.#server.once('error', reject);
      this.#server.listen(this.#o.path, () => {
        this.#server.off('error', reject);
        resolve();
      });
    });
    await chmod(this.#o.path, 0o600);
  }

  #serve(socket: Socket): void {
    this.#sockets.add(socket);
    socket.once('close', () => this.#sockets.delete(socket));
    socket.on('error', () => socket.destroy());
    socket.setTimeout(this.#o.idleTimeoutMs ?? 60_000, () => socket.destroy());
    const decoder = new JsonLineDecoder();
    let chain = Promise.resolve();
    let queued = 0;
    socket.on('data', (chunk: Buffer) => {
      for (const line of decoder.push(chunk)) {
        if (!line.ok) {
          const close = line.error === 'too-long';
          chain = chain.then(() => {
            const text = close
              ? 'The request line is longer than 64 KiB.'
              : 'The request is not JSON.';
            socket.write(encodeLine(failure('bad-request', text)));
            if (close) socket.end();
          });
          if (close) {
            socket.pause();
            return;
          }
          continue;
        }
        if (++queued > MAX_QUEUED) {
          socket.destroy();
          return;
        }
        const value = line.value;
        chain = chain.then(async () => {
          queued -= 1;
          const request = parseInitRequest(value);
          const reply =
            typeof request === 'string'
              ? failure('bad-request', request)
              : await this.#o.handle(request).catch((err: unknown) => {
                  this.#o.log.error({ err }, 'An init request failed unexpectedly.');
                  return failure('unavailable', 'The session server failed; try again.');
                });
          if (!socket.destroyed) socket.write(encodeLine(reply));
        });
      }
    });
  }

  /** Stops accepting and closes open connections. Idempotent. */
  close(): Promise<void> {
    this.#closing ??= new Promise<void>((resolve) => {
      this.#server.close(() => resolve());
      for (const s of this.#sockets) s.destroy();
    });
    return this.#closing;
  }
}
