import { createHash } from 'node:crypto';
import {
  mkdirSync,
  readdirSync,
  readlinkSync,
  mkdtempSync,
  rmSync,
  statSync,
  truncateSync,
  writeFileSync,
  utimesSync,
} from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gunzipSync, gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Application, type ApplicationSettings } from '../../src/web/application.js';
import { formatTimestamp } from '../../src/web/http-date.js';
import { guessMimeType } from '../../src/web/mime-types.js';
import { RequestHandler } from '../../src/web/request-handler.js';
import {
  StaticFileHandler,
  parseRangeHeader,
  type StaticContent,
} from '../../src/web/static-file-handler.js';
import { startTestServer, type TestServer } from '../../src/web/testing.js';
import { httpFetch, type RawResponse } from './web-test-helpers.js';

const ROBOTS = 'User-agent: *\nDisallow: /\n';
const ROBOTS_HASH = createHash('sha512').update(ROBOTS).digest('hex');

let dir: string;
let staticDir: string;
const servers: TestServer[] = [];

class StaticUrlHandler extends RequestHandler {
  override get(path?: string): void {
    const withHost = this.getArgument('host', '') === '1';
    const withVersion = this.getArgument('version', '1') === '1';
    this.write(this.staticUrl(path ?? '', withHost, withVersion));
  }
}

async function serve(app: Application): Promise<TestServer> {
  const s = await startTestServer(app);
  servers.push(s);
  return s;
}

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'vesper-static-'));
  staticDir = join(dir, 'static');
  mkdirSync(join(staticDir, 'dir'), { recursive: true });
  mkdirSync(join(staticDir, 'empty-dir'));
  writeFileSync(join(staticDir, 'robots.txt'), ROBOTS);
  writeFileSync(join(staticDir, 'dir', 'index.html'), 'this is the index\n');
  writeFileSync(join(staticDir, 'sample.xml'), '<a/>\n');
  writeFileSync(join(staticDir, 'sample.xml.gz'), gzipSync('<a/>\n'));
  writeFileSync(join(staticDir, 'sample.xml.bz2'), 'BZh not really');
  writeFileSync(join(staticDir, 'style.css'), 'a{}');
  writeFileSync(join(staticDir, 'app.js'), 'void 0;');
  writeFileSync(join(staticDir, 'data.json'), '{}');
  writeFileSync(join(staticDir, 'logo.png'), Buffer.from([0x89, 0x50, 0x4e, 0x47]));
  writeFileSync(join(staticDir, 'blob.unknownext'), 'x');
  writeFileSync(join(staticDir, 'a b.txt'), 'spaced');
  writeFileSync(join(dir, 'static_foo.txt'), 'outside the root\n');
  mkdirSync(join(dir, 'static-sibling'));
  writeFileSync(join(dir, 'static-sibling', 'secret.txt'), 'sibling\n');
});

afterAll(async () => {
  for (const s of servers) await s.close();
  rmSync(dir, { recursive: true, force: true });
  StaticFileHandler.resetCache();
});

function headersWithoutDate(r: RawResponse): Record<string, unknown> {
  const h: Record<string, unknown> = { ...r.headers };
  delete h['date'];
  delete h['expires'];
  delete h['connection'];
  delete h['keep-alive'];
  return h;
}

/** GETs `path`, HEADs it too, checks HEAD had GET's headers and no body, returns GET's response. */
async function getAndHead(
  s: TestServer,
  path: string,
  headers: Record<string, string> = {},
): Promise<RawResponse> {
  const get = await httpFetch(s.port, path, { headers });
  const head = await httpFetch(s.port, path, { method: 'HEAD', headers });
  expect(head.status).toBe(get.status);
  expect(head.body.length).toBe(0);
  expect(headersWithoutDate(head)).toEqual(headersWithoutDate(get));
  return get;
}

function statusOfRaw(raw: Buffer): number {
  return Number(/^HTTP\/1\.1 (\d{3})/.exec(raw.toString('latin1'))![1]);
}

