#!/usr/bin/env node
/**
 * @module The `vesper` program: the only place that reads argv and sets the
 * exit code.
 */
import { COMMANDS } from './commands.js';
import { runCli } from './run.js';

const code = await runCli(process.argv.slice(2), process, COMMANDS).catch((err: unknown) => {
  process.stderr.write(`vesper: ${err instanceof Error ? err.message : String(err)}\n`);
  return 1;
});
process.exitCode = code;
