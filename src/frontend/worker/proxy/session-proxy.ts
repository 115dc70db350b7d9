/**
 * @module Forwards a session request to its session's Unix socket over a pool of keep-alive connections, streaming both bodies with backpressure.
 */
import type { IncomingMessage } from 'node:http';
import type { Socket } from 'node:net';
import { ChunkedDecoder } from '../http/chunked-decoder.js';
import type { IncomingRequest } from '../http/client-connection.js';
import type { ServerReply } from '../http/server-reply.js';
import { HSTS_HEADER } from '../pages/security-headers.js';
import { BodyCopy, ECHO_LIMIT, isFormBody, textFields } from './posted-fields.js';
import { UpstreamPool, type UpstreamPoolOptions } from './upstream-pool.js';
import { MAX_UPSTREAM_HEAD, parseUpstreamHead, type UpstreamHead } from './upstream-response.js';

/** Hop-by-hop fields (RFC 9110 §7.6.1), never forwarded in either direction. */
const HOP_BY_HOP = new Set([
  'connection',
  'keep-alive',
  'proxy-connection',
  'te',
  'trailer',
  'transfer-encoding',
  'upgrade',
  'expect',
  'http2-settings',
]);

const IDEMPOTENT = new Set(['GET', 'HEAD', 'OPTIONS', 'DELETE', 'PUT']);

/** Fields added to a session response when the session application did not set them. */
const FRAME_OPTIONS = ['X-Frame-Options', 'DENY'] as const;
const REFERRER_POLICY = ['Referrer-Policy', 'no-referrer'] as const;
const CONTENT_TYPE_OPTIONS = ['X-Content-Type-Options', 'nosniff'] as const;

/** What the proxy does when the session is gone or cannot be reached. */
export interface ProxyOutcomes {
  /** The session does not exist (no socket, refused, or the session said `X-Vesper-Session: ended`). */
  ended(
    request: IncomingRequest,
    reply: ServerReply,
    fields: readonly (readonly [string, string])[],
  ): void;
  /** The session could not be reached for another reason. */
  unavailable(request: IncomingRequest, reply: ServerReply): void;
  /** The session said nothing for the answer timeout before its answer began. */
  timedOut(request: IncomingRequest, reply: ServerReply): void;
}

/** How the proxy is set up. */
export interface SessionProxyOptions extends UpstreamPoolOptions {
  /**
   * How long a session may stay silent while a request to it is in flight
   * (waiting for its answer, or between bytes of it) before the proxy gives
   * up (`frontend.timeout.answer`). Default 60 s.
   */
  readonly answerTimeout?: number;
}

/** True for the errors that mean "there is no session behind this socket". */
export function isSessionGone(err: unknown): boolean {
  const code = (err as NodeJS.ErrnoException | null)?.code;
  return code === 'ENOENT' || code === 'ECONNREFUSED';
}

/** Whether a client field (`lower`, its lowercased name) goes on to a session; `named`: the request's `Connection` tokens. */
function forwardable(lower: string, named: ReadonlySet<string>): boolean {
  return !lower.startsWith('x-vesper-') && !HOP_BY_HOP.has(lower) && !named.has(lower);
}

/**
 * The fields forwarded to a session: the client's, without hop-by-hop
 * fields, without those named in `Connection` and without anything in the
 * `x-vesper-` namespace; then the client address, scheme and request id.
 */
export function forwardedFields(
  request: IncomingRequest,
  requestId: string,
  keepUpgrade = false,
): Record<string, string | string[]> {
  const { fields, names, connection } = request.head;
  const out: Record<string, string | string[]> = {};
  for (let i = 0; i < fields.length; i++) {
    const lower = names[i]!;
    const value = fields[i]![1];
    const keep = keepUpgrade && lower === 'upgrade';
    if (!keep && !forwardable(lower, connection)) continue;
    const previous = out[lower];
    if (previous === undefined) out[lower] = value;
    else if (Array.isArray(previous)) previous.push(value);
    else out[lower] = [previous, value];
  }
  if (keepUpgrade) out['connection'] = 'Upgrade';
  out['x-vesper-client-ip'] = request.clientIp;
  out['x-vesper-client-scheme'] = request.tls ? 'https' : 'http';
  out['x-vesper-request-id'] = requestId;
  return out;
}

