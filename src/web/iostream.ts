/**
 * @module IOStream: Tornado's promise-based reads (until a delimiter or regex,
 * n bytes, into a buffer, until close) and flushed writes over one Node socket.
 */
import net from 'node:net';
import tls from 'node:tls';
import { VesperError } from '../shared/errors/index.js';
import {
  StreamBufferFullError,
  StreamClosedError,
  UnsatisfiableReadError,
} from './iostream-errors.js';

/** Tornado's default `max_buffer_size`: 100 MiB. */
export const DEFAULT_MAX_BUFFER_SIZE = 100 * 1024 * 1024;
/** Tornado's default `read_chunk_size`: 64 KiB. */
export const DEFAULT_READ_CHUNK_SIZE = 64 * 1024;

/** Options of an {@link IOStream}. */
export interface IOStreamOptions {
  /**
   * Largest read buffer a pending read may grow before the stream fails it with
   * {@link StreamBufferFullError} and closes. Default 100 MiB.
   */
  maxBufferSize?: number;
  /** Largest write backlog; a write past it is refused. Default: no limit. */
  maxWriteBufferSize?: number;
  /**
   * How much unrequested data is buffered while no read is pending before the
   * socket is paused (read-side backpressure). Default 64 KiB.
   */
  readChunkSize?: number;
  /** For a TLS socket: this end is the server of the handshake. Default false. */
  serverSide?: boolean;
  /** For a TLS socket: its handshake is already done (e.g. from `tls.connect`'s callback). */
  handshakeComplete?: boolean;
}

/** Options of {@link IOStream.connect}. */
export interface ConnectOptions extends Omit<IOStreamOptions, 'serverSide' | 'handshakeComplete'> {
  /** Connect with TLS; `true` uses Node's defaults (certificate verified against the system CAs). */
  tls?: tls.ConnectionOptions | boolean;
  /** Give up connecting after this many seconds. Default: the OS's own timeout. */
  timeout?: number;
}

/**
 * Options of {@link IOStream.startTls}: the side of the handshake, then Node's
 * `tls.createServer` options (server side) or `tls.connect` options (client side).
 */
export type StartTlsOptions =
  | ({ serverSide: true } & tls.TlsOptions)
  | ({ serverSide: false } & Omit<tls.ConnectionOptions, 'socket'>);

type Pending =
  | { kind: 'until'; delimiter: Buffer; maxBytes: number | undefined; done: (b: Buffer) => void }
  | { kind: 'regex'; regex: RegExp; maxBytes: number | undefined; done: (b: Buffer) => void }
  | { kind: 'bytes'; n: number; partial: boolean; done: (b: Buffer) => void }
  | { kind: 'into'; target: Uint8Array; partial: boolean; done: (n: number) => void }
  | { kind: 'close'; done: (b: Buffer) => void };

type PendingRead = Pending & { fail: (err: Error) => void };

interface Waiter {
  resolve: () => void;
  reject: (err: Error) => void;
}

/** Node's TLS server options (key, cert, ca, requestCert, rejectUnauthorized, ALPN, ...). */
export type ServerTlsOptions = tls.TlsOptions;

/**
 * Runs the server side of a TLS handshake on an accepted (or STARTTLS) plain
 * socket and resolves with the TLS socket once it is done. The socket is
 * injected into a `tls.Server` (Node's documented way), so client
 * certificates are verified exactly as Node's own TLS servers do: with
 * `requestCert`, and `rejectUnauthorized` left true, a client without a
 * certificate that verifies against `ca` is refused.
 * @throws {StreamClosedError} (rejects) whose `realError` is the TLS error, or
 *   `VESPER_WEB_TLS_UNAUTHORIZED` for a refused client certificate.
 */
