import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  isAlive,
  readPidFile,
  removePidFile,
  runningPid,
  writePidFile,
} from '../../../src/frontend/master/pid-file.js';

/** A pid that belonged to a process that has exited. */
function deadPid(): number {
  const child = spawnSync(process.execPath, ['-e', '0']);
  return child.pid;
}

describe('pid file', () => {
  let dir = '';
  let file = '';
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'vesper-pid-'));
    file = join(dir, 'vesper.pid');
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('writes the pid and a newline, mode 0644, and reads it back', async () => {
    await writePidFile(file, process.pid);
    expect(readFileSync(file, 'utf8')).toBe(`${process.pid}\n`);
    expect(statSync(file).mode & 0o777).toBe(0o644);
    expect(readPidFile(file)).toBe(process.pid);
    expect(runningPid(file)).toBe(process.pid);
  });

  it('refuses to start a second master while the recorded one lives', async () => {
    writeFileSync(file, `${process.pid}\n`);
    await expect(writePidFile(file, process.pid + 1)).rejects.toMatchObject({
      code: 'VESPER_MASTER_RUNNING',
    });
    expect(readFileSync(file, 'utf8')).toBe(`${process.pid}\n`);
  });

  it('replaces a stale pid file left by a crash', async () => {
    const dead = deadPid();
    expect(isAlive(dead)).toBe(false);
    writeFileSync(file, `${dead}\n`);
    expect(runningPid(file)).toBeUndefined();
    await writePidFile(file, process.pid);
    expect(readPidFile(file)).toBe(process.pid);
  });

  it('reads no pid from a missing or malformed file', () => {
    expect(readPidFile(file)).toBeUndefined();
    writeFileSync(file, 'twelve\n');
    expect(readPidFile(file)).toBeUndefined();
    writeFileSync(file, '0\n');
    expect(readPidFile(file)).toBeUndefined();
  });

  it('removes only a file that still names the given pid', () => {
    writeFileSync(file, '12345\n');
    removePidFile(file, 999);
    expect(existsSync(file)).toBe(true);
    removePidFile(file, 12345);
    expect(existsSync(file)).toBe(false);
    removePidFile(file, 12345);
  });
});
