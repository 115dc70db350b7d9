import { createServer, type Server, type Socket } from 'node:net';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { captureLogger } from '../../web/web-test-helpers.js';
import {
  KEY,
  parseResponse,
  rawExchange,
  removeDir,
  sessionSocket,
  startTestWorker,
  tempDir,
  testConfig,
  type TestWorker,
} from './helpers.js';

const ANSWER_MS = 300;
const dir = tempDir();
const { log, lines } = captureLogger();
let worker: TestWorker;
const servers: Server[] = [];
const upstream: Socket[] = [];

beforeAll(async () => {
  worker = await startTestWorker(
    testConfig(dir, (c) => void (c.frontend.timeout.answer = ANSWER_MS)),
    log,
  );
});

afterEach(async () => {
  for (const s of upstream.splice(0)) s.destroy();
  for (const s of servers.splice(0)) await new Promise((resolve) => s.close(resolve));
});

afterAll(async () => {
  await worker.close(200);
  removeDir(dir);
});

/** A session on a raw socket: `answer` gets each connection's first request bytes. */
async function session(user: string, answer: (socket: Socket) => void): Promise<Socket[]> {
  const closed: Socket[] = [];
  const server = createServer((socket) => {
    upstream.push(socket);
    socket.on('error', () => undefined);
    socket.on('close', () => closed.push(socket));
    socket.once('data', () => answer(socket));
  });
  servers.push(server);
  await new Promise<void>((resolve) =>
    server.listen(sessionSocket(worker.config, user, KEY), resolve),
  );
  return closed;
}

const get = (user: string): string =>
  `GET /session/${user}/${KEY}/page HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n`;

describe('frontend.timeout.answer', () => {
  it('gives up on a session that never answers: 504 page, the session connection closed, a warning without the key', async () => {
    const closed = await session('sam', () => undefined);
    const started = performance.now();
    const r = await rawExchange(worker.port, get('sam'), 5000);
    const took = performance.now() - started;
    const page = parseResponse(r.text);
    expect(page.status).toBe(504);
    expect(page.body).toContain('did not answer in time');
    expect(page.headers['x-frame-options']).toEqual(['DENY']);
    // Given up after the timeout, within the sweep's quarter-timeout step.
    expect(took).toBeGreaterThanOrEqual(ANSWER_MS - 5);
    expect(took).toBeLessThan(ANSWER_MS * 2 + 500);
    for (let i = 0; i < 50 && closed.length === 0; i++) await new Promise((r) => setTimeout(r, 10));
    expect(closed.length).toBe(1);
    expect(worker.worker.load().inflight).toBe(0);
    const warning = lines.find((l) => String(l['msg']).includes('did not answer'));
    expect(warning).toMatchObject({ user: 'sam', path: '/session/sam/-/page', seconds: 0.3 });
    expect(JSON.stringify(lines)).not.toContain(KEY);
  });

  it('cuts the client connection when the answer began and then stalled', async () => {
    await session('tia', (socket) =>
      socket.write('HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\nonly part of it'),
    );
    const r = await rawExchange(worker.port, get('tia'), 5000);
    expect(r.closed).toBe(true);
    expect(r.text.startsWith('HTTP/1.1 200 OK\r\n')).toBe(true);
    expect(r.text.endsWith('only part of it')).toBe(true);
  });

  it('leaves alone a session that is slow but keeps sending, for longer than the timeout in all', async () => {
    await session('uma', (socket) => {
      socket.write('HTTP/1.1 200 OK\r\nContent-Length: 8\r\n\r\n');
      let n = 0;
      const tick = setInterval(() => {
        socket.write(String(n++));
        if (n === 8) clearInterval(tick);
      }, ANSWER_MS / 2);
    });
    const r = await rawExchange(worker.port, get('uma'), 10_000);
    const page = parseResponse(r.text);
    expect([page.status, page.body]).toEqual([200, '01234567']);
  });

  it('does not count the time a slow client holds the answer up against the session', async () => {
    const body = Buffer.alloc(16 * 1024 * 1024, 0x61);
    await session('vic', (socket) => {
      socket.write(`HTTP/1.1 200 OK\r\nContent-Length: ${body.length}\r\n\r\n`);
      socket.write(body);
    });
    const { connect } = await import('node:net');
    const client = connect(worker.port, '127.0.0.1');
    client.pause();
    client.write(get('vic'));
    // Reads nothing for several answer timeouts: the session is waiting on us, not silent.
    await new Promise((resolve) => setTimeout(resolve, ANSWER_MS * 4));
    let received = 0;
    client.on('data', (c: Buffer) => (received += c.length));
    client.resume();
    await new Promise((resolve) => client.on('close', resolve));
    expect(received).toBeGreaterThan(body.length);
  });
});
