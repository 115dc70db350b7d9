/**
 * @module The account application (`session.app: account`): the
 * account-management half of a webmail (Prayer's manage pages) on `src/web`.
 * Home, quota, forwarding, vacation message and log, password, full name,
 * all through accountd, and a live WebSocket channel of session events.
 */
import { endpointFromConfig, type AccountdEndpoint } from '../../accountd/client/index.js';
import type { SessionApp, SessionAppContext, SessionAppFactory } from '../../session/app.js';
import { buildAccountApplication } from './account-application.js';
import { AccountState } from './account-state.js';
import { AccountdLink } from './accountd-link.js';
import { AccountEventBus } from './event-bus.js';

export {
  AccountServiceError,
  ACCOUNT_SERVICE_ERROR_CODES,
  type AccountServiceProblem,
} from './account-errors.js';
export { AccountdLink, type AccountdLinkOptions, type AccountdLinkState } from './accountd-link.js';
export { AccountEventBus, type AccountEvent, type AccountEventListener } from './event-bus.js';
export { AccountState } from './account-state.js';
export { SECURITY_HEADERS, CONTENT_SECURITY_POLICY } from './security-headers.js';
export { TEMPLATE_DIR, STATIC_DIR } from './account-application.js';

/** Options of {@link createAccountApp} beyond the session's context (for tests and embedding). */
export interface AccountAppOptions {
  /** Where accountd listens; default from the configuration (`endpointFromConfig`). */
  endpoint?: AccountdEndpoint;
}

/** A running account application, with its state reachable for tests and the runtime. */
export interface AccountApp extends SessionApp {
  /** The shared state (accountd link, event bus, live channels). */
  readonly state: AccountState;
}

/**
 * Starts the account application of one session. Nothing is connected yet:
 * accountd is reached on the first page that needs it, logged in with
 * `ctx.credential` (kept in memory only). Throws nothing.
 */
export function createAccountApp(
  ctx: SessionAppContext,
  options: AccountAppOptions = {},
): AccountApp {
  const events = new AccountEventBus();
  const accountd = new AccountdLink({
    user: ctx.user,
    password: ctx.credential?.password ?? null,
    endpoint: options.endpoint ?? endpointFromConfig(ctx.config),
    timeoutMs: ctx.config.accountd.timeout,
    quotaCacheMs: ctx.config.accountd.quota_cache,
    log: ctx.log,
    onAvailability: (available) => events.publish({ type: 'accountd', available }),
  });
  const state = new AccountState(ctx, accountd, events);
  const application = buildAccountApplication(state);
  return {
    application,
    state,
    onDormant: () => accountd.close(),
    hasDraft: () => false,
    close: async () => {
      state.closeChannels();
      events.clear();
      await accountd.destroy();
    },
  };
}

/** The {@link SessionAppFactory} the session runtime loads for `session.app: account`. */
export const createApp: SessionAppFactory = (ctx) => createAccountApp(ctx);

export default createApp;
