/**
 * @module `WebSocketHandler`, the base class of WebSocket endpoints (Tornado's
 * `tornado.websocket.WebSocketHandler`): the handshake as an ordinary request,
 * then a message-based connection on the `ws` package.
 */
import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import type { WebSocketServer, WebSocket, ServerOptions } from 'ws';
import { VesperError } from '../../shared/errors/index.js';
import type { HeaderValue } from '../request-handler.js';
import { RequestHandler } from '../request-handler.js';
import type { CookieOptions } from '../set-cookie.js';
import { perMessageDeflate, type WebSocketCompressionOptions } from './compression-options.js';
import { Keepalive, keepaliveSettings } from './keepalive.js';
import { DEFAULT_MAX_MESSAGE_SIZE } from './max-message-size.js';
import { WebSocketClosedError } from './websocket-errors.js';
import {
  checkCloseArguments,
  decodeMessage,
  encodeMessage,
  pingPayload,
  receivedCloseCode,
  receivedCloseReason,
  type ReceivedMessage,
  type WebSocketMessage,
  type WriteMessageOptions,
} from './websocket-message.js';

/** RFC 6455 §4.1: the key is 16 random bytes in base64. */
const KEY_PATTERN = /^[+/0-9A-Za-z]{22}==$/;

/** RFC 7230 token characters, for subprotocol names. */
const TOKEN_PATTERN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;

/** Headers of the handler that never go into the `101` answer. */
const HANDSHAKE_OWNED_HEADERS = new Set([
  'connection',
  'upgrade',
  'content-type',
  'content-length',
  'transfer-encoding',
  'sec-websocket-accept',
  'sec-websocket-protocol',
  'sec-websocket-extensions',
]);

/** Messages queued beyond this pause reading from the socket until they are delivered. */
const QUEUE_HIGH_WATER = 8;

/** Default of the `websocketCloseTimeout` setting (Tornado's fixed 5 s). */
const DEFAULT_CLOSE_TIMEOUT_MS = 5_000;

/** What a refused handshake answers. */
interface Refusal {
  status: number;
  reason?: string;
  message: string;
  headers?: Record<string, string>;
}

/** One upgrade in flight through a `WebSocketServer`, found again from its request. */
interface PendingUpgrade {
  subprotocol: string | null;
  headers: [string, string][];
  clientError: Error | null;
}

const pendingUpgrades = new WeakMap<IncomingMessage, PendingUpgrade>();

/**
 * `ws` servers in `noServer` mode, one per combination of options (compression,
 * size limit, close timeout), shared by all connections with those options.
 * They hold no sockets (`clientTracking: false`); the options are the state.
 */
const servers = new Map<string, WebSocketServer>();
const MAX_CACHED_SERVERS = 32;

/**
 * The `ws` server class, imported on the first handshake that gets that far:
 * a process that never upgrades a connection (most session processes) does
 * not load `ws` and `zlib` at all.
 */
let wsServerClass: Promise<typeof WebSocketServer> | null = null;

function loadWebSocketServer(): Promise<typeof WebSocketServer> {
  wsServerClass ??= import('ws').then((m) => m.WebSocketServer);
  return wsServerClass;
}

function serverFor(
  WebSocketServerClass: typeof WebSocketServer,
  compression: WebSocketCompressionOptions | null,
  maxPayload: number,
  closeTimeout: number,
): WebSocketServer {
  const deflate = perMessageDeflate(compression);
  const key = JSON.stringify([deflate, maxPayload, closeTimeout]);
  const cached = servers.get(key);
  if (cached !== undefined) return cached;
  // `closeTimeout` is understood by ws 8.23 but not yet in @types/ws.
  const options: ServerOptions & { closeTimeout: number } = {
    noServer: true,
    clientTracking: false,
    perMessageDeflate: deflate,
    maxPayload,
    closeTimeout,
    handleProtocols: (_offered, req: IncomingMessage) =>
      pendingUpgrades.get(req)?.subprotocol ?? false,
  };
  const server = new WebSocketServerClass(options);
  server.on('headers', (lines: string[], req: IncomingMessage) => {
    const pending = pendingUpgrades.get(req);
    if (pending === undefined) return;
    for (const [name, value] of pending.headers) lines.push(`${name}: ${value}`);
  });
  // With a listener here, ws leaves a refusal to us instead of writing its own.
  server.on('wsClientError', (err: Error, socket: Duplex, req: IncomingMessage) => {
    const pending = pendingUpgrades.get(req);
    if (pending !== undefined) pending.clientError = err;
    else socket.destroy();
  });
  if (servers.size < MAX_CACHED_SERVERS) servers.set(key, server);
  return server;
}

