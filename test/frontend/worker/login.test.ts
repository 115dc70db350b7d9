import { statSync } from 'node:fs';
import type { IncomingMessage } from 'node:http';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { frontendSecretPath } from '../../../src/frontend/worker/index.js';
import {
  httpExchange,
  removeDir,
  startInitServer,
  startTestWorker,
  tempDir,
  testConfig,
  type TestWorker,
} from './helpers.js';

const KEY = 'AbCdEfGhIjKlMnOpQrStUvWx';
const dir = tempDir();
let worker: TestWorker;
let init: Awaited<ReturnType<typeof startInitServer>> | null = null;

beforeAll(async () => {
  worker = await startTestWorker(
    testConfig(dir, (c) => {
      c.frontend.login_rate = { per_address: 30, per_user: 3, window: 60_000 };
    }),
  );
});

afterEach(async () => {
  await init?.close();
  init = null;
});

afterAll(async () => {
  await worker.close(200);
  removeDir(dir);
});

/** Loads the login page and returns the XSRF cookie and form token. */
async function loginForm(
  port = worker.port,
): Promise<{ cookie: string; token: string; body: string }> {
  const page = await httpExchange(port, 'GET', '/login/alice');
  const setCookie = page.headers['set-cookie']![0]!;
  const cookie = setCookie.split(';')[0]!;
  const token = /name="_xsrf" value="([^"]+)"/.exec(page.body)![1]!;
  return { cookie, token, body: page.body };
}

function form(fields: Record<string, string>): string {
  return new URLSearchParams(fields).toString();
}

async function postLogin(
  fields: Record<string, string>,
  cookie: string,
  headers: Record<string, string> = {},
  port = worker.port,
): Promise<Awaited<ReturnType<typeof httpExchange>>> {
  return httpExchange(
    port,
    'POST',
    '/login',
    { 'Content-Type': 'application/x-www-form-urlencoded', Cookie: cookie, ...headers },
    form(fields),
  );
}

describe('the login page', () => {
  it('is served at /, /login and /login/<user> with XSRF, frame-busting and CSP headers', async () => {
    for (const path of ['/', '/login', '/login/alice']) {
      const r = await httpExchange(worker.port, 'GET', path);
      expect(r.status).toBe(200);
      expect(r.headers['x-frame-options']).toEqual(['DENY']);
      expect(r.headers['referrer-policy']).toEqual(['no-referrer']);
      expect(r.headers['content-security-policy']![0]).toContain("frame-ancestors 'none'");
      expect(r.headers['strict-transport-security']).toBeUndefined();
      expect(r.headers['set-cookie']![0]).toMatch(
        /^_xsrf=.+; HttpOnly; Path=\/login; SameSite=Lax$/,
      );
      expect(r.body).toMatch(/name="_xsrf" value="2\|[0-9a-f]{8}\|[0-9a-f]{32}\|\d+"/);
    }
    const { body } = await loginForm();
    expect(body).toContain('name="username" value="alice"');
  });

  it('does not pre-fill a user name that breaks the account-name rule', async () => {
    const r = await httpExchange(worker.port, 'GET', '/login/%3Cscript%3E');
    expect(r.status).toBe(200);
    expect(r.body).toContain('name="username" value=""');
    expect(r.body).not.toContain('<script>');
  });

  it('keeps the cookie it was given and masks the token afresh on every page', async () => {
    const { cookie, token } = await loginForm();
    const again = await httpExchange(worker.port, 'GET', '/login', { Cookie: cookie });
    expect(again.headers['set-cookie']).toBeUndefined();
    const token2 = /name="_xsrf" value="([^"]+)"/.exec(again.body)![1]!;
    expect(token2).not.toBe(token);
  });

  it('keeps the cookie secret in a 0600 file under var', () => {
    expect(statSync(frontendSecretPath(worker.config)).mode & 0o777).toBe(0o600);
  });
});

describe('POST /login', () => {
  it('forwards a good login to the init socket and answers 303 to the session with its cookie', async () => {
    init = await startInitServer(worker.config, (req) => ({
      ok: true,
      user: req['user'],
      session: 7,
      key: KEY,
      url: `/session/alice/${KEY}/home`,
      cookie: {
        name: 'vesper_session',
        value: KEY,
        path: '/session/alice/',
        httpOnly: true,
        sameSite: 'Lax',
        secure: false,
      },
    }));
    const { cookie, token } = await loginForm();
    const r = await postLogin({ username: 'alice', password: 'pw one', _xsrf: token }, cookie);
    expect(r.status).toBe(303);
    expect(r.headers['location']).toEqual([`/session/alice/${KEY}/home`]);
    expect(r.headers['set-cookie']).toEqual([
      `vesper_session=${KEY}; HttpOnly; Path=/session/alice/; SameSite=Lax`,
    ]);
    expect(init.requests).toEqual([
      {
        op: 'login',
        user: 'alice',
        password: 'pw one',
        clientIp: '127.0.0.1',
        tls: false,
        listener: `127.0.0.1:0`,
      },
    ]);
  });

  it('shows the page again with an error and 401 for bad credentials', async () => {
    init = await startInitServer(worker.config, () => ({
      ok: false,
      error: 'bad-credentials',
      message: 'no',
    }));
    const { cookie, token } = await loginForm();
    const r = await postLogin({ username: 'bob', password: 'wrong', _xsrf: token }, cookie);
    expect(r.status).toBe(401);
    expect(r.body).toContain('The username or password is not correct.');
    expect(r.body).toContain('name="username" value="bob"');
    expect(r.body).not.toContain('wrong');
  });

  it('answers 503 with the unavailable page when the init socket is missing', async () => {
    const { cookie, token } = await loginForm();
    const r = await postLogin({ username: 'alice', password: 'x', _xsrf: token }, cookie);
    expect(r.status).toBe(503);
    expect(r.body).toContain('Service unavailable');
  });

  it('refuses a form without a matching XSRF token with 403, never asking the session server', async () => {
    init = await startInitServer(worker.config, () => ({
      ok: false,
      error: 'bad-credentials',
      message: '',
    }));
    const { cookie, token } = await loginForm();
    const other = await loginForm();
    for (const [c, t] of [
      [cookie, ''],
      ['', token],
      [cookie, other.token],
      [cookie.replace(/.$/, 'x'), token],
    ] as const) {
      const r = await postLogin({ username: 'alice', password: 'x', _xsrf: t }, c);
      expect(r.status).toBe(403);
      expect(r.body).toContain('This login form has expired.');
    }
    expect(init.requests).toEqual([]);
  });

  it('rate-limits failed logins per user', async () => {
    init = await startInitServer(worker.config, () => ({
      ok: false,
      error: 'bad-credentials',
      message: '',
    }));
    const { cookie, token } = await loginForm();
    const codes: number[] = [];
    for (let i = 0; i < 5; i++) {
      codes.push(
        (await postLogin({ username: 'mallory', password: 'x', _xsrf: token }, cookie)).status,
      );
    }
    expect(codes).toEqual([401, 401, 401, 429, 429]);
    expect(init.requests.length).toBe(3);
  });
});

