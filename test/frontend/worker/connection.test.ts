import { connect, type Socket } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  KEY,
  rawExchange,
  removeDir,
  sessionSocket,
  startBackend,
  startTestWorker,
  statuses,
  tempDir,
  testConfig,
  type Backend,
  type TestWorker,
} from './helpers.js';

const dir = tempDir();
let worker: TestWorker;
let backend: Backend;
const S = `/session/alice/${KEY}`;

beforeAll(async () => {
  const config = testConfig(dir, (c) => {
    c.frontend.limits = { request_line: 1024, headers: 2048, body: 4096 };
    c.frontend.timeout = {
      ...c.frontend.timeout,
      header: 400,
      idle: 300,
      icons: 150,
      session: 600,
      body: 500,
    };
    c.frontend.max_requests_per_connection = 3;
  });
  worker = await startTestWorker(config);
  backend = await startBackend(sessionSocket(config, 'alice', KEY));
});

afterAll(async () => {
  await worker.close(200);
  await backend.close();
  removeDir(dir);
});

const smuggling: [string, string][] = [
  ['an absolute-form target', `GET http://127.0.0.1${S}/home HTTP/1.1\r\nHost: a\r\n\r\n`],
  ['a // target', `GET //session/alice/${KEY}/home HTTP/1.1\r\nHost: a\r\n\r\n`],
  ['a dot segment after decoding', `GET ${S}/%2e%2e/x HTTP/1.1\r\nHost: a\r\n\r\n`],
  [
    'an encoded slash in the user part',
    `GET /session/al%2fice/${KEY}/home HTTP/1.1\r\nHost: a\r\n\r\n`,
  ],
  [
    'CL with TE',
    `POST ${S}/home HTTP/1.1\r\nHost: a\r\nContent-Length: 4\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n`,
  ],
  [
    'duplicate CL',
    `POST ${S}/home HTTP/1.1\r\nHost: a\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\nab`,
  ],
  ['an invalid CL', `POST ${S}/home HTTP/1.1\r\nHost: a\r\nContent-Length: 1x\r\n\r\na`],
  [
    'TE other than chunked',
    `POST ${S}/home HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked, identity\r\n\r\n0\r\n\r\n`,
  ],
  ['duplicate Host', `GET ${S}/home HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n`],
  [
    'a header name with _',
    `GET ${S}/home HTTP/1.1\r\nHost: a\r\nX_Vesper_Client_Ip: 1.2.3.4\r\n\r\n`,
  ],
  ['a bare CR', `GET ${S}/home HTTP/1.1\r\nHost: a\rX: y\r\n\r\n`],
  ['a NUL', `GET ${S}/home HTTP/1.1\r\nHost: a\r\nX: \x00\r\n\r\n`],
  ['obs-fold', `GET ${S}/home HTTP/1.1\r\nHost: a\r\nX: a\r\n\tb\r\n\r\n`],
];

describe('the worker refuses smuggling shapes', () => {
  for (const [name, request] of smuggling) {
    it(`answers ${name} with 400, closes, and forwards nothing (nor what is pipelined behind it)`, async () => {
      const before = backend.connections;
      const pipelined = `GET ${S}/after HTTP/1.1\r\nHost: a\r\n\r\n`;
      const r = await rawExchange(worker.port, request + pipelined);
      expect(statuses(r.text)).toEqual([400]);
      expect(r.text).toContain('Connection: close\r\n');
      expect(r.closed).toBe(true);
      expect(backend.connections).toBe(before);
      expect(backend.requests).toEqual([]);
    });
  }
});

describe('the worker refuses a malformed chunked body', () => {
  it('answers a bad chunk size with 400 and closes; the session never gets a complete request', async () => {
    const r = await rawExchange(
      worker.port,
      `POST ${S}/home HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\nzz\r\n` +
        `GET ${S}/after HTTP/1.1\r\nHost: a\r\n\r\n`,
    );
    expect([statuses(r.text), r.closed]).toEqual([[400], true]);
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(backend.requests).toEqual([]);
  });
});

