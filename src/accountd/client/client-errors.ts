/**
 * @module The errors an accountd client call rejects with, each with a stable code.
 */
import { VesperError } from '../../shared/errors/index.js';

/** Codes of client-side failures (not replies). */
export const CLIENT_ERROR_CODES = {
  /** The server could not be reached (connect refused, no socket, TLS failure). */
  unavailable: 'VESPER_ACCOUNTD_UNAVAILABLE',
  /** No reply within `timeoutMs`; the connection was dropped. */
  timeout: 'VESPER_ACCOUNTD_TIMEOUT',
  /** The connection closed before the reply came. */
  connectionClosed: 'VESPER_ACCOUNTD_CONNECTION_CLOSED',
  /** `destroy()` was called. */
  destroyed: 'VESPER_ACCOUNTD_CLIENT_DESTROYED',
  /** The server sent something that is not a reply. */
  protocol: 'VESPER_ACCOUNTD_PROTOCOL',
} as const;

/** A `NO` reply: the server understood and refused (wrong password, weak password, ...). */
export class AccountdRefusedError extends VesperError {
  /** The reply's reason word: `AUTH`, `LOCKED`, `WEAK`, `INVALID`, `CORRUPT`, `UNAVAILABLE`. */
  readonly reason: string;

  constructor(reason: string, text: string) {
    super('VESPER_ACCOUNTD_REFUSED', text);
    this.reason = reason;
  }
}

/** A `BAD` reply: the server found the request malformed or out of order. */
export class AccountdProtocolError extends VesperError {
  /** The reply's reason word: `SYNTAX`, `LINE`, `LITERAL`, `UNKNOWN`, `NOTAUTH`, `LIMIT`, `TIMEOUT`. */
  readonly reason: string;

  constructor(reason: string, text: string) {
    super('VESPER_ACCOUNTD_BAD', text);
    this.reason = reason;
  }
}