describe('StaticFileHandler', () => {
  let s: TestServer;
  beforeAll(async () => {
    s = await serve(
      new Application(
        [
          ['/static_url/(.*)', StaticUrlHandler],
          ['/root_static/(.*)', StaticFileHandler, { path: '/' }],
        ],
        { staticPath: staticDir },
      ),
    );
  });

  it('serves files under /static/ and /robots.txt', async () => {
    for (const path of ['/robots.txt', '/static/robots.txt']) {
      const r = await getAndHead(s, path);
      expect(r.status).toBe(200);
      expect(r.body.toString()).toBe(ROBOTS);
      expect(r.headers['content-type']).toBe('text/plain; charset=UTF-8');
      expect(r.headers['content-length']).toBe('26');
      expect(r.headers['accept-ranges']).toBe('bytes');
    }
  });

  it('decodes the path and serves names with spaces', async () => {
    const r = await getAndHead(s, '/static/a%20b.txt');
    expect(r.status).toBe(200);
    expect(r.body.toString()).toBe('spaced');
  });

  it('sets a strong ETag from the SHA-512 of the content', async () => {
    const r = await getAndHead(s, '/static/robots.txt');
    expect(r.headers['etag']).toBe(`"${ROBOTS_HASH}"`);
  });

  it('sets Last-Modified to the mtime in whole seconds', async () => {
    const mtime = Math.floor(statSync(join(staticDir, 'robots.txt')).mtimeMs / 1000);
    const r = await getAndHead(s, '/static/robots.txt');
    expect(r.headers['last-modified']).toBe(formatTimestamp(mtime));
  });

  it('caches versioned URLs for ten years and others not at all', async () => {
    const versioned = await getAndHead(s, '/static/robots.txt?v=12345');
    expect(versioned.headers['cache-control']).toBe('max-age=315360000');
    const expires = Date.parse(String(versioned.headers['expires']));
    expect(Math.abs(expires - (Date.now() + 315360000 * 1000))).toBeLessThan(5000);
    const plain = await getAndHead(s, '/static/robots.txt');
    expect(plain.headers['cache-control']).toBe(undefined);
    expect(plain.headers['expires']).toBe(undefined);
  });

  it('builds versioned static URLs, with the host or without the version on request', async () => {
    expect((await httpFetch(s.port, '/static_url/robots.txt')).body.toString()).toBe(
      `/static/robots.txt?v=${ROBOTS_HASH}`,
    );
    expect((await httpFetch(s.port, '/static_url/robots.txt?host=1')).body.toString()).toBe(
      `http://127.0.0.1:${s.port}/static/robots.txt?v=${ROBOTS_HASH}`,
    );
    expect((await httpFetch(s.port, '/static_url/robots.txt?version=0')).body.toString()).toBe(
      '/static/robots.txt',
    );
    // A file that cannot be read gets no version.
    expect((await httpFetch(s.port, '/static_url/missing.txt')).body.toString()).toBe(
      '/static/missing.txt',
    );
  });

  it('answers 304 to If-Modified-Since equal to Last-Modified, without Content-Length', async () => {
    const first = await getAndHead(s, '/static/robots.txt');
    const r = await getAndHead(s, '/static/robots.txt', {
      'If-Modified-Since': String(first.headers['last-modified']),
    });
    expect(r.status).toBe(304);
    expect(r.body.length).toBe(0);
    expect(r.headers['content-length']).toBe(undefined);
    expect(r.headers['content-type']).toBe(undefined);
    expect(r.headers['etag']).toBe(`"${ROBOTS_HASH}"`);
  });

  it('answers 304 to a matching If-None-Match, weak or strong, and to *', async () => {
    for (const inm of [
      `"${ROBOTS_HASH}"`,
      `W/"${ROBOTS_HASH}"`,
      `"other", "${ROBOTS_HASH}"`,
      '*',
    ]) {
      const r = await getAndHead(s, '/static/robots.txt', { 'If-None-Match': inm });
      expect(r.status).toBe(304);
    }
  });

  it('lets If-None-Match decide alone when both conditions are sent', async () => {
    const first = await getAndHead(s, '/static/robots.txt');
    const r = await getAndHead(s, '/static/robots.txt', {
      'If-None-Match': '"MISMATCH"',
      'If-Modified-Since': String(first.headers['last-modified']),
    });
    expect(r.status).toBe(200);
    expect(r.body.toString()).toBe(ROBOTS);
  });

  it('serves the file for a pre-epoch or unreadable If-Modified-Since', async () => {
    for (const ims of ['Fri, 01 Jan 1960 00:00:00 GMT', 'not a date']) {
      const r = await getAndHead(s, '/static/robots.txt', { 'If-Modified-Since': ims });
      expect(r.status).toBe(200);
    }
  });

  it('compares If-Modified-Since in UTC, to the second', async () => {
    const file = join(staticDir, 'robots.txt');
    const mtime = Math.floor(statSync(file).mtimeMs / 1000);
    const before = await getAndHead(s, '/static/robots.txt', {
      'If-Modified-Since': formatTimestamp(mtime - 1),
    });
    expect(before.status).toBe(200);
    const after = await getAndHead(s, '/static/robots.txt', {
      'If-Modified-Since': formatTimestamp(mtime + 1),
    });
    expect(after.status).toBe(304);
  });

  describe('ranges', () => {
    const cases: Array<{
      range: string;
      status: number;
      body?: string;
      contentRange?: string;
    }> = [
      { range: 'bytes=0-9', status: 206, body: 'User-agent', contentRange: 'bytes 0-9/26' },
      { range: 'bytes=0-', status: 200, body: ROBOTS },
      { range: 'bytes=0-10000000', status: 200, body: ROBOTS },
      {
        range: 'bytes=1-10000000',
        status: 206,
        body: ROBOTS.slice(1),
        contentRange: 'bytes 1-25/26',
      },
      { range: 'bytes=22-', status: 206, body: ': /\n', contentRange: 'bytes 22-25/26' },
      { range: 'bytes=-4', status: 206, body: ': /\n', contentRange: 'bytes 22-25/26' },
      { range: 'bytes=-1000000', status: 200, body: ROBOTS },
      { range: 'bytes=25-25', status: 206, body: '\n', contentRange: 'bytes 25-25/26' },
      { range: 'asdf', status: 200, body: ROBOTS },
      { range: 'bytes=', status: 200, body: ROBOTS },
      { range: 'bytes=1-2,6-10', status: 200, body: ROBOTS },
      { range: 'items=0-1', status: 200, body: ROBOTS },
      { range: 'bytes=-0', status: 416, contentRange: 'bytes */26' },
      { range: 'bytes=26', status: 416, contentRange: 'bytes */26' },
      { range: 'bytes=26-30', status: 416, contentRange: 'bytes */26' },
      { range: 'bytes=10-3', status: 416, contentRange: 'bytes */26' },
    ];
    for (const c of cases) {
      it(`answers Range: ${c.range} with ${c.status}`, async () => {
        const r = await getAndHead(s, '/static/robots.txt', { Range: c.range });
        expect(r.status).toBe(c.status);
        expect(r.headers['content-range']).toBe(c.contentRange);
        if (c.status === 416) {
          expect(r.body.length).toBe(0);
          expect(r.headers['content-type']).toBe('text/plain');
          expect(r.headers['content-length']).toBe('0');
        } else {
          expect(r.body.toString()).toBe(c.body);
          expect(r.headers['content-length']).toBe(String(Buffer.byteLength(c.body!)));
          // The ETag is the whole file's, even for a part.
          expect(r.headers['etag']).toBe(`"${ROBOTS_HASH}"`);
        }
      });
    }

    it('answers HEAD with a range with the part’s headers', async () => {
      const r = await httpFetch(s.port, '/static/robots.txt', {
        method: 'HEAD',
        headers: { Range: 'bytes=1-4' },
      });
      expect(r.status).toBe(206);
      expect(r.body.length).toBe(0);
      expect(r.headers['content-length']).toBe('4');
      expect(r.headers['content-range']).toBe('bytes 1-4/26');
      expect(r.headers['etag']).toBe(`"${ROBOTS_HASH}"`);
    });

    it('answers 304 to a range request whose If-None-Match matches', async () => {
      const r = await getAndHead(s, '/static/robots.txt', {
        Range: 'bytes=1-4',
        'If-None-Match': `"${ROBOTS_HASH}"`,
      });
      expect(r.status).toBe(304);
      expect(r.body.length).toBe(0);
      expect(r.headers['content-length']).toBe(undefined);
      expect(r.headers['etag']).toBe(`"${ROBOTS_HASH}"`);
    });
  });

  it('answers 404 for a missing file and 403 for a directory without a default file', async () => {
    expect((await getAndHead(s, '/static/blarg')).status).toBe(404);
    expect((await getAndHead(s, '/static/dir')).status).toBe(403);
    expect((await getAndHead(s, '/static/dir/')).status).toBe(403);
    expect((await getAndHead(s, '/static/')).status).toBe(403);
  });

  it('refuses path traversal with 403, plain or percent-encoded', async () => {
    for (const target of [
      '/static/../static_foo.txt',
      '/static/..%2fstatic_foo.txt',
      '/static/%2e%2e/static_foo.txt',
      '/static/dir/../../static-sibling/secret.txt',
      '/static/..%2fstatic-sibling/secret.txt',
    ]) {
      const raw = await s.rawRequest(
        `GET ${target} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n`,
      );
      expect(statusOfRaw(raw), target).toBe(403);
      expect(raw.toString('latin1')).not.toContain('outside the root');
      expect(raw.toString('latin1')).not.toContain('sibling\n');
    }
  });

  it('refuses an absolute path after the prefix with 403', async () => {
    const raw = await s.rawRequest(
      `GET /static/${join(dir, 'static_foo.txt')} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n`,
    );
    expect(statusOfRaw(raw)).toBe(403);
  });

  it('serves anything under a root of / (the check is turned off on purpose)', async () => {
    const r = await getAndHead(s, '/root_static' + encodeURI(join(staticDir, 'robots.txt')));
    expect(r.status).toBe(200);
    expect(r.body.toString()).toBe(ROBOTS);
  });

  it('answers 404, not 500, for a path holding a NUL byte', async () => {
    expect((await httpFetch(s.port, '/static/robots.txt%00.png')).status).toBe(404);
  });

  describe('content types', () => {
    const types: Array<[string, string]> = [
      ['sample.xml', 'text/xml; charset=UTF-8'],
      ['sample.xml.gz', 'application/gzip'],
      ['sample.xml.bz2', 'application/octet-stream'],
      ['style.css', 'text/css; charset=UTF-8'],
      ['app.js', 'text/javascript; charset=UTF-8'],
      ['data.json', 'application/json'],
      ['logo.png', 'image/png'],
      ['blob.unknownext', 'application/octet-stream'],
      ['dir/index.html', 'text/html; charset=UTF-8'],
    ];
    for (const [file, type] of types) {
      it(`serves ${file} as ${type}`, async () => {
        const r = await getAndHead(s, `/static/${file}`);
        expect(r.status).toBe(200);
        expect(r.headers['content-type']).toBe(type);
        expect(r.headers['content-encoding']).toBe(undefined);
      });
    }
  });

  it('recomputes the version after resetCache()', async () => {
    const file = join(staticDir, 'changing.txt');
    writeFileSync(file, 'one');
    const first = await httpFetch(s.port, '/static/changing.txt');
    writeFileSync(file, 'two');
    utimesSync(file, new Date(), new Date(Date.now() + 5000));
    const cached = await httpFetch(s.port, '/static/changing.txt');
    expect(cached.headers['etag']).toBe(first.headers['etag']);
    StaticFileHandler.resetCache();
    const fresh = await httpFetch(s.port, '/static/changing.txt');
    expect(fresh.body.toString()).toBe('two');
    expect(fresh.headers['etag']).toBe(`"${createHash('sha512').update('two').digest('hex')}"`);
  });
});

