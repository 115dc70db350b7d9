import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { DEMO_PASSWORD, ensureDemoUsers } from '../../src/accountd/demo-users.js';
import { startAccountd } from '../../src/accountd/start-accountd.js';
import { AccountdClient } from '../../src/accountd/client/index.js';
import { openAccountStore } from '../../src/accountd/store-from-config.js';
import { loadConfigText } from '../../src/shared/config/index.js';
import { silentLogger } from '../../src/shared/log/index.js';
import { CHEAP_SCRYPT, tempDirs } from './helpers.js';

const dirs = tempDirs();
afterEach(() => dirs.cleanup());

function config(root: string, demo: boolean) {
  return loadConfigText(`paths:\n  var: ${root}\naccountd:\n  demo_users: ${demo}\n`, {
    cwd: root,
  });
}

describe('ensureDemoUsers', () => {
  it('creates alice and bob with the README password when demo_users is on', async () => {
    const root = dirs.make();
    const cfg = config(root, true);
    const store = await openAccountStore(cfg, { scrypt: CHEAP_SCRYPT });
    expect(await ensureDemoUsers(cfg, silentLogger, store)).toEqual(['alice', 'bob']);
    expect(DEMO_PASSWORD).toBe('vesper-demo-1');
    expect(await store.authenticate('alice', 'vesper-demo-1')).toBe(true);
    expect(await store.authenticate('bob', 'vesper-demo-1')).toBe(true);
    expect((await store.get('alice')).fullName).toBe('Alice Demo');
  });

  it('leaves existing demo accounts alone', async () => {
    const root = dirs.make();
    const cfg = config(root, true);
    const store = await openAccountStore(cfg, { scrypt: CHEAP_SCRYPT });
    await store.create('alice', 'changed-pw-1');
    expect(await ensureDemoUsers(cfg, silentLogger, store)).toEqual(['bob']);
    expect(await store.authenticate('alice', 'changed-pw-1')).toBe(true);
    expect(await ensureDemoUsers(cfg, silentLogger, store)).toEqual([]);
  });

  it('creates nothing when demo_users is off', async () => {
    const root = dirs.make();
    expect(await ensureDemoUsers(config(root, false), silentLogger)).toEqual([]);
    expect(existsSync(join(root, 'accounts', 'alice.json'))).toBe(false);
  });
});

describe('startAccountd', () => {
  it('serves the demo accounts on accountd.listen of a fresh configuration', async () => {
    const root = dirs.make();
    const cfg = config(root, true);
    const server = await startAccountd(cfg, silentLogger, { store: { scrypt: CHEAP_SCRYPT } });
    try {
      expect(cfg.accountd.listen).toBe(join(root, 'accountd.sock'));
      const c = new AccountdClient({ path: cfg.accountd.listen });
      await c.login('bob', 'vesper-demo-1');
      expect(await c.quota()).toEqual({
        bytesUsed: 0,
        bytesLimit: 100 * 1024 * 1024,
        messagesUsed: 0,
        messagesLimit: 10_000,
      });
      c.destroy();
    } finally {
      await server.close();
    }
    expect(existsSync(cfg.accountd.listen)).toBe(false);
  });
});
