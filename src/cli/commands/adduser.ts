/**
 * @module `vesper adduser`: creates an account in the local account store.
 */
import { parseSize } from '../../shared/config/index.js';
import type { Command } from '../command.js';
import {
  configFromArgs,
  EXIT,
  oneName,
  parseFlags,
  readNewPassword,
  runAdmin,
  storeOf,
  UsageError,
} from './admin-support.js';

const USAGE = `Usage: vesper adduser NAME [--password-stdin] [--full-name TEXT]
                      [--quota-bytes SIZE] [--quota-messages N] [--config FILE]

Creates the account NAME (ASCII letters, digits, ".", "_", "-"; at most 64;
not starting with "." or "-"). The password is read from the terminal without
echo, or as the first line of stdin with --password-stdin; it needs at least
8 characters, a letter and a non-letter, and must not be the name.
Quota limits default to accountd.quota; SIZE is like 100M; 0 means no limit.

Exit status: 0 created, 1 refused (exists, weak password, invalid name or
value), 2 usage or configuration error.`;

/** The `adduser` command. */
export const adduserCommand: Command = {
  name: 'adduser',
  summary: 'create an account (password from the terminal or --password-stdin)',
  usage: USAGE,
  run: (args, io) =>
    runAdmin('adduser', io, async () => {
      const { config, rest } = configFromArgs(args);
      const { flags, positional } = parseFlags(
        rest,
        ['--full-name', '--quota-bytes', '--quota-messages'],
        ['--password-stdin'],
      );
      const name = oneName(positional);
      let quotaBytes: number | undefined;
      const bytesArg = flags.get('--quota-bytes');
      if (bytesArg !== undefined) {
        const parsed = parseSize(bytesArg);
        if (typeof parsed !== 'number') throw new UsageError(`--quota-bytes: ${parsed.error}`);
        quotaBytes = parsed;
      }
      let quotaMessages: number | undefined;
      const messagesArg = flags.get('--quota-messages');
      if (messagesArg !== undefined) {
        if (!/^\d{1,15}$/.test(messagesArg)) {
          throw new UsageError('--quota-messages needs a whole number');
        }
        quotaMessages = Number(messagesArg);
      }
      const store = await storeOf(config);
      if (await store.exists(name)) {
        io.stderr.write(`vesper adduser: account ${name} already exists\n`);
        return EXIT.refused;
      }
      const password = await readNewPassword(io, flags.has('--password-stdin'), name);
      await store.create(name, password, {
        ...(flags.has('--full-name') ? { fullName: flags.get('--full-name')! } : {}),
        ...(quotaBytes === undefined ? {} : { quotaBytes }),
        ...(quotaMessages === undefined ? {} : { quotaMessages }),
      });
      io.stdout.write(`Created account ${name}.\n`);
      return EXIT.ok;
    }),
};
