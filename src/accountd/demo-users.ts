/**
 * @module The demo accounts of the README (`alice` and `bob`, password
 * `vesper-demo-1`), made on start when `accountd.demo_users` is on.
 */
import type { VesperConfig } from '../shared/config/index.js';
import type { Logger } from '../shared/log/index.js';
import type { AccountStore } from './store/account-store.js';
import { AccountStoreError, STORE_ERROR_CODES } from './store/store-errors.js';
import { openAccountStore } from './store-from-config.js';

/** The demo accounts and their shared password, as the README names them. */
export const DEMO_USERS: readonly { name: string; fullName: string }[] = [
  { name: 'alice', fullName: 'Alice Demo' },
  { name: 'bob', fullName: 'Bob Demo' },
];

/** The demo accounts' password (documented in the README; never use it in production). */
export const DEMO_PASSWORD = 'vesper-demo-1';

/**
 * Creates each demo account that does not exist yet, when
 * `config.accountd.demo_users` is true; existing accounts (whatever their
 * password now) are left alone. Resolves to the names created. Throws the
 * store's error when a record cannot be written.
 */
export async function ensureDemoUsers(
  config: VesperConfig,
  log: Logger,
  store?: AccountStore,
): Promise<string[]> {
  if (!config.accountd.demo_users) return [];
  const accounts = store ?? (await openAccountStore(config));
  const created: string[] = [];
  for (const { name, fullName } of DEMO_USERS) {
    if (await accounts.exists(name)) continue;
    try {
      await accounts.create(name, DEMO_PASSWORD, { fullName });
      created.push(name);
      log.info({ user: name }, `Created the demo account ${name} (see the README)`);
    } catch (err) {
      // Made meanwhile by another process: that is what we wanted.
      if (!(err instanceof AccountStoreError) || err.code !== STORE_ERROR_CODES.userExists)
        throw err;
    }
  }
  return created;
}
