/**
 * @module accountd round trips: `LOGIN` then `QUOTA` through the real client
 * against a real server on a temporary Unix socket, on one connection and on
 * 32 connections at once, about three seconds each. Bench accounts use a
 * cheap scrypt cost (N=2^10), so the figures measure the server and protocol;
 * a last line gives LOGINs per second at the default cost for comparison.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AccountdClient } from '../src/accountd/client/index.js';
import { AccountdServer } from '../src/accountd/server/index.js';
import { AccountStore, DEFAULT_SCRYPT, type ScryptParams } from '../src/accountd/store/index.js';
import type { Benchmark } from './run.js';

const CHEAP: ScryptParams = { N: 1024, r: 8, p: 1, keylen: 32 };
const DURATION_MS = 3000;
const PASSWORD = 'bench-pw-1';

async function loop(clients: AccountdClient[], users: string[], ms: number): Promise<number> {
  let done = 0;
  const deadline = Date.now() + ms;
  await Promise.all(
    clients.map(async (c, i) => {
      while (Date.now() < deadline) {
        await c.login(users[i]!, PASSWORD);
        await c.quota();
        done += 1;
      }
    }),
  );
  return done;
}

const bench: Benchmark = async (report) => {
  const root = mkdtempSync(join(tmpdir(), 'vesper-bench-accountd-'));
  const store = new AccountStore({
    dir: join(root, 'accounts'),
    mailDir: join(root, 'mail'),
    quotaDefaults: { bytes: 0, messages: 0 },
    scrypt: CHEAP,
  });
  await store.open();
  const users = Array.from({ length: 32 }, (_, i) => `bench${i}`);
  for (const u of users) await store.create(u, PASSWORD);
  await store.create('benchdefault', PASSWORD, { scrypt: DEFAULT_SCRYPT });
  const server = new AccountdServer({ store, maxConnections: 64 });
  const path = join(root, 'accountd.sock');
  await server.listenUnix(path);
  try {
    report(
      `bench accounts use scrypt N=${CHEAP.N} r=${CHEAP.r} p=${CHEAP.p} (cheap; production default N=${DEFAULT_SCRYPT.N})`,
    );
    for (const n of [1, 32]) {
      const clients = users.slice(0, n).map((_) => new AccountdClient({ path }));
      await loop(clients, users, 200); // warm up
      const start = process.hrtime.bigint();
      const done = await loop(clients, users, DURATION_MS);
      const secs = Number(process.hrtime.bigint() - start) / 1e9;
      report(
        `LOGIN+QUOTA on ${String(n).padStart(2)} connection${n === 1 ? ' ' : 's'}: ${(done / secs).toFixed(0)} round trips/s (${done} in ${secs.toFixed(1)} s)`,
      );
      for (const c of clients) c.destroy();
    }
    const c = new AccountdClient({ path });
    const deadline = Date.now() + 2000;
    let logins = 0;
    const start = process.hrtime.bigint();
    while (Date.now() < deadline) {
      await c.login('benchdefault', PASSWORD);
      logins += 1;
    }
    const secs = Number(process.hrtime.bigint() - start) / 1e9;
    report(`LOGIN at the default cost on 1 connection: ${(logins / secs).toFixed(1)} logins/s`);
    c.destroy();
  } finally {
    await server.close();
    rmSync(root, { recursive: true, force: true });
  }
};

export default bench;