/**
 * The fields of a session's response as the client gets them: without
 * hop-by-hop fields and the `x-vesper-` namespace, with the frame-busting and
 * referrer defaults when the application set none, and HSTS on TLS.
 */
export function responseFields(
  fields: readonly (readonly [string, string])[],
  tls: boolean,
): (readonly [string, string])[] {
  const out: (readonly [string, string])[] = [];
  let frame = false;
  let referrer = false;
  let sniff = false;
  let hsts = false;
  for (const field of fields) {
    const lower = field[0].toLowerCase();
    if (HOP_BY_HOP.has(lower) || lower.startsWith('x-vesper-')) continue;
    if (lower === 'x-frame-options') frame = true;
    else if (lower === 'referrer-policy') referrer = true;
    else if (lower === 'x-content-type-options') sniff = true;
    else if (lower === 'strict-transport-security') hsts = true;
    out.push(field);
  }
  if (!frame) out.push(FRAME_OPTIONS);
  if (!referrer) out.push(REFERRER_POLICY);
  if (!sniff) out.push(CONTENT_TYPE_OPTIONS);
  if (tls && !hsts) out.push(HSTS_HEADER);
  return out;
}

/** The fields of an `IncomingMessage` (Node's client) as `[name, value]` pairs. */
export function rawFields(res: IncomingMessage): [string, string][] {
  const out: [string, string][] = [];
  const raw = res.rawHeaders;
  for (let i = 0; i + 1 < raw.length; i += 2) out.push([raw[i]!, raw[i + 1]!]);
  return out;
}

/**
 * The request head sent to a session: the canonical target, the client's
 * fields that {@link forwardedFields} keeps (lowercased, in the client's
 * order), the client address, scheme and request id, and the body framing
 * (`Content-Length` as the client declared it, or chunked). Built in one
 * pass over the fields: it is on the path of every proxied request.
 */
export function upstreamRequestHead(request: IncomingRequest, requestId: string): string {
  const { fields, names, connection } = request.head;
  let text = `${request.head.method} ${request.target.canonical} HTTP/1.1\r\n`;
  for (let i = 0; i < fields.length; i++) {
    if (forwardable(names[i]!, connection)) text += `${names[i]}: ${fields[i]![1]}\r\n`;
  }
  text +=
    `x-vesper-client-ip: ${request.clientIp}\r\n` +
    `x-vesper-client-scheme: ${request.tls ? 'https' : 'http'}\r\n` +
    `x-vesper-request-id: ${requestId}\r\n`;
  // An HTTP/1.0 client may send no Host; the session speaks HTTP/1.1, which needs one.
  if (request.head.host === null) text += 'host: localhost\r\n';
  if (request.head.chunked) text += 'transfer-encoding: chunked\r\n';
  return `${text}\r\n`;
}

/**
 * The session-URL proxy. Keeps one pool of idle keep-alive connections per
 * session socket ({@link UpstreamPool}), so consecutive requests to a session
 * reuse a connection instead of opening one each, and speaks HTTP/1.1 on them
 * itself: the request head is written in one piece, a response body framed by
 * length or by chunks is passed through as it arrives (chunks are not
 * re-framed for HTTP/1.1 clients), with backpressure both ways.
 */
export class SessionProxy {
  readonly #pool: UpstreamPool;
  readonly #outcomes: ProxyOutcomes;
  /**
   * The exchanges in flight, for the answer-timeout sweep: a list linked
   * through the exchanges themselves (adding to and removing from a Set on
   * every request cost about a tenth of a proxied request's CPU).
   */
  #first: Exchange | null = null;
  #inflight = 0;
  /** The sweep's clock: exchanges note its tick instead of reading the time on every read. */
  readonly #clock: SweepClock = { tick: 0 };
  /** Milliseconds between sweeps, and how many sweeps of silence give up on a session. */
  readonly #step: number;
  readonly #steps: number;
  #sweeper: NodeJS.Timeout | null = null;

