import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isVesperError } from '../../src/shared/errors/index.js';
import { Application } from '../../src/web/application.js';
import { RequestHandler } from '../../src/web/request-handler.js';
import { formatSetCookie, quoteCookieValue } from '../../src/web/set-cookie.js';
import { createSignedValue } from '../../src/web/signed-value.js';
import { startTestServer, type TestServer } from '../../src/web/testing.js';

const SECRET = "It's a secret to everybody";
const KNOWN_V2 =
  '2|1:0|10:1300000000|3:key|8:dmFsdWU=|3d4e60b996ff9c5d5788e333a0cba6f238a22c6c0f94788870e1a9ecd482e152';
const KNOWN_V1 = 'dmFsdWU=|1300000000|31c934969f53e48164c50768b40cbd7e2daaaa4f';

function codeOf(fn: () => unknown): string {
  try {
    fn();
  } catch (err) {
    return isVesperError(err) ? err.code : 'other';
  }
  return 'no error';
}

class SetCookieHandler extends RequestHandler {
  override get(): void {
    this.setCookie('str', 'asdf');
    this.setCookie('unicode', 'qwer');
    this.setCookie('bytes', Buffer.from('zxcv'));
    this.setCookie('sec', '1', { secure: true });
    this.setCookie('http', '1', { httpOnly: true });
    this.setCookie('x', 'blah', { domain: 'foo.com', path: '/foo' });
    this.setCookie('age', '10', { maxAge: 10 });
    this.setCookie('same', 'x', { sameSite: 'Lax' });
    this.setCookie('exp', 'y', { expires: new Date(Date.UTC(2030, 0, 1)) });
    this.setCookie('all', 'z', {
      domain: 'd.org',
      expires: Date.UTC(2030, 0, 1) / 1000,
      httpOnly: true,
      maxAge: 60,
      path: '/p',
      sameSite: 'Strict',
      secure: true,
    });
  }
}

class ReplaceHandler extends RequestHandler {
  override get(): void {
    this.setCookie('a', 'b', { domain: 'example.com' });
    this.setCookie('c', 'd', { domain: 'example.com' });
    this.setCookie('a', 'e');
  }
}

class BadCookieHandler extends RequestHandler {
  override get(): void {
    this.write({
      valueSpace: codeOf(() => this.setCookie('a', 'b c')),
      valueNewline: codeOf(() => this.setCookie('a', 'b\r\nSet-Cookie: x=y')),
      nameSemicolon: codeOf(() => this.setCookie('a;b', 'c')),
      nameSpace: codeOf(() => this.setCookie('a b', 'c')),
      reservedName: codeOf(() => this.setCookie('Path', 'c')),
      domainSemicolon: codeOf(() => this.setCookie('a', 'b', { domain: 'x.org; HttpOnly' })),
      pathControl: codeOf(() => this.setCookie('a', 'b', { path: '/\x01' })),
      sameSiteInjected: codeOf(() => this.setCookie('a', 'b', { sameSite: 'Lax;Secure' })),
    });
  }
}

class GetCookieHandler extends RequestHandler {
  override get(): void {
    this.write({
      foo: this.getCookie('foo', 'default'),
      quoted: this.getCookie('quoted') ?? null,
      missing: this.getCookie('missing', 'default'),
    });
  }
}

class ClearHandler extends RequestHandler {
  override get(): void {
    if (this.getArgument('all', null) !== null) this.clearAllCookies({ path: '/p' });
    else this.clearCookie('foo', { domain: 'x.org' });
  }
}

class SignedHandler extends RequestHandler {
  override get(): void {
    const name = this.getArgument('name', 'user');
    const value = this.getArgument('set', null);
    if (value !== null) {
      this.setSignedCookie(name, value);
      return;
    }
    const got = this.getSignedCookie(name, {
      maxAgeDays: Number(this.getArgument('maxAgeDays', '31')),
    });
    this.write({
      value: got === null ? null : got.toString('utf8'),
      keyVersion: this.getSignedCookieKeyVersion(name),
    });
  }
}

class NoSecretHandler extends RequestHandler {
  override get(): void {
    this.write({ code: codeOf(() => this.setSignedCookie('x', 'y')) });
  }
}

