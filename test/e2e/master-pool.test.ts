/**
 * The pool policy of the built master with the test worker: it grows while
 * every worker is busy, never beyond `frontend.max_servers`, and retires
 * spare workers once the load is gone. Build first:
 * `npx tsc -p tsconfig.build.json`.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
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
  master: { workers: { pid: number; state: string }[] };
}

describe('the pool policy of the built master', () => {
  let dir = '';
  let file = '';
  let port = 0;
  let run: Started | undefined;
  const pids = new Set<number>();

  async function workers(): Promise<StatusJson['master']['workers']> {
    const result = await vesper(['status', '--json', '--config', file], dir);
    expect(result.status).toBe(0);
    const { master } = JSON.parse(result.stdout) as StatusJson;
    for (const w of master.workers) pids.add(w.pid);
    return master.workers;
  }

  beforeAll(async () => {
    requireBuild();
    dir = mkdtempSync(join(tmpdir(), 'vesper-e2e-master-pool-'));
    port = await freePort();
    file = join(dir, 'vesper.yaml');
    const worker = join(dir, 'test-worker.mjs');
    writeTestWorker(worker);
    writeFileSync(
      file,
      [
        'paths: { var: var }',
        'frontend:',
        `  listen: [{ port: ${port} }]`,
        '  min_servers: 1',
        '  min_spare: 1',
        '  max_servers: 3',
        '  timeout: { drain: 2s }',
        'session: { external: true }',
        "accountd: { server: 'unix:/nonexistent/accountd.sock' }",
      ].join('\n'),
    );
    run = startVesper(['start', '--config', file, '--worker-module', worker], dir);
    pids.add(run.child.pid!);
    await until('the banner', 20_000, () =>
      run!.output().includes('Vesper listening on') ? true : undefined,
    );
  });

  afterAll(() => {
    killQuietly(run?.child.pid);
    for (const pid of pids) killQuietly(pid);
    killProcessesIn(dir);
    rmSync(dir, { recursive: true, force: true });
  });

  it('grows while every worker is busy, up to max_servers, then retires the spares', async () => {
    expect(await workers()).toHaveLength(1);
    // Keep every worker busy: a long request to each new connection, for 5 s.
    const busy: Promise<unknown>[] = [];
    let most = 0;
    const end = Date.now() + 5000;
    while (Date.now() < end) {
      busy.push(get(port, '/slow?ms=2500'));
      most = Math.max(most, (await workers()).length);
      await new Promise((r) => setTimeout(r, 150));
    }
    expect(most).toBe(3);
    expect(run!.output()).toContain('Short of spare workers: starting 1 more');
    await Promise.all(busy);
    // Idle now: 3 spares are more than 2 × min_spare, so one is retired.
    await until('one spare retired', 8000, async () =>
      (await workers()).length === 2 ? true : undefined,
    );
    expect(run!.output()).toMatch(/Retiring spare worker \d+/);
    expect((await get(port, '/')).status).toBe(200);
  });
});
