import { createHash, randomBytes } from 'node:crypto';
import { connect, createServer as createNetServer, type Socket } from 'node:net';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import {
  KEY,
  httpExchange,
  parseResponse,
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
const backends: Backend[] = [];

beforeAll(async () => {
  worker = await startTestWorker(testConfig(dir));
});

afterEach(async () => {
  for (const b of backends.splice(0)) await b.close();
});

afterAll(async () => {
  await worker.close(200);
  removeDir(dir);
});

async function backend(
  user = 'alice',
  key = KEY,
  handler?: Parameters<typeof startBackend>[1],
): Promise<Backend> {
  const b = await startBackend(sessionSocket(worker.config, user, key), handler);
  backends.push(b);
  return b;
}

describe('the session proxy', () => {
  it('reuses one backend connection for many requests, across client connections', async () => {
    const b = await backend();
    for (let i = 0; i < 20; i++) {
      const r = await httpExchange(worker.port, 'GET', `/session/alice/${KEY}/page/${i}`);
      expect(r.status).toBe(200);
      expect(r.body).toBe(`GET /session/alice/${KEY}/page/${i} `);
    }
    expect(b.connections).toBe(1);
  });

  it('strips client x-vesper-* headers and hop-by-hop headers, and adds the client address, scheme and request id', async () => {
    const b = await backend();
    await httpExchange(worker.port, 'GET', `/session/alice/${KEY}/home`, {
      'X-Vesper-Client-Ip': '6.6.6.6',
      'X-Vesper-Control': '1',
      'x-vesper-anything': 'y',
      'X-Other': 'kept',
      'Keep-Alive': 'timeout=5',
      Cookie: 'vesper_session=abc',
    });
    const seen = b.requests[0]!.headers;
    expect(seen['x-vesper-client-ip']).toBe('127.0.0.1');
    expect(seen['x-vesper-client-scheme']).toBe('http');
    expect(seen['x-vesper-request-id']).toMatch(/^[0-9a-f]{8}-[0-9a-z]+$/);
    expect(seen['x-vesper-control']).toBeUndefined();
    expect(seen['x-vesper-anything']).toBeUndefined();
    expect(seen['keep-alive']).toBeUndefined();
    expect(seen['x-other']).toBe('kept');
    expect(seen['cookie']).toBe('vesper_session=abc');
  });

  it('forwards the canonical target, not the bytes the client sent', async () => {
    const b = await backend();
    const r = await httpExchange(
      worker.port,
      'GET',
      `/session/%61lice/${KEY}/folder/INBOX%2fold?q=a%20b`,
    );
    expect(r.status).toBe(200);
    expect(b.requests[0]!.url).toBe(`/session/alice/${KEY}/folder/INBOX%2Fold?q=a%20b`);
  });

  it('finds the session from the cookie when the key is left out of the URL', async () => {
    const b = await backend();
    const r = await httpExchange(worker.port, 'GET', '/session/alice//home', {
      Cookie: `other=1; vesper_session=${KEY}`,
    });
    expect(r.status).toBe(200);
    expect(b.requests[0]!.url).toBe('/session/alice//home');
  });

  it('streams a chunked request body to the session and a large response back', async () => {
    const big = 'x'.repeat(3 * 1024 * 1024);
    await backend('alice', KEY, (_req, res, body) => {
      res.setHeader('X-Got', String(body.length));
      res.end(big);
    });
    const socket = connect(worker.port, '127.0.0.1');
    const parts: Buffer[] = [];
    socket.on('data', (c: Buffer) => parts.push(c));
    const closed = new Promise((resolve) => socket.on('close', resolve));
    socket.write(
      `POST /session/alice/${KEY}/upload HTTP/1.1\r\nHost: a\r\nConnection: close\r\nTransfer-Encoding: chunked\r\n\r\n`,
    );
    for (let i = 0; i < 10; i++) socket.write(`400\r\n${'y'.repeat(1024)}\r\n`);
    socket.write('0\r\n\r\n');
    await closed;
    const r = parseResponse(Buffer.concat(parts).toString('latin1'));
    expect(r.status).toBe(200);
    expect(r.headers['x-got']).toEqual(['10240']);
    expect(r.body.length).toBe(big.length);
  });

  it('answers 30 pipelined session requests on one connection in order, without piling up listeners', async () => {
    await backend();
    const warnings: Error[] = [];
    const onWarning = (w: Error): void => void warnings.push(w);
    process.on('warning', onWarning);
    try {
      let text = '';
      for (let i = 0; i < 30; i++)
        text += `GET /session/alice/${KEY}/n/${i} HTTP/1.1\r\nHost: a\r\n\r\n`;
      text += `GET /session/alice/${KEY}/last HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n`;
      const r = await rawExchange(worker.port, text, 5000);
      expect(statuses(r.text)).toEqual(Array.from({ length: 31 }, () => 200));
      const order = [...r.text.matchAll(/GET \/session\/alice\/\w+\/(n\/\d+|last)/g)].map(
        (m) => m[1],
      );
      expect(order).toEqual([...Array.from({ length: 30 }, (_, i) => `n/${i}`), 'last']);
      await new Promise((resolve) => setTimeout(resolve, 20));
      expect(warnings).toEqual([]);
    } finally {
      process.off('warning', onWarning);
    }
  });

  it('abandons the upstream request when the client goes away before the answer', async () => {
    const b = await backend('alice', KEY, (_req, res) => setTimeout(() => res.end('late'), 400));
    let backendClosed = 0;
    b.server.on('connection', (socket) => socket.on('close', () => backendClosed++));
    const socket = connect(worker.port, '127.0.0.1');
    socket.on('error', () => undefined);
    socket.write(`GET /session/alice/${KEY}/slow HTTP/1.1\r\nHost: a\r\n\r\n`);
    await new Promise((resolve) => setTimeout(resolve, 100));
    socket.destroy();
    for (let i = 0; i < 50 && backendClosed === 0; i++)
      await new Promise((resolve) => setTimeout(resolve, 10));
    expect(backendClosed).toBe(1);
    expect(worker.worker.load().inflight).toBe(0);
  });

  it('applies backpressure to the session while a client reads slowly', async () => {
    const chunk = Buffer.alloc(64 * 1024, 97);
    let written = 0;
    const total = 32 * 1024 * 1024;
    await backend('alice', KEY, (_req, res) => {
      res.setHeader('Content-Length', String(total));
      const pump = (): void => {
        while (written < total) {
          written += chunk.length;
          if (!res.write(chunk)) {
            res.once('drain', pump);
            return;
          }
        }
        res.end();
      };
      pump();
    });
    const socket = connect(worker.port, '127.0.0.1');
    socket.pause();
    socket.write(`GET /session/alice/${KEY}/big HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n`);
    await new Promise((resolve) => setTimeout(resolve, 500));
    // Socket buffers on three hops hold a few MiB at most; the rest waits in the session.
    expect(written).toBeLessThan(12 * 1024 * 1024);
    let received = 0;
    socket.on('data', (c: Buffer) => (received += c.length));
    socket.resume();
    await new Promise((resolve) => socket.on('close', resolve));
    expect(written).toBe(total);
    expect(received).toBeGreaterThan(total);
  });

  it('answers Expect: 100-continue itself before reading the body, and does not forward Expect', async () => {
    const b = await backend();
    const socket = connect(worker.port, '127.0.0.1');
    let text = '';
    socket.on('data', (c: Buffer) => (text += c.toString('latin1')));
    const closed = new Promise((resolve) => socket.on('close', resolve));
    socket.write(
      `POST /session/alice/${KEY}/send HTTP/1.1\r\nHost: a\r\nConnection: close\r\nExpect: 100-continue\r\nContent-Length: 5\r\n\r\n`,
    );
    for (let i = 0; i < 100 && !text.includes('\r\n\r\n'); i++) {
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
    expect(text).toBe('HTTP/1.1 100 Continue\r\n\r\n');
    socket.write('hello');
    await closed;
    expect(statuses(text)).toEqual([100, 200]);
    expect(b.requests[0]!.body).toBe('hello');
    expect(b.requests[0]!.headers['expect']).toBeUndefined();
  });

  it('adds frame-busting and no-referrer defaults and drops x-vesper-* response headers', async () => {
    await backend('alice', KEY, (_req, res) => {
      res.setHeader('X-Vesper-Internal', 'secret');
      res.setHeader('X-Frame-Options', 'SAMEORIGIN');
      res.end('ok');
    });
    const r = await httpExchange(worker.port, 'GET', `/session/alice/${KEY}/home`);
    expect(r.headers['x-vesper-internal']).toBeUndefined();
    expect(r.headers['x-frame-options']).toEqual(['SAMEORIGIN']);
    expect(r.headers['referrer-policy']).toEqual(['no-referrer']);
  });

  it('retries an idempotent request once on a fresh connection when the pooled one dies as it is picked, and never a POST', async () => {
    const { createServer } = await import('node:net');
    let connections = 0;
    let killNext = false;
    const sockets = new Set<Socket>();
    const server = createServer((socket) => {
      connections++;
      sockets.add(socket);
      let buffered = '';
      socket.on('data', (chunk: Buffer) => {
        buffered += chunk.toString('latin1');
        while (buffered.includes('\r\n\r\n')) {
          const end = buffered.indexOf('\r\n\r\n') + 4;
          const length = /content-length: (\d+)/i.exec(buffered.slice(0, end));
          buffered = buffered.slice(end + (length === null ? 0 : Number(length[1])));
          // Dies on the request that arrives while killNext is set, as a keep-alive timeout would.
          if (killNext) {
            killNext = false;
            socket.destroy();
            return;
          }
          socket.write(`HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: keep-alive\r\n\r\nok`);
        }
      });
      socket.on('error', () => undefined);
    });
    const path = sessionSocket(worker.config, 'erin', KEY);
    await new Promise<void>((resolve) => server.listen(path, resolve));
    try {
      expect((await httpExchange(worker.port, 'GET', `/session/erin/${KEY}/a`)).status).toBe(200);
      killNext = true;
      const again = await httpExchange(worker.port, 'GET', `/session/erin/${KEY}/b`);
      expect([again.status, again.body]).toEqual([200, 'ok']);
      expect(connections).toBe(2);
      killNext = true;
      const post = await httpExchange(worker.port, 'POST', `/session/erin/${KEY}/d`, {}, 'x=1');
      expect(post.status).toBe(503);
      expect(post.body).toContain('Service unavailable');
      expect(connections).toBe(2);
    } finally {
      for (const s of sockets) s.destroy();
      await new Promise((resolve) => server.close(resolve));
    }
  });
});

describe('response framing from the session', () => {
  it('passes a chunked answer through to an HTTP/1.1 client and decodes it for an HTTP/1.0 client', async () => {
    await backend('alice', KEY, (_req, res) => {
      res.write('first ');
      setTimeout(() => res.end('second'), 20);
    });
    const r11 = await httpExchange(worker.port, 'GET', `/session/alice/${KEY}/c`);
    expect(r11.headers['transfer-encoding']).toEqual(['chunked']);
    expect(r11.body).toBe('first second');
    const r10 = await rawExchange(worker.port, `GET /session/alice/${KEY}/c HTTP/1.0\r\n\r\n`);
    const parsed = parseResponse(r10.text);
    expect(parsed.headers['transfer-encoding']).toBeUndefined();
    expect(parsed.headers['connection']).toEqual(['close']);
    expect(parsed.body).toBe('first second');
    expect(r10.closed).toBe(true);
  });

  it('gives an HTTP/1.0 client without Host a session request with one', async () => {
    const b = await backend();
    const r = await rawExchange(worker.port, `GET /session/alice/${KEY}/h HTTP/1.0\r\n\r\n`);
    expect(statuses(r.text)).toEqual([200]);
    expect(b.requests[0]!.headers['host']).toBe('localhost');
  });

  it('relays an answer framed by closing the connection, and answers HEAD without a body', async () => {
    const server = createNetServer((socket) => {
      socket.once('data', (chunk: Buffer) => {
        if (chunk.toString('latin1').startsWith('HEAD')) {
          socket.end('HTTP/1.1 200 OK\r\nContent-Length: 1234\r\n\r\n');
        } else socket.end('HTTP/1.1 200 OK\r\nConnection: close\r\n\r\nuntil the end');
      });
      socket.on('error', () => undefined);
    });
    await new Promise<void>((resolve) =>
      server.listen(sessionSocket(worker.config, 'gus', KEY), resolve),
    );
    try {
      const r = await httpExchange(worker.port, 'GET', `/session/gus/${KEY}/x`);
      expect([r.status, r.body]).toEqual([200, 'until the end']);
      const head = await rawExchange(
        worker.port,
        `HEAD /session/gus/${KEY}/x HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n`,
      );
      expect(head.text).toContain('Content-Length: 1234\r\n');
      expect(head.text.endsWith('\r\n\r\n')).toBe(true);
    } finally {
      await new Promise((resolve) => server.close(resolve));
    }
  });

  it('answers 503 when the session sends something that is not HTTP', async () => {
    const server = createNetServer((socket) => {
      socket.once('data', () => socket.end('SSH-2.0-nonsense\r\n\r\n'));
      socket.on('error', () => undefined);
    });
    await new Promise<void>((resolve) =>
      server.listen(sessionSocket(worker.config, 'hal', KEY), resolve),
    );
    try {
      const r = await httpExchange(worker.port, 'GET', `/session/hal/${KEY}/x`);
      expect(r.status).toBe(503);
    } finally {
      await new Promise((resolve) => server.close(resolve));
    }
  });
});

/** Every byte a client gets for `request`, reading nothing for `stallMs` first (backpressure on every hop). */
async function slowRead(request: string, stallMs: number): Promise<Buffer> {
  const socket = connect(worker.port, '127.0.0.1');
  socket.pause();
  socket.write(request);
  await new Promise((resolve) => setTimeout(resolve, stallMs));
  const parts: Buffer[] = [];
  socket.on('data', (c: Buffer) => parts.push(c));
  socket.resume();
  await new Promise((resolve) => socket.on('close', resolve));
  return Buffer.concat(parts);
}

/** The head (latin1) and the body bytes of a response, chunked framing decoded. */
function splitResponse(raw: Buffer): { head: string; body: Buffer } {
  const end = raw.indexOf('\r\n\r\n');
  const head = raw.toString('latin1', 0, end);
  let body = raw.subarray(end + 4);
  if (/\r\ntransfer-encoding: chunked\r\n/i.test(`${head}\r\n`)) {
    const out: Buffer[] = [];
    let at = 0;
    for (;;) {
      const nl = body.indexOf('\r\n', at);
      const size = parseInt(body.toString('latin1', at, nl), 16);
      if (!(size > 0)) break;
      out.push(body.subarray(nl + 2, nl + 2 + size));
      at = nl + 2 + size + 2;
    }
    body = Buffer.concat(out);
  }
  return { head, body };
}

const sha = (b: Buffer): string => createHash('sha256').update(b).digest('hex');

/**
 * A session on a raw socket that answers every request with `head` (written
 * in three pieces, a pause between them, so that it arrives over several
 * reads) and then `pieces`, one per turn of its event loop.
 */
async function rawSession(
  user: string,
  head: string,
  pieces: Buffer[],
): Promise<() => Promise<void>> {
  const sockets: Socket[] = [];
  const server = createNetServer((socket) => {
    sockets.push(socket);
    socket.on('error', () => undefined);
    // Each request arrives in one read (a short head, no body).
    socket.on('data', () => {
      const third = Math.floor(head.length / 3);
      socket.write(head.slice(0, third), 'latin1');
      setTimeout(() => socket.write(head.slice(third, 2 * third), 'latin1'), 20);
      setTimeout(() => {
        socket.write(head.slice(2 * third), 'latin1');
        let i = 0;
        const pump = (): void => {
          while (i < pieces.length) {
            if (!socket.write(pieces[i++]!)) {
              socket.once('drain', pump);
              return;
            }
          }
        };
        pump();
      }, 40);
    });
  });
  await new Promise<void>((resolve) =>
    server.listen(sessionSocket(worker.config, user, KEY), resolve),
  );
  return () =>
    new Promise((resolve) => {
      // The worker keeps its connection in the pool: close it from this side.
      for (const socket of sockets) socket.destroy();
      server.close(() => resolve());
    });
}

describe('response bytes from the session', () => {
  // The worker reads every session connection into one shared buffer: a byte
  // kept past its read (a head in pieces, a body the client is slow to take)
  // must be a copy, or the next read overwrites it. Random bytes show that.
  it('arrive intact when the head comes in pieces and a slow client shares the worker with a fast one', async () => {
    const bodies = [randomBytes(4 * 1024 * 1024), randomBytes(4 * 1024 * 1024)];
    const closers = await Promise.all(
      ['ivy', 'kim'].map((user, n) =>
        rawSession(
          user,
          `HTTP/1.1 200 OK\r\nContent-Type: application/octet-stream\r\nX-Padding: ${'p'.repeat(300)}\r\nContent-Length: ${bodies[n]!.length}\r\n\r\n`,
          Array.from({ length: 64 }, (_, i) => bodies[n]!.subarray(i * 65536, (i + 1) * 65536)),
        ),
      ),
    );
    try {
      // ivy's client stalls with bytes queued for it, while kim's is read in full.
      const [slow, fast] = await Promise.all([
        slowRead(
          `GET /session/ivy/${KEY}/blob HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n`,
          600,
        ),
        new Promise((resolve) => setTimeout(resolve, 100)).then(() =>
          slowRead(
            `GET /session/kim/${KEY}/blob HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n`,
            0,
          ),
        ),
      ]);
      for (const [raw, body] of [
        [slow, bodies[0]!],
        [fast, bodies[1]!],
      ] as const) {
        const r = splitResponse(raw);
        expect(r.head).toMatch(/^HTTP\/1\.1 200 OK\r\n/);
        expect(r.head).toContain(`\r\nX-Padding: ${'p'.repeat(300)}`);
        expect(r.body.length).toBe(body.length);
        expect(sha(r.body)).toBe(sha(body));
      }
    } finally {
      for (const close of closers) await close();
    }
  });

  it('arrive intact through chunked framing, passed through to HTTP/1.1 and decoded for HTTP/1.0', async () => {
    const body = randomBytes(2 * 1024 * 1024 + 123);
    const pieces: Buffer[] = [];
    for (let at = 0; at < body.length; at += 50_000) {
      const part = body.subarray(at, at + 50_000);
      pieces.push(Buffer.from(`${part.length.toString(16)}\r\n`), part, Buffer.from('\r\n'));
    }
    pieces.push(Buffer.from('0\r\n\r\n'));
    const close = await rawSession(
      'jay',
      'HTTP/1.1 200 OK\r\nContent-Type: application/octet-stream\r\nTransfer-Encoding: chunked\r\n\r\n',
      pieces,
    );
    try {
      for (const version of ['1.1', '1.0']) {
        const raw = await slowRead(
          `GET /session/jay/${KEY}/blob HTTP/${version}\r\nHost: a\r\nConnection: close\r\n\r\n`,
          200,
        );
        const r = splitResponse(raw);
        expect(/\r\nTransfer-Encoding: chunked/i.test(r.head)).toBe(version === '1.1');
        expect(sha(r.body)).toBe(sha(body));
      }
    } finally {
      await close();
    }
  });
});

describe('a session that is gone', () => {
  it('answers a missing socket with the session-ended page, and a POST echoes its text fields (but no secrets)', async () => {
    const r = await httpExchange(
      worker.port,
      'POST',
      `/session/bob/${KEY}/send`,
      { 'Content-Type': 'application/x-www-form-urlencoded' },
      'subject=Hello&body=A+long+draft%0Awith+lines+%3Cb%3E&password=hunter2&_xsrf=zz',
    );
    expect(r.status).toBe(404);
    expect(r.body).toContain('Your session has ended');
    expect(r.body).toContain('href="/login/bob"');
    expect(r.body).toContain('A long draft\nwith lines &lt;b&gt;');
    expect(r.body).toContain('Hello');
    expect(r.body).not.toContain('hunter2');
    expect(r.body).not.toContain('_xsrf');
    expect(r.headers['x-frame-options']).toEqual(['DENY']);
    expect(r.headers['content-security-policy']![0]).toContain("frame-ancestors 'none'");
  });

  it('answers a socket file nobody listens on (ECONNREFUSED) with the same page', async () => {
    const b = await backend('carol');
    await b.close();
    backends.length = 0;
    const { writeFileSync } = await import('node:fs');
    writeFileSync(sessionSocket(worker.config, 'carol', KEY), '');
    const r = await httpExchange(worker.port, 'GET', `/session/carol/${KEY}/home`);
    expect(r.status).toBe(404);
    expect(r.body).toContain('Your session has ended');
  });

  it('gives a wrong key, a malformed key, a bad user and an unknown session byte-identical pages', async () => {
    await backend('alice', KEY, (_req, res) => {
      res.statusCode = 404;
      res.setHeader('X-Vesper-Session', 'ended');
      res.end('session ended');
    });
    const bodies = await Promise.all(
      [
        `/session/alice/${KEY}/home`,
        '/session/alice/short/home',
        `/session/alice/${'Z'.repeat(22)}/home`,
      ].map((p) => httpExchange(worker.port, 'GET', p)),
    );
    for (const r of bodies) {
      expect(r.status).toBe(404);
      expect(r.headers['x-vesper-session']).toBeUndefined();
    }
    expect(new Set(bodies.map((r) => r.body)).size).toBe(1);
    const badUser = await httpExchange(worker.port, 'GET', `/session/-x/${KEY}/home`);
    expect(badUser.status).toBe(404);
    expect(badUser.body).toContain('Your session has ended');
  });

  it('keeps the client connection usable after a session-ended page for a GET', async () => {
    const one = `GET /session/dave/${KEY}/home HTTP/1.1\r\nHost: a\r\n\r\n`;
    const r = await rawExchange(
      worker.port,
      one +
        one.replace('HTTP/1.1', 'HTTP/1.1').replace('\r\n\r\n', '\r\nConnection: close\r\n\r\n'),
    );
    expect(statuses(r.text)).toEqual([404, 404]);
  });
});
