import { mkdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startWorker } from '../../../src/frontend/worker/index.js';
import { silentLogger } from '../../../src/shared/log/index.js';
import { httpExchange, rawExchange, removeDir, statuses, tempDir, testConfig } from './helpers.js';

const dir = tempDir();
const root = join(dir, 'static');
const css = `body { color: red; }\n${'/* padding */\n'.repeat(60)}`;
let port = 0;
let denyPort = 0;
const closers: (() => Promise<void>)[] = [];

async function start(deny: string[]): Promise<number> {
  const config = testConfig(dir, (c) => {
    c.frontend.gzip_deny_nets = deny;
    c.frontend.static_expire = 7 * 24 * 3600 * 1000;
  });
  const w = await startWorker(config, {
    generation: 1,
    foreground: true,
    log: silentLogger,
    staticDir: root,
    channel: { send: () => undefined, onMessage: () => undefined },
  });
  closers.push(() => w.close(200));
  return w.worker.addresses()[0]!.port;
}

beforeAll(async () => {
  mkdirSync(join(root, 'icons'), { recursive: true });
  mkdirSync(join(root, 'css'), { recursive: true });
  writeFileSync(join(root, 'css', 'site.css'), css);
  writeFileSync(join(root, 'icons', 'a.svg'), '<svg xmlns="http://www.w3.org/2000/svg"/>');
  writeFileSync(join(dir, 'secret.txt'), 'top secret');
  writeFileSync(join(root, '.hidden'), 'hidden');
  symlinkSync(join(dir, 'secret.txt'), join(root, 'link.txt'));
  port = await start([]);
  denyPort = await start(['127.0.0.0/8']);
});

afterAll(async () => {
  for (const close of closers) await close();
  removeDir(dir);
});

describe('static files', () => {
  it('serves a file with a strong ETag, 7-day Cache-Control and Expires', async () => {
    const r = await httpExchange(port, 'GET', '/static/css/site.css');
    expect(r.status).toBe(200);
    expect(r.body).toBe(css);
    expect(r.headers['content-type']).toEqual(['text/css; charset=utf-8']);
    expect(r.headers['cache-control']).toEqual(['public, max-age=604800']);
    const expires = Date.parse(r.headers['expires']![0]!);
    expect(Math.abs(expires - (Date.now() + 604_800_000))).toBeLessThan(5000);
    expect(r.headers['etag']![0]).toMatch(/^"[A-Za-z0-9_-]{27}"$/);
  });

  it('answers 304 to a matching If-None-Match, with no body', async () => {
    const first = await httpExchange(port, 'GET', '/icons/a.svg');
    const etag = first.headers['etag']![0]!;
    const r = await httpExchange(port, 'GET', '/icons/a.svg', {
      'If-None-Match': `"other", W/${etag}`,
    });
    expect(r.status).toBe(304);
    expect(r.body).toBe('');
    expect(r.headers['etag']).toEqual([etag]);
  });

  it('gzips text for clients in the allowed nets that accept it, and not for denied nets', async () => {
    const r = await rawExchange(
      port,
      'GET /static/css/site.css HTTP/1.1\r\nHost: a\r\nAccept-Encoding: br, gzip\r\nConnection: close\r\n\r\n',
    );
    const raw = Buffer.from(r.text, 'latin1');
    const head = r.text.slice(0, r.text.indexOf('\r\n\r\n'));
    expect(head).toContain('Content-Encoding: gzip');
    expect(head).toContain('Vary: Accept-Encoding');
    expect(gunzipSync(raw.subarray(head.length + 4)).toString()).toBe(css);
    const q0 = await httpExchange(port, 'GET', '/static/css/site.css', {
      'Accept-Encoding': 'gzip;q=0',
    });
    expect(q0.headers['content-encoding']).toBeUndefined();
    const denied = await httpExchange(denyPort, 'GET', '/static/css/site.css', {
      'Accept-Encoding': 'gzip',
    });
    expect(denied.headers['content-encoding']).toBeUndefined();
    expect(denied.body).toBe(css);
  });

  it('refuses traversal, hidden files and symlinks out of the folder', async () => {
    const dot = await rawExchange(port, 'GET /static/../secret.txt HTTP/1.1\r\nHost: a\r\n\r\n');
    expect(statuses(dot.text)).toEqual([400]);
    const encoded = await rawExchange(
      port,
      'GET /static/%2e%2e/secret.txt HTTP/1.1\r\nHost: a\r\n\r\n',
    );
    expect(statuses(encoded.text)).toEqual([400]);
    for (const path of [
      '/static/..%2fsecret.txt',
      '/static/.hidden',
      '/static/link.txt',
      '/static/css',
      '/static/',
    ]) {
      const r = await httpExchange(port, 'GET', path);
      expect(r.status).toBe(404);
      expect(r.body).not.toContain('top secret');
    }
  });

  it('answers HEAD without a body and other methods with 405', async () => {
    const head = await rawExchange(
      port,
      'HEAD /icons/a.svg HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n',
    );
    expect(head.text).toMatch(/Content-Length: 41\r\n/);
    expect(head.text.endsWith('\r\n\r\n')).toBe(true);
    const post = await httpExchange(port, 'POST', '/icons/a.svg');
    expect(post.status).toBe(405);
    expect(post.headers['allow']).toEqual(['GET, HEAD']);
  });

  it('answers /_health with 200 ok', async () => {
    const r = await httpExchange(port, 'GET', '/_health');
    expect([r.status, r.body]).toEqual([200, 'ok']);
  });
});
