/**
 * @module The table of `vesper` sub-commands.
 */
import type { Command } from './command.js';
import { accountdCommand } from './commands/accountd.js';
import { adduserCommand } from './commands/adduser.js';
import { checkConfigCommand } from './commands/check-config.js';
import { deluserCommand } from './commands/deluser.js';
import { passwdCommand } from './commands/passwd.js';
import { usersCommand } from './commands/users.js';

/** Every sub-command, in the order `vesper --help` lists them. */
export const COMMANDS: readonly Command[] = [
  checkConfigCommand,
  accountdCommand,
  adduserCommand,
  passwdCommand,
  deluserCommand,
  usersCommand,
];
