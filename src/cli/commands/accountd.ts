/**
 * @module `vesper accountd`: runs the account server in the foreground until
 * SIGTERM or SIGINT, then drains and exits 0.
 */
import { startAccountd } from '../../accountd/start-accountd.js';
import { createLogger } from '../../shared/log/index.js';
import type { Command } from '../command.js';
import { configFromArgs, EXIT, parseFlags, runAdmin, UsageError } from './admin-support.js';

const USAGE = `Usage: vesper accountd [--config FILE] [--config-option KEY=VALUE ...]

Runs the account server in the foreground: listens on accountd.listen (a Unix
socket, mode 0600) and, when accountd.tls is set, on TCP with TLS. Creates the
README's demo accounts first when accountd.demo_users is true. SIGTERM or
SIGINT stops it after answering the commands already received (exit 0).

Exit status: 0 stopped by a signal, 1 could not start (socket in use, store
unreadable), 2 usage or configuration error.`;

/** Resolves at the first SIGTERM or SIGINT; the handler only records it. */
function stopSignal(): Promise<NodeJS.Signals> {
  // The CLI layer is this program's main: the one place that owns signals.
  return new Promise((resolve) => {
    const on = (signal: NodeJS.Signals): void => {
      process.off('SIGTERM', on);
      process.off('SIGINT', on);
      resolve(signal);
    };
    process.on('SIGTERM', on);
    process.on('SIGINT', on);
  });
}

/** The `accountd` command. */
export const accountdCommand: Command = {
  name: 'accountd',
  summary: 'run the account server in the foreground',
  usage: USAGE,
  run: (args, io) =>
    runAdmin('accountd', io, async () => {
      const { config, rest } = configFromArgs(args);
      const { positional } = parseFlags(rest, [], []);
      if (positional.length > 0) throw new UsageError('accountd takes no arguments');
      const log = createLogger({
        name: 'accountd',
        level: config.log.level,
        ...(config.log.file === null ? {} : { file: config.log.file }),
      });
      const stopping = stopSignal();
      const server = await startAccountd(config, log);
      const signal = await stopping;
      log.info({ signal }, `Received ${signal}; stopping accountd`);
      await server.close();
      await new Promise<void>((resolve) => log.flush(() => resolve()));
      return EXIT.ok;
    }),
};
