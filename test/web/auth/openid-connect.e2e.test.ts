import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Application } from '../../../src/web/application.js';
import { RequestHandler } from '../../../src/web/request-handler.js';
import { authenticated } from '../../../src/web/authenticated.js';
import { xhtmlEscape } from '../../../src/web/escape.js';
import { startTestServer, type TestServer } from '../../../src/web/testing.js';
import { OpenIdConnect } from '../../../src/web/auth/openid-connect.js';
import { OAuth2Mixin } from '../../../src/web/auth/oauth2-mixin.js';
import { MemoryStateReplayGuard } from '../../../src/web/auth/state-replay-guard.js';
import { codeChallengeS256 } from '../../../src/web/auth/pkce.js';
import { ALICE, startTestProvider, type TestProvider } from './oidc-test-provider.js';
import { TestBrowser } from './oidc-browser.js';

// The whole of seed 002 (Tornado's Globus login example) against a real OpenID
// Provider on loopback: a browser gets the app's /login, is sent to the
// provider with state, PKCE and nonce, logs in and consents there, comes back
// with a code; the app redeems it, validates the ID token, fetches userinfo,
// sets a signed user cookie, and a protected page shows the user.

const STATE_COOKIE = '_vesper_oauth2_state';
let provider: TestProvider;
let app: TestServer;
let oidc: OpenIdConnect;
let oidcWrongIssuer: OpenIdConnect;

function userCookie(handler: RequestHandler, name: string): string {
  return handler.getSignedCookie(name)?.toString('utf8') ?? '';
}

class MainHandler extends RequestHandler {
  override getCurrentUser(): unknown {
    return this.getSignedCookie('user_id')?.toString('utf8') ?? null;
  }

  override async get(): Promise<void> {
    if (this.currentUser === null) return this.finish('<a href="/login">Login</a>');
    await this.finish(
      `Hello ${xhtmlEscape(userCookie(this, 'name'))}! Username: ${xhtmlEscape(userCookie(this, 'username'))}; ` +
        `Email: ${xhtmlEscape(userCookie(this, 'email'))}; UUID: ${xhtmlEscape(userCookie(this, 'user_id'))}; ` +
        `Organization: ${xhtmlEscape(userCookie(this, 'organization'))}`,
    );
  }
}

class ProfileHandler extends MainHandler {
  override async get(): Promise<void> {
    await this.finish(`profile of ${xhtmlEscape(userCookie(this, 'user_id'))}`);
  }
}
// What `@authenticated` on the method does (vitest's transform has no decorators).
// eslint-disable-next-line @typescript-eslint/unbound-method -- wrapped, not called: authenticated() applies it to the handler.
ProfileHandler.prototype.get = authenticated(ProfileHandler.prototype.get);

class LogoutHandler extends RequestHandler {
  override async get(): Promise<void> {
    this.clearCookie('user_id');
    await this.redirect('/');
  }
}

class OidcLoginHandler extends RequestHandler {
  override async get(): Promise<void> {
    const helper = this.getQueryArgument('wrong_issuer', '') === '1' ? oidcWrongIssuer : oidc;
    if (
      this.getQueryArgument('code', undefined) === undefined &&
      this.getQueryArgument('error', undefined) === undefined
    ) {
      return helper.authorizeRedirect(this, { redirectUri: app.url('/login') });
    }
    const user = await helper.getAuthenticatedUser(this);
    const info = user.userinfo ?? {};
    const expiresAt = (user.claims.exp - 60) * 1000;
    this.setSignedCookie('user_id', user.sub, {
      expires: expiresAt,
      httpOnly: true,
      sameSite: 'Lax',
    });
    this.setSignedCookie('username', String(info.preferred_username), { httpOnly: true });
    this.setSignedCookie('email', String(info.email), { httpOnly: true });
    this.setSignedCookie('name', String(info.name), { httpOnly: true });
    this.setSignedCookie('organization', String(info.organization), { httpOnly: true });
    await this.redirect('/');
  }
}

// The same login through the OAuth2 mixin alone (Tornado's way): the app asks
// for the userinfo itself with oauth2Request.
class MixinLoginHandler extends OAuth2Mixin(RequestHandler) {
  override initialize(kwargs: Record<string, unknown>): void {
    this.OAUTH_AUTHORIZE_URL = `${String(kwargs.issuer)}/auth`;
    this.OAUTH_ACCESS_TOKEN_URL = `${String(kwargs.issuer)}/token`;
    this.OAUTH_STATE_REPLAY_GUARD = mixinGuard;
  }

  override async get(): Promise<void> {
    if (
      this.getQueryArgument('code', undefined) === undefined &&
      this.getQueryArgument('error', undefined) === undefined
    ) {
      return this.authorizeRedirect({
        redirectUri: app.url('/oauth2/login'),
        clientId: 'mixin-app',
        scope: ['openid', 'profile'],
        extraParams: { access_type: 'offline', state: 'attacker-chosen-state-value' },
      });
    }
    const tokens = await this.getAuthenticatedUser({
      clientId: 'mixin-app',
      clientSecret: 'mixin secret',
    });
    const info = (await this.oauth2Request(`${provider.issuer}/me`, {
      accessToken: tokens.access_token,
      bearer: true,
    })) as Record<string, unknown>;
    this.setSignedCookie('user_id', String(info.sub));
    this.setSignedCookie('name', String(info.name));
    await this.redirect('/');
  }
}
const mixinGuard = new MemoryStateReplayGuard();

