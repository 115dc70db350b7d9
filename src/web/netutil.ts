/**
 * @module Listening sockets, Tornado's `netutil`: bind TCP listeners on every
 * address a host resolves to, bind a Unix socket safely, and turn accepted
 * connections into IOStreams.
 */
import dns from 'node:dns/promises';
import { chmod, unlink } from 'node:fs/promises';
import net from 'node:net';
import { VesperError } from '../shared/errors/index.js';
import { IOStream, type IOStreamOptions } from './iostream.js';
import { probeUnixSocket } from './unix-socket-probe.js';

/** Tornado's default listen backlog. */
export const DEFAULT_BACKLOG = 128;

/** Where an accepted connection comes from (`family: 'unix'`, empty address for a Unix socket). */
export interface AcceptedAddress {
  address: string;
  port: number;
  family: string;
}

/** The peer address of an accepted socket, as {@link addAcceptHandler} reports it. */
export function acceptedAddress(socket: net.Socket): AcceptedAddress {
  return socket.remoteAddress === undefined
    ? { address: '', port: 0, family: 'unix' }
    : {
        address: socket.remoteAddress,
        port: socket.remotePort ?? 0,
        family: socket.remoteFamily ?? '',
      };
}

function listen(server: net.Server, options: net.ListenOptions): Promise<void> {
  return new Promise((resolve, reject) => {
    const onError = (err: Error): void => {
      server.off('listening', onListening);
      reject(err);
    };
    const onListening = (): void => {
      server.off('error', onError);
      resolve();
    };
    server.once('error', onError);
    server.once('listening', onListening);
    server.listen(options);
  });
}

function closeServer(server: net.Server): Promise<void> {
  return new Promise((resolve) => {
    if (!server.listening) {
      resolve();
      return;
    }
    server.close(() => resolve());
  });
}

async function resolveBindAddresses(address: string | undefined): Promise<string[]> {
  if (address === undefined || address === '') return ['0.0.0.0', '::'];
  if (net.isIP(address) !== 0) return [address];
  const found = await dns.lookup(address, { all: true, verbatim: true });
  return [...new Set(found.map((entry) => entry.address))];
}

/**
 * Binds listening TCP servers on `port` for every address `address` resolves
 * to, like Tornado's `bind_sockets`: no address means all IPv4 and all IPv6
 * interfaces (`0.0.0.0` and `::`, the latter IPv6-only so the two do not
 * clash), `localhost` means `127.0.0.1` and `::1`. With port 0 the first server
 * gets a free port and the others reuse it. An IPv6 address the host cannot
 * bind (IPv6 disabled) is skipped when it was implied by `undefined` or
 * `localhost`. The servers are listening but have no connection handler yet:
 * see {@link addAcceptHandler}.
 * @throws {VesperError} `VESPER_WEB_BIND_FAILED` (rejects) with the system error
 *   as `cause`; servers already bound by this call are closed first.
 */
export async function bindSockets(
  port: number,
  address?: string,
  options: { backlog?: number } = {},
): Promise<net.Server[]> {
  const backlog = options.backlog ?? DEFAULT_BACKLOG;
  let hosts: string[];
  try {
    hosts = await resolveBindAddresses(address);
  } catch (err) {
    throw new VesperError('VESPER_WEB_BIND_FAILED', `Cannot resolve ${address}`, { cause: err });
  }
  const implied = address === undefined || address === '' || address === 'localhost';
  const servers: net.Server[] = [];
  let boundPort = port;
  for (const host of hosts) {
    const server = net.createServer();
    const v6 = net.isIPv6(host);
    try {
      await listen(server, { host, port: boundPort, backlog, ipv6Only: v6 });
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (v6 && implied && (code === 'EADDRNOTAVAIL' || code === 'EAFNOSUPPORT')) continue;
      await Promise.all(servers.map(closeServer));
      throw new VesperError(
        'VESPER_WEB_BIND_FAILED',
        `Cannot listen on ${v6 ? `[${host}]` : host}:${boundPort}: ${(err as Error).message}`,
        { cause: err },
      );
    }
    if (boundPort === 0) boundPort = (server.address() as net.AddressInfo).port;
    servers.push(server);
  }
  if (servers.length === 0) {
    throw new VesperError('VESPER_WEB_BIND_FAILED', `No address to listen on for ${address}`);
  }
  return servers;
}

/**
 * Binds a listening Unix-domain socket at `path` and sets its mode (default
 * 0600), like Tornado's `bind_unix_socket`. A socket file left behind by a
 * dead process is replaced; a socket somebody still answers on is not, and
 * any other kind of file is refused. A Linux abstract name (`"\0name"`) is
 * bound as it is. Note that the socket exists with the umask's mode for the
 * moment between bind and chmod: keep it in a 0700 directory.
 * @throws {VesperError} (rejects) `VESPER_WEB_NOT_A_SOCKET` if `path` is another
 *   kind of file, `VESPER_WEB_SOCKET_IN_USE` if a live server answers on it,
 *   `VESPER_WEB_BIND_FAILED` for other bind errors.
 */
export async function bindUnixSocket(
  path: string,
  mode = 0o600,
  options: { backlog?: number } = {},
): Promise<net.Server> {
  const abstract = path.startsWith('\0');
  if (!abstract) {
    let state;
    try {
      state = await probeUnixSocket(path);
    } catch (err) {
      throw new VesperError('VESPER_WEB_BIND_FAILED', `Cannot inspect ${path}`, { cause: err });
    }
    if (state === 'other') {
      throw new VesperError(
        'VESPER_WEB_NOT_A_SOCKET',
        `Refusing to replace ${path}: it exists and is not a socket`,
      );
    }
    if (state === 'live') {
      throw new VesperError(
        'VESPER_WEB_SOCKET_IN_USE',
        `Refusing to replace ${path}: another server is listening on it`,
      );
    }
    if (state === 'stale') {
      await unlink(path).catch((err: NodeJS.ErrnoException) => {
        if (err.code !== 'ENOENT') throw err;
      });
    }
  }
  const server = net.createServer();
  try {
    await listen(server, { path, backlog: options.backlog ?? DEFAULT_BACKLOG });
    if (!abstract) await chmod(path, mode);
  } catch (err) {
    await closeServer(server);
    throw new VesperError(
      'VESPER_WEB_BIND_FAILED',
      `Cannot listen on ${path}: ${(err as Error).message}`,
      { cause: err },
    );
  }
  return server;
}

/**
 * Calls `callback(stream, address)` for every connection `server` accepts,
 * wrapped in an {@link IOStream} with `streamOptions`. Returns a function that
 * removes the handler (the server keeps listening; close it to stop).
 */
export function addAcceptHandler(
  server: net.Server,
  callback: (stream: IOStream, address: AcceptedAddress) => void,
  streamOptions: IOStreamOptions = {},
): () => void {
  const onConnection = (socket: net.Socket): void => {
    callback(new IOStream(socket, streamOptions), acceptedAddress(socket));
  };
  server.on('connection', onConnection);
  return () => {
    server.off('connection', onConnection);
  };
}
