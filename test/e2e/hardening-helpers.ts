/**
 * @module Shared by the gateway hardening tests: raw bytes over one TCP
 * connection and the status lines of the answer, a process's descriptor
 * count from /proc, and one WebSocket connect/close (or refusal) cycle with
 * the real `ws` client.
 */
import { readdirSync } from 'node:fs';
import { connect } from 'node:net';
import WebSocket from 'ws';

/** What one raw exchange received. */
export interface RawAnswer {
  /** Every byte received, as latin1 text. */
  text: string;
  /** True when the server closed the connection before the timeout. */
  closed: boolean;
  /** Milliseconds from connecting to the close (or the timeout). */
  ms: number;
}

/**
 * Writes `data` on a fresh connection to 127.0.0.1:`port` and collects what
 * comes back until the server closes the connection or `timeout` ms pass
 * (then the connection is destroyed and `closed` is false).
 */
export function rawExchange(
  port: number,
  data: string | Buffer,
  timeout = 3000,
): Promise<RawAnswer> {
  return new Promise((resolve) => {
    const started = Date.now();
    const socket = connect(port, '127.0.0.1');
    const parts: Buffer[] = [];
    const done = (closed: boolean): void =>
      resolve({ text: Buffer.concat(parts).toString('latin1'), closed, ms: Date.now() - started });
    const timer = setTimeout(() => {
      socket.destroy();
      done(false);
    }, timeout);
    socket.on('data', (c: Buffer) => parts.push(c));
    // A reset after the answer still ends the exchange through 'close'.
    socket.on('error', () => undefined);
    socket.on('close', () => {
      clearTimeout(timer);
      done(true);
    });
    socket.write(data);
  });
}

/** Status codes of every HTTP/1.1 status line in a raw byte string, in order. */
export function statuses(text: string): number[] {
  return [...text.matchAll(/HTTP\/1\.1 (\d{3}) /g)].map((m) => Number(m[1]));
}

/** Open descriptors of process `pid` now (Linux /proc); -1 when it is gone. */
export function fdCount(pid: number): number {
  try {
    return readdirSync(`/proc/${pid}/fd`).length;
  } catch {
    return -1;
  }
}

/**
 * Waits up to `ms` for the descriptor count of `pid` to come down to
 * `target` (sockets close asynchronously) and returns the last count seen.
 */
export async function settleFds(pid: number, target: number, ms: number): Promise<number> {
  const deadline = Date.now() + ms;
  while (fdCount(pid) > target && Date.now() < deadline) {
    await new Promise((r) => setTimeout(r, 10));
  }
  return fdCount(pid);
}

/**
 * Waits up to `ms` until the descriptor count of `pid` is the same for
 * 300 ms running, and returns it: a baseline to compare against later.
 */
export async function steadyFds(pid: number, ms: number): Promise<number> {
  const deadline = Date.now() + ms;
  let last = fdCount(pid);
  let since = Date.now();
  while (Date.now() < deadline && Date.now() - since < 300) {
    await new Promise((r) => setTimeout(r, 20));
    const now = fdCount(pid);
    if (now !== last) {
      last = now;
      since = Date.now();
    }
  }
  return last;
}

/**
 * Opens a WebSocket to `path` through 127.0.0.1:`port` with `cookie` and a
 * same-origin `Origin`. When the upgrade succeeds the client closes it
 * (1000) and this resolves with 101 once the close handshake is over; when
 * it is refused, with the answer's status after the connection is dropped.
 * Rejects on a connection error or after 5 s.
 */
export function wsCycle(port: number, path: string, cookie: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(`ws://127.0.0.1:${port}${path}`, {
      headers: { cookie },
      origin: `http://127.0.0.1:${port}`,
    });
    let status = 0;
    const timer = setTimeout(() => {
      ws.terminate();
      reject(new Error(`the WebSocket cycle on ${path} did not end within 5 s`));
    }, 5000);
    ws.once('open', () => {
      status = 101;
      ws.close(1000);
    });
    ws.once('unexpected-response', (_req, res) => {
      status = res.statusCode ?? 0;
      res.resume();
      // With this listener ws leaves the refused handshake to the caller: abort it (then 'close').
      ws.terminate();
    });
    ws.once('close', () => {
      clearTimeout(timer);
      resolve(status);
    });
    ws.on('error', (err) => {
      if (status !== 0) return;
      clearTimeout(timer);
      reject(err);
    });
  });
}
