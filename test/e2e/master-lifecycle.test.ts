/**
 * The built `vesper start|status|reload|stop` against a temporary
 * configuration (free port, temporary var/, the real accountd child, the
 * session server external) and the tiny test worker of master-helpers.ts.
 * Build first: `npx tsc -p tsconfig.build.json`.
 */
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  alive,
  freePort,
  get,
  killProcessesIn,
  killQuietly,
  requireBuild,
  startVesper,
  until,
  vesper,
  writeTestWorker,
  type Started,
} from './master-helpers.js';

/** The `time` of the first JSON log line whose `msg` is `msg`. */
function logTime(output: string, msg: string): number {
  for (const line of output.split('\n')) {
    if (!line.startsWith('{')) continue;
    const entry = JSON.parse(line) as { time: number; msg: string };
    if (entry.msg === msg) return entry.time;
  }
  throw new Error(`no log line '${msg}'`);
}

interface StatusJson {
  master: {
    pid: number;
    phase: string;
    generation: number;
    workers: { pid: number; slot: number; generation: number; state: string; restarts: number }[];
    services: { name: string; pid: number | null; state: string; restarts: number }[];
  };
  sessions: { ok: boolean };
}

describe('vesper start, status, reload and stop (built program)', () => {
  let dir = '';
  let port = 0;
  let configFile = '';
  let ctlFile = '';
  let workerFile = '';
  let run: Started | undefined;
  const seen = new Set<number>();

  const config = (extra = ''): string =>
    [
      'paths: { var: var }',
      'log: { level: debug }',
      'frontend:',
      `  listen: [{ port: ${port} }]`,
      '  min_servers: 2',
      '  min_spare: 0',
      '  max_servers: 4',
      '  timeout: { drain: 3s }',
      'session: { external: true }',
      'accountd: { demo_users: true }',
      extra,
    ].join('\n');

  const args = (): string[] => ['--config', configFile];

  async function status(): Promise<StatusJson> {
    // A file of its own: the served one is made invalid on purpose below.
    const result = await vesper(['status', '--json', '--config', ctlFile], dir);
    expect(result.stderr).toBe('');
    expect(result.status).toBe(0);
    const parsed = JSON.parse(result.stdout) as StatusJson;
    for (const w of parsed.master.workers) seen.add(w.pid);
    for (const s of parsed.master.services) if (s.pid !== null) seen.add(s.pid);
    return parsed;
  }

  beforeAll(async () => {
    requireBuild();
    dir = mkdtempSync(join(tmpdir(), 'vesper-e2e-master-'));
    port = await freePort();
    configFile = join(dir, 'vesper.yaml');
    workerFile = join(dir, 'test-worker.mjs');
    writeTestWorker(workerFile);
    writeFileSync(configFile, config());
    ctlFile = join(dir, 'ctl.yaml');
    writeFileSync(ctlFile, config());
  });

  afterAll(() => {
    if (run?.child.pid !== undefined) killQuietly(run.child.pid);
    for (const pid of seen) killQuietly(pid);
    killProcessesIn(dir);
    rmSync(dir, { recursive: true, force: true });
  });

  it('starts, writes the pid file and prints where it listens and the demo accounts', async () => {
    run = startVesper(['start', ...args(), '--worker-module', workerFile], dir);
    seen.add(run.child.pid!);
    await until('the banner', 20_000, () =>
      run!.output().includes('Vesper listening on') ? true : undefined,
    );
    expect(run.output()).toContain(`Vesper listening on http://127.0.0.1:${port}/\n`);
    expect(run.output()).toContain(
      'Demo accounts (accountd.demo_users is on; never in production): alice and bob, password vesper-demo-1\n',
    );
    expect(readFileSync(join(dir, 'var', 'vesper.pid'), 'utf8')).toBe(`${run.child.pid}\n`);
    const answer = await get(port, '/');
    expect(answer.status).toBe(200);
    expect(answer.body).toMatch(/^gen 1 pid \d+$/);
  });

  it('shows each worker and the accountd child in status', async () => {
    const s = await status();
    expect(s.master.pid).toBe(run!.child.pid);
    expect(s.master.phase).toBe('running');
    expect(s.master.generation).toBe(1);
    expect(s.master.workers.map((w) => [w.slot, w.generation, w.state])).toEqual([
      [0, 1, 'listening'],
      [1, 1, 'listening'],
    ]);
    expect(s.master.services).toEqual([
      expect.objectContaining({ name: 'accountd', state: 'running' }),
    ]);
    expect(alive(s.master.services[0]!.pid!)).toBe(true);
    expect(s.sessions.ok).toBe(false);
    const human = await vesper(['status', ...args()], dir);
    expect(human.status).toBe(0);
    expect(human.stdout).toMatch(/^Vesper master \d+: running, generation 1, up \d+s\n/);
    expect(human.stdout).toContain('SLOT  PID');
    expect(human.stdout).toMatch(/\naccountd +\d+ +running +0 /);
  });

  it('replaces a worker killed with SIGKILL within a second', async () => {
    const before = await status();
    const victim = before.master.workers[0]!;
    const killedAt = Date.now();
    process.kill(victim.pid, 'SIGKILL');
    const after = await until('a replacement worker', 5000, async () => {
      const s = await status();
      const w = s.master.workers;
      return w.length === 2 &&
        !w.some((x) => x.pid === victim.pid) &&
        w.every((x) => x.state === 'listening')
        ? s
        : undefined;
    });
    const replacement = after.master.workers.find((w) => w.slot === victim.slot)!;
    expect(replacement.restarts).toBe(1);
    expect(run!.output()).toContain(
      `Worker ${victim.pid} was killed by SIGKILL; it will be replaced`,
    );
    // The master's own timestamps, free of the polling's delay.
    const listensAt = logTime(run!.output(), `Worker ${replacement.pid} of generation 1 listens`);
    expect(listensAt - killedAt).toBeLessThan(1000);
    expect((await get(port, '/')).status).toBe(200);
  });

  it('keeps running and logs why when SIGHUP finds an invalid configuration', async () => {
    const before = await status();
    writeFileSync(configFile, config('bogus_key: 1'));
    // vesper reload checks the file first and refuses to signal with an invalid one…
    const reload = await vesper(['reload', ...args()], dir);
    expect(reload.status).toBe(2);
    expect(reload.stderr).toContain('vesper.yaml:11: bogus_key: unknown key');
    expect(run!.output()).not.toContain('Reload refused');
    // …and the master itself keeps running when signalled anyway.
    process.kill(run!.child.pid!, 'SIGHUP');
    await until('the refusal in the log', 5000, () =>
      run!.output().includes('Reload refused, generation 1 keeps running') ? true : undefined,
    );
    expect(run!.output()).toContain('vesper.yaml:11: bogus_key: unknown key');
    const after = await status();
    expect(after.master.generation).toBe(1);
    expect(after.master.workers.map((w) => w.pid)).toEqual(before.master.workers.map((w) => w.pid));
    expect((await get(port, '/')).status).toBe(200);
  });

  it('starts a new generation on SIGHUP with a valid configuration and drains the old one without failing a request', async () => {
    writeFileSync(configFile, config());
    const before = await status();
    const slow = get(port, '/slow?ms=1200');
    await new Promise((r) => setTimeout(r, 100));
    const reload = await vesper(['reload', ...args()], dir);
    expect(reload.stdout).toBe(
      `Asked Vesper (pid ${run!.child.pid}) to reload; its log says how it went\n`,
    );
    expect(reload.status).toBe(0);
    const after = await until('generation 2 alone', 8000, async () => {
      const s = await status();
      return s.master.generation === 2 && s.master.workers.every((w) => w.generation === 2)
        ? s
        : undefined;
    });
    expect(after.master.workers).toHaveLength(2);
    const answer = await slow;
    expect(answer.status).toBe(200);
    expect(answer.body).toMatch(/^gen 1 pid \d+$/);
    expect((await get(port, '/')).body).toMatch(/^gen 2 pid \d+$/);
    for (const w of before.master.workers) expect(alive(w.pid)).toBe(false);
  });

  it('restarts accountd when it is killed', async () => {
    const before = (await status()).master.services[0]!;
    process.kill(before.pid!, 'SIGKILL');
    const after = await until('a new accountd', 5000, async () => {
      const s = (await status()).master.services[0]!;
      return s.pid !== null && s.pid !== before.pid && s.state === 'running' ? s : undefined;
    });
    expect(after).toMatchObject({ name: 'accountd', restarts: 1 });
    expect(run!.output()).toContain(`accountd ${before.pid} was killed by SIGKILL; restarting it`);
  });

  it('stops on vesper stop: exit 0, every child gone, the pid file removed', async () => {
    const s = await status();
    const children = [
      ...s.master.workers.map((w) => w.pid),
      ...s.master.services.map((x) => x.pid!),
    ];
    const stop = await vesper(['stop', ...args()], dir);
    expect(stop.stderr).toBe('');
    expect(stop.stdout).toBe(`Vesper (pid ${run!.child.pid}) stopped\n`);
    expect(stop.status).toBe(0);
    expect(await run!.exited).toBe(0);
    for (const pid of children) expect(alive(pid)).toBe(false);
    expect(existsSync(join(dir, 'var', 'vesper.pid'))).toBe(false);
    expect(existsSync(join(dir, 'var', 'master.sock'))).toBe(false);
    const again = await vesper(['status', ...args()], dir);
    expect(again.status).toBe(1);
    expect(again.stderr).toContain('Vesper is not running');
  });
});
