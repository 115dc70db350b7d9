/**
 * @module One client connection of a worker: reads request heads with the strict scanner, streams bodies, dispatches, and keeps it alive under deadlines.
 *
 * ```
 *        ┌───────────── keep-alive wait (by the last request's kind) ◀──────────┐
 *        ▼                                                                     │
 *   WAIT_HEAD ──first byte──▶ HEAD (header deadline) ──head──▶ BODY ──▶ WAIT_REPLY ─┤
 *        │                       │                              │ (body deadline)  │
 *        └── timer: close        └── ProtocolError: answer, close (drop what follows)
 *                                                              reply ends ──────────┘
 *                                    close when: not keep-alive, a refusal, the body
 *                                    unread, max requests reached, or draining
 * ```
 *
 * This module owns the connection instead of Node's `http.Server` so that the
 * bytes checked are exactly the bytes used, the deadlines follow DESIGN.md §5
 * (header deadline from the first byte; keep-alive wait by request kind), and
 * nothing pipelined behind a refused request is ever parsed (§8).
 */
import type { Socket } from 'node:net';
import { Readable } from 'node:stream';
import { ChunkedDecoder } from './chunked-decoder.js';
import { ProtocolError } from './protocol-error.js';
import { RequestHeadParser, type HeadLimits } from './request-head-parser.js';
import type { RequestHead } from './request-head.js';
import { canonicalTarget, type RequestTarget } from './request-target.js';
import { ServerReply, type KeepAliveKind, type ReplyOwner } from './server-reply.js';

/** Limits, deadlines and caps of a client connection (milliseconds, bytes). */
export interface ConnectionSettings {
  readonly limits: HeadLimits & { readonly body: number };
  readonly timeouts: {
    readonly header: number;
    readonly body: number;
    readonly idle: number;
    readonly icons: number;
    readonly session: number;
  };
  /** Requests served on one connection before it is closed. */
  readonly maxRequests: number;
}

/** Where a connection comes from. */
export interface ConnectionInfo {
  /** The client's address (IPv4-mapped IPv6 addresses as plain IPv4). */
  readonly clientIp: string;
  /** Whether the client connection is TLS. */
  readonly tls: boolean;
  /** The listener as `host:port`. */
  readonly listener: string;
}

/** One request handed to the routes. */
export interface IncomingRequest extends ConnectionInfo {
  readonly head: RequestHead;
  /** The canonical target: the only form of the target routes and the proxy use. */
  readonly target: RequestTarget;
  /** The body as a stream with backpressure, or null when the request has none. */
  readonly body: Readable | null;
  /** When the head was complete (`performance.now()` milliseconds). */
  readonly startedAt: number;
}

/** What serves the requests of a connection. */
export interface ConnectionHandler {
  /** Answers one request through `reply` (ending it, or detaching the socket). */
  request(request: IncomingRequest, reply: ServerReply): void;
  /** Answers a refused request (the connection closes afterwards); `head` is null when the head never parsed. */
  refuse(
    error: ProtocolError,
    reply: ServerReply,
    info: ConnectionInfo,
    head: RequestHead | null,
  ): void;
  /** Called when a connection ends, for counters. */
  connectionClosed?(connection: ClientConnection): void;
}

const enum State {
  WaitHead,
  Head,
  Body,
  WaitReply,
  Closing,
  Detached,
}

/** How long an idle keep-alive connection stays open once the worker drains. */
const DRAIN_GRACE_MS = 500;

/** How long a closing connection may take to read its last answer before it is destroyed. */
const LINGER_MS = 2000;

/** Strips the IPv4-mapped prefix so `::ffff:127.0.0.1` logs and matches as `127.0.0.1`. */
export function clientAddress(socket: Socket): string {
  const address = socket.remoteAddress ?? '';
  return address.startsWith('::ffff:') && address.includes('.') ? address.slice(7) : address;
}

/**
 * Drives one client socket. Create it when the socket is accepted; it
 * registers its own listeners and removes them when it ends.
 */
