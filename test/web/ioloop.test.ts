import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { createLogger, type Logger } from '../../src/shared/log/index.js';
import { IOLoop } from '../../src/web/ioloop.js';
import { PeriodicCallback } from '../../src/web/periodic-callback.js';
import { TimeoutError } from '../../src/web/timeout-error.js';

/** A logger whose lines land in `lines`, to assert that failures are reported. */
function captureLog(): { log: Logger; lines: { msg: string; err?: { message: string } }[] } {
  const lines: { msg: string; err?: { message: string } }[] = [];
  const log = createLogger({
    name: 'test',
    stream: { write: (line: string) => lines.push(JSON.parse(line) as (typeof lines)[number]) },
  });
  return { log, lines };
}

describe('IOLoop', () => {
  const loop = IOLoop.current();
  let previousLog: Logger;
  beforeEach(() => {
    previousLog = loop.log;
  });
  afterEach(() => {
    loop.log = previousLog;
    vi.useRealTimers();
  });

  it('is a singleton', () => {
    expect(IOLoop.current()).toBe(loop);
  });

  it('tells monotonic time in seconds', async () => {
    const t0 = loop.time();
    await new Promise((r) => setTimeout(r, 30));
    const elapsed = loop.time() - t0;
    expect(elapsed).toBeGreaterThanOrEqual(0.025);
    expect(elapsed).toBeLessThan(1);
  });

  it('runs addCallback after the current code, with its arguments', async () => {
    const order: string[] = [];
    const done = new Promise<void>((resolve) =>
      loop.addCallback(
        (a: string, b: number) => {
          order.push(`cb ${a} ${b}`);
          resolve();
        },
        'x',
        2,
      ),
    );
    order.push('sync');
    await done;
    expect(order).toEqual(['sync', 'cb x 2']);
  });

  it('runs callLater and callAt in deadline order and cancels with removeTimeout', async () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'setImmediate', 'performance'] });
    const ran: string[] = [];
    const now = loop.time();
    loop.callLater(0.2, () => ran.push('later 0.2'));
    loop.callAt(now + 0.1, () => ran.push('at +0.1'));
    const cancelled = loop.callLater(0.15, () => ran.push('cancelled'));
    expect(cancelled.pending).toBe(true);
    loop.removeTimeout(cancelled);
    expect(cancelled.pending).toBe(false);
    await vi.advanceTimersByTimeAsync(99);
    expect(ran).toEqual([]);
    await vi.advanceTimersByTimeAsync(1);
    expect(ran).toEqual(['at +0.1']);
    await vi.advanceTimersByTimeAsync(100);
    expect(ran).toEqual(['at +0.1', 'later 0.2']);
    loop.removeTimeout(cancelled);
  });

  it('logs a failing callback instead of throwing it', async () => {
    const { log, lines } = captureLog();
    loop.log = log;
    await new Promise<void>((resolve) => {
      loop.addCallback(() => {
        throw new Error('sync boom');
      });
      loop.spawnCallback(async () => {
        await Promise.resolve();
        throw new Error('async boom');
      });
      loop.addCallback(() => setImmediate(resolve));
    });
    expect(lines.map((l) => l.err?.message)).toEqual(['sync boom', 'async boom']);
    expect(lines[0]!.msg).toBe('A callback scheduled on the IOLoop failed.');
  });

  it('resolves runSync with the result of an async function', async () => {
    expect(await loop.runSync(() => Promise.resolve(42), 1)).toBe(42);
    expect(await loop.runSync(() => 'sync')).toBe('sync');
  });

  it('rejects runSync with TimeoutError after the timeout', async () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
    const result = loop.runSync(() => new Promise(() => undefined), 0.5).catch((e: unknown) => e);
    await vi.advanceTimersByTimeAsync(500);
    const err = await result;
    expect(err).toBeInstanceOf(TimeoutError);
    expect((err as TimeoutError).code).toBe('VESPER_WEB_TIMEOUT');
  });

  it('passes a rejection of runSync through', async () => {
    await expect(loop.runSync(() => Promise.reject(new Error('inner')), 1)).rejects.toThrow(
      'inner',
    );
  });

  it('calls addFuture callbacks with the settled promise', async () => {
    let seen: Promise<number> | undefined;
    await new Promise<void>((resolve) =>
      loop.addFuture(Promise.resolve(7), (p) => {
        seen = p;
        resolve();
      }),
    );
    expect(await seen!).toBe(7);
  });
});

