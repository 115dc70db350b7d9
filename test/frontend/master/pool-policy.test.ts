import { describe, expect, it } from 'vitest';
import {
  decidePool,
  INITIAL_POOL_STATE,
  isSpare,
  MAX_GROWTH_STEP,
  maxSpare,
  type PoolChild,
  type PoolLimits,
  type PoolState,
} from '../../../src/frontend/master/pool-policy.js';

const LIMITS: PoolLimits = { min_servers: 2, min_spare: 4, max_servers: 64 };

/** `n` children with the given in-flight count, slots and ids from `first`. */
function children(n: number, inflight: number | null, first = 0): PoolChild[] {
  return Array.from({ length: n }, (_, i) => ({
    id: first + i + 1,
    slot: first + i,
    accepting: true,
    inflight,
    connections: inflight,
  }));
}

describe('isSpare and maxSpare', () => {
  it('counts an accepting child with nothing in flight, or not yet reporting, as spare', () => {
    expect(isSpare({ id: 1, slot: 0, accepting: true, inflight: 0, connections: 5 })).toBe(true);
    expect(isSpare({ id: 1, slot: 0, accepting: true, inflight: null, connections: null })).toBe(
      true,
    );
    expect(isSpare({ id: 1, slot: 0, accepting: true, inflight: 1, connections: 1 })).toBe(false);
    expect(isSpare({ id: 1, slot: 0, accepting: false, inflight: 0, connections: 0 })).toBe(false);
  });

  it('keeps up to twice min_spare spares, and at least one more than min_spare', () => {
    expect(maxSpare(LIMITS)).toBe(8);
    expect(maxSpare({ ...LIMITS, min_spare: 0 })).toBe(1);
    expect(maxSpare({ ...LIMITS, min_spare: 1 })).toBe(2);
  });
});