describe('StaticFileHandler with defaultFilename', () => {
  it('serves the default file for dir/ and redirects dir to dir/ with 301', async () => {
    const s = await serve(
      new Application([], {
        staticPath: staticDir,
        staticHandlerArgs: { defaultFilename: 'index.html' },
      }),
    );
    const index = await getAndHead(s, '/static/dir/');
    expect(index.status).toBe(200);
    expect(index.body.toString()).toBe('this is the index\n');
    expect(index.headers['content-type']).toBe('text/html; charset=UTF-8');
    const redirect = await httpFetch(s.port, '/static/dir?x=1');
    expect(redirect.status).toBe(301);
    expect(redirect.headers['location']).toBe('/static/dir/');
    expect((await httpFetch(s.port, '/static/empty-dir/')).status).toBe(404);
  });

  it('never redirects a path starting with // (no open redirect)', async () => {
    const s = await serve(
      new Application([], {
        staticPath: staticDir,
        staticUrlPrefix: '/',
        staticHandlerArgs: { defaultFilename: 'index.html' },
      }),
    );
    const raw = await s.rawRequest(
      `GET //evil.com/..${staticDir}/dir HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n`,
    );
    expect(statusOfRaw(raw)).toBe(403);
    expect(raw.toString('latin1')).not.toMatch(/\r\nLocation:/i);
    // The same directory without the double slash redirects as usual.
    const ok = await httpFetch(s.port, '/dir');
    expect(ok.status).toBe(301);
    expect(ok.headers['location']).toBe('/dir/');
  });
});

