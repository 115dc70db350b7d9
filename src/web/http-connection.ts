/**
 * @module The connection a request handler writes its response to: the
 * `HTTPConnection` interface and its two adapters, over Node's `ServerResponse`
 * and over the raw socket of a request that came through the `'upgrade'` event.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import { VesperError } from '../shared/errors/index.js';
import type { HTTPHeaders } from './httputil.js';

/** The status line of a response. */
export interface ResponseStatus {
  code: number;
  reason: string;
}

/** What a request that arrived through Node's `'upgrade'` event carries. */
export interface UpgradeInfo {
  req: IncomingMessage;
  socket: Duplex;
  head: Buffer;
}

/**
 * Where a handler's response goes (Tornado's `HTTPConnection`). Writes are in
 * order; `write` resolves when the chunk was handed to the OS or the socket
 * drained, and rejects with `VESPER_WEB_STREAM_CLOSED` when the client is gone.
 */
export interface HTTPConnection {
  /** Sends the status line and headers, and `chunk` as the start of the body. */
  writeHeaders(status: ResponseStatus, headers: HTTPHeaders, chunk?: Buffer): Promise<void>;
  /** Sends a chunk of the body (framing is the connection's business). */
  write(chunk: Buffer): Promise<void>;
  /** Ends the response. */
  finish(): void;
  /** `cb` runs once if the client goes away before `finish()`; null removes it. */
  setCloseCallback(cb: (() => void) | null): void;
  /** True once the client went away or the response ended and the socket closed. */
  readonly closed: boolean;
  /** Present when the request came through the `'upgrade'` event. */
  upgrade?: UpgradeInfo;
}

/** The error a write to a closed connection rejects with. */
export function streamClosedError(): VesperError {
  return new VesperError('VESPER_WEB_STREAM_CLOSED', 'The client closed the connection.');
}

function flatHeaders(headers: HTTPHeaders): string[] {
  const out: string[] = [];
  for (const [name, value] of headers) out.push(name, value);
  return out;
}

/**
 * An {@link HTTPConnection} over Node's `ServerResponse`. Node frames the body
 * (Content-Length or chunked, nothing for HEAD/204/304) and keeps the
 * connection alive; a write that fills the socket buffer resolves on `drain`.
 */
export class ServerResponseConnection implements HTTPConnection {
  readonly #res: ServerResponse;
  #closeCallback: (() => void) | null = null;
  #closed = false;
  #finished = false;
  #drainWaiters: (() => void)[] = [];

  constructor(res: ServerResponse) {
    this.#res = res;
    res.sendDate = false;
    res.on('close', () => {
      this.#closed = true;
      this.#wakeDrainWaiters();
      if (!this.#finished || !res.writableFinished) {
        const cb = this.#closeCallback;
        this.#closeCallback = null;
        if (cb !== null) cb();
      }
    });
  }

  get closed(): boolean {
    return this.#closed;
  }

  /** The Node response underneath. */
  get response(): ServerResponse {
    return this.#res;
  }

