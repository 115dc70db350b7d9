import { statSync } from 'node:fs';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { afterEach, describe, expect, it } from 'vitest';
import { percentEncode } from '../../../src/accountd/protocol/token-encoding.js';
import type { AccountdServer } from '../../../src/accountd/server/accountd-server.js';
import type { AccountStore } from '../../../src/accountd/store/account-store.js';
import { createLogger } from '../../../src/shared/log/index.js';
import { makeStore, RawConn, startServer, tempDirs } from '../helpers.js';

const dirs = tempDirs();
const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
  dirs.cleanup();
});

async function setup(
  options: Parameters<typeof startServer>[2] = {},
): Promise<{ store: AccountStore; server: AccountdServer; path: string; root: string }> {
  const root = dirs.make();
  const store = await makeStore(root);
  await store.create('alice', 'secret-pw-1');
  const { server, path } = await startServer(store, root, options);
  cleanups.push(() => server.destroy());
  return { store, server, path, root };
}

async function open(path: string): Promise<RawConn> {
  const c = await RawConn.open(path);
  cleanups.push(() => c.destroy());
  return c;
}

const e = percentEncode;

describe('accountd server: commands', () => {
  it('listens on a Unix socket with mode 0600', async () => {
    const { path } = await setup();
    const st = statSync(path);
    expect(st.isSocket()).toBe(true);
    expect(st.mode & 0o777).toBe(0o600);
  });

  it('answers NOOP, refuses commands before LOGIN, and logs in', async () => {
    const { path } = await setup();
    const c = await open(path);
    expect(await c.ask('NOOP\r\n')).toBe('OK\r\n');
    expect(await c.ask('QUOTA\r\n')).toBe(`BAD NOTAUTH ${e('QUOTA needs LOGIN first')}\r\n`);
    expect(await c.ask('LOGIN alice wrong%2Dpw%2D1\r\n')).toBe(
      `NO AUTH ${e('wrong user name or password')}\r\n`,
    );
    expect(await c.ask('LOGIN nobody x\r\n')).toBe(
      `NO AUTH ${e('wrong user name or password')}\r\n`,
    );
    expect(await c.ask('login alice secret%2Dpw%2D1\r\n')).toBe('OK\r\n');
    // A new LOGIN ends the previous one, whatever its outcome.
    expect(await c.ask('LOGIN alice wrong%2Dpw%2D1\r\n')).toMatch(/^NO AUTH /);
    expect(await c.ask('QUOTA\r\n')).toMatch(/^BAD NOTAUTH /);
    expect(await c.ask('LOGIN alice secret%2Dpw%2D1\r\n')).toBe('OK\r\n');
  });

  it('takes the password as a literal', async () => {
    const { path } = await setup();
    const c = await open(path);
    expect(await c.ask('LOGIN alice {11}\r\nsecret-pw-1\r\n')).toBe('OK\r\n');
  });

  it('sets and reads the full name', async () => {
    const { path, store } = await setup();
    const c = await open(path);
    await c.ask('LOGIN alice secret%2Dpw%2D1\r\n');
    expect(await c.ask('FULLNAME\r\n')).toBe('OK {0}\r\n\r\n');
    expect(await c.ask('FULLNAME Zo%C3%AB%20Smith\r\n')).toBe('OK\r\n');
    expect(await c.ask('FULLNAME\r\n')).toBe('OK Zo%C3%AB%20Smith\r\n');
    expect(await c.ask('FULLNAME a%0Ab\r\n')).toBe(
      `NO INVALID ${e('the full name must not contain control characters')}\r\n`,
    );
    expect((await store.get('alice')).fullName).toBe('Zoë Smith');
  });

  it('reports quota usage and limits', async () => {
    const { path } = await setup();
    const c = await open(path);
    await c.ask('LOGIN alice secret%2Dpw%2D1\r\n');
    expect(await c.ask('QUOTA\r\n')).toBe('OK 0 1000000 0 100\r\n');
    expect(await c.ask('QUOTA x\r\n')).toBe(`BAD SYNTAX ${e('usage: QUOTA')}\r\n`);
  });

  it('reads and changes forwarding as literals', async () => {
    const { path, store } = await setup();
    const c = await open(path);
    await c.ask('LOGIN alice secret%2Dpw%2D1\r\n');
    expect(await c.ask('MAILSTATUS\r\n')).toBe('OK {15}\r\nkeep-copy: yes\n\r\n');
    const settings = 'keep-copy: no\nforward: bob@example.net\n';
    expect(await c.ask(`MAILCHANGE {${settings.length}}\r\n${settings}\r\n`)).toBe('OK\r\n');
    expect(await c.ask('MAILSTATUS\r\n')).toBe(`OK {${settings.length}}\r\n${settings}\r\n`);
    expect((await store.get('alice')).forwarding).toEqual({
      addresses: ['bob@example.net'],
      keepCopy: false,
    });
    const self = 'keep-copy: no\nforward: alice@example.org\n';
    expect(await c.ask(`MAILCHANGE {${self.length}}\r\n${self}\r\n`)).toBe(
      `NO INVALID ${e('forwarding to oneself without keeping a copy would lose mail')}\r\n`,
    );
    const junk = 'keep: maybe\n';
    expect(await c.ask(`MAILCHANGE {${junk.length}}\r\n${junk}\r\n`)).toBe(
      `BAD SYNTAX ${e("unknown setting 'keep'")}\r\n`,
    );
    expect((await store.get('alice')).forwarding.addresses).toEqual(['bob@example.net']);
  });

  it('reads and changes the vacation message', async () => {
    const { path } = await setup();
    const c = await open(path);
    await c.ask('LOGIN alice secret%2Dpw%2D1\r\n');
    const off = 'enabled: no\ndays: 7\nsubject: \n\n';
    expect(await c.ask('VACATION\r\n')).toBe(`OK {${off.length}}\r\n${off}\r\n`);
    const on = 'enabled: yes\ndays: 3\nsubject: Away\n\nBack on Monday.\n';
    expect(await c.ask(`VACATIONCHANGE {${on.length}}\r\n${on}\r\n`)).toBe('OK\r\n');
    expect(await c.ask('VACATION\r\n')).toBe(`OK {${on.length}}\r\n${on}\r\n`);
    const bad = 'enabled: yes\ndays: 0\nsubject: Away\n\nx';
    expect(await c.ask(`VACATIONCHANGE {${bad.length}}\r\n${bad}\r\n`)).toBe(
      `NO INVALID ${e('days between replies must be 1..365')}\r\n`,
    );
  });

  it('lists and clears the vacation log', async () => {
    const { path, store } = await setup();
    const c = await open(path);
    await c.ask('LOGIN alice secret%2Dpw%2D1\r\n');
    expect(await c.ask('VACLOG\r\n')).toBe('OK {0}\r\n\r\n');
    await store.appendVacationLog('alice', {
      sender: 'x@example.net',
      at: '2026-12-01T09:00:00.000Z',
    });
    const log = '2026-12-01T09:00:00.000Z x@example.net\n';
    expect(await c.ask('VACLOG\r\n')).toBe(`OK {${log.length}}\r\n${log}\r\n`);
    expect(await c.ask('VACLOGCLEAR\r\n')).toBe('OK\r\n');
    expect(await c.ask('VACLOG\r\n')).toBe('OK {0}\r\n\r\n');
  });

  it('changes the password after checking the old one and the policy', async () => {
    const { path, store } = await setup();
    const c = await open(path);
    await c.ask('LOGIN alice secret%2Dpw%2D1\r\n');
    expect(await c.ask('PASSWORD wrong%2Dpw new%2Dsecret%2D2\r\n')).toBe(
      `NO AUTH ${e('the old password is wrong')}\r\n`,
    );
    expect(await c.ask('PASSWORD secret%2Dpw%2D1 short1\r\n')).toBe(
      `NO WEAK ${e('the password must be at least 8 characters long')}\r\n`,
    );
    expect(await c.ask('PASSWORD secret%2Dpw%2D1 alice\r\n')).toMatch(/^NO WEAK /);
    expect(await c.ask('PASSWORD secret%2Dpw%2D1 new%2Dsecret%2D2\r\n')).toBe('OK\r\n');
    expect(await store.authenticate('alice', 'new-secret-2')).toBe(true);
  });

  it('answers LOGOUT and closes the connection', async () => {
    const { path } = await setup();
    const c = await open(path);
    await c.ask('LOGIN alice secret%2Dpw%2D1\r\n');
    expect(await c.ask('LOGOUT\r\n')).toBe('OK\r\n');
    await c.whenClosed();
  });

  it('refuses unknown commands and malformed lines with BAD and goes on', async () => {
    const { path } = await setup();
    const c = await open(path);
    expect(await c.ask('FROB\r\n')).toBe(`BAD UNKNOWN ${e('unknown command FROB')}\r\n`);
    expect(await c.ask('toString\r\n')).toBe(`BAD UNKNOWN ${e('unknown command toString')}\r\n`);
    expect(await c.ask('A  B\r\n')).toBe(`BAD SYNTAX ${e('an empty token')}\r\n`);
    expect(await c.ask('NOOP\r\n')).toBe('OK\r\n');
  });

  it('answers pipelined commands in order', async () => {
    const { path } = await setup();
    const c = await open(path);
    c.send('NOOP\r\nLOGIN alice secret%2Dpw%2D1\r\nQUOTA\r\nFROB\r\nNOOP\r\n');
    expect(await c.replies(5)).toBe(
      `OK\r\nOK\r\nOK 0 1000000 0 100\r\nBAD UNKNOWN ${e('unknown command FROB')}\r\nOK\r\n`,
    );
  });

  it('says NO CORRUPT for an unreadable record and serves other users', async () => {
    const { path, store, root } = await setup();
    await store.create('bob', 'secret-pw-1');
    const { writeFileSync } = await import('node:fs');
    writeFileSync(join(root, 'accounts', 'alice.json'), 'not json');
    const c = await open(path);
    expect(await c.ask('LOGIN alice secret%2Dpw%2D1\r\n')).toBe(
      `NO CORRUPT ${e('the account record cannot be read; ask an administrator')}\r\n`,
    );
    expect(await c.ask('LOGIN bob secret%2Dpw%2D1\r\n')).toBe('OK\r\n');
  });
});

