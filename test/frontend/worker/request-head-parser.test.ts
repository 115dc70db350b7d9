import { describe, expect, it } from 'vitest';
import { ChunkedDecoder } from '../../../src/frontend/worker/http/chunked-decoder.js';
import { ProtocolError } from '../../../src/frontend/worker/http/protocol-error.js';
import { RequestHeadParser } from '../../../src/frontend/worker/http/request-head-parser.js';
import type { RequestHead } from '../../../src/frontend/worker/http/request-head.js';
import { canonicalTarget } from '../../../src/frontend/worker/http/request-target.js';

const LIMITS = { requestLine: 8192, headers: 16384 };

/** Parses `text` fed in the given pieces; returns the head and where it ended, or the error. */
function parseSplit(
  text: string | Buffer,
  cuts: number[],
  limits = LIMITS,
): { head: RequestHead; end: number } | ProtocolError {
  const bytes = typeof text === 'string' ? Buffer.from(text, 'latin1') : text;
  const parser = new RequestHeadParser(limits);
  const bounds = [0, ...cuts, bytes.length];
  try {
    for (let k = 0; k + 1 < bounds.length; k++) {
      const piece = bytes.subarray(bounds[k], bounds[k + 1]);
      const r = parser.execute(piece);
      if (r.kind === 'head') return { head: r.head, end: bounds[k]! + r.end };
    }
  } catch (err) {
    if (err instanceof ProtocolError) return err;
    throw err;
  }
  throw new Error('incomplete');
}

function everySplit(text: string, check: (r: ReturnType<typeof parseSplit>) => void): void {
  check(parseSplit(text, []));
  for (let i = 1; i < text.length; i++) check(parseSplit(text, [i]));
  for (let i = 1; i < text.length; i++) {
    const cuts: number[] = [];
    for (let j = i; j < text.length; j += i) cuts.push(j);
    check(parseSplit(text, cuts));
  }
}

function refusal(text: string): { status: number; code: string } {
  const results = new Set<string>();
  everySplit(text, (r) => {
    expect(r).toBeInstanceOf(ProtocolError);
    const e = r as ProtocolError;
    results.add(`${e.status} ${e.code}`);
  });
  expect(results.size).toBe(1);
  const [status, code] = [...results][0]!.split(' ');
  return { status: Number(status), code: code! };
}