export class ClientConnection implements ReplyOwner {
  /** Requests started on this connection. */
  requests = 0;
  readonly info: ConnectionInfo;
  readonly #socket: Socket;
  readonly #settings: ConnectionSettings;
  readonly #handler: ConnectionHandler;
  readonly #parser: RequestHeadParser;
  #state = State.WaitHead;
  #timer: NodeJS.Timeout | undefined;
  /** The duration `#timer` was made with (it is refreshed when the next deadline has the same). */
  #timerMs = -1;
  /** Whether the current deadline counts; a disarmed timer may still fire, and is ignored. */
  #armed = false;
  #pending: Buffer | null = null;
  #reply: ServerReply | null = null;
  #body: BodyStream | null = null;
  #draining = false;
  #closed = false;

  constructor(
    socket: Socket,
    settings: ConnectionSettings,
    handler: ConnectionHandler,
    info: ConnectionInfo,
  ) {
    this.#socket = socket;
    this.#settings = settings;
    this.#handler = handler;
    this.info = info;
    this.#parser = new RequestHeadParser(settings.limits);
    socket.setNoDelay(true);
    socket.on('data', this.#onData);
    socket.on('error', this.#onError);
    socket.on('close', this.#onClose);
    // The first request gets the header deadline from the start: a client that
    // connects and says nothing is a slowloris too.
    this.#arm(settings.timeouts.header);
  }

  /** True while a request is being read or answered. */
  get busy(): boolean {
    return (
      this.#state === State.Head || this.#state === State.Body || this.#state === State.WaitReply
    );
  }

  /** True once the socket has closed. */
  get closed(): boolean {
    return this.#closed;
  }

  /**
   * Finish the current request (answering it with `Connection: close`), then
   * close. An idle keep-alive connection gets a short grace: a client that
   * is in the middle of sending its next request (it cannot know about the
   * drain) gets it answered with `Connection: close` instead of a closed
   * connection; a quiet one is closed when the grace ends. A new connection
   * that has not sent its first request yet is served too (the header
   * deadline bounds the wait).
   */
  drain(): void {
    this.#draining = true;
    if (this.#state === State.WaitHead && this.requests > 0) this.#arm(DRAIN_GRACE_MS);
    else if (this.#reply !== null && !this.#reply.headSent) this.#reply.closeAfter = true;
  }

  /** Closes the socket now. */
  destroy(): void {
    this.#stopTimer();
    if (this.#state !== State.Detached) this.#socket.destroy();
  }

  readonly #onData = (chunk: Buffer): void => {
    switch (this.#state) {
      case State.WaitHead:
      case State.Head:
        this.#readHead(chunk, 0);
        return;
      case State.Body:
        this.#readBody(chunk, 0);
        return;
      case State.WaitReply:
        // Pipelined bytes wait until the current answer is out (and are
        // dropped if it closes the connection).
        this.#pending = this.#pending === null ? chunk : Buffer.concat([this.#pending, chunk]);
        this.#socket.pause();
        return;
      case State.Closing:
      case State.Detached:
        return;
    }
  };

  readonly #onError = (): void => {
    // ECONNRESET and the like: 'close' follows and does the cleanup.
  };

  readonly #onClose = (): void => {
    if (this.#closed) return;
    this.#closed = true;
    this.#stopTimer();
    this.#body?.destroy();
    this.#reply?.clientClosed();
    if (this.#state !== State.Detached) {
      this.#socket.off('data', this.#onData);
      this.#handler.connectionClosed?.(this);
    }
  };

  #readHead(chunk: Buffer, start: number): void {
    // The header deadline runs from the first byte; a head that arrives whole needs none.
    const first = this.#state === State.WaitHead;
    if (first) this.#state = State.Head;
    let scan;
    let target: RequestTarget;
    try {
      scan = this.#parser.execute(chunk, start);
      if (scan.kind === 'incomplete') {
        if (first) this.#arm(this.#settings.timeouts.header);
        return;
      }
      target = canonicalTarget(scan.head.target);
      if (
        scan.head.contentLength !== null &&
        scan.head.contentLength > this.#settings.limits.body
      ) {
        throw new ProtocolError(
          413,
          'VESPER_FRONTEND_BODY_TOO_LARGE',
          'The request body is too large.',
        );
      }
    } catch (err) {
      this.#refuse(err, scan?.kind === 'head' ? scan.head : null);
      return;
    }
    this.#clearTimer();
    const head = scan.head;
    this.requests++;
    const hasBody = head.chunked || (head.contentLength ?? 0) > 0;
    this.#body = hasBody ? new BodyStream(this, head, this.#settings.limits.body) : null;
    this.#state = hasBody ? State.Body : State.WaitReply;
    if (hasBody) this.#arm(this.#settings.timeouts.body);
    const reply = new ServerReply(this.#socket, this, {
      method: head.method,
      http11: head.version === '1.1',
      keepAlive: head.keepAlive && !this.#draining && this.requests < this.#settings.maxRequests,
      stallTimeout: this.#settings.timeouts.body,
    });
    this.#reply = reply;
    const rest = scan.end < chunk.length ? chunk.subarray(scan.end) : null;
    if (head.upgrade !== null && !hasBody) {
      // Bytes after an upgrade request belong to the upgraded protocol.
      this.#pending = rest;
      if (rest !== null) this.#socket.pause();
    }
    const info = this.info;
    this.#handler.request(
      {
        clientIp: info.clientIp,
        tls: info.tls,
        listener: info.listener,
        head,
        target,
        body: this.#body,
        startedAt: performance.now(),
      },
      reply,
    );
    // The handler may have answered, detached or closed synchronously.
    const after = this.#state as State;
    if (rest !== null && after !== State.Detached && after !== State.Closing) {
      if (head.upgrade !== null && !hasBody) return;
      this.#onData(rest);
    }
  }

  #readBody(chunk: Buffer, start: number): void {
    const body = this.#body!;
    let end: number;
    try {
      end = body.feed(chunk, start);
    } catch (err) {
      // Consumers see 'close' without 'end': an incomplete body.
      body.destroy();
      this.#refuse(err, null);
      return;
    }
    if (end < 0) return;
    this.#clearTimer();
    this.#state = State.WaitReply;
    if (end < chunk.length) this.#onData(chunk.subarray(end));
  }