describe('PeriodicCallback', () => {
  const loop = IOLoop.current();
  beforeEach(() => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'setImmediate', 'performance'] });
  });
  afterEach(() => {
    vi.restoreAllMocks();
    vi.useRealTimers();
  });

  it('runs every interval from start, first run one interval later', async () => {
    const t0 = loop.time();
    const at: number[] = [];
    const pc = new PeriodicCallback(() => at.push(Math.round((loop.time() - t0) * 1000)), 100);
    pc.start();
    expect(pc.isRunning()).toBe(true);
    await vi.advanceTimersByTimeAsync(350);
    pc.stop();
    expect(pc.isRunning()).toBe(false);
    await vi.advanceTimersByTimeAsync(500);
    expect(at).toEqual([100, 200, 300]);
  });

  it('skips the slots that pass while an async run is still running', async () => {
    const t0 = loop.time();
    const starts: number[] = [];
    let concurrent = 0;
    let maxConcurrent = 0;
    const pc = new PeriodicCallback(async () => {
      starts.push(Math.round((loop.time() - t0) * 1000));
      concurrent++;
      maxConcurrent = Math.max(maxConcurrent, concurrent);
      await new Promise((r) => setTimeout(r, 250));
      concurrent--;
    }, 100);
    pc.start();
    await vi.advanceTimersByTimeAsync(1000);
    pc.stop();
    expect(starts).toEqual([100, 400, 700, 1000]);
    expect(maxConcurrent).toBe(1);
  });

  it('keeps running after the callback throws, and logs it', async () => {
    const lines: string[] = [];
    const previous = loop.log;
    loop.log = createLogger({ name: 't', stream: { write: (l: string) => lines.push(l) } });
    let runs = 0;
    const pc = new PeriodicCallback(() => {
      runs++;
      throw new Error('tick failed');
    }, 50);
    pc.start();
    await vi.advanceTimersByTimeAsync(160);
    pc.stop();
    loop.log = previous;
    expect(runs).toBe(3);
    expect(lines).toHaveLength(3);
    expect(lines[0]).toContain('tick failed');
  });

  it.each([
    [0, 75],
    [0.999999, 125],
  ])('keeps jittered intervals within ±jitter/2 (random %f → %i ms)', async (random, expected) => {
    vi.spyOn(Math, 'random').mockReturnValue(random);
    const t0 = loop.time();
    const at: number[] = [];
    const pc = new PeriodicCallback(() => at.push((loop.time() - t0) * 1000), 100, {
      jitter: 0.5,
    });
    pc.start();
    await vi.advanceTimersByTimeAsync(expected * 3 + 1);
    pc.stop();
    expect(at).toHaveLength(3);
    // Fake timers fire on whole milliseconds, so allow one.
    expect(Math.abs(at[0]! - expected)).toBeLessThanOrEqual(1);
    expect(Math.abs(at[2]! - at[1]! - expected)).toBeLessThanOrEqual(1);
  });

  it('with real randomness, every jittered interval stays within its bounds', async () => {
    const at: number[] = [];
    const pc = new PeriodicCallback(() => at.push(loop.time() * 1000), 100, { jitter: 0.2 });
    pc.start();
    await vi.advanceTimersByTimeAsync(5000);
    pc.stop();
    expect(at.length).toBeGreaterThan(40);
    for (let i = 1; i < at.length; i++) {
      const gap = at[i]! - at[i - 1]!;
      expect(gap).toBeGreaterThanOrEqual(89);
      expect(gap).toBeLessThanOrEqual(111);
    }
  });

  it('refuses a non-positive interval or a negative jitter', () => {
    expect(() => new PeriodicCallback(() => undefined, 0)).toThrow(
      expect.objectContaining({ code: 'VESPER_WEB_BAD_OPTION' }),
    );
    expect(() => new PeriodicCallback(() => undefined, 10, { jitter: -1 })).toThrow(
      expect.objectContaining({ code: 'VESPER_WEB_BAD_OPTION' }),
    );
  });

  it('does not double-schedule when restarted during an async run', async () => {
    const t0 = loop.time();
    const starts: number[] = [];
    const pc = new PeriodicCallback(async () => {
      starts.push(Math.round((loop.time() - t0) * 1000));
      await new Promise((r) => setTimeout(r, 30));
    }, 100);
    pc.start();
    await vi.advanceTimersByTimeAsync(110);
    pc.stop();
    pc.start();
    await vi.advanceTimersByTimeAsync(390);
    pc.stop();
    expect(starts).toEqual([100, 210, 310, 410]);
  });
});
