import { existsSync, mkdirSync, statSync } from 'node:fs';
import { connect } from 'node:net';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { silentLogger } from '../../../src/shared/log/index.js';
import { sessionSocketPath } from '../../../src/session/session-identity.js';
import { ManualClock } from '../../../src/session/process/clock.js';
import {
  IDLE_GC_MS,
  SessionRuntime,
  type ExitReason,
  type SessionRuntimeOptions,
} from '../../../src/session/process/session-runtime.js';
import { MemoryTokenStore } from '../../../src/web/index.js';
import createTestApp from '../fixtures/test-app.js';
import {
  Cleanup,
  shortTempDir,
  socketRequest,
  testConfig,
  waitFor,
  type Reply,
} from '../helpers.js';

const KEY = 'k'.repeat(24);
const cleanup = new Cleanup();
afterEach(() => cleanup.run());

interface Started {
  runtime: SessionRuntime;
  socket: string;
  clock: ManualClock;
  exits: ExitReason[];
}

async function start(
  options: string[] = [],
  clientIp = '127.0.0.1',
  extra: Partial<SessionRuntimeOptions> = {},
): Promise<Started> {
  const dir = cleanup.dir(shortTempDir());
  const config = testConfig(dir, ['session.idle_time=10m', 'session.timeout=1h', ...options]);
  mkdirSync(config.session.socket_dir, { recursive: true, mode: 0o700 });
  const clock = new ManualClock();
  const exits: ExitReason[] = [];
  const runtime = new SessionRuntime({
    config,
    factory: createTestApp,
    user: 'alice',
    session: 7,
    key: KEY,
    clientIp,
    clientTls: false,
    loginAt: clock.now(),
    credential: { password: 'secret' },
    log: silentLogger,
    tokens: new MemoryTokenStore(),
    clock,
    exitGraceMs: 500,
    onExit: (reason) => exits.push(reason),
    ...extra,
  });
  await runtime.start();
  cleanup.onClose(() => runtime.shutdown('shutdown'));
  return { runtime, socket: runtime.socketPath, clock, exits };
}

const url = (cmd: string, key = KEY): string => `/session/alice/${key}/${cmd}`;

function cookieOf(reply: Reply): string | undefined {
  const sc = reply.headers['set-cookie'];
  return Array.isArray(sc) ? sc[0] : sc;
}