  constructor(outcomes: ProxyOutcomes, options: SessionProxyOptions = {}) {
    this.#outcomes = outcomes;
    this.#pool = new UpstreamPool(options);
    const answerTimeout = options.answerTimeout ?? 60_000;
    this.#step = Math.max(1, Math.min(1000, answerTimeout / 4));
    this.#steps = Math.ceil(answerTimeout / this.#step);
  }

  /** Proxied requests in flight. */
  get inflight(): number {
    return this.#inflight;
  }

  /** Idle pooled connections to `socketPath` (for tests and status). */
  idleConnections(socketPath: string): number {
    return this.#pool.idleCount(socketPath);
  }

  /** Forwards `request` to the session listening on `socketPath` and streams its answer to `reply`. */
  forward(
    request: IncomingRequest,
    reply: ServerReply,
    socketPath: string,
    requestId: string,
  ): void {
    const body = request.body;
    const copy =
      body !== null && isFormBody(request.head.get('content-type'))
        ? new BodyCopy(body, ECHO_LIMIT)
        : null;
    const exchange = new Exchange(
      this.#pool,
      this.#clock,
      request,
      reply,
      socketPath,
      upstreamRequestHead(request, requestId),
      {
        done: () => this.#unlink(exchange),
        ended: () => this.#ended(request, reply, copy),
        unavailable: () => {
          body?.resume();
          this.#outcomes.unavailable(request, reply);
        },
        timedOut: () => {
          body?.resume();
          this.#outcomes.timedOut(request, reply);
        },
      },
    );
    this.#link(exchange);
    // One timer for every exchange, not one per request: a sweep a few times
    // per timeout gives up on the sessions silent for longer than it.
    if (this.#sweeper === null) {
      this.#sweeper = setInterval(this.#sweep, this.#step);
      this.#sweeper.unref();
    }
    reply.onClientGone(() => exchange.abort());
    exchange.start(false);
  }

  #link(exchange: Exchange): void {
    exchange.next = this.#first;
    if (this.#first !== null) this.#first.previous = exchange;
    this.#first = exchange;
    this.#inflight++;
  }

  #unlink(exchange: Exchange): void {
    const { previous, next } = exchange;
    if (previous !== null) previous.next = next;
    else this.#first = next;
    if (next !== null) next.previous = previous;
    exchange.previous = exchange.next = null;
    this.#inflight--;
  }

  /** Gives up on the exchanges whose session has been silent for more than the answer timeout. */
  readonly #sweep = (): void => {
    const tick = ++this.#clock.tick;
    for (let exchange = this.#first; exchange !== null;) {
      // timeOut() unlinks the exchange: take the next one first.
      const next = exchange.next;
      if (tick - exchange.silentSince > this.#steps) exchange.timeOut();
      exchange = next;
    }
    if (this.#first === null && this.#sweeper !== null) {
      clearInterval(this.#sweeper);
      this.#sweeper = null;
    }
  };

  #ended(request: IncomingRequest, reply: ServerReply, copy: BodyCopy | null): void {
    const body = request.body;
    if (body !== null) body.resume();
    if (copy === null) {
      this.#outcomes.ended(request, reply, []);
      return;
    }
    void copy.whole().then((bytes) => {
      if (reply.finished) return;
      const fields =
        bytes === null ? [] : textFields(request.head.get('content-type') ?? '', bytes);
      this.#outcomes.ended(request, reply, fields);
    });
  }

  /** Closes the idle pooled connections; requests in flight go on. */
  close(): void {
    this.#pool.close();
  }
}

/** A counter the answer-timeout sweep advances every step. */
interface SweepClock {
  tick: number;
}

/** What an exchange reports to its proxy. */
interface ExchangeOutcomes {
  done(): void;
  ended(): void;
  unavailable(): void;
  timedOut(): void;
}

/** The exchange an upstream connection currently carries, if any. */
interface Carrier {
  exchange: Exchange | null;
}

const CARRIER = Symbol('vesper.upstreamCarrier');
type CarrierSocket = Socket & { [CARRIER]: Carrier };

/**
 * A new upstream connection to `path`. It gets its read callback and two
 * listeners once, for its whole life, and they pass events on to whichever
 * exchange it carries ({@link carry}): adding and removing them for every
 * request costs more than reading the response.
 */
