/**
 * @module `vesper check-config`: loads the configuration and prints it, or prints every problem with it.
 */
import {
  ConfigError,
  formatConfig,
  loadConfig,
  parseConfigArgs,
} from '../../shared/config/index.js';
import { isVesperError } from '../../shared/errors/index.js';
import type { CliIo, Command } from '../command.js';

const USAGE = `Usage: vesper check-config [--config FILE] [--config-option KEY.PATH=VALUE ...]

Loads the configuration (default config/vesper.yaml), checks every key, and
prints the effective configuration as YAML: defaults filled in, durations and
sizes in human form, paths absolute. Exits 0 when it is valid, 1 with every
problem on stderr (as FILE:LINE: KEY: PROBLEM) when it is not, 2 on a usage
error.
`;

/**
 * Runs check-config with `args` (the arguments after the command name),
 * relative paths resolving from `cwd`, and returns the exit code: 0 valid, 1
 * problems (all written to stderr), 2 usage error. Rethrows only errors that
 * are not about the configuration.
 */
export function checkConfig(
  args: readonly string[],
  io: CliIo,
  cwd: string = process.cwd(),
): number {
  let parsed;
  try {
    parsed = parseConfigArgs(args);
  } catch (err) {
    if (!isVesperError(err, 'VESPER_CONFIG_USAGE')) throw err;
    io.stderr.write(`vesper check-config: ${err.message}\n\n${USAGE}`);
    return 2;
  }
  if (parsed.rest.length > 0) {
    io.stderr.write(
      `vesper check-config: unexpected argument '${parsed.rest[0] ?? ''}'\n\n${USAGE}`,
    );
    return 2;
  }
  try {
    const config = loadConfig({ file: parsed.file, options: parsed.options, cwd });
    io.stdout.write(formatConfig(config));
    return 0;
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    const count = err.problems.length;
    io.stderr.write(
      `${err.message}\nvesper: the configuration has ${String(count)} problem${count === 1 ? '' : 's'}\n`,
    );
    return 1;
  }
}

/** The `check-config` sub-command. */
export const checkConfigCommand: Command = {
  name: 'check-config',
  summary: 'check the configuration and print it with every default filled in',
  usage: USAGE,
  run: (args, io) => Promise.resolve(checkConfig(args, io)),
};
