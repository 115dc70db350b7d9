/**
 * @module The WebSocket client: `websocketConnect` and the connection it yields
 * (Tornado's `websocket_connect` and `WebSocketClientConnection`), on `ws`.
 */
import type { ClientRequest, IncomingMessage } from 'node:http';
import { WebSocket, type ClientOptions } from 'ws';
import { VesperError } from '../../shared/errors/index.js';
import { HTTPHeaders } from '../httputil.js';
import { perMessageDeflate, type WebSocketCompressionOptions } from './compression-options.js';
import { Keepalive, keepaliveSettings } from './keepalive.js';
import { DEFAULT_MAX_MESSAGE_SIZE } from './max-message-size.js';
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
import { WebSocketClosedError, WebSocketHandshakeError } from './websocket-errors.js';

/** Where and how to connect. */
export interface WebSocketConnectRequest {
  /** `ws://`, `wss://` (or `http://`, `https://`, rewritten) URL. */
  url: string | URL;
  /** Extra request headers (`Origin`, `Cookie`...). */
  headers?: Record<string, string>;
  /** Subprotocols to offer, in order of preference. */
  subprotocols?: string[];
  /** permessage-deflate wanted by the client; `null`/absent = off. */
  compression?: WebSocketCompressionOptions | null;
  /** Milliseconds for the TCP connection and the handshake (default 20,000). */
  connectTimeout?: number;
}

/** Options of the connection itself. */
export interface WebSocketConnectOptions {
  /** Largest message accepted, in bytes, after decompression (default 10 MiB); larger → close 1009. */
  maxMessageSize?: number;
  /** Ping the server every this many milliseconds (default: never). */
  pingInterval?: number;
  /** Close with 1000 "ping timed out" when a pong takes longer (default and cap: the interval). */
  pingTimeout?: number;
}

export { DEFAULT_MAX_MESSAGE_SIZE };

/** How long `close()` waits for the server's close frame before dropping the connection. */
const CLOSE_TIMEOUT_MS = 5_000;

/** The most of a refusal's body kept on {@link WebSocketHandshakeError}. */
const MAX_REFUSAL_BODY = 64 * 1024;

/**
 * Opens a WebSocket (Tornado's `websocket_connect`). Redirects are not followed.
 * @throws WebSocketHandshakeError (rejection) when the server answers anything
 *   but `101`, with its status code; VesperError `VESPER_WEB_WEBSOCKET_CONNECT_FAILED`
 *   for a network failure or a timeout; `VESPER_WEB_WEBSOCKET_BAD_OPTION` for
 *   bad options.
 */
export function websocketConnect(
  request: string | URL | WebSocketConnectRequest,
  options: WebSocketConnectOptions = {},
): Promise<WebSocketClientConnection> {
  const req: WebSocketConnectRequest =
    typeof request === 'string' || request instanceof URL ? { url: request } : request;
  return new Promise((resolve, reject) => {
    const bad = (name: string): VesperError =>
      new VesperError('VESPER_WEB_WEBSOCKET_BAD_OPTION', `invalid ${name}`);
    const keepalive = keepaliveSettings(options.pingInterval, options.pingTimeout, bad);
    const maxMessageSize = options.maxMessageSize ?? DEFAULT_MAX_MESSAGE_SIZE;
    if (!Number.isInteger(maxMessageSize) || maxMessageSize < 1) throw bad('maxMessageSize');
    const url = new URL(req.url);
    if (url.protocol === 'http:') url.protocol = 'ws:';
    if (url.protocol === 'https:') url.protocol = 'wss:';
    // `closeTimeout` (ws 8.19+) is not in @types/ws yet.
    const wsOptions: ClientOptions & { closeTimeout: number } = {
      headers: req.headers,
      perMessageDeflate: perMessageDeflate(req.compression),
      maxPayload: maxMessageSize,
      handshakeTimeout: req.connectTimeout ?? 20_000,
      followRedirects: false,
      closeTimeout: CLOSE_TIMEOUT_MS,
    };
    const ws = new WebSocket(url, req.subprotocols ?? [], wsOptions);
    let settled = false;
    let responseHeaders = new HTTPHeaders();
    const fail = (err: Error): void => {
      if (settled) return;
      settled = true;
      reject(err);
    };
    ws.on('upgrade', (res: IncomingMessage) => {
      responseHeaders = HTTPHeaders.fromNode(res.rawHeaders);
    });
    ws.on('unexpected-response', (clientRequest: ClientRequest, res: IncomingMessage) => {
      const chunks: Buffer[] = [];
      let size = 0;
      let refused = false;
      const refuse = (): void => {
        if (refused) return;
        refused = true;
        fail(
          new WebSocketHandshakeError(
            res.statusCode ?? 0,
            HTTPHeaders.fromNode(res.rawHeaders),
            Buffer.concat(chunks),
          ),
        );
        // Aborts the request and destroys its socket; ws then emits 'error'
        // and 'close', which find the promise settled.
        ws.terminate();
      };
      res.on('data', (chunk: Buffer) => {
        if (size >= MAX_REFUSAL_BODY) return;
        chunks.push(chunk.subarray(0, MAX_REFUSAL_BODY - size));
        size += chunk.length;
        if (size >= MAX_REFUSAL_BODY) refuse();
      });
      res.on('end', refuse);
      res.on('error', refuse);
      res.on('close', refuse);
      clientRequest.on('error', () => {
        /* reported through the refusal above */
      });
    });
    ws.on('error', (err: Error) => {
      fail(
        new VesperError(
          'VESPER_WEB_WEBSOCKET_CONNECT_FAILED',
          `Could not open a WebSocket to ${url.origin}${url.pathname}: ${err.message}`,
          { cause: err },
        ),
      );
    });
    ws.once('close', () => {
      fail(
        new VesperError(
          'VESPER_WEB_WEBSOCKET_CONNECT_FAILED',
          `The WebSocket to ${url.origin}${url.pathname} closed during the handshake.`,
        ),
      );
    });
    ws.once('open', () => {
      if (settled) return;
      settled = true;
      ws.removeAllListeners('error');
      ws.removeAllListeners('close');
      resolve(new WebSocketClientConnection(ws, responseHeaders, keepalive));
    });
  });
}

