import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isVesperError } from '../../src/shared/errors/index.js';
import { Application } from '../../src/web/application.js';
import { RequestHandler } from '../../src/web/request-handler.js';
import { URLSpec, url } from '../../src/web/routing.js';
import { startTestServer, type TestServer } from '../../src/web/testing.js';
import { errorPage } from './web-test-helpers.js';

class ArgsHandler extends RequestHandler {
  override get(...args: (string | undefined)[]): void {
    this.write({
      args: args.map((a) => a ?? '<undefined>'),
      kwargs: this.pathKwargs,
      which: 'args',
    });
  }
}

class FirstHandler extends RequestHandler {
  override get(): void {
    this.write('first');
  }
}

class SecondHandler extends RequestHandler {
  override get(): void {
    this.write('second');
  }
}

class HostHandler extends RequestHandler {
  override get(): void {
    this.write(`host:${this.request.hostName}`);
  }
}

class ReverseHandler extends RequestHandler {
  override get(): void {
    this.write(this.reverseUrl('item', 'a b/c', 42));
  }
}

class Latin1Handler extends RequestHandler {
  override decodeArgument(value: Buffer): string {
    return value.toString('latin1');
  }

  override get(word?: string): void {
    this.write(`${word} ${this.getArgument('q', '')}`);
  }
}

class CustomNotFound extends RequestHandler {
  override prepare(): void {
    this.setStatus(404);
    void this.finish('custom not found');
  }
}

describe('URLSpec', () => {
  it('reverses positional groups, percent-encoding each value but keeping slashes', () => {
    const spec = new URLSpec('/item/([^/]+)/(\\d+)', ArgsHandler);
    expect(spec.reverse('a b/c', 42)).toBe('/item/a%20b/c/42');
    expect(spec.reverse(Buffer.from('é'), '1')).toBe('/item/%C3%A9/1');
  });

  it('reverses named groups and unescapes literal regex escapes', () => {
    const spec = url('/a\\.b/(?<id>\\w+)\\.html', ArgsHandler, {}, 'n');
    expect(spec.name).toBe('n');
    expect(spec.reverse('x')).toBe('/a.b/x.html');
  });

  it('refuses to reverse a pattern with a non-literal escape outside groups', () => {
    const spec = new URLSpec('/a\\d/(\\w+)', ArgsHandler);
    expect(() => spec.reverse('x')).toThrow(
      expect.objectContaining({ code: 'VESPER_WEB_CANNOT_REVERSE' }) as Error,
    );
  });

  it('refuses a wrong number of arguments when reversing', () => {
    const spec = new URLSpec('/a/(\\w+)', ArgsHandler);
    expect(() => spec.reverse()).toThrow(
      expect.objectContaining({ code: 'VESPER_WEB_CANNOT_REVERSE' }) as Error,
    );
  });

  it('anchors the pattern at both ends', () => {
    const spec = new URLSpec('/abc', ArgsHandler);
    expect(spec.match('/abc')).not.toBeNull();
    expect(spec.match('/abcd')).toBeNull();
    expect(spec.match('/x/abc')).toBeNull();
  });

  it('accepts Python-style named groups', () => {
    const spec = new URLSpec('/u/(?P<user>[^/]+)', ArgsHandler);
    expect(spec.match('/u/bob')!.kwargs.user!.toString()).toBe('bob');
  });

  it('percent-decodes captured groups to bytes and keeps plus signs', () => {
    const m = new URLSpec('/f/(.*)', ArgsHandler).match('/f/a%20b%2Fc+d%zz')!;
    expect(m.args[0]!.toString()).toBe('a b/c+d%zz');
  });

  it('refuses a pattern that mixes named and positional groups', () => {
    let code = '';
    try {
      new URLSpec('/(?<a>x)/(y)', ArgsHandler);
    } catch (err) {
      if (isVesperError(err)) code = err.code;
    }
    expect(code).toBe('VESPER_WEB_BAD_ROUTE');
  });
});

