/**
 * @module XSRF tokens in Tornado's formats: version 2 masks the raw token with
 * a fresh random mask every time it is written (BREACH), version 1 is plain hex.
 */
import { randomBytes, timingSafeEqual } from 'node:crypto';

/** A decoded XSRF token: the raw token bytes and the time it was issued. */
export interface DecodedXsrfToken {
  /** 2 for a masked token, 1 for a hex or legacy token. */
  version: number | null;
  /** The raw (unmasked) token. */
  token: Buffer;
  /** When the token was issued, in seconds (now, for version 1 which has none). */
  timestamp: number;
}

/** Tornado's `_websocket_mask`: `data` XOR the 4-byte `mask` repeated. */
function applyMask(mask: Buffer, data: Buffer): Buffer {
  const out = Buffer.allocUnsafe(data.length);
  for (let i = 0; i < data.length; i++) out[i] = data[i]! ^ mask[i & 3]!;
  return out;
}

const HEX_RE = /^(?:[0-9a-fA-F]{2})*$/;

/** Python's `binascii.a2b_hex`: null for an odd length or a non-hex digit. */
function fromHex(s: string): Buffer | null {
  return HEX_RE.test(s) ? Buffer.from(s, 'hex') : null;
}

// Python's re.match(r"^([1-9][0-9]*)\|(.*)$") as Tornado's _signed_value_version_re.
const VERSION_RE = /^([1-9][0-9]*)\|[^\n]*\n?$/;

/** A fresh raw token: 16 random bytes. */
export function newXsrfTokenBytes(): Buffer {
  return randomBytes(16);
}

/**
 * Writes a token for a page or cookie. Version 2 (the default) is
 * `2|<hex mask>|<hex token XOR mask>|<timestamp>` with a new random 4-byte mask
 * on every call, so the same token never appears twice in a response body;
 * version 1 is the token in hex. `timestamp` is in seconds (fractions dropped).
 */
export function encodeXsrfToken(token: Buffer, timestamp: number, version: 1 | 2 = 2): string {
  if (version === 1) return token.toString('hex');
  const mask = randomBytes(4);
  return `2|${mask.toString('hex')}|${applyMask(mask, token).toString('hex')}|${Math.trunc(timestamp)}`;
}

/**
 * Reads a token written by {@link encodeXsrfToken} (or by Tornado), as
 * Tornado's `_decode_xsrf_token`. A value with a `N|` prefix must be exactly
 * version 2's four fields; one without is version 1: hex when it is hex, and
 * otherwise its own UTF-8 bytes (the oldest tokens were stored as they were).
 * Returns null, never throws, for anything it cannot read (an unknown version,
 * bad hex, a mask that is not 4 bytes, a non-numeric timestamp).
 */
export function decodeXsrfToken(
  cookie: string,
  clock: () => number = () => Date.now() / 1000,
): DecodedXsrfToken | null {
  const m = VERSION_RE.exec(cookie);
  if (m === null) {
    const token = fromHex(cookie) ?? Buffer.from(cookie, 'utf8');
    return { version: 1, token, timestamp: Math.trunc(clock()) };
  }
  if (Number(m[1]) !== 2) return null;
  const parts = cookie.split('|');
  if (parts.length !== 4) return null;
  const [, maskText, maskedText, timestampText] = parts as [string, string, string, string];
  const mask = fromHex(maskText);
  const masked = fromHex(maskedText);
  if (mask === null || masked === null || mask.length !== 4) return null;
  const t = timestampText.trim();
  if (!/^[+-]?[0-9]+$/.test(t)) return null;
  return { version: 2, token: applyMask(mask, masked), timestamp: Number(t) };
}

/**
 * Compares two raw tokens in constant time (for equal lengths; tokens of
 * different lengths are simply unequal).
 */
export function xsrfTokensEqual(a: Buffer, b: Buffer): boolean {
  return a.length === b.length && timingSafeEqual(a, b);
}
