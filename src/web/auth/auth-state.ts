/**
 * @module The record a login keeps in its signed state cookie between the
 * redirect to the provider and the callback: `state`, PKCE verifier, OpenID
 * nonce, redirect URI and issue time, with its strict codec.
 */
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { isValidCodeVerifier } from './pkce.js';

/** What the browser carries, signed, from `authorizeRedirect` to the callback. */
export interface AuthStateRecord {
  /** The random `state` sent to the provider (RFC 6749 section 10.12). */
  readonly state: string;
  /** The PKCE code verifier whose challenge was sent (RFC 7636). */
  readonly codeVerifier: string;
  /** The OpenID Connect `nonce` sent, when the login is an OpenID one. */
  readonly nonce?: string;
  /** The `redirect_uri` sent, which the code exchange must repeat exactly. */
  readonly redirectUri: string;
  /** When the login started, in whole seconds since the epoch. */
  readonly issuedAt: number;
}

/**
 * A fresh unguessable value for `state` or `nonce`: 32 random bytes in
 * base64url (43 characters).
 */
export function newAuthStateValue(): string {
  return randomBytes(32).toString('base64url');
}

const TOKEN = /^[A-Za-z0-9\-._~]{16,256}$/;

/** The record as the compact JSON the signed cookie carries. */
export function encodeAuthState(record: AuthStateRecord): string {
  const out: Record<string, string | number> = {
    s: record.state,
    v: record.codeVerifier,
    r: record.redirectUri,
    t: record.issuedAt,
  };
  if (record.nonce !== undefined) out.n = record.nonce;
  return JSON.stringify(out);
}

/**
 * Parses what {@link encodeAuthState} wrote. Returns null for anything else
 * (wrong JSON, a missing or mistyped field, a value outside the alphabet): the
 * caller treats that exactly like a missing cookie.
 */
export function decodeAuthState(text: string): AuthStateRecord | null {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return null;
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return null;
  const { s, v, r, t, n } = value as Record<string, unknown>;
  if (typeof s !== 'string' || !TOKEN.test(s)) return null;
  if (typeof v !== 'string' || !isValidCodeVerifier(v)) return null;
  if (typeof r !== 'string' || r.length === 0 || r.length > 2048) return null;
  if (typeof t !== 'number' || !Number.isSafeInteger(t) || t < 0) return null;
  if (n !== undefined && (typeof n !== 'string' || !TOKEN.test(n))) return null;
  return n === undefined
    ? { state: s, codeVerifier: v, redirectUri: r, issuedAt: t }
    : { state: s, codeVerifier: v, redirectUri: r, issuedAt: t, nonce: n };
}

/**
 * Compares two secrets in time independent of where they differ and of their
 * lengths: both are hashed first, so `timingSafeEqual` always sees 32 bytes.
 */
export function authValuesEqual(a: string, b: string): boolean {
  const da = createHash('sha256').update(a, 'utf8').digest();
  const db = createHash('sha256').update(b, 'utf8').digest();
  return timingSafeEqual(da, db);
}
