/**
 * @module How a Redis-backed test file finds the suite's private Redis (started
 * by test/global-setup.ts) and what it does when there is none: fail loudly in
 * CI, skip loudly elsewhere.
 */
import { describe, it, inject } from 'vitest';

/** The Redis URL for this run, or `''`. */
export function redisUrl(): string {
  return inject('redisUrl');
}

/**
 * `describe` when Redis is there. Without it: in CI (`CI=true`) a failing test
 * that says why, so a missing Redis cannot pass as green; elsewhere a skip,
 * announced on stderr.
 */
export function describeWithRedis(name: string, body: (url: string) => void): void {
  const url = redisUrl();
  if (url !== '') {
    describe(name, () => body(url));
    return;
  }
  const why = inject('redisError') || 'no Redis URL was provided by test/global-setup.ts';
  if (process.env.CI === 'true') {
    describe(name, () => {
      it('has a Redis server to test against', () => {
        throw new Error(`Redis is required in CI and is not available: ${why}`);
      });
    });
    return;
  }
  process.stderr.write(`\n!!!! SKIPPING "${name}": no Redis (${why})\n\n`);
  describe.skip(name, () => body(''));
}
