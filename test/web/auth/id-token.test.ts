import { createHash } from 'node:crypto';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  SignJWT,
  createLocalJWKSet,
  exportJWK,
  generateKeyPair,
  type CryptoKey,
  type JWK,
} from 'jose';
import { validateIdToken, type IdTokenValidationOptions } from '../../../src/web/auth/id-token.js';
import { AuthError } from '../../../src/web/auth/auth-error.js';

const ISSUER = 'https://op.example';
const CLIENT = 'vesper-client';
const NONCE = 'bm9uY2UtdmFsdWUtb2YtdGhpcy1sb2dpbg';
const NOW = 1_800_000_000;

let signingKey: CryptoKey;
let otherKey: CryptoKey;
let publicJwk: JWK;

beforeAll(async () => {
  const pair = await generateKeyPair('RS256');
  signingKey = pair.privateKey;
  publicJwk = { ...(await exportJWK(pair.publicKey)), kid: 'k1', alg: 'RS256', use: 'sig' };
  otherKey = (await generateKeyPair('RS256')).privateKey;
});

function options(overrides: Partial<IdTokenValidationOptions> = {}): IdTokenValidationOptions {
  return {
    issuer: ISSUER,
    clientId: CLIENT,
    getKey: createLocalJWKSet({ keys: [publicJwk] }),
    nonce: NONCE,
    now: () => NOW,
    ...overrides,
  };
}

async function mint(
  claims: Record<string, unknown> = {},
  {
    key = signingKey,
    kid = 'k1',
    alg = 'RS256',
  }: { key?: CryptoKey; kid?: string; alg?: string } = {},
): Promise<string> {
  return new SignJWT({
    iss: ISSUER,
    sub: 'user-1',
    aud: CLIENT,
    iat: NOW - 5,
    exp: NOW + 300,
    nonce: NONCE,
    ...claims,
  })
    .setProtectedHeader({ alg, kid })
    .sign(key);
}

async function refusal(token: string, opts = options()): Promise<string> {
  try {
    await validateIdToken(token, opts);
  } catch (err) {
    expect(err).toBeInstanceOf(AuthError);
    expect((err as AuthError).httpStatus).toBe(403);
    return (err as AuthError).code;
  }
  throw new Error('the token was accepted');
}

