/**
 * @module From a session URL (and the cookie) to the session's socket: the account-name and key rules of the session contract, checked before any name is built.
 */
import { createHash } from 'node:crypto';
import { join } from 'node:path';
import { parseCookie } from '../../../web/index.js';
import type { RequestTarget } from '../http/request-target.js';

/** The account-name rule. */
export const USER_RE = /^[A-Za-z0-9_][A-Za-z0-9._-]{0,63}$/;
/** The shape of a session key (base64url). */
export const KEY_RE = /^[A-Za-z0-9_-]{22,128}$/;
/** The session cookie's name. */
export const SESSION_COOKIE = 'vesper_session';

/** A session URL resolved to its socket, or to "no such session". */
export interface SessionAddress {
  /** The user part when it follows the account-name rule, else null (then the login link is `/login`). */
  readonly user: string | null;
  /** `<socket_dir>/s-<id>.sock`, or null when the user or key is not acceptable. */
  readonly socketPath: string | null;
  /** True when the URL is the session's WebSocket endpoint (`.../ws[/...]`). */
  readonly websocket: boolean;
}

/** `sha256("<user>\n<key>")`, lowercase hex, first 32 characters. */
export function sessionSocketName(user: string, key: string): string {
  return `s-${createHash('sha256').update(`${user}\n${key}`).digest('hex').slice(0, 32)}.sock`;
}

/**
 * Resolves `/session/<user>/<key>/<cmd>...`. An empty key is taken from the
 * `vesper_session` cookie. Anything that breaks the rules resolves to no
 * socket, which the caller answers with the "session ended" page: a bad
 * user, a bad key and an unknown session look the same.
 */
export function resolveSession(
  target: RequestTarget,
  cookieHeader: string | undefined,
  socketDir: string,
): SessionAddress {
  const [, userPart, keyPart, cmd] = target.segments;
  const user = userPart !== undefined && USER_RE.test(userPart) ? userPart : null;
  const websocket = cmd === 'ws';
  if (user === null || keyPart === undefined || cmd === undefined) {
    return { user, socketPath: null, websocket };
  }
  let key = keyPart;
  if (key === '' && cookieHeader !== undefined) {
    try {
      key = parseCookie(cookieHeader)[SESSION_COOKIE] ?? '';
    } catch {
      key = '';
    }
  }
  if (!KEY_RE.test(key)) return { user, socketPath: null, websocket };
  return { user, socketPath: join(socketDir, sessionSocketName(user, key)), websocket };
}
