/**
 * @module The accountd server: a Unix-socket listener (mode 0600) and an
 * optional TCP+TLS listener feeding {@link AccountdConnection}s, with a cap on
 * connections at once and a draining `close()`.
 */
import { chmod, mkdir, readFile, rename, unlink } from 'node:fs/promises';
import { createServer, type AddressInfo, type Server, type Socket } from 'node:net';
import { basename, dirname, join } from 'node:path';
import { createServer as createTlsServer, type TLSSocket } from 'node:tls';
import { VesperError } from '../../shared/errors/index.js';
import { probeUnixSocket } from '../../web/unix-socket-probe.js';
import { silentLogger, type Logger } from '../../shared/log/index.js';
import { badReply } from '../protocol/reply.js';
import type { AccountStore } from '../store/account-store.js';
import { AccountdConnection } from './connection.js';
import { LoginThrottle } from './login-throttle.js';

/** Options of {@link AccountdServer}; durations in milliseconds, sizes in bytes. */
export interface AccountdServerOptions {
  store: AccountStore;
  log?: Logger;
  /** Longest line, most literal bytes per message, most commands per connection. */
  limits?: { line: number; literal: number; commands: number };
  /** Connections at once, over all listeners. Default 256. */
  maxConnections?: number;
  /** Idle time before a connection is closed. Default 5 minutes. */
  idleTimeoutMs?: number;
  /** Failed-login lockout. Default 5 attempts in 15 minutes lock for 15 minutes. */
  lockout?: { attempts: number; windowMs: number; durationMs: number };
  /** Delay of the first failed-login reply, doubled per further failure. Default 200. */
  failureDelayMs?: number;
  /** Milliseconds since the epoch, for the lockout clock; injectable for tests. */
  now?: () => number;
}

/** The TLS listener's settings: PEM file paths; `ca` asks clients for certificates. */
export interface AccountdTlsListen {
  host: string;
  port: number;
  cert: string;
  key: string;
  ca?: string | null;
}

/** Serves the accountd protocol on any number of listeners. */
export class AccountdServer {
  readonly #log: Logger;
  readonly #maxConnections: number;
  readonly #connections = new Set<AccountdConnection>();
  readonly #servers: Server[] = [];
  readonly #socketPaths: string[] = [];
  readonly #settings: ConstructorParameters<typeof AccountdConnection>[1];
  #closing: Promise<void> | undefined;

