/**
 * @module The table of `vesper` sub-commands.
 */
import type { Command } from './command.js';
import { checkConfigCommand } from './commands/check-config.js';

/** Every sub-command, in the order `vesper --help` lists them. */
export const COMMANDS: readonly Command[] = [checkConfigCommand];
