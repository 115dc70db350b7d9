/**
 * The built `vesper start` as `npm start` runs it, with the real frontend
 * worker, the real session server and the real accountd: a plain and a TLS
 * listener (the self-signed pair made on first start), recycling at
 * max_connections_per_child, the scoreboard with
 * sessions, the session server restarted after SIGKILL, a reload, and a
 * clean stop. Build first: `npx tsc -p tsconfig.build.json`.
 */
import { X509Certificate } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { request } from 'node:https';
import { tmpdir } from 'node:os';
import type { TLSSocket } from 'node:tls';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  alive,
  freePort,
  get,
  killProcessesIn,
  killQuietly,
  processesIn,
  requireBuild,
  startVesper,
  until,
  vesper,
  type Started,
} from './master-helpers.js';

interface StatusJson {
  sessions: { ok: boolean; sessions?: unknown[]; spares?: number };
  master: {
    generation: number;
    workers: { pid: number; generation: number; state: string }[];
    services: { name: string; pid: number | null; state: string; restarts: number }[];
  };
}

/** GET `/` over TLS, accepting the self-signed certificate; resolves to the status and the peer certificate. */
function getTls(port: number): Promise<{ status: number; cert: Buffer }> {
  return new Promise((resolve, reject) => {
    const req = request(
      { host: '127.0.0.1', port, path: '/', agent: false, rejectUnauthorized: false },
      (res) => {
        const cert = (res.socket as TLSSocket).getPeerCertificate().raw;
        res.resume();
        res.on('end', () => resolve({ status: res.statusCode ?? 0, cert }));
      },
    );
    req.on('error', reject);
    req.end();
  });
}

describe('vesper start with the real frontend worker (built program)', () => {
  let dir = '';
  let file = '';
  let plain = 0;
  let tls = 0;
  let run: Started | undefined;
  const pids = new Set<number>();

  async function status(): Promise<StatusJson> {
    const result = await vesper(['status', '--json', '--config', file], dir);
    expect(result.status).toBe(0);
    const parsed = JSON.parse(result.stdout) as StatusJson;
    for (const w of parsed.master.workers) pids.add(w.pid);
    for (const s of parsed.master.services) if (s.pid !== null) pids.add(s.pid);
    return parsed;
  }

  beforeAll(async () => {
    requireBuild();
    dir = mkdtempSync(join(tmpdir(), 'vesper-e2e-master-real-'));
    plain = await freePort();
    tls = await freePort();
    file = join(dir, 'vesper.yaml');
    writeFileSync(
      file,
      [
        'paths: { var: var }',
        'log: { level: info }',
        'frontend:',
        `  listen: [{ port: ${plain} }, { port: ${tls}, tls: true }]`,
        '  min_servers: 2',
        '  min_spare: 0',
        '  max_servers: 3',
        '  max_connections_per_child: 4',
        '  timeout: { drain: 3s }',
        'session: { spares: 1 }',
      ].join('\n'),
    );
  });

  afterAll(() => {
    killQuietly(run?.child.pid);
    for (const pid of pids) killQuietly(pid);
    killProcessesIn(dir);
    rmSync(dir, { recursive: true, force: true });
  });

  it('makes a self-signed pair on first start and serves the login page on both listeners', async () => {
    run = startVesper(['start', '--config', file], dir);
    pids.add(run.child.pid!);
    await until('the banner', 30_000, () =>
      run!.output().includes('Vesper listening on') ? true : undefined,
    );
    expect(run.output()).toContain(
      `Vesper listening on http://127.0.0.1:${plain}/ and https://127.0.0.1:${tls}/\n`,
    );
    expect(run.output()).not.toContain('Demo accounts');
    const certFile = join(dir, 'var', 'tls', 'cert.pem');
    expect(statSync(join(dir, 'var', 'tls', 'key.pem')).mode & 0o777).toBe(0o600);
    expect(statSync(join(dir, 'var')).mode & 0o777).toBe(0o700);
    expect((await get(plain, '/')).status).toBe(200);
    const secure = await getTls(tls);
    expect(secure.status).toBe(200);
    expect(new X509Certificate(secure.cert).fingerprint256).toBe(
      new X509Certificate(readFileSync(certFile)).fingerprint256,
    );
  });

  it('replaces workers at max_connections_per_child without failing a request', async () => {
    const before = await status();
    // Round robin: 12 connections make both workers reach 4 (jitter adds none below 10).
    for (let i = 0; i < 12; i++) expect((await get(plain, '/')).status).toBe(200);
    await until('the first workers replaced', 10_000, async () => {
      const s = await status();
      return s.master.workers.every((w) => !before.master.workers.some((b) => b.pid === w.pid))
        ? true
        : undefined;
    });
    for (const w of before.master.workers) {
      expect(run!.output()).toContain(
        `Worker ${w.pid} served its max_connections_per_child and is retiring`,
      );
    }
    expect((await get(plain, '/')).status).toBe(200);
  });

  it('shows the session server and its sessions in status, and restarts it after SIGKILL', async () => {
    const before = await status();
    expect(before.master.services.map((x) => [x.name, x.state])).toEqual([
      ['accountd', 'running'],
      ['session-server', 'running'],
    ]);
    expect(before.sessions).toMatchObject({ ok: true, sessions: [] });
    const human = await vesper(['status', '--config', file], dir);
    expect(human.stdout).toMatch(/\nSessions: none \(\d+ spare processes\)\n$/);
    const victim = before.master.services[1]!;
    process.kill(victim.pid!, 'SIGKILL');
    const after = await until('a new session server answering', 15_000, async () => {
      const s = await status();
      const server = s.master.services[1]!;
      return server.pid !== victim.pid && server.state === 'running' && s.sessions.ok
        ? server
        : undefined;
    });
    expect(after.restarts).toBe(1);
    expect(run!.output()).toContain(
      `session-server ${victim.pid} was killed by SIGKILL; restarting it`,
    );
  });

  it('reloads to a new generation and stops cleanly with every child gone', async () => {
    process.kill(run!.child.pid!, 'SIGHUP');
    await until('generation 2 alone', 15_000, async () => {
      const s = await status();
      return s.master.generation === 2 && s.master.workers.every((w) => w.generation === 2)
        ? true
        : undefined;
    });
    expect((await get(plain, '/')).status).toBe(200);
    const last = await status();
    const children = [
      ...last.master.workers.map((w) => w.pid),
      ...last.master.services.map((s) => s.pid!),
    ];
    const stop = await vesper(['stop', '--config', file], dir);
    expect(stop.status).toBe(0);
    expect(await run!.exited).toBe(0);
    for (const pid of children) expect(alive(pid)).toBe(false);
    // Nothing else either: the session server stopped its spare processes.
    await until('no process left', 5000, () => (processesIn(dir).length === 0 ? true : undefined));
  });
});