beforeAll(async () => {
  const application = new Application([], {
    cookieSecret: 'the test app cookie secret',
    loginUrl: '/login',
  });
  app = await startTestServer(application);
  provider = await startTestProvider([
    {
      client_id: 'vesper-app',
      client_secret: 'vesper app secret',
      redirect_uris: [app.url('/login')],
      token_endpoint_auth_method: 'client_secret_basic',
    },
    {
      client_id: 'mixin-app',
      client_secret: 'mixin secret',
      redirect_uris: [app.url('/oauth2/login')],
      token_endpoint_auth_method: 'client_secret_post',
    },
  ]);
  oidc = new OpenIdConnect({
    issuer: provider.issuer,
    clientId: 'vesper-app',
    clientSecret: 'vesper app secret',
    scope: ['openid', 'profile', 'email'],
    replayGuard: new MemoryStateReplayGuard(),
  });
  oidcWrongIssuer = new OpenIdConnect({
    issuer: provider.issuer.replace('127.0.0.1', 'localhost'),
    clientId: 'vesper-app',
    clientSecret: 'vesper app secret',
  });
  application.addHandlers('.*$', [
    ['/', MainHandler],
    ['/profile', ProfileHandler],
    ['/logout', LogoutHandler],
    ['/login', OidcLoginHandler],
    ['/oauth2/login', MixinLoginHandler, { issuer: provider.issuer }],
  ]);
}, 20_000);

afterAll(async () => {
  await app?.close();
  await provider?.close();
});

/** Runs the browser's part up to the provider's redirect back to `callbackPath`. */
async function loginUntilCallback(
  browser: TestBrowser,
  startPath: string,
  callbackPath: string,
): Promise<{ authorize: URL; callback: string }> {
  const start = await browser.request(app.url(startPath));
  expect(start.status).toBe(302);
  const authorize = new URL(start.location!);
  const callback = await browser.loginAtProvider(start.location!, app.url(callbackPath), 'alice');
  return { authorize, callback };
}

