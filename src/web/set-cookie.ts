/**
 * @module Serialising one `Set-Cookie` header value the way Tornado does through
 * Python's `http.cookies.Morsel`: legal-character check on the name, quoting of
 * the value, attributes in Python's sorted order.
 */
import { VesperError } from '../shared/errors/index.js';
import { formatTimestamp } from './httputil.js';

/** The attributes `setCookie` accepts. */
export interface CookieOptions {
  /** `Domain`. */
  domain?: string;
  /** `expires`: a date or a Unix timestamp in seconds (as Tornado). Wins over `expiresDays`. */
  expires?: Date | number;
  /** `Path`, default `/`; an empty string leaves it out. */
  path?: string;
  /** Days from now for `expires` when `expires` is not given. */
  expiresDays?: number;
  /** `Max-Age` in seconds. */
  maxAge?: number;
  /** `HttpOnly`. */
  httpOnly?: boolean;
  /** `Secure`. */
  secure?: boolean;
  /** `SameSite`: `Strict`, `Lax` or `None`. */
  sameSite?: string;
}

const LEGAL = /^[A-Za-z0-9!#$%&'*+\-.^_`|~:]+$/;
const UNESCAPED = new Set(
  "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789!#$%&'*+-.^_`|~: ()/<=>?@[]{}",
);
const RESERVED = new Set([
  'expires',
  'path',
  'comment',
  'domain',
  'max-age',
  'secure',
  'httponly',
  'version',
  'samesite',
  'partitioned',
]);

/** Python's `http.cookies._quote`: as is when legal, else quoted with octal escapes. */
export function quoteCookieValue(value: string): string {
  if (LEGAL.test(value)) return value;
  let out = '"';
  for (const ch of value) {
    const code = ch.codePointAt(0)!;
    if (ch === '"') out += '\\"';
    else if (ch === '\\') out += '\\\\';
    else if (code < 256 && !UNESCAPED.has(ch)) out += `\\${code.toString(8).padStart(3, '0')}`;
    else out += ch;
  }
  return `${out}"`;
}

function invalidCookie(message: string): VesperError {
  return new VesperError('VESPER_WEB_INVALID_COOKIE', message);
}

/**
 * Builds the `Set-Cookie` value for `name=value` with `options`, in the byte
 * form Tornado emits (`foo=bar; Domain=x; expires=...; HttpOnly; Max-Age=10;
 * Path=/; SameSite=Lax; Secure`).
 * @throws VesperError `VESPER_WEB_INVALID_COOKIE` when the value holds a control
 * character or a space, or the name, domain, path or sameSite hold a control
 * character, a space or `;`, or the name is not a legal cookie name.
 */
export function formatSetCookie(name: string, value: string, options: CookieOptions = {}): string {
  // eslint-disable-next-line no-control-regex -- the point is to find control characters
  if (/[\x00-\x20\x7f]/.test(value)) {
    throw invalidCookie(
      `Invalid cookie ${JSON.stringify(name)}: the value holds a control character or a space.`,
    );
  }
  const attrs: [string, string | undefined][] = [
    ['name', name],
    ['domain', options.domain],
    ['path', options.path],
    ['sameSite', options.sameSite],
  ];
  for (const [attr, v] of attrs) {
    // eslint-disable-next-line no-control-regex -- the point is to find control characters
    if (v !== undefined && /[\x00-\x20;\x7f]/.test(v)) {
      throw invalidCookie(`Invalid cookie ${attr} ${JSON.stringify(v)}.`);
    }
  }
  if (!LEGAL.test(name) || RESERVED.has(name.toLowerCase())) {
    throw invalidCookie(`Illegal cookie name ${JSON.stringify(name)}.`);
  }
  const parts = [`${name}=${quoteCookieValue(value)}`];
  if (options.domain) parts.push(`Domain=${options.domain}`);
  let expires = options.expires;
  if (expires === undefined && options.expiresDays !== undefined) {
    expires = new Date(Date.now() + options.expiresDays * 86_400_000);
  }
  if (expires !== undefined) parts.push(`expires=${formatTimestamp(expires)}`);
  if (options.httpOnly) parts.push('HttpOnly');
  if (options.maxAge !== undefined) parts.push(`Max-Age=${Math.trunc(options.maxAge)}`);
  const path = options.path ?? '/';
  if (path) parts.push(`Path=${path}`);
  if (options.sameSite) parts.push(`SameSite=${options.sameSite}`);
  if (options.secure) parts.push('Secure');
  return parts.join('; ');
}
