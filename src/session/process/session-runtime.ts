/**
 * @module The session-process runtime: one user's session socket, key check, cookie, serial queue, dormancy and exit.
 */
import { chmod, unlink } from 'node:fs/promises';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import type { VesperConfig } from '../../shared/config/index.js';
import { VesperError } from '../../shared/errors/index.js';
import type { Logger } from '../../shared/log/index.js';
// The modules a session uses, not the whole public entry: a session process
// then does not load the HTTP client, the OAuth code or the TCP server.
import {
  RawSocketConnection,
  ServerResponseConnection,
  type HTTPConnection,
  type ResponseStatus,
} from '../../web/http-connection.js';
import { HTTPHeaders } from '../../web/http-headers.js';
import { HTTPServerRequest } from '../../web/http-server-request.js';
import type { TokenStore } from '../../web/websocket/token-store.js';
import { WebSocketHandler } from '../../web/websocket/websocket-handler.js';
import type { SessionApp, SessionAppContext, SessionAppFactory } from '../app.js';
import { keyMatches, SESSION_COOKIE, sessionSocketPath } from '../session-identity.js';
import { systemClock, type Clock, type TimerHandle } from './clock.js';
import { collectGarbage } from './collect-garbage.js';
import { SerialQueue, type QueueSlot } from './serial-queue.js';
import { SessionUrlBuilder, type CookieState } from './session-urls.js';

/** Why a session process ends. */
export type ExitReason = 'logout' | 'timeout' | 'shutdown' | 'signal';

/** The state a status request reports. */
export type SessionState = 'live' | 'dormant';

/** What a session runtime is started with. */
export interface SessionRuntimeOptions {
  readonly config: VesperConfig;
  readonly factory: SessionAppFactory;
  readonly user: string;
  readonly session: number;
  readonly key: string;
  /** The client address at login (checked on every request when `session.fix_client_ipaddr`). */
  readonly clientIp: string;
  readonly clientTls: boolean;
  readonly loginAt: number;
  readonly credential: { password: string } | null;
  /** The process's logger; the runtime binds `user` and `session`. */
  readonly log: Logger;
  /** The token store for WebSocket tokens. */
  readonly tokens: TokenStore;
  /** Default: the real clock. */
  readonly clock?: Clock;
  /** Default: derived from `session.socket_dir`, user and key. */
  readonly socketPath?: string;
  /** The pid reported by status (default `process.pid`). */
  readonly pid?: number;
  /** How long an exit waits for the running handler, ms (default 5,000). */
  readonly exitGraceMs?: number;
  /** Called once the session has ended (socket removed, application closed). */
  readonly onExit?: (reason: ExitReason) => void;
  /**
   * Quiet time after the last request before one full garbage collection, ms
   * (default {@link IDLE_GC_MS}; 0 turns it off).
   */
  readonly idleGcMs?: number;
  /** The garbage collection to run when idle (default {@link collectGarbage}). */
  readonly collectGarbage?: () => void;
}

/**
 * Default quiet time before an idle session collects its garbage, ms. Long
 * enough that a session in use (a click every few seconds) never pays for a
 * full collection: with hundreds of sessions taking turns, one after every
 * request cost more CPU than the requests themselves.
 */
export const IDLE_GC_MS = 30_000;

/** The answer for a wrong key, an unknown session and a refused address: identical. */
const ENDED_BODY = Buffer.from(
  '<!DOCTYPE html>\n<html><head><title>Session ended</title></head>' +
    '<body><p>This session has ended. Please log in again.</p></body></html>\n',
);

const SESSION_PATH = /^\/session\/([^/]+)\/([^/]*)\/(.*)$/s;

/** Answers a request for which there is no session as the contract says. */
export function answerEnded(res: ServerResponse): void {
  res.writeHead(404, {
    'Content-Type': 'text/html; charset=UTF-8',
    'Content-Length': ENDED_BODY.length,
    'Cache-Control': 'no-store',
    'X-Vesper-Session': 'ended',
  });
  res.end(ENDED_BODY);
}

