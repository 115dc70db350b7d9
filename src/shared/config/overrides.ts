/**
 * @module Applies `--config-option KEY.PATH=VALUE` overrides (VALUE is YAML) on top of the file's values.
 */
import type { ConfigProblem } from './config-error.js';
import { describe } from './describe.js';
import type { Field } from './field.js';
import { fieldAt, knownKeys } from './known-keys.js';
import type { Origins } from './origins.js';
import { isRawMap, readYamlValue } from './source.js';
import type { RawMap } from './source.js';
import { nearestKey } from './suggest.js';

/** The file name problems from overrides are reported under. */
export const OPTION_FILE = '--config-option';

/** The key path of an override: dotted words, list items by index. */
const KEY_PATH = /^[A-Za-z0-9_-]+(\.[A-Za-z0-9_-]+)*$/;

/** The message for an unknown key, naming the nearest known key when one is close. */
export function unknownKeyMessage(schema: Field<unknown>, parent: string, name: string): string {
  const found = parent === '' ? { field: schema } : fieldAt(schema, parent);
  const parentField = 'field' in found ? found.field : schema;
  const near =
    nearestKey(
      name,
      parentField.names.map((n) => (parent === '' ? n : `${parent}.${n}`)),
    ) ?? nearestKey(name, knownKeys(schema));
  return near === undefined ? 'unknown key' : `unknown key (did you mean ${near}?)`;
}

/**
 * Applies each option, in order, to `root` (the file's values, or undefined
 * for an empty file) and records its origin as `--config-option:N` (N counted
 * from 1). A later option wins over an earlier one and over the file; a map
 * or list VALUE replaces the whole value at that path. Unknown key paths,
 * malformed options and invalid YAML are returned as problems; options with
 * problems are not applied. A list item that the file does not set is taken
 * from `defaults` (the formatted default configuration) first. Never throws.
 */
export function applyOverrides(
  root: RawMap | undefined,
  options: readonly string[],
  schema: Field<unknown>,
  defaults: RawMap,
  origins: Origins,
): { root: RawMap | undefined; problems: ConfigProblem[] } {
  const problems: ConfigProblem[] = [];
  let tree = root;
  options.forEach((option, i) => {
    const n = i + 1;
    const problem = (key: string, message: string): void => {
      problems.push({ file: OPTION_FILE, line: n, key, message });
    };
    const eq = option.indexOf('=');
    const key = eq < 0 ? option : option.slice(0, eq);
    if (eq < 0 || !KEY_PATH.test(key)) {
      problem('', `expected KEY.PATH=VALUE (e.g. session.timeout=2h), got ${describe(option)}`);
      return;
    }
    const found = fieldAt(schema, key);
    if (!('field' in found)) {
      problem(key, unknownKeyMessage(schema, found.parent, found.unknown));
      return;
    }
    const source = readYamlValue(option.slice(eq + 1), n);
    if (source.problems.length > 0) {
      problems.push(...source.problems.map((p) => ({ ...p, key })));
      return;
    }
    tree ??= Object.create(null) as RawMap;
    const error = setAt(tree, defaults, key.split('.'), source.value ?? null);
    if (error !== undefined) {
      problem(key, error);
      return;
    }
    origins.replace(key, { file: OPTION_FILE, line: n });
  });
  return { root: tree, problems };
}

/** Sets `value` at `segments` in `tree`, making maps (and copying default lists) on the way. */
function setAt(
  tree: RawMap,
  defaults: unknown,
  segments: readonly string[],
  value: unknown,
): string | undefined {
  let node: unknown = tree;
  let fallback: unknown = defaults;
  for (const [depth, segment] of segments.entries()) {
    const last = depth === segments.length - 1;
    const here = segments.slice(0, depth + 1).join('.');
    if (Array.isArray(node)) {
      const index = Number(segment);
      if (index >= node.length) {
        return `${segments.slice(0, depth).join('.')} has ${String(node.length)} item${node.length === 1 ? '' : 's'}, so there is no item ${segment}`;
      }
      if (last) node[index] = value;
      else node = ensureContainer(node, index, fallback, segment);
    } else if (isRawMap(node)) {
      if (last) node[segment] = value;
      else node = ensureContainer(node, segment, fallback, segment);
    } else {
      return `cannot set ${here}: its parent is ${describe(node)}, not a map or list`;
    }
    fallback =
      isRawMap(fallback) || Array.isArray(fallback)
        ? (fallback as Record<string, unknown>)[segment]
        : undefined;
  }
  return undefined;
}

/** The child at `key` of `parent`, created (as a map, or as a copy of the default list) when missing or null. */
function ensureContainer(
  parent: unknown[] | RawMap,
  key: string | number,
  fallback: unknown,
  segment: string,
): unknown {
  const record = parent as Record<string | number, unknown>;
  const existing = record[key];
  if (existing !== undefined && existing !== null) return existing;
  const defaultChild =
    isRawMap(fallback) || Array.isArray(fallback)
      ? (fallback as Record<string, unknown>)[segment]
      : undefined;
  const created = Array.isArray(defaultChild)
    ? structuredClone(defaultChild)
    : (Object.create(null) as RawMap);
  record[key] = created;
  return created;
}