describe('validateIdToken', () => {
  it('returns the claims of a valid token', async () => {
    const claims = await validateIdToken(await mint({ email: 'a@example.org' }), options());
    expect(claims.sub).toBe('user-1');
    expect(claims.email).toBe('a@example.org');
    expect(claims.nonce).toBe(NONCE);
  });

  it('refuses a token from another issuer', async () => {
    expect(await refusal(await mint({ iss: 'https://evil.example' }))).toBe(
      'VESPER_WEB_AUTH_ID_TOKEN_ISSUER',
    );
  });

  it('refuses a token issued to another client', async () => {
    expect(await refusal(await mint({ aud: 'someone-else' }))).toBe(
      'VESPER_WEB_AUTH_ID_TOKEN_AUDIENCE',
    );
  });

  it('refuses several audiences unless all are trusted and azp names this client', async () => {
    const both = [CLIENT, 'api'];
    expect(await refusal(await mint({ aud: both }))).toBe('VESPER_WEB_AUTH_ID_TOKEN_AUDIENCE');
    const trusting = options({ trustedAudiences: ['api'] });
    expect(await refusal(await mint({ aud: both }), trusting)).toBe(
      'VESPER_WEB_AUTH_ID_TOKEN_AUDIENCE',
    );
    expect(await refusal(await mint({ aud: both, azp: 'api' }), trusting)).toBe(
      'VESPER_WEB_AUTH_ID_TOKEN_AUDIENCE',
    );
    const claims = await validateIdToken(await mint({ aud: both, azp: CLIENT }), trusting);
    expect(claims.aud).toEqual(both);
  });

  it('refuses an expired token beyond the clock skew and accepts one within it', async () => {
    expect(await refusal(await mint({ exp: NOW - 61 }))).toBe('VESPER_WEB_AUTH_ID_TOKEN_EXPIRED');
    await expect(validateIdToken(await mint({ exp: NOW - 30 }), options())).resolves.toBeDefined();
    expect(await refusal(await mint({ exp: NOW - 30 }), options({ clockSkewSeconds: 0 }))).toBe(
      'VESPER_WEB_AUTH_ID_TOKEN_EXPIRED',
    );
  });

  it('refuses a token issued in the future or long ago', async () => {
    expect(await refusal(await mint({ iat: NOW + 120 }))).toBe(
      'VESPER_WEB_AUTH_ID_TOKEN_ISSUED_AT',
    );
    expect(await refusal(await mint({ iat: NOW - 3600, exp: NOW + 3600 }))).toBe(
      'VESPER_WEB_AUTH_ID_TOKEN_ISSUED_AT',
    );
  });

  it('refuses a token with another nonce or none', async () => {
    expect(await refusal(await mint({ nonce: 'another-nonce-value-entirely' }))).toBe(
      'VESPER_WEB_AUTH_ID_TOKEN_NONCE',
    );
    expect(await refusal(await mint({ nonce: undefined }))).toBe('VESPER_WEB_AUTH_ID_TOKEN_NONCE');
  });

  it('refuses a token signed by another key under the same kid', async () => {
    expect(await refusal(await mint({}, { key: otherKey }))).toBe(
      'VESPER_WEB_AUTH_ID_TOKEN_SIGNATURE',
    );
  });

  it('refuses a token whose payload was altered after signing', async () => {
    const [header, , signature] = (await mint()).split('.');
    const forged = Buffer.from(
      JSON.stringify({
        iss: ISSUER,
        sub: 'admin',
        aud: CLIENT,
        iat: NOW,
        exp: NOW + 300,
        nonce: NONCE,
      }),
    ).toString('base64url');
    expect(await refusal(`${header}.${forged}.${signature}`)).toBe(
      'VESPER_WEB_AUTH_ID_TOKEN_SIGNATURE',
    );
  });

  it('refuses a token whose kid is not in the JWKS', async () => {
    expect(await refusal(await mint({}, { kid: 'unknown' }))).toBe(
      'VESPER_WEB_AUTH_ID_TOKEN_SIGNATURE',
    );
  });

  it('refuses unsigned and HMAC-signed tokens', async () => {
    const unsigned = `${Buffer.from('{"alg":"none"}').toString('base64url')}.${Buffer.from(
      JSON.stringify({ iss: ISSUER, sub: 'x', aud: CLIENT, iat: NOW, exp: NOW + 60, nonce: NONCE }),
    ).toString('base64url')}.`;
    expect(await refusal(unsigned)).toBe('VESPER_WEB_AUTH_ID_TOKEN_ALGORITHM');
    const hmac = await new SignJWT({
      iss: ISSUER,
      sub: 'x',
      aud: CLIENT,
      iat: NOW,
      exp: NOW + 60,
      nonce: NONCE,
    })
      .setProtectedHeader({ alg: 'HS256' })
      .sign(Buffer.from('a shared secret that is long enough!'));
    expect(await refusal(hmac, options({ algorithms: ['RS256', 'HS256'] }))).toBe(
      'VESPER_WEB_AUTH_ID_TOKEN_ALGORITHM',
    );
  });

  it('refuses text that is not a JWS', async () => {
    expect(await refusal('not-a-token')).toBe('VESPER_WEB_AUTH_ID_TOKEN_MALFORMED');
  });

  it('refuses a token without a subject', async () => {
    expect(await refusal(await mint({ sub: '' }))).toBe('VESPER_WEB_AUTH_ID_TOKEN_MALFORMED');
  });

  it('checks at_hash against the access token when both are present', async () => {
    const accessToken = 'an-access-token';
    const digest = createHash('sha256').update(accessToken).digest();
    const atHash = digest.subarray(0, 16).toString('base64url');
    const token = await mint({ at_hash: atHash });
    await expect(validateIdToken(token, options({ accessToken }))).resolves.toBeDefined();
    expect(await refusal(token, options({ accessToken: 'another-access-token' }))).toBe(
      'VESPER_WEB_AUTH_ID_TOKEN_AT_HASH',
    );
  });

  it('fails with a configuration error when only symmetric algorithms are allowed', async () => {
    await expect(
      validateIdToken(await mint(), options({ algorithms: ['HS256', 'none'] })),
    ).rejects.toMatchObject({
      code: 'VESPER_WEB_AUTH_CONFIG',
    });
  });
});