/**
 * The subprotocols a client offered, in order, or `null` when the header is
 * malformed (not a comma-separated list of distinct tokens).
 */
export function parseSubprotocols(header: string | undefined): string[] | null {
  if (header === undefined) return [];
  const offered: string[] = [];
  for (const part of header.split(',')) {
    const name = part.trim();
    if (!TOKEN_PATTERN.test(name) || offered.includes(name)) return null;
    offered.push(name);
  }
  return offered;
}

function notSupported(): VesperError {
  return new VesperError('VESPER_WEB_DETACHED', 'Method not supported for WebSockets.');
}

/**
 * Subclass to make a WebSocket endpoint; override `open`, `onMessage` and
 * `onClose`, and talk with `writeMessage`, `ping` and `close`.
 *
 * ```ts
 * class Echo extends WebSocketHandler {
 *   override onMessage(message: string | Buffer) {
 *     return this.writeMessage(message);
 *   }
 * }
 * new Application([['/echo', Echo]]);
 * ```
 *
 * Life cycle. The handshake is an ordinary GET: `initialize` and `prepare` run
 * as for any handler, then the handshake is checked in Tornado's order (each
 * refusal is an HTTP answer and the socket is closed afterwards):
 *
 * | check | answer |
 * | --- | --- |
 * | method other than GET | 405 (RequestHandler's default) |
 * | `Upgrade` is not `websocket` | 400 `Can "Upgrade" only to "WebSocket".` |
 * | `Connection` lacks `upgrade` | 400 `"Connection" must be "Upgrade".` |
 * | `Origin` present and `checkOrigin(origin)` false | 403 `Cross origin websockets not allowed` |
 * | `Sec-WebSocket-Version` not 7, 8 or 13 | 426 with `Sec-WebSocket-Version: 7, 8, 13` |
 * | `Host` or `Sec-WebSocket-Key` missing or invalid | 400 `Missing/Invalid WebSocket headers` |
 * | `Sec-WebSocket-Protocol` malformed | 400 `Invalid Sec-WebSocket-Protocol header` |
 * | `authorizeUpgrade()` throws `HttpError` | that error's page (e.g. 401) |
 *
 * Then `selectSubprotocol` picks a subprotocol, `getCompressionOptions` says
 * whether to accept permessage-deflate, the `101` goes out (with the headers
 * and cookies `setDefaultHeaders`/`prepare` set, except content headers), the handler is
 * detached (HTTP output methods throw `VESPER_WEB_DETACHED` from now on) and
 * `open(...pathArgs)` runs. No message is delivered before `open` completes,
 * and the next message is not delivered before `onMessage` completes (both may
 * be async): per-connection order and backpressure, as Tornado. When the
 * connection ends, `onClose` runs exactly once, after the last delivered
 * message, with `closeCode` and `closeReason` set. An exception in `open` or
 * `onMessage` is logged and the connection aborted.
 *
 * ```
 *   OPEN ──close()──▶ CLOSING ──peer's close frame or 5 s──▶ CLOSED ─▶ onClose()
 *     │                                                       ▲
 *     └──peer's close frame (echoed) / network failure────────┘
 * ```
 *
 * Settings: `websocketPingInterval` / `websocketPingTimeout` (milliseconds;
 * the timeout defaults to and is capped at the interval; expiry closes with
 * 1000 "ping timed out"), `websocketMaxMessageSize` (bytes, default 10 MiB,
 * checked after decompression too; larger → close 1009),
 * `websocketCloseTimeout` (milliseconds to wait for the peer's close frame,
 * default 5,000).
 */
export class WebSocketHandler extends RequestHandler {
  /** The code the peer closed with, or `null` (none sent, or still open). */
  closeCode: number | null = null;
  /** The reason the peer closed with, or `null` (none sent, or still open). */
  closeReason: string | null = null;

