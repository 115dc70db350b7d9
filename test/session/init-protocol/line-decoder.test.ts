import { describe, expect, it } from 'vitest';
import {
  encodeLine,
  JsonLineDecoder,
  MAX_LINE_BYTES,
  parseInitRequest,
  type DecodedLine,
} from '../../../src/session/init-protocol/index.js';

const login = {
  op: 'login',
  user: 'alice',
  password: 'pässwörd ✓ 𝄞',
  clientIp: '127.0.0.1',
  tls: false,
  listener: '127.0.0.1:8080',
};
const stream = Buffer.concat([
  encodeLine(login),
  encodeLine({ op: 'status' }),
  Buffer.from('{"op":"status"}\r\n'),
  Buffer.from('not json\n'),
  encodeLine({
    op: 'login',
    user: 'bob',
    identity: { issuer: 'https://id.example', subject: 'b' },
    clientIp: '::1',
    tls: true,
    listener: 'x',
  }),
]);

function feedAll(chunks: Buffer[], decoder = new JsonLineDecoder()): DecodedLine[] {
  return chunks.flatMap((c) => decoder.push(c));
}

describe('JsonLineDecoder', () => {
  const whole = feedAll([stream]);

  it('decodes every line of a stream fed at once', () => {
    expect(whole).toEqual([
      { ok: true, value: login },
      { ok: true, value: { op: 'status' } },
      { ok: true, value: { op: 'status' } },
      { ok: false, error: 'bad-json' },
      {
        ok: true,
        value: {
          op: 'login',
          user: 'bob',
          identity: { issuer: 'https://id.example', subject: 'b' },
          clientIp: '::1',
          tls: true,
          listener: 'x',
        },
      },
    ]);
  });

  it('gives the same lines for the stream split at every byte boundary', () => {
    for (let i = 0; i <= stream.length; i++) {
      expect(feedAll([stream.subarray(0, i), stream.subarray(i)])).toEqual(whole);
    }
  });

  it('gives the same lines for the stream split at every pair of boundaries', () => {
    for (let i = 0; i <= stream.length; i += 3) {
      for (let j = i; j <= stream.length; j += 5) {
        const parts = [stream.subarray(0, i), stream.subarray(i, j), stream.subarray(j)];
        expect(feedAll(parts)).toEqual(whole);
      }
    }
  });

  it('gives the same lines when fed one byte at a time', () => {
    const bytes = [...stream].map((b) => Buffer.from([b]));
    expect(feedAll(bytes)).toEqual(whole);
  });

  it('holds an unfinished line until its LF arrives', () => {
    const d = new JsonLineDecoder();
    expect(d.push(Buffer.from('{"op":'))).toEqual([]);
    expect(d.pending).toBe(6);
    expect(d.push(Buffer.from('"status"}\n'))).toEqual([{ ok: true, value: { op: 'status' } }]);
    expect(d.pending).toBe(0);
  });

  it('accepts a line of exactly the cap and refuses one byte more, then carries on', () => {
    const exact = `"${'a'.repeat(MAX_LINE_BYTES - 2)}"`;
    const over = `"${'a'.repeat(MAX_LINE_BYTES - 1)}"`;
    const d = new JsonLineDecoder();
    const out = d.push(Buffer.from(`${exact}\n${over}\n{"op":"status"}\n`));
    expect(out.map((l) => l.ok)).toEqual([true, false, true]);
    expect(out[1]).toEqual({ ok: false, error: 'too-long' });
    expect(out[2]).toEqual({ ok: true, value: { op: 'status' } });
  });

  it('does not keep the bytes of an over-long line while it streams in', () => {
    const d = new JsonLineDecoder(16);
    for (let i = 0; i < 100; i++) d.push(Buffer.alloc(1000, 0x61));
    expect(d.pending).toBe(0);
    expect(d.push(Buffer.from('\n'))).toEqual([{ ok: false, error: 'too-long' }]);
  });
});

describe('parseInitRequest', () => {
  it('accepts a password login and a status request', () => {
    expect(parseInitRequest(login)).toEqual(login);
    expect(parseInitRequest({ op: 'status', extra: 1 })).toEqual({ op: 'status' });
  });

  it('accepts a pre-authenticated identity login', () => {
    const r = parseInitRequest({
      ...login,
      password: undefined,
      identity: { issuer: 'i', subject: 's' },
    });
    expect(r).toEqual({
      op: 'login',
      user: 'alice',
      identity: { issuer: 'i', subject: 's' },
      clientIp: '127.0.0.1',
      tls: false,
      listener: '127.0.0.1:8080',
    });
  });

  it.each([
    [null, 'a request is a JSON object'],
    [[], 'a request is a JSON object'],
    [{ op: 'kill' }, 'op must be "login" or "status"'],
    [{ ...login, user: '../etc' }, 'user is not a valid account name'],
    [{ ...login, user: '-x' }, 'user is not a valid account name'],
    [{ ...login, clientIp: 5 }, 'clientIp must be an address'],
    [{ ...login, tls: 'yes' }, 'tls must be true or false'],
    [
      { ...login, identity: { issuer: 'i', subject: 's' } },
      'give exactly one of password and identity',
    ],
    [{ ...login, password: undefined }, 'give exactly one of password and identity'],
    [{ ...login, password: '' }, 'password must be a non-empty string'],
    [
      { ...login, password: undefined, identity: { issuer: 'i' } },
      'identity must be {issuer, subject}',
    ],
  ])('refuses %j: %s', (value, why) => {
    expect(parseInitRequest(value)).toBe(why);
  });
});
