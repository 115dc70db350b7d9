import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { AccountdClient } from '../../../src/accountd/client/index.js';
import { ensureBuilt, ROOT } from '../built.js';

const MAIN = join(ROOT, 'dist/src/cli/main.js');
beforeAll(() => ensureBuilt(['src/cli/main.js']), 180_000);

let root = '';
let child: ChildProcess | undefined;
afterEach(() => {
  if (child !== undefined) {
    child.kill('SIGCONT');
    child.kill('SIGKILL');
  }
  child = undefined;
  rmSync(root, { recursive: true, force: true });
});

/** Sends `command` and closes at once, as a client whose timeout ran out. */
function sendAndLeave(path: string, command: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const s = connect(path, () => s.end(command));
    s.once('finish', () => {
      s.destroy();
      resolve();
    });
    s.once('error', reject);
  });
}

describe('accountd after a stall', () => {
  it('skips the LOGINs of clients that gave up while it was stopped', async () => {
    root = mkdtempSync(join(tmpdir(), 'vesper-stall-'));
    const cfg = join(root, 'vesper.yaml');
    writeFileSync(cfg, `paths:\n  var: ${join(root, 'var')}\naccountd:\n  demo_users: true\n`);
    const lines: string[] = [];
    child = spawn(process.execPath, [MAIN, 'accountd', '--config', cfg], {
      cwd: root,
      env: { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: root },
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    child.stdout!.on('data', (d: Buffer) => lines.push(...d.toString().split('\n')));
    const sock = join(root, 'var/accountd.sock');
    // Start-up hashes the demo passwords at full cost: allow for a loaded machine.
    for (let i = 0; i < 1200 && !existsSync(sock); i++) await new Promise((r) => setTimeout(r, 25));

    child.kill('SIGSTOP');
    // The kernel accepts the connections and holds the bytes and the close.
    await Promise.all(
      Array.from({ length: 5 }, () => sendAndLeave(sock, 'LOGIN alice vesper%2Ddemo%2D1\r\n')),
    );
    child.kill('SIGCONT');

    const client = new AccountdClient({ path: sock }, { timeoutMs: 10_000 });
    await client.login('bob', 'vesper-demo-1');
    client.destroy();
    // Stopping flushes the log.
    const exited = new Promise((resolve) => child!.once('exit', resolve));
    child.kill('SIGTERM');
    await exited;
    const logins = lines.filter((l) => l.includes('"event":"login"'));
    expect(logins).toHaveLength(1);
    expect(logins[0]).toContain('Login succeeded for bob');
  });
});
