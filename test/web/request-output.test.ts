import { createHash } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isVesperError } from '../../src/shared/errors/index.js';
import { Application } from '../../src/web/application.js';
import { RequestHandler } from '../../src/web/request-handler.js';
import { startTestServer, type TestServer } from '../../src/web/testing.js';
import { httpFetch } from './web-test-helpers.js';

function codeOf(fn: () => unknown): string {
  try {
    fn();
  } catch (err) {
    return isVesperError(err) ? err.code : `not a VesperError: ${String(err)}`;
  }
  return 'no error';
}

class StatusHandler extends RequestHandler {
  override get(): void {
    const code = Number(this.getArgument('code'));
    const reason = this.getArgument('reason', undefined);
    this.setStatus(code, reason);
    this.write(`status ${this.getStatus()}`);
  }
}

class HeaderHandler extends RequestHandler {
  override get(): void {
    const results: Record<string, string> = {
      crlf: codeOf(() => this.setHeader('X-Bad', 'a\r\nInjected: 1')),
      lf: codeOf(() => this.setHeader('X-Bad', 'a\nb')),
      nul: codeOf(() => this.addHeader('X-Bad', 'a\x00b')),
      name: codeOf(() => this.setHeader('X Bad', 'v')),
      nonLatin1: codeOf(() => this.setHeader('X-Bad', 'snow ☃')),
    };
    this.setHeader('X-Number', 42);
    this.setHeader('X-Date', new Date(Date.UTC(2013, 0, 27, 18, 43, 20)));
    this.setHeader('X-Tab', 'a\tb');
    this.addHeader('X-Multi', 'one');
    this.addHeader('X-Multi', 'two');
    this.setHeader('X-Cleared', 'gone');
    this.clearHeader('X-Cleared');
    this.write(results);
  }
}

class WriteHandler extends RequestHandler {
  override get(): void {
    const kind = this.getArgument('kind');
    if (kind === 'object') {
      this.write({ a: 1, html: '</script>' });
    } else if (kind === 'array') {
      this.write({ code: codeOf(() => this.write([1, 2] as unknown as Record<string, unknown>)) });
    } else if (kind === 'after-finish') {
      void this.finish('done');
      this.application.settings.lastCodes = [
        codeOf(() => this.write('more')),
        codeOf(() => void this.finish()),
      ];
    } else if (kind === 'bytes') {
      this.write(Buffer.from([0xe2, 0x98, 0x83]));
      this.write('☃');
    }
  }
}

class EtagHandler extends RequestHandler {
  override get(): void {
    this.write('hello etag');
  }

  override post(): void {
    this.write('hello etag');
  }

  override head(): void {
    this.write('hello etag');
  }
}

class NoBodyHandler extends RequestHandler {
  override get(): void {
    this.setStatus(Number(this.getArgument('code')));
    this.setHeader('Content-Language', 'en');
    this.write('this body is dropped');
  }
}

class StreamHandler extends RequestHandler {
  override async get(): Promise<void> {
    this.write('one,');
    await this.flush();
    this.write('two,');
    await this.flush();
    this.write('three');
  }
}

class RedirectingHandler extends RequestHandler {
  override get(): Promise<void> | void {
    const kind = this.getArgument('kind', '');
    if (kind === 'permanent') return this.redirect('/target', true);
    if (kind === 'see-other') return this.redirect('/target?a=1', false, 303);
    if (kind === 'bad-status') {
      this.write({ code: codeOf(() => void this.redirect('/x', false, 200)) });
      return;
    }
    return this.redirect('/target');
  }
}

const etag = `"${createHash('sha1').update('hello etag').digest('hex')}"`;

