import { connect, type Socket } from 'node:net';
import { describe, it, expect, afterAll, beforeAll } from 'vitest';
import {
  MemoryTokenStore,
  RequestHandler,
  WebSocketHandler,
  WebSocketTokenAuth,
  websocketConnect,
  type ReceivedMessage,
  type TestServer,
} from '../../../src/web/index.js';
import { Servers, fdCount, handshake, sleep } from './ws-test-helpers.js';

class Echo extends WebSocketHandler {
  override onMessage(message: ReceivedMessage) {
    return this.writeMessage(message);
  }
}
class Guarded extends WebSocketTokenAuth(Echo) {}
class Plain extends RequestHandler {
  override get() {
    this.write('plain page');
  }
}

const servers = new Servers();
const store = new MemoryTokenStore();
let server: TestServer;

beforeAll(async () => {
  server = await servers.start(
    [
      ['/echo', Echo],
      ['/guarded', Guarded],
      ['/plain', Plain],
    ],
    { websocketTokenStore: store },
  );
});
afterAll(async () => {
  await servers.closeAll();
  await store.close();
});

/** Waits until the fd count is back to `baseline` (sockets close asynchronously). */
async function settleTo(baseline: number): Promise<number> {
  const end = Date.now() + 3_000;
  while (fdCount() > baseline && Date.now() < end) await sleep(10);
  return fdCount();
}

async function cycle(): Promise<void> {
  const connection = await websocketConnect(server.url('/echo'));
  await connection.writeMessage('ping');
  expect(await connection.readMessage()).toBe('ping');
  await connection.close(1000);
}

/** Sends a handshake the server refuses; resolves when the server closed the socket. */
function refused(path: string, extra: Record<string, string | null>): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = connect(server.port, '127.0.0.1');
    let answer = '';
    socket.on('data', (d: Buffer) => (answer += d.toString('latin1')));
    socket.on('error', reject);
    socket.on('close', () => resolve(answer.slice(0, answer.indexOf('\r\n'))));
    socket.write(handshake(server.port, path, extra));
  });
}

async function inBatches(total: number, size: number, run: () => Promise<unknown>) {
  for (let done = 0; done < total; done += size) {
    await Promise.all(Array.from({ length: Math.min(size, total - done) }, run));
  }
}

describe('WebSocket file descriptors', () => {
  it('are all released after 1,000 connect/echo/close cycles', async () => {
    await inBatches(20, 10, cycle); // warm up lazily created handles
    const baseline = await settleTo(fdCount());
    await inBatches(1_000, 25, cycle);
    // No tolerance: every socket on both ends must be closed.
    expect(await settleTo(baseline)).toBe(baseline);
  });

  it('are all released after 1,000 refused handshakes', async () => {
    await refused('/echo', { 'Sec-WebSocket-Version': '99' });
    const baseline = await settleTo(fdCount());
    const statuses = new Set<string>();
    await inBatches(500, 25, async () =>
      statuses.add(await refused('/echo', { 'Sec-WebSocket-Version': '99' })),
    );
    await inBatches(500, 25, async () => statuses.add(await refused('/guarded', { Origin: null })));
    expect([...statuses].sort()).toEqual([
      'HTTP/1.1 401 Unauthorized',
      'HTTP/1.1 426 Upgrade Required',
    ]);
    expect(await settleTo(baseline)).toBe(baseline);
  });

  it('closes the server side of a refused handshake even when the client keeps its side open', async () => {
    const baseline = await settleTo(fdCount());
    const clients: Socket[] = [];
    await Promise.all(
      Array.from(
        { length: 50 },
        () =>
          new Promise<void>((resolve, reject) => {
            const socket = connect({ port: server.port, host: '127.0.0.1', allowHalfOpen: true });
            clients.push(socket);
            socket.on('error', reject);
            socket.resume();
            socket.once('end', () => resolve());
            socket.write(handshake(server.port, '/guarded'));
          }),
      ),
    );
    // Only our 50 client ends remain open: the server destroyed its sockets.
    expect(await settleTo(baseline + 50)).toBe(baseline + 50);
    for (const socket of clients) socket.destroy();
    expect(await settleTo(baseline)).toBe(baseline);
  });

  it('destroys an upgrade answered as plain HTTP (no route, plain handler) while the client keeps its side open', async () => {
    const baseline = await settleTo(fdCount());
    const clients: Socket[] = [];
    const heads: string[] = [];
    await Promise.all(
      ['/nowhere', '/plain'].flatMap((path) =>
        Array.from(
          { length: 25 },
          () =>
            new Promise<void>((resolve, reject) => {
              const socket = connect({ port: server.port, host: '127.0.0.1', allowHalfOpen: true });
              clients.push(socket);
              let answer = '';
              socket.on('data', (d: Buffer) => (answer += d.toString('latin1')));
              socket.on('error', reject);
              socket.once('end', () => {
                heads.push(answer.slice(0, answer.indexOf('\r\n')));
                resolve();
              });
              socket.write(handshake(server.port, path));
            }),
        ),
      ),
    );
    expect(new Set(heads)).toEqual(new Set(['HTTP/1.1 404 Not Found', 'HTTP/1.1 200 OK']));
    expect(await settleTo(baseline + 50)).toBe(baseline + 50);
    for (const socket of clients) socket.destroy();
    expect(await settleTo(baseline)).toBe(baseline);
  });
});
