import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import zlib from 'node:zlib';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { AsyncHTTPClient } from '../../src/web/http-client.js';
import { HTTPClientError } from '../../src/web/http-client-error.js';
import { HTTPRequest } from '../../src/web/http-request.js';

interface Seen {
  method: string;
  url: string;
  headers: http.IncomingHttpHeaders;
  body: string;
  port: number;
}

const cleanups: (() => void | Promise<void>)[] = [];
afterEach(async () => {
  for (const fn of cleanups.splice(0).reverse()) await fn();
});

/** A local server: `handler` answers, every request is recorded in `seen`. */
async function serve(
  handler: (req: http.IncomingMessage, res: http.ServerResponse, seen: Seen) => void,
): Promise<{
  url: (path: string) => string;
  seen: Seen[];
  connections: () => number;
  origin: string;
}> {
  const seen: Seen[] = [];
  let connections = 0;
  const sockets = new Set<net.Socket>();
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const entry: Seen = {
        method: req.method!,
        url: req.url!,
        headers: req.headers,
        body: Buffer.concat(chunks).toString(),
        port: req.socket.remotePort!,
      };
      seen.push(entry);
      handler(req, res, entry);
    });
  });
  server.on('connection', (s) => {
    connections++;
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  cleanups.push(
    () =>
      new Promise<void>((r) => {
        for (const s of sockets) s.destroy();
        server.close(() => r());
      }),
  );
  const origin = `http://127.0.0.1:${(server.address() as net.AddressInfo).port}`;
  return { url: (path) => `${origin}${path}`, seen, connections: () => connections, origin };
}

function client(options?: ConstructorParameters<typeof AsyncHTTPClient>[0]): AsyncHTTPClient {
  const c = new AsyncHTTPClient(options);
  cleanups.push(() => c.destroy());
  return c;
}

async function failure(p: Promise<unknown>): Promise<HTTPClientError> {
  const err = await p.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(HTTPClientError);
  return err as HTTPClientError;
}

describe('AsyncHTTPClient basics', () => {
  it('fetches status, reason, headers and body', async () => {
    const srv = await serve((_req, res) => {
      res.writeHead(200, 'Fine', { 'Content-Type': 'application/json', 'X-Multi': ['a', 'b'] });
      res.end('{"ok":true}');
    });
    const response = await client().fetch(srv.url('/x?q=1'));
    expect(response.code).toBe(200);
    expect(response.reason).toBe('Fine');
    expect(response.headers.get('content-type')).toBe('application/json');
    expect(response.headers.getList('X-Multi')).toEqual(['a', 'b']);
    expect(response.text()).toBe('{"ok":true}');
    expect(response.json()).toEqual({ ok: true });
    expect(response.effectiveUrl).toBe(srv.url('/x?q=1'));
    expect(response.requestTime).toBeGreaterThan(0);
    expect(response.error).toBeUndefined();
    expect(srv.seen[0]!.url).toBe('/x?q=1');
    expect(srv.seen[0]!.headers['user-agent']).toBe('Vesper');
    expect(srv.seen[0]!.headers['accept-encoding']).toBe('gzip, deflate');
  });

  it('sends method, headers, body and basic auth', async () => {
    const srv = await serve((_req, res) => res.end('ok'));
    await client().fetch(srv.url('/post'), {
      method: 'POST',
      headers: { 'Content-Type': 'text/plain', 'X-Custom': 'v' },
      body: 'héllo',
      authUsername: 'ann',
      authPassword: 'pw',
      userAgent: 'test-agent',
    });
    const seen = srv.seen[0]!;
    expect(seen.method).toBe('POST');
    expect(seen.body).toBe('héllo');
    expect(seen.headers['content-length']).toBe(String(Buffer.byteLength('héllo')));
    expect(seen.headers['x-custom']).toBe('v');
    expect(seen.headers['user-agent']).toBe('test-agent');
    expect(seen.headers.authorization).toBe(`Basic ${Buffer.from('ann:pw').toString('base64')}`);
  });

  it('raises HTTPClientError for a non-2xx status, with the response', async () => {
    const srv = await serve((_req, res) => {
      res.statusCode = 404;
      res.end('nope');
    });
    const err = await failure(client().fetch(srv.url('/missing')));
    expect(err.statusCode).toBe(404);
    expect(err.code).toBe('VESPER_WEB_HTTP_CLIENT_RESPONSE');
    expect(err.message).toBe('HTTP 404: Not Found');
    expect(err.response!.text()).toBe('nope');
  });

  it('returns the response with its error when raiseError is false', async () => {
    const srv = await serve((_req, res) => {
      res.statusCode = 503;
      res.end('busy');
    });
    const response = await client().fetch(srv.url('/'), { raiseError: false });
    expect(response.code).toBe(503);
    expect(response.text()).toBe('busy');
    expect(response.error?.statusCode).toBe(503);
    expect(() => response.rethrow()).toThrow(HTTPClientError);
  });

  it('answers HEAD without a body', async () => {
    const srv = await serve((_req, res) => {
      res.setHeader('Content-Length', '1234');
      res.end();
    });
    const response = await client().fetch(srv.url('/'), { method: 'HEAD' });
    expect(response.code).toBe(200);
    expect(response.headers.get('Content-Length')).toBe('1234');
    expect(response.body.length).toBe(0);
  });

  it('reassembles a chunked response', async () => {
    const srv = await serve((_req, res) => {
      res.write('one,');
      setTimeout(() => {
        res.write('two,');
        res.end('three');
      }, 10);
    });
    const response = await client().fetch(srv.url('/'));
    expect(response.headers.get('Transfer-Encoding')).toBe('chunked');
    expect(response.text()).toBe('one,two,three');
  });

  it('reuses one keep-alive connection for sequential requests to an origin', async () => {
    const srv = await serve((_req, res) => res.end('x'));
    const c = client();
    await c.fetch(srv.url('/1'));
    await c.fetch(srv.url('/2'));
    expect(srv.connections()).toBe(1);
    expect(srv.seen[0]!.port).toBe(srv.seen[1]!.port);
  });

  it('retries an idempotent request once when its pooled connection was closed', async () => {
    let requests = 0;
    const srv = await serve((req, res) => {
      requests++;
      if (requests === 2) {
        req.socket.destroy();
        return;
      }
      res.end(`answer ${requests}`);
    });
    const c = client();
    expect((await c.fetch(srv.url('/a'))).text()).toBe('answer 1');
    expect((await c.fetch(srv.url('/b'))).text()).toBe('answer 3');
    expect(srv.connections()).toBe(2);
  });

  it('refuses invalid requests before sending them', async () => {
    const c = client();
    const codes = await Promise.all(
      [
        c.fetch('http://127.0.0.1:1/', { method: 'POST' }),
        c.fetch('http://127.0.0.1:1/', { method: 'GET', body: 'x' }),
        c.fetch('http://127.0.0.1:1/', { method: 'PROPFIND' }),
        c.fetch('ftp://127.0.0.1/'),
        c.fetch('not a url'),
        c.fetch(new HTTPRequest('http://127.0.0.1:1/'), { method: 'PUT' }),
      ].map((p) => p.catch((e: { code: string }) => e.code)),
    );
    expect(new Set(codes)).toEqual(new Set(['VESPER_WEB_HTTP_CLIENT_BAD_REQUEST']));
  });

  it('sends a nonstandard method when allowed', async () => {
    const srv = await serve((_req, res) => res.end());
    await client().fetch(srv.url('/'), { method: 'PROPFIND', allowNonstandardMethods: true });
    expect(srv.seen[0]!.method).toBe('PROPFIND');
  });
});

describe('AsyncHTTPClient over a Unix socket', () => {
  it('talks HTTP over socketPath, taking Host and path from the URL', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'vesper-uds-'));
    const path = join(dir, 'http.sock');
    const seen: string[] = [];
    const server = http.createServer((req, res) => {
      seen.push(`${req.headers.host} ${req.url}`);
      res.end('over unix');
    });
    await new Promise<void>((r) => server.listen(path, r));
    cleanups.push(async () => {
      await new Promise<void>((r) => server.close(() => r()));
      rmSync(dir, { recursive: true, force: true });
    });
    const c = client();
    const response = await c.fetch('http://session.local/app/page?x=1', { socketPath: path });
    expect(response.text()).toBe('over unix');
    await c.fetch('http://session.local/again', { socketPath: path });
    expect(seen).toEqual(['session.local /app/page?x=1', 'session.local /again']);
  });
});

