import { afterEach, describe, expect, it } from 'vitest';
import { Application } from '../../../src/web/application.js';
import { RequestHandler } from '../../../src/web/request-handler.js';
import { startTestServer, type TestServer } from '../../../src/web/testing.js';
import { consumeAuthState, issueAuthState } from '../../../src/web/auth/auth-state-cookie.js';
import { MemoryStateReplayGuard } from '../../../src/web/auth/state-replay-guard.js';
import { codeChallengeS256 } from '../../../src/web/auth/pkce.js';
import { createSignedValue } from '../../../src/web/signed-value.js';

const SECRET = 'a cookie secret for the state cookie tests';
const COOKIE = '_vesper_oauth2_state';
let clockMs = Date.now();
const guard = new MemoryStateReplayGuard();

class StartHandler extends RequestHandler {
  override async get(): Promise<void> {
    const issued = issueAuthState(this, 'http://app.test/auth/callback', {
      withNonce: this.getQueryArgument('nonce', '') === '1',
      clock: () => clockMs,
    });
    await this.finish({ ...issued });
  }
}

class CallbackHandler extends RequestHandler {
  override async get(): Promise<void> {
    const record = await consumeAuthState(this, this.getQueryArgument('state', undefined), {
      clock: () => clockMs,
      replayGuard: guard,
    });
    await this.finish({ ...record });
  }
}

let server: TestServer | undefined;
afterEach(async () => {
  await server?.close();
  server = undefined;
  clockMs = Date.now();
});

async function start(): Promise<TestServer> {
  const app = new Application(
    [
      ['/auth/start', StartHandler],
      ['/auth/callback', CallbackHandler],
    ],
    { cookieSecret: SECRET },
  );
  server = await startTestServer(app);
  return server;
}

function cookieOf(res: Response): string {
  const header = res.headers.getSetCookie().find((c) => c.startsWith(`${COOKIE}=`));
  if (header === undefined) throw new Error('no state cookie');
  // Signed values hold "=" and so are sent quoted, as Tornado does.
  return header
    .slice(COOKIE.length + 1)
    .split(';')[0]!
    .replace(/^"(.*)"$/, '$1');
}

async function begin(
  s: TestServer,
  nonce = false,
): Promise<{ issued: Record<string, string>; cookie: string; header: string }> {
  const res = await s.fetch(`/auth/start${nonce ? '?nonce=1' : ''}`);
  expect(res.status).toBe(200);
  const header = res.headers.getSetCookie().find((c) => c.startsWith(`${COOKIE}=`))!;
  return { issued: (await res.json()) as Record<string, string>, cookie: cookieOf(res), header };
}

function callback(
  s: TestServer,
  state: string | undefined,
  cookie: string | undefined,
): Promise<Response> {
  return s.fetch(
    `/auth/callback${state === undefined ? '' : `?state=${encodeURIComponent(state)}`}`,
    {
      headers: cookie === undefined ? {} : { Cookie: `${COOKIE}=${cookie}` },
    },
  );
}

