/* eslint-disable @typescript-eslint/unbound-method -- the wrapper form wraps prototype methods */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Application } from '../../src/web/application.js';
import { authenticated } from '../../src/web/authenticated.js';
import { RequestHandler } from '../../src/web/request-handler.js';
import { startTestServer, type TestServer } from '../../src/web/testing.js';
import { errorPage } from './web-test-helpers.js';

class BaseHandler extends RequestHandler {
  override getCurrentUser(): unknown {
    return this.getCookie('user') ?? null;
  }
}

class WrappedHandler extends BaseHandler {
  override get(): void {
    this.write(`hello ${String(this.currentUser)}`);
  }

  override post(): void {
    this.write('posted');
  }

  override head(): void {}
}
// The wrapper form, for code that does not use decorators.
WrappedHandler.prototype.get = authenticated(WrappedHandler.prototype.get);
WrappedHandler.prototype.post = authenticated(WrappedHandler.prototype.post);
WrappedHandler.prototype.head = authenticated(WrappedHandler.prototype.head);

class DecoratedHandler extends BaseHandler {
  override get(): void {
    this.write(`decorated ${String(this.currentUser)}`);
  }
}
// What `@authenticated` on the method does (vitest's transform has no decorators).
DecoratedHandler.prototype.get = authenticated(DecoratedHandler.prototype.get, {
  kind: 'method',
  name: 'get',
} as ClassMethodDecoratorContext<DecoratedHandler, () => void>);

class AsyncPrepareUser extends RequestHandler {
  override async prepare(): Promise<void> {
    await new Promise((r) => setTimeout(r, 1));
    this.currentUser = this.getArgument('as', null);
  }

  override get(): void {
    this.write(`async ${String(this.currentUser)}`);
  }
}
AsyncPrepareUser.prototype.get = authenticated(AsyncPrepareUser.prototype.get);

describe('authenticated', () => {
  let server: TestServer;

  beforeAll(async () => {
    server = await startTestServer(
      new Application(
        [
          ['/private', WrappedHandler],
          ['/decorated', DecoratedHandler],
          ['/async', AsyncPrepareUser],
        ],
        { loginUrl: '/login' },
      ),
    );
  });

  afterAll(() => server.close());

  it('redirects GET without a user to loginUrl with next set to the request uri', async () => {
    const res = await server.fetch('/private?a=1&b=2');
    expect(res.status).toBe(302);
    expect(res.headers.get('location')).toBe('/login?next=%2Fprivate%3Fa%3D1%26b%3D2');
  });

  it('redirects HEAD the same way', async () => {
    const res = await server.fetch('/private', { method: 'HEAD' });
    expect(res.status).toBe(302);
    expect(res.headers.get('location')).toBe('/login?next=%2Fprivate');
  });

  it('answers 403 to other methods without a user', async () => {
    const res = await server.fetch('/private', { method: 'POST' });
    expect(res.status).toBe(403);
    expect(await res.text()).toBe(errorPage(403, 'Forbidden'));
  });

  it('runs the method when there is a user', async () => {
    const headers = { Cookie: 'user=bob' };
    expect(await (await server.fetch('/private', { headers })).text()).toBe('hello bob');
    expect(await (await server.fetch('/private', { method: 'POST', headers })).text()).toBe(
      'posted',
    );
    expect(await (await server.fetch('/decorated', { headers })).text()).toBe('decorated bob');
  });

  it('sees a user assigned in an async prepare', async () => {
    expect(await (await server.fetch('/async?as=carol')).text()).toBe('async carol');
    expect((await server.fetch('/async')).status).toBe(302);
  });

  it('uses the full URL as next when loginUrl is absolute, and adds nothing when it has a query', async () => {
    const abs = await startTestServer(
      new Application([['/private', WrappedHandler]], { loginUrl: 'https://login.example.com/in' }),
    );
    const withQuery = await startTestServer(
      new Application([['/private', WrappedHandler]], { loginUrl: '/login?service=mail' }),
    );
    try {
      const res = await abs.fetch('/private?x=1');
      expect(res.headers.get('location')).toBe(
        `https://login.example.com/in?next=${encodeURIComponent(`http://127.0.0.1:${abs.port}/private?x=1`)}`,
      );
      const q = await withQuery.fetch('/private');
      expect(q.headers.get('location')).toBe('/login?service=mail');
    } finally {
      await abs.close();
      await withQuery.close();
    }
  });
});