describe('accountd server: limits', () => {
  it('refuses a long line with BAD LINE and goes on', async () => {
    const { path } = await setup({ limits: { line: 64, literal: 100, commands: 100 } });
    const c = await open(path);
    expect(await c.ask(`NOOP ${'x'.repeat(100)}\r\n`)).toBe(
      `BAD LINE ${e('a line longer than 64 bytes')}\r\n`,
    );
    expect(await c.ask('NOOP\r\n')).toBe('OK\r\n');
  });

  it('refuses a large literal with BAD LITERAL and closes', async () => {
    const { path } = await setup({ limits: { line: 64, literal: 100, commands: 100 } });
    const c = await open(path);
    expect(await c.ask('MAILCHANGE {101}\r\n')).toBe(
      `BAD LITERAL ${e('a literal larger than 100 bytes')}\r\n`,
    );
    await c.whenClosed();
  });

  it('closes after the allowed number of commands with BAD LIMIT', async () => {
    const { path } = await setup({ limits: { line: 64, literal: 100, commands: 3 } });
    const c = await open(path);
    c.send('NOOP\r\nNOOP\r\nFROB\r\nNOOP\r\nNOOP\r\n');
    await c.whenClosed();
    expect(c.received.toString()).toBe(
      `OK\r\nOK\r\nBAD UNKNOWN ${e('unknown command FROB')}\r\nBAD LIMIT ${e('more than 3 commands')}\r\n`,
    );
  });

  it('closes an idle connection with BAD TIMEOUT', async () => {
    const { path } = await setup({ idleTimeoutMs: 150 });
    const c = await open(path);
    expect(await c.ask('NOOP\r\n')).toBe('OK\r\n');
    await c.whenClosed();
    expect(c.received.toString()).toBe(`OK\r\nBAD TIMEOUT ${e('idle for too long')}\r\n`);
  });

  it('refuses connections over the limit with BAD LIMIT and serves the others', async () => {
    const { path, server } = await setup({ maxConnections: 2 });
    const a = await open(path);
    const b = await open(path);
    expect(await a.ask('NOOP\r\n')).toBe('OK\r\n');
    expect(await b.ask('NOOP\r\n')).toBe('OK\r\n');
    const c = await open(path);
    await c.whenClosed();
    expect(c.received.toString()).toBe(`BAD LIMIT ${e('too many connections')}\r\n`);
    expect(server.connectionCount).toBe(2);
    a.destroy();
    await new Promise((r) => setTimeout(r, 50));
    const d = await open(path);
    expect(await d.ask('NOOP\r\n')).toBe('OK\r\n');
  });

  it('refuses to start on a socket another server answers on', async () => {
    const { path, store } = await setup();
    const { AccountdServer } = await import('../../../src/accountd/server/accountd-server.js');
    const second = new AccountdServer({ store });
    await expect(second.listenUnix(path)).rejects.toMatchObject({
      code: 'VESPER_ACCOUNTD_ALREADY_RUNNING',
    });
  });
});