describe('StaticFileHandler override points', () => {
  class FixedRoot extends StaticFileHandler {
    override getCacheTime(): number {
      return 60;
    }
    override setExtraHeaders(path: string): void {
      this.setHeader('X-Served', path);
    }
  }

  it('uses a subclass’s cache time and extra headers', async () => {
    const s = await serve(
      new Application([], { staticPath: staticDir, staticHandlerClass: FixedRoot }),
    );
    const r = await getAndHead(s, '/static/robots.txt');
    expect(r.headers['cache-control']).toBe('max-age=60');
    expect(r.headers['x-served']).toBe('robots.txt');
  });

  it('refuses a route without a path kwarg with a 500', async () => {
    const s = await serve(new Application([['/x/(.*)', StaticFileHandler, {}]]));
    expect((await httpFetch(s.port, '/x/robots.txt')).status).toBe(500);
  });
});

// Ported from web_test.py CustomStaticFileTest: the version in the file name.
class VersionInNameHandler extends StaticFileHandler {
  static override makeStaticUrl(settings: ApplicationSettings, path: string): string {
    const version = this.getVersion(settings, path) ?? '';
    const dot = path.lastIndexOf('.');
    return `/static/${path.slice(0, dot)}.${version}.${path.slice(dot + 1)}`;
  }

