/**
 * @module Control requests from the session server to a session process over its socket.
 */
import { request } from 'node:http';
import { VesperError } from '../../shared/errors/index.js';

/** What `GET /_vesper/status` reports. */
export interface SessionStatus {
  readonly user: string;
  readonly session: number;
  readonly pid: number;
  readonly state: 'live' | 'dormant';
  readonly idleMs: number;
  readonly startedAt: number;
  readonly lastRequestAt: number;
  readonly draft: boolean;
  readonly timeoutAt: number;
}

/** The outcome of a control request: a reply, or why there is none. */
export type ControlResult<T> =
  | { readonly ok: true; readonly value: T }
  | { readonly ok: false; readonly gone: boolean; readonly error: Error };

function isStatus(v: unknown): v is SessionStatus {
  if (typeof v !== 'object' || v === null) return false;
  const s = v as Record<string, unknown>;
  return (
    typeof s.user === 'string' &&
    typeof s.session === 'number' &&
    typeof s.pid === 'number' &&
    (s.state === 'live' || s.state === 'dormant') &&
    typeof s.idleMs === 'number' &&
    typeof s.timeoutAt === 'number'
  );
}

function controlRequest(
  socketPath: string,
  method: 'GET' | 'POST',
  path: string,
  timeoutMs: number,
): Promise<ControlResult<string>> {
  return new Promise((resolve) => {
    const req = request(
      { socketPath, method, path, headers: { 'X-Vesper-Control': '1' }, agent: false },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => {
          clearTimeout(timer);
          const body = Buffer.concat(chunks).toString('utf8');
          if (res.statusCode === 200) resolve({ ok: true, value: body });
          else
            resolve({
              ok: false,
              gone: false,
              error: new VesperError('VESPER_SESSION_CONTROL_REFUSED', `status ${res.statusCode}`),
            });
        });
        res.on('error', () => undefined);
      },
    );
    const timer = setTimeout(() => {
      req.destroy(
        new VesperError('VESPER_SESSION_CONTROL_TIMEOUT', `no answer within ${timeoutMs} ms`),
      );
    }, timeoutMs);
    req.on('error', (err: NodeJS.ErrnoException) => {
      clearTimeout(timer);
      const gone = err.code === 'ENOENT' || err.code === 'ECONNREFUSED';
      resolve({ ok: false, gone, error: err });
    });
    req.end();
  });
}

/**
 * Asks a session for its status. `gone` is true when nothing listens on the
 * socket (no file, or connection refused): the session has ended.
 */
export async function fetchStatus(
  socketPath: string,
  timeoutMs = 2_000,
): Promise<ControlResult<SessionStatus>> {
  const r = await controlRequest(socketPath, 'GET', '/_vesper/status', timeoutMs);
  if (!r.ok) return r;
  let parsed: unknown;
  try {
    parsed = JSON.parse(r.value);
  } catch {
    parsed = null;
  }
  if (!isStatus(parsed)) {
    return {
      ok: false,
      gone: false,
      error: new VesperError('VESPER_SESSION_CONTROL_PROTOCOL', 'The status reply is malformed.'),
    };
  }
  return { ok: true, value: parsed };
}

/** Asks a session to end (it removes its socket and exits). */
export async function requestShutdown(
  socketPath: string,
  timeoutMs = 2_000,
): Promise<ControlResult<string>> {
  return controlRequest(socketPath, 'POST', '/_vesper/shutdown', timeoutMs);
}
