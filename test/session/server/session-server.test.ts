import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { chmodSync, existsSync, mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { SessionServer } from '../../../src/session/server/index.js';
import { silentLogger } from '../../../src/shared/log/index.js';
import {
  ensureSessionBuilt,
  PROCESS_ENTRY,
  shortTempDir,
  socketRequest,
  testConfig,
  waitFor,
} from '../helpers.js';
import { cleanup, login, ok, setup, socketOf, startServer } from './server-helpers.js';

beforeAll(() => ensureSessionBuilt(), 180_000);
afterEach(() => cleanup.run());

describe('SessionServer with real session processes', () => {
  it('starts a login in one of the spares and refills the spares', async () => {
    const { config } = setup();
    const server = await startServer(config);
    const spares = server.sparePids();
    expect(spares).toHaveLength(2);
    const s = ok(await login(config));
    expect(s).toMatchObject({
      ok: true,
      user: 'alice',
      session: 1,
      url: `/session/alice/${s.key}/home`,
      cookie: {
        name: 'vesper_session',
        value: s.key,
        path: '/session/alice/',
        httpOnly: true,
        sameSite: 'Lax',
        secure: false,
      },
    });
    expect(s.key).toMatch(/^[A-Za-z0-9_-]{24}$/);
    const [record] = server.sessions;
    cleanup.pid(record!.pid);
    expect(server.sessions).toHaveLength(1);
    expect(spares).toContain(record!.pid);
    await waitFor(() => server.readySpares === 2, 15_000);
    const now = server.sparePids();
    for (const pid of now) cleanup.pid(pid);
    expect(now).not.toContain(record!.pid);
    expect(now.filter((p) => spares.includes(p))).toHaveLength(1);
    const page = await socketRequest(socketOf(config, s), s.url);
    expect(page.status).toBe(200);
    expect(page.body).toBe(`home alice 1 base=/session/alice/${s.key}/`);
  });

  it('keeps the socket directory 0700 and every socket 0600, and session processes in their own group with a minimal environment', async () => {
    const { config } = setup();
    process.env.NODE_EXTRA_CA_CERTS = '/tmp/not-for-sessions.pem';
    process.env.VESPER_TEST_SECRET = 'hunter2';
    let server: SessionServer;
    try {
      server = await startServer(config);
    } finally {
      delete process.env.NODE_EXTRA_CA_CERTS;
      delete process.env.VESPER_TEST_SECRET;
    }
    const s = ok(await login(config));
    const pid = server.sessions[0]!.pid;
    cleanup.pid(pid);
    const dir = config.session.socket_dir;
    expect(statSync(dir).mode & 0o777).toBe(0o700);
    expect(statSync(join(dir, 'init.sock')).mode & 0o777).toBe(0o600);
    expect(statSync(socketOf(config, s)).mode & 0o777).toBe(0o600);
    const names = readFileSync(`/proc/${pid}/environ`, 'utf8')
      .split('\0')
      .filter(Boolean)
      .map((kv) => kv.slice(0, kv.indexOf('=')));
    // NODE_CHANNEL_* is Node's own IPC set-up for fork(), gone from process.env once read.
    const allowed = [
      'PATH',
      'NODE_ENV',
      'TZ',
      'LANG',
      'MALLOC_ARENA_MAX',
      'MALLOC_TRIM_THRESHOLD_',
      'NODE_CHANNEL_FD',
      'NODE_CHANNEL_SERIALIZATION_MODE',
    ];
    expect(names.filter((n) => !allowed.includes(n))).toEqual([]);
    expect(names).toContain('PATH');
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const pgrp = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[2]);
    expect(pgrp).toBe(pid);
    // The password reached the session (over IPC), not its command line.
    expect(readFileSync(`/proc/${pid}/cmdline`, 'utf8')).not.toContain('right');
    const events = await socketRequest(socketOf(config, s), `/session/alice/${s.key}/events`);
    expect(JSON.parse(events.body)).toEqual({ events: [], credential: true });
  });

  it('refuses a world-writable parent of the socket directory', async () => {
    const dir = cleanup.dir(shortTempDir());
    const parent = join(dir, 'open');
    mkdirSync(parent, { mode: 0o777 });
    chmodSync(parent, 0o777);
    const config = testConfig(dir, [`session.socket_dir=${join(parent, 'sockets')}`]);
    const server = new SessionServer({ config, log: silentLogger, processEntry: PROCESS_ENTRY });
    await expect(server.start()).rejects.toMatchObject({ code: 'VESPER_SESSION_SOCKET_DIR' });
    await server.close();
  });

  it('removes sockets left by dead sessions and by spares killed while warming up, at start', async () => {
    const { config } = setup(['session.spares=0']);
    const dir = config.session.socket_dir;
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    const dead = join(dir, `s-${'0'.repeat(32)}.sock`);
    const warm = join(dir, 'warm-999999999.sock');
    const other = join(dir, 'notes.txt');
    for (const f of [dead, warm, other]) writeFileSync(f, '');
    const server = await startServer(config);
    expect(server.sessions).toHaveLength(0);
    expect(existsSync(dead)).toBe(false);
    expect(existsSync(warm)).toBe(false);
    expect(existsSync(other)).toBe(true);
  });

  it('answers bad credentials, too many sessions per user and malformed requests with their codes', async () => {
    const { config } = setup(['session.max_per_user=1', 'session.spares=1']);
    const server = await startServer(config);
    expect(await login(config, 'alice', { password: 'wrong' })).toEqual({
      ok: false,
      error: 'bad-credentials',
      message: 'Wrong user name or password.',
    });
    ok(await login(config));
    cleanup.pid(server.sessions[0]!.pid);
    expect(await login(config)).toMatchObject({ ok: false, error: 'too-many-sessions' });
    const bob = ok(await login(config, 'bob'));
    cleanup.pid(server.sessions[1]!.pid);
    expect(bob.session).toBe(2);
    expect(await login(config, '../x')).toEqual({
      ok: false,
      error: 'bad-request',
      message: 'user is not a valid account name',
    });
  });

  it('refuses a wrong key and a foreign address identically, and a dead session has no socket', async () => {
    const { config } = setup(['session.fix_client_ipaddr=true']);
    const server = await startServer(config);
    const s = ok(await login(config));
    cleanup.pid(server.sessions[0]!.pid);
    const sock = socketOf(config, s);
    const wrong = await socketRequest(sock, `/session/alice/${'A'.repeat(24)}/home`);
    const foreign = await socketRequest(sock, s.url, {
      headers: { 'X-Vesper-Client-Ip': '192.0.2.1' },
    });
    for (const r of [wrong, foreign]) {
      expect(r.status).toBe(404);
      expect(r.headers['x-vesper-session']).toBe('ended');
      expect(r.body).toBe(wrong.body);
    }
    await socketRequest(sock, `/session/alice/${s.key}/logout`);
    await waitFor(() => server.sessions.length === 0);
    await expect(socketRequest(sock, s.url)).rejects.toMatchObject({ code: 'ENOENT' });
  });
});
