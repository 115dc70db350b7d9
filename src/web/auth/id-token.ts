/**
 * @module Validation of an OpenID Connect ID token received from the token
 * endpoint (OpenID Connect Core 1.0 section 3.1.3.7).
 */
import { createHash } from 'node:crypto';
import type { CompactVerifyGetKey, errors as JoseErrors } from 'jose';
import { loadJose } from './jose-loader.js';
import { AuthError, type AuthErrorCode } from './auth-error.js';

/** The claims of a validated ID token; the registered ones are typed. */
export interface IdTokenClaims {
  readonly iss: string;
  readonly sub: string;
  readonly aud: string | readonly string[];
  readonly exp: number;
  readonly iat: number;
  readonly nonce?: string;
  readonly azp?: string;
  readonly at_hash?: string;
  readonly auth_time?: number;
  readonly [claim: string]: unknown;
}

/** Options of {@link validateIdToken}. */
export interface IdTokenValidationOptions {
  /** The provider's issuer identifier; `iss` must equal it exactly. */
  issuer: string;
  /** Our client id; `aud` must contain it. */
  clientId: string;
  /** Resolves the verification key from the JWS header (a JWKS, see `JwksCache`). */
  getKey: CompactVerifyGetKey;
  /**
   * Accepted signature algorithms (`alg`). `none` and the symmetric `HS*`
   * algorithms are always refused: the key must come from the provider's JWKS.
   * Default `['RS256']`, the one Core section 15.1 makes mandatory.
   */
  algorithms?: readonly string[];
  /** The nonce sent with the authorization request; the token's must equal it. */
  nonce: string;
  /** When given and the token has `at_hash`, the hash is checked against it (Core 3.1.3.8). */
  accessToken?: string;
  /** Further audiences this client trusts besides itself. Default none. */
  trustedAudiences?: readonly string[];
  /** Tolerated clock difference in seconds for `exp` and `iat`. Default 60. */
  clockSkewSeconds?: number;
  /** Oldest acceptable `iat`, in seconds before now. Default 600. */
  maxIssuedAgeSeconds?: number;
  /** The clock in seconds since the epoch. Default `Date.now() / 1000`. */
  now?: () => number;
}

function fail(code: AuthErrorCode, message: string, cause?: unknown): AuthError {
  return new AuthError(code, `The ID token was refused: ${message}`, { cause });
}

// Core 3.1.3.6: at_hash is the base64url of the left half of the hash the JWS
// alg uses; EdDSA with Ed25519 uses SHA-512 (OpenID errata).
function atHashAlgorithm(alg: string): string | undefined {
  if (alg === 'EdDSA' || alg === 'Ed25519') return 'sha512';
  const bits = /^(?:RS|PS|ES)(256|384|512)$/.exec(alg)?.[1];
  return bits === undefined ? undefined : `sha${bits}`;
}

function mapJoseError(err: unknown, joseErrors: typeof JoseErrors): AuthError {
  if (err instanceof AuthError) return err;
  if (err instanceof joseErrors.JOSEAlgNotAllowed || err instanceof joseErrors.JOSENotSupported) {
    return fail(
      'VESPER_WEB_AUTH_ID_TOKEN_ALGORITHM',
      'its signature algorithm is not accepted.',
      err,
    );
  }
  if (err instanceof joseErrors.JWSInvalid) {
    return fail('VESPER_WEB_AUTH_ID_TOKEN_MALFORMED', 'it is not a compact JWS.', err);
  }
  if (err instanceof joseErrors.JWKSNoMatchingKey) {
    return fail(
      'VESPER_WEB_AUTH_ID_TOKEN_SIGNATURE',
      "no key in the provider's JWKS matches it.",
      err,
    );
  }
  return fail('VESPER_WEB_AUTH_ID_TOKEN_SIGNATURE', 'its signature does not verify.', err);
}

/**
 * Verifies an ID token's signature against the provider's keys and checks its
 * claims, in the order of Core section 3.1.3.7:
 *
 * 1. a compact JWS whose `alg` is one of `algorithms` (never `none` or `HS*`),
 *    signed by a key `getKey` returns;
 * 2. `iss` equals `issuer`;
 * 3. `aud` contains `clientId`, and every other audience is trusted; with several
 *    audiences `azp` must be present; when present, `azp` must be `clientId`;
 * 4. `exp` is after now (minus the skew);
 * 5. `iat` is neither in the future nor older than `maxIssuedAgeSeconds`
 *    (both with the skew);
 * 6. `nonce` equals the one sent;
 * 7. `at_hash`, when present and `accessToken` is given, matches it;
 * 8. `sub` is a non-empty string.
 *
 * @returns the token's claims.
 * @throws AuthError `VESPER_WEB_AUTH_ID_TOKEN_*` naming the failed check
 *   (`..._MALFORMED`, `..._ALGORITHM`, `..._SIGNATURE`, `..._ISSUER`,
 *   `..._AUDIENCE`, `..._EXPIRED`, `..._ISSUED_AT`, `..._NONCE`, `..._AT_HASH`),
 *   `VESPER_WEB_AUTH_CONFIG` when no acceptable algorithm is left, or whatever
 *   AuthError `getKey` throws (a JWKS that cannot be fetched).
 */
