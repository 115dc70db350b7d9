import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { initRequest } from '../../../src/session/init-protocol/index.js';
import { alive, ensureSessionBuilt, socketRequest, waitFor } from '../helpers.js';
import {
  cleanup,
  cliServer,
  identity,
  login,
  ok,
  serving,
  setup,
  socketOf,
  startServer,
} from './server-helpers.js';

beforeAll(() => ensureSessionBuilt(), 180_000);
afterEach(() => cleanup.run());

describe('Session lifecycle through the session server', () => {
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

  it('vesper session-server: SIGTERM closes the init socket and exits 0, leaving sessions running', async () => {
    const { dir, config } = setup();
    const server = cliServer(dir, config)();
    const init = join(config.session.socket_dir, 'init.sock');
    await serving(init);
    const a = ok(await login(config, 'alice', identity));
    const exited = new Promise<number | null>((r) => server.once('exit', (code) => r(code)));
    server.kill('SIGTERM');
    expect(await exited).toBe(0);
    expect(existsSync(init)).toBe(false);
    const page = await socketRequest(socketOf(config, a), a.url);
    expect(page.status).toBe(200);
  });

  it('survives SIGKILL of the session server: sessions keep serving and are re-adopted; stale sockets go', async () => {
    const { dir, config } = setup();
    const cli = cliServer(dir, config);
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
