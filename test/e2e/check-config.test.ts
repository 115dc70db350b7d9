/**
 * Runs the built `vesper check-config` (build first: `npx tsc -p tsconfig.build.json`,
 * which `npm test` does) against temporary files.
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const root = join(import.meta.dirname, '..', '..');
const main = join(root, 'dist', 'src', 'cli', 'main.js');

/** Runs the built program and collects its exit code and output. */
function vesper(
  args: string[],
  cwd: string,
): Promise<{ status: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [main, ...args], {
      cwd,
      env: { PATH: process.env.PATH },
      timeout: 20_000,
    });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    child.on('error', reject);
    child.on('close', (status) => resolve({ status, stdout, stderr }));
  });
}

// The cases spawn one process each and share nothing, so they run side by side.
describe.concurrent('vesper check-config (built program)', () => {
  let dir = '';
  beforeAll(() => {
    if (!existsSync(main))
      throw new Error(`${main} is missing: run npx tsc -p tsconfig.build.json first`);
    dir = mkdtempSync(join(tmpdir(), 'vesper-e2e-config-'));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('prints the effective configuration and exits 0', async () => {
    const file = join(dir, 'good.yaml');
    writeFileSync(file, 'paths:\n  var: run\nsession:\n  timeout: 2h\n');
    const result = await vesper(
      ['check-config', '--config', file, '--config-option', 'frontend.limits.body=1M'],
      dir,
    );
    expect(result.stderr).toBe('');
    expect(result.status).toBe(0);
    expect(result.stdout).toMatch(/^paths:\n {2}var: \/.*\/run\n/);
    expect(result.stdout).toContain(`\n  socket_dir: ${join(dir, 'run', 'sockets')}\n`);
    expect(result.stdout).toContain('\n  timeout: 2h\n');
    expect(result.stdout).toContain('\n    body: 1M\n');
  });

  it('validates the shipped config/vesper.yaml', async () => {
    const result = await vesper(['check-config'], root);
    expect(result.stderr).toBe('');
    expect(result.status).toBe(0);
    expect(result.stdout).toContain('\n  demo_users: true\n');
  });

  it('prints every problem as file:line: key: message and exits 1', async () => {
    const file = join(dir, 'bad.yaml');
    writeFileSync(
      file,
      'session:\n  idel_time: 5m\n  timeout: 10 minutes\nfrontend:\n  min_spare: 100\n',
    );
    const result = await vesper(
      ['check-config', '--config', file, '--config-option', 'tls.redirect=maybe'],
      dir,
    );
    expect(result.status).toBe(1);
    expect(result.stdout).toBe('');
    expect(result.stderr).toBe(
      [
        `${file}:2: session.idel_time: unknown key (did you mean session.idle_time?)`,
        `${file}:3: session.timeout: '10 minutes' is not a duration; write a whole number and one unit: 500ms, 30s, 10m, 4h, 7d, or 0`,
        `${file}:5: frontend.min_spare: must not exceed frontend.max_servers (64), got 100`,
        "--config-option:1: tls.redirect: expected true or false, got 'maybe'",
        'vesper: the configuration has 4 problems',
        '',
      ].join('\n'),
    );
  });

  it('exits 1 for a missing file', async () => {
    const result = await vesper(['check-config', '--config', 'nowhere.yaml'], dir);
    expect(result.status).toBe(1);
    expect(result.stderr).toBe(
      'nowhere.yaml: cannot read the configuration file: no such file\nvesper: the configuration has 1 problem\n',
    );
  });

  it('exits 2 for a usage error', async () => {
    const result = await vesper(['check-config', '--config'], dir);
    expect(result.status).toBe(2);
    expect(result.stderr).toContain('vesper check-config: --config needs a value');
  });
});
