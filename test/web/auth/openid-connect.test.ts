import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { SignJWT, exportJWK, generateKeyPair, type CryptoKey, type JWK } from 'jose';
import { Application } from '../../../src/web/application.js';
import { RequestHandler } from '../../../src/web/request-handler.js';
import { AsyncHTTPClient } from '../../../src/web/http-client.js';
import { startTestServer, type TestServer } from '../../../src/web/testing.js';
import { OpenIdConnect, type OpenIdConnectOptions } from '../../../src/web/auth/openid-connect.js';
import { OAuth2Mixin } from '../../../src/web/auth/oauth2-mixin.js';
import { AuthError } from '../../../src/web/auth/auth-error.js';
import { TestBrowser } from './oidc-browser.js';

// OpenIdConnect and oauth2Request against a provider written with the
// framework itself, so each test can make it misbehave in one precise way.

interface Behaviour {
  discoveryExtra: Record<string, unknown>;
  tokenStatus: number;
  idTokenClaims: Record<string, unknown>;
  userinfo: Record<string, unknown> | null;
  issInCallback: boolean;
}

let key: CryptoKey;
let jwk: JWK;
let provider: TestServer;
let app: TestServer;
let behaviour: Behaviour;
const counts = { discovery: 0, jwks: 0, token: 0, userinfo: 0 };
let lastNonce = '';
let lastTokenRequest:
  { authorization: string | undefined; body: Record<string, string> } | undefined;
let lastApiRequest:
  { method: string; uri: string; authorization: string | undefined; body: string } | undefined;
let oidc: OpenIdConnect;
const client = new AsyncHTTPClient();

class DiscoveryHandler extends RequestHandler {
  override async get(): Promise<void> {
    counts.discovery += 1;
    const iss = provider.baseUrl;
    await this.finish({
      issuer: iss,
      authorization_endpoint: `${iss}/authorize`,
      token_endpoint: `${iss}/token`,
      jwks_uri: `${iss}/jwks`,
      userinfo_endpoint: `${iss}/userinfo`,
      response_types_supported: ['code'],
      id_token_signing_alg_values_supported: ['RS256'],
      token_endpoint_auth_methods_supported: ['client_secret_post'],
      ...behaviour.discoveryExtra,
    });
  }
}

class JwksHandler extends RequestHandler {
  override async get(): Promise<void> {
    counts.jwks += 1;
    await this.finish({ keys: [jwk] });
  }
}

class TokenHandler extends RequestHandler {
  override async post(): Promise<void> {
    counts.token += 1;
    const body: Record<string, string> = {};
    for (const name of Object.keys(this.request.bodyArguments))
      body[name] = this.getBodyArgument(name);
    lastTokenRequest = { authorization: this.request.headers.get('Authorization'), body };
    if (behaviour.tokenStatus !== 200) {
      this.setStatus(behaviour.tokenStatus);
      return this.finish({ error: 'server_error' });
    }
    const now = Math.floor(Date.now() / 1000);
    const idToken = await new SignJWT({
      iss: provider.baseUrl,
      sub: 'user-7',
      aud: 'client-1',
      iat: now,
      exp: now + 300,
      nonce: lastNonce,
      ...behaviour.idTokenClaims,
    })
      .setProtectedHeader({ alg: 'RS256', kid: 'k1' })
      .sign(key);
    await this.finish({
      access_token: 'access-token-1',
      token_type: 'Bearer',
      expires_in: 300,
      id_token: idToken,
    });
  }
}

class UserinfoHandler extends RequestHandler {
  override async get(): Promise<void> {
    counts.userinfo += 1;
    if (this.request.headers.get('Authorization') !== 'Bearer access-token-1')
      throw new Error('no bearer');
    await this.finish(behaviour.userinfo ?? { sub: 'user-7', name: 'Seven' });
  }
}

class ApiHandler extends RequestHandler {
  override async get(): Promise<void> {
    lastApiRequest = {
      method: 'GET',
      uri: this.request.uri,
      authorization: this.request.headers.get('Authorization'),
      body: '',
    };
    const kind = this.getQueryArgument('kind', 'json');
    if (kind === 'text') return this.finish('not json');
    if (kind === 'missing') {
      this.setStatus(404);
      return this.finish({ error: 'nope' });
    }
    await this.finish({ ok: true });
  }

  override async post(): Promise<void> {
    lastApiRequest = {
      method: 'POST',
      uri: this.request.uri,
      authorization: this.request.headers.get('Authorization'),
      body: this.request.body.toString(),
    };
    await this.finish({ posted: true });
  }
}

class LoginHandler extends RequestHandler {
  override async get(): Promise<void> {
    if (this.getQueryArgument('code', undefined) === undefined) {
      return oidc.authorizeRedirect(this, {
        redirectUri: app.url('/login'),
        extraParams: { prompt: 'login' },
      });
    }
    const user = await oidc.getAuthenticatedUser(this);
    await this.finish({ sub: user.sub, name: user.userinfo?.name ?? null, claims: user.claims });
  }
}

