import { describe, expect, it } from 'vitest';
import { discoveryUrl, parseProviderMetadata } from '../../../src/web/auth/oidc-discovery.js';
import { AuthError } from '../../../src/web/auth/auth-error.js';

const ISSUER = 'https://op.example/realms/main';
const doc = {
  issuer: ISSUER,
  authorization_endpoint: 'https://op.example/auth',
  token_endpoint: 'https://op.example/token',
  jwks_uri: 'https://op.example/jwks',
  userinfo_endpoint: 'https://op.example/me',
  response_types_supported: ['code', 'id_token'],
  id_token_signing_alg_values_supported: ['RS256', 'ES256', 'none'],
  token_endpoint_auth_methods_supported: ['client_secret_basic', 'client_secret_post'],
  code_challenge_methods_supported: ['S256'],
};

function refusal(document: unknown, issuer = ISSUER): string {
  try {
    parseProviderMetadata(document, issuer);
  } catch (err) {
    expect(err).toBeInstanceOf(AuthError);
    return `${(err as AuthError).code}: ${(err as AuthError).message}`;
  }
  throw new Error('the document was accepted');
}

describe('OpenID discovery', () => {
  it('puts the well-known path after the issuer without its terminating slash', () => {
    expect(discoveryUrl('https://op.example')).toBe(
      'https://op.example/.well-known/openid-configuration',
    );
    expect(discoveryUrl('https://op.example/realms/main/')).toBe(
      'https://op.example/realms/main/.well-known/openid-configuration',
    );
    expect(() => discoveryUrl('op.example')).toThrow(AuthError);
    expect(() => discoveryUrl('https://op.example/?x=1')).toThrow(AuthError);
  });

  it('returns the metadata of a valid document', () => {
    const meta = parseProviderMetadata(doc, ISSUER);
    expect(meta).toMatchObject({
      issuer: ISSUER,
      authorizationEndpoint: 'https://op.example/auth',
      tokenEndpoint: 'https://op.example/token',
      jwksUri: 'https://op.example/jwks',
      userinfoEndpoint: 'https://op.example/me',
      idTokenSigningAlgValuesSupported: ['RS256', 'ES256'],
      tokenEndpointAuthMethodsSupported: ['client_secret_basic', 'client_secret_post'],
      codeChallengeMethodsSupported: ['S256'],
    });
  });

  it('uses the specification defaults for absent lists', () => {
    const {
      id_token_signing_alg_values_supported: _a,
      token_endpoint_auth_methods_supported: _b,
      ...rest
    } = doc;
    const meta = parseProviderMetadata(rest, ISSUER);
    expect(meta.idTokenSigningAlgValuesSupported).toEqual(['RS256']);
    expect(meta.tokenEndpointAuthMethodsSupported).toEqual(['client_secret_basic']);
  });

  it('refuses a document naming another issuer, even one differing by a slash', () => {
    expect(refusal({ ...doc, issuer: 'https://evil.example' })).toMatch(
      /^VESPER_WEB_AUTH_DISCOVERY_INVALID: .*issuer/,
    );
    expect(refusal({ ...doc, issuer: `${ISSUER}/` })).toMatch(/^VESPER_WEB_AUTH_DISCOVERY_INVALID/);
  });

  it('refuses a document without a required endpoint', () => {
    for (const field of ['authorization_endpoint', 'token_endpoint', 'jwks_uri'] as const) {
      const { [field]: _gone, ...rest } = doc;
      expect(refusal(rest)).toBe(
        `VESPER_WEB_AUTH_DISCOVERY_INVALID: The OpenID discovery document has no ${field}.`,
      );
    }
  });

  it('refuses plain-http endpoints except on loopback', () => {
    expect(refusal({ ...doc, token_endpoint: 'http://op.example/token' })).toMatch(
      /token_endpoint must be an https URL/,
    );
    const local = {
      ...doc,
      issuer: 'http://127.0.0.1:4000',
      authorization_endpoint: 'http://127.0.0.1:4000/auth',
      token_endpoint: 'http://localhost:4000/token',
      jwks_uri: 'http://[::1]:4000/jwks',
      userinfo_endpoint: 'http://127.0.0.1:4000/me',
    };
    expect(parseProviderMetadata(local, 'http://127.0.0.1:4000').jwksUri).toBe(
      'http://[::1]:4000/jwks',
    );
    expect(
      parseProviderMetadata({ ...doc, token_endpoint: 'http://op.example/token' }, ISSUER, {
        allowInsecureHttp: true,
      }).tokenEndpoint,
    ).toBe('http://op.example/token');
  });

  it('refuses a provider without the code flow and malformed lists', () => {
    expect(refusal({ ...doc, response_types_supported: ['id_token'] })).toMatch(
      /authorization code flow/,
    );
    expect(refusal({ ...doc, response_types_supported: 'code' })).toMatch(/not a list of strings/);
    expect(refusal([doc])).toMatch(/not a JSON object/);
    expect(refusal({ ...doc, jwks_uri: 'not a url' })).toMatch(/jwks_uri is not a URL/);
  });
});
