import { linkSync, mkdirSync, statSync, unlinkSync } from 'node:fs';
import { connect, createServer } from 'node:net';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { encodeLine, failure, MAX_LINE_BYTES } from '../../../src/session/init-protocol/index.js';
import { InitListener } from '../../../src/session/server/index.js';
import { silentLogger } from '../../../src/shared/log/index.js';
import { Cleanup, shortTempDir } from '../helpers.js';

const cleanup = new Cleanup();
afterEach(() => cleanup.run());

async function listen(): Promise<{ path: string; listener: InitListener }> {
  const dir = cleanup.dir(shortTempDir());
  mkdirSync(join(dir, 's'), { mode: 0o700 });
  const path = join(dir, 's', 'init.sock');
  const listener = new InitListener({
    path,
    log: silentLogger,
    handle: (r) =>
      Promise.resolve(
        r.op === 'status'
          ? { ok: true, sessions: [], spares: 3 }
          : failure('bad-credentials', `no ${r.user}`),
      ),
  });
  await listener.listen();
  cleanup.onClose(() => listener.close());
  return { path, listener };
}

/** Sends `data` in one write and collects everything until the server closes or `lines` arrived. */
function exchange(
  path: string,
  data: Buffer | string,
  lines: number,
): Promise<{ replies: unknown[]; closed: boolean }> {
  return new Promise((resolve, reject) => {
    const s = connect(path);
    let text = '';
    const replies = (): unknown[] =>
      text
        .split('\n')
        .filter(Boolean)
        .map((l) => JSON.parse(l) as unknown);
    s.on('data', (d: Buffer) => {
      text += d.toString();
      if (replies().length >= lines) {
        s.destroy();
        resolve({ replies: replies(), closed: false });
      }
    });
    s.on('end', () => resolve({ replies: replies(), closed: true }));
    s.on('error', reject);
    s.write(data);
  });
}

describe('InitListener', () => {
  it('listens with mode 0600 and answers several requests on one connection in order', async () => {
    const { path } = await listen();
    expect(statSync(path).mode & 0o777).toBe(0o600);
    const login = {
      op: 'login',
      user: 'alice',
      password: 'p',
      clientIp: '::1',
      tls: false,
      listener: 'l',
    };
    const { replies } = await exchange(
      path,
      Buffer.concat([
        encodeLine({ op: 'status' }),
        encodeLine(login),
        encodeLine({ op: 'status' }),
      ]),
      3,
    );
    expect(replies).toEqual([
      { ok: true, sessions: [], spares: 3 },
      { ok: false, error: 'bad-credentials', message: 'no alice' },
      { ok: true, sessions: [], spares: 3 },
    ]);
  });

  it('answers bad JSON and an invalid request with bad-request and keeps the connection', async () => {
    const { path } = await listen();
    const { replies, closed } = await exchange(
      path,
      'nope\n{"op":"explode"}\n{"op":"status"}\n',
      3,
    );
    expect(replies).toEqual([
      { ok: false, error: 'bad-request', message: 'The request is not JSON.' },
      { ok: false, error: 'bad-request', message: 'op must be "login" or "status"' },
      { ok: true, sessions: [], spares: 3 },
    ]);
    expect(closed).toBe(false);
  });

  it('answers a line over 64 KiB with bad-request and closes the connection', async () => {
    const { path } = await listen();
    const { replies, closed } = await exchange(
      path,
      `${'x'.repeat(MAX_LINE_BYTES + 10)}\n{"op":"status"}\n`,
      2,
    );
    expect(replies).toEqual([
      { ok: false, error: 'bad-request', message: 'The request line is longer than 64 KiB.' },
    ]);
    expect(closed).toBe(true);
  });

  it('refuses to start while another server owns the socket, and replaces a stale one', async () => {
    const { path, listener } = await listen();
    const second = new InitListener({
      path,
      log: silentLogger,
      handle: () => Promise.reject(new Error('x')),
    });
    await expect(second.listen()).rejects.toMatchObject({ code: 'VESPER_SESSION_INIT_IN_USE' });
    await listener.close();
    // A socket file left by a killed server: bound, then the process "dies" without unlinking.
    const stale = createServer();
    await new Promise<void>((r) => stale.listen(path, r));
    linkSync(path, `${path}.keep`);
    await new Promise<void>((r) => stale.close(() => r()));
    linkSync(`${path}.keep`, path);
    unlinkSync(`${path}.keep`);
    const third = new InitListener({
      path,
      log: silentLogger,
      handle: () => Promise.resolve(failure('unavailable', 'x')),
    });
    await third.listen();
    cleanup.onClose(() => third.close());
    expect((await exchange(path, '{"op":"status"}\n', 1)).replies).toEqual([
      { ok: false, error: 'unavailable', message: 'x' },
    ]);
  });
});
