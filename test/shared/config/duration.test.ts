import { describe, expect, it } from 'vitest';
import { formatDuration, parseDuration } from '../../../src/shared/config/duration.js';

describe('parseDuration', () => {
  it.each([
    ['500ms', 500],
    ['30s', 30_000],
    ['10m', 600_000],
    ['4h', 14_400_000],
    ['7d', 604_800_000],
    ['0', 0],
    [0, 0],
    ['0s', 0],
  ])('reads %j as %d milliseconds', (text, ms) => {
    expect(parseDuration(text)).toBe(ms);
  });

  it.each(['10 minutes', '-5s', '1.5h', '1.5x', '10', 's', '', '5sec', '1h30m', ' 5s', '5S'])(
    'refuses %j with a sentence naming the accepted forms',
    (text) => {
      expect(parseDuration(text)).toEqual({
        error: `'${text}' is not a duration; write a whole number and one unit: 500ms, 30s, 10m, 4h, 7d, or 0`,
      });
    },
  );

  it('refuses a bare number other than 0, suggesting a unit', () => {
    expect(parseDuration(30)).toEqual({
      error: 'expected a duration with a unit (e.g. 30s or 30ms), got 30',
    });
  });

  it('refuses values that are not strings or numbers', () => {
    expect(parseDuration(true)).toEqual({ error: 'expected a duration such as 30s, got true' });
    expect(parseDuration(null)).toEqual({ error: 'expected a duration such as 30s, got null' });
    expect(parseDuration([1])).toEqual({ error: 'expected a duration such as 30s, got a list' });
  });

  it('refuses a duration too long to count in milliseconds exactly', () => {
    expect(parseDuration('999999999999999d')).toEqual({
      error: "'999999999999999d' is too long a duration",
    });
  });
});

describe('formatDuration', () => {
  it.each([
    [0, '0'],
    [500, '500ms'],
    [1500, '1500ms'],
    [30_000, '30s'],
    [90_000, '90s'],
    [60_000, '1m'],
    [14_400_000, '4h'],
    [604_800_000, '7d'],
  ])('writes %d ms as %s', (ms, text) => {
    expect(formatDuration(ms)).toBe(text);
  });

  it('writes what parseDuration reads back to the same value', () => {
    for (const ms of [1, 999, 1000, 61_000, 3_600_000, 86_400_000 * 3]) {
      expect(parseDuration(formatDuration(ms))).toBe(ms);
    }
  });
});