  writeHeaders(status: ResponseStatus, headers: HTTPHeaders, chunk?: Buffer): Promise<void> {
    if (this.#closed) return Promise.reject(streamClosedError());
    this.#res.writeHead(status.code, status.reason, flatHeaders(headers));
    if (chunk !== undefined && chunk.length > 0) return this.write(chunk);
    return Promise.resolve();
  }

  write(chunk: Buffer): Promise<void> {
    if (this.#closed) return Promise.reject(streamClosedError());
    if (chunk.length === 0) return Promise.resolve();
    if (this.#res.write(chunk)) return Promise.resolve();
    return new Promise((resolve, reject) => {
      this.#drainWaiters.push(() => (this.#closed ? reject(streamClosedError()) : resolve()));
      if (this.#drainWaiters.length === 1) this.#res.once('drain', () => this.#wakeDrainWaiters());
    });
  }

  #wakeDrainWaiters(): void {
    const waiters = this.#drainWaiters;
    this.#drainWaiters = [];
    for (const w of waiters) w();
  }

  finish(): void {
    if (this.#finished) return;
    this.#finished = true;
    this.#closeCallback = null;
    if (!this.#closed) this.#res.end();
  }

  setCloseCallback(cb: (() => void) | null): void {
    this.#closeCallback = cb;
  }
}

/**
 * An {@link HTTPConnection} over the raw socket of a request that came through
 * the `'upgrade'` event but is answered as plain HTTP (a 404 or a refused
 * WebSocket handshake): it writes the status line, the headers (with
 * `Connection: close`) and the body itself, then closes the socket and
 * destroys it once the answer is flushed.
 */
export class RawSocketConnection implements HTTPConnection {
  readonly upgrade: UpgradeInfo;
  readonly #socket: Duplex;
  readonly #isHead: boolean;
  #closeCallback: (() => void) | null = null;
  #closed = false;
  #finished = false;
  #chunked = false;

  constructor(req: IncomingMessage, socket: Duplex, head: Buffer) {
    this.upgrade = { req, socket, head };
    this.#socket = socket;
    this.#isHead = req.method === 'HEAD';
    socket.on('close', () => {
      this.#closed = true;
      const cb = this.#closeCallback;
      this.#closeCallback = null;
      if (cb !== null && !this.#finished) cb();
    });
    socket.on('error', () => {
      /* the 'close' that follows reports it */
    });
  }

  get closed(): boolean {
    return this.#closed || this.#socket.destroyed;
  }

  writeHeaders(status: ResponseStatus, headers: HTTPHeaders, chunk?: Buffer): Promise<void> {
    if (this.closed) return Promise.reject(streamClosedError());
    const noBody = status.code === 204 || status.code === 304 || status.code < 200;
    this.#chunked = !noBody && !this.#isHead && !headers.has('Content-Length');
    let head = `HTTP/1.1 ${status.code} ${status.reason}\r\n`;
    for (const [name, value] of headers) {
      if (name.toLowerCase() === 'connection') continue;
      head += `${name}: ${value}\r\n`;
    }
    if (this.#chunked) head += 'Transfer-Encoding: chunked\r\n';
    head += 'Connection: close\r\n\r\n';
    const parts: Buffer[] = [Buffer.from(head, 'latin1')];
    if (chunk !== undefined && chunk.length > 0 && !this.#isHead) parts.push(...this.#frame(chunk));
    return this.#send(Buffer.concat(parts));
  }

  #frame(chunk: Buffer): Buffer[] {
    if (!this.#chunked) return [chunk];
    return [Buffer.from(`${chunk.length.toString(16)}\r\n`, 'latin1'), chunk, Buffer.from('\r\n')];
  }

  #send(data: Buffer): Promise<void> {
    return new Promise((resolve, reject) => {
      if (this.#socket.write(data)) {
        resolve();
        return;
      }
      const done = (): void => {
        this.#socket.off('drain', done);
        this.#socket.off('close', done);
        if (this.closed) reject(streamClosedError());
        else resolve();
      };
      this.#socket.on('drain', done);
      this.#socket.on('close', done);
    });
  }

  write(chunk: Buffer): Promise<void> {
    if (this.closed) return Promise.reject(streamClosedError());
    if (chunk.length === 0 || this.#isHead) return Promise.resolve();
    return this.#send(Buffer.concat(this.#frame(chunk)));
  }

  finish(): void {
    if (this.#finished) return;
    this.#finished = true;
    this.#closeCallback = null;
    if (this.closed) return;
    const socket = this.#socket;
    // The server keeps half-open sockets, so a client that never closes its
    // side would pin the descriptor: destroy once the answer is flushed, and
    // in any case within 10 s.
    const timer = setTimeout(() => socket.destroy(), 10_000);
    timer.unref();
    socket.once('finish', () => socket.destroy());
    socket.once('close', () => clearTimeout(timer));
    if (this.#chunked) socket.end('0\r\n\r\n');
    else socket.end();
  }

  setCloseCallback(cb: (() => void) | null): void {
    this.#closeCallback = cb;
  }
}
