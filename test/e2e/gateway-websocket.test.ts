/**
 * The account application's live WebSocket through the built `vesper start`:
 * a one-time token from the session, the upgrade proxied to the session
 * process, the token refused a second time, and SIGTERM closing the open
 * WebSocket with 1001 (Going Away) before the master exits 0.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { VesperGateway } from '../../bench/lib/vesper-gateway.js';
import { Browser, hiddenField } from './browser.js';
import { ensureGatewayBuilt } from './gateway-build.js';
import { openSocket, type LiveSocket } from './live-socket.js';

describe('the live WebSocket through the built gateway', () => {
  let gateway: VesperGateway | null = null;
  let browser: Browser;
  let live: LiveSocket | null = null;
  let url = '';

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
    live?.ws.terminate();
    await gateway?.stop();
  });

  it('opens with a one-time token from the session and says hello', async () => {
    const token = await browser.get('/session/alice//token');
    expect(token.status).toBe(200);
    ({ url } = JSON.parse(token.body) as { url: string });
    expect(url).toMatch(/^\/session\/alice\/[^/]*\/ws\?ws_token=[^&]+$/);
    live = await openSocket(gateway!.port, url, browser.cookieHeader(url));
    expect(await live.next()).toMatchObject({ type: 'hello', user: 'alice' });
  });

  it('refuses the same token a second time', async () => {
    await expect(openSocket(gateway!.port, url, browser.cookieHeader(url))).rejects.toThrow(
      /answered 401/,
    );
  });

  it('refuses an upgrade without a token', async () => {
    await expect(
      openSocket(gateway!.port, '/session/alice//ws', browser.cookieHeader('/session/alice/')),
    ).rejects.toThrow(/answered 40[13]/);
  });

  it('closes the open WebSocket with 1001 on SIGTERM, then exits 0', async () => {
    const gw = gateway!;
    gw.signal('SIGTERM');
    const closed = await Promise.race([
      live!.closed,
      new Promise((r) => setTimeout(() => r('not closed within 10 s'), 10_000)),
    ]);
    expect(closed).toMatchObject({ code: 1001 });
    const exit = await Promise.race([
      gw.exited,
      new Promise((r) => setTimeout(() => r('no exit within 20 s'), 20_000)),
    ]);
    expect(exit).toEqual({ code: 0, signal: null });
  });
});
