/**
 * @module The account store of a configuration: records under
 * `<paths.var>/accounts`, Maildirs under `<paths.var>/mail`.
 */
import { join } from 'node:path';
import type { VesperConfig } from '../shared/config/index.js';
import { AccountStore, type AccountStoreOptions } from './store/account-store.js';

/** Where the records of a configuration live. */
export function accountsDir(config: VesperConfig): string {
  return join(config.paths.var, 'accounts');
}

/** Where the Maildirs of a configuration live (`<dir>/<user>`). */
export function mailDir(config: VesperConfig): string {
  return join(config.paths.var, 'mail');
}

/**
 * The account store of `config`, opened (directory made, leftovers of dead
 * writers removed). `overrides` replace options (tests and benchmarks set a
 * cheap scrypt cost). Throws what {@link AccountStore.open} throws.
 */
export async function openAccountStore(
  config: VesperConfig,
  overrides: Partial<AccountStoreOptions> = {},
): Promise<AccountStore> {
  const store = new AccountStore({
    dir: accountsDir(config),
    mailDir: mailDir(config),
    quotaDefaults: { bytes: config.accountd.quota.bytes, messages: config.accountd.quota.messages },
    quotaCacheMs: config.accountd.quota_cache,
    ...overrides,
  });
  await store.open();
  return store;
}
