/**
 * @module One frontend worker's listeners and connections: start, count, drain (close gracefully) and destroy.
 */
import { createServer as createNetServer, type Server, type Socket } from 'node:net';
import { createServer as createTlsServer, type TlsOptions } from 'node:tls';
import type { ListenConfig, VesperConfig } from '../../shared/config/index.js';
import { VesperError } from '../../shared/errors/index.js';
import type { Logger } from '../../shared/log/index.js';
import {
  ClientConnection,
  clientAddress,
  type ConnectionSettings,
} from './http/client-connection.js';
import type { FrontendHandler } from './frontend-handler.js';

/** The connection settings a configuration gives. */
export function connectionSettings(config: VesperConfig): ConnectionSettings {
  const fe = config.frontend;
  return {
    limits: {
      requestLine: fe.limits.request_line,
      headers: fe.limits.headers,
      body: fe.limits.body,
    },
    timeouts: fe.timeout,
    maxRequests: fe.max_requests_per_connection,
  };
}

/** The load figures of a worker. */
export interface WorkerLoad {
  readonly inflight: number;
  readonly connections: number;
  readonly requests: number;
  readonly servedConnections: number;
}

/**
 * The listeners of one worker and the connections they accepted. `close`
 * drains (idempotent: a second call joins the first), `destroy` aborts.
 */
export class FrontendWorker {
  /** Connections accepted since start. */
  servedConnections = 0;
  readonly #config: VesperConfig;
  readonly #handler: FrontendHandler;
  readonly #log: Logger;
  readonly #settings: ConnectionSettings;
  readonly #tls: TlsOptions | null;
  readonly #servers: Server[] = [];
  #closing: Promise<void> | null = null;
  #onAccept: (() => void) | null = null;

  constructor(config: VesperConfig, handler: FrontendHandler, log: Logger, tls: TlsOptions | null) {
    this.#config = config;
    this.#handler = handler;
    this.#log = log;
    this.#settings = connectionSettings(config);
    this.#tls = tls;
  }

  /** Calls `listener` after every accepted connection (for `max_connections_per_child`). */
  onAccept(listener: () => void): void {
    this.#onAccept = listener;
  }

  /** The addresses actually bound, in `frontend.listen` order (port 0 resolved). */
  addresses(): { host: string; port: number; tls: boolean }[] {
    return this.#servers.map((server, i) => {
      const a = server.address();
      const listen = this.#config.frontend.listen[i]!;
      return {
        host: listen.host,
        port: typeof a === 'object' && a !== null ? a.port : listen.port,
        tls: listen.tls,
      };
    });
  }

  /** The current load. */
  load(): WorkerLoad {
    return {
      inflight: this.#handler.inflightRequests + this.#handler.websockets.open,
      connections: this.#handler.connections.size + this.#handler.websockets.open,
      requests: this.#handler.requests,
      servedConnections: this.servedConnections,
    };
  }

  /**
   * Binds every `frontend.listen` entry.
   * @throws VesperError `VESPER_FRONTEND_LISTEN` when one cannot be bound (the others are closed).
   */
  async listen(): Promise<void> {
    for (const listen of this.#config.frontend.listen) {
      try {
        this.#servers.push(await this.#bind(listen));
      } catch (err) {
        for (const server of this.#servers) server.close();
        throw new VesperError(
          'VESPER_FRONTEND_LISTEN',
          `Cannot listen on ${listen.host}:${listen.port}: ${(err as Error).message}`,
          { cause: err },
        );
      }
    }
  }

  #bind(listen: ListenConfig): Promise<Server> {
    const name = `${listen.host}:${listen.port}`;
    let server: Server;
    if (listen.tls) {
      if (this.#tls === null) throw new Error('no TLS credentials');
      const tlsServer = createTlsServer(this.#tls);
      tlsServer.on('secureConnection', (socket: Socket) => this.#accept(socket, true, name));
      tlsServer.on('tlsClientError', (_err: Error, socket: Socket) => socket.destroy());
      server = tlsServer;
    } else {
      server = createNetServer({ noDelay: true }, (socket) => this.#accept(socket, false, name));
    }
    return new Promise((resolve, reject) => {
      server.once('error', reject);
      server.listen({ port: listen.port, host: listen.host }, () => {
        server.off('error', reject);
        server.on('error', (err) => this.#log.error({ err }, `The listener ${name} failed.`));
        resolve(server);
      });
    });
  }

  #accept(socket: Socket, tls: boolean, listener: string): void {
    if (this.#closing !== null) {
      socket.destroy();
      return;
    }
    this.servedConnections++;
    const connection = new ClientConnection(socket, this.#settings, this.#handler, {
      clientIp: clientAddress(socket),
      tls,
      listener,
    });
    this.#handler.connectionOpened(connection);
    this.#onAccept?.();
  }

  /**
   * Stops accepting, lets requests in flight finish (answered with
   * `Connection: close`), closes WebSockets with 1001, and resolves when every
   * connection is gone; whatever is left after `deadlineMs` is destroyed.
   */
  close(deadlineMs: number): Promise<void> {
    this.#closing ??= this.#drain(deadlineMs);
    return this.#closing;
  }

  async #drain(deadlineMs: number): Promise<void> {
    const until = Date.now() + deadlineMs;
    // Not waiting for close callbacks: they wait for every connection, which the deadline bounds below.
    for (const server of this.#servers) server.close();
    for (const c of this.#handler.connections) c.drain();
    const connections = async (): Promise<void> => {
      while (this.#handler.connections.size > 0 && Date.now() < until) {
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
    };
    await Promise.all([this.#handler.websockets.goingAway(deadlineMs), connections()]);
    for (const c of this.#handler.connections) c.destroy();
    this.#handler.destroy();
  }

  /** Closes the listeners and every connection now. */
  destroy(): void {
    this.#closing ??= Promise.resolve();
    for (const server of this.#servers) server.close();
    for (const c of this.#handler.connections) c.destroy();
    this.#handler.destroy();
  }
}
