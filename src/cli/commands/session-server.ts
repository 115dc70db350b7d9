/**
 * @module `vesper session-server`: runs the session server in the foreground until SIGTERM or SIGINT.
 */
import { createLogger } from '../../shared/log/index.js';
import { SessionServer } from '../../session/server/index.js';
import type { Command } from '../command.js';
import { configFromArgs, EXIT, parseFlags, runAdmin, UsageError } from './admin-support.js';

const USAGE = `Usage: vesper session-server [--config FILE] [--config-option KEY=VALUE ...]

Runs the session server in the foreground: listens on the init socket
(<session.socket_dir>/init.sock, mode 0600), re-adopts sessions that are still
running, keeps session.spares session processes ready and starts one per
login. SIGTERM or SIGINT closes the init socket and exits 0; running sessions
are NOT ended (a new session server adopts them).

Exit status: 0 stopped by a signal, 1 could not start (socket directory unsafe,
another session server running), 2 usage or configuration error.`;

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

/** The `session-server` command. */
export const sessionServerCommand: Command = {
  name: 'session-server',
  summary: 'run the session server in the foreground',
  usage: USAGE,
  run: (args, io) =>
    runAdmin('session-server', io, async () => {
      const { config, rest } = configFromArgs(args);
      const { positional } = parseFlags(rest, [], []);
      if (positional.length > 0) throw new UsageError('session-server takes no arguments');
      const log = createLogger({
        name: 'session-server',
        level: config.log.level,
        ...(config.log.file === null ? {} : { file: config.log.file }),
      });
      const stopping = stopSignal();
      const server = new SessionServer({ config, log });
      await server.start();
      const signal = await stopping;
      log.info(
        { signal },
        `Received ${signal}; the session server stops and leaves sessions running.`,
      );
      await server.close();
      await new Promise<void>((resolve) => log.flush(() => resolve()));
      return EXIT.ok;
    }),
};
