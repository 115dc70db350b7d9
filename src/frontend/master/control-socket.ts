/**
 * @module The master's control socket (`<paths.var>/master.sock`, mode 0600): JSON lines, `{"op":"status"}` → the scoreboard.
 *
 * Also the small JSON-lines client `vesper status` uses for it and for the
 * session server's init socket.
 */
import { connect, createServer, type Server, type Socket } from 'node:net';
import { chmod, rename, unlink } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { VesperError } from '../../shared/errors/index.js';

/** The longest request line the control socket reads. */
const MAX_LINE = 64 * 1024;

/** Answers one parsed request; the reply is written as one JSON line. */
export type ControlHandler = (request: Record<string, unknown>) => Promise<unknown>;

/** The control socket of the master whose var directory is `varDir`. */
export function controlSocketPath(varDir: string): string {
  return join(varDir, 'master.sock');
}

/** A listening control socket; `close()` stops it and removes the socket file. */
export interface ControlServer {
  close(): Promise<void>;
}

/**
 * Listens on `path` (bound under a temporary name, made 0600, then renamed
 * into place, replacing a stale socket of a dead master). Each line is a
 * JSON object; the reply to an unparsable line is
 * `{"ok":false,"error":"bad-request"}`. Throws the listen error.
 */
export async function startControlServer(
  path: string,
  handler: ControlHandler,
): Promise<ControlServer> {
  const sockets = new Set<Socket>();
  const server: Server = createServer((socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => socket.destroy());
    socket.setEncoding('utf8');
    let buffer = '';
    let queue = Promise.resolve();
    socket.on('data', (chunk: string) => {
      buffer += chunk;
      if (buffer.length > MAX_LINE && !buffer.includes('\n')) {
        socket.end(`${JSON.stringify({ ok: false, error: 'bad-request' })}\n`);
        return;
      }
      let nl: number;
      while ((nl = buffer.indexOf('\n')) >= 0) {
        const line = buffer.slice(0, nl);
        buffer = buffer.slice(nl + 1);
        queue = queue.then(() => answer(line, handler, socket));
      }
    });
  });
  const temp = join(dirname(path), `.${basename(path)}.${process.pid}.tmp`);
  await unlink(temp).catch(() => undefined);
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(temp, () => {
      server.off('error', reject);
      resolve();
    });
  });
  await chmod(temp, 0o600);
  await rename(temp, path);
  let closed: Promise<void> | undefined;
  return {
    close(): Promise<void> {
      closed ??= new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }).then(() => unlink(path).catch(() => undefined));
      return closed;
    },
  };
}

async function answer(line: string, handler: ControlHandler, socket: Socket): Promise<void> {
  let reply: unknown;
  try {
    const request: unknown = JSON.parse(line);
    if (typeof request !== 'object' || request === null || Array.isArray(request)) {
      reply = { ok: false, error: 'bad-request' };
    } else {
      reply = await handler(request as Record<string, unknown>);
    }
  } catch {
    reply = { ok: false, error: 'bad-request' };
  }
  if (!socket.destroyed) socket.write(`${JSON.stringify(reply)}\n`);
}

/**
 * Sends one JSON request line to the Unix socket `path` and resolves to the
 * parsed first reply line. Throws a `VesperError` (`VESPER_CONTROL_UNREACHABLE`)
 * when nothing answers within `timeoutMs` or the connection fails.
 */
export function requestJsonLine(
  path: string,
  request: unknown,
  timeoutMs = 3000,
): Promise<unknown> {
  return new Promise((resolve, reject) => {
    const socket = connect(path);
    let buffer = '';
    const fail = (why: string, cause?: unknown): void => {
      socket.destroy();
      reject(
        new VesperError('VESPER_CONTROL_UNREACHABLE', `no answer on ${path}: ${why}`, { cause }),
      );
    };
    const timer = setTimeout(() => fail(`nothing within ${timeoutMs} ms`), timeoutMs);
    socket.setEncoding('utf8');
    socket.on('connect', () => socket.write(`${JSON.stringify(request)}\n`));
    socket.on('data', (chunk: string) => {
      buffer += chunk;
      const nl = buffer.indexOf('\n');
      if (nl < 0) return;
      clearTimeout(timer);
      socket.end();
      try {
        resolve(JSON.parse(buffer.slice(0, nl)));
      } catch (err) {
        fail('the reply is not JSON', err);
      }
    });
    socket.on('error', (err) => {
      clearTimeout(timer);
      fail(err.message, err);
    });
    socket.on('close', () => {
      clearTimeout(timer);
      if (!buffer.includes('\n')) fail('the connection closed without a reply');
    });
  });
}