  override parseUrlPath(urlPath: string): string {
    const ext = urlPath.lastIndexOf('.');
    const version = urlPath.lastIndexOf('.', ext - 1);
    return urlPath.slice(0, version) + urlPath.slice(ext);
  }

  static override getAbsolutePath(_root: string, path: string): string {
    return 'CustomStaticFileTest:' + path;
  }

  override validateAbsolutePath(_root: string, absolutePath: string): Promise<string | null> {
    return Promise.resolve(absolutePath);
  }

  static override getContent(path: string): StaticContent {
    if (path === 'CustomStaticFileTest:foo.txt') return Buffer.from('bar');
    throw new Error(`unexpected path ${path}`);
  }

  override getContentSize(): number {
    if (this.absolutePath === 'CustomStaticFileTest:foo.txt') return 3;
    throw new Error(`unexpected path ${this.absolutePath}`);
  }

  override getModifiedTime(): Date | undefined {
    return undefined;
  }

  static override getVersion(_settings: ApplicationSettings, _path: string): string {
    return '42';
  }
}

describe('a StaticFileHandler subclass that puts the version in the file name', () => {
  let s: TestServer;
  beforeAll(async () => {
    s = await serve(
      new Application([['/static_url/(.*)', StaticUrlHandler]], {
        staticPath: 'dummy',
        staticHandlerClass: VersionInNameHandler,
      }),
    );
  });

  it('serves its own content under the versioned name', async () => {
    const r = await getAndHead(s, '/static/foo.42.txt');
    expect(r.status).toBe(200);
    expect(r.body.toString()).toBe('bar');
    expect(r.headers['content-length']).toBe('3');
    expect(r.headers['last-modified']).toBe(undefined);
    // The ETag is the hash of what getContent returned.
    expect(r.headers['etag']).toBe(`"${createHash('sha512').update('bar').digest('hex')}"`);
  });

  it('builds its own static URLs', async () => {
    expect((await httpFetch(s.port, '/static_url/foo.txt')).body.toString()).toBe(
      '/static/foo.42.txt',
    );
  });
});

