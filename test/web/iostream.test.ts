import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, readFileSync, existsSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeAll, afterAll, describe, expect, it } from 'vitest';
import { IOStream } from '../../src/web/iostream.js';
import {
  StreamBufferFullError,
  StreamClosedError,
  UnsatisfiableReadError,
} from '../../src/web/iostream-errors.js';
import type { VesperError } from '../../src/shared/errors/index.js';

const cleanups: (() => void | Promise<void>)[] = [];
afterEach(async () => {
  for (const fn of cleanups.splice(0).reverse()) await fn();
});

/** A listening server whose accepted sockets are handed out in order. */
async function server(): Promise<{ port: number; accept: () => Promise<net.Socket> }> {
  const srv = net.createServer();
  const queue: net.Socket[] = [];
  const waiters: ((s: net.Socket) => void)[] = [];
  const sockets = new Set<net.Socket>();
  srv.on('connection', (s) => {
    sockets.add(s);
    const w = waiters.shift();
    if (w) w(s);
    else queue.push(s);
  });
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
  cleanups.push(
    () =>
      new Promise<void>((r) => {
        for (const s of sockets) s.destroy();
        srv.close(() => r());
      }),
  );
  return {
    port: (srv.address() as net.AddressInfo).port,
    accept: () =>
      new Promise((r) => {
        const s = queue.shift();
        if (s) r(s);
        else waiters.push(r);
      }),
  };
}

/** A client IOStream connected to a raw server-side socket. */
async function pair(options?: { maxBufferSize?: number; readChunkSize?: number }) {
  const srv = await server();
  const [stream, peer] = await Promise.all([
    IOStream.connect('127.0.0.1', srv.port, options),
    srv.accept(),
  ]);
  cleanups.push(() => {
    stream.destroy();
    peer.destroy();
  });
  return { stream, peer };
}

function endOf(socket: net.Socket): Promise<void> {
  return new Promise((r) => socket.once('close', () => r()));
}