describe('AsyncHTTPClient failures (599)', () => {
  it('fails with 599 and the cause when the connection is refused, even with raiseError false', async () => {
    const probe = net.createServer();
    await new Promise<void>((r) => probe.listen(0, '127.0.0.1', r));
    const port = (probe.address() as net.AddressInfo).port;
    await new Promise<void>((r) => probe.close(() => r()));
    const err = await failure(client().fetch(`http://127.0.0.1:${port}/`, { raiseError: false }));
    expect(err.statusCode).toBe(599);
    expect(err.code).toBe('VESPER_WEB_HTTP_CLIENT_CONNECTION');
    expect((err.cause as NodeJS.ErrnoException).code).toBe('ECONNREFUSED');
    expect(err.response).toBeUndefined();
  });

  it('fails with 599 when the request timeout passes', async () => {
    const srv = await serve(() => undefined);
    const started = performance.now();
    const err = await failure(client().fetch(srv.url('/slow'), { requestTimeout: 0.2 }));
    expect(err.statusCode).toBe(599);
    expect(err.code).toBe('VESPER_WEB_HTTP_CLIENT_TIMEOUT');
    expect(err.message).toBe('HTTP 599: Timeout during request');
    expect(performance.now() - started).toBeLessThan(2000);
  });

  it('fails with 599 when connecting (TLS handshake included) takes too long', async () => {
    const silent = net.createServer(() => undefined);
    const held = new Set<net.Socket>();
    silent.on('connection', (s) => held.add(s));
    await new Promise<void>((r) => silent.listen(0, '127.0.0.1', r));
    cleanups.push(
      () =>
        new Promise<void>((r) => {
          for (const s of held) s.destroy();
          silent.close(() => r());
        }),
    );
    const port = (silent.address() as net.AddressInfo).port;
    const err = await failure(
      client().fetch(`https://127.0.0.1:${port}/`, { connectTimeout: 0.2, requestTimeout: 5 }),
    );
    expect(err.code).toBe('VESPER_WEB_HTTP_CLIENT_TIMEOUT');
    expect(err.message).toBe('HTTP 599: Timeout while connecting');
  });

  it('refuses a body larger than maxBodySize by Content-Length', async () => {
    const srv = await serve((_req, res) => res.end(Buffer.alloc(2048)));
    const err = await failure(client({ maxBodySize: 1024 }).fetch(srv.url('/')));
    expect(err.statusCode).toBe(599);
    expect(err.code).toBe('VESPER_WEB_HTTP_CLIENT_BODY_TOO_LARGE');
  });

  it('refuses a chunked body once it passes maxBodySize, and accepts one exactly at it', async () => {
    const srv = await serve((req, res) => {
      const n = req.url === '/big' ? 4 : 2;
      for (let i = 0; i < n; i++) res.write(Buffer.alloc(512, 'a'));
      res.end();
    });
    const c = client({ maxBodySize: 1024 });
    expect((await c.fetch(srv.url('/exact'))).body.length).toBe(1024);
    const err = await failure(c.fetch(srv.url('/big')));
    expect(err.code).toBe('VESPER_WEB_HTTP_CLIENT_BODY_TOO_LARGE');
  });

  it('fails with BAD_RESPONSE when the server closes mid-body', async () => {
    const srv = await serve((req, res) => {
      res.writeHead(200, { 'Content-Length': '100' });
      res.write('partial');
      setTimeout(() => req.socket.destroy(), 10);
    });
    const err = await failure(client().fetch(srv.url('/')));
    expect(err.statusCode).toBe(599);
    expect(err.code).toBe('VESPER_WEB_HTTP_CLIENT_BAD_RESPONSE');
  });

  it('rejects fetches after close() and aborts in-flight ones on destroy()', async () => {
    const srv = await serve(() => undefined);
    const c = new AsyncHTTPClient();
    const pending = failure(c.fetch(srv.url('/hang')));
    await new Promise((r) => setTimeout(r, 30));
    c.destroy();
    expect((await pending).code).toBe('VESPER_WEB_HTTP_CLIENT_CLOSED');
    expect((await failure(c.fetch(srv.url('/')))).code).toBe('VESPER_WEB_HTTP_CLIENT_CLOSED');
  });

  it('close() waits for fetches in flight', async () => {
    const srv = await serve((_req, res) => setTimeout(() => res.end('late'), 50));
    const c = new AsyncHTTPClient();
    const pending = c.fetch(srv.url('/'));
    await new Promise((r) => setTimeout(r, 10));
    await c.close();
    expect((await pending).text()).toBe('late');
    await c.close();
  });
});