// Ported from web_test.py StaticFileWithPathTest.
describe('a StaticFileHandler routed to another directory', () => {
  it('serves that directory’s files byte for byte', async () => {
    const other = join(dir, 'templates');
    mkdirSync(other, { recursive: true });
    writeFileSync(join(other, 'utf8.html'), Buffer.from('H\xc3\xa9llo\n', 'latin1'));
    const s = await serve(
      new Application([['/foo/(.*)', StaticFileHandler, { path: other + '/' }]], {
        staticPath: staticDir,
        staticHandlerArgs: { defaultFilename: 'index.html' },
      }),
    );
    const r = await httpFetch(s.port, '/foo/utf8.html');
    expect(r.body).toEqual(Buffer.from('H\xc3\xa9llo\n', 'latin1'));
  });
});

describe('static files with compressResponse', () => {
  it('compresses a streamed text file and says Vary: Accept-Encoding', async () => {
    const s = await serve(new Application([], { staticPath: staticDir, compressResponse: true }));
    const r = await httpFetch(s.port, '/robots.txt', { headers: { 'Accept-Encoding': 'gzip' } });
    expect(r.status).toBe(200);
    expect(r.headers['content-encoding']).toBe('gzip');
    expect(r.headers['vary']).toBe('Accept-Encoding');
    expect(gunzipSync(r.body).toString()).toBe(ROBOTS);
  });
});

describe('parseRangeHeader and guessMimeType', () => {
  it('parse ranges as Tornado’s _parse_request_range', () => {
    expect(parseRangeHeader('bytes=1-2')).toEqual([1, 3]);
    expect(parseRangeHeader('bytes=6-')).toEqual([6, undefined]);
    expect(parseRangeHeader('bytes=-6')).toEqual([-6, undefined]);
    expect(parseRangeHeader('bytes=-0')).toEqual([undefined, 0]);
    expect(parseRangeHeader('bytes=')).toEqual([undefined, undefined]);
    expect(parseRangeHeader('foo=42')).toBe(null);
    expect(parseRangeHeader('bytes=1-2,6-10')).toBe(null);
    expect(parseRangeHeader('bytes=a-b')).toBe(null);
  });

  it('guess types and encodings from names, never from Object.prototype', () => {
    expect(guessMimeType('a.tar.gz')).toEqual(['application/x-tar', 'gzip']);
    expect(guessMimeType('a.tgz')).toEqual(['application/x-tar', 'gzip']);
    expect(guessMimeType('A.PNG')).toEqual(['image/png', undefined]);
    expect(guessMimeType('x.constructor')).toEqual([undefined, undefined]);
    expect(guessMimeType('.bashrc')).toEqual([undefined, undefined]);
    expect(guessMimeType('dir.d/noext')).toEqual([undefined, undefined]);
  });
});

