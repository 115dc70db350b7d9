/**
 * @module `vesper stop`: asks the running master to stop (SIGTERM, or SIGINT with --fast) and waits for it to exit.
 */
import type { Command } from '../command.js';
import { configFromArgs, EXIT, parseFlags, runAdmin, UsageError } from './admin-support.js';
import { masterPid, waitForExit } from './master-support.js';

const USAGE = `Usage: vesper stop [--config FILE] [--config-option KEY=VALUE ...] [--fast]
                   [--timeout SECONDS]

Sends SIGTERM to the master named in <paths.var>/vesper.pid: it stops
accepting, drains in-flight requests and WebSockets (close code 1001) within
frontend.timeout.drain, stops the session server and accountd, and exits.
Waits for it to exit. With --fast, sends SIGINT instead (no drain).

Exit status: 0 stopped, 1 not running or still running after the timeout
(default: frontend.timeout.drain plus 30 seconds), 2 usage error.`;

/** The `stop` command. */
export const stopCommand: Command = {
  name: 'stop',
  summary: 'stop the running Vesper (drains first)',
  usage: USAGE,
  run: (args, io) =>
    runAdmin('stop', io, async () => {
      const { config, rest } = configFromArgs(args);
      const { flags, positional } = parseFlags(rest, ['--timeout'], ['--fast']);
      if (positional.length > 0) throw new UsageError('stop takes no arguments');
      const seconds = flags.has('--timeout') ? Number(flags.get('--timeout')) : undefined;
      if (seconds !== undefined && !(Number.isFinite(seconds) && seconds > 0)) {
        throw new UsageError('--timeout needs a positive number of seconds');
      }
      const pid = await masterPid(config);
      process.kill(pid, flags.has('--fast') ? 'SIGINT' : 'SIGTERM');
      const timeoutMs =
        seconds !== undefined ? seconds * 1000 : config.frontend.timeout.drain + 30_000;
      if (!(await waitForExit(pid, timeoutMs))) {
        io.stderr.write(
          `vesper stop: Vesper (pid ${pid}) is still running after ${timeoutMs / 1000} s\n`,
        );
        return EXIT.refused;
      }
      io.stdout.write(`Vesper (pid ${pid}) stopped\n`);
      return EXIT.ok;
    }),
};
