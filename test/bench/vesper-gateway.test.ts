/**
 * Tests of the gateway runner's pieces that need no running gateway: the
 * configuration it writes is valid and says what the benchmark promises, the
 * bench accounts it makes log in at their cheap cost, and the /proc walks
 * find a process tree and the processes running in a directory.
 */
import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import {
  BENCH_SCRYPT,
  createBenchAccounts,
  descendants,
  gatewayConfig,
  isAlive,
  processesIn,
} from '../../bench/lib/vesper-gateway.js';
import { openAccountStore } from '../../src/accountd/index.js';
import { loadConfig, loadConfigText } from '../../src/shared/config/index.js';

describe('the gateway runner', () => {
  const dir = mkdtempSync(join(tmpdir(), 'vesper-test-gw-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('writes a valid configuration with fixed workers, a private var/ and one loopback listener', () => {
    const file = join(dir, 'vesper.yaml');
    writeFileSync(file, gatewayConfig({ workers: 3, sessionExternal: true }, dir, 18080));
    const config = loadConfig({
      file,
      options: ['session.app=/opt/app.js', 'frontend.max_requests_per_connection=1000'],
      cwd: dir,
    });
    expect(config.paths.var).toBe(join(dir, 'var'));
    expect(config.frontend.listen).toEqual([{ port: 18080, host: '127.0.0.1', tls: false }]);
    expect([config.frontend.min_servers, config.frontend.max_servers]).toEqual([3, 3]);
    expect(config.frontend.min_spare).toBe(0);
    expect(config.frontend.max_requests_per_connection).toBe(1000);
    expect(config.log).toMatchObject({ level: 'warn', access: false });
    expect(config.session.external).toBe(true);
    expect(config.session.app).toBe('/opt/app.js');
    expect(config.accountd.demo_users).toBe(true);
  });

  it('makes bench accounts that log in with their password, hashed at the cheap bench cost', async () => {
    const home = join(dir, 'accounts-test');
    mkdirSync(home);
    const text = gatewayConfig({}, home, 18081);
    await createBenchAccounts(text, home, ['bench0', 'bench1'], 'bench-pw-1');
    const store = await openAccountStore(loadConfigText(text, { cwd: home }));
    expect(await store.authenticate('bench1', 'bench-pw-1')).toBe(true);
    expect(await store.authenticate('bench1', 'bench-pw-2')).toBe(false);
    const records = join(home, 'var', 'accounts');
    const files = readdirSync(records).filter((f) => !f.startsWith('.'));
    expect(files).toHaveLength(2);
    for (const f of files) {
      const record = JSON.parse(readFileSync(join(records, f), 'utf8')) as {
        password: { N: number; r: number };
      };
      expect(record.password).toMatchObject({ N: BENCH_SCRYPT.N, r: BENCH_SCRYPT.r });
    }
    await expect(createBenchAccounts(text, home, ['bench0'], 'bench-pw-1')).rejects.toMatchObject({
      code: 'VESPER_ACCOUNTD_USER_EXISTS',
    });
  });

  it('finds the processes running in a directory and under it, and no others', async () => {
    const inside = join(dir, 'cwd-test', 'var');
    mkdirSync(inside, { recursive: true });
    const child = spawn('sleep', ['30'], { cwd: inside, stdio: 'ignore' });
    const outside = spawn('sleep', ['30'], { cwd: tmpdir(), stdio: 'ignore' });
    try {
      const found = processesIn(join(dir, 'cwd-test'));
      expect(found).toEqual([child.pid]);
      expect(processesIn(join(dir, 'cwd'))).toEqual([]);
    } finally {
      child.kill('SIGKILL');
      outside.kill('SIGKILL');
      await Promise.all([child, outside].map((c) => new Promise((r) => c.once('exit', r))));
    }
    expect(processesIn(join(dir, 'cwd-test'))).toEqual([]);
  });

  it('finds a child and a grandchild under a process, and sees them end', async () => {
    // sh starts sleep as its child; sh itself is our child.
    const child = spawn('sh', ['-c', 'sleep 30 & wait'], { stdio: 'ignore' });
    const pid = child.pid!;
    for (let i = 0; i < 200 && descendants(pid).length === 0; i++) {
      await new Promise((r) => setTimeout(r, 10));
    }
    const grandchildren = descendants(pid);
    expect(descendants(process.pid)).toContain(pid);
    expect(descendants(process.pid)).toEqual(expect.arrayContaining(grandchildren));
    expect(grandchildren).toHaveLength(1);
    expect(isAlive(grandchildren[0]!)).toBe(true);
    process.kill(grandchildren[0]!, 'SIGKILL');
    await new Promise((r) => child.once('exit', r));
    expect(isAlive(pid)).toBe(false);
  });
});