describe('OpenID Connect login against a real provider (seed 002)', () => {
  it('logs the user in and shows them on a protected page', async () => {
    const browser = new TestBrowser();
    expect((await browser.request(app.url('/'))).body).toBe('<a href="/login">Login</a>');
    const profileBefore = await browser.request(app.url('/profile'));
    expect(profileBefore.status).toBe(302);
    expect(profileBefore.location).toBe(app.url('/login?next=%2Fprofile'));

    const { authorize, callback } = await loginUntilCallback(browser, '/login', '/login');
    expect(`${authorize.origin}${authorize.pathname}`).toBe(`${provider.issuer}/auth`);
    const q = authorize.searchParams;
    expect(q.get('response_type')).toBe('code');
    expect(q.get('client_id')).toBe('vesper-app');
    expect(q.get('redirect_uri')).toBe(app.url('/login'));
    expect(q.get('scope')).toBe('openid profile email');
    expect(q.get('state')).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(q.get('nonce')).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(q.get('code_challenge_method')).toBe('S256');
    expect(q.get('code_challenge')).toMatch(/^[A-Za-z0-9_-]{43}$/);

    const back = new URL(callback);
    expect(back.searchParams.get('state')).toBe(q.get('state'));
    expect(back.searchParams.get('iss')).toBe(provider.issuer);
    expect(back.searchParams.get('code')).not.toBeNull();
    expect(browser.cookie(callback, STATE_COOKIE)).toBeDefined();

    const done = await browser.request(callback);
    expect(done.status).toBe(302);
    expect(done.location).toBe(app.url('/'));
    expect(browser.cookie(callback, STATE_COOKIE)).toBeUndefined();
    expect(browser.cookie(app.url('/'), 'user_id')).toMatch(
      /^"2\|1:0\|10:\d+\|7:user_id\|8:YWxpY2U=\|[0-9a-f]{64}"$/,
    );

    const home = await browser.request(app.url('/'));
    expect(home.status).toBe(200);
    expect(home.body).toBe(
      'Hello Alice Liddell! Username: alice; Email: alice@example.org; UUID: alice; Organization: Wonderland',
    );
    const profile = await browser.request(app.url('/profile'));
    expect(profile.status).toBe(200);
    expect(profile.body).toBe('profile of alice');

    await browser.request(app.url('/logout'));
    expect((await browser.request(app.url('/profile'))).status).toBe(302);
  });

  it('refuses to replay a completed callback, with or without a kept state cookie', async () => {
    const browser = new TestBrowser();
    const { callback } = await loginUntilCallback(browser, '/login', '/login');
    const kept = browser.cookie(callback, STATE_COOKIE)!;
    expect((await browser.request(callback)).status).toBe(302);

    const again = await browser.request(callback);
    expect(again.status).toBe(400);
    expect(again.statusText).toBe('No login in progress');

    browser.setCookie(callback, STATE_COOKIE, kept, '/login');
    const replay = await browser.request(callback);
    expect(replay.status).toBe(403);
    expect(replay.statusText).toBe('OAuth2 state already used');
  });

  it('refuses a callback whose state is not the one this browser was given', async () => {
    const browser = new TestBrowser();
    const { callback } = await loginUntilCallback(browser, '/login', '/login');
    const forged = new URL(callback);
    forged.searchParams.set('state', 'x'.repeat(43));
    const res = await browser.request(forged.toString());
    expect(res.status).toBe(403);
    expect(res.statusText).toBe('OAuth2 state mismatch');
    // The cookie is single use: the genuine callback now fails too.
    expect((await browser.request(callback)).status).toBe(400);
    expect(browser.cookie(app.url('/'), 'user_id')).toBeUndefined();
  });

  it('refuses a callback whose state cookie was tampered with', async () => {
    const browser = new TestBrowser();
    const { callback } = await loginUntilCallback(browser, '/login', '/login');
    const cookie = browser.cookie(callback, STATE_COOKIE)!;
    const fields = cookie.split('|');
    const record = JSON.parse(
      Buffer.from(fields[4]!.split(':')[1]!, 'base64').toString(),
    ) as Record<string, string>;
    // An attacker's own verifier, keeping the signature: the signature check catches it.
    record.v = 'A'.repeat(43);
    const value = Buffer.from(JSON.stringify(record)).toString('base64');
    fields[4] = `${value.length}:${value}`;
    browser.setCookie(callback, STATE_COOKIE, fields.join('|'), '/login');
    const res = await browser.request(callback);
    expect(res.status).toBe(403);
    expect(res.statusText).toBe('Invalid login state');
  });

  it('refuses a redeemed code even with a fresh valid state', async () => {
    // A second login in the same browser yields a new state; the old code
    // presented with it is refused by the provider (PKCE verifier and single
    // use), and the login fails with 403.
    const browser = new TestBrowser();
    const first = await loginUntilCallback(browser, '/login', '/login');
    expect((await browser.request(first.callback)).status).toBe(302);
    const second = await loginUntilCallback(browser, '/login', '/login');
    const mixed = new URL(second.callback);
    mixed.searchParams.set('code', new URL(first.callback).searchParams.get('code')!);
    const res = await browser.request(mixed.toString());
    expect(res.status).toBe(403);
  });

  it('reports the user declining at the provider as 403', async () => {
    const browser = new TestBrowser();
    const start = await browser.request(app.url('/login'));
    const state = new URL(start.location!).searchParams.get('state')!;
    const res = await browser.request(
      app.url(
        `/login?error=access_denied&state=${state}&iss=${encodeURIComponent(provider.issuer)}`,
      ),
    );
    expect(res.status).toBe(403);
  });

  it('refuses a provider whose discovery document names another issuer', async () => {
    const browser = new TestBrowser();
    const res = await browser.request(app.url('/login?wrong_issuer=1'));
    expect(res.status).toBe(502);
  });
});

describe('OAuth2Mixin login against a real provider', () => {
  it('sends state and PKCE that extraParams cannot override, and logs the user in', async () => {
    const browser = new TestBrowser();
    const { authorize, callback } = await loginUntilCallback(
      browser,
      '/oauth2/login',
      '/oauth2/login',
    );
    const q = authorize.searchParams;
    expect(q.get('state')).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(q.getAll('state')).toHaveLength(1);
    expect(q.get('access_type')).toBe('offline');
    expect(q.get('scope')).toBe('openid profile');
    expect(q.get('nonce')).toBeNull();
    const cookie = browser.cookie(callback, STATE_COOKIE)!;
    const record = JSON.parse(
      Buffer.from(cookie.split('|')[4]!.split(':')[1]!, 'base64').toString(),
    ) as Record<string, string>;
    expect(codeChallengeS256(record.v!)).toBe(q.get('code_challenge'));

    const done = await browser.request(callback);
    expect(done.status).toBe(302);
    const home = await browser.request(app.url('/'));
    expect(home.body).toContain(`Hello ${ALICE.name}!`);
    expect(home.body).toContain('UUID: alice');
  });

  it('refuses a replayed callback', async () => {
    const browser = new TestBrowser();
    const { callback } = await loginUntilCallback(browser, '/oauth2/login', '/oauth2/login');
    const kept = browser.cookie(callback, STATE_COOKIE)!;
    expect((await browser.request(callback)).status).toBe(302);
    browser.setCookie(callback, STATE_COOKIE, kept, '/oauth2/login');
    const replay = await browser.request(callback);
    expect(replay.status).toBe(403);
    expect(replay.statusText).toBe('OAuth2 state already used');
  });
});