/**
 * An open client connection. Received messages queue until `readMessage()`
 * takes them; after the connection closed, `readMessage()` drains the queue
 * and then resolves to `null`.
 */
export class WebSocketClientConnection {
  /** The handshake response headers. */
  readonly headers: HTTPHeaders;
  readonly #ws: WebSocket;
  readonly #received: ReceivedMessage[] = [];
  readonly #readers: ((m: ReceivedMessage | null) => void)[] = [];
  readonly #closedPromise: Promise<void>;
  readonly #keepalive: Keepalive | null;
  #closed = false;
  #closeCode: number | null = null;
  #closeReason: string | null = null;

  /** Made by {@link websocketConnect}; not meant to be constructed directly. */
  constructor(
    ws: WebSocket,
    headers: HTTPHeaders,
    keepalive: { intervalMs: number; timeoutMs: number | undefined } | null = null,
  ) {
    this.#ws = ws;
    this.headers = headers;
    ws.on('message', (data, isBinary) => {
      const message = decodeMessage(data, isBinary);
      const reader = this.#readers.shift();
      if (reader !== undefined) reader(message);
      else this.#received.push(message);
    });
    ws.on('error', () => {
      /* a protocol error: ws closes the connection and 'close' reports it */
    });
    this.#closedPromise = new Promise((resolve) => {
      ws.once('close', (code: number, reason: Buffer) => {
        this.#closed = true;
        this.#closeCode = receivedCloseCode(code);
        this.#closeReason = receivedCloseReason(reason);
        this.#keepalive?.stop();
        for (const reader of this.#readers.splice(0)) reader(null);
        resolve();
      });
    });
    this.#keepalive =
      keepalive === null
        ? null
        : new Keepalive(
            {
              sendPing: () => ws.ping(),
              timedOut: () => void this.close(1000, 'ping timed out'),
            },
            keepalive.intervalMs,
            keepalive.timeoutMs,
          );
    if (this.#keepalive !== null) ws.on('pong', () => this.#keepalive?.pong());
  }

  /** The subprotocol the server selected, or `null`. */
  get selectedSubprotocol(): string | null {
    return this.#ws.protocol === '' ? null : this.#ws.protocol;
  }

  /** The code the server closed with (`null` while open, or when it sent none). */
  get closeCode(): number | null {
    return this.#closeCode;
  }

  /** The reason the server closed with (`null` while open, or when it sent none). */
  get closeReason(): string | null {
    return this.#closeReason;
  }

  /** True once the connection is closed (the TCP connection too). */
  get closed(): boolean {
    return this.#closed;
  }

  /**
   * Sends a message; resolves once it was handed to the OS.
   * @throws WebSocketClosedError (rejection) once the connection is closing or closed.
   */
  writeMessage(message: WebSocketMessage, options: WriteMessageOptions = {}): Promise<void> {
    if (this.#ws.readyState !== WebSocket.OPEN) {
      return Promise.reject(new WebSocketClosedError());
    }
    return new Promise((resolve, reject) => {
      // A throw here (a message that cannot be encoded) becomes the rejection.
      const { data, binary } = encodeMessage(message, options);
      this.#ws.send(data, { binary }, (err) => {
        if (err === undefined || err === null) resolve();
        else
          reject(new WebSocketClosedError('The WebSocket closed while sending.', { cause: err }));
      });
    });
  }

  /** The next message: a string (text frame) or a Buffer (binary), or `null` once closed. */
  readMessage(): Promise<ReceivedMessage | null> {
    const next = this.#received.shift();
    if (next !== undefined) return Promise.resolve(next);
    if (this.#closed) return Promise.resolve(null);
    return new Promise((resolve) => this.#readers.push(resolve));
  }

  /**
   * Sends a ping (at most 125 bytes).
   * @throws WebSocketClosedError when closed; VesperError `VESPER_WEB_WEBSOCKET_BAD_PING` above 125 bytes.
   */
  ping(data?: string | Buffer): void {
    const payload = pingPayload(data);
    if (this.#ws.readyState !== WebSocket.OPEN) throw new WebSocketClosedError();
    this.#ws.ping(payload);
  }

  /**
   * Starts the closing handshake and resolves when the connection is closed:
   * when the server answered, or after 5 s without an answer (then the TCP
   * connection is dropped). A reason without a code sends 1000. Idempotent.
   * @throws VesperError `VESPER_WEB_WEBSOCKET_BAD_CLOSE` for a code or reason that may not be sent.
   */
  close(code?: number, reason?: string): Promise<void> {
    const args = checkCloseArguments(code, reason);
    if (this.#ws.readyState === WebSocket.OPEN) this.#ws.close(args.code, args.reason);
    return this.#closedPromise;
  }

  /** Drops the TCP connection without a closing handshake. Idempotent. */
  terminate(): Promise<void> {
    this.#ws.terminate();
    return this.#closedPromise;
  }
}