export async function validateIdToken(
  idToken: string,
  options: IdTokenValidationOptions,
): Promise<IdTokenClaims> {
  const algorithms = (options.algorithms ?? ['RS256']).filter(
    (alg) => alg !== 'none' && !alg.startsWith('HS'),
  );
  if (algorithms.length === 0) {
    throw new AuthError(
      'VESPER_WEB_AUTH_CONFIG',
      'No asymmetric ID token signature algorithm is acceptable; Vesper verifies ID tokens only against the provider JWKS.',
    );
  }
  let payload: Uint8Array;
  let alg: string;
  const jose = await loadJose();
  try {
    const verified = await jose.compactVerify(idToken, options.getKey, {
      algorithms: [...algorithms],
    });
    payload = verified.payload;
    alg = verified.protectedHeader.alg;
  } catch (err) {
    throw mapJoseError(err, jose.errors);
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(payload));
  } catch (err) {
    throw fail('VESPER_WEB_AUTH_ID_TOKEN_MALFORMED', 'its payload is not JSON.', err);
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    throw fail('VESPER_WEB_AUTH_ID_TOKEN_MALFORMED', 'its payload is not a JSON object.');
  }
  const claims = parsed as Record<string, unknown>;

  if (claims.iss !== options.issuer) {
    throw fail('VESPER_WEB_AUTH_ID_TOKEN_ISSUER', `its issuer is not "${options.issuer}".`);
  }

  const aud = claims.aud;
  const audiences = typeof aud === 'string' ? [aud] : Array.isArray(aud) ? aud : undefined;
  if (
    audiences === undefined ||
    audiences.length === 0 ||
    !audiences.every((a): a is string => typeof a === 'string')
  ) {
    throw fail('VESPER_WEB_AUTH_ID_TOKEN_AUDIENCE', 'it has no valid audience.');
  }
  if (!audiences.includes(options.clientId)) {
    throw fail('VESPER_WEB_AUTH_ID_TOKEN_AUDIENCE', 'it was not issued to this client.');
  }
  const trusted = new Set([options.clientId, ...(options.trustedAudiences ?? [])]);
  if (!audiences.every((a) => trusted.has(a))) {
    throw fail(
      'VESPER_WEB_AUTH_ID_TOKEN_AUDIENCE',
      'it names an audience this client does not trust.',
    );
  }
  if (audiences.length > 1 && claims.azp === undefined) {
    throw fail(
      'VESPER_WEB_AUTH_ID_TOKEN_AUDIENCE',
      'it has several audiences and no authorized party (azp).',
    );
  }
  if (claims.azp !== undefined && claims.azp !== options.clientId) {
    throw fail(
      'VESPER_WEB_AUTH_ID_TOKEN_AUDIENCE',
      'its authorized party (azp) is not this client.',
    );
  }

  const now = options.now?.() ?? Date.now() / 1000;
  const skew = options.clockSkewSeconds ?? 60;
  const exp = claims.exp;
  if (typeof exp !== 'number' || !Number.isFinite(exp)) {
    throw fail('VESPER_WEB_AUTH_ID_TOKEN_MALFORMED', 'it has no numeric exp claim.');
  }
  if (exp <= now - skew) {
    throw fail('VESPER_WEB_AUTH_ID_TOKEN_EXPIRED', 'it has expired.');
  }
  const iat = claims.iat;
  if (typeof iat !== 'number' || !Number.isFinite(iat)) {
    throw fail('VESPER_WEB_AUTH_ID_TOKEN_MALFORMED', 'it has no numeric iat claim.');
  }
  if (iat > now + skew) {
    throw fail('VESPER_WEB_AUTH_ID_TOKEN_ISSUED_AT', 'it was issued in the future.');
  }
  if (iat < now - skew - (options.maxIssuedAgeSeconds ?? 600)) {
    throw fail('VESPER_WEB_AUTH_ID_TOKEN_ISSUED_AT', 'it was issued too long ago.');
  }

  if (typeof claims.nonce !== 'string' || claims.nonce !== options.nonce) {
    throw fail('VESPER_WEB_AUTH_ID_TOKEN_NONCE', 'its nonce is not the one this login sent.');
  }

  if (claims.at_hash !== undefined && options.accessToken !== undefined) {
    const hash = atHashAlgorithm(alg);
    if (hash === undefined || typeof claims.at_hash !== 'string') {
      throw fail('VESPER_WEB_AUTH_ID_TOKEN_AT_HASH', 'its at_hash cannot be checked.');
    }
    const digest = createHash(hash).update(options.accessToken, 'ascii').digest();
    const expected = digest.subarray(0, digest.length / 2).toString('base64url');
    if (expected !== claims.at_hash) {
      throw fail(
        'VESPER_WEB_AUTH_ID_TOKEN_AT_HASH',
        'its at_hash does not match the access token.',
      );
    }
  }

  if (typeof claims.sub !== 'string' || claims.sub === '' || claims.sub.length > 255) {
    throw fail(
      'VESPER_WEB_AUTH_ID_TOKEN_MALFORMED',
      'its sub claim is not a string of 1 to 255 characters.',
    );
  }
  return claims as IdTokenClaims;
}
