/**
 * The frontend worker's hardening through the built `vesper start` (master,
 * one worker, accountd, the session server and alice's session process): the
 * icons with their cache headers and 304, every request-smuggling shape
 * answered 400 and closed with nothing pipelined behind it answered, the
 * request-line, header and body limits, slowloris held off by the header
 * deadline while a normal client is served at once, and 1,500 WebSocket
 * connect/close and refused cycles leaving the worker's descriptor count
 * where it started. The same behaviours are tested in-process in
 * test/frontend/worker/.
 */
import type { Socket } from 'node:net';
import { connect } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { login, VesperGateway, type LoginResult } from '../../bench/lib/vesper-gateway.js';
import { Browser } from './browser.js';
import { ensureGatewayBuilt } from './gateway-build.js';
import { openSocket } from './live-socket.js';
import { sleep, workers } from './gateway-fault-helpers.js';
import {
  fdCount,
  rawExchange,
  settleFds,
  statuses,
  steadyFds,
  wsCycle,
} from './hardening-helpers.js';

/** `frontend.timeout.header` of the gateway under test (ms). */
const HEADER_DEADLINE_MS = 2000;

describe('the built gateway hardening', () => {
  let gateway: VesperGateway | null = null;
  let port = 0;
  let worker = 0;
  let alice: LoginResult;
  /** `/session/alice/<key>`. */
  let S = '';

  beforeAll(async () => {
    ensureGatewayBuilt();
    gateway = await VesperGateway.start({
      // One worker, so that every connection lands on the process whose descriptors are counted.
      workers: 1,
      logLevel: 'warn',
      options: [
        `frontend.timeout.header=${HEADER_DEADLINE_MS}ms`,
        'frontend.limits.request_line=1K',
        'frontend.limits.headers=2K',
        'frontend.limits.body=4K',
      ],
    });
    port = gateway.port;
    const pids = workers(gateway);
    expect(pids).toHaveLength(1);
    worker = pids[0]!;
    alice = await login(port, 'alice', 'vesper-demo-1');
    S = `/session/alice/${alice.key}`;
  }, 200_000);

  afterAll(async () => {
    await gateway?.stop();
  });

  describe('the icons', () => {
    it('serves /icons/vesper.svg with an ETag and a 7-day Cache-Control and Expires', async () => {
      const r = await new Browser(port).get('/icons/vesper.svg');
      expect(r.status).toBe(200);
      expect(r.headers['content-type']).toMatch(/^image\/svg\+xml/);
      expect(r.headers.etag).toMatch(/^"[^"]+"$/);
      expect(r.headers['cache-control']).toBe('public, max-age=604800');
      const expires = Date.parse(String(r.headers.expires));
      const week = 7 * 24 * 3600 * 1000;
      expect(Math.abs(expires - (Date.now() + week))).toBeLessThan(60_000);
      expect(r.body).toContain('<svg');
    });

    it('answers a matching If-None-Match with 304 and no body', async () => {
      const browser = new Browser(port);
      const first = await browser.get('/icons/vesper.svg');
      const etag = String(first.headers.etag);
      const r = await browser.request('GET', '/icons/vesper.svg', null, {
        'if-none-match': etag,
      });
      expect(r.status).toBe(304);
      expect(r.headers.etag).toBe(etag);
      expect(r.body).toBe('');
      // On the wire too: the head and nothing after it.
      const raw = await rawExchange(
        port,
        `GET /icons/vesper.svg HTTP/1.1\r\nHost: a\r\nIf-None-Match: ${etag}\r\nConnection: close\r\n\r\n`,
      );
      expect(statuses(raw.text)).toEqual([304]);
      expect(raw.text.endsWith('\r\n\r\n')).toBe(true);
      expect(raw.closed).toBe(true);
    });
  });

  describe('request smuggling', () => {
    // Built lazily: the session key is known only after login.
    const shapes: [string, () => string][] = [
      [
        'Content-Length with Transfer-Encoding',
        () =>
          `POST ${S}/home HTTP/1.1\r\nHost: a\r\nContent-Length: 4\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n`,
      ],
      [
        'a duplicate Content-Length',
        () =>
          `POST ${S}/home HTTP/1.1\r\nHost: a\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\nab`,
      ],
      [
        'an invalid Content-Length',
        () => `POST ${S}/home HTTP/1.1\r\nHost: a\r\nContent-Length: 1x\r\n\r\na`,
      ],
      [
        'a Transfer-Encoding other than chunked',
        () =>
          `POST ${S}/home HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked, identity\r\n\r\n0\r\n\r\n`,
      ],
      ['a duplicate Host', () => `GET ${S}/home HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n`],
      [
        'a header name with _',
        () => `GET ${S}/home HTTP/1.1\r\nHost: a\r\nX_Vesper_Client_Ip: 1.2.3.4\r\n\r\n`,
      ],
      ['obs-fold', () => `GET ${S}/home HTTP/1.1\r\nHost: a\r\nX: a\r\n\tb\r\n\r\n`],
      ['a bare CR', () => `GET ${S}/home HTTP/1.1\r\nHost: a\rX: y\r\n\r\n`],
      ['a NUL', () => `GET ${S}/home HTTP/1.1\r\nHost: a\r\nX: \x00\r\n\r\n`],
      [
        'an absolute-form target',
        () => `GET http://127.0.0.1:${port}${S}/home HTTP/1.1\r\nHost: a\r\n\r\n`,
      ],
      ['a // target', () => `GET /${S}/home HTTP/1.1\r\nHost: a\r\n\r\n`],
      ['dot segments', () => `GET /session/alice/x/../../login HTTP/1.1\r\nHost: a\r\n\r\n`],
      ['percent-encoded dot segments', () => `GET ${S}/%2e%2e/x HTTP/1.1\r\nHost: a\r\n\r\n`],
      [
        'an encoded slash in the user part',
        () => `GET /session/al%2Fice/${alice.key}/home HTTP/1.1\r\nHost: a\r\n\r\n`,
      ],
      [
        'a bad chunk size',
        () =>
          `POST ${S}/home HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\nzz\r\n`,
      ],
    ];

    it.each(shapes)(
      'answers %s with 400 and closes, never answering what is pipelined behind it',
      async (_name, request) => {
        const pipelined = 'GET /_health HTTP/1.1\r\nHost: a\r\n\r\n';
        const r = await rawExchange(port, request() + pipelined);
        expect(r.text).toMatch(/^HTTP\/1\.1 400 /);
        expect(statuses(r.text)).toEqual([400]);
        expect(r.text).toContain('\r\nConnection: close\r\n');
        expect(r.closed).toBe(true);
      },
    );

    it('still serves the session after every shape was refused', async () => {
      const r = await rawExchange(
        port,
        `GET ${S}/home HTTP/1.1\r\nHost: a\r\nCookie: ${alice.cookie}\r\nConnection: close\r\n\r\n`,
      );
      expect(statuses(r.text)).toEqual([200]);
    });
  });

  describe('the limits', () => {
    it('answers a request target over frontend.limits.request_line with 414 and closes', async () => {
      const r = await rawExchange(port, `GET /${'a'.repeat(1100)} HTTP/1.1\r\nHost: a\r\n\r\n`);
      expect(r.text).toMatch(/^HTTP\/1\.1 414 /);
      expect([statuses(r.text), r.closed]).toEqual([[414], true]);
    });

    it('answers headers over frontend.limits.headers with 431 and closes', async () => {
      const r = await rawExchange(
        port,
        `GET /login HTTP/1.1\r\nHost: a\r\nX: ${'b'.repeat(2100)}\r\n\r\n`,
      );
      expect(r.text).toMatch(/^HTTP\/1\.1 431 /);
      expect([statuses(r.text), r.closed]).toEqual([[431], true]);
    });

    it('answers a Content-Length over frontend.limits.body on POST /login with 413 before reading it', async () => {
      const r = await rawExchange(
        port,
        'POST /login HTTP/1.1\r\nHost: a\r\nContent-Type: application/x-www-form-urlencoded\r\n' +
          'Content-Length: 5000\r\n\r\n',
      );
      expect(r.text).toMatch(/^HTTP\/1\.1 413 /);
      expect([statuses(r.text), r.closed]).toEqual([[413], true]);
      // Answered at once, not after waiting for the body.
      expect(r.ms).toBeLessThan(1000);
    });
  });

  describe('slowloris', () => {
    it('serves a normal client within a second while 200 connections trickle a head, and cuts those at the header deadline', async () => {
      const slow: Socket[] = [];
      const closedAfter: number[] = [];
      let drip: NodeJS.Timeout | null = null;
      try {
        for (let i = 0; i < 200; i++) {
          const opened = Date.now();
          const s = connect(port, '127.0.0.1');
          s.on('error', () => undefined);
          s.on('close', () => closedAfter.push(Date.now() - opened));
          s.write('GET /login HTTP/1.1\r\n');
          slow.push(s);
        }
        // A few bytes at a time, never the blank line that ends the head.
        drip = setInterval(() => {
          for (const s of slow) if (!s.destroyed) s.write('X-A: b\r\n');
        }, 200);
        await sleep(300);
        // All 200 are held by the one worker (its descriptors count them).
        expect(fdCount(worker)).toBeGreaterThanOrEqual(200);
        const t = Date.now();
        const r = await rawExchange(
          port,
          'GET /login HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n',
        );
        expect(statuses(r.text)).toEqual([200]);
        expect(Date.now() - t).toBeLessThan(1000);
        // The trickling connections were all still open while it was served.
        expect(closedAfter.length).toBe(0);
        const deadline = Date.now() + HEADER_DEADLINE_MS + 2000;
        while (closedAfter.length < slow.length && Date.now() < deadline) await sleep(20);
        // Every one closed by the server (the test destroys none before this),
        // none before the deadline and none later than 2 s after it.
        expect(closedAfter.length).toBe(200);
        expect(Math.min(...closedAfter)).toBeGreaterThanOrEqual(HEADER_DEADLINE_MS - 100);
        expect(Math.max(...closedAfter)).toBeLessThan(HEADER_DEADLINE_MS + 2000);
      } finally {
        if (drip !== null) clearInterval(drip);
        for (const s of slow) s.destroy();
      }
    }, 15_000);
  });

  describe('WebSocket cycles', () => {
    /** `n` one-time WebSocket URLs from alice's session, fetched one after the other. */
    async function tokens(n: number): Promise<string[]> {
      const browser = new Browser(port);
      const urls: string[] = [];
      for (let i = 0; i < n; i++) {
        const r = await browser.request('GET', `${S}/token`, null, { cookie: alice.cookie });
        expect(r.status).toBe(200);
        urls.push((JSON.parse(r.body) as { url: string }).url);
      }
      return urls;
    }

    it('leaves the worker descriptor count where it started after 500 connect/close and 1,000 refused cycles', async () => {
      // Warm up both paths once, so that nothing opened lazily counts as a leak.
      const [first] = await tokens(1);
      expect(await wsCycle(port, first!, alice.cookie)).toBe(101);
      expect(await wsCycle(port, `${S}/ws`, alice.cookie)).toBe(401);
      const baseline = await steadyFds(worker, 3000);
      expect(baseline).toBeGreaterThan(0);

      // The count measures the right process: 25 open WebSockets hold a client
      // and a session connection each in the worker.
      const held = await Promise.all(
        (await tokens(25)).map((u) => openSocket(port, u, alice.cookie)),
      );
      try {
        expect(fdCount(worker)).toBeGreaterThanOrEqual(baseline + 50);
      } finally {
        for (const h of held) h.ws.close(1000);
        await Promise.all(held.map((h) => h.closed));
      }

      const BATCH = 25;
      for (let done = 0; done < 500; done += BATCH) {
        const urls = await tokens(BATCH);
        const answers = await Promise.all(urls.map((u) => wsCycle(port, u, alice.cookie)));
        expect(answers).toEqual(Array<number>(BATCH).fill(101));
      }
      for (let done = 0; done < 1000; done += BATCH) {
        const answers = await Promise.all(
          Array.from({ length: BATCH }, (_, i) =>
            i % 2 === 0
              ? // No token: refused by the session, relayed by the worker.
                wsCycle(port, `${S}/ws`, alice.cookie)
              : // A session that does not exist: refused by the worker itself.
                wsCycle(port, '/session/alice/no-such-key/ws', 'vesper_session=no-such-key'),
          ),
        );
        expect(answers).toEqual(Array.from({ length: BATCH }, (_, i) => (i % 2 === 0 ? 401 : 404)));
      }
      expect(await settleFds(worker, baseline, 3000)).toBe(baseline);
      expect(fdCount(worker)).toBe(baseline);
    }, 60_000);
  });
});