describe('request handler output', () => {
  let server: TestServer;
  let app: Application;

  beforeAll(async () => {
    app = new Application([
      ['/status', StatusHandler],
      ['/headers', HeaderHandler],
      ['/write', WriteHandler],
      ['/etag', EtagHandler],
      ['/nobody', NoBodyHandler],
      ['/stream', StreamHandler],
      ['/redirect', RedirectingHandler],
    ]);
    server = await startTestServer(app);
  });

  afterAll(() => server.close());

  const statusLine = async (path: string): Promise<string> =>
    (await server.rawRequest(`GET ${path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n`))
      .toString('latin1')
      .split('\r\n')[0]!;

  it('sends the standard reason, a given reason, or Unknown', async () => {
    expect(await statusLine('/status?code=201')).toBe('HTTP/1.1 201 Created');
    expect(await statusLine('/status?code=200&reason=Totally%20Fine')).toBe(
      'HTTP/1.1 200 Totally Fine',
    );
    expect(await statusLine('/status?code=299')).toBe('HTTP/1.1 299 Unknown');
    expect(await statusLine('/status?code=200&reason=%3Cscript%3E')).toBe('HTTP/1.1 200 Unknown');
  });

  it('refuses header values with CR, LF or control characters and bad names', async () => {
    const res = await server.fetch('/headers');
    expect(await res.json()).toEqual({
      crlf: 'VESPER_WEB_UNSAFE_HEADER',
      lf: 'VESPER_WEB_UNSAFE_HEADER',
      nul: 'VESPER_WEB_UNSAFE_HEADER',
      name: 'VESPER_WEB_UNSAFE_HEADER',
      nonLatin1: 'VESPER_WEB_UNSAFE_HEADER',
    });
    expect(res.headers.get('x-bad')).toBeNull();
    expect(res.headers.get('injected')).toBeNull();
  });

  it('formats numbers and dates, adds and clears headers', async () => {
    const res = await httpFetch(server.port, '/headers');
    expect(res.headers['x-number']).toBe('42');
    expect(res.headers['x-date']).toBe('Sun, 27 Jan 2013 18:43:20 GMT');
    expect(res.headers['x-tab']).toBe('a\tb');
    expect(
      res.rawHeaders.filter((h, i) => i % 2 === 1 && res.rawHeaders[i - 1] === 'X-Multi'),
    ).toEqual(['one', 'two']);
    expect(res.headers['x-cleared']).toBeUndefined();
    expect(res.headers.server).toBe('Vesper');
    expect(res.headers.date).toMatch(
      /^[A-Z][a-z]{2}, \d\d [A-Z][a-z]{2} \d{4} \d\d:\d\d:\d\d GMT$/,
    );
  });

  it('sends an object as JSON with the JSON content type, escaping </', async () => {
    const res = await httpFetch(server.port, '/write?kind=object');
    expect(res.headers['content-type']).toBe('application/json; charset=UTF-8');
    expect(res.body.toString()).toBe('{"a":1,"html":"<\\/script>"}');
  });

  it('refuses to write an array', async () => {
    expect(await (await server.fetch('/write?kind=array')).json()).toEqual({
      code: 'VESPER_WEB_BAD_WRITE',
    });
  });

  it('refuses to write or finish after finish()', async () => {
    expect(await (await server.fetch('/write?kind=after-finish')).text()).toBe('done');
    expect(app.settings.lastCodes).toEqual(['VESPER_WEB_FINISHED', 'VESPER_WEB_FINISHED']);
  });

  it('sends bytes and strings as they are, with Content-Length', async () => {
    const res = await httpFetch(server.port, '/write?kind=bytes');
    expect(res.body.toString()).toBe('☃☃');
    expect(res.headers['content-length']).toBe('6');
    expect(res.headers['content-type']).toBe('text/html; charset=UTF-8');
  });

  it('sets an Etag from the SHA-1 of the body on a 200 GET', async () => {
    const res = await httpFetch(server.port, '/etag');
    expect(res.headers.etag).toBe(etag);
  });

  it('answers 304 without a body when If-None-Match matches', async () => {
    for (const inm of [etag, `"other", ${etag}`, `W/${etag}`, '*']) {
      const res = await httpFetch(server.port, '/etag', { headers: { 'If-None-Match': inm } });
      expect(res.status, inm).toBe(304);
      expect(res.body.length).toBe(0);
      expect(res.headers['content-type']).toBeUndefined();
      expect(res.headers.etag).toBe(etag);
    }
  });

  it('answers 200 when If-None-Match does not match', async () => {
    const res = await httpFetch(server.port, '/etag', {
      headers: { 'If-None-Match': '"nope", W/"x"' },
    });
    expect(res.status).toBe(200);
    expect(res.body.toString()).toBe('hello etag');
  });

  it('applies ETags to HEAD but not to POST', async () => {
    const head = await httpFetch(server.port, '/etag', {
      method: 'HEAD',
      headers: { 'If-None-Match': etag },
    });
    expect(head.status).toBe(304);
    const post = await httpFetch(server.port, '/etag', {
      method: 'POST',
      headers: { 'If-None-Match': etag },
    });
    expect(post.status).toBe(200);
    expect(post.headers.etag).toBeUndefined();
  });

  it('sends HEAD headers with the body length but no body', async () => {
    const raw = (
      await server.rawRequest('HEAD /etag HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n')
    ).toString('latin1');
    expect(raw).toContain('\r\nContent-Length: 10\r\n');
    expect(raw.endsWith('\r\n\r\n')).toBe(true);
  });

  it('drops the body and content headers of 204 and 304 answers', async () => {
    for (const code of [204, 304]) {
      const raw = (
        await server.rawRequest(
          `GET /nobody?code=${code} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n`,
        )
      ).toString('latin1');
      expect(raw.startsWith(`HTTP/1.1 ${code} `)).toBe(true);
      expect(raw.endsWith('\r\n\r\n')).toBe(true);
      expect(raw).not.toMatch(/Content-(Type|Language|Length)/i);
    }
  });

  it('streams flushed chunks with chunked transfer encoding', async () => {
    const raw = (
      await server.rawRequest('GET /stream HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n')
    ).toString('latin1');
    expect(raw).toContain('Transfer-Encoding: chunked');
    expect(raw).not.toContain('Content-Length');
    expect(raw.slice(raw.indexOf('\r\n\r\n') + 4)).toBe(
      '4\r\none,\r\n4\r\ntwo,\r\n5\r\nthree\r\n0\r\n\r\n',
    );
  });

  it('redirects with 302, 301 when permanent, or an explicit 3xx', async () => {
    const r302 = await server.fetch('/redirect');
    expect([r302.status, r302.headers.get('location')]).toEqual([302, '/target']);
    const r301 = await server.fetch('/redirect?kind=permanent');
    expect([r301.status, r301.headers.get('location')]).toEqual([301, '/target']);
    const r303 = await server.fetch('/redirect?kind=see-other');
    expect([r303.status, r303.headers.get('location')]).toEqual([303, '/target?a=1']);
    expect(await (await server.fetch('/redirect?kind=bad-status')).json()).toEqual({
      code: 'VESPER_WEB_BAD_STATUS',
    });
  });
});
