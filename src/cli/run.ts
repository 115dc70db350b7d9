/**
 * @module Dispatches `vesper ARGS...` to a sub-command; no side effects of its own.
 */
import type { CliIo, Command } from './command.js';

/** The top-level help text for the given commands. */
export function helpText(commands: readonly Command[]): string {
  const width = Math.max(...commands.map((c) => c.name.length), 4);
  const lines = commands.map((c) => `  ${c.name.padEnd(width)}  ${c.summary}`);
  return [
    'Usage: vesper COMMAND [OPTIONS]',
    '',
    'A gateway for stateful per-user web sessions.',
    '',
    'Commands:',
    ...lines,
    '',
    'Every command takes --config FILE (default config/vesper.yaml) and',
    'repeated --config-option KEY.PATH=VALUE (VALUE is YAML).',
    "Run 'vesper COMMAND --help' for a command's options.",
    '',
  ].join('\n');
}

/**
 * Runs the command named by `argv[0]` and resolves to its exit code. Unknown
 * commands and a missing command are usage errors (exit 2).
 */
export async function runCli(
  argv: readonly string[],
  io: CliIo,
  commands: readonly Command[],
): Promise<number> {
  const [name, ...rest] = argv;
  if (name === undefined || name === '--help' || name === '-h' || name === 'help') {
    io.stdout.write(helpText(commands));
    return name === undefined ? 2 : 0;
  }
  const command = commands.find((c) => c.name === name);
  if (command === undefined) {
    io.stderr.write(`vesper: unknown command '${name}'\n\n${helpText(commands)}`);
    return 2;
  }
  if (rest.includes('--help') || rest.includes('-h')) {
    io.stdout.write(command.usage.endsWith('\n') ? command.usage : `${command.usage}\n`);
    return 0;
  }
  return command.run(rest, io);
}
