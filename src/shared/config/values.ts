/**
 * @module The scalar kinds of configuration value: booleans, whole numbers, words, durations, sizes, paths, addresses.
 */
import { isIP } from 'node:net';
import { isAbsolute, resolve } from 'node:path';
import { describe } from './describe.js';
import { formatDuration, MAX_TIMER_MS, parseDuration } from './duration.js';
import { leaf } from './field.js';
import type { Field, ReadContext } from './field.js';
import { formatSize, parseSize } from './size.js';

/** `true` or `false`; YAML 1.2 reads `yes`/`no`/`on` as strings, which are refused. */
export function bool(fallback: boolean): Field<boolean> {
  return leaf({
    read: (raw) =>
      typeof raw === 'boolean' ? raw : { error: `expected true or false, got ${describe(raw)}` },
    default: fallback,
  });
}

/** Bounds and default of {@link int}. */
export interface IntOptions {
  default?: number;
  min: number;
  max?: number;
}

/** A whole number within `[min, max]`. */
export function int(options: IntOptions): Field<number> {
  const { min, max = Number.MAX_SAFE_INTEGER } = options;
  return leaf({
    read: (raw) => checkInt(raw, min, max),
    ...('default' in options ? { default: options.default } : {}),
  });
}

function checkInt(raw: unknown, min: number, max: number): number | { error: string } {
  if (typeof raw !== 'number' || !Number.isInteger(raw)) {
    return { error: `expected a whole number, got ${describe(raw)}` };
  }
  if (raw < min || raw > max) {
    const range =
      max === Number.MAX_SAFE_INTEGER
        ? `at least ${String(min)}`
        : `between ${String(min)} and ${String(max)}`;
    return { error: `must be ${range}, got ${String(raw)}` };
  }
  return raw;
}

/** A TCP port, 1 to 65535. */
export function port(fallback?: number): Field<number> {
  return int({ min: 1, max: 65535, ...(fallback === undefined ? {} : { default: fallback }) });
}

/** One of a fixed set of words. */
export function oneOf<const W extends string>(words: readonly W[], fallback: W): Field<W> {
  return leaf({
    read: (raw) =>
      typeof raw === 'string' && (words as readonly string[]).includes(raw)
        ? (raw as W)
        : { error: `expected one of ${words.join(', ')}, got ${describe(raw)}` },
    default: fallback,
  });
}

/** Options of {@link duration}. */
export interface DurationOptions {
  /** The default, written as in the file (`30s`). */
  default: string;
  /** Whether `0` is allowed (it then means "off" or "same as", as the key documents). */
  zero?: boolean;
  /** Whether the value arms a timer, and so may not exceed {@link MAX_TIMER_MS}. */
  timer?: boolean;
}

/** A duration (`30s`), read as milliseconds. */
export function duration(options: DurationOptions): Field<number> {
  const fallback = parseDuration(options.default);
  if (typeof fallback !== 'number') throw new TypeError(`bad default duration ${options.default}`);
  return leaf({
    read: (raw) => {
      const ms = parseDuration(raw);
      if (typeof ms !== 'number') return ms;
      if (ms === 0 && options.zero !== true) return { error: 'must be longer than 0' };
      if (options.timer === true && ms > MAX_TIMER_MS) {
        return {
          error: `must be at most ${formatDuration(MAX_TIMER_MS)} (about 24 days), got ${String(raw)}`,
        };
      }
      return ms;
    },
    default: fallback,
    // 0 stays a number so the printed YAML reads `0`, not `"0"`.
    format: (ms) => (ms === 0 ? 0 : formatDuration(ms)),
  });
}

/** A size (`16K`), read as bytes, at least `min` bytes. */
export function size(fallbackText: string, min = 1): Field<number> {
  const fallback = parseSize(fallbackText);
  if (typeof fallback !== 'number') throw new TypeError(`bad default size ${fallbackText}`);
  return leaf({
    read: (raw) => {
      const bytes = parseSize(raw);
      if (typeof bytes !== 'number') return bytes;
      return bytes < min
        ? { error: `must be at least ${formatSize(min)}, got ${String(raw)}` }
        : bytes;
    },
    default: fallback,
    // A plain number of bytes stays a number in the printed YAML.
    format: (bytes) => (bytes === 0 || bytes % 1024 !== 0 ? bytes : formatSize(bytes)),
  });
}

function checkPath(raw: unknown): string | { error: string } {
  if (typeof raw !== 'string' || raw === '')
    return { error: `expected a path, got ${describe(raw)}` };
  if (raw.includes('\0')) return { error: 'a path may not contain a NUL character' };
  return raw;
}

/** Resolves a relative configuration path against `paths.var`. */
export function underVar(ctx: ReadContext, path: string): string {
  return isAbsolute(path) ? resolve(path) : resolve(ctx.varDir, path);
}

/**
 * A file or directory path, made absolute: relative paths resolve against
 * `paths.var`. `fallback` (relative to `paths.var`) is used when the key is
 * not written or written as null; without one the key is required.
 */
