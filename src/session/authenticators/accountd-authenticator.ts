/**
 * @module Checks passwords against accountd (the default authenticator).
 */
// The session server uses accountd's client library: the one import from
// another program's folder that the design allows (docs/sessions.md).
import {
  AccountdClient,
  AccountdRefusedError,
  type AccountdEndpoint,
} from '../../accountd/client/index.js';
import type { LoginRequest } from '../init-protocol/index.js';
import type { AuthResult, Authenticator } from './authenticator.js';

/** Options of {@link AccountdAuthenticator}. */
export interface AccountdAuthenticatorOptions {
  /** Where accountd listens (`endpointFromConfig(config)`). */
  readonly endpoint: AccountdEndpoint;
  /** Limit for connecting and for the reply, ms (`accountd.timeout`). */
  readonly timeoutMs: number;
}

/**
 * Logs in to accountd with the user's password on a fresh connection and logs
 * out again: `NO AUTH` is `bad-credentials`, `NO LOCKED` is `locked-out`, and
 * anything else (accountd down, a timeout, a store failure) is `unavailable`.
 * The client's address is passed on for accountd's per-address lockout.
 */
export class AccountdAuthenticator implements Authenticator {
  readonly name = 'accountd';
  readonly #o: AccountdAuthenticatorOptions;

  constructor(options: AccountdAuthenticatorOptions) {
    this.#o = options;
  }

  async authenticate(request: LoginRequest): Promise<AuthResult> {
    const password = request.password;
    if (password === undefined) {
      return { ok: false, error: 'bad-credentials', message: 'A password is required.' };
    }
    const client = new AccountdClient(this.#o.endpoint, { timeoutMs: this.#o.timeoutMs });
    try {
      await client.login(request.user, password, { clientAddress: request.clientIp });
      return { ok: true, credential: { password } };
    } catch (err) {
      if (err instanceof AccountdRefusedError && err.reason === 'AUTH') {
        return { ok: false, error: 'bad-credentials', message: 'Wrong user name or password.' };
      }
      if (err instanceof AccountdRefusedError && err.reason === 'LOCKED') {
        return {
          ok: false,
          error: 'locked-out',
          message: 'Too many failed logins; try again later.',
        };
      }
      return {
        ok: false,
        error: 'unavailable',
        message: 'The account service is unavailable; try again shortly.',
      };
    } finally {
      await client.logout().catch(() => undefined);
      client.destroy();
    }
  }
}
