/**
 * @module Durations as written in the configuration (`500ms`, `30s`, `10m`, `4h`, `7d`, `0`), as milliseconds.
 */
import { describe } from './describe.js';

/** Milliseconds per duration unit, largest first (the order {@link formatDuration} tries them in). */
const UNITS: readonly (readonly [string, number])[] = [
  ['d', 86_400_000],
  ['h', 3_600_000],
  ['m', 60_000],
  ['s', 1_000],
  ['ms', 1],
];

const DURATION = /^(\d+)(ms|s|m|h|d)$/;

/**
 * The longest delay Node's timers accept (2^31 - 1 ms, about 24.8 days); keys
 * that arm a timer are capped at this.
 */
export const MAX_TIMER_MS = 2_147_483_647;

/**
 * Parses a configuration duration into milliseconds: a whole number followed by
 * exactly one unit (`ms`, `s`, `m`, `h`, `d`), or a bare `0` (number or string).
 * Returns a sentence saying what is wrong instead when `value` is not one, so
 * callers can collect every problem; never throws.
 */
export function parseDuration(value: unknown): number | { error: string } {
  if (value === 0 || value === '0') return 0;
  if (typeof value === 'number') {
    return {
      error: `expected a duration with a unit (e.g. ${String(value)}s or ${String(value)}ms), got ${String(value)}`,
    };
  }
  if (typeof value !== 'string')
    return { error: `expected a duration such as 30s, got ${describe(value)}` };
  const match = DURATION.exec(value);
  const unit = UNITS.find(([name]) => name === match?.[2]);
  if (match === null || unit === undefined) {
    return {
      error: `'${value}' is not a duration; write a whole number and one unit: 500ms, 30s, 10m, 4h, 7d, or 0`,
    };
  }
  const ms = Number(match[1]) * unit[1];
  if (!Number.isSafeInteger(ms)) return { error: `'${value}' is too long a duration` };
  return ms;
}

/** Writes `ms` back in the largest unit that divides it exactly (`90000` → `90s`, `0` → `0`). */
export function formatDuration(ms: number): string {
  if (ms === 0) return '0';
  const unit = UNITS.find(([, size]) => ms % size === 0) ?? ['ms', 1];
  return `${String(ms / unit[1])}${unit[0]}`;
}
