/**
 * @module Test helpers for applications: start one on a loopback port, fetch
 * from it, send exact bytes to it, close it (Tornado's `AsyncHTTPTestCase`).
 */
import { connect } from 'node:net';
import { VesperError } from '../shared/errors/index.js';
import type { Application } from './application.js';
import type { WebServer } from './web-server.js';

/** A running test server. */
export interface TestServer {
  /** The loopback port. */
  readonly port: number;
  /** `http://127.0.0.1:<port>`. */
  readonly baseUrl: string;
  /** The server (for `close`/`destroy`). */
  readonly server: WebServer;
  /** The absolute URL of `path`. */
  url(path: string): string;
  /** Global `fetch` against the server; redirects are not followed unless `init.redirect` says so. */
  fetch(path: string, init?: RequestInit): Promise<Response>;
  /**
   * Writes `bytes` on a fresh connection and resolves with every byte received
   * until the server closes it.
   * @throws VesperError `VESPER_WEB_TEST_TIMEOUT` when the server does not close within `timeoutMs`.
   */
  rawRequest(bytes: string | Buffer, timeoutMs?: number): Promise<Buffer>;
  /** Closes the server and its connections. */
  close(): Promise<void>;
}

/** Starts `app` on `127.0.0.1` and an unused port. */
export async function startTestServer(app: Application): Promise<TestServer> {
  const server = await app.listen({ port: 0, host: '127.0.0.1' });
  const port = server.port;
  const baseUrl = `http://127.0.0.1:${port}`;
  return {
    port,
    baseUrl,
    server,
    url: (path) => baseUrl + path,
    fetch: (path, init = {}) => fetch(baseUrl + path, { redirect: 'manual', ...init }),
    rawRequest: (bytes, timeoutMs = 5000) =>
      new Promise<Buffer>((resolve, reject) => {
        const chunks: Buffer[] = [];
        const socket = connect(port, '127.0.0.1');
        const timer = setTimeout(() => {
          socket.destroy();
          reject(
            new VesperError(
              'VESPER_WEB_TEST_TIMEOUT',
              `The server did not close within ${timeoutMs} ms.`,
            ),
          );
        }, timeoutMs);
        socket.on('data', (c: Buffer) => chunks.push(c));
        socket.on('error', () => {
          /* the close that follows resolves with what was received */
        });
        socket.on('close', () => {
          clearTimeout(timer);
          resolve(Buffer.concat(chunks));
        });
        socket.write(bytes);
      }),
    close: () => server.destroy(),
  };
}