describe('referer checks and the TLS policy', () => {
  let strict: TestWorker;
  const dir2 = tempDir();

  beforeAll(async () => {
    strict = await startTestWorker(
      testConfig(dir2, (c) => {
        c.frontend.referer_block_invalid = true;
        c.tls.encouraged = true;
        c.tls.required = true;
        c.frontend.listen = [
          { port: 0, host: '127.0.0.1', tls: false },
          { port: 0, host: '127.0.0.1', tls: true },
        ];
      }),
    );
  });

  afterAll(async () => {
    await strict.close(200);
    removeDir(dir2);
  });

  it('blocks a login posted from another site with the security alert page', async () => {
    const { cookie, token } = await loginForm(strict.port);
    const r = await postLogin(
      { username: 'alice', password: 'x', _xsrf: token },
      cookie,
      { Referer: 'https://evil.example/phish' },
      strict.port,
    );
    expect(r.status).toBe(403);
    expect(r.body).toContain('Security alert');
    const o = await postLogin(
      { username: 'alice', password: 'x', _xsrf: token },
      cookie,
      { Origin: 'http://evil.example' },
      strict.port,
    );
    expect(o.status).toBe(403);
    expect(o.body).toContain('Security alert');
  });

  it('warns on the plain login page and refuses a plain login under tls.required', async () => {
    const { cookie, token, body } = await loginForm(strict.port);
    expect(body).toContain('This connection is not encrypted');
    const tlsPort = strict.worker.addresses()[1]!.port;
    expect(body).toContain(`href="https://127.0.0.1:${tlsPort}/login/alice"`);
    const r = await postLogin(
      { username: 'alice', password: 'x', _xsrf: token },
      cookie,
      { Referer: `http://127.0.0.1:${strict.port}/login` },
      strict.port,
    );
    expect(r.status).toBe(403);
    expect(r.body).toContain('only allowed over a secure (https) connection');
  });

  it('serves the login page over TLS 1.2+ with HSTS', async () => {
    const { request } = await import('node:https');
    const tlsPort = strict.worker.addresses()[1]!.port;
    const res = await new Promise<IncomingMessage>((resolve, reject) => {
      const req = request(
        {
          host: '127.0.0.1',
          port: tlsPort,
          path: '/login',
          rejectUnauthorized: false,
          maxVersion: 'TLSv1.2',
        },
        resolve,
      );
      req.on('error', reject);
      req.end();
    });
    res.resume();
    expect(res.statusCode).toBe(200);
    expect(res.headers['strict-transport-security']).toBe('max-age=31536000');
    expect(res.headers['set-cookie']![0]).toContain('; Secure');
    const old = await new Promise<string>((resolve) => {
      const req = request(
        {
          host: '127.0.0.1',
          port: tlsPort,
          path: '/login',
          rejectUnauthorized: false,
          maxVersion: 'TLSv1.1',
          minVersion: 'TLSv1',
        },
        () => resolve('connected'),
      );
      req.on('error', (err: NodeJS.ErrnoException) => resolve(err.code ?? 'error'));
      req.end();
    });
    expect(old).not.toBe('connected');
  });

  it('redirects the plain login page to https under tls.redirect', async () => {
    const dir3 = tempDir();
    const w = await startTestWorker(
      testConfig(dir3, (c) => {
        c.tls.redirect = true;
        c.frontend.listen = [
          { port: 0, host: '127.0.0.1', tls: false },
          { port: 8443, host: '127.0.0.1', tls: true },
        ];
      }),
    ).catch(() => null);
    if (w === null) {
      removeDir(dir3);
      return; // Port 8443 is taken on this machine; the redirect target needs a fixed port.
    }
    try {
      const r = await httpExchange(w.port, 'GET', '/login/alice');
      expect(r.status).toBe(302);
      expect(r.headers['location']).toEqual(['https://127.0.0.1:8443/login/alice']);
    } finally {
      await w.close(200);
      removeDir(dir3);
    }
  });
});
