import { afterAll, describe, expect, it } from 'vitest';
import { Application } from '../../src/web/application.js';
import { RequestHandler } from '../../src/web/request-handler.js';
import { startTestServer, type TestServer } from '../../src/web/testing.js';
import { isVesperError } from '../../src/shared/errors/index.js';
import { HTTPServerRequest } from '../../src/web/http-server-request.js';
import {
  HTTPHeaders,
  formatTimestamp,
  parseBodyArguments,
  parseCookie,
  parseHeaderParams,
  parseHttpDate,
  parseMultipartFormData,
  parseQsBytes,
  urlConcat,
  type ArgumentsDict,
  type FilesDict,
} from '../../src/web/httputil.js';

function crlf(s: string): Buffer {
  return Buffer.from(s.replace(/\n/g, '\r\n'), 'utf8');
}

function formDataArgs(): [ArgumentsDict, FilesDict] {
  return [Object.create(null) as ArgumentsDict, Object.create(null) as FilesDict];
}

function errorOf(f: () => unknown): { code: string; status: number | undefined; message: string } {
  try {
    f();
  } catch (err) {
    if (isVesperError(err)) return { code: err.code, status: err.httpStatus, message: err.message };
    throw err;
  }
  throw new Error('expected an error');
}

function plain(dict: Record<string, Buffer[]>): Record<string, string[]> {
  const out: Record<string, string[]> = {};
  for (const [k, v] of Object.entries(dict)) out[k] = v.map((b) => b.toString('latin1'));
  return out;
}

