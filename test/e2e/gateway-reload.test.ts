/**
 * SIGHUP to the built `vesper start` under steady keep-alive load on a real
 * session (DESIGN.md §6): a new generation of workers takes over, the old
 * one drains, a request in flight across the reload completes, and no
 * request fails.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { KeepAliveLoad, type LoadOptions } from '../../bench/lib/keep-alive-load.js';
import { PAGE_BYTES } from '../../bench/lib/page-backend.js';
import { isAlive, type VesperGateway } from '../../bench/lib/vesper-gateway.js';
import {
  CONNECTIONS,
  sleep,
  slowPage,
  startGateway,
  until,
  workers,
} from './gateway-fault-helpers.js';
import { ensureGatewayBuilt } from './gateway-build.js';

describe('SIGHUP to the built gateway under load', () => {
  let gateway: VesperGateway | null = null;
  let options: LoadOptions;

  beforeAll(async () => {
    ensureGatewayBuilt();
    ({ gateway, load: options } = await startGateway());
  }, 200_000);

  afterAll(async () => {
    await gateway?.stop();
  });

  it('reloads on SIGHUP under load without failing a request', async () => {
    const gw = gateway!;
    const before = workers(gw);
    const load = new KeepAliveLoad(options);
    load.start();
    await sleep(500);
    // A request in flight on the old generation when the reload starts.
    const slow = slowPage(gw.port, options, 1000);
    await sleep(200);
    gw.signal('SIGHUP');
    const renewed = await until(() => {
      const now = workers(gw);
      return now.length === 2 && now.every((p) => !before.includes(p));
    }, 10_000);
    await sleep(500);
    const r = await load.stop();
    expect(await slow).toEqual({ status: 200, bytes: PAGE_BYTES });
    expect(renewed).toBe(true);
    for (const p of before) expect(isAlive(p)).toBe(false);
    expect(r.errors, gw.output.slice(-4000)).toEqual({});
    expect([r.failed, r.badStatus, r.connectErrors]).toEqual([0, 0, 0]);
    expect(r.ok).toBeGreaterThan(CONNECTIONS);
  });
});
