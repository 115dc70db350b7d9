import { gunzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Application } from '../../src/web/application.js';
import { RequestHandler } from '../../src/web/request-handler.js';
import { startTestServer, type TestServer } from '../../src/web/testing.js';
import { httpFetch } from './web-test-helpers.js';

const BIG = 'Lorem ipsum dolor sit amet. '.repeat(100);

class BodyHandler extends RequestHandler {
  override get(): void {
    const type = this.getArgument('type', null);
    if (type !== null) this.setHeader('Content-Type', type);
    if (this.getArgument('vary', null) !== null) this.setHeader('Vary', 'Cookie');
    if (this.getArgument('encoded', null) !== null) this.setHeader('Content-Encoding', 'br');
    this.write(this.getArgument('small', null) !== null ? 'tiny' : BIG);
  }
}

class StreamingHandler extends RequestHandler {
  override async get(): Promise<void> {
    this.setHeader('Content-Type', 'text/plain');
    this.write('first chunk;');
    await this.flush();
    this.write('second chunk;');
    await this.flush();
    this.write('last');
  }
}

describe('compressResponse', () => {
  let server: TestServer;
  const gz = { 'Accept-Encoding': 'gzip, deflate' };

  beforeAll(async () => {
    server = await startTestServer(
      new Application(
        [
          ['/body', BodyHandler],
          ['/stream', StreamingHandler],
        ],
        { compressResponse: true },
      ),
    );
  });

  afterAll(() => server.close());

  it('gzips a large HTML body for a client that accepts gzip, fixing Content-Length', async () => {
    const res = await httpFetch(server.port, '/body', { headers: gz });
    expect(res.headers['content-encoding']).toBe('gzip');
    expect(res.headers.vary).toBe('Accept-Encoding');
    expect(Number(res.headers['content-length'])).toBe(res.body.length);
    expect(res.body.length).toBeLessThan(BIG.length);
    expect(gunzipSync(res.body).toString()).toBe(BIG);
  });

  it('compresses JSON and JavaScript but not images', async () => {
    const json = await httpFetch(server.port, '/body?type=application/json', { headers: gz });
    expect(json.headers['content-encoding']).toBe('gzip');
    const js = await httpFetch(server.port, '/body?type=application/javascript;%20charset=UTF-8', {
      headers: gz,
    });
    expect(js.headers['content-encoding']).toBe('gzip');
    const png = await httpFetch(server.port, '/body?type=image/png', { headers: gz });
    expect(png.headers['content-encoding']).toBeUndefined();
    expect(png.headers.vary).toBe('Accept-Encoding');
  });

  it('sends bodies under 1 KiB as they are, still with Vary', async () => {
    const res = await httpFetch(server.port, '/body?small=1', { headers: gz });
    expect(res.headers['content-encoding']).toBeUndefined();
    expect(res.headers.vary).toBe('Accept-Encoding');
    expect(res.body.toString()).toBe('tiny');
  });

  it('does not compress for a client that does not accept gzip', async () => {
    const res = await httpFetch(server.port, '/body');
    expect(res.headers['content-encoding']).toBeUndefined();
    expect(res.headers.vary).toBe('Accept-Encoding');
    expect(res.body.toString()).toBe(BIG);
  });

  it('appends to an existing Vary and leaves an existing Content-Encoding alone', async () => {
    const vary = await httpFetch(server.port, '/body?vary=1', { headers: gz });
    expect(vary.headers.vary).toBe('Cookie, Accept-Encoding');
    const enc = await httpFetch(server.port, '/body?encoded=1', { headers: gz });
    expect(enc.headers['content-encoding']).toBe('br');
    expect(enc.body.toString()).toBe(BIG);
  });

  it('compresses a streamed response chunk by chunk', async () => {
    const res = await httpFetch(server.port, '/stream', { headers: gz });
    expect(res.headers['content-encoding']).toBe('gzip');
    expect(res.headers['transfer-encoding']).toBe('chunked');
    expect(gunzipSync(res.body).toString()).toBe('first chunk;second chunk;last');
  });

  it('keeps ETags working on compressed responses', async () => {
    const first = await httpFetch(server.port, '/body', { headers: gz });
    const again = await httpFetch(server.port, '/body', {
      headers: { ...gz, 'If-None-Match': String(first.headers.etag) },
    });
    expect(again.status).toBe(304);
    expect(again.body.length).toBe(0);
  });
});