// Ported from tornado/test/httputil_test.py MultipartFormDataTest.
describe('parseMultipartFormData', () => {
  it('parses a file upload', () => {
    const data = crlf(`--1234
Content-Disposition: form-data; name="files"; filename="ab.txt"

Foo
--1234--`);
    const [args, files] = formDataArgs();
    parseMultipartFormData('1234', data, args, files);
    expect(files['files']).toEqual([
      { filename: 'ab.txt', body: Buffer.from('Foo'), contentType: 'application/unknown' },
    ]);
    expect(Object.keys(args)).toEqual([]);
  });

  it('accepts unquoted names and filenames', () => {
    const data = crlf(`--1234
Content-Disposition: form-data; name=files; filename=ab.txt

Foo
--1234--`);
    const [args, files] = formDataArgs();
    parseMultipartFormData('1234', data, args, files);
    expect(files['files']![0]!.filename).toBe('ab.txt');
    expect(files['files']![0]!.body).toEqual(Buffer.from('Foo'));
  });

  it('decodes filenames holding ; and quotes and backslashes', () => {
    const filenames = [
      'a;b.txt',
      'a"b.txt',
      'a";b.txt',
      'a;"b.txt',
      'a";";.txt',
      'a\\"b.txt',
      'a\\b.txt',
    ];
    for (const filename of filenames) {
      const quoted = filename.replaceAll('\\', '\\\\').replaceAll('"', '\\"');
      const data = crlf(`--1234
Content-Disposition: form-data; name="files"; filename="${quoted}"

Foo
--1234--`);
      const [args, files] = formDataArgs();
      parseMultipartFormData('1234', data, args, files);
      expect(files['files']![0]!.filename).toBe(filename);
      expect(files['files']![0]!.body).toEqual(Buffer.from('Foo'));
    }
  });

  it('prefers the RFC 2231 filename* over the plain filename', () => {
    const data = crlf(`--1234
Content-Disposition: form-data; name="files"; filename="ab.txt"; filename*=UTF-8''%C3%A1b.txt

Foo
--1234--`);
    const [args, files] = formDataArgs();
    parseMultipartFormData('1234', data, args, files);
    expect(files['files']![0]!.filename).toBe('áb.txt');
  });

  it('decodes filename* in latin-1 and joins RFC 2231 continuations', () => {
    const data = crlf(`--1234
Content-Disposition: form-data; name="f"; filename*0*=iso-8859-1''%E9t; filename*1="e.txt"

x
--1234--`);
    const [args, files] = formDataArgs();
    parseMultipartFormData('1234', data, args, files);
    expect(files['f']![0]!.filename).toBe('éte.txt');
  });

  it('keeps a raw UTF-8 filename and the part Content-Type', () => {
    const data = crlf(`--1234
Content-Disposition: form-data; name="f"; filename="日本.txt"
Content-Type: text/plain

x
--1234--`);
    const [args, files] = formDataArgs();
    parseMultipartFormData('1234', data, args, files);
    expect(files['f']).toEqual([
      { filename: '日本.txt', body: Buffer.from('x'), contentType: 'text/plain' },
    ]);
  });

  it('accepts a boundary wrapped in double quotes', () => {
    const data = crlf(`--1234
Content-Disposition: form-data; name="files"; filename="ab.txt"

Foo
--1234--`);
    const [args, files] = formDataArgs();
    parseMultipartFormData('"1234"', data, args, files);
    expect(files['files']![0]!.filename).toBe('ab.txt');
    expect(files['files']![0]!.body).toEqual(Buffer.from('Foo'));
  });

  it('refuses a part without headers', () => {
    const data = crlf(`--1234

foo
--1234--`);
    const [args, files] = formDataArgs();
    const err = errorOf(() => parseMultipartFormData('1234', data, args, files));
    expect(err).toEqual({
      code: 'VESPER_WEB_BAD_BODY',
      status: 400,
      message: 'multipart/form-data missing headers',
    });
  });

  it('refuses a disposition other than form-data', () => {
    const data = crlf(`--1234
Content-Disposition: invalid; name="files"; filename="ab.txt"

Foo
--1234--`);
    const [args, files] = formDataArgs();
    expect(errorOf(() => parseMultipartFormData('1234', data, args, files)).message).toBe(
      'Invalid multipart/form-data',
    );
  });

  it('refuses a part without a Content-Disposition header', () => {
    const data = crlf(`--1234
Content-Type: text/plain

Foo
--1234--`);
    const [args, files] = formDataArgs();
    expect(errorOf(() => parseMultipartFormData('1234', data, args, files)).message).toBe(
      'Invalid multipart/form-data',
    );
  });

  it('refuses a part whose body does not end with CRLF', () => {
    const data = crlf(`--1234
Content-Disposition: form-data; name="files"; filename="ab.txt"

Foo--1234--`);
    const [args, files] = formDataArgs();
    expect(errorOf(() => parseMultipartFormData('1234', data, args, files)).message).toBe(
      'Invalid multipart/form-data',
    );
  });

  it('refuses a Content-Disposition without a name (and with an empty one)', () => {
    for (const disp of ['form-data; filename="ab.txt"', 'form-data; name=""']) {
      const data = crlf(`--1234
Content-Disposition: ${disp}

Foo
--1234--`);
      const [args, files] = formDataArgs();
      expect(errorOf(() => parseMultipartFormData('1234', data, args, files)).message).toBe(
        'multipart/form-data value missing name',
      );
    }
  });

  it('ignores data after the final boundary', () => {
    const data = crlf(`--1234
Content-Disposition: form-data; name="files"; filename="ab.txt"

Foo
--1234--
trailing junk
`);
    const [args, files] = formDataArgs();
    parseMultipartFormData('1234', data, args, files);
    expect(files['files']![0]!.body).toEqual(Buffer.from('Foo'));
  });

  it('refuses a body without a final boundary', () => {
    const data = crlf(`--1234
Content-Disposition: form-data; name="a"

Foo
--1234`);
    const [args, files] = formDataArgs();
    expect(errorOf(() => parseMultipartFormData('1234', data, args, files)).message).toBe(
      'Invalid multipart/form-data: no final boundary found',
    );
  });

  it('treats an empty filename as a plain field and keeps repeated fields in order', () => {
    const data = crlf(`--xx
Content-Disposition: form-data; name="a"

1
--xx
Content-Disposition: form-data; name="a"

2
--xx
Content-Disposition: form-data; name="f"; filename=""

empty
--xx
Content-Disposition: form-data; name="b"


--xx--`);
    const [args, files] = formDataArgs();
    parseMultipartFormData('xx', data, args, files);
    expect(plain(args)).toEqual({ a: ['1', '2'], f: ['empty'], b: [''] });
    expect(Object.keys(files)).toEqual([]);
  });

  it('keeps binary bodies byte for byte', () => {
    const bin = Buffer.from([0, 1, 2, 0xff, 0x0d, 0x0a, 0x2d, 0x2d]);
    const data = Buffer.concat([
      crlf('--b\nContent-Disposition: form-data; name="f"; filename="x.bin"\n\n'),
      bin,
      crlf('\n--b--\n'),
    ]);
    const [args, files] = formDataArgs();
    parseMultipartFormData('b', data, args, files);
    expect(files['f']![0]!.body).toEqual(bin);
  });

  it('refuses more parts than maxParts and leaves args untouched', () => {
    const part = 'Content-Disposition: form-data; name="a"\n\nx\n';
    const body = (n: number): Buffer => crlf(`--b\n${part}`.repeat(n) + '--b--');
    const [args, files] = formDataArgs();
    parseMultipartFormData('b', body(100), args, files);
    expect(args['a']!.length).toBe(100);
    const [args2, files2] = formDataArgs();
    expect(errorOf(() => parseMultipartFormData('b', body(101), args2, files2))).toEqual({
      code: 'VESPER_WEB_BAD_BODY',
      status: 400,
      message: 'multipart/form-data has too many parts',
    });
    expect(Object.keys(args2)).toEqual([]);
    const [args3, files3] = formDataArgs();
    expect(
      errorOf(() => parseMultipartFormData('b', body(3), args3, files3, { maxParts: 2 })).message,
    ).toBe('multipart/form-data has too many parts');
  });

  it('refuses a part header block larger than maxPartHeaderBytes', () => {
    const big = 'x'.repeat(10 * 1024);
    const data = crlf(`--b
Content-Disposition: form-data; name="a"
X-Big: ${big}

v
--b--`);
    const [args, files] = formDataArgs();
    expect(errorOf(() => parseMultipartFormData('b', data, args, files)).message).toBe(
      'multipart/form-data part header too large',
    );
    const [args2, files2] = formDataArgs();
    parseMultipartFormData('b', data, args2, files2, { maxPartHeaderBytes: 11 * 1024 });
    expect(plain(args2)).toEqual({ a: ['v'] });
  });

  it('refuses part headers holding a bare CR, no colon, or invalid UTF-8', () => {
    const bodies = [
      Buffer.from('--b\r\nContent-Disposition: form-data; name="a"\rX: y\r\n\r\nv\r\n--b--'),
      Buffer.from('--b\r\nContent-Disposition: form-data; name="a"\r\nnocolon\r\n\r\nv\r\n--b--'),
      Buffer.concat([
        Buffer.from('--b\r\nContent-Disposition: form-data; name="'),
        Buffer.from([0xff]),
        Buffer.from('"\r\n\r\nv\r\n--b--'),
      ]),
    ];
    for (const data of bodies) {
      const [args, files] = formDataArgs();
      const err = errorOf(() => parseMultipartFormData('b', data, args, files));
      expect(err.code).toBe('VESPER_WEB_BAD_BODY');
      expect(err.status).toBe(400);
      expect(Object.keys(args)).toEqual([]);
    }
  });

  it('stays linear on a Content-Disposition full of semicolons and quotes', () => {
    const disp = 'form-data; name="a"' + ';"'.repeat(20000);
    const data = crlf(`--b\nContent-Disposition: ${disp}\n\nv\n--b--`);
    const [args, files] = formDataArgs();
    const started = performance.now();
    parseMultipartFormData('b', data, args, files, { maxPartHeaderBytes: 1 << 20 });
    expect(performance.now() - started).toBeLessThan(1000);
    expect(plain(args)).toEqual({ a: ['v'] });
  });
});

