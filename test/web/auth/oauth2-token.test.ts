import { describe, expect, it } from 'vitest';
import { buildTokenRequest, parseTokenResponse } from '../../../src/web/auth/oauth2-token.js';
import { AuthError } from '../../../src/web/auth/auth-error.js';

const base = {
  code: 'the-code',
  redirectUri: 'https://app.example/login',
  clientId: 'my client',
  clientSecret: 's3cr:t+/',
  codeVerifier: 'dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk',
};

function code(fn: () => unknown): string {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(AuthError);
    return (err as AuthError).code;
  }
  throw new Error('no error');
}

describe('the token request', () => {
  it('puts the secret in the body with client_secret_post', () => {
    const req = buildTokenRequest({ ...base, authMethod: 'client_secret_post' });
    expect(req.body).toBe(
      'grant_type=authorization_code&code=the-code&redirect_uri=https%3A%2F%2Fapp.example%2Flogin&code_verifier=dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk&client_id=my+client&client_secret=s3cr%3At%2B%2F',
    );
    expect(req.headers.Authorization).toBeUndefined();
    expect(req.headers['Content-Type']).toBe('application/x-www-form-urlencoded');
  });

  it('form-encodes id and secret into HTTP Basic with client_secret_basic', () => {
    const req = buildTokenRequest({
      ...base,
      authMethod: 'client_secret_basic',
      extraParams: { client_secret: 'leak' },
    });
    expect(req.headers.Authorization).toBe(
      `Basic ${Buffer.from('my+client:s3cr%3At%2B%2F').toString('base64')}`,
    );
    expect(req.body).not.toContain('client_secret');
    expect(req.body).not.toContain('client_id');
  });

  it('sends only the client id for a public client', () => {
    const { clientSecret: _s, ...pub } = base;
    const req = buildTokenRequest({ ...pub, authMethod: 'none' });
    expect(req.body).toContain('&client_id=my+client');
    expect(req.body).not.toContain('client_secret');
  });

  it('keeps extra fields but never lets them replace the grant', () => {
    const req = buildTokenRequest({
      ...base,
      authMethod: 'client_secret_post',
      extraParams: { resource: 'https://api.example', code: 'other', grant_type: 'password' },
    });
    const form = new URLSearchParams(req.body);
    expect(form.get('resource')).toBe('https://api.example');
    expect(form.getAll('code')).toEqual(['the-code']);
    expect(form.getAll('grant_type')).toEqual(['authorization_code']);
  });

  it('refuses a secret-based method without a secret', () => {
    expect(
      code(() =>
        buildTokenRequest({ ...base, clientSecret: undefined, authMethod: 'client_secret_basic' }),
      ),
    ).toBe('VESPER_WEB_AUTH_CONFIG');
  });
});

describe('the token response', () => {
  const ok = (obj: unknown): Buffer => Buffer.from(JSON.stringify(obj));

  it('returns the fields of a successful response', () => {
    const res = parseTokenResponse(
      200,
      ok({
        access_token: 'at',
        token_type: 'Bearer',
        expires_in: 3600,
        id_token: 'x.y.z',
        extra: 1,
      }),
    );
    expect(res).toEqual({
      access_token: 'at',
      token_type: 'Bearer',
      expires_in: 3600,
      id_token: 'x.y.z',
      extra: 1,
    });
  });

  it('classifies refusals by their error code', () => {
    expect(
      code(() =>
        parseTokenResponse(
          400,
          ok({ error: 'invalid_grant', error_description: 'grant request is invalid' }),
        ),
      ),
    ).toBe('VESPER_WEB_AUTH_TOKEN_REFUSED');
    expect(code(() => parseTokenResponse(401, ok({ error: 'invalid_client' })))).toBe(
      'VESPER_WEB_AUTH_CLIENT_REJECTED',
    );
    expect(code(() => parseTokenResponse(503, Buffer.from('busy')))).toBe(
      'VESPER_WEB_AUTH_PROVIDER_UNREACHABLE',
    );
    expect(code(() => parseTokenResponse(400, Buffer.from('<html>')))).toBe(
      'VESPER_WEB_AUTH_PROVIDER_RESPONSE',
    );
  });

  it('names the provider error in the message, sanitised', () => {
    try {
      parseTokenResponse(400, ok({ error: 'invalid_grant', error_description: 'bad\ncode' }));
    } catch (err) {
      expect((err as AuthError).message).toBe(
        'The token endpoint refused the code with HTTP 400 invalid_grant: bad?code.',
      );
      expect((err as AuthError).httpStatus).toBe(403);
    }
  });

  it('refuses a 200 that is not a usable token response', () => {
    expect(code(() => parseTokenResponse(200, Buffer.from('access_token=at')))).toBe(
      'VESPER_WEB_AUTH_PROVIDER_RESPONSE',
    );
    expect(code(() => parseTokenResponse(200, ok({ token_type: 'Bearer' })))).toBe(
      'VESPER_WEB_AUTH_PROVIDER_RESPONSE',
    );
    expect(code(() => parseTokenResponse(200, ok({ access_token: 'at' })))).toBe(
      'VESPER_WEB_AUTH_PROVIDER_RESPONSE',
    );
    expect(
      code(() =>
        parseTokenResponse(200, ok({ access_token: 'at', token_type: 'Bearer', id_token: 5 })),
      ),
    ).toBe('VESPER_WEB_AUTH_PROVIDER_RESPONSE');
  });
});
