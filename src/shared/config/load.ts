/**
 * @module Loads the configuration from a file and `--config-option` overrides, or throws every problem at once.
 */
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { ConfigError } from './config-error.js';
import { deepFreeze } from './deep-freeze.js';
import { readSource } from './source.js';
import type { VesperConfig } from './types.js';
import { defaults, validate } from './validate.js';

/** The file {@link loadConfig} reads when none is given, relative to the working directory. */
export const DEFAULT_CONFIG_FILE = 'config/vesper.yaml';

/** Options of {@link loadConfig}. */
export interface LoadConfigOptions {
  /** The YAML file; default {@link DEFAULT_CONFIG_FILE}, relative to `cwd`. Problems name it as given. */
  file?: string | undefined;
  /** Overrides `KEY.PATH=VALUE` (VALUE is YAML), applied in order on top of the file. */
  options?: readonly string[] | undefined;
  /** The directory relative paths (the file, `paths.var`) resolve against; default `process.cwd()`. */
  cwd?: string | undefined;
}

function why(err: unknown): string {
  const code = (err as { code?: unknown } | null)?.code;
  if (code === 'ENOENT') return 'no such file';
  if (code === 'EISDIR') return 'it is a directory, not a file';
  if (code === 'EACCES' || code === 'EPERM') return 'permission denied';
  return err instanceof Error ? err.message : String(err);
}

/**
 * Reads, checks and freezes the configuration. An empty file means every
 * default. Throws {@link ConfigError} (code `VESPER_CONFIG_INVALID`) listing
 * every problem when the file cannot be read, is not YAML, has an unknown key,
 * a value of the wrong type or range, or an impossible combination of values,
 * or when an override is malformed or names an unknown key.
 */
export function loadConfig(options: LoadConfigOptions = {}): VesperConfig {
  const cwd = options.cwd ?? process.cwd();
  const file = options.file ?? DEFAULT_CONFIG_FILE;
  let text: string;
  try {
    text = readFileSync(resolve(cwd, file), 'utf8');
  } catch (err) {
    throw new ConfigError([
      {
        file,
        line: undefined,
        key: '',
        message: `cannot read the configuration file: ${why(err)}`,
      },
    ]);
  }
  return loadConfigText(text, { ...options, file, cwd });
}

/**
 * Like {@link loadConfig} for YAML already in memory; `file` only names it in
 * problems (default {@link DEFAULT_CONFIG_FILE}). Throws {@link ConfigError}.
 */
export function loadConfigText(text: string, options: LoadConfigOptions = {}): VesperConfig {
  const file = options.file ?? DEFAULT_CONFIG_FILE;
  const result = validate(
    readSource(text, file),
    file,
    options.options ?? [],
    options.cwd ?? process.cwd(),
  );
  if (result.config === undefined) throw new ConfigError(result.problems);
  return deepFreeze(result.config);
}

/** Every default, with relative paths resolved from `cwd` (default `process.cwd()`), frozen. */
export function defaultConfig(cwd: string = process.cwd()): VesperConfig {
  return deepFreeze(defaults(cwd));
}
