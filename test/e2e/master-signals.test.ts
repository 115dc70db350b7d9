/**
 * SIGINT (fast stop) and SIGUSR1 (reopen the log file) on the built master,
 * with the test worker of master-helpers.ts. Build first:
 * `npx tsc -p tsconfig.build.json`.
 */
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  renameSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
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

describe('SIGINT and SIGUSR1 on the built master', () => {
  let root = '';
  let worker = '';
  const runs: Started[] = [];
  const pids = new Set<number>();

  async function start(
    name: string,
    extra: string[] = [],
  ): Promise<{ run: Started; file: string; dir: string; port: number }> {
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
        '  timeout: { drain: 10s }',
        'session: { external: true }',
        "accountd: { server: 'unix:/nonexistent/accountd.sock' }",
        ...extra,
      ].join('\n'),
    );
    const run = startVesper(['start', '--config', file, '--worker-module', worker], root);
    runs.push(run);
    pids.add(run.child.pid!);
    await until('the banner', 20_000, () =>
      run.output().includes('Vesper listening on') ? true : undefined,
    );
    const status = await vesper(['status', '--json', '--config', file], root);
    for (const w of (JSON.parse(status.stdout) as { master: { workers: { pid: number }[] } }).master
      .workers)
      pids.add(w.pid);
    return { run, file, dir, port };
  }

  beforeAll(() => {
    requireBuild();
    root = mkdtempSync(join(tmpdir(), 'vesper-e2e-master-signals-'));
    worker = join(root, 'test-worker.mjs');
    writeTestWorker(worker);
  });

  afterEach(() => {
    for (const run of runs.splice(0)) killQuietly(run.child.pid);
    for (const pid of pids) killQuietly(pid);
  });

  afterAll(() => {
    killProcessesIn(root);
    rmSync(root, { recursive: true, force: true });
  });

  it('stops at once on SIGINT without waiting for requests in flight, and exits 0', async () => {
    const { run, dir, port } = await start('int');
    const workers = [...pids].filter((p) => p !== run.child.pid);
    const slow = get(port, '/slow?ms=8000').then(
      () => 'answered',
      () => 'cut',
    );
    await new Promise((r) => setTimeout(r, 200));
    const sentAt = Date.now();
    run.child.kill('SIGINT');
    expect(await run.exited).toBe(0);
    expect(Date.now() - sentAt).toBeLessThan(4000);
    expect(await slow).toBe('cut');
    for (const pid of workers) expect(alive(pid)).toBe(false);
    expect(existsSync(join(dir, 'var', 'vesper.pid'))).toBe(false);
    expect(run.output()).toContain('Stopping fast (SIGINT)');
  });

  it('never signals a live process that a stale pid file names, and starts over it', async () => {
    const dir = join(root, 'stale');
    mkdirSync(join(dir, 'var'), { recursive: true, mode: 0o700 });
    const file = join(root, 'stale.yaml');
    writeFileSync(file, `paths: { var: ${dir}/var }\n`);
    // This test process stands for an unrelated process that reused the pid.
    writeFileSync(join(dir, 'var', 'vesper.pid'), `${process.pid}\n`);
    for (const command of ['stop', 'reload', 'status']) {
      const result = await vesper([command, '--config', file], root);
      expect(result.status).toBe(1);
      expect(result.stderr).toContain(
        `the pid file ${join(dir, 'var', 'vesper.pid')} names process ${process.pid}, which does not answer`,
      );
    }
    const { run } = await start('stale');
    expect(readFileSync(join(dir, 'var', 'vesper.pid'), 'utf8')).toBe(`${run.child.pid}\n`);
    expect(run.output()).toContain(
      `The pid file names process ${process.pid}, which is not a Vesper master; replacing it`,
    );
  });

  it('reopens the log file on SIGUSR1, so rotation by renaming works', async () => {
    const { run, dir } = await start('usr1', ['log: { file: vesper.log }']);
    const log = join(dir, 'var', 'vesper.log');
    await until('the log file', 5000, () =>
      existsSync(log) &&
      readFileSync(log, 'utf8').includes('Vesper is running: 2 workers of generation 1 listen')
        ? true
        : undefined,
    );
    renameSync(log, `${log}.1`);
    run.child.kill('SIGUSR1');
    await until('the new log file', 5000, () =>
      existsSync(log) && readFileSync(log, 'utf8').includes('Reopened the log file (SIGUSR1)')
        ? true
        : undefined,
    );
    expect(readFileSync(`${log}.1`, 'utf8')).not.toContain('Reopened the log file');
    // The banner still goes to standard output, not to the log.
    expect(run.output()).toContain('Vesper listening on');
    run.child.kill('SIGTERM');
    expect(await run.exited).toBe(0);
  });
});
