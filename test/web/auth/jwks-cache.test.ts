import { describe, expect, it } from 'vitest';
import { SignJWT, exportJWK, generateKeyPair, type JWK } from 'jose';
import { JwksCache } from '../../../src/web/auth/jwks-cache.js';
import { validateIdToken } from '../../../src/web/auth/id-token.js';
import { AuthError } from '../../../src/web/auth/auth-error.js';

async function keyPair(
  kid: string,
): Promise<{ jwk: JWK; sign: (claims: object) => Promise<string> }> {
  const { publicKey, privateKey } = await generateKeyPair('RS256');
  const jwk = { ...(await exportJWK(publicKey)), kid, alg: 'RS256' };
  const now = Math.floor(Date.now() / 1000);
  return {
    jwk,
    sign: (claims) =>
      new SignJWT({
        iss: 'https://op.example',
        sub: 's',
        aud: 'c',
        iat: now,
        exp: now + 60,
        nonce: 'n'.repeat(20),
        ...claims,
      })
        .setProtectedHeader({ alg: 'RS256', kid })
        .sign(privateKey),
  };
}

const validate = (token: string, cache: JwksCache): Promise<unknown> =>
  validateIdToken(token, {
    issuer: 'https://op.example',
    clientId: 'c',
    nonce: 'n'.repeat(20),
    getKey: cache.getKey,
  });

describe('JwksCache', () => {
  it('fetches the key set once and reuses it', async () => {
    const k1 = await keyPair('k1');
    let fetches = 0;
    const cache = new JwksCache({
      fetchJwks: () => {
        fetches += 1;
        return Promise.resolve({ keys: [k1.jwk] });
      },
    });
    const token = await k1.sign({});
    await Promise.all([validate(token, cache), validate(token, cache)]);
    await validate(token, cache);
    expect(fetches).toBe(1);
  });

  it('fetches again when a rotated key appears, but not within the cooldown', async () => {
    const k1 = await keyPair('k1');
    const k2 = await keyPair('k2');
    let now = 0;
    let served = [k1.jwk];
    let fetches = 0;
    const cache = new JwksCache({
      clock: () => now,
      cooldownMs: 30_000,
      fetchJwks: () => {
        fetches += 1;
        return Promise.resolve({ keys: served });
      },
    });
    await validate(await k1.sign({}), cache);
    served = [k1.jwk, k2.jwk];
    await expect(validate(await k2.sign({}), cache)).rejects.toMatchObject({
      code: 'VESPER_WEB_AUTH_ID_TOKEN_SIGNATURE',
    });
    expect(fetches).toBe(1);
    now = 30_000;
    await validate(await k2.sign({}), cache);
    expect(fetches).toBe(2);
  });

  it('reports an invalid key set as a provider error and retries on the next token', async () => {
    const k1 = await keyPair('k1');
    let body: unknown = { keys: 'nope' };
    const cache = new JwksCache({ fetchJwks: () => Promise.resolve(body) });
    const token = await k1.sign({});
    const err = await validate(token, cache).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(AuthError);
    expect((err as AuthError).code).toBe('VESPER_WEB_AUTH_PROVIDER_RESPONSE');
    body = { keys: [k1.jwk] };
    await expect(validate(token, cache)).resolves.toBeDefined();
  });
});