describe('parseHeaderParams', () => {
  it('decodes quoted values and RFC 2231 as Tornado’s _parse_header doctest', () => {
    const [ct, d] = parseHeaderParams('form-data; foo="b\\\\a\\"r"; file*=utf-8\'\'T%C3%A4st');
    expect(ct).toBe('form-data');
    expect(d['file']).toBe('Täst');
    expect(d['foo']).toBe('b\\a"r');
  });

  it('lower-cases parameter names and keeps an unknown charset’s text', () => {
    const [, d] = parseHeaderParams("form-data; NAME=x; f*=nosuch''abc");
    expect(d['name']).toBe('x');
    expect(d['f']).toBe('abc');
  });
});

describe('parseBodyArguments', () => {
  it('reads urlencoded bodies as bytes, blank values kept', () => {
    const [args, files] = formDataArgs();
    parseBodyArguments(
      'application/x-www-form-urlencoded; charset=UTF-8',
      Buffer.from('a=1&b=&c&a=%C3%A9+x'),
      args,
      files,
    );
    expect(args['a']).toEqual([Buffer.from('1'), Buffer.from('é x')]);
    expect(args['b']).toEqual([Buffer.alloc(0)]);
    expect(args['c']).toEqual([Buffer.alloc(0)]);
  });

  it('finds the multipart boundary among the parameters, quoted or not', () => {
    const data = crlf(`--1234
Content-Disposition: form-data; name="a"

v
--1234--`);
    for (const ct of [
      'multipart/form-data; boundary=1234',
      'multipart/form-data; charset=utf-8; boundary="1234"',
    ]) {
      const [args, files] = formDataArgs();
      parseBodyArguments(ct, data, args, files);
      expect(plain(args)).toEqual({ a: ['v'] });
    }
  });

  it('refuses a multipart type without a boundary', () => {
    const [args, files] = formDataArgs();
    for (const ct of ['multipart/form-data', 'multipart/form-data; boundary=']) {
      expect(errorOf(() => parseBodyArguments(ct, Buffer.from('x'), args, files))).toEqual({
        code: 'VESPER_WEB_BAD_BODY',
        status: 400,
        message: 'Invalid multipart/form-data: multipart boundary not found',
      });
    }
  });

  it('refuses an encoded form body', () => {
    const [args, files] = formDataArgs();
    const headers = new HTTPHeaders({ 'Content-Encoding': 'gzip' });
    expect(
      errorOf(() =>
        parseBodyArguments(
          'application/x-www-form-urlencoded',
          Buffer.from('a=1'),
          args,
          files,
          headers,
        ),
      ).message,
    ).toBe('Unsupported Content-Encoding: gzip');
  });

  it('leaves JSON and other types alone', () => {
    const [args, files] = formDataArgs();
    parseBodyArguments('application/json', Buffer.from('{"a":1}'), args, files);
    expect(Object.keys(args)).toEqual([]);
  });
});