function answerEndedRaw(socket: Duplex): void {
  if (!socket.writable) {
    socket.destroy();
    return;
  }
  const head =
    'HTTP/1.1 404 Not Found\r\nContent-Type: text/html; charset=UTF-8\r\n' +
    `Content-Length: ${ENDED_BODY.length}\r\nCache-Control: no-store\r\n` +
    'X-Vesper-Session: ended\r\nConnection: close\r\n\r\n';
  socket.end(Buffer.concat([Buffer.from(head, 'latin1'), ENDED_BODY]));
}

function cookieValue(header: string | undefined, name: string): string | undefined {
  if (header === undefined) return undefined;
  for (const part of header.split(';')) {
    const eq = part.indexOf('=');
    if (eq === -1) continue;
    if (part.slice(0, eq).trim() === name) return part.slice(eq + 1).trim();
  }
  return undefined;
}

function headerOf(req: IncomingMessage, name: string): string | undefined {
  const v = req.headers[name];
  return Array.isArray(v) ? v[0] : v;
}

/** A response connection that adds the runtime's headers and reports when the handler finished. */
class SessionResponseConnection extends ServerResponseConnection {
  readonly #extra: [string, string][];
  readonly #onFinish: () => void;

  constructor(res: ServerResponse, extra: [string, string][], onFinish: () => void) {
    super(res);
    this.#extra = extra;
    this.#onFinish = onFinish;
  }

  override writeHeaders(
    status: ResponseStatus,
    headers: HTTPHeaders,
    chunk?: Buffer,
  ): Promise<void> {
    for (const [name, value] of this.#extra) headers.add(name, value);
    return super.writeHeaders(status, headers, chunk);
  }

  override finish(): void {
    super.finish();
    this.#onFinish();
  }
}

interface Authenticated {
  /** The request path after the session prefix, without the leading `/`. */
  readonly rest: string;
  /** Set-Cookie values this response must carry. */
  readonly setCookie: string | null;
}

/**
 * Runs one session: serves the session socket, checks every request's key in
 * constant time, negotiates the cookie, runs application handlers one at a
 * time, goes dormant and wakes, and exits on logout, timeout or shutdown.
 *
 * ```
 *            request                 idle_time without a request
 *   live ◀──────────────── dormant ◀──────────────────────────── live
 *     │   (onWake first)               (onDormant)                 │
 *     └── timeout / logout / shutdown ──▶ exiting ──▶ socket removed, onExit
 * ```
 */
export class SessionRuntime {
  readonly #o: SessionRuntimeOptions;
  readonly #config: VesperConfig;
  readonly #clock: Clock;
  readonly #log: Logger;
  readonly #key: Buffer;
  readonly #socketPath: string;
  readonly #queue = new SerialQueue();
  readonly #slots = new WeakMap<HTTPServerRequest, QueueSlot>();
  readonly #urls: SessionUrlBuilder;
  readonly #startedAt: number;
  #app: SessionApp | null = null;
  #server: Server | null = null;
  #state: SessionState = 'live';
  #lastRequestAt: number;
  #timer: TimerHandle | null = null;
  #timerAt = Infinity;
  #exit: Promise<void> | null = null;
  #dormancyQueued = false;
  #gcTimer: TimerHandle | null = null;

