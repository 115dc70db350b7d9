/**
 * The keep-alive load generator with a list of requests, against the
 * benchmark's stand-in page backend on a Unix socket (built files, as the
 * benchmarks run them).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { KeepAliveLoad, runKeepAliveLoad } from '../../bench/lib/keep-alive-load.js';
import { runLoadInChild } from '../../bench/lib/load-in-child.js';
import { PAGE_BYTES, PageBackend } from '../../bench/lib/page-backend.js';
import { ensureBuilt } from '../accountd/built.js';

const KEY = 'k'.repeat(24);

describe('the keep-alive load with a list of requests', () => {
  let dir = '';
  let backend: PageBackend | null = null;
  let socketPath = '';

  beforeAll(async () => {
    ensureBuilt(['bench/lib/load-main.js', 'bench/lib/page-backend-main.js']);
    dir = mkdtempSync(join(tmpdir(), 'vesper-test-load-'));
    socketPath = join(dir, 'page.sock');
    backend = await PageBackend.start({ socketPath, user: 'bench', key: KEY });
  }, 300_000);

  afterAll(async () => {
    await backend?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('sends each request to one of the list, so that every entry is answered', async () => {
    const r = await runLoadInChild({
      target: { path: socketPath },
      connections: 4,
      durationMs: 500,
      requests: [
        { path: '/session/bench//page', headers: { cookie: `vesper_session=${KEY}` } },
        { path: `/session/bench/${KEY}/page` },
        { path: '/session/bench//page?again', headers: { cookie: `vesper_session=${KEY}` } },
      ],
      expectBodyBytes: PAGE_BYTES,
    });
    expect(r.failed + r.badStatus + r.connectErrors).toBe(0);
    expect(r.ok).toBeGreaterThan(30);
    expect(r.answeredRequests).toBe(3);
  });

  it('counts an entry that is never answered as expected as not answered', async () => {
    const r = await runKeepAliveLoad({
      target: { path: socketPath },
      connections: 2,
      durationMs: 300,
      requests: [
        { path: `/session/bench/${KEY}/page` },
        { path: '/session/bench//page', headers: { cookie: `vesper_session=${'j'.repeat(24)}` } },
      ],
      expectBodyBytes: PAGE_BYTES,
    });
    expect(r.ok).toBeGreaterThan(0);
    expect(r.badStatus).toBeGreaterThan(0);
    expect(r.statuses['404']).toBeGreaterThan(0);
    expect(r.answeredRequests).toBe(1);
  });

  it('counts the one path as one request', async () => {
    const r = await runKeepAliveLoad({
      target: { path: socketPath },
      connections: 1,
      durationMs: 100,
      path: `/session/bench/${KEY}/page`,
    });
    expect(r.ok).toBeGreaterThan(0);
    expect(r.answeredRequests).toBe(1);
  });

  it('paces each connection by its think time', async () => {
    // 2 connections, 100 ms think time on average: about 20 requests a second
    // each way, far below what the backend serves at full speed.
    const r = await runKeepAliveLoad({
      target: { path: socketPath },
      connections: 2,
      durationMs: 1000,
      path: `/session/bench/${KEY}/page`,
      thinkMs: 100,
    });
    expect(r.failed + r.badStatus + r.connectErrors).toBe(0);
    expect(r.ok).toBeGreaterThanOrEqual(12);
    expect(r.ok).toBeLessThanOrEqual(30);
  });

  it('refuses a load with neither a path nor requests, or with both', () => {
    const target = { path: socketPath };
    for (const options of [
      { target, connections: 1, durationMs: 1 },
      { target, connections: 1, durationMs: 1, requests: [] },
      { target, connections: 1, durationMs: 1, path: '/', requests: [{ path: '/' }] },
    ]) {
      expect(() => new KeepAliveLoad(options)).toThrow(
        expect.objectContaining({ code: 'VESPER_BENCH_BAD_LOAD' }),
      );
    }
  });
});
