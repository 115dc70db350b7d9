import { createHmac } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { isVesperError } from '../../src/shared/errors/index.js';
import {
  createSignedValue,
  decodeSignedValue,
  getSignatureKeyVersion,
} from '../../src/web/signed-value.js';

// Ported from tornado/test/web_test.py SignedValueTest.
const SECRET = "It's a secret to everybody";
const SECRET_DICT: Record<number, string> = { 0: 'asdfbasdf', 1: '12312312', 2: '2342342' };
const present = (): number => 1300000000;
const past = (): number => present() - 86400 * 32;

const KNOWN_V1 = 'dmFsdWU=|1300000000|31c934969f53e48164c50768b40cbd7e2daaaa4f';
const KNOWN_V2 =
  '2|1:0|10:1300000000|3:key|8:dmFsdWU=|3d4e60b996ff9c5d5788e333a0cba6f238a22c6c0f94788870e1a9ecd482e152';

describe('createSignedValue and decodeSignedValue', () => {
  it('produce Tornado’s known version 1 and version 2 values byte for byte', () => {
    expect(createSignedValue(SECRET, 'key', 'value', { version: 1, clock: present })).toBe(
      KNOWN_V1,
    );
    expect(createSignedValue(SECRET, 'key', 'value', { version: 2, clock: present })).toBe(
      KNOWN_V2,
    );
    expect(createSignedValue(SECRET, 'key', 'value', { clock: present })).toBe(KNOWN_V2);
    expect(decodeSignedValue(SECRET, 'key', KNOWN_V1, { minVersion: 1, clock: present })).toEqual(
      Buffer.from('value'),
    );
    expect(decodeSignedValue(SECRET, 'key', KNOWN_V2, { minVersion: 2, clock: present })).toEqual(
      Buffer.from('value'),
    );
  });

  it('accepts the value as a Buffer and the secret as a Buffer', () => {
    expect(
      createSignedValue(Buffer.from(SECRET), 'key', Buffer.from('value'), { clock: present }),
    ).toBe(KNOWN_V2);
    expect(decodeSignedValue(Buffer.from(SECRET), 'key', KNOWN_V2, { clock: present })).toEqual(
      Buffer.from('value'),
    );
  });

  it('refuses a version 1 value when the minimum version is 2', () => {
    expect(decodeSignedValue(SECRET, 'key', KNOWN_V1, { minVersion: 2, clock: present })).toBe(
      null,
    );
  });

  it('refuses a value decoded under another name', () => {
    const signed1 = createSignedValue(SECRET, 'key1', 'value', { clock: present });
    const signed2 = createSignedValue(SECRET, 'key2', 'value', { clock: present });
    expect(decodeSignedValue(SECRET, 'key2', signed1, { clock: present })).toBe(null);
    expect(decodeSignedValue(SECRET, 'key1', signed2, { clock: present })).toBe(null);
  });

  it('refuses a value older than maxAgeDays and accepts it while it is young enough', () => {
    const signed = createSignedValue(SECRET, 'key1', 'value', { clock: past });
    expect(decodeSignedValue(SECRET, 'key1', signed, { clock: past })).toEqual(
      Buffer.from('value'),
    );
    expect(decodeSignedValue(SECRET, 'key1', signed, { clock: present })).toBe(null);
    expect(decodeSignedValue(SECRET, 'key1', signed, { clock: present, maxAgeDays: 33 })).toEqual(
      Buffer.from('value'),
    );
  });

  it('refuses an expired version 1 value too', () => {
    const signed = createSignedValue(SECRET, 'key', 'value', { version: 1, clock: past });
    expect(decodeSignedValue(SECRET, 'key', signed, { clock: past })).toEqual(Buffer.from('value'));
    expect(decodeSignedValue(SECRET, 'key', signed, { clock: present })).toBe(null);
  });

  it('refuses a tampered payload: key version, field lengths', () => {
    const sig = '3d4e60b996ff9c5d5788e333a0cba6f238a22c6c0f94788870e1a9ecd482e152';
    const validate = (prefix: string): boolean =>
      decodeSignedValue(SECRET, 'key', prefix + sig, { clock: present })?.equals(
        Buffer.from('value'),
      ) === true;
    expect(validate('2|1:0|10:1300000000|3:key|8:dmFsdWU=|')).toBe(true);
    // Changed key version.
    expect(validate('2|1:1|10:1300000000|3:key|8:dmFsdWU=|')).toBe(false);
    // Length mismatch: field too short.
    expect(validate('2|1:0|10:130000000|3:key|8:dmFsdWU=|')).toBe(false);
    // Length mismatch: field too long.
    expect(validate('2|1:0|10:1300000000|3:keey|8:dmFsdWU=|')).toBe(false);
    // Changed timestamp and changed value.
    expect(validate('2|1:0|10:1300000001|3:key|8:dmFsdWU=|')).toBe(false);
    expect(validate('2|1:0|10:1300000000|3:key|8:dmFsdWX=|')).toBe(false);
  });

  it('refuses a tampered signature: zeros, one character changed, truncated, lengthened', () => {
    const prefix = '2|1:0|10:1300000000|3:key|8:dmFsdWU=|';
    const validate = (sig: string): boolean =>
      decodeSignedValue(SECRET, 'key', prefix + sig, { clock: present })?.equals(
        Buffer.from('value'),
      ) === true;
    expect(validate('3d4e60b996ff9c5d5788e333a0cba6f238a22c6c0f94788870e1a9ecd482e152')).toBe(true);
    expect(validate('0'.repeat(32))).toBe(false);
    expect(validate('4d4e60b996ff9c5d5788e333a0cba6f238a22c6c0f94788870e1a9ecd482e152')).toBe(
      false,
    );
    expect(validate('3d4e60b996ff9c5d5788e333a0cba6f238a22c6c0f94788870e1a9ecd482e153')).toBe(
      false,
    );
    expect(validate('3d4e60b996ff9c5d5788e333a0cba6f238a22c6c0f94788870e1a9ecd482e15')).toBe(false);
    expect(validate('3d4e60b996ff9c5d5788e333a0cba6f238a22c6c0f94788870e1a9ecd482e1538')).toBe(
      false,
    );
  });

  it('round-trips a non-ASCII value', () => {
    const value = Buffer.from([0xe9]);
    const signed = createSignedValue(SECRET, 'key', value, { clock: present });
    expect(decodeSignedValue(SECRET, 'key', signed, { clock: present })).toEqual(value);
  });

  it('accepts a version 2 value with a future timestamp, as Tornado does', () => {
    const future = (): number => present() + 86400 * 365;
    const signed = createSignedValue(SECRET, 'key', 'value', { clock: future });
    expect(decodeSignedValue(SECRET, 'key', signed, { clock: present })).toEqual(
      Buffer.from('value'),
    );
  });
});

