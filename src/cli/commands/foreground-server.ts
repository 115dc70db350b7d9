/**
 * @module A server command run in the foreground (`vesper accountd`, `vesper
 * session-server`): load the configuration, start the server, wait for SIGTERM
 * or SIGINT, close it and exit 0.
 */
import type { VesperConfig } from '../../shared/config/index.js';
import { createLogger, type Logger } from '../../shared/log/index.js';
import type { CliIo } from '../command.js';
import { configFromArgs, EXIT, parseFlags, runAdmin, UsageError } from './admin-support.js';

/** What a foreground command starts. */
export interface ForegroundServer {
  close(): Promise<void>;
}

/** How one foreground command differs from another. */
export interface ForegroundServerSpec {
  /** The command's name, also the logger's. */
  name: string;
  start(config: VesperConfig, log: Logger): Promise<ForegroundServer>;
  /** The log line when a stop signal arrives, e.g. `stopping accountd`. */
  stopping(signal: NodeJS.Signals): string;
}

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

/** Runs `spec`'s server until a stop signal; exit status as the admin commands. */
export function runForegroundServer(
  spec: ForegroundServerSpec,
  args: string[],
  io: CliIo,
): Promise<number> {
  return runAdmin(spec.name, io, async () => {
    const { config, rest } = configFromArgs(args);
    const { positional } = parseFlags(rest, [], []);
    if (positional.length > 0) throw new UsageError(`${spec.name} takes no arguments`);
    const log = createLogger({
      name: spec.name,
      level: config.log.level,
      ...(config.log.file === null ? {} : { file: config.log.file }),
    });
    const stopping = stopSignal();
    const server = await spec.start(config, log);
    const signal = await stopping;
    log.info({ signal }, spec.stopping(signal));
    await server.close();
    await new Promise<void>((resolve) => log.flush(() => resolve()));
    return EXIT.ok;
  });
}
