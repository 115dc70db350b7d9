/**
 * A user's whole journey through the built `vesper start` (master, two
 * workers, session server, accountd with the README's demo accounts) on a
 * temporary configuration: the login page, a wrong password, logging in, the
 * account pages, logging out and the session-ended page. The account forms
 * and the live WebSocket are in gateway-account-forms.test.ts.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { VesperGateway } from '../../bench/lib/vesper-gateway.js';
import { Browser, hiddenField } from './browser.js';
import { ensureGatewayBuilt } from './gateway-build.js';

const USER = 'alice';
const PASSWORD = 'vesper-demo-1';

describe('a user journey through the built gateway', () => {
  let gateway: VesperGateway | null = null;
  let browser: Browser;
  let sessionUrl = '';
  let key = '';

  beforeAll(async () => {
    ensureGatewayBuilt();
    gateway = await VesperGateway.start({ workers: 2 });
    browser = new Browser(gateway.port);
  }, 200_000);

  afterAll(async () => {
    await gateway?.stop();
  });

  it('serves the login page with an XSRF field and cookie', async () => {
    const page = await browser.get('/login');
    expect(page.status).toBe(200);
    expect(page.headers['content-type']).toMatch(/^text\/html/);
    expect(hiddenField(page.body, '_xsrf')).not.toBe('');
    // Scoped to the login form, so it never shadows a session application's own _xsrf.
    const cookie = browser.cookie('_xsrf', '/login');
    expect(cookie?.path).toBe('/login');
    expect(cookie?.attributes.toLowerCase()).toContain('httponly');
    expect(browser.cookieHeader('/session/alice/')).toBe('');
  });

  it('answers a wrong password with the login page and 401, without a session cookie', async () => {
    const form = await browser.get('/login');
    const page = await browser.post('/login', {
      _xsrf: hiddenField(form.body, '_xsrf'),
      username: USER,
      password: 'not-the-password',
    });
    expect(page.status).toBe(401);
    expect(page.body).toContain('name="password"');
    expect(page.setCookies.some((c) => c.startsWith('vesper_session='))).toBe(false);
  });

  it('refuses a login post without the XSRF token', async () => {
    const page = await browser.post('/login', { username: USER, password: PASSWORD });
    expect(page.status).toBe(403);
    expect(page.setCookies.some((c) => c.startsWith('vesper_session='))).toBe(false);
  });

  it('logs in with 303 to the session and a path-scoped, HttpOnly, SameSite=Lax cookie', async () => {
    const form = await browser.get('/login');
    const page = await browser.post('/login', {
      _xsrf: hiddenField(form.body, '_xsrf'),
      username: USER,
      password: PASSWORD,
    });
    expect(page.status).toBe(303);
    const m = /^\/session\/alice\/([A-Za-z0-9_-]{22,128})\/home$/.exec(page.location);
    expect(m, page.location).not.toBeNull();
    key = m![1]!;
    sessionUrl = page.location;
    const cookie = page.setCookies.find((c) => c.startsWith('vesper_session='));
    expect(cookie).toBeDefined();
    const attrs = cookie!.split(';').map((a) => a.trim().toLowerCase());
    expect(attrs[0]).toBe(`vesper_session=${key}`.toLowerCase());
    expect(attrs).toContain('path=/session/alice/');
    expect(attrs).toContain('httponly');
    expect(attrs).toContain('samesite=lax');
    expect(attrs).not.toContain('secure');
  });

  it('follows the redirect to the account home page with the session security headers', async () => {
    const page = await browser.get(sessionUrl);
    expect(page.status).toBe(200);
    expect(page.body).toContain(USER);
    expect(page.headers['x-frame-options']).toBe('DENY');
    expect(page.headers['referrer-policy']).toBe('no-referrer');
    expect(page.headers['content-security-policy']).toBeDefined();
  });

  it('serves pages with the key in the cookie only', async () => {
    const page = await browser.get('/session/alice//quota');
    expect(page.status).toBe(200);
    expect(page.body).toMatch(/quota/i);
  });

  it('logs out with 303 to the login page', async () => {
    const page = await browser.get(`/session/alice/${key}/logout`);
    expect(page.status).toBe(303);
    expect(page.location).toBe('/login/alice');
  });

  it('shows the session-ended page for the old URL, the same as for a wrong key', async () => {
    const ended = await browser.get(sessionUrl);
    expect(ended.body).toContain('Your session has ended');
    expect(ended.body).toContain('href="/login/alice"');
    expect(ended.status).not.toBe(502);
    const guessed = await browser.get(`/session/alice/${'A'.repeat(key.length)}/home`);
    expect(guessed.status).toBe(ended.status);
    expect(guessed.body).toBe(ended.body);
  });
});
