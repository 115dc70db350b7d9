import { createHash } from 'node:crypto';
import { createServer } from 'node:net';
import { it, expect, beforeAll, afterAll } from 'vitest';
import { createClient } from 'redis';
import { isVesperError } from '../../../src/shared/errors/index.js';
import { RedisTokenStore } from '../../../src/web/websocket/redis-token-store.js';
import type { TokenStore } from '../../../src/web/websocket/token-store.js';
import { describeWithRedis, redisUrl } from './redis-available.js';
import { tokenStoreContract } from './token-store-contract.js';

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));
let prefixCounter = 0;
const freshPrefix = (): string => `vesper-test:${process.pid}:${++prefixCounter}:`;

if (redisUrl() !== '') {
  tokenStoreContract('RedisTokenStore', async () => {
    const keyPrefix = freshPrefix();
    const store = await RedisTokenStore.connect(redisUrl(), { keyPrefix });
    const extra: TokenStore[] = [];
    return {
      store,
      elapse: sleep,
      // Each peer has its own connection, as another host would.
      peers: async (count: number) => {
        for (let i = 0; i < count; i++) {
          extra.push(await RedisTokenStore.connect(redisUrl(), { keyPrefix }));
        }
        return extra;
      },
      close: async () => {
        await Promise.all([store, ...extra].map((s) => s.close()));
      },
    };
  });
}

describeWithRedis('RedisTokenStore', (url) => {
  const raw = createClient({ url });
  beforeAll(async () => {
    await raw.connect();
  });
  afterAll(async () => {
    await raw.close();
  });

  it('keeps only the SHA-256 of the token in Redis, under the configured prefix', async () => {
    const keyPrefix = freshPrefix();
    const store = await RedisTokenStore.connect(url, { keyPrefix });
    try {
      const token = await store.issue('alice', 5_000);
      const keys = await raw.keys(`${keyPrefix}*`);
      const hashed = createHash('sha256').update(token).digest('base64url');
      expect(keys).toEqual([`${keyPrefix}${hashed}`]);
      expect(keys[0]).not.toContain(token);
      expect(await raw.get(keys[0]!)).toBe('alice');
      const pttl = await raw.pTTL(keys[0]!);
      expect(pttl).toBeGreaterThan(4_000);
      expect(pttl).toBeLessThanOrEqual(5_000);
      expect(await store.consume(token)).toBe('alice');
      expect(await raw.exists(keys[0]!)).toBe(0);
    } finally {
      await store.close();
    }
  });

  it('gives Redis a 20-second expiry by default', async () => {
    const keyPrefix = freshPrefix();
    const store = await RedisTokenStore.connect(url, { keyPrefix });
    try {
      await store.issue('alice');
      const [key] = await raw.keys(`${keyPrefix}*`);
      const pttl = await raw.pTTL(key!);
      expect(pttl).toBeGreaterThan(19_000);
      expect(pttl).toBeLessThanOrEqual(20_000);
    } finally {
      await store.close();
    }
  });

  it('does not see tokens issued under another prefix', async () => {
    const a = await RedisTokenStore.connect(url, { keyPrefix: freshPrefix() });
    const b = await RedisTokenStore.connect(url, { keyPrefix: freshPrefix() });
    try {
      const token = await a.issue('alice');
      expect(await b.consume(token)).toBeNull();
      expect(await a.consume(token)).toBe('alice');
    } finally {
      await Promise.all([a.close(), b.close()]);
    }
  });

  it('works on a client the caller owns and leaves it open on close', async () => {
    const store = new RedisTokenStore(raw, { keyPrefix: freshPrefix() });
    const token = await store.issue('alice');
    await store.close();
    expect(await raw.ping()).toBe('PONG');
    const again = new RedisTokenStore(raw, { keyPrefix: 'unused:' });
    expect(await again.consume(token)).toBeNull();
  });

  it('reports an unreachable Redis as VESPER_WEB_TOKEN_STORE_UNAVAILABLE', async () => {
    // A port that was free a moment ago and that nothing listens on.
    const port = await new Promise<number>((resolve) => {
      const server = createServer().listen(0, '127.0.0.1', () => {
        const { port } = server.address() as { port: number };
        server.close(() => resolve(port));
      });
    });
    let caught: unknown;
    try {
      await RedisTokenStore.connect(`redis://127.0.0.1:${port}`, { connectTimeoutMs: 1_000 });
    } catch (err) {
      caught = err;
    }
    expect(isVesperError(caught, 'VESPER_WEB_TOKEN_STORE_UNAVAILABLE')).toBe(true);
  });

  it('fails commands at once, not after a hang, when Redis goes away', async () => {
    const store = new RedisTokenStore(
      {
        set: () => Promise.reject(new Error('The client is closed')),
        getDel: () => Promise.reject(new Error('The client is closed')),
      },
      { keyPrefix: freshPrefix() },
    );
    let caught: unknown;
    try {
      await store.issue('alice');
    } catch (err) {
      caught = err;
    }
    expect(isVesperError(caught, 'VESPER_WEB_TOKEN_STORE_UNAVAILABLE')).toBe(true);
    caught = undefined;
    try {
      await store.consume(Buffer.alloc(32).toString('base64url'));
    } catch (err) {
      caught = err;
    }
    expect(isVesperError(caught, 'VESPER_WEB_TOKEN_STORE_UNAVAILABLE')).toBe(true);
  });
});
