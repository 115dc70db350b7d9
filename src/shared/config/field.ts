/**
 * @module The building blocks of the configuration schema: typed fields that read, default and print a value.
 */
import { describe } from './describe.js';
import { isRawMap } from './source.js';
import type { RawMap } from './source.js';

/** What a field sees while it reads: where to report problems and how to resolve paths. */
export interface ReadContext {
  /** Records that the value at dotted `path` is wrong. */
  problem(path: string, message: string): void;
  /** Explains why `name` is not a key of the map at `path` (with a suggestion when one is close). */
  unknownKey(path: string, name: string, known: readonly string[]): void;
  /** The absolute directory `paths.var` names. */
  readonly varDir: string;
  /** The absolute directory relative `paths.var` resolves against. */
  readonly cwd: string;
}

/** Marks a field that has no default: leaving it out of its (written) map is a problem. */
export const REQUIRED: unique symbol = Symbol('required');

/** One key of the schema, producing a value of type `T`. */
export interface Field<T> {
  /** Reads a written value; reports problems through `ctx` and returns undefined when it is wrong. */
  read(raw: unknown, path: string, ctx: ReadContext): T | undefined;
  /** The value when the key is not written, or {@link REQUIRED}. */
  fallback(ctx: ReadContext): T | typeof REQUIRED;
  /** The field for a child key (list items take any whole-number name), or undefined. */
  child(name: string): Field<unknown> | undefined;
  /** The names of the child keys, for suggestions and documentation. */
  readonly names: readonly string[];
  /** The value as written back to YAML (durations and sizes in human form). */
  format(value: T): unknown;
}

/** The fields of a map whose value has type `T`, one per key of `T`. */
export type Fields<T> = { readonly [K in keyof T]-?: Field<T[K]> };

/** Joins a parent path and a child name into a dotted path. */
export function joinPath(path: string, name: string): string {
  return path === '' ? name : `${path}.${name}`;
}

/** Options of {@link leaf}. */
export interface LeafOptions<T> {
  /** Converts a written value, or says what is wrong with it. */
  read(raw: unknown, ctx: ReadContext): T | { error: string };
  /** The default; a function when it depends on `paths.var`; omitted when the key is required. */
  default?: T | ((ctx: ReadContext) => T);
  /** Writes the value back for display; identity when omitted. */
  format?: (value: T) => unknown;
}

function isError(value: unknown): value is { error: string } {
  return isRawMap(value) && typeof value.error === 'string' && Object.keys(value).length === 1;
}

/** A scalar key: a number, string, boolean, duration, size or path. */
export function leaf<T>(options: LeafOptions<T>): Field<T> {
  const fallback = options.default;
  return {
    read(raw, path, ctx) {
      const value = options.read(raw, ctx);
      if (isError(value)) {
        ctx.problem(path, value.error);
        return undefined;
      }
      return value;
    },
    fallback(ctx) {
      if (!('default' in options)) return REQUIRED;
      return typeof fallback === 'function'
        ? (fallback as (c: ReadContext) => T)(ctx)
        : (fallback as T);
    },
    child: () => undefined,
    names: [],
    format: (value) => (options.format === undefined ? value : options.format(value)),
  };
}

/**
 * A map with exactly the keys of `fields`. A key left out takes its default;
 * an unknown key, or a required key left out, is a problem. A map written as
 * nothing at all (`session:` with every line commented out) is empty.
 */
export function object<T>(fields: Fields<T>): Field<T> {
  const entries = Object.entries<Field<unknown>>(fields);
  const names = entries.map(([name]) => name);
  const build = (raw: RawMap, path: string, ctx: ReadContext): T | undefined => {
    for (const name of Object.keys(raw))
      if (!names.includes(name)) ctx.unknownKey(path, name, names);
    const out: Record<string, unknown> = {};
    let ok = true;
    for (const [name, field] of entries) {
      const at = joinPath(path, name);
      const fallback = field.fallback(ctx);
      let value = raw[name] === undefined ? fallback : field.read(raw[name], at, ctx);
      if (value === REQUIRED && raw[name] === undefined) ctx.problem(at, 'is required');
      // A wrong value is replaced by its default so that the checks across
      // keys can still run on the rest; they skip keys with problems.
      if (value === undefined) value = fallback;
      if (value === REQUIRED) ok = false;
      else out[name] = value;
    }
    return ok ? (out as T) : undefined;
  };
  return {
    read(raw, path, ctx) {
      if (raw === null) return build(Object.create(null) as RawMap, path, ctx);
      if (!isRawMap(raw)) {
        ctx.problem(path, `expected a map, got ${describe(raw)}`);
        return undefined;
      }
      return build(raw, path, ctx);
    },
    fallback(ctx) {
      const out: Record<string, unknown> = {};
      for (const [name, field] of entries) {
        const value = field.fallback(ctx);
        if (value === REQUIRED) return REQUIRED;
        out[name] = value;
      }
      return out as T;
    },
    child: (name) =>
      names.includes(name) ? (fields as Record<string, Field<unknown>>)[name] : undefined,
    names,
    format(value) {
      const out: Record<string, unknown> = {};
      for (const [name, field] of entries)
        out[name] = field.format((value as Record<string, unknown>)[name]);
      return out;
    },
  };
}

/** Options of {@link list}. */
export interface ListOptions<T> {
  /** The list when the key is not written. */
  default: readonly T[];
  /** The fewest items allowed. */
  min?: number;
}

/** A list whose items all have the same field. */
export function list<T>(item: Field<T>, options: ListOptions<T>): Field<T[]> {
  return {
    read(raw, path, ctx) {
      if (!Array.isArray(raw)) {
        ctx.problem(path, `expected a list, got ${describe(raw)}`);
        return undefined;
      }
      if (options.min !== undefined && raw.length < options.min) {
        ctx.problem(
          path,
          `needs at least ${String(options.min)} item${options.min === 1 ? '' : 's'}`,
        );
        return undefined;
      }
      const out: T[] = [];
      let ok = true;
      raw.forEach((value: unknown, i) => {
        const at = joinPath(path, String(i));
        const read = value === undefined ? undefined : item.read(value, at, ctx);
        if (read === undefined) ok = false;
        else out.push(read);
      });
      return ok ? out : undefined;
    },
    fallback: () => [...options.default],
    child: (name) => (/^(0|[1-9]\d*)$/.test(name) ? item : undefined),
    names: [],
    format: (value) => value.map((v) => item.format(v)),
  };
}

/** A key that may be `null` (its default) or a value of `inner`. */
export function nullable<T>(inner: Field<T>): Field<T | null> {
  return {
    read: (raw, path, ctx) => (raw === null ? null : inner.read(raw, path, ctx)),
    fallback: () => null,
    child: (name) => inner.child(name),
    names: inner.names,
    format: (value) => (value === null ? null : inner.format(value)),
  };
}
