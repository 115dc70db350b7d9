/**
 * @module Turns the values read from a file and its overrides into a checked `VesperConfig`, or every problem with it.
 */
import { resolve } from 'node:path';
import { checkCombinations } from './combinations.js';
import type { ConfigProblem } from './config-error.js';
import { joinPath } from './field.js';
import type { ReadContext } from './field.js';
import { applyOverrides, OPTION_FILE, unknownKeyMessage } from './overrides.js';
import type { Origins } from './origins.js';
import { CONFIG_SCHEMA } from './schema.js';
import { isRawMap } from './source.js';
import type { ConfigSource, RawMap } from './source.js';
import type { VesperConfig } from './types.js';

/** The outcome of {@link validate}: a configuration when there are no problems. */
export type Validated =
  { config: VesperConfig; problems: [] } | { config: undefined; problems: ConfigProblem[] };

/** The read context for checking `root` with relative paths resolved from `cwd`. */
function context(
  root: RawMap | undefined,
  cwd: string,
  report: (path: string, message: string) => void,
  unknown: (path: string, name: string) => void,
): ReadContext {
  const written = isRawMap(root?.paths) ? root.paths.var : undefined;
  return {
    cwd,
    varDir: resolve(cwd, typeof written === 'string' && written !== '' ? written : 'var/'),
    problem: report,
    unknownKey: unknown,
  };
}

/** The default configuration with relative paths resolved from `cwd`; never has problems. */
export function defaults(cwd: string): VesperConfig {
  const ctx = context(
    undefined,
    cwd,
    (path, message) => {
      throw new Error(`the default of ${path} is invalid: ${message}`);
    },
    () => undefined,
  );
  return CONFIG_SCHEMA.read(null, '', ctx) as VesperConfig;
}

/**
 * Checks the values of `source` (one file) with `options` applied on top,
 * resolving relative paths from `cwd`. Problems come sorted: the file's by
 * line, then the options' by position. Never throws.
 */
export function validate(
  source: ConfigSource,
  file: string,
  options: readonly string[],
  cwd: string,
): Validated {
  const problems: ConfigProblem[] = [...source.problems];
  const origins: Origins = source.origins;
  let root: RawMap | undefined;
  if (source.value === undefined || source.value === null || isRawMap(source.value)) {
    root = source.value ?? undefined;
  } else if (source.problems.length === 0) {
    problems.push({
      file,
      line: 1,
      key: '',
      message:
        'expected a map of sections (paths:, log:, frontend:, tls:, session:, accountd:, redis:)',
    });
  }
  const formattedDefaults = CONFIG_SCHEMA.format(defaults(cwd)) as RawMap;
  const applied = applyOverrides(root, options, CONFIG_SCHEMA, formattedDefaults, origins);
  problems.push(...applied.problems);
  // A file that is not YAML, or not a map, cannot be checked further; bad
  // options were left out, so the rest can.
  if (problems.some((p) => p.file !== OPTION_FILE))
    return { config: undefined, problems: sortProblems(problems) };

  const wrongPaths: string[] = [];
  const at = (path: string, message: string): ConfigProblem => ({
    ...origins.of(path),
    key: path,
    message,
  });
  const ctx = context(
    applied.root,
    cwd,
    (path, message) => {
      // A wrong list item makes the whole list fall back to its default.
      wrongPaths.push(path.replace(/\.\d+(\..*)?$/, ''));
      problems.push(at(path, message));
    },
    (parent, name) =>
      problems.push(at(joinPath(parent, name), unknownKeyMessage(CONFIG_SCHEMA, parent, name))),
  );
  const config = CONFIG_SCHEMA.read(applied.root ?? null, '', ctx);
  if (config !== undefined) {
    const touches = (key: string): boolean =>
      wrongPaths.some((p) => p === key || p.startsWith(`${key}.`) || key.startsWith(`${p}.`));
    checkCombinations(config, (keys, message) => {
      if (keys.some(touches)) return;
      const placed = keys.find((k) => origins.has(k)) ?? keys[0] ?? '';
      problems.push({ ...origins.of(placed), key: keys[0] ?? '', message });
    });
  }
  if (config === undefined || problems.length > 0)
    return { config: undefined, problems: sortProblems(problems) };
  return { config, problems: [] };
}

/** File problems by line (unknown lines last), then option problems by position; stable otherwise. */
function sortProblems(problems: ConfigProblem[]): ConfigProblem[] {
  const rank = (p: ConfigProblem): number => (p.file === OPTION_FILE ? 1 : 0);
  return problems
    .map((p, i) => ({ p, i }))
    .sort(
      (a, b) =>
        rank(a.p) - rank(b.p) || (a.p.line ?? Infinity) - (b.p.line ?? Infinity) || a.i - b.i,
    )
    .map(({ p }) => p);
}