/** Versions from size and mtime, so that the transfer test does not spend seconds hashing a GiB. */
class UnhashedStaticFileHandler extends StaticFileHandler {
  static override getContentVersion(absPath: string): Promise<string> {
    const st = statSync(absPath);
    return Promise.resolve(`${st.size}-${Math.floor(st.mtimeMs)}`);
  }
}

interface Download {
  status: number;
  received: number;
  headers: Record<string, string | string[] | undefined>;
  rssGrowth: number;
  /** With `stallAfter`: the RSS growth at the end of the stall (what the server holds while the client reads nothing). */
  stallGrowth: number;
}

/**
 * GETs `path` and counts the body without keeping it, sampling this process's
 * RSS meanwhile; with `abortAfter`, drops the connection once that many bytes
 * arrived; with `stallAfter`, stops reading for a while once that many did.
 * The client reads into one reused buffer (`onread`), so that the
 * RSS it samples is the server's doing, not the garbage of a client that
 * allocates every chunk it receives (which a busy machine collects late).
 */
async function download(
  port: number,
  path: string,
  options: {
    method?: string;
    headers?: Record<string, string>;
    abortAfter?: number;
    /** Reads nothing for 500 ms once this many body bytes arrived. */
    stallAfter?: number;
  } = {},
): Promise<Download> {
  const baseline = process.memoryUsage.rss();
  let peak = baseline;
  const sampler = setInterval(() => {
    peak = Math.max(peak, process.memoryUsage.rss());
  }, 10);
  try {
    let stallGrowth = 0;
    const r = await new Promise<Omit<Download, 'rssGrowth' | 'stallGrowth'>>((resolve, reject) => {
      const buffer = Buffer.alloc(64 * 1024);
      let head = '';
      let headDone = false;
      let received = 0;
      let settled = false;
      let stalled = false;
      const parsed = (): Omit<Download, 'rssGrowth' | 'stallGrowth'> => {
        const lines = head.split('\r\n');
        const headers: Record<string, string> = {};
        for (const line of lines.slice(1)) {
          const colon = line.indexOf(':');
          headers[line.slice(0, colon).toLowerCase()] = line.slice(colon + 1).trim();
        }
        return { status: Number(lines[0]!.split(' ')[1]), received, headers };
      };
      const finish = (): void => {
        if (settled) return;
        settled = true;
        if (!headDone) reject(new Error('no complete response head'));
        else resolve(parsed());
      };
      const socket = connect({
        host: '127.0.0.1',
        port,
        onread: {
          buffer,
          callback: (n: number): boolean => {
            let at = 0;
            if (!headDone) {
              head += buffer.toString('latin1', 0, n);
              const end = head.indexOf('\r\n\r\n');
              if (end < 0) return true;
              headDone = true;
              at = n - (head.length - end - 4);
              head = head.slice(0, end);
            }
            received += n - at;
            if (options.abortAfter !== undefined && received >= options.abortAfter) {
              socket.destroy();
              finish();
            }
            if (options.stallAfter !== undefined && !stalled && received >= options.stallAfter) {
              stalled = true;
              setTimeout(() => {
                stallGrowth = process.memoryUsage.rss() - baseline;
                socket.resume();
              }, 500);
              return false;
            }
            return true;
          },
        },
      });
      let text = `${options.method ?? 'GET'} ${path} HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nConnection: close\r\n`;
      for (const [k, v] of Object.entries(options.headers ?? {})) text += `${k}: ${v}\r\n`;
      socket.write(`${text}\r\n`);
      socket.on('error', (err) => {
        if (options.abortAfter === undefined && !settled) {
          settled = true;
          reject(err);
        }
      });
      socket.on('close', finish);
    });
    return {
      ...r,
      rssGrowth: Math.max(peak, process.memoryUsage.rss()) - baseline,
      stallGrowth,
    };
  } finally {
    clearInterval(sampler);
  }
}

