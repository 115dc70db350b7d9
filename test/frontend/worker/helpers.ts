/**
 * @module Test helpers for the frontend worker: a config in a temp dir, a started worker, raw socket clients, session backends on the contract's socket names, and a fake init socket.
 */
import { createHash } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import {
  createServer as createHttpServer,
  type Server as HttpServer,
  type IncomingMessage,
  type ServerResponse,
} from 'node:http';
import { connect, createServer, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { defaultConfig, type VesperConfig } from '../../../src/shared/config/index.js';
import { silentLogger } from '../../../src/shared/log/index.js';
import { startWorker, type StartedWorker } from '../../../src/frontend/worker/index.js';
import {
  ensureSelfSigned,
  needsSelfSigned,
  withCertificate,
} from '../../../src/frontend/master/self-signed.js';

type Mutable<T> = { -readonly [K in keyof T]: T[K] extends object ? Mutable<T[K]> : T[K] };

/** A fresh temp directory (short, so socket paths stay under 108 bytes). */
export function tempDir(): string {
  return mkdtempSync(join(tmpdir(), 'vw-'));
}

/** A config with `var` in `dir`, one plain listener on port 0, and `edit` applied. */
export function testConfig(
  dir: string,
  edit: (c: Mutable<VesperConfig>) => void = () => undefined,
): VesperConfig {
  const c = structuredClone(defaultConfig(dir)) as Mutable<VesperConfig>;
  c.paths.var = dir;
  c.session.socket_dir = join(dir, 's');
  mkdirSync(c.session.socket_dir, { recursive: true, mode: 0o700 });
  c.frontend.listen = [{ port: 0, host: '127.0.0.1', tls: false }];
  c.log.access = false;
  edit(c);
  return c;
}

/** A started worker and its first port. */
export interface TestWorker extends StartedWorker {
  readonly port: number;
  readonly config: VesperConfig;
}

/**
 * Starts a worker for `config` (silent logs unless `log` is given). A TLS
 * listener without `tls.cert` gets the self-signed pair made first, as
 * `vesper start` does before it starts workers.
 */
export async function startTestWorker(
  initial: VesperConfig,
  log = silentLogger,
): Promise<TestWorker> {
  const config = needsSelfSigned(initial)
    ? withCertificate(initial, await ensureSelfSigned(initial.paths.var))
    : initial;
  const started = await startWorker(config, {
    generation: 1,
    foreground: true,
    log,
    channel: { send: () => undefined, onMessage: () => undefined },
  });
  return { ...started, port: started.worker.addresses()[0]!.port, config };
}

/**
 * Sends `data` on a new connection and resolves with everything received
 * until the server closes (or `timeout` ms pass: then `timedOut` is true).
 */
export function rawExchange(
  port: number,
  data: string | Buffer,
  timeout = 3000,
): Promise<{ text: string; closed: boolean; ms: number }> {
  return new Promise((resolve) => {
    const started = Date.now();
    const socket = connect(port, '127.0.0.1');
    const parts: Buffer[] = [];
    const timer = setTimeout(() => {
      socket.destroy();
      resolve({
        text: Buffer.concat(parts).toString('latin1'),
        closed: false,
        ms: Date.now() - started,
      });
    }, timeout);
    socket.on('data', (c: Buffer) => parts.push(c));
    socket.on('error', () => undefined);
    socket.on('close', () => {
      clearTimeout(timer);
      resolve({
        text: Buffer.concat(parts).toString('latin1'),
        closed: true,
        ms: Date.now() - started,
      });
    });
    socket.write(data);
  });
}

/** Status codes of every response in a raw byte string, in order. */
export function statuses(text: string): number[] {
  return [...text.matchAll(/HTTP\/1\.1 (\d{3}) /g)].map((m) => Number(m[1]));
}

/** The session socket name the contract derives from `user` and `key`. */
export function sessionSocket(config: VesperConfig, user: string, key: string): string {
  const id = createHash('sha256').update(`${user}\n${key}`).digest('hex').slice(0, 32);
  return join(config.session.socket_dir, `s-${id}.sock`);
}

/** A session key of the contract's shape. */
export const KEY = 'AbCdEfGhIjKlMnOpQrStUvWx';

/** An HTTP server on a session socket that records what it saw. */
export interface Backend {
  readonly server: HttpServer;
  readonly requests: {
    method: string;
    url: string;
    headers: IncomingMessage['headers'];
    body: string;
  }[];
  /** Connections accepted so far. */
  connections: number;
  close(): Promise<void>;
}

/** Starts an HTTP backend on `path`; `handler` answers (default: 200 with a description). */
export async function startBackend(
  path: string,
  handler?: (req: IncomingMessage, res: ServerResponse, body: string) => void,
): Promise<Backend> {
  const backend: Backend = {
    server: createHttpServer(),
    requests: [],
    connections: 0,
    close: () =>
      new Promise<void>((resolve) => {
        backend.server.closeAllConnections();
        backend.server.close(() => resolve());
      }),
  };
  backend.server.keepAliveTimeout = 60_000;
  backend.server.on('connection', () => backend.connections++);
  backend.server.on('request', (req: IncomingMessage, res: ServerResponse) => {
    const parts: Buffer[] = [];
    req.on('data', (c: Buffer) => parts.push(c));
    req.on('end', () => {
      const body = Buffer.concat(parts).toString('utf8');
      backend.requests.push({ method: req.method!, url: req.url!, headers: req.headers, body });
      if (handler !== undefined) handler(req, res, body);
      else {
        res.setHeader('Content-Type', 'text/plain');
        res.end(`${req.method} ${req.url} ${body}`);
      }
    });
  });
  await new Promise<void>((resolve) => backend.server.listen(path, resolve));
  return backend;
}

/** A fake session server on the init socket that answers each JSON line with `answer(request)`. */
export async function startInitServer(
  config: VesperConfig,
  answer: (request: Record<string, unknown>) => unknown,
): Promise<{ server: Server; requests: Record<string, unknown>[]; close(): Promise<void> }> {
  const requests: Record<string, unknown>[] = [];
  const sockets = new Set<Socket>();
  const server = createServer((socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    let buffered = '';
    socket.on('data', (chunk: Buffer) => {
      buffered += chunk.toString('utf8');
      let nl: number;
      while ((nl = buffered.indexOf('\n')) >= 0) {
        const request = JSON.parse(buffered.slice(0, nl)) as Record<string, unknown>;
        buffered = buffered.slice(nl + 1);
        requests.push(request);
        socket.write(`${JSON.stringify(answer(request))}\n`);
      }
    });
  });
  await new Promise<void>((resolve) =>
    server.listen(join(config.session.socket_dir, 'init.sock'), resolve),
  );
  return {
    server,
    requests,
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
}

/** Removes a temp directory. */
export function removeDir(dir: string): void {
  rmSync(dir, { recursive: true, force: true });
}

/** A simple fetch-like GET/POST over a fresh connection (Connection: close), parsed. */
export async function httpExchange(
  port: number,
  method: string,
  path: string,
  headers: Record<string, string> = {},
  body = '',
): Promise<{ status: number; headers: Record<string, string[]>; body: string; raw: string }> {
  let head = `${method} ${path} HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nConnection: close\r\n`;
  for (const [k, v] of Object.entries(headers)) head += `${k}: ${v}\r\n`;
  if (body !== '' || method === 'POST') head += `Content-Length: ${Buffer.byteLength(body)}\r\n`;
  const { text } = await rawExchange(
    port,
    Buffer.concat([Buffer.from(`${head}\r\n`, 'latin1'), Buffer.from(body)]),
  );
  return parseResponse(text);
}

/** Parses one raw response (Content-Length or chunked body). */
export function parseResponse(raw: string): {
  status: number;
  headers: Record<string, string[]>;
  body: string;
  raw: string;
} {
  const end = raw.indexOf('\r\n\r\n');
  const lines = raw.slice(0, end).split('\r\n');
  const status = Number(lines[0]!.split(' ')[1]);
  const headers: Record<string, string[]> = {};
  for (const line of lines.slice(1)) {
    const c = line.indexOf(':');
    const name = line.slice(0, c).toLowerCase();
    (headers[name] ??= []).push(line.slice(c + 1).trim());
  }
  let body = raw.slice(end + 4);
  if (headers['transfer-encoding']?.[0] === 'chunked') {
    let out = '';
    let rest = body;
    for (;;) {
      const nl = rest.indexOf('\r\n');
      const size = parseInt(rest.slice(0, nl), 16);
      if (!(size > 0)) break;
      out += rest.slice(nl + 2, nl + 2 + size);
      rest = rest.slice(nl + 2 + size + 2);
    }
    body = out;
  } else if (headers['content-length'] !== undefined) {
    body = body.slice(0, Number(headers['content-length'][0]));
  }
  return { status, headers, body: Buffer.from(body, 'latin1').toString('utf8'), raw };
}
