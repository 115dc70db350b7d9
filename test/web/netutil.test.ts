import { mkdtempSync, rmSync, statSync, writeFileSync, mkdirSync, readFileSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { IOStream } from '../../src/web/iostream.js';
import { addAcceptHandler, bindSockets, bindUnixSocket } from '../../src/web/netutil.js';
import { TCPServer } from '../../src/web/tcp-server.js';
import { makeStaleSocket } from './stale-socket.js';

const cleanups: (() => void | Promise<void>)[] = [];
afterEach(async () => {
  for (const fn of cleanups.splice(0).reverse()) await fn();
});

function closeLater(server: net.Server): void {
  cleanups.push(
    () =>
      new Promise<void>((r) => {
        if (server.listening) server.close(() => r());
        else r();
      }),
  );
}

function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'vesper-net-'));
  cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

describe('bindSockets', () => {
  it('binds 127.0.0.1 on a free port and accepts through addAcceptHandler', async () => {
    const servers = await bindSockets(0, '127.0.0.1');
    servers.forEach(closeLater);
    expect(servers).toHaveLength(1);
    const port = (servers[0]!.address() as net.AddressInfo).port;
    expect(port).toBeGreaterThan(0);
    const accepted = new Promise<{ stream: IOStream; address: string }>((resolve) => {
      const remove = addAcceptHandler(servers[0]!, (stream, address) => {
        remove();
        resolve({ stream, address: address.address });
      });
    });
    const client = await IOStream.connect('127.0.0.1', port);
    cleanups.push(() => client.destroy());
    const { stream, address } = await accepted;
    cleanups.push(() => stream.destroy());
    expect(address).toBe('127.0.0.1');
    await client.write('ping\n');
    expect((await stream.readUntil('\n')).toString()).toBe('ping\n');
  });

  it('binds every localhost address on one port', async () => {
    const servers = await bindSockets(0, 'localhost');
    servers.forEach(closeLater);
    const addresses = servers.map((s) => s.address() as net.AddressInfo);
    expect(addresses.map((a) => a.address)).toContain('127.0.0.1');
    expect(new Set(addresses.map((a) => a.port)).size).toBe(1);
  });

  it('binds IPv4 and IPv6 wildcards for no address', async () => {
    const servers = await bindSockets(0);
    servers.forEach(closeLater);
    const addresses = servers.map((s) => (s.address() as net.AddressInfo).address);
    expect(addresses[0]).toBe('0.0.0.0');
    expect(['::', undefined]).toContain(addresses[1]);
  });

  it('fails with VESPER_WEB_BIND_FAILED when the port is taken', async () => {
    const [first] = await bindSockets(0, '127.0.0.1');
    closeLater(first!);
    const port = (first!.address() as net.AddressInfo).port;
    await expect(bindSockets(port, '127.0.0.1')).rejects.toMatchObject({
      code: 'VESPER_WEB_BIND_FAILED',
    });
  });
});

describe('bindUnixSocket', () => {
  it('binds a socket with mode 0600 by default', async () => {
    const path = join(tempDir(), 'a.sock');
    const server = await bindUnixSocket(path);
    closeLater(server);
    const st = statSync(path);
    expect(st.isSocket()).toBe(true);
    expect(st.mode & 0o777).toBe(0o600);
  });

  it('applies the requested mode', async () => {
    const path = join(tempDir(), 'b.sock');
    closeLater(await bindUnixSocket(path, 0o660));
    expect(statSync(path).mode & 0o777).toBe(0o660);
  });

  it('refuses to replace a regular file and leaves it intact', async () => {
    const path = join(tempDir(), 'file');
    writeFileSync(path, 'precious');
    await expect(bindUnixSocket(path)).rejects.toMatchObject({ code: 'VESPER_WEB_NOT_A_SOCKET' });
    expect(readFileSync(path, 'utf8')).toBe('precious');
  });

  it('refuses to replace a directory', async () => {
    const path = join(tempDir(), 'dir');
    mkdirSync(path);
    await expect(bindUnixSocket(path)).rejects.toMatchObject({ code: 'VESPER_WEB_NOT_A_SOCKET' });
    expect(statSync(path).isDirectory()).toBe(true);
  });

  it('replaces a stale socket file nobody answers on', async () => {
    const path = join(tempDir(), 'stale.sock');
    await makeStaleSocket(path);
    expect(statSync(path).isSocket()).toBe(true);
    const server = await bindUnixSocket(path);
    closeLater(server);
    const answered = await new Promise<string>((resolve) => {
      server.once('connection', (s) => s.end('fresh'));
      const c = net.connect({ path });
      let text = '';
      c.on('data', (d: Buffer) => (text += d.toString()));
      c.on('end', () => resolve(text));
    });
    expect(answered).toBe('fresh');
  });

  it('refuses to replace a socket a live server answers on', async () => {
    const path = join(tempDir(), 'live.sock');
    const live = await bindUnixSocket(path);
    closeLater(live);
    await expect(bindUnixSocket(path)).rejects.toMatchObject({ code: 'VESPER_WEB_SOCKET_IN_USE' });
  });
});

