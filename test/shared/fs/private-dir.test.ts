import {
  chmodSync,
  mkdirSync,
  mkdtempSync,
  rmSync,
  statSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ensurePrivateDir, UNSAFE_DIR_CODE } from '../../../src/shared/fs/private-dir.js';

describe('ensurePrivateDir', () => {
  let root = '';
  beforeEach(() => {
    root = mkdtempSync(join(tmpdir(), 'vesper-private-dir-'));
  });
  afterEach(() => {
    chmodSync(root, 0o700);
    rmSync(root, { recursive: true, force: true });
  });

  it('creates the directory and its missing parents with mode 0700', () => {
    const dir = join(root, 'a', 'b', 'var');
    ensurePrivateDir(dir);
    expect(statSync(dir).mode & 0o777).toBe(0o700);
    expect(statSync(join(root, 'a')).mode & 0o777).toBe(0o700);
  });

  it('tightens an existing directory of ours to 0700 and keeps its content', () => {
    const dir = join(root, 'var');
    mkdirSync(dir, { mode: 0o755 });
    chmodSync(dir, 0o755);
    writeFileSync(join(dir, 'keep'), 'data');
    ensurePrivateDir(dir);
    expect(statSync(dir).mode & 0o777).toBe(0o700);
    expect(statSync(join(dir, 'keep')).size).toBe(4);
  });

  it('refuses a world-writable parent without the sticky bit', () => {
    const parent = join(root, 'open');
    mkdirSync(parent);
    chmodSync(parent, 0o777);
    expect(() => ensurePrivateDir(join(parent, 'var'))).toThrow(
      expect.objectContaining({ code: UNSAFE_DIR_CODE }),
    );
    expect(() => ensurePrivateDir(join(parent, 'x', 'var'))).toThrow(/writable by everyone/);
    expect(() => statSync(join(parent, 'var'))).toThrow();
  });

  it('accepts a world-writable parent with the sticky bit, as /tmp is', () => {
    const parent = join(root, 'sticky');
    mkdirSync(parent);
    chmodSync(parent, 0o1777);
    ensurePrivateDir(join(parent, 'var'));
    expect(statSync(join(parent, 'var')).mode & 0o777).toBe(0o700);
  });

  it('refuses a file or a symbolic link in place of the directory', () => {
    writeFileSync(join(root, 'file'), '');
    expect(() => ensurePrivateDir(join(root, 'file'))).toThrow(/is not a directory/);
    mkdirSync(join(root, 'real'));
    symlinkSync(join(root, 'real'), join(root, 'link'));
    expect(() => ensurePrivateDir(join(root, 'link'))).toThrow(/is not a directory/);
  });
});