describe('IOStream reads', () => {
  it('reads until a delimiter, including it, and keeps what follows', async () => {
    const { stream, peer } = await pair();
    peer.write('GET / HTTP/1.1\r\nHost: x\r\n\r\nBODY');
    expect((await stream.readUntil('\r\n\r\n')).toString()).toBe(
      'GET / HTTP/1.1\r\nHost: x\r\n\r\n',
    );
    expect((await stream.readBytes(4)).toString()).toBe('BODY');
  });

  it('finds a delimiter split across many small chunks', async () => {
    const { stream, peer } = await pair();
    peer.setNoDelay(true);
    const read = stream.readUntil(Buffer.from('<END>'));
    for (const part of ['ab', 'c<', 'E', 'N', 'D', '>tail']) {
      peer.write(part);
      await new Promise((r) => setTimeout(r, 5));
    }
    expect((await read).toString()).toBe('abc<END>');
    expect((await stream.readBytes(4)).toString()).toBe('tail');
  });

  it('accepts a delimiter ending exactly at maxBytes', async () => {
    const { stream, peer } = await pair();
    peer.write('abcdef');
    expect((await stream.readUntil('def', 6)).toString()).toBe('abcdef');
  });

  it('fails a delimiter ending one byte past maxBytes with UnsatisfiableReadError and closes', async () => {
    const { stream, peer } = await pair();
    peer.write('abcdef');
    const err = await stream.readUntil('def', 5).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(UnsatisfiableReadError);
    expect((err as VesperError).code).toBe('VESPER_WEB_STREAM_UNSATISFIABLE_READ');
    expect(stream.closed).toBe(true);
    await endOf(peer);
  });

  it('fails when more than maxBytes arrive without the delimiter', async () => {
    const { stream, peer } = await pair();
    const read = stream.readUntil('\n', 8);
    peer.write('0123456789');
    await expect(read).rejects.toBeInstanceOf(UnsatisfiableReadError);
    await expect(stream.write('x')).rejects.toBeInstanceOf(StreamClosedError);
  });

  it('reads until a regex match', async () => {
    const { stream, peer } = await pair();
    peer.write('header\r\n\r\nrest');
    expect((await stream.readUntilRegex(/\r?\n\r?\n/)).toString()).toBe('header\r\n\r\n');
    expect((await stream.readBytes(4)).toString()).toBe('rest');
  });

  it('fails a regex not matched within maxBytes', async () => {
    const { stream, peer } = await pair();
    peer.write('aaaaaaaaaaaaaaaa');
    await expect(stream.readUntilRegex(/b+/, 10)).rejects.toBeInstanceOf(UnsatisfiableReadError);
  });

  it('reads exactly n bytes, or 1..n with partial', async () => {
    const { stream, peer } = await pair();
    expect((await stream.readBytes(0)).length).toBe(0);
    peer.write('abc');
    expect((await stream.readBytes(10, { partial: true })).toString()).toBe('abc');
    peer.write('defgh');
    expect((await stream.readBytes(2, { partial: true })).toString()).toBe('de');
    const rest = stream.readBytes(6);
    peer.write('ijk');
    expect((await rest).toString()).toBe('fghijk');
  });

  it('reads into a caller buffer, fully or partially', async () => {
    const { stream, peer } = await pair();
    const buf = Buffer.alloc(6, '.');
    peer.write('abc');
    expect(await stream.readInto(buf, { partial: true })).toBe(3);
    expect(buf.toString()).toBe('abc...');
    const full = stream.readInto(buf);
    peer.write('1234');
    await new Promise((r) => setTimeout(r, 10));
    peer.write('56');
    expect(await full).toBe(6);
    expect(buf.toString()).toBe('123456');
  });

  it('reads until close, delivering everything', async () => {
    const { stream, peer } = await pair();
    const all = stream.readUntilClose();
    peer.write('one ');
    peer.end('two');
    expect((await all).toString()).toBe('one two');
    expect(stream.closed).toBe(true);
  });

  it('delivers data buffered before a close before failing with StreamClosedError', async () => {
    const { stream, peer } = await pair();
    peer.end('line one\nline two\npartial');
    await new Promise((r) => setTimeout(r, 30));
    expect(stream.closed).toBe(true);
    expect((await stream.readUntil('\n')).toString()).toBe('line one\n');
    expect((await stream.readUntil('\n')).toString()).toBe('line two\n');
    const err = await stream.readUntil('\n').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(StreamClosedError);
    expect((err as StreamClosedError).code).toBe('VESPER_WEB_STREAM_CLOSED');
    expect((await stream.readUntilClose()).toString()).toBe('partial');
  });

  it('refuses a second read while one is outstanding', async () => {
    const { stream } = await pair();
    const first = stream.readBytes(1);
    expect(() => stream.readBytes(1)).toThrow(
      expect.objectContaining({ code: 'VESPER_WEB_STREAM_ALREADY_READING' }),
    );
    stream.close();
    await expect(first).rejects.toBeInstanceOf(StreamClosedError);
  });

  it('fails a read whose buffer passes maxBufferSize with StreamBufferFullError', async () => {
    const { stream, peer } = await pair({ maxBufferSize: 1024 });
    const read = stream.readUntil('\n');
    peer.write(Buffer.alloc(4096, 'a'));
    const err = await read.catch((e: unknown) => e);
    expect(err).toBeInstanceOf(StreamBufferFullError);
    expect((err as VesperError).code).toBe('VESPER_WEB_STREAM_BUFFER_FULL');
    expect(stream.closed).toBe(true);
  });

  it('pauses the socket while no read is pending and the buffer is full enough', async () => {
    const { stream, peer } = await pair({ readChunkSize: 1024 });
    peer.write(Buffer.alloc(8 * 1024 * 1024, 'z'));
    await new Promise((r) => setTimeout(r, 50));
    expect(stream.socket.isPaused()).toBe(true);
    expect(stream.bufferedBytes).toBeLessThan(1024 * 1024);
    const all = await stream.readBytes(8 * 1024 * 1024);
    expect(all.length).toBe(8 * 1024 * 1024);
  });

  it('carries ECONNRESET as the real error when the peer resets', async () => {
    const { stream, peer } = await pair();
    const read = stream.readBytes(10);
    peer.resetAndDestroy();
    const err = (await read.catch((e: unknown) => e)) as StreamClosedError;
    expect(err).toBeInstanceOf(StreamClosedError);
    expect((err.realError as NodeJS.ErrnoException).code).toBe('ECONNRESET');
    expect(err.cause).toBe(err.realError);
    expect(stream.error).toBe(err.realError);
  });

  it('carries ECONNREFUSED when nothing listens', async () => {
    const probe = net.createServer();
    await new Promise<void>((r) => probe.listen(0, '127.0.0.1', r));
    const port = (probe.address() as net.AddressInfo).port;
    await new Promise<void>((r) => probe.close(() => r()));
    const err = (await IOStream.connect('127.0.0.1', port).catch(
      (e: unknown) => e,
    )) as StreamClosedError;
    expect(err).toBeInstanceOf(StreamClosedError);
    expect((err.realError as NodeJS.ErrnoException).code).toBe('ECONNREFUSED');
  });

  it('runs the close callback once when the peer closes', async () => {
    const { stream, peer } = await pair();
    let calls = 0;
    const closed = new Promise<void>((r) =>
      stream.setCloseCallback(() => {
        calls++;
        r();
      }),
    );
    peer.end();
    await stream.readUntilClose();
    await closed;
    stream.close();
    stream.close();
    expect(calls).toBe(1);
  });
});

