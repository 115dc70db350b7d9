import { afterEach, describe, expect, it } from 'vitest';
import { CONTENT_SECURITY_POLICY } from '../../../src/apps/account/index.js';
import { PASSWORD, USER, cleanupAll, setup, xsrfOf, type Page } from './helpers.js';

afterEach(cleanupAll);

function expectSecurityHeaders(page: Page): void {
  expect(page.headers.get('content-security-policy')).toBe(CONTENT_SECURITY_POLICY);
  expect(page.headers.get('referrer-policy')).toBe('no-referrer');
  expect(page.headers.get('x-frame-options')).toBe('DENY');
  expect(page.headers.get('x-content-type-options')).toBe('nosniff');
}

describe('account pages', () => {
  it('renders every page with the navigation, the security headers and no inline script or style', async () => {
    const { browser, store } = await setup();
    await store.setFullName(USER, 'Alice <Liddell>');
    const expectations: [string, string][] = [
      ['/home', 'Alice &lt;Liddell&gt;'],
      ['/quota', '977 KiB'],
      ['/forwarding', 'Keep a copy in my own mailbox'],
      ['/vacation', 'Reply automatically while I am away'],
      ['/vacation/log', 'No vacation replies have been sent.'],
      ['/password', 'New password again'],
      ['/fullname', 'value="Alice &lt;Liddell&gt;"'],
    ];
    for (const [path, text] of expectations) {
      const page = await browser.get(path);
      expect(page.status, path).toBe(200);
      expect(page.headers.get('content-type')).toBe('text/html; charset=UTF-8');
      expect(page.headers.get('cache-control')).toBe('no-store');
      expectSecurityHeaders(page);
      expect(page.text).toContain(text);
      expect(page.text).toContain('<a href="/logout">Log out</a>');
      expect(page.text).toContain('data-token-url="/token"');
      expect(page.text).toMatch(/<script src="\/static\/live\.js\?v=[0-9a-f]+" defer><\/script>/);
      expect(page.text).not.toMatch(/<script>|<script [^>]*>[^<]|<style|style="| on[a-z]+=/);
    }
  });

  it('shows the user, login time and session state on the home page', async () => {
    const { browser } = await setup();
    const home = await browser.get('/home');
    expect(home.text).toContain('<dt>User</dt><dd>alice</dd>');
    expect(home.text).toContain('<dd data-live="fullname">(not set)</dd>');
    expect(home.text).toContain('<dd>2026-12-02 21:40 UTC</dd>');
    expect(home.text).toContain(
      'number 7, live; goes dormant after 15 minutes idle, ends after 4 hours idle',
    );
    expect(home.text).toContain('<dd id="accountd-state">open</dd>');
    expect(home.text).toContain('<dd data-live="quota-bytes">0 bytes of 977 KiB (0%)</dd>');
    expect(home.text).toContain('<a href="/home" aria-current="page">Home</a>');
  });

  it('redirects / to the home page', async () => {
    const { server } = await setup();
    const res = await server.fetch('/');
    expect(res.status).toBe(302);
    expect(res.headers.get('location')).toBe('/home');
  });

  it('answers an unknown page with its own 404 page, whatever the method', async () => {
    const { browser } = await setup();
    const get = await browser.get('/nosuch');
    expect(get.status).toBe(404);
    expectSecurityHeaders(get);
    expect(get.text).toContain('There is no such page in this session.');
    const post = await browser.post('/nosuch', {});
    expect(post.status).toBe(404);
  });

  it('serves live.js and the style sheet with the security headers', async () => {
    const { browser } = await setup();
    const js = await browser.get('/static/live.js');
    expect(js.status).toBe(200);
    expect(js.headers.get('content-type')).toMatch(/javascript/);
    expectSecurityHeaders(js);
    expect(js.text).toContain("getAttribute('data-token-url')");
    const css = await browser.get('/static/account.css');
    expect(css.status).toBe(200);
    expect(css.headers.get('content-type')).toMatch(/^text\/css/);
  });

  it('scopes the XSRF cookie to the user session prefix, HttpOnly and SameSite=Lax', async () => {
    const { server } = await setup();
    const res = await server.fetch('/forwarding');
    const cookie = res.headers.getSetCookie().find((c) => c.startsWith('_xsrf='));
    expect(cookie).toMatch(/; HttpOnly; Path=\/session\/alice\/; SameSite=Lax$/);
    expect(cookie).not.toMatch(/Secure|expires/i);
  });
});

describe('forwarding', () => {
  it('saves forwarding addresses and redirects with 303 to the page, which says so', async () => {
    const { browser, store } = await setup();
    const res = await browser.submit('/forwarding', {
      addresses: ' bob@example.net \r\n\r\ncarol@example.com',
    });
    expect(res.status).toBe(303);
    expect(res.headers.get('location')).toBe('/forwarding?saved=1');
    expect((await store.get(USER)).forwarding).toEqual({
      addresses: ['bob@example.net', 'carol@example.com'],
      keepCopy: false,
    });
    const page = await browser.get('/forwarding?saved=1');
    expect(page.text).toContain(
      '<p class="notice" role="status">Your forwarding settings were saved.</p>',
    );
    expect(page.text).toContain('>bob@example.net\ncarol@example.com</textarea>');
    expect(page.text).not.toContain('name="keep_copy" value="1" checked');
  });

  it("shows accountd's validation error with what was typed and changes nothing", async () => {
    const { browser, store } = await setup();
    const res = await browser.submit('/forwarding', {
      addresses: 'bob@example.net\nnot-an-address',
      keep_copy: '1',
    });
    expect(res.status).toBe(400);
    expect(res.text).toContain(
      '<p class="error" role="alert">&quot;not-an-address&quot; is not a valid mail address.</p>',
    );
    expect(res.text).toContain('>bob@example.net\nnot-an-address</textarea>');
    expect(res.text).toContain('name="keep_copy" value="1" checked');
    expect((await store.get(USER)).forwarding).toEqual({ addresses: [], keepCopy: true });
  });

  it('refuses an address with a space in it before asking accountd', async () => {
    const { browser } = await setup();
    const res = await browser.submit('/forwarding', { addresses: 'bob @example.net' });
    expect(res.status).toBe(400);
    expect(res.text).toContain(
      '&quot;bob @example.net&quot; is not a mail address: put one address on each line.',
    );
  });

  it('refuses turning off the own mailbox with nowhere to forward to', async () => {
    const { browser } = await setup();
    const res = await browser.submit('/forwarding', { addresses: '' });
    expect(res.status).toBe(400);
    expect(res.text).toContain('With no forwarding address, mail must be kept.');
  });
});

describe('vacation', () => {
  it('saves the vacation message, keeping the body as typed with LF line ends', async () => {
    const { browser, store } = await setup();
    const res = await browser.submit('/vacation', {
      enabled: '1',
      subject: 'Away',
      body: '  Back on Monday.\r\n\r\nA.',
      days: '5',
    });
    expect(res.status).toBe(303);
    expect(res.headers.get('location')).toBe('/vacation?saved=1');
    expect((await store.get(USER)).vacation).toEqual({
      enabled: true,
      subject: 'Away',
      body: '  Back on Monday.\n\nA.',
      days: 5,
    });
    const page = await browser.get('/vacation?saved=1');
    expect(page.text).toContain('Your vacation message was saved.');
    expect(page.text).toContain('value="Away"');
    expect(page.text).toContain('name="enabled" value="1" checked');
  });

  it('refuses days outside 1..365 and an enabled message with no text, keeping the old settings', async () => {
    const { browser, store } = await setup();
    const before = (await store.get(USER)).vacation;
    for (const days of ['0', '366', 'seven', '']) {
      const res = await browser.submit('/vacation', { subject: 'S', body: 'B', days });
      expect(res.status, days).toBe(400);
      expect(res.text).toContain('Days between replies must be a whole number from 1 to 365.');
      expect(res.text).toContain(`value="${days}"`);
    }
    const empty = await browser.submit('/vacation', {
      enabled: '1',
      subject: '',
      body: '',
      days: '7',
    });
    expect(empty.status).toBe(400);
    expect(empty.text).toContain('An enabled vacation message needs a subject or a message.');
    expect((await store.get(USER)).vacation).toEqual(before);
  });

  it('lists the vacation log and clears it', async () => {
    const { browser, store } = await setup();
    await store.appendVacationLog(USER, {
      sender: 'x@example.net',
      at: '2026-12-01T08:30:00.000Z',
    });
    const log = await browser.get('/vacation/log');
    expect(log.text).toContain('<tr><td>x@example.net</td><td>2026-12-01 08:30 UTC</td></tr>');
    const res = await browser.post('/vacation/log', { _xsrf: xsrfOf(log.text) });
    expect(res.status).toBe(303);
    expect(res.headers.get('location')).toBe('/vacation/log?saved=1');
    expect((await store.get(USER)).vacationLog).toEqual([]);
    const after = await browser.get('/vacation/log?saved=1');
    expect(after.text).toContain('The vacation log was cleared.');
    expect(after.text).toContain('No vacation replies have been sent.');
  });
});

describe('password', () => {
  it('changes the password, and the session logs in with the new one after going dormant', async () => {
    const { browser, store, app } = await setup();
    const res = await browser.submit('/password', {
      current: PASSWORD,
      new: 'new-secret-2',
      confirm: 'new-secret-2',
    });
    expect(res.status).toBe(303);
    expect(res.headers.get('location')).toBe('/password?saved=1');
    expect(await store.authenticate(USER, 'new-secret-2')).toBe(true);
    expect((await browser.get('/password?saved=1')).text).toContain('Your password was changed.');
    await app.onDormant?.();
    expect((await browser.get('/quota')).status).toBe(200);
  });

  it('refuses differing new passwords, a wrong current password and a weak one, changing nothing', async () => {
    const { browser, store } = await setup();
    const cases: [Record<string, string>, string][] = [
      [
        { current: PASSWORD, new: 'new-secret-2', confirm: 'new-secret-3' },
        'The two new passwords differ.',
      ],
      [
        { current: 'wrong-pw-9', new: 'new-secret-2', confirm: 'new-secret-2' },
        'The current password is wrong.',
      ],
      [
        { current: PASSWORD, new: 'short1', confirm: 'short1' },
        'The password must be at least 8 characters long.',
      ],
      [
        { current: '', new: 'new-secret-2', confirm: 'new-secret-2' },
        'Give your current password and a new one.',
      ],
    ];
    for (const [fields, message] of cases) {
      const res = await browser.submit('/password', fields);
      expect(res.status, message).toBe(400);
      expect(res.text).toContain(`<p class="error" role="alert">${message}</p>`);
      expect(res.text).not.toContain(PASSWORD);
    }
    expect(await store.authenticate(USER, PASSWORD)).toBe(true);
  });

  it('keeps spaces at the ends of a password', async () => {
    const { browser, store } = await setup();
    const res = await browser.submit('/password', {
      current: PASSWORD,
      new: ' spaced pw 1 ',
      confirm: ' spaced pw 1 ',
    });
    expect(res.status).toBe(303);
    expect(await store.authenticate(USER, ' spaced pw 1 ')).toBe(true);
  });
});

describe('full name', () => {
  it('saves the full name and shows it on the home page', async () => {
    const { browser, store } = await setup();
    const res = await browser.submit('/fullname', { fullname: '  Alice Liddell ' });
    expect(res.status).toBe(303);
    expect(res.headers.get('location')).toBe('/fullname?saved=1');
    expect((await store.get(USER)).fullName).toBe('Alice Liddell');
    expect((await browser.get('/home')).text).toContain(
      '<dd data-live="fullname">Alice Liddell</dd>',
    );
  });

  it('refuses a name over 200 characters and keeps the old one', async () => {
    const { browser, store } = await setup();
    await store.setFullName(USER, 'Alice');
    const res = await browser.submit('/fullname', { fullname: 'x'.repeat(201) });
    expect(res.status).toBe(400);
    expect(res.text).toContain('The full name must be at most 200 characters.');
    expect((await store.get(USER)).fullName).toBe('Alice');
  });
});

describe('XSRF', () => {
  it('refuses every form without a matching XSRF token with a 403 page and changes nothing', async () => {
    const { browser, store } = await setup();
    await browser.get('/home'); // no cookie yet: home has no form
    const form = await browser.get('/forwarding');
    const before = await store.get(USER);
    for (const path of ['/forwarding', '/vacation', '/vacation/log', '/password', '/fullname']) {
      const missing = await browser.post(path, {
        addresses: 'bob@example.net',
        fullname: 'Mallory',
      });
      expect(missing.status, path).toBe(403);
      expect(missing.text).toContain('This form has expired or did not come from this session.');
      expect(missing.headers.get('x-frame-options')).toBe('DENY');
    }
    // A well-formed token that does not match the cookie.
    browser.cookies.set('_xsrf', '2|00000000|' + 'a'.repeat(32) + '|1700000000');
    const mismatched = await browser.post('/fullname', {
      _xsrf: xsrfOf(form.text),
      fullname: 'Mallory',
    });
    expect(mismatched.status).toBe(403);
    const after = await store.get(USER);
    expect(after.forwarding).toEqual(before.forwarding);
    expect(after.fullName).toBe(before.fullName);
    expect(after.vacationLog).toEqual(before.vacationLog);
  });
});
