/**
 * @module `vesper passwd`: sets an account's password.
 */
import type { Command } from '../command.js';
import {
  configFromArgs,
  EXIT,
  oneName,
  parseFlags,
  readNewPassword,
  runAdmin,
  storeOf,
} from './admin-support.js';

const USAGE = `Usage: vesper passwd NAME [--password-stdin] [--config FILE]

Sets the password of account NAME, read from the terminal without echo, or as
the first line of stdin with --password-stdin. It needs at least 8
characters, a letter and a non-letter, and must not be the name.

Exit status: 0 changed, 1 refused (no such account, weak password,
unreadable record), 2 usage or configuration error.`;

/** The `passwd` command. */
export const passwdCommand: Command = {
  name: 'passwd',
  summary: "set an account's password",
  usage: USAGE,
  run: (args, io) =>
    runAdmin('passwd', io, async () => {
      const { config, rest } = configFromArgs(args);
      const { flags, positional } = parseFlags(rest, [], ['--password-stdin']);
      const name = oneName(positional);
      const store = await storeOf(config);
      await store.get(name); // a missing or unreadable account fails before the prompt
      const password = await readNewPassword(io, flags.has('--password-stdin'), name);
      await store.setPassword(name, password);
      io.stdout.write(`Changed the password of ${name}.\n`);
      return EXIT.ok;
    }),
};
