/**
 * @module Starts the account server of a configuration: opens the store,
 * makes the demo accounts when asked, and listens on the Unix socket and,
 * when configured, on TCP with TLS.
 */
import type { VesperConfig } from '../shared/config/index.js';
import type { Logger } from '../shared/log/index.js';
import { ensureDemoUsers } from './demo-users.js';
import { AccountdServer, type AccountdServerOptions } from './server/accountd-server.js';
import type { AccountStoreOptions } from './store/account-store.js';
import { openAccountStore } from './store-from-config.js';

/** Overrides for tests and benchmarks. */
export interface StartAccountdOverrides {
  store?: Partial<AccountStoreOptions>;
  server?: Partial<Omit<AccountdServerOptions, 'store' | 'log'>>;
}

/**
 * Starts accountd on `config` and resolves to the running server (stop it
 * with `close()`). Throws the store's or the listener's error, e.g.
 * `VESPER_ACCOUNTD_ALREADY_RUNNING`.
 */
export async function startAccountd(
  config: VesperConfig,
  log: Logger,
  overrides: StartAccountdOverrides = {},
): Promise<AccountdServer> {
  const a = config.accountd;
  const store = await openAccountStore(config, overrides.store);
  await ensureDemoUsers(config, log, store);
  const server = new AccountdServer({
    store,
    log,
    limits: { line: a.limits.line, literal: a.limits.literal, commands: a.limits.commands },
    maxConnections: a.max_connections,
    idleTimeoutMs: a.idle_timeout,
    lockout: {
      attempts: a.lockout.attempts,
      windowMs: a.lockout.window,
      durationMs: a.lockout.duration,
    },
    ...overrides.server,
  });
  try {
    await server.listenUnix(a.listen);
    if (a.tls !== null) await server.listenTls(a.tls);
  } catch (err) {
    await server.destroy();
    throw err;
  }
  return server;
}
