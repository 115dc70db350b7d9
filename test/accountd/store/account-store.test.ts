import { readdirSync, readFileSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { isValidAccountName } from '../../../src/accountd/store/account-name.js';
import { isValidMailAddress } from '../../../src/accountd/store/mail-address.js';
import { passwordProblem } from '../../../src/accountd/store/password-policy.js';
import { makeStore, tempDirs } from '../helpers.js';

const dirs = tempDirs();
afterEach(() => dirs.cleanup());

const code = (c: string): unknown => expect.objectContaining({ code: c }) as unknown;

describe('account names', () => {
  it('accepts letters, digits, dot, underscore and hyphen up to 64 characters', () => {
    for (const ok of ['alice', 'a', 'Bob_2', 'j.smith', 'x-y', '_svc', '9lives', 'a'.repeat(64)]) {
      expect(isValidAccountName(ok), ok).toBe(true);
    }
    for (const bad of [
      '',
      '.alice',
      '-alice',
      'a'.repeat(65),
      'al ice',
      'alicé',
      'a/b',
      '..',
      'a\n',
    ]) {
      expect(isValidAccountName(bad), bad).toBe(false);
    }
  });
});

describe('password policy', () => {
  it('needs 8 characters, a letter, a non-letter, and not the user name', () => {
    expect(passwordProblem('abc1', 'alice')).toBe(
      'the password must be at least 8 characters long',
    );
    expect(passwordProblem('12345678', 'alice')).toBe('the password must contain a letter');
    expect(passwordProblem('abcdefgh', 'alice')).toBe(
      'the password must contain a character that is not a letter',
    );
    expect(passwordProblem('Alice.2024', 'alice.2024')).toBe(
      'the password must not be the user name',
    );
    expect(passwordProblem('vesper-demo-1', 'alice')).toBeUndefined();
    expect(passwordProblem('ÉtéÉté!!', 'alice')).toBeUndefined();
  });
});

describe('mail addresses', () => {
  it('accepts local@domain and refuses the rest', () => {
    for (const ok of ['a@example.org', 'first.last+tag@mail.example.co.uk', 'x@localhost']) {
      expect(isValidMailAddress(ok), ok).toBe(true);
    }
    for (const bad of [
      '',
      'a',
      '@example.org',
      'a@',
      'a@@b.c',
      'a b@c.d',
      '.a@b.c',
      'a..b@c.d',
      'a@-b.c',
      'a@b..c',
      `${'a'.repeat(65)}@b.c`,
    ]) {
      expect(isValidMailAddress(bad), bad).toBe(false);
    }
  });
});

describe('AccountStore', () => {
  it('creates a record file 0600 in a 0700 directory with the defaults', async () => {
    const root = dirs.make();
    const store = await makeStore(root);
    const rec = await store.create('alice', 'secret-pw-1', { fullName: 'Alice A' });
    expect(rec).toMatchObject({
      version: 1,
      name: 'alice',
      fullName: 'Alice A',
      quota: { bytes: 1_000_000, messages: 100 },
      forwarding: { addresses: [], keepCopy: true },
      vacation: { enabled: false, subject: '', body: '', days: 7 },
      vacationLog: [],
    });
    expect(rec.password).toMatchObject({ algorithm: 'scrypt', N: 1024, r: 8, p: 1, keylen: 32 });
    const file = join(root, 'accounts', 'alice.json');
    expect(statSync(file).mode & 0o777).toBe(0o600);
    expect(statSync(join(root, 'accounts')).mode & 0o777).toBe(0o700);
    expect(JSON.parse(readFileSync(file, 'utf8'))).toEqual(rec);
    expect(readFileSync(file, 'utf8')).not.toContain('secret-pw-1');
    expect(await store.get('alice')).toEqual(rec);
  });

  it('checks passwords, and answers false for unknown and invalid names', async () => {
    const store = await makeStore(dirs.make());
    await store.create('alice', 'secret-pw-1');
    expect(await store.authenticate('alice', 'secret-pw-1')).toBe(true);
    expect(await store.authenticate('alice', 'secret-pw-2')).toBe(false);
    expect(await store.authenticate('nobody', 'secret-pw-1')).toBe(false);
    expect(await store.authenticate('../etc/passwd', 'x')).toBe(false);
  });

  it('refuses to create an existing account, a weak password or an invalid name', async () => {
    const root = dirs.make();
    const store = await makeStore(root);
    await store.create('alice', 'secret-pw-1');
    const before = readFileSync(join(root, 'accounts', 'alice.json'), 'utf8');
    await expect(store.create('alice', 'other-pw-2')).rejects.toThrow(
      code('VESPER_ACCOUNTD_USER_EXISTS'),
    );
    await expect(store.create('bob', 'short1')).rejects.toThrow(
      code('VESPER_ACCOUNTD_WEAK_PASSWORD'),
    );
    await expect(store.create('.bob', 'secret-pw-1')).rejects.toThrow(
      code('VESPER_ACCOUNTD_INVALID_NAME'),
    );
    await expect(store.create('bob', 'secret-pw-1', { fullName: 'a\nb' })).rejects.toThrow(
      code('VESPER_ACCOUNTD_INVALID_VALUE'),
    );
    expect(readFileSync(join(root, 'accounts', 'alice.json'), 'utf8')).toBe(before);
    expect(readdirSync(join(root, 'accounts'))).toEqual(['alice.json']);
  });

  it('creates one account when two creations race', async () => {
    const store = await makeStore(dirs.make());
    const results = await Promise.allSettled([
      store.create('carol', 'secret-pw-1'),
      store.create('carol', 'secret-pw-2'),
    ]);
    expect(results.map((r) => r.status).sort()).toEqual(['fulfilled', 'rejected']);
  });

  it('changes the password, full name, limits, forwarding, vacation and its log', async () => {
    const store = await makeStore(dirs.make());
    await store.create('alice', 'secret-pw-1');
    await store.setPassword('alice', 'new-secret-2');
    expect(await store.authenticate('alice', 'new-secret-2')).toBe(true);
    expect(await store.authenticate('alice', 'secret-pw-1')).toBe(false);
    await store.setFullName('alice', 'Alice Liddell');
    await store.setQuotaLimits('alice', { bytes: 0 });
    await store.setForwarding('alice', { addresses: [' a@example.net '], keepCopy: false });
    const vacation = { enabled: true, subject: 'Away', body: 'Back soon.\n', days: 3 };
    await store.setVacation('alice', vacation);
    await store.appendVacationLog('alice', {
      sender: 'x@example.net',
      at: '2026-12-01T00:00:00.000Z',
    });
    const rec = await store.get('alice');
    expect(rec).toMatchObject({
      fullName: 'Alice Liddell',
      quota: { bytes: 0, messages: 100 },
      forwarding: { addresses: ['a@example.net'], keepCopy: false },
      vacation,
      vacationLog: [{ sender: 'x@example.net', at: '2026-12-01T00:00:00.000Z' }],
    });
    await store.clearVacationLog('alice');
    expect((await store.get('alice')).vacationLog).toEqual([]);
  });

  it('refuses bad forwarding: invalid, repeated, none kept, or to oneself without a copy', async () => {
    const store = await makeStore(dirs.make());
    await store.create('alice', 'secret-pw-1');
    const bad = [
      { addresses: ['not an address'], keepCopy: true },
      { addresses: ['a@example.net', 'A@example.net'], keepCopy: true },
      { addresses: [], keepCopy: false },
      { addresses: ['Alice@Example.org'], keepCopy: false },
      { addresses: Array.from({ length: 21 }, (_, i) => `u${i}@example.net`), keepCopy: true },
    ];
    for (const settings of bad) {
      await expect(store.setForwarding('alice', settings)).rejects.toThrow(
        code('VESPER_ACCOUNTD_INVALID_VALUE'),
      );
    }
    // Forwarding to oneself is fine while a copy is kept.
    await store.setForwarding('alice', { addresses: ['alice@example.org'], keepCopy: true });
    expect((await store.get('alice')).forwarding.addresses).toEqual(['alice@example.org']);
  });

  it('refuses bad vacation settings', async () => {
    const store = await makeStore(dirs.make());
    await store.create('alice', 'secret-pw-1');
    const base = { enabled: true, subject: 'Away', body: 'x', days: 7 };
    for (const v of [
      { ...base, days: 0 },
      { ...base, days: 366 },
      { ...base, subject: 'two\nlines' },
      { ...base, subject: '', body: ' ' },
      { ...base, body: 'x'.repeat(16_001) },
    ]) {
      await expect(store.setVacation('alice', v)).rejects.toThrow(
        code('VESPER_ACCOUNTD_INVALID_VALUE'),
      );
    }
  });

  it('reports an unreadable record as corrupt for that user only and never overwrites it', async () => {
    const root = dirs.make();
    const store = await makeStore(root);
    await store.create('alice', 'secret-pw-1');
    await store.create('bob', 'secret-pw-1');
    const file = join(root, 'accounts', 'alice.json');
    writeFileSync(file, '{"version": 1, "name": "alice", "password": ');
    await expect(store.get('alice')).rejects.toThrow(code('VESPER_ACCOUNTD_RECORD_CORRUPT'));
    await expect(store.authenticate('alice', 'secret-pw-1')).rejects.toThrow(
      code('VESPER_ACCOUNTD_RECORD_CORRUPT'),
    );
    await expect(store.setFullName('alice', 'X')).rejects.toThrow(
      code('VESPER_ACCOUNTD_RECORD_CORRUPT'),
    );
    await expect(store.setPassword('alice', 'secret-pw-9')).rejects.toThrow(
      code('VESPER_ACCOUNTD_RECORD_CORRUPT'),
    );
    expect(readFileSync(file, 'utf8')).toBe('{"version": 1, "name": "alice", "password": ');
    expect(await store.authenticate('bob', 'secret-pw-1')).toBe(true);
    const listing = await store.list();
    expect(listing.map((l) => [l.name, 'error' in l])).toEqual([
      ['alice', true],
      ['bob', false],
    ]);
  });

  it('refuses a record with a wrong field type, another name or a hostile scrypt cost', async () => {
    const root = dirs.make();
    const store = await makeStore(root);
    const rec = await store.create('alice', 'secret-pw-1');
    const file = join(root, 'accounts', 'alice.json');
    const variants = [
      { ...rec, quota: { bytes: '1', messages: 1 } },
      { ...rec, name: 'bob' },
      { ...rec, version: 2 },
      { ...rec, password: { ...rec.password, N: 2 ** 30 } },
    ];
    for (const v of variants) {
      writeFileSync(file, JSON.stringify(v));
      await expect(store.get('alice')).rejects.toThrow(code('VESPER_ACCOUNTD_RECORD_CORRUPT'));
    }
  });

  it('deletes an account and says when there is none', async () => {
    const root = dirs.make();
    const store = await makeStore(root);
    await store.create('alice', 'secret-pw-1');
    await store.delete('alice');
    expect(await store.exists('alice')).toBe(false);
    await expect(store.delete('alice')).rejects.toThrow(code('VESPER_ACCOUNTD_NO_SUCH_USER'));
    await expect(store.get('alice')).rejects.toThrow(code('VESPER_ACCOUNTD_NO_SUCH_USER'));
    await expect(store.setFullName('alice', 'x')).rejects.toThrow(
      code('VESPER_ACCOUNTD_NO_SUCH_USER'),
    );
    expect(readdirSync(join(root, 'accounts'))).toEqual([]);
  });

  it('serialises concurrent updates of one user so that none is lost', async () => {
    const store = await makeStore(dirs.make());
    await store.create('alice', 'secret-pw-1');
    await Promise.all(
      Array.from({ length: 40 }, (_, i) =>
        store.appendVacationLog('alice', { sender: `s${i}@example.net`, at: 'now' }),
      ),
    );
    expect((await store.get('alice')).vacationLog).toHaveLength(40);
  });

  it('removes temporary and lock files of dead writers when opened', async () => {
    const root = dirs.make();
    await makeStore(root);
    const dead = 2 ** 22 + 12345; // above the default pid_max of 2^22: never a live process
    writeFileSync(join(root, 'accounts', `.alice.json.${dead}.0123456789ab.tmp`), 'partial');
    writeFileSync(join(root, 'accounts', '.alice.lock'), `${dead}\n`);
    writeFileSync(join(root, 'accounts', `.bob.json.${process.pid}.0123456789ab.tmp`), 'ours');
    await makeStore(root);
    expect(readdirSync(join(root, 'accounts'))).toEqual([
      `.bob.json.${process.pid}.0123456789ab.tmp`,
    ]);
  });

  it('takes over the lock of a writer that died', async () => {
    const root = dirs.make();
    const store = await makeStore(root);
    await store.create('alice', 'secret-pw-1');
    writeFileSync(join(root, 'accounts', '.alice.lock'), `${2 ** 22 + 1}\n`);
    await store.setFullName('alice', 'After the crash');
    expect((await store.get('alice')).fullName).toBe('After the crash');
  });

  it('takes over a lock file that names no holder once it is old, and waits for a fresh one', async () => {
    const root = dirs.make();
    const store = await makeStore(root);
    await store.create('alice', 'secret-pw-1');
    const lock = join(root, 'accounts', '.alice.lock');
    writeFileSync(lock, '');
    const old = new Date(Date.now() - 60_000);
    utimesSync(lock, old, old);
    await store.setFullName('alice', 'After the crash');
    expect((await store.get('alice')).fullName).toBe('After the crash');
    expect(readdirSync(join(root, 'accounts'))).toEqual(['alice.json']);
    writeFileSync(lock, '');
    const waiting = await makeStore(root, { lockTimeoutMs: 200 });
    await expect(waiting.setFullName('alice', 'Too soon')).rejects.toThrow(
      code('VESPER_ACCOUNTD_LOCK_TIMEOUT'),
    );
    expect((await store.get('alice')).fullName).toBe('After the crash');
  });

  it('removes the lock staging file of a dead writer when opened', async () => {
    const root = dirs.make();
    await makeStore(root);
    const dead = 2 ** 22 + 12345;
    writeFileSync(join(root, 'accounts', `.alice.lock.${dead}.0`), `${dead}\n`);
    await makeStore(root);
    expect(readdirSync(join(root, 'accounts'))).toEqual([]);
  });

  it('refuses to store accounts under a world-writable directory', async () => {
    const root = dirs.make();
    const { chmodSync } = await import('node:fs');
    chmodSync(root, 0o777);
    await expect(makeStore(root)).rejects.toThrow(code('VESPER_ACCOUNTD_UNSAFE_DIRECTORY'));
  });
});
