/**
 * @module `vesper start`: validates the configuration, prepares var/, and runs the frontend master until it is stopped.
 */
import { existsSync, mkdirSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import pino from 'pino';
import { DEMO_PASSWORD, DEMO_USERS } from '../../accountd/demo-users.js';
import { minimalEnv } from '../../frontend/master/child-env.js';
import type { ServiceSpec } from '../../frontend/master/child-service.js';
import {
  controlSocketPath,
  startControlServer,
  type ControlServer,
} from '../../frontend/master/control-socket.js';
import { Master, type MasterIntent } from '../../frontend/master/master.js';
import {
  pidFilePath,
  removePidFile,
  runningPid,
  writePidFile,
} from '../../frontend/master/pid-file.js';
import {
  ensureSelfSigned,
  needsSelfSigned,
  withCertificate,
} from '../../frontend/master/self-signed.js';
import {
  DEFAULT_CONFIG_FILE,
  loadConfig,
  parseConfigArgs,
  type VesperConfig,
} from '../../shared/config/index.js';
import { VesperError } from '../../shared/errors/index.js';
import { ensurePrivateDir } from '../../shared/fs/private-dir.js';
import { createLogger, type Logger } from '../../shared/log/index.js';
import type { CliIo, Command } from '../command.js';
import { parseFlags, runAdmin, UsageError } from './admin-support.js';
import { confirmMaster } from './master-support.js';

const USAGE = `Usage: vesper start [--config FILE] [--config-option KEY=VALUE ...] [--foreground]
                    [--worker-module FILE]

Validates the configuration, creates paths.var (mode 0700; a world-writable
parent is refused), makes a self-signed certificate under <var>/tls/ on first
start when a TLS listener has no tls.cert (needs the openssl program), starts
accountd and the session server as children (unless accountd.server is set or
session.external is true), forks the frontend workers, writes <var>/vesper.pid
and runs until stopped. Stays in the foreground (no daemon): run it under
systemd (deploy/vesper.service) or a terminal.

Signals: SIGHUP reloads the configuration (an invalid one is logged and
ignored), SIGTERM drains and stops (exit 0), SIGINT stops fast, SIGUSR1
reopens the log file. 'vesper stop|reload|status' use the pid file.

Options:
  --foreground          run one worker in this process, without forking (debugging)
  --worker-module FILE  the module whose runWorker the workers run (tests);
                        default: the built frontend worker

Exit status: 0 stopped by a signal, 1 could not start or no worker could run,
2 usage or configuration error.`;

/** The signals `vesper start` turns into master intents. */
const SIGNALS: readonly [NodeJS.Signals, MasterIntent][] = [
  ['SIGTERM', 'stop'],
  ['SIGINT', 'quit'],
  ['SIGHUP', 'reload'],
  ['SIGUSR1', 'reopen-logs'],
];

/** The addresses a person types, one per listener: `http://127.0.0.1:8080/`. */
export function listenUrls(config: VesperConfig): string[] {
  return config.frontend.listen.map((l) => {
    const host = l.host.includes(':') ? `[${l.host}]` : l.host;
    return `${l.tls ? 'https' : 'http'}://${host}:${l.port}/`;
  });
}

/** `a`, `a and b`, `a, b and c`. */
function joinAnd(items: readonly string[]): string {
  if (items.length <= 1) return items.join('');
  return `${items.slice(0, -1).join(', ')} and ${items.at(-1)}`;
}

/** The banner printed once the workers listen. */
export function startBanner(config: VesperConfig): string {
  const lines = [`Vesper listening on ${joinAnd(listenUrls(config))}`];
  if (config.accountd.demo_users && config.accountd.server === null) {
    lines.push(
      `Demo accounts (accountd.demo_users is on; never in production): ` +
        `${joinAnd(DEMO_USERS.map((u) => u.name))}, password ${DEMO_PASSWORD}`,
    );
  }
  return `${lines.join('\n')}\n`;
}

/** The service children `config` asks for, run with the same configuration arguments. */
export function serviceSpecs(
  config: VesperConfig,
  configArgs: readonly string[],
  cwd: string,
  env: NodeJS.ProcessEnv,
): ServiceSpec[] {
  const cliMain = fileURLToPath(new URL('../main.js', import.meta.url));
  const specs: ServiceSpec[] = [];
  const base = { command: process.execPath, cwd, env: minimalEnv(env) };
  if (config.accountd.server === null && config.accountd.listen !== null) {
    specs.push({
      ...base,
      name: 'accountd',
      args: [cliMain, 'accountd', ...configArgs],
      readySocket: config.accountd.listen,
    });
  }
  if (!config.session.external) {
    specs.push({
      ...base,
      name: 'session-server',
      args: [cliMain, 'session-server', ...configArgs],
      readySocket: join(config.session.socket_dir, 'init.sock'),
    });
  }
  return specs;
}

/** The master's logger, and a way to reopen its file after rotation. */
function masterLogger(config: VesperConfig): { log: Logger; reopen: () => void } {
  if (config.log.file === null) {
    return { log: createLogger({ name: 'master', level: config.log.level }), reopen: () => {} };
  }
  // As createLogger does: the directory may be a shared one such as /var/log/vesper.
  mkdirSync(dirname(config.log.file), { recursive: true, mode: 0o700 });
  const destination = pino.destination({ dest: config.log.file, mkdir: false, sync: false });
  return {
    log: createLogger({ name: 'master', level: config.log.level, stream: destination }),
    reopen: () => destination.reopen(),
  };
}

/** Loads and prepares a configuration: the TLS pair made or found when needed. */
async function prepare(config: VesperConfig): Promise<VesperConfig> {
  return needsSelfSigned(config)
    ? withCertificate(config, await ensureSelfSigned(config.paths.var))
    : config;
}

async function start(args: string[], io: CliIo): Promise<number> {
  const parsed = parseConfigArgs(args);
  const { flags, positional } = parseFlags(parsed.rest, ['--worker-module'], ['--foreground']);
  if (positional.length > 0) throw new UsageError('start takes no arguments');
  const cwd = process.cwd();
  const file = resolve(cwd, parsed.file ?? DEFAULT_CONFIG_FILE);
  const options = parsed.options;
  const configArgs = ['--config', file, ...options.flatMap((o) => ['--config-option', o])];
  const initial = loadConfig({ file, options, cwd });

  ensurePrivateDir(initial.paths.var);
  const pidFile = pidFilePath(initial);
  const workerModule = resolve(
    cwd,
    flags.get('--worker-module') ??
      fileURLToPath(new URL('../../frontend/worker/index.js', import.meta.url)),
  );
  if (!existsSync(workerModule)) {
    throw new VesperError(
      'VESPER_WORKER_MISSING',
      `the frontend worker module ${workerModule} does not exist (run npm run build)`,
    );
  }
  const config = await prepare(initial);
  const { log, reopen } = masterLogger(config);
  const recorded = runningPid(pidFile);
  if (recorded !== undefined && !(await confirmMaster(config, recorded))) {
    // A live process with the number of a master that crashed: the file is stale.
    log.warn(
      { pid: recorded, pidFile },
      `The pid file names process ${recorded}, which is not a Vesper master; replacing it`,
    );
    removePidFile(pidFile, recorded);
  }
  await writePidFile(pidFile, process.pid);
  const master = new Master({
    config,
    loadConfig: async () => {
      const next = loadConfig({ file, options, cwd });
      if (next.paths.var !== config.paths.var) {
        throw new VesperError(
          'VESPER_RELOAD_REFUSED',
          `paths.var cannot change on reload (${config.paths.var} → ${next.paths.var}); restart instead`,
        );
      }
      return prepare(next);
    },
    workerModule,
    services: serviceSpecs(config, configArgs, cwd, process.env),
    log,
    reopenLogs: reopen,
    foreground: flags.has('--foreground'),
  });
  // The CLI layer is this program's main: the one place that owns signals.
  const handlers = SIGNALS.map(([signal, intent]) => {
    const handler = (): void => master.request(intent);
    process.on(signal, handler);
    return [signal, handler] as const;
  });
  let control: ControlServer | null = null;
  try {
    control = await startControlServer(controlSocketPath(config.paths.var), (request) =>
      Promise.resolve(
        request['op'] === 'status'
          ? master.status()
          : { ok: false, error: 'bad-request', message: 'unknown op' },
      ),
    );
    await master.start();
    if (master.phase === 'running') io.stdout.write(startBanner(config));
    return await master.finished;
  } catch (err) {
    log.error({ err: err instanceof Error ? err.message : String(err) }, 'Vesper could not start');
    master.request('quit');
    await master.finished;
    throw err;
  } finally {
    for (const [signal, handler] of handlers) process.off(signal, handler);
    await control?.close();
    removePidFile(pidFile, process.pid);
    await new Promise<void>((done) => log.flush(() => done()));
  }
}

/** The `start` command. */
export const startCommand: Command = {
  name: 'start',
  summary: 'start Vesper: accountd, the session server and the frontend workers',
  usage: USAGE,
  run: (args, io) => runAdmin('start', io, () => start(args, io)),
};