describe('SessionRuntime', () => {
  it('binds its socket with mode 0600 under the name derived from user and key', async () => {
    const { socket } = await start();
    expect(socket).toBe(sessionSocketPath(join(socket, '..'), 'alice', KEY));
    expect(statSync(socket).mode & 0o777).toBe(0o600);
    expect(statSync(socket).isSocket()).toBe(true);
  });

  it('serves the application under the session prefix', async () => {
    const { socket } = await start();
    const r = await socketRequest(socket, url('home'));
    expect(r.status).toBe(200);
    expect(r.body).toBe(`home alice 7 base=/session/alice/${KEY}/`);
  });

  it('answers a wrong key, a wrong user, an empty key without cookie and a malformed path identically', async () => {
    const { socket } = await start();
    const answers = await Promise.all([
      socketRequest(socket, url('home', 'x'.repeat(24))),
      socketRequest(socket, url('home', KEY.slice(1))),
      socketRequest(socket, `/session/bob/${KEY}/home`),
      socketRequest(socket, '/session/alice//home'),
      socketRequest(socket, '/nothing'),
    ]);
    for (const a of answers) {
      expect(a.status).toBe(404);
      expect(a.headers['x-vesper-session']).toBe('ended');
      expect(a.body).toBe(answers[0].body);
      expect(a.headers['set-cookie']).toBeUndefined();
    }
    expect(answers[0].body).toContain('This session has ended');
  });

  it('refuses another client address the same way when the address is pinned', async () => {
    const { socket } = await start(['session.fix_client_ipaddr=true'], '10.0.0.1');
    const wrongKey = await socketRequest(socket, url('home', 'x'.repeat(24)), {
      headers: { 'X-Vesper-Client-Ip': '10.0.0.1' },
    });
    const foreign = await socketRequest(socket, url('home'), {
      headers: { 'X-Vesper-Client-Ip': '10.0.0.2' },
    });
    const own = await socketRequest(socket, url('home'), {
      headers: { 'X-Vesper-Client-Ip': '10.0.0.1' },
    });
    expect(foreign.status).toBe(404);
    expect(foreign.body).toBe(wrongKey.body);
    expect(foreign.headers['x-vesper-session']).toBe('ended');
    expect(own.status).toBe(200);
  });

  it('accepts another client address when the address is not pinned', async () => {
    const { socket } = await start([], '10.0.0.1');
    const r = await socketRequest(socket, url('home'), {
      headers: { 'X-Vesper-Client-Ip': '10.0.0.2' },
    });
    expect(r.status).toBe(200);
  });

  it('sets the cookie on the first page and drops the key from URLs once it came back', async () => {
    const { socket, runtime } = await start();
    const first = await socketRequest(socket, url('home'));
    expect(cookieOf(first)).toBe(
      `vesper_session=${KEY}; Path=/session/alice/; HttpOnly; SameSite=Lax`,
    );
    expect(runtime.cookieState).toBe('sent');
    const second = await socketRequest(socket, url('home'), {
      headers: { Cookie: `other=1; vesper_session=${KEY}` },
    });
    expect(second.headers['set-cookie']).toBeUndefined();
    expect(second.body).toBe('home alice 7 base=/session/alice//');
    expect(runtime.cookieState).toBe('confirmed');
    const keyless = await socketRequest(socket, '/session/alice//home', {
      headers: { Cookie: `vesper_session=${KEY}` },
    });
    expect(keyless.status).toBe(200);
    const wrongCookie = await socketRequest(socket, '/session/alice//home', {
      headers: { Cookie: `vesper_session=${'x'.repeat(24)}` },
    });
    expect(wrongCookie.status).toBe(404);
  });

  it('keeps the key in URLs when the cookie does not come back', async () => {
    const { socket, runtime } = await start();
    await socketRequest(socket, url('home'));
    const second = await socketRequest(socket, url('home'));
    expect(runtime.cookieState).toBe('refused');
    expect(second.body).toBe(`home alice 7 base=/session/alice/${KEY}/`);
    expect(second.headers['set-cookie']).toBeUndefined();
  });

  it('marks the cookie Secure when the client is on TLS', async () => {
    const { socket } = await start();
    const r = await socketRequest(socket, url('home'), {
      headers: { 'X-Vesper-Client-Scheme': 'https' },
    });
    expect(cookieOf(r)).toBe(
      `vesper_session=${KEY}; Path=/session/alice/; HttpOnly; SameSite=Lax; Secure`,
    );
  });

  it('uses no cookie at all when session.use_cookie is false', async () => {
    const { socket } = await start(['session.use_cookie=false']);
    const r = await socketRequest(socket, url('home'), {
      headers: { Cookie: `vesper_session=${KEY}` },
    });
    expect(r.headers['set-cookie']).toBeUndefined();
    expect(r.body).toBe(`home alice 7 base=/session/alice/${KEY}/`);
    expect(
      (
        await socketRequest(socket, '/session/alice//home', {
          headers: { Cookie: `vesper_session=${KEY}` },
        })
      ).status,
    ).toBe(404);
  });

  it('runs two slow requests one after the other while a half-sent request blocks nobody', async () => {
    const { socket } = await start();
    const half = connect(socket);
    cleanup.onClose(() => {
      half.destroy();
    });
    await new Promise((r) => half.once('connect', r));
    half.write(`GET ${url('count')} HTTP/1.1\r\nHost: x\r\nX-Vesper-`);
    const halfBody = connect(socket);
    cleanup.onClose(() => {
      halfBody.destroy();
    });
    await new Promise((r) => halfBody.once('connect', r));
    halfBody.write(`POST ${url('draft')} HTTP/1.1\r\nHost: x\r\nContent-Length: 10\r\n\r\non=`);
    const [a, b] = await Promise.all([
      socketRequest(socket, `${url('slow')}?ms=300&tag=a`),
      socketRequest(socket, `${url('slow')}?ms=300&tag=b`),
    ]);
    const ra = JSON.parse(a.body) as { start: number; end: number };
    const rb = JSON.parse(b.body) as { start: number; end: number };
    const [first, second] = ra.start <= rb.start ? [ra, rb] : [rb, ra];
    expect(second.start).toBeGreaterThanOrEqual(first.end);
    const count = await socketRequest(socket, url('count'));
    expect(count.body).toBe('1');
  });

  it('lets a streaming download hand the queue on once its headers are sent', async () => {
    const { socket } = await start();
    const t0 = Date.now();
    const stream = socketRequest(socket, `${url('stream')}?chunks=20`);
    await new Promise((r) => setTimeout(r, 50));
    const count = await socketRequest(socket, url('count'));
    const countAt = Date.now() - t0;
    const s = await stream;
    const streamAt = Date.now() - t0;
    expect(count.body).toBe('1');
    expect(countAt).toBeLessThan(streamAt);
    expect(s.body.length).toBe(20 * 65536);
  });

  it('goes dormant after idle_time, wakes before the next handler, and counts requests as activity', async () => {
    const { socket, clock, runtime } = await start();
    clock.advance(9 * 60_000);
    expect(runtime.state).toBe('live');
    await socketRequest(socket, url('home'));
    clock.advance(9 * 60_000);
    expect(runtime.state).toBe('live');
    clock.advance(60_001);
    await waitFor(() => runtime.state === 'dormant');
    const events = await socketRequest(socket, url('events'));
    expect(JSON.parse(events.body)).toEqual({ events: ['dormant', 'wake'], credential: true });
    expect(runtime.state).toBe('live');
  });

  it('collects its garbage once after 30 quiet seconds, again only after the next request', async () => {
    let gcs = 0;
    const { socket, clock } = await start([], '127.0.0.1', { collectGarbage: () => (gcs += 1) });
    expect(IDLE_GC_MS).toBe(30_000);
    clock.advance(29_999);
    expect(gcs).toBe(0);
    clock.advance(1);
    expect(gcs).toBe(1);
    clock.advance(60_000); // below session.idle_time (10m): no dormancy
    expect(gcs).toBe(1);
    await socketRequest(socket, url('home'));
    clock.advance(29_000);
    await socketRequest(socket, url('home'));
    clock.advance(29_000);
    expect(gcs).toBe(1);
    clock.advance(1_000);
    expect(gcs).toBe(2);
  });

  it('never collects its garbage while a handler runs; waits for the queue to empty', async () => {
    let gcs = 0;
    const { socket, clock } = await start([], '127.0.0.1', { collectGarbage: () => (gcs += 1) });
    clock.advance(IDLE_GC_MS);
    expect(gcs).toBe(1);
    const slow = socketRequest(socket, `${url('slow')}?ms=400`);
    await new Promise((r) => setTimeout(r, 150));
    clock.advance(IDLE_GC_MS + 5_000);
    expect(gcs).toBe(1);
    expect((await slow).status).toBe(200);
    clock.advance(IDLE_GC_MS);
    expect(gcs).toBe(2);
  });

  it('collects its garbage after going dormant, even with the idle collection off (idleGcMs 0)', async () => {
    let gcs = 0;
    const { clock, runtime } = await start([], '127.0.0.1', {
      collectGarbage: () => (gcs += 1),
      idleGcMs: 0,
    });
    clock.advance(60_000);
    expect(gcs).toBe(0);
    clock.advance(10 * 60_000);
    await waitFor(() => runtime.state === 'dormant');
    await waitFor(() => gcs === 1);
    expect(gcs).toBe(1);
  });

  it('times out after session.timeout without a request: socket removed, application closed', async () => {
    const { socket, clock, exits, runtime } = await start();
    clock.advance(3_599_999);
    expect(runtime.exiting).toBe(false);
    clock.advance(1);
    await waitFor(() => exits.length === 1);
    expect(exits).toEqual(['timeout']);
    expect(existsSync(socket)).toBe(false);
  });

  it('waits session.timeout_compose instead while the application reports a draft', async () => {
    const { socket, clock, exits, runtime } = await start(['session.timeout_compose=2h']);
    const r = await socketRequest(socket, url('draft'), {
      method: 'POST',
      headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
      body: 'on=1',
    });
    expect(r.body).toBe('true');
    clock.advance(3_600_000);
    expect(runtime.exiting).toBe(false);
    clock.advance(3_600_000);
    await waitFor(() => exits.length === 1);
    expect(exits).toEqual(['timeout']);
  });

  it('logs out at once: 303 to the login page, cookie cleared, socket removed', async () => {
    const { socket, exits } = await start();
    const r = await socketRequest(socket, url('logout'));
    expect(r.status).toBe(303);
    expect(r.headers.location).toBe('/login/alice');
    expect(cookieOf(r)).toBe(
      'vesper_session=; Path=/session/alice/; Max-Age=0; HttpOnly; SameSite=Lax',
    );
    await waitFor(() => exits.length === 1);
    expect(exits).toEqual(['logout']);
    expect(existsSync(socket)).toBe(false);
  });

  it('answers control requests only with X-Vesper-Control', async () => {
    const { socket, clock } = await start();
    const refused = await socketRequest(socket, '/_vesper/status');
    expect(refused.status).toBe(404);
    expect(refused.headers['x-vesper-session']).toBe('ended');
    clock.advance(5_000);
    const st = await socketRequest(socket, '/_vesper/status', {
      headers: { 'X-Vesper-Control': '1' },
    });
    expect(st.status).toBe(200);
    const body = JSON.parse(st.body) as Record<string, unknown>;
    expect(body).toMatchObject({
      user: 'alice',
      session: 7,
      pid: process.pid,
      state: 'live',
      idleMs: 5_000,
      draft: false,
    });
    expect(body.timeoutAt).toBe((body.lastRequestAt as number) + 3_600_000);
    expect(JSON.stringify(body)).not.toContain(KEY);
  });

  it('ends on a control shutdown request', async () => {
    const { socket, exits } = await start();
    const r = await socketRequest(socket, '/_vesper/shutdown', {
      method: 'POST',
      headers: { 'X-Vesper-Control': '1' },
    });
    expect(r.status).toBe(200);
    await waitFor(() => exits.length === 1);
    expect(exits).toEqual(['shutdown']);
    expect(existsSync(socket)).toBe(false);
  });

  it('answers a WebSocket upgrade with a wrong key like any unknown session', async () => {
    const { socket } = await start();
    const answer = await new Promise<{ status: number; ended: unknown; body: string }>(
      (resolve, reject) => {
        const ws = new WebSocket(`ws+unix://${socket}:/session/alice/${'x'.repeat(24)}/ws`);
        ws.once('unexpected-response', (_req, res) => {
          let body = '';
          res.on('data', (d: Buffer) => (body += d.toString()));
          res.on('end', () =>
            resolve({ status: res.statusCode ?? 0, ended: res.headers['x-vesper-session'], body }),
          );
        });
        ws.once('open', () => reject(new Error('opened')));
        ws.once('error', () => undefined);
      },
    );
    const plain = await socketRequest(socket, url('home', 'x'.repeat(24)));
    expect(answer).toEqual({ status: 404, ended: 'ended', body: plain.body });
  });

  it('accepts a one-time WebSocket token once and runs messages in the serial queue', async () => {
    const { socket } = await start();
    const tokenReply = await socketRequest(socket, url('token'));
    const wsUrl = (JSON.parse(tokenReply.body) as { url: string }).url;
    expect(wsUrl).toMatch(new RegExp(`^/session/alice/${KEY}/ws\\?ws_token=[A-Za-z0-9_-]{43}$`));
    const open = (): Promise<WebSocket> =>
      new Promise((resolve, reject) => {
        const ws = new WebSocket(`ws+unix://${socket}:${wsUrl}`);
        ws.once('open', () => resolve(ws));
        ws.once('unexpected-response', (_req, res) =>
          reject(new Error(`status ${res.statusCode}`)),
        );
        ws.once('error', reject);
      });
    const ws = await open();
    cleanup.onClose(() => {
      ws.terminate();
    });
    const reply = new Promise<string>((r) => ws.once('message', (d: Buffer) => r(d.toString())));
    ws.send('slow:300');
    await new Promise((r) => setTimeout(r, 50));
    const count = await socketRequest(socket, url('count'));
    const countAt = Date.now();
    const echo = await reply;
    const echoAt = Number(/ at (\d+)$/.exec(echo)![1]);
    expect(echo.startsWith('echo slow:300')).toBe(true);
    expect(echoAt).toBeLessThanOrEqual(countAt);
    expect(count.body).toBe('1');
    await expect(open()).rejects.toThrow('status 401');
  });
});
