import { spawn, type ChildProcess } from 'node:child_process';
import {
  chmodSync,
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import {
  initRequest,
  type InitReply,
  type LoginSuccess,
} from '../../../src/session/init-protocol/index.js';
import { SessionServer } from '../../../src/session/server/index.js';
import type { Authenticator } from '../../../src/session/authenticators/index.js';
import { sessionSocketPath } from '../../../src/session/session-identity.js';
import { silentLogger } from '../../../src/shared/log/index.js';
import type { VesperConfig } from '../../../src/shared/config/index.js';
import { ROOT } from '../../accountd/built.js';
import {
  alive,
  builtTestApp,
  Cleanup,
  ensureSessionBuilt,
  PROCESS_ENTRY,
  shortTempDir,
  socketRequest,
  testConfig,
  waitFor,
} from '../helpers.js';

beforeAll(() => ensureSessionBuilt(), 180_000);
const cleanup = new Cleanup();
afterEach(() => cleanup.run());

/** Accepts the password "right" for anyone (the accountd authenticator has its own test). */
const passwords: Authenticator = {
  name: 'test',
  authenticate: (r) =>
    Promise.resolve(
      r.password === 'right'
        ? { ok: true, credential: { password: r.password } }
        : { ok: false, error: 'bad-credentials', message: 'Wrong user name or password.' },
    ),
};

function setup(options: string[] = []): { dir: string; config: VesperConfig } {
  const dir = cleanup.dir(shortTempDir());
  const app = builtTestApp(dir);
  const config = testConfig(dir, [`session.app=${app}`, 'session.spares=2', ...options]);
  cleanup.sessionsIn(config.session.socket_dir);
  return { dir, config };
}

async function startServer(
  config: VesperConfig,
  options: { sweepIntervalMs?: number; timeoutGraceMs?: number } = {},
): Promise<SessionServer> {
  const server = new SessionServer({
    config,
    log: silentLogger,
    processEntry: PROCESS_ENTRY,
    passwordAuthenticator: passwords,
    reapIntervalMs: 100,
    sweepIntervalMs: 60_000,
    ...options,
  });
  cleanup.onClose(() => server.close());
  await server.start();
  await waitFor(() => {
    for (const pid of server.sparePids()) cleanup.pid(pid);
    return server.readySpares === config.session.spares;
  }, 15_000);
  return server;
}

async function login(
  config: VesperConfig,
  user = 'alice',
  extra: Record<string, unknown> = {},
): Promise<InitReply> {
  const reply = await initRequest(join(config.session.socket_dir, 'init.sock'), {
    op: 'login',
    user,
    password: 'right',
    clientIp: '127.0.0.1',
    tls: false,
    listener: '127.0.0.1:8080',
    ...extra,
  });
  return reply;
}

function ok(reply: InitReply): LoginSuccess {
  if (!('key' in reply)) throw new Error(`login failed: ${JSON.stringify(reply)}`);
  return reply;
}

function socketOf(config: VesperConfig, s: LoginSuccess): string {
  return sessionSocketPath(config.session.socket_dir, s.user, s.key);
}

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

  it('removes process and socket on logout and on timeout', async () => {
    const { config } = setup(['session.timeout=1500ms', 'session.idle_time=0']);
    const server = await startServer(config);
    const a = ok(await login(config));
    const b = ok(await login(config, 'bob'));
    const pa = server.sessions.find((r) => r.user === 'alice')!.pid;
    const pb = server.sessions.find((r) => r.user === 'bob')!.pid;
    cleanup.pid(pa);
    cleanup.pid(pb);
    const out = await socketRequest(socketOf(config, a), `/session/alice/${a.key}/logout`);
    expect(out.status).toBe(303);
    await waitFor(() => !alive(pa) && !existsSync(socketOf(config, a)));
    await waitFor(() => !alive(pb) && !existsSync(socketOf(config, b)), 5_000);
    await waitFor(() => server.sessions.length === 0);
  });

  it('ends a session that is past its timeout by the server clock when the session did not end itself', async () => {
    const { config } = setup(['session.timeout=1h', 'session.idle_time=0']);
    // A grace of minus one hour: every session looks overdue to the server's sweep.
    const server = await startServer(config, { sweepIntervalMs: 200, timeoutGraceMs: -3_600_000 });
    const s = ok(await login(config));
    const pid = server.sessions[0]!.pid;
    cleanup.pid(pid);
    await waitFor(() => !alive(pid) && !existsSync(socketOf(config, s)), 5_000);
    await waitFor(() => server.sessions.length === 0);
  });

  it('cleans up after a session process that crashes', async () => {
    const { config } = setup();
    const server = await startServer(config);
    const s = ok(await login(config));
    const pid = server.sessions[0]!.pid;
    cleanup.pid(pid);
    await socketRequest(socketOf(config, s), `/session/alice/${s.key}/crash`);
    await waitFor(() => !alive(pid));
    await waitFor(() => server.sessions.length === 0 && !existsSync(socketOf(config, s)));
  });

  it('survives SIGKILL of the session server: sessions keep serving and are re-adopted; stale sockets go', async () => {
    const { dir, config } = setup();
    const yaml = join(dir, 'vesper.yaml');
    writeFileSync(
      yaml,
      [
        'paths: { var: var }',
        'log: { level: silent }',
        `session: { socket_dir: ${JSON.stringify(config.session.socket_dir)}, app: ${JSON.stringify(config.session.app)}, spares: 1 }`,
        `accountd: { listen: ${JSON.stringify(join(dir, 'no-accountd.sock'))} }`,
      ].join('\n'),
    );
    const cli = (): ChildProcess => {
      const child = spawn(
        process.execPath,
        [join(ROOT, 'dist/src/cli/main.js'), 'session-server', '--config', yaml],
        {
          cwd: dir,
          stdio: 'ignore',
        },
      );
      cleanup.pid(child.pid!);
      return child;
    };
    const first = cli();
    const init = join(config.session.socket_dir, 'init.sock');
    await waitFor(
      async () => (await initRequest(init, { op: 'status' }).catch(() => null))?.ok === true,
      15_000,
    );
    await waitFor(async () => {
      const st = await initRequest(init, { op: 'status' });
      return 'spares' in st && st.spares === 1;
    }, 15_000);
    // Identity logins need no accountd.
    const identity = {
      password: undefined,
      identity: { issuer: 'https://id.example', subject: 's' },
    };
    const a = ok(await login(config, 'alice', identity));
    const b = ok(await login(config, 'bob', identity));
    const before = await initRequest(init, { op: 'status' });
    if (!('sessions' in before)) throw new Error('no status');
    for (const s of before.sessions) cleanup.pid(s.pid);
    expect(before.sessions.map((s) => s.session).sort()).toEqual([1, 2]);
    await socketRequest(socketOf(config, a), `/session/alice/${a.key}/count`);

    first.kill('SIGKILL');
    await new Promise((r) => first.once('exit', r));
    // Sessions keep serving, state intact.
    const c = await socketRequest(socketOf(config, a), `/session/alice/${a.key}/count`);
    expect(c.body).toBe('2');
    expect((await socketRequest(socketOf(config, b), b.url)).status).toBe(200);
    // A session that dies while no server runs leaves its socket behind.
    const pb = before.sessions.find((s) => s.user === 'bob')!.pid;
    process.kill(pb, 'SIGKILL');
    await waitFor(() => !alive(pb));
    expect(existsSync(socketOf(config, b))).toBe(true);

    cli();
    await waitFor(
      async () => (await initRequest(init, { op: 'status' }).catch(() => null))?.ok === true,
      15_000,
    );
    const after = await initRequest(init, { op: 'status' });
    if (!('sessions' in after)) throw new Error('no status');
    expect(after.sessions.map((s) => [s.user, s.session])).toEqual([['alice', 1]]);
    expect(existsSync(socketOf(config, b))).toBe(false);
    // Numbers go on from the last one given, even though session 2 has ended.
    const d = ok(await login(config, 'carol', identity));
    expect(d.session).toBe(3);
    const all = await initRequest(init, { op: 'status' });
    if ('sessions' in all) for (const s of all.sessions) cleanup.pid(s.pid);
    expect(readdirSync(config.session.socket_dir).filter((n) => n.startsWith('s-'))).toHaveLength(
      2,
    );
    // The adopted session is still reaped when it crashes.
    await socketRequest(socketOf(config, a), `/session/alice/${a.key}/crash`);
    await waitFor(() => !existsSync(socketOf(config, a)), 5_000);
    await waitFor(async () => {
      const st = await initRequest(init, { op: 'status' });
      return 'sessions' in st && st.sessions.length === 1;
    });
  });
});