describe('parseQsBytes', () => {
  it('keeps blank values, repeats and raw bytes', () => {
    expect(plain(parseQsBytes('a=1&a=2&b=&c&&d=%zz&e=%41%2B+'))).toEqual({
      a: ['1', '2'],
      b: [''],
      c: [''],
      d: ['%zz'],
      e: ['A+ '],
    });
  });

  it('returns bytes that need not be UTF-8 and names decoded from UTF-8', () => {
    const args = parseQsBytes('x=%FF%FE&%C3%A9=1');
    expect(args['x']).toEqual([Buffer.from([0xff, 0xfe])]);
    expect(args['é']).toEqual([Buffer.from('1')]);
  });

  it('does not let a name reach Object.prototype', () => {
    const args = parseQsBytes('__proto__=1&constructor=2');
    expect(args['__proto__']).toEqual([Buffer.from('1')]);
    expect(args['constructor']).toEqual([Buffer.from('2')]);
    expect(({} as Record<string, unknown>)['1']).toBe(undefined);
  });

  it('gives {} for an empty string', () => {
    expect(Object.keys(parseQsBytes(''))).toEqual([]);
  });
});

// Ported from tornado/test/httputil_test.py TestUrlConcat.
describe('urlConcat', () => {
  const cases: Array<[string, Parameters<typeof urlConcat>[1], string]> = [
    [
      'https://localhost/path',
      [
        ['y', 'y'],
        ['z', 'z'],
      ],
      'https://localhost/path?y=y&z=z',
    ],
    [
      'https://localhost/path',
      [
        ['y', '/y'],
        ['z', 'z'],
      ],
      'https://localhost/path?y=%2Fy&z=z',
    ],
    [
      'https://localhost/path?',
      [
        ['y', 'y'],
        ['z', 'z'],
      ],
      'https://localhost/path?y=y&z=z',
    ],
    [
      'https://localhost/path?x',
      [
        ['y', 'y'],
        ['z', 'z'],
      ],
      'https://localhost/path?x=&y=y&z=z',
    ],
    [
      'https://localhost/path?x&',
      [
        ['y', 'y'],
        ['z', 'z'],
      ],
      'https://localhost/path?x=&y=y&z=z',
    ],
    [
      'https://localhost/path?a=1&b=2',
      [
        ['y', 'y'],
        ['z', 'z'],
      ],
      'https://localhost/path?a=1&b=2&y=y&z=z',
    ],
    ['https://localhost/path?r=1&t=2', [], 'https://localhost/path?r=1&t=2'],
    ['https://localhost/path?r=1&t=2', null, 'https://localhost/path?r=1&t=2'],
    ['https://localhost/path#tab', [['y', 'y']], 'https://localhost/path?y=y#tab'],
    [
      'https://localhost/path',
      [
        ['y', 'y1'],
        ['y', 'y2'],
      ],
      'https://localhost/path?y=y1&y=y2',
    ],
    ['https://localhost/path?r=1&r=2', [['y', 'y']], 'https://localhost/path?r=1&r=2&y=y'],
    ['https://localhost/path', { y: 'y' }, 'https://localhost/path?y=y'],
    ['/p', { q: 'a b!é' }, '/p?q=a+b%21%C3%A9'],
  ];
  for (const [url, args, expected] of cases) {
    it(`turns ${url} with ${JSON.stringify(args)} into ${expected}`, () => {
      expect(urlConcat(url, args)).toBe(expected);
    });
  }
});

