/**
 * @module Signed values (the content of signed cookies) in Tornado's version 1
 * and version 2 formats, byte for byte.
 *
 * ```
 * v2: 2|<len>:<key version>|<len>:<timestamp>|<len>:<name>|<len>:<base64 value>|<hex HMAC-SHA256>
 * v1: <base64 value>|<timestamp>|<hex HMAC-SHA1 of name + base64 value + timestamp>
 * ```
 */
import { createHmac, timingSafeEqual } from 'node:crypto';
import { VesperError } from '../shared/errors/index.js';

/** A signing secret, or secrets by key version for rotation (v2 only). */
export type SignedValueSecret = string | Buffer | Readonly<Record<number, string | Buffer>>;

/** The oldest format {@link decodeSignedValue} accepts by default. */
export const DEFAULT_SIGNED_VALUE_MIN_VERSION = 1;
/** The format {@link createSignedValue} writes by default. */
export const DEFAULT_SIGNED_VALUE_VERSION = 2;

/** Options of {@link createSignedValue}. */
export interface CreateSignedValueOptions {
  /** The format; default 2. */
  version?: 1 | 2;
  /** The current time in seconds; default the system clock. */
  clock?: () => number;
  /** Which secret of a versioned `secret` signs; required with one, written into the value. */
  keyVersion?: number;
}

/** Options of {@link decodeSignedValue}. */
export interface DecodeSignedValueOptions {
  /** How old, in days, a value may be; default 31. */
  maxAgeDays?: number;
  /** The current time in seconds; default the system clock. */
  clock?: () => number;
  /** The oldest format accepted; default 1. */
  minVersion?: 1 | 2;
}

function systemClock(): number {
  return Date.now() / 1000;
}

function isVersioned(
  secret: SignedValueSecret,
): secret is Readonly<Record<number, string | Buffer>> {
  return typeof secret !== 'string' && !Buffer.isBuffer(secret);
}

function hmacHex(algorithm: 'sha1' | 'sha256', secret: string | Buffer, parts: Buffer[]): Buffer {
  const h = createHmac(algorithm, secret);
  for (const part of parts) h.update(part);
  return Buffer.from(h.digest('hex'), 'latin1');
}

/** `hmac.compare_digest`: constant time for equal lengths; a length mismatch is simply false. */
function sameBytes(a: Buffer, b: Buffer): boolean {
  return a.length === b.length && timingSafeEqual(a, b);
}

function field(bytes: Buffer): Buffer {
  return Buffer.concat([Buffer.from(`${bytes.length}:`, 'latin1'), bytes]);
}

/**
 * Signs `value` under `name` with a timestamp, as Tornado's
 * `create_signed_value`. `value` is stored as padded standard base64.
 *
 * @throws {VesperError} `VESPER_WEB_SIGNED_VALUE` for a version other than 1 or
 * 2, a versioned `secret` without `keyVersion` (or with an unknown one), or a
 * versioned `secret` in version 1 (which has no key version field).
 */
