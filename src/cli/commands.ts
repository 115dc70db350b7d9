/**
 * @module The table of `vesper` sub-commands.
 */
import type { Command } from './command.js';
import { accountdCommand } from './commands/accountd.js';
import { adduserCommand } from './commands/adduser.js';
import { checkConfigCommand } from './commands/check-config.js';
import { deluserCommand } from './commands/deluser.js';
import { passwdCommand } from './commands/passwd.js';
import { reloadCommand } from './commands/reload.js';
import { sessionServerCommand } from './commands/session-server.js';
import { startCommand } from './commands/start.js';
import { statusCommand } from './commands/status.js';
import { stopCommand } from './commands/stop.js';
import { usersCommand } from './commands/users.js';

/** Every sub-command, in the order `vesper --help` lists them. */
export const COMMANDS: readonly Command[] = [
  startCommand,
  stopCommand,
  reloadCommand,
  statusCommand,
  checkConfigCommand,
  accountdCommand,
  adduserCommand,
  passwdCommand,
  deluserCommand,
  usersCommand,
  sessionServerCommand,
];
