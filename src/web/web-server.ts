/**
 * @module `WebServer`: a listening Node HTTP server that serves an application,
 * on a TCP port or a Unix socket, with an idempotent `close()` that also ends
 * idle keep-alive connections.
 */
import { chmod, unlink } from 'node:fs/promises';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Socket } from 'node:net';
import { VesperError } from '../shared/errors/index.js';
import { probeUnixSocket } from './unix-socket-probe.js';

/** Where to listen: a port, a port and host, or a Unix socket path and mode. */
export type ListenTarget =
  number | { port: number; host?: string } | { path: string; mode?: number };

/** The address a {@link WebServer} is bound to. */
export type WebServerAddress = { port: number; host: string } | { path: string };

/**
 * Removes a stale Unix socket file at `path`.
 * @throws VesperError `VESPER_WEB_ADDRESS_IN_USE` when a live server owns it,
 * `VESPER_WEB_NOT_A_SOCKET` when the path is something other than a socket.
 */
async function removeStaleSocket(path: string): Promise<void> {
  const state = await probeUnixSocket(path);
  if (state === 'other') {
    throw new VesperError('VESPER_WEB_NOT_A_SOCKET', `${path} exists and is not a socket.`);
  }
  if (state === 'live') {
    throw new VesperError('VESPER_WEB_ADDRESS_IN_USE', `A server is already listening on ${path}.`);
  }
  if (state === 'stale') await unlink(path);
}

/**
 * A Node HTTP server listening for an application. `close()` stops accepting,
 * closes idle keep-alive connections, lets in-flight requests finish (their
 * connections close after the response) and resolves when every connection has
 * ended; a second call joins the first. `destroy()` ends every connection now.
 */
export class WebServer {
  /** The Node server underneath. */
  readonly server: Server;
  readonly #sockets = new Set<Socket>();
  #closing: Promise<void> | null = null;
  #address: WebServerAddress = { port: 0, host: '' };

  constructor(server: Server) {
    this.server = server;
    server.on('connection', (socket: Socket) => {
      this.#sockets.add(socket);
      socket.once('close', () => this.#sockets.delete(socket));
    });
    server.prependListener('request', (_req, res) => {
      // Once closing, a response must not keep its connection open.
      if (this.#closing !== null) res.shouldKeepAlive = false;
    });
  }

  /**
   * Starts listening.
   * @throws VesperError `VESPER_WEB_LISTEN_FAILED` when the address cannot be
   * bound, and the errors of the stale-socket check.
   */
  async listen(target: ListenTarget): Promise<this> {
    if (typeof target === 'object' && 'path' in target) await removeStaleSocket(target.path);
    await new Promise<void>((resolve, reject) => {
      const onError = (err: Error): void => {
        reject(
          new VesperError('VESPER_WEB_LISTEN_FAILED', `Cannot listen: ${err.message}`, {
            cause: err,
          }),
        );
      };
      this.server.once('error', onError);
      const done = (): void => {
        this.server.off('error', onError);
        resolve();
      };
      if (typeof target === 'number') this.server.listen(target, done);
      else if ('path' in target) this.server.listen(target.path, done);
      else if (target.host !== undefined) this.server.listen(target.port, target.host, done);
      else this.server.listen(target.port, done);
    });
    if (typeof target === 'object' && 'path' in target) {
      if (target.mode !== undefined) await chmod(target.path, target.mode);
      this.#address = { path: target.path };
    } else {
      const a = this.server.address() as AddressInfo;
      this.#address = { port: a.port, host: a.address };
    }
    return this;
  }

  /** Where the server listens. */
  get address(): WebServerAddress {
    return this.#address;
  }

  /** The TCP port (0 for a Unix socket). */
  get port(): number {
    return 'port' in this.#address ? this.#address.port : 0;
  }

  /** Stops accepting and drains; idempotent. */
  close(): Promise<void> {
    this.#closing ??= new Promise<void>((resolve) => {
      if (!this.server.listening) {
        resolve();
        return;
      }
      // Connections busy at close() time become idle later: sweep until all are gone.
      const sweep = setInterval(() => this.server.closeIdleConnections(), 50);
      sweep.unref();
      this.server.close(() => {
        clearInterval(sweep);
        resolve();
      });
      this.server.closeIdleConnections();
    });
    return this.#closing;
  }

  /** Ends every connection now and closes; idempotent. */
  destroy(): Promise<void> {
    const p = this.close();
    for (const s of this.#sockets) s.destroy();
    return p;
  }
}
