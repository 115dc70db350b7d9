import { readdirSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { connect } from 'node:net';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { WebSocket, WebSocketServer } from 'ws';
import {
  KEY,
  removeDir,
  sessionSocket,
  startTestWorker,
  tempDir,
  testConfig,
  type TestWorker,
} from './helpers.js';

const dir = tempDir();
let worker: TestWorker;
const servers: Server[] = [];

beforeAll(async () => {
  worker = await startTestWorker(testConfig(dir));
});

afterEach(async () => {
  for (const s of servers.splice(0)) {
    s.closeAllConnections();
    await new Promise((resolve) => s.close(resolve));
  }
});

afterAll(async () => {
  await worker.close(200);
  removeDir(dir);
});

/** A session backend with a real `ws` server that echoes, and records the upgrade headers. */
async function wsBackend(
  user: string,
): Promise<{ wss: WebSocketServer; headers: Record<string, unknown>[] }> {
  const server = createServer((_req, res) => res.end('plain'));
  const wss = new WebSocketServer({ server });
  const headers: Record<string, unknown>[] = [];
  wss.on('connection', (ws, req) => {
    headers.push({ ...req.headers, url: req.url });
    ws.on('message', (data, binary) => ws.send(data, { binary }));
  });
  await new Promise<void>((resolve) =>
    server.listen(sessionSocket(worker.config, user, KEY), resolve),
  );
  servers.push(server);
  return { wss, headers };
}

function open(path: string): Promise<WebSocket> {
  const ws = new WebSocket(`ws://127.0.0.1:${worker.port}${path}`);
  return new Promise((resolve, reject) => {
    ws.once('open', () => resolve(ws));
    ws.once('error', reject);
  });
}

function fdCount(): number {
  return readdirSync('/proc/self/fd').length;
}

/** Sends a raw upgrade and resolves with what came back once the server closed. */
function rawUpgrade(path: string): Promise<string> {
  return new Promise((resolve) => {
    const s = connect(worker.port, '127.0.0.1');
    const parts: Buffer[] = [];
    s.on('data', (c: Buffer) => parts.push(c));
    s.on('error', () => undefined);
    s.on('close', () => resolve(Buffer.concat(parts).toString('latin1')));
    s.write(
      `GET ${path} HTTP/1.1\r\nHost: a\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n` +
        'Sec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n',
    );
  });
}

describe('the WebSocket proxy', () => {
  it('passes a 101 through and relays messages both ways, with the contract headers added', async () => {
    const { headers } = await wsBackend('alice');
    const ws = await open(`/session/alice/${KEY}/ws?ws_token=t1`);
    const echoed = new Promise<string>((resolve) =>
      ws.once('message', (d: Buffer) => resolve(d.toString())),
    );
    ws.send('hello through the gateway');
    expect(await echoed).toBe('hello through the gateway');
    const big = Buffer.alloc(200_000, 7);
    const bigEcho = new Promise<Buffer>((resolve) => ws.once('message', (d: Buffer) => resolve(d)));
    ws.send(big);
    expect((await bigEcho).equals(big)).toBe(true);
    expect(headers[0]!['x-vesper-client-ip']).toBe('127.0.0.1');
    expect(headers[0]!['url']).toBe(`/session/alice/${KEY}/ws?ws_token=t1`);
    const closed = new Promise<number>((resolve) =>
      ws.once('close', (code: number) => resolve(code)),
    );
    ws.close(1000);
    expect(await closed).toBe(1000);
  });

  it('relays a non-101 answer and closes both sides', async () => {
    const server = createServer((_req, res) => {
      res.statusCode = 403;
      res.end('no token');
    });
    await new Promise<void>((resolve) =>
      server.listen(sessionSocket(worker.config, 'bob', KEY), resolve),
    );
    servers.push(server);
    const text = await rawUpgrade(`/session/bob/${KEY}/ws`);
    expect(text).toMatch(/^HTTP\/1\.1 403 Forbidden\r\n/);
    expect(text).toContain('Connection: close\r\n');
    expect(text.endsWith('no token')).toBe(true);
  });

  it('answers an upgrade to a dead session with the session-ended page and closes', async () => {
    const text = await rawUpgrade(`/session/nobody/${KEY}/ws`);
    expect(text).toMatch(/^HTTP\/1\.1 404 Not Found\r\n/);
    expect(text).toContain('Your session has ended');
  });

  it('ends both sides cleanly when the backend dies during the upgrade, or after the 101', async () => {
    const { createServer: createNetServer } = await import('node:net');
    const dying = createNetServer((socket) => socket.once('data', () => socket.destroy()));
    await new Promise<void>((resolve) =>
      dying.listen(sessionSocket(worker.config, 'eve', KEY), resolve),
    );
    const text = await rawUpgrade(`/session/eve/${KEY}/ws`);
    expect(text).toMatch(/^HTTP\/1\.1 503 /);
    await new Promise((resolve) => dying.close(resolve));

    const { wss } = await wsBackend('frank');
    const ws = await open(`/session/frank/${KEY}/ws`);
    const closed = new Promise<number>((resolve) =>
      ws.once('close', (code: number) => resolve(code)),
    );
    for (const client of wss.clients) client.terminate();
    expect(await closed).toBe(1006);
  });

  it('leaves the descriptor count where it started after 1,000 refused upgrades', async () => {
    const server = createServer((_req, res) => {
      res.statusCode = 401;
      res.end('refused');
    });
    await new Promise<void>((resolve) =>
      server.listen(sessionSocket(worker.config, 'carol', KEY), resolve),
    );
    servers.push(server);
    await rawUpgrade(`/session/carol/${KEY}/ws`);
    await new Promise((resolve) => setTimeout(resolve, 100));
    const baseline = fdCount();
    for (let i = 0; i < 1000; i += 50) {
      const batch = await Promise.all(
        Array.from({ length: 50 }, () => rawUpgrade(`/session/carol/${KEY}/ws`)),
      );
      for (const text of batch) expect(text).toMatch(/^HTTP\/1\.1 401 /);
    }
    for (let i = 0; i < 50 && fdCount() > baseline; i++)
      await new Promise((resolve) => setTimeout(resolve, 20));
    expect(fdCount()).toBe(baseline);
  }, 20_000);

  it('closes open WebSockets with 1001 when the worker drains', async () => {
    const dir2 = tempDir();
    const w2 = await startTestWorker(
      testConfig(dir2, (c) => void (c.session.socket_dir = worker.config.session.socket_dir)),
    );
    await wsBackend('dora');
    const ws = new WebSocket(`ws://127.0.0.1:${w2.port}/session/dora/${KEY}/ws`);
    await new Promise((resolve, reject) => {
      ws.once('open', resolve);
      ws.once('error', reject);
    });
    const closed = new Promise<number>((resolve) =>
      ws.once('close', (code: number) => resolve(code)),
    );
    const drained = w2.close(2000);
    expect(await closed).toBe(1001);
    await drained;
    removeDir(dir2);
  });
});
