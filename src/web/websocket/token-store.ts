/**
 * @module The one-time WebSocket token contract: a {@link TokenStore} issues an
 * opaque bearer token for a subject and gives the subject back exactly once.
 */
import { randomBytes } from 'node:crypto';
import { VesperError } from '../../shared/errors/index.js';

/**
 * How long a token stays valid when `issue` is not told otherwise: 20 seconds,
 * long enough for a page to open its WebSocket, short enough that a token
 * copied out of a log or a browser history is useless (seed 001, DESIGN §3).
 */
export const DEFAULT_TOKEN_TTL_MS = 20_000;

/** Random bytes in a token: 256 bits, well above the 128 the design requires. */
export const TOKEN_BYTES = 32;

/** The longest subject a store accepts, in UTF-8 bytes. */
export const MAX_TOKEN_SUBJECT_BYTES = 1024;

/** The longest lifetime a store accepts: one day. A one-time token is short-lived by nature. */
export const MAX_TOKEN_TTL_MS = 86_400_000;

/** base64url of {@link TOKEN_BYTES} bytes, without padding. */
const TOKEN_PATTERN = /^[A-Za-z0-9_-]{43}$/;

/**
 * Issues and consumes one-time bearer tokens.
 *
 * A token is opaque to its holder: {@link TOKEN_BYTES} bytes from
 * `crypto.randomBytes`, base64url without padding. `consume` is atomic: of any
 * number of concurrent calls with the same token, at most one gets the subject,
 * and only before the token expires. Implementations never log tokens.
 */
export interface TokenStore {
  /**
   * Issues a fresh token standing for `subject` (a user name, a session id).
   * `ttlMs` defaults to {@link DEFAULT_TOKEN_TTL_MS}.
   * @throws VesperError `VESPER_WEB_TOKEN_INVALID_ARGUMENT` for an empty or
   *   oversized subject or a TTL that is not a positive integer up to
   *   {@link MAX_TOKEN_TTL_MS}; `VESPER_WEB_TOKEN_STORE_CLOSED` after `close()`;
   *   `VESPER_WEB_TOKEN_STORE_UNAVAILABLE` when a backing server fails.
   */
  issue(subject: string, ttlMs?: number): Promise<string>;
  /**
   * Uses up `token`: resolves to its subject the first time a live token is
   * presented and to `null` for an unknown, malformed, expired or already used one.
   * @throws VesperError `VESPER_WEB_TOKEN_STORE_CLOSED` after `close()`;
   *   `VESPER_WEB_TOKEN_STORE_UNAVAILABLE` when a backing server fails.
   */
  consume(token: string): Promise<string | null>;
  /** Releases timers and connections the store owns. Idempotent. */
  close(): Promise<void>;
}

/** A fresh token: {@link TOKEN_BYTES} random bytes, base64url. */
export function newToken(): string {
  return randomBytes(TOKEN_BYTES).toString('base64url');
}

/**
 * True when `token` has the shape {@link newToken} produces. Stores refuse
 * anything else before looking it up, so a client cannot make them hash or
 * query arbitrarily long strings.
 */
export function isWellFormedToken(token: unknown): token is string {
  return typeof token === 'string' && TOKEN_PATTERN.test(token);
}

/**
 * Checks the arguments of {@link TokenStore.issue} and returns the TTL to use.
 * @throws VesperError `VESPER_WEB_TOKEN_INVALID_ARGUMENT`.
 */
export function checkIssueArguments(subject: unknown, ttlMs: unknown): number {
  if (typeof subject !== 'string' || subject.length === 0) {
    throw new VesperError(
      'VESPER_WEB_TOKEN_INVALID_ARGUMENT',
      'A token needs a non-empty subject.',
    );
  }
  if (Buffer.byteLength(subject) > MAX_TOKEN_SUBJECT_BYTES) {
    throw new VesperError(
      'VESPER_WEB_TOKEN_INVALID_ARGUMENT',
      `A token subject may be at most ${MAX_TOKEN_SUBJECT_BYTES} bytes long.`,
    );
  }
  if (ttlMs === undefined) return DEFAULT_TOKEN_TTL_MS;
  if (
    typeof ttlMs !== 'number' ||
    !Number.isInteger(ttlMs) ||
    ttlMs <= 0 ||
    ttlMs > MAX_TOKEN_TTL_MS
  ) {
    throw new VesperError(
      'VESPER_WEB_TOKEN_INVALID_ARGUMENT',
      `A token lifetime must be a whole number of milliseconds between 1 and ${MAX_TOKEN_TTL_MS}.`,
    );
  }
  return ttlMs;
}

/** The error every store throws once it has been closed. */
export function tokenStoreClosedError(): VesperError {
  return new VesperError('VESPER_WEB_TOKEN_STORE_CLOSED', 'The token store has been closed.');
}
