import { createServer, type Server, type Socket } from 'node:net';
import { join } from 'node:path';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { UpstreamPool } from '../../../src/frontend/worker/proxy/upstream-pool.js';
import { removeDir, tempDir } from './helpers.js';

const dir = tempDir();
const path = join(dir, 'u.sock');
let server: Server | null = null;
const serverSockets: Socket[] = [];

async function listen(): Promise<void> {
  server = createServer((s) => {
    serverSockets.push(s);
    s.on('error', () => undefined);
  });
  await new Promise<void>((resolve) => server!.listen(path, resolve));
}

function connected(pool: UpstreamPool): Promise<Socket> {
  const socket = pool.connect(path, () => undefined);
  return new Promise((resolve) => socket.once('connect', () => resolve(socket)));
}

afterEach(async () => {
  for (const s of serverSockets.splice(0)) s.destroy();
  await new Promise((resolve) => (server === null ? resolve(undefined) : server.close(resolve)));
  server = null;
});

describe('UpstreamPool', () => {
  it('hands back the most recently returned idle connection first', async () => {
    await listen();
    const pool = new UpstreamPool();
    const a = await connected(pool);
    const b = await connected(pool);
    pool.give(path, a);
    pool.give(path, b);
    expect(pool.idleCount(path)).toBe(2);
    expect(pool.take(path)).toBe(b);
    expect(pool.take(path)).toBe(a);
    expect(pool.take(path)).toBeNull();
    pool.close();
    a.destroy();
    b.destroy();
  });

  it('drops an idle connection that the session closes, or that receives bytes', async () => {
    await listen();
    const pool = new UpstreamPool();
    const a = await connected(pool);
    const b = await connected(pool);
    pool.give(path, a);
    pool.give(path, b);
    serverSockets[0]!.end();
    serverSockets[1]!.write('unexpected');
    for (let i = 0; i < 50 && pool.idleCount(path) > 0; i++)
      await new Promise((r) => setTimeout(r, 10));
    expect(pool.idleCount(path)).toBe(0);
    expect(a.destroyed && b.destroyed).toBe(true);
  });

  it('closes idle connections after the idle timeout and keeps no more than the cap', async () => {
    await listen();
    const pool = new UpstreamPool({ idleTimeout: 50, maxIdlePerPath: 1 });
    const a = await connected(pool);
    const b = await connected(pool);
    pool.give(path, a);
    pool.give(path, b);
    expect(b.destroyed).toBe(true);
    expect(pool.idleCount(path)).toBe(1);
    await new Promise((r) => setTimeout(r, 150));
    expect(pool.idleCount(path)).toBe(0);
    expect(a.destroyed).toBe(true);
  });
});

afterAll(() => removeDir(dir));