describe('AsyncHTTPClient decompression', () => {
  it('decompresses gzip and deflate bodies and records the consumed encoding', async () => {
    const srv = await serve((req, res) => {
      const gzip = req.url === '/gzip';
      res.setHeader('Content-Encoding', gzip ? 'gzip' : 'deflate');
      res.end(gzip ? zlib.gzipSync('hello gzip') : zlib.deflateSync('hello deflate'));
    });
    const c = client();
    const g = await c.fetch(srv.url('/gzip'));
    expect(g.text()).toBe('hello gzip');
    expect(g.headers.has('Content-Encoding')).toBe(false);
    expect(g.headers.get('X-Consumed-Content-Encoding')).toBe('gzip');
    expect((await c.fetch(srv.url('/deflate'))).text()).toBe('hello deflate');
  });

  it('leaves the body compressed when decompressResponse is false', async () => {
    const packed = zlib.gzipSync('raw');
    const srv = await serve((_req, res) => {
      res.setHeader('Content-Encoding', 'gzip');
      res.end(packed);
    });
    const response = await client().fetch(srv.url('/'), { decompressResponse: false });
    expect(response.body.equals(packed)).toBe(true);
    expect(srv.seen[0]!.headers['accept-encoding']).toBeUndefined();
  });

  it('refuses a decompression bomb instead of buffering it', async () => {
    const bomb = zlib.gzipSync(Buffer.alloc(16 * 1024 * 1024));
    expect(bomb.length).toBeLessThan(1024 * 1024);
    const srv = await serve((_req, res) => {
      res.setHeader('Content-Encoding', 'gzip');
      res.end(bomb);
    });
    const err = await failure(client({ maxBodySize: 1024 * 1024 }).fetch(srv.url('/')));
    expect(err.statusCode).toBe(599);
    expect(err.code).toBe('VESPER_WEB_HTTP_CLIENT_BODY_TOO_LARGE');
  });

  it('fails with BAD_RESPONSE on corrupt gzip', async () => {
    const srv = await serve((_req, res) => {
      res.setHeader('Content-Encoding', 'gzip');
      res.end('this is not gzip');
    });
    expect((await failure(client().fetch(srv.url('/')))).code).toBe(
      'VESPER_WEB_HTTP_CLIENT_BAD_RESPONSE',
    );
  });
});

