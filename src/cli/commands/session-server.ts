/**
 * @module `vesper session-server`: runs the session server in the foreground until SIGTERM or SIGINT.
 */
import { SessionServer } from '../../session/server/index.js';
import type { Command } from '../command.js';
import { runForegroundServer } from './foreground-server.js';

const USAGE = `Usage: vesper session-server [--config FILE] [--config-option KEY=VALUE ...]

Runs the session server in the foreground: listens on the init socket
(<session.socket_dir>/init.sock, mode 0600), re-adopts sessions that are still
running, keeps session.spares session processes ready and starts one per
login. SIGTERM or SIGINT closes the init socket and exits 0; running sessions
are NOT ended (a new session server adopts them).

Exit status: 0 stopped by a signal, 1 could not start (socket directory unsafe,
another session server running), 2 usage or configuration error.`;

/** The `session-server` command. */
export const sessionServerCommand: Command = {
  name: 'session-server',
  summary: 'run the session server in the foreground',
  usage: USAGE,
  run: (args, io) =>
    runForegroundServer(
      {
        name: 'session-server',
        start: async (config, log) => {
          const server = new SessionServer({ config, log });
          await server.start();
          return server;
        },
        stopping: (signal) =>
          `Received ${signal}; the session server stops and leaves sessions running.`,
      },
      args,
      io,
    ),
};