class ApiClientHandler extends OAuth2Mixin(RequestHandler) {
  override async get(): Promise<void> {
    const mode = this.getQueryArgument('mode');
    const url = `${provider.baseUrl}/api`;
    try {
      const result =
        mode === 'query'
          ? await this.oauth2Request(url, { accessToken: 'tok', args: { fields: 'a b' } })
          : mode === 'bearer'
            ? await this.oauth2Request(url, { accessToken: 'tok', bearer: true })
            : mode === 'post'
              ? await this.oauth2Request(url, {
                  accessToken: 'tok',
                  postArgs: { message: 'hi there' },
                })
              : await this.oauth2Request(`${url}?kind=${mode}`);
      await this.finish({ result: result as Record<string, unknown> });
    } catch (err) {
      await this.finish({ error: err instanceof AuthError ? err.code : String(err) });
    }
  }
}

class UnconfiguredLoginHandler extends OAuth2Mixin(RequestHandler) {
  override get(): Promise<void> {
    return this.authorizeRedirect({ redirectUri: app.url('/unconfigured'), clientId: 'c' });
  }
}

function configure(options: Partial<OpenIdConnectOptions> = {}): void {
  oidc = new OpenIdConnect({
    issuer: provider.baseUrl,
    clientId: 'client-1',
    clientSecret: 'secret-1',
    httpClient: client,
    scope: ['profile'],
    replayGuard: null,
    ...options,
  });
}

beforeAll(async () => {
  const pair = await generateKeyPair('RS256');
  key = pair.privateKey;
  jwk = { ...(await exportJWK(pair.publicKey)), kid: 'k1', alg: 'RS256' };
  provider = await startTestServer(
    new Application([
      ['/.well-known/openid-configuration', DiscoveryHandler],
      ['/jwks', JwksHandler],
      ['/token', TokenHandler],
      ['/userinfo', UserinfoHandler],
      ['/api', ApiHandler],
    ]),
  );
  app = await startTestServer(
    new Application(
      [
        ['/login', LoginHandler],
        ['/api-client', ApiClientHandler],
        ['/unconfigured', UnconfiguredLoginHandler],
      ],
      { cookieSecret: 'secret of the app' },
    ),
  );
});

afterAll(async () => {
  await client.close();
  await app?.close();
  await provider?.close();
});

beforeEach(() => {
  behaviour = {
    discoveryExtra: {},
    tokenStatus: 200,
    idTokenClaims: {},
    userinfo: null,
    issInCallback: true,
  };
  for (const k of Object.keys(counts) as (keyof typeof counts)[]) counts[k] = 0;
  configure();
});

/** Starts a login and returns the callback URL the provider would send the browser to. */
async function startLogin(browser: TestBrowser): Promise<{ authorize: URL; callback: string }> {
  const start = await browser.request(app.url('/login'));
  expect(start.status).toBe(302);
  const authorize = new URL(start.location!);
  lastNonce = authorize.searchParams.get('nonce')!;
  const callback = new URL(app.url('/login'));
  callback.searchParams.set('code', 'code-1');
  callback.searchParams.set('state', authorize.searchParams.get('state')!);
  if (behaviour.issInCallback) callback.searchParams.set('iss', provider.baseUrl);
  return { authorize, callback: callback.toString() };
}

async function login(): Promise<{ status: number; statusText: string; body: string }> {
  const browser = new TestBrowser();
  const { callback } = await startLogin(browser);
  return browser.request(callback);
}

