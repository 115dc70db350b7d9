import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import {
  createFileAtomic,
  tempFileWriterPid,
  tempPathFor,
  writeFileAtomic,
} from '../../../src/shared/fs/atomic-write.js';

let dir = '';
afterEach(() => rmSync(dir, { recursive: true, force: true }));

function fresh(): string {
  dir = mkdtempSync(join(tmpdir(), 'vesper-atomic-'));
  return dir;
}

describe('writeFileAtomic', () => {
  it('replaces a file with mode 0600 and leaves no temporary file', async () => {
    const d = fresh();
    const path = join(d, 'a.json');
    writeFileSync(path, 'old');
    await writeFileAtomic(path, 'new');
    expect(readFileSync(path, 'utf8')).toBe('new');
    expect(statSync(path).mode & 0o777).toBe(0o600);
    expect(readdirSync(d)).toEqual(['a.json']);
  });

  it('leaves the old content and no temporary file when the rename fails', async () => {
    const d = fresh();
    const path = join(d, 'sub');
    // Renaming a file over a directory fails (EISDIR): the target is untouched.
    await createFileAtomic(join(d, 'keep'), 'x');
    await import('node:fs/promises').then((fs) => fs.mkdir(path));
    await expect(writeFileAtomic(path, 'data')).rejects.toMatchObject({ code: 'EISDIR' });
    expect(readdirSync(d).sort()).toEqual(['keep', 'sub']);
  });
});

describe('createFileAtomic', () => {
  it('creates a file only when it does not exist', async () => {
    const d = fresh();
    const path = join(d, 'u.json');
    await createFileAtomic(path, 'first');
    await expect(createFileAtomic(path, 'second')).rejects.toMatchObject({ code: 'EEXIST' });
    expect(readFileSync(path, 'utf8')).toBe('first');
    expect(readdirSync(d)).toEqual(['u.json']);
  });
});

describe('tempPathFor', () => {
  it('names a hidden temporary file carrying the writer pid', () => {
    const t = tempPathFor('/x/y/alice.json');
    expect(t).toMatch(/^\/x\/y\/\.alice\.json\.\d+\.[0-9a-f]{12}\.tmp$/);
    expect(tempFileWriterPid(t)).toBe(process.pid);
    expect(tempFileWriterPid('alice.json')).toBeUndefined();
  });
});
