/**
 * The benchmark's building blocks against each other, through the built
 * files (`npx tsc -p tsconfig.build.json` first): the stand-in page backend on
 * a Unix socket, nginx proxying to it, and the keep-alive load generator in
 * its own process and in this one.
 */
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runKeepAliveLoad } from '../../bench/lib/keep-alive-load.js';
import { runLoadInChild } from '../../bench/lib/load-in-child.js';
import { findNginx, nginxConf, NginxProxy } from '../../bench/lib/nginx.js';
import { PAGE_BYTES, PageBackend, pageBody } from '../../bench/lib/page-backend.js';
import { ensureBuilt } from '../accountd/built.js';

const KEY = 'k'.repeat(24);

function get(
  port: number,
  path: string,
  headers: Record<string, string> = {},
): Promise<{ status: number; headers: Record<string, unknown>; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path, headers }, (res) => {
      let body = '';
      res.setEncoding('utf8').on('data', (d: string) => (body += d));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
    });
    req.on('error', reject);
    req.end();
  });
}

describe('benchmark reference targets', () => {
  let dir = '';
  let backend: PageBackend | null = null;
  let nginx: NginxProxy | null = null;
  let socketPath = '';

  beforeAll(async () => {
    ensureBuilt(['bench/lib/load-main.js', 'bench/lib/page-backend-main.js']);
    dir = mkdtempSync(join(tmpdir(), 'vesper-test-bench-'));
    socketPath = join(dir, 'page.sock');
    backend = await PageBackend.start({ socketPath, user: 'bench', key: KEY });
    nginx = await NginxProxy.start({ binary: await findNginx(), workers: 1, upstream: socketPath });
  }, 300_000);

  afterAll(async () => {
    await nginx?.stop();
    await backend?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('builds a 2 KiB page', () => {
    expect(Buffer.byteLength(pageBody('bench'))).toBe(PAGE_BYTES);
  });

  it('serves the page on a 0600 socket, with the key in the cookie or the URL', async () => {
    expect(statSync(socketPath).mode & 0o777).toBe(0o600);
    const viaCookie = await get(nginx!.port, '/session/bench//page', {
      cookie: `vesper_session=${KEY}`,
    });
    expect(viaCookie.status).toBe(200);
    expect(viaCookie.body).toBe(pageBody('bench'));
    const viaUrl = await get(nginx!.port, `/session/bench/${KEY}/page`);
    expect(viaUrl.status).toBe(200);
  });

  it('answers a wrong key as an ended session', async () => {
    const wrong = await get(nginx!.port, '/session/bench//page', {
      cookie: `vesper_session=${'j'.repeat(24)}`,
    });
    expect(wrong.status).toBe(404);
    expect(wrong.headers['x-vesper-session']).toBe('ended');
  });

  it('loads nginx from a child process for a second without a failure', async () => {
    const r = await runLoadInChild({
      target: { host: '127.0.0.1', port: nginx!.port },
      connections: 8,
      durationMs: 1000,
      path: '/session/bench//page',
      headers: { cookie: `vesper_session=${KEY}` },
      expectBodyBytes: PAGE_BYTES,
    });
    expect(r.failed).toBe(0);
    expect(r.badStatus).toBe(0);
    expect(r.connectErrors).toBe(0);
    expect(r.ok).toBeGreaterThan(100);
    expect(r.statuses).toEqual({ '200': r.ok });
    expect(r.p50Ms).toBeGreaterThan(0);
    expect(r.p99Ms).toBeGreaterThanOrEqual(r.p50Ms);
    // durationMs is rounded to the millisecond, rps is computed before that.
    expect(Math.abs(r.rps - (r.ok * 1000) / r.durationMs)).toBeLessThan(r.rps / 1000 + 1);
  });

  it('loads the socket directly and counts unexpected answers as bad', async () => {
    const r = await runKeepAliveLoad({
      target: { path: socketPath },
      connections: 4,
      durationMs: 300,
      path: '/session/bench//page',
      expectBodyBytes: PAGE_BYTES,
    });
    expect(r.ok).toBe(0);
    expect(r.failed).toBe(0);
    expect(r.badStatus).toBeGreaterThan(0);
    expect(Object.keys(r.statuses)).toEqual(['404']);
  });

  it('counts refused connections without counting failed requests', async () => {
    const r = await runKeepAliveLoad({
      target: { path: join(dir, 'nobody-listens.sock') },
      connections: 2,
      durationMs: 100,
      path: '/',
    });
    expect(r.ok).toBe(0);
    expect(r.failed).toBe(0);
    expect(r.connectErrors).toBeGreaterThan(0);
  });

  it('writes an nginx.conf with pooled keep-alive upstream connections', () => {
    const conf = nginxConf({ binary: 'nginx', workers: 2, upstream: '/s.sock' }, 8081, '/p');
    expect(conf).toContain('worker_processes 2;');
    expect(conf).toContain('server unix:/s.sock;\n    keepalive 32;');
    expect(conf).toContain('proxy_http_version 1.1;');
    expect(conf).toContain('proxy_set_header Connection "";');
    expect(conf).toContain('access_log off;');
    expect(conf).toContain('listen 127.0.0.1:8081;');
  });
});
