/**
 * @module How the account pages write sizes, counts and times.
 */

const UNITS = ['bytes', 'KiB', 'MiB', 'GiB', 'TiB'] as const;

/** `1536` → `1.5 KiB`; whole bytes below 1 KiB (`512 bytes`). */
export function formatBytes(bytes: number): string {
  let value = bytes;
  let unit = 0;
  while (value >= 1024 && unit < UNITS.length - 1) {
    value /= 1024;
    unit++;
  }
  if (unit === 0) return `${bytes} ${bytes === 1 ? 'byte' : 'bytes'}`;
  return `${value >= 100 ? Math.round(value) : Math.round(value * 10) / 10} ${UNITS[unit]}`;
}

/** A limit for people: `0` (no limit) is `unlimited`. */
export function formatLimit(limit: number, format: (n: number) => string = String): string {
  return limit === 0 ? 'unlimited' : format(limit);
}

/** Usage as a whole percentage of `limit`, or null when there is no limit. */
export function percentOf(used: number, limit: number): number | null {
  if (limit === 0) return null;
  return Math.min(100, Math.round((used / limit) * 100));
}

/** A time as `2026-12-02 21:40 UTC`. */
export function formatTime(ms: number): string {
  const iso = new Date(ms).toISOString();
  return `${iso.slice(0, 10)} ${iso.slice(11, 16)} UTC`;
}

/** A duration for people: `15 minutes`, `4 hours`, `never` for 0. */
export function formatDuration(ms: number): string {
  if (ms === 0) return 'never';
  const steps: [number, string][] = [
    [86_400_000, 'day'],
    [3_600_000, 'hour'],
    [60_000, 'minute'],
    [1000, 'second'],
  ];
  for (const [size, name] of steps) {
    if (ms >= size && ms % size === 0) {
      const n = ms / size;
      return `${n} ${name}${n === 1 ? '' : 's'}`;
    }
  }
  return `${ms} ms`;
}

/** A message for a page as a sentence: `the thing` → `The thing.` */
export function asSentence(message: string): string {
  const s = message.charAt(0).toUpperCase() + message.slice(1);
  return /[.!?]$/.test(s) ? s : `${s}.`;
}
