/**
 * @module Helpers of the session-server tests: a configuration with the built
 * test application, an in-process server on the built session process, the
 * built `vesper session-server`, and login shortcuts.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  initRequest,
  type InitReply,
  type LoginSuccess,
} from '../../../src/session/init-protocol/index.js';
import { SessionServer } from '../../../src/session/server/index.js';
import type { Authenticator } from '../../../src/session/authenticators/index.js';
import { sessionSocketPath } from '../../../src/session/session-identity.js';
import { silentLogger } from '../../../src/shared/log/index.js';
import type { VesperConfig } from '../../../src/shared/config/index.js';
import { ROOT } from '../../accountd/built.js';
import {
  builtTestApp,
  Cleanup,
  PROCESS_ENTRY,
  shortTempDir,
  testConfig,
  waitFor,
} from '../helpers.js';

/** Processes, servers and directories of the current test; run `cleanup.run()` after each. */
export const cleanup = new Cleanup();

/** Accepts the password "right" for anyone (the accountd authenticator has its own test). */
export const passwords: Authenticator = {
  name: 'test',
  authenticate: (r) =>
    Promise.resolve(
      r.password === 'right'
        ? { ok: true, credential: { password: r.password } }
        : { ok: false, error: 'bad-credentials', message: 'Wrong user name or password.' },
    ),
};

export function setup(options: string[] = []): { dir: string; config: VesperConfig } {
  const dir = cleanup.dir(shortTempDir());
  const app = builtTestApp(dir);
  const config = testConfig(dir, [`session.app=${app}`, 'session.spares=2', ...options]);
  cleanup.sessionsIn(config.session.socket_dir);
  return { dir, config };
}

export async function startServer(
  config: VesperConfig,
  options: { sweepIntervalMs?: number; timeoutGraceMs?: number } = {},
): Promise<SessionServer> {
  const server = new SessionServer({
    config,
    log: silentLogger,
    processEntry: PROCESS_ENTRY,
    passwordAuthenticator: passwords,
    reapIntervalMs: 100,
    sweepIntervalMs: 60_000,
    ...options,
  });
  cleanup.onClose(() => server.close());
  await server.start();
  await waitFor(() => {
    for (const pid of server.sparePids()) cleanup.pid(pid);
    return server.readySpares === config.session.spares;
  }, 15_000);
  return server;
}

export async function login(
  config: VesperConfig,
  user = 'alice',
  extra: Record<string, unknown> = {},
): Promise<InitReply> {
  const reply = await initRequest(join(config.session.socket_dir, 'init.sock'), {
    op: 'login',
    user,
    password: 'right',
    clientIp: '127.0.0.1',
    tls: false,
    listener: '127.0.0.1:8080',
    ...extra,
  });
  return reply;
}

export function ok(reply: InitReply): LoginSuccess {
  if (!('key' in reply)) throw new Error(`login failed: ${JSON.stringify(reply)}`);
  return reply;
}

export function socketOf(config: VesperConfig, s: LoginSuccess): string {
  return sessionSocketPath(config.session.socket_dir, s.user, s.key);
}

/** `vesper session-server` from the build, on the configuration of `setup()`; returns a starter. */
export function cliServer(dir: string, config: VesperConfig): () => ChildProcess {
  const yaml = join(dir, 'vesper.yaml');
  writeFileSync(
    yaml,
    [
      'paths: { var: var }',
      'log: { level: silent }',
      `session: { socket_dir: ${JSON.stringify(config.session.socket_dir)}, app: ${JSON.stringify(config.session.app)}, spares: 1 }`,
      `accountd: { listen: ${JSON.stringify(join(dir, 'no-accountd.sock'))} }`,
    ].join('\n'),
  );
  return () => {
    const child = spawn(
      process.execPath,
      [join(ROOT, 'dist/src/cli/main.js'), 'session-server', '--config', yaml],
      { cwd: dir, stdio: 'ignore' },
    );
    cleanup.pid(child.pid!);
    return child;
  };
}

/** Waits until the init socket answers `status`. */
export async function serving(init: string): Promise<void> {
  await waitFor(
    async () => (await initRequest(init, { op: 'status' }).catch(() => null))?.ok === true,
    15_000,
  );
}

/** Identity logins need no accountd. */
export const identity = {
  password: undefined,
  identity: { issuer: 'https://id.example', subject: 's' },
};