/** How many of this process's file descriptors are open on `file` (Linux). */
function openFdsOn(file: string): number {
  let n = 0;
  for (const fd of readdirSync('/proc/self/fd')) {
    try {
      if (readlinkSync(`/proc/self/fd/${fd}`) === file) n++;
    } catch {
      // Closed while we looked.
    }
  }
  return n;
}

describe('large files', () => {
  let big: string;
  let s: TestServer;
  beforeAll(async () => {
    big = join(dir, 'big');
    mkdirSync(big);
    const huge = join(big, 'huge.bin');
    writeFileSync(huge, '');
    truncateSync(huge, 1024 ** 3);
    writeFileSync(join(big, 'medium.bin'), '');
    truncateSync(join(big, 'medium.bin'), 32 * 1024 ** 2);
    s = await serve(new Application([['/big/(.*)', UnhashedStaticFileHandler, { path: big }]]));
  });

  it('starts sending a sparse 1 GiB file at once, without reading it into memory', async () => {
    const r = await download(s.port, '/big/huge.bin', { abortAfter: 8 * 1024 ** 2 });
    expect(r.status).toBe(200);
    expect(r.headers['content-length']).toBe(String(1024 ** 3));
    expect(r.received).toBeGreaterThanOrEqual(8 * 1024 ** 2);
    // Reading the file into memory first would add a whole GiB before the first byte.
    expect(r.rssGrowth).toBeLessThan(128 * 1024 ** 2);
    // The client went away: the handler stops reading and closes the file.
    await expect.poll(() => openFdsOn(join(big, 'huge.bin')), { timeout: 5000 }).toBe(0);
  });

  it('serves a range at the end of a 1 GiB file without reading what comes before', async () => {
    const r = await download(s.port, '/big/huge.bin', { headers: { Range: 'bytes=-1000' } });
    expect(r.status).toBe(206);
    expect(r.received).toBe(1000);
    expect(r.headers['content-range']).toBe(
      `bytes ${1024 ** 3 - 1000}-${1024 ** 3 - 1}/${1024 ** 3}`,
    );
  });

  it('streams a whole 32 MiB file with backpressure, chunk by chunk', async () => {
    const r = await download(s.port, '/big/medium.bin', { stallAfter: 1024 ** 2 });
    expect(r.status).toBe(200);
    expect(r.received).toBe(32 * 1024 ** 2);
    // While the client reads nothing, a server holding the file would have its
    // 32 MiB in memory; a streaming one stops at a few chunks and socket
    // buffers. (Growth over the whole download also counts the garbage of the
    // chunks already sent, which a busy machine collects late.)
    expect(r.stallGrowth).toBeLessThan(16 * 1024 ** 2);
  });

  it('hashes a large file for its ETag by streaming it too', async () => {
    const hashed = await serve(new Application([['/big/(.*)', StaticFileHandler, { path: big }]]));
    // HEAD computes the ETag (reading the whole file) but sends no body.
    const r = await download(hashed.port, '/big/medium.bin', { method: 'HEAD' });
    expect(r.status).toBe(200);
    const expected = createHash('sha512')
      .update(Buffer.alloc(32 * 1024 ** 2))
      .digest('hex');
    expect(r.headers['etag']).toBe(`"${expected}"`);
    expect(r.headers['content-length']).toBe(String(32 * 1024 ** 2));
    // Reading the file into memory would add its 32 MiB; hashing reuses one 64 KiB buffer.
    expect(r.rssGrowth).toBeLessThan(12 * 1024 ** 2);
  });
});
