/**
 * @module What an application hands to and gets from a WebSocket: message
 * encoding (text, bytes, JSON) and the checks on close codes, close reasons and
 * ping payloads (RFC 6455 §5.5, §7.4).
 */
import type { RawData } from 'ws';
import { VesperError } from '../../shared/errors/index.js';
import { jsonEncode } from '../escape.js';

/** What `writeMessage` sends: text, bytes, or a plain object (sent as JSON text). */
export type WebSocketMessage = string | Buffer | Uint8Array | Record<string, unknown>;

/** Options of `writeMessage`. */
export interface WriteMessageOptions {
  /**
   * Send a binary frame (true) or a text frame (false). Default: binary for
   * bytes, text for strings and objects. (Tornado always defaults to text; a
   * Buffer that is not UTF-8 sent as text would make the peer abort.)
   */
  binary?: boolean;
}

/** A received message: a string for a text frame, a Buffer for a binary one. */
export type ReceivedMessage = string | Buffer;

/**
 * The payload and frame type for `message`.
 * @throws VesperError `VESPER_WEB_WEBSOCKET_BAD_MESSAGE` for anything else than
 *   a string, bytes or a non-null object.
 */
export function encodeMessage(
  message: WebSocketMessage,
  options: WriteMessageOptions = {},
): { data: string | Buffer; binary: boolean } {
  if (typeof message === 'string') return { data: message, binary: options.binary ?? false };
  if (Buffer.isBuffer(message)) return { data: message, binary: options.binary ?? true };
  if (message instanceof Uint8Array) {
    return {
      data: Buffer.from(message.buffer, message.byteOffset, message.byteLength),
      binary: options.binary ?? true,
    };
  }
  if (typeof message === 'object' && message !== null) {
    return { data: jsonEncode(message), binary: options.binary ?? false };
  }
  throw new VesperError(
    'VESPER_WEB_WEBSOCKET_BAD_MESSAGE',
    'writeMessage() only accepts strings, bytes and plain objects.',
  );
}

/** The application's view of what `ws` delivered. */
export function decodeMessage(data: RawData, isBinary: boolean): ReceivedMessage {
  let bytes: Buffer;
  if (Buffer.isBuffer(data)) bytes = data;
  else if (Array.isArray(data)) bytes = Buffer.concat(data);
  else bytes = Buffer.from(data);
  return isBinary ? bytes : bytes.toString('utf8');
}

/**
 * The close code and reason to send: a reason without a code means 1000
 * (Tornado); no code and no reason sends an empty close frame.
 * @throws VesperError `VESPER_WEB_WEBSOCKET_BAD_CLOSE` for a code an endpoint may
 *   not send (RFC 6455 §7.4: 1000-1003, 1007-1014 or 3000-4999) or a reason
 *   longer than 123 UTF-8 bytes (§5.5: a control frame carries at most 125).
 */
export function checkCloseArguments(
  code: number | undefined,
  reason: string | undefined,
): { code: number | undefined; reason: string | undefined } {
  if (code === undefined && reason !== undefined) code = 1000;
  if (code !== undefined && !isSendableCloseCode(code)) {
    throw new VesperError(
      'VESPER_WEB_WEBSOCKET_BAD_CLOSE',
      `${String(code)} is not a close code an endpoint may send.`,
    );
  }
  if (reason !== undefined && Buffer.byteLength(reason) > 123) {
    throw new VesperError(
      'VESPER_WEB_WEBSOCKET_BAD_CLOSE',
      'A close reason may be at most 123 bytes long.',
    );
  }
  return { code, reason };
}

function isSendableCloseCode(code: number): boolean {
  if (!Number.isInteger(code)) return false;
  if (code >= 3000 && code <= 4999) return true;
  return code >= 1000 && code <= 1014 && code !== 1004 && code !== 1005 && code !== 1006;
}

/**
 * The payload of a ping as bytes.
 * @throws VesperError `VESPER_WEB_WEBSOCKET_BAD_PING` above 125 bytes (RFC 6455 §5.5).
 */
export function pingPayload(data: string | Buffer | undefined): Buffer {
  const bytes =
    data === undefined ? Buffer.alloc(0) : Buffer.isBuffer(data) ? data : Buffer.from(data);
  if (bytes.length > 125) {
    throw new VesperError('VESPER_WEB_WEBSOCKET_BAD_PING', 'A ping may carry at most 125 bytes.');
  }
  return bytes;
}

/**
 * The code a peer sent, as the application sees it: `null` when the close frame
 * carried none (1005) or when no close frame came at all (1006), as Tornado's
 * `close_code` is `None` then.
 */
export function receivedCloseCode(code: number): number | null {
  return code === 1005 || code === 1006 ? null : code;
}

/** The reason a peer sent, or `null` when it sent none. */
export function receivedCloseReason(reason: Buffer): string | null {
  return reason.length === 0 ? null : reason.toString('utf8');
}