describe('accountd server: failed logins', () => {
  it('locks a user out after repeated failures until the lockout expires, and logs it without the password', async () => {
    let now = 1_700_000_000_000;
    const lines: string[] = [];
    const log = createLogger({
      name: 'accountd',
      stream: new Writable({
        write(chunk: Buffer, _enc, cb) {
          lines.push(chunk.toString());
          cb();
        },
      }),
    });
    const { path } = await setup({
      log,
      now: () => now,
      lockout: { attempts: 3, windowMs: 60_000, durationMs: 600_000 },
    });
    const c = await open(path);
    for (let i = 0; i < 3; i++) {
      expect(await c.ask('LOGIN alice hunter%2D2%2Dwrong\r\n')).toMatch(/^NO AUTH /);
    }
    expect(await c.ask('LOGIN alice secret%2Dpw%2D1\r\n')).toBe(
      `NO LOCKED ${e('too many failed logins; try again later')}\r\n`,
    );
    now += 600_000;
    expect(await c.ask('LOGIN alice secret%2Dpw%2D1\r\n')).toBe('OK\r\n');
    const events = lines.map((l) => JSON.parse(l) as Record<string, unknown>);
    const logins = events.filter((l) => l.event === 'login');
    expect(logins.map((l) => l.outcome)).toEqual([
      'failure',
      'failure',
      'failure',
      'lockout',
      'locked',
      'success',
    ]);
    expect(logins.every((l) => l.user === 'alice' && l.client === 'local')).toBe(true);
    expect(logins[3]!.msg).toBe('Too many failed logins: the user alice is locked out');
    const all = lines.join('');
    expect(all).not.toContain('hunter');
    expect(all).not.toContain('secret');
  });

  it('slows the reply to a failed login', async () => {
    const { path } = await setup({ failureDelayMs: 120 });
    const c = await open(path);
    const start = Date.now();
    await c.ask('LOGIN alice wrong%2Dpw%2D1\r\n');
    expect(Date.now() - start).toBeGreaterThanOrEqual(110);
  });

  it('throttles per end-user address when a local client names it', async () => {
    const { path, store } = await setup({
      lockout: { attempts: 2, windowMs: 60_000, durationMs: 60_000 },
    });
    await store.create('bob', 'secret-pw-1');
    const c = await open(path);
    await c.ask('LOGIN alice wrong1xx 192.0.2.7\r\n');
    await c.ask('LOGIN bob wrong1xx 192.0.2.7\r\n');
    // The address is locked now: even a right password from it is refused...
    expect(await c.ask('LOGIN bob secret%2Dpw%2D1 192.0.2.7\r\n')).toMatch(/^NO LOCKED /);
    // ...while the same user from another address gets in.
    expect(await c.ask('LOGIN bob secret%2Dpw%2D1 192.0.2.8\r\n')).toBe('OK\r\n');
  });
});