describe('formatSetCookie', () => {
  it('quotes values outside the legal set with Python escapes', () => {
    expect(quoteCookieValue('plain')).toBe('plain');
    expect(quoteCookieValue('a"b\\c;d,e')).toBe('"a\\"b\\\\c\\073d\\054e"');
    expect(quoteCookieValue('a=b')).toBe('"a=b"');
    expect(quoteCookieValue('')).toBe('""');
  });

  it('leaves out Path when given an empty path', () => {
    expect(formatSetCookie('a', 'b', { path: '' })).toBe('a=b');
  });
});

describe('cookies', () => {
  let server: TestServer;

  beforeAll(async () => {
    server = await startTestServer(
      new Application([
        ['/set', SetCookieHandler],
        ['/replace', ReplaceHandler],
        ['/bad', BadCookieHandler],
        ['/get', GetCookieHandler],
        ['/clear', ClearHandler],
      ]),
    );
  });

  afterAll(() => server.close());

  it('emits attributes in Tornado order and form', async () => {
    const res = await server.fetch('/set');
    expect(res.headers.getSetCookie()).toEqual([
      'str=asdf; Path=/',
      'unicode=qwer; Path=/',
      'bytes=zxcv; Path=/',
      'sec=1; Path=/; Secure',
      'http=1; HttpOnly; Path=/',
      'x=blah; Domain=foo.com; Path=/foo',
      'age=10; Max-Age=10; Path=/',
      'same=x; Path=/; SameSite=Lax',
      'exp=y; expires=Tue, 01 Jan 2030 00:00:00 GMT; Path=/',
      'all=z; Domain=d.org; expires=Tue, 01 Jan 2030 00:00:00 GMT; HttpOnly; Max-Age=60; Path=/p; SameSite=Strict; Secure',
    ]);
  });

  it('lets a second setCookie of the same name replace the first, attributes included', async () => {
    const res = await server.fetch('/replace');
    expect(res.headers.getSetCookie()).toEqual(['c=d; Domain=example.com; Path=/', 'a=e; Path=/']);
  });

  it('refuses forbidden characters in the name, value, domain, path and sameSite', async () => {
    const res = await server.fetch('/bad');
    expect(await res.json()).toEqual({
      valueSpace: 'VESPER_WEB_INVALID_COOKIE',
      valueNewline: 'VESPER_WEB_INVALID_COOKIE',
      nameSemicolon: 'VESPER_WEB_INVALID_COOKIE',
      nameSpace: 'VESPER_WEB_INVALID_COOKIE',
      reservedName: 'VESPER_WEB_INVALID_COOKIE',
      domainSemicolon: 'VESPER_WEB_INVALID_COOKIE',
      pathControl: 'VESPER_WEB_INVALID_COOKIE',
      sameSiteInjected: 'VESPER_WEB_INVALID_COOKIE',
    });
    expect(res.headers.getSetCookie()).toEqual([]);
  });

  it('reads request cookies, unquoting quoted values, with a default for missing ones', async () => {
    const res = await server.fetch('/get', {
      headers: { Cookie: 'foo=bar; quoted="a\\"b\\073c"' },
    });
    expect(await res.json()).toEqual({ foo: 'bar', quoted: 'a"b;c', missing: 'default' });
  });

  it('clears a cookie with an empty value expired a year ago', async () => {
    const before = Date.now();
    const res = await server.fetch('/clear');
    const [header] = res.headers.getSetCookie();
    const m = /^foo=""; Domain=x\.org; expires=(.+); Path=\/$/.exec(header!);
    expect(m).not.toBeNull();
    const when = Date.parse(m![1]!);
    expect(Math.abs(when - (before - 365 * 86_400_000))).toBeLessThan(5000);
  });

  it('clears every cookie the request carried', async () => {
    const res = await server.fetch('/clear?all=1', { headers: { Cookie: 'a=1; b=2' } });
    const cookies = res.headers.getSetCookie();
    expect(cookies).toHaveLength(2);
    expect(cookies[0]).toMatch(/^a=""; expires=.+; Path=\/p$/);
    expect(cookies[1]).toMatch(/^b=""; expires=.+; Path=\/p$/);
  });
});