describe('AsyncHTTPClient redirects', () => {
  async function redirecting(code: number) {
    return serve((req, res) => {
      if (req.url === '/from') {
        res.writeHead(code, { Location: '/to' });
        res.end('moved');
      } else {
        res.end('arrived');
      }
    });
  }

  it.each([301, 302, 303])('turns POST into GET without body on %i', async (code) => {
    const srv = await redirecting(code);
    const response = await client().fetch(srv.url('/from'), {
      method: 'POST',
      body: 'payload',
      headers: { 'Content-Type': 'text/plain' },
    });
    expect(response.text()).toBe('arrived');
    expect(response.effectiveUrl).toBe(srv.url('/to'));
    const to = srv.seen[1]!;
    expect(to.method).toBe('GET');
    expect(to.body).toBe('');
    expect(to.headers['content-type']).toBeUndefined();
    expect(to.headers['content-length']).toBeUndefined();
  });

  it.each([307, 308])('keeps method and body on %i', async (code) => {
    const srv = await redirecting(code);
    await client().fetch(srv.url('/from'), {
      method: 'POST',
      body: 'payload',
      headers: { 'Content-Type': 'text/plain' },
    });
    const to = srv.seen[1]!;
    expect(to.method).toBe('POST');
    expect(to.body).toBe('payload');
    expect(to.headers['content-type']).toBe('text/plain');
  });

  it('keeps PUT on 301 and HEAD on 303', async () => {
    const srv = await redirecting(301);
    await client().fetch(srv.url('/from'), { method: 'PUT', body: 'x' });
    expect(srv.seen[1]!.method).toBe('PUT');
    const srv2 = await redirecting(303);
    await client().fetch(srv2.url('/from'), { method: 'HEAD' });
    expect(srv2.seen[1]!.method).toBe('HEAD');
  });

  it('drops Authorization and Cookie when a redirect crosses origins, keeps them within one', async () => {
    const other = await serve((_req, res) => res.end('other'));
    const srv = await serve((req, res) => {
      if (req.url === '/same') {
        res.writeHead(302, { Location: '/final' });
        res.end();
      } else if (req.url === '/cross') {
        res.writeHead(302, { Location: other.url('/landing') });
        res.end();
      } else {
        res.end('final');
      }
    });
    const c = client();
    const secrets = { Authorization: 'Bearer secret', Cookie: 'session=abc' };
    await c.fetch(srv.url('/same'), { headers: secrets });
    expect(srv.seen[1]!.headers.authorization).toBe('Bearer secret');
    expect(srv.seen[1]!.headers.cookie).toBe('session=abc');
    const response = await c.fetch(srv.url('/cross'), {
      headers: { ...secrets, 'X-Keep': 'yes' },
    });
    expect(response.text()).toBe('other');
    const landed = other.seen[0]!;
    expect(landed.headers.authorization).toBeUndefined();
    expect(landed.headers.cookie).toBeUndefined();
    expect(landed.headers['x-keep']).toBe('yes');
    expect(landed.headers.host).toBe(new URL(other.origin).host);
  });

  it('drops basic-auth credentials across origins', async () => {
    const other = await serve((_req, res) => res.end('other'));
    const srv = await serve((_req, res) => {
      res.writeHead(302, { Location: other.url('/') });
      res.end();
    });
    await client().fetch(srv.url('/'), { authUsername: 'u', authPassword: 'p' });
    expect(srv.seen[0]!.headers.authorization).toBeDefined();
    expect(other.seen[0]!.headers.authorization).toBeUndefined();
  });

  it('stops after maxRedirects with the last 3xx response as the error', async () => {
    const srv = await serve((_req, res) => {
      res.writeHead(302, { Location: '/loop' });
      res.end();
    });
    const c = client();
    const err = await failure(c.fetch(srv.url('/loop')));
    expect(err.statusCode).toBe(302);
    expect(err.code).toBe('VESPER_WEB_HTTP_CLIENT_TOO_MANY_REDIRECTS');
    expect(srv.seen).toHaveLength(6);
    const response = await c.fetch(srv.url('/loop'), { maxRedirects: 2, raiseError: false });
    expect(response.code).toBe(302);
    expect(srv.seen).toHaveLength(6 + 3);
  });

  it('does not follow redirects when told not to', async () => {
    const srv = await redirecting(302);
    const err = await failure(client().fetch(srv.url('/from'), { followRedirects: false }));
    expect(err.statusCode).toBe(302);
    expect(err.code).toBe('VESPER_WEB_HTTP_CLIENT_RESPONSE');
    expect(err.response!.headers.get('Location')).toBe('/to');
  });

  it('does not follow a redirect to another scheme', async () => {
    const srv = await serve((_req, res) => {
      res.writeHead(302, { Location: 'file:///etc/passwd' });
      res.end();
    });
    const err = await failure(client().fetch(srv.url('/')));
    expect(err.code).toBe('VESPER_WEB_HTTP_CLIENT_BAD_REDIRECT');
    expect(srv.seen).toHaveLength(1);
  });
});

