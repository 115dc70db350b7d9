import { mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { request as httpRequest, Agent } from 'node:http';
import { spawn } from 'node:child_process';
import { connect, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { isVesperError } from '../../src/shared/errors/index.js';
import { Application } from '../../src/web/application.js';
import { ErrorHandler, RedirectHandler } from '../../src/web/builtin-handlers.js';
import { RequestHandler } from '../../src/web/request-handler.js';
import { startTestServer } from '../../src/web/testing.js';
import { errorPage } from './web-test-helpers.js';

class EchoBody extends RequestHandler {
  override post(): void {
    this.write(`${this.request.body.length} bytes`);
  }
}

class Hello extends RequestHandler {
  override get(): void {
    this.write('hello');
  }
}

const dir = mkdtempSync(join(tmpdir(), 'vesper-app-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('Application.listen', () => {
  it('serves on a Unix socket with the given mode, replacing a stale socket file', async () => {
    const path = join(dir, 'stale.sock');
    // A process killed while listening leaves its socket file behind.
    const child = spawn(process.execPath, [
      '-e',
      `require('node:net').createServer().listen(${JSON.stringify(path)}, () => console.log('ready'))`,
    ]);
    await new Promise((r) => child.stdout.once('data', r));
    child.kill('SIGKILL');
    await new Promise((r) => child.once('exit', r));
    expect(statSync(path).isSocket()).toBe(true);
    const server = await new Application([['/', Hello]]).listen({ path, mode: 0o600 });
    try {
      expect(statSync(path).mode & 0o777).toBe(0o600);
      expect(server.address).toEqual({ path });
      const body = await new Promise<string>((resolve, reject) => {
        const req = httpRequest({ socketPath: path, path: '/' }, (res) => {
          let text = '';
          res.on('data', (c: Buffer) => (text += c.toString()));
          res.on('end', () => resolve(text));
        });
        req.on('error', reject);
        req.end();
      });
      expect(body).toBe('hello');
    } finally {
      await server.close();
    }
  });

  it('refuses a Unix socket path a live server is using', async () => {
    const path = join(dir, 'live.sock');
    const first = await new Application([]).listen({ path });
    try {
      let code = '';
      try {
        await new Application([]).listen({ path });
      } catch (err) {
        if (isVesperError(err)) code = err.code;
      }
      expect(code).toBe('VESPER_WEB_ADDRESS_IN_USE');
    } finally {
      await first.close();
    }
  });

  it('refuses a Unix socket path that is a regular file', async () => {
    const path = join(dir, 'file.sock');
    writeFileSync(path, 'not a socket');
    await expect(new Application([]).listen({ path })).rejects.toMatchObject({
      code: 'VESPER_WEB_NOT_A_SOCKET',
    });
  });

  it('closes idle keep-alive connections on close(), and close() is idempotent', async () => {
    const server = await new Application([['/', Hello]]).listen({ port: 0, host: '127.0.0.1' });
    const agent = new Agent({ keepAlive: true });
    const socket = await new Promise<Socket>((resolve, reject) => {
      const req = httpRequest({ host: '127.0.0.1', port: server.port, path: '/', agent }, (res) => {
        res.resume();
        res.on('end', () => resolve(req.socket!));
      });
      req.on('error', reject);
      req.end();
    });
    const socketClosed = new Promise<void>((resolve) => {
      if (socket.destroyed) resolve();
      else socket.once('close', () => resolve());
    });
    const [a, b] = [server.close(), server.close()];
    await Promise.all([a, b, socketClosed]);
    agent.destroy();
  });
});

describe('request limits and malformed input', () => {
  it('answers 413 and closes for a Content-Length above maxBodySize', async () => {
    const server = await startTestServer(new Application([['/', EchoBody]], { maxBodySize: 10 }));
    try {
      const raw = (
        await server.rawRequest(
          'POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 11\r\n\r\n01234567890',
        )
      ).toString('latin1');
      expect(raw).toMatch(/^HTTP\/1\.1 413 Payload Too Large\r\n/);
      expect(raw).toContain('Connection: close');
      expect(raw.endsWith(errorPage(413, 'Payload Too Large'))).toBe(true);
      const ok = await server.fetch('/', { method: 'POST', body: '0123456789' });
      expect(await ok.text()).toBe('10 bytes');
    } finally {
      await server.close();
    }
  });

  it('answers 413 for a chunked body that grows past maxBodySize', async () => {
    const server = await startTestServer(new Application([['/', EchoBody]], { maxBodySize: 10 }));
    try {
      const raw = (
        await server.rawRequest(
          'POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n6\r\n012345\r\n6\r\n678901\r\n0\r\n\r\n',
        )
      ).toString('latin1');
      expect(raw).toMatch(/^HTTP\/1\.1 413 /);
    } finally {
      await server.close();
    }
  });

  it('answers 408 and closes when the body does not arrive within bodyTimeout', async () => {
    const server = await startTestServer(new Application([['/', EchoBody]], { bodyTimeout: 100 }));
    try {
      const raw = (
        await server.rawRequest('POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\nshort')
      ).toString('latin1');
      expect(raw).toMatch(/^HTTP\/1\.1 408 Request Timeout\r\n/);
    } finally {
      await server.close();
    }
  });

  it('answers a malformed request with exactly a bare 400 and closes', async () => {
    const server = await startTestServer(new Application([['/', Hello]]));
    try {
      const raw = await server.rawRequest('GET / HTTP/1.1\r\nHost: x\r\nBad Header\r\n\r\n');
      expect(raw.toString('latin1')).toBe('HTTP/1.1 400 Bad Request\r\n\r\n');
    } finally {
      await server.close();
    }
  });

  it('answers an upgrade request for a plain handler over the raw socket and closes it', async () => {
    const server = await startTestServer(new Application([['/', Hello]]));
    try {
      const raw = (
        await server.rawRequest(
          'GET / HTTP/1.1\r\nHost: x\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n\r\n',
        )
      ).toString('latin1');
      expect(raw).toMatch(/^HTTP\/1\.1 200 OK\r\n/);
      expect(raw).toContain('\r\nConnection: close\r\n');
      expect(raw).toContain('\r\nContent-Length: 5\r\n');
      expect(raw.endsWith('\r\n\r\nhello')).toBe(true);
      const missing = (
        await server.rawRequest(
          'GET /nope HTTP/1.1\r\nHost: x\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n\r\n',
        )
      ).toString('latin1');
      expect(missing).toMatch(/^HTTP\/1\.1 404 Not Found\r\n/);
    } finally {
      await server.close();
    }
  });
});

describe('built-in handlers', () => {
  it('ErrorHandler answers its status for every method', async () => {
    const server = await startTestServer(
      new Application([['/gone', ErrorHandler, { statusCode: 410 }]]),
    );
    try {
      const res = await server.fetch('/gone', { method: 'DELETE' });
      expect(res.status).toBe(410);
      expect(await res.text()).toBe(errorPage(410, 'Gone'));
    } finally {
      await server.close();
    }
  });

  it('RedirectHandler substitutes path groups and keeps the query', async () => {
    const server = await startTestServer(
      new Application([
        ['/old/(\\w+)/(\\w+)', RedirectHandler, { url: '/new/{1}/{0}' }],
        ['/tmp', RedirectHandler, { url: '/elsewhere', permanent: false }],
      ]),
    );
    try {
      const res = await server.fetch('/old/a/b?x=1&y=2');
      expect(res.status).toBe(301);
      expect(res.headers.get('location')).toBe('/new/b/a?x=1&y=2');
      const tmp = await server.fetch('/tmp');
      expect([tmp.status, tmp.headers.get('location')]).toEqual([302, '/elsewhere']);
    } finally {
      await server.close();
    }
  });
});

describe('startTestServer', () => {
  it('sends exact bytes and returns every byte until the server closes', async () => {
    const server = await startTestServer(new Application([['/', Hello]]));
    try {
      const raw = await server.rawRequest('GET / HTTP/1.0\r\n\r\n');
      expect(raw.toString('latin1')).toMatch(/^HTTP\/1\.1 200 OK\r\n[\s\S]*\r\n\r\nhello$/);
      expect(server.url('/a')).toBe(`${server.baseUrl}/a`);
      const socket = connect(server.port, '127.0.0.1');
      await new Promise((r) => socket.once('connect', r));
      socket.destroy();
    } finally {
      await server.close();
    }
  });
});

describe('Expect: 100-continue', () => {
  it('invites the body when it fits and refuses it with 413 when it does not', async () => {
    const server = await startTestServer(new Application([['/', EchoBody]], { maxBodySize: 10 }));
    try {
      const big = (
        await server.rawRequest(
          'POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 11\r\nExpect: 100-continue\r\n\r\n',
        )
      ).toString('latin1');
      expect(big).toMatch(/^HTTP\/1\.1 413 Payload Too Large\r\n/);
      const { connect: netConnect } = await import('node:net');
      const socket = netConnect(server.port, '127.0.0.1');
      const received: Buffer[] = [];
      socket.on('data', (c: Buffer) => {
        received.push(c);
        if (Buffer.concat(received).toString('latin1') === 'HTTP/1.1 100 Continue\r\n\r\n') {
          socket.end('0123');
        }
      });
      socket.write(
        'POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 4\r\nConnection: close\r\nExpect: 100-continue\r\n\r\n',
      );
      await new Promise((r) => socket.once('close', r));
      const text = Buffer.concat(received).toString('latin1');
      expect(text.startsWith('HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\n')).toBe(true);
      expect(text.endsWith('4 bytes')).toBe(true);
    } finally {
      await server.close();
    }
  });
});