describe('RequestHeadParser', () => {
  it('reads the same head at every byte boundary and stops exactly at its end', () => {
    const text =
      'POST /session/alice/k/home?x=1 HTTP/1.1\r\nHost: example.org:8080\r\nContent-Length: 5\r\n' +
      'X-Thing:  spaced value \t\r\nCookie: a=b\r\n\r\nhello';
    everySplit(text, (r) => {
      if (r instanceof ProtocolError) throw r;
      expect(r.end).toBe(text.length - 5);
      expect(r.head.method).toBe('POST');
      expect(r.head.target).toBe('/session/alice/k/home?x=1');
      expect(r.head.version).toBe('1.1');
      expect(r.head.host).toBe('example.org:8080');
      expect(r.head.contentLength).toBe(5);
      expect(r.head.chunked).toBe(false);
      expect(r.head.keepAlive).toBe(true);
      expect(r.head.get('x-thing')).toBe('spaced value');
      expect(r.head.fields).toEqual([
        ['Host', 'example.org:8080'],
        ['Content-Length', '5'],
        ['X-Thing', 'spaced value'],
        ['Cookie', 'a=b'],
      ]);
    });
  });

  it('accepts HTTP/1.0 without Host and keeps it alive only when asked', () => {
    const r = parseSplit('GET / HTTP/1.0\r\n\r\n', []);
    if (r instanceof ProtocolError) throw r;
    expect(r.head.keepAlive).toBe(false);
    const k = parseSplit('GET / HTTP/1.0\r\nConnection: Keep-Alive\r\n\r\n', []);
    if (k instanceof ProtocolError) throw k;
    expect(k.head.keepAlive).toBe(true);
  });

  it('ignores one empty line before the request line', () => {
    const r = parseSplit('\r\nGET / HTTP/1.1\r\nHost: a\r\n\r\n', [1]);
    if (r instanceof ProtocolError) throw r;
    expect(r.head.target).toBe('/');
  });

  it('recognises a WebSocket upgrade and Expect: 100-continue', () => {
    const r = parseSplit(
      'GET /ws HTTP/1.1\r\nHost: a\r\nConnection: keep-alive, Upgrade\r\nUpgrade: WebSocket\r\nExpect: 100-continue\r\n\r\n',
      [],
    );
    if (r instanceof ProtocolError) throw r;
    expect(r.head.upgrade).toBe('websocket');
    expect(r.head.expectContinue).toBe(true);
  });

  const smuggling: [string, string, number, string][] = [
    [
      'bare CR in a header',
      'GET / HTTP/1.1\r\nHost: a\rX: b\r\n\r\n',
      400,
      'VESPER_FRONTEND_BARE_CR',
    ],
    ['bare LF', 'GET / HTTP/1.1\nHost: a\r\n\r\n', 400, 'VESPER_FRONTEND_BARE_LF'],
    [
      'NUL in a value',
      'GET / HTTP/1.1\r\nHost: a\r\nX: a\x00b\r\n\r\n',
      400,
      'VESPER_FRONTEND_NUL',
    ],
    [
      'obs-fold',
      'GET / HTTP/1.1\r\nHost: a\r\nX: a\r\n b\r\n\r\n',
      400,
      'VESPER_FRONTEND_OBS_FOLD',
    ],
    [
      'underscore in a name',
      'GET / HTTP/1.1\r\nHost: a\r\nX_Vesper: b\r\n\r\n',
      400,
      'VESPER_FRONTEND_UNDERSCORE_HEADER',
    ],
    [
      'space before the colon',
      'GET / HTTP/1.1\r\nHost: a\r\nContent-Length : 3\r\n\r\n',
      400,
      'VESPER_FRONTEND_BAD_HEADER',
    ],
    [
      'a line with no colon',
      'GET / HTTP/1.1\r\nHost: a\r\nnonsense\r\n\r\n',
      400,
      'VESPER_FRONTEND_BAD_HEADER',
    ],
    [
      'a control character in a value',
      'GET / HTTP/1.1\r\nHost: a\r\nX: a\x01\r\n\r\n',
      400,
      'VESPER_FRONTEND_BAD_HEADER',
    ],
    [
      'duplicate Host',
      'GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n',
      400,
      'VESPER_FRONTEND_DUPLICATE_HOST',
    ],
    ['missing Host on 1.1', 'GET / HTTP/1.1\r\n\r\n', 400, 'VESPER_FRONTEND_NO_HOST'],
    ['a Host with a comma', 'GET / HTTP/1.1\r\nHost: a,b\r\n\r\n', 400, 'VESPER_FRONTEND_BAD_HOST'],
    [
      'a Host with userinfo',
      'GET / HTTP/1.1\r\nHost: u@a\r\n\r\n',
      400,
      'VESPER_FRONTEND_BAD_HOST',
    ],
    [
      'CL with TE',
      'POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n',
      400,
      'VESPER_FRONTEND_LENGTH_AND_CHUNKED',
    ],
    [
      'duplicate CL',
      'POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 3\r\nContent-Length: 3\r\n\r\n',
      400,
      'VESPER_FRONTEND_DUPLICATE_LENGTH',
    ],
    [
      'a CL list',
      'POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 3, 3\r\n\r\n',
      400,
      'VESPER_FRONTEND_BAD_LENGTH',
    ],
    [
      'a signed CL',
      'POST / HTTP/1.1\r\nHost: a\r\nContent-Length: +3\r\n\r\n',
      400,
      'VESPER_FRONTEND_BAD_LENGTH',
    ],
    [
      'a hex CL',
      'POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 0x3\r\n\r\n',
      400,
      'VESPER_FRONTEND_BAD_LENGTH',
    ],
    [
      'TE gzip',
      'POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: gzip, chunked\r\n\r\n',
      400,
      'VESPER_FRONTEND_BAD_TRANSFER_ENCODING',
    ],
    [
      'TE chunked twice',
      'POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n\r\n',
      400,
      'VESPER_FRONTEND_BAD_TRANSFER_ENCODING',
    ],
    [
      'TE with a tab trick',
      'POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: \x0bchunked\r\n\r\n',
      400,
      'VESPER_FRONTEND_BAD_HEADER',
    ],
    [
      'TE on HTTP/1.0',
      'POST / HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n',
      400,
      'VESPER_FRONTEND_BAD_TRANSFER_ENCODING',
    ],
    [
      'a malformed request line',
      'GET  / HTTP/1.1\r\nHost: a\r\n\r\n',
      400,
      'VESPER_FRONTEND_BAD_REQUEST_LINE',
    ],
    [
      'a target with a space',
      'GET / x HTTP/1.1\r\nHost: a\r\n\r\n',
      400,
      'VESPER_FRONTEND_BAD_REQUEST_LINE',
    ],
    [
      'a lower-case version',
      'GET / http/1.1\r\nHost: a\r\n\r\n',
      400,
      'VESPER_FRONTEND_BAD_REQUEST_LINE',
    ],
    ['HTTP/2.0', 'GET / HTTP/2.0\r\nHost: a\r\n\r\n', 505, 'VESPER_FRONTEND_VERSION'],
    ['an unknown method', 'BREW / HTTP/1.1\r\nHost: a\r\n\r\n', 501, 'VESPER_FRONTEND_METHOD'],
    ['CONNECT', 'CONNECT a:443 HTTP/1.1\r\nHost: a\r\n\r\n', 501, 'VESPER_FRONTEND_METHOD'],
    [
      'a strange Expect',
      'GET / HTTP/1.1\r\nHost: a\r\nExpect: 200-ok\r\n\r\n',
      417,
      'VESPER_FRONTEND_EXPECT',
    ],
  ];
  for (const [name, text, status, code] of smuggling) {
    it(`refuses ${name} with ${status} at every byte boundary`, () => {
      expect(refusal(text)).toEqual({ status, code });
    });
  }

  it('answers 414 for a request line one byte over the limit, and accepts one at the limit', () => {
    const limits = { requestLine: 64, headers: 1024 };
    const at = `GET /${'a'.repeat(64 - 'GET / HTTP/1.1'.length)} HTTP/1.1`;
    expect(at.length).toBe(64);
    expect(parseSplit(`${at}\r\nHost: a\r\n\r\n`, [], limits)).not.toBeInstanceOf(ProtocolError);
    const over = `GET /${'a'.repeat(65 - 'GET / HTTP/1.1'.length)} HTTP/1.1\r\nHost: a\r\n\r\n`;
    const e = parseSplit(over, [10], limits) as ProtocolError;
    expect([e.status, e.code]).toEqual([414, 'VESPER_FRONTEND_URI_TOO_LONG']);
    // Refused before the line ends: the line never has to arrive in full.
    const p = new RequestHeadParser(limits);
    expect(() => p.execute(Buffer.from(`GET /${'a'.repeat(100)}`))).toThrow(ProtocolError);
  });

  it('answers 431 for a header block over the limit, and for too many fields', () => {
    const limits = { requestLine: 64, headers: 100 };
    const ok = `GET / HTTP/1.1\r\nHost: a\r\nX: ${'b'.repeat(100 - 9 - 2 - 5 - 2)}\r\n\r\n`;
    expect(parseSplit(ok, [], limits)).not.toBeInstanceOf(ProtocolError);
    const big = `GET / HTTP/1.1\r\nHost: a\r\nX: ${'b'.repeat(100)}\r\n\r\n`;
    expect((parseSplit(big, [], limits) as ProtocolError).status).toBe(431);
    const many = `GET / HTTP/1.1\r\nHost: a\r\n${'X: 1\r\n'.repeat(100)}\r\n`;
    expect((parseSplit(many, [], LIMITS) as ProtocolError).status).toBe(431);
  });

  it('is reusable after reset for the next pipelined request', () => {
    const text = 'GET /a HTTP/1.1\r\nHost: a\r\n\r\nGET /b HTTP/1.1\r\nHost: a\r\n\r\n';
    const bytes = Buffer.from(text);
    const p = new RequestHeadParser(LIMITS);
    const first = p.execute(bytes);
    if (first.kind !== 'head') throw new Error('no head');
    p.reset();
    const second = p.execute(bytes, first.end);
    if (second.kind !== 'head') throw new Error('no head');
    expect([first.head.target, second.head.target, second.end]).toEqual(['/a', '/b', bytes.length]);
  });
});

