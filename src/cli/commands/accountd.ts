/**
 * @module `vesper accountd`: runs the account server in the foreground until
 * SIGTERM or SIGINT, then drains and exits 0.
 */
import { startAccountd } from '../../accountd/start-accountd.js';
import type { Command } from '../command.js';
import { runForegroundServer } from './foreground-server.js';

const USAGE = `Usage: vesper accountd [--config FILE] [--config-option KEY=VALUE ...]

Runs the account server in the foreground: listens on accountd.listen (a Unix
socket, mode 0600) and, when accountd.tls is set, on TCP with TLS. Creates the
README's demo accounts first when accountd.demo_users is true. SIGTERM or
SIGINT stops it after answering the commands already received (exit 0).

Exit status: 0 stopped by a signal, 1 could not start (socket in use, store
unreadable), 2 usage or configuration error.`;

/** The `accountd` command. */
export const accountdCommand: Command = {
  name: 'accountd',
  summary: 'run the account server in the foreground',
  usage: USAGE,
  run: (args, io) =>
    runForegroundServer(
      {
        name: 'accountd',
        start: (config, log) => startAccountd(config, log),
        stopping: (signal) => `Received ${signal}; stopping accountd`,
      },
      args,
      io,
    ),
};