describe('the signed state cookie', () => {
  it('is HttpOnly, SameSite=Lax, short-lived and scoped to the callback path', async () => {
    const s = await start();
    const { header, issued } = await begin(s);
    expect(header).toMatch(/; HttpOnly;/);
    expect(header).toMatch(/; Max-Age=600;/);
    expect(header).toMatch(/; Path=\/auth\/callback;/);
    expect(header).toMatch(/; SameSite=Lax$/);
    expect(header).not.toMatch(/Secure/);
    expect(issued.state).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(issued.codeChallengeMethod).toBe('S256');
    expect(issued.nonce).toBeUndefined();
  });

  it('carries the PKCE verifier and nonce back to the callback, once', async () => {
    const s = await start();
    const { issued, cookie } = await begin(s, true);
    const res = await callback(s, issued.state, cookie);
    expect(res.status).toBe(200);
    const record = (await res.json()) as Record<string, string>;
    expect(record.state).toBe(issued.state);
    expect(record.nonce).toBe(issued.nonce);
    expect(codeChallengeS256(record.codeVerifier!)).toBe(issued.codeChallenge);
    expect(record.redirectUri).toBe('http://app.test/auth/callback');
    const cleared = res.headers.getSetCookie().find((c) => c.startsWith(`${COOKIE}=`));
    expect(cleared).toMatch(/^_vesper_oauth2_state=""; expires=.*; Path=\/auth\/callback$/);
  });

  it('refuses a replay with a kept copy of the cookie', async () => {
    const s = await start();
    const { issued, cookie } = await begin(s);
    expect((await callback(s, issued.state, cookie)).status).toBe(200);
    const again = await callback(s, issued.state, cookie);
    expect(again.status).toBe(403);
    expect(again.statusText).toBe('OAuth2 state already used');
  });

  it('refuses a callback without the cookie', async () => {
    const s = await start();
    const { issued } = await begin(s);
    const res = await callback(s, issued.state, undefined);
    expect(res.status).toBe(400);
    expect(res.statusText).toBe('No login in progress');
  });

  it('refuses a callback without a state parameter and clears the cookie', async () => {
    const s = await start();
    const { cookie } = await begin(s);
    const res = await callback(s, undefined, cookie);
    expect(res.status).toBe(400);
    expect(res.statusText).toBe('Missing OAuth2 state');
    expect(res.headers.getSetCookie().some((c) => c.startsWith(`${COOKIE}="";`))).toBe(true);
  });

  it('refuses a state that is not the one in the cookie', async () => {
    const s = await start();
    const { cookie } = await begin(s);
    const other = await begin(s);
    const res = await callback(s, other.issued.state, cookie);
    expect(res.status).toBe(403);
    expect(res.statusText).toBe('OAuth2 state mismatch');
  });

  it('refuses a cookie whose signature was tampered with', async () => {
    const s = await start();
    const { issued, cookie } = await begin(s);
    expect(cookie).toMatch(/\|[0-9a-f]{64}$/);
    const last = cookie.endsWith('0') ? '1' : '0';
    const res = await callback(s, issued.state, cookie.slice(0, -1) + last);
    expect(res.status).toBe(403);
    expect(res.statusText).toBe('Invalid login state');
  });

  it('refuses a cookie signed for another name or with another secret', async () => {
    const s = await start();
    const { issued, cookie } = await begin(s);
    const value = Buffer.from(cookie.split('|')[4]!.split(':')[1]!, 'base64').toString();
    const renamed = createSignedValue(SECRET, 'another_cookie', value);
    expect((await callback(s, issued.state, renamed)).statusText).toBe('Invalid login state');
    const foreign = createSignedValue('another secret', COOKIE, value);
    expect((await callback(s, issued.state, foreign)).statusText).toBe('Invalid login state');
    const resigned = createSignedValue(SECRET, COOKIE, value);
    expect((await callback(s, issued.state, resigned)).status).toBe(200);
  });

  it('refuses a login that took longer than the cookie lives', async () => {
    const s = await start();
    const { issued, cookie } = await begin(s);
    clockMs += 601_000;
    const res = await callback(s, issued.state, cookie);
    expect(res.status).toBe(403);
    expect(res.statusText).toBe('Login expired');
  });
});

describe('issueAuthState', () => {
  it('marks the cookie Secure when the request came over https', () => {
    const set: { name: string; options: Record<string, unknown> }[] = [];
    const handler = {
      request: { protocol: 'https', path: '/start' },
      setSignedCookie: (name: string, _value: string, options: Record<string, unknown>) => {
        set.push({ name, options });
      },
    } as unknown as RequestHandler;
    issueAuthState(handler, 'https://app.example/cb', { cookieName: 'st', clock: () => 1_000_000 });
    expect(set).toEqual([
      {
        name: 'st',
        options: {
          expires: 1_600_000,
          maxAge: 600,
          path: '/cb',
          httpOnly: true,
          sameSite: 'Lax',
          secure: true,
        },
      },
    ]);
  });
});
