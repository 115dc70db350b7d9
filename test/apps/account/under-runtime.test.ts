import { request } from 'node:http';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import createApp from '../../../src/apps/account/index.js';
import { ManualClock } from '../../../src/session/process/clock.js';
import { loadAppFactory } from '../../../src/session/process/load-app.js';
import { SessionRuntime, type ExitReason } from '../../../src/session/process/session-runtime.js';
import { loadConfigText } from '../../../src/shared/config/index.js';
import { silentLogger } from '../../../src/shared/log/index.js';
import { MemoryTokenStore } from '../../../src/web/index.js';
import { makeStore, startServer, tempDirs } from '../../accountd/helpers.js';
import { PASSWORD, USER, eventually } from './helpers.js';

const KEY = 'k'.repeat(24);
const dirs = tempDirs();
const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
  dirs.cleanup();
});

interface Reply {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
}

function ask(
  socketPath: string,
  path: string,
  options: { method?: string; headers?: Record<string, string>; body?: string } = {},
): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const req = request(
      {
        socketPath,
        path,
        method: options.method ?? 'GET',
        headers: {
          Host: 'mail.example.org',
          'X-Vesper-Client-Ip': '127.0.0.1',
          'X-Vesper-Client-Scheme': 'http',
          ...options.headers,
        },
        agent: false,
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () =>
          resolve({
            status: res.statusCode ?? 0,
            headers: res.headers,
            body: Buffer.concat(chunks).toString('utf8'),
          }),
        );
      },
    );
    req.on('error', reject);
    req.end(options.body);
  });
}

function cookiesOf(reply: Reply): string[] {
  const sc = reply.headers['set-cookie'];
  return (Array.isArray(sc) ? sc : sc === undefined ? [] : [sc]).map((c) => c.split(';')[0]!);
}

async function start(): Promise<{
  runtime: SessionRuntime;
  socket: string;
  clock: ManualClock;
  accountdConnections: () => number;
  exits: ExitReason[];
}> {
  const root = dirs.make();
  const store = await makeStore(root);
  await store.create(USER, PASSWORD);
  const { server, path } = await startServer(store, root);
  cleanups.push(() => server.destroy());
  const config = loadConfigText('', {
    cwd: root,
    options: [
      `paths.var=${root}`,
      `accountd.listen=${path}`,
      'session.idle_time=10m',
      'session.timeout=1h',
    ],
  });
  const clock = new ManualClock();
  const exits: ExitReason[] = [];
  const tokens = new MemoryTokenStore();
  cleanups.push(() => tokens.close());
  const runtime = new SessionRuntime({
    config,
    factory: await loadAppFactory('account'),
    user: USER,
    session: 3,
    key: KEY,
    clientIp: '127.0.0.1',
    clientTls: false,
    loginAt: clock.now(),
    credential: { password: PASSWORD },
    log: silentLogger,
    tokens,
    clock,
    socketPath: join(root, 's.sock'),
    exitGraceMs: 500,
    onExit: (reason) => exits.push(reason),
  });
  await runtime.start();
  cleanups.push(() => runtime.shutdown('shutdown'));
  return {
    runtime,
    socket: runtime.socketPath,
    clock,
    accountdConnections: () => server.connectionCount,
    exits,
  };
}

