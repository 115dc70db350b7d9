/**
 * @module Helpers for the WebSocket tests: an application on a loopback port,
 * raw handshakes with exact headers, and small async utilities.
 */
import { readdirSync } from 'node:fs';
import { connect, type Socket } from 'node:net';
import { Application, startTestServer, type TestServer } from '../../../src/web/index.js';
import type { ApplicationSettings, Rule } from '../../../src/web/application.js';

export const KEY = 'dGhlIHNhbXBsZSBub25jZQ==';
export const ACCEPT = 's3pPLMBiTxaQ9kYGzzhZRbK+xOo=';

/** A promise with its resolver outside. */
export function deferred<T = void>(): { promise: Promise<T>; resolve: (v: T) => void } {
  let resolve!: (v: T) => void;
  const promise = new Promise<T>((r) => (resolve = r));
  return { promise, resolve };
}

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Polls `condition` every 5 ms until it holds or `timeoutMs` passes. */
export async function until(condition: () => boolean, timeoutMs = 3_000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > end) throw new Error('condition not met in time');
    await sleep(5);
  }
}

/** Servers started by a test file, closed by `closeAll`. */
export class Servers {
  readonly #open: TestServer[] = [];

  async start(rules: Rule[], settings: ApplicationSettings = {}): Promise<TestServer> {
    const server = await startTestServer(new Application(rules, settings));
    this.#open.push(server);
    return server;
  }

  async closeAll(): Promise<void> {
    await Promise.all(this.#open.splice(0).map((s) => s.close()));
  }
}

/** The headers of a well-formed handshake for `port`. */
export function handshakeHeaders(port: number, extra: Record<string, string | null> = {}): string {
  const headers: Record<string, string | null> = {
    Host: `127.0.0.1:${port}`,
    Upgrade: 'websocket',
    Connection: 'Upgrade',
    'Sec-WebSocket-Key': KEY,
    'Sec-WebSocket-Version': '13',
    ...extra,
  };
  return Object.entries(headers)
    .filter((e): e is [string, string] => e[1] !== null)
    .map(([k, v]) => `${k}: ${v}\r\n`)
    .join('');
}

/** A GET handshake request, as bytes. */
export function handshake(
  port: number,
  path: string,
  extra: Record<string, string | null> = {},
  method = 'GET',
): string {
  return `${method} ${path} HTTP/1.1\r\n${handshakeHeaders(port, extra)}\r\n`;
}

/** Parses a raw HTTP response head and body. */
export function parseResponse(raw: Buffer): {
  status: number;
  statusLine: string;
  headers: Map<string, string>;
  body: string;
} {
  const text = raw.toString('latin1');
  const end = text.indexOf('\r\n\r\n');
  const [statusLine = '', ...lines] = text.slice(0, end < 0 ? text.length : end).split('\r\n');
  const headers = new Map<string, string>();
  for (const line of lines) {
    const colon = line.indexOf(':');
    headers.set(line.slice(0, colon).toLowerCase(), line.slice(colon + 1).trim());
  }
  return {
    status: Number(statusLine.split(' ')[1]),
    statusLine,
    headers,
    body: end < 0 ? '' : text.slice(end + 4),
  };
}

/**
 * Sends a handshake on a raw socket and resolves with the response head once it
 * arrived, leaving the socket open (the test ends it).
 */
export function rawUpgrade(
  port: number,
  request: string,
): Promise<{ socket: Socket; head: ReturnType<typeof parseResponse> }> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1');
    let buffer = Buffer.alloc(0);
    const onData = (chunk: Buffer): void => {
      buffer = Buffer.concat([buffer, chunk]);
      if (buffer.includes('\r\n\r\n')) {
        socket.off('data', onData);
        resolve({ socket, head: parseResponse(buffer) });
      }
    };
    socket.on('data', onData);
    socket.on('error', reject);
    socket.write(request);
  });
}

/** The number of open file descriptors of this process (Linux `/proc/self/fd`). */
export function fdCount(): number {
  return readdirSync('/proc/self/fd').length;
}
