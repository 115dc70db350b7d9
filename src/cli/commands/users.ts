/**
 * @module `vesper users`: lists the accounts of the local account store.
 */
import { formatSize } from '../../shared/config/index.js';
import type { Command } from '../command.js';
import {
  configFromArgs,
  EXIT,
  parseFlags,
  runAdmin,
  storeOf,
  UsageError,
} from './admin-support.js';

const USAGE = `Usage: vesper users [--config FILE]

Lists every account: name, quota limits (bytes, messages; 0 = none) and full
name, one per line, tab-separated. Accounts whose record cannot be read are
named on stderr.

Exit status: 0 listed, 1 some record cannot be read, 2 usage or
configuration error.`;

/** The `users` command. */
export const usersCommand: Command = {
  name: 'users',
  summary: 'list the accounts',
  usage: USAGE,
  run: (args, io) =>
    runAdmin('users', io, async () => {
      const { config, rest } = configFromArgs(args);
      const { positional } = parseFlags(rest, [], []);
      if (positional.length > 0) throw new UsageError('users takes no arguments');
      const store = await storeOf(config);
      let unreadable = 0;
      for (const entry of await store.list()) {
        if ('error' in entry) {
          unreadable += 1;
          io.stderr.write(`vesper users: ${entry.error.message}\n`);
          continue;
        }
        const { name, quota, fullName } = entry.record;
        const bytes = quota.bytes === 0 ? '0' : formatSize(quota.bytes);
        io.stdout.write(`${name}\t${bytes}\t${quota.messages}\t${fullName}\n`);
      }
      return unreadable === 0 ? EXIT.ok : EXIT.refused;
    }),
};
