import { describe, expect, it } from 'vitest';
import {
  authValuesEqual,
  decodeAuthState,
  encodeAuthState,
  newAuthStateValue,
  type AuthStateRecord,
} from '../../../src/web/auth/auth-state.js';
import { MemoryStateReplayGuard } from '../../../src/web/auth/state-replay-guard.js';

const record: AuthStateRecord = {
  state: 'c3RhdGUtdmFsdWUtb2YtdGhpcy1sb2dpbg',
  codeVerifier: 'dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk',
  nonce: 'bm9uY2UtdmFsdWUtb2YtdGhpcy1sb2dpbg',
  redirectUri: 'https://app.example/login',
  issuedAt: 1300000000,
};

describe('the auth state record', () => {
  it('round-trips through its compact encoding', () => {
    const text = encodeAuthState(record);
    expect(text).toBe(
      '{"s":"c3RhdGUtdmFsdWUtb2YtdGhpcy1sb2dpbg","v":"dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk","r":"https://app.example/login","t":1300000000,"n":"bm9uY2UtdmFsdWUtb2YtdGhpcy1sb2dpbg"}',
    );
    expect(decodeAuthState(text)).toEqual(record);
  });

  it('round-trips without a nonce', () => {
    const { nonce: _nonce, ...plain } = record;
    expect(decodeAuthState(encodeAuthState(plain))).toEqual(plain);
  });

  it('decodes anything malformed as null', () => {
    expect(decodeAuthState('not json')).toBeNull();
    expect(decodeAuthState('[]')).toBeNull();
    expect(decodeAuthState('null')).toBeNull();
    const good = JSON.parse(encodeAuthState(record)) as Record<string, unknown>;
    for (const [field, bad] of [
      ['s', 1],
      ['s', 'short'],
      ['s', 'has space in it, quite long'],
      ['v', 'too-short'],
      ['r', ''],
      ['t', '1300000000'],
      ['t', -1],
      ['t', 1.5],
      ['n', 42],
    ] as const) {
      expect(decodeAuthState(JSON.stringify({ ...good, [field]: bad }))).toBeNull();
    }
    const { s: _s, ...noState } = good;
    expect(decodeAuthState(JSON.stringify(noState))).toBeNull();
  });

  it('makes unguessable values of 43 base64url characters', () => {
    const a = newAuthStateValue();
    expect(a).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(newAuthStateValue()).not.toBe(a);
  });

  it('compares values exactly, whatever their lengths', () => {
    expect(authValuesEqual('abc', 'abc')).toBe(true);
    expect(authValuesEqual('abc', 'abd')).toBe(false);
    expect(authValuesEqual('abc', 'abcd')).toBe(false);
    expect(authValuesEqual('', 'a')).toBe(false);
  });
});

describe('MemoryStateReplayGuard', () => {
  it('accepts a state once and refuses it again until it expires', () => {
    let now = 1000;
    const guard = new MemoryStateReplayGuard({ clock: () => now });
    expect(guard.consume('state-a', 2000)).toBe(true);
    expect(guard.consume('state-a', 2000)).toBe(false);
    expect(guard.consume('state-b', 2000)).toBe(true);
    now = 2000;
    expect(guard.size).toBe(2);
    expect(guard.consume('state-c', 3000)).toBe(true);
    expect(guard.size).toBe(1);
  });

  it('stays within its bound by forgetting the oldest states', () => {
    const guard = new MemoryStateReplayGuard({ maxEntries: 2, clock: () => 0 });
    guard.consume('one', 10);
    guard.consume('two', 10);
    guard.consume('three', 10);
    expect(guard.size).toBe(2);
    expect(guard.consume('three', 10)).toBe(false);
    expect(guard.consume('one', 10)).toBe(true);
  });
});
