/**
 * @module Where an accountd client connects: a Unix socket, or TCP with TLS.
 */
import type { VesperConfig } from '../../shared/config/index.js';

/** A Unix socket path, or a TLS host and port with optional CA and client certificate (PEM). */
export type AccountdEndpoint =
  | { path: string }
  | {
      host: string;
      port: number;
      /** CA to verify the server with; default the system's. */
      ca?: string | Buffer;
      /** Client certificate and key, for a server that asks for one. */
      cert?: string | Buffer;
      key?: string | Buffer;
      /** Name to check in the server's certificate; default `host`. */
      servername?: string;
    };

/**
 * The endpoint a program on this configuration uses: `accountd.listen` when
 * accountd runs locally; else `accountd.server` (`unix:/path`, or `host:port`
 * with TLS, verified with `accountd.tls.ca` when given). Throws the file read
 * error when a named PEM file cannot be read.
 */
export function endpointFromConfig(config: VesperConfig): AccountdEndpoint {
  const server = config.accountd.server;
  if (server === null) return { path: config.accountd.listen };
  if (server.startsWith('unix:')) return { path: server.slice('unix:'.length) };
  const colon = server.lastIndexOf(':');
  const host = server.slice(0, colon).replace(/^\[(.*)\]$/, '$1');
  const port = Number(server.slice(colon + 1));
  return { host, port };
}