  #ws: WebSocket | null = null;
  #selectedSubprotocol: string | null = null;
  #openArgs: (string | undefined)[] = [];
  #keepalive: Keepalive | null = null;
  #queue: ReceivedMessage[] = [];
  #delivering = false;
  #opened = false;
  #aborted = false;
  #connectionClosed = false;
  #onCloseCalled = false;

  /** The subprotocol `selectSubprotocol` chose, once the connection is open. */
  get selectedSubprotocol(): string | null {
    return this.#selectedSubprotocol;
  }

  /** True once the WebSocket is open and not yet closing. */
  get isOpen(): boolean {
    return this.#ws !== null && this.#ws.readyState === this.#ws.OPEN;
  }

  // ---------------------------------------------------------------- hooks

  /**
   * Runs when the connection is open, with the path groups (as `get` would get
   * them). May be async; messages wait until it completes.
   */
  open(..._args: (string | undefined)[]): void | Promise<void> {}

  /**
   * Handles a message: a string for a text frame, a Buffer for a binary one.
   * May be async; the next message waits until it completes.
   */
  onMessage(_message: ReceivedMessage): void | Promise<void> {}

  /** Runs once when the connection closed, whichever side closed it. */
  onClose(): void {}

  /** Runs when a ping arrives (the pong is sent automatically). */
  onPing(_data: Buffer): void {}

  /** Runs when a pong arrives. */
  onPong(_data: Buffer): void {}