export function path(fallback?: string): Field<string> {
  return leaf<string>({
    read: (raw, ctx) => {
      if (raw === null && fallback !== undefined) return underVar(ctx, fallback);
      const p = checkPath(raw);
      return typeof p === 'string' ? underVar(ctx, p) : p;
    },
    ...(fallback === undefined ? {} : { default: (ctx: ReadContext) => underVar(ctx, fallback) }),
  });
}

/** `paths.var` itself: a directory path resolved against the working directory. */
export function varPath(fallback: string): Field<string> {
  return leaf<string>({
    read: (raw, ctx) => {
      const p = checkPath(raw);
      return typeof p === 'string' ? resolve(ctx.cwd, p) : p;
    },
    default: (ctx) => resolve(ctx.cwd, fallback),
  });
}

const HOSTNAME =
  /^(?=.{1,253}$)[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?(\.[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*$/;

/** Whether `host` is an IP address or a DNS host name. */
export function isHost(host: string): boolean {
  return isIP(host) !== 0 || HOSTNAME.test(host);
}

/** An address to bind or connect to: an IP address or a host name. */
export function host(fallback?: string): Field<string> {
  return leaf({
    read: (raw) =>
      typeof raw === 'string' && isHost(raw)
        ? raw
        : { error: `expected an IP address or host name, got ${describe(raw)}` },
    ...(fallback === undefined ? {} : { default: fallback }),
  });
}

/**
 * A CIDR block such as `10.0.0.0/8` or `::/0`; a bare address means that one
 * address and is read as `/32` or `/128`.
 */
export function cidr(): Field<string> {
  return leaf({
    read: (raw) => {
      if (typeof raw !== 'string')
        return { error: `expected a CIDR block such as 10.0.0.0/8, got ${describe(raw)}` };
      const [address = '', bits, ...more] = raw.split('/');
      const family = isIP(address);
      const maxBits = family === 6 ? 128 : 32;
      if (
        family === 0 ||
        more.length > 0 ||
        (bits !== undefined && !/^(0|[1-9]\d{0,2})$/.test(bits)) ||
        Number(bits ?? 0) > maxBits
      ) {
        return { error: `'${raw}' is not a CIDR block such as 10.0.0.0/8 or ::/0` };
      }
      return bits === undefined ? `${address}/${String(maxBits)}` : raw;
    },
  });
}

/**
 * A session application: a word naming a built-in one (`account`), or the
 * absolute path of a module exporting a factory (tests, benchmarks,
 * third-party applications; see src/session/process/load-app.ts).
 */
export function appName(fallback: string): Field<string> {
  return leaf({
    read: (raw) =>
      typeof raw === 'string' &&
      (/^[a-z][a-z0-9-]*$/.test(raw) || (isAbsolute(raw) && /\.m?js$/.test(raw)))
        ? raw
        : {
            error: `expected an application name (lower-case letters, digits and -) or an absolute path to a .js module, got ${describe(raw)}`,
          },
    default: fallback,
  });
}

/**
 * Where an external account server is: `unix:PATH` (a relative PATH resolves
 * against `paths.var`) or `host:port` (IPv6 as `[::1]:port`).
 */
export function accountdServer(): Field<string> {
  return leaf({
    read: (raw, ctx) => {
      const bad = { error: `expected unix:/path/to/socket or host:port, got ${describe(raw)}` };
      if (typeof raw !== 'string') return bad;
      if (raw.startsWith('unix:')) {
        const p = checkPath(raw.slice('unix:'.length));
        return typeof p === 'string' ? `unix:${underVar(ctx, p)}` : bad;
      }
      const match = /^(?:\[([^\]]+)\]|([^:[\]]+)):(\d{1,5})$/.exec(raw);
      const hostPart = match?.[1] ?? match?.[2];
      if (
        match === null ||
        hostPart === undefined ||
        !isHost(hostPart) ||
        (match[1] !== undefined && isIP(hostPart) !== 6)
      )
        return bad;
      const portNumber = Number(match[3]);
      return portNumber >= 1 && portNumber <= 65535
        ? raw
        : { error: `port must be between 1 and 65535, got ${String(portNumber)}` };
    },
  });
}

/** Hides the password of a URL (`redis://:secret@host` → `redis://:***@host`). */
export function maskUrlPassword(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.password === '') return url;
    parsed.password = '***';
    return parsed.href;
  } catch {
    return url;
  }
}

/** A `redis://` or `rediss://` URL; its password is masked when printed. */
export function redisUrl(): Field<string> {
  return leaf({
    read: (raw) => {
      // The value is not echoed: a URL may carry a password.
      const bad = { error: 'expected a redis:// or rediss:// URL with a host' };
      if (typeof raw !== 'string' || !URL.canParse(raw)) return bad;
      const { protocol, hostname } = new URL(raw);
      return (protocol === 'redis:' || protocol === 'rediss:') && hostname !== '' ? raw : bad;
    },
    format: maskUrlPassword,
  });
}
