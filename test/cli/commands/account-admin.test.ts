import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { AccountdClient } from '../../../src/accountd/client/index.js';
import { openAccountStore } from '../../../src/accountd/store-from-config.js';
import { loadConfig } from '../../../src/shared/config/index.js';
import { ensureBuilt, ROOT } from '../../accountd/built.js';

const MAIN = join(ROOT, 'dist/src/cli/main.js');
beforeAll(() => ensureBuilt(['src/cli/main.js', 'src/cli/commands/adduser.js']), 180_000);

let root = '';
const children: ChildProcess[] = [];
afterEach(() => {
  for (const c of children.splice(0)) c.kill('SIGKILL');
  rmSync(root, { recursive: true, force: true });
});

/** A fresh directory with a minimal configuration; returns the config file path. */
function fresh(extra = ''): string {
  root = mkdtempSync(join(tmpdir(), 'vesper-cli-'));
  const file = join(root, 'vesper.yaml');
  writeFileSync(file, `paths:\n  var: ${join(root, 'var')}\n${extra}`);
  return file;
}

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

function vesper(args: string[], stdin = ''): Promise<Run> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [MAIN, ...args], {
      cwd: root,
      env: { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: root },
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.stdin.end(stdin);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

async function store(configFile: string) {
  return openAccountStore(loadConfig({ file: configFile }));
}

describe('vesper adduser', () => {
  it('creates an account with a password from stdin, a full name and quotas', async () => {
    const cfg = fresh();
    const r = await vesper(
      [
        'adduser',
        'alice',
        '--password-stdin',
        '--full-name',
        'Alice A',
        '--quota-bytes',
        '10M',
        '--quota-messages=50',
        '--config',
        cfg,
      ],
      'secret-pw-1\n',
    );
    expect(r).toEqual({ code: 0, stdout: 'Created account alice.\n', stderr: '' });
    const s = await store(cfg);
    expect(await s.authenticate('alice', 'secret-pw-1')).toBe(true);
    expect(await s.get('alice')).toMatchObject({
      fullName: 'Alice A',
      quota: { bytes: 10 * 1024 * 1024, messages: 50 },
    });
    expect(statSync(join(root, 'var/accounts/alice.json')).mode & 0o777).toBe(0o600);
  });

  it('refuses an existing account with exit 1 and leaves it as it was', async () => {
    const cfg = fresh();
    await vesper(['adduser', 'alice', '--password-stdin', '--config', cfg], 'secret-pw-1\n');
    const r = await vesper(
      ['adduser', 'alice', '--password-stdin', '--config', cfg],
      'other-pw-2\n',
    );
    expect(r).toEqual({
      code: 1,
      stdout: '',
      stderr: 'vesper adduser: account alice already exists\n',
    });
    expect(await (await store(cfg)).authenticate('alice', 'secret-pw-1')).toBe(true);
  });

  it('refuses a weak password with exit 1', async () => {
    const cfg = fresh();
    const r = await vesper(['adduser', 'alice', '--password-stdin', '--config', cfg], 'alice\n');
    expect(r.code).toBe(1);
    expect(r.stderr).toBe('vesper adduser: the password must be at least 8 characters long\n');
    const r2 = await vesper(
      ['adduser', 'bob', '--password-stdin', '--config', cfg],
      'longpassword\n',
    );
    expect(r2.stderr).toBe(
      'vesper adduser: the password must contain a character that is not a letter\n',
    );
    expect(existsSync(join(root, 'var/accounts/alice.json'))).toBe(false);
  });

  it('refuses an invalid account name with exit 1', async () => {
    const cfg = fresh();
    const r = await vesper(['adduser', '-x', '--password-stdin', '--config', cfg], 'secret-pw-1\n');
    expect(r).toEqual({
      code: 1,
      stdout: '',
      stderr: 'vesper adduser: "-x" is not a valid account name: it starts with "." or "-"\n',
    });
    const r2 = await vesper(
      ['adduser', '.hidden', '--password-stdin', '--config', cfg],
      'secret-pw-1\n',
    );
    expect(r2).toEqual({
      code: 1,
      stdout: '',
      stderr: 'vesper adduser: ".hidden" is not a valid account name: it starts with "." or "-"\n',
    });
    const r3 = await vesper(
      ['adduser', 'a'.repeat(65), '--password-stdin', '--config', cfg],
      'secret-pw-1\n',
    );
    expect(r3.code).toBe(1);
    expect(r3.stderr).toContain('it is longer than 64 characters');
  });

  it('exits 2 for usage errors: no name, unknown option, bad size, no password source', async () => {
    const cfg = fresh();
    const cases: [string[], string][] = [
      [['adduser', '--config', cfg], 'vesper adduser: NAME is missing\n'],
      [['adduser', 'a', 'b', '--config', cfg], 'vesper adduser: give exactly one NAME\n'],
      [
        ['adduser', 'alice', '--password', 'x', '--config', cfg],
        'vesper adduser: unknown option --password\n',
      ],
      [
        ['adduser', 'alice', '--quota-bytes', 'lots', '--config', cfg],
        'vesper adduser: --quota-bytes: ',
      ],
      [
        ['adduser', 'alice', '--quota-messages', '-1', '--config', cfg],
        'vesper adduser: --quota-messages needs a whole number\n',
      ],
      [
        ['adduser', 'alice', '--config', cfg],
        'vesper adduser: stdin is not a terminal: give the password with --password-stdin\n',
      ],
    ];
    const runs = await Promise.all(cases.map(([args]) => vesper(args)));
    for (const [i, [args, message]] of cases.entries()) {
      const r = runs[i]!;
      expect(r.code, args.join(' ')).toBe(2);
      expect(r.stderr.startsWith(message), r.stderr).toBe(true);
      expect(r.stderr).toContain("Run 'vesper adduser --help' for usage.");
    }
  });

  it('exits 2 naming the problem when the configuration is invalid', async () => {
    const cfg = fresh('accountd:\n  lockout: { attempts: many }\n');
    const r = await vesper(
      ['adduser', 'alice', '--password-stdin', '--config', cfg],
      'secret-pw-1\n',
    );
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('vesper adduser: the configuration is invalid:');
    expect(r.stderr).toContain('accountd.lockout.attempts');
  });
});

describe('vesper passwd', () => {
  it('sets the password from stdin', async () => {
    const cfg = fresh();
    await vesper(['adduser', 'alice', '--password-stdin', '--config', cfg], 'secret-pw-1\n');
    const r = await vesper(
      ['passwd', 'alice', '--password-stdin', '--config', cfg],
      'new-secret-2\r\n',
    );
    expect(r).toEqual({ code: 0, stdout: 'Changed the password of alice.\n', stderr: '' });
    expect(await (await store(cfg)).authenticate('alice', 'new-secret-2')).toBe(true);
  });

  it('refuses a missing account, a weak password and an unreadable record with exit 1', async () => {
    const cfg = fresh();
    expect(
      await vesper(['passwd', 'bob', '--password-stdin', '--config', cfg], 'secret-pw-1\n'),
    ).toEqual({
      code: 1,
      stdout: '',
      stderr: 'vesper passwd: there is no account bob\n',
    });
    await vesper(['adduser', 'alice', '--password-stdin', '--config', cfg], 'secret-pw-1\n');
    const weak = await vesper(
      ['passwd', 'alice', '--password-stdin', '--config', cfg],
      '12345678\n',
    );
    expect(weak.code).toBe(1);
    expect(weak.stderr).toBe('vesper passwd: the password must contain a letter\n');
    writeFileSync(join(root, 'var/accounts/alice.json'), '{"version": 1');
    const corrupt = await vesper(
      ['passwd', 'alice', '--password-stdin', '--config', cfg],
      'new-secret-2\n',
    );
    expect(corrupt.code).toBe(1);
    expect(corrupt.stderr).toContain('vesper passwd: the record of account alice cannot be read');
  });

  it('exits 2 without a name', async () => {
    const cfg = fresh();
    expect((await vesper(['passwd', '--password-stdin', '--config', cfg])).code).toBe(2);
  });
});

describe('vesper deluser', () => {
  it('deletes an account and keeps its mail', async () => {
    const cfg = fresh();
    await vesper(['adduser', 'alice', '--password-stdin', '--config', cfg], 'secret-pw-1\n');
    const r = await vesper(['deluser', 'alice', '--config', cfg]);
    expect(r).toEqual({
      code: 0,
      stdout: `Deleted account alice; its mail in ${join(root, 'var/mail/alice')} is kept.\n`,
      stderr: '',
    });
    expect(existsSync(join(root, 'var/accounts/alice.json'))).toBe(false);
  });

  it('refuses a missing account with exit 1 and a bad name with exit 1', async () => {
    const cfg = fresh();
    expect(await vesper(['deluser', 'alice', '--config', cfg])).toEqual({
      code: 1,
      stdout: '',
      stderr: 'vesper deluser: there is no account alice\n',
    });
    const bad = await vesper(['deluser', 'a/b', '--config', cfg]);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toContain('is not a valid account name');
    expect((await vesper(['deluser', '--config', cfg])).code).toBe(2);
  });
});

describe('vesper users', () => {
  it('lists accounts, and exits 1 naming an unreadable record', async () => {
    const cfg = fresh();
    expect(await vesper(['users', '--config', cfg])).toEqual({ code: 0, stdout: '', stderr: '' });
    await vesper(['adduser', 'bob', '--password-stdin', '--config', cfg], 'secret-pw-1\n');
    await vesper(
      [
        'adduser',
        'alice',
        '--password-stdin',
        '--full-name',
        'Alice A',
        '--quota-bytes',
        '0',
        '--config',
        cfg,
      ],
      'secret-pw-1\n',
    );
    expect(await vesper(['users', '--config', cfg])).toEqual({
      code: 0,
      stdout: 'alice\t0\t10000\tAlice A\nbob\t100M\t10000\t\n',
      stderr: '',
    });
    writeFileSync(join(root, 'var/accounts/bob.json'), 'garbage');
    const r = await vesper(['users', '--config', cfg]);
    expect(r.code).toBe(1);
    expect(r.stdout).toBe('alice\t0\t10000\tAlice A\n');
    expect(r.stderr).toMatch(/^vesper users: the record of account bob cannot be read: /);
    expect((await vesper(['users', 'extra', '--config', cfg])).code).toBe(2);
  });
});

describe('vesper accountd', () => {
  async function waitFor(path: string): Promise<void> {
    // Start-up hashes the demo passwords at full cost: allow for a loaded machine.
    for (let i = 0; i < 1200 && !existsSync(path); i++) {
      await new Promise((r) => setTimeout(r, 25));
    }
  }

  it('serves the demo accounts, refuses a second server, and stops on SIGTERM with exit 0', async () => {
    const cfg = fresh('accountd:\n  demo_users: true\nlog:\n  level: warn\n');
    const child = spawn(process.execPath, [MAIN, 'accountd', '--config', cfg], {
      cwd: root,
      env: { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: root },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    children.push(child);
    const exited = new Promise<number | null>((resolve) =>
      child.on('exit', (code) => resolve(code)),
    );
    const sock = join(root, 'var/accountd.sock');
    await waitFor(sock);
    expect(statSync(sock).mode & 0o777).toBe(0o600);
    const c = new AccountdClient({ path: sock }, { timeoutMs: 5000 });
    await c.login('alice', 'vesper-demo-1');
    expect((await c.quota()).messagesLimit).toBe(10_000);
    const second = await vesper(['accountd', '--config', cfg]);
    expect(second.code).toBe(1);
    expect(second.stderr).toBe(
      `vesper accountd: another accountd is already listening on ${sock}\n`,
    );
    c.destroy();
    child.kill('SIGTERM');
    expect(await exited).toBe(0);
    expect(existsSync(sock)).toBe(false);
  });
});