  /**
   * Security hook: may a page from `origin` open this WebSocket? Browsers let
   * any page open a WebSocket to any host and send its cookies along, and
   * WebSockets are not covered by the same-origin policy or CORS, so without
   * this check any web site could act as the user (cross-site WebSocket
   * hijacking). The default accepts only an origin whose host:port equals the
   * request's `Host` exactly (scheme and path ignored; subdomains refused).
   * Override to allow other origins, and be deliberate about it. Not called
   * when the request has no `Origin` header (non-browser clients).
   */
  checkOrigin(origin: string): boolean {
    // The authority as sent (Tornado's `urlparse(origin).netloc.lower()`), not
    // `new URL(origin).host`, which would drop a default port and so accept
    // `http://host:80` for `Host: host`.
    const authority = /^[a-z][a-z0-9+.-]*:\/\/([^/?#]*)/i.exec(origin)?.[1]?.toLowerCase();
    return authority !== undefined && authority === this.request.headers.get('Host');
  }

  /**
   * Picks one of the offered subprotocols (called once, with `[]` when none was
   * offered); `null` selects none. The default selects none.
   */
  selectSubprotocol(_offered: string[]): string | null {
    return null;
  }

  /**
   * permessage-deflate options for this connection, or `null` (the default) for
   * none. Compression is used only if the client offers it too.
   */
  getCompressionOptions(): WebSocketCompressionOptions | null {
    return null;
  }

  /**
   * Last check before the upgrade, after the handshake was validated: throw an
   * `HttpError` (401, 403...) to refuse with an ordinary HTTP answer. May be
   * async. The default accepts. `WebSocketTokenAuth` uses it.
   */
  authorizeUpgrade(): void | Promise<void> {}

  /** Milliseconds between keepalive pings (`websocketPingInterval`); 0 = none. */
  get pingInterval(): number {
    return this.#numberSetting('websocketPingInterval', 0);
  }

  /** Milliseconds to wait for a pong (`websocketPingTimeout`); default and cap: the interval. */
  get pingTimeout(): number | undefined {
    const value = this.settings.websocketPingTimeout;
    return value === undefined ? undefined : this.#numberSetting('websocketPingTimeout', 0);
  }

  /** The largest message accepted, in bytes (`websocketMaxMessageSize`, default 10 MiB). */
  get maxMessageSize(): number {
    return this.#numberSetting('websocketMaxMessageSize', DEFAULT_MAX_MESSAGE_SIZE);
  }

  #numberSetting(name: string, fallback: number): number {
    const value = this.settings[name];
    if (value === undefined) return fallback;
    if (typeof value !== 'number' || !Number.isFinite(value) || value < 0) {
      throw new VesperError('VESPER_WEB_BAD_SETTING', `invalid ${name}: expected a number ≥ 0`);
    }
    return value;
  }

  // ---------------------------------------------------------------- handshake

  /** Performs the handshake (do not override; override `open`). */
  override async get(...args: (string | undefined)[]): Promise<void> {
    this.#openArgs = args;
    const socket = this.request.connection?.upgrade?.socket;
    try {
      await this.#handshake();
    } finally {
      // A refused handshake: once the answer is out, close the socket for good
      // (a client that keeps its side open must not hold the fd).
      if (this.#ws === null && socket !== undefined) closeAfterAnswer(socket);
    }
    if (this.#ws !== null) await this.#runOpen();
  }

  #refuse(refusal: Refusal): Promise<void> {
    this.setStatus(refusal.status, refusal.reason);
    for (const [name, value] of Object.entries(refusal.headers ?? {})) this.setHeader(name, value);
    this.log.debug(`Refused a WebSocket handshake: ${refusal.message}`);
    return this.finish(refusal.message);
  }

  #check(): Refusal | null {
    const headers = this.request.headers;
    if ((headers.get('Upgrade') ?? '').toLowerCase() !== 'websocket') {
      return { status: 400, message: 'Can "Upgrade" only to "WebSocket".' };
    }
    const connection = (headers.get('Connection') ?? '')
      .split(',')
      .map((s) => s.trim().toLowerCase());
    if (!connection.includes('upgrade')) {
      return { status: 400, message: '"Connection" must be "Upgrade".' };
    }
    const origin = headers.get('Origin') ?? headers.get('Sec-WebSocket-Origin');
    if (origin !== undefined && !this.checkOrigin(origin)) {
      return { status: 403, message: 'Cross origin websockets not allowed' };
    }
    const version = headers.get('Sec-WebSocket-Version');
    if (version !== '7' && version !== '8' && version !== '13') {
      return {
        status: 426,
        reason: 'Upgrade Required',
        message: '',
        headers: { 'Sec-WebSocket-Version': '7, 8, 13' },
      };
    }
    const key = headers.get('Sec-WebSocket-Key');
    if (!headers.has('Host') || key === undefined || !KEY_PATTERN.test(key)) {
      return { status: 400, message: 'Missing/Invalid WebSocket headers' };
    }
    if (this.request.connection?.upgrade === undefined) {
      // Reached through handleRequest rather than handleUpgrade: there is no
      // socket to take over.
      return { status: 400, message: 'Missing/Invalid WebSocket headers' };
    }
    if (parseSubprotocols(headers.get('Sec-WebSocket-Protocol')) === null) {
      return { status: 400, message: 'Invalid Sec-WebSocket-Protocol header' };
    }
    return null;
  }

  async #handshake(): Promise<void> {
    const refusal = this.#check();
    if (refusal !== null) {
      await this.#refuse(refusal);
      return;
    }
    await this.authorizeUpgrade();
    if (this.finished) return;
    const upgrade = this.request.connection!.upgrade!;
    const offered = this.offeredSubprotocols();
    const selected = this.selectSubprotocol(offered);
    if (selected !== null && !offered.includes(selected)) {
      throw new VesperError(
        'VESPER_WEB_BAD_SUBPROTOCOL',
        `selectSubprotocol() returned "${selected}", which the client did not offer.`,
      );
    }
    const server = serverFor(
      await loadWebSocketServer(),
      this.getCompressionOptions(),
      this.maxMessageSize,
      this.#numberSetting('websocketCloseTimeout', DEFAULT_CLOSE_TIMEOUT_MS),
    );
    const keepalive = keepaliveSettings(
      this.pingInterval,
      this.pingTimeout,
      (name) => new VesperError('VESPER_WEB_BAD_SETTING', `invalid websocket ${name}`),
    );
    const extraHeaders: [string, string][] = [];
    for (const [name, value] of this.responseHeaders) {
      if (!HANDSHAKE_OWNED_HEADERS.has(name.toLowerCase())) extraHeaders.push([name, value]);
    }
    for (const value of this.pendingSetCookies) extraHeaders.push(['Set-Cookie', value]);
    const pending: PendingUpgrade = {
      subprotocol: selected,
      headers: extraHeaders,
      clientError: null,
    };
    const { req, socket, head } = upgrade;
    // Tornado accepts draft versions 7 and 8 with the RFC's framing; ws knows
    // only 8 and 13, and they frame alike.
    if (req.headers['sec-websocket-version'] === '7') req.headers['sec-websocket-version'] = '13';
    pendingUpgrades.set(req, pending);
    let accepted: WebSocket | null = null;
    try {
      // Without verifyClient, ws completes (or refuses) synchronously.
      server.handleUpgrade(req, socket, head, (ws) => {
        accepted = ws;
      });
    } finally {
      pendingUpgrades.delete(req);
    }
    if (pending.clientError !== null) {
      await this.#refuse({ status: 400, message: pending.clientError.message });
      return;
    }
    if (accepted === null) {
      // ws found the socket already half-closed and destroyed it.
      return;
    }
    this.#selectedSubprotocol = selected;
    this.#attach(accepted, keepalive);
    // The access log shows the upgrade as 101 (set now: afterwards setStatus throws).
    this.setStatus(101);
    this.detach();
  }

