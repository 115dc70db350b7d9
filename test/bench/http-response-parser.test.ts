/**
 * Tests of the load generator's response parser: every framing, every input
 * split at every byte boundary, and malformed input refused with its code.
 */
import { describe, expect, it } from 'vitest';
import { HttpResponseParser, type ParsedResponse } from '../../bench/lib/http-response-parser.js';
import { isVesperError } from '../../src/shared/errors/index.js';

/** Feeds `wire` in pieces cut at `cuts` and returns the responses seen. */
function parse(wire: string, cuts: number[] = [], end = false): ParsedResponse[] {
  const seen: ParsedResponse[] = [];
  const parser = new HttpResponseParser((r) => seen.push(r), { keepBody: true });
  const bytes = Buffer.from(wire, 'latin1');
  let at = 0;
  for (const cut of [...cuts, bytes.length]) {
    parser.push(bytes.subarray(at, cut));
    at = cut;
  }
  if (end) parser.end();
  return seen;
}

function summary(r: ParsedResponse): [number, string, boolean] {
  return [r.status, r.body!.toString('latin1'), r.keepAlive];
}

const PIPELINE =
  'HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello' +
  'HTTP/1.1 100 Continue\r\n\r\n' +
  'HTTP/1.1 404 Not Found\r\nTransfer-Encoding: chunked\r\n\r\n' +
  '3;ext=1\r\nabc\r\n2\r\nde\r\n0\r\nX-Trailer: 1\r\n\r\n' +
  'HTTP/1.1 304 Not Modified\r\nETag: "x"\r\n\r\n' +
  'HTTP/1.0 200 OK\r\nConnection: keep-alive\r\nContent-Length: 0\r\n\r\n' +
  'HTTP/1.1 303 See Other\r\nConnection: close\r\nContent-Length: 2\r\n\r\nok';

const EXPECTED: [number, string, boolean][] = [
  [200, 'hello', true],
  [404, 'abcde', true],
  [304, '', true],
  [200, '', true],
  [303, 'ok', false],
];

describe('HttpResponseParser', () => {
  it('parses length-delimited, chunked, bodiless and interim responses in one stream', () => {
    const seen = parse(PIPELINE);
    expect(seen.map(summary)).toEqual(EXPECTED);
    expect(seen[1]!.headers).toEqual([['transfer-encoding', 'chunked']]);
    expect(seen[1]!.bodyBytes).toBe(5);
  });

  it('gives the same result for the stream split at every byte boundary', () => {
    for (let i = 0; i <= PIPELINE.length; i++) {
      expect(parse(PIPELINE, [i]).map(summary)).toEqual(EXPECTED);
    }
  });

  it('gives the same result for the stream fed one byte at a time', () => {
    const cuts = Array.from({ length: PIPELINE.length }, (_, i) => i);
    expect(parse(PIPELINE, cuts).map(summary)).toEqual(EXPECTED);
  });

  it('ends a body without length or chunking at the end of the stream', () => {
    const wire = 'HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n\r\nuntil the end';
    expect(parse(wire, [], false)).toEqual([]);
    expect(parse(wire, [], true).map(summary)).toEqual([[200, 'until the end', false]]);
  });

  it('treats an HTTP/1.0 response without keep-alive as closing', () => {
    expect(parse('HTTP/1.0 200 OK\r\nContent-Length: 1\r\n\r\nx').map(summary)).toEqual([
      [200, 'x', false],
    ]);
  });

  it('reports idle only between responses', () => {
    const parser = new HttpResponseParser(() => {});
    expect(parser.idle).toBe(true);
    parser.push(Buffer.from('HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nx'));
    expect(parser.idle).toBe(false);
    parser.push(Buffer.from('y'));
    expect(parser.idle).toBe(true);
  });

  it.each([
    ['a bad status line', 'HTTP/2 200 OK\r\n\r\n'],
    ['a header line without a colon', 'HTTP/1.1 200 OK\r\nNoColon\r\n\r\n'],
    ['a non-numeric Content-Length', 'HTTP/1.1 200 OK\r\nContent-Length: 1x\r\n\r\n'],
    [
      'conflicting Content-Lengths',
      'HTTP/1.1 200 OK\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n',
    ],
    ['a bad chunk size', 'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n'],
    [
      'chunk data without its CRLF',
      'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n1\r\nxyz',
    ],
  ])('refuses %s with VESPER_BENCH_BAD_RESPONSE', (_what, wire) => {
    let error: unknown = null;
    try {
      parse(wire);
    } catch (err) {
      error = err;
    }
    expect(isVesperError(error, 'VESPER_BENCH_BAD_RESPONSE')).toBe(true);
  });

  it('refuses a stream that ends inside a response', () => {
    expect(() => parse('HTTP/1.1 200 OK\r\nContent-Length: 4\r\n\r\nab', [], true)).toThrow(
      /closed in the middle of a response/,
    );
  });

  it('refuses a header block longer than 64 KiB', () => {
    const parser = new HttpResponseParser(() => {});
    expect(() => parser.push(Buffer.alloc(64 * 1024 + 1, 'a'))).toThrow(/longer than 65536/);
  });
});
