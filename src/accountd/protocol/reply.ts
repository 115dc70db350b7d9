/**
 * @module accountd replies: `OK [data...]`, `NO CODE text` (refused) and
 * `BAD CODE text` (malformed), encoded and decoded on the token grammar.
 */
import { VesperError } from '../../shared/errors/index.js';
import { encodeMessage } from './token-encoding.js';

/** The three reply statuses. */
export type ReplyStatus = 'OK' | 'NO' | 'BAD';

/**
 * The stable reasons a `NO` or `BAD` reply carries as its first word, so a
 * program can act on them without reading the text.
 */
export type ReplyCode =
  // NO: refused
  | 'AUTH' // wrong user name or password
  | 'LOCKED' // too many failed logins; try later
  | 'WEAK' // the new password breaks the password policy
  | 'INVALID' // a value (address, name, days, ...) is not acceptable
  | 'CORRUPT' // the account record cannot be read; the file is kept for inspection
  | 'UNAVAILABLE' // the store failed (disk full, permissions)
  // BAD: malformed or out of order
  | 'SYNTAX' // the line or its arguments are malformed
  | 'LINE' // the line is too long
  | 'LITERAL' // a literal is too large (the connection is closed)
  | 'UNKNOWN' // no such command
  | 'NOTAUTH' // the command needs LOGIN first
  | 'LIMIT' // commands per connection or connections at once (closed)
  | 'TIMEOUT'; // the connection was idle too long (closed)

/** A decoded reply. */
export type Reply =
  { status: 'OK'; data: string[] } | { status: 'NO' | 'BAD'; code: string; text: string };

/** Encodes `OK` followed by `data`; tokens at the indexes in `literals` go as literals. */
export function okReply(data: readonly string[] = [], literals: readonly number[] = []): Buffer {
  return encodeMessage(['OK', ...data], { literals: literals.map((i) => i + 1) });
}

/** Encodes a `NO` (refused) reply. */
export function noReply(code: ReplyCode, text: string): Buffer {
  return encodeMessage(['NO', code, text]);
}

/** Encodes a `BAD` (malformed) reply. */
export function badReply(code: ReplyCode, text: string): Buffer {
  return encodeMessage(['BAD', code, text]);
}

/**
 * Decodes the tokens of one reply message. Throws {@link VesperError}
 * `VESPER_ACCOUNTD_PROTOCOL` when they are not a reply.
 */
export function decodeReply(tokens: readonly string[]): Reply {
  const [status, ...rest] = tokens;
  if (status === 'OK') return { status, data: rest };
  if ((status === 'NO' || status === 'BAD') && rest.length === 2) {
    return { status, code: rest[0]!, text: rest[1]! };
  }
  throw new VesperError('VESPER_ACCOUNTD_PROTOCOL', `accountd sent a malformed reply (${status})`);
}