  constructor(options: SessionRuntimeOptions) {
    this.#o = options;
    this.#config = options.config;
    this.#clock = options.clock ?? systemClock;
    this.#log = options.log.child({ user: options.user, session: options.session });
    this.#key = Buffer.from(options.key, 'utf8');
    this.#socketPath =
      options.socketPath ??
      sessionSocketPath(options.config.session.socket_dir, options.user, options.key);
    this.#startedAt = this.#clock.now();
    this.#lastRequestAt = this.#startedAt;
    this.#urls = new SessionUrlBuilder({
      user: options.user,
      key: options.key,
      useCookie: options.config.session.use_cookie,
      tokens: options.tokens,
      tokenTtlMs: options.config.session.ws_token_ttl,
    });
  }

  /** The session socket's path. */
  get socketPath(): string {
    return this.#socketPath;
  }

  /** `live` or `dormant`. */
  get state(): SessionState {
    return this.#state;
  }

  /** Where the cookie negotiation stands. */
  get cookieState(): CookieState {
    return this.#urls.cookieState;
  }

  /** True once the session is exiting. */
  get exiting(): boolean {
    return this.#exit !== null;
  }

  /**
   * Creates the application and listens on the session socket (mode 0600).
   * @throws VesperError `VESPER_SESSION_APP_FAILED` when the factory throws;
   *   the listen errors of `server.listen`.
   */
  async start(): Promise<void> {
    const o = this.#o;
    const ctx: SessionAppContext = {
      user: o.user,
      session: o.session,
      config: o.config,
      log: this.#log,
      tokens: o.tokens,
      credential: o.credential,
      loginAt: o.loginAt,
      clientTls: o.clientTls,
      urls: this.#urls,
      releaseQueue: (request) => this.#slots.get(request)?.release(),
    };
    try {
      this.#app = await o.factory(ctx);
    } catch (err) {
      throw new VesperError(
        'VESPER_SESSION_APP_FAILED',
        'The session application failed to start.',
        {
          cause: err,
        },
      );
    }
    const server = createServer({ keepAliveTimeout: 65_000 }, (req, res) =>
      this.#onRequest(req, res),
    );
    server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) =>
      this.#onUpgrade(req, socket, head),
    );
    server.on('clientError', (_err: Error, socket: Duplex) => {
      if (socket.writable) socket.end('HTTP/1.1 400 Bad Request\r\nConnection: close\r\n\r\n');
      else socket.destroy();
    });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(this.#socketPath, () => {
        server.off('error', reject);
        resolve();
      });
    });
    this.#server = server;
    await chmod(this.#socketPath, 0o600);
    this.#arm();
    this.#armIdleGc();
  }

  /** The status a control request reports. */
  status(): Record<string, unknown> {
    const now = this.#clock.now();
    return {
      user: this.#o.user,
      session: this.#o.session,
      pid: this.#o.pid ?? process.pid,
      state: this.#state,
      idleMs: now - this.#lastRequestAt,
      startedAt: this.#startedAt,
      lastRequestAt: this.#lastRequestAt,
      draft: this.#draft(),
      timeoutAt: this.#timeoutAt(),
    };
  }

  #draft(): boolean {
    try {
      return this.#app?.hasDraft?.() === true;
    } catch {
      return false;
    }
  }

  #timeoutAt(): number {
    const s = this.#config.session;
    const ms = this.#draft() && s.timeout_compose > 0 ? s.timeout_compose : s.timeout;
    return this.#lastRequestAt + ms;
  }

  #dormantAt(): number {
    const idle = this.#config.session.idle_time;
    return this.#state === 'live' && idle > 0 && !this.#dormancyQueued
      ? this.#lastRequestAt + idle
      : Infinity;
  }

  /** Sets the one timer for the next deadline (dormancy or timeout). */
  #arm(): void {
    if (this.#exit !== null) return;
    const at = Math.min(this.#dormantAt(), this.#timeoutAt());
    if (this.#timer !== null && this.#timerAt <= at) return;
    if (this.#timer !== null) this.#clock.clearTimer(this.#timer);
    this.#timerAt = at;
    this.#timer = this.#clock.setTimer(at - this.#clock.now(), () => this.#tick());
  }

  #tick(): void {
    this.#timer = null;
    this.#timerAt = Infinity;
    if (this.#exit !== null) return;
    const now = this.#clock.now();
    if (now >= this.#timeoutAt()) {
      void this.shutdown('timeout');
      return;
    }
    if (now >= this.#dormantAt()) {
      this.#dormancyQueued = true;
      this.#queue.enqueue((slot) => void this.#goDormant(slot));
    }
    this.#arm();
  }

  async #goDormant(slot: QueueSlot): Promise<void> {
    this.#dormancyQueued = false;
    try {
      // A request may have come in while this task waited for its turn.
      if (this.#exit !== null || this.#clock.now() < this.#dormantAt()) return;
      this.#state = 'dormant';
      this.#log.info({ event: 'dormant' }, 'The session went dormant after a quiet spell.');
      await this.#app?.onDormant?.();
    } catch (err) {
      this.#log.warn({ err }, 'The application failed while going dormant.');
    } finally {
      slot.release();
      this.#arm();
    }
    // What the application let go of on dormancy is given back now, once.
    if (this.#state === 'dormant' && !this.#queue.busy)
      (this.#o.collectGarbage ?? collectGarbage)();
  }

  async #wakeIfDormant(): Promise<void> {
    if (this.#state !== 'dormant') return;
    this.#state = 'live';
    this.#log.info({ event: 'wake' }, 'The session woke for a request.');
    try {
      await this.#app?.onWake?.();
    } catch (err) {
      this.#log.warn({ err }, 'The application failed while waking.');
    }
    this.#arm();
  }

  #touch(): void {
    this.#lastRequestAt = this.#clock.now();
    this.#armIdleGc();
  }

  /**
   * (Re)starts the idle-collection timer: `idleGcMs` after the last request,
   * when the queue is empty, one full garbage collection runs (never while a
   * request or WebSocket message is being handled); then none until the next
   * request.
   */
  #armIdleGc(): void {
    const ms = this.#o.idleGcMs ?? IDLE_GC_MS;
    if (ms <= 0 || this.#exit !== null) return;
    if (this.#gcTimer !== null) this.#clock.clearTimer(this.#gcTimer);
    this.#gcTimer = this.#clock.setTimer(ms, () => {
      this.#gcTimer = null;
      if (this.#exit !== null) return;
      if (this.#queue.busy || this.#queue.waiting > 0) {
        this.#armIdleGc();
        return;
      }
      (this.#o.collectGarbage ?? collectGarbage)();
    });
  }

  /** Checks the key (URL, else cookie) and the client address; null means "no such session". */
  #authenticate(req: IncomingMessage, path: string): Authenticated | null {
    const m = SESSION_PATH.exec(path);
    if (m === null || m[1] !== this.#o.user) return null;
    const urlKey = m[2]!;
    const s = this.#config.session;
    const cookieKey = s.use_cookie
      ? cookieValue(headerOf(req, 'cookie'), SESSION_COOKIE)
      : undefined;
    const cookieOk = cookieKey !== undefined && keyMatches(this.#key, cookieKey);
    const ok = urlKey !== '' ? keyMatches(this.#key, urlKey) : cookieOk;
    if (!ok) return null;
    if (s.fix_client_ipaddr && headerOf(req, 'x-vesper-client-ip') !== this.#o.clientIp)
      return null;
    let setCookie: string | null = null;
    if (s.use_cookie) {
      const secure = headerOf(req, 'x-vesper-client-scheme') === 'https';
      setCookie = this.#urls.negotiate(cookieOk, secure);
    }
    return { rest: m[3]!, setCookie };
  }

  #onRequest(req: IncomingMessage, res: ServerResponse): void {
    const url = req.url ?? '/';
    const q = url.indexOf('?');
    const path = q === -1 ? url : url.slice(0, q);
    if (path.startsWith('/_vesper/')) {
      this.#control(req, res, path);
      return;
    }
    const auth = this.#exit === null ? this.#authenticate(req, path) : null;
    if (auth === null) {
      req.resume();
      answerEnded(res);
      return;
    }
    this.#touch();
    const cmd = auth.rest.split('/', 1)[0];
    if (cmd === 'logout') {
      req.resume();
      this.#logout(res);
      return;
    }
    const extra: [string, string][] =
      auth.setCookie === null ? [] : [['Set-Cookie', auth.setCookie]];
    this.#readBody(req, res, (body) => {
      const slot = this.#queue.enqueue(
        (s) => void this.#runHttp(s, req, res, auth.rest, url, q, body, extra),
      );
      // A client that goes away leaves the queue (or, while running, hands it on).
      res.once('close', () => slot.release());
    });
  }

  #readBody(req: IncomingMessage, res: ServerResponse, then: (body: Buffer) => void): void {
    if (
      req.headers['content-length'] === undefined &&
      req.headers['transfer-encoding'] === undefined
    ) {
      then(Buffer.alloc(0));
      return;
    }
    const limit = this.#config.frontend.limits.body;
    const chunks: Buffer[] = [];
    let size = 0;
    let refused = false;
    req.on('data', (chunk: Buffer) => {
      if (refused) return;
      size += chunk.length;
      if (size > limit) {
        refused = true;
        res.shouldKeepAlive = false;
        res.writeHead(413, { 'Content-Type': 'text/plain', Connection: 'close' });
        res.end('Request body too large\n');
        return;
      }
      chunks.push(chunk);
    });
    req.on('end', () => {
      if (!refused) then(Buffer.concat(chunks, size));
    });
  }

  async #runHttp(
    slot: QueueSlot,
    req: IncomingMessage,
    res: ServerResponse,
    rest: string,
    url: string,
    q: number,
    body: Buffer,
    extra: [string, string][],
  ): Promise<void> {
    try {
      if (res.destroyed || this.#exit !== null) {
        if (!res.headersSent && !res.destroyed) answerEnded(res);
        slot.release();
        return;
      }
      await this.#wakeIfDormant();
      const connection = new SessionResponseConnection(res, extra, () => slot.release());
      const request = this.#request(req, connection, rest, url, q, body);
      if (request === null) {
        res.writeHead(400, { 'Content-Type': 'text/plain', Connection: 'close' });
        res.end('Bad request\n');
        slot.release();
        return;
      }
      this.#slots.set(request, slot);
      this.#app!.application.execute(request);
    } catch (err) {
      this.#log.error({ err }, 'A request failed before its handler ran.');
      if (!res.headersSent) {
        res.writeHead(500, { 'Content-Type': 'text/plain' });
        res.end('Internal error\n');
      }
      slot.release();
    }
  }

  #request(
    req: IncomingMessage,
    connection: HTTPConnection,
    rest: string,
    url: string,
    q: number,
    body: Buffer,
  ): HTTPServerRequest | null {
    try {
      return new HTTPServerRequest({
        method: req.method ?? 'GET',
        uri: `/${rest}${q === -1 ? '' : url.slice(q)}`,
        version: `HTTP/${req.httpVersion}`,
        headers: HTTPHeaders.fromNode(req.rawHeaders),
        body,
        remoteIp: headerOf(req, 'x-vesper-client-ip') ?? this.#o.clientIp,
        protocol: headerOf(req, 'x-vesper-client-scheme') === 'https' ? 'https' : 'http',
        connection,
      });
    } catch {
      return null;
    }
  }

  #onUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer): void {
    socket.on('error', () => socket.destroy());
    const url = req.url ?? '/';
    const q = url.indexOf('?');
    const path = q === -1 ? url : url.slice(0, q);
    const auth = this.#exit === null ? this.#authenticate(req, path) : null;
    if (auth === null) {
      answerEndedRaw(socket);
      return;
    }
    this.#touch();
    const slot = this.#queue.enqueue(
      (s) => void this.#runUpgrade(s, req, socket, head, auth.rest, url, q),
    );
    socket.once('close', () => slot.release());
  }

  async #runUpgrade(
    slot: QueueSlot,
    req: IncomingMessage,
    socket: Duplex,
    head: Buffer,
    rest: string,
    url: string,
    q: number,
  ): Promise<void> {
    try {
      if (socket.destroyed || this.#exit !== null) {
        answerEndedRaw(socket);
        slot.release();
        return;
      }
      await this.#wakeIfDormant();
      const connection = new RawSocketConnection(req, socket, head);
      const request = this.#request(req, connection, rest, url, q, Buffer.alloc(0));
      const app = this.#app!.application;
      const found = request === null ? null : app.findHandler(request);
      if (request === null || found === null) {
        if (request !== null) app.execute(request);
        else socket.destroy();
        return;
      }
      const handler = new found.spec.handlerClass(app, request, found.spec.kwargs);
      if (!(handler instanceof WebSocketHandler)) {
        app.execute(request);
        return;
      }
      if (!('getTokenStore' in handler)) {
        // Session WebSockets are admitted only with a one-time token (WebSocketTokenAuth).
        this.#log.error('A session WebSocket handler is not token-authenticated; refused.');
        socket.end('HTTP/1.1 401 Unauthorized\r\nContent-Length: 0\r\nConnection: close\r\n\r\n');
        return;
      }
      this.#serialiseWebSocket(handler, slot);
      await handler._execute([], found.match.args, found.match.kwargs);
    } catch (err) {
      this.#log.error({ err }, 'A WebSocket upgrade failed.');
      socket.destroy();
    }
  }

  /** Runs `open()` in the upgrade's slot and every `onMessage()` in a slot of its own. */
  #serialiseWebSocket(handler: WebSocketHandler, slot: QueueSlot): void {
    const open = handler.open.bind(handler);
    const onMessage = handler.onMessage.bind(handler);
    handler.open = async (...args: (string | undefined)[]): Promise<void> => {
      try {
        await open(...args);
      } finally {
        slot.release();
      }
    };
    handler.onMessage = (message) =>
      new Promise<void>((resolve, reject) => {
        this.#touch();
        this.#queue.enqueue((s) => {
          const run = async (): Promise<void> => {
            if (this.#exit !== null) return;
            await this.#wakeIfDormant();
            await onMessage(message);
          };
          run().then(
            () => {
              s.release();
              resolve();
            },
            (err: unknown) => {
              s.release();
              reject(err instanceof Error ? err : new Error(String(err)));
            },
          );
        });
      });
  }

  #logout(res: ServerResponse): void {
    const user = this.#o.user;
    res.shouldKeepAlive = false;
    res.writeHead(303, {
      Location: `/login/${user}`,
      'Set-Cookie': `${SESSION_COOKIE}=; Path=/session/${user}/; Max-Age=0; HttpOnly; SameSite=Lax`,
      'Content-Length': 0,
      'Cache-Control': 'no-store',
      Connection: 'close',
    });
    res.end();
    res.once('finish', () => void this.shutdown('logout'));
  }

  #control(req: IncomingMessage, res: ServerResponse, path: string): void {
    req.resume();
    if (headerOf(req, 'x-vesper-control') !== '1') {
      answerEnded(res);
      return;
    }
    if (path === '/_vesper/status' && req.method === 'GET') {
      const body = Buffer.from(JSON.stringify(this.status()));
      res.writeHead(200, { 'Content-Type': 'application/json', 'Content-Length': body.length });
      res.end(body);
      return;
    }
    if (path === '/_vesper/shutdown' && req.method === 'POST') {
      res.shouldKeepAlive = false;
      res.writeHead(200, { 'Content-Type': 'application/json', Connection: 'close' });
      res.end('{"ok":true}');
      res.once('finish', () => void this.shutdown('shutdown'));
      return;
    }
    res.writeHead(404, { 'Content-Type': 'text/plain' });
    res.end('Unknown control request\n');
  }

  /**
   * Ends the session: removes the socket (new requests find no session), stops
   * accepting, lets the running handler finish (up to `exitGraceMs`), closes the
   * application and the token store, then calls `onExit`. Idempotent.
   */
  shutdown(reason: ExitReason): Promise<void> {
    this.#exit ??= this.#shutdown(reason);
    return this.#exit;
  }

  async #shutdown(reason: ExitReason): Promise<void> {
    if (this.#timer !== null) this.#clock.clearTimer(this.#timer);
    this.#timer = null;
    if (this.#gcTimer !== null) this.#clock.clearTimer(this.#gcTimer);
    this.#gcTimer = null;
    const messages: Record<ExitReason, string> = {
      logout: 'The user logged out; the session ends.',
      timeout: 'The session timed out and ends.',
      shutdown: 'The session server asked the session to end.',
      signal: 'The session process was told to stop; the session ends.',
    };
    this.#log.info({ event: reason }, messages[reason]);
    await unlink(this.#socketPath).catch(() => undefined);
    const server = this.#server;
    const closed =
      server === null
        ? Promise.resolve()
        : new Promise<void>((resolve) => server.close(() => resolve()));
    server?.closeIdleConnections();
    const grace = this.#o.exitGraceMs ?? 5_000;
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([
      this.#queue.idle(),
      new Promise<void>((resolve) => {
        timer = setTimeout(resolve, grace);
      }),
    ]);
    clearTimeout(timer);
    try {
      await this.#app?.close?.();
    } catch (err) {
      this.#log.warn({ err }, 'The application failed while closing.');
    }
    await this.#o.tokens.close().catch(() => undefined);
    server?.closeIdleConnections();
    const drained = await Promise.race([
      closed.then(() => true),
      new Promise<boolean>((resolve) => {
        timer = setTimeout(() => resolve(false), 1_000);
      }),
    ]);
    clearTimeout(timer);
    if (!drained) server?.closeAllConnections();
    this.#o.onExit?.(reason);
  }
}