describe('version 1 timestamp tampering', () => {
  // Ported from SecureCookieV1Test.test_cookie_tampering_future_timestamp.
  const secret = '0123456789'.repeat(3);
  const sigV1 = (name: string, ...parts: string[]): string => {
    const h = createHmac('sha1', secret);
    h.update(name);
    for (const p of parts) h.update(p);
    return h.digest('hex');
  };

  it('refuses payload digits moved into the timestamp (a future timestamp)', () => {
    const now = (): number => 1300000000;
    const signed = createSignedValue(secret, 'foo', Buffer.from('d76df8e7aefc', 'hex'), {
      version: 1,
      clock: now,
    });
    const m = /^12345678\|([0-9]+)\|([0-9a-f]+)$/.exec(signed);
    expect(m).not.toBe(null);
    const [, timestamp, sig] = m!;
    expect(sigV1('foo', '12345678', timestamp!)).toBe(sig);
    // Shifting digits from the payload to the timestamp keeps the signature valid.
    expect(sigV1('foo', '1234', '5678' + timestamp!)).toBe(sig);
    const tampered = `1234|5678${timestamp!}|${sig!}`;
    expect(decodeSignedValue(secret, 'foo', tampered, { clock: now, minVersion: 1 })).toBe(null);
    expect(decodeSignedValue(secret, 'foo', signed, { clock: now })).toEqual(
      Buffer.from('d76df8e7aefc', 'hex'),
    );
  });

  it('refuses a timestamp with a leading zero even when the signature matches', () => {
    const now = (): number => 1300000000;
    const tampered = `dmFsdWU|e01300000000|${sigV1('key', 'dmFsdWU', 'e01300000000')}`;
    expect(decodeSignedValue(secret, 'key', tampered, { clock: now })).toBe(null);
    const leadingZero = `dmFsdWU=|01300000000|${sigV1('key', 'dmFsdWU=', '01300000000')}`;
    expect(decodeSignedValue(secret, 'key', leadingZero, { clock: now })).toBe(null);
    const fine = `dmFsdWU=|1300000000|${sigV1('key', 'dmFsdWU=', '1300000000')}`;
    expect(decodeSignedValue(secret, 'key', fine, { clock: now })).toEqual(Buffer.from('value'));
  });
});

