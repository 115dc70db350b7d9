/**
 * @module The behaviour every {@link TokenStore} must show, run against each
 * implementation by its own test file.
 */
import { describe, it, expect, afterEach } from 'vitest';
import { isVesperError } from '../../../src/shared/errors/index.js';
import type { TokenStore } from '../../../src/web/websocket/token-store.js';

/** A store under test and a way to let time pass for it. */
export interface TokenStoreFixture {
  store: TokenStore;
  /** Lets `ms` milliseconds pass as far as the store's expiry is concerned. */
  elapse: (ms: number) => Promise<void>;
  /**
   * Further stores over the same backing data (other hosts), for the
   * concurrency test; the fixture closes them.
   */
  peers: (count: number) => Promise<TokenStore[]>;
  close: () => Promise<void>;
}

async function rejection(promise: Promise<unknown>): Promise<unknown> {
  try {
    await promise;
  } catch (err) {
    return err;
  }
  throw new Error('expected a rejection');
}

/** Registers the contract suite for one implementation. */
export function tokenStoreContract(
  name: string,
  makeFixture: () => Promise<TokenStoreFixture>,
): void {
  describe(`${name} (TokenStore contract)`, () => {
    let fixture: TokenStoreFixture | undefined;
    const open = async (): Promise<TokenStoreFixture> => (fixture = await makeFixture());
    afterEach(async () => {
      await fixture?.close();
      fixture = undefined;
    });

    it('issues 256-bit base64url tokens that are all different', async () => {
      const { store } = await open();
      const tokens = await Promise.all(Array.from({ length: 500 }, () => store.issue('alice')));
      for (const token of tokens) {
        expect(token).toMatch(/^[A-Za-z0-9_-]{43}$/);
        expect(Buffer.from(token, 'base64url')).toHaveLength(32);
      }
      expect(new Set(tokens).size).toBe(tokens.length);
      // Every bit position varies across 500 tokens: the bytes are not a counter.
      const ones = new Array<number>(256).fill(0);
      for (const token of tokens) {
        const bytes = Buffer.from(token, 'base64url');
        for (let bit = 0; bit < 256; bit++) ones[bit]! += (bytes[bit >> 3]! >> (bit & 7)) & 1;
      }
      for (const count of ones) {
        expect(count).toBeGreaterThan(150);
        expect(count).toBeLessThan(350);
      }
    });

    it('gives the subject back once and then never again', async () => {
      const { store } = await open();
      const token = await store.issue('alice@example.org');
      expect(await store.consume(token)).toBe('alice@example.org');
      expect(await store.consume(token)).toBeNull();
      expect(await store.consume(token)).toBeNull();
    });

    it('keeps subjects byte for byte, including non-ASCII ones', async () => {
      const { store } = await open();
      const subject = 'jürgen/ユーザー:1 "quoted"';
      expect(await store.consume(await store.issue(subject))).toBe(subject);
    });

    it('keeps tokens for different subjects apart', async () => {
      const { store } = await open();
      const a = await store.issue('alice');
      const b = await store.issue('bob');
      expect(await store.consume(b)).toBe('bob');
      expect(await store.consume(a)).toBe('alice');
    });

    it('lets exactly one of 200 concurrent consumers have the subject', async () => {
      const { store } = await open();
      const token = await store.issue('alice');
      const results = await Promise.all(Array.from({ length: 200 }, () => store.consume(token)));
      expect(results.filter((r) => r === 'alice')).toHaveLength(1);
      expect(results.filter((r) => r === null)).toHaveLength(199);
    });

    it('lets exactly one of several stores over the same data consume a token', async () => {
      const { store, peers } = await open();
      const others = await peers(8);
      for (let round = 0; round < 20; round++) {
        const token = await store.issue(`user${round}`);
        const results = await Promise.all(
          [store, ...others].flatMap((s) => [s.consume(token), s.consume(token)]),
        );
        expect(results.filter((r) => r === `user${round}`)).toHaveLength(1);
      }
    });

    it('answers null for an unknown token', async () => {
      const { store } = await open();
      expect(await store.consume(Buffer.alloc(32, 7).toString('base64url'))).toBeNull();
    });

    it('answers null for malformed tokens without failing', async () => {
      const { store } = await open();
      const token = await store.issue('alice');
      for (const bad of ['', 'x', token.slice(1), `${token}=`, `${token}A`, 'a'.repeat(100_000)]) {
        expect(await store.consume(bad)).toBeNull();
      }
      expect(await store.consume(`${token.slice(0, 42)}+`)).toBeNull();
      // The real token is left intact by the attempts.
      expect(await store.consume(token)).toBe('alice');
    });

    it('honours the lifetime given to issue', async () => {
      const { store, elapse } = await open();
      const short = await store.issue('alice', 200);
      const long = await store.issue('bob', 5_000);
      await elapse(400);
      expect(await store.consume(short)).toBeNull();
      expect(await store.consume(long)).toBe('bob');
    });

    it('refuses an empty or oversized subject and a bad lifetime', async () => {
      const { store } = await open();
      const cases: [string, number | undefined][] = [
        ['', undefined],
        ['x'.repeat(1025), undefined],
        ['alice', 0],
        ['alice', -5],
        ['alice', 1.5],
        ['alice', Number.NaN],
        ['alice', 86_400_001],
      ];
      for (const [subject, ttl] of cases) {
        const err = await rejection(store.issue(subject, ttl));
        expect(isVesperError(err, 'VESPER_WEB_TOKEN_INVALID_ARGUMENT')).toBe(true);
      }
      expect(await store.issue('x'.repeat(1024))).toMatch(/^[A-Za-z0-9_-]{43}$/);
    });

    it('refuses to work after close, and closing twice is harmless', async () => {
      const { store } = await open();
      const token = await store.issue('alice');
      await store.close();
      await store.close();
      const issued = await rejection(store.issue('alice'));
      expect(isVesperError(issued, 'VESPER_WEB_TOKEN_STORE_CLOSED')).toBe(true);
      const consumed = await rejection(store.consume(token));
      expect(isVesperError(consumed, 'VESPER_WEB_TOKEN_STORE_CLOSED')).toBe(true);
    });
  });
}
