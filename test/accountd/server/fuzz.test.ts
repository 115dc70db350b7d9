import { afterEach, describe, expect, it } from 'vitest';
import { MessageParser } from '../../../src/accountd/protocol/message-parser.js';
import { makeStore, RawConn, startServer, tempDirs } from '../helpers.js';

const dirs = tempDirs();
const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
  dirs.cleanup();
});

/** mulberry32: a small seeded PRNG, so a failure can be replayed. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const VALID = [
  'LOGIN alice secret%2Dpw%2D1\r\n',
  'NOOP\r\n',
  'QUOTA\r\n',
  'FULLNAME Zo%C3%AB\r\n',
  'MAILCHANGE {36}\r\nkeep-copy: yes\nforward: b@example.net\n\r\n',
  'VACATIONCHANGE {43}\r\nenabled: yes\ndays: 3\nsubject: Away\n\nBack.\n\r\n',
  'VACLOG\r\n',
  'PASSWORD secret%2Dpw%2D1 secret%2Dpw%2D1\r\n',
  'MAILSTATUS\r\n',
];
const INTERESTING = [0x00, 0x0a, 0x0d, 0x20, 0x25, 0x7b, 0x7d, 0x30, 0x39, 0xff, 0x80];

function mutate(line: string, rand: () => number): Buffer {
  const bytes = [...Buffer.from(line)];
  const edits = 1 + Math.floor(rand() * 4);
  for (let i = 0; i < edits; i++) {
    const at = Math.floor(rand() * (bytes.length + 1));
    const pick = rand();
    const b =
      rand() < 0.5
        ? INTERESTING[Math.floor(rand() * INTERESTING.length)]!
        : Math.floor(rand() * 256);
    if (pick < 0.4) bytes[at] = b;
    else if (pick < 0.7) bytes.splice(at, 0, b);
    else bytes.splice(at, 1 + Math.floor(rand() * 3));
  }
  return Buffer.from(bytes);
}

describe('accountd fuzzing', () => {
  it('parses random bytes in random chunks without throwing', () => {
    const rand = prng(0xacc0);
    for (let round = 0; round < 150; round++) {
      const parser = new MessageParser({ line: 256, literal: 512 });
      const data = Buffer.from(Array.from({ length: 600 }, () => Math.floor(rand() * 256)));
      for (let i = 0; i < data.length;) {
        const n = 1 + Math.floor(rand() * 40);
        expect(() => parser.push(data.subarray(i, i + n))).not.toThrow();
        i += n;
      }
    }
  });

  it('survives random and mutated lines, and a well-behaved connection keeps working', async () => {
    const root = dirs.make();
    const store = await makeStore(root);
    await store.create('alice', 'secret-pw-1');
    const { server, path } = await startServer(store, root, {
      limits: { line: 512, literal: 1024, commands: 200 },
      idleTimeoutMs: 2000,
    });
    cleanups.push(() => server.destroy());
    const good = await RawConn.open(path);
    cleanups.push(() => good.destroy());
    expect(await good.ask('LOGIN alice secret%2Dpw%2D1\r\n')).toBe('OK\r\n');

    const rand = prng(20261202);
    for (let round = 0; round < 40; round++) {
      const bad = await RawConn.open(path);
      const chunks: Buffer[] = [];
      for (let i = 0; i < 30; i++) {
        if (rand() < 0.3) {
          chunks.push(
            Buffer.from(
              Array.from({ length: 1 + Math.floor(rand() * 80) }, () => Math.floor(rand() * 256)),
            ),
          );
        } else {
          chunks.push(mutate(VALID[Math.floor(rand() * VALID.length)]!, rand));
        }
      }
      const data = Buffer.concat(chunks);
      for (let i = 0; i < data.length;) {
        const n = 1 + Math.floor(rand() * 64);
        bad.send(data.subarray(i, i + n));
        i += n;
      }
      // Whatever the garbage did, the well-behaved client is served.
      expect(await good.ask('QUOTA\r\n')).toMatch(/^OK \d+ 1000000 \d+ 100\r\n$/);
      bad.destroy();
    }
    expect(await good.ask('NOOP\r\n')).toBe('OK\r\n');
    // The record is still a valid record.
    const rec = await store.get('alice');
    expect(rec.name).toBe('alice');
  });
});