describe('IOStream writes', () => {
  it('resolves a write only after a paused peer has read enough', async () => {
    const { stream, peer } = await pair();
    peer.pause();
    const size = 32 * 1024 * 1024;
    let done = false;
    const write = stream.write(Buffer.alloc(size, 'w')).then(() => {
      done = true;
    });
    await new Promise((r) => setTimeout(r, 150));
    expect(done).toBe(false);
    expect(stream.writing()).toBe(true);
    let received = 0;
    peer.on('data', (c: Buffer) => (received += c.length));
    peer.resume();
    await write;
    expect(done).toBe(true);
    expect(received).toBeGreaterThan(0);
  });

  it('refuses a write past maxWriteBufferSize and stays open', async () => {
    const srv = await server();
    const [stream, peer] = await Promise.all([
      IOStream.connect('127.0.0.1', srv.port, { maxWriteBufferSize: 1024 * 1024 }),
      srv.accept(),
    ]);
    cleanups.push(() => stream.destroy());
    peer.pause();
    const big = Buffer.alloc(1024 * 1024);
    const writes: Promise<void>[] = [];
    let refused: unknown;
    for (let i = 0; i < 64 && refused === undefined; i++) {
      const w = stream.write(big);
      writes.push(w.catch(() => undefined));
      await Promise.race([
        w.catch((e: unknown) => (refused = e)),
        new Promise((r) => setTimeout(r, 5)),
      ]);
    }
    expect(refused).toBeInstanceOf(StreamBufferFullError);
    expect(stream.closed).toBe(false);
    peer.resume();
    peer.on('data', () => undefined);
    await Promise.all(writes);
  });

  it('fails writes after close with StreamClosedError', async () => {
    const { stream, peer } = await pair();
    const got = new Promise<string>((r) => {
      let text = '';
      peer.on('data', (c: Buffer) => (text += c.toString()));
      peer.on('end', () => r(text));
    });
    await stream.write('last words');
    stream.close();
    await expect(stream.write('more')).rejects.toBeInstanceOf(StreamClosedError);
    expect(await got).toBe('last words');
  });
});

describe('IOStream over Unix sockets', () => {
  it('connects with {path} and exchanges data', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'vesper-ios-'));
    cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
    const path = join(dir, 's.sock');
    const srv = net.createServer((s) => s.end('hello over unix\n'));
    await new Promise<void>((r) => srv.listen(path, r));
    cleanups.push(() => new Promise<void>((r) => srv.close(() => r())));
    const stream = await IOStream.connect({ path });
    expect((await stream.readUntil('\n')).toString()).toBe('hello over unix\n');
    stream.close();
  });

  it('fails to connect to a missing socket with ENOENT as the real error', async () => {
    const err = (await IOStream.connect({ path: '/nonexistent/vesper.sock' }).catch(
      (e: unknown) => e,
    )) as StreamClosedError;
    expect((err.realError as NodeJS.ErrnoException).code).toBe('ENOENT');
  });
});

