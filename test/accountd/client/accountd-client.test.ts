import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createServer, type Server, type Socket } from 'node:net';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import {
  AccountdClient,
  AccountdProtocolError,
  AccountdRefusedError,
} from '../../../src/accountd/client/index.js';
import type { AccountdServer } from '../../../src/accountd/server/accountd-server.js';
import type { AccountStore } from '../../../src/accountd/store/account-store.js';
import { makeStore, startServer, tempDirs } from '../helpers.js';

const dirs = tempDirs();
const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
  dirs.cleanup();
});

async function setup(
  options: Parameters<typeof startServer>[2] = {},
): Promise<{ store: AccountStore; server: AccountdServer; path: string; root: string }> {
  const root = dirs.make();
  const store = await makeStore(root);
  await store.create('alice', 'secret-pw-1');
  const { server, path } = await startServer(store, root, options);
  cleanups.push(() => server.destroy());
  return { store, server, path, root };
}

function client(path: string, timeoutMs = 2000): AccountdClient {
  const c = new AccountdClient({ path }, { timeoutMs });
  cleanups.push(() => c.destroy());
  return c;
}

describe('AccountdClient', () => {
  it('runs every command with typed results', async () => {
    const { path, store } = await setup();
    const c = client(path);
    await c.noop();
    await c.login('alice', 'secret-pw-1');
    expect(c.user).toBe('alice');
    await c.fullName('Alice Liddell');
    expect(await c.getFullName()).toBe('Alice Liddell');
    expect(await c.quota()).toEqual({
      bytesUsed: 0,
      bytesLimit: 1_000_000,
      messagesUsed: 0,
      messagesLimit: 100,
    });
    expect(await c.mailStatus()).toEqual({ addresses: [], keepCopy: true });
    await c.mailChange({ addresses: ['bob@example.net'], keepCopy: false });
    expect(await c.mailStatus()).toEqual({ addresses: ['bob@example.net'], keepCopy: false });
    const v = { enabled: true, subject: 'Away', body: 'Back on Monday.\n\nA.', days: 5 };
    await c.vacationChange(v);
    expect(await c.vacation()).toEqual(v);
    await store.appendVacationLog('alice', {
      sender: 'x@example.net',
      at: '2026-12-01T00:00:00.000Z',
    });
    expect(await c.vacLog()).toEqual([{ sender: 'x@example.net', at: '2026-12-01T00:00:00.000Z' }]);
    await c.vacLogClear();
    expect(await c.vacLog()).toEqual([]);
    await c.password('secret-pw-1', 'new-secret-2');
    expect(await store.authenticate('alice', 'new-secret-2')).toBe(true);
    await c.logout();
    expect(c.user).toBeUndefined();
    expect(c.connected).toBe(false);
  });

  it('rejects NO replies with AccountdRefusedError and its reason', async () => {
    const { path } = await setup();
    const c = client(path);
    const wrong = await c.login('alice', 'nope-nope-1').catch((e: unknown) => e);
    expect(wrong).toBeInstanceOf(AccountdRefusedError);
    expect(wrong).toMatchObject({
      code: 'VESPER_ACCOUNTD_REFUSED',
      reason: 'AUTH',
      message: 'wrong user name or password',
    });
    await c.login('alice', 'secret-pw-1');
    await expect(c.password('secret-pw-1', 'short')).rejects.toMatchObject({ reason: 'WEAK' });
    await expect(c.mailChange({ addresses: ['x'], keepCopy: true })).rejects.toMatchObject({
      reason: 'INVALID',
      message: '"x" is not a valid mail address',
    });
  });

  it('rejects BAD replies with AccountdProtocolError', async () => {
    const { path } = await setup();
    const c = client(path);
    const err = await c.quota().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(AccountdProtocolError);
    expect(err).toMatchObject({ code: 'VESPER_ACCOUNTD_BAD', reason: 'NOTAUTH' });
  });

  it('reconnects and logs in again after the server dropped an idle connection', async () => {
    const { path } = await setup({ idleTimeoutMs: 100 });
    const c = client(path);
    await c.login('alice', 'secret-pw-1');
    await new Promise((r) => setTimeout(r, 250));
    expect(c.connected).toBe(false);
    expect((await c.quota()).bytesLimit).toBe(1_000_000);
    expect(c.connected).toBe(true);
  });

  it('carries on past the per-connection command limit on a fresh connection, LOGIN included', async () => {
    const { path } = await setup({ limits: { line: 8192, literal: 65536, commands: 3 } });
    const c = client(path);
    await c.login('alice', 'secret-pw-1');
    for (let i = 0; i < 4; i++) expect((await c.quota()).bytesLimit).toBe(1_000_000);
    await c.login('alice', 'secret-pw-1');
    await c.login('alice', 'secret-pw-1');
    expect(await c.quota()).toMatchObject({ bytesLimit: 1_000_000 });
  });

  it('reopens after close() on the next call, as a dormant session does', async () => {
    const { path, server } = await setup();
    const c = client(path);
    await c.login('alice', 'secret-pw-1');
    await Promise.all([c.close(), c.close()]);
    expect(c.connected).toBe(false);
    await new Promise((r) => setTimeout(r, 20));
    expect(server.connectionCount).toBe(0);
    expect((await c.quota()).messagesLimit).toBe(100);
    expect(c.connected).toBe(true);
  });

  it('fails the re-login after a password change elsewhere with AUTH', async () => {
    const { path, store } = await setup();
    const c = client(path);
    await c.login('alice', 'secret-pw-1');
    await c.close();
    await store.setPassword('alice', 'changed-pw-3');
    await expect(c.quota()).rejects.toMatchObject({ reason: 'AUTH' });
  });

  it('logs in as another user on the same connection, and a failed login ends the previous one', async () => {
    const { path, store, server } = await setup();
    await store.create('bob', 'secret-pw-2');
    const c = client(path);
    await c.login('alice', 'secret-pw-1');
    await c.login('bob', 'secret-pw-2');
    expect(c.user).toBe('bob');
    expect(server.connectionCount).toBe(1);
    await expect(c.login('alice', 'wrong-pw-9')).rejects.toMatchObject({ reason: 'AUTH' });
    expect(c.user).toBeUndefined();
    await expect(c.quota()).rejects.toMatchObject({ reason: 'NOTAUTH' });
  });

  it('rejects every call after destroy()', async () => {
    const { path } = await setup();
    const c = client(path);
    await c.login('alice', 'secret-pw-1');
    c.destroy();
    c.destroy();
    await c.close();
    await expect(c.quota()).rejects.toMatchObject({ code: 'VESPER_ACCOUNTD_CLIENT_DESTROYED' });
  });

  it('says unavailable when nothing listens', async () => {
    const root = dirs.make();
    await expect(AccountdClient.connect({ path: join(root, 'none.sock') })).rejects.toMatchObject({
      code: 'VESPER_ACCOUNTD_UNAVAILABLE',
    });
  });

  it('times out a reply that never comes and recovers on the next call', async () => {
    const root = dirs.make();
    const path = join(root, 'silent.sock');
    let answer = false;
    const sockets: Socket[] = [];
    const silent: Server = createServer((s) => {
      sockets.push(s);
      s.on('data', () => {
        if (answer) s.write('OK\r\n');
      });
    });
    await new Promise<void>((r) => silent.listen(path, r));
    cleanups.push(
      () =>
        new Promise<void>((r) => {
          for (const s of sockets) s.destroy();
          silent.close(() => r());
        }),
    );
    const c = client(path, 100);
    await expect(c.noop()).rejects.toMatchObject({ code: 'VESPER_ACCOUNTD_TIMEOUT' });
    answer = true;
    await c.noop();
    expect(sockets).toHaveLength(2);
  });

  it('retries a repeatable command once when the connection drops under it, but not PASSWORD', async () => {
    const root = dirs.make();
    const path = join(root, 'flaky.sock');
    let connections = 0;
    const sockets: Socket[] = [];
    const flaky: Server = createServer((s) => {
      sockets.push(s);
      const nth = ++connections;
      s.on('data', () => {
        // Every odd connection drops the first command it gets, unanswered.
        if (nth % 2 === 1) s.destroy();
        else s.write('OK\r\n');
      });
    });
    await new Promise<void>((r) => flaky.listen(path, r));
    cleanups.push(
      () =>
        new Promise<void>((r) => {
          for (const s of sockets) s.destroy();
          flaky.close(() => r());
        }),
    );
    const c = client(path);
    await c.noop();
    expect(connections).toBe(2);
    await c.close();
    await expect(c.password('old-pw-1x', 'new-pw-2x')).rejects.toMatchObject({
      code: 'VESPER_ACCOUNTD_CONNECTION_CLOSED',
    });
    expect(connections).toBe(3);
  });

  it('serialises concurrent calls on one connection', async () => {
    const { path } = await setup();
    const c = client(path);
    await c.login('alice', 'secret-pw-1');
    const results = await Promise.all(Array.from({ length: 20 }, () => c.quota()));
    expect(results.every((q) => q.messagesLimit === 100)).toBe(true);
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

describe.skipIf(!hasOpenssl)('AccountdClient over TLS', () => {
  function pair(dir: string): { cert: string; key: string } {
    const cert = join(dir, 'cert.pem');
    const key = join(dir, 'key.pem');
    execFileSync(
      'openssl',
      [
        'req',
        '-x509',
        '-newkey',
        'ec',
        '-pkeyopt',
        'ec_paramgen_curve:P-256',
        '-nodes',
        '-days',
        '1',
        '-subj',
        '/CN=localhost',
        '-addext',
        'subjectAltName=DNS:localhost,IP:127.0.0.1',
        '-keyout',
        key,
        '-out',
        cert,
      ],
      { stdio: 'ignore' },
    );
    return { cert, key };
  }

  it('logs in and reads the quota over TLS', async () => {
    const { server, root } = await setup();
    const { cert, key } = pair(root);
    const { port } = await server.listenTls({ host: '127.0.0.1', port: 0, cert, key });
    const c = new AccountdClient({ host: 'localhost', port, ca: readFileSync(cert) });
    cleanups.push(() => c.destroy());
    await c.login('alice', 'secret-pw-1');
    expect((await c.quota()).bytesLimit).toBe(1_000_000);
  });

  it('refuses a client without a certificate when the server asks for one', async () => {
    const { server, root } = await setup();
    const { cert, key } = pair(root);
    const { port } = await server.listenTls({ host: '127.0.0.1', port: 0, cert, key, ca: cert });
    const anonymous = new AccountdClient(
      { host: 'localhost', port, ca: readFileSync(cert) },
      { timeoutMs: 2000 },
    );
    cleanups.push(() => anonymous.destroy());
    await expect(anonymous.noop()).rejects.toMatchObject({
      code: expect.stringMatching(/^VESPER_ACCOUNTD_(UNAVAILABLE|CONNECTION_CLOSED)$/) as unknown,
    });
    const known = new AccountdClient({
      host: 'localhost',
      port,
      ca: readFileSync(cert),
      cert: readFileSync(cert),
      key: readFileSync(key),
    });
    cleanups.push(() => known.destroy());
    await known.login('alice', 'secret-pw-1');
  });
});
