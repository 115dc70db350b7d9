/**
 * @module A WebSocket client for end-to-end tests of the live channel through
 * the gateway: JSON messages in order, the close code, refused upgrades as errors.
 */
import WebSocket from 'ws';

/** An open WebSocket and what it received. */
export interface LiveSocket {
  ws: WebSocket;
  /** Messages received and not yet taken by `next()`. */
  messages: unknown[];
  /** The next JSON message; rejects after 5 s without one. */
  next: () => Promise<unknown>;
  /** Resolves when the connection closes. */
  closed: Promise<{ code: number; reason: string }>;
}

/**
 * Opens a WebSocket through the gateway with `cookie`; `next()` resolves with
 * the next JSON message (or rejects after 5 s), `closed` with the close code
 * and reason. Rejects with the status when the upgrade is refused.
 */
export function openSocket(port: number, path: string, cookie: string): Promise<LiveSocket> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(`ws://127.0.0.1:${port}${path}`, {
      headers: { cookie },
      origin: `http://127.0.0.1:${port}`,
    });
    const messages: unknown[] = [];
    const waiting: ((m: unknown) => void)[] = [];
    ws.on('message', (data: Buffer) => {
      const m: unknown = JSON.parse(data.toString('utf8'));
      const w = waiting.shift();
      if (w !== undefined) w(m);
      else messages.push(m);
    });
    const next = (): Promise<unknown> =>
      messages.length > 0
        ? Promise.resolve(messages.shift())
        : new Promise((r, j) => {
            const t = setTimeout(() => j(new Error('no WebSocket message within 5 s')), 5000);
            waiting.push((m) => {
              clearTimeout(t);
              r(m);
            });
          });
    const closed = new Promise<{ code: number; reason: string }>((r) =>
      ws.once('close', (code, reason) => r({ code, reason: reason.toString('utf8') })),
    );
    ws.once('open', () => resolve({ ws, messages, next, closed }));
    ws.once('unexpected-response', (_req, res) =>
      reject(new Error(`the upgrade was answered ${res.statusCode}`)),
    );
    ws.once('error', reject);
  });
}