function openUpstream(pool: UpstreamPool, path: string): Socket {
  const carrier: Carrier = { exchange: null };
  const socket = pool.connect(path, (chunk) => carrier.exchange?.onData(chunk)) as CarrierSocket;
  socket[CARRIER] = carrier;
  socket.on('error', (err: Error) => carrier.exchange?.onError(err));
  socket.on('close', () => carrier.exchange?.onClose());
  return socket;
}

/** Attaches `exchange` to `socket` (one {@link openUpstream} made). */
function carry(socket: Socket, exchange: Exchange): void {
  (socket as CarrierSocket)[CARRIER].exchange = exchange;
}

/** Detaches whatever exchange `socket` carries. */
function release(socket: Socket): void {
  (socket as CarrierSocket)[CARRIER].exchange = null;
}

const enum Phase {
  Head,
  Body,
  Done,
}

/** One request and its response on one upstream connection (and at most one retry). */
class Exchange {
  readonly #pool: UpstreamPool;
  readonly #request: IncomingRequest;
  readonly #reply: ServerReply;
  readonly #path: string;
  readonly #head: string;
  readonly #on: ExchangeOutcomes;
  #socket: Socket | null = null;
  #reused = false;
  #retried = false;
  #phase = Phase.Head;
  /** The start of a head that has not arrived whole (a copy). */
  #partialHead: Buffer | null = null;
  #headSize = 0;
  #framing: UpstreamHead['framing'] = 'none';
  #remaining = 0;
  #keepAlive = false;
  #chunks: ChunkedDecoder | null = null;
  #passChunks = false;
  /** Whether the reply is corked until the end of the current read. */
  #corked = false;
  #bodySent = false;
  #settled = false;
  /**
   * Since which sweep tick the session owes the next bytes of its answer: the
   * request has been sent whole, and nothing came since. Infinity while the
   * request is still being sent or the client holds the answer up.
   */
  silentSince = Number.POSITIVE_INFINITY;
  /** Neighbours in the proxy's list of exchanges in flight. */
  previous: Exchange | null = null;
  next: Exchange | null = null;
  readonly #clock: SweepClock;

  constructor(
    pool: UpstreamPool,
    clock: SweepClock,
    request: IncomingRequest,
    reply: ServerReply,
    path: string,
    head: string,
    on: ExchangeOutcomes,
  ) {
    this.#pool = pool;
    this.#clock = clock;
    this.#request = request;
    this.#reply = reply;
    this.#path = path;
    this.#head = head;
    this.#on = on;
  }

