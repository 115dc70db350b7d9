/**
 * @module Session identity: account-name and key rules, fresh keys, the
 * constant-time key check and the socket name derived from both.
 */
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { join } from 'node:path';

/** The account-name rule every session user name must pass. */
export const USER_PATTERN = /^[A-Za-z0-9_][A-Za-z0-9._-]{0,63}$/;

/** The shape of a session key (base64url, 22 to 128 characters). */
export const KEY_PATTERN = /^[A-Za-z0-9_-]{22,128}$/;

/** The name of the session cookie. */
export const SESSION_COOKIE = 'vesper_session';

/** The init socket's file name inside `session.socket_dir`. */
export const INIT_SOCKET_NAME = 'init.sock';

/** Session socket file names: `s-<32 hex>.sock`. */
export const SESSION_SOCKET_PATTERN = /^s-[0-9a-f]{32}\.sock$/;

/** True when `user` follows the account-name rule. */
export function isValidUser(user: unknown): user is string {
  return typeof user === 'string' && USER_PATTERN.test(user);
}

/** True when `key` has the shape of a session key. */
export function isWellFormedKey(key: unknown): key is string {
  return typeof key === 'string' && KEY_PATTERN.test(key);
}

/** A fresh session key: `bytes` random bytes (at least 16) as base64url without padding. */
export function newSessionKey(bytes: number): string {
  return randomBytes(Math.max(16, bytes)).toString('base64url');
}

/**
 * The session's id: `sha256("<user>\n<key>")`, lowercase hex, first 32 characters.
 * Callers validate `user` and `key` first (see {@link isValidUser}, {@link isWellFormedKey}).
 */
export function sessionId(user: string, key: string): string {
  return createHash('sha256').update(`${user}\n${key}`).digest('hex').slice(0, 32);
}

/** The session socket's path for `user` and `key` inside `socketDir`. */
export function sessionSocketPath(socketDir: string, user: string, key: string): string {
  return join(socketDir, `s-${sessionId(user, key)}.sock`);
}

/**
 * Compares a presented key with the session's in constant time. A presented
 * key of another length is compared against the real key with itself (so the
 * time spent does not depend on the presented bytes) and refused.
 */
export function keyMatches(expected: Buffer, presented: string | undefined): boolean {
  const given = Buffer.from(presented ?? '', 'utf8');
  if (given.length !== expected.length) {
    timingSafeEqual(expected, expected);
    return false;
  }
  return timingSafeEqual(expected, given);
}
