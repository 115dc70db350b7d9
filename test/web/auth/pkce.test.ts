import { describe, expect, it } from 'vitest';
import {
  codeChallengeS256,
  createCodeVerifier,
  createPkcePair,
  isValidCodeVerifier,
} from '../../../src/web/auth/pkce.js';
import { AuthError } from '../../../src/web/auth/auth-error.js';

describe('PKCE', () => {
  it('computes the S256 challenge of RFC 7636 Appendix B', () => {
    expect(codeChallengeS256('dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk')).toBe(
      'E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM',
    );
  });

  it('makes fresh 43-character verifiers from the unreserved alphabet', () => {
    const a = createCodeVerifier();
    const b = createCodeVerifier();
    expect(a).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(a).not.toBe(b);
  });

  it('pairs a verifier with its S256 challenge', () => {
    const pair = createPkcePair();
    expect(pair.codeChallengeMethod).toBe('S256');
    expect(pair.codeChallenge).toBe(codeChallengeS256(pair.codeVerifier));
  });

  it('accepts verifiers of 43 to 128 unreserved characters only', () => {
    expect(isValidCodeVerifier('a'.repeat(43))).toBe(true);
    expect(isValidCodeVerifier('~._-'.repeat(32))).toBe(true);
    expect(isValidCodeVerifier('a'.repeat(42))).toBe(false);
    expect(isValidCodeVerifier('a'.repeat(129))).toBe(false);
    expect(isValidCodeVerifier(`${'a'.repeat(42)}+`)).toBe(false);
  });

  it('refuses to compute a challenge for an invalid verifier', () => {
    expect(() => codeChallengeS256('short')).toThrow(AuthError);
    try {
      codeChallengeS256('short');
    } catch (err) {
      expect((err as AuthError).code).toBe('VESPER_WEB_AUTH_CONFIG');
    }
  });
});