describe('Application routing', () => {
  let server: TestServer;
  let app: Application;

  beforeAll(async () => {
    app = new Application([
      ['/args/([^/]+)/(\\d+)', ArgsHandler],
      ['/named/(?<user>[^/]+)/(?<page>\\d+)', ArgsHandler],
      ['/optional(/x)?', ArgsHandler],
      ['/files/(.*)', ArgsHandler],
      ['/dup', FirstHandler],
      ['/dup', SecondHandler],
      ['/host', HostHandler],
      ['/item/([^/]+)/(\\d+)', ArgsHandler, {}, 'item'],
      ['/reverse', ReverseHandler],
      ['/latin1/(.*)', Latin1Handler],
    ]);
    app.addHandlers('www\\.example\\.com', [['/host', FirstHandler]]);
    app.addHandlers('.*\\.example\\.com', [
      ['/host', SecondHandler],
      ['/only-sub', SecondHandler],
    ]);
    server = await startTestServer(app);
  });

  afterAll(() => server.close());

  async function json(path: string): Promise<unknown> {
    const res = await server.fetch(path);
    expect(res.status).toBe(200);
    return res.json();
  }

  it('passes positional groups, decoded, to the verb method and pathArgs', async () => {
    expect(await json('/args/h%C3%A9llo%20w/12')).toEqual({
      args: ['héllo w', '12'],
      kwargs: {},
      which: 'args',
    });
  });

  it('passes named groups as pathKwargs and, in pattern order, to the verb method', async () => {
    expect(await json('/named/al%2Fice/3')).toEqual({
      args: ['al/ice', '3'],
      kwargs: { user: 'al/ice', page: '3' },
      which: 'args',
    });
  });

  it('gives undefined for an optional group that did not match', async () => {
    expect(await json('/optional')).toEqual({ args: ['<undefined>'], kwargs: {}, which: 'args' });
    expect(await json('/optional/x')).toEqual({ args: ['/x'], kwargs: {}, which: 'args' });
  });

  it('matches the raw path, so an encoded slash stays inside one group', async () => {
    expect(await json('/files/a%2Fb/c')).toEqual({ args: ['a/b/c'], kwargs: {}, which: 'args' });
  });

  it('answers 400 with the standard page when a group is not valid UTF-8', async () => {
    const res = await server.fetch('/files/%FF%FE');
    expect(res.status).toBe(400);
    expect(await res.text()).toBe(errorPage(400, 'Bad Request'));
  });

  it('decodes path groups and arguments through an overridden decodeArgument', async () => {
    const res = await server.fetch('/latin1/caf%E9?q=%E9t%E9');
    expect(res.status).toBe(200);
    expect(await res.text()).toBe('café été');
  });

  it('uses the first rule that matches', async () => {
    const res = await server.fetch('/dup');
    expect(await res.text()).toBe('first');
  });

  it('answers 404 with the standard page when nothing matches', async () => {
    const res = await server.fetch('/nowhere');
    expect(res.status).toBe(404);
    expect(res.headers.get('content-type')).toBe('text/html; charset=UTF-8');
    expect(await res.text()).toBe(errorPage(404, 'Not Found'));
  });

  it('routes by host before the wildcard rules, in the order hosts were added', async () => {
    const get = async (host: string, path = '/host'): Promise<string> => {
      const raw = await server.rawRequest(
        `GET ${path} HTTP/1.1\r\nHost: ${host}\r\nConnection: close\r\n\r\n`,
      );
      return raw.toString('latin1').split('\r\n\r\n')[1]!;
    };
    expect(await get('www.example.com')).toBe('first');
    expect(await get('WWW.Example.com:8080')).toBe('first');
    expect(await get('mail.example.com')).toBe('second');
    expect(await get('other.org')).toBe('host:other.org');
    expect(await get('www.example.com', '/args/a/1')).toContain('"which":"args"');
    expect(await get('www.example.com', '/only-sub')).toBe('second');
    expect(await get('other.org', '/only-sub')).toContain('404: Not Found');
  });

  it('reverses named rules through the application and the handler', async () => {
    expect(app.reverseUrl('item', 'x', 1)).toBe('/item/x/1');
    expect(await (await server.fetch('/reverse')).text()).toBe('/item/a%20b/c/42');
  });

  it('throws VESPER_WEB_NO_SUCH_ROUTE for an unknown route name', () => {
    expect(() => app.reverseUrl('nope')).toThrow(
      expect.objectContaining({ code: 'VESPER_WEB_NO_SUCH_ROUTE' }) as Error,
    );
  });
});

describe('defaultHandlerClass', () => {
  it('handles requests that no rule matches', async () => {
    const server = await startTestServer(
      new Application([], { defaultHandlerClass: CustomNotFound }),
    );
    try {
      const res = await server.fetch('/missing');
      expect(res.status).toBe(404);
      expect(await res.text()).toBe('custom not found');
    } finally {
      await server.close();
    }
  });
});