// Ported from tornado/test/httputil_test.py ParseCookieTest (itself from Django).
describe('parseCookie', () => {
  const table: Array<[string, Record<string, string>]> = [
    ['chips=ahoy; vienna=finger', { chips: 'ahoy', vienna: 'finger' }],
    [
      'keebler="E=mc2; L=\\"Loves\\"; fudge=\\012;"',
      { keebler: '"E=mc2', L: '\\"Loves\\"', fudge: '\\012', '': '"' },
    ],
    ['keebler=E=mc2', { keebler: 'E=mc2' }],
    ['key:term=value:term', { 'key:term': 'value:term' }],
    ['a=b; c=[; d=r; f=h', { a: 'b', c: '[', d: 'r', f: 'h' }],
    ['a=b; Domain=example.com', { a: 'b', Domain: 'example.com' }],
    ['a=b; h=i; a=c', { a: 'c', h: 'i' }],
    ['a=b; "; c=d', { a: 'b', '': '"', c: 'd' }],
    ['a b c=d e = f; gh=i', { 'a b c': 'd e = f', gh: 'i' }],
    ['a   b,c<>@:/[]?{}=d  "  =e,f g', { 'a   b,c<>@:/[]?{}': 'd  "  =e,f g' }],
    ['saint=André Bessette', { saint: 'André Bessette' }],
    ['  =  b  ;  ;  =  ;   c  =  ;  ', { '': 'b', c: '' }],
  ];
  for (const [header, expected] of table) {
    it(`parses ${JSON.stringify(header)}`, () => {
      expect({ ...parseCookie(header) }).toEqual(expected);
    });
  }

  it('keeps an unnamed chunk under the empty name', () => {
    expect(Object.keys(parseCookie('abc=def; unnamed; django_language=en'))).toContain(
      'django_language',
    );
  });

  it('unquotes values as Python’s http.cookies', () => {
    const cases: Array<[string, string]> = [
      ['a="b=\\""', 'b="'],
      ['a="b=\\\\"', 'b=\\'],
      ['a="b=\\="', 'b=='],
      ['a="b=\\n"', 'b=n'],
      ['a="b=\\042"', 'b="'],
      ['a="b=\\134"', 'b=\\'],
      ['a="b=\\377"', 'b=\xff'],
      ['a="b=\\400"', 'b=400'],
      ['a="b=\\42"', 'b=42'],
      ['a="b=\\\\042"', 'b=\\042'],
      ['a="b=\\\\134"', 'b=\\134'],
      ['a="b=\\\\\\""', 'b=\\"'],
      ['a="b=\\\\\\042"', 'b=\\"'],
      ['a="b=\\134\\""', 'b=\\"'],
      ['a="b=\\134\\042"', 'b=\\"'],
    ];
    for (const [encoded, decoded] of cases) {
      expect(parseCookie(encoded)['a']).toBe(decoded);
    }
  });

  it('unquotes a huge value in linear time (CVE-2024-7592)', () => {
    const n = 100000;
    for (const encoded of ['\\\\', '\\134']) {
      const started = performance.now();
      const value = parseCookie(`a="b=${encoded.repeat(n)}"`)['a']!;
      expect(performance.now() - started).toBeLessThan(1000);
      expect(value.slice(0, 3)).toBe('b=\\');
      expect(value.slice(-3)).toBe('\\\\\\');
      expect(value.length).toBe(n + 2);
    }
  });

  it('strips the whitespace Python strips, not what JavaScript trims', () => {
    expect({ ...parseCookie('\x1ca=b\x1f') }).toEqual({ a: 'b' });
    expect({ ...parseCookie('a=\ufeffb') }).toEqual({ a: '\ufeffb' });
  });
});

