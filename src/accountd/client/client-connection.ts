/**
 * @module One open connection of an accountd client: sends one request at a
 * time and parses the reply with the shared resumable parser.
 */
import { connect as netConnect, type Socket } from 'node:net';
import { connect as tlsConnect } from 'node:tls';
import { VesperError } from '../../shared/errors/index.js';
import { MessageParser } from '../protocol/message-parser.js';
import { decodeReply, type Reply } from '../protocol/reply.js';
import { CLIENT_ERROR_CODES } from './client-errors.js';
import type { AccountdEndpoint } from './endpoint.js';

/** Replies a client accepts (they come from the server it chose to trust). */
const REPLY_LIMITS = { line: 1 << 20, literal: 8 << 20 };

interface Pending {
  resolve: (reply: Reply) => void;
  reject: (err: Error) => void;
  timer: NodeJS.Timeout;
}

/** A socket to accountd with at most one request in flight. */
export class ClientConnection {
  readonly #socket: Socket;
  readonly #parser = new MessageParser(REPLY_LIMITS);
  #pending: Pending | undefined;
  #dead = false;

  private constructor(socket: Socket) {
    this.#socket = socket;
    socket.on('data', (chunk: Buffer) => this.#onData(chunk));
    socket.on('error', () => this.#kill(closedError('the connection to accountd failed')));
    socket.on('close', () => this.#kill(closedError('accountd closed the connection')));
  }

  /**
   * Connects to `endpoint` within `timeoutMs`. Throws {@link VesperError}
   * `VESPER_ACCOUNTD_UNAVAILABLE` (with the cause) or `VESPER_ACCOUNTD_TIMEOUT`.
   */
  static open(endpoint: AccountdEndpoint, timeoutMs: number): Promise<ClientConnection> {
    return new Promise((resolve, reject) => {
      const where = 'path' in endpoint ? endpoint.path : `${endpoint.host}:${endpoint.port}`;
      let socket: Socket;
      if ('path' in endpoint) {
        socket = netConnect(endpoint.path);
        socket.once('connect', done);
      } else {
        socket = tlsConnect({
          host: endpoint.host,
          port: endpoint.port,
          servername: endpoint.servername ?? endpoint.host,
          ...(endpoint.ca === undefined ? {} : { ca: endpoint.ca }),
          ...(endpoint.cert === undefined ? {} : { cert: endpoint.cert }),
          ...(endpoint.key === undefined ? {} : { key: endpoint.key }),
        });
        socket.once('secureConnect', done);
      }
      const timer = setTimeout(() => {
        socket.destroy();
        reject(
          new VesperError(
            CLIENT_ERROR_CODES.timeout,
            `connecting to accountd at ${where} timed out`,
          ),
        );
      }, timeoutMs);
      socket.once('error', onError);
      function onError(err: Error): void {
        clearTimeout(timer);
        reject(
          new VesperError(
            CLIENT_ERROR_CODES.unavailable,
            `accountd at ${where} is unavailable: ${err.message}`,
            { cause: err },
          ),
        );
      }
      function done(): void {
        clearTimeout(timer);
        socket.off('error', onError);
        resolve(new ClientConnection(socket));
      }
    });
  }

  /** False once the socket failed, closed or timed out. */
  get alive(): boolean {
    return !this.#dead;
  }

  /**
   * Sends `bytes` and resolves to the reply. Rejects with `VESPER_ACCOUNTD_TIMEOUT`
   * (and drops the connection), `VESPER_ACCOUNTD_CONNECTION_CLOSED`, or
   * `VESPER_ACCOUNTD_PROTOCOL` for a malformed reply.
   */
  request(bytes: Buffer, timeoutMs: number): Promise<Reply> {
    if (this.#dead) return Promise.reject(closedError('the connection to accountd is closed'));
    if (this.#pending !== undefined) throw new Error('one request at a time');
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.#kill(new VesperError(CLIENT_ERROR_CODES.timeout, 'accountd did not reply in time'));
      }, timeoutMs);
      this.#pending = { resolve, reject, timer };
      this.#socket.write(bytes);
    });
  }

  #onData(chunk: Buffer): void {
    for (const event of this.#parser.push(chunk)) {
      const pending = this.#pending;
      if (event.type === 'error' || pending === undefined) {
        // Garbage, or a reply nobody asked for (the server's idle `BAD TIMEOUT`).
        this.#kill(
          pending === undefined
            ? closedError('accountd ended the connection')
            : new VesperError(CLIENT_ERROR_CODES.protocol, 'accountd sent a malformed reply'),
        );
        return;
      }
      let reply: Reply;
      try {
        reply = decodeReply(event.tokens);
      } catch (err) {
        this.#kill(err as Error);
        return;
      }
      this.#pending = undefined;
      clearTimeout(pending.timer);
      pending.resolve(reply);
    }
  }

  #kill(err: Error): void {
    this.#dead = true;
    this.#socket.destroy();
    const pending = this.#pending;
    this.#pending = undefined;
    if (pending !== undefined) {
      clearTimeout(pending.timer);
      pending.reject(err);
    }
  }

  /** Ends the connection politely (after any write), without waiting. */
  end(): void {
    this.#dead = true;
    this.#socket.end();
    setTimeout(() => this.#socket.destroy(), 1000).unref();
  }

  /** Drops the connection; a request in flight fails with `err`. */
  destroy(err: Error = closedError('the connection to accountd was dropped')): void {
    this.#kill(err);
  }
}

function closedError(message: string): VesperError {
  return new VesperError(CLIENT_ERROR_CODES.connectionClosed, message);
}