describe('accountd server: concurrent writers', () => {
  it('ends with one complete version on disk after 50 clients change the same forwarding', async () => {
    const { path, store } = await setup({ maxConnections: 100 });
    const versions = Array.from(
      { length: 50 },
      (_, i) =>
        `keep-copy: ${i % 2 === 0 ? 'yes' : 'no'}\nforward: u${i}@example.net\nforward: v${i}@example.net\n`,
    );
    const conns = await Promise.all(versions.map(() => open(path)));
    await Promise.all(conns.map((c) => c.ask('LOGIN alice secret%2Dpw%2D1\r\n')));
    const replies = await Promise.all(
      conns.map((c, i) => c.ask(`MAILCHANGE {${versions[i]!.length}}\r\n${versions[i]!}\r\n`)),
    );
    expect(replies.every((r) => r === 'OK\r\n')).toBe(true);
    const { formatForwarding } = await import('../../../src/accountd/protocol/settings-text.js');
    const onDisk = formatForwarding((await store.get('alice')).forwarding);
    expect(versions).toContain(onDisk);
    const { readdirSync } = await import('node:fs');
    expect(readdirSync(store.dir)).toEqual(['alice.json']);
  });
});

describe('accountd server: close', () => {
  it('drains: answers what was received, then closes every connection', async () => {
    const { path, server } = await setup();
    const c = await open(path);
    await c.ask('LOGIN alice secret%2Dpw%2D1\r\n');
    c.send('QUOTA\r\n');
    await new Promise((r) => setTimeout(r, 20));
    await server.close();
    await c.whenClosed();
    expect(c.received.toString()).toBe('OK\r\nOK 0 1000000 0 100\r\n');
    await server.close(); // idempotent
  });
});
