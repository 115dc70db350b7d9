import { describe, expect, it } from 'vitest';
import {
  decodeXsrfToken,
  encodeXsrfToken,
  newXsrfTokenBytes,
  xsrfTokensEqual,
} from '../../src/web/xsrf-token.js';

const TOKEN = Buffer.from('000102030405060708090a0b0c0d0e0f', 'hex');

describe('encodeXsrfToken', () => {
  it('writes version 2 as 2|mask|masked token|timestamp with a 4-byte mask', () => {
    const s = encodeXsrfToken(TOKEN, 1300000000.9);
    const m = /^2\|([0-9a-f]{8})\|([0-9a-f]{32})\|1300000000$/.exec(s);
    expect(m).not.toBe(null);
    const mask = Buffer.from(m![1]!, 'hex');
    const masked = Buffer.from(m![2]!, 'hex');
    const unmasked = Buffer.from(masked.map((b, i) => b ^ mask[i % 4]!));
    expect(unmasked).toEqual(TOKEN);
  });

  it('uses a fresh mask on every call, so the same token never repeats', () => {
    const seen = new Set<string>();
    for (let i = 0; i < 50; i++) seen.add(encodeXsrfToken(TOKEN, 1));
    expect(seen.size).toBeGreaterThan(45);
  });

  it('writes version 1 as plain hex', () => {
    expect(encodeXsrfToken(TOKEN, 5, 1)).toBe('000102030405060708090a0b0c0d0e0f');
  });
});

describe('decodeXsrfToken', () => {
  it('reads back what encodeXsrfToken wrote', () => {
    const decoded = decodeXsrfToken(encodeXsrfToken(TOKEN, 1300000000));
    expect(decoded).toEqual({ version: 2, token: TOKEN, timestamp: 1300000000 });
  });

  it('reads a Tornado-written version 2 token', () => {
    // mask 01020304, token "abcd" → masked 60606060.
    expect(decodeXsrfToken('2|01020304|60606060|1234')).toEqual({
      version: 2,
      token: Buffer.from('abcd'),
      timestamp: 1234,
    });
  });

  it('reads a bare hex token as version 1 with the current time', () => {
    const decoded = decodeXsrfToken('deadbeef', () => 42.7);
    expect(decoded).toEqual({ version: 1, token: Buffer.from('deadbeef', 'hex'), timestamp: 42 });
  });

  it('reads a legacy token that is not hex as its own bytes', () => {
    expect(decodeXsrfToken('xoxo', () => 1)).toEqual({
      version: 1,
      token: Buffer.from('xoxo'),
      timestamp: 1,
    });
    // Odd-length hex is not hex either.
    expect(decodeXsrfToken('abc', () => 1)?.token).toEqual(Buffer.from('abc'));
  });

  it('gives null for unknown versions and malformed version 2 tokens', () => {
    for (const bad of [
      '3|01020304|60606767|1234',
      '2|01020304|60606767',
      '2|01020304|60606767|1234|5',
      '2|0102030|60606767|1234',
      '2|0102|60606767|1234',
      '2|01020304|6060676|1234',
      '2|01020304|zz606767|1234',
      '2|01020304|60606767|',
      '2|01020304|60606767|12x',
    ]) {
      expect(decodeXsrfToken(bad)).toBe(null);
    }
  });
});

describe('newXsrfTokenBytes and xsrfTokensEqual', () => {
  it('makes 16 random bytes', () => {
    const a = newXsrfTokenBytes();
    const b = newXsrfTokenBytes();
    expect(a.length).toBe(16);
    expect(a.equals(b)).toBe(false);
  });

  it('compares tokens, including ones of different lengths', () => {
    expect(xsrfTokensEqual(TOKEN, Buffer.from(TOKEN))).toBe(true);
    expect(xsrfTokensEqual(TOKEN, newXsrfTokenBytes())).toBe(false);
    expect(xsrfTokensEqual(TOKEN, TOKEN.subarray(0, 15))).toBe(false);
    expect(xsrfTokensEqual(Buffer.alloc(0), Buffer.alloc(0))).toBe(true);
  });
});
