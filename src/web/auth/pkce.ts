/**
 * @module Proof Key for Code Exchange (RFC 7636): code verifiers and their S256
 * challenges.
 */
import { createHash, randomBytes } from 'node:crypto';
import { AuthError } from './auth-error.js';

/** A PKCE verifier and the challenge sent in its place (RFC 7636 section 4). */
export interface PkcePair {
  /** Kept secret by the client until the code exchange. */
  readonly codeVerifier: string;
  /** `BASE64URL(SHA256(codeVerifier))`, sent with the authorization request. */
  readonly codeChallenge: string;
  /** Always `S256`: `plain` protects nothing once the request is seen. */
  readonly codeChallengeMethod: 'S256';
}

// RFC 7636 section 4.1: 43 to 128 characters of [A-Z] / [a-z] / [0-9] / "-" / "." / "_" / "~".
const VERIFIER = /^[A-Za-z0-9\-._~]{43,128}$/;

/**
 * A fresh code verifier: 32 random bytes in base64url, 43 characters (the
 * minimum length, carrying 256 bits, as RFC 7636 section 7.1 recommends).
 */
export function createCodeVerifier(): string {
  return randomBytes(32).toString('base64url');
}

/** True when `verifier` has the length and alphabet RFC 7636 section 4.1 requires. */
export function isValidCodeVerifier(verifier: string): boolean {
  return VERIFIER.test(verifier);
}

/**
 * The S256 challenge of `verifier`: `BASE64URL-ENCODE(SHA256(ASCII(verifier)))`
 * (RFC 7636 section 4.2).
 *
 * @throws AuthError `VESPER_WEB_AUTH_CONFIG` when the verifier is not a valid
 *   RFC 7636 verifier.
 */
export function codeChallengeS256(verifier: string): string {
  if (!isValidCodeVerifier(verifier)) {
    throw new AuthError(
      'VESPER_WEB_AUTH_CONFIG',
      'A PKCE code verifier must be 43 to 128 characters of A-Z, a-z, 0-9, "-", ".", "_" and "~".',
    );
  }
  return createHash('sha256').update(verifier, 'ascii').digest('base64url');
}

/** A fresh verifier with its S256 challenge. */
export function createPkcePair(): PkcePair {
  const codeVerifier = createCodeVerifier();
  return {
    codeVerifier,
    codeChallenge: codeChallengeS256(codeVerifier),
    codeChallengeMethod: 'S256',
  };
}