describe('OpenIdConnect', () => {
  it('sends the configured scopes with openid first and keeps extra parameters', async () => {
    const { authorize } = await startLogin(new TestBrowser());
    expect(`${authorize.origin}${authorize.pathname}`).toBe(`${provider.baseUrl}/authorize`);
    expect(authorize.searchParams.get('scope')).toBe('openid profile');
    expect(authorize.searchParams.get('prompt')).toBe('login');
    expect(authorize.searchParams.get('client_id')).toBe('client-1');
  });

  it('completes a login and authenticates with client_secret_post when that is all the provider offers', async () => {
    const res = await login();
    expect(res.status).toBe(200);
    const body = JSON.parse(res.body) as {
      sub: string;
      name: string;
      claims: Record<string, unknown>;
    };
    expect(body.sub).toBe('user-7');
    expect(body.name).toBe('Seven');
    expect(body.claims.nonce).toBe(lastNonce);
    expect(lastTokenRequest!.authorization).toBeUndefined();
    expect(lastTokenRequest!.body).toMatchObject({
      grant_type: 'authorization_code',
      code: 'code-1',
      redirect_uri: app.url('/login'),
      client_id: 'client-1',
      client_secret: 'secret-1',
    });
    expect(lastTokenRequest!.body.code_verifier).toMatch(/^[A-Za-z0-9_-]{43}$/);
  });

  it('uses HTTP Basic when the provider lists client_secret_basic', async () => {
    behaviour.discoveryExtra = {
      token_endpoint_auth_methods_supported: ['client_secret_basic', 'client_secret_post'],
    };
    expect((await login()).status).toBe(200);
    expect(lastTokenRequest!.authorization).toBe(
      `Basic ${Buffer.from('client-1:secret-1').toString('base64')}`,
    );
    expect(lastTokenRequest!.body.client_secret).toBeUndefined();
  });

  it('fetches the discovery document and the key set once for many logins', async () => {
    await login();
    await login();
    await login();
    expect(counts).toEqual({ discovery: 1, jwks: 1, token: 3, userinfo: 3 });
  });

  it('refuses userinfo about another subject than the ID token', async () => {
    behaviour.userinfo = { sub: 'someone-else', name: 'Mallory' };
    const res = await login();
    expect(res.status).toBe(403);
  });

  it('refuses an ID token whose nonce is not this login’s', async () => {
    behaviour.idTokenClaims = { nonce: 'a-nonce-from-another-login-attempt' };
    const res = await login();
    expect(res.status).toBe(403);
    expect(counts.userinfo).toBe(0);
  });

  it('refuses an ID token for another audience', async () => {
    behaviour.idTokenClaims = { aud: 'client-2' };
    expect((await login()).status).toBe(403);
  });

  it('refuses a callback without iss from a provider that promises it (RFC 9207)', async () => {
    behaviour.discoveryExtra = { authorization_response_iss_parameter_supported: true };
    behaviour.issInCallback = false;
    expect((await login()).status).toBe(403);
    expect(counts.token).toBe(0);
  });

  it('refuses a callback naming another issuer (RFC 9207)', async () => {
    const browser = new TestBrowser();
    const { callback } = await startLogin(browser);
    const forged = new URL(callback);
    forged.searchParams.set('iss', 'https://evil.example');
    expect((await browser.request(forged.toString())).status).toBe(403);
    expect(counts.token).toBe(0);
  });

  it('answers 502 when the token endpoint fails', async () => {
    behaviour.tokenStatus = 500;
    expect((await login()).status).toBe(502);
  });

  it('skips userinfo when told to', async () => {
    configure({ fetchUserinfo: false });
    const res = await login();
    expect(res.status).toBe(200);
    expect((JSON.parse(res.body) as { name: unknown }).name).toBeNull();
    expect(counts.userinfo).toBe(0);
  });

  it('does not keep a failed discovery', async () => {
    behaviour.discoveryExtra = { issuer: 'https://elsewhere.example' };
    await expect(oidc.discover()).rejects.toMatchObject({
      code: 'VESPER_WEB_AUTH_DISCOVERY_INVALID',
    });
    behaviour.discoveryExtra = {};
    await expect(oidc.discover()).resolves.toMatchObject({ issuer: provider.baseUrl });
    expect(counts.discovery).toBe(2);
  });

  it('reports an unreachable provider', async () => {
    const dead = new OpenIdConnect({
      issuer: 'http://127.0.0.1:1',
      clientId: 'c',
      httpClient: client,
    });
    await expect(dead.discover()).rejects.toMatchObject({
      code: 'VESPER_WEB_AUTH_PROVIDER_UNREACHABLE',
    });
  });

  it('refuses a bad configuration at construction', () => {
    expect(() => new OpenIdConnect({ issuer: 'not a url', clientId: 'c' })).toThrow(AuthError);
    expect(() => new OpenIdConnect({ issuer: 'https://op.example', clientId: '' })).toThrow(
      AuthError,
    );
  });
});

describe('OAuth2Mixin', () => {
  it('answers 500 and sets no cookie when the handler has no authorization endpoint', async () => {
    const res = await app.fetch('/unconfigured');
    expect(res.status).toBe(500);
    expect(res.headers.getSetCookie()).toEqual([]);
  });
});

describe('oauth2Request', () => {
  async function call(mode: string): Promise<Record<string, unknown>> {
    const res = await app.fetch(`/api-client?mode=${mode}`);
    expect(res.status).toBe(200);
    return (await res.json()) as Record<string, unknown>;
  }

  it('sends the access token in the query, as Tornado does', async () => {
    expect(await call('query')).toEqual({ result: { ok: true } });
    expect(lastApiRequest).toEqual({
      method: 'GET',
      uri: '/api?fields=a+b&access_token=tok',
      authorization: undefined,
      body: '',
    });
  });

  it('sends the access token as a Bearer header when asked', async () => {
    expect(await call('bearer')).toEqual({ result: { ok: true } });
    expect(lastApiRequest).toEqual({
      method: 'GET',
      uri: '/api',
      authorization: 'Bearer tok',
      body: '',
    });
  });

  it('posts form arguments', async () => {
    expect(await call('post')).toEqual({ result: { posted: true } });
    expect(lastApiRequest).toEqual({
      method: 'POST',
      uri: '/api?access_token=tok',
      authorization: undefined,
      body: 'message=hi+there',
    });
  });

  it('fails with a provider error for non-JSON and error statuses', async () => {
    expect(await call('text')).toEqual({ error: 'VESPER_WEB_AUTH_PROVIDER_RESPONSE' });
    expect(await call('missing')).toEqual({ error: 'VESPER_WEB_AUTH_PROVIDER_RESPONSE' });
  });
});