describe('signed cookies', () => {
  let server: TestServer;
  let versioned: TestServer;

  beforeAll(async () => {
    server = await startTestServer(
      new Application(
        [
          ['/signed', SignedHandler],
          ['/nosecret', NoSecretHandler],
        ],
        { cookieSecret: SECRET },
      ),
    );
    versioned = await startTestServer(
      new Application([['/signed', SignedHandler]], {
        cookieSecret: { 0: 'old secret', 1: 'new secret' },
        keyVersion: 1,
      }),
    );
  });

  afterAll(async () => {
    await server.close();
    await versioned.close();
  });

  const read = async (s: TestServer, cookie: string, query = '', name = 'user'): Promise<unknown> =>
    (await s.fetch(`/signed${query}`, { headers: { Cookie: `${name}=${cookie}` } })).json();

  it('sets a v2 signed cookie valid for 30 days that reads back through a handler', async () => {
    const res = await server.fetch('/signed?set=alice');
    const [header] = res.headers.getSetCookie();
    const m =
      /^user="(2\|1:0\|10:\d{10}\|4:user\|8:YWxpY2U=\|[0-9a-f]{64})"; expires=(.+); Path=\/$/.exec(
        header!,
      );
    expect(m).not.toBeNull();
    expect(Math.abs(Date.parse(m![2]!) - (Date.now() + 30 * 86_400_000))).toBeLessThan(5000);
    expect(await read(server, `"${m![1]}"`)).toEqual({ value: 'alice', keyVersion: 0 });
  });

  it('verifies the known-answer value from Tornado', async () => {
    expect(await read(server, `"${KNOWN_V2}"`, '?maxAgeDays=100000&name=key', 'key')).toEqual({
      value: 'value',
      keyVersion: 0,
    });
    expect(await read(server, `"${KNOWN_V2}"`, '?maxAgeDays=100000')).toEqual({
      value: null,
      keyVersion: 0,
    });
  });

  it('refuses the known-answer value when older than maxAgeDays', async () => {
    expect(await read(server, `"${KNOWN_V2}"`, '?name=key', 'key')).toMatchObject({ value: null });
  });

  it('reads a Tornado v1 signed value', async () => {
    const v1 = createSignedValue(SECRET, 'user', 'bob', { version: 1 });
    expect(await read(server, `"${v1}"`)).toMatchObject({ value: 'bob' });
    expect(await read(server, `"${KNOWN_V1}"`, '?maxAgeDays=100000&name=key', 'key')).toEqual({
      value: 'value',
      keyVersion: null,
    });
  });

  it('refuses a cookie whose signature was tampered with', async () => {
    const good = createSignedValue(SECRET, 'user', 'alice');
    const bad = good.slice(0, -1) + (good.endsWith('0') ? '1' : '0');
    expect(await read(server, `"${bad}"`)).toMatchObject({ value: null });
    const swapped = good.replace('8:YWxpY2U=', '8:bWFsbG9y');
    expect(await read(server, `"${swapped}"`)).toMatchObject({ value: null });
  });

  it('signs with the configured key version and verifies older versions', async () => {
    const res = await versioned.fetch('/signed?set=carol');
    const m = /^user="([^"]+)"/.exec(res.headers.getSetCookie()[0]!);
    expect(m![1]!.startsWith('2|1:1|')).toBe(true);
    expect(await read(versioned, `"${m![1]}"`)).toEqual({ value: 'carol', keyVersion: 1 });
    const old = createSignedValue({ 0: 'old secret' }, 'user', 'dave', { keyVersion: 0 });
    expect(await read(versioned, `"${old}"`)).toEqual({ value: 'dave', keyVersion: 0 });
    const unknown = createSignedValue({ 7: 'x' }, 'user', 'eve', { keyVersion: 7 });
    expect(await read(versioned, `"${unknown}"`)).toEqual({ value: null, keyVersion: 7 });
  });

  it('requires the cookieSecret setting', async () => {
    const s = await startTestServer(new Application([['/nosecret', NoSecretHandler]]));
    try {
      expect(await (await s.fetch('/nosecret')).json()).toEqual({
        code: 'VESPER_WEB_SETTING_REQUIRED',
      });
    } finally {
      await s.close();
    }
  });

  it('refuses a map of secrets without keyVersion at start-up', () => {
    expect(codeOf(() => new Application([], { cookieSecret: { 0: 'a' } }))).toBe(
      'VESPER_WEB_BAD_SETTING',
    );
  });
});
