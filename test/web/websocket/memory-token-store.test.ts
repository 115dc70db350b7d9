import { describe, it, expect, afterEach } from 'vitest';
import { isVesperError } from '../../../src/shared/errors/index.js';
import { MemoryTokenStore } from '../../../src/web/websocket/memory-token-store.js';
import { DEFAULT_TOKEN_TTL_MS } from '../../../src/web/websocket/token-store.js';
import { tokenStoreContract } from './token-store-contract.js';

function fakeClock(start = 1_700_000_000_000): {
  now: () => number;
  advance: (ms: number) => void;
} {
  let now = start;
  return { now: () => now, advance: (ms) => (now += ms) };
}

tokenStoreContract('MemoryTokenStore', () => {
  const clock = fakeClock();
  const store = new MemoryTokenStore({ clock: clock.now });
  return Promise.resolve({
    store,
    elapse: (ms: number) => {
      clock.advance(ms);
      return Promise.resolve();
    },
    // In-process stores share nothing across processes; "another host" is the
    // same store reached from elsewhere in the process.
    peers: (count: number) => Promise.resolve(Array.from({ length: count }, () => store)),
    close: () => store.close(),
  });
});

describe('MemoryTokenStore', () => {
  const stores: MemoryTokenStore[] = [];
  const make = (...args: ConstructorParameters<typeof MemoryTokenStore>): MemoryTokenStore => {
    const store = new MemoryTokenStore(...args);
    stores.push(store);
    return store;
  };
  afterEach(async () => {
    await Promise.all(stores.splice(0).map((s) => s.close()));
  });

  it('keeps a token for exactly 20 seconds by default', async () => {
    expect(DEFAULT_TOKEN_TTL_MS).toBe(20_000);
    const clock = fakeClock();
    const store = make({ clock: clock.now });
    const early = await store.issue('alice');
    const late = await store.issue('bob');
    clock.advance(19_999);
    expect(await store.consume(early)).toBe('alice');
    clock.advance(1);
    expect(await store.consume(late)).toBeNull();
  });

  it('drops an expired token when someone tries to use it', async () => {
    const clock = fakeClock();
    const store = make({ clock: clock.now, sweepIntervalMs: 0 });
    const token = await store.issue('alice', 100);
    clock.advance(100);
    expect(store.size).toBe(1);
    expect(await store.consume(token)).toBeNull();
    expect(store.size).toBe(0);
  });

  it('sweeps expired tokens out and keeps live ones', async () => {
    const clock = fakeClock();
    const store = make({ clock: clock.now, sweepIntervalMs: 0 });
    await Promise.all(Array.from({ length: 10 }, () => store.issue('old', 100)));
    const live = await store.issue('new', 1_000);
    clock.advance(500);
    store.sweep();
    expect(store.size).toBe(1);
    expect(await store.consume(live)).toBe('new');
  });

  it('sweeps on its own timer', async () => {
    const store = make({ sweepIntervalMs: 20 });
    await store.issue('alice', 1);
    await new Promise((resolve) => setTimeout(resolve, 80));
    expect(store.size).toBe(0);
  });

  it('holds at most maxTokens, evicting the token issued longest ago', async () => {
    const store = make({ maxTokens: 3 });
    const first = await store.issue('a');
    const second = await store.issue('b');
    const third = await store.issue('c');
    const fourth = await store.issue('d');
    expect(store.size).toBe(3);
    expect(await store.consume(first)).toBeNull();
    expect(await store.consume(second)).toBe('b');
    expect(await store.consume(third)).toBe('c');
    expect(await store.consume(fourth)).toBe('d');
  });

  it('makes room from expired tokens before evicting live ones', async () => {
    const clock = fakeClock();
    const store = make({ clock: clock.now, maxTokens: 2, sweepIntervalMs: 0 });
    const live = await store.issue('live', 10_000);
    await store.issue('dying', 10);
    clock.advance(20);
    const fresh = await store.issue('fresh');
    expect(await store.consume(live)).toBe('live');
    expect(await store.consume(fresh)).toBe('fresh');
  });

  it('refuses impossible options at construction', () => {
    for (const options of [{ maxTokens: 0 }, { maxTokens: 1.5 }, { sweepIntervalMs: -1 }]) {
      let caught: unknown;
      try {
        make(options);
      } catch (err) {
        caught = err;
      }
      expect(isVesperError(caught, 'VESPER_WEB_TOKEN_INVALID_ARGUMENT')).toBe(true);
    }
  });

  it('forgets every token when closed', async () => {
    const store = make();
    await store.issue('alice');
    await store.close();
    expect(store.size).toBe(0);
  });
});