export function createSignedValue(
  secret: SignedValueSecret,
  name: string,
  value: string | Buffer,
  options: CreateSignedValueOptions = {},
): string {
  const version = options.version ?? DEFAULT_SIGNED_VALUE_VERSION;
  const clock = options.clock ?? systemClock;
  const timestamp = Buffer.from(String(Math.trunc(clock())), 'latin1');
  const encoded = Buffer.from(
    (typeof value === 'string' ? Buffer.from(value, 'utf8') : value).toString('base64'),
    'latin1',
  );
  const nameBytes = Buffer.from(name, 'utf8');
  if (version === 1) {
    if (isVersioned(secret)) {
      throw new VesperError(
        'VESPER_WEB_SIGNED_VALUE',
        'Signed values of version 1 cannot use versioned secrets.',
      );
    }
    const signature = hmacHex('sha1', secret, [nameBytes, encoded, timestamp]);
    return Buffer.concat([
      encoded,
      Buffer.from('|'),
      timestamp,
      Buffer.from('|'),
      signature,
    ]).toString('latin1');
  }
  if (version !== 2) {
    throw new VesperError(
      'VESPER_WEB_SIGNED_VALUE',
      `Unsupported signed value version ${String(version)}.`,
    );
  }
  let key: string | Buffer;
  if (isVersioned(secret)) {
    if (options.keyVersion === undefined) {
      throw new VesperError(
        'VESPER_WEB_SIGNED_VALUE',
        'keyVersion must be set when the secret is a set of versioned keys.',
      );
    }
    const chosen = secret[options.keyVersion];
    if (chosen === undefined) {
      throw new VesperError(
        'VESPER_WEB_SIGNED_VALUE',
        `There is no secret for key version ${options.keyVersion}.`,
      );
    }
    key = chosen;
  } else {
    key = secret;
  }
  // Tornado writes the name's length in code points (Python's len(str)) and then
  // cannot read a non-ASCII name back; writing its UTF-8 length is identical for
  // ASCII names and round-trips the others.
  const toSign = Buffer.concat([
    Buffer.from('2|'),
    field(Buffer.from(String(options.keyVersion ?? 0), 'latin1')),
    Buffer.from('|'),
    field(timestamp),
    Buffer.from('|'),
    field(nameBytes),
    Buffer.from('|'),
    field(encoded),
    Buffer.from('|'),
  ]);
  return Buffer.concat([toSign, hmacHex('sha256', key, [toSign])]).toString('latin1');
}

// Python's re.match(rb"^([1-9][0-9]*)\|(.*)$"): '.' stops at a newline, '$' may
// precede one final newline.
const VERSION_RE = /^([1-9][0-9]*)\|[^\n]*\n?$/;

/** The format version of a signed value: its `N|` prefix, else (or above 999) 1. */
function versionOf(value: string): number {
  const m = VERSION_RE.exec(value);
  if (m === null) return 1;
  const version = Number(m[1]);
  return version > 999 ? 1 : version;
}

/**
 * Decodes padded standard base64, or null. A value whose signature matched
 * always carries valid padded base64 (Tornado writes it with `b64encode`), so
 * anything looser is refused rather than guessed at.
 */
function b64decode(text: string): Buffer | null {
  if (text.length % 4 !== 0 || !/^[A-Za-z0-9+/]*={0,2}$/.test(text)) return null;
  return Buffer.from(text, 'base64');
}

interface V2Fields {
  keyVersion: number;
  timestamp: string;
  name: string;
  value: string;
  signature: string;
  signed: string;
}

/** Reads one `<len>:<bytes>|` field starting at `pos`; null when malformed. */
function consumeField(s: string, pos: number): [string, number] | null {
  const colon = s.indexOf(':', pos);
  if (colon === -1) return null;
  const lenText = s.slice(pos, colon);
  if (!/^[0-9]+$/.test(lenText)) return null;
  const n = Number(lenText);
  const start = colon + 1;
  if (s[start + n] !== '|') return null;
  return [s.slice(start, start + n), start + n + 1];
}

/** Splits a version 2 value (held as latin1, one character per byte) into its fields. */
function decodeFieldsV2(value: string): V2Fields | null {
  let pos = 2;
  const out: string[] = [];
  for (let i = 0; i < 4; i++) {
    const r = consumeField(value, pos);
    if (r === null) return null;
    out.push(r[0]);
    pos = r[1];
  }
  const [keyVersionText, timestamp, name, encoded] = out as [string, string, string, string];
  if (!/^[0-9]+$/.test(keyVersionText)) return null;
  return {
    keyVersion: Number(keyVersionText),
    timestamp,
    name,
    value: encoded,
    signature: value.slice(pos),
    signed: value.slice(0, pos),
  };
}

function nowOf(clock: (() => number) | undefined): number {
  return (clock ?? systemClock)();
}