describe('the worker limits', () => {
  it('answers a request line over the limit with 414', async () => {
    const r = await rawExchange(
      worker.port,
      `GET /${'a'.repeat(1100)} HTTP/1.1\r\nHost: a\r\n\r\n`,
    );
    expect([statuses(r.text), r.closed]).toEqual([[414], true]);
  });

  it('answers a header block over the limit with 431', async () => {
    const r = await rawExchange(
      worker.port,
      `GET / HTTP/1.1\r\nHost: a\r\nX: ${'b'.repeat(2100)}\r\n\r\n`,
    );
    expect([statuses(r.text), r.closed]).toEqual([[431], true]);
  });

  it('answers a declared body over the limit with 413 before reading it', async () => {
    const r = await rawExchange(
      worker.port,
      `POST ${S}/x HTTP/1.1\r\nHost: a\r\nContent-Length: 5000\r\n\r\n`,
    );
    expect([statuses(r.text), r.closed]).toEqual([[413], true]);
    expect(backend.requests).toEqual([]);
  });

  it('answers a chunked body that grows over the limit with 413', async () => {
    const socket = connect(worker.port, '127.0.0.1');
    const parts: Buffer[] = [];
    socket.on('data', (c: Buffer) => parts.push(c));
    const closed = new Promise((resolve) => socket.on('close', resolve));
    socket.on('error', () => undefined);
    socket.write(`POST /login HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n`);
    for (let i = 0; i < 5 && !socket.destroyed; i++) {
      socket.write(`400\r\n${'x'.repeat(1024)}\r\n`);
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
    await closed;
    expect(statuses(Buffer.concat(parts).toString('latin1'))).toContain(413);
  });

  it('answers HTTP/2.0 with 505 and an unknown method with 501', async () => {
    expect(
      statuses((await rawExchange(worker.port, 'GET / HTTP/2.0\r\nHost: a\r\n\r\n')).text),
    ).toEqual([505]);
    expect(
      statuses((await rawExchange(worker.port, 'BREW / HTTP/1.1\r\nHost: a\r\n\r\n')).text),
    ).toEqual([501]);
  });
});

describe('the worker keeps connections alive', () => {
  it('answers pipelined requests in order and closes after max_requests_per_connection', async () => {
    const one = 'GET /_health HTTP/1.1\r\nHost: a\r\n\r\n';
    const r = await rawExchange(worker.port, one.repeat(5));
    expect(statuses(r.text)).toEqual([200, 200, 200]);
    expect(r.text.match(/Connection: close/g)?.length).toBe(1);
    expect(r.closed).toBe(true);
  });

  it('closes an idle keep-alive connection after the wait of the last request kind', async () => {
    const health = await rawExchange(worker.port, 'GET /_health HTTP/1.1\r\nHost: a\r\n\r\n');
    expect(health.closed).toBe(true);
    expect(health.ms).toBeGreaterThanOrEqual(280);
    expect(health.ms).toBeLessThan(550);
    const icon = await rawExchange(
      worker.port,
      'GET /icons/vesper.svg HTTP/1.1\r\nHost: a\r\n\r\n',
    );
    expect(statuses(icon.text)).toEqual([200]);
    expect(icon.ms).toBeLessThan(280);
    const session = await rawExchange(worker.port, `GET ${S}/home HTTP/1.1\r\nHost: a\r\n\r\n`);
    expect(statuses(session.text)).toEqual([200]);
    expect(session.ms).toBeGreaterThanOrEqual(580);
  });

  it('closes a connection that sends nothing within the header deadline', async () => {
    const r = await rawExchange(worker.port, '');
    expect(r.closed).toBe(true);
    expect(r.ms).toBeLessThan(900);
  });

  it('closes a connection whose body does not arrive within the body deadline; the session never gets the request', async () => {
    const r = await rawExchange(
      worker.port,
      `POST ${S}/slow HTTP/1.1\r\nHost: a\r\nContent-Length: 10\r\n\r\nhalf`,
    );
    expect(r.closed).toBe(true);
    expect(r.ms).toBeGreaterThanOrEqual(480);
    expect(r.ms).toBeLessThan(1000);
    expect(backend.requests.filter((q) => q.url.endsWith('/slow'))).toEqual([]);
  });

  it('drops a client that stops reading a large answer after the stall timeout, and the session connection with it', async () => {
    const big = await startBackend(sessionSocket(worker.config, 'bob', KEY), (_req, res) => {
      res.end(Buffer.alloc(16 * 1024 * 1024, 98));
    });
    let upstreamClosed = false;
    big.server.on('connection', (s) => s.on('close', () => (upstreamClosed = true)));
    try {
      const socket = connect(worker.port, '127.0.0.1');
      socket.pause();
      const started = Date.now();
      const closed = new Promise<number>((resolve) =>
        socket.on('close', () => resolve(Date.now() - started)),
      );
      socket.on('error', () => undefined);
      socket.write(`GET /session/bob/${KEY}/big HTTP/1.1\r\nHost: a\r\n\r\n`);
      await new Promise((resolve) => setTimeout(resolve, 1200));
      let received = 0;
      socket.on('data', (c: Buffer) => (received += c.length));
      socket.resume();
      expect(await closed).toBeLessThan(3000);
      // Cut off: only what the socket buffers held arrived.
      expect(received).toBeLessThan(16 * 1024 * 1024);
      for (let i = 0; i < 50 && !upstreamClosed; i++)
        await new Promise((resolve) => setTimeout(resolve, 20));
      expect(upstreamClosed).toBe(true);
    } finally {
      await big.close();
    }
  });

  it('serves HTTP/1.0 and closes after the answer', async () => {
    const r = await rawExchange(worker.port, 'GET /_health HTTP/1.0\r\n\r\n');
    expect(statuses(r.text)).toEqual([200]);
    expect(r.closed).toBe(true);
    expect(r.ms).toBeLessThan(250);
  });

  it('defeats slowloris: 200 trickling connections are cut at the header deadline while a normal client is served at once', async () => {
    const slow: Socket[] = [];
    const closedAt: number[] = [];
    const started = Date.now();
    for (let i = 0; i < 200; i++) {
      const s = connect(worker.port, '127.0.0.1');
      s.on('error', () => undefined);
      s.on('close', () => closedAt.push(Date.now() - started));
      s.write('GET / HTTP/1.1\r\n');
      slow.push(s);
    }
    const drip = setInterval(() => {
      for (const s of slow) if (!s.destroyed) s.write('X-A: b\r\n');
    }, 50);
    try {
      await new Promise((resolve) => setTimeout(resolve, 100));
      const t = Date.now();
      const r = await rawExchange(
        worker.port,
        'GET /_health HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n',
      );
      expect(statuses(r.text)).toEqual([200]);
      expect(Date.now() - t).toBeLessThan(1000);
      await new Promise((resolve) => setTimeout(resolve, 1000));
      expect(closedAt.length).toBe(200);
      expect(Math.max(...closedAt)).toBeLessThan(1100);
    } finally {
      clearInterval(drip);
      for (const s of slow) s.destroy();
    }
  });
});