export function serverHandshake(
  socket: net.Socket,
  options: ServerTlsOptions,
): Promise<tls.TLSSocket> {
  // A server of its own, so that its events can only be about this socket.
  const server = tls.createServer(options);
  return new Promise((resolve, reject) => {
    const cleanup = (): void => {
      server.off('secureConnection', onSecure);
      server.off('tlsClientError', onClientError);
      socket.off('close', onClose);
    };
    const onSecure = (secure: tls.TLSSocket): void => {
      cleanup();
      resolve(secure);
    };
    const onClientError = (err: Error): void => {
      cleanup();
      socket.destroy();
      reject(new StreamClosedError(err));
    };
    const onClose = (): void => {
      cleanup();
      reject(
        new StreamClosedError(
          new VesperError(
            'VESPER_WEB_TLS_UNAUTHORIZED',
            'The TLS handshake did not complete (client certificate refused or connection lost)',
          ),
        ),
      );
    };
    server.on('secureConnection', onSecure);
    server.on('tlsClientError', onClientError);
    socket.once('close', onClose);
    server.emit('connection', socket);
  });
}

/**
 * A byte stream over a connected `net.Socket` or `tls.TLSSocket`, with Tornado's
 * read and write API. Reads resolve with Buffers; only one read may be
 * outstanding at a time. Incoming data is kept as a list of chunks and copied
 * only when a result spans chunks (or a regex needs contiguous bytes).
 *
 * Closing, as Tornado: when the stream closes (peer EOF, error, `close()`),
 * a pending read that the buffered data can satisfy still succeeds (a
 * `readUntilClose` resolves with everything buffered), and so do reads started
 * later that the buffer satisfies; anything else fails with
 * {@link StreamClosedError}, whose `realError` says why.
 *
 * Backpressure: while no read is pending and `readChunkSize` bytes are
 * buffered, the socket is paused (so the peer's writes eventually block); a
 * write's promise resolves only once Node has handed the bytes to the OS and,
 * if `write()` reported a full buffer, after `'drain'`.
 */
export class IOStream {
  #socket: net.Socket;
  #chunks: Buffer[] = [];
  #size = 0;
  /** Absolute offset from which the next delimiter search may start. */
  #scanFrom = 0;
  #pending: PendingRead | null = null;
  #closed = false;
  #socketClosed = false;
  #eof = false;
  #error: Error | undefined;
  #closeCallback: (() => void) | null = null;
  #writesInFlight = 0;
  #needDrain = false;
  #drainWaiters: Waiter[] = [];
  #handshakeState: 'none' | 'pending' | 'done' | 'failed';
  #handshakeWaiters: Waiter[] = [];
  readonly #maxBufferSize: number;
  readonly #maxWriteBufferSize: number | undefined;
  readonly #readChunkSize: number;
  readonly #serverSide: boolean;