  constructor(options: AccountdServerOptions) {
    this.#log = options.log ?? silentLogger;
    this.#maxConnections = options.maxConnections ?? 256;
    const lockout = options.lockout ?? { attempts: 5, windowMs: 900_000, durationMs: 900_000 };
    this.#settings = {
      store: options.store,
      log: this.#log,
      limits: options.limits ?? { line: 8192, literal: 65536, commands: 1000 },
      idleTimeoutMs: options.idleTimeoutMs ?? 300_000,
      throttle: new LoginThrottle({
        ...lockout,
        ...(options.failureDelayMs === undefined ? {} : { baseDelayMs: options.failureDelayMs }),
        ...(options.now === undefined ? {} : { now: options.now }),
      }),
    };
  }

  /** Connections open now. */
  get connectionCount(): number {
    return this.#connections.size;
  }

  #accept(socket: Socket, peer: { label: string; trusted: boolean }): void {
    if (this.#closing !== undefined || this.#connections.size >= this.#maxConnections) {
      this.#log.warn({ client: peer.label }, 'Refused an accountd connection: too many open');
      socket.on('error', () => socket.destroy());
      socket.end(badReply('LIMIT', 'too many connections'));
      setTimeout(() => socket.destroy(), 1000).unref();
      return;
    }
    const conn = new AccountdConnection(socket, this.#settings, peer);
    this.#connections.add(conn);
    void conn.closed.then(() => this.#connections.delete(conn));
  }

  /**
   * Listens on the Unix socket `path`, created mode 0600 in a directory made
   * 0700 when missing. A stale socket file is replaced; a live one is not.
   * Throws {@link VesperError} `VESPER_ACCOUNTD_ALREADY_RUNNING` when another
   * server answers on `path`, or the listen error.
   */
  async listenUnix(path: string): Promise<void> {
    await mkdir(dirname(path), { recursive: true, mode: 0o700 });
    const existing = await probeUnixSocket(path);
    if (existing === 'live') {
      throw new VesperError(
        'VESPER_ACCOUNTD_ALREADY_RUNNING',
        `another accountd is already listening on ${path}`,
      );
    }
    if (existing === 'other') {
      throw new VesperError(
        'VESPER_ACCOUNTD_LISTEN_PATH',
        `${path} exists and is not a socket; remove it or set accountd.listen`,
      );
    }
    if (existing === 'stale') await unlink(path);
    const server = createServer((socket) =>
      this.#accept(socket, { label: 'local', trusted: true }),
    );
    // Bind under a temporary name and rename once the mode is 0600, so the
    // socket is never reachable with the umask's looser mode.
    const temp = join(dirname(path), `.${basename(path)}.${process.pid}.tmp`);
    await unlink(temp).catch(() => undefined);
    await listen(server, (s, cb) => s.listen(temp, cb));
    try {
      await chmod(temp, 0o600);
      await rename(temp, path);
    } catch (err) {
      server.close();
      throw err;
    }
    this.#servers.push(server);
    this.#socketPaths.push(path);
    this.#log.info({ listen: path }, `accountd listening on ${path}`);
  }

  /**
   * Listens on TCP with TLS. With `ca`, clients must present a certificate it
   * signed, and such clients are trusted to name the end user's address.
   * Resolves to the bound address (port 0 picks one). Throws the read or listen error.
   */
  async listenTls(options: AccountdTlsListen): Promise<AddressInfo> {
    const [cert, key, ca] = await Promise.all([
      readFile(options.cert),
      readFile(options.key),
      options.ca == null ? Promise.resolve(undefined) : readFile(options.ca),
    ]);
    const server = createTlsServer(
      {
        cert,
        key,
        ...(ca === undefined ? {} : { ca, requestCert: true, rejectUnauthorized: true }),
      },
      (socket: TLSSocket) =>
        this.#accept(socket, {
          label: socket.remoteAddress ?? 'unknown',
          trusted: ca !== undefined && socket.authorized,
        }),
    );
    server.on('tlsClientError', (err) => {
      this.#log.debug({ err: err.message }, 'A TLS handshake with an accountd client failed');
    });
    await listen(server, (s, cb) => s.listen(options.port, options.host, cb));
    this.#servers.push(server);
    const address = server.address() as AddressInfo;
    this.#log.info(
      { host: address.address, port: address.port },
      `accountd listening with TLS on ${address.address}:${address.port}`,
    );
    return address;
  }

  /**
   * Drains: stops listening, lets each connection answer what it already
   * received, then closes it; connections still open after `deadlineMs` are
   * destroyed. Idempotent: a second call joins the first.
   */
  close(deadlineMs = 10_000): Promise<void> {
    this.#closing ??= (async () => {
      const stopped = this.#servers.map(
        (s) => new Promise<void>((resolve) => s.close(() => resolve())),
      );
      const timer = setTimeout(() => {
        for (const c of this.#connections) c.destroy();
      }, deadlineMs);
      await Promise.all([...this.#connections].map((c) => c.close()));
      clearTimeout(timer);
      await Promise.all(stopped);
      // net removes its socket file on close; remove it if it is somehow left.
      await Promise.all(this.#socketPaths.map((p) => unlink(p).catch(() => undefined)));
      this.#log.info('accountd stopped');
    })();
    return this.#closing;
  }

  /** Closes every connection at once and stops listening. Idempotent. */
  destroy(): Promise<void> {
    for (const c of this.#connections) c.destroy();
    return this.close(0);
  }
}

function listen<S extends Server>(server: S, start: (s: S, cb: () => void) => void): Promise<void> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    start(server, () => {
      server.off('error', reject);
      resolve();
    });
  });
}
