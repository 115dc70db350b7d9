import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Application } from '../../src/web/application.js';
import { RequestHandler } from '../../src/web/request-handler.js';
import { startTestServer, type TestServer } from '../../src/web/testing.js';
import { decodeXsrfToken } from '../../src/web/xsrf-token.js';
import { captureLogger, errorPage } from './web-test-helpers.js';

let prepared = 0;

class FormHandler extends RequestHandler {
  override prepare(): void {
    prepared++;
  }

  override get(): void {
    this.write(this.xsrfToken);
  }

  override post(): void {
    this.write('ok');
  }

  override put(): void {
    this.write('ok');
  }
}

class FormHtmlHandler extends RequestHandler {
  override get(): void {
    this.write(this.xsrfFormHtml());
  }
}

class UserHandler extends RequestHandler {
  override getCurrentUser(): unknown {
    return 'alice';
  }

  override get(): void {
    this.write(this.xsrfToken);
  }
}

const TOKEN_FORM = /^2\|[0-9a-f]{8}\|[0-9a-f]{32}\|\d+$/;

describe('XSRF protection', () => {
  let server: TestServer;
  const { log, lines } = captureLogger();
  let cookieToken = '';

  beforeAll(async () => {
    server = await startTestServer(
      new Application(
        [
          ['/form', FormHandler],
          ['/html', FormHtmlHandler],
          ['/user', UserHandler],
        ],
        { xsrfCookies: true, log },
      ),
    );
    const res = await server.fetch('/form');
    cookieToken = /^_xsrf=([^;]+); Path=\/$/.exec(res.headers.getSetCookie()[0]!)![1]!;
  });

  afterAll(() => server.close());

  const post = (
    opts: { cookie?: string; body?: string; headers?: Record<string, string>; path?: string } = {},
  ): Promise<Response> =>
    server.fetch(opts.path ?? '/form', {
      method: 'POST',
      headers: {
        'Content-Type': 'application/x-www-form-urlencoded',
        ...(opts.cookie !== undefined ? { Cookie: `_xsrf=${opts.cookie}` } : {}),
        ...opts.headers,
      },
      body: opts.body ?? '',
    });

  const lastWarning = (): string =>
    String(lines.filter((l) => l.level === 40 && l.status === undefined).at(-1)?.msg);

  it('sets a session _xsrf cookie holding a masked v2 token on first use', () => {
    expect(cookieToken).toMatch(TOKEN_FORM);
  });

  it('masks the same cookie token differently on every request', async () => {
    const a = await (
      await server.fetch('/form', { headers: { Cookie: `_xsrf=${cookieToken}` } })
    ).text();
    const resB = await server.fetch('/form', { headers: { Cookie: `_xsrf=${cookieToken}` } });
    const b = await resB.text();
    expect(resB.headers.getSetCookie()).toEqual([]);
    expect(a).toMatch(TOKEN_FORM);
    expect(a).not.toBe(b);
    const raw = decodeXsrfToken(cookieToken)!.token;
    expect(decodeXsrfToken(a)!.token.equals(raw)).toBe(true);
    expect(decodeXsrfToken(b)!.token.equals(raw)).toBe(true);
  });

  it('accepts a token from the _xsrf body argument', async () => {
    const res = await post({
      cookie: cookieToken,
      body: `_xsrf=${encodeURIComponent(cookieToken)}`,
    });
    expect(res.status).toBe(200);
    expect(await res.text()).toBe('ok');
  });

  it('accepts a token from the query, X-Xsrftoken or X-Csrftoken', async () => {
    const path = `/form?_xsrf=${encodeURIComponent(cookieToken)}`;
    expect((await post({ cookie: cookieToken, path })).status).toBe(200);
    expect(
      (await post({ cookie: cookieToken, headers: { 'X-Xsrftoken': cookieToken } })).status,
    ).toBe(200);
    expect(
      (await post({ cookie: cookieToken, headers: { 'X-Csrftoken': cookieToken } })).status,
    ).toBe(200);
  });

  it('accepts a token masked differently from the cookie', async () => {
    const page = await (
      await server.fetch('/form', { headers: { Cookie: `_xsrf=${cookieToken}` } })
    ).text();
    expect((await post({ cookie: cookieToken, headers: { 'X-Xsrftoken': page } })).status).toBe(
      200,
    );
  });

  it('refuses a POST without a token, before prepare runs', async () => {
    prepared = 0;
    const res = await post({ cookie: cookieToken });
    expect(res.status).toBe(403);
    expect(await res.text()).toBe(errorPage(403, 'Forbidden'));
    expect(lastWarning()).toBe("403 POST /form (127.0.0.1): '_xsrf' argument missing from POST");
    expect(prepared).toBe(0);
  });

  it('refuses a token that does not match the cookie', async () => {
    const other = await (await server.fetch('/form')).text();
    const res = await post({ cookie: cookieToken, body: `_xsrf=${encodeURIComponent(other)}` });
    expect(res.status).toBe(403);
    expect(lastWarning()).toBe(
      '403 POST /form (127.0.0.1): XSRF cookie does not match POST argument',
    );
  });

  it('refuses a token when there is no cookie', async () => {
    const res = await post({ body: `_xsrf=${encodeURIComponent(cookieToken)}` });
    expect(res.status).toBe(403);
    expect(lastWarning()).toBe(
      '403 POST /form (127.0.0.1): XSRF cookie does not match POST argument',
    );
  });

  it('refuses a token in an invalid format', async () => {
    const res = await post({ cookie: cookieToken, body: '_xsrf=2|zz|yy' });
    expect(res.status).toBe(403);
    expect(lastWarning()).toBe("403 POST /form (127.0.0.1): '_xsrf' argument has invalid format");
  });

  it('checks every unsafe method, not only POST', async () => {
    const res = await server.fetch('/form', {
      method: 'PUT',
      headers: { Cookie: `_xsrf=${cookieToken}` },
    });
    expect(res.status).toBe(403);
  });

  it('accepts a version 1 (bare hex) cookie and token', async () => {
    const hex = 'deadbeefdeadbeefdeadbeefdeadbeef';
    expect((await post({ cookie: hex, headers: { 'X-Xsrftoken': hex } })).status).toBe(200);
    const page = await (
      await server.fetch('/form', { headers: { Cookie: `_xsrf=${hex}` } })
    ).text();
    expect(decodeXsrfToken(page)!.token.toString('hex')).toBe(hex);
  });

  it('does not check requests that reach no handler (404)', async () => {
    const res = await post({ path: '/nowhere' });
    expect(res.status).toBe(404);
  });

  it('renders the hidden form field', async () => {
    const html = await (
      await server.fetch('/html', { headers: { Cookie: `_xsrf=${cookieToken}` } })
    ).text();
    expect(html).toMatch(
      /^<input type="hidden" name="_xsrf" value="2\|[0-9a-f]{8}\|[0-9a-f]{32}\|\d+"\/>$/,
    );
  });

  it('makes the cookie last 30 days when a user is logged in', async () => {
    const res = await server.fetch('/user');
    expect(res.headers.getSetCookie()[0]).toMatch(/^_xsrf=2\|[^;]+; expires=[^;]+ GMT; Path=\/$/);
  });
});

