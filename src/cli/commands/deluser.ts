/**
 * @module `vesper deluser`: deletes an account's record (not its mail).
 */
import type { Command } from '../command.js';
import { configFromArgs, EXIT, oneName, parseFlags, runAdmin, storeOf } from './admin-support.js';

const USAGE = `Usage: vesper deluser NAME [--config FILE]

Deletes the account record of NAME (an unreadable one too). The user's mail
under paths.var/mail/NAME is left for the administrator to archive or remove.

Exit status: 0 deleted, 1 refused (no such account), 2 usage or
configuration error.`;

/** The `deluser` command. */
export const deluserCommand: Command = {
  name: 'deluser',
  summary: 'delete an account (its mail is kept)',
  usage: USAGE,
  run: (args, io) =>
    runAdmin('deluser', io, async () => {
      const { config, rest } = configFromArgs(args);
      const { positional } = parseFlags(rest, [], []);
      const name = oneName(positional);
      const store = await storeOf(config);
      await store.delete(name);
      io.stdout.write(`Deleted account ${name}; its mail in ${store.maildirOf(name)} is kept.\n`);
      return EXIT.ok;
    }),
};