const hasOpenssl = (() => {
  try {
    execFileSync('openssl', ['version'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
})();

describe.skipIf(!hasOpenssl)('IOStream TLS', () => {
  let dir = '';
  let key = '';
  let cert = '';
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'vesper-tls-'));
    execFileSync(
      'openssl',
      [
        'req',
        '-x509',
        '-newkey',
        'rsa:2048',
        '-nodes',
        '-days',
        '1',
        '-subj',
        '/CN=localhost',
        '-addext',
        'subjectAltName=DNS:localhost,IP:127.0.0.1',
        '-keyout',
        join(dir, 'key.pem'),
        '-out',
        join(dir, 'cert.pem'),
      ],
      { stdio: 'ignore' },
    );
    key = readFileSync(join(dir, 'key.pem'), 'utf8');
    cert = readFileSync(join(dir, 'cert.pem'), 'utf8');
  });
  afterAll(() => {
    if (existsSync(dir)) rmSync(dir, { recursive: true, force: true });
  });

  it('upgrades a plain connection with STARTTLS on both sides', async () => {
    const srv = await server();
    const [client, raw] = await Promise.all([
      IOStream.connect('127.0.0.1', srv.port),
      srv.accept(),
    ]);
    const serverStream = new IOStream(raw);
    cleanups.push(() => {
      client.destroy();
      serverStream.destroy();
    });
    const serverSide = (async () => {
      expect((await serverStream.readUntil('\r\n')).toString()).toBe('STARTTLS\r\n');
      await serverStream.write('GO\r\n');
      const secure = await serverStream.startTls({ serverSide: true, key, cert });
      expect(secure.isTls).toBe(true);
      const line = await secure.readUntil('\n');
      await secure.write(Buffer.concat([Buffer.from('echo: '), line]));
      return secure;
    })();
    await client.write('STARTTLS\r\n');
    expect((await client.readUntil('\r\n')).toString()).toBe('GO\r\n');
    const secure = await client.startTls({ serverSide: false, ca: cert, servername: 'localhost' });
    cleanups.push(() => secure.destroy());
    await secure.waitForHandshake();
    expect(client.closed).toBe(true);
    await secure.write('secret\n');
    expect((await secure.readUntil('\n')).toString()).toBe('echo: secret\n');
    (await serverSide).close();
    expect((await secure.readUntilClose()).length).toBe(0);
  });

  it('fails a client STARTTLS against an untrusted certificate with the TLS error', async () => {
    const srv = await server();
    const [client, raw] = await Promise.all([
      IOStream.connect('127.0.0.1', srv.port),
      srv.accept(),
    ]);
    const serverStream = new IOStream(raw);
    cleanups.push(() => {
      client.destroy();
      serverStream.destroy();
    });
    void serverStream.startTls({ serverSide: true, key, cert }).catch(() => undefined);
    const err = (await client
      .startTls({ serverSide: false, servername: 'localhost' })
      .catch((e: unknown) => e)) as StreamClosedError;
    expect(err).toBeInstanceOf(StreamClosedError);
    expect((err.realError as NodeJS.ErrnoException).code).toBe('DEPTH_ZERO_SELF_SIGNED_CERT');
  });

  it('connects with TLS directly and verifies against the given CA', async () => {
    const tls = await import('node:tls');
    const srv = tls.createServer({ key, cert }, (s) => s.end('hi\n'));
    await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
    cleanups.push(() => new Promise<void>((r) => srv.close(() => r())));
    const port = (srv.address() as net.AddressInfo).port;
    const stream = await IOStream.connect('localhost', port, { tls: { ca: cert } });
    await stream.waitForHandshake();
    expect((await stream.readUntilClose()).toString()).toBe('hi\n');
  });

  it('refuses startTls while data is buffered', async () => {
    const { stream, peer } = await pair();
    peer.write('early');
    await new Promise((r) => setTimeout(r, 20));
    await expect(stream.startTls({ serverSide: false })).rejects.toMatchObject({
      code: 'VESPER_WEB_STREAM_NOT_IDLE',
    });
  });
});
