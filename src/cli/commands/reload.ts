/**
 * @module `vesper reload`: asks the running master to re-read its configuration (SIGHUP).
 */
import type { Command } from '../command.js';
import { configFromArgs, EXIT, parseFlags, runAdmin, UsageError } from './admin-support.js';
import { masterPid } from './master-support.js';

const USAGE = `Usage: vesper reload [--config FILE] [--config-option KEY=VALUE ...]

Sends SIGHUP to the master named in <paths.var>/vesper.pid. The master
re-reads and validates the configuration file it was started with (and its
--config-option values): when it is valid, new workers start and the old ones
drain, so no request fails; when it is not, the master keeps running and logs
every problem. 'vesper status' shows the new generation once it serves.

Exit status: 0 signal sent, 1 not running, 2 usage error.`;

/** The `reload` command. */
export const reloadCommand: Command = {
  name: 'reload',
  summary: 'make the running Vesper re-read its configuration',
  usage: USAGE,
  run: (args, io) =>
    runAdmin('reload', io, async () => {
      const { config, rest } = configFromArgs(args);
      const { positional } = parseFlags(rest, [], []);
      if (positional.length > 0) throw new UsageError('reload takes no arguments');
      const pid = await masterPid(config);
      process.kill(pid, 'SIGHUP');
      io.stdout.write(`Asked Vesper (pid ${pid}) to reload; its log says how it went\n`);
      return EXIT.ok;
    }),
};