describe('XSRF settings', () => {
  it('uses xsrfCookieName and xsrfCookieKwargs for the cookie', async () => {
    const server = await startTestServer(
      new Application([['/form', FormHandler]], {
        xsrfCookies: true,
        xsrfCookieName: '__Host-xsrf',
        xsrfCookieKwargs: { secure: true, sameSite: 'Strict' },
      }),
    );
    try {
      const res = await server.fetch('/form');
      const header = res.headers.getSetCookie()[0]!;
      expect(header).toMatch(/^__Host-xsrf=2\|[^;]+; Path=\/; SameSite=Strict; Secure$/);
      const token = /^__Host-xsrf=([^;]+);/.exec(header)![1]!;
      const ok = await server.fetch('/form', {
        method: 'POST',
        headers: { Cookie: `__Host-xsrf=${token}`, 'X-Xsrftoken': token },
      });
      expect(ok.status).toBe(200);
    } finally {
      await server.close();
    }
  });

  it('emits bare hex tokens with xsrfCookieVersion 1', async () => {
    const server = await startTestServer(
      new Application([['/form', FormHandler]], { xsrfCookies: true, xsrfCookieVersion: 1 }),
    );
    try {
      expect(await (await server.fetch('/form')).text()).toMatch(/^[0-9a-f]{32}$/);
    } finally {
      await server.close();
    }
  });
});
