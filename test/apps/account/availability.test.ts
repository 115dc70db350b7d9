import { Writable } from 'node:stream';
import { afterEach, describe, expect, it } from 'vitest';
import { createLogger } from '../../../src/shared/log/index.js';
import { PASSWORD, USER, cleanupAll, eventually, setup, xsrfOf } from './helpers.js';

afterEach(cleanupAll);

describe('accountd unavailable', () => {
  it('answers account pages with a friendly 503 while accountd is down, keeps the session, and recovers', async () => {
    const f = await setup();
    const form = await f.browser.get('/fullname');
    expect(form.status).toBe(200);
    await f.stopAccountd();
    for (const path of [
      '/quota',
      '/forwarding',
      '/vacation',
      '/vacation/log',
      '/password',
      '/fullname',
    ]) {
      const page = await f.browser.get(path);
      expect(page.status, path).toBe(503);
      expect(page.headers.get('x-frame-options')).toBe('DENY');
      expect(page.text).toContain(
        'Account services are unavailable at the moment. Your session is still running',
      );
      expect(page.text).toContain(`<a href="${path}">Try again</a>`);
    }
    const home = await f.browser.get('/home');
    expect(home.status).toBe(200);
    expect(home.text).toContain('Account services are unavailable at the moment.');
    expect(home.text).toContain('<dt>User</dt><dd>alice</dd>');
    const post = await f.browser.post('/fullname', { _xsrf: xsrfOf(form.text), fullname: 'Alice' });
    expect(post.status).toBe(503);
    expect(post.text).toContain('Account services are unavailable at the moment.');

    await f.startAccountd();
    expect((await f.browser.get('/quota')).status).toBe(200);
    const saved = await f.browser.submit('/fullname', { fullname: 'Alice' });
    expect(saved.status).toBe(303);
    expect((await f.store.get(USER)).fullName).toBe('Alice');
  });

  it('links "Try again" to the page under the session prefix, not the application-relative path', async () => {
    // The runtime hands the application '/quota?x=1' for '/session/alice/KEY/quota?x=1';
    // the browser must get the latter back, or the link leaves the session.
    const f = await setup({ base: '/session/alice/k3yk3yk3yk3yk3yk3yk3yk3y/' });
    await f.stopAccountd();
    const page = await f.browser.get('/quota?x=1');
    expect(page.status).toBe(503);
    expect(page.text).toContain(
      '<p><a href="/session/alice/k3yk3yk3yk3yk3yk3yk3yk3y/quota?x=1">Try again</a> or go back to ' +
        '<a href="/session/alice/k3yk3yk3yk3yk3yk3yk3yk3y/home">your account\'s home page</a>.</p>',
    );
  });

  it('logs one warning line per refused page, without a stack or the password', async () => {
    const lines: string[] = [];
    const stream = new Writable({
      write(chunk: Buffer, _enc, done) {
        lines.push(chunk.toString());
        done();
      },
    });
    const f = await setup({ log: createLogger({ name: 'test', level: 'info', stream }) });
    await f.stopAccountd();
    expect((await f.browser.get('/quota')).status).toBe(503);
    const text = lines.join('');
    expect(text).toContain('503 GET /quota: account services are unavailable');
    expect(text).not.toContain('"stack"');
    expect(text).not.toContain(PASSWORD);
  });
});

describe('dormancy', () => {
  it('closes the accountd connection on onDormant() and reopens it on the next request', async () => {
    const f = await setup();
    expect(f.accountd.connectionCount).toBe(0); // nothing is opened before a page needs it
    expect((await f.browser.get('/quota')).status).toBe(200);
    expect((await f.browser.get('/forwarding')).status).toBe(200);
    expect(f.accountd.connectionCount).toBe(1); // kept open between requests
    await f.app.onDormant?.();
    await eventually(() => f.accountd.connectionCount === 0);
    expect(f.app.state.accountd.connected).toBe(false);
    const page = await f.browser.get('/forwarding');
    expect(page.status).toBe(200);
    expect(f.accountd.connectionCount).toBe(1);
    expect(f.app.state.accountd.state).toBe('open');
  });

  it('says it never has a draft', async () => {
    const f = await setup();
    expect(f.app.hasDraft?.()).toBe(false);
  });

  it('closes the connection for good on close(), after which pages answer 503', async () => {
    const f = await setup();
    await f.browser.get('/quota');
    await f.app.close?.();
    await eventually(() => f.accountd.connectionCount === 0);
    expect(f.app.state.accountd.state).toBe('closed-for-good');
    expect((await f.browser.get('/quota')).status).toBe(503);
    expect(f.accountd.connectionCount).toBe(0);
  });
});

describe('credentials', () => {
  it('stops using accountd once it refuses the session password, without trying it again', async () => {
    const f = await setup();
    await f.browser.get('/quota');
    await f.store.setPassword(USER, 'changed-elsewhere-1');
    await f.app.onDormant?.();
    const page = await f.browser.get('/quota');
    expect(page.status).toBe(503);
    expect(page.text).toContain('no longer accept the password this session was opened with');
    await eventually(() => f.accountd.connectionCount === 0);
    // Further pages do not LOGIN again (which would count towards the account's lockout).
    expect((await f.browser.get('/forwarding')).status).toBe(503);
    expect((await f.browser.get('/home')).status).toBe(200);
    expect(f.accountd.connectionCount).toBe(0);
    expect(f.app.state.accountd.state).toBe('rejected');
  });

  it('explains that a session opened without a password cannot manage the account', async () => {
    const f = await setup({ credential: null });
    const page = await f.browser.get('/forwarding');
    expect(page.status).toBe(503);
    expect(page.text).toContain('opened through your identity provider, without a password');
    expect(f.accountd.connectionCount).toBe(0);
    const home = await f.browser.get('/home');
    expect(home.status).toBe(200);
    expect(home.text).toContain('<dd id="accountd-state">no-credential</dd>');
  });
});