describe('key versions', () => {
  const value = Buffer.from([0xe9]);

  it('reads and writes with the default key', () => {
    const signed = createSignedValue(SECRET_DICT, 'key', value, { clock: present, keyVersion: 0 });
    expect(decodeSignedValue(SECRET_DICT, 'key', signed, { clock: present })).toEqual(value);
  });

  it('reads and writes with a non-default key and records it as the 1:<kv> field', () => {
    const signed = createSignedValue(SECRET_DICT, 'key', value, { clock: present, keyVersion: 1 });
    expect(signed.startsWith('2|1:1|10:1300000000|3:key|4:6Q==|')).toBe(true);
    expect(decodeSignedValue(SECRET_DICT, 'key', signed, { clock: present })).toEqual(value);
    // The same value signed with the plain secret 12312312 is identical.
    expect(createSignedValue('12312312', 'key', value, { clock: present, keyVersion: 1 })).toBe(
      signed,
    );
  });

  it('refuses a value whose key version is no longer configured', () => {
    const signed = createSignedValue(SECRET_DICT, 'key', value, { clock: present, keyVersion: 0 });
    const newKeys: Record<number, string> = { 1: SECRET_DICT[1]!, 2: SECRET_DICT[2]! };
    expect(decodeSignedValue(newKeys, 'key', signed, { clock: present })).toBe(null);
  });

  it('reports the key version a value was signed with', () => {
    const signed = createSignedValue(SECRET_DICT, 'key', value, { clock: present, keyVersion: 1 });
    expect(getSignatureKeyVersion(signed)).toBe(1);
    expect(getSignatureKeyVersion(KNOWN_V2)).toBe(0);
    expect(getSignatureKeyVersion(KNOWN_V1)).toBe(null);
    expect(getSignatureKeyVersion('2|garbage')).toBe(null);
    expect(getSignatureKeyVersion(null)).toBe(null);
  });

  it('refuses to sign with versioned keys but no keyVersion, an unknown one, or version 1', () => {
    const codeOf = (f: () => unknown): string | undefined => {
      try {
        f();
      } catch (err) {
        return isVesperError(err) ? err.code : 'not a VesperError';
      }
      return undefined;
    };
    expect(codeOf(() => createSignedValue(SECRET_DICT, 'key', 'v'))).toBe(
      'VESPER_WEB_SIGNED_VALUE',
    );
    expect(codeOf(() => createSignedValue(SECRET_DICT, 'key', 'v', { keyVersion: 9 }))).toBe(
      'VESPER_WEB_SIGNED_VALUE',
    );
    expect(
      codeOf(() => createSignedValue(SECRET_DICT, 'key', 'v', { keyVersion: 0, version: 1 })),
    ).toBe('VESPER_WEB_SIGNED_VALUE');
    expect(
      codeOf(() => createSignedValue(SECRET, 'key', 'v', { version: 3 as unknown as 2 })),
    ).toBe('VESPER_WEB_SIGNED_VALUE');
  });

  it('cannot check a version 1 value against versioned keys and says null', () => {
    expect(decodeSignedValue(SECRET_DICT, 'key', KNOWN_V1, { clock: present })).toBe(null);
  });
});

describe('malformed values', () => {
  it('give null and never throw', () => {
    const inputs = [
      '',
      null,
      undefined,
      '|',
      '||',
      '2|',
      '2|1:0',
      '2|1:0|',
      '2|x:0|10:1300000000|3:key|8:dmFsdWU=|',
      '2|1:0|10:1300000000|3:key|8:dmFsdWU=',
      '2|1:0|99:1300000000|3:key|8:dmFsdWU=|abc',
      '3|1:0|10:1300000000|3:key|8:dmFsdWU=|abc',
      '1000|abc',
      'dmFsdWU=|1300000000',
      'dmFsdWU=|abc|31c934969f53e48164c50768b40cbd7e2daaaa4f',
      '\u00e9\u4e2d|1|2',
      '2|1:0|10:1300000000|3:key|8:dmFsdWU=|\u4e2d',
    ];
    for (const input of inputs) {
      expect(decodeSignedValue(SECRET, 'key', input, { clock: present })).toBe(null);
    }
  });

  it('refuses a correctly signed version 2 value whose base64 is broken', () => {
    const toSign = '2|1:0|10:1300000000|3:key|7:dmFsdWU|';
    const sig = createHmac('sha256', SECRET).update(toSign).digest('hex');
    expect(decodeSignedValue(SECRET, 'key', toSign + sig, { clock: present })).toBe(null);
  });

  it('throws only for an impossible minVersion', () => {
    expect(() =>
      decodeSignedValue(SECRET, 'key', KNOWN_V2, { minVersion: 3 as unknown as 2 }),
    ).toThrow(/minVersion/);
  });
});