// Ported from tornado/test/httputil_test.py HTTPHeadersTest.
describe('HTTPHeaders', () => {
  it('joins continuation lines with a single space', () => {
    const headers = HTTPHeaders.parse(
      'Foo: bar\r\n baz\r\nAsdf: qwer\r\n\tzxcv\r\nFoo: even\r\n     more\r\n     lines\r\n',
    );
    expect(headers.get('asdf')).toBe('qwer zxcv');
    expect(headers.getList('asdf')).toEqual(['qwer zxcv']);
    expect(headers.get('Foo')).toBe('bar baz,even more lines');
    expect(headers.getList('foo')).toEqual(['bar baz', 'even more lines']);
    expect([...headers].sort()).toEqual([
      ['Asdf', 'qwer zxcv'],
      ['Foo', 'bar baz'],
      ['Foo', 'even more lines'],
    ]);
  });

  it('continues with tab or space only, never with a form feed', () => {
    expect(HTTPHeaders.parse('Foo: bar\r\n\tasdf').get('Foo')).toBe('bar asdf');
    expect(errorOf(() => HTTPHeaders.parse(' Foo: bar')).code).toBe('VESPER_WEB_BAD_HEADER');
    // \f is whitespace to Python's str.isspace, not to HTTP.
    expect(errorOf(() => HTTPHeaders.parse('Foo: bar\r\n\fasdf')).code).toBe(
      'VESPER_WEB_BAD_HEADER',
    );
  });

  it('refuses control characters in values but allows tab, printable ASCII and obs-text', () => {
    for (let c = 0; c < 0xff; c++) {
      const data = `Foo: bar${String.fromCharCode(c)}baz\r\n`;
      if (c === 0x09 || (c >= 0x20 && c !== 0x7f)) {
        expect(HTTPHeaders.parse(data).get('Foo')).toBe(`bar${String.fromCharCode(c)}baz`);
      } else {
        expect(errorOf(() => HTTPHeaders.parse(data)).code).toBe('VESPER_WEB_BAD_HEADER');
      }
    }
  });

  it('strips only spaces and tabs around values', () => {
    for (const [c, stripped] of [
      [' ', true],
      ['\t', true],
      ['\u00a0', false],
      ['\u0085', false],
    ] as const) {
      const h = HTTPHeaders.parse(`Transfer-Encoding: ${c}chunked`);
      expect([...h]).toEqual([['Transfer-Encoding', stripped ? 'chunked' : `${c}chunked`]]);
    }
  });

  it('refuses invalid header names', () => {
    for (const name of ['', 'foo bar', 'foo\tbar', 'foo\nbar', 'foo\x00bar', 'foo ', ' foo', 'é']) {
      expect(errorOf(() => new HTTPHeaders().add(name, 'bar')).code).toBe('VESPER_WEB_BAD_HEADER');
    }
  });

  it('prints as Name: value lines that parse back to the same headers', () => {
    const h = new HTTPHeaders();
    h.add('Foo', '1');
    h.add('Foo', '2');
    h.add('Foo', '3');
    expect(h.toString()).toBe('Foo: 1\nFoo: 2\nFoo: 3\n');
    expect([...HTTPHeaders.parse(h.toString())]).toEqual([...h]);
  });

  it('accepts LF as well as CRLF and refuses a bare CR', () => {
    const headers = HTTPHeaders.parse('CRLF: crlf\r\nLF: lf\n');
    expect([...headers]).toEqual([
      ['CRLF', 'crlf'],
      ['LF', 'lf'],
    ]);
    expect(errorOf(() => HTTPHeaders.parse('CR: cr\rMore: more\r\n')).code).toBe(
      'VESPER_WEB_BAD_HEADER',
    );
  });

  it('splits lines on LF only, never on Unicode line separators', () => {
    const headers = HTTPHeaders.parse('Cookie: foo=\x85bar');
    expect([...headers]).toEqual([['Cookie', 'foo=\x85bar']]);
    const decoded = HTTPHeaders.parseDecoded('Cookie: foo=\u2028bar\u2029');
    expect([...decoded]).toEqual([['Cookie', 'foo=\u2028bar\u2029']]);
  });

  it('is case-insensitive, multi-valued, and keeps the first spelling and order', () => {
    const h = new HTTPHeaders({ 'content-type': 'text/html' });
    h.add('Set-Cookie', 'A=B');
    h.add('set-cookie', 'C=D');
    expect(h.get('Content-Type')).toBe('text/html');
    expect(h.get('SET-COOKIE')).toBe('A=B,C=D');
    expect(h.getList('set-cookie')).toEqual(['A=B', 'C=D']);
    expect([...h]).toEqual([
      ['content-type', 'text/html'],
      ['Set-Cookie', 'A=B'],
      ['Set-Cookie', 'C=D'],
    ]);
    h.set('Content-Type', 'text/plain');
    expect([...h.getAll()][0]).toEqual(['Content-Type', 'text/plain']);
    expect(h.has('content-TYPE')).toBe(true);
    expect(h.delete('content-type')).toBe(true);
    expect(h.has('Content-Type')).toBe(false);
    expect(h.get('Content-Type')).toBe(undefined);
    expect(h.getList('nope')).toEqual([]);
  });

  it('copies deeply', () => {
    const h = new HTTPHeaders([
      ['A', '1'],
      ['A', '2'],
      ['B', 'c'],
    ]);
    const c = h.copy();
    expect([...c]).toEqual([...h]);
    c.add('A', '3');
    expect(h.getList('a')).toEqual(['1', '2']);
    expect(c.getList('a')).toEqual(['1', '2', '3']);
    expect(h.getList('A')).not.toBe(h.getList('A'));
  });

  it('builds from Node rawHeaders', () => {
    const h = HTTPHeaders.fromNode(['Host', 'x', 'Accept', 'a', 'accept', 'b']);
    expect(h.get('accept')).toBe('a,b');
    expect(h.names()).toEqual(['Host', 'Accept']);
  });

  it('refuses header injection through names and values', () => {
    const h = new HTTPHeaders();
    expect(errorOf(() => h.add('X', 'a\r\nSet-Cookie: x=1')).code).toBe('VESPER_WEB_BAD_HEADER');
    expect(errorOf(() => h.set('X', 'a\nb')).code).toBe('VESPER_WEB_BAD_HEADER');
    expect(errorOf(() => h.set('X', 'a\0b')).code).toBe('VESPER_WEB_BAD_HEADER');
    expect(errorOf(() => h.add('Bad Name', 'v')).code).toBe('VESPER_WEB_BAD_HEADER');
    expect(errorOf(() => h.add('', 'v')).code).toBe('VESPER_WEB_BAD_HEADER');
    expect(h.size).toBe(0);
  });
});

