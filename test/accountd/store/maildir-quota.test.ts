import { mkdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { scanMaildir } from '../../../src/accountd/store/maildir-quota.js';
import { makeStore, tempDirs } from '../helpers.js';

const dirs = tempDirs();
afterEach(() => dirs.cleanup());

function maildir(root: string): void {
  for (const folder of ['', '.Sent', '.Archive.2025']) {
    for (const sub of ['cur', 'new', 'tmp'])
      mkdirSync(join(root, folder, sub), { recursive: true });
  }
  // Maildir++ names carry the size; the content is deliberately shorter.
  writeFileSync(join(root, 'cur', '1700000000.M1P1.host,S=1000:2,S'), 'x');
  writeFileSync(join(root, 'new', '1700000001.M2P1.host,S=2500'), 'y');
  // No S= in the name: the file size counts.
  writeFileSync(join(root, 'new', '1700000002.M3P1.host'), 'z'.repeat(123));
  writeFileSync(join(root, '.Sent', 'cur', '1700000003.M4P1.host,S=400:2,S'), '');
  writeFileSync(join(root, '.Archive.2025', 'new', '1700000004.M5P1.host'), 'a'.repeat(77));
  // Not messages: tmp/, dot files, directories, symbolic links, folder metadata.
  writeFileSync(join(root, 'tmp', '1700000005.M6P1.host,S=9999'), '');
  writeFileSync(join(root, 'cur', '.hidden,S=9999'), '');
  mkdirSync(join(root, 'cur', 'subdir,S=9999'));
  symlinkSync('/etc/passwd', join(root, 'cur', 'link,S=9999'));
  writeFileSync(join(root, 'maildirfolder'), '');
  writeFileSync(join(root, 'dovecot-uidlist'), 'x'.repeat(5000));
}

describe('scanMaildir', () => {
  it('counts messages and bytes in cur/ and new/ of the Maildir and its folders', async () => {
    const root = join(dirs.make(), 'alice');
    maildir(root);
    expect(await scanMaildir(root)).toEqual({ bytes: 1000 + 2500 + 123 + 400 + 77, messages: 5 });
  });

  it('counts a missing Maildir as empty', async () => {
    expect(await scanMaildir(join(dirs.make(), 'nobody'))).toEqual({ bytes: 0, messages: 0 });
  });
});

describe('AccountStore.quota', () => {
  it('reports usage against the account limits and caches it briefly', async () => {
    const root = dirs.make();
    let now = 1_000_000;
    const store = await makeStore(root, { quotaCacheMs: 10_000, now: () => now });
    await store.create('alice', 'secret-pw-1', { quotaBytes: 5000, quotaMessages: 10 });
    maildir(join(root, 'mail', 'alice'));
    expect(await store.quota('alice')).toEqual({
      bytesUsed: 4100,
      bytesLimit: 5000,
      messagesUsed: 5,
      messagesLimit: 10,
    });
    writeFileSync(join(root, 'mail', 'alice', 'new', '1700000009.M9P1.host,S=900'), '');
    now += 5_000;
    expect((await store.quota('alice')).messagesUsed).toBe(5);
    now += 5_000;
    expect(await store.quota('alice')).toMatchObject({ bytesUsed: 5000, messagesUsed: 6 });
  });
});