describe('canonicalTarget', () => {
  it('decodes segments and re-encodes them canonically, keeping the query', () => {
    expect(canonicalTarget('/session/%61lice/k/folder/INBOX%2fold?x=%20y')).toEqual({
      segments: ['session', 'alice', 'k', 'folder', 'INBOX/old'],
      path: '/session/alice/k/folder/INBOX%2Fold',
      query: 'x=%20y',
      canonical: '/session/alice/k/folder/INBOX%2Fold?x=%20y',
    });
    expect(canonicalTarget('/static/caf%C3%A9%20x').path).toBe('/static/caf%C3%A9%20x');
    expect(canonicalTarget('/session/alice//home').segments).toEqual([
      'session',
      'alice',
      '',
      'home',
    ]);
  });

  const refused: [string, string][] = [
    ['http://evil/x', 'VESPER_FRONTEND_ABSOLUTE_TARGET'],
    ['*', 'VESPER_FRONTEND_ABSOLUTE_TARGET'],
    ['//evil/x', 'VESPER_FRONTEND_DOUBLE_SLASH'],
    ['/static/../etc/passwd', 'VESPER_FRONTEND_DOT_SEGMENT'],
    ['/static/%2e%2E/etc/passwd', 'VESPER_FRONTEND_DOT_SEGMENT'],
    ['/static/.', 'VESPER_FRONTEND_DOT_SEGMENT'],
    ['/session/al%2Fice/k/home', 'VESPER_FRONTEND_ENCODED_SLASH'],
    ['/login/..%5cx', 'VESPER_FRONTEND_ENCODED_SLASH'],
    ['/a%zz', 'VESPER_FRONTEND_BAD_TARGET'],
    ['/a%0a', 'VESPER_FRONTEND_BAD_TARGET'],
    ['/a%00', 'VESPER_FRONTEND_BAD_TARGET'],
    ['/a%ff', 'VESPER_FRONTEND_BAD_TARGET'],
    ['/a#frag', 'VESPER_FRONTEND_BAD_TARGET'],
  ];
  for (const [target, code] of refused) {
    it(`refuses ${target} with 400 ${code}`, () => {
      let error: unknown;
      try {
        canonicalTarget(target);
      } catch (err) {
        error = err;
      }
      expect(error).toBeInstanceOf(ProtocolError);
      expect([(error as ProtocolError).status, (error as ProtocolError).code]).toEqual([400, code]);
    });
  }
});