function decodeV1(
  secret: SignedValueSecret,
  name: string,
  value: string,
  maxAgeDays: number,
  clock: (() => number) | undefined,
): Buffer | null {
  // Version 1 has no key version field, so a versioned secret cannot check it.
  if (isVersioned(secret)) return null;
  const parts = value.split('|');
  if (parts.length !== 3) return null;
  const [encoded, timestampText, signature] = parts as [string, string, string];
  const expected = hmacHex('sha1', secret, [
    Buffer.from(name, 'utf8'),
    Buffer.from(encoded, 'latin1'),
    Buffer.from(timestampText, 'latin1'),
  ]);
  if (!sameBytes(Buffer.from(signature, 'latin1'), expected)) return null;
  if (!/^[0-9]+$/.test(timestampText)) return null;
  const timestamp = Number(timestampText);
  const now = nowOf(clock);
  if (timestamp < now - maxAgeDays * 86400) return null;
  // The v1 signature has no delimiter between its parts, so trailing digits of
  // the payload can be moved into the timestamp without changing it: refuse
  // timestamps far in the future and ones with a leading zero.
  if (timestamp > now + 31 * 86400) return null;
  if (timestampText.startsWith('0')) return null;
  return b64decode(encoded);
}

function decodeV2(
  secret: SignedValueSecret,
  name: string,
  value: string,
  maxAgeDays: number,
  clock: (() => number) | undefined,
): Buffer | null {
  const fields = decodeFieldsV2(value);
  if (fields === null) return null;
  let key: string | Buffer;
  if (isVersioned(secret)) {
    const chosen = secret[fields.keyVersion];
    if (chosen === undefined) return null;
    key = chosen;
  } else {
    key = secret;
  }
  const expected = hmacHex('sha256', key, [Buffer.from(fields.signed, 'latin1')]);
  if (!sameBytes(Buffer.from(fields.signature, 'latin1'), expected)) return null;
  if (!Buffer.from(fields.name, 'latin1').equals(Buffer.from(name, 'utf8'))) return null;
  if (!/^[0-9]+$/.test(fields.timestamp)) return null;
  if (Number(fields.timestamp) < nowOf(clock) - maxAgeDays * 86400) return null;
  return b64decode(fields.value);
}

/** A value as a latin1 string (one character per byte), so a UTF-8 input keeps its bytes. */
function asLatin1(value: string): string {
  // eslint-disable-next-line no-control-regex -- checks for characters above latin1
  return /[^\u0000-\u00ff]/.test(value) ? Buffer.from(value, 'utf8').toString('latin1') : value;
}

/**
 * Checks a signed value and returns what was signed, as Tornado's
 * `decode_signed_value`: null (never an exception) for an empty, malformed,
 * tampered, wrongly named, expired or too old-format value, or one signed with
 * a key version `secret` does not have. A version 2 value with a future
 * timestamp is accepted (as Tornado does); version 1 refuses one more than 31
 * days ahead. Signatures are compared in constant time.
 *
 * @throws {VesperError} `VESPER_WEB_SIGNED_VALUE` only for a `minVersion` above 2
 * (a programming error).
 */
export function decodeSignedValue(
  secret: SignedValueSecret,
  name: string,
  value: string | null | undefined,
  options: DecodeSignedValueOptions = {},
): Buffer | null {
  const minVersion: number = options.minVersion ?? DEFAULT_SIGNED_VALUE_MIN_VERSION;
  if (minVersion > 2) {
    throw new VesperError('VESPER_WEB_SIGNED_VALUE', `Unsupported minVersion ${minVersion}.`);
  }
  if (value === null || value === undefined || value === '') return null;
  const text = asLatin1(value);
  const version = versionOf(text);
  if (version < minVersion) return null;
  const maxAgeDays = options.maxAgeDays ?? 31;
  if (version === 1) return decodeV1(secret, name, text, maxAgeDays, options.clock);
  if (version === 2) return decodeV2(secret, name, text, maxAgeDays, options.clock);
  return null;
}

/**
 * The key version a version 2 signed value was signed with (its `1:<kv>` field),
 * or null for a version 1 or malformed value. The signature is not checked.
 */
export function getSignatureKeyVersion(value: string | null | undefined): number | null {
  if (value === null || value === undefined || value === '') return null;
  const text = asLatin1(value);
  if (versionOf(text) < 2) return null;
  const fields = decodeFieldsV2(text);
  return fields === null ? null : fields.keyVersion;
}