describe('decidePool', () => {
  it('starts the missing children at once when fewer than min_servers accept', () => {
    const out = decidePool([], LIMITS, INITIAL_POOL_STATE, 0);
    expect(out.decision).toEqual({ action: 'spawn', count: 2, reason: 'minimum' });
    expect(out.state).toBe(INITIAL_POOL_STATE);
  });

  it('replaces a lost child at once even right after a growth step', () => {
    const state: PoolState = { step: 4, lastGrowAt: 1000, lastRetireAt: 0 };
    const out = decidePool(children(1, 5), LIMITS, state, 1001);
    expect(out.decision).toEqual({ action: 'spawn', count: 1, reason: 'minimum' });
  });

  it('does not count a retiring child as accepting, but counts it against max_servers', () => {
    const retiring: PoolChild = { id: 9, slot: 1, accepting: false, inflight: 3, connections: 3 };
    const out = decidePool([...children(1, 0), retiring], LIMITS, INITIAL_POOL_STATE, 0);
    expect(out.decision).toEqual({ action: 'spawn', count: 1, reason: 'minimum' });
    const capped = decidePool(
      [...children(1, 0), retiring],
      { ...LIMITS, max_servers: 2 },
      INITIAL_POOL_STATE,
      0,
    );
    expect(capped.decision).toEqual({ action: 'none' });
  });

  it('grows 1, 2, 4, 8, 16, 32, 32 children a second while every child is busy', () => {
    const limits: PoolLimits = { min_servers: 1, min_spare: 200, max_servers: 1000 };
    let state = INITIAL_POOL_STATE;
    let pool = children(1, 3);
    const steps: number[] = [];
    for (let t = 0; t < 7000; t += 1000) {
      const out = decidePool(pool, limits, state, t);
      if (out.decision.action !== 'spawn') throw new Error(`expected a spawn at ${t}`);
      expect(out.decision.reason).toBe('spare');
      steps.push(out.decision.count);
      // The new children get busy at once: still short.
      pool = [...pool, ...children(out.decision.count, 1, pool.length)];
      state = out.state;
    }
    expect(steps).toEqual([1, 2, 4, 8, 16, 32, 32]);
    expect(state.step).toBe(MAX_GROWTH_STEP);
  });

  it('grows at most once a second', () => {
    const first = decidePool(children(2, 1), LIMITS, INITIAL_POOL_STATE, 5000);
    expect(first.decision).toEqual({ action: 'spawn', count: 1, reason: 'spare' });
    const soon = decidePool(children(3, 1), LIMITS, first.state, 5999);
    expect(soon.decision).toEqual({ action: 'none' });
    expect(soon.state).toBe(first.state);
    const later = decidePool(children(3, 1), LIMITS, first.state, 6000);
    expect(later.decision).toEqual({ action: 'spawn', count: 2, reason: 'spare' });
  });

  it('starts no more children than the shortfall of spares', () => {
    const state: PoolState = { step: 32, lastGrowAt: 0, lastRetireAt: 0 };
    const out = decidePool([...children(3, 0), ...children(2, 1, 3)], LIMITS, state, 1000);
    expect(out.decision).toEqual({ action: 'spawn', count: 1, reason: 'spare' });
  });

  it('counts children that have not reported yet as spare, so a start does not overshoot', () => {
    const out = decidePool(children(4, null), LIMITS, INITIAL_POOL_STATE, 0);
    expect(out.decision).toEqual({ action: 'none' });
  });

  it('never exceeds max_servers', () => {
    const limits: PoolLimits = { min_servers: 2, min_spare: 4, max_servers: 6 };
    const state: PoolState = { step: 32, lastGrowAt: 0, lastRetireAt: 0 };
    const out = decidePool(children(5, 2), limits, state, 2000);
    expect(out.decision).toEqual({ action: 'spawn', count: 1, reason: 'spare' });
    const full = decidePool(children(6, 2), limits, out.state, 9000);
    expect(full.decision).toEqual({ action: 'none' });
    const minimum = decidePool(children(1, 0), { ...limits, min_servers: 9 }, state, 0);
    expect(minimum.decision).toEqual({ action: 'spawn', count: 5, reason: 'minimum' });
  });

  it('resets the growth step to 1 once spares suffice', () => {
    const state: PoolState = { step: 16, lastGrowAt: 0, lastRetireAt: 0 };
    const out = decidePool(children(5, 0), LIMITS, state, 500);
    expect(out.decision).toEqual({ action: 'none' });
    expect(out.state.step).toBe(1);
  });

  it('retires one spare a second while there are more than twice min_spare spares', () => {
    const pool = [...children(10, 0), ...children(2, 4, 10)];
    const first = decidePool(pool, LIMITS, INITIAL_POOL_STATE, 10_000);
    expect(first.decision).toEqual({ action: 'retire', id: 10 });
    expect(first.state.lastRetireAt).toBe(10_000);
    const soon = decidePool(
      pool.filter((c) => c.id !== 10),
      LIMITS,
      first.state,
      10_999,
    );
    expect(soon.decision).toEqual({ action: 'none' });
    const later = decidePool(
      pool.filter((c) => c.id !== 10),
      LIMITS,
      first.state,
      11_000,
    );
    expect(later.decision).toEqual({ action: 'retire', id: 9 });
  });

  it('retires the spare with the fewest open connections first', () => {
    const pool: PoolChild[] = children(9, 0).map((c) => ({
      ...c,
      connections: c.id === 3 ? 0 : 2,
    }));
    const out = decidePool(pool, LIMITS, INITIAL_POOL_STATE, 0);
    expect(out.decision).toEqual({ action: 'retire', id: 3 });
  });

  it('keeps exactly twice min_spare spares without retiring', () => {
    expect(decidePool(children(8, 0), LIMITS, INITIAL_POOL_STATE, 0).decision).toEqual({
      action: 'none',
    });
  });

  it('never retires below min_servers', () => {
    const limits: PoolLimits = { min_servers: 5, min_spare: 1, max_servers: 64 };
    expect(decidePool(children(5, 0), limits, INITIAL_POOL_STATE, 0).decision).toEqual({
      action: 'none',
    });
    expect(decidePool(children(6, 0), limits, INITIAL_POOL_STATE, 0).decision).toEqual({
      action: 'retire',
      id: 6,
    });
  });

  it('does nothing with min_spare 0 and min_servers met', () => {
    const limits: PoolLimits = { min_servers: 1, min_spare: 0, max_servers: 1 };
    expect(decidePool(children(1, 9), limits, INITIAL_POOL_STATE, 0).decision).toEqual({
      action: 'none',
    });
  });
});
