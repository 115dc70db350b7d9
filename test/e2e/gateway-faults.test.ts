/**
 * The faults of DESIGN.md §6 against the built `vesper start` under steady
 * keep-alive load on a real session (the benchmark's session application, a
 * 2 KiB page): a worker SIGKILLed (replaced within a second, only the
 * requests in flight on it fail) and SIGTERM
 * (drains, exits 0, leaves no worker, session server or accountd behind,
 * while the detached session process lives on and is served again by the
 * next `vesper start` on the same var/). SIGHUP is in gateway-reload.test.ts.
 */
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  KeepAliveLoad,
  runKeepAliveLoad,
  type LoadOptions,
} from '../../bench/lib/keep-alive-load.js';
import { PAGE_BYTES } from '../../bench/lib/page-backend.js';
import { isAlive, VesperGateway } from '../../bench/lib/vesper-gateway.js';
import { sessionSocketPath } from '../../src/session/session-identity.js';
import {
  APP,
  cmdline,
  CONNECTIONS,
  connectionsOf,
  initStatus,
  sleep,
  slowPage,
  startGateway,
  until,
  workers,
} from './gateway-fault-helpers.js';
import { ensureGatewayBuilt } from './gateway-build.js';

describe('the built gateway under load', () => {
  let gateway: VesperGateway | null = null;
  let options: LoadOptions;

  beforeAll(async () => {
    ensureGatewayBuilt();
    ({ gateway, load: options } = await startGateway());
  }, 200_000);

  afterAll(async () => {
    await gateway?.stop();
  });

  it('serves the session page to every connection', async () => {
    const load = new KeepAliveLoad(options);
    load.start();
    await sleep(500);
    const r = await load.stop();
    expect(r.ok).toBeGreaterThan(CONNECTIONS);
    expect([r.failed, r.badStatus, r.connectErrors]).toEqual([0, 0, 0]);
  });

  it('replaces a SIGKILLed worker within a second, failing only the requests in flight on it', async () => {
    const gw = gateway!;
    expect(workers(gw)).toHaveLength(2);
    const load = new KeepAliveLoad(options);
    load.start();
    await sleep(700);
    const [victim, survivor] = workers(gw) as [number, number];
    const onVictim = connectionsOf(victim, gw.port);
    const killedAt = Date.now();
    process.kill(victim, 'SIGKILL');
    const replaced = await until(() => {
      const now = workers(gw);
      return now.length === 2 && !now.includes(victim);
    }, 3000);
    const replacedInMs = Date.now() - killedAt;
    // Let the load settle on the new worker, then check nothing else failed.
    await sleep(1000);
    const settled = load.progress();
    await sleep(1000);
    const r = await load.stop();
    const why = `workers before ${victim}, ${survivor}; now ${workers(gw).join(', ')}\n${gw.output.slice(-3000)}`;
    expect(replaced, why).toBe(true);
    expect(replacedInMs, why).toBeLessThan(1000);
    expect(workers(gw)).toContain(survivor);
    // The round-robin gave the victim some of the connections; each has at
    // most one request in flight, and only those may fail.
    expect(onVictim).toBeGreaterThan(0);
    expect(r.failed).toBeLessThanOrEqual(onVictim);
    expect(r.badStatus).toBe(0);
    expect(r.connectErrors).toBe(0);
    expect(r.failed).toBe(settled.failed);
    expect(r.ok).toBeGreaterThan(settled.ok);
  });
});

describe('SIGTERM to the built gateway, then a restart on the same var/', () => {
  let dir = '';
  let first: VesperGateway | null = null;
  let second: VesperGateway | null = null;
  let options: LoadOptions;
  let key = '';

  beforeAll(async () => {
    ensureGatewayBuilt();
    dir = mkdtempSync(join(tmpdir(), 'vesper-e2e-stop-'));
    ({ gateway: first, load: options, key } = await startGateway(dir));
  }, 200_000);

  afterAll(async () => {
    await second?.stop();
    // Also ends the session process, which outlives the first master by design.
    await first?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('drains the requests in flight, exits 0, leaves no worker, session server or accountd, and leaves the session running', async () => {
    const gw = first!;
    const status = await initStatus(gw.socketDir);
    const alice = status.sessions.filter((s) => s.user === 'alice');
    expect(alice).toHaveLength(1);
    const sessionPid = alice[0]!.pid;
    const children = gw.processes();
    expect(children).toContain(sessionPid);
    const services = children.filter((p) => !cmdline(p).includes('session/process/main'));
    expect(workers(gw)).toHaveLength(2);
    expect(services.length).toBeGreaterThanOrEqual(4); // 2 workers, the session server, accountd
    const load = new KeepAliveLoad(options);
    load.start();
    await sleep(500);
    // A slow answer holds the session's queue: every load request waits behind it.
    const slow = slowPage(gw.port, options, 1500);
    await sleep(200);
    gw.signal('SIGTERM');
    // No new requests from here on: the ones in flight must be answered in full.
    const r = await load.stop();
    const slowAnswer = await slow;
    const exit = await Promise.race([gw.exited, sleep(20_000).then(() => null)]);
    expect(exit).toEqual({ code: 0, signal: null });
    expect(slowAnswer).toEqual({ status: 200, bytes: PAGE_BYTES });
    expect(r.inFlightAtStop).toBeGreaterThan(0);
    expect(r.completedAfterStop).toBe(r.inFlightAtStop);
    expect(r.failed).toBe(0);
    expect(r.badStatus).toBe(0);
    for (const p of services) expect(isAlive(p), cmdline(p)).toBe(false);
    expect(existsSync(join(dir, 'var', 'vesper.pid'))).toBe(false);
    // docs/operations.md: session processes are detached and survive to be adopted again.
    expect(isAlive(sessionPid)).toBe(true);
    const direct = await runKeepAliveLoad({
      ...options,
      target: {
        path: sessionSocketPath(gw.socketDir, 'alice', key),
      },
      connections: 1,
      durationMs: 200,
    });
    expect(direct.ok).toBeGreaterThan(0);
    expect(direct.failed + direct.badStatus + direct.connectErrors).toBe(0);
  });

  it('serves the surviving session through a new gateway started on the same var/', async () => {
    second = await VesperGateway.start({
      workers: 2,
      options: [`session.app=${APP}`],
      dir,
      port: first!.port,
    });
    const status = await initStatus(second.socketDir);
    expect(status.sessions.map((s) => s.user)).toEqual(['alice']);
    const r = await runKeepAliveLoad({ ...options, connections: 2, durationMs: 300 });
    expect(r.ok).toBeGreaterThan(0);
    expect(r.failed + r.badStatus + r.connectErrors).toBe(0);
  });
});
