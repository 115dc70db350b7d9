/**
 * The account application's forms and its live WebSocket through the built
 * `vesper start`, as a browser uses them after logging in, with every cookie
 * it was given (the login form's `_xsrf`, scoped to /login, must not shadow
 * the application's own `_xsrf` on session URLs: it once did, and every
 * account form got 403).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { VesperGateway } from '../../bench/lib/vesper-gateway.js';
import { Browser, hiddenField } from './browser.js';
import { ensureGatewayBuilt } from './gateway-build.js';
import { openSocket } from './live-socket.js';

describe('the account forms and live channel through the built gateway', () => {
  let gateway: VesperGateway | null = null;
  let browser: Browser;

  beforeAll(async () => {
    ensureGatewayBuilt();
    gateway = await VesperGateway.start({ workers: 2 });
    browser = new Browser(gateway.port);
    const form = await browser.get('/login');
    const page = await browser.post('/login', {
      _xsrf: hiddenField(form.body, '_xsrf'),
      username: 'alice',
      password: 'vesper-demo-1',
    });
    expect(page.status).toBe(303);
    expect((await browser.get(page.location)).status).toBe(200);
  }, 200_000);

  afterAll(async () => {
    await gateway?.stop();
  });

  it('changes forwarding through the form with its XSRF token', async () => {
    const form = await browser.get('/session/alice//forwarding');
    expect(form.status).toBe(200);
    const saved = await browser.post('/session/alice//forwarding', {
      _xsrf: hiddenField(form.body, '_xsrf'),
      addresses: 'alice@example.org\nalice@example.net',
      keep_copy: '1',
    });
    expect(saved.status).toBe(303);
    expect(saved.location).toMatch(/^\/session\/alice\/[^/]*\/forwarding/);
    const after = await browser.get(saved.location);
    expect(after.status).toBe(200);
    expect(after.body).toContain('alice@example.org\nalice@example.net');
  });

  it('refuses a form post without its XSRF token and leaves forwarding as it was', async () => {
    const refused = await browser.post('/session/alice//forwarding', {
      addresses: 'mallory@example.org',
    });
    expect(refused.status).toBe(403);
    const after = await browser.get('/session/alice//forwarding');
    expect(after.body).toContain('alice@example.org\nalice@example.net');
    expect(after.body).not.toContain('mallory@example.org');
  });

  it('pushes a change made in another tab to the live WebSocket', async () => {
    const token = await browser.get('/session/alice//token');
    expect(token.status).toBe(200);
    const { url } = JSON.parse(token.body) as { token: string; url: string };
    expect(url).toMatch(/^\/session\/alice\/[^/]*\/ws\?ws_token=/);
    const live = await openSocket(gateway!.port, url, browser.cookieHeader(url));
    try {
      expect(await live.next()).toMatchObject({ type: 'hello', user: 'alice' });
      const form = await browser.get('/session/alice//forwarding');
      const saved = await browser.post('/session/alice//forwarding', {
        _xsrf: hiddenField(form.body, '_xsrf'),
        addresses: 'alice@example.com',
      });
      expect(saved.status).toBe(303);
      expect(await live.next()).toMatchObject({
        type: 'forwarding',
        forwarding: { addresses: ['alice@example.com'], keepCopy: false },
      });
    } finally {
      live.ws.terminate();
    }
    // The token was consumed by the first upgrade.
    await expect(openSocket(gateway!.port, url, browser.cookieHeader(url))).rejects.toThrow(
      /answered 40[13]/,
    );
  });
});
