import { describe, expect, it } from 'vitest';
import { LoginThrottle } from '../../../src/accountd/server/login-throttle.js';

function throttle(): { t: LoginThrottle; advance: (ms: number) => void } {
  let now = 1_000_000;
  const t = new LoginThrottle({
    attempts: 3,
    windowMs: 60_000,
    durationMs: 300_000,
    baseDelayMs: 100,
    maxDelayMs: 350,
    now: () => now,
  });
  return { t, advance: (ms) => (now += ms) };
}

describe('LoginThrottle', () => {
  it('slows each failure more, then locks the user and the address out', () => {
    const { t } = throttle();
    expect(t.recordFailure('alice', '10.0.0.1')).toEqual({ delayMs: 100, lockedNow: [] });
    expect(t.recordFailure('alice', '10.0.0.1')).toEqual({ delayMs: 200, lockedNow: [] });
    expect(t.check('alice', '10.0.0.1')).toEqual({ locked: undefined });
    expect(t.recordFailure('alice', '10.0.0.1').lockedNow).toEqual(['user', 'address']);
    expect(t.check('alice', '10.0.0.9')).toEqual({ locked: { by: 'user', until: 1_300_000 } });
    expect(t.check('bob', '10.0.0.1')).toEqual({ locked: { by: 'address', until: 1_300_000 } });
    expect(t.check('bob', '10.0.0.2')).toEqual({ locked: undefined });
  });

  it('doubles the delay per failure up to the cap', () => {
    const t = new LoginThrottle({
      attempts: 10,
      windowMs: 60_000,
      durationMs: 60_000,
      baseDelayMs: 100,
      maxDelayMs: 350,
    });
    const delays = Array.from({ length: 5 }, () => t.recordFailure('alice', undefined).delayMs);
    expect(delays).toEqual([100, 200, 350, 350, 350]);
  });

  it('lifts a lockout when its duration has passed', () => {
    const { t, advance } = throttle();
    for (let i = 0; i < 3; i++) t.recordFailure('alice', undefined);
    advance(299_999);
    expect(t.check('alice', undefined).locked?.by).toBe('user');
    advance(1);
    expect(t.check('alice', undefined)).toEqual({ locked: undefined });
  });

  it('forgets failures older than the window', () => {
    const { t, advance } = throttle();
    t.recordFailure('alice', undefined);
    t.recordFailure('alice', undefined);
    advance(60_000);
    expect(t.recordFailure('alice', undefined)).toEqual({ delayMs: 100, lockedNow: [] });
  });

  it('clears a user after a success but not an active lockout', () => {
    const { t } = throttle();
    t.recordFailure('alice', undefined);
    t.recordFailure('alice', undefined);
    t.recordSuccess('alice');
    expect(t.recordFailure('alice', undefined).lockedNow).toEqual([]);
    t.recordFailure('alice', undefined);
    t.recordFailure('alice', undefined);
    t.recordSuccess('alice');
    expect(t.check('alice', undefined).locked?.by).toBe('user');
  });

  it('tracks a bounded number of keys', () => {
    let now = 0;
    const t = new LoginThrottle({
      attempts: 2,
      windowMs: 10,
      durationMs: 10,
      maxKeys: 100,
      now: () => now,
    });
    for (let i = 0; i < 1000; i++) {
      now += 1;
      t.recordFailure(`user${i}`, `addr${i}`);
    }
    // The newest key is still tracked: one more failure locks it.
    expect(t.recordFailure('user999', 'addr999').lockedNow).toEqual(['user', 'address']);
  });
});