  /** BodyStream wants more (or has enough). */
  flow(on: boolean): void {
    if (this.#state !== State.Body) return;
    if (on) this.#socket.resume();
    else this.#socket.pause();
  }

  /** Sends `100 Continue` before the first read of a body that asked for it. */
  sendContinue(): void {
    if (this.#reply !== null && !this.#reply.headSent)
      this.#socket.write('HTTP/1.1 100 Continue\r\n\r\n');
  }

  #refuse(err: unknown, head: RequestHead | null): void {
    const error =
      err instanceof ProtocolError
        ? err
        : new ProtocolError(400, 'VESPER_FRONTEND_BAD_REQUEST', 'The request is malformed.');
    this.#pending = null;
    this.#clearTimer();
    const reply = this.#reply;
    if (reply !== null && reply.headSent) {
      // The answer already started (a body error mid-proxy): nothing can be said any more.
      this.#state = State.Closing;
      this.#socket.destroy();
      return;
    }
    this.#state = State.WaitReply;
    const refusal = new ServerReply(this.#socket, this, {
      method: 'GET',
      http11: true,
      keepAlive: false,
    });
    this.#reply = refusal;
    this.#handler.refuse(error, refusal, this.info, head);
  }

  /** {@inheritDoc ReplyOwner.replyFinished} */
  replyFinished(reply: ServerReply): void {
    if (reply !== this.#reply || this.#state === State.Detached || this.#closed) return;
    this.#reply = null;
    const bodyUnread = this.#state === State.Body || this.#state === State.Head;
    if (reply.closeAfter || bodyUnread || this.#draining || this.#state === State.Closing) {
      this.#close();
      return;
    }
    this.#body = null;
    this.#parser.reset();
    this.#state = State.WaitHead;
    this.#arm(this.#keepAlive(reply.kind));
    const pending = this.#pending;
    this.#pending = null;
    this.#socket.resume();
    if (pending !== null) this.#onData(pending);
  }

  /** {@inheritDoc ReplyOwner.detach} */
  detach(): { socket: Socket; head: Buffer } {
    this.#stopTimer();
    this.#state = State.Detached;
    this.#reply = null;
    this.#socket.off('data', this.#onData);
    this.#socket.off('error', this.#onError);
    this.#socket.off('close', this.#onClose);
    this.#closed = true;
    this.#handler.connectionClosed?.(this);
    const head = this.#pending ?? Buffer.alloc(0);
    this.#pending = null;
    return { socket: this.#socket, head };
  }

  #keepAlive(kind: KeepAliveKind): number {
    return this.#settings.timeouts[kind];
  }

  #close(): void {
    if (this.#state === State.Closing && this.#socket.writableEnded) return;
    this.#state = State.Closing;
    this.#clearTimer();
    this.#pending = null;
    this.#socket.end();
    // A client that never reads its last answer must not keep the descriptor:
    // it gets the stall timeout to take what is still queued here, then a
    // short linger once everything went to the kernel (which goes on sending
    // it after the descriptor is closed).
    this.#arm(Math.max(LINGER_MS, this.#settings.timeouts.body));
    if (this.#socket.writableFinished) this.#arm(LINGER_MS);
    else this.#socket.once('finish', () => this.#arm(LINGER_MS));
  }

  /**
   * Sets the deadline `ms` from now. One timer serves the connection: the
   * keep-alive wait of every request has the same duration, so the timer is
   * refreshed instead of cleared and created again for each request.
   */
  #arm(ms: number): void {
    this.#armed = true;
    if (this.#timer !== undefined && this.#timerMs === ms) {
      this.#timer.refresh();
      return;
    }
    if (this.#timer !== undefined) clearTimeout(this.#timer);
    this.#timerMs = ms;
    this.#timer = setTimeout(this.#onTimer, ms);
  }

  /** No deadline until the next {@link #arm} (the timer is kept for it). */
  #clearTimer(): void {
    this.#armed = false;
  }

  /** No deadline any more: the connection is closed or given away. */
  #stopTimer(): void {
    this.#armed = false;
    if (this.#timer !== undefined) clearTimeout(this.#timer);
    this.#timer = undefined;
  }

  readonly #onTimer = (): void => {
    if (!this.#armed) return;
    this.#armed = false;
    switch (this.#state) {
      case State.Body:
        // Too slow a body: the request cannot be answered sensibly any more.
        this.#body?.destroy();
        this.#socket.destroy();
        return;
      case State.WaitReply:
        return;
      case State.WaitHead:
      case State.Head:
      case State.Closing:
      case State.Detached:
        this.#socket.destroy();
        return;
    }
  };
}

/** A request body, decoded from the connection's bytes, as a stream with backpressure. */
class BodyStream extends Readable {
  readonly #connection: ClientConnection;
  readonly #chunked: ChunkedDecoder | null;
  #remaining: number;
  #continue: boolean;

  /** `limit` bounds a chunked body (a declared length was checked against it already). */
  constructor(connection: ClientConnection, head: RequestHead, limit: number) {
    super({ highWaterMark: 64 * 1024 });
    this.#connection = connection;
    this.#chunked = head.chunked ? new ChunkedDecoder(limit) : null;
    this.#remaining = head.contentLength ?? 0;
    this.#continue = head.expectContinue;
  }

  override _read(): void {
    if (this.#continue) {
      this.#continue = false;
      this.#connection.sendContinue();
    }
    this.#connection.flow(true);
  }

  /** Takes body bytes from `chunk` at `start`; returns the index past the body's end, or -1. */
  feed(chunk: Buffer, start: number): number {
    if (this.#chunked !== null) {
      const end = this.#chunked.execute(chunk, start, (data) => this.#push(data));
      if (end >= 0) this.push(null);
      return end;
    }
    const n = Math.min(this.#remaining, chunk.length - start);
    if (n > 0) this.#push(chunk.subarray(start, start + n));
    this.#remaining -= n;
    if (this.#remaining === 0) {
      this.push(null);
      return start + n;
    }
    return -1;
  }

  #push(data: Buffer): void {
    if (!this.push(data)) this.#connection.flow(false);
  }
}
