/**
 * @module The errors of the WebSocket layer: a base class, "the connection is
 * closed", and "the server refused the handshake".
 */
import { VesperError } from '../../shared/errors/index.js';
import type { HTTPHeaders } from '../httputil.js';

/** Base of every WebSocket error (Tornado's `WebSocketError`). */
export class WebSocketError extends VesperError {}

/**
 * Raised by `writeMessage`, `ping` and friends once the connection is closing
 * or closed (Tornado's `WebSocketClosedError`). Code `VESPER_WEB_WEBSOCKET_CLOSED`.
 */
export class WebSocketClosedError extends WebSocketError {
  constructor(message = 'The WebSocket is closed.', options: { cause?: unknown } = {}) {
    super('VESPER_WEB_WEBSOCKET_CLOSED', message, { cause: options.cause });
  }
}

/**
 * The server answered a WebSocket handshake with something other than `101`
 * (Tornado's `HTTPClientError`). Code `VESPER_WEB_WEBSOCKET_HANDSHAKE_REFUSED`;
 * `statusCode` (also `httpStatus`), the response `headers` and up to 64 KiB of
 * its `body` say what the server said.
 */
export class WebSocketHandshakeError extends WebSocketError {
  /** The status the server answered with. */
  readonly statusCode: number;
  /** The response headers. */
  readonly headers: HTTPHeaders;
  /** The start of the response body (at most 64 KiB). */
  readonly body: Buffer;

  constructor(statusCode: number, headers: HTTPHeaders, body: Buffer) {
    super(
      'VESPER_WEB_WEBSOCKET_HANDSHAKE_REFUSED',
      `The server refused the WebSocket handshake with HTTP ${statusCode}.`,
      { httpStatus: statusCode },
    );
    this.statusCode = statusCode;
    this.headers = headers;
    this.body = body;
  }
}