  /** Sends the request on a pooled connection (or a new one when `fresh` or none is idle). */
  start(fresh: boolean): void {
    const pooled = fresh ? null : this.#pool.take(this.#path);
    this.#reused = pooled !== null;
    const socket = pooled ?? openUpstream(this.#pool, this.#path);
    this.#socket = socket;
    carry(socket, this);
    const body = this.#request.body;
    if (body === null) {
      socket.write(this.#head, 'latin1');
      this.#bodySent = true;
      this.silentSince = this.#clock.tick;
      return;
    }
    socket.write(this.#head, 'latin1');
    const chunked = this.#request.head.chunked;
    body.on('data', (data: Buffer) => {
      if (this.#socket !== socket || socket.destroyed) return;
      let ok: boolean;
      if (chunked) {
        socket.cork();
        socket.write(`${data.length.toString(16)}\r\n`, 'latin1');
        socket.write(data);
        ok = socket.write('\r\n', 'latin1');
        socket.uncork();
      } else ok = socket.write(data);
      if (!ok) {
        body.pause();
        socket.once('drain', () => body.resume());
      }
    });
    body.once('end', () => {
      if (chunked && !socket.destroyed) socket.write('0\r\n\r\n', 'latin1');
      this.#bodySent = true;
      if (this.#phase !== Phase.Done) this.silentSince = this.#clock.tick;
    });
    // An incomplete body (a framing error, a timeout, the client gone) aborts the upstream request.
    body.once('close', () => {
      if (!body.readableEnded) this.abort();
    });
  }

  /** Gives up: the upstream connection is closed and nothing more is written to the client. */
  abort(): void {
    if (this.#phase === Phase.Done) return;
    this.#phase = Phase.Done;
    this.#settle();
    this.#socket?.destroy();
    if (!this.#reply.finished) this.#reply.abort();
  }

  /**
   * The session said nothing for the answer timeout: the upstream connection
   * is closed, and the client gets the timeout page, or a cut-off answer
   * when the answer had begun.
   */
  timeOut(): void {
    if (this.#phase === Phase.Done) return;
    this.#phase = Phase.Done;
    const socket = this.#socket;
    if (socket !== null) {
      release(socket);
      socket.destroy();
    }
    this.#settle();
    if (this.#reply.headSent) this.#reply.abort();
    else this.#on.timedOut();
  }

  #settle(): void {
    if (this.#settled) return;
    this.#settled = true;
    this.#on.done();
  }

  #detach(socket: Socket): void {
    release(socket);
  }

  /**
   * Bytes from the session: a view of the pool's read buffer, valid only
   * during this call, so whatever is kept or handed to the client socket is
   * copied (a write the kernel does not take at once keeps its buffer).
   */
  onData(chunk: Buffer): void {
    if (this.#phase === Phase.Done) return;
    if (this.#bodySent) this.silentSince = this.#clock.tick;
    try {
      let i = 0;
      if (this.#phase === Phase.Head) {
        i = this.#readHead(chunk);
        if (i < 0) return;
      }
      if (this.#phase === Phase.Body) this.#readBody(chunk, i);
    } finally {
      if (this.#corked) {
        this.#corked = false;
        this.#reply.uncork();
      }
    }
  }

  /** Returns the index where the body starts, or -1 while the head is incomplete (or was handled). */
  #readHead(chunk: Buffer): number {
    const previous = this.#headSize;
    this.#headSize += chunk.length;
    const all = this.#partialHead === null ? chunk : Buffer.concat([this.#partialHead, chunk]);
    const end = all.indexOf('\r\n\r\n', Math.max(0, previous - 3), 'latin1');
    if (end < 0) {
      if (this.#headSize > MAX_UPSTREAM_HEAD) this.#fail();
      // Kept until the rest arrives: a copy, never the read buffer.
      else this.#partialHead = all === chunk ? Buffer.from(chunk) : all;
      return -1;
    }
    this.#partialHead = null;
    this.#headSize = 0;
    const head = parseUpstreamHead(all.toString('latin1', 0, end), this.#request.head.method);
    if (head === null) {
      this.#fail();
      return -1;
    }
    const bodyStart = end + 4 - previous;
    if (head.status < 200) {
      // 100 Continue and other interim answers are not passed on (the worker answered Expect itself).
      if (bodyStart >= chunk.length) return -1;
      const next = this.#readHead(chunk.subarray(bodyStart));
      return next < 0 ? -1 : next + bodyStart;
    }
    const reply = this.#reply;
    if (head.status === 404 && head.vesperSession === 'ended') {
      this.#phase = Phase.Done;
      this.#settle();
      this.#socket?.destroy();
      this.#on.ended();
      return -1;
    }
    this.#framing = head.framing;
    this.#remaining = head.length;
    this.#keepAlive = head.keepAlive;
    reply.kind = 'session';
    const fields = responseFields(head.fields, this.#request.tls);
    this.#phase = Phase.Body;
    if (head.framing === 'length' && head.length > 0 && bodyStart < chunk.length) {
      // The common case, a small page arriving with its head: head and body
      // leave in one write (writeHead copies them into one buffer).
      const n = Math.min(head.length, chunk.length - bodyStart);
      const ok = reply.writeHead(head.status, fields, {
        first: chunk.subarray(bodyStart, bodyStart + n),
      });
      this.#remaining -= n;
      if (this.#remaining === 0) {
        this.#finish(bodyStart + n < chunk.length);
        return -1;
      }
      if (!ok) this.#waitForClient();
      return -1;
    }
    // The head and the body bytes that follow in this chunk leave in one write.
    this.#corked = true;
    reply.cork();
    if (head.framing === 'chunked') {
      this.#chunks = new ChunkedDecoder(Number.MAX_SAFE_INTEGER);
      this.#passChunks = this.#request.head.version === '1.1';
      reply.writeHead(head.status, fields, { framedChunks: this.#passChunks });
    } else reply.writeHead(head.status, fields);
    if (head.framing === 'none' || (head.framing === 'length' && head.length === 0)) {
      this.#finish(bodyStart < chunk.length);
      return -1;
    }
    return bodyStart;
  }

  /** Writes a copy of `bytes` (a view of the read buffer) to the client. */
  #pass(bytes: Buffer): boolean {
    return this.#reply.write(Buffer.from(bytes));
  }

  #readBody(chunk: Buffer, start: number): void {
    if (start >= chunk.length) return;
    let ok = true;
    let end = -1;
    switch (this.#framing) {
      case 'length': {
        const n = Math.min(this.#remaining, chunk.length - start);
        ok = this.#pass(chunk.subarray(start, start + n));
        this.#remaining -= n;
        if (this.#remaining === 0) end = start + n;
        break;
      }
      case 'chunked': {
        const decoder = this.#chunks!;
        try {
          if (this.#passChunks) {
            end = decoder.execute(chunk, start, () => undefined);
            ok = this.#pass(chunk.subarray(start, end < 0 ? chunk.length : end));
          } else {
            end = decoder.execute(chunk, start, (data) => {
              if (!this.#pass(data)) ok = false;
            });
          }
        } catch {
          this.#fail();
          return;
        }
        break;
      }
      case 'close':
        ok = this.#pass(chunk.subarray(start));
        break;
      case 'none':
        break;
    }
    if (end >= 0) {
      this.#finish(end < chunk.length);
      return;
    }
    if (!ok) this.#waitForClient();
  }

  /** Backpressure: reads nothing more from the session until the client took what was written. */
  #waitForClient(): void {
    const socket = this.#socket;
    if (socket === null) return;
    socket.pause();
    this.silentSince = Number.POSITIVE_INFINITY;
    this.#reply.onceDrained(() => {
      if (this.#phase === Phase.Done) return;
      this.silentSince = this.#clock.tick;
      socket.resume();
    });
  }

  /** The response is complete: the connection goes back to the pool when it can carry another request. */
  #finish(extraBytes: boolean): void {
    this.#phase = Phase.Done;
    this.#settle();
    const socket = this.#socket!;
    this.#detach(socket);
    if (this.#keepAlive && this.#bodySent && !extraBytes && !socket.destroyed) {
      socket.resume();
      this.#pool.give(this.#path, socket);
    } else socket.destroy();
    this.#reply.end();
  }

  /** The session answered something unreadable: 503, or a cut-off answer when it had begun. */
  #fail(): void {
    this.#phase = Phase.Done;
    this.#socket?.destroy();
    this.#settle();
    if (this.#reply.headSent) this.#reply.abort();
    else this.#on.unavailable();
  }

  /** The upstream connection failed. */
  onError(err: Error): void {
    this.#lost(err);
  }

  /** The upstream connection closed. */
  onClose(): void {
    if (this.#phase === Phase.Body && this.#framing === 'close') {
      // A body framed by the end of the connection is complete now.
      this.#phase = Phase.Done;
      this.#settle();
      this.#reply.end();
      return;
    }
    this.#lost(null);
  }

  /** The upstream connection failed or closed before the response was complete. */
  #lost(err: Error | null): void {
    if (this.#phase === Phase.Done) return;
    const socket = this.#socket;
    if (socket !== null) {
      this.#detach(socket);
      socket.destroy();
    }
    const reply = this.#reply;
    if (reply.headSent || reply.finished || reply.clientGone) {
      this.#phase = Phase.Done;
      this.#settle();
      if (!reply.finished) reply.abort();
      return;
    }
    const nothingReceived = this.#headSize === 0 && this.#phase === Phase.Head;
    if (
      this.#reused &&
      !this.#retried &&
      nothingReceived &&
      this.#request.body === null &&
      IDEMPOTENT.has(this.#request.head.method)
    ) {
      // The pooled connection closed just as it was picked: once more, on a new one.
      this.#retried = true;
      this.start(true);
      return;
    }
    this.#phase = Phase.Done;
    this.#settle();
    if (err !== null && isSessionGone(err)) this.#on.ended();
    else this.#on.unavailable();
  }
}
