/**
 * @module TCPServer: Tornado's base class for servers that speak their own
 * protocol over IOStreams (plain or TLS, TCP or Unix socket).
 */
import type net from 'node:net';
import tls from 'node:tls';
import { VesperError } from '../shared/errors/index.js';
import { silentLogger, type Logger } from '../shared/log/index.js';
import { IOStream, type ServerTlsOptions } from './iostream.js';
import { acceptedAddress, bindSockets, type AcceptedAddress } from './netutil.js';

/** Options of a {@link TCPServer}. */
export interface TCPServerOptions {
  /**
   * Serve TLS (Node's `tls.createServer` options): a connection reaches
   * `handleStream` once its handshake is done; one that fails it (or whose
   * client certificate is refused) is closed without reaching it.
   */
  tls?: ServerTlsOptions;
  /** Read buffer limit of each stream (default 100 MiB). */
  maxBufferSize?: number;
  /** Unrequested bytes buffered per stream before its socket is paused (default 64 KiB). */
  readChunkSize?: number;
  /** Where a failing `handleStream` is reported. Default: nowhere. */
  log?: Logger;
}

/**
 * A server that hands each accepted connection to {@link handleStream}, which
 * a subclass overrides (it may be async; a rejection is logged and the stream
 * destroyed). With `tls`, unlike Tornado, the stream arrives with its
 * handshake done, so `stream.socket` (a `tls.TLSSocket`) already shows the
 * client's certificate.
 * `stop()` stops accepting; open connections are left to their handlers, as
 * Tornado's does.
 */
export class TCPServer {
  #options: TCPServerOptions;
  #servers = new Map<net.Server, () => void>();
  #tlsServer: tls.Server | undefined;

  /** @throws {Error} Node's error when the TLS key, certificate or CA options are invalid. */
  constructor(options: TCPServerOptions = {}) {
    this.#options = options;
    if (options.tls !== undefined) {
      // Accepted sockets are injected into this (never listening) tls.Server,
      // which runs the handshakes and checks client certificates as Node does.
      const tlsServer = tls.createServer(options.tls);
      tlsServer.on('secureConnection', (secure: tls.TLSSocket) => {
        const stream = new IOStream(secure, {
          ...this.#streamOptions(),
          serverSide: true,
          handshakeComplete: true,
        });
        this.#handle(stream, acceptedAddress(secure));
      });
      tlsServer.on('tlsClientError', (err: Error, secure: tls.TLSSocket) => {
        (options.log ?? silentLogger).debug(
          { err, address: secure.remoteAddress },
          'A TLS handshake with a client failed; the connection was closed.',
        );
      });
      this.#tlsServer = tlsServer;
    }
  }

  /**
   * Handles one accepted connection. Subclasses override this.
   * @throws {VesperError} `VESPER_WEB_NOT_IMPLEMENTED` unless overridden.
   */
  handleStream(_stream: IOStream, _address: AcceptedAddress): void | Promise<void> {
    throw new VesperError(
      'VESPER_WEB_NOT_IMPLEMENTED',
      'TCPServer.handleStream must be overridden by a subclass',
    );
  }

  /**
   * Binds `port` on `address` (see `bindSockets`) and starts accepting; resolves
   * with the bound servers (their `address()` gives the port chosen for port 0).
   * @throws {VesperError} `VESPER_WEB_BIND_FAILED` (rejects).
   */
  async listen(
    port: number,
    address?: string,
    options: { backlog?: number } = {},
  ): Promise<net.Server[]> {
    const servers = await bindSockets(port, address, options);
    this.addSockets(servers);
    return servers;
  }

  /** Starts accepting on servers that are already listening (e.g. from `bindUnixSocket`). */
  addSockets(servers: Iterable<net.Server>): void {
    for (const server of servers) this.addSocket(server);
  }

  /** Starts accepting on one listening server. */
  addSocket(server: net.Server): void {
    if (this.#servers.has(server)) return;
    const onConnection = (socket: net.Socket): void => {
      this.#dispatch(socket);
    };
    server.on('connection', onConnection);
    this.#servers.set(server, () => server.off('connection', onConnection));
  }

  /** Stops accepting and closes the listening servers; resolves when they are closed. */
  async stop(): Promise<void> {
    const servers = [...this.#servers];
    this.#servers.clear();
    await Promise.all(
      servers.map(
        ([server, remove]) =>
          new Promise<void>((resolve) => {
            remove();
            if (server.listening) server.close(() => resolve());
            else resolve();
          }),
      ),
    );
  }

  #streamOptions(): { maxBufferSize?: number; readChunkSize?: number } {
    return {
      maxBufferSize: this.#options.maxBufferSize,
      readChunkSize: this.#options.readChunkSize,
    };
  }

  #dispatch(socket: net.Socket): void {
    if (this.#tlsServer !== undefined) {
      this.#tlsServer.emit('connection', socket);
      return;
    }
    this.#handle(new IOStream(socket, this.#streamOptions()), acceptedAddress(socket));
  }

  #handle(stream: IOStream, address: AcceptedAddress): void {
    let result: void | Promise<void>;
    try {
      result = this.handleStream(stream, address);
    } catch (err) {
      this.#reportError(err, stream);
      return;
    }
    if (result instanceof Promise) result.catch((err: unknown) => this.#reportError(err, stream));
  }

  #log(err: unknown): void {
    (this.#options.log ?? silentLogger).error(
      { err },
      'A TCP connection handler failed; the connection was closed.',
    );
  }

  #reportError(err: unknown, stream: IOStream): void {
    this.#log(err);
    stream.destroy();
  }
}