describe('the account application under the session runtime', () => {
  it('is the factory session.app "account" loads', async () => {
    expect(await loadAppFactory('account')).toBe(createApp);
  });

  it('links with the key until the cookie comes back, then without it, and serves its files under the prefix', async () => {
    const { socket } = await start();
    const first = await ask(socket, `/session/alice/${KEY}/home`);
    expect(first.status).toBe(200);
    expect(first.headers['x-frame-options']).toBe('DENY');
    expect(first.body).toContain(`<a href="/session/alice/${KEY}/quota">Quota</a>`);
    expect(first.body).toContain(`<a href="/session/alice/${KEY}/logout">Log out</a>`);
    const script = /<script src="([^"]+)"/.exec(first.body)![1]!;
    expect(script).toMatch(new RegExp(`^/session/alice/${KEY}/static/live\\.js\\?v=[0-9a-f]+$`));
    const js = await ask(socket, script);
    expect(js.status).toBe(200);
    expect(js.headers['content-security-policy']).toContain("frame-ancestors 'none'");

    const cookie = cookiesOf(first).join('; ');
    const second = await ask(socket, '/session/alice//home', { headers: { Cookie: cookie } });
    expect(second.status).toBe(200);
    expect(second.body).toContain('<a href="/session/alice//quota">Quota</a>');
    expect(second.body).toContain(`<a href="/session/alice/${KEY}/logout">Log out</a>`);
    expect(second.body).toContain('data-token-url="/session/alice//token"');
  });

  it('saves a form posted through the runtime and redirects to the page under the prefix', async () => {
    const { socket } = await start();
    const session = `vesper_session=${KEY}`;
    const form = await ask(socket, `/session/alice/${KEY}/fullname`, {
      headers: { Cookie: session },
    });
    const xsrf = /name="_xsrf" value="([^"]+)"/.exec(form.body)![1]!;
    const cookie = [session, ...cookiesOf(form).filter((c) => c.startsWith('_xsrf='))].join('; ');
    const post = await ask(socket, '/session/alice//fullname', {
      method: 'POST',
      headers: { Cookie: cookie, 'Content-Type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ _xsrf: xsrf, fullname: 'Alice Liddell' }).toString(),
    });
    expect(post.status).toBe(303);
    expect(post.headers.location).toBe('/session/alice//fullname?saved=1');
  });

  it('closes the accountd connection when the session goes dormant and reopens it on the next page', async () => {
    const { socket, clock, runtime, accountdConnections } = await start();
    expect((await ask(socket, `/session/alice/${KEY}/quota`)).status).toBe(200);
    expect(accountdConnections()).toBe(1);
    clock.advance(10 * 60_000 + 1);
    await eventually(() => runtime.state === 'dormant' && accountdConnections() === 0);
    expect((await ask(socket, `/session/alice/${KEY}/quota`)).status).toBe(200);
    expect(runtime.state).toBe('live');
    expect(accountdConnections()).toBe(1);
  });

  it('pushes a change to the live channel opened through the runtime with a token from the page', async () => {
    const { socket } = await start();
    const session = `vesper_session=${KEY}`;
    const token = await ask(socket, `/session/alice/${KEY}/token`, {
      headers: { Cookie: session },
    });
    const { url } = JSON.parse(token.body) as { url: string };
    const ws = new WebSocket(`ws+unix:${socket}:${url}`, {
      headers: { Cookie: session, 'X-Vesper-Client-Ip': '127.0.0.1' },
    });
    cleanups.push(() => ws.terminate());
    const messages: Record<string, unknown>[] = [];
    ws.on('message', (data: Buffer) =>
      messages.push(JSON.parse(data.toString()) as Record<string, unknown>),
    );
    await eventually(() => messages.length === 1);
    expect(messages[0]).toEqual({ type: 'hello', user: USER, session: 3 });

    const form = await ask(socket, '/session/alice//forwarding', { headers: { Cookie: session } });
    const xsrf = /name="_xsrf" value="([^"]+)"/.exec(form.body)![1]!;
    const cookie = [session, ...cookiesOf(form).filter((c) => c.startsWith('_xsrf='))].join('; ');
    const post = await ask(socket, '/session/alice//forwarding', {
      method: 'POST',
      headers: { Cookie: cookie, 'Content-Type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({
        _xsrf: xsrf,
        addresses: 'bob@example.net',
        keep_copy: '1',
      }).toString(),
    });
    expect(post.status).toBe(303);
    await eventually(() => messages.length === 2);
    expect(messages[1]).toMatchObject({
      type: 'forwarding',
      forwarding: { addresses: ['bob@example.net'], keepCopy: true },
    });
  });

  it('ends its accountd connection and live channels when the user logs out', async () => {
    const { socket, accountdConnections, exits } = await start();
    const session = `vesper_session=${KEY}`;
    const token = await ask(socket, `/session/alice/${KEY}/token`, {
      headers: { Cookie: session },
    });
    const { url } = JSON.parse(token.body) as { url: string };
    const ws = new WebSocket(`ws+unix:${socket}:${url}`, { headers: { Cookie: session } });
    cleanups.push(() => ws.terminate());
    let closeCode = 0;
    ws.on('close', (code: number) => (closeCode = code));
    await new Promise((resolve) => ws.once('open', resolve));
    expect((await ask(socket, `/session/alice/${KEY}/quota`)).status).toBe(200);
    expect(accountdConnections()).toBe(1);
    const out = await ask(socket, `/session/alice/${KEY}/logout`);
    expect(out.status).toBe(303);
    expect(out.headers.location).toBe('/login/alice');
    await eventually(() => exits.length === 1 && accountdConnections() === 0 && closeCode !== 0);
    expect(exits).toEqual(['logout']);
    expect(closeCode).toBe(1001);
  });
});