  /**
   * The subprotocols the client offered, in order. `WebSocketTokenAuth` leaves
   * its `bearer.` entry out.
   */
  offeredSubprotocols(): string[] {
    return parseSubprotocols(this.request.headers.get('Sec-WebSocket-Protocol')) ?? [];
  }

  // ---------------------------------------------------------------- connection

  #attach(
    ws: WebSocket,
    keepalive: { intervalMs: number; timeoutMs: number | undefined } | null,
  ): void {
    this.#ws = ws;
    ws.on('message', (data, isBinary) => {
      if (this.#aborted) return;
      this.#queue.push(decodeMessage(data, isBinary));
      if (this.#queue.length >= QUEUE_HIGH_WATER && !ws.isPaused) ws.pause();
      this.#deliver();
    });
    ws.on('ping', (data: Buffer) => this.#callHook('onPing', () => this.onPing(data)));
    ws.on('pong', (data: Buffer) => {
      this.#keepalive?.pong();
      this.#callHook('onPong', () => this.onPong(data));
    });
    ws.on('error', (err: Error) => {
      // Protocol violations (oversized message, bad UTF-8, bad frame): ws has
      // already started closing with the right code.
      this.log.info(
        `WebSocket ${this.request.path} (${this.request.remoteIp}) broke the protocol: ${err.message}`,
      );
    });
    ws.once('close', (code: number, reason: Buffer) => {
      this.closeCode = receivedCloseCode(code);
      this.closeReason = receivedCloseReason(reason);
      this.#connectionClosed = true;
      this.#keepalive?.stop();
      this.#deliver();
    });
    if (keepalive !== null) {
      this.#keepalive = new Keepalive(
        {
          sendPing: () => ws.ping(),
          timedOut: () => this.close(1000, 'ping timed out'),
        },
        keepalive.intervalMs,
        keepalive.timeoutMs,
      );
    }
  }

  async #runOpen(): Promise<void> {
    try {
      await this.open(...this.#openArgs);
    } catch (err) {
      this.log.error({ err }, `Uncaught exception in open() of WebSocket ${this.request.path}.`);
      this.#abort();
    }
    this.#opened = true;
    this.#deliver();
  }

  /** Delivers queued messages one at a time, then onClose once closed and drained. */
  #deliver(): void {
    if (!this.#opened || this.#delivering) return;
    const message = this.#queue.shift();
    if (message === undefined) {
      if (this.#ws?.isPaused === true) this.#ws.resume();
      if (this.#connectionClosed && !this.#onCloseCalled) {
        this.#onCloseCalled = true;
        this.#callHook('onClose', () => this.onClose());
      }
      return;
    }
    this.#delivering = true;
    let result: void | Promise<void>;
    try {
      result = this.onMessage(message);
    } catch (err) {
      this.#messageFailed(err);
      return;
    }
    if (result instanceof Promise) {
      result.then(
        () => {
          this.#delivering = false;
          this.#deliver();
        },
        (err: unknown) => this.#messageFailed(err),
      );
      return;
    }
    this.#delivering = false;
    // Synchronous handlers: keep going without growing the stack per message.
    queueMicrotask(() => this.#deliver());
  }

  #messageFailed(err: unknown): void {
    this.log.error({ err }, `Uncaught exception in onMessage() of WebSocket ${this.request.path}.`);
    this.#delivering = false;
    this.#abort();
    this.#deliver();
  }

  #callHook(name: string, run: () => void): void {
    try {
      run();
    } catch (err) {
      this.log.error({ err }, `Uncaught exception in ${name}() of WebSocket ${this.request.path}.`);
    }
  }

  /** Drops the connection without a closing handshake (Tornado's `_abort`). */
  #abort(): void {
    this.#aborted = true;
    this.#queue = [];
    this.#keepalive?.stop();
    this.#ws?.terminate();
  }

  // ---------------------------------------------------------------- output

  /**
   * Sends a message: a string as text, bytes as binary, a plain object as JSON
   * text (`options.binary` overrides the frame type). Resolves once it was
   * handed to the OS.
   * @throws WebSocketClosedError (rejection) before the upgrade and once the
   *   connection is closing or closed.
   */
  writeMessage(message: WebSocketMessage, options: WriteMessageOptions = {}): Promise<void> {
    const ws = this.#ws;
    if (ws === null || ws.readyState !== ws.OPEN) return Promise.reject(new WebSocketClosedError());
    return new Promise((resolve, reject) => {
      // A throw here (a message that cannot be encoded) becomes the rejection.
      const frame = encodeMessage(message, options);
      ws.send(frame.data, { binary: frame.binary }, (err) => {
        if (err === undefined || err === null) resolve();
        else
          reject(new WebSocketClosedError('The WebSocket closed while sending.', { cause: err }));
      });
    });
  }

  /**
   * Sends a ping (at most 125 bytes).
   * @throws WebSocketClosedError when not open; VesperError
   *   `VESPER_WEB_WEBSOCKET_BAD_PING` above 125 bytes.
   */
  ping(data?: string | Buffer): void {
    const payload = pingPayload(data);
    const ws = this.#ws;
    if (ws === null || ws.readyState !== ws.OPEN) throw new WebSocketClosedError();
    ws.ping(payload);
  }

  /**
   * Starts the closing handshake: sends a close frame with `code` and `reason`
   * (a reason alone sends 1000), then waits for the peer's close frame, at most
   * `websocketCloseTimeout` (5 s), before dropping the TCP connection. No-op
   * when not open. `onClose` follows once the connection is closed.
   * @throws VesperError `VESPER_WEB_WEBSOCKET_BAD_CLOSE` for a code or reason that may not be sent.
   */
  close(code?: number, reason?: string): void {
    const args = checkCloseArguments(code, reason);
    const ws = this.#ws;
    if (ws === null || ws.readyState !== ws.OPEN) return;
    this.#keepalive?.stop();
    ws.close(args.code, args.reason);
  }

  // ------------------------------------------- HTTP output, refused after the upgrade

  /** @throws VesperError `VESPER_WEB_DETACHED` after the upgrade. */
  override setStatus(statusCode: number, reason?: string): void {
    if (this.detached) throw notSupported();
    super.setStatus(statusCode, reason);
  }

  /** @throws VesperError `VESPER_WEB_DETACHED` after the upgrade. */
  override setHeader(name: string, value: HeaderValue): void {
    if (this.detached) throw notSupported();
    super.setHeader(name, value);
  }

  /** @throws VesperError `VESPER_WEB_DETACHED` after the upgrade. */
  override addHeader(name: string, value: HeaderValue): void {
    if (this.detached) throw notSupported();
    super.addHeader(name, value);
  }

  /** @throws VesperError `VESPER_WEB_DETACHED` after the upgrade. */
  override clearHeader(name: string): void {
    if (this.detached) throw notSupported();
    super.clearHeader(name);
  }

  /** @throws VesperError `VESPER_WEB_DETACHED` after the upgrade. */
  override setCookie(name: string, value: string | Buffer, options?: CookieOptions): void {
    if (this.detached) throw notSupported();
    super.setCookie(name, value, options);
  }

  /** @throws VesperError `VESPER_WEB_DETACHED` after the upgrade. */
  override redirect(url: string, permanent?: boolean, status?: number): Promise<void> {
    if (this.detached) throw notSupported();
    return super.redirect(url, permanent, status);
  }
}

/**
 * Closes a socket whose HTTP answer has been (or is being) written: destroyed
 * as soon as the answer is flushed, and in any case within 10 s, so that a
 * client that never closes its side cannot pin the file descriptor.
 */
function closeAfterAnswer(socket: Duplex): void {
  if (socket.destroyed) return;
  if (socket.writableFinished) {
    socket.destroy();
    return;
  }
  const timer = setTimeout(() => socket.destroy(), 10_000);
  timer.unref();
  socket.once('finish', () => socket.destroy());
  socket.once('close', () => clearTimeout(timer));
}
