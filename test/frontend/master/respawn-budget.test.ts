import { describe, expect, it } from 'vitest';
import { RespawnBudget } from '../../../src/frontend/master/respawn-budget.js';

describe('RespawnBudget', () => {
  it('lets anything start before the first crash', () => {
    const budget = new RespawnBudget();
    expect(budget.mayStart(0)).toBe(true);
    expect(budget.retryAt).toBe(0);
  });

  it('replaces the first crash in a quiet window at once', () => {
    const budget = new RespawnBudget();
    expect(budget.recordCrash(1000)).toEqual({ retryAt: 1000, crashLoop: false, recentCrashes: 1 });
    expect(budget.mayStart(1000)).toBe(true);
  });

  it('doubles the delay from the base with each further crash in the window, up to the maximum', () => {
    const budget = new RespawnBudget({ baseDelayMs: 100, maxDelayMs: 1000, loopCrashes: 100 });
    const delays: number[] = [];
    for (let i = 0; i < 7; i++) {
      const now = i * 10;
      delays.push(budget.recordCrash(now).retryAt - now);
    }
    expect(delays).toEqual([0, 100, 200, 400, 800, 1000, 1000]);
    expect(budget.mayStart(60 + 999)).toBe(false);
    expect(budget.mayStart(60 + 1000)).toBe(true);
  });

  it('forgets crashes older than the window', () => {
    const budget = new RespawnBudget({ windowMs: 1000 });
    budget.recordCrash(0);
    expect(budget.recordCrash(500).recentCrashes).toBe(2);
    const later = budget.recordCrash(1600);
    expect(later).toEqual({ retryAt: 1600, crashLoop: false, recentCrashes: 1 });
  });

  it('pauses every respawn after a crash loop, then counts afresh', () => {
    const budget = new RespawnBudget({ loopCrashes: 3, loopPauseMs: 5000, windowMs: 10_000 });
    budget.recordCrash(0);
    budget.recordCrash(1);
    const loop = budget.recordCrash(2);
    expect(loop).toEqual({ retryAt: 5002, crashLoop: true, recentCrashes: 3 });
    expect(budget.mayStart(5001)).toBe(false);
    expect(budget.mayStart(5002)).toBe(true);
    expect(budget.recordCrash(6000)).toEqual({ retryAt: 6000, crashLoop: false, recentCrashes: 1 });
  });

  it('never moves the retry time earlier', () => {
    const budget = new RespawnBudget({ baseDelayMs: 1000, windowMs: 100, loopCrashes: 100 });
    budget.recordCrash(0);
    expect(budget.recordCrash(10).retryAt).toBe(1010);
    // Outside the window the delay would be 0, but the earlier back-off still holds.
    expect(budget.recordCrash(500).retryAt).toBe(1010);
  });
});