  /**
   * Wraps a connected socket. The stream takes the socket over: it listens to
   * its data and may pause it.
   */
  constructor(socket: net.Socket, options: IOStreamOptions = {}) {
    this.#socket = socket;
    this.#maxBufferSize = options.maxBufferSize ?? DEFAULT_MAX_BUFFER_SIZE;
    this.#maxWriteBufferSize = options.maxWriteBufferSize;
    this.#readChunkSize = options.readChunkSize ?? DEFAULT_READ_CHUNK_SIZE;
    this.#serverSide = options.serverSide ?? false;
    if (socket instanceof tls.TLSSocket) {
      this.#handshakeState = options.handshakeComplete === true ? 'done' : 'pending';
      if (this.#handshakeState === 'pending') {
        socket.once(this.#serverSide ? 'secure' : 'secureConnect', this.#onSecure);
      }
    } else {
      this.#handshakeState = 'none';
    }
    socket.on('data', this.#onData);
    socket.on('end', this.#onEnd);
    socket.on('error', this.#onError);
    socket.on('close', this.#onClose);
    socket.on('drain', this.#onDrain);
    if (socket.destroyed) queueMicrotask(() => this.#onClose());
  }

  /**
   * Connects to `host:port` (or to a Unix socket with `{path}`), with TLS when
   * `options.tls` is set, and resolves once connected (and the TLS handshake,
   * including certificate verification, is done).
   * @throws {StreamClosedError} (rejects) whose `realError` is the system error
   *   (`ECONNREFUSED`, `ENOENT`, ...), the TLS error, or a
   *   `VESPER_WEB_CONNECT_TIMEOUT` error.
   */
  static connect(host: string, port: number, options?: ConnectOptions): Promise<IOStream>;
  static connect(
    target: { path: string } | { host: string; port: number },
    options?: ConnectOptions,
  ): Promise<IOStream>;
  static connect(
    a: string | { path: string } | { host: string; port: number },
    b?: number | ConnectOptions,
    c?: ConnectOptions,
  ): Promise<IOStream> {
    const target = typeof a === 'string' ? { host: a, port: b as number } : a;
    const options = (typeof a === 'string' ? c : (b as ConnectOptions | undefined)) ?? {};
    const useTls = options.tls !== undefined && options.tls !== false;
    let socket: net.Socket;
    if (useTls) {
      const tlsOptions = options.tls === true ? {} : (options.tls as tls.ConnectionOptions);
      const servername = 'host' in target && net.isIP(target.host) === 0 ? target.host : undefined;
      socket = tls.connect({ servername, ...tlsOptions, ...target });
    } else {
      socket = net.connect(target);
    }
    return new Promise<IOStream>((resolve, reject) => {
      let timer: NodeJS.Timeout | undefined;
      const cleanup = (): void => {
        if (timer !== undefined) clearTimeout(timer);
        socket.off('error', onError);
        socket.off(useTls ? 'secureConnect' : 'connect', onConnect);
      };
      const onError = (err: Error): void => {
        cleanup();
        socket.destroy();
        reject(new StreamClosedError(err));
      };
      const onConnect = (): void => {
        cleanup();
        const { tls: _tls, timeout: _timeout, ...streamOptions } = options;
        resolve(new IOStream(socket, { ...streamOptions, handshakeComplete: true }));
      };
      socket.once('error', onError);
      socket.once(useTls ? 'secureConnect' : 'connect', onConnect);
      if (options.timeout !== undefined) {
        timer = setTimeout(() => {
          onError(
            new VesperError(
              'VESPER_WEB_CONNECT_TIMEOUT',
              `Timed out connecting after ${options.timeout} s`,
            ),
          );
        }, options.timeout * 1000);
      }
    });
  }

  /** The underlying socket (a `tls.TLSSocket` for a TLS stream). */
  get socket(): net.Socket {
    return this.#socket;
  }

  /** True once the stream is closed, by either side or by an error. */
  get closed(): boolean {
    return this.#closed;
  }

  /** The error that closed the stream, if it closed because of one (Tornado's `error`). */
  get error(): Error | undefined {
    return this.#error;
  }

  /** The read buffer limit in bytes. */
  get maxBufferSize(): number {
    return this.#maxBufferSize;
  }

  /** The write backlog limit in bytes (`undefined`: unlimited). */
  get maxWriteBufferSize(): number | undefined {
    return this.#maxWriteBufferSize;
  }

  /** Bytes received and not yet consumed by a read. */
  get bufferedBytes(): number {
    return this.#size;
  }

  /** True when this stream runs over TLS. */
  get isTls(): boolean {
    return this.#handshakeState !== 'none';
  }

  /** True while a read is outstanding. */
  reading(): boolean {
    return this.#pending !== null;
  }

  /** True while written data has not yet been handed to the OS. */
  writing(): boolean {
    return this.#writesInFlight > 0 || this.#socket.writableLength > 0;
  }

  /**
   * Reads up to and including `delimiter` (a string is UTF-8 encoded).
   * With `maxBytes`, a delimiter that does not end within the first `maxBytes`
   * bytes fails the read with {@link UnsatisfiableReadError} and closes the
   * stream (ending exactly at `maxBytes` is allowed).
   * @throws {VesperError} `VESPER_WEB_STREAM_ALREADY_READING` (synchronously) if a read is outstanding.
   * @throws {StreamClosedError} (rejects) if the stream closes first.
   * @throws {StreamBufferFullError} (rejects) if the buffer passes `maxBufferSize` first.
   */
  readUntil(delimiter: string | Buffer, maxBytes?: number): Promise<Buffer> {
    const d = typeof delimiter === 'string' ? Buffer.from(delimiter, 'utf8') : delimiter;
    if (d.length === 0) {
      throw new VesperError('VESPER_WEB_STREAM_BAD_READ', 'readUntil needs a non-empty delimiter');
    }
    return this.#read<Buffer>((done) => ({ kind: 'until', delimiter: d, maxBytes, done }));
  }

  /**
   * Reads up to and including the first match of `regex`, which runs over the
   * buffered bytes decoded as latin1 (one character per byte, so offsets are
   * byte offsets; write byte patterns such as `/\r?\n\r?\n/`). `g`/`y` flags
   * are ignored. `maxBytes` behaves as in {@link readUntil}.
   * @throws as {@link readUntil}.
   */
  readUntilRegex(regex: RegExp, maxBytes?: number): Promise<Buffer> {
    const re = new RegExp(regex.source, regex.flags.replace(/[gy]/g, ''));
    return this.#read<Buffer>((done) => ({ kind: 'regex', regex: re, maxBytes, done }));
  }

  /**
   * Reads exactly `n` bytes, or with `partial` as soon as 1 to `n` bytes are
   * available. `readBytes(0)` resolves with an empty Buffer.
   * @throws as {@link readUntil}.
   */
  readBytes(n: number, options: { partial?: boolean } = {}): Promise<Buffer> {
    if (!Number.isInteger(n) || n < 0) {
      throw new VesperError('VESPER_WEB_STREAM_BAD_READ', `Invalid byte count ${n}`);
    }
    const partial = options.partial ?? false;
    return this.#read<Buffer>((done) => ({ kind: 'bytes', n, partial, done }));
  }

  /**
   * Fills `buffer` from the stream and resolves with the number of bytes
   * written into it: all of it, or with `partial` as soon as at least one byte
   * is available.
   * @throws as {@link readUntil}.
   */
  readInto(buffer: Uint8Array, options: { partial?: boolean } = {}): Promise<number> {
    const partial = options.partial ?? false;
    return this.#read<number>((done) => ({ kind: 'into', target: buffer, partial, done }));
  }

  /**
   * Reads everything until the peer closes and resolves with it (also when the
   * stream is already closed: with what is still buffered).
   * @throws {StreamBufferFullError} (rejects) past `maxBufferSize`.
   */
  readUntilClose(): Promise<Buffer> {
    return this.#read<Buffer>((done) => ({ kind: 'close', done }));
  }

  /**
   * Writes `data` and resolves once it has been handed to the OS (and, when
   * Node's write buffer was full, once it has drained).
   * @throws {StreamClosedError} (rejects) if the stream is or becomes closed first.
   * @throws {StreamBufferFullError} (rejects) when the backlog would pass
   *   `maxWriteBufferSize`; the stream stays open.
   */
  write(data: Uint8Array | string): Promise<void> {
    if (this.#closed || this.#socket.destroyed) {
      return Promise.reject(new StreamClosedError(this.#error));
    }
    const length = typeof data === 'string' ? Buffer.byteLength(data) : data.byteLength;
    if (
      this.#maxWriteBufferSize !== undefined &&
      this.#socket.writableLength + length > this.#maxWriteBufferSize
    ) {
      return Promise.reject(
        new StreamBufferFullError(
          `Reached maximum write buffer size (${this.#maxWriteBufferSize} bytes)`,
        ),
      );
    }
    return new Promise<void>((resolve, reject) => {
      let accepted = true;
      this.#writesInFlight++;
      accepted = this.#socket.write(data, (err) => {
        this.#writesInFlight--;
        if (err !== undefined && err !== null) {
          reject(new StreamClosedError(this.#error ?? err));
        } else if (!accepted && this.#needDrain) {
          this.#drainWaiters.push({ resolve, reject });
        } else {
          resolve();
        }
      });
      if (!accepted) this.#needDrain = true;
    });
  }

  /**
   * Closes the stream: no more reads or writes are accepted, a pending read
   * gets what the buffer can give it or {@link StreamClosedError}, data already
   * written is still flushed, then the socket is destroyed. Idempotent.
   */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#settleClosed();
    const socket = this.#socket;
    if (socket.destroyed) return;
    socket.once('finish', () => socket.destroy());
    socket.end();
  }

  /**
   * Aborts the stream at once: unsent data is dropped and the socket destroyed.
   * `error` becomes the stream's `error` if it has none yet. Idempotent.
   */
  destroy(error?: Error): void {
    if (error !== undefined) this.#error ??= error;
    this.#closed = true;
    this.#settleClosed();
    this.#socket.destroy();
  }

  /**
   * Sets the function called once when the socket has closed (`null` removes
   * it). If the stream has already closed it runs on the next tick.
   */
  setCloseCallback(callback: (() => void) | null): void {
    this.#closeCallback = callback;
    if (callback !== null && this.#socketClosed) setImmediate(() => this.#runCloseCallback());
  }

  /** Enables or disables Nagle's algorithm (Tornado's `set_nodelay`). */
  setNoDelay(value: boolean): void {
    if (!this.#socket.destroyed) this.#socket.setNoDelay(value);
  }

  /**
   * Resolves when the TLS handshake is done (immediately if it is already).
   * @throws {VesperError} `VESPER_WEB_STREAM_NOT_TLS` (rejects) for a plain stream.
   * @throws {StreamClosedError} (rejects) if the handshake fails or the stream closes first.
   */
  waitForHandshake(): Promise<void> {
    switch (this.#handshakeState) {
      case 'none':
        return Promise.reject(
          new VesperError('VESPER_WEB_STREAM_NOT_TLS', 'This stream does not use TLS'),
        );
      case 'done':
        return Promise.resolve();
      case 'failed':
        return Promise.reject(new StreamClosedError(this.#error));
      case 'pending':
        return new Promise((resolve, reject) => this.#handshakeWaiters.push({ resolve, reject }));
    }
  }

  /**
   * Upgrades this plain stream to TLS in place (STARTTLS) and resolves with the
   * new TLS stream once the handshake is done; this stream is then closed
   * without touching the socket. The stream must be idle: no read pending, no
   * write in flight, nothing buffered (data read past the STARTTLS command
   * would otherwise be lost or misread).
   * @throws {VesperError} `VESPER_WEB_STREAM_NOT_IDLE` (rejects) if it is not idle.
   * @throws {StreamClosedError} (rejects) if closed, or if the handshake fails
   *   (`realError` is the TLS error).
   */
  async startTls(options: StartTlsOptions): Promise<IOStream> {
    if (this.#closed) throw new StreamClosedError(this.#error);
    if (this.isTls) {
      throw new VesperError('VESPER_WEB_STREAM_NOT_IDLE', 'This stream already uses TLS');
    }
    if (this.#pending !== null || this.writing() || this.#size > 0) {
      throw new VesperError(
        'VESPER_WEB_STREAM_NOT_IDLE',
        'The stream is not idle (a read is pending, a write is in flight or data is buffered); cannot start TLS',
      );
    }
    const raw = this.#socket;
    this.#detach();
    const streamOptions = {
      maxBufferSize: this.#maxBufferSize,
      maxWriteBufferSize: this.#maxWriteBufferSize,
      readChunkSize: this.#readChunkSize,
    };
    if (options.serverSide) {
      const { serverSide: _side, ...serverOptions } = options;
      const secure = await serverHandshake(raw, serverOptions);
      return new IOStream(secure, { ...streamOptions, serverSide: true, handshakeComplete: true });
    }
    const { serverSide: _side, ...clientOptions } = options;
    const stream = new IOStream(tls.connect({ ...clientOptions, socket: raw }), streamOptions);
    await stream.waitForHandshake();
    return stream;
  }

  // ---- reading ---------------------------------------------------------

  #read<T>(make: (done: (value: T) => void) => Pending): Promise<T> {
    if (this.#pending !== null) {
      throw new VesperError(
        'VESPER_WEB_STREAM_ALREADY_READING',
        'Already reading: only one read may be outstanding on an IOStream',
      );
    }
    return new Promise<T>((resolve, reject) => {
      const pending = make(resolve) as PendingRead;
      pending.fail = reject;
      this.#pending = pending;
      this.#scanFrom = 0;
      this.#tryPending();
      if (this.#pending !== pending) return;
      if (this.#closed || this.#eof) {
        this.#pending = null;
        reject(new StreamClosedError(this.#error));
      } else if (this.#size > this.#maxBufferSize) {
        this.#failBufferFull();
      } else if (this.#socket.isPaused()) {
        this.#socket.resume();
      }
    });
  }

  /** Satisfies the pending read from the buffer if it can. */
  #tryPending(): void {
    const pending = this.#pending;
    if (pending === null) return;
    let end: number;
    try {
      end = this.#findReadEnd(pending);
    } catch (err) {
      this.#pending = null;
      pending.fail(err as Error);
      this.#error ??= err as Error;
      this.destroy();
      return;
    }
    if (end < 0) return;
    this.#pending = null;
    if (pending.kind === 'into') {
      const data = this.#consume(end);
      pending.target.set(data, 0);
      pending.done(end);
    } else {
      pending.done(this.#consume(end));
    }
  }

  /**
   * How many buffered bytes satisfy `pending`, or -1 if more are needed.
   * @throws {UnsatisfiableReadError} when a delimiter cannot end within maxBytes.
   */
  #findReadEnd(pending: Pending): number {
    const ended = this.#eof || this.#closed;
    switch (pending.kind) {
      case 'bytes':
        if (pending.n === 0) return 0;
        if (pending.partial) return this.#size > 0 ? Math.min(pending.n, this.#size) : -1;
        return this.#size >= pending.n ? pending.n : -1;
      case 'into': {
        const n = pending.target.length;
        if (n === 0) return 0;
        if (pending.partial) return this.#size > 0 ? Math.min(n, this.#size) : -1;
        return this.#size >= n ? n : -1;
      }
      case 'close':
        return ended ? this.#size : -1;
      case 'until': {
        const d = pending.delimiter;
        const at = this.#findDelimiter(d);
        if (at >= 0) {
          this.#checkMaxBytes(pending.maxBytes, at + d.length, d);
          return at + d.length;
        }
        this.#scanFrom = Math.max(0, this.#size - d.length + 1);
        this.#checkMaxBytes(pending.maxBytes, this.#size, d);
        return -1;
      }
      case 'regex': {
        if (this.#size === 0) return -1;
        this.#coalesce();
        const match = pending.regex.exec(this.#chunks[0]!.toString('latin1'));
        if (match !== null) {
          const end = match.index + match[0].length;
          this.#checkMaxBytes(pending.maxBytes, end, pending.regex);
          return end;
        }
        this.#checkMaxBytes(pending.maxBytes, this.#size, pending.regex);
        return -1;
      }
    }
  }

  #checkMaxBytes(maxBytes: number | undefined, size: number, what: Buffer | RegExp): void {
    if (maxBytes !== undefined && size > maxBytes) {
      const shown = Buffer.isBuffer(what) ? JSON.stringify(what.toString('latin1')) : String(what);
      throw new UnsatisfiableReadError(`Delimiter ${shown} not found within ${maxBytes} bytes`);
    }
  }

  /**
   * The absolute offset of the first `d` at or after `#scanFrom`, searching
   * chunk by chunk; a match spanning chunks is found in a small window copied
   * around each boundary, so nothing large is copied.
   */
  #findDelimiter(d: Buffer): number {
    const from = this.#scanFrom;
    let base = 0;
    for (const chunk of this.#chunks) {
      const end = base + chunk.length;
      if (end <= from) {
        base = end;
        continue;
      }
      if (d.length > 1 && base > 0) {
        const start = Math.max(from, base - d.length + 1);
        if (start < base) {
          const window = this.#copyRange(start, Math.min(base + d.length - 1, this.#size));
          const at = window.indexOf(d);
          if (at >= 0) return start + at;
        }
      }
      const at = chunk.indexOf(d, Math.max(0, from - base));
      if (at >= 0) return base + at;
      base = end;
    }
    return -1;
  }

  /** Copies the buffered bytes `[start, end)`; used for small windows only. */
  #copyRange(start: number, end: number): Buffer {
    const out = Buffer.allocUnsafe(end - start);
    let base = 0;
    let written = 0;
    for (const chunk of this.#chunks) {
      const chunkEnd = base + chunk.length;
      if (chunkEnd > start && base < end) {
        const from = Math.max(start, base) - base;
        const to = Math.min(end, chunkEnd) - base;
        written += chunk.copy(out, written, from, to);
      }
      if (chunkEnd >= end) break;
      base = chunkEnd;
    }
    return out;
  }

  #coalesce(): void {
    if (this.#chunks.length > 1) this.#chunks = [Buffer.concat(this.#chunks, this.#size)];
  }

  /** Removes and returns the first `n` buffered bytes, without copying when one chunk holds them. */
  #consume(n: number): Buffer {
    this.#scanFrom = 0;
    if (n === 0) return Buffer.alloc(0);
    const first = this.#chunks[0]!;
    let out: Buffer;
    if (first.length === n) {
      this.#chunks.shift();
      out = first;
    } else if (first.length > n) {
      this.#chunks[0] = first.subarray(n);
      out = first.subarray(0, n);
    } else {
      const parts: Buffer[] = [];
      let need = n;
      while (need > 0) {
        const chunk = this.#chunks[0]!;
        if (chunk.length <= need) {
          parts.push(chunk);
          this.#chunks.shift();
          need -= chunk.length;
        } else {
          parts.push(chunk.subarray(0, need));
          this.#chunks[0] = chunk.subarray(need);
          need = 0;
        }
      }
      out = Buffer.concat(parts, n);
    }
    this.#size -= n;
    return out;
  }

  #failBufferFull(): void {
    const err = new StreamBufferFullError(
      `Reached maximum read buffer size (${this.#maxBufferSize} bytes)`,
    );
    const pending = this.#pending;
    this.#pending = null;
    pending?.fail(err);
    this.destroy(err);
  }

  // ---- socket events -------------------------------------------------------

  #onData = (chunk: Buffer): void => {
    this.#chunks.push(chunk);
    this.#size += chunk.length;
    if (this.#pending !== null) {
      this.#tryPending();
      if (this.#pending !== null && this.#size > this.#maxBufferSize) {
        this.#failBufferFull();
        return;
      }
    }
    if (this.#pending === null && this.#size >= this.#readChunkSize && !this.#closed) {
      this.#socket.pause();
    }
  };

  #onEnd = (): void => {
    this.#eof = true;
    this.#closed = true;
    this.#settleClosed();
  };

  #onError = (err: Error): void => {
    this.#error ??= err;
    this.#closed = true;
  };

  #onClose = (): void => {
    if (this.#socketClosed) return;
    this.#socketClosed = true;
    this.#closed = true;
    this.#settleClosed();
    this.#runCloseCallback();
  };

  #onDrain = (): void => {
    this.#needDrain = false;
    const waiters = this.#drainWaiters;
    this.#drainWaiters = [];
    for (const w of waiters) w.resolve();
  };

  #onSecure = (): void => {
    if (this.#handshakeState !== 'pending' || this.#socket.destroyed) return;
    this.#handshakeState = 'done';
    const waiters = this.#handshakeWaiters;
    this.#handshakeWaiters = [];
    for (const w of waiters) w.resolve();
  };

  /** Settles everything waiting on a stream that has just closed. */
  #settleClosed(): void {
    this.#tryPending();
    const pending = this.#pending;
    const closedError = (): StreamClosedError => new StreamClosedError(this.#error);
    if (pending !== null) {
      this.#pending = null;
      pending.fail(closedError());
    }
    if (this.#socketClosed || this.#socket.destroyed) {
      const drain = this.#drainWaiters;
      this.#drainWaiters = [];
      for (const w of drain) w.reject(closedError());
    }
    if (this.#handshakeState === 'pending') {
      this.#handshakeState = 'failed';
      const waiters = this.#handshakeWaiters;
      this.#handshakeWaiters = [];
      for (const w of waiters) w.reject(closedError());
    }
  }

  #runCloseCallback(): void {
    const callback = this.#closeCallback;
    this.#closeCallback = null;
    if (callback !== null) callback();
  }

  /** Hands the socket over (STARTTLS): stop listening, close this stream silently. */
  #detach(): void {
    const socket = this.#socket;
    socket.off('data', this.#onData);
    socket.off('end', this.#onEnd);
    socket.off('error', this.#onError);
    socket.off('close', this.#onClose);
    socket.off('drain', this.#onDrain);
    this.#closed = true;
    this.#closeCallback = null;
  }
}
