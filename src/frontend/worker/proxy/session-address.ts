/**
 * @module From a session URL (and the cookie) to the session's socket: the account-name and key rules of the session contract, checked before any name is built.
 */
import { parseCookie } from '../../../web/index.js';
import {
  isValidUser,
  isWellFormedKey,
  SESSION_COOKIE,
  sessionSocketPath,
} from '../../../session/session-identity.js';
import type { RequestTarget } from '../http/request-target.js';

/** A session URL resolved to its socket, or to "no such session". */
export interface SessionAddress {
  /** The user part when it follows the account-name rule, else null (then the login link is `/login`). */
  readonly user: string | null;
  /** `<socket_dir>/s-<id>.sock`, or null when the user or key is not acceptable. */
  readonly socketPath: string | null;
  /** True when the URL is the session's WebSocket endpoint (`.../ws[/...]`). */
  readonly websocket: boolean;
}

/** Resolutions remembered by a {@link SessionResolver}. */
const DEFAULT_REMEMBERED = 4096;

/** Inputs longer than this (a long cookie header) are resolved every time, not remembered. */
const LONGEST_REMEMBERED = 1024;

/** The user part of a session URL when it follows the account-name rule, else null. */
export function sessionUser(target: RequestTarget): string | null {
  const userPart = target.segments[1];
  return isValidUser(userPart) ? userPart : null;
}

/**
 * Resolves `/session/<user>/<key>/<cmd>...` to the session's socket. An empty
 * key is taken from the `vesper_session` cookie. Anything that breaks the
 * rules resolves to no socket, which the caller answers with the "session
 * ended" page: a bad user, a bad key and an unknown session look the same.
 *
 * A session's every request resolves the same user, key and cookie to the
 * same socket, so the last few thousand resolutions are remembered (oldest
 * forgotten first): the cookie parse and the SHA-256 of the socket name are
 * paid once per session and worker, not once per request.
 */
export class SessionResolver {
  readonly #socketDir: string;
  readonly #remembered = new Map<string, string | null>();
  readonly #max: number;

  constructor(socketDir: string, remembered = DEFAULT_REMEMBERED) {
    this.#socketDir = socketDir;
    this.#max = remembered;
  }

  /** Resolutions remembered now (at most the number given to the constructor). */
  get remembered(): number {
    return this.#remembered.size;
  }

  /** The address of the session `target` names, with `cookieHeader` (the request's `Cookie`). */
  resolve(target: RequestTarget, cookieHeader: string | undefined): SessionAddress {
    const [, userPart, keyPart, cmd] = target.segments;
    const user = isValidUser(userPart) ? userPart : null;
    const websocket = cmd === 'ws';
    if (user === null || keyPart === undefined || cmd === undefined) {
      return { user, socketPath: null, websocket };
    }
    const cookie = keyPart === '' ? (cookieHeader ?? '') : '';
    const memo = `${user}\n${keyPart}\n${cookie}`;
    const known = this.#remembered.get(memo);
    if (known !== undefined) return { user, socketPath: known, websocket };
    const socketPath = this.#socketPath(user, keyPart, cookieHeader);
    if (memo.length <= LONGEST_REMEMBERED && this.#max > 0) {
      if (this.#remembered.size >= this.#max) {
        this.#remembered.delete(this.#remembered.keys().next().value as string);
      }
      this.#remembered.set(memo, socketPath);
    }
    return { user, socketPath, websocket };
  }

  #socketPath(user: string, keyPart: string, cookieHeader: string | undefined): string | null {
    let key = keyPart;
    if (key === '' && cookieHeader !== undefined) {
      try {
        key = parseCookie(cookieHeader)[SESSION_COOKIE] ?? '';
      } catch {
        key = '';
      }
    }
    return isWellFormedKey(key) ? sessionSocketPath(this.#socketDir, user, key) : null;
  }
}
