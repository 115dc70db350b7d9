/**
 * @module Sizes as written in the configuration (`512`, `16K`, `10M`, `1G`), as bytes.
 */
import { describe } from './describe.js';

/** Bytes per size unit; K, M and G are powers of 1024. */
const UNITS: readonly (readonly [string, number])[] = [
  ['G', 1024 ** 3],
  ['M', 1024 ** 2],
  ['K', 1024],
  ['', 1],
];

// One whole number, an optional K/M/G (either case) and an optional B: `16K`,
// `16k`, `16KB` and `16kb` are the same; `512` and `512B` are bytes.
const SIZE = /^(\d+)([kmg]?)b?$/i;

/**
 * Parses a configuration size into bytes: a whole number of bytes (`512`) or a
 * whole number followed by `K`, `M` or `G` (powers of 1024, either case,
 * optionally followed by `B`). Returns a sentence saying what is wrong instead
 * when `value` is not one; never throws.
 */
export function parseSize(value: unknown): number | { error: string } {
  if (typeof value === 'number') {
    if (Number.isSafeInteger(value) && value >= 0) return value;
    return {
      error: `expected a whole number of bytes or a size such as 16K, got ${String(value)}`,
    };
  }
  if (typeof value !== 'string')
    return { error: `expected a size such as 16K or 10M, got ${describe(value)}` };
  const match = SIZE.exec(value);
  const unit = UNITS.find(([name]) => name === match?.[2]?.toUpperCase());
  if (match === null || unit === undefined) {
    return {
      error: `'${value}' is not a size; write a whole number of bytes, optionally followed by K, M or G: 512, 16K, 10M, 1G`,
    };
  }
  const bytes = Number(match[1]) * unit[1];
  if (!Number.isSafeInteger(bytes)) return { error: `'${value}' is too large a size` };
  return bytes;
}

/** Writes `bytes` back in the largest unit that divides it exactly (`16384` → `16K`, `1000` → `1000`). */
export function formatSize(bytes: number): string {
  if (bytes === 0) return '0';
  const unit = UNITS.find(([, size]) => bytes % size === 0) ?? ['', 1];
  return `${String(bytes / unit[1])}${unit[0]}`;
}