describe('formatTimestamp and parseHttpDate', () => {
  it('formats seconds and Dates as an HTTP date', () => {
    expect(formatTimestamp(1359312200.503611)).toBe('Sun, 27 Jan 2013 18:43:20 GMT');
    expect(formatTimestamp(new Date(1359312200503))).toBe('Sun, 27 Jan 2013 18:43:20 GMT');
    expect(formatTimestamp(0)).toBe('Thu, 01 Jan 1970 00:00:00 GMT');
    // Fractions are dropped towards the past, as time.gmtime does, also before 1970.
    expect(formatTimestamp(new Date(-500))).toBe('Wed, 31 Dec 1969 23:59:59 GMT');
    expect(() => formatTimestamp(Number.NaN)).toThrow(RangeError);
  });

  it('parses the three HTTP date forms and zones', () => {
    const t = Date.UTC(1994, 10, 6, 8, 49, 37);
    expect(parseHttpDate('Sun, 06 Nov 1994 08:49:37 GMT')?.getTime()).toBe(t);
    expect(parseHttpDate('Sunday, 06-Nov-94 08:49:37 GMT')?.getTime()).toBe(t);
    expect(parseHttpDate('Sun Nov  6 08:49:37 1994')?.getTime()).toBe(t);
    expect(parseHttpDate('Sun, 06 Nov 1994 08:49:37')?.getTime()).toBe(t);
    expect(parseHttpDate('Sun, 06 Nov 1994 10:49:37 +0200')?.getTime()).toBe(t);
    expect(parseHttpDate('Sun, 06 Nov 1994 03:49:37 EST')?.getTime()).toBe(t);
  });

  it('gives null for what is not a date', () => {
    for (const s of [
      '',
      'yesterday',
      '1994-11-06',
      'Sun, 31 Feb 1994 08:49:37 GMT',
      'Sun, 06 Foo 1994 08:49:37 GMT',
      '12',
    ]) {
      expect(parseHttpDate(s)).toBe(null);
    }
  });
});

