/**
 * @module The security headers on every page the worker writes itself (DESIGN.md §5), and HSTS for TLS listeners.
 */

/** One year, the usual HSTS lifetime. */
const HSTS = 'max-age=31536000';

const PAGE_HEADERS: readonly (readonly [string, string])[] = Object.freeze([
  ['Content-Type', 'text/html; charset=utf-8'],
  ['Cache-Control', 'no-store'],
  ['Referrer-Policy', 'no-referrer'],
  ['X-Frame-Options', 'DENY'],
  ['X-Content-Type-Options', 'nosniff'],
  [
    'Content-Security-Policy',
    "default-src 'none'; style-src 'self'; img-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
  ],
] as const);

/** The `Strict-Transport-Security` field, sent on every response of a TLS listener. */
export const HSTS_HEADER: readonly [string, string] = Object.freeze([
  'Strict-Transport-Security',
  HSTS,
] as const);

/**
 * The fields of an HTML page the worker renders: type, no caching,
 * no referrer, no framing (frame-busting), no sniffing, a CSP that allows
 * only this site's stylesheet and images, and HSTS when `tls`.
 */
export function pageHeaders(tls: boolean): (readonly [string, string])[] {
  return tls ? [...PAGE_HEADERS, HSTS_HEADER] : [...PAGE_HEADERS];
}
