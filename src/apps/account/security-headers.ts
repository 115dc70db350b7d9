/**
 * @module The security headers every response of the account application
 * carries (DESIGN.md section 5): no referrer, no framing, a restrictive CSP.
 */

/**
 * The Content-Security-Policy of every page: only the session's own scripts,
 * styles, images and connections (`'self'` covers the page's own `ws:`/`wss:`
 * origin in CSP Level 3), no plug-ins, no `<base>`, forms only to the
 * session, and no framing.
 */
export const CONTENT_SECURITY_POLICY = [
  "default-src 'self'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self'",
  "connect-src 'self'",
  "object-src 'none'",
  "base-uri 'none'",
  "form-action 'self'",
  "frame-ancestors 'none'",
].join('; ');

/** Header name → value, set on every response (pages, errors, static files, refused upgrades). */
export const SECURITY_HEADERS: Readonly<Record<string, string>> = {
  'Content-Security-Policy': CONTENT_SECURITY_POLICY,
  'Referrer-Policy': 'no-referrer',
  'X-Frame-Options': 'DENY',
  'X-Content-Type-Options': 'nosniff',
  'Cross-Origin-Opener-Policy': 'same-origin',
};

/** Sets {@link SECURITY_HEADERS} through `setHeader`. */
export function applySecurityHeaders(setHeader: (name: string, value: string) => void): void {
  for (const [name, value] of Object.entries(SECURITY_HEADERS)) setHeader(name, value);
}
