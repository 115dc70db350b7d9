/**
 * The built `vesper start` when things go wrong or are stopped by a signal:
 * a worker's fatal exit code 2, SIGTERM with a request in flight, a second
 * master on the same var/, and `--foreground`. Uses the test worker of
 * master-helpers.ts, no accountd and no session server.
 * Build first: `npx tsc -p tsconfig.build.json`.
 */
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
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

interface StatusJson {
  master: { pid: number; workers: { pid: number; state: string; restarts: number }[] };
}

describe('vesper start under faults and signals (built program)', () => {
  let root = '';
  let workerFile = '';
  const runs: Started[] = [];
  const pids = new Set<number>();

  /** A fresh directory with a configuration on a free port; returns its paths. */
  async function setup(
    name: string,
    extra: string[] = [],
  ): Promise<{ dir: string; file: string; port: number }> {
    const dir = join(root, name);
    const port = await freePort();
    const file = join(root, `${name}.yaml`);
    writeFileSync(
      file,
      [
        `paths: { var: ${dir}/var }`,
        'frontend:',
        `  listen: [{ port: ${port} }]`,
        '  min_servers: 2',
        '  min_spare: 0',
        '  max_servers: 3',
        '  timeout: { drain: 5s }',
        ...extra.map((line) => `  ${line}`),
        'session: { external: true }',
        "accountd: { server: 'unix:/nonexistent/accountd.sock' }",
      ].join('\n'),
    );
    return { dir, file, port };
  }

  async function start(file: string, extra: string[] = []): Promise<Started> {
    const run = startVesper(
      ['start', '--config', file, '--worker-module', workerFile, ...extra],
      root,
    );
    runs.push(run);
    pids.add(run.child.pid!);
    await until('the banner', 20_000, () =>
      run.output().includes('Vesper listening on') ? true : undefined,
    );
    return run;
  }

  async function status(file: string): Promise<StatusJson> {
    const result = await vesper(['status', '--json', '--config', file], root);
    expect(result.status).toBe(0);
    const parsed = JSON.parse(result.stdout) as StatusJson;
    for (const w of parsed.master.workers) pids.add(w.pid);
    return parsed;
  }

  beforeAll(() => {
    requireBuild();
    root = mkdtempSync(join(tmpdir(), 'vesper-e2e-master-faults-'));
    workerFile = join(root, 'test-worker.mjs');
    writeTestWorker(workerFile);
  });

  afterEach(() => {
    for (const run of runs.splice(0)) killQuietly(run.child.pid);
    for (const pid of pids) killQuietly(pid);
    pids.clear();
  });

  afterAll(() => {
    killProcessesIn(root);
    rmSync(root, { recursive: true, force: true });
  });

  it('does not respawn a worker that exits with the fatal code 2', async () => {
    const { file, port } = await setup('fatal');
    const run = await start(file);
    const before = await status(file);
    expect(before.master.workers).toHaveLength(2);
    await get(port, '/exit?code=2').catch(() => undefined);
    await until('the fatal exit in the log', 5000, () =>
      /Worker (\d+) exited with fatal code 2 and will not be respawned/.test(run.output())
        ? true
        : undefined,
    );
    // Two policy periods: a respawn would have happened by now.
    await new Promise((r) => setTimeout(r, 2100));
    const after = await status(file);
    expect(after.master.workers).toHaveLength(1);
    expect(before.master.workers.map((w) => w.pid)).toContain(after.master.workers[0]!.pid);
    expect((await get(port, '/')).status).toBe(200);
  });

  it('stops when the last worker exits with code 2: exit 1 and the reason in the log', async () => {
    const { file, port } = await setup('all-fatal');
    const run = await start(file);
    await get(port, '/exit?code=2').catch(() => undefined);
    await until('one fatal exit', 5000, () =>
      run.output().includes('exited with fatal code 2') ? true : undefined,
    );
    await get(port, '/exit?code=2').catch(() => undefined);
    expect(await run.exited).toBe(1);
    expect(run.output()).toContain(
      'No worker can run with this configuration (fatal exit code 2); stopping',
    );
  });

  it('drains a request in flight on SIGTERM, then exits 0 with every worker gone', async () => {
    const { dir, file, port } = await setup('term');
    const run = await start(file);
    const { master } = await status(file);
    const slow = get(port, '/slow?ms=1000');
    await new Promise((r) => setTimeout(r, 200));
    run.child.kill('SIGTERM');
    const answer = await slow;
    expect(answer.status).toBe(200);
    expect(await run.exited).toBe(0);
    for (const w of master.workers) expect(alive(w.pid)).toBe(false);
    expect(existsSync(join(dir, 'var', 'vesper.pid'))).toBe(false);
    await expect(get(port, '/')).rejects.toMatchObject({ code: 'ECONNREFUSED' });
  });

  it('replaces workers at max_connections_per_child without refusing a connection, even when all retire at once', async () => {
    const { file, port } = await setup('retire', ['max_connections_per_child: 3']);
    const run = await start(file);
    const before = await status(file);
    const bodies: string[] = [];
    // Round robin: both workers reach 3 connections together; neither may stop
    // accepting before a replacement listens.
    for (let i = 0; i < 12; i++) {
      const answer = await get(port, '/');
      expect(answer.status).toBe(200);
      bodies.push(answer.body);
    }
    const old = before.master.workers.map((w) => w.pid);
    await until('both first workers gone', 10_000, async () => {
      const s = await status(file);
      return s.master.workers.every((w) => !old.includes(w.pid)) ? true : undefined;
    });
    for (const pid of old) {
      expect(run.output()).toContain(
        `Worker ${pid} served its max_connections_per_child and is retiring`,
      );
    }
    expect((await get(port, '/')).status).toBe(200);
  });

  it('replaces a first worker that crashes before listening, and then starts', async () => {
    const { dir, file, port } = await setup('crash-at-start');
    mkdirSync(join(dir, 'var'), { recursive: true, mode: 0o700 });
    writeFileSync(join(dir, 'var', 'crash-next-start'), '');
    const run = await start(file);
    expect(run.output()).toMatch(/Worker \d+ exited with code 1; it will be replaced/);
    const { master } = await status(file);
    expect(master.workers.map((w) => w.state)).toEqual(['listening', 'listening']);
    expect(master.workers.map((w) => w.restarts).sort()).toEqual([0, 1]);
    expect((await get(port, '/')).status).toBe(200);
  });

  it('starts with the workers that can run when one of the first exits with code 2', async () => {
    const { dir, file, port } = await setup('fatal-at-start');
    mkdirSync(join(dir, 'var'), { recursive: true, mode: 0o700 });
    writeFileSync(join(dir, 'var', 'fatal-next-start'), '');
    const run = await start(file);
    expect(run.output()).toMatch(/Worker \d+ exited with fatal code 2 and will not be respawned/);
    expect((await status(file)).master.workers.map((w) => w.state)).toEqual(['listening']);
    expect((await get(port, '/')).status).toBe(200);
  });

  it('refuses to start a second master on the same var directory', async () => {
    const { file } = await setup('twice');
    const first = await start(file);
    const second = await vesper(['start', '--config', file, '--worker-module', workerFile], root);
    expect(second.status).toBe(1);
    expect(second.stderr).toContain(
      `vesper start: Vesper is already running with pid ${first.child.pid}`,
    );
    expect((await status(file)).master.pid).toBe(first.child.pid);
  });

  it('runs one worker in its own process with --foreground and stops on SIGTERM', async () => {
    const { file, port } = await setup('foreground');
    const run = await start(file, ['--foreground']);
    const answer = await get(port, '/');
    expect(answer.body).toBe(`gen 1 pid ${run.child.pid}`);
    const s = await status(file);
    expect(s.master.workers).toEqual([
      expect.objectContaining({ pid: run.child.pid, state: 'listening' }),
    ]);
    run.child.kill('SIGTERM');
    expect(await run.exited).toBe(0);
  });
});
