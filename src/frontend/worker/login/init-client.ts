/**
 * @module The worker's client of the session server's init socket: one JSON-line login request, one JSON-line reply (session contract).
 */
import { connect } from 'node:net';
import { VesperError } from '../../../shared/errors/index.js';

/** Longest reply line accepted (the contract's 64 KiB). */
const MAX_LINE = 64 * 1024;

/** A login request as sent on the init socket. */
export interface InitLoginRequest {
  readonly op: 'login';
  readonly user: string;
  readonly password: string;
  readonly clientIp: string;
  readonly tls: boolean;
  readonly listener: string;
}

/** The session cookie the session server asks the worker to set. */
export interface InitCookie {
  readonly name: string;
  readonly value: string;
  readonly path: string;
  readonly httpOnly: boolean;
  readonly sameSite: string;
  readonly secure: boolean;
}

/** A successful login. */
export interface InitLoginSuccess {
  readonly ok: true;
  readonly user: string;
  readonly session: number;
  readonly url: string;
  readonly cookie: InitCookie | null;
}

/** A refused login (`bad-credentials`, `locked-out`, `too-many-sessions`, `unavailable`, `bad-request`). */
export interface InitLoginFailure {
  readonly ok: false;
  readonly error: string;
  readonly message: string;
}

/** The reply to a login. */
export type InitLoginReply = InitLoginSuccess | InitLoginFailure;

function unavailable(message: string, cause?: unknown): VesperError {
  return new VesperError('VESPER_FRONTEND_INIT_UNAVAILABLE', message, { httpStatus: 503, cause });
}

function parseReply(line: string): InitLoginReply {
  let value: unknown;
  try {
    value = JSON.parse(line);
  } catch (err) {
    throw unavailable('The session server sent a reply that is not JSON.', err);
  }
  if (typeof value !== 'object' || value === null)
    throw unavailable('The session server sent a malformed reply.');
  const v = value as Record<string, unknown>;
  if (v['ok'] === false) {
    return {
      ok: false,
      error: typeof v['error'] === 'string' ? v['error'] : 'unavailable',
      message: typeof v['message'] === 'string' ? v['message'] : '',
    };
  }
  const url = v['url'];
  const c = v['cookie'];
  if (v['ok'] !== true || typeof url !== 'string' || !url.startsWith('/session/')) {
    throw unavailable('The session server sent a malformed reply.');
  }
  let cookie: InitCookie | null = null;
  if (typeof c === 'object' && c !== null) {
    const k = c as Record<string, unknown>;
    if (
      typeof k['name'] !== 'string' ||
      typeof k['value'] !== 'string' ||
      typeof k['path'] !== 'string'
    ) {
      throw unavailable('The session server sent a malformed cookie.');
    }
    cookie = {
      name: k['name'],
      value: k['value'],
      path: k['path'],
      httpOnly: k['httpOnly'] !== false,
      sameSite: typeof k['sameSite'] === 'string' ? k['sameSite'] : 'Lax',
      secure: k['secure'] === true,
    };
  }
  return {
    ok: true,
    user: typeof v['user'] === 'string' ? v['user'] : '',
    session: Number(v['session'] ?? 0),
    url,
    cookie,
  };
}

/**
 * Sends one login to the init socket at `socketPath` and waits for the reply.
 * @throws VesperError `VESPER_FRONTEND_INIT_UNAVAILABLE` (httpStatus 503) when
 *   the socket is missing or refuses, the reply is malformed or too long, the
 *   connection closes early, or no reply comes within `timeout` ms.
 */
export function initLogin(
  socketPath: string,
  request: InitLoginRequest,
  timeout: number,
): Promise<InitLoginReply> {
  return new Promise((resolve, reject) => {
    const socket = connect(socketPath);
    const parts: Buffer[] = [];
    let size = 0;
    let done = false;
    const finish = (err: VesperError | null, reply?: InitLoginReply): void => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      socket.destroy();
      if (err !== null) reject(err);
      else resolve(reply!);
    };
    const timer = setTimeout(
      () => finish(unavailable('The session server did not answer in time.')),
      timeout,
    );
    socket.on('error', (err) => finish(unavailable('The session server cannot be reached.', err)));
    socket.on('close', () =>
      finish(unavailable('The session server closed the connection without a reply.')),
    );
    socket.on('data', (chunk: Buffer) => {
      const nl = chunk.indexOf(0x0a);
      if (nl < 0) {
        size += chunk.length;
        if (size > MAX_LINE) finish(unavailable('The session server sent too long a reply.'));
        else parts.push(chunk);
        return;
      }
      parts.push(chunk.subarray(0, nl));
      try {
        finish(null, parseReply(Buffer.concat(parts).toString('utf8')));
      } catch (err) {
        finish(err as VesperError);
      }
    });
    socket.write(`${JSON.stringify(request)}\n`);
  });
}