describe('TCPServer', () => {
  it('hands each connection to handleStream', async () => {
    class Echo extends TCPServer {
      override async handleStream(stream: IOStream): Promise<void> {
        const line = await stream.readUntil('\n');
        await stream.write(Buffer.concat([Buffer.from('echo '), line]));
        stream.close();
      }
    }
    const server = new Echo();
    const [listener] = await server.listen(0, '127.0.0.1');
    cleanups.push(() => server.stop());
    const port = (listener!.address() as net.AddressInfo).port;
    const client = await IOStream.connect('127.0.0.1', port);
    await client.write('hi\n');
    expect((await client.readUntilClose()).toString()).toBe('echo hi\n');
  });

  it('closes a connection whose handler fails and stops accepting on stop()', async () => {
    class Failing extends TCPServer {
      override handleStream(): Promise<void> {
        return Promise.reject(new Error('boom'));
      }
    }
    const server = new Failing();
    const [listener] = await server.listen(0, '127.0.0.1');
    const port = (listener!.address() as net.AddressInfo).port;
    const client = await IOStream.connect('127.0.0.1', port);
    expect((await client.readUntilClose()).length).toBe(0);
    await server.stop();
    const err = await IOStream.connect('127.0.0.1', port).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'VESPER_WEB_STREAM_CLOSED' });
  });

  it.skipIf(!hasOpenssl)(
    'serves TLS streams and refuses an unverified client certificate when asked',
    async () => {
      const dir = tempDir();
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
      const key = readFileSync(join(dir, 'key.pem'), 'utf8');
      const cert = readFileSync(join(dir, 'cert.pem'), 'utf8');
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
          '/CN=intruder',
          '-keyout',
          join(dir, 'okey.pem'),
          '-out',
          join(dir, 'ocert.pem'),
        ],
        { stdio: 'ignore' },
      );
      const otherKey = readFileSync(join(dir, 'okey.pem'), 'utf8');
      const otherCert = readFileSync(join(dir, 'ocert.pem'), 'utf8');
      class Greeter extends TCPServer {
        override async handleStream(stream: IOStream): Promise<void> {
          await stream.waitForHandshake();
          await stream.write('hello tls\n');
          stream.close();
        }
      }
      const plain = new Greeter({ tls: { key, cert } });
      const [l1] = await plain.listen(0, '127.0.0.1');
      cleanups.push(() => plain.stop());
      const port1 = (l1!.address() as net.AddressInfo).port;
      const client = await IOStream.connect('localhost', port1, { tls: { ca: cert } });
      expect((await client.readUntilClose()).toString()).toBe('hello tls\n');

      class Echo extends TCPServer {
        override async handleStream(stream: IOStream): Promise<void> {
          const line = await stream.readUntil('\n');
          await stream.write(line);
          stream.close();
        }
      }
      const echo = new Echo({ tls: { key, cert } });
      const [l3] = await echo.listen(0, '127.0.0.1');
      cleanups.push(() => echo.stop());
      const port3 = (l3!.address() as net.AddressInfo).port;
      const answers = await Promise.all(
        [1, 2, 3, 4, 5].map(async (n) => {
          const c = await IOStream.connect('localhost', port3, { tls: { ca: cert } });
          await c.write(`client ${n}\n`);
          return (await c.readUntilClose()).toString();
        }),
      );
      expect(answers).toEqual([1, 2, 3, 4, 5].map((n) => `client ${n}\n`));

      const strict = new Greeter({ tls: { key, cert, requestCert: true, ca: cert } });
      const [l2] = await strict.listen(0, '127.0.0.1');
      cleanups.push(() => strict.stop());
      const port2 = (l2!.address() as net.AddressInfo).port;
      // With TLS 1.3 the client may learn of the refusal only when it reads.
      const greeting = async (tlsOptions: object): Promise<string> => {
        try {
          const c = await IOStream.connect('localhost', port2, {
            tls: { ca: cert, ...tlsOptions },
          });
          return (await c.readUntilClose()).toString();
        } catch (err) {
          return (err as { code: string }).code;
        }
      };
      expect(await greeting({})).toMatch(/^(|VESPER_WEB_STREAM_CLOSED)$/);
      expect(await greeting({ key: otherKey, cert: otherCert })).toMatch(
        /^(|VESPER_WEB_STREAM_CLOSED)$/,
      );
      const withCert = await IOStream.connect('localhost', port2, { tls: { ca: cert, key, cert } });
      expect((await withCert.readUntilClose()).toString()).toBe('hello tls\n');
    },
  );
});

const hasOpenssl = (() => {
  try {
    execFileSync('openssl', ['version'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
})();
