/**
 * @module The canonical form of a request target, computed once and used for the security checks, the routing and the forwarded request.
 */
import { badRequest } from './protocol-error.js';

/** A request target in origin form, checked and canonicalised. */
export interface RequestTarget {
  /** The decoded path segments after the leading `/` (`/a/b%2Fc` → `['a', 'b/c']`). */
  readonly segments: readonly string[];
  /** The path re-encoded canonically from `segments` (`/a/b%2Fc`); what is forwarded. */
  readonly path: string;
  /** The query without `?` as sent (already checked to be printable ASCII), or `''`. */
  readonly query: string;
  /** `path` plus `?query` when there is a query. */
  readonly canonical: string;
}

const PCT_RE = /%(?![0-9A-Fa-f]{2})/;
const ENCODED_SLASH_RE = /%(?:2f|5c)/i;
// eslint-disable-next-line no-control-regex -- the point is to find control characters
const CONTROL_RE = /[\x00-\x1f\x7f]/;
const decoder = new TextDecoder('utf-8', { fatal: true });

// RFC 3986 §3.3 pchar without `%`: unreserved, sub-delims, `:` and `@` stay literal.
const PCHAR = new Uint8Array(128);
for (const c of "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~!$&'()*+,;=:@") {
  PCHAR[c.charCodeAt(0)] = 1;
}

/** True when every character of `segment` is a pchar that stands literally (no escaping needed). */
function isPlain(segment: string): boolean {
  for (let i = 0; i < segment.length; i++) {
    const c = segment.charCodeAt(i);
    if (c >= 128 || PCHAR[c] !== 1) return false;
  }
  return true;
}

/** Percent-encodes a decoded segment: every byte outside pchar becomes `%XX` (upper case). */
function encodeSegment(segment: string): string {
  if (isPlain(segment)) return segment;
  let out = '';
  for (const byte of Buffer.from(segment, 'utf8')) {
    out +=
      byte < 128 && PCHAR[byte] === 1
        ? String.fromCharCode(byte)
        : `%${byte.toString(16).toUpperCase().padStart(2, '0')}`;
  }
  return out;
}

function decodeSegment(raw: string): string {
  if (!raw.includes('%')) return raw;
  const bytes: number[] = [];
  for (let i = 0; i < raw.length; i++) {
    const c = raw.charCodeAt(i);
    if (c === 0x25) {
      bytes.push(parseInt(raw.slice(i + 1, i + 3), 16));
      i += 2;
    } else bytes.push(c);
  }
  try {
    return decoder.decode(Uint8Array.from(bytes));
  } catch {
    throw badRequest('VESPER_FRONTEND_BAD_TARGET', 'A path segment is not valid UTF-8.');
  }
}

/**
 * Checks `raw` (the target from the request line, already printable ASCII) and
 * returns its canonical form.
 *
 * @throws ProtocolError 400 for an absolute-form, authority-form or asterisk
 *   target, one starting with `//`, a fragment, a malformed percent-escape,
 *   a segment that decodes to `.` or `..` or holds a control character, a
 *   non-UTF-8 segment, or an encoded `/` or `\` in the user part of
 *   `/login/<user>` and `/session/<user>/...`.
 */
export function canonicalTarget(raw: string): RequestTarget {
  if (!raw.startsWith('/')) {
    throw badRequest(
      'VESPER_FRONTEND_ABSOLUTE_TARGET',
      'Only origin-form request targets are accepted.',
    );
  }
  if (raw.startsWith('//')) {
    throw badRequest('VESPER_FRONTEND_DOUBLE_SLASH', 'A request target may not start with //.');
  }
  if (raw.includes('#'))
    throw badRequest('VESPER_FRONTEND_BAD_TARGET', 'A request target has a fragment.');
  const q = raw.indexOf('?');
  const rawPath = q < 0 ? raw : raw.slice(0, q);
  const query = q < 0 ? '' : raw.slice(q + 1);
  if (PCT_RE.test(raw)) {
    throw badRequest('VESPER_FRONTEND_BAD_TARGET', 'A request target has a malformed %-escape.');
  }
  const rawSegments = rawPath.slice(1).split('/');
  if (
    (rawSegments[0] === 'session' || rawSegments[0] === 'login') &&
    rawSegments[1] !== undefined &&
    ENCODED_SLASH_RE.test(rawSegments[1])
  ) {
    throw badRequest(
      'VESPER_FRONTEND_ENCODED_SLASH',
      'The user part of the path holds an encoded slash.',
    );
  }
  const segments = rawSegments.map(decodeSegment);
  for (const segment of segments) {
    if (segment === '.' || segment === '..') {
      throw badRequest('VESPER_FRONTEND_DOT_SEGMENT', 'A path segment is . or .. after decoding.');
    }
    if (CONTROL_RE.test(segment)) {
      throw badRequest('VESPER_FRONTEND_BAD_TARGET', 'A path segment holds a control character.');
    }
  }
  // A path without escapes whose every character may stand literally is its own canonical form.
  const path =
    !rawPath.includes('%') && segments.every(isPlain)
      ? rawPath
      : '/' + segments.map(encodeSegment).join('/');
  return { segments, path, query, canonical: query === '' ? path : `${path}?${query}` };
}