describe('ChunkedDecoder', () => {
  function decodeSplit(text: string, cut: number, limit = 1000): string | ProtocolError {
    const bytes = Buffer.from(text, 'latin1');
    const d = new ChunkedDecoder(limit);
    const out: Buffer[] = [];
    try {
      let end = d.execute(bytes.subarray(0, cut), 0, (b) => out.push(Buffer.from(b)));
      if (end < 0) {
        end = d.execute(bytes.subarray(cut), 0, (b) => out.push(Buffer.from(b)));
        if (end >= 0) end += cut;
      }
      return `${Buffer.concat(out).toString('latin1')}|${end}`;
    } catch (err) {
      if (err instanceof ProtocolError) return err;
      throw err;
    }
  }

  it('decodes at every byte boundary, ignores extensions and trailers, and stops at the end', () => {
    const body = '5;name=v\r\nhello\r\n1\r\n \r\n6\r\nworld!\r\n0\r\nX-Trailer: 1\r\n\r\n';
    for (let cut = 0; cut <= body.length; cut++) {
      expect(decodeSplit(`${body}NEXT`, cut)).toBe(`hello world!|${body.length}`);
    }
  });

  it('counts the decoded body against the limit (413)', () => {
    const e = decodeSplit('5\r\nhello\r\n6\r\nworld!\r\n0\r\n\r\n', 3, 10) as ProtocolError;
    expect([e.status, e.code]).toEqual([413, 'VESPER_FRONTEND_BODY_TOO_LARGE']);
  });

  const bad: [string, string][] = [
    ['a non-hex size', 'g\r\nx\r\n0\r\n\r\n'],
    ['a negative size', '-1\r\nx\r\n0\r\n\r\n'],
    ['a bare LF after the size', '1\nx\r\n0\r\n\r\n'],
    ['data longer than its size', '1\r\nxy\r\n0\r\n\r\n'],
    ['a size with too many digits', '0000000000000001\r\nx\r\n0\r\n\r\n'],
    ['an empty size', '\r\n'],
  ];
  for (const [name, text] of bad) {
    it(`refuses ${name} with 400`, () => {
      for (let cut = 0; cut <= text.length; cut++) {
        const e = decodeSplit(text, cut);
        expect(e).toBeInstanceOf(ProtocolError);
        expect((e as ProtocolError).status).toBe(400);
      }
    });
  }
});
