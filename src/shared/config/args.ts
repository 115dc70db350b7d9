/**
 * @module Pulls the configuration options (`--config`, `--config-option`) out of a command's arguments.
 */
import { VesperError } from '../errors/index.js';

/** The configuration options of a command line, and every other argument. */
export interface ConfigArgs {
  /** The `--config FILE`, or undefined for the default. */
  file: string | undefined;
  /** Every `--config-option KEY.PATH=VALUE`, in order. */
  options: string[];
  /** The other arguments, in order (everything after `--` included as is). */
  rest: string[];
}

function usage(message: string): VesperError {
  return new VesperError('VESPER_CONFIG_USAGE', message);
}

/**
 * Splits `args` into the configuration options and the rest. Accepts
 * `--config FILE`, `--config=FILE` and repeated `--config-option K=V` or
 * `--config-option=K=V`; stops at `--`. Throws {@link VesperError} with code
 * `VESPER_CONFIG_USAGE` (a usage error, exit 2) when an option lacks its value
 * or `--config` is given twice.
 */
export function parseConfigArgs(args: readonly string[]): ConfigArgs {
  const result: ConfigArgs = { file: undefined, options: [], rest: [] };
  for (let i = 0; i < args.length; i++) {
    const arg = args[i] ?? '';
    if (arg === '--') {
      result.rest.push(...args.slice(i));
      break;
    }
    const [name, inline] =
      arg.startsWith('--') && arg.includes('=')
        ? [arg.slice(0, arg.indexOf('=')), arg.slice(arg.indexOf('=') + 1)]
        : [arg, undefined];
    if (name !== '--config' && name !== '--config-option') {
      result.rest.push(arg);
      continue;
    }
    let value = inline;
    if (value === undefined) {
      value = args[i + 1];
      if (value === undefined) throw usage(`${name} needs a value`);
      i++;
    }
    if (name === '--config-option') {
      result.options.push(value);
    } else {
      if (result.file !== undefined) throw usage('--config may be given only once');
      if (value === '') throw usage('--config needs a file name');
      result.file = value;
    }
  }
  return result;
}