const hasOpenssl = (() => {
  try {
    execFileSync('openssl', ['version'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
})();

describe.skipIf(!hasOpenssl)('AsyncHTTPClient over https', () => {
  let dir = '';
  let key = '';
  let cert = '';
  let url = '';
  let server: https.Server | undefined;
  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'vesper-https-'));
    execFileSync(
      'openssl',
      [
        'req',
        '-x509',
        '-newkey',
        'rsa:2048',
        '-nodes',
        '-days',
        '1',
        '-subj',
        '/CN=localhost',
        '-addext',
        'subjectAltName=DNS:localhost,IP:127.0.0.1',
        '-keyout',
        join(dir, 'key.pem'),
        '-out',
        join(dir, 'cert.pem'),
      ],
      { stdio: 'ignore' },
    );
    key = readFileSync(join(dir, 'key.pem'), 'utf8');
    cert = readFileSync(join(dir, 'cert.pem'), 'utf8');
    server = https.createServer({ key, cert }, (_req, res) => res.end('secure'));
    await new Promise<void>((r) => server!.listen(0, '127.0.0.1', r));
    url = `https://localhost:${(server.address() as net.AddressInfo).port}/`;
  });
  afterAll(async () => {
    await new Promise<void>((r) => (server ? server.close(() => r()) : r()));
    rmSync(dir, { recursive: true, force: true });
  });

  it('verifies the server against the given CA', async () => {
    expect((await client().fetch(url, { ca: cert })).text()).toBe('secure');
  });

  it('fails with 599 when the certificate is not trusted', async () => {
    const err = await failure(client().fetch(url));
    expect(err.statusCode).toBe(599);
    expect(err.code).toBe('VESPER_WEB_HTTP_CLIENT_CONNECTION');
    expect((err.cause as NodeJS.ErrnoException).code).toBe('DEPTH_ZERO_SELF_SIGNED_CERT');
  });

  it('skips verification when validateCert is false', async () => {
    expect((await client().fetch(url, { validateCert: false })).text()).toBe('secure');
  });
});