describe('HTTPServerRequest', () => {
  const make = (
    uri: string,
    headers: Record<string, string> = {},
    body?: Buffer,
  ): HTTPServerRequest =>
    new HTTPServerRequest({
      method: 'POST',
      uri,
      version: 'HTTP/1.1',
      headers: new HTTPHeaders(headers),
      body,
      remoteIp: '10.0.0.1',
      protocol: 'http',
    });

  it('needs only method, uri, remoteIp and protocol, and has a Buffer body', () => {
    const r = new HTTPServerRequest({
      method: 'GET',
      uri: '/',
      remoteIp: '127.0.0.1',
      protocol: 'http',
    });
    expect(Buffer.isBuffer(r.body)).toBe(true);
    expect(r.version).toBe('HTTP/1.0');
    expect(r.headers.size).toBe(0);
  });

  it('splits path and query and parses the query arguments', () => {
    const r = make('/a%20b/c?x=1&y=&x=2');
    expect(r.path).toBe('/a%20b/c');
    expect(r.query).toBe('x=1&y=&x=2');
    expect(plain(r.arguments)).toEqual({ x: ['1', '2'], y: [''] });
    expect(plain(r.queryArguments)).toEqual({ x: ['1', '2'], y: [''] });
    expect(make('/only').query).toBe('');
  });

  it('takes host from the Host header, else 127.0.0.1, and strips the port for hostName', () => {
    expect(make('/', { Host: 'Example.COM:8080' }).host).toBe('Example.COM:8080');
    expect(make('/', { Host: 'Example.COM:8080' }).hostName).toBe('example.com');
    expect(make('/', { Host: '[::1]:8080' }).hostName).toBe('[::1]');
    expect(make('/', { Host: '[::1]' }).hostName).toBe('[::1]');
    expect(make('/').host).toBe('127.0.0.1');
    expect(make('/').hostName).toBe('127.0.0.1');
  });

  it('builds the full URL', () => {
    expect(make('/x?y=1', { Host: 'h:81' }).fullUrl()).toBe('http://h:81/x?y=1');
  });

  it('appends body arguments after query arguments', () => {
    const r = make(
      '/?a=q',
      { 'Content-Type': 'application/x-www-form-urlencoded' },
      Buffer.from('a=b&c=d'),
    );
    r.parseBody();
    expect(plain(r.arguments)).toEqual({ a: ['q', 'b'], c: ['d'] });
    expect(plain(r.queryArguments)).toEqual({ a: ['q'] });
    expect(plain(r.bodyArguments)).toEqual({ a: ['b'], c: ['d'] });
  });

  it('fills files from a multipart body and refuses a bad one with 400', () => {
    const r = make(
      '/',
      { 'Content-Type': 'multipart/form-data; boundary=b' },
      crlf('--b\nContent-Disposition: form-data; name="f"; filename="a.txt"\n\nhi\n--b--'),
    );
    r.parseBody();
    expect(r.files['f']![0]!.body).toEqual(Buffer.from('hi'));
    const bad = make('/', { 'Content-Type': 'multipart/form-data; boundary=b' }, Buffer.from('x'));
    expect(errorOf(() => bad.parseBody()).status).toBe(400);
    expect(Object.keys(bad.arguments)).toEqual([]);
  });

  it('parses cookies lazily, drops names http.cookies refuses, and never throws', () => {
    const r = make('/', { Cookie: 'a=1; b="x\\"y"; Path=/; bad name=2; =3' });
    expect({ ...r.cookies }).toEqual({ a: '1', b: 'x"y' });
    expect(r.cookies).toBe(r.cookies);
    expect({ ...make('/').cookies }).toEqual({});
    expect({ ...make('/', { Cookie: ';;;==;' }).cookies }).toEqual({});
  });

  it('measures the request time until it is marked finished', async () => {
    const r = make('/');
    await new Promise((resolve) => setTimeout(resolve, 20));
    r.markFinished();
    const t = r.requestTime();
    expect(t).toBeGreaterThanOrEqual(0.015);
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(r.requestTime()).toBe(t);
  });
});

describe('form bodies through a real server', () => {
  class UploadHandler extends RequestHandler {
    override post(): void {
      const files = this.request.files['f'] ?? [];
      this.write({
        a: this.getArguments('a'),
        files: files.map((f) => [f.filename, f.contentType, f.body.toString('latin1')]),
      });
    }
  }
  let server: TestServer | undefined;
  const start = async (): Promise<TestServer> =>
    (server ??= await startTestServer(new Application([['/up', UploadHandler]])));
  afterAll(async () => {
    await server?.close();
  });

  it('delivers multipart fields and files to the handler', async () => {
    const s = await start();
    const body = crlf(`--b
Content-Disposition: form-data; name="a"

1
--b
Content-Disposition: form-data; name="f"; filename*=UTF-8''%E2%9C%93.txt
Content-Type: text/plain

x\0y
--b--
`);
    const r = await s.fetch('/up?a=0', {
      method: 'POST',
      headers: { 'Content-Type': 'multipart/form-data; boundary="b"' },
      body,
    });
    expect(r.status).toBe(200);
    expect(await r.json()).toEqual({ a: ['0', '1'], files: [['✓.txt', 'text/plain', 'x\0y']] });
  });

  it('answers 400 to a body with more than 100 parts', async () => {
    const s = await start();
    const part = 'Content-Disposition: form-data; name="a"\n\nx\n';
    const r = await s.fetch('/up', {
      method: 'POST',
      headers: { 'Content-Type': 'multipart/form-data; boundary=b' },
      body: crlf(`--b\n${part}`.repeat(101) + '--b--'),
    });
    expect(r.status).toBe(400);
  });
});
